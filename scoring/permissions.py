"""Who may do what with the hot-lead definition and the scores."""

from __future__ import annotations

import rules

from accounts.roles import (
    has_any_role,
    is_admin,
    is_integration,
    is_marketing,
    is_sales_manager,
)
from scoring.models import Approval

# The definition is shared: everyone reads it, and every score's reasons.
can_view_definitions = has_any_role
# Marketing drafts and edits; sales co-signs through its manager's approval.
can_draft_definition = is_marketing
# A proposal (a draft another app computed, e.g. the threshold review) may come from
# marketing or a manager; it still needs both departments' approval to become active.
can_propose_definition = is_marketing | is_sales_manager | is_admin
can_approve_for_marketing = is_marketing
can_approve_for_sales = is_sales_manager
can_decide_definition = can_approve_for_marketing | can_approve_for_sales
# Rescoring everything is an operator's or marketing's call.
can_rescore = is_marketing | is_admin
# Scores through the API: people with a role, and integrations (e.g. a CRM).
can_read_scores = has_any_role | is_integration

rules.add_perm("scoring.view_definitions", can_view_definitions)
rules.add_perm("scoring.draft_definition", can_draft_definition)
rules.add_perm("scoring.decide_definition", can_decide_definition)
rules.add_perm("scoring.rescore", can_rescore)
rules.add_perm("scoring.read_scores", can_read_scores)


def departments_of(actor) -> list[str]:
    """The departments ``actor`` may decide a definition for."""
    found = []
    if can_approve_for_marketing(actor):
        found.append(Approval.Department.MARKETING)
    if can_approve_for_sales(actor):
        found.append(Approval.Department.SALES)
    return found
