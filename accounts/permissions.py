"""Who may do what in accounts: integration tokens are an administrator's business."""

from __future__ import annotations

import rules

from accounts.roles import is_admin

can_manage_api_tokens = is_admin

rules.add_perm("accounts.manage_api_tokens", can_manage_api_tokens)
