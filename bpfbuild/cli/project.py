"""``bpfbuild init DIR``: a new project that builds and passes ``doit test`` immediately."""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["register", "scaffold"]

DODO = '''"""doit tasks of this eBPF project (bpfbuild): `doit` builds, verifies, tests and makes skeletons."""

from bpfbuild.tasks import *  # noqa: F403  (DOIT_CONFIG's helpers and every task_* generator)
from bpfbuild.tasks import doit_config

DOIT_CONFIG = doit_config()
'''

PYPROJECT = '''[project]
name = "{name}"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = ["bpfbuild"]

[tool.bpfbuild]
# Zero configuration builds programs/*.bpf.c into build/*.bpf.o with
# `clang -target bpf -g -O2`.  Uncomment to change that:
# cflags = ["-Wall"]
# defines = {{ DEBUG = "1" }}
# include_dirs = ["include"]
# mcpu = "v3"
'''

HELLO = '''#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

int counter = 0;

SEC("xdp")
int hello(struct xdp_md *ctx)
{
	bpf_printk("Hello World %d", counter);
	counter++;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
'''

HELLO_SPEC = '''# Test spec of hello.bpf.c, run by `doit test` in bpfbuild's emulator (no root, no kernel).
program = "hello"

[[case]]
name = "three packets print 0, 1, 2 and pass"
packet = { eth = {}, ipv4 = {}, udp = { dport = 53 } }
repeat = 3
expect.retval = "XDP_PASS"
expect.printk = ["Hello World 0", "Hello World 1", "Hello World 2"]
expect.globals = { counter = 3 }
'''

README = '''# {name}

eBPF programs built with [bpfbuild](https://pypi.org/project/bpfbuild/).

```sh
python3 -m doit            # compile, verify, test in the emulator, generate skeletons
python3 -m doit test       # run programs/*.test.toml
python3 -m doit list       # every task
bpfbuild show build/hello.bpf.o
```
'''

GITIGNORE = "/build/\n/compile_commands.json\n"


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("init", help="create a new bpfbuild project in DIR",
                       description="Create DIR with dodo.py, pyproject.toml ([tool.bpfbuild]), programs/hello.bpf.c "
                       "and its test spec, .vscode/tasks.json and a README: `cd DIR && doit && doit test` passes.")
    p.add_argument("directory", metavar="DIR")
    p.set_defaults(handler=_cmd)


def scaffold(root: Path) -> list[Path]:
    """Write the project files into ``root`` (which must be absent or empty)."""
    from bpfbuild.errors import ConfigError
    from bpfbuild.editor import merge_tasks

    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise ConfigError("exists and is not empty; choose a new folder", file=str(root))
    name = root.resolve().name or "bpf-project"
    files = {
        "dodo.py": DODO,
        "pyproject.toml": PYPROJECT.format(name=name),
        "programs/hello.bpf.c": HELLO,
        "programs/hello.test.toml": HELLO_SPEC,
        "README.md": README.format(name=name),
        ".gitignore": GITIGNORE,
    }
    import json

    files[".vscode/tasks.json"] = json.dumps(merge_tasks(None), indent=2) + "\n"
    written = []
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        written.append(path)
    return written


def _cmd(args: argparse.Namespace) -> int:
    root = Path(args.directory)
    for path in scaffold(root):
        print(f"created {path}")
    print(f"next: cd {root} && python3 -m doit && python3 -m doit test")
    return 0
