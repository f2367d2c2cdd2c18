"""/api/v1/companies: list, filter, read, and upsert (single and batch)."""

from __future__ import annotations

import pytest

from leads.models import Company
from tests.factories import CompanyFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/companies"


@pytest.fixture
def api(api_client):
    api_client.credentials(
        HTTP_AUTHORIZATION=api_client._credentials["HTTP_AUTHORIZATION"],
        HTTP_ACCEPT_LANGUAGE="en",
    )
    return api_client


# --- Reading ---------------------------------------------------------------------


def test_the_list_is_paginated(api):
    CompanyFactory.create_batch(3)
    body = api.get(URL, {"page_size": 2}).json()
    assert body["count"] == 3
    assert len(body["results"]) == 2
    assert body["next"]
    assert set(body["results"][0]) >= {"id", "name", "domain", "prefecture", "last_activity_at"}


def test_companies_filter_by_normalised_domain(api):
    company = CompanyFactory(domain="example.co.jp")
    CompanyFactory(domain="other.example.jp")
    body = api.get(URL, {"domain": "https://WWW.Example.co.jp/about"}).json()
    assert [c["id"] for c in body["results"]] == [company.id]


def test_companies_filter_by_prefecture_and_name(api):
    tokyo = CompanyFactory(name="株式会社サンプル商事", prefecture="13")
    CompanyFactory(name="株式会社サンプル工業", prefecture="27")
    CompanyFactory(name="別会社", prefecture="13")
    body = api.get(URL, {"prefecture": "13", "name": "ｻﾝﾌﾟﾙ"}).json()
    assert [c["id"] for c in body["results"]] == [tokyo.id]


def test_companies_filter_by_corporate_number(api):
    company = CompanyFactory(corporate_number="1234567890123")
    CompanyFactory()
    body = api.get(URL, {"corporate_number": "１２３４５６７８９０１２３"}).json()
    assert [c["id"] for c in body["results"]] == [company.id]


@pytest.mark.parametrize(
    "params",
    [{"prefecture": "99"}, {"min_employees": "many"}, {"updated_since": "last week"}],
)
def test_a_bad_filter_value_is_a_400(api, params):
    response = api.get(URL, params)
    assert response.status_code == 400
    assert set(params) <= set(response.json())


def test_a_nul_in_a_filter_is_a_400_not_a_500(api):
    assert api.get(URL, {"domain": "a\x00b"}).status_code == 400
    assert api.get(URL, {"q": "\x00"}).status_code == 400


def test_a_page_past_the_end_is_a_404(api):
    assert api.get(URL, {"page": 99}).status_code == 404


def test_one_company_is_read_by_id(api):
    company = CompanyFactory(name="株式会社サンプル")
    body = api.get(f"{URL}/{company.id}").json()
    assert (body["id"], body["name"]) == (company.id, "株式会社サンプル")


def test_an_unknown_company_is_a_404(api):
    response = api.get(f"{URL}/999999")
    assert response.status_code == 404
    assert response.json()


# --- Upserting one company -----------------------------------------------------------


def test_posting_a_new_company_creates_it(api):
    response = api.post(
        URL,
        {
            "name": "株式会社　サンプル",
            "domain": "https://www.example.co.jp/",
            "corporate_number": "1234-5678-90123",
            "prefecture": "東京都",
            "industry": "情報通信業",
            "employee_count": 120,
            "revenue_band": "1b_10b",
        },
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["name"], body["domain"], body["corporate_number"]) == (
        "株式会社 サンプル",
        "example.co.jp",
        "1234567890123",
    )
    assert (body["prefecture"], body["region"], body["industry"]) == ("13", "kanto", "G")
    company = Company.objects.get()
    assert company.employee_count == 120


def test_posting_a_known_company_updates_only_the_given_fields(api):
    company = CompanyFactory(domain="example.co.jp", employee_count=50, city="千代田区")
    response = api.post(
        URL, {"domain": "example.co.jp", "employee_count": 80, "city": None}, format="json"
    )
    assert response.status_code == 200
    company.refresh_from_db()
    assert company.employee_count == 80
    assert company.city == "千代田区"  # null and blank leave a field alone
    assert Company.objects.count() == 1


def test_the_corporate_number_picks_the_company_before_the_domain(api):
    company = CompanyFactory(corporate_number="1234567890123", domain="old.example.jp")
    response = api.post(
        URL, {"corporate_number": "1234567890123", "domain": "new.example.jp"}, format="json"
    )
    assert response.status_code == 200
    company.refresh_from_db()
    assert company.domain == "new.example.jp"


def test_a_name_only_company_is_found_by_its_name_in_any_spelling(api):
    company = CompanyFactory(name="株式会社サンプル", domain="")
    response = api.post(URL, {"name": "ｻﾝﾌﾟﾙ(株)", "employee_count": 10}, format="json")
    assert response.status_code == 200
    assert response.json()["id"] == company.id


def test_taking_another_companys_domain_is_a_409_with_the_field(api):
    CompanyFactory(domain="taken.example.jp")
    company = CompanyFactory(corporate_number="1234567890123", domain="mine.example.jp")
    response = api.post(
        URL, {"corporate_number": "1234567890123", "domain": "taken.example.jp"}, format="json"
    )
    assert response.status_code == 409  # a valid body the stored companies refuse
    assert "Another company" in response.json()["domain"][0]
    company.refresh_from_db()
    assert company.domain == "mine.example.jp"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "non_field_errors"),
        ({"name": "", "domain": None}, "non_field_errors"),
        ({"domain": "not a domain"}, "domain"),
        ({"domain": ["example.co.jp"]}, "domain"),
        ({"corporate_number": "123"}, "corporate_number"),
        ({"name": "x", "employee_count": "many"}, "employee_count"),
        ({"name": "x", "employee_count": -1}, "employee_count"),
        ({"name": "x", "employee_count": 10**30}, "employee_count"),
        ({"name": "x", "prefecture": "Atlantis"}, "prefecture"),
        ({"name": "x", "industry": "宇宙"}, "industry"),
        ({"name": "x", "revenue_band": "huge"}, "revenue_band"),
        ({"name": "x" * 300}, "name"),
        ({"name": "㍿" * 100}, "name"),  # NFKC makes it 400 characters
        ({"name": "a\x00b"}, "name"),
        ({"name": {"ja": "x"}}, "name"),
    ],
)
def test_bad_company_input_is_a_400_with_field_errors(api, body, field):
    response = api.post(URL, body, format="json")
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert not Company.objects.exists()


@pytest.mark.parametrize("raw", [b"[]", b"null", b"{", b'"x"'])
def test_a_company_body_that_is_not_an_object_is_a_400(api, raw):
    assert api.post(URL, raw, content_type="application/json").status_code == 400


# --- Batches -------------------------------------------------------------------------


def test_a_company_batch_reports_each_item(api):
    existing = CompanyFactory(domain="known.example.jp")
    response = api.post(
        f"{URL}/batch",
        {
            "companies": [
                {"domain": "known.example.jp", "employee_count": 5},
                {"name": "株式会社ニュー", "domain": "new.example.jp"},
                {"domain": "bad domain"},
                "not an object",
            ]
        },
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["created"], body["updated"], body["rejected"]) == (1, 1, 2)
    statuses = [(r["status"], r["id"]) for r in body["results"]]
    new = Company.objects.get(domain="new.example.jp")
    assert statuses == [
        ("updated", existing.id),
        ("created", new.id),
        ("rejected", None),
        ("rejected", None),
    ]
    assert "domain" in body["results"][2]["errors"]
    assert "non_field_errors" in body["results"][3]["errors"]


def test_in_a_batch_the_later_item_for_one_company_wins(api):
    api.post(
        f"{URL}/batch",
        {
            "companies": [
                {"domain": "example.co.jp", "employee_count": 5},
                {"domain": "example.co.jp", "employee_count": 7},
            ]
        },
        format="json",
    )
    assert Company.objects.get().employee_count == 7


def test_two_items_claiming_one_domain_for_two_companies_reject_the_later(api):
    a = CompanyFactory(corporate_number="1111111111111", domain="a.example.jp")
    b = CompanyFactory(corporate_number="2222222222222", domain="b.example.jp")
    body = api.post(
        f"{URL}/batch",
        {
            "companies": [
                {"corporate_number": "1111111111111", "domain": "c.example.jp"},
                {"corporate_number": "2222222222222", "domain": "c.example.jp"},
            ]
        },
        format="json",
    ).json()
    assert [r["status"] for r in body["results"]] == ["updated", "rejected"]
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.domain, b.domain) == ("c.example.jp", "b.example.jp")


@pytest.mark.parametrize(
    "body", [{}, {"companies": []}, {"companies": {}}, {"companies": [{}] * 1001}, []]
)
def test_a_malformed_company_batch_is_a_400(api, body):
    response = api.post(f"{URL}/batch", body, format="json")
    assert response.status_code == 400


def test_a_company_batch_runs_a_bounded_number_of_queries(api, django_assert_max_num_queries):
    CompanyFactory.create_batch(5)
    items = [
        {"name": f"会社{n}", "domain": f"c{n}.example.jp", "city": "札幌市"} for n in range(300)
    ]
    with django_assert_max_num_queries(30):
        body = api.post(f"{URL}/batch", {"companies": items}, format="json").json()
    assert body["created"] == 300


def test_unknown_optional_choices_are_null_never_blank(api):
    CompanyFactory(industry="", revenue_band="", prefecture="", region="")
    (row,) = api.get(URL).json()["results"]
    assert [row[k] for k in ("industry", "revenue_band", "prefecture", "region")] == [None] * 4


@pytest.mark.parametrize(
    "body",
    [
        {"name": 0},  # DRF would store "0"
        {"name": "x", "employee_count": "5"},
        {"name": "x", "employee_count": 1.5},
        {"name": "x", "employee_count": True},
        {"name": "x", "domain": 12},
    ],
)
def test_json_types_are_strict(api, body):
    response = api.post(URL, body, format="json")
    assert response.status_code == 400
    assert not Company.objects.exists()
