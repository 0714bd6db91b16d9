"""One recording's score: WER (and speaker-attributed cpWER when the reference names speakers), and
the reference words the system got wrong, with what it wrote instead and where."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from callscope.accuracy.references import LabelledRecording
from callscope.evaluation.words import ReferenceSegment, WordErrors, _libraries, _words, score_transcript

CONTEXT_WORDS = 3  # reference words either side of a miss in its example


@dataclass(frozen=True)
class MissedWord:
    word: str  # the normalised reference word ("comfyui")
    written: str  # as the reference writes it ("ComfyUI"): the form a vocabulary needs
    kind: str  # "substituted" or "deleted"
    heard: str  # what the system wrote in its place ("comfy eye"); "" when it wrote nothing
    context: str  # the reference around it, the word in [brackets]


@dataclass(frozen=True)
class FileScore:
    wer: WordErrors
    cpwer: WordErrors | None  # None when the reference does not say who spoke
    misses: tuple[MissedWord, ...]
    hypothesis: str  # the system's text, as scored (before normalising)


def score_recording(hypothesis: Sequence[ReferenceSegment], recording: LabelledRecording) -> FileScore:
    transcript = score_transcript(hypothesis, recording.reference)
    return FileScore(transcript.wer, transcript.cpwer if recording.has_speakers else None,
                     tuple(missed_words(hypothesis, recording.reference)),
                     " ".join(segment.text.strip() for segment in sorted(hypothesis, key=lambda s: s.start)))


def missed_words(hypothesis: Sequence[ReferenceSegment], reference: Sequence[ReferenceSegment]) -> list[MissedWord]:
    """Reference words substituted or deleted in the word alignment of the normalised texts."""
    normalise, process_words, _ = _libraries()
    ref = " ".join(text for _, text in _words(reference, normalise)).split()
    hyp = " ".join(text for _, text in _words(hypothesis, normalise)).split()
    if not ref:
        return []
    written = _written_forms(reference, normalise)
    alignment = process_words(" ".join(ref), " ".join(hyp)).alignments[0] if hyp else None
    if alignment is None:  # the system wrote nothing: every word deleted
        return [_miss(ref, index, "deleted", "", written) for index in range(len(ref))]
    misses = []
    for position, chunk in enumerate(alignment):
        if chunk.type == "delete":
            misses += [_miss(ref, index, "deleted", "", written)
                       for index in range(chunk.ref_start_idx, chunk.ref_end_idx)]
        elif chunk.type == "substitute":
            # Words inserted right beside a substitution belong to what was heard: "comfy eye" for "comfyui".
            before = alignment[position - 1] if position > 0 else None
            after = alignment[position + 1] if position + 1 < len(alignment) else None
            last = chunk.ref_end_idx - chunk.ref_start_idx - 1
            for offset, index in enumerate(range(chunk.ref_start_idx, chunk.ref_end_idx)):
                start = end = chunk.hyp_start_idx + offset
                end += 1
                if offset == 0 and before is not None and before.type == "insert":
                    start = before.hyp_start_idx
                if offset == last and after is not None and after.type == "insert":
                    end = after.hyp_end_idx
                misses.append(_miss(ref, index, "substituted", " ".join(hyp[start:end]), written))
    return misses


def _miss(ref: list[str], index: int, kind: str, heard: str, written: dict[str, str]) -> MissedWord:
    before = ref[max(index - CONTEXT_WORDS, 0):index]
    after = ref[index + 1:index + 1 + CONTEXT_WORDS]
    return MissedWord(ref[index], written.get(ref[index], ref[index]), kind, heard,
                      " ".join([*before, f"[{ref[index]}]", *after]))


def _written_forms(reference: Sequence[ReferenceSegment], normalise) -> dict[str, str]:
    """normalised word → the reference's own spelling of it, where one token normalises to one word."""
    forms: dict[str, str] = {}
    for segment in reference:
        for token in segment.text.split():
            bare = re.sub(r"^[^\w]+|[^\w]+$", "", token)
            normalised = normalise(bare).split()
            if len(normalised) == 1 and bare:
                forms.setdefault(normalised[0], bare)
    return forms
