"""``python -m dispatch``: the same command line as the installed ``dispatch`` script."""

from __future__ import annotations

import sys

from dispatch.cli import main

if __name__ == "__main__":
    sys.exit(main())
