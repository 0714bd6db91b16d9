"""The accuracy lab's durable record (SQLite): configurations, their score on each recording, and the
words they missed. A result is keyed by configuration, audio (SHA-256) and reference (SHA-256), so a
re-run scores only what is missing, and a corrected reference is scored anew."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from callscope.accuracy.scoring import FileScore, MissedWord
from callscope.accuracy.systems import AsrSettings
from callscope.errors import CallscopeError
from callscope.evaluation.words import WordErrors
from callscope.transcription.vocabulary import Vocabulary, VocabularyEntry

DEFAULT_LAB = "callscope-accuracy.db"
BUSY_TIMEOUT_S = 60.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS configs (
    id TEXT PRIMARY KEY, engine TEXT NOT NULL, model TEXT NOT NULL, settings TEXT NOT NULL,
    label TEXT NOT NULL, created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS results (
    config_id TEXT NOT NULL REFERENCES configs (id), audio_sha256 TEXT NOT NULL, reference_sha256 TEXT NOT NULL,
    file TEXT NOT NULL, audio_path TEXT NOT NULL, reference_path TEXT NOT NULL, hypothesis TEXT NOT NULL,
    reference_words INTEGER NOT NULL, errors INTEGER NOT NULL, substitutions INTEGER NOT NULL,
    deletions INTEGER NOT NULL, insertions INTEGER NOT NULL,
    cp_errors INTEGER, cp_reference_words INTEGER, seconds REAL NOT NULL, created TEXT NOT NULL,
    PRIMARY KEY (config_id, audio_sha256, reference_sha256)
);
CREATE TABLE IF NOT EXISTS misses (
    config_id TEXT NOT NULL, audio_sha256 TEXT NOT NULL, reference_sha256 TEXT NOT NULL,
    word TEXT NOT NULL, written TEXT NOT NULL, kind TEXT NOT NULL, heard TEXT NOT NULL, context TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS misses_result ON misses (config_id, audio_sha256, reference_sha256);
CREATE INDEX IF NOT EXISTS misses_word ON misses (word);
CREATE TABLE IF NOT EXISTS vocabularies (key TEXT PRIMARY KEY, name TEXT NOT NULL, entries TEXT NOT NULL);
"""


class LabError(CallscopeError):
    """The lab's file cannot be used."""


@dataclass(frozen=True)
class ConfigRow:
    id: str
    settings: AsrSettings
    label: str
    created: str


@dataclass(frozen=True)
class ResultRow:
    config_id: str
    audio_sha256: str
    reference_sha256: str
    file: str
    wer: WordErrors
    cpwer: WordErrors | None
    hypothesis: str
    seconds: float


class Lab:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self._db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S)
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as error:
            raise LabError(f"{self.path}: cannot open the accuracy lab: {error}") from None

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Lab:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # --- configurations -------------------------------------------------------------------------

    def add_config(self, settings: AsrSettings, vocabulary: Vocabulary | None = None) -> str:
        """The configuration's id; its vocabulary is kept too, so `leaderboard --update` can run it again."""
        config_id = settings.fingerprint()
        with self._db:
            if vocabulary is not None and settings.settings.get("vocabulary"):
                self._db.execute("INSERT OR IGNORE INTO vocabularies VALUES (?, ?, ?)",
                                 (settings.settings["vocabulary"], vocabulary.name,
                                  json.dumps([asdict(entry) for entry in vocabulary.entries])))
            self._db.execute("INSERT OR IGNORE INTO configs VALUES (?, ?, ?, ?, ?, ?)",
                             (config_id, settings.engine, settings.model, json.dumps(settings.settings, sort_keys=True),
                              settings.label(), _now()))
        return config_id

    def configs(self) -> list[ConfigRow]:
        rows = self._db.execute("SELECT id, engine, model, settings, label, created FROM configs ORDER BY created")
        return [ConfigRow(id, AsrSettings(engine, model, json.loads(settings)), label, created)
                for id, engine, model, settings, label, created in rows]

    def vocabulary(self, key: str) -> Vocabulary | None:
        row = self._db.execute("SELECT name, entries FROM vocabularies WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        entries = tuple(VocabularyEntry(item["display_as"], tuple(tuple(words) for words in item["spoken"]),
                                        item["ipa"])
                        for item in json.loads(row[1]))
        return Vocabulary(entries, name=row[0])

    def config(self, config_id: str) -> ConfigRow | None:
        return next((row for row in self.configs() if row.id == config_id or row.id.startswith(config_id)), None)

    # --- results --------------------------------------------------------------------------------

    def has_result(self, config_id: str, audio_sha256: str, reference_sha256: str) -> bool:
        return self._db.execute("SELECT 1 FROM results WHERE config_id = ? AND audio_sha256 = ? "
                                "AND reference_sha256 = ?",
                                (config_id, audio_sha256, reference_sha256)).fetchone() is not None

    def record(self, config_id: str, audio_sha256: str, reference_sha256: str, file: str, audio_path: str,
               reference_path: str, score: FileScore, seconds: float) -> None:
        key = (config_id, audio_sha256, reference_sha256)
        cp = score.cpwer
        with self._db:
            self._db.execute("DELETE FROM misses WHERE config_id = ? AND audio_sha256 = ? AND reference_sha256 = ?",
                             key)
            self._db.execute(
                "INSERT OR REPLACE INTO results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*key, file, audio_path, reference_path, score.hypothesis, score.wer.reference_words, score.wer.errors,
                 score.wer.substitutions, score.wer.deletions, score.wer.insertions,
                 cp.errors if cp else None, cp.reference_words if cp else None, seconds, _now()))
            self._db.executemany("INSERT INTO misses VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                                 [(*key, m.word, m.written, m.kind, m.heard, m.context) for m in score.misses])

    def results(self, config_id: str | None = None) -> list[ResultRow]:
        sql = ("SELECT config_id, audio_sha256, reference_sha256, file, reference_words, errors, substitutions,"
               " deletions, insertions, cp_errors, cp_reference_words, hypothesis, seconds FROM results")
        rows = self._db.execute(sql + (" WHERE config_id = ?" if config_id else "") + " ORDER BY file",
                                (config_id,) if config_id else ())
        return [ResultRow(config, audio, reference, file, WordErrors(errors, words, subs, dels, ins),
                          WordErrors(cp_errors, cp_words, 0, 0, 0) if cp_errors is not None else None, hypothesis,
                          seconds)
                for (config, audio, reference, file, words, errors, subs, dels, ins, cp_errors, cp_words, hypothesis,
                     seconds) in rows]

    def misses(self, config_ids: list[str] | None = None,
               files: set[tuple[str, str]] | None = None) -> list[tuple[str, MissedWord]]:
        """(file, miss) for the given configurations (all when None), on the given (audio, reference) keys."""
        sql = ("SELECT r.file, m.audio_sha256, m.reference_sha256, m.word, m.written, m.kind, m.heard, m.context "
               "FROM misses m JOIN results r USING (config_id, audio_sha256, reference_sha256)")
        params: list[str] = []
        if config_ids:
            sql += f" WHERE m.config_id IN ({', '.join('?' * len(config_ids))})"
            params = list(config_ids)
        return [(file, MissedWord(word, written, kind, heard, context))
                for file, audio, reference, word, written, kind, heard, context in self._db.execute(sql, params)
                if files is None or (audio, reference) in files]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
