"""Reading a transcript input file (text chat, JSON chat export, Transcribe output) into a Conversation.

Every problem with the file is an InputError: one line naming the file, the problem (with the line
number for text chats and JSON syntax errors) and a stable `kind` for failures.jsonl.
"""

from __future__ import annotations

import codecs
import json
from pathlib import Path
from typing import Any

from callscope.audio.decode import file_sha256
from callscope.errors import InputError
from callscope.input_files import check_input_file
from callscope.inputs.chat_json import (
    ChatJsonError,
    is_connect_chat,
    parse_connect_chat,
    parse_simple_export,
    simple_messages,
)
from callscope.inputs.chat_text import ChatTextError, parse_chat_text
from callscope.inputs.messages import conversation_from_messages
from callscope.inputs.options import ChatOptions
from callscope.inputs.source import CALL_ANALYTICS, CHAT_JSON, CHAT_TEXT, CONNECT_CHAT, TRANSCRIBE
from callscope.inputs.transcribe import (
    TranscribeFormatError,
    conversation_from_transcribe,
    is_call_analytics,
    is_standard_transcribe,
)
from callscope.model import Conversation
from callscope.options import AnalyzeOptions

TRANSCRIPT_EXTENSIONS = frozenset({".txt", ".json"})
# A chat or a 4-hour Call Analytics document is a few MB; far larger is not a transcript.
MAX_TRANSCRIPT_BYTES = 256 * 1024 * 1024
PCA_OUTPUT = "pca-output"


def is_transcript_path(path: Path) -> bool:
    return path.suffix.lower() in TRANSCRIPT_EXTENSIONS


def load_transcript(
    path: Path, options: AnalyzeOptions = AnalyzeOptions(), chat: ChatOptions = ChatOptions(),
    sha256: str | None = None,
) -> Conversation:
    check_transcript_readable(path)
    sha256 = sha256 or file_sha256(path)
    name = str(path)
    try:
        if path.suffix.lower() == ".txt":
            messages = parse_chat_text(read_text(path), chat.roles)
            return conversation_from_messages(path, messages, CHAT_TEXT, sha256, options, chat)
        document = read_json(path)
        kind = json_format(document)
        if kind in (TRANSCRIBE, CALL_ANALYTICS):
            return conversation_from_transcribe(document, name, options=options, sha256=sha256)
        if kind == CONNECT_CHAT:
            messages = parse_connect_chat(document, chat.roles)
            return conversation_from_messages(path, messages, kind, sha256, options, chat)
        if kind == CHAT_JSON:
            messages = parse_simple_export(simple_messages(document) or [], chat.roles)
            return conversation_from_messages(path, messages, kind, sha256, options, chat)
        if kind == PCA_OUTPUT:
            raise InputError(name, "a PCA results document (ConversationAnalytics), not a conversation to analyse",
                             "pca_output")
        raise InputError(name, "JSON that is neither a chat export ({\"messages\": [...]}, Amazon Connect) nor "
                               "an Amazon Transcribe / Call Analytics output", "unrecognised_json")
    except (ChatTextError, TranscribeFormatError) as error:
        raise InputError(name, str(error), error.kind) from None
    except ChatJsonError as error:
        raise InputError(name, str(error), "bad_chat_json") from None


def check_transcript_readable(path: Path) -> None:
    check_input_file(path, "a file")
    size = path.stat().st_size
    if size > MAX_TRANSCRIPT_BYTES:
        raise InputError(str(path), f"too large for a transcript ({size // 2**20} MiB)", "too_large")


def read_text(path: Path, limit: int | None = None) -> str:
    """The file as text: UTF-8 (a BOM may say UTF-16); binary files and other encodings are errors."""
    with open(path, "rb") as stream:
        data = stream.read(limit) if limit else stream.read()
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace" if limit else "strict")
    if b"\x00" in data:
        raise InputError(str(path), "binary content (NUL bytes), not a text transcript", "not_text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        if limit and error.start >= len(data) - 3:  # a character cut by the limit
            return data[:error.start].decode("utf-8-sig")
        line = data.count(b"\n", 0, error.start) + 1
        problem = f"line {line}: not UTF-8 text (byte 0x{data[error.start]:02x} at offset {error.start})"
        raise InputError(str(path), problem, "not_text") from None


def read_json(path: Path) -> Any:
    try:
        return json.loads(read_text(path))
    except json.JSONDecodeError as error:
        raise InputError(str(path), f"not valid JSON: line {error.lineno} column {error.colno}: {error.msg}",
                         "bad_json") from None
    except RecursionError:
        raise InputError(str(path), "JSON nested too deeply to read", "bad_json") from None


def json_format(document: Any) -> str | None:
    """Which input format a JSON document is (source constants, PCA_OUTPUT), or None."""
    if isinstance(document, dict) and "ConversationAnalytics" in document and "SpeechSegments" in document:
        return PCA_OUTPUT
    if is_call_analytics(document):
        return CALL_ANALYTICS
    if is_standard_transcribe(document):
        return TRANSCRIBE
    if is_connect_chat(document):
        return CONNECT_CHAT
    if simple_messages(document) is not None:
        return CHAT_JSON
    return None
