"""The SQLite store: one file, WAL, safe for several writer processes (analyze --jobs N).

calls holds one row per call; call_categories and call_entities index the lists so filters use
indexes rather than scanning JSON; call_text is an FTS5 table over the transcript (LIKE where this
SQLite lacks FTS5). Pages are keyset-paginated on (conversation_time, id), newest first.
"""

from __future__ import annotations

import base64
import json
import sqlite3
from dataclasses import astuple
from datetime import datetime
from pathlib import Path
from typing import Any

from callscope.store.base import (
    CallFigures,
    CallRecord,
    Facets,
    SearchPage,
    SearchQuery,
    StoreError,
    TalkFigures,
)
from callscope.store.records import StoredCall, record_from_pca

BUSY_TIMEOUT_S = 60.0  # a writer waits this long for another's transaction before giving up
_NO_TIME = ""  # sorts after every real time in a descending list
_MAX_INTEGER = 2 ** 63 - 1  # SQLite's integers are 64-bit: a larger Python int overflows when bound
_MAX_LIMIT = _MAX_INTEGER - 1  # the query asks for one row more than the page

_SCHEMA = """
CREATE TABLE IF NOT EXISTS calls (
    id INTEGER PRIMARY KEY,
    guid TEXT NOT NULL UNIQUE,
    file TEXT NOT NULL,
    conversation_time TEXT NOT NULL,
    duration REAL NOT NULL,
    language TEXT NOT NULL,
    agent TEXT NOT NULL,
    customer TEXT NOT NULL,
    agent_sentiment REAL,
    customer_sentiment REAL,
    customer_sentiment_change REAL,
    categories TEXT NOT NULL,
    entities TEXT NOT NULL,
    summary TEXT NOT NULL,
    action_items TEXT NOT NULL,
    redacted INTEGER NOT NULL,
    path TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS calls_time ON calls (conversation_time DESC, id DESC);
CREATE INDEX IF NOT EXISTS calls_agent_time ON calls (agent, conversation_time DESC, id DESC);
CREATE INDEX IF NOT EXISTS calls_language_time ON calls (language, conversation_time DESC, id DESC);
CREATE INDEX IF NOT EXISTS calls_customer_sentiment ON calls (customer_sentiment);
CREATE TABLE IF NOT EXISTS call_categories (
    call_id INTEGER NOT NULL REFERENCES calls (id),
    name TEXT NOT NULL,
    PRIMARY KEY (name, call_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS call_categories_call ON call_categories (call_id);
CREATE TABLE IF NOT EXISTS call_entities (
    call_id INTEGER NOT NULL REFERENCES calls (id),
    type TEXT NOT NULL,
    value TEXT NOT NULL COLLATE NOCASE,
    PRIMARY KEY (value, type, call_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS call_entities_type ON call_entities (type, value);
CREATE INDEX IF NOT EXISTS call_entities_call ON call_entities (call_id);
"""
_FTS = "CREATE VIRTUAL TABLE IF NOT EXISTS call_text USING fts5 (text)"
_PLAIN_TEXT = "CREATE TABLE IF NOT EXISTS call_text (rowid INTEGER PRIMARY KEY, text TEXT NOT NULL)"
# The talk figures (TalkFigures, in this order): NULL in rows stored before they were kept.
_TALK_COLUMNS = {"agent_talk": "REAL", "customer_talk": "REAL", "non_talk": "REAL", "interruptions": "INTEGER",
                 "agent_interruptions": "INTEGER", "interruption_time": "REAL"}
_COLUMNS = ("guid, file, conversation_time, duration, language, agent, customer, agent_sentiment, customer_sentiment,"
            " customer_sentiment_change, categories, entities, summary, action_items, redacted, path, "
            + ", ".join(_TALK_COLUMNS))
_PLACEHOLDERS = ", ".join("?" for _ in _COLUMNS.split(", "))
_FIGURE_COLUMNS = ", ".join("c." + name for name in (
    "guid", "conversation_time", "duration", "language", "agent", "customer", "agent_sentiment", "customer_sentiment",
    "customer_sentiment_change", "categories", *_TALK_COLUMNS))


def fts5_available() -> bool:
    try:
        sqlite3.connect(":memory:").execute("CREATE VIRTUAL TABLE probe USING fts5 (x)")
        return True
    except sqlite3.OperationalError:
        return False


class SqliteStore:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.location = str(path)
        # isolation_level=None: transactions are begun explicitly, as BEGIN IMMEDIATE for writes, so
        # two writers never both hold a read lock and then deadlock upgrading it.
        self._db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        self._db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        self._db.execute("PRAGMA journal_mode = WAL")  # readers never block the writer, nor it them
        self._db.execute("PRAGMA synchronous = NORMAL")  # safe with WAL; one fsync per checkpoint
        with self._write():
            for statement in _statements(_SCHEMA):  # executescript would COMMIT our transaction
                self._db.execute(statement)
            self._db.execute(_FTS if fts5_available() else _PLAIN_TEXT)
            self._add_talk_columns()
        self.full_text = self._has_fts()

    def close(self) -> None:
        self._db.close()

    def _add_talk_columns(self) -> None:
        """The talk figures' columns, added to the calls table of a store made before they were kept
        (NULL there until its calls are loaded again)."""
        present = {row[1] for row in self._db.execute("PRAGMA table_info(calls)")}
        for name, kind in _TALK_COLUMNS.items():
            if name not in present:
                self._db.execute(f"ALTER TABLE calls ADD COLUMN {name} {kind}")

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # --- writing --------------------------------------------------------------------------------

    def put(self, document: dict[str, Any], path: str) -> CallRecord:
        stored = record_from_pca(document, path)
        self.put_call(stored)
        return stored.record

    def put_call(self, stored: StoredCall) -> None:
        try:
            self._put_call(stored)
        except sqlite3.Error as error:  # locked past the busy timeout, disk full, read-only file, ...
            raise StoreError(f"{self.path}: cannot store call {stored.record.guid}: {error}") from None

    def _put_call(self, stored: StoredCall) -> None:
        record = stored.record
        with self._write():
            old = self._db.execute("SELECT id FROM calls WHERE guid = ?", (record.guid,)).fetchone()
            if old:  # re-loading a call replaces it and its index rows
                for table, key in (("call_categories", "call_id"), ("call_entities", "call_id"),
                                   ("call_text", "rowid"), ("calls", "id")):
                    self._db.execute(f"DELETE FROM {table} WHERE {key} = ?", (old[0],))
            call_id = self._db.execute(
                f"INSERT INTO calls ({_COLUMNS}) VALUES ({_PLACEHOLDERS})", _row(record)).lastrowid
            self._db.executemany("INSERT OR IGNORE INTO call_categories VALUES (?, ?)",
                                 [(call_id, name) for name in record.categories])
            self._db.executemany("INSERT OR IGNORE INTO call_entities VALUES (?, ?, ?)",
                                 [(call_id, kind, value) for kind, values in record.entities.items()
                                  for value in values])
            self._db.execute("INSERT INTO call_text (rowid, text) VALUES (?, ?)", (call_id, stored.transcript))

    # --- reading --------------------------------------------------------------------------------

    def get(self, guid: str) -> CallRecord | None:
        row = self._db.execute(f"SELECT {_COLUMNS} FROM calls WHERE guid = ?", (guid,)).fetchone()
        return _record(row) if row else None

    def transcript(self, guid: str) -> str | None:
        row = self._db.execute("SELECT t.text FROM calls c JOIN call_text t ON t.rowid = c.id WHERE c.guid = ?",
                               (guid,)).fetchone()
        return row[0] if row else None

    def search(self, query: SearchQuery) -> SearchPage:
        where, params = self._filters(query)
        if query.continuation:
            time, call_id = _decode_token(query.continuation)
            where.append("(c.conversation_time < ? OR (c.conversation_time = ? AND c.id < ?))")
            params += [time, time, call_id]
        limit = min(max(int(query.limit), 1), _MAX_LIMIT)
        rows = self._db.execute(
            f"SELECT c.id, {', '.join('c.' + col for col in _COLUMNS.split(', '))} FROM calls c"
            f" {_where(where)} ORDER BY c.conversation_time DESC, c.id DESC LIMIT ?",
            [*params, limit + 1],  # one more than asked says whether another page follows
        ).fetchall()
        page = rows[:limit]
        token = _encode_token(page[-1][3], page[-1][0]) if len(rows) > limit else None
        return SearchPage([_record(row[1:]) for row in page], token)

    def count(self, query: SearchQuery | None = None) -> int:
        where, params = self._filters(query or SearchQuery())
        return self._db.execute(f"SELECT count(*) FROM calls c {_where(where)}", params).fetchone()[0]

    def figures(self, query: SearchQuery) -> list[CallFigures]:
        where, params = self._filters(query)
        rows = self._db.execute(f"SELECT {_FIGURE_COLUMNS} FROM calls c {_where(where)}"
                                " ORDER BY c.conversation_time DESC, c.id DESC", params).fetchall()
        return [_figures(row) for row in rows]

    def facets(self) -> Facets:
        return Facets.of(
            agents=(row[0] for row in self._db.execute("SELECT DISTINCT agent FROM calls")),
            categories=(row[0] for row in self._db.execute("SELECT DISTINCT name FROM call_categories")),
            languages=(row[0] for row in self._db.execute("SELECT DISTINCT language FROM calls")))

    def _filters(self, query: SearchQuery) -> tuple[list[str], list[Any]]:
        where: list[str] = []
        params: list[Any] = []

        def add(clause: str, *values: Any) -> None:
            where.append(clause)
            params.extend(values)

        if query.since:
            add("c.conversation_time >= ?", _time_key(query.since))
        if query.until:
            add("c.conversation_time < ? AND c.conversation_time != ''", _time_key(query.until))
        if query.agent:
            add("c.agent = ?", query.agent)
        if query.language:
            add("c.language = ?", query.language)
        if query.customer_sentiment_below is not None:
            add("c.customer_sentiment < ?", query.customer_sentiment_below)
        if query.customer_sentiment_above is not None:
            add("c.customer_sentiment > ?", query.customer_sentiment_above)
        if query.sentiment_change == "improving":
            add("c.customer_sentiment_change > 0")
        elif query.sentiment_change == "worsening":
            add("c.customer_sentiment_change < 0")
        if query.category:
            add("c.id IN (SELECT call_id FROM call_categories WHERE name = ?)", query.category)
        if query.entity_value and query.entity_type:
            add("c.id IN (SELECT call_id FROM call_entities WHERE value = ? AND type = ?)",
                query.entity_value, query.entity_type.upper())
        elif query.entity_value:
            add("c.id IN (SELECT call_id FROM call_entities WHERE value = ?)", query.entity_value)
        elif query.entity_type:
            add("c.id IN (SELECT call_id FROM call_entities WHERE type = ?)", query.entity_type.upper())
        if query.text.strip():
            if self.full_text:
                add("c.id IN (SELECT rowid FROM call_text WHERE call_text MATCH ?)", _fts_phrase(query.text))
            else:
                for word in query.text.split():
                    add("c.id IN (SELECT rowid FROM call_text WHERE text LIKE ? ESCAPE '\\')", f"%{_like(word)}%")
        return where, params

    def _has_fts(self) -> bool:
        sql = self._db.execute("SELECT sql FROM sqlite_master WHERE name = 'call_text'").fetchone()[0]
        return "fts5" in sql.lower()

    def _write(self) -> _Transaction:
        return _Transaction(self._db)


class _Transaction:
    """BEGIN IMMEDIATE … COMMIT (ROLLBACK on error)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind, *_: object) -> None:
        self._db.execute("ROLLBACK" if kind else "COMMIT")


def _statements(script: str) -> list[str]:
    return [statement.strip() for statement in script.split(";") if statement.strip()]


def _time_key(moment: datetime | None) -> str:
    # One fixed format so text order is time order.
    return moment.isoformat(sep=" ", timespec="microseconds") if moment else _NO_TIME


def _row(record: CallRecord) -> tuple:
    return (record.guid, record.file, _time_key(record.conversation_time), record.duration, record.language,
            record.agent, record.customer, record.agent_sentiment, record.customer_sentiment,
            record.customer_sentiment_change, json.dumps(list(record.categories)),
            json.dumps({k: list(v) for k, v in record.entities.items()}), record.summary,
            json.dumps(list(record.action_items)), int(record.redacted), record.path,
            *(astuple(record.talk) if record.talk else (None,) * len(_TALK_COLUMNS)))


def _record(row: tuple) -> CallRecord:
    (guid, file, time, duration, language, agent, customer, agent_sentiment, customer_sentiment, change,
     categories, entities, summary, action_items, redacted, path, *talk) = row
    return CallRecord(
        guid=guid, file=file, conversation_time=datetime.fromisoformat(time) if time else None, duration=duration,
        language=language, agent=agent, customer=customer, agent_sentiment=agent_sentiment,
        customer_sentiment=customer_sentiment, customer_sentiment_change=change,
        categories=tuple(json.loads(categories)),
        entities={k: tuple(v) for k, v in json.loads(entities).items()}, summary=summary,
        action_items=tuple(json.loads(action_items)), redacted=bool(redacted), path=path,
        talk=TalkFigures(*talk) if None not in talk else None)


def _figures(row: tuple) -> CallFigures:
    guid, time, duration, language, agent, customer, agent_score, customer_score, change, categories, *talk = row
    return CallFigures(guid, datetime.fromisoformat(time) if time else None, duration, language, agent, customer,
                       agent_score, customer_score, change, tuple(json.loads(categories)) if categories != "[]" else (),
                       TalkFigures(*talk) if None not in talk else None)


def _where(clauses: list[str]) -> str:
    return f"WHERE {' AND '.join(clauses)}" if clauses else ""


def _fts_phrase(text: str) -> str:
    # Each word quoted: user text never reads as FTS5 syntax (AND, NEAR, "*", a stray quote).
    return " ".join('"' + word.replace('"', '""') + '"' for word in text.split())


def _like(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _encode_token(time: str, call_id: int) -> str:
    return base64.urlsafe_b64encode(json.dumps([time, call_id]).encode()).decode()


def _decode_token(token: str) -> tuple[str, int]:
    try:
        time, call_id = json.loads(base64.urlsafe_b64decode(token.encode()))
        call_id = int(call_id)
        if not -_MAX_INTEGER - 1 <= call_id <= _MAX_INTEGER:  # no SQLite row id: a token made up
            raise ValueError(call_id)
        return str(time), call_id
    except (ValueError, TypeError):
        raise StoreError(f"continuation token {token!r} is not one this store gave") from None
