"""Turn sentiment: the shipped local model (real ONNX encoder + classifier), the reference's scoring
rule, the PCA fields it feeds, and the Comprehend backend against botocore's real service model."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import ANY, Stubber

from callscope.analytics.sentiment_trends import POLARITY_THRESHOLD
from callscope.enrichment import enrich
from callscope.enrichment.comprehend_sentiment import (
    MAX_BATCH,
    MAX_TEXT_BYTES,
    ComprehendError,
    ComprehendSentiment,
    comprehend_language,
)
from callscope.enrichment.sentiment import LocalSentiment, sentiment_label, signed_sentiment
from callscope.enrichment.sentiment_model import load_sentiment_model
from callscope.enrichment.text_pieces import split_by_bytes, utf8_size
from callscope.model import AudioSource, Conversation, Role, SentimentScores, Speaker, Turn, Word
from callscope.output.pca import to_pca, validation_errors

# Turns in neither bench/data/sentiment/train.jsonl nor test.jsonl.
COMPLAINT = "this is the fourth time i've rung about the same fault and honestly i'm fed up, nobody ever fixes anything"
THANKS = "oh that's fantastic, thank you so much, you've been really helpful today"
QUESTION = "can i have your account number please"


@pytest.fixture(scope="module")
def local() -> LocalSentiment:
    return LocalSentiment(load_sentiment_model())


def _turn(speaker: str, text: str, start: float, language: str = "", translation: str | None = None) -> Turn:
    words = text.split()
    step = 2.0 / max(len(words), 1)
    return Turn(speaker=speaker, language=language, translation=translation, words=[
        Word(f" {word}", start + i * step, start + (i + 1) * step, 0.9, speaker) for i, word in enumerate(words)])


def _call(texts: list[str], language: str = "en") -> Conversation:
    turns = [_turn(f"spk_{i % 2}", text, 3.0 * i) for i, text in enumerate(texts)]
    source = AudioSource("call.wav", "0" * 64, "wav", "pcm_s16le", 8000, 2, 3.0 * len(texts))
    return Conversation(source=source, speakers=[Speaker("spk_0", Role.AGENT, 1), Speaker("spk_1", Role.CUSTOMER, 0)],
                        turns=turns, language=language)


# --- the reference's rule -------------------------------------------------------------------------

def test_rule_is_negative_first_then_positive_at_two_point_zero():
    assert signed_sentiment(SentimentScores(positive=0.45, negative=0.41, neutral=0.14)) == pytest.approx(-2.05)
    assert signed_sentiment(SentimentScores(positive=0.9, negative=0.05, neutral=0.05)) == pytest.approx(4.5)
    assert signed_sentiment(SentimentScores(positive=0.39, negative=0.39, neutral=0.22)) == 0.0
    assert sentiment_label(signed_sentiment(SentimentScores(0.0, 0.4, 0.6))) == "negative"  # exactly 2.0
    assert sentiment_label(None) == "neutral"


# --- the local model ------------------------------------------------------------------------------

def test_local_model_on_unseen_turns(local):
    call = _call([COMPLAINT, THANKS, QUESTION])
    local.enrich(call)
    assert [sentiment_label(turn.sentiment) for turn in call.turns] == ["negative", "positive", "neutral"]
    complaint, thanks, question = call.turns
    assert complaint.sentiment <= -POLARITY_THRESHOLD and thanks.sentiment >= POLARITY_THRESHOLD
    assert question.sentiment_scores.neutral > 0.5
    for turn in call.turns:
        scores = turn.sentiment_scores
        assert all(0.0 <= p <= 1.0 for p in (scores.positive, scores.negative, scores.neutral))
        assert scores.positive + scores.negative + scores.neutral == pytest.approx(1.0, abs=1e-5)
        assert turn.sentiment == signed_sentiment(scores)


def test_short_turns_get_no_sentiment(local):
    call = _call(["okay", "yes sir", "not good"])  # 4, 7 and 8 characters
    local.enrich(call)
    assert [turn.sentiment_scores is None for turn in call.turns] == [True, True, False]
    assert call.turns[0].sentiment is None and call.turns[2].sentiment is not None


def test_one_batch_scores_each_turn_as_alone(local):
    together = local.model.probabilities([COMPLAINT, THANKS, QUESTION, "ok then"])
    alone = local.model.probabilities([THANKS])
    # Neither padding nor the other turns change a turn's score (int8 dynamic quantisation did).
    assert together[1] == pytest.approx(alone[0], abs=1e-5)


def test_turn_longer_than_the_encoder_window_is_scored_whole(local):
    # ~560 tokens: three windows of at most 256; the complaint is only in the second half.
    questions = " ".join([QUESTION] * 30)
    long_text = f"{questions} {' '.join([COMPLAINT] * 12)}"
    assert len(long_text.split()) > 256 + 128
    long_scores, questions_scores = local.model.probabilities([long_text, questions])
    assert questions_scores[1] < 0.05
    assert long_scores[1] > 0.2  # truncating at the first window would have dropped the complaint


def test_translation_is_scored_and_untranslated_foreign_turns_are_skipped(local):
    call = _call([])
    call.turns = [_turn("spk_1", "estoy muy enfadado con el servicio", 0.0, "es", translation=COMPLAINT),
                  _turn("spk_1", "estoy muy enfadado con el servicio", 3.0, "es")]
    local.enrich(call)
    assert sentiment_label(call.turns[0].sentiment) == "negative"
    assert call.turns[1].sentiment is None
    assert call.warnings == ["sentiment: 1 turn(s) not in English and not translated: left unscored"]


def test_pca_document_is_consistent_with_the_turns(local):
    texts = [QUESTION, COMPLAINT, "thank you for calling, one moment while i pull that up",
             "i'm really unhappy with how this has been handled",
             "ok", THANKS, "great news, i've refunded the charge and added a credit for the trouble",
             "that's wonderful, thanks a lot"]
    call = enrich(_call(texts), [local])
    assert call.enrichment == {"sentiment": "local:minilm-logreg"}
    document = to_pca(call)
    assert validation_errors(document) == []
    for turn, segment in zip(call.turns, document["SpeechSegments"]):
        if turn.sentiment is None:
            assert segment["BaseSentimentScores"] == [] and segment["SentimentScore"] == 0.0
            continue
        base = segment["BaseSentimentScores"]
        assert base["Positive"] + base["Negative"] + base["Neutral"] == pytest.approx(5.0, abs=0.01)
        negative = base["Negative"] >= POLARITY_THRESHOLD
        positive = not negative and base["Positive"] >= POLARITY_THRESHOLD
        assert (segment["SentimentIsNegative"], segment["SentimentIsPositive"]) == (int(negative), int(positive))
        expected = base["Negative"] if negative else base["Positive"] if positive else 0.0
        assert segment["SentimentScore"] == pytest.approx(expected, abs=0.002)
    assert sum(s["SentimentIsNegative"] for s in document["SpeechSegments"]) >= 1
    assert sum(s["SentimentIsPositive"] for s in document["SpeechSegments"]) >= 1
    for speaker, trend in document["ConversationAnalytics"]["SentimentTrends"].items():
        signed = [(-s["SentimentScore"] if s["SentimentIsNegative"]
                   else s["SentimentScore"] if s["SentimentIsPositive"] else 0.0)
                  for s in document["SpeechSegments"] if s["SegmentSpeaker"] == speaker]
        assert trend["SentimentScore"] == pytest.approx(sum(signed) / len(signed), abs=0.002)


# --- splitting for Comprehend's size limit --------------------------------------------------------

def test_split_by_bytes_keeps_sentences_words_and_characters_whole():
    text = "Ça coûte trop cher. " * 300 + "x" * 12 + " ünïcödé" * 10
    pieces = split_by_bytes(text, 100)
    assert all(0 < utf8_size(piece) <= 100 for piece in pieces)
    assert " ".join(pieces).split() == text.split()
    assert "Ça coûte trop cher. Ça coûte trop cher." in pieces[0]  # sentences packed together
    assert split_by_bytes("é" * 30, 9) == ["éééé"] * 7 + ["éé"]  # never inside a 2-byte character
    assert split_by_bytes("  ", 100) == []


# --- Comprehend -----------------------------------------------------------------------------------

@pytest.fixture
def comprehend():
    client = boto3.client("comprehend", region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
    sent: list[dict] = []
    client.meta.events.register("provide-client-params.comprehend.*", lambda params, **_: sent.append(dict(params)))
    with Stubber(client) as stubber:
        yield client, stubber, sent
        stubber.assert_no_pending_responses()


def _score(positive: float, negative: float, neutral: float, mixed: float) -> dict:
    return {"Positive": positive, "Negative": negative, "Neutral": neutral, "Mixed": mixed}


def _result(index: int, scores: dict) -> dict:
    return {"Index": index, "Sentiment": max(scores, key=scores.get).upper(), "SentimentScore": scores}


def test_comprehend_batches_splits_and_maps_results_back(comprehend):
    client, stubber, sent = comprehend
    long_turn = "Das Gerät ist kaputt und niemand hilft mir. " * 260  # ~11.7 KB: three pieces
    texts = [f"turn number {i} of the call" for i in range(30)] + ["ja", long_turn]
    call = _call(texts, language="de")
    pieces = split_by_bytes(long_turn, MAX_TEXT_BYTES)
    assert len(pieces) == 3
    items = texts[:30] + pieces  # "ja" is too short to score
    # Each text its own scores; results listed in reverse order: mapping must follow Index.
    scores = [_score(0.01 * i, 0.5 - 0.01 * i, 0.4, 0.09) for i in range(30)] + [
        _score(0.0, 0.9, 0.1, 0.0), _score(0.0, 0.6, 0.3, 0.1), _score(0.2, 0.2, 0.5, 0.1)]
    for begin in range(0, len(items), MAX_BATCH):
        batch = list(range(begin, min(begin + MAX_BATCH, len(items))))
        stubber.add_response("batch_detect_sentiment",
                             {"ResultList": [_result(i - begin, scores[i]) for i in reversed(batch)], "ErrorList": []},
                             {"TextList": [items[i] for i in batch], "LanguageCode": "de"})

    ComprehendSentiment(client).enrich(call)

    assert [len(request["TextList"]) for request in sent] == [25, 8]
    assert all(utf8_size(text) <= MAX_TEXT_BYTES for request in sent for text in request["TextList"])
    for i in range(30):
        got = call.turns[i].sentiment_scores
        # Mixed → neutral
        assert (got.positive, got.negative, got.neutral) == pytest.approx((0.01 * i, 0.5 - 0.01 * i, 0.49))
        assert call.turns[i].sentiment == signed_sentiment(got)
    assert call.turns[30].sentiment is None
    weights = [utf8_size(piece) for piece in pieces]
    expected_negative = sum(w * s["Negative"] for w, s in zip(weights, scores[30:])) / sum(weights)
    assert call.turns[31].sentiment_scores.negative == pytest.approx(expected_negative)
    assert call.turns[31].sentiment == pytest.approx(-5 * expected_negative)
    assert call.warnings == []


def test_comprehend_error_list_falls_back_to_single_calls(comprehend):
    client, stubber, _ = comprehend
    call = _call(["the refund still has not arrived", "thank you for your patience today",
                  "what is the reference number"])
    stubber.add_response("batch_detect_sentiment", {
        "ResultList": [_result(2, _score(0.05, 0.05, 0.9, 0.0))],
        "ErrorList": [{"Index": 0, "ErrorCode": "INTERNAL_SERVER_ERROR", "ErrorMessage": "try again"},
                      {"Index": 1, "ErrorCode": "INTERNAL_SERVER_ERROR", "ErrorMessage": "try again"}],
    }, {"TextList": ANY, "LanguageCode": "en"})
    stubber.add_response("detect_sentiment", {"Sentiment": "NEGATIVE", "SentimentScore": _score(0.02, 0.88, 0.1, 0.0)},
                         {"Text": "the refund still has not arrived", "LanguageCode": "en"})
    stubber.add_client_error("detect_sentiment", "InternalServerException", "service unavailable",
                             expected_params={"Text": "thank you for your patience today", "LanguageCode": "en"})

    ComprehendSentiment(client).enrich(call)

    assert call.turns[0].sentiment == pytest.approx(-4.4)
    assert call.turns[1].sentiment is None and call.turns[1].sentiment_scores is None
    assert call.turns[2].sentiment == 0.0
    assert len(call.warnings) == 1 and "could not score 1 turn(s)" in call.warnings[0]
    assert "\n" not in call.warnings[0]


def test_comprehend_languages_and_translations(comprehend):
    client, stubber, sent = comprehend
    call = _call([])
    call.turns = [_turn("spk_0", "hola, ¿en qué puedo ayudarle?", 0.0, "es"),
                  _turn("spk_1", "jag vill säga upp mitt abonnemang", 3.0, "sv"),  # Swedish: not supported
                  _turn("spk_1", "jag vill säga upp mitt abonnemang", 6.0, "sv",
                        translation="i want to cancel my subscription")]
    stubber.add_response("batch_detect_sentiment",
                         {"ResultList": [_result(0, _score(0.1, 0.1, 0.8, 0.0))], "ErrorList": []},
                         {"TextList": ["hola, ¿en qué puedo ayudarle?"], "LanguageCode": "es"})
    stubber.add_response("batch_detect_sentiment",
                         {"ResultList": [_result(0, _score(0.1, 0.3, 0.6, 0.0))], "ErrorList": []},
                         {"TextList": ["i want to cancel my subscription"], "LanguageCode": "en"})

    ComprehendSentiment(client).enrich(call)

    assert [turn.sentiment for turn in call.turns] == [0.0, None, 0.0]
    assert call.warnings == ["sentiment: 1 turn(s) in a language Comprehend does not support: left unscored"]
    assert comprehend_language("en-US") == "en" and comprehend_language("zh-TW") == "zh-TW"
    assert comprehend_language("sv") is None


def test_comprehend_failure_is_one_line(comprehend):
    client, stubber, _ = comprehend
    stubber.add_client_error("batch_detect_sentiment", "AccessDeniedException", "User is not authorized\nto call it")
    with pytest.raises(ComprehendError, match=r"^Comprehend batch_detect_sentiment failed: .*AccessDenied") as error:
        ComprehendSentiment(client).enrich(_call(["what is the reference number"]))
    assert "\n" not in str(error.value)


def test_batches_keep_to_the_token_budget_so_long_turns_are_not_padded_together():
    from callscope.enrichment.sentiment_model import BATCH_SIZE, BATCH_TOKENS, _token_batches

    lengths = [3] * 40 + [200] * 10 + [256] * 3  # a diarized call: many short turns, a few long ones
    batches = _token_batches(list(range(len(lengths))), lengths)
    assert sorted(index for batch in batches for index in batch) == list(range(len(lengths)))
    assert all(len(batch) <= BATCH_SIZE and len(batch) * max(lengths[i] for i in batch) <= BATCH_TOKENS
               for batch in batches)
    assert len(batches[0]) == BATCH_SIZE  # short turns still share a batch
