"""Is a text English? A stop-word heuristic for checking Whisper's translations.

Whisper cannot identify the language of text, only of audio, and its translate task sometimes
answers in the source language. English prose is about a third function words ("the", "and",
"you", ...); other languages' text rarely uses them. Words that are common function words
elsewhere too are left out where English does without them (die/was/so/an, de/no/he/do, on, i)
and kept where it does not (a, in, is, of, to), which the threshold allows for. Two guards catch
short foreign lines that still score: more foreign function words than English ones ("Io sono a
casa"), or more than one word in five with accented letters.
"""

from __future__ import annotations

import re

FUNCTION_WORDS = frozenset("""
a in is of to the and that it for you with this be are have not we they at from by or but what all were when
your can there which their if will my has been would could should she his her about our how them
these those than then who its it's i'm i've i'll you're we're they're don't doesn't didn't can't
won't isn't aren't wasn't there's that's what's let's just because into over after before out up
any some very really also more other one only like know get want need here where why yes okay
""".split())
# The commonest function words of German, Spanish, French, Italian, Portuguese and Dutch that are
# not English words: a text with more of these than of English ones is not English.
FOREIGN_WORDS = frozenset("""
der das und ist nicht ich sie wir mit für auf ein eine den dem zu von sich auch wie aber oder
el la los las que y en es por para con una un del al lo se su como pero más muy
le les et est une des du je vous nous pas qui dans sur avec ce il elle au aux
il di che è non sono della gli della nel alla anche
o os não um uma com da das ao em mais foi
het een en van ik niet dat op te zijn voor maar ook
""".split())
# Texts under three words are judged by these replies instead ("Yes.", "Thank you.", "Bye-bye.").
SHORT_REPLIES = FUNCTION_WORDS | frozenset(
    "no ok thank thanks hello hi bye goodbye sure right please sorry good great fine alright well".split()
)
# Measured on 10 English lines (Whisper base translations, call transcripts): 0.33-0.67; on 18
# hand-written German, Spanish, French, Italian, Dutch, Portuguese and Polish lines: 0-0.19 (Dutch).
MIN_RATIO = 0.25
MAX_ACCENTED = 0.2
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


def english_ratio(text: str) -> float:
    """The share of the text's words that are English function words (0 for no words)."""
    words = _words(text)
    return sum(word in FUNCTION_WORDS for word in words) / len(words) if words else 0.0


def looks_english(text: str) -> bool:
    words = _words(text)
    if not words:
        return False
    if len(words) < 3:
        return any(word in SHORT_REPLIES for word in words)
    english = english_ratio(text)
    foreign = sum(word in FOREIGN_WORDS for word in words) / len(words)
    # English is written without accents; names may carry them ("José García wants a refund").
    accented = sum(not word.isascii() for word in words) / len(words)
    return english >= MIN_RATIO and english > foreign and accented <= MAX_ACCENTED


def _words(text: str) -> list[str]:
    return [word.lower() for word in _WORD.findall(text.replace("\u2019", "'"))]
