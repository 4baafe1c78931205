/* bpfbuild's fallback for glibc's <gnu/stubs-32.h>.
 *
 * glibc's <gnu/stubs.h> picks the stub list of the ABI it is compiled for; with -target bpf
 * no 64-bit ABI macro is defined, so it includes <gnu/stubs-32.h>, which only the 32-bit
 * libc development package installs (libc6-dev-i386 on Debian/Ubuntu).  BPF programs that
 * include a glibc header (<sys/socket.h>, <netinet/in.h>, ...) for its constants and types
 * need nothing from that list: it names the C library functions that are not implemented
 * (__stub_* macros), which only configure-style checks look at.
 *
 * bpfbuild adds this directory with -idirafter, after every system include directory, so the
 * system's own file is used wherever it is installed; this empty list only fills its absence.
 */
#ifndef __BPFBUILD_GNU_STUBS_32_H
#define __BPFBUILD_GNU_STUBS_32_H
#endif
