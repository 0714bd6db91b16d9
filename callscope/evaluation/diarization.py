"""Diarization scores of hypothesis RTTM files against reference RTTM files (pyannote.metrics).

DER (diarization error rate) is missed speech + false alarm + speaker confusion, over the
reference speech, after the optimal (Hungarian) one-to-one mapping of hypothesis speakers to
reference speakers; overlapped speech is scored (`skip_overlap=False`). JER is the Jaccard error
rate of DIHARD II: the mean over reference speakers of 1 - |ref ∩ hyp| / |ref ∪ hyp|.

Collars follow pyannote.metrics: `collar=0.25` is the *total* width of the region not scored
around every reference boundary, i.e. ±0.125 s (md-eval's `-c 0.125`).

    >>> from callscope.evaluation.diarization import evaluate_rttm
    >>> report = evaluate_rttm("hyp/", "ref/")          # doctest: +SKIP
    >>> report.pooled_at(0.25).der                      # doctest: +SKIP
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from pyannote.core import Annotation, Timeline
from pyannote.metrics.diarization import DiarizationErrorRate, JaccardErrorRate

from callscope.evaluation.rttm import EvaluationInputError, read_rttm, read_uem

DEFAULT_COLLARS: tuple[float, ...] = (0.0, 0.25)

COLLAR_MEANING = (
    "pyannote.metrics' collar: the total width in seconds of the region left out of scoring around "
    "every reference segment boundary, so 0.25 is ±0.125 s (md-eval -c 0.125)"
)

_MISS, _FALSE_ALARM, _CONFUSION, _TOTAL = "missed detection", "false alarm", "confusion", "total"
_JER_ERROR, _JER_COUNT = "speaker error", "speaker count"


@dataclass(frozen=True)
class DiarizationScore:
    """Scores at one collar. Rates are fractions of the scored reference speech (0.1 = 10 %).

    The rates are None where the reference has no scored speech (a rate of nothing); the
    durations are always there. Reference speech counts overlapped speech once per speaker.
    """

    collar: float
    der: float | None
    miss: float | None
    false_alarm: float | None
    confusion: float | None
    jer: float | None
    reference_speech_secs: float
    miss_secs: float
    false_alarm_secs: float
    confusion_secs: float

    @classmethod
    def from_components(cls, collar: float, der: dict, jer: dict) -> DiarizationScore:
        total = der[_TOTAL]

        def rate(seconds: float) -> float | None:
            return seconds / total if total > 0 else None

        return cls(
            collar=collar,
            der=rate(der[_MISS] + der[_FALSE_ALARM] + der[_CONFUSION]),
            miss=rate(der[_MISS]),
            false_alarm=rate(der[_FALSE_ALARM]),
            confusion=rate(der[_CONFUSION]),
            jer=jer[_JER_ERROR] / jer[_JER_COUNT] if jer[_JER_COUNT] > 0 else None,
            reference_speech_secs=total,
            miss_secs=der[_MISS],
            false_alarm_secs=der[_FALSE_ALARM],
            confusion_secs=der[_CONFUSION],
        )

    def to_dict(self) -> dict:
        return asdict(self)


def _at(scores: tuple[DiarizationScore, ...], collar: float) -> DiarizationScore:
    for score in scores:
        if abs(score.collar - collar) < 1e-9:
            return score
    raise KeyError(f"no score at collar {collar}")


class DiarizationScorer:
    """Scores file after file at several collars, and pools them (sums of durations, as md-eval).

    Pooled DER is total error time over total reference speech; pooled JER is pyannote's: the
    mean over every reference speaker of every file.
    """

    def __init__(self, collars: Iterable[float] = DEFAULT_COLLARS) -> None:
        self.collars = tuple(float(collar) for collar in collars)
        self._der = {collar: DiarizationErrorRate(collar=collar, skip_overlap=False) for collar in self.collars}
        self._jer = {collar: JaccardErrorRate(collar=collar, skip_overlap=False) for collar in self.collars}

    def add(self, reference: Annotation, hypothesis: Annotation, uem: Timeline | None = None,
            ) -> tuple[DiarizationScore, ...]:
        """Score one file; without `uem`, the scored time spans the reference and hypothesis."""
        scores = []
        with warnings.catch_warnings():
            # Without a UEM, pyannote warns on every call that it used the extents instead.
            warnings.filterwarnings("ignore", message=".*'uem' was approximated.*")
            for collar in self.collars:
                der = self._der[collar](reference, hypothesis, uem=uem, detailed=True)
                jer = self._jer[collar](reference, hypothesis, uem=uem, detailed=True)
                scores.append(DiarizationScore.from_components(collar, der, jer))
        return tuple(scores)

    def pooled(self) -> tuple[DiarizationScore, ...]:
        return tuple(
            DiarizationScore.from_components(collar, self._der[collar].accumulated_, self._jer[collar].accumulated_)
            for collar in self.collars
        )


def score_annotations(reference: Annotation, hypothesis: Annotation, uem: Timeline | None = None,
                      collars: Iterable[float] = DEFAULT_COLLARS) -> tuple[DiarizationScore, ...]:
    """Scores of one hypothesis against one reference, one per collar."""
    return DiarizationScorer(collars).add(reference, hypothesis, uem)


@dataclass(frozen=True)
class RTTMEntry:
    """One file-id of one RTTM file."""

    file_id: str
    path: str


@dataclass(frozen=True)
class FileScore:
    file_id: str
    hypothesis: RTTMEntry
    reference: RTTMEntry
    scores: tuple[DiarizationScore, ...]

    def at(self, collar: float) -> DiarizationScore:
        return _at(self.scores, collar)


@dataclass(frozen=True)
class DiarizationReport:
    """Per-file and pooled scores; files found on one side only are listed, not scored."""

    collars: tuple[float, ...]
    files: tuple[FileScore, ...]
    pooled: tuple[DiarizationScore, ...]
    unmatched_hypotheses: tuple[RTTMEntry, ...]
    unmatched_references: tuple[RTTMEntry, ...]

    def pooled_at(self, collar: float) -> DiarizationScore:
        return _at(self.pooled, collar)

    def to_dict(self) -> dict:
        return {
            "collars": list(self.collars),
            "collar_meaning": COLLAR_MEANING,
            "rates": "fractions of scored reference speech (0.1 = 10%); null where there is none",
            "files": [
                {"file_id": item.file_id, "hypothesis": item.hypothesis.path, "reference": item.reference.path,
                 "scores": [score.to_dict() for score in item.scores]}
                for item in self.files
            ],
            "pooled": {"files": len(self.files), "scores": [score.to_dict() for score in self.pooled]},
            "unmatched": {
                "hypothesis": [asdict(entry) for entry in self.unmatched_hypotheses],
                "reference": [asdict(entry) for entry in self.unmatched_references],
            },
        }


# --- pairing files -------------------------------------------------------------------------

@dataclass
class _Loaded:
    entry: RTTMEntry
    annotation: Annotation
    stem: str  # path relative to the folder searched, without .rttm


def _load(path: Path, root: Path | None) -> list[_Loaded]:
    stem = (path.relative_to(root) if root else Path(path.name)).with_suffix("").as_posix()
    annotations = read_rttm(path)
    if not annotations:  # no speech at all: the file-id is the file name, as callscope writes it
        file_id = path.stem.replace(" ", "_")
        annotations = {file_id: Annotation(uri=file_id)}
    return [_Loaded(RTTMEntry(file_id, str(path)), annotation, stem) for file_id, annotation in annotations.items()]


def _load_side(path: Path, what: str) -> list[_Loaded]:
    if not path.exists():
        raise EvaluationInputError(path, f"{what}: no such file or folder")
    if path.is_dir():
        files = sorted(item for item in path.rglob("*") if item.suffix.lower() == ".rttm" and item.is_file())
        if not files:
            raise EvaluationInputError(path, f"{what}: no .rttm files in this folder")
        loaded = [item for file in files for item in _load(file, path)]
    else:
        loaded = _load(path, None)
    seen: dict[str, str] = {}
    for item in loaded:
        if item.entry.file_id in seen and seen[item.entry.file_id] != item.entry.path:
            raise EvaluationInputError(
                item.entry.path, f"{what}: file-id '{item.entry.file_id}' is also in {seen[item.entry.file_id]}")
        seen[item.entry.file_id] = item.entry.path
    return loaded


def _pair(hypotheses: list[_Loaded], references: list[_Loaded], single: bool,
          ) -> tuple[list[tuple[_Loaded, _Loaded]], list[_Loaded], list[_Loaded]]:
    """Pairs by file-id; then, among the rest, by file name; for two single files, the two."""
    by_id = {item.entry.file_id: item for item in hypotheses}
    pairs, left_refs = [], []
    for reference in references:
        hypothesis = by_id.pop(reference.entry.file_id, None)
        if hypothesis is not None:
            pairs.append((hypothesis, reference))
        else:
            left_refs.append(reference)
    left_hyps = list(by_id.values())

    # File-ids that differ (a reference named differently from the audio file): pair files of the
    # same name when each holds one file-id left.
    def one_per_stem(items: list[_Loaded]) -> dict[str, _Loaded]:
        counts: dict[str, int] = {}
        for item in items:
            counts[item.stem] = counts.get(item.stem, 0) + 1
        return {item.stem: item for item in items if counts[item.stem] == 1}

    hyp_stems = one_per_stem(left_hyps)
    for stem, reference in one_per_stem(left_refs).items():
        if stem in hyp_stems:
            hypothesis = hyp_stems.pop(stem)
            pairs.append((hypothesis, reference))
            left_hyps.remove(hypothesis)
            left_refs.remove(reference)
    if single and len(left_hyps) == 1 and len(left_refs) == 1:
        pairs.append((left_hyps.pop(), left_refs.pop()))
    pairs.sort(key=lambda pair: (pair[1].stem, pair[1].entry.file_id))
    return pairs, left_hyps, left_refs


def evaluate_rttm(hypothesis: str | Path, reference: str | Path, uem: str | Path | None = None,
                  collars: Iterable[float] = DEFAULT_COLLARS) -> DiarizationReport:
    """Score hypothesis RTTM against reference RTTM: two files, or two folders (searched recursively).

    Files are paired by RTTM file-id, then by file name (path under the folder, without .rttm);
    two single files are paired whatever their file-ids. `uem` is a UEM file; file-ids it does
    not list are scored over the span of their reference and hypothesis. Raises
    EvaluationInputError on a missing path, a malformed line or when no file pairs up.
    """
    hypothesis, reference = Path(hypothesis), Path(reference)
    hypotheses = _load_side(hypothesis, "hypothesis")
    references = _load_side(reference, "reference")
    if hypothesis.is_dir() != reference.is_dir():
        raise EvaluationInputError(
            hypothesis, f"is a {'folder' if hypothesis.is_dir() else 'file'} but the reference {reference} "
            f"is a {'folder' if reference.is_dir() else 'file'}: give two files or two folders")
    uems = read_uem(uem) if uem is not None else {}
    pairs, left_hyps, left_refs = _pair(hypotheses, references, single=not hypothesis.is_dir())
    if not pairs:
        raise EvaluationInputError(hypothesis, f"no hypothesis file-id or file name matches one in {reference}")
    scorer = DiarizationScorer(collars)
    files = []
    for hyp, ref in pairs:
        scores = scorer.add(ref.annotation, hyp.annotation, uems.get(ref.entry.file_id))
        files.append(FileScore(ref.entry.file_id, hyp.entry, ref.entry, scores))
    return DiarizationReport(
        collars=scorer.collars,
        files=tuple(files),
        pooled=scorer.pooled(),
        unmatched_hypotheses=tuple(item.entry for item in left_hyps),
        unmatched_references=tuple(item.entry for item in left_refs),
    )
