"""Build dev.jsonl and heldout.jsonl from the markup in dev.txt and heldout.txt.

    python bench/data/pii/build.py

Each output line is one turn: {"call", "turn", "speaker", "words", "labels"}; `words` are the turn's
words as Whisper writes them (leading space, punctuation attached), `labels` the PII entities as
inclusive word-index ranges {"type", "first", "last"}. A word is PII when any of its characters is
inside a {TYPE|...} mark.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
TYPES = {
    "NAME": "NAME", "PHONE": "PHONE", "CARD": "CREDIT_DEBIT_NUMBER", "EXP": "CREDIT_DEBIT_EXPIRY",
    "CVV": "CREDIT_DEBIT_CVV", "BANK": "BANK_ACCOUNT_NUMBER", "ROUTING": "BANK_ROUTING", "SSN": "SSN",
    "EMAIL": "EMAIL", "ADDR": "ADDRESS", "DOB": "DATE_OF_BIRTH", "PIN": "PIN",
}
SPEAKERS = {"A": "AGENT", "C": "CUSTOMER"}
_MARK = re.compile(r"\{([A-Z]+)\|([^{}]*)\}")


def parse_turn(markup: str) -> tuple[list[str], list[dict]]:
    """Plain words and labelled entities of one marked-up turn."""
    text, owner, entities = "", [], []
    position = 0
    for match in _MARK.finditer(markup):
        text += markup[position:match.start()]
        owner += [None] * (match.start() - position)
        if match[1] not in TYPES:
            raise ValueError(f"unknown type {match[1]!r} in: {markup}")
        entities.append(TYPES[match[1]])
        text += match[2]
        owner += [len(entities) - 1] * len(match[2])
        position = match.end()
    text += markup[position:]
    owner += [None] * (len(markup) - position)
    if "{" in text or "}" in text:
        raise ValueError(f"unbalanced mark in: {markup}")
    words, word_entity = [], []
    for token in re.finditer(r"\S+", text):
        words.append(" " + token[0])
        marked = {owner[i] for i in range(token.start(), token.end())} - {None}
        if len(marked) > 1:
            raise ValueError(f"two entities in one word {token[0]!r}: {markup}")
        word_entity.append(marked.pop() if marked else None)
    labels = []
    for index, entity in enumerate(word_entity):
        if entity is None:
            continue
        if labels and labels[-1]["_entity"] == entity and labels[-1]["last"] == index - 1:
            labels[-1]["last"] = index
        else:
            labels.append({"type": entities[entity], "first": index, "last": index, "_entity": entity})
    return words, [{key: value for key, value in label.items() if key != "_entity"} for label in labels]


def build(source: Path) -> list[dict]:
    records, call, turn = [], None, 0
    for line in source.read_text(encoding="utf-8").splitlines():
        if line.startswith("# call "):
            call, turn = line.split()[2].rstrip(":"), 0
        if not line.strip() or line.startswith("#"):
            continue
        speaker, markup = line.split("|", 1)
        words, labels = parse_turn(markup)
        records.append({"call": call, "turn": turn, "speaker": SPEAKERS[speaker], "words": words, "labels": labels})
        turn += 1
    return records


def main() -> None:
    for name in ("dev", "heldout"):
        records = build(HERE / f"{name}.txt")
        with open(HERE / f"{name}.jsonl", "w", encoding="utf-8") as stream:
            for record in records:
                stream.write(json.dumps(record, ensure_ascii=False) + "\n")
        entities = sum(len(record["labels"]) for record in records)
        print(f"{name}: {len(records)} turns, {entities} PII entities")


if __name__ == "__main__":
    main()
