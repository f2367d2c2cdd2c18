"""drf-spectacular hook: the outcomes endpoint's cross-field rule, in the schema."""

from __future__ import annotations

_TEXT = {"type": "string", "pattern": r"\S"}


def postprocess_schema(result, generator, request, public):
    """An outcome names its lead by e-mail, contact id or the CRM's lead id (at least one)."""
    schemas = result.get("components", {}).get("schemas", {})
    if "OutcomeInRequest" in schemas:
        schemas["OutcomeInRequest"]["anyOf"] = [
            {"required": ["email"], "properties": {"email": _TEXT}},
            {"required": ["contact_id"], "properties": {"contact_id": {"type": "integer"}}},
            {"required": ["crm_lead_id"], "properties": {"crm_lead_id": _TEXT}},
        ]
    return result
