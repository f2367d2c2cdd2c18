"""OpenAPI (drf-spectacular) descriptions of what it cannot introspect."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension

from leads.normalize import HOST_NAME


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An integration's API token (made by an administrator): "
            "`Authorization: Bearer lp_…`.",
        }


# --- What the serializers cannot say ------------------------------------------
# The company reference and the event body have rules across fields ("at least
# one of", "one or the other") and fields that take more than one spelling (a
# URL for a domain, hyphens in a corporate number). The schema states them, so
# that a body the schema allows is a body the API accepts (schemathesis checks
# both ways: tests/test_api_conformance.py).

# leads.normalize.HOST_NAME in either case (normalize_domain lower-cases).
_HOST = HOST_NAME.replace("a-z", "A-Za-z").replace("xn--", "[Xx][Nn]--")
# A host name, or a URL naming one: what leads.normalize.normalize_domain reduces to a
# valid domain ("https://www.example.co.jp/path" is example.co.jp). "" means not given.
DOMAIN_PATTERN = rf"^(?:(?:https?://)?{_HOST}\.?(?::[0-9]{{1,5}})?(?:/[!-~]*)?)?$"
# 13 digits (full-width ones too), hyphens and spaces between them; "" means not given.
CORPORATE_NUMBER_PATTERN = r"^(?:[ \-－]*(?:[0-9０-９][ \-－]*){13})?$"
_NOT_BLANK = r"\S"  # a name must say something once trimmed


def _company_ref_rules(schema: dict) -> None:
    properties = schema.get("properties", {})
    if "domain" in properties:
        properties["domain"]["pattern"] = DOMAIN_PATTERN
    if "corporate_number" in properties:
        properties["corporate_number"]["pattern"] = CORPORATE_NUMBER_PATTERN
    schema["anyOf"] = [
        {"required": ["domain"], "properties": {"domain": {"type": "string", "minLength": 1}}},
        {"required": ["name"], "properties": {"name": {"type": "string", "pattern": _NOT_BLANK}}},
        {
            "required": ["corporate_number"],
            "properties": {"corporate_number": {"type": "string", "minLength": 1}},
        },
    ]


def _is_object(name: str) -> dict:
    return {"required": [name], "properties": {name: {"type": "object"}}}


def _event_rules(schema: dict) -> None:
    # Exactly one of contact and company is an object (null is the same as absent).
    schema["anyOf"] = [
        {**_is_object("contact"), "not": _is_object("company")},
        {**_is_object("company"), "not": _is_object("contact")},
    ]


def postprocess_schema(result, generator, request, public):
    """drf-spectacular hook: the cross-field rules above, and bodies that are required.

    Every operation that takes a body needs one (a JSON object; without it the
    answer is a 400): drf-spectacular marks it optional when no field is required.
    """
    for path in result.get("paths", {}).values():
        for operation in path.values():
            if isinstance(operation, dict) and "requestBody" in operation:
                operation["requestBody"]["required"] = True
    schemas = result.get("components", {}).get("schemas", {})
    for name in ("CompanyRefRequest", "CompanyInRequest"):
        if name in schemas:
            _company_ref_rules(schemas[name])
    if "EventRequest" in schemas:
        _event_rules(schemas["EventRequest"])
    return result
