; JNE/JEQ decided by disagreeing known bits (tnum_overlap).
; Found by differential fuzzing against Linux 6.18; an XDP program.
; kernel: accepted, processed 33 insns
r6 = r1                                         ; 0
r0 = 0                                          ; 1
r1 = 8                                          ; 2
w2 = 7                                          ; 3
w4 = 85                                         ; 4
r5 = 8                                          ; 5
w7 = -2147483648                                ; 6
w8 = 256                                        ; 7
r9 = 256                                        ; 8
r5 = *(u16 *)(r10 - 16)                         ; 9
r3 = r10                                        ; 10
r3 += -24                                       ; 11
w5 <<= 20                                       ; 12
if r3 <= r2 goto +3                             ; 13
w0 %= 4                                         ; 14
if w5 != 64 goto +0                             ; 15
r9 &= r5                                        ; 16
if r4 <= 255 goto +1                            ; 17
if r0 > -781512531 goto +1                      ; 18
r4 <<= 15                                       ; 19
*(u8 *)(r10 - 24) = r7                          ; 20
*(u16 *)(r10 - 16) = r0                         ; 21
r7 &= -2                                        ; 22
w8 %= w4                                        ; 23
r0 = 0                                          ; 24
exit                                            ; 25
