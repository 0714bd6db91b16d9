"""Chats and existing transcripts as input (callscope.inputs): the same Conversation as a recording,
the same analytics, audio-only fields absent, and bad files failing alone with one line.

Fixtures: the sample chat of ../shared/data and the small documents of tests/data/chat_inputs
(their README says where each shape comes from).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from callscope.analysis.batch import discover
from callscope.cli import main
from callscope.inputs.chat_text import ChatTextError, parse_chat_text
from callscope.inputs.load import load_transcript
from callscope.inputs.options import ChatOptions
from callscope.inputs.roles import RoleMap
from callscope.inputs.source import TranscriptSource
from callscope.inputs.source_analytics import enrich_keeping_source
from callscope.inputs.transcribe import conversation_from_transcribe
from callscope.model import CategoryMatch, Conversation, Role
from callscope.output.pca import to_pca, validation_errors
from tests.conftest import DATA, JFK, PCA_REFERENCE_JSON

FIXTURES = Path(__file__).parent / "data" / "chat_inputs"
SAMPLE_CHAT = DATA / "guidance_conversation_analysis" / "customer_chat_sample.txt"
FIXTURE_FILES = ("chat_timestamps.txt", "chat_export.json", "connect_chat.json", "call_analytics.json",
                 "transcribe_channels.json")
# Only the enrichment needed: the bad-file runs are about failing, not analysing.
FAST = ("--sentiment", "none", "--entities", "none", "--issues", "none", "--no-categories", "--diarizer", "none")


def _pca(out: Path, stem: str) -> dict:
    return json.loads((out / f"{stem}.json").read_text())


def _failures(out: Path) -> dict[str, dict]:
    records = [json.loads(line) for line in (out / "failures.jsonl").read_text().splitlines()]
    return {Path(record["file"]).name: record for record in records}


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    """One folder mixing a recording, chats, Transcribe documents and files that are no input."""
    folder = tmp_path_factory.mktemp("chats")
    shutil.copy(SAMPLE_CHAT, folder / SAMPLE_CHAT.name)
    for name in FIXTURE_FILES:
        shutil.copy(FIXTURES / name, folder / name)
    shutil.copy(JFK, folder / JFK.name)
    shutil.copy(PCA_REFERENCE_JSON, folder / "earlier_results.json")  # a PCA results document: not an input
    (folder / "notes.txt").write_text("not a call\n")
    (folder / "settings.json").write_text('{"debug": true}\n')
    out = tmp_path_factory.mktemp("out")
    result = CliRunner().invoke(main, ["analyze", str(folder), "--out", str(out)])
    return out, result


# ---- a folder mixing audio and chats ---------------------------------------------------------------


def test_a_folder_mixing_audio_and_chats_is_analysed_and_other_files_are_left_alone(mixed):
    out, result = mixed
    assert result.exit_code == 0, result.output
    assert "7 analysed, 0 already done, 0 failed" in result.output
    stems = {path.stem for path in out.glob("*.json")}
    assert stems == {"customer_chat_sample", "jfk", *(Path(name).stem for name in FIXTURE_FILES)}
    assert not (out / "failures.jsonl").exists()
    for name in ("earlier_results", "notes", "settings"):
        assert name not in result.output
    for stem in stems:
        assert validation_errors(_pca(out, stem)) == [], stem


def test_a_second_run_skips_the_chats_already_done(mixed, tmp_path):
    out, _ = mixed
    folder = tmp_path / "again"
    folder.mkdir()
    shutil.copy(SAMPLE_CHAT, folder / SAMPLE_CHAT.name)
    again = CliRunner().invoke(main, ["analyze", str(folder), "--out", str(out)])
    assert "0 analysed, 1 already done" in again.output, again.output


# ---- the sample chat -----------------------------------------------------------------------------


def test_sample_chat_becomes_agent_and_customer_turns_in_order(mixed):
    out, _ = mixed
    pca = _pca(out, "customer_chat_sample")
    labels = {item["Speaker"]: item["DisplayText"] for item in pca["ConversationAnalytics"]["SpeakerLabels"]}
    assert labels == {"spk_0": "Customer", "spk_1": "Agent"}
    # The note "[15 minutes later]" is no turn.
    lines = [line for line in SAMPLE_CHAT.read_text().splitlines() if ":" in line]
    segments = pca["SpeechSegments"]
    assert [f"{labels[s['SegmentSpeaker']]}: {s['OriginalText']}" for s in segments] == lines
    starts = [segment["SegmentStartTime"] for segment in segments]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
    assert all(s["SegmentEndTime"] > s["SegmentStartTime"] for s in segments)
    # The note's 15 minutes move the estimated clock: the last three messages fall in the last quarter.
    assert segments[6]["SegmentStartTime"] - segments[5]["SegmentEndTime"] >= 15 * 60
    assert (out / "customer_chat_sample.txt").read_text().splitlines() == lines


def test_sample_chat_has_no_audio_fields_and_says_its_times_are_estimated(mixed):
    out, _ = mixed
    pca = _pca(out, "customer_chat_sample")
    analytics = pca["ConversationAnalytics"]
    assert "NonTalkTime" not in analytics["SpeakerTime"] and analytics["SpeakerTime"] == {}
    assert all(segment["LoudnessScores"] == [] for segment in pca["SpeechSegments"])
    (source,) = analytics["SourceInformation"]
    assert source == {"TranscriptSourceInfo": {
        "SourceFile": source["TranscriptSourceInfo"]["SourceFile"], "SourceFormat": "chat-text", "Channel": "CHAT",
        "SyntheticTimes": True, "RedactedTranscript": False, "AverageWordConfidence": 1.0}}
    words = [word for segment in pca["SpeechSegments"] for word in segment["WordConfidence"]]
    assert {word["Confidence"] for word in words} == {1.0}
    assert float(analytics["Duration"]) == pca["SpeechSegments"][-1]["SegmentEndTime"]
    assert (out / "customer_chat_sample.rttm").read_text() == ""


def test_sample_chat_gets_the_same_analytics_as_a_call(mixed):
    out, _ = mixed
    pca = _pca(out, "customer_chat_sample")
    analytics = pca["ConversationAnalytics"]
    segments = pca["SpeechSegments"]
    assert all(segment["BaseSentimentScores"] != [] for segment in segments)  # every message is scored
    customer = [s for s in segments if s["SegmentSpeaker"] == "spk_0"]
    # The sample is a complaint: the shipped model scores every customer message negative.
    assert all(segment["SentimentIsNegative"] == 1 for segment in customer)
    assert analytics["SentimentTrends"]["spk_0"]["SentimentScore"] < -2.0
    assert analytics["IssuesDetected"] and any("damaged" in issue["Text"] for issue in analytics["IssuesDetected"])
    names = [category["Name"] for category in analytics["CategoriesDetected"]]
    assert "agent_apology" in names and "customer_negative_at_end" in names
    assert any(segment["EntitiesDetected"] for segment in segments)
    # Insights (issue 6) run on chats as on calls: the embedded default answers without a model.
    assert any(insight["Value"] is not None and not insight["Error"] for insight in analytics["Insights"])


# ---- text chats with timestamps --------------------------------------------------------------------


def test_timestamps_give_the_times_and_roles_come_from_the_role_map():
    conversation = load_transcript(FIXTURES / "chat_timestamps.txt")
    source = conversation.source
    assert isinstance(source, TranscriptSource) and not source.synthetic_times
    assert [(s.display_text, s.role) for s in conversation.speakers] == [
        ("Agent", Role.AGENT), ("Customer", Role.CUSTOMER), ("Bot", Role.UNKNOWN)]
    # [23:58:05] ... [00:02:20]: times count from the first message and roll over midnight.
    assert [turn.start for turn in conversation.turns] == [0.0, 35.0, 85.0, 185.0, 230.0, 255.0]
    assert conversation.turns[1].text == ("Hi. My order 4417 arrived damaged and the box was soaked. "
                                          "The blender inside does not turn on at all.")
    assert all(turn.end <= following.start for turn, following in zip(conversation.turns, conversation.turns[1:]))
    bot_as_agent = load_transcript(FIXTURES / "chat_timestamps.txt", chat=ChatOptions(roles=RoleMap.parse("Bot=AGENT")))
    assert bot_as_agent.speakers[2].role is Role.AGENT


def test_timestamped_chat_output_is_not_flagged_synthetic(mixed):
    out, _ = mixed
    (source,) = _pca(out, "chat_timestamps")["ConversationAnalytics"]["SourceInformation"]
    assert source["TranscriptSourceInfo"]["SyntheticTimes"] is False


def test_timestamp_styles_and_untimed_messages():
    roles = RoleMap()
    messages = parse_chat_text(
        "10:02 Agent: Hello, how can I help?\n"
        "Customer [10:03]: My card does not work.\n"
        "10:04 PM\n"
        "Agent Sarah: Let me check.\n"
        "Rep: (no time here)\n",
        roles,
    )
    assert [m.time for m in messages] == [36120.0, 36180.0, 79440.0, None]
    assert [m.role for m in messages] == [Role.AGENT, Role.CUSTOMER, Role.AGENT, Role.AGENT]
    assert messages[2].display_name == "Agent Sarah"


def test_untimed_chat_times_follow_message_order_and_length(tmp_path):
    path = tmp_path / "chat.txt"
    path.write_text("Customer: one two three four five\nAgent: six\n[2 minutes later]\nAgent: seven eight\n")
    turns = load_transcript(path).turns
    # 0.4 s a word (at least 1 s), 1 s between messages, plus the noted 2 minutes.
    assert [(turn.start, turn.end) for turn in turns] == [(0.0, 2.0), (3.0, 4.0), (125.0, 126.0)]


def test_lowercase_words_with_a_colon_continue_the_message():
    (message,) = parse_chat_text("Agent: Your tracking number is\norder number: 1Z999\n", RoleMap())
    assert message.text == "Your tracking number is order number: 1Z999"


def test_names_without_roles_get_roles_from_what_they_say(tmp_path):
    path = tmp_path / "chat.txt"
    path.write_text("Jane: Thank you for calling Acme, how can I help you today?\n"
                    "John: Hi, I'd like to cancel my order.\n")
    speakers = load_transcript(path).speakers
    assert [(s.display_text, s.role) for s in speakers] == [("Jane", Role.AGENT), ("John", Role.CUSTOMER)]
    assert speakers[0].role_confidence is not None


def test_text_before_the_first_speaker_is_an_error_with_its_line_number():
    with pytest.raises(ChatTextError, match=r"^line 2: text before the first 'Name: message' line"):
        parse_chat_text("\nChat transcript, exported Monday\nAgent: Hello\n", RoleMap())


def test_role_map_refuses_what_is_not_name_equals_role():
    with pytest.raises(ValueError, match="'Bot' is not NAME=ROLE"):
        RoleMap.parse("Bot")
    assert RoleMap.parse("Jane Doe = agent").role("jane  doe") is Role.AGENT


# ---- JSON chat exports ------------------------------------------------------------------------------


def test_json_export_with_iso_timestamps():
    conversation = load_transcript(FIXTURES / "chat_export.json")
    assert conversation.source.format == "chat-json" and not conversation.source.synthetic_times
    assert [(s.display_text, s.role) for s in conversation.speakers] == [("Dana", Role.CUSTOMER), ("Sam", Role.AGENT)]
    assert [turn.start for turn in conversation.turns] == [0.0, 28.0, 112.0, 137.0]
    assert str(conversation.metadata.conversation_time) == "2024-03-01 10:02:13"


def test_json_export_as_a_list_with_seconds_and_a_missing_time(tmp_path):
    path = tmp_path / "export.json"
    path.write_text(json.dumps([
        {"participant": "Customer", "content": "My router keeps dropping the connection.", "time": 0},
        {"participant": "Advisor", "content": "Let us restart it together.", "time": 12.5},
        {"participant": "Customer", "content": "Done, it works now."},
    ]))
    conversation = load_transcript(path)
    assert [s.role for s in conversation.speakers] == [Role.CUSTOMER, Role.AGENT]
    assert [turn.start for turn in conversation.turns][:2] == [0.0, 12.5]
    assert conversation.source.synthetic_times
    assert conversation.warnings == ["1 of 3 messages have no timestamp: their times are estimated"]


def test_amazon_connect_chat_transcript():
    conversation = load_transcript(FIXTURES / "connect_chat.json")
    assert conversation.source.format == "connect-chat"
    assert [(s.display_text, s.role) for s in conversation.speakers] == [
        ("System", Role.UNKNOWN), ("Alex", Role.CUSTOMER), ("Morgan", Role.AGENT)]
    assert len(conversation.turns) == 5  # events and the attachment are not speech
    assert conversation.turns[1].start == pytest.approx(18.6)  # 09:00:20.000 - 09:00:01.400
    assert conversation.turns[1].text.startswith("Hello, my parcel")


# ---- Amazon Transcribe documents ------------------------------------------------------------------


def _call_analytics() -> dict:
    return json.loads((FIXTURES / "call_analytics.json").read_text())


def test_call_analytics_document_keeps_roles_times_and_what_transcribe_computed():
    document = _call_analytics()
    conversation = conversation_from_transcribe(document, "call_analytics.json")
    assert [(s.label, s.role, s.channel) for s in conversation.speakers] == [
        ("spk_0", Role.CUSTOMER, 0), ("spk_1", Role.AGENT, 1)]  # channel 0 customer, 1 agent, as seeds/000
    entries = document["Transcript"]
    for turn, entry in zip(conversation.turns, entries, strict=True):
        assert turn.text == entry["Content"]
        assert turn.start == entry["BeginOffsetMillis"] / 1000
        assert turn.loudness_db == entry["LoudnessScores"]
        assert turn.sentiment == {"POSITIVE": 5.0, "NEGATIVE": -5.0, "NEUTRAL": 0.0}[entry["Sentiment"]]
    first_items = [item for item in entries[0]["Items"] if item["Type"] == "pronunciation"]
    assert [(w.start, w.end, w.confidence) for w in conversation.turns[0].words] == [
        (item["BeginOffsetMillis"] / 1000, item["EndOffsetMillis"] / 1000,
         item.get("Confidence", item.get("Redaction", [{}])[0].get("Confidence"))) for item in first_items]
    assert conversation.turns[1].issues[0].text == "I think I lost my debit card or it was stolen"
    assert conversation.turns[2].action_items[0].text.startswith("I will block the card")
    assert conversation.turns[4].outcomes[0].begin == 0
    assert [turn.interruption for turn in conversation.turns] == [False, False, False, True, False, False]
    assert [match.name for match in conversation.categories] == ["card-lost", "no-hold"]
    assert conversation.turns[1].categories == ["card-lost"] and conversation.turns[0].categories == ["no-hold"]
    assert [(span.start, span.end) for span in conversation.non_talk] == [(21.0, 25.0)]
    assert conversation.speaker_time == {"spk_0": 10.9, "spk_1": 17.7}
    assert conversation.source.duration == 34.5 and conversation.redacted and conversation.language == "en"
    assert conversation.source.provided == {"sentiment", "categories", "issues"}
    assert validation_errors(to_pca(conversation)) == []


def test_call_analytics_through_analyze_keeps_transcribe_results(mixed):
    out, _ = mixed
    pca = _pca(out, "call_analytics")
    analytics = pca["ConversationAnalytics"]
    entries = _call_analytics()["Transcript"]
    for segment, entry in zip(pca["SpeechSegments"], entries, strict=True):
        assert segment["SentimentIsNegative"] == int(entry["Sentiment"] == "NEGATIVE")
        assert segment["SentimentIsPositive"] == int(entry["Sentiment"] == "POSITIVE")
        assert segment["LoudnessScores"] == entry["LoudnessScores"]
    names = [category["Name"] for category in analytics["CategoriesDetected"]]
    assert names[:2] == ["card-lost", "no-hold"] and len(names) > 2  # Transcribe's first, then callscope's rules
    assert [issue["Text"] for issue in analytics["IssuesDetected"]] == ["I think I lost my debit card or it was stolen"]
    assert analytics["SpeakerTime"]["NonTalkTime"]["Instances"] == [
        {"BeginOffsetSecs": 21.0, "EndOffsetSecs": 25.0, "DurationSecs": 4.0}]
    info = analytics["SourceInformation"][0]["TranscriptSourceInfo"]
    assert (info["TranscribeApiType"], info["TranscriptionJobName"], info["Channel"]) == (
        "analytics", "lost-card-call-0001", "VOICE")
    assert (out / "call_analytics.rttm").read_text().startswith("SPEAKER call_analytics 1 0.000")


def test_channel_definitions_in_the_document_decide_the_labels():
    document = _call_analytics()
    document["ChannelDefinitions"] = [{"ChannelId": 0, "ParticipantRole": "AGENT"},
                                      {"ChannelId": 1, "ParticipantRole": "CUSTOMER"}]
    conversation = conversation_from_transcribe(document, "swapped.json")
    assert [(s.label, s.role) for s in conversation.speakers] == [("spk_0", Role.AGENT), ("spk_1", Role.CUSTOMER)]
    assert conversation.turns[0].speaker == "spk_0"


class _Recorder:
    """A test enricher: records that it ran, and writes a marker where its aspect writes."""

    def __init__(self, aspect: str) -> None:
        self.aspect, self.name, self.ran = aspect, f"test:{aspect}", False

    def enrich(self, conversation: Conversation) -> None:
        self.ran = True
        if self.aspect == "categories":
            conversation.categories = [CategoryMatch("ours")]
            for turn in conversation.turns:
                turn.categories = ["ours"]
        if self.aspect == "pii":  # redacts "debit" (inside the issue span) and "Hi," (before it)
            turn = conversation.turns[1]
            turn.words = [replace(word, text=word.text.replace("debit", "[PII]").replace("Hi,", "[PII],"))
                          for word in turn.words]


def test_transcribe_analytics_win_and_callscope_fills_the_rest():
    conversation = conversation_from_transcribe(_call_analytics(), "call_analytics.json")
    enrichers = {aspect: _Recorder(aspect) for aspect in ("pii", "sentiment", "entities", "issues", "categories")}
    enrich_keeping_source(conversation, list(enrichers.values()))
    assert not enrichers["sentiment"].ran and not enrichers["issues"].ran
    assert enrichers["pii"].ran and enrichers["entities"].ran and enrichers["categories"].ran
    assert [match.name for match in conversation.categories] == ["card-lost", "no-hold", "ours"]
    assert conversation.turns[1].categories == ["card-lost", "ours"]
    assert conversation.enrichment["sentiment"] == "transcribe:call-analytics"
    assert conversation.enrichment["categories"] == "transcribe:call-analytics+test:categories"
    # The issue held the redacted word: it is left out, never shown with stale offsets or PII.
    assert conversation.turns[1].issues == []
    assert conversation.warnings == ["1 issue/action item/outcome span(s) held redacted text: left out"]


def test_standard_transcribe_job_with_channels():
    document = json.loads((FIXTURES / "transcribe_channels.json").read_text())
    conversation = conversation_from_transcribe(document, "transcribe_channels.json")
    assert conversation.speaker_separation == "channels"
    assert [(s.label, s.role) for s in conversation.speakers] == [("spk_0", Role.CUSTOMER), ("spk_1", Role.AGENT)]
    assert [turn.speaker for turn in conversation.turns] == ["spk_1", "spk_0", "spk_1", "spk_0"]
    assert conversation.turns[0].text == "Good morning, this is Robin at Acme Energy. How can I help?"
    first = document["results"]["channel_labels"]["channels"][1]["items"][0]
    word = conversation.turns[0].words[0]
    assert (word.start, word.end, word.confidence) == (
        float(first["start_time"]), float(first["end_time"]), float(first["alternatives"][0]["confidence"]))
    assert conversation.non_talk and conversation.source.job_name == "energy-bill-0007"
    assert validation_errors(to_pca(conversation)) == []


def test_standard_transcribe_job_with_speaker_labels_gets_roles_from_what_is_said():
    def item(start: float, word: str) -> dict:
        return {"start_time": str(start), "end_time": str(start + 0.3), "type": "pronunciation",
                "alternatives": [{"confidence": "0.9", "content": word}]}

    def _label(word: dict, speaker: str) -> dict:
        return {"start_time": word["start_time"], "end_time": word["end_time"], "speaker_label": speaker}

    agent = [item(0.1 + 0.35 * i, w) for i, w in enumerate("thank you for calling how can I help you".split())]
    customer = [item(4.0 + 0.35 * i, w) for i, w in enumerate("I lost my card".split())]
    document = {"jobName": "diarized", "results": {
        "items": agent + customer,
        "speaker_labels": {"speakers": 2, "segments": [
            {"speaker_label": "spk_0", "start_time": "0.1", "end_time": "3.2",
             "items": [_label(i, "spk_0") for i in agent]},
            {"speaker_label": "spk_1", "start_time": "4.0", "end_time": "5.4",
             "items": [_label(i, "spk_1") for i in customer]},
        ]}}}
    conversation = conversation_from_transcribe(document, "diarized.json")
    assert conversation.speaker_separation == "diarization"
    assert [(s.label, s.role) for s in conversation.speakers] == [("spk_0", Role.AGENT), ("spk_1", Role.CUSTOMER)]
    assert [turn.text for turn in conversation.turns] == ["thank you for calling how can I help you", "I lost my card"]


# ---- bad files --------------------------------------------------------------------------------------


def test_bad_transcript_files_fail_alone_with_one_line(tmp_path):
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "empty.txt").write_bytes(b"")
    (folder / "blank.txt").write_text("\n   \n")
    (folder / "no_speakers.txt").write_text("meeting notes\nbuy milk\n")
    (folder / "junk.txt").write_bytes(bytes(range(256)) * 4)
    (folder / "latin1.txt").write_bytes("Customer: caf\xe9 au lait\n".encode("latin-1"))
    (folder / "broken.json").write_text('{"messages": [\n  {"role": "agent", "text": "hi"},\n]}\n')
    (folder / "other.json").write_text('{"debug": true}\n')
    (folder / "failed_job.json").write_text('{"jobName": "x", "status": "FAILED", "results": {"items": []}}')
    shutil.copy(PCA_REFERENCE_JSON, folder / "results.json")
    good = folder / "good.txt"
    good.write_text("Customer: Hello, my order is late.\nAgent: Sorry, let me check that for you.\n")
    out = tmp_path / "out"
    names = sorted(path.name for path in folder.iterdir())
    result = CliRunner().invoke(main, ["analyze", *(str(folder / name) for name in names), "--out", str(out), *FAST])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and "internal error" not in result.output
    assert f"1 analysed, 0 already done, {len(names) - 1} failed" in result.output
    assert (out / "good.json").is_file()
    expected = {
        "empty.txt": ("empty", "empty file (0 bytes)"),
        "blank.txt": ("no_messages", "contains only blank lines"),
        "no_speakers.txt": ("bad_chat", "line 1: text before the first 'name: message' line: 'meeting notes'"),
        "junk.txt": ("not_text", "binary content"),
        "latin1.txt": ("not_text", "line 1: not utf-8 text (byte 0xe9 at offset 13)"),
        "broken.json": ("bad_json", "not valid json: line 3 column 1"),
        "other.json": ("unrecognised_json", "neither a chat export"),
        "failed_job.json": ("incomplete_job", "status is failed, not completed"),
        "results.json": ("pca_output", "a pca results document"),
    }
    failures = _failures(out)
    assert set(failures) == set(expected)
    for name, (kind, problem) in expected.items():
        record = failures[name]
        assert record["kind"] == kind, record
        assert "\n" not in record["error"] and problem in record["error"].lower(), record
        assert not (out / Path(name).with_suffix(".json").name).exists() or name == "results.json"


# ---- discovery --------------------------------------------------------------------------------------


def test_results_written_beside_the_chats_never_overwrite_them_nor_become_inputs(tmp_path):
    shutil.copy(SAMPLE_CHAT, tmp_path / "chat.txt")
    shutil.copy(FIXTURES / "chat_export.json", tmp_path / "export.json")
    jobs = discover([tmp_path], tmp_path)
    # chat.txt's transcript would be chat.txt and export.json's document export.json: names are kept.
    assert sorted(job.stem.name for job in jobs) == ["chat.txt", "export.json"]
    for job in jobs:  # a finished run leaves its output set beside the inputs
        for suffix in (".json", ".rttm", ".srt", ".vtt", ".txt"):
            job.stem.with_name(job.stem.name + suffix).write_text("Agent: a result, not an input\n")
    assert sorted(job.source.name for job in discover([tmp_path], tmp_path)) == ["chat.txt", "export.json"]
