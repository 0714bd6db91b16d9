"""Call categories from YAML rules: every condition type, fuzzy phrases, time windows, absences,
rule-file errors, and the default rules on the real demo call (a lost-card call)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from callscope.enrichment import enrich
from callscope.enrichment.categories import CategoryRules, CategoryRulesError, LocalCategories
from callscope.enrichment.categories import phrases as phrase_matching
from callscope.model import AudioSource, Conversation, Role, Speaker, TimeSpan, Turn, Word
from callscope.output.pca import to_pca, to_pca_json
from tests.conftest import FROZEN_DEMO_CALL, frozen_call

AGENT, CUSTOMER = "spk_1", "spk_0"
SPEAKERS = [Speaker(CUSTOMER, Role.CUSTOMER, channel=0), Speaker(AGENT, Role.AGENT, channel=1)]


def _turn(speaker: str, start: float, text: str, sentiment: float | None = None, interruption: bool = False) -> Turn:
    words = [Word(f" {token}", start + i * 0.3, start + i * 0.3 + 0.25, 0.9, speaker)
             for i, token in enumerate(text.split())]
    return Turn(speaker, words, interruption=interruption, sentiment=sentiment)


def _call(turns: list[Turn], duration: float = 100.0, non_talk: tuple[TimeSpan, ...] = (),
          speakers: list[Speaker] = SPEAKERS) -> Conversation:
    source = AudioSource("call.wav", "0" * 64, "wav", "pcm_s16le", 8000, 2, duration)
    return Conversation(source, list(speakers), turns, "en", non_talk=list(non_talk))


def _rules(tmp_path: Path, text: str) -> CategoryRules:
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    return CategoryRules.load(path)


def _categorise(tmp_path: Path, conversation: Conversation, text: str) -> dict[str, list[tuple[float, float]]]:
    LocalCategories(_rules(tmp_path, text)).enrich(conversation)
    return {match.name: [(span.start, span.end) for span in match.spans] for match in conversation.categories}


def _one(condition: str) -> str:
    return f"categories:\n  - name: hit\n    all:\n      - {condition}\n"


def _span(turn: Turn) -> tuple[float, float]:
    return (turn.start, turn.end)


# --- transcript -------------------------------------------------------------------------------

def test_phrase_is_case_and_punctuation_insensitive_and_only_counts_the_chosen_speaker(tmp_path):
    agent = _turn(AGENT, 0, "Thank you for calling. How can I help?")
    customer = _turn(CUSTOMER, 3, "Hi, I've LOST my card!")
    call = _call([agent, customer])
    rule = "transcript: {{phrases: ['lost my card', \"I've lost\"], speaker: {}}}"
    assert _categorise(tmp_path, call, _one(rule.format("customer"))) == {"hit": [_span(customer)]}
    assert customer.categories == ["hit"] and agent.categories == []
    assert _categorise(tmp_path, call, _one(rule.format("agent"))) == {}
    assert _categorise(tmp_path, call, _one(rule.format("any"))) == {"hit": [_span(customer)]}


def test_exact_phrases_match_whole_words_only(tmp_path):
    call = _call([_turn(CUSTOMER, 0, "I lost my cardigan at the discard pile")])
    assert _categorise(tmp_path, call, _one("transcript: {phrases: [lost my card, card]}")) == {}
    assert _categorise(tmp_path, call, _one("transcript: {phrases: [my cardigan]}")) != {}


@pytest.fixture(params=["rapidfuzz", "difflib"])
def similarity_backend(request, monkeypatch):
    if request.param == "difflib":
        monkeypatch.setattr(phrase_matching, "process", None)
    return request.param


def test_fuzzy_phrases_survive_asr_errors(tmp_path, similarity_backend):
    # What Whisper made of "I lost my credit card" and "thank you for calling" on a noisy line.
    garbled = _call([_turn(CUSTOMER, 0, "yeah so I lost mai credit car yesterday"),
                     _turn(AGENT, 5, "okay thank you for col in today")])
    exact = _one("transcript: {phrases: [lost my credit card, thank you for calling]}")
    assert _categorise(tmp_path, garbled, exact) == {}
    fuzzy = _one("transcript: {phrases: [lost my credit card, thank you for calling], fuzzy: 0.85}")
    assert _categorise(tmp_path, garbled, fuzzy) == {"hit": [_span(turn) for turn in garbled.turns]}
    strict = _one("transcript: {phrases: [lost my credit card, thank you for calling], fuzzy: 0.95}")
    assert _categorise(tmp_path, garbled, strict) == {}


def test_fuzzy_phrases_tolerate_split_words_but_not_short_lookalikes(tmp_path, similarity_backend):
    split = _call([_turn(CUSTOMER, 0, "I am the card holder on this account")])
    assert _categorise(tmp_path, split, _one("transcript: {phrases: [cardholder], fuzzy: 0.85}")) != {}
    # "sue" and "sure" are 86% similar: phrases under 5 characters need the exact words.
    sure = _call([_turn(CUSTOMER, 0, "sure I will do that")])
    assert _categorise(tmp_path, sure, _one("transcript: {phrases: [sue], fuzzy: 0.85}")) == {}


def test_min_count_counts_matching_turns(tmp_path):
    call = _call([_turn(CUSTOMER, 0, "this is ridiculous"), _turn(AGENT, 3, "I understand"),
                  _turn(CUSTOMER, 6, "absolutely ridiculous")])
    assert "hit" in _categorise(tmp_path, call, _one("transcript: {phrases: [ridiculous], min_count: 2}"))
    assert _categorise(tmp_path, call, _one("transcript: {phrases: [ridiculous], min_count: 3}")) == {}


def test_speaker_roles_come_from_the_speakers_not_the_labels(tmp_path):
    # A diarized mono call where role detection found the agent on spk_0.
    speakers = [Speaker("spk_0", Role.AGENT, role_confidence=0.9),
                Speaker("spk_1", Role.CUSTOMER, role_confidence=0.9)]
    by_agent = _one("transcript: {phrases: [thank you for calling], speaker: agent}")
    call = _call([_turn("spk_0", 0, "thank you for calling")], speakers=speakers)
    assert "hit" in _categorise(tmp_path, call, by_agent)
    # An undiarized call: one speaker of unknown role, matched by `any` only.
    mono = _call([_turn("spk_0", 0, "thank you for calling")], speakers=[Speaker("spk_0", Role.UNKNOWN)])
    assert _categorise(tmp_path, mono, by_agent) == {}
    assert "hit" in _categorise(tmp_path, mono, _one("transcript: {phrases: [thank you for calling]}"))


# --- time windows -----------------------------------------------------------------------------

@pytest.mark.parametrize(("window", "expected"), [
    ("first_secs: 10", ["early"]),
    ("last_secs: 15", ["late"]),
    ("first_pct: 50", ["early"]),
    ("last_pct: 5", []),  # 95-100 s: after the late turn ended
    ("last_pct: 20", ["late"]),
    ("first_secs: 100", ["early", "late"]),
])
def test_time_windows_are_absolute_or_relative_to_the_call(tmp_path, window, expected):
    turns = {"early": _turn(AGENT, 5, "let me transfer you"), "late": _turn(AGENT, 88, "let me transfer you")}
    call = _call(list(turns.values()), duration=100.0)
    found = _categorise(tmp_path, call, _one(f"transcript: {{phrases: [transfer you], {window}}}"))
    assert found.get("hit", []) == [_span(turns[name]) for name in expected]


# --- sentiment, interruptions, non-talk time -------------------------------------------------

def test_sentiment_polarity_uses_the_reference_threshold(tmp_path):
    turns = [_turn(CUSTOMER, 10, "this is fine", sentiment=-1.9), _turn(AGENT, 20, "sorry", sentiment=-4.0),
             _turn(CUSTOMER, 60, "this is awful", sentiment=-2.0), _turn(CUSTOMER, 70, "hmm", sentiment=None)]
    call = _call(turns, duration=80.0)
    negative_end = _one("sentiment: {speaker: customer, polarity: negative, last_secs: 30}")
    assert _categorise(tmp_path, call, negative_end) == {"hit": [_span(turns[2])]}
    negative_start = _one("sentiment: {speaker: customer, polarity: negative, first_secs: 30}")
    assert _categorise(tmp_path, call, negative_start) == {}
    neutral = _one("sentiment: {speaker: customer, polarity: [neutral, positive]}")
    assert _categorise(tmp_path, call, neutral) == {"hit": [_span(turns[0])]}  # the unscored turn never matches


def test_sentiment_conditions_never_hold_without_scores(tmp_path):
    call = _call([_turn(CUSTOMER, 0, "hello"), _turn(AGENT, 2, "hi")])
    never_negative = _one("sentiment: {speaker: customer, polarity: negative, absent: true}")
    assert _categorise(tmp_path, call, never_negative) == {}  # no verdict: sentiment never ran
    call.turns[0].sentiment = 0.5
    assert _categorise(tmp_path, call, never_negative) == {"hit": []}


def test_interruptions_are_counted_per_speaker(tmp_path):
    turns = [_turn(CUSTOMER, 0, "so the problem is"), _turn(AGENT, 1, "right", interruption=True),
             _turn(CUSTOMER, 3, "as I said"), _turn(AGENT, 4, "okay okay", interruption=True),
             _turn(CUSTOMER, 50, "wait", interruption=True)]
    call = _call(turns)
    assert _categorise(tmp_path, call, _one("interruption: {speaker: agent, min_count: 2}")) == {
        "hit": [_span(turns[1]), _span(turns[3])]}
    assert _categorise(tmp_path, call, _one("interruption: {speaker: agent, min_count: 3}")) == {}
    assert _categorise(tmp_path, call, _one("interruption: {min_count: 3}")) != {}
    assert _categorise(tmp_path, call, _one("interruption: {speaker: customer, first_secs: 30}")) == {}


def test_non_talk_periods_tag_the_turn_they_precede_or_follow_the_last(tmp_path):
    turns = [_turn(AGENT, 0, "please hold"), _turn(AGENT, 40, "thanks for holding"), _turn(CUSTOMER, 43, "bye")]
    quiet = (TimeSpan(0.55, 40.0), TimeSpan(43.25, 45.0), TimeSpan(50.0, 95.0))
    call = _call(turns, duration=95.0, non_talk=quiet)
    assert _categorise(tmp_path, call, _one("non_talk: {min_secs: 30}")) == {"hit": [(0.55, 40.0), (50.0, 95.0)]}
    # Silence before a turn goes to that turn; silence after the last turn to its FollowOnCategories.
    assert [turn.categories for turn in turns] == [[], ["hit"], []]
    assert [turn.follow_on_categories for turn in turns] == [[], [], ["hit"]]
    assert to_pca(call)["SpeechSegments"][-1]["FollowOnCategories"] == ["hit"]
    assert _categorise(tmp_path, call, _one("non_talk: {min_secs: 30, first_secs: 30}")) == {"hit": [(0.55, 40.0)]}
    assert _categorise(tmp_path, call, _one("non_talk: {min_secs: 60}")) == {}


# --- absence, any/all, output ----------------------------------------------------------------

NO_THANK_YOU = """
categories:
  - name: agent_no_thank_you
    all:
      - transcript: {phrases: ["thank you for calling", "thanks for calling"], speaker: agent, absent: true}
"""


def test_absence_rules_match_without_timestamps_on_the_first_segment(tmp_path):
    call = _call([_turn(CUSTOMER, 0, "thanks for calling me back"), _turn(AGENT, 2, "how can I help")])
    assert _categorise(tmp_path, call, NO_THANK_YOU) == {"agent_no_thank_you": []}
    assert call.turns[0].categories == ["agent_no_thank_you"]
    header = to_pca(call)["ConversationAnalytics"]["CategoriesDetected"]
    assert header == [{"Name": "agent_no_thank_you", "Instances": 1, "Timestamps": []}]
    polite = _call([_turn(CUSTOMER, 0, "hello"), _turn(AGENT, 2, "Thanks for calling!")])
    assert _categorise(tmp_path, polite, NO_THANK_YOU) == {}


def test_all_needs_every_condition_and_any_needs_one(tmp_path):
    turns = [_turn(CUSTOMER, 0, "I want to cancel my account", sentiment=-3.0),
             _turn(AGENT, 5, "I'm sorry to hear that")]
    call = _call(turns)
    both = """
categories:
  - name: angry_cancel
    all:
      - transcript: {phrases: [cancel my account], speaker: customer}
      - sentiment: {speaker: customer, polarity: negative}
    any:
      - transcript: {phrases: [sorry], speaker: agent}
      - transcript: {phrases: [manager], speaker: customer}
  - name: calm_cancel
    all:
      - transcript: {phrases: [cancel my account]}
      - sentiment: {polarity: positive}
"""
    assert _categorise(tmp_path, call, both) == {"angry_cancel": [_span(turns[0]), _span(turns[1])]}
    assert [turn.categories for turn in turns] == [["angry_cancel"], ["angry_cancel"]]


def test_enriching_twice_replaces_and_records_the_backend(tmp_path):
    call = _call([_turn(AGENT, 0, "thank you for calling")])
    enricher = LocalCategories(_rules(tmp_path, _one("transcript: {phrases: [thank you]}")))
    enrich(call, [enricher])
    enrich(call, [enricher])
    assert [match.name for match in call.categories] == ["hit"] and call.turns[0].categories == ["hit"]
    assert call.enrichment["categories"] == "local:rules"


# --- rule-file errors -------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "problem"), [
    (_one("transcript: {phrase: [hello]}"),
     "category 'hit', all[1] (transcript): unknown key 'phrase' (expected one of: phrases,"),
    (_one("non_talk: {min_secs: thirty}"),
     "category 'hit', all[1] (non_talk): 'min_secs' must be a number, not 'thirty'"),
    (_one("non_talk: {min_secs: .nan}"), "'min_secs' must be a number, not nan"),
    (_one("non_talk: {min_secs: 30}\n        interruption: {}"),
     "one condition per list item ('- non_talk: ...'), got 2 together: non_talk, interruption"),
    ("", "the file is empty"),
    (_one("transcript: {speaker: agent}"), "category 'hit', all[1] (transcript): missing 'phrases'"),
    (_one("transcript: {phrases: hello}"), "'phrases' must be a non-empty list of text, not 'hello'"),
    (_one("transcript: {phrases: [hi], speaker: boss}"), "'speaker' must be one of agent, customer, any, not 'boss'"),
    (_one("transcript: {phrases: [hi], absent: 'yes'}"), "'absent' must be true or false, not 'yes'"),
    (_one("transcript: {phrases: [hi], fuzzy: 85}"), "'fuzzy' must be at least 0.5 and at most 1, not 85"),
    (_one("transcript: {phrases: [hi], first_secs: 10, last_pct: 10}"), "give at most one of"),
    (_one("sentiment: {polarity: mixed}"), "'polarity' must be positive, negative, neutral"),
    (_one("interruption: {min_count: 0}"), "'min_count' must be a whole number of at least 1, not 0"),
    (_one("silence: {min_secs: 3}"), "unknown condition 'silence' (expected one of: transcript, sentiment,"),
    (_one("transcript: {phrases: ['?!']}"), "phrase '?!' has no words"),
    ("categories:\n  - name: x\n    all:\n  - transcript: {phrases: [a]}\n",
     "category 'x': needs an 'all:' or 'any:'"),
    ("categories:\n  - name: x\n    every: []\n",
     "category 'x': unknown key 'every' (expected one of: name, all, any)"),
    ("categories:\n  - all:\n      - interruption: {}\n", "category 1: 'name' must be non-empty text, not nothing"),
    ("categories: []\n", "'categories' must be a non-empty list"),
    ("rules:\n  - name: x\n", "expected a mapping with a 'categories:' list"),
    (_one("interruption: {}") + "  - name: hit\n    all:\n      - interruption: {}\n",
     "category 'hit' is defined twice"),
    (_one("transcript: {phrases: [a], phrases: [b]}"), "not valid YAML: duplicate key 'phrases' (line 4"),
    ("categories:\n  - name: x\n     all: [\n", "not valid YAML: "),
])
def test_bad_rule_files_fail_with_one_line_naming_the_file(tmp_path, text, problem):
    with pytest.raises(CategoryRulesError) as raised:
        _rules(tmp_path, text)
    message = str(raised.value)
    assert message.startswith(f"{tmp_path / 'rules.yaml'}: ") and "\n" not in message
    assert problem in message


def test_unreadable_rule_files_are_one_line(tmp_path):
    with pytest.raises(CategoryRulesError, match=r"nope\.yaml: rules file not found$"):
        CategoryRules.load(tmp_path / "nope.yaml")
    binary = tmp_path / "rules.yaml"
    binary.write_bytes(b"categories:\n  - name: \xff\n")
    with pytest.raises(CategoryRulesError, match=r"rules\.yaml: not UTF-8 text \(byte 22\)$"):
        CategoryRules.load(binary)


# --- default rules ----------------------------------------------------------------------------

def test_default_rules_load_and_stay_within_the_enrichment_budget():
    rules = CategoryRules.load()
    assert len(rules.categories) >= 15
    # A 10-minute call's worth of turns: 200 turns, about 2,000 words, with sentiment and silences.
    lines = ["thank you for calling the bank this is Ashley how may I help you today",
             "hi I need to cancel my card my wallet was stolen from my car yesterday afternoon",
             "I'm so sorry to hear that can you give me your address please", "yes it is six seven one Meadow Lane"]
    turns = [_turn((AGENT, CUSTOMER)[i % 2], i * 3.0, lines[i % 4], sentiment=(-3.0, 0.4, 2.5)[i % 3],
                   interruption=i % 9 == 0) for i in range(200)]
    call = _call(turns, duration=600.0, non_talk=tuple(TimeSpan(i * 30.0 + 2.9, i * 30.0 + 3.0) for i in range(20)))
    LocalCategories(rules).enrich(call)  # warm up (imports, phrase tables)
    started = time.perf_counter()
    LocalCategories(rules).enrich(call)
    elapsed = time.perf_counter() - started
    assert elapsed < 2.0, f"default rules took {elapsed:.2f} s on a 10-minute call"
    assert {"greeting_given", "lost_or_stolen_card", "agent_apology"} <= {match.name for match in call.categories}


@pytest.fixture(scope="module")
def demo_call():
    """The lost-card demo call (stereo: channel 0 customer, channel 1 agent) with the default rules, on
    its frozen transcript: the rules must see the same words on every processor."""
    conversation = frozen_call(FROZEN_DEMO_CALL)
    LocalCategories().enrich(conversation)
    return conversation


def test_default_rules_on_the_lost_card_demo_call(demo_call):
    found = {match.name: match for match in demo_call.categories}
    # The customer opens with "I just need to cancel my card" (their car was broken into); the agent
    # later asks "when did you lose your cards?".
    lost = found["lost_or_stolen_card"]
    assert lost.spans and all(0 <= span.start < span.end <= demo_call.source.duration for span in lost.spans)
    assert any(span.start < 30 for span in lost.spans)
    opening = next(turn for turn in demo_call.turns if "lost_or_stolen_card" in turn.categories)
    assert opening.speaker == CUSTOMER and "cancel my card" in opening.text.lower()
    # The agent greets ("thank you for calling the bank"), verifies identity and thanks at the close.
    assert {"greeting_given", "identity_verification", "agent_thanked_customer_at_close"} <= found.keys()
    assert "agent_never_thanked" not in found and "agent_no_greeting" not in found


def test_demo_call_categories_reach_the_pca_json(demo_call):
    document = json.loads(to_pca_json(demo_call))
    header = {item["Name"]: item for item in document["ConversationAnalytics"]["CategoriesDetected"]}
    lost = header["lost_or_stolen_card"]
    assert lost["Instances"] == len(lost["Timestamps"]) >= 1
    duration = float(document["ConversationAnalytics"]["Duration"])
    assert all(0 <= stamp["BeginOffsetSecs"] < stamp["EndOffsetSecs"] <= duration for stamp in lost["Timestamps"])
    # Each timestamp is a triggering turn, and that segment lists the category.
    tagged = [segment["SegmentStartTime"] for segment in document["SpeechSegments"]
              if "lost_or_stolen_card" in segment["CategoriesDetected"]]
    assert tagged == [stamp["BeginOffsetSecs"] for stamp in lost["Timestamps"]]
