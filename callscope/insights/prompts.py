"""Insight prompts as data: the shipped `prompts.yaml`, plus or instead of the user's own files.

A prompt set is a system prompt, the prompt that summarises one part of a long call (map step),
and the named insight prompts, each with its PCA Summary title, its instruction template and the
JSON Schema of its answer. Files are checked when they load: any problem is one line naming the
file (and the prompt), raised as ConfigFileError.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any

from callscope.enrichment.files import ConfigFileError, read_user_text
from callscope.errors import ModelError
from callscope.insights.rules import EmbeddedRule, RuleError, parse_rule

SHIPPED = "prompts.yaml"
TRANSCRIPT = "{transcript}"
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_PROMPT_KEYS = ("name", "title", "instruction", "schema", "embedded")
_TOP_KEYS = ("system", "chunk_summary", "prompts", "replace", "remove")


@dataclass(frozen=True)
class InsightPrompt:
    name: str
    title: str  # the key under ConversationAnalytics.Summary
    instruction: str  # with {transcript}; optionally {categories}
    schema: dict[str, Any]  # JSON Schema of the answer: an object
    embedded: EmbeddedRule | None = None  # how the embedded default answers it; None: needs an LLM

    def render(self, transcript: str, **values: str) -> str:
        """The instruction with its placeholders filled. Plain replacement, not str.format, so that
        instructions may hold JSON examples with braces."""
        text = self.instruction
        for key, value in values.items():
            text = text.replace("{" + key + "}", value)
        return text.replace(TRANSCRIPT, transcript)


@dataclass(frozen=True)
class PromptSet:
    system: str
    chunk_summary: InsightPrompt  # {transcript}, {part}, {parts}, {max_words}
    prompts: tuple[InsightPrompt, ...]

    @classmethod
    def load(cls, extra: Sequence[Path] = ()) -> PromptSet:
        """The shipped prompts with each user file in `extra` applied in turn (added, changed,
        replaced or removed as the file says). Raises ConfigFileError for a malformed file."""
        text = resources.files("callscope.insights").joinpath(SHIPPED).read_text(encoding="utf-8")
        prompts = _apply(None, _parse_yaml(text, f"callscope/insights/{SHIPPED}"), f"callscope/insights/{SHIPPED}")
        for path in extra:
            prompts = _apply(prompts, _parse_yaml(read_user_text(path), str(path)), str(path))
        return prompts

    def get(self, name: str) -> InsightPrompt:
        for prompt in self.prompts:
            if prompt.name == name:
                return prompt
        raise KeyError(name)


def _apply(base: PromptSet | None, document: dict[str, Any], source: str) -> PromptSet:
    """`document` (one file) over `base` (None: it is the shipped file, complete on its own)."""
    unknown = sorted(set(document) - set(_TOP_KEYS))
    if unknown:
        raise ConfigFileError(f"{source}: unknown key '{unknown[0]}' (expected {', '.join(_TOP_KEYS)})")
    replacing = document.get("replace", False)
    if not isinstance(replacing, bool):
        raise ConfigFileError(f"{source}: 'replace' must be true or false")
    system = document.get("system", base.system if base else None)
    if not isinstance(system, str) or not system.strip():
        raise ConfigFileError(f"{source}: 'system' must be text")
    chunk = base.chunk_summary if base else None
    if "chunk_summary" in document or chunk is None:
        chunk = _prompt({"name": "chunk_summary", "title": "Part summary", **_mapping(document.get("chunk_summary"),
                         f"{source}: chunk_summary")}, source, chunk)
    prompts: list[InsightPrompt] = [] if (base is None or replacing) else list(base.prompts)
    remove = document.get("remove", [])
    if not isinstance(remove, list) or not all(isinstance(name, str) for name in remove):
        raise ConfigFileError(f"{source}: 'remove' must be a list of prompt names")
    for name in remove:
        if not any(prompt.name == name for prompt in prompts):
            raise ConfigFileError(f"{source}: remove: no prompt named '{name}'")
        prompts = [prompt for prompt in prompts if prompt.name != name]
    items = document.get("prompts", [])
    if not isinstance(items, list) or (base is None and not items):
        raise ConfigFileError(f"{source}: 'prompts' must be a list of prompts")
    seen: set[str] = set()
    for index, item in enumerate(items, start=1):
        name = item.get("name") if isinstance(item, dict) else None
        if not isinstance(name, str) or not _NAME.match(name):
            raise ConfigFileError(f"{source}: prompt {index}: 'name' must be lower-case letters, digits and "
                                  f"underscores, starting with a letter, not {name!r}")
        if name in seen:
            raise ConfigFileError(f"{source}: prompt '{name}' is defined twice")
        seen.add(name)
        existing = next((i for i, prompt in enumerate(prompts) if prompt.name == name), None)
        if existing is None:
            prompts.append(_prompt(item, source, None))
        else:  # a shipped (or earlier) prompt: only the keys given change
            prompts[existing] = _prompt(item, source, prompts[existing])
    titles: set[str] = set()
    for prompt in prompts:
        if prompt.title in titles:
            raise ConfigFileError(f"{source}: prompt '{prompt.name}': title '{prompt.title}' is used by another prompt")
        titles.add(prompt.title)
    if not prompts:
        raise ConfigFileError(f"{source}: no prompts left")
    return PromptSet(system.strip(), chunk, tuple(prompts))


def _prompt(item: dict[str, Any], source: str, base: InsightPrompt | None) -> InsightPrompt:
    where = f"{source}: prompt '{item['name']}'"
    unknown = sorted(set(item) - set(_PROMPT_KEYS))
    if unknown:
        raise ConfigFileError(f"{where}: unknown key '{unknown[0]}' (expected {', '.join(_PROMPT_KEYS)})")
    missing = [key for key in ("title", "instruction", "schema") if key not in item and base is None]
    if missing:
        raise ConfigFileError(f"{where}: '{missing[0]}' is missing")
    prompt = base or InsightPrompt(item["name"], "", "", {})
    if "title" in item:
        if not isinstance(item["title"], str) or not item["title"].strip():
            raise ConfigFileError(f"{where}: 'title' must be text")
        prompt = replace(prompt, title=item["title"].strip())
    if "instruction" in item:
        if not isinstance(item["instruction"], str) or TRANSCRIPT not in item["instruction"]:
            raise ConfigFileError(f"{where}: 'instruction' must be text containing {TRANSCRIPT}")
        prompt = replace(prompt, instruction=item["instruction"])
    if "schema" in item:
        prompt = replace(prompt, schema=_schema(item["schema"], where))
    if "embedded" in item:
        try:
            prompt = replace(prompt, embedded=None if item["embedded"] is None else parse_rule(item["embedded"]))
        except RuleError as error:
            raise ConfigFileError(f"{where}: {error}") from None
    return prompt


def _schema(schema: Any, where: str) -> dict[str, Any]:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    if not isinstance(schema, dict) or schema.get("type") != "object":
        raise ConfigFileError(f"{where}: 'schema' must be a JSON Schema with type: object (answers are JSON objects)")
    try:
        json.dumps(schema)  # it is sent with every request
    except (TypeError, ValueError) as error:
        raise ConfigFileError(
            f"{where}: 'schema' is not JSON ({error}); quote dates and other YAML-only values") from None
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as error:
        path = "/".join(str(part) for part in error.absolute_path) or "(top)"
        raise ConfigFileError(f"{where}: 'schema' is not a valid JSON Schema at {path}: {error.message}") from None
    return schema


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigFileError(f"{where}: expected a mapping with 'instruction' and 'schema'")
    if "name" in value or "title" in value:
        raise ConfigFileError(f"{where}: takes only 'instruction' and 'schema'")
    return value


def _parse_yaml(text: str, source: str) -> dict[str, Any]:
    try:
        import yaml
    except ImportError as error:
        raise ModelError(f"PyYAML is needed to read {source}: pip install pyyaml ({error})") from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        problem = " ".join(str(getattr(error, "problem", None) or error).split())
        raise ConfigFileError(f"{where}: not valid YAML ({problem})") from None
    if not isinstance(document, dict):
        raise ConfigFileError(f"{source}: expected a mapping with 'prompts:' at the top")
    return document
