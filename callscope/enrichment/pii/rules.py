"""Context recognisers presidio lacks, run on the normalised text of a turn.

A number alone says little: nine digits are an SSN after "my social is", a routing number after
"routing", a quantity anywhere else. Each rule is a value pattern plus the words that must come
before it, in the turn or at the end of the previous one (the agent's question: "And the CVV?").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from callscope.enrichment.pii.spoken import Normalised


@dataclass(frozen=True)
class Hit:
    """A detection in normalised-text offsets [begin, end)."""

    type: str
    begin: int
    end: int
    score: float


@dataclass(frozen=True)
class ContextRule:
    type: str
    value: re.Pattern[str]  # the PII; its group "v", when present, is the part to redact
    context: re.Pattern[str] | None  # must end within `window` characters before the value
    window: int
    score: float


def _digits(low: int, high: int) -> str:
    """`low` to `high` digits, singly or in groups ("2241", "2 2 4 1", "512-44-8876"), whole."""
    return rf"(?<!\d)(?<!\d[ -])\d(?:[ -]?\d){{{low - 1},{high - 1}}}(?![ -]?\d)"


_I = re.IGNORECASE
MONTH = (r"(?:jan(?:uary)?|feb(?:ruary)?|march|mar|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
         r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)")
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
_YEAR = r"(?:\d{4}|'?\d{2})"
_OLD_YEAR = r"(?:19\d\d|200\d)"
_DATE = (rf"(?:(?:the )?{_DAY} of {MONTH},? {_YEAR}|{MONTH},? (?:the )?{_DAY}(?:,? {_YEAR})?|{MONTH},? {_YEAR}"
         rf"|\d{{1,2}}[/ .-]\d{{1,2}}[/ .-]{_YEAR}|\d{{5,8}}|\d{{3,4}} \d{{2,4}}|\d{{4}})")
_STATES = (
    "alabama|alaska|arizona|arkansas|california|colorado|connecticut|delaware|florida|georgia|hawaii|idaho|"
    "illinois|indiana|iowa|kansas|kentucky|louisiana|maine|maryland|massachusetts|michigan|minnesota|"
    "mississippi|missouri|montana|nebraska|nevada|new hampshire|new jersey|new mexico|new york|"
    "north carolina|north dakota|ohio|oklahoma|oregon|pennsylvania|rhode island|south carolina|"
    "south dakota|tennessee|texas|utah|vermont|virginia|washington|west virginia|wisconsin|wyoming"
)
_STATE_CODES = ("AL|AK|AZ|AR|CA|CO|CT|DE|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|NM|"
                "NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|DC")
_SUFFIX = (r"street|st|avenue|ave|road|rd|drive|dr|lane|ln|boulevard|blvd|court|ct|way|place|pl|circle|cir|"
           r"terrace|ter|parkway|pkwy|highway|hwy|trail|trl|square|sq|loop|alley|crescent|row|pike|run")
_DIRECTION = r"north|south|east|west|northeast|northwest|southeast|southwest|n|s|e|w|ne|nw|se|sw"
_UNIT = r"apartment|apt|unit|suite|ste|number|no|building|bldg|floor|room|#"
# City, state and ZIP after a street: capitalised words (lowercase ones only before a state), a
# state, five digits.
_STATE = rf"(?:(?i:{_STATES})|{_STATE_CODES})\b"
_CITY = rf"(?:[A-Z][a-z]+(?: [A-Z][a-z]+){{0,2}}|[a-z]+(?: [a-z]+)?(?=,? {_STATE}))"
_PLACE = rf"(?:,? {_CITY})?(?:,? {_STATE})?(?:,? \d{{5}}(?:-\d{{4}})?\b)?"
_STREET = (rf"(?<![\w-])\d{{1,6}}(?: ?[A-Za-z])?(?: (?i:{_DIRECTION}))?(?: [A-Za-z][A-Za-z'.-]*){{1,3}}? "
           rf"(?i:{_SUFFIX})\b\.?(?: (?i:{_DIRECTION})\b)?(?:,? (?i:{_UNIT})\.? ?#?[A-Za-z0-9]{{1,6}}(?: [A-Za-z]\b)?)?"
           + _PLACE)
_PO_BOX = r"(?i:\bp\.? ?o\.? box|\bpost office box) \d{1,6}" + _PLACE
_CITY_STATE_ZIP = rf"\b(?:[A-Z][a-z]+ ){{0,2}}[A-Z][a-z]+,? {_STATE},? \d{{5}}(?:-\d{{4}})?\b"
# Amounts and measures: "twenty three thousand four hundred dollars" is no birth date or account.
_UNIT_AFTER = re.compile(
    r"\s*(?:dollars?|bucks|cents?|percent|%|a month|per|miles?|minutes?|hours?|days?|weeks?|months?|years?|"
    r"units?|items?|points?|pounds?|euros?|kilowatt|megabits?|gigabytes?|GB|MB|mg|milligrams?)\b", re.I)

_CARD_WORDS = r"card|visa|master ?card|amex|american express|discover|credit|debit"


def _rule(kind: str, value: str, context: str | None, window: int, score: float, flags: int = _I) -> ContextRule:
    return ContextRule(kind, re.compile(value, flags), re.compile(context, _I) if context else None, window, score)


RULES: tuple[ContextRule, ...] = (
    _rule("SSN", _digits(9, 9), r"social|\bssn\b|security number|tax id|taxpayer", 80, 0.95),
    _rule("SSN", _digits(4, 4),
          r"(?:last|final) (?:4|four)(?: digits)?(?: of)?(?: (?:your|my|the|his|her))? (?:social|ssn)"
          r"|(?:social|ssn)\b.{0,30}(?:last (?:4|four)|ends? (?:in|with))", 80, 0.95),
    _rule("CREDIT_DEBIT_NUMBER", _digits(13, 19), _CARD_WORDS, 80, 0.95),
    _rule("CREDIT_DEBIT_NUMBER", _digits(4, 4),
          rf"(?:{_CARD_WORDS})\b.{{0,60}}(?:ending|ends?|last (?:4|four))(?: digits)?(?: in| with| of)?", 100, 0.9),
    _rule("PHONE", _digits(4, 4), r"(?:phone|cell|mobile|line|number)\b.{0,20}(?:ending|ends?)(?: in| with)?", 60,
          0.85),
    _rule("CREDIT_DEBIT_EXPIRY", rf"(?<![\w/])(?:\d{{1,2}} ?[/-] ?\d{{2,4}}|\d{{1,2}} \d{{2,4}}|\d{{3,4}}"
                                 rf"|{MONTH},? (?:of )?{_YEAR})(?![\w/])",
          r"expir|\bexp\b|valid (?:thru|through|until)|good (?:thru|through)", 50, 0.9),
    _rule("CREDIT_DEBIT_CVV", _digits(3, 4),
          r"\bcvv|\bcvc|\bcsc\b|\bcid\b|security code|verification code|(?:3|4|three|four)[ -]digit"
          r"|code on the back|on the back|back of the card", 60, 0.9),
    _rule("BANK_ROUTING", _digits(9, 9), r"routing|\baba\b|transit number", 60, 0.95),
    _rule("BANK_ACCOUNT_NUMBER", _digits(5, 17), r"\baccount|\bacct\b|checking|savings", 60, 0.85),
    _rule("PIN", _digits(4, 6), r"\bpin\b|passcode|pass code", 40, 0.9),
    _rule("PHONE", r"(?<![\d-])(?:\+?1[ -]?)?\(?\d{3}\)?[ -]?\d{3}[ -]?\d{4}(?![ -]?\d)|" + _digits(7, 7),
          r"phone|\bcell|mobile|\bcall|reach|contact|\bline\b|\btext|telephone|\bfax\b|extension", 80, 0.85),
    # A North American number's shape (area code and exchange start 2-9) is a phone number on a call.
    _rule("PHONE", r"(?<![\d-])(?:\+?1[ -]?)?\(?[2-9]\d{2}\)?[ -]?[2-9]\d{2}[ -]?\d{4}(?![ -]?\d)", None, 0, 0.6),
    # Numbers outside North America are longer and of any shape; said after "cell" or "call me".
    _rule("PHONE", _digits(10, 13), r"phone|\bcell|mobile|\bcall|reach|contact|\bline\b|\btext|telephone", 80,
          0.85),
    _rule("EMAIL", r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+", None, 0, 1.0),
    _rule("DATE_OF_BIRTH", rf"(?<![\w/]){_DATE}(?![\w/])",
          r"date of birth|birth ?date|birthday|\bborn\b|\bdob\b|\bd\.? ?o\.? ?b\b", 60, 0.9),
    # A whole date in a year people are born in is a birth date on a call, even without context.
    _rule("DATE_OF_BIRTH", rf"(?<![\w/])(?:{MONTH},? (?:the )?{_DAY},? {_OLD_YEAR}|(?:the )?{_DAY} of {MONTH},? "
                           rf"{_OLD_YEAR}|\d{{1,2}}/\d{{1,2}}/{_OLD_YEAR})(?![\w/])", None, 0, 0.6),
    _rule("ADDRESS", r"(?<!\d)(?<!\d[ -])\d{5}(?:-\d{4})?(?![ -]?\d)", r"\bzip|postal|post code", 50, 0.9),
    _rule("ADDRESS", _STREET, None, 0, 0.9, flags=0),
    _rule("ADDRESS", _PO_BOX, None, 0, 0.9, flags=0),
    _rule("ADDRESS", _CITY_STATE_ZIP, None, 0, 0.85, flags=0),
)


def find(normalised: Normalised, previous: str = "") -> list[Hit]:
    """Every rule's matches in a turn; `previous` is the previous turn's normalised text."""
    text = normalised.text
    hits = []
    for rule in RULES:
        answered = False  # the previous turn's question is answered once: "2241. And 12 at 1999."
        for match in rule.value.finditer(text):
            begin, end = match.span("v") if "v" in rule.value.groupindex else match.span()
            if begin == end or (rule.type != "ADDRESS" and _UNIT_AFTER.match(text, match.end())):
                continue
            if rule.context is None:
                hits.append(Hit(rule.type, begin, end, rule.score))
                continue
            own = text[:match.start()]
            before = f"{previous} | {own}"[-rule.window:]
            found = None
            for found in rule.context.finditer(before):
                pass
            if found is None:
                continue
            from_previous = found.end() <= len(before) - len(own) - 3
            if from_previous and answered:
                continue
            answered = answered or from_previous
            # The nearer the context word, the surer: "phone ... account 1234" is an account.
            distance = len(before) - found.end()
            hits.append(Hit(rule.type, begin, end, rule.score - 0.1 * distance / rule.window))
    return hits
