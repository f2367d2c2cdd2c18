"""Feedback's reads, scoped to the acting user (``reports``: the six reports)."""

from feedback.selectors.reviews import Effect, Window, review_running, reviews_list, version_effect

__all__ = ["Effect", "Window", "review_running", "reviews_list", "version_effect"]
