"""Call categories from rules: phrases said (exactly or fuzzily) by whom and when, sentiment,
interruptions and silences, in a YAML file (docs/CATEGORIES.md). The default contact-centre rules
ship as default_rules.yaml."""

from callscope.enrichment.categories.enricher import LocalCategories
from callscope.enrichment.categories.loader import CategoryRules, CategoryRulesError

__all__ = ["CategoryRules", "CategoryRulesError", "LocalCategories"]
