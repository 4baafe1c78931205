; stack slots are dead after an escaped frame pointer (6.18's call-chain stack liveness).
; Found by differential fuzzing against Linux 6.18; an XDP program.
; kernel: accepted, processed 24 insns
r6 = r1                                         ; 0
w0 = -1                                         ; 1
r1 = 3                                          ; 2
r2 = 1                                          ; 3
w3 = 1                                          ; 4
r4 = 3                                          ; 5
r5 = 3                                          ; 6
w7 = 7                                          ; 7
w8 = 4                                          ; 8
r9 = 255                                        ; 9
r2 &= r7                                        ; 10
if r1 <= r8 goto +0                             ; 11
r2 = le64 r2                                    ; 12
w1 %= w3                                        ; 13
*(u8 *)(r10 - 32) = r1                          ; 14
r9 = r10                                        ; 15
r9 += -16                                       ; 16
r4 = le32 r4                                    ; 17
if w5 <= w1 goto +2                             ; 18
r3 = *(u32 *)(r6 + 12)                          ; 19
*(u8 *)(r10 - 8) = r5                           ; 20
r0 = 0                                          ; 21
exit                                            ; 22
