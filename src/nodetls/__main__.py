"""``python -m nodetls``: the command line (see :mod:`nodetls.cli`)."""

import sys

from .cli import main

sys.exit(main())
