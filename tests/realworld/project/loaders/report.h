/* Shared by the loaders: with --report, print what the kernel holds after the skeleton's load
 * (each program's tag and translated size, each map's shape) instead of attaching. */
#ifndef LOADER_REPORT_H
#define LOADER_REPORT_H

#include <stdio.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

static inline int report_wanted(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--report") == 0)
			return 1;
	return 0;
}

static inline int report_object(struct bpf_object *obj)
{
	struct bpf_program *prog;
	struct bpf_map *map;

	bpf_object__for_each_program(prog, obj) {
		struct bpf_prog_info info;
		__u32 len = sizeof(info);

		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len)) {
			perror(bpf_program__name(prog));
			return 1;
		}
		printf("prog %s tag ", bpf_program__name(prog));
		for (int i = 0; i < BPF_TAG_SIZE; i++)
			printf("%02x", info.tag[i]);
		printf(" xlated %u\n", info.xlated_prog_len);
	}
	bpf_object__for_each_map(map, obj) {
		struct bpf_map_info info;
		__u32 len = sizeof(info);

		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(bpf_map__fd(map), &info, &len)) {
			perror(bpf_map__name(map));
			return 1;
		}
		printf("map %s type %u key %u value %u max_entries %u flags %u\n", info.name, info.type,
		       info.key_size, info.value_size, info.max_entries, info.map_flags);
	}
	return 0;
}

#endif
