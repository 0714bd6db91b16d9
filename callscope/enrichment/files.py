"""Reading the user's enrichment files (entity lists, pattern files) with one-line errors."""

from __future__ import annotations

from pathlib import Path

from callscope.errors import CallscopeError


class ConfigFileError(CallscopeError, ValueError):
    """A user's file is missing or malformed; the message names the file (and line) in one line.

    Also a ValueError, so the CLI's option parsing reports it as a bad parameter.
    """


def read_user_text(path: Path) -> str:
    try:
        return Path(path).read_text(encoding="utf-8-sig")  # -sig: spreadsheets save CSVs with a BOM
    except FileNotFoundError:
        raise ConfigFileError(f"{path}: file not found") from None
    except UnicodeDecodeError as error:
        raise ConfigFileError(f"{path}: not UTF-8 text (byte {error.start})") from None
    except OSError as error:
        raise ConfigFileError(f"{path}: {error.strerror or error}") from None
