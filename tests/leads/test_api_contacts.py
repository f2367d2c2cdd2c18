"""/api/v1/contacts: list, filter, read, and upsert by e-mail (single and batch)."""

from __future__ import annotations

import pytest

from leads.models import Company, Contact
from tests.factories import CompanyFactory, ContactFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/contacts"


@pytest.fixture
def api(api_client):
    api_client.credentials(
        HTTP_AUTHORIZATION=api_client._credentials["HTTP_AUTHORIZATION"],
        HTTP_ACCEPT_LANGUAGE="en",
    )
    return api_client


def test_contacts_list_with_their_company(api):
    contact = ContactFactory()
    body = api.get(URL).json()
    assert body["count"] == 1
    row = body["results"][0]
    assert row["email"] == contact.email
    assert row["company"] == {
        "id": contact.company.id,
        "name": contact.company.name,
        "domain": contact.company.domain,
    }


def test_contacts_filter_by_full_width_email(api):
    contact = ContactFactory(email="taro@example.co.jp")
    ContactFactory()
    body = api.get(URL, {"email": "Ｔａｒｏ＠ＥＸＡＭＰＬＥ.co.jp"}).json()
    assert [c["id"] for c in body["results"]] == [contact.id]


def test_contacts_filter_by_company_and_its_domain(api):
    company = CompanyFactory(domain="example.co.jp")
    mine = ContactFactory(company=company)
    ContactFactory()
    assert [c["id"] for c in api.get(URL, {"company": company.id}).json()["results"]] == [mine.id]
    by_domain = api.get(URL, {"company_domain": "EXAMPLE.co.jp"}).json()["results"]
    assert [c["id"] for c in by_domain] == [mine.id]


def test_a_bad_contact_filter_is_a_400(api):
    assert api.get(URL, {"company": "abc"}).status_code == 400


def test_one_contact_is_read_by_id_and_an_unknown_one_is_a_404(api):
    contact = ContactFactory()
    assert api.get(f"{URL}/{contact.id}").json()["email"] == contact.email
    assert api.get(f"{URL}/999999").status_code == 404


def test_posting_a_new_contact_normalises_it_and_finds_its_company(api):
    company = CompanyFactory(domain="example.co.jp")
    response = api.post(
        URL,
        {"email": "Ｔａｒｏ＠ＥＸＡＭＰＬＥ.co.jp", "name": "山田　太郎", "job_level": "manager"},
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["email"], body["name"], body["company"]["id"]) == (
        "taro@example.co.jp",
        "山田 太郎",
        company.id,
    )


def test_posting_a_known_contact_sets_the_given_fields_only(api):
    contact = ContactFactory(email="taro@example.co.jp", name="山田 太郎", title="課長")
    response = api.post(
        URL,
        {"email": "taro@example.co.jp", "title": "部長", "is_unsubscribed": True},
        format="json",
    )
    assert response.status_code == 200
    contact.refresh_from_db()
    assert (contact.name, contact.title, contact.is_unsubscribed) == ("山田 太郎", "部長", True)
    assert Contact.objects.count() == 1


def test_an_explicit_company_replaces_the_contacts_company(api):
    contact = ContactFactory(email="taro@example.co.jp")
    response = api.post(
        URL,
        {
            "email": "taro@example.co.jp",
            "company": {"name": "株式会社転職先", "domain": "new.example.jp"},
        },
        format="json",
    )
    assert response.status_code == 200
    contact.refresh_from_db()
    assert contact.company.domain == "new.example.jp"


def test_the_email_domain_never_replaces_a_contacts_company(api):
    company = CompanyFactory(domain="other.example.jp")
    contact = ContactFactory(email="taro@example.co.jp", company=company)
    api.post(URL, {"email": "taro@example.co.jp", "name": "太郎"}, format="json")
    contact.refresh_from_db()
    assert contact.company == company
    assert not Company.objects.filter(domain="example.co.jp").exists()


def test_a_free_mail_contact_has_no_company(api):
    response = api.post(URL, {"email": "taro@gmail.com"}, format="json")
    assert response.status_code == 201
    assert response.json()["company"] is None
    assert not Company.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "email"),
        ({"email": None}, "email"),
        ({"email": "nobody"}, "email"),
        ({"email": ["a@b.jp"]}, "email"),
        ({"email": "a@example.co.jp", "job_level": "ceo"}, "job_level"),
        ({"email": "a@example.co.jp", "has_consent": "perhaps"}, "has_consent"),
        ({"email": "a@example.co.jp", "name": "x" * 101}, "name"),
        ({"email": "a@example.co.jp", "company": {"domain": "bad domain"}}, "company.domain"),
        ({"email": "a@example.co.jp", "company": {}}, "company"),
        ({"email": "a@example.co.jp", "company": "株式会社サンプル"}, "company"),
    ],
)
def test_bad_contact_input_is_a_400_with_field_errors(api, body, field):
    response = api.post(URL, body, format="json")
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert not Contact.objects.exists()


def test_a_contact_batch_reports_each_item(api):
    known = ContactFactory(email="known@example.co.jp")
    body = api.post(
        f"{URL}/batch",
        {
            "contacts": [
                {"email": "known@example.co.jp", "title": "部長"},
                {"email": "new@example.co.jp"},
                {"email": "NEW@example.co.jp", "name": "新人"},
                {"email": "broken"},
            ]
        },
        format="json",
    ).json()
    assert (body["created"], body["updated"], body["rejected"]) == (1, 2, 1)
    new = Contact.objects.get(email="new@example.co.jp")
    assert [(r["status"], r["id"]) for r in body["results"]] == [
        ("updated", known.id),
        ("created", new.id),
        ("updated", new.id),
        ("rejected", None),
    ]
    assert new.name == "新人"
    assert "email" in body["results"][3]["errors"]


def test_a_contact_batch_runs_a_bounded_number_of_queries(api, django_assert_max_num_queries):
    ContactFactory.create_batch(3)
    items = [{"email": f"p{n}@c{n % 30}.example.jp", "name": f"人{n}"} for n in range(300)]
    with django_assert_max_num_queries(30):
        body = api.post(f"{URL}/batch", {"contacts": items}, format="json").json()
    assert body["created"] == 300


@pytest.mark.parametrize("body", [{}, {"contacts": "x"}, {"contacts": []}, None])
def test_a_malformed_contact_batch_is_a_400(api, body):
    response = api.post(f"{URL}/batch", body, format="json")
    assert response.status_code == 400


@pytest.mark.parametrize(
    "address",
    ["a b@c.com", "<script>@x.com", ".a@c.com", "a.@c.com", "a..b@c.com", "x" * 65 + "@c.jp"],
)
def test_an_address_that_is_not_one_is_a_field_error_and_nothing_is_stored(api, address):
    ContactFactory(email="ab@c.com", name="")
    response = api.post(URL, {"email": address, "name": "山田"}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["email"]
    batch = api.post(f"{URL}/batch", {"contacts": [{"email": address}]}, format="json").json()
    assert batch["results"][0]["status"] == "rejected"
    assert list(batch["results"][0]["errors"]) == ["email"]
    assert list(Contact.objects.values_list("email", "name")) == [("ab@c.com", "")]


def test_a_blank_job_level_is_null_and_booleans_are_json_booleans(api):
    ContactFactory(job_level="")
    assert api.get(URL).json()["results"][0]["job_level"] is None
    response = api.post(URL, {"email": "a@b.co.jp", "has_consent": "yes"}, format="json")
    assert response.status_code == 400 and list(response.json()) == ["has_consent"]
    assert not Contact.objects.filter(email="a@b.co.jp").exists()
