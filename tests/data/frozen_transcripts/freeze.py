"""Write the frozen transcripts of this folder: the sample calls through callscope's default ASR
(tiny.en, int8) and, for the mono call, the embedded diarizer, once, as Amazon Transcribe Call Analytics
documents (turns, words, roles, loudness; nothing the enrichers compute) that `callscope.inputs`
reads back as the same turns. See README.md for why.

    .venv/bin/python tests/data/frozen_transcripts/freeze.py [SHARED_DATA_DIR]

Re-running on another processor gives slightly different words: commit the result only on purpose,
and re-check the tests that read these files.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from callscope.analysis.call import analyze_call
from callscope.analysis.engines import load_diarizer, load_transcriber
from callscope.inputs.load import load_transcript
from callscope.model import Conversation, Word
from callscope.options import AnalyzeOptions

HERE = Path(__file__).resolve().parent
# name written → (recording under the shared data folder, diarized?)
CALLS = {
    "demo-call.json": ("guidance_conversation_analysis/demo-call.mp3", False),
    "auto-repairs.json": ("lca_auto_repairs/Auto_Repairs_40_stereo_ch0customer_ch1agent.wav", False),
    "pca-mono.json": ("pca_samples/Auto0_GUID_000_AGENT_ChrisL_DT_2025-02-19T06-01-22_Mono.wav", True),
}


def items(words: list[Word]) -> list[dict[str, Any]]:
    """Call Analytics items. A piece Whisper glued to the word before it ("B" "-I") joins that word,
    so the turn's text reads back as written."""
    joined: list[Word] = []
    for word in words:
        if joined and not word.text.startswith(" "):
            last = joined[-1]
            joined[-1] = Word(last.text + word.text, last.start, word.end, min(last.confidence, word.confidence),
                              last.speaker)
        else:
            joined.append(word)
    return [{"Type": "pronunciation", "Content": word.text.strip(), "Confidence": round(word.confidence, 4),
             "BeginOffsetMillis": round(word.start * 1000), "EndOffsetMillis": round(word.end * 1000)}
            for word in joined]


def call_analytics_document(call: Conversation, job: str) -> dict[str, Any]:
    """Turns, words, roles and loudness only: no Sentiment, Categories or ConversationCharacteristics,
    so callscope's own enrichers do that work when the document is read."""
    roles = {speaker.label: speaker.role.value for speaker in call.speakers}
    return {
        "JobName": job, "JobStatus": "COMPLETED", "LanguageCode": "en-US",
        "ChannelDefinitions": [{"ChannelId": int(label.split("_")[1]), "ParticipantRole": role}
                               for label, role in roles.items()],
        "Transcript": [{"ParticipantRole": roles[turn.speaker], "Content": turn.text.strip(),
                        "BeginOffsetMillis": round(turn.start * 1000), "EndOffsetMillis": round(turn.end * 1000),
                        "LoudnessScores": turn.loudness_db, "Items": items(turn.words)}
                       for turn in call.turns],
    }


def write(document: dict[str, Any], path: Path) -> None:
    path.write_text(render(document) + "\n", encoding="utf-8")


def render(value: Any, indent: str = "", key: str = "") -> str:
    """JSON, indented, with each word item on one line: small and diffable."""
    inner = indent + " "
    if isinstance(value, dict) and value:
        body = ",\n".join(f"{inner}{json.dumps(k)}: {render(v, inner, k)}" for k, v in value.items())
        return "{\n" + body + "\n" + indent + "}"
    if key == "LoudnessScores":
        return json.dumps(value)
    if isinstance(value, list) and value:
        one_line = key in ("Items", "ChannelDefinitions")
        parts = [json.dumps(element, ensure_ascii=False) if one_line else render(element, inner) for element in value]
        return "[\n" + ",\n".join(inner + part for part in parts) + "\n" + indent + "]"
    return json.dumps(value, ensure_ascii=False)


def check_round_trip(call: Conversation, path: Path) -> None:
    """The document must read back as the same turns: same speakers, words and times."""
    def turns(conversation: Conversation) -> list[tuple[str, str, float, float]]:
        return [(turn.speaker, turn.text.strip(), round(turn.start, 3), round(turn.end, 3))
                for turn in conversation.turns]

    again = load_transcript(path)
    roles = {speaker.label: speaker.role for speaker in call.speakers}
    if (turns(again) != turns(call) or {speaker.label: speaker.role for speaker in again.speakers} != roles
            or [turn.loudness_db for turn in again.turns] != [turn.loudness_db for turn in call.turns]):
        raise SystemExit(f"{path.name}: does not read back as the turns it was written from")


def main(shared: Path) -> None:
    options = AnalyzeOptions()
    transcriber = load_transcriber(options)
    for name, (relative, diarized) in CALLS.items():
        recording = shared / relative
        call = analyze_call(recording, transcriber, options, diarizer=load_diarizer(options) if diarized else None)
        write(call_analytics_document(call, recording.stem), HERE / name)
        check_round_trip(call, HERE / name)
        print(f"{name}: {sum(len(turn.words) for turn in call.turns)} words, {len(call.turns)} turns")


if __name__ == "__main__":
    default = os.environ.get("CALLSCOPE_TEST_DATA", Path(__file__).resolve().parents[4] / "shared" / "data")
    main(Path(sys.argv[1] if len(sys.argv) > 1 else default))
