"""``python -m bpfbuild``."""

import sys

from bpfbuild.cli import main

sys.exit(main())
