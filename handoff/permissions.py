"""Who may do what in the handoff. Views, services and the API ask these same predicates.

Inside sales work their own queue and any lead a manager gives them; managers see and
reassign everything; field sales see and work what is handed over to them; marketing
reads the queue and the SLA figures but does not log calls or promote.
"""

from __future__ import annotations

import rules

from accounts.roles import (
    has_any_role,
    is_admin,
    is_inside_sales,
    is_integration,
    is_marketing,
    is_sales,
    is_sales_manager,
)

is_manager = is_sales_manager | is_admin

# The queue: inside sales their own, managers and marketing the team's (read-only for marketing).
can_view_queue = is_inside_sales | is_sales_manager | is_admin | is_marketing
can_view_team_queue = is_sales_manager | is_admin | is_marketing
can_view_handovers = is_sales | is_sales_manager | is_admin
can_raise_lead = is_inside_sales | is_manager
can_reassign = is_manager
can_edit_routing = is_manager
can_edit_settings = is_admin
can_manage_webhooks = is_admin
# Dialers and CRMs (integration tokens) read the queue and log calls through the API.
can_use_handoff_api = is_inside_sales | is_manager | is_marketing | is_sales | is_integration
can_see_notifications = has_any_role


@rules.predicate
def is_cycle_owner(user, cycle) -> bool:
    return cycle is not None and cycle.owner_id is not None and cycle.owner_id == user.pk


@rules.predicate
def is_cycle_field_owner(user, cycle) -> bool:
    return (
        cycle is not None and cycle.field_owner_id is not None and cycle.field_owner_id == user.pk
    )


# Log a call, fill BANT, promote: the lead's inside sales owner, or a manager.
can_work_cycle = (is_inside_sales & is_cycle_owner) | is_manager | is_integration
# A cycle's page: its owners, managers, marketing (read-only).
can_view_cycle = (
    is_manager
    | is_marketing
    | (is_inside_sales & is_cycle_owner)
    | (is_sales & is_cycle_field_owner)
)
# Field sales act on what they were handed.
can_work_handover = (is_sales & is_cycle_field_owner) | is_manager

rules.add_perm("handoff.view_queue", can_view_queue)
rules.add_perm("handoff.work_cycle", can_work_cycle)
rules.add_perm("handoff.reassign", can_reassign)
