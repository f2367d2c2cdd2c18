"""POST /api/v1/events and /api/v1/event: batches of activity, idempotent, never a 500."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from leads.models import Activity, Company, Contact
from tests.factories import ActivityFactory, CompanyFactory, ContactFactory

pytestmark = pytest.mark.django_db

BATCH = "/api/v1/events"
SINGLE = "/api/v1/event"


@pytest.fixture
def api(api_client):
    """The integration's client, reading messages in English."""
    api_client.credentials(
        HTTP_AUTHORIZATION=api_client._credentials["HTTP_AUTHORIZATION"],
        HTTP_ACCEPT_LANGUAGE="en",
    )
    return api_client


def event(n: int = 1, **overrides) -> dict:
    item = {
        "source": "ma-tool",
        "external_id": f"e-{n}",
        "kind": "whitepaper_download",
        "occurred_at": "2026-11-01T10:00:00+09:00",
        "contact": {"email": f"taro{n}@example.co.jp", "company": "株式会社サンプル"},
        "properties": {"url": "/wp/dx-guide"},
    }
    item.update(overrides)
    return {k: v for k, v in item.items() if v is not ...}


def post(api, events, path=BATCH):
    body = {"events": events} if path == BATCH else events
    return api.post(path, body, format="json")


@pytest.fixture(autouse=True)
def _fixed_now(time_machine):
    """Events of 2026-11-01 are in the past for these tests, whatever the clock says."""
    time_machine.move_to(dt.datetime(2026, 11, 20, 3, 0, tzinfo=dt.UTC), tick=False)


# --- The good path -------------------------------------------------------------


def test_a_good_batch_stores_activity_contacts_and_companies(api):
    response = post(api, [event(1), event(2, kind="page_view")])
    assert response.status_code == 200
    body = response.json()
    assert (body["created"], body["duplicates"], body["rejected"]) == (2, 0, 0)
    assert body["results"] == [
        {"index": 0, "status": "created", "errors": {}},
        {"index": 1, "status": "created", "errors": {}},
    ]
    company = Company.objects.get()
    assert (company.name, company.domain) == ("株式会社サンプル", "example.co.jp")
    taro = Contact.objects.get(email="taro1@example.co.jp")
    assert taro.company == company
    activity = Activity.objects.get(external_id="e-1")
    assert activity.contact == taro
    assert activity.company == company  # scoring reads the company off the activity
    assert activity.occurred_at == dt.datetime(2026, 11, 1, 1, 0, tzinfo=dt.UTC)
    assert activity.properties == {"url": "/wp/dx-guide"}
    assert taro.last_activity_at == activity.occurred_at
    assert company.last_activity_at == activity.occurred_at


def test_replaying_a_batch_creates_nothing_new(api):
    batch = [event(1), event(2)]
    post(api, batch)
    counts = (Activity.objects.count(), Contact.objects.count(), Company.objects.count())
    response = post(api, batch)
    body = response.json()
    assert response.status_code == 200
    assert (body["created"], body["duplicates"], body["rejected"]) == (0, 2, 0)
    assert [r["status"] for r in body["results"]] == ["duplicate", "duplicate"]
    assert (Activity.objects.count(), Contact.objects.count(), Company.objects.count()) == counts


def test_an_event_already_stored_by_another_path_is_a_duplicate(api):
    ActivityFactory(source="ma-tool", external_id="e-1")
    body = post(api, [event(1), event(2)]).json()
    assert [r["status"] for r in body["results"]] == ["duplicate", "created"]


def test_the_same_external_id_from_another_source_is_another_event(api):
    body = post(api, [event(1), event(1, source="webinar-tool")]).json()
    assert body["created"] == 2


def test_a_repeated_key_in_one_batch_is_rejected_as_a_duplicate_in_the_batch(api):
    body = post(api, [event(1), event(2), event(1, kind="page_view")]).json()
    assert (body["created"], body["rejected"]) == (2, 1)
    third = body["results"][2]
    assert third["status"] == "rejected"
    assert "Duplicate in this batch" in third["errors"]["external_id"][0]
    assert Activity.objects.get(external_id="e-1").kind == "whitepaper_download"


def test_a_company_level_event_needs_no_contact(api):
    company_event = event(
        1, contact=None, company={"domain": "WWW.Example.co.jp", "name": "サンプル"}
    )
    body = post(api, [company_event]).json()
    assert body["created"] == 1
    activity = Activity.objects.get()
    assert activity.contact is None
    assert activity.company.domain == "example.co.jp"
    assert activity.company.last_activity_at == activity.occurred_at
    assert not Contact.objects.exists()


def test_a_company_level_event_lands_on_an_existing_company(api):
    company = CompanyFactory(domain="example.co.jp")
    post(api, [event(1, contact=None, company={"domain": "example.co.jp"})])
    assert Activity.objects.get().company == company
    assert Company.objects.count() == 1


def test_full_width_email_is_normalised(api):
    item = event(1, contact={"email": "Ｔａｒｏ＠ＥＸＡＭＰＬＥ.co.jp", "name": "山田　太郎"})
    body = post(api, [item]).json()
    assert body["created"] == 1
    contact = Contact.objects.get()
    assert contact.email == "taro@example.co.jp"
    assert contact.name == "山田 太郎"
    assert contact.company.domain == "example.co.jp"


def test_a_free_mail_address_gives_no_company_unless_one_is_named(api):
    post(api, [event(1, contact={"email": "taro@gmail.com"})])
    assert Contact.objects.get().company is None
    assert Activity.objects.get().company is None
    assert not Company.objects.exists()
    post(api, [event(2, contact={"email": "hanako@gmail.com", "company": "株式会社サンプル"})])
    hanako = Contact.objects.get(email="hanako@gmail.com")
    assert (hanako.company.name, hanako.company.domain) == ("株式会社サンプル", "")


def test_an_existing_contact_only_gets_its_blank_fields_filled(api):
    company = CompanyFactory(domain="other.example.jp")
    contact = ContactFactory(
        email="taro@example.co.jp", name="山田 太郎", title="", company=company
    )
    item = event(
        1, contact={"email": "taro@example.co.jp", "name": "別人", "title": "部長", "company": "X"}
    )
    post(api, [item])
    contact.refresh_from_db()
    assert contact.name == "山田 太郎"  # never overwritten
    assert contact.title == "部長"  # was blank: filled
    assert contact.company == company  # kept
    assert Activity.objects.get().company == company
    assert Company.objects.count() == 1  # no company made for a contact that has one


def test_an_existing_contact_without_a_company_gets_one(api):
    contact = ContactFactory(email="taro@example.co.jp", company=None)
    post(api, [event(1, contact={"email": "taro@example.co.jp"})])
    contact.refresh_from_db()
    assert contact.company.domain == "example.co.jp"
    assert Activity.objects.get().company == contact.company


def test_last_activity_only_moves_forward(api):
    contact = ContactFactory(email="taro@example.co.jp")
    recent = dt.datetime(2026, 11, 10, tzinfo=dt.UTC)
    ActivityFactory(contact=contact, occurred_at=recent, external_id="old")
    Contact.objects.filter(pk=contact.pk).update(last_activity_at=recent)
    post(api, [event(1, contact={"email": "taro@example.co.jp"})])  # 2026-11-01: older
    contact.refresh_from_db()
    assert contact.last_activity_at == recent


def test_many_events_of_one_contact_in_a_batch_make_one_contact(api):
    items = [event(n, contact={"email": "taro@example.co.jp"}) for n in range(5)]
    items[3]["occurred_at"] = "2026-11-05T00:00:00Z"
    body = post(api, items).json()
    assert body["created"] == 5
    contact = Contact.objects.get()
    assert contact.activities.count() == 5
    assert contact.last_activity_at == dt.datetime(2026, 11, 5, tzinfo=dt.UTC)


def test_the_service_returns_the_touched_ids_for_scoring():
    from leads.services.contacts import ContactInput
    from leads.services.ingest import EventInput, events_ingest
    from leads.services.resolve import CompanyRef

    when = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    result = events_ingest(
        events=[
            EventInput("t", "1", "page_view", when, contact=ContactInput(email="a@x.example.jp")),
            EventInput("t", "2", "page_view", when, company=CompanyRef.make(domain="y.example.jp")),
        ]
    )
    assert result.contact_ids == {Contact.objects.get().id}
    assert result.company_ids == set(Company.objects.values_list("id", flat=True))
    again = events_ingest(
        events=[
            EventInput("t", "1", "page_view", when, contact=ContactInput(email="a@x.example.jp"))
        ]
    )
    assert (again.created, again.contact_ids, again.company_ids) == (0, set(), set())


def test_a_500_event_batch_runs_a_bounded_number_of_queries(api, django_assert_max_num_queries):
    CompanyFactory(domain="c3.example.jp")
    ContactFactory(email="p7@c7.example.jp", name="")
    ActivityFactory(source="ma-tool", external_id="e-11")
    items = [
        event(n, contact={"email": f"p{n}@c{n % 40}.example.jp", "name": f"人{n}"})
        for n in range(480)
    ]
    items += [
        event(n, contact=None, company={"domain": f"acct{n % 7}.example.jp"})
        for n in range(480, 500)
    ]
    with django_assert_max_num_queries(30):
        body = post(api, items).json()
    assert (body["created"], body["duplicates"], body["rejected"]) == (499, 1, 0)
    # p7 existed; p11's event is a duplicate; the factory made one more.
    assert Contact.objects.count() == 480


def test_a_batch_of_exactly_the_maximum_size_is_stored(api, settings):
    items = [event(n, contact={"email": f"p{n}@c{n % 50}.example.jp"}) for n in range(1000)]
    assert len(items) == settings.EVENTS_MAX_BATCH
    body = post(api, items).json()
    assert body["created"] == 1000
    assert post(api, items).json()["duplicates"] == 1000


# --- Per-item rejections ---------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [
        ({"occurred_at": "2026-11-01T10:00:00"}, "occurred_at", "time zone"),
        ({"occurred_at": "2026-11-01"}, "occurred_at", "time zone"),
        ({"occurred_at": "yesterday"}, "occurred_at", "ISO 8601"),
        ({"occurred_at": 1730000000}, "occurred_at", "ISO 8601"),
        ({"occurred_at": "2026-11-22T03:00:01Z"}, "occurred_at", "future"),
        ({"occurred_at": "0001-01-01T00:00:00+09:00"}, "occurred_at", "range"),
        ({"occurred_at": "1969-12-31T23:59:59Z"}, "occurred_at", "1970"),
        ({"occurred_at": None}, "occurred_at", "required"),
        ({"occurred_at": ...}, "occurred_at", "required"),
        ({"kind": "purchase"}, "kind", "Unknown kind"),
        ({"kind": ["page_view"]}, "kind", "Unknown kind"),
        ({"kind": None}, "kind", "required"),
        ({"source": ""}, "source", "blank"),
        ({"source": 12}, "source", "string"),
        ({"source": "s" * 65}, "source", "at most 64"),
        ({"external_id": None}, "external_id", "required"),
        ({"external_id": {"id": 1}}, "external_id", "string"),
        ({"external_id": "x" * 10_000}, "external_id", "at most 128"),
        ({"external_id": "a\x00b"}, "external_id", "NUL"),
        ({"properties": []}, "properties", "object"),
        ({"properties": "url=/wp"}, "properties", "object"),
        ({"properties": {"blob": "x" * 20_000}}, "properties", "bytes"),
        ({"properties": {"a": "b\x00"}}, "properties", "NUL"),
        ({"properties": {"\x00": 1}}, "properties", "NUL"),
        ({"contact": {"email": "not-an-address"}}, "contact.email", "valid e-mail"),
        ({"contact": {"email": "taro@@example.co.jp"}}, "contact.email", "valid e-mail"),
        ({"contact": {"email": None}}, "contact.email", "required"),
        ({"contact": {"email": 42}}, "contact.email", "string"),
        ({"contact": {"email": "a@b.jp", "name": "名" * 101}}, "contact.name", "at most 100"),
        ({"contact": {"email": "a@b.jp", "company": ["x"]}}, "contact.company", "string"),
        ({"contact": "taro@example.co.jp"}, "contact", "object"),
        ({"contact": None}, "contact", "Name the contact"),
        ({"contact": ...}, "contact", "Name the contact"),
        ({"company": {"domain": "example.co.jp"}}, "contact", "not both"),
        ({"contact": None, "company": {}}, "company", "domain, name or corporate"),
        ({"contact": None, "company": {"domain": "not a domain"}}, "company.domain", "domain"),
        ({"contact": None, "company": {"domain": 5}}, "company.domain", "string"),
        ({"contact": None, "company": []}, "company", "object"),
        (
            {"contact": None, "company": {"corporate_number": "12-34"}},
            "company.corporate_number",
            "13 digits",
        ),
    ],
)
def test_a_bad_item_is_rejected_with_a_field_error_and_the_rest_is_stored(
    api, change, path, message
):
    response = post(api, [event(1), event(2, **change)])
    assert response.status_code == 200
    body = response.json()
    assert (body["created"], body["rejected"]) == (1, 1)
    rejected = body["results"][1]
    assert rejected["status"] == "rejected"
    assert message in " ".join(rejected["errors"][path]), rejected["errors"]
    assert Activity.objects.count() == 1


@pytest.mark.parametrize("item", [None, 1, "event", [], True])
def test_an_item_that_is_not_an_object_is_rejected(api, item):
    body = post(api, [event(1), item]).json()
    assert body["results"][1]["status"] == "rejected"
    assert "non_field_errors" in body["results"][1]["errors"]


def test_an_item_reports_all_its_errors_at_once(api):
    bad = {"source": 1, "kind": "x", "occurred_at": "2026-11-01T10:00:00", "contact": {}}
    errors = post(api, [bad]).json()["results"][0]["errors"]
    assert set(errors) == {"source", "external_id", "kind", "occurred_at", "contact.email"}


def test_unknown_keys_are_ignored(api):
    body = post(api, [event(1, campaign="x", contact={"email": "a@b.example.jp", "x": 1})]).json()
    assert body["created"] == 1


def test_null_properties_mean_none(api):
    post(api, [event(1, properties=None)])
    assert Activity.objects.get().properties == {}


def test_occurred_at_a_few_hours_ahead_is_accepted_as_clock_skew(api):
    body = post(api, [event(1, occurred_at="2026-11-20T20:00:00+09:00")]).json()
    assert body["created"] == 1


# --- Malformed bodies: 400 -------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([], "non_field_errors"),
        ("events", "non_field_errors"),
        (None, "non_field_errors"),
        ({}, "events"),
        ({"events": None}, "events"),
        ({"events": {"0": {}}}, "events"),
        ({"events": "[]"}, "events"),
        ({"events": []}, "events"),
        ({"events": [{}] * 1001}, "events"),
    ],
)
def test_a_malformed_batch_is_a_400_with_field_errors(api, body, field):
    response = api.post(BATCH, json.dumps(body), content_type="application/json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Activity.objects.exists()


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"{",
        b"not json",
        b'{"events": [1,]}',
        b"\xff\xfe{}",
        b'{"events": [{"source": "\xe3\x81"}]}',
        b'{"events": NaN}',
        b'{"events": [{"properties": {"x": 1e400}}]}',
        b'{"events": [{"source": "\\ud800"}]}',
        b"[" * 100_000 + b"]" * 100_000,
        b'{"events": [' + b"9" * 5000 + b"]}",
    ],
)
def test_a_body_that_is_not_json_is_a_400(api, raw):
    response = api.post(BATCH, raw, content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()


def test_a_body_over_the_size_limit_is_a_400(api, settings):
    padding = "x" * (10 * 1024 * 1024)
    response = api.post(
        BATCH, json.dumps({"events": [event(1)], "pad": padding}), content_type="application/json"
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert "too large" in response.json()["non_field_errors"][0]
    assert not Activity.objects.exists()


def test_a_body_of_another_media_type_is_refused(api):
    response = api.post(BATCH, "events=1", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415


def test_a_paired_surrogate_escape_is_a_character_not_an_error(api):
    raw = json.dumps({"events": [event(1, properties={"emoji": "😀"})]}, ensure_ascii=True)
    assert "\\ud83d" in raw
    body = api.post(BATCH, raw, content_type="application/json").json()
    assert body["created"] == 1
    assert Activity.objects.get().properties == {"emoji": "😀"}


# --- The single-event endpoint -----------------------------------------------------------


def test_a_single_event_is_201_then_200_when_replayed(api):
    first = post(api, event(1), path=SINGLE)
    assert (first.status_code, first.json()) == (201, {"status": "created"})
    again = post(api, event(1), path=SINGLE)
    assert (again.status_code, again.json()) == (200, {"status": "duplicate"})
    assert Activity.objects.count() == 1


def test_a_bad_single_event_is_a_400_with_field_errors(api):
    response = post(
        api, event(1, occurred_at="2026-11-01T10:00:00", contact={"email": "x"}), path=SINGLE
    )
    assert response.status_code == 400
    assert set(response.json()) == {"occurred_at", "contact.email"}


@pytest.mark.parametrize("raw", [b"[]", b"null", b'"x"', b"{"])
def test_a_single_event_that_is_not_an_object_is_a_400(api, raw):
    response = api.post(SINGLE, raw, content_type="application/json")
    assert response.status_code == 400
    assert "non_field_errors" in response.json()


def test_an_event_for_an_address_with_a_space_is_rejected_not_merged_into_another(api):
    ContactFactory(email="ab@c.com")
    body = post(api, [event(1, contact={"email": "a b@c.com"})]).json()
    assert body["results"][0]["status"] == "rejected"
    assert list(body["results"][0]["errors"]) == ["contact.email"]
    assert not Activity.objects.exists()


@pytest.mark.parametrize("name", ["[", "\u00a0[", "・・", "()"])
def test_a_company_named_by_punctuation_only_is_a_field_error_not_a_500(api, name):
    body = post(api, [event(1, contact=None, company={"name": name})]).json()
    assert body["results"][0]["status"] == "rejected"
    assert list(body["results"][0]["errors"]) == ["company.name"]
    single = post(api, event(2, contact=None, company={"name": name}), path=SINGLE)
    assert single.status_code == 400 and list(single.json()) == ["company.name"]
    assert not Activity.objects.exists() and not Company.objects.exists()
