"""``python -m dispatch``: the same command line as the installed ``dispatch`` script."""

from __future__ import annotations

from dispatch.cli import run

if __name__ == "__main__":
    run()
