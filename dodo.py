"""bpfbuild's doit tasks: `doit` builds everything; `doit list` shows the tasks."""

from bpfbuild.tasks import *  # noqa: F403  (every task_* generator)
from bpfbuild.tasks import doit_config

DOIT_CONFIG = doit_config()
