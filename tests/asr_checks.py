"""What a test of the model path may say about words.

tiny.en's words for one recording differ a little between processors (CTranslate2 and ONNX Runtime
pick other kernels), so such a test asks how close the words are to a reference (WER under a
generous bound), never which exact words came out. Tests of text rules read fixed words instead
(conftest.FROZEN).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from callscope.evaluation.words import ReferenceSegment, score_transcript
from callscope.model import Role

# faster-whisper's jfk.flac, exact (../shared/data/faster_whisper_tests/refs.tsv).
JFK_TEXT = "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country."
# tiny.en gets that clean clip right here; on another processor a word or two may differ.
JFK_WER = 0.15
# stereo_diarization.wav: one utterance per channel (refs.tsv).
LEFT_TEXT = "He began a confused complaint against the wizard, who had vanished behind the curtain on the left."
RIGHT_TEXT = "The horizon seems extremely distant."


def word_error_rate(hypothesis: str, reference: str) -> float:
    """WER of one text against another, both normalised as `callscope eval words` does."""
    score = score_transcript([ReferenceSegment("x", "x", 0.0, 1.0, hypothesis)],
                             [ReferenceSegment("x", "x", 0.0, 1.0, reference)])
    return score.wer.rate


def side_texts(frozen: Path) -> dict[Role, str]:
    """Each role's words in a frozen transcript (conftest.FROZEN), joined in time order."""
    from callscope.inputs.load import load_transcript

    call = load_transcript(frozen)
    roles = {speaker.label: speaker.role for speaker in call.speakers}
    return {role: joined(turn.text for turn in call.turns if roles[turn.speaker] is role)
            for role in (Role.AGENT, Role.CUSTOMER)}


def joined(texts: Iterable[str]) -> str:
    return " ".join(text.strip() for text in texts)
