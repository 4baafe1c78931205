; packet pointers with AT/BEYOND_PKT_END ranges are equal only to themselves when pruning.
; Found by differential fuzzing against Linux 6.18; an XDP program.
; kernel: accepted, processed 70 insns
r6 = r1                                         ; 0
r0 = 1                                          ; 1
r1 = -1                                         ; 2
r2 = 64                                         ; 3
r3 = 14                                         ; 4
r5 = 16                                         ; 5
r7 = -756481393                                 ; 6
r8 = 1                                          ; 7
w9 = 32                                         ; 8
r1 = r10                                        ; 9
r1 += -32                                       ; 10
r2 = 4                                          ; 11
r3 = r6                                         ; 12
call 113                                        ; 13
r2 = 32                                         ; 14
r3 = 2                                          ; 15
r4 = 8                                          ; 16
r5 = 64                                         ; 17
r7 = be64 r7                                    ; 18
r1 = *(u16 *)(r10 - 32)                         ; 19
r4 = r10                                        ; 20
r4 += -8                                        ; 21
w8 %= w0                                        ; 22
*(u32 *)(r10 - 32) = r1                         ; 23
r0 += r8                                        ; 24
if r7 >= r8 goto +1                             ; 25
r2 = r10                                        ; 26
r2 += -32                                       ; 27
r9 += r2                                        ; 28
r2 = *(u32 *)(r6 + 0)                           ; 29
r3 = *(u32 *)(r6 + 4)                           ; 30
r4 = r2                                         ; 31
r4 += 8                                         ; 32
if r4 > r3 goto +1                              ; 33
r1 = *(u32 *)(r2 + 0)                           ; 34
r5 = *(u32 *)(r10 - 8)                          ; 35
r9 = *(u16 *)(r10 - 32)                         ; 36
r7 = be64 r7                                    ; 37
call pc+8                                       ; 38
r1 = -1                                         ; 39
r2 = -8                                         ; 40
r3 = 14                                         ; 41
r4 = 8                                          ; 42
r5 = 29                                         ; 43
r2 = le32 r2                                    ; 44
r0 = 0                                          ; 45
exit                                            ; 46
r0 = 0                                          ; 47
r0 += 8                                         ; 48
r0 = 1                                          ; 49
exit                                            ; 50
