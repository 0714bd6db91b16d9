"""Issues, action items and outcomes without a language model: sentence rules by speaker role.

Each turn's `analysis_text` is cut into sentences (callscope.enrichment.sentences); a sentence is
an issue (the customer's problem or reason for calling), an action item (a promise or next step)
or an outcome (a resolution), or several of these, when one of that class's patterns matches it
for the speaker's role. The spans are whole sentences, as character offsets into `analysis_text`.

The patterns are data, `issue_patterns.yaml` in this package (its header describes the format and
the normalisation patterns see); users add their own with `IssuePatterns.load(extra=[path])`.
Measured on hand-labelled turns: bench/bench_issues.py, docs/BENCHMARKS.md.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from callscope.enrichment.files import ConfigFileError, read_user_text
from callscope.enrichment.sentences import sentence_spans
from callscope.errors import ModelError
from callscope.model import Conversation, Role, TextSpan

CLASSES = ("issues", "action_items", "outcomes")
_SHIPPED = "issue_patterns.yaml"


@dataclass(frozen=True)
class Rule:
    pattern: re.Pattern[str]
    roles: frozenset[Role]
    questions: bool = False  # may match a question even where the class skips questions


@dataclass(frozen=True)
class ClassRules:
    rules: tuple[Rule, ...]
    exclude: tuple[re.Pattern[str], ...] = ()
    skip_questions: bool = False
    roles: frozenset[Role] = frozenset(Role)  # the class's default for patterns without their own

    def matches(self, normalised: str, role: Role, question: bool) -> bool:
        for rule in self.rules:
            if role is not Role.UNKNOWN and role not in rule.roles:
                continue
            if question and self.skip_questions and not rule.questions:
                continue
            if rule.pattern.search(normalised):
                return not any(pattern.search(normalised) for pattern in self.exclude)
        return False


@dataclass(frozen=True)
class IssuePatterns:
    classes: dict[str, ClassRules]

    @classmethod
    def load(cls, path: Path | None = None, extra: Sequence[Path] = ()) -> IssuePatterns:
        """The shipped patterns (or the file at `path` instead), plus the patterns of each `extra` file.

        Raises ConfigFileError, one line naming the file, for a malformed file."""
        if path is None:
            text = resources.files("callscope.enrichment").joinpath(_SHIPPED).read_text(encoding="utf-8")
            patterns = _parse(text, _SHIPPED, {})
        else:
            patterns = _parse(read_user_text(path), str(path), {})
        for extra_path in extra:
            added = _parse(read_user_text(extra_path), str(extra_path), patterns.classes)
            patterns = IssuePatterns({
                name: ClassRules(
                    patterns.classes[name].rules + added.classes[name].rules,
                    patterns.classes[name].exclude + added.classes[name].exclude,
                    added.classes[name].skip_questions,
                    patterns.classes[name].roles,
                )
                for name in CLASSES
            })
        return patterns


@dataclass
class LocalIssues:
    patterns: IssuePatterns = field(default_factory=IssuePatterns.load)
    name: str = field(default="local:rules", init=False)
    aspect = "issues"

    def enrich(self, conversation: Conversation) -> None:
        roles = {speaker.label: speaker.role for speaker in conversation.speakers}
        for turn in conversation.turns:
            found = detect(turn.analysis_text, roles.get(turn.speaker, Role.UNKNOWN), self.patterns)
            turn.issues, turn.action_items, turn.outcomes = found["issues"], found["action_items"], found["outcomes"]


def detect(text: str, role: Role, patterns: IssuePatterns) -> dict[str, list[TextSpan]]:
    """The sentences of `text` of each class ("issues", "action_items", "outcomes")."""
    found: dict[str, list[TextSpan]] = {name: [] for name in CLASSES}
    for begin, end in sentence_spans(text):
        sentence = text[begin:end]
        normalised = normalise(sentence)
        if not normalised:
            continue
        question = sentence.rstrip("\"') ").endswith("?")
        # Speech recognition runs a statement and a question tag together ("They should arrive by
        # Friday, does that work for you?"): the part before the last comma is still a statement.
        statement = normalise(sentence[:sentence.rfind(",")]) if question and "," in sentence else ""
        for name in CLASSES:
            rules = patterns.classes[name]
            if rules.matches(normalised, role, question) or (statement and rules.matches(statement, role, False)):
                found[name].append(TextSpan(sentence, begin, end))
    return found


# Contractions as speech recognition writes them, with or without the apostrophe.
_EXPANSIONS = [
    (re.compile(r"\b(won't|wont)\b"), "will not"),
    (re.compile(r"\b(can't|cant|cannot)\b"), "can not"),
    (re.compile(r"\bshan't\b"), "shall not"),
    (re.compile(r"n't\b"), " not"),
    (re.compile(r"\b(do|does|did|is|was|are|were|have|has|had|could|would|should)nt\b"), r"\1 not"),
    (re.compile(r"\b(i|you|we|they|he|she|it|that|there)'ll\b"), r"\1 will"),
    (re.compile(r"\b(you|we|they|that|it|there|this)ll\b"), r"\1 will"),
    (re.compile(r"'ve\b"), " have"),
    (re.compile(r"\b(i|you|we|they)ve\b"), r"\1 have"),
    (re.compile(r"'re\b"), " are"),
    (re.compile(r"\b(i'm|im)\b"), "i am"),
    (re.compile(r"'d\b"), " would"),
    (re.compile(r"\blet's\b"), "let us"),
    (re.compile(r"\b(thats|theres|whats)\b"), lambda match: match.group(1)[:-1] + "'s"),
    (re.compile(r"\bgonna\b"), "going to"),
    (re.compile(r"\bwanna\b"), "want to"),
    (re.compile(r"\bgotta\b"), "got to"),
]
_FILLERS = re.compile(r"\b(u+m+|u+h+|e+r+m+|e+r+|h+m+|m+h?m+|a+h+|you know)\b")
_PUNCTUATION = re.compile(r"[^\w' ]+|(?<!\w)'|'(?!\w)")


def normalise(sentence: str) -> str:
    """What patterns see: see the header of issue_patterns.yaml."""
    text = sentence.lower().replace("’", "'").replace("‘", "'")
    text = _PUNCTUATION.sub(" ", text)
    for pattern, replacement in _EXPANSIONS:
        text = pattern.sub(replacement, text)
    text = _FILLERS.sub(" ", text)
    return " ".join(text.split())


def _parse(text: str, source: str, defaults: dict[str, ClassRules]) -> IssuePatterns:
    try:
        import yaml
    except ImportError as error:
        raise ModelError(f"PyYAML is needed to read {source}: pip install pyyaml ({error})") from None
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        raise ConfigFileError(f"{where}: not valid YAML ({getattr(error, 'problem', None) or error})") from None
    if not isinstance(data, dict):
        raise ConfigFileError(f"{source}: expected sections {', '.join(CLASSES)}")
    unknown = sorted(set(data) - set(CLASSES))
    if unknown:
        raise ConfigFileError(f"{source}: unknown section '{unknown[0]}' (expected {', '.join(CLASSES)})")
    return IssuePatterns({name: _class_rules(data.get(name) or {}, f"{source}: {name}", defaults.get(name))
                          for name in CLASSES})


def _class_rules(section: Any, where: str, default: ClassRules | None) -> ClassRules:
    if not isinstance(section, dict):
        raise ConfigFileError(f"{where}: expected a mapping with 'patterns'")
    unknown = sorted(set(section) - {"roles", "skip_questions", "patterns", "exclude"})
    if unknown:
        raise ConfigFileError(f"{where}: unknown key '{unknown[0]}'")
    roles = _roles(section["roles"], where) if "roles" in section else (
        default.roles if default is not None else frozenset(Role))
    skip = section.get("skip_questions", default.skip_questions if default is not None else False)
    if not isinstance(skip, bool):
        raise ConfigFileError(f"{where}: skip_questions must be true or false")
    rules = []
    for item in _list(section.get("patterns"), f"{where}: patterns"):
        if isinstance(item, str):
            rules.append(Rule(_compile(item, where), roles))
        elif isinstance(item, dict) and isinstance(item.get("pattern"), str):
            extra_keys = sorted(set(item) - {"pattern", "roles", "questions"})
            if extra_keys:
                raise ConfigFileError(f"{where}: pattern {item['pattern']!r}: unknown key '{extra_keys[0]}'")
            rule_roles = _roles(item["roles"], where) if "roles" in item else roles
            rules.append(Rule(_compile(item["pattern"], where), rule_roles, bool(item.get("questions", False))))
        else:
            raise ConfigFileError(f"{where}: each pattern is a string or {{pattern: ..., roles: [...]}}, not {item!r}")
    exclude = tuple(_compile(item, where) if isinstance(item, str) else _not_string(item, where)
                    for item in _list(section.get("exclude"), f"{where}: exclude"))
    return ClassRules(tuple(rules), exclude, skip, roles)


def _list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ConfigFileError(f"{where}: expected a list")
    return value


def _roles(value: Any, where: str) -> frozenset[Role]:
    names = value if isinstance(value, list) else [value]
    try:
        return frozenset(Role(str(name).upper()) for name in names)
    except ValueError:
        raise ConfigFileError(f"{where}: roles must be AGENT and/or CUSTOMER, not {value!r}") from None


def _compile(pattern: str, where: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as error:
        raise ConfigFileError(f"{where}: pattern {pattern!r}: {error}") from None


def _not_string(item: Any, where: str) -> re.Pattern[str]:
    raise ConfigFileError(f"{where}: exclude patterns are strings, not {item!r}")
