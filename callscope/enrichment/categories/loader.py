"""The rule set (CategoryRules) and how it is read from a YAML file, with one-line errors for anything
wrong in it."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from callscope.enrichment.categories.phrases import words_of
from callscope.enrichment.categories.rules import (
    Category,
    Condition,
    InterruptionCondition,
    NonTalkCondition,
    Polarity,
    SentimentCondition,
    TimeWindow,
    TranscriptCondition,
    Who,
)
from callscope.errors import CallscopeError

DEFAULT_RULES = "default_rules.yaml"

_WINDOW_KEYS = ("first_secs", "last_secs", "first_pct", "last_pct")
_COMMON_KEYS = ("absent", "min_count", *_WINDOW_KEYS)
_KEYS = {
    "transcript": ("phrases", "speaker", "fuzzy", *_COMMON_KEYS),
    "sentiment": ("polarity", "speaker", *_COMMON_KEYS),
    "interruption": ("speaker", *_COMMON_KEYS),
    "non_talk": ("min_secs", *_COMMON_KEYS),
}
_REQUIRED = {"transcript": ("phrases",), "sentiment": ("polarity",), "interruption": (), "non_talk": ("min_secs",)}
_CATEGORY_KEYS = ("name", "all", "any")


class CategoryRulesError(CallscopeError, ValueError):
    """A rules file that cannot be used: `path: where: problem`, on one line.

    Also a ValueError, so the CLI's option parsing reports it as a bad parameter.
    """

    def __init__(self, path: str, problem: str) -> None:
        problem = " ".join(problem.split("\n"))  # a name or phrase in the file may hold a newline
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem

    def __reduce__(self):  # survives pickling to and from worker processes
        return type(self), (self.path, self.problem)


@dataclass(frozen=True)
class CategoryRules:
    categories: tuple[Category, ...]
    source: str = ""  # the file they came from, for messages

    @classmethod
    def load(cls, path: Path | str | None = None) -> CategoryRules:
        """A user's YAML rules file, or the default contact-centre rules shipped with callscope when
        `path` is None. Raises CategoryRulesError (one line: the file, the rule, the problem)."""
        return load_rules(None if path is None else Path(path))


class _Invalid(Exception):
    """A problem in the parsed document; load_rules adds the file name."""


def load_rules(path: Path | None) -> CategoryRules:
    if path is None:
        name = f"callscope/enrichment/categories/{DEFAULT_RULES}"
        text = resources.files("callscope.enrichment.categories").joinpath(DEFAULT_RULES).read_text(encoding="utf-8")
    else:
        name = str(path)
        try:
            text = path.read_text(encoding="utf-8-sig")  # -sig: tolerate a byte-order mark
        except FileNotFoundError:
            raise CategoryRulesError(name, "rules file not found") from None
        except UnicodeDecodeError as error:
            raise CategoryRulesError(name, f"not UTF-8 text (byte {error.start})") from None
        except OSError as error:
            raise CategoryRulesError(name, f"cannot read the rules file ({error.strerror or error})") from None
    return parse_rules(text, name)


def parse_rules(text: str, name: str) -> CategoryRules:
    """Rules from YAML `text`; `name` (the file) starts every error message."""
    try:
        import yaml
    except ImportError:
        raise CategoryRulesError(name, "reading category rules needs PyYAML (pip install pyyaml)") from None
    try:
        document = yaml.load(text, Loader=_strict_loader())  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise CategoryRulesError(name, f"not valid YAML: {error.problem or error.context}{where}") from None
    except yaml.YAMLError as error:
        raise CategoryRulesError(name, f"not valid YAML: {_reason(error)}") from None
    try:
        return CategoryRules(_categories(document), source=name)
    except _Invalid as error:
        raise CategoryRulesError(name, str(error)) from None


def _categories(document: Any) -> tuple[Category, ...]:
    if document is None:
        raise _Invalid("the file is empty: expected a 'categories:' list")
    if not isinstance(document, dict) or "categories" not in document:
        raise _Invalid("expected a mapping with a 'categories:' list at the top")
    _no_unknown_keys(document, ("categories",), "top level")
    items = document["categories"]
    if not isinstance(items, list) or not items:
        raise _Invalid(f"'categories' must be a non-empty list, not {_describe(items)}")
    categories = [_category(item, index) for index, item in enumerate(items, start=1)]
    seen: set[str] = set()
    for category in categories:
        if category.name in seen:
            raise _Invalid(f"category '{category.name}' is defined twice")
        seen.add(category.name)
    return tuple(categories)


def _category(item: Any, index: int) -> Category:
    if not isinstance(item, dict):
        raise _Invalid(f"category {index} must be a mapping with 'name' and 'all' or 'any', not {_describe(item)}")
    name = item.get("name")
    if not isinstance(name, str) or not name.strip():
        raise _Invalid(f"category {index}: 'name' must be non-empty text, not {_describe(name)}")
    where = f"category '{name}'"
    _no_unknown_keys(item, _CATEGORY_KEYS, where)
    groups = {}
    for key in ("all", "any"):
        conditions = item.get(key)
        if conditions is None:
            groups[key] = ()
            continue
        if not isinstance(conditions, list) or not conditions:
            raise _Invalid(f"{where}: '{key}' must be a non-empty list of conditions, not {_describe(conditions)}")
        groups[key] = tuple(_condition(entry, f"{where}, {key}[{number}]")
                            for number, entry in enumerate(conditions, start=1))
    if not groups["all"] and not groups["any"]:
        raise _Invalid(f"{where}: needs an 'all:' or 'any:' list of conditions")
    return Category(name.strip(), all_of=groups["all"], any_of=groups["any"])


def _condition(entry: Any, where: str) -> Condition:
    if isinstance(entry, dict) and len(entry) > 1:
        raise _Invalid(f"{where}: one condition per list item ('- {next(iter(entry))}: ...'), "
                       f"got {len(entry)} together: {', '.join(map(str, entry))}")
    if not isinstance(entry, dict) or not entry:
        raise _Invalid(f"{where}: a condition is one of {', '.join(_KEYS)} with its settings, "
                       f"e.g. '- transcript: {{phrases: [...]}}', not {_describe(entry)}")
    kind, settings = next(iter(entry.items()))
    if kind not in _KEYS:
        raise _Invalid(f"{where}: unknown condition '{kind}' (expected one of: {', '.join(_KEYS)})")
    where = f"{where} ({kind})"
    settings = {} if settings is None else settings
    if not isinstance(settings, dict):
        raise _Invalid(f"{where}: settings must be a mapping, not {_describe(settings)}")
    _no_unknown_keys(settings, _KEYS[kind], where)
    for key in _REQUIRED[kind]:
        if key not in settings:
            raise _Invalid(f"{where}: missing '{key}'")
    common = {
        "window": _window(settings, where),
        "absent": _flag(settings, "absent", where),
        "min_count": _count(settings, where),
    }
    if kind == "transcript":
        return TranscriptCondition(_phrases(settings["phrases"], where), _who(settings, where),
                                   fuzzy=_fuzzy(settings, where), **common)
    if kind == "sentiment":
        return SentimentCondition(_polarities(settings["polarity"], where), _who(settings, where), **common)
    if kind == "interruption":
        return InterruptionCondition(_who(settings, where), **common)
    return NonTalkCondition(_number(settings["min_secs"], f"{where}: 'min_secs'", low=0.0), **common)


def _phrases(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise _Invalid(f"{where}: 'phrases' must be a non-empty list of text, not {_describe(value)}")
    for phrase in value:
        if not isinstance(phrase, str):
            raise _Invalid(f"{where}: every phrase must be text, not {_describe(phrase)}")
        if not words_of(phrase):
            raise _Invalid(f"{where}: phrase '{phrase}' has no words")
    return tuple(value)


def _who(settings: dict, where: str) -> Who:
    value = settings.get("speaker", "any")
    choices = [who.value for who in Who]
    if not isinstance(value, str) or value.lower() not in choices:
        raise _Invalid(f"{where}: 'speaker' must be one of {', '.join(choices)}, not {_describe(value)}")
    return Who(value.lower())


def _polarities(value: Any, where: str) -> tuple[Polarity, ...]:
    values = value if isinstance(value, list) and value else [value]
    choices = [polarity.value for polarity in Polarity]
    for item in values:
        if not isinstance(item, str) or item.lower() not in choices:
            raise _Invalid(f"{where}: 'polarity' must be {', '.join(choices)} (or a list of them), "
                           f"not {_describe(item)}")
    return tuple(dict.fromkeys(Polarity(item.lower()) for item in values))


def _fuzzy(settings: dict, where: str) -> float:
    if "fuzzy" not in settings:
        return 1.0
    # Below 0.5 almost any run of words of the right length would "match".
    return _number(settings["fuzzy"], f"{where}: 'fuzzy'", low=0.5, high=1.0, low_inclusive=True)


def _window(settings: dict, where: str) -> TimeWindow:
    given = [key for key in _WINDOW_KEYS if key in settings]
    if len(given) > 1:
        raise _Invalid(f"{where}: give at most one of {', '.join(_WINDOW_KEYS)} (got {', '.join(given)})")
    if not given:
        return TimeWindow()
    key = given[0]
    high = 100.0 if key.endswith("_pct") else None
    return TimeWindow(**{key: _number(settings[key], f"{where}: '{key}'", low=0.0, high=high)})


def _flag(settings: dict, key: str, where: str) -> bool:
    value = settings.get(key, False)
    if not isinstance(value, bool):
        raise _Invalid(f"{where}: '{key}' must be true or false, not {_describe(value)}")
    return value


def _count(settings: dict, where: str) -> int:
    value = settings.get("min_count", 1)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _Invalid(f"{where}: 'min_count' must be a whole number of at least 1, not {_describe(value)}")
    return value


def _number(value: Any, what: str, low: float, high: float | None = None, low_inclusive: bool = False) -> float:
    """A number in (low, high] (or [low, high] with low_inclusive)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _Invalid(f"{what} must be a number, not {_describe(value)}")
    too_low = value < low if low_inclusive else value <= low
    if too_low or (high is not None and value > high):
        bound = f"{'at least' if low_inclusive else 'above'} {low:g}"
        bound += f" and at most {high:g}" if high is not None else ""
        raise _Invalid(f"{what} must be {bound}, not {value}")
    return float(value)


def _no_unknown_keys(mapping: dict, allowed: tuple[str, ...], where: str) -> None:
    for key in mapping:
        if key not in allowed:
            raise _Invalid(f"{where}: unknown key '{key}' (expected one of: {', '.join(allowed)})")


def _describe(value: Any) -> str:
    """A value as a YAML author would call it."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"{str(value).lower()}"
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, (int, float)):
        return f"{value}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _reason(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


@lru_cache(maxsize=1)
def _strict_loader() -> type:
    """SafeLoader that refuses duplicate keys (PyYAML silently keeps the last one)."""
    import yaml

    def mapping_without_duplicates(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = loader.construct_object(key_node)
            try:
                duplicate = key in seen
            except TypeError:  # an unhashable key: construct_mapping reports it
                continue
            if duplicate:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key '{key}'", key_node.start_mark)
            seen.add(key)
        return loader.construct_mapping(node)

    strict = type("StrictLoader", (yaml.SafeLoader,), {})
    strict.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, mapping_without_duplicates)
    return strict
