"""The "categories" enricher: rules from a YAML file matched against the whole call."""

from __future__ import annotations

from callscope.enrichment.categories.loader import CategoryRules
from callscope.enrichment.categories.matcher import CallView, Hit, match_category
from callscope.model import CategoryMatch, Conversation, TimeSpan


class LocalCategories:
    """Fills Conversation.categories and each triggering turn's `categories`.

    Runs last of the enrichers (callscope.enrichment.ENRICHMENT_ORDER), so sentiment is there to read.
    """

    aspect = "categories"
    name = "local:rules"

    def __init__(self, rules: CategoryRules | None = None) -> None:
        self.rules = rules if rules is not None else CategoryRules.load()

    def enrich(self, conversation: Conversation) -> None:
        view = CallView(conversation)
        matches: list[CategoryMatch] = []
        per_turn: dict[int, list[str]] = {}
        follow_on: dict[int, list[str]] = {}
        for category in self.rules.categories:
            hits = match_category(category, view)
            if hits is None:
                continue
            matches.append(CategoryMatch(category.name, _spans(hits)))
            for turn in _turns_to_tag(hits, conversation):
                per_turn.setdefault(turn, []).append(category.name)
            for turn in sorted({hit.turn for hit in hits if hit.follow_on and hit.turn is not None}):
                follow_on.setdefault(turn, []).append(category.name)
        # This aspect owns these fields: a second run replaces, never duplicates.
        conversation.categories = matches
        for index, turn in enumerate(conversation.turns):
            turn.categories = per_turn.get(index, [])
            turn.follow_on_categories = follow_on.get(index, [])


def _spans(hits: tuple[Hit, ...]) -> tuple[TimeSpan, ...]:
    return tuple(sorted({hit.span for hit in hits}, key=lambda span: (span.start, span.end)))


def _turns_to_tag(hits: tuple[Hit, ...], conversation: Conversation) -> list[int]:
    """Turns whose CategoriesDetected name the category; hits after the last turn go to its FollowOnCategories."""
    if not hits and conversation.turns:
        # Matched on absences only: no time, so the first segment carries it (the PCA format's rule).
        return [0]
    return sorted({hit.turn for hit in hits if hit.turn is not None and not hit.follow_on})
