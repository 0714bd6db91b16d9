"""Custom entities from a list of names and types: the reference system's "entity string map".

The list is a CSV file with a `Type,Text` header (any column order, other columns ignored) or
plain two-column rows `Type,Text`; blank lines and lines starting with `#` are skipped. Matching is
case-insensitive on word boundaries. With `fuzzy` (the default) it also tolerates how speech
recognition splits and joins names: spaces, hyphens, dots and apostrophes may appear, or vanish,
between any two characters, so "Network ABC" also matches "net work abc", "networkabc" and
"network a.b.c". A matched entity's text is the transcript's own words, so its offsets slice the text.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from callscope.enrichment.files import ConfigFileError, read_user_text
from callscope.model import Entity, letters_of

RULE_SCORE = 1.0  # a listed name either occurs or not: there is no model confidence to report
# What speech recognition puts between (or drops from) the parts of a name.
_SEPARATORS = r"[\s\-.'’_]*"


@dataclass(frozen=True)
class CustomEntity:
    type: str
    text: str
    key: str  # lower-case letters and digits only: what the fuzzy match compares


@dataclass(frozen=True)
class EntityMap:
    entries: tuple[CustomEntity, ...]
    fuzzy: bool = True
    source: str = ""  # the file name, recorded as the recogniser's name
    _patterns: tuple[re.Pattern[str], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_patterns", tuple(_pattern(entry, self.fuzzy) for entry in self.entries))

    @classmethod
    def from_csv(cls, path: Path, fuzzy: bool = True) -> EntityMap:
        """Raises ConfigFileError naming the file and line for anything malformed."""
        text = read_user_text(path)
        reader = csv.reader(io.StringIO(text), strict=True)  # strict: a stray quote is an error, not a silent merge
        columns: tuple[int, int] | None = None  # (type, text) column indices once a header was seen
        width = 2  # columns a row must have: the header's, or Type,Text
        pairs: list[tuple[str, str]] = []
        try:
            for row in reader:
                line = reader.line_num
                cells = [cell.strip() for cell in row]
                if not any(cells) or cells[0].startswith("#"):
                    continue
                lowered = [cell.lower() for cell in cells]
                if columns is None and not pairs and "type" in lowered and "text" in lowered:
                    columns, width = (lowered.index("type"), lowered.index("text")), len(cells)
                    continue
                while len(cells) > width and not cells[-1]:  # "Type,Text," from a spreadsheet
                    cells.pop()
                if len(cells) != width:
                    expected = f"{width} columns as in the header" if columns else "2 columns Type,Text"
                    hint = " (quote a name that has a comma)" if len(cells) > width else ""
                    raise ConfigFileError(f"{path}:{line}: expected {expected}, found {len(cells)}{hint}")
                kind, name = (cells[columns[0]], cells[columns[1]]) if columns else (cells[0], cells[1])
                problem = _problem(kind, name)
                if problem:
                    raise ConfigFileError(f"{path}:{line}: {problem}")
                pairs.append((kind, name))
        except csv.Error as error:
            raise ConfigFileError(f"{path}:{reader.line_num}: not valid CSV ({error})") from None
        if not pairs:
            raise ConfigFileError(f"{path}: no entities (expected rows of Type,Text)")
        return cls._build(pairs, fuzzy, Path(path).name)

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[str, str]], fuzzy: bool = True) -> EntityMap:
        """From (type, text) pairs, e.g. [("PRODUCT", "Kit Kat")]. Raises ValueError for an empty name."""
        checked = [(kind.strip(), name.strip()) for kind, name in pairs]
        for kind, name in checked:
            problem = _problem(kind, name)
            if problem:
                raise ValueError(f"custom entity ({kind!r}, {name!r}): {problem}")
        return cls._build(checked, fuzzy, "")

    @classmethod
    def _build(cls, pairs: list[tuple[str, str]], fuzzy: bool, source: str) -> EntityMap:
        entries: dict[str, CustomEntity] = {}
        for kind, name in pairs:
            key = letters_of(name)
            # The first listing of a name wins, as in the reference system.
            entries.setdefault(key if fuzzy else name.lower(), CustomEntity(kind, name, key))
        return cls(tuple(entries.values()), fuzzy, source)

    def find(self, text: str) -> list[Entity]:
        """Non-overlapping matches in `text`, the longest first where two overlap, in text order."""
        squashed = letters_of(text)
        lowered = text.lower()
        found: list[Entity] = []
        for entry, pattern in zip(self.entries, self._patterns):
            # A cheap substring test first: most names occur in no turn at all.
            if (entry.key not in squashed) if self.fuzzy else (entry.text.lower().split()[0] not in lowered):
                continue
            for match in pattern.finditer(text):
                found.append(Entity(entry.type, match.group(0), match.start(), match.end(), RULE_SCORE))
        return _without_overlaps(found)


def _problem(kind: str, name: str) -> str:
    if not kind:
        return "empty Type"
    if not name:
        return "empty Text"
    if not letters_of(name):
        return f"Text {name!r} has no letters or digits"
    return ""


def _pattern(entry: CustomEntity, fuzzy: bool) -> re.Pattern[str]:
    if fuzzy:
        body = _SEPARATORS.join(re.escape(char) for char in entry.key)
    else:
        body = r"\s+".join(re.escape(word) for word in entry.text.split())
    return re.compile(rf"(?<!\w){body}(?!\w)", re.IGNORECASE)


def _without_overlaps(entities: list[Entity]) -> list[Entity]:
    kept: list[Entity] = []
    for entity in sorted(entities, key=lambda item: (item.begin - item.end, item.begin)):
        if all(entity.end <= other.begin or entity.begin >= other.end for other in kept):
            kept.append(entity)
    return sorted(kept, key=lambda item: item.begin)
