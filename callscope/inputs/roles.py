"""Which chat speaker names are the agent and which the customer.

A name maps by its whole text, else by its first word ("Agent Sarah" → AGENT), case-insensitively.
The defaults cover the usual labels; users add names ("Bot=AGENT,Jane=AGENT") without code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from callscope.model import Role

DEFAULT_ROLE_NAMES: tuple[tuple[str, Role], ...] = (
    ("customer", Role.CUSTOMER),
    ("client", Role.CUSTOMER),
    ("caller", Role.CUSTOMER),
    ("agent", Role.AGENT),
    ("rep", Role.AGENT),
    ("representative", Role.AGENT),
    ("advisor", Role.AGENT),
    ("adviser", Role.AGENT),
)


@dataclass(frozen=True)
class RoleMap:
    names: tuple[tuple[str, Role], ...] = DEFAULT_ROLE_NAMES

    def role(self, name: str) -> Role:
        table = dict(self.names)  # later entries (the user's) win over the defaults
        key = " ".join(name.casefold().split())
        if key in table:
            return table[key]
        first = key.split(" ", 1)[0] if key else ""
        return table.get(first, Role.UNKNOWN)

    def knows(self, name: str) -> bool:
        key = " ".join(name.casefold().split())
        table = dict(self.names)
        return key in table or key.split(" ", 1)[0] in table

    @classmethod
    def parse(cls, text: str, base: RoleMap | None = None) -> RoleMap:
        """"Bot=AGENT, Jane Doe=agent, John=CUSTOMER" added to `base` (the defaults).

        Raises ValueError, one line, on an item that is not NAME=ROLE."""
        names = list((base or cls()).names)
        for item in filter(None, (part.strip() for part in text.split(","))):
            match = re.fullmatch(r"(.+?)\s*=\s*(agent|customer|unknown)", item, re.IGNORECASE)
            if not match:
                raise ValueError(f"'{item}' is not NAME=ROLE (ROLE: AGENT, CUSTOMER or UNKNOWN), e.g. Bot=AGENT")
            names.append((" ".join(match[1].casefold().split()), Role(match[2].upper())))
        return cls(tuple(names))
