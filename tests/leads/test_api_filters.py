"""Every list endpoint answers a filter or page value it cannot use with a JSON 400 naming it.

Values the form accepted but the database could not bind were 500s: an id past
64 bits, a Decimal where an id goes, a time whose UTC equivalent is outside years
1-9999. The cases are derived from the endpoints' own FilterSets, so a filter
added later is covered without a new test.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import django_filters
import pytest
from django.urls import reverse

from config.filtering import BoundedFilterSet
from handoff.api.filters import QueueApiFilter
from leads.api.filters import CompanyApiFilter, ContactApiFilter, IntentApiFilter
from tests.factories import CompanyFactory, ContactFactory, IntentSignalFactory

pytestmark = pytest.mark.django_db

LISTS = {
    "/api/v1/companies": CompanyApiFilter,
    "/api/v1/contacts": ContactApiFilter,
    "/api/v1/intent-signals": IntentApiFilter,
    "/api/v1/handoff/leads": QueueApiFilter,
}
BAD_NUMBERS = ["99999999999999999999", "-99999999999999999999", "-1e20", "1e400", "nan", "x"]
BAD_TIMES = [
    "0001-01-01T00:00:00+14:00",  # UTC: year 0
    "9999-12-31T23:00:00-01:00",  # UTC: year 10000
    "0001-01-01T00:00:00",  # naive: made aware in Asia/Tokyo, then UTC is year 0
    "soon",
]
BAD_PAGES = ["0", "-1", "1.5", "abc", "１"]
BAD_BOOLEANS = ["maybe", "2", "-58800"]  # were ignored: the whole list came back


def _cases():
    for url, filterset in LISTS.items():
        for name, filter_ in filterset.base_filters.items():
            if isinstance(filter_, django_filters.NumberFilter):
                yield from ((url, name, value) for value in BAD_NUMBERS)
            elif isinstance(filter_, django_filters.DateTimeFilter):
                yield from ((url, name, value) for value in BAD_TIMES)
            elif isinstance(filter_, django_filters.BooleanFilter):
                yield from ((url, name, value) for value in BAD_BOOLEANS)
        for name in ("page", "page_size"):
            yield from ((url, name, value) for value in BAD_PAGES)


CASES = list(_cases())


def test_the_cases_cover_the_filters_the_issue_named():
    named = {(url, name) for url, name, _v in CASES}
    assert {
        ("/api/v1/contacts", "company"),
        ("/api/v1/intent-signals", "company"),
        ("/api/v1/intent-signals", "min_strength"),
        ("/api/v1/companies", "min_employees"),
        ("/api/v1/contacts", "updated_since"),
        ("/api/v1/contacts", "active_since"),
        ("/api/v1/companies", "updated_since"),
        ("/api/v1/intent-signals", "observed_after"),
        ("/api/v1/intent-signals", "observed_before"),
        ("/api/v1/handoff/leads", "page"),
        ("/api/v1/companies", "has_intent"),
    } <= named


@pytest.mark.parametrize(("url", "name", "value"), CASES)
def test_a_value_a_list_cannot_use_is_a_json_400_naming_the_parameter(api_client, url, name, value):
    ContactFactory()
    response = api_client.get(url, {name: value})
    assert response.status_code == 400, response.content[:300]
    assert response["Content-Type"] == "application/json"
    assert list(response.json()) == [name]


def test_the_values_of_the_issue_are_400s_in_english_too(api_client):
    for url in [
        "/api/v1/contacts?company=99999999999999999999",
        "/api/v1/intent-signals?company=-1e20",
        "/api/v1/contacts?updated_since=0001-01-01T00:00:00%2B14:00",
        "/api/v1/intent-signals?observed_before=9999-12-31T23:00:00-01:00",
    ]:
        response = api_client.get(url, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 400, url
        (messages,) = response.json().values()
        assert messages and all(isinstance(m, str) for m in messages)


def test_values_in_range_still_filter(api_client):
    company = CompanyFactory(employee_count=300)
    ContactFactory(company=company)
    ContactFactory()
    IntentSignalFactory(company=company, strength=80)
    contacts = api_client.get("/api/v1/contacts", {"company": str(company.id)}).json()
    assert contacts["count"] == 1
    assert api_client.get("/api/v1/intent-signals", {"company": company.id}).json()["count"] == 1
    assert api_client.get("/api/v1/intent-signals", {"min_strength": "80"}).json()["count"] == 1
    far = {"min_employees": str(2**63 - 1), "updated_since": "9999-12-31T23:59:59+00:00"}
    assert api_client.get("/api/v1/companies", far).json()["count"] == 0
    early = {"updated_since": "0001-01-01T09:00:00+09:00"}  # UTC: 0001-01-01 00:00
    assert api_client.get("/api/v1/companies", early).json()["count"] == 2


def test_an_id_is_a_whole_number(api_client):
    company = CompanyFactory()
    ContactFactory(company=company)
    assert api_client.get("/api/v1/contacts", {"company": f"{company.id}.5"}).status_code == 400
    assert api_client.get("/api/v1/contacts", {"company": "-1"}).json()["count"] == 0


def test_a_page_past_the_end_is_a_404_and_the_page_size_is_capped(api_client):
    ContactFactory.create_batch(3)
    assert api_client.get("/api/v1/contacts", {"page": "2"}).status_code == 404
    assert api_client.get("/api/v1/contacts", {"page": "9" * 40}).status_code == 404
    body = api_client.get("/api/v1/contacts", {"page_size": "100000", "page": "last"}).json()
    assert body["count"] == 3 and len(body["results"]) == 3


def test_the_schema_documents_the_400_and_the_page_bounds(api_client):
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    for url in LISTS:
        operation = schema["paths"][url]["get"]
        assert {"400", "404"} <= set(operation["responses"]), url
        page = {p["name"]: p["schema"] for p in operation["parameters"]}
        assert page["page"]["minimum"] == 1 and page["page_size"]["minimum"] == 1


def test_the_pages_lists_take_out_of_range_filters_without_an_error(client, manager_user):
    client.force_login(manager_user)
    ContactFactory()
    for url, params, status in [
        (reverse("portal:lead-list"), {"min_employees": "99999999999999999999"}, 200),
        (reverse("portal:company-list"), {"min_employees": "-1e20"}, 200),
        # The export refuses a filter it cannot apply rather than export everything.
        (reverse("portal:lead-export"), {"min_employees": "99999999999999999999"}, 400),
    ]:
        assert client.get(url, params).status_code == status, url


def _project_filtersets():
    for package in ("leads", "scoring", "handoff", "portal"):
        for info in pkgutil.walk_packages(
            importlib.import_module(package).__path__, prefix=f"{package}."
        ):
            if ".migrations" in info.name or info.name.endswith(".tests"):
                continue
            module = importlib.import_module(info.name)
            for _name, value in inspect.getmembers(module, inspect.isclass):
                if issubclass(value, django_filters.FilterSet) and value.__module__ == info.name:
                    yield value


def test_every_filterset_of_the_project_is_bounded():
    found = list(_project_filtersets())
    assert len(found) >= 6
    assert [f.__qualname__ for f in found if not issubclass(f, BoundedFilterSet)] == []
