"""Entities (spaCy, Amazon Comprehend through a Stubber, custom lists) and issues / action items /
outcomes, down to the PCA JSON of a real call."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.stub import Stubber

from callscope.enrichment import enrich
from callscope.enrichment.custom_entities import EntityMap
from callscope.enrichment.entities import COMPREHEND_MAX_BYTES, ComprehendEntities, LocalEntities
from callscope.enrichment.files import ConfigFileError
from callscope.enrichment.issues import IssuePatterns, LocalIssues, detect, normalise
from callscope.enrichment.sentences import sentence_spans
from callscope.model import AudioSource, Conversation, Role, Speaker, Turn, Word
from callscope.output.pca import to_pca, to_pca_json, validation_errors
from tests.conftest import FROZEN_DEMO_CALL, frozen_call

AGENT, CUSTOMER = "spk_1", "spk_0"


def conversation(*turns: tuple[str, str]) -> Conversation:
    """(speaker, text) turns, one second a word; spk_0 the customer, spk_1 the agent."""
    built, clock = [], 0.0
    for speaker, text in turns:
        words = []
        for word in text.split():
            words.append(Word(f" {word}", clock, clock + 0.8, 0.9, speaker))
            clock += 1.0
        built.append(Turn(speaker, words))
    source = AudioSource("call.wav", "0" * 64, "wav", "pcm_s16le", 8000, 2, clock)
    return Conversation(source, [Speaker(CUSTOMER, Role.CUSTOMER, 0), Speaker(AGENT, Role.AGENT, 1)], built, "en")


def assert_offsets_slice(conv: Conversation) -> None:
    for turn in conv.turns:
        text = turn.analysis_text
        for entity in turn.entities:
            assert text[entity.begin:entity.end] == entity.text
        for span in turn.issues + turn.action_items + turn.outcomes:
            assert text[span.begin:span.end] == span.text


# --- spaCy entities -------------------------------------------------------------------------------

def test_spacy_finds_people_organisations_dates_and_quantities():
    conv = conversation(
        (AGENT, "Thank you for calling Wells Fargo, my name is Jennifer Lopez, how can I help you today?"),
        (CUSTOMER, "I was charged $45 twice on March 3rd at a Walmart in Seattle."),
        (CUSTOMER, "I ordered three iPhone cases in January and only two arrived."),
    )
    LocalEntities().enrich(conv)
    found = {(entity.type, entity.text) for turn in conv.turns for entity in turn.entities}
    assert ("ORGANIZATION", "Wells Fargo") in found
    assert ("PERSON", "Jennifer Lopez") in found
    assert ("DATE", "March 3rd") in found and ("DATE", "January") in found
    assert ("LOCATION", "Seattle") in found
    assert any(kind == "QUANTITY" and "45" in text for kind, text in found)
    assert ("QUANTITY", "three") in found
    assert all(entity.score == 0.85 for turn in conv.turns for entity in turn.entities)
    assert_offsets_slice(conv)


def test_entity_types_filter_and_redaction_placeholders():
    conv = conversation((CUSTOMER, "This is [PII] from Acme Corp calling about two invoices from May."))
    LocalEntities(types=("ORGANIZATION",)).enrich(conv)
    assert [(entity.type, entity.text) for entity in conv.turns[0].entities] == [("ORGANIZATION", "Acme Corp")]


# --- custom entities ------------------------------------------------------------------------------

def test_custom_entities_from_csv_match_asr_spellings(tmp_path):
    listing = tmp_path / "entities.csv"
    listing.write_text("Type,Text\nCOMPANY,Networks ABC\nPRODUCT,Kit Kat\nPRODUCT,Model Y\n", encoding="utf-8")
    entity_map = EntityMap.from_csv(listing)
    conv = conversation(
        (AGENT, "Thank you for calling net works A.B.C. technical support."),
        (CUSTOMER, "I bought a kitkat and a Kit-Kat, and my model y won't start, and my Network is down."),
    )
    enricher = LocalEntities(entity_map=entity_map)
    enricher.enrich(conv)
    assert enricher.name == "local:spacy-en_core_web_sm+entities.csv"
    custom = [(entity.type, entity.text, entity.score) for turn in conv.turns for entity in turn.entities
              if entity.type in ("COMPANY", "PRODUCT")]
    assert custom == [("COMPANY", "net works A.B.C", 1.0), ("PRODUCT", "kitkat", 1.0), ("PRODUCT", "Kit-Kat", 1.0),
                      ("PRODUCT", "model y", 1.0)]
    # A listed name wins over an overlapping model entity: nothing is counted twice.
    first = conv.turns[0].entities
    assert all(not (entity.begin < 32 and entity.end > 22) or entity.type == "COMPANY" for entity in first)
    assert_offsets_slice(conv)
    summary = {item["Name"]: item for item in to_pca(conv)["ConversationAnalytics"]["CustomEntities"]}
    assert summary["PRODUCT"]["Instances"] == 3


def test_custom_entities_without_header_and_from_a_list(tmp_path):
    listing = tmp_path / "plain.csv"
    listing.write_text("# products we sell\nPRODUCT,Super Saver Plan\n\nPLACE,Springfield,\n", encoding="utf-8")
    entity_map = EntityMap.from_csv(listing)
    assert [(entry.type, entry.text) for entry in entity_map.entries] == [
        ("PRODUCT", "Super Saver Plan"), ("PLACE", "Springfield")]
    text = "I want the super-saver plan in springfield."
    assert [entity.text for entity in entity_map.find(text)] == ["super-saver plan", "springfield"]
    exact = EntityMap.from_pairs([("PRODUCT", "Super Saver Plan")], fuzzy=False)
    assert exact.find(text) == [] and exact.find("the SUPER SAVER  plan")[0].text == "SUPER SAVER  plan"
    with pytest.raises(ValueError, match="empty Text"):
        EntityMap.from_pairs([("PRODUCT", " ")])


@pytest.mark.parametrize(("content", "where", "problem"), [
    ("Type,Text\nPRODUCT,Kit Kat\nPRODUCT,Mars,Bar\n", ":3:", "expected 2 columns as in the header, found 3"),
    ("PRODUCT,Kit Kat\nPRODUCT\n", ":2:", "expected 2 columns Type,Text, found 1"),
    ("Type,Text\n,Kit Kat\n", ":2:", "empty Type"),
    ("Type,Text\nPRODUCT,--\n", ":2:", "has no letters or digits"),
    ("Type,Text\n", "", "no entities"),
    ('Type,Text\nPRODUCT,"Kit" Kat\n', ":2:", "not valid CSV"),
])
def test_bad_entity_csv_is_one_line_naming_file_and_line(tmp_path, content, where, problem):
    listing = tmp_path / "bad.csv"
    listing.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigFileError) as caught:
        EntityMap.from_csv(listing)
    message = str(caught.value)
    assert message.startswith(f"{listing}{where}") and problem in message and "\n" not in message
    assert isinstance(caught.value, ValueError)  # the CLI reports it as a bad parameter


def test_missing_entity_file(tmp_path):
    with pytest.raises(ConfigFileError, match="missing.csv: file not found"):
        EntityMap.from_csv(tmp_path / "missing.csv")


# --- Amazon Comprehend ----------------------------------------------------------------------------

def comprehend_client():
    return boto3.client("comprehend", region_name="us-east-1", aws_access_key_id="testing",
                        aws_secret_access_key="testing")


def test_comprehend_batches_of_25_split_long_turns_and_shifted_offsets():
    # 26 short turns, then one of fewer than 5,000 characters but more than 5,000 bytes
    short = [(CUSTOMER if index % 2 else AGENT, f"Turn {index} is about Alice.") for index in range(26)]
    sentence = "Renée réglé the café fee. "  # 26 characters, 31 bytes
    long_text = (sentence * 130) + "and more words " * 80
    conv = conversation(*short, (CUSTOMER, long_text))
    text = conv.turns[-1].analysis_text
    assert len(text) < COMPREHEND_MAX_BYTES < len(text.encode("utf-8"))
    cut = text.index("and more words")
    pieces = [text[:cut].rstrip(), text[cut:]]  # each piece stripped, offsets kept

    client = comprehend_client()
    stubber = Stubber(client)
    first = [turn.analysis_text for turn in conv.turns[:25]]
    stubber.add_response(
        "batch_detect_entities",
        {"ResultList": [{"Index": 0, "Entities": [
            {"Score": 0.99, "Type": "PERSON", "Text": "Alice", "BeginOffset": 16, "EndOffset": 21}]}]
         + [{"Index": index, "Entities": []} for index in range(1, 25)], "ErrorList": []},
        {"TextList": first, "LanguageCode": "en"},
    )
    stubber.add_response(
        "batch_detect_entities",
        {"ResultList": [
            {"Index": 0, "Entities": [{"Score": 0.4, "Type": "PERSON", "Text": "Alice", "BeginOffset": 16,
                                       "EndOffset": 21}]},
            {"Index": 1, "Entities": [{"Score": 0.9, "Type": "PERSON", "Text": "Renée", "BeginOffset": 0,
                                       "EndOffset": 5}]},
            {"Index": 2, "Entities": [{"Score": 0.8, "Type": "QUANTITY", "Text": "more", "BeginOffset": 4,
                                       "EndOffset": 8}]},
        ], "ErrorList": []},
        {"TextList": [conv.turns[25].analysis_text, *pieces], "LanguageCode": "en"},
    )
    enricher = ComprehendEntities(client=client, min_score=0.5)
    with stubber:
        enrich(conv, [enricher])
        stubber.assert_no_pending_responses()
    assert conv.enrichment["entities"] == "comprehend"
    assert [(e.type, e.text, e.begin, e.score) for e in conv.turns[0].entities] == [("PERSON", "Alice", 16, 0.99)]
    assert conv.turns[25].entities == []  # below min_score
    assert [(e.text, e.begin) for e in conv.turns[-1].entities] == [("Renée", 0), ("more", cut + 4)]
    assert_offsets_slice(conv)


def test_comprehend_errors_become_warnings_and_custom_entities_apply():
    conv = conversation((CUSTOMER, "My Kit Kat order from Nestle is late."), (AGENT, "Sorry to hear that."))
    client = comprehend_client()
    stubber = Stubber(client)
    stubber.add_response(
        "batch_detect_entities",
        {"ResultList": [{"Index": 0, "Entities": [
            {"Score": 0.9, "Type": "COMMERCIAL_ITEM", "Text": "Kit Kat", "BeginOffset": 3, "EndOffset": 10},
            {"Score": 0.9, "Type": "ORGANIZATION", "Text": "Nestle", "BeginOffset": 22, "EndOffset": 28}]}],
         "ErrorList": [{"Index": 1, "ErrorCode": "InternalServerException", "ErrorMessage": "try again"}]},
        {"TextList": ["My Kit Kat order from Nestle is late.", "Sorry to hear that."], "LanguageCode": "en"},
    )
    entity_map = EntityMap.from_pairs([("BRAND", "kitkat")])
    with stubber:
        ComprehendEntities(client=client, entity_map=entity_map).enrich(conv)
    assert [(e.type, e.text) for e in conv.turns[0].entities] == [("BRAND", "Kit Kat"), ("ORGANIZATION", "Nestle")]
    assert conv.warnings == ["comprehend entities: turn 1: InternalServerException try again"]


# --- issues, action items, outcomes ---------------------------------------------------------------

def test_issues_actions_and_outcomes_on_unseen_sentences():
    conv = conversation(
        (CUSTOMER, "Hello there. My debit card got declined at the supermarket, and I was billed twice for my phone."),
        (AGENT, "Can I take your postcode please?"),
        (CUSTOMER, "It's S W 1 A 2 A A."),
        (AGENT, "Thanks. I've cancelled the duplicate charge and refunded the full amount. "
                "I'll email you the confirmation this afternoon. Your new SIM card should arrive by Thursday."),
        (AGENT, "Has the refund been processed? Please switch the phone off and on again once it arrives."),
        (CUSTOMER, "Great, thanks for sorting that out. Have a nice day."),
    )
    LocalIssues().enrich(conv)
    issues = [span.text for turn in conv.turns for span in turn.issues]
    actions = [span.text for turn in conv.turns for span in turn.action_items]
    outcomes = [span.text for turn in conv.turns for span in turn.outcomes]
    assert issues == ["My debit card got declined at the supermarket, and I was billed twice for my phone."]
    assert actions == ["I'll email you the confirmation this afternoon.",
                       "Your new SIM card should arrive by Thursday.",
                       "Please switch the phone off and on again once it arrives."]
    assert outcomes == ["I've cancelled the duplicate charge and refunded the full amount."]
    assert_offsets_slice(conv)


def test_speaker_role_decides_and_unknown_role_gets_every_pattern():
    patterns = IssuePatterns.load()
    sentence = "My card was declined this morning."
    assert [span.text for span in detect(sentence, Role.CUSTOMER, patterns)["issues"]] == [sentence]
    assert detect(sentence, Role.AGENT, patterns)["issues"] == []
    assert detect("I've reset your password.", Role.CUSTOMER, patterns)["outcomes"] == []
    assert detect("I've reset your password.", Role.UNKNOWN, patterns)["outcomes"] != []


def test_sentences_and_normalisation_for_asr_text():
    text = "So I have you at 8 a.m. on Friday. thanks Mr. Tilly! B. I. V. E. N. S. is the name"
    assert [text[b:e] for b, e in sentence_spans(text)] == [
        "So I have you at 8 a.m. on Friday.", "thanks Mr. Tilly!", "B. I. V. E. N. S. is the name"]
    run_on = " ".join(["and then I waited for the engineer all day"] * 6)
    spans = sentence_spans(run_on)
    assert len(spans) > 1 and all(run_on[b:e] for b, e in spans)
    assert normalise("My card, um, WASN'T working & I can’t log in!") == "my card was not working i can not log in"


def test_user_patterns_extend_the_shipped_ones(tmp_path):
    extra = tmp_path / "mine.yaml"
    extra.write_text("issues:\n  patterns:\n    - '\\bboiler\\b (\\w+ )?(broke|broken)'\n", encoding="utf-8")
    patterns = IssuePatterns.load(extra=[extra])
    assert detect("The boiler is broken again.", Role.CUSTOMER, patterns)["issues"]
    assert not detect("The boiler is broken again.", Role.AGENT, patterns)["issues"]  # the class's roles
    assert detect("My card was declined.", Role.CUSTOMER, patterns)["issues"]  # shipped ones kept


@pytest.mark.parametrize(("content", "problem"), [
    ("issues:\n  patterns: [\n", "mine.yaml:3: not valid YAML"),
    ("issues:\n  patterns:\n    - '(unclosed'\n",
     "mine.yaml: issues: pattern '(unclosed': missing ), unterminated subpattern"),
    ("problems:\n  patterns: []\n", "mine.yaml: unknown section 'problems'"),
    ("outcomes:\n  roles: [MANAGER]\n", "mine.yaml: outcomes: roles must be AGENT and/or CUSTOMER"),
])
def test_bad_pattern_file_is_one_line_naming_the_file(tmp_path, content, problem):
    extra = tmp_path / "mine.yaml"
    extra.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigFileError) as caught:
        IssuePatterns.load(extra=[extra])
    assert problem in str(caught.value) and "\n" not in str(caught.value)


# --- a real call, end to end ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def demo_call():
    """The lost-card demo call's frozen transcript (the same words on every processor), enriched
    with the local entities and issues."""
    return frozen_call(FROZEN_DEMO_CALL, [LocalIssues(), LocalEntities()])


def test_real_call_gets_entities_and_issues_in_the_pca_json(demo_call):
    assert demo_call.enrichment == {"entities": "local:spacy-en_core_web_sm", "issues": "local:rules"}
    assert_offsets_slice(demo_call)
    document = json.loads(to_pca_json(demo_call))
    assert validation_errors(document) == []
    analytics = document["ConversationAnalytics"]
    assert analytics["EntityRecognizerName"] == "local:spacy-en_core_web_sm"
    names = {item["Name"]: item for item in analytics["CustomEntities"]}
    assert "Melissa" in names["PERSON"]["Values"]  # the caller's name, said many times
    segments = document["SpeechSegments"]
    for segment in segments:
        for entity in segment["EntitiesDetected"]:
            assert segment["DisplayText"][entity["BeginOffset"]:entity["EndOffset"]] == entity["Text"]
    roles = {speaker.label: speaker.role for speaker in demo_call.speakers}
    for field, role in (("IssuesDetected", Role.CUSTOMER), ("ActionItemsDetected", Role.AGENT),
                        ("OutcomesDetected", Role.AGENT)):
        assert analytics[field], field
        assert any(segment[field] and roles[segment["SegmentSpeaker"]] is role for segment in segments), field
    assert any("cancel" in item["Text"].lower() for item in analytics["IssuesDetected"])


def test_enrichment_is_fast_enough(demo_call):
    """Local entities and issues of a 150-turn call stay well under the 2 s budget (model loaded)."""
    import time

    turns = [(turn.speaker, turn.text) for turn in demo_call.turns]
    conv = conversation(*(turns * (150 // len(turns) + 1))[:150])
    started = time.perf_counter()
    enrich(conv, [LocalEntities(), LocalIssues()])
    assert time.perf_counter() - started < 2.0
