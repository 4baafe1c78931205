/* Test program for skeletons: one global of every shape a data section can hold (padding,
 * const volatile, arrays, pointers, anonymous and named structs, typedefs, enums, a function
 * pointer, _Bool), custom .data.* / .rodata.* sections, a compiler string section
 * (.rodata.str1.1: no BTF), statics (hidden from skeletons), a hash map and three programs. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct pair { int a; long b; };
typedef unsigned int myu32;
enum color { RED, GREEN };

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, struct pair);
} pairs SEC(".maps");

int counter = 0;
char flag = 1;
long big = 5;
const volatile __u16 port = 9;
const volatile char name[16] = "abc";
const char *const strs[2] = {0, 0};
static int hidden = 3;
struct pair gp = {1, 2};
struct { int x; char y; } anon_s;
myu32 td = 7;
enum color col = GREEN;
int (*fptr)(int, char *);
int arr2[3][4];
char c1 SEC(".data.custom") = 1;
long c2 SEC(".data.custom") = 2;
const volatile int ro SEC(".rodata.custom") = 3;
int longsec SEC(".data.my_very_long_section_name") = 4;
volatile int vol;
_Bool bl;

SEC("xdp")
int kitchen(struct xdp_md *ctx)
{
	static int in_func = 0;
	__u32 k = 0;

	in_func++;
	counter += port + name[0] + hidden + gp.a + anon_s.x + td + col + arr2[1][2] + c1 + c2 + ro + longsec +
		   vol + bl + flag + big;
	if (strs[0])
		counter++;
	if (fptr)
		counter++;
	bpf_map_lookup_elem(&pairs, &k);
	bpf_printk("x %d", in_func);
	return XDP_PASS;
}

SEC("xdp")
int strlit(struct xdp_md *ctx)
{
	char buf[8];
	const char *s = "literal";

	bpf_probe_read_kernel_str(buf, sizeof(buf), s);
	return buf[0];
}

SEC("tp/syscalls/sys_enter_getpid")
int tp_prog(void *ctx)
{
	counter++;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
