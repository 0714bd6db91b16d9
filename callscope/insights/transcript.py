"""The transcript a model reads, and how a long one is cut into parts that fit its context.

One line per turn, "Agent: ..." / "Customer: ...", from `Turn.analysis_text`: the English
translation where a turn has one, and the redacted text when redaction ran (it rewrites the turns
in place before anything else sees them).
"""

from __future__ import annotations

from callscope.model import Conversation

CHARS_PER_TOKEN = 4  # a rough, tokenizer-free estimate; English averages about 4 characters a token


def estimate_tokens(text: str) -> int:
    return -(-len(text) // CHARS_PER_TOKEN)


def speaker_names(conversation: Conversation) -> dict[str, str]:
    """Speaker label -> the name lines start with; speakers sharing a name get a number."""
    names = {speaker.label: speaker.display_text for speaker in conversation.speakers}
    repeated = {name for name in names.values() if list(names.values()).count(name) > 1}
    counts: dict[str, int] = {}
    for label, name in names.items():
        if name in repeated:
            counts[name] = counts.get(name, 0) + 1
            names[label] = f"{name} {counts[name]}"
    return names


def transcript_lines(conversation: Conversation) -> list[str]:
    names = speaker_names(conversation)
    lines = []
    for turn in conversation.turns:
        text = " ".join(turn.analysis_text.split())
        if text:
            lines.append(f"{names.get(turn.speaker, turn.speaker)}: {text}")
    return lines


def chunk_lines(lines: list[str], budget_tokens: int) -> list[list[str]]:
    """Consecutive lines grouped into parts of at most `budget_tokens` (estimated) each, cut only
    between lines; a single line over the budget is cut between words, its pieces keeping the
    speaker prefix. Every line's text appears once, in order."""
    if budget_tokens < 1:
        raise ValueError("budget_tokens must be positive")
    chunks: list[list[str]] = []
    current: list[str] = []
    used = 0
    for line in lines:
        for piece in _pieces(line, budget_tokens):
            cost = estimate_tokens(piece) + (1 if current else 0)  # the newline joining it
            if current and used + cost > budget_tokens:
                chunks.append(current)
                current, used = [], 0
                cost = estimate_tokens(piece)
            current.append(piece)
            used += cost
    if current:
        chunks.append(current)
    return chunks


def _pieces(line: str, budget_tokens: int) -> list[str]:
    if estimate_tokens(line) <= budget_tokens:
        return [line]
    prefix, separator, text = line.partition(": ")
    prefix = prefix + separator if separator else ""
    limit = budget_tokens * CHARS_PER_TOKEN - len(prefix)
    if limit < 16:  # no room for a prefix: cut the bare line
        prefix, text, limit = "", line, budget_tokens * CHARS_PER_TOKEN
    pieces: list[str] = []
    current = ""
    for word in text.split():
        while len(word) > limit:  # a "word" longer than a whole part (a URL, a run of digits)
            if current:
                pieces.append(current)
                current = ""
            pieces.append(word[:limit])
            word = word[limit:]
        candidate = f"{current} {word}" if current else word
        if len(candidate) > limit:
            pieces.append(current)
            current = word
        else:
            current = candidate
    if current:
        pieces.append(current)
    return [prefix + piece for piece in pieces]
