"""`callscope serve`: a local web dashboard over the store (docs/DASHBOARD.md)."""

from callscope.dashboard.app import create_app

__all__ = ["create_app"]
