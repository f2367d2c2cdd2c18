"""Signals the leads domain sends; other apps (scoring) listen.

Both are sent inside the transaction that stored the data, so a receiver's
writes commit or roll back with it.
"""

from django.dispatch import Signal

# New activity or intent was stored. kwargs: contact_ids, company_ids (frozensets
# of the contacts and companies whose activity or intent changed) and earliest
# (the earliest occurred_at / observed_at among the new rows: events can
# arrive late, and a listener keeping running totals must know how late).
lead_activity_changed = Signal()

# Contacts or companies were created or their attributes changed (imports, API
# upserts). kwargs: contact_ids, company_ids.
lead_attributes_changed = Signal()
