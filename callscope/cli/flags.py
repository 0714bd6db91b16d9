"""click options generated from the flag spec (callscope.flags), so a flag is declared once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import click

from callscope.flags import Flag


def flag_options(*flags: Flag, choices: dict[str, tuple[str, ...]] | None = None
                 ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A decorator adding one click option per flag, in order; `choices` narrows a flag's choices for
    one command (by name). The values arrive as keyword arguments named by `Flag.dest`."""

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        for flag in reversed(flags):
            if choices and flag.name in choices:
                flag = replace(flag, choices=choices[flag.name])
            command = _option(flag)(command)
        return command

    return decorate


def _option(flag: Flag) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    shown = flag.default not in ("", None)
    if flag.type is bool:
        return click.option(f"{flag.option}/--no-{flag.name}", flag.dest, default=flag.default, show_default=True,
                            help=flag.help or None)
    if flag.choices:
        kind: Any = click.Choice(flag.choices)
    elif flag.type is int and flag.minimum is not None:
        kind = click.IntRange(min=flag.minimum)
    else:
        kind = flag.type
    return click.option(flag.option, flag.dest, type=kind, default=flag.default, show_default=shown,
                        help=flag.help or None)
