"""Word error rates of a transcript against a reference: WER, and speaker-attributed cpWER.

WER ignores who spoke: both sides' words in time order, aligned once. cpWER (concatenated
minimum-permutation WER, CHiME-6; computed by meeteval) concatenates each speaker's words,
maps hypothesis speakers one-to-one onto reference speakers with the fewest errors, and counts
errors under that mapping, so a word given to the wrong speaker is an error there. Both sides are
normalised first (Whisper's EnglishTextNormalizer: case, punctuation, spelled-out numbers).

    >>> from callscope.evaluation.words import evaluate_words
    >>> evaluate_words("out/sample.json", "sample.stm").pooled_cpwer.rate   # doctest: +SKIP
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, astuple, dataclass
from functools import lru_cache
from pathlib import Path

from callscope.errors import CallscopeError
from callscope.evaluation.diarization import _pair
from callscope.evaluation.rttm import EvaluationInputError, _is_comment, _lines, _seconds
from callscope.model import Conversation

# NIST's marker for a region not to score; its "words" are not words.
_NOT_SCORED = "ignore_time_segment_in_scoring"


@dataclass(frozen=True)
class ReferenceSegment:
    """A stretch of one speaker's words, from a reference (STM) or a hypothesis (PCA JSON)."""

    session: str
    speaker: str
    start: float
    end: float
    text: str


@dataclass(frozen=True)
class WordErrors:
    """Word errors against `reference_words` normalised reference words; `rate` is a fraction."""

    errors: int
    reference_words: int
    substitutions: int
    deletions: int
    insertions: int

    @property
    def rate(self) -> float | None:
        return self.errors / self.reference_words if self.reference_words else None  # None: nothing to miss

    def __add__(self, other: WordErrors) -> WordErrors:  # pooling: sums of counts, as NIST sclite
        return WordErrors(*(a + b for a, b in zip(astuple(self), astuple(other))))

    def to_dict(self) -> dict:
        return {**asdict(self), "rate": self.rate}


@dataclass(frozen=True)
class TranscriptScore:
    """WER and cpWER of one transcript. `speaker_assignment` pairs (hypothesis, reference) speakers."""

    wer: WordErrors
    cpwer: WordErrors
    speaker_assignment: tuple[tuple[str, str], ...]
    missed_speakers: tuple[str, ...]  # reference speakers no hypothesis speaker maps to
    false_alarm_speakers: tuple[str, ...]  # hypothesis speakers left over

    def to_dict(self) -> dict:
        return {"wer": self.wer.to_dict(), "cpwer": self.cpwer.to_dict(),
                "speaker_assignment": [{"hypothesis": h, "reference": r} for h, r in self.speaker_assignment],
                "missed_speakers": list(self.missed_speakers), "false_alarm_speakers": list(self.false_alarm_speakers)}


# --- reading -------------------------------------------------------------------------------

def read_stm(path: str | Path) -> list[ReferenceSegment]:
    """Segments of a NIST STM file: `session channel speaker start end [<label>] text...` a line."""
    path = Path(path)
    segments = []
    for number, line in enumerate(_lines(path), start=1):
        if _is_comment(line):
            continue
        fields = line.split()
        if len(fields) < 5:
            raise EvaluationInputError(
                path, f"STM line has {len(fields)} fields, expected at least 5 "
                "(session channel speaker start end [<label>] text...)", number)
        session, _channel, speaker = fields[:3]
        start = _seconds(path, number, "start", fields[3])
        end = _seconds(path, number, "end", fields[4])
        if end < start:
            raise EvaluationInputError(path, f"end {fields[4]} is before start {fields[3]}", number)
        words = fields[5:]
        if words and words[0].startswith("<") and words[0].endswith(">"):
            words = words[1:]  # the optional <o,f0,male> label
        text = " ".join(words)
        if text.lower() == _NOT_SCORED or speaker.lower() == "excluded_region":
            continue
        segments.append(ReferenceSegment(session, speaker, start, end, text))
    return segments


def read_pca_hypothesis(path: str | Path) -> list[ReferenceSegment]:
    """The SpeechSegments of a PCA JSON document (callscope's `<name>.json`); session is the file stem."""
    path = Path(path)
    try:
        document = json.loads("\n".join(_lines(path)))
    except ValueError as error:
        raise EvaluationInputError(path, f"not JSON: {error}") from None
    items = document.get("SpeechSegments") if isinstance(document, dict) else None
    if not isinstance(items, list):
        raise EvaluationInputError(path, "not a PCA document: no SpeechSegments list")
    segments = []
    for index, item in enumerate(items):
        where = f"SpeechSegments[{index}]"
        # OriginalText is the recogniser's; DisplayText may have been edited.
        text = item.get("OriginalText", item.get("DisplayText")) if isinstance(item, dict) else None
        if not isinstance(text, str):
            raise EvaluationInputError(path, f"{where}: no OriginalText or DisplayText string")
        try:
            segments.append(ReferenceSegment(path.stem, str(item["SegmentSpeaker"]),
                                             float(item["SegmentStartTime"]), float(item["SegmentEndTime"]), text))
        except KeyError as error:
            raise EvaluationInputError(path, f"{where}: no {error}") from None
        except (TypeError, ValueError) as error:
            raise EvaluationInputError(path, f"{where}: a time is not a number ({error})") from None
    return segments


def segments_from_conversation(conversation: Conversation) -> list[ReferenceSegment]:
    """The turns of an analysed call, as PCA JSON would carry them."""
    session = Path(conversation.source.path).stem
    return [ReferenceSegment(session, turn.speaker, turn.start, turn.end, turn.text) for turn in conversation.turns]


# --- scoring -------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _libraries() -> tuple[Callable[[str], str], Callable, Callable]:
    """(normaliser, jiwer.process_words, meeteval cp_word_error_rate), imported once on first use."""
    try:
        import jiwer
        from meeteval.wer.wer.cp import cp_word_error_rate
        from whisper_normalizer.english import EnglishTextNormalizer
    except ImportError as error:
        raise CallscopeError(f"{error.name or error} is not installed: pip install 'callscope[eval]'") from None
    return EnglishTextNormalizer(), jiwer.process_words, cp_word_error_rate


def _words(segments: Sequence[ReferenceSegment], normalise: Callable[[str], str]) -> list[tuple[str, str]]:
    """(speaker, normalised text) in time order, segments without words left out."""
    ordered = sorted(segments, key=lambda segment: (segment.start, segment.end))
    return [(segment.speaker, text) for segment in ordered if (text := " ".join(normalise(segment.text).split()))]


def score_transcript(hypothesis: Sequence[ReferenceSegment], reference: Sequence[ReferenceSegment]) -> TranscriptScore:
    """WER and cpWER of `hypothesis` against `reference`, after normalising both."""
    normalise, process_words, cp_word_error_rate = _libraries()
    hyp, ref = _words(hypothesis, normalise), _words(reference, normalise)
    hyp_text, ref_text = " ".join(text for _, text in hyp), " ".join(text for _, text in ref)
    if ref_text:
        output = process_words(ref_text, hyp_text)
        wer = WordErrors(output.substitutions + output.deletions + output.insertions,
                         len(ref_text.split()), output.substitutions, output.deletions, output.insertions)
    else:  # jiwer 3 refuses an empty reference: every hypothesis word is inserted
        inserted = len(hyp_text.split())
        wer = WordErrors(inserted, 0, 0, 0, inserted)

    def by_speaker(words: list[tuple[str, str]]) -> dict[str, str]:
        return {speaker: " ".join(text for who, text in words if who == speaker) for speaker in dict(words)}

    # Our own time order per speaker: with sort=False meeteval keeps it (and does not warn).
    cp = cp_word_error_rate(by_speaker(ref), by_speaker(hyp), reference_sort=False, hypothesis_sort=False)
    cpwer = WordErrors(cp.errors, cp.length, cp.substitutions, cp.deletions, cp.insertions)
    pairs = [(h, r) for r, h in cp.assignment]  # meeteval's pairs are (reference, hypothesis)
    return TranscriptScore(wer, cpwer, tuple(sorted((h, r) for h, r in pairs if h is not None and r is not None)),
                           missed_speakers=tuple(sorted(r for h, r in pairs if h is None)),
                           false_alarm_speakers=tuple(sorted(h for h, r in pairs if r is None)))


# --- files and folders ---------------------------------------------------------------------

@dataclass(frozen=True)
class TranscriptEntry:
    """One session of one file: a hypothesis JSON (session = file stem) or an STM session."""

    file_id: str
    path: str


@dataclass(frozen=True)
class FileWords:
    file_id: str  # the reference session
    hypothesis: TranscriptEntry
    reference: TranscriptEntry
    score: TranscriptScore


@dataclass(frozen=True)
class WordsReport:
    """Per-file and pooled scores (sums of errors over sums of reference words); unpaired files listed."""

    files: tuple[FileWords, ...]
    pooled_wer: WordErrors
    pooled_cpwer: WordErrors
    unmatched_hypotheses: tuple[TranscriptEntry, ...]
    unmatched_references: tuple[TranscriptEntry, ...]

    def to_dict(self) -> dict:
        return {
            "rates": "fractions of normalised reference words (0.1 = 10%); null where there are none",
            "files": [{"file_id": item.file_id, "hypothesis": item.hypothesis.path,
                       "reference": item.reference.path, **item.score.to_dict()} for item in self.files],
            "pooled": {"files": len(self.files), "wer": self.pooled_wer.to_dict(),
                       "cpwer": self.pooled_cpwer.to_dict()},
            "unmatched": {"hypothesis": [asdict(entry) for entry in self.unmatched_hypotheses],
                          "reference": [asdict(entry) for entry in self.unmatched_references]},
        }


@dataclass(frozen=True)
class _Loaded:
    """The shape diarization's `_pair` pairs: entry.file_id, then stem (path under the folder)."""

    entry: TranscriptEntry
    segments: tuple[ReferenceSegment, ...]
    stem: str


def _load(path: Path, root: Path | None) -> list[_Loaded]:
    stem = (path.relative_to(root) if root else Path(path.name)).with_suffix("").as_posix()
    if path.suffix.lower() != ".stm":
        return [_Loaded(TranscriptEntry(path.stem, str(path)), tuple(read_pca_hypothesis(path)), stem)]
    sessions: dict[str, list[ReferenceSegment]] = {}
    for segment in read_stm(path):
        sessions.setdefault(segment.session, []).append(segment)
    if not sessions:  # nothing said: the session is the file name, as callscope names its outputs
        sessions[path.stem] = []
    return [_Loaded(TranscriptEntry(session, str(path)), tuple(items), stem) for session, items in sessions.items()]


def _load_side(path: Path, what: str, suffixes: tuple[str, ...]) -> list[_Loaded]:
    if not path.exists():
        raise EvaluationInputError(path, f"{what}: no such file or folder")
    if not path.is_dir():
        return _load(path, None)
    files = sorted(item for item in path.rglob("*") if item.suffix.lower() in suffixes and item.is_file()
                   and not any(part.startswith(".") for part in item.relative_to(path).parts))  # .callscope/
    if not files:
        raise EvaluationInputError(path, f"{what}: no {' or '.join(suffixes)} files in this folder")
    loaded = [item for file in files for item in _load(file, path)]
    seen: dict[str, str] = {}
    for item in loaded:
        if seen.setdefault(item.entry.file_id, item.entry.path) != item.entry.path:
            raise EvaluationInputError(
                item.entry.path, f"{what}: session '{item.entry.file_id}' is also in {seen[item.entry.file_id]}")
    return loaded


def evaluate_words(hypothesis: str | Path, reference: str | Path) -> WordsReport:
    """Score hypothesis PCA JSON (or STM) against reference STM: two files, or two folders.

    Pairs by session (JSON file stem = STM session id), then by path under the folder without
    its extension; two single files are paired whatever their names. Raises
    EvaluationInputError on a missing path, a malformed file or when nothing pairs up.
    """
    hypothesis, reference = Path(hypothesis), Path(reference)
    if hypothesis.exists() and reference.exists() and hypothesis.is_dir() != reference.is_dir():
        raise EvaluationInputError(hypothesis, f"is a {'folder' if hypothesis.is_dir() else 'file'} but the "
                                   f"reference {reference} is not: give two files or two folders")
    hypotheses = _load_side(hypothesis, "hypothesis", (".json", ".stm"))
    references = _load_side(reference, "reference", (".stm",))
    pairs, left_hyps, left_refs = _pair(hypotheses, references, single=not hypothesis.is_dir())
    if not pairs:
        raise EvaluationInputError(hypothesis, f"no hypothesis file name matches a session or file in {reference}")
    files = [FileWords(ref.entry.file_id, hyp.entry, ref.entry, score_transcript(hyp.segments, ref.segments))
             for hyp, ref in pairs]
    nothing = WordErrors(0, 0, 0, 0, 0)
    return WordsReport(tuple(files), sum((item.score.wer for item in files), nothing),
                       sum((item.score.cpwer for item in files), nothing),
                       tuple(item.entry for item in left_hyps), tuple(item.entry for item in left_refs))
