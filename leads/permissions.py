"""Who may do what with leads. Views, services and API permission classes ask these."""

from __future__ import annotations

import rules

from accounts.roles import (
    has_any_role,
    is_admin,
    is_integration,
    is_marketing,
    is_sales_manager,
)

# Every role reads leads: sales needs the context of what it is handed.
can_view_leads = has_any_role
# Bringing data in is marketing's job (and an integration's, through the API).
can_import_leads = is_marketing | is_admin
can_ingest = is_integration | is_marketing | is_admin
# A full export is a copy of the customer base: marketing and managers only.
can_export_leads = is_marketing | is_sales_manager | is_admin
# Integrations may read back what they sent (e.g. to reconcile ids).
can_read_api = is_integration | has_any_role

rules.add_perm("leads.view_leads", can_view_leads)
rules.add_perm("leads.import_leads", can_import_leads)
rules.add_perm("leads.ingest", can_ingest)
rules.add_perm("leads.export_leads", can_export_leads)
