"""bpfbuild's doit tasks: `doit` builds everything; `doit list` shows the tasks."""

from bpfbuild.tasks import doit_config, task_build, task_headers, task_load, task_unload  # noqa: F401

DOIT_CONFIG = doit_config()
