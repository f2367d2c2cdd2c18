"""Who may judge, record outcomes, read the reports and run the review.

Inside sales judge the MQLs they own, field sales the SQLs handed to them, managers
any. Reports: managers and admins see every rep, marketing the team's figures, a rep
their own (the selectors scope the rows; these predicates gate the pages).
"""

from __future__ import annotations

import rules

from accounts.roles import (
    is_admin,
    is_inside_sales,
    is_integration,
    is_marketing,
    is_sales,
    is_sales_manager,
)
from handoff.permissions import is_cycle_field_owner, is_cycle_owner

is_manager = is_sales_manager | is_admin

# A verdict on an MQL: its inside sales owner, or a manager.
can_judge_mql = (is_inside_sales & is_cycle_owner) | is_manager
# A verdict on an SQL: the field sales rep it was handed to, or a manager.
can_judge_sql = (is_sales & is_cycle_field_owner) | is_manager
# Opportunities won and lost: field sales on their handovers, managers, the CRM.
can_record_outcome = (is_sales & is_cycle_field_owner) | is_manager | is_integration
can_use_outcomes_api = is_sales | is_manager | is_integration

# Reports: everyone who works leads reads them; reps see only their own rows.
can_view_reports = is_manager | is_marketing | is_inside_sales | is_sales
can_view_team_reports = is_manager | is_marketing
# One rep's figures beside another's (the rep filter, the SLA's rows per rep): managers.
can_view_rep_figures = is_manager
# The drill-down and the CSV follow the report: whoever reads it, scoped the same way.
can_export_reports = can_view_reports
# The threshold review: managers and marketing run it and read it; both departments
# set its target; admins edit its schedule.
can_run_review = is_manager | is_marketing
can_view_reviews = is_manager | is_marketing
can_edit_review_settings = is_manager | is_marketing
can_edit_review_schedule = is_admin
can_manage_reasons = is_admin

rules.add_perm("feedback.judge_mql", can_judge_mql)
rules.add_perm("feedback.judge_sql", can_judge_sql)
rules.add_perm("feedback.view_reports", can_view_reports)
rules.add_perm("feedback.run_review", can_run_review)
rules.add_perm("feedback.view_reviews", can_view_reviews)
