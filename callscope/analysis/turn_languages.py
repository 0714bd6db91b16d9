"""Each turn's language, from the languages of the recognised segments its words came from."""

from __future__ import annotations

from collections import defaultdict

from callscope.analysis.stages import RecognisedSpeech
from callscope.model import Turn, Word


def set_turn_languages(turns: list[Turn], speech: RecognisedSpeech) -> None:
    """Set `Turn.language` to the language of most of the turn's speech (by word duration).

    A turn merged from segments in two languages takes the one spoken longer; its words are matched
    by value, so `turns` must hold the words of `speech` (after speaker attribution).
    """
    language_of: dict[Word, str] = {}
    for index, group in enumerate(speech.groups):
        for word in group:
            language_of[word] = speech.group_language(index)
    for turn in turns:
        spoken: dict[str, float] = defaultdict(float)
        for word in turn.words:
            spoken[language_of.get(word, speech.language)] += max(word.end - word.start, 0.01)
        turn.language = max(spoken, key=spoken.__getitem__) if spoken else speech.language
