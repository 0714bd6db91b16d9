"""The `callscope` command line (callscope.cli.main); `python -m callscope.cli` runs it."""

from callscope.cli.main import main

__all__ = ["main"]
