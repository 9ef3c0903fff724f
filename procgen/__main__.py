"""``python -m procgen``: the ``procgen`` command, for when pip's script folder is not on PATH."""

import sys

from procgen.cli import main

if __name__ == "__main__":
    sys.exit(main())
