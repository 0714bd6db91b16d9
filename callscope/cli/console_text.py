"""Text from outside (file names, errors) as it may reach a terminal."""

from __future__ import annotations

from rich.markup import escape


def printable(text: str) -> str:
    """Control characters as Python escapes ("\\n", "\\x1b"): a file name cannot break a console line,
    recolour or clear the terminal. Only the console gets this; JSON outputs keep the real name."""
    return "".join(char if char.isprintable() else char.encode("unicode_escape", "backslashreplace").decode("ascii")
                   for char in text)


def shown(text: str) -> str:
    """Text (a file name, an error) as it goes into a Rich markup line: printable, no markup."""
    return escape(printable(text))
