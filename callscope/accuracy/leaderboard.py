"""`callscope leaderboard`: configurations ranked by pooled WER over the same recordings.

Only configurations scored on every recording in scope are ranked (a WER over other files is no
comparison); the others are listed with how many they cover, and `--update DIR` scores what they
miss. Pooled WER is the sum of errors over the sum of reference words (as NIST sclite).
"""

from __future__ import annotations

from dataclasses import dataclass

from callscope.accuracy.lab import ConfigRow, Lab, ResultRow
from callscope.evaluation.words import WordErrors

FileKey = tuple[str, str]  # (audio SHA-256, reference SHA-256)
_NOTHING = WordErrors(0, 0, 0, 0, 0)


@dataclass(frozen=True)
class Standing:
    config: ConfigRow
    pooled: WordErrors
    pooled_cpwer: WordErrors | None  # over the files whose reference names speakers; None if none does
    per_file: dict[str, float | None]  # file name → WER
    seconds: float  # transcription time summed over the files


@dataclass(frozen=True)
class Leaderboard:
    files: dict[FileKey, str]  # the recordings in scope → their names
    ranked: list[Standing]  # best (lowest pooled WER) first
    incomplete: list[tuple[ConfigRow, int]]  # configurations missing some files, with how many they cover


def build_leaderboard(lab: Lab, scope: set[FileKey] | None = None) -> Leaderboard:
    """Over `scope` (all recordings any configuration was scored on, when None)."""
    results = lab.results()
    by_config: dict[str, dict[FileKey, ResultRow]] = {}
    names: dict[FileKey, str] = {}
    for row in results:
        key = (row.audio_sha256, row.reference_sha256)
        if scope is None or key in scope:
            by_config.setdefault(row.config_id, {})[key] = row
            names[key] = row.file
    files = set(scope) if scope is not None else set(names)
    ranked, incomplete = [], []
    for config in lab.configs():
        rows = by_config.get(config.id, {})
        if files and files <= set(rows):
            ranked.append(_standing(config, [rows[key] for key in files]))
        else:
            incomplete.append((config, len(set(rows) & files)))
    ranked.sort(key=lambda standing: (_rate(standing.pooled), standing.seconds))
    return Leaderboard({key: names.get(key, key[0][:12]) for key in files}, ranked, incomplete)


def verdict(board: Leaderboard, config_id: str) -> str:
    """A plain sentence: is this configuration the best on these recordings, and by how much?"""
    place = next((index for index, standing in enumerate(board.ranked) if standing.config.id == config_id), None)
    if place is None:
        return "not ranked: it has not been scored on every recording in scope"
    mine = board.ranked[place]
    others = [standing for standing in board.ranked if standing.config.id != config_id]
    if not others:
        return f"WER {_percent(mine.pooled)}: the only configuration scored on these recordings so far"
    best_other = others[0]
    if place == 0 and _rate(mine.pooled) < _rate(best_other.pooled):
        return (f"WER {_percent(mine.pooled)}: better than every past configuration (the best before, "
                f"{best_other.config.label}, has {_percent(best_other.pooled)})")
    return (f"WER {_percent(mine.pooled)}: NOT better than {best_other.config.label} "
            f"({_percent(best_other.pooled)}) on the same {len(board.files)} recording(s)")


def _standing(config: ConfigRow, rows: list[ResultRow]) -> Standing:
    cp_rows = [row.cpwer for row in rows if row.cpwer is not None]
    return Standing(config, sum((row.wer for row in rows), _NOTHING),
                    sum(cp_rows, _NOTHING) if cp_rows else None,
                    {row.file: row.wer.rate for row in sorted(rows, key=lambda row: row.file)},
                    sum(row.seconds for row in rows))


def _rate(errors: WordErrors) -> float:
    return errors.rate if errors.rate is not None else float("inf")


def _percent(errors: WordErrors) -> str:
    return "n/a" if errors.rate is None else f"{errors.rate:.2%}"
