"""bpfbuild's doit tasks: `doit` builds everything; `doit list` shows the tasks."""

from bpfbuild.tasks import (  # noqa: F401
    doit_config,
    task_build,
    task_headers,
    task_ide,
    task_load,
    task_report,
    task_skel,
    task_unload,
    task_vmlinux,
)

DOIT_CONFIG = doit_config()
