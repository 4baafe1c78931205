; a packet pointer known to be beyond pkt_end forgets it on arithmetic (r3 += 4000 gives r=0): the
; loop's fall-through paths are explored until the offset passes 0xffff and the read fails.
; Issue 15: a one-jump mutation of tc_port_filter (`if r3 > r2 goto pc-2`) ran bpfbuild to 1,000,001
; insns where the kernel stops at insn 33 after 22,964.  An XDP program.
; kernel: rejected: R1 offset is outside of the packet, processed 73 insns
r2 = *(u32 *)(r1 + 4)                           ; 0
r1 = *(u32 *)(r1 + 0)                           ; 1
r0 = 0                                          ; 2
r3 = r1                                         ; 3
r3 += 14                                        ; 4
if r3 > r2 goto +4                              ; 5
r3 += 4000                                      ; 6
if r3 > r2 goto -2                              ; 7
r0 = *(u8 *)(r1 + 14)                           ; 8
exit                                            ; 9
exit                                            ; 10
