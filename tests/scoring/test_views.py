"""The hot-lead definition pages: who may do what, and the draft → approve → active flow."""

from __future__ import annotations

import copy

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.roles import Role
from scoring.forms import RULE_FORMS, DefinitionEditor
from scoring.models import Approval, AuditEntry, DefinitionVersion, RescoreJob
from scoring.services import definitions
from scoring.spec import SpecError

pytestmark = pytest.mark.django_db

Status = DefinitionVersion.Status


@pytest.fixture
def active() -> DefinitionVersion:
    """The starter definition the migration installs."""
    return DefinitionVersion.objects.get(status=Status.ACTIVE)


@pytest.fixture
def draft(active, marketing_user) -> DefinitionVersion:
    return definitions.draft_create(actor=marketing_user, based_on=active, title="Try pricing")


@pytest.fixture
def awaiting(draft, marketing_user) -> DefinitionVersion:
    draft.change_note = "Pricing matters more."
    draft.save(update_fields=["change_note"])
    return definitions.draft_submit(actor=marketing_user, version=draft)


def editor_data(version: DefinitionVersion, **overrides) -> dict:
    """The editor's POST data for ``version`` as the form shows it, with overrides."""
    spec = version.spec
    data = {"title": version.title, "change_note": version.change_note}
    for name, value in spec["thresholds"].items():
        data[f"thresholds-{name}"] = "" if value is None else value
    data["bant-required"] = list(spec["bant"]["required"])
    data["bant-min_count"] = spec["bant"]["min_count"]
    for category, form in RULE_FORMS.items():
        rules = spec[category]
        data.update(
            {
                f"{category}-TOTAL_FORMS": len(rules),
                f"{category}-INITIAL_FORMS": len(rules),
                f"{category}-MIN_NUM_FORMS": 0,
                f"{category}-MAX_NUM_FORMS": 1000,
            }
        )
        for i, rule in enumerate(rules):
            for name, value in form.initial_from(rule).items():
                data[f"{category}-{i}-{name}"] = "" if value is None else value
    data.update(overrides)
    return data


def add_rule(data: dict, category: str, **fields) -> dict:
    index = data[f"{category}-TOTAL_FORMS"]
    data[f"{category}-TOTAL_FORMS"] = index + 1
    for name, value in fields.items():
        data[f"{category}-{index}-{name}"] = value
    return data


def rule_index(version: DefinitionVersion, category: str, key: str) -> int:
    return [r["key"] for r in version.spec[category]].index(key)


# --- Who may do what ------------------------------------------------------------------


def page_urls(version: DefinitionVersion, job: RescoreJob) -> list[tuple[str, str]]:
    return [
        ("get", reverse("scoring:version-list")),
        ("get", reverse("scoring:version-detail", args=[version.pk])),
        ("get", reverse("scoring:version-compare")),
        ("get", reverse("scoring:rescore-progress", args=[job.pk])),
        ("get", reverse("scoring:version-edit", args=[version.pk])),
        ("post", reverse("scoring:version-edit", args=[version.pk])),
        ("post", reverse("scoring:version-copy", args=[version.pk])),
        ("post", reverse("scoring:version-submit", args=[version.pk])),
        ("post", reverse("scoring:version-withdraw", args=[version.pk])),
        ("post", reverse("scoring:version-decide", args=[version.pk])),
        ("post", reverse("scoring:version-rescore", args=[version.pk])),
    ]


def make_job(version: DefinitionVersion, status=RescoreJob.Status.RUNNING, **fields) -> RescoreJob:
    from django.utils import timezone

    return RescoreJob.objects.create(
        version=version, status=status, as_of=timezone.now(), total_chunks=4, **fields
    )


def test_anonymous_visitor_is_sent_to_login_from_every_definition_page(client, draft):
    for method, url in page_urls(draft, make_job(draft)):
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("accounts:login")), url


def test_user_without_a_role_gets_403_on_every_definition_page(client, no_role_user, draft):
    client.force_login(no_role_user)
    for method, url in page_urls(draft, make_job(draft)):
        assert getattr(client, method)(url).status_code == 403, url


@pytest.mark.parametrize("role", list(Role))
def test_every_role_reads_the_definition_pages(client, role_users, role, awaiting, active):
    client.force_login(role_users[role])
    job = make_job(active)
    for url in (
        reverse("scoring:version-list"),
        reverse("scoring:version-detail", args=[awaiting.pk]),
        reverse("scoring:version-compare"),
        reverse("scoring:rescore-progress", args=[job.pk]),
    ):
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("role", list(Role))
def test_every_role_sees_the_definition_in_the_navigation(client, role_users, role):
    client.force_login(role_users[role])
    body = client.get(reverse("home")).content.decode()
    assert reverse("scoring:version-list") in body


@pytest.mark.parametrize("role", [Role.INSIDE_SALES, Role.SALES, Role.SALES_MANAGER, Role.ADMIN])
def test_only_marketing_drafts_edits_submits_and_withdraws(client, role_users, role, draft):
    client.force_login(role_users[role])
    before = draft.spec
    for method, name in [
        ("get", "scoring:version-edit"),
        ("post", "scoring:version-edit"),
        ("post", "scoring:version-copy"),
        ("post", "scoring:version-submit"),
        ("post", "scoring:version-withdraw"),
    ]:
        url = reverse(name, args=[draft.pk])
        data = editor_data(draft, **{"thresholds-hot": 99}) if method == "post" else None
        assert getattr(client, method)(url, data).status_code == 403, name
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT and draft.spec == before
    assert DefinitionVersion.objects.count() == 2


@pytest.mark.parametrize("role", [Role.INSIDE_SALES, Role.SALES, Role.ADMIN])
def test_roles_without_a_department_cannot_decide(client, role_users, role, awaiting):
    client.force_login(role_users[role])
    for department in Approval.Department.values:
        response = client.post(
            reverse("scoring:version-decide", args=[awaiting.pk]),
            {"department": department, "decision": "approve", "comment": "ok"},
        )
        assert response.status_code == 403
    assert not Approval.objects.exists()


def test_sales_manager_cannot_decide_for_marketing(client, manager_user, awaiting):
    client.force_login(manager_user)
    response = client.post(
        reverse("scoring:version-decide", args=[awaiting.pk]),
        {"department": "marketing", "decision": "approve", "comment": "ok"},
    )
    assert response.status_code == 403
    assert not Approval.objects.exists()


def test_marketing_cannot_decide_for_sales(client, marketing_user, awaiting):
    client.force_login(marketing_user)
    response = client.post(
        reverse("scoring:version-decide", args=[awaiting.pk]),
        {"department": "sales", "decision": "approve", "comment": "ok"},
    )
    assert response.status_code == 403
    assert not Approval.objects.exists()


@pytest.mark.parametrize("role", [Role.INSIDE_SALES, Role.SALES, Role.SALES_MANAGER])
def test_only_marketing_and_admin_start_a_rescore(client, role_users, role, active):
    client.force_login(role_users[role])
    response = client.post(reverse("scoring:version-rescore", args=[active.pk]))
    assert response.status_code == 403
    assert not RescoreJob.objects.exists()


def test_sales_sees_no_workflow_buttons(client, sales_user, draft, active):
    client.force_login(sales_user)
    body = client.get(reverse("scoring:version-detail", args=[draft.pk])).content.decode()
    assert reverse("scoring:version-edit", args=[draft.pk]) not in body
    assert reverse("scoring:version-copy", args=[draft.pk]) not in body
    body = client.get(reverse("scoring:version-detail", args=[active.pk])).content.decode()
    assert reverse("scoring:version-rescore", args=[active.pk]) not in body


# --- Reading ----------------------------------------------------------------------------


def test_list_highlights_the_active_version_and_shows_each_status(client, sales_user, awaiting):
    client.force_login(sales_user)
    body = client.get(reverse("scoring:version-list")).content.decode()
    assert "active-definition" in body and "table-success" in body
    assert "Awaiting approval" in body or "承認待ち" in body
    assert f"v{awaiting.number}" in body


def test_list_answers_htmx_with_its_rows_only(client, sales_user):
    client.force_login(sales_user)
    response = client.get(reverse("scoring:version-list"), HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "<html" not in body and "v1" in body


def test_detail_shows_thresholds_bant_rules_and_negative_points(client, sales_user, active):
    client.force_login(sales_user)
    response = client.get(
        reverse("scoring:version-detail", args=[active.pk]), HTTP_ACCEPT_LANGUAGE="en"
    )
    body = response.content.decode()
    assert "band-scale" in body
    assert "A lead is sales-qualified when Authority and Need are confirmed" in body
    for key in ("title_senior", "pricing_page", "intent_strong"):
        assert key in body
    assert "rule-negative" in body and "−100" in body
    assert "Page view" in body  # kinds are translated labels, not codes


def test_detail_page_queries_do_not_grow_with_decisions_and_audit(
    client, manager_user, marketing_user, awaiting, django_assert_max_num_queries
):
    definitions.version_decide(
        actor=marketing_user, version=awaiting, department="marketing", approve=True, comment="ok"
    )
    client.force_login(manager_user)
    with django_assert_max_num_queries(11):
        response = client.get(reverse("scoring:version-detail", args=[awaiting.pk]))
    assert response.status_code == 200


def test_detail_shows_the_audit_trail_with_what_changed(client, sales_user, draft, marketing_user):
    spec = copy.deepcopy(draft.spec)
    spec["thresholds"]["hot"] = 70
    definitions.draft_update(
        actor=marketing_user, version=draft, spec=spec, title=draft.title, change_note="Stricter"
    )
    client.force_login(sales_user)
    body = client.get(
        reverse("scoring:version-detail", args=[draft.pk]), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert 'title="thresholds.hot"' in body
    assert "Stricter" in body


# --- Drafting ------------------------------------------------------------------------------


def test_marketing_makes_a_new_draft_from_a_version(client, marketing_user, active):
    client.force_login(marketing_user)
    response = client.post(reverse("scoring:version-copy", args=[active.pk]))
    draft = DefinitionVersion.objects.get(status=Status.DRAFT)
    assert response.status_code == 302
    assert response["Location"] == reverse("scoring:version-edit", args=[draft.pk])
    assert draft.spec == active.spec and draft.based_on == active
    assert AuditEntry.objects.filter(version=draft, action=AuditEntry.Action.CREATED).exists()


def test_editor_shows_the_draft_with_every_rule(client, marketing_user, draft):
    client.force_login(marketing_user)
    response = client.get(reverse("scoring:version-edit", args=[draft.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    for category in RULE_FORMS:
        count = len(draft.spec[category])
        assert f'name="{category}-TOTAL_FORMS" value="{count}"' in body
    assert 'value="pricing_page"' in body and "__prefix__" in body


def test_saving_the_editor_updates_the_draft_and_audits_the_changes(client, marketing_user, draft):
    client.force_login(marketing_user)
    i = rule_index(draft, "behaviour", "pricing_page")
    data = editor_data(
        draft,
        **{
            "change_note": "Pricing counts more.",
            "thresholds-hot": "55",
            f"behaviour-{i}-points": "8",
            "bant-min_count": 2,
        },
    )
    add_rule(
        data,
        "behaviour",
        key="docs_page",
        label="Docs",
        kinds=["page_view", "video_view"],
        url_contains="/docs",
        points="2",
        cap="6",
        half_life_days="7",
    )
    add_rule(data, "attributes", key="big", attribute="company.employee_count", op="between",
             value="100, 999", points="4")  # fmt: skip
    response = client.post(reverse("scoring:version-edit", args=[draft.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    draft.refresh_from_db()
    assert draft.spec["thresholds"]["hot"] == 55
    assert draft.spec["bant"]["min_count"] == 2
    rules = {r["key"]: r for r in draft.spec["behaviour"]}
    assert rules["pricing_page"]["points"] == 8
    assert rules["docs_page"]["kinds"] == ["page_view", "video_view"]
    assert rules["docs_page"]["cap"] == 6
    big = next(r for r in draft.spec["attributes"] if r["key"] == "big")
    assert big["value"] == [100, 999] and big["op"] == "between"
    edit = AuditEntry.objects.get(version=draft, action=AuditEntry.Action.EDITED)
    paths = {c["path"] for c in edit.detail["changes"]}
    assert {"thresholds.hot", "behaviour[pricing_page].points", "change_note"} <= paths
    assert "behaviour[docs_page].kinds" in paths


def test_a_save_over_a_colleagues_newer_save_is_refused_then_kept_on_purpose(
    client, marketing_user, draft, django_user_model
):
    colleague = django_user_model.objects.create_user(username="hanako", first_name="花子")
    colleague.groups.set(marketing_user.groups.all())
    opened = editor_data(draft, opened_at=draft.updated_at.isoformat(), title="Mine")
    definitions.draft_update(
        actor=colleague, version=draft, spec=draft.spec, title="Theirs", change_note=""
    )
    client.force_login(marketing_user)
    url = reverse("scoring:version-edit", args=[draft.pk])
    response = client.post(url, opened)
    assert response.status_code == 400
    assert "花子" in response.content.decode()
    assert response.context["stale"]
    draft.refresh_from_db()
    assert draft.title == "Theirs"
    assert AuditEntry.objects.filter(version=draft, action="edited").count() == 1
    # The form now carries the newer time: saving again replaces theirs, knowingly.
    again = response.context["editor"].meta["opened_at"].value()
    assert again == draft.updated_at.isoformat()
    response = client.post(url, {**opened, "opened_at": again})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.title == "Mine"


def test_editing_keeps_a_rules_property_conditions_and_trigger(client, marketing_user, draft):
    spec = copy.deepcopy(draft.spec)
    i = rule_index(draft, "behaviour", "pricing_page")
    conditions = [
        {"property": "utm_medium", "op": "in", "value": ["cpc", "メール"], "negate": True},
        {"property": "url", "op": "regex", "value": "^/pricing", "negate": False},
    ]
    spec["behaviour"][i].update(conditions=conditions, trigger=True)
    definitions.draft_update(
        actor=marketing_user, version=draft, spec=spec, title=draft.title, change_note=""
    )
    draft.refresh_from_db()
    client.force_login(marketing_user)
    url = reverse("scoring:version-edit", args=[draft.pk])
    assert f'name="behaviour-{i}-rule_language"' in client.get(url).content.decode()
    data = editor_data(draft, **{f"behaviour-{i}-points": "7"})
    assert client.post(url, data).status_code == 302
    draft.refresh_from_db()
    rule = draft.spec["behaviour"][i]
    assert rule["points"] == 7 and rule["trigger"] is True and rule["conditions"] == conditions
    assert "trigger" not in draft.spec["behaviour"][i + 1 if i == 0 else 0]


def test_editor_marks_a_bad_condition_on_its_rule(client, marketing_user, draft):
    client.force_login(marketing_user)
    i = rule_index(draft, "behaviour", "pricing_page")
    bad = '{"conditions": [{"property": "url", "op": "regex", "value": "(?=x)"}]}'
    data = editor_data(draft, **{f"behaviour-{i}-rule_language": bad})
    response = client.post(reverse("scoring:version-edit", args=[draft.pk]), data)
    assert response.status_code == 400
    assert "lookarounds" in response.content.decode()
    data = editor_data(draft, **{f"behaviour-{i}-rule_language": "[not json"})
    response = client.post(reverse("scoring:version-edit", args=[draft.pk]), data)
    assert response.status_code == 400


def test_editing_keeps_a_fit_rules_extra_conditions(client, marketing_user, draft):
    spec = copy.deepcopy(draft.spec)
    i = rule_index(draft, "attributes", "title_senior")
    all_of = [
        {"attribute": "company.employee_count", "op": "gte", "value": 300},
        {"attribute": "company.industry", "op": "not_in", "value": ["E", "G"]},
    ]
    spec["attributes"][i]["all_of"] = all_of
    definitions.draft_update(
        actor=marketing_user, version=draft, spec=spec, title=draft.title, change_note=""
    )
    draft.refresh_from_db()
    client.force_login(marketing_user)
    url = reverse("scoring:version-edit", args=[draft.pk])
    page = client.get(url).content.decode()
    assert f'name="attributes-{i}-rule_language"' in page
    assert '<option value="not_in"' in page
    data = editor_data(draft, **{f"attributes-{i}-points": "12"})
    assert client.post(url, data).status_code == 302
    draft.refresh_from_db()
    rule = draft.spec["attributes"][i]
    assert rule["points"] == 12 and rule["all_of"] == all_of
    assert all("all_of" not in r for j, r in enumerate(draft.spec["attributes"]) if j != i)


def test_editor_saves_a_not_in_rule_and_marks_a_bad_extra_condition(client, marketing_user, draft):
    client.force_login(marketing_user)
    url = reverse("scoring:version-edit", args=[draft.pk])
    i = rule_index(draft, "attributes", "title_senior")
    data = editor_data(
        draft,
        **{
            f"attributes-{i}-attribute": "company.industry",
            f"attributes-{i}-op": "not_in",
            f"attributes-{i}-value": "E, G",
        },
    )
    assert client.post(url, data).status_code == 302
    draft.refresh_from_db()
    rule = draft.spec["attributes"][i]
    assert (rule["op"], rule["value"]) == ("not_in", ["E", "G"])
    bad = '{"all_of": [{"attribute": "x", "op": "eq", "value": "a"}]}'
    response = client.post(url, editor_data(draft, **{f"attributes-{i}-rule_language": bad}))
    assert response.status_code == 400
    assert "all_of[0]: unknown attribute &#x27;x&#x27;" in response.content.decode()
    response = client.post(url, editor_data(draft, **{f"attributes-{i}-rule_language": "[x"}))
    assert response.status_code == 400


def test_editor_removes_a_rule_marked_for_deletion(client, marketing_user, draft):
    client.force_login(marketing_user)
    i = rule_index(draft, "behaviour", "video_view")
    data = editor_data(draft, **{f"behaviour-{i}-DELETE": "on"})
    assert client.post(reverse("scoring:version-edit", args=[draft.pk]), data).status_code == 302
    draft.refresh_from_db()
    assert "video_view" not in {r["key"] for r in draft.spec["behaviour"]}


def test_editor_refuses_warm_above_hot_and_saves_nothing(client, marketing_user, draft):
    client.force_login(marketing_user)
    before = draft.spec
    data = editor_data(draft, **{"thresholds-warm": "80", "thresholds-hot": "60"})
    response = client.post(reverse("scoring:version-edit", args=[draft.pk]), data)
    assert response.status_code == 400
    assert response.context["editor"].thresholds.errors["hot"]
    draft.refresh_from_db()
    assert draft.spec == before


def test_editor_marks_the_rule_with_a_bad_cap(client, marketing_user, draft):
    client.force_login(marketing_user)
    i = rule_index(draft, "behaviour", "careers_page")  # negative points
    data = editor_data(draft, **{f"behaviour-{i}-cap": "30"})
    response = client.post(reverse("scoring:version-edit", args=[draft.pk]), data)
    assert response.status_code == 400
    form = response.context["editor"].formsets["behaviour"].forms[i]
    assert "cap" in form.errors


def test_editor_marks_an_operator_that_does_not_fit_the_attribute(client, marketing_user, draft):
    client.force_login(marketing_user)
    data = add_rule(editor_data(draft), "attributes", key="odd",
                    attribute="company.employee_count", op="contains_any", value="x", points="1")  # fmt: skip
    response = client.post(reverse("scoring:version-edit", args=[draft.pk]), data)
    assert response.status_code == 400
    assert "op" in response.context["editor"].formsets["attributes"].forms[-1].errors


def test_editor_marks_a_key_used_twice(client, marketing_user, draft):
    client.force_login(marketing_user)
    data = add_rule(editor_data(draft), "intents", key="pricing_page", min_strength=0, points="1")
    response = client.post(reverse("scoring:version-edit", args=[draft.pk]), data)
    assert response.status_code == 400
    editor = response.context["editor"]
    assert "key" in editor.formsets["intents"].forms[-1].errors
    i = rule_index(draft, "behaviour", "pricing_page")
    assert "key" in editor.formsets["behaviour"].forms[i].errors


def test_engine_errors_land_on_the_rule_and_field_they_name(draft):
    editor = DefinitionEditor(version=draft, data=editor_data(draft))
    assert editor.is_valid()
    editor.add_spec_error(
        SpecError("rule 'chat': window_days must be a positive int: 0", where="behaviour[1]")
    )
    assert "window_days" in editor.formsets["behaviour"].forms[1].errors
    editor.add_service_error(ValidationError({"spec": "intents[0]: min_strength must be 0–100"}))
    assert "min_strength" in editor.formsets["intents"].forms[0].errors
    editor.add_service_error(ValidationError({"title": "Give the version a title."}))
    assert "title" in editor.meta.errors


def test_only_a_draft_opens_in_the_editor(client, marketing_user, awaiting):
    client.force_login(marketing_user)
    response = client.get(reverse("scoring:version-edit", args=[awaiting.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("scoring:version-detail", args=[awaiting.pk])


def test_save_and_submit_needs_a_change_note(client, marketing_user, draft):
    client.force_login(marketing_user)
    data = editor_data(draft, submit="1", **{"thresholds-hot": "58"})
    response = client.post(reverse("scoring:version-edit", args=[draft.pk]), data)
    assert response.status_code == 400
    assert "change_note" in response.context["editor"].meta.errors
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT and draft.spec["thresholds"]["hot"] == 58  # saved


def test_save_and_submit_sends_the_draft_for_approval(client, marketing_user, draft):
    client.force_login(marketing_user)
    data = editor_data(draft, submit="1", change_note="Why: pricing.")
    response = client.post(reverse("scoring:version-edit", args=[draft.pk]), data)
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == Status.AWAITING and draft.review_round == 1


def test_submit_without_a_change_note_is_refused_with_a_message(client, marketing_user, draft):
    client.force_login(marketing_user)
    response = client.post(reverse("scoring:version-submit", args=[draft.pk]), follow=True)
    assert response.status_code == 200
    assert list(response.context["messages"])
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT


def test_marketing_withdraws_an_awaiting_version(client, marketing_user, awaiting):
    client.force_login(marketing_user)
    client.post(reverse("scoring:version-withdraw", args=[awaiting.pk]))
    awaiting.refresh_from_db()
    assert awaiting.status == Status.DRAFT


# --- Deciding ------------------------------------------------------------------------------


def test_decision_form_shows_only_the_users_open_departments(client, manager_user, awaiting):
    client.force_login(manager_user)
    response = client.get(reverse("scoring:version-detail", args=[awaiting.pk]))
    forms = response.context["decision_forms"]
    assert [form.initial["department"] for _label, form in forms] == ["sales"]


def test_a_decision_needs_a_comment(client, manager_user, awaiting):
    client.force_login(manager_user)
    response = client.post(
        reverse("scoring:version-decide", args=[awaiting.pk]),
        {"department": "sales", "decision": "approve", "comment": "  "},
    )
    assert response.status_code == 400
    assert not Approval.objects.exists()
    assert "is-invalid" in response.content.decode()


def test_both_approvals_activate_the_version_and_rescore(
    client, marketing_user, manager_user, awaiting, active, django_capture_on_commit_callbacks
):
    url = reverse("scoring:version-decide", args=[awaiting.pk])
    client.force_login(marketing_user)
    client.post(url, {"department": "marketing", "decision": "approve", "comment": "Looks right."})
    awaiting.refresh_from_db()
    assert awaiting.status == Status.AWAITING
    client.force_login(manager_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url, {"department": "sales", "decision": "approve", "comment": "Sales agrees."}
        )
    assert response.status_code == 302
    awaiting.refresh_from_db()
    active.refresh_from_db()
    assert awaiting.status == Status.ACTIVE and active.status == Status.RETIRED
    assert RescoreJob.objects.filter(version=awaiting).exists()
    comments = set(Approval.objects.values_list("comment", flat=True))
    assert comments == {"Looks right.", "Sales agrees."}


def test_a_refusal_sends_the_version_back_to_draft(client, manager_user, awaiting):
    client.force_login(manager_user)
    client.post(
        reverse("scoring:version-decide", args=[awaiting.pk]),
        {"department": "sales", "decision": "refuse", "comment": "Too loose for sales."},
    )
    awaiting.refresh_from_db()
    assert awaiting.status == Status.DRAFT
    audit = AuditEntry.objects.get(version=awaiting, action=AuditEntry.Action.REFUSED)
    assert audit.detail["comment"] == "Too loose for sales."


# --- Rescoring -------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.MARKETING, Role.ADMIN])
def test_marketing_and_admin_rescore_the_active_version(client, role_users, role, active):
    client.force_login(role_users[role])
    response = client.post(reverse("scoring:version-rescore", args=[active.pk]))
    assert response["Location"].endswith("#rescore")
    assert RescoreJob.objects.filter(version=active, created_by=role_users[role]).count() == 1


def test_only_the_active_version_is_rescored(client, marketing_user, draft):
    client.force_login(marketing_user)
    client.post(reverse("scoring:version-rescore", args=[draft.pk]))
    assert not RescoreJob.objects.exists()


def test_no_second_rescore_while_one_runs(client, marketing_user, active):
    make_job(active)
    client.force_login(marketing_user)
    client.post(reverse("scoring:version-rescore", args=[active.pk]))
    assert RescoreJob.objects.count() == 1


def test_progress_bar_polls_every_two_seconds_while_running(client, sales_user, active):
    job = make_job(active, done_chunks=1)
    client.force_login(sales_user)
    body = client.get(
        reverse("scoring:rescore-progress", args=[job.pk]), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert 'hx-trigger="every 2s"' in body and "25%" in body


def test_progress_bar_stops_polling_when_done(client, sales_user, active):
    job = make_job(active, status=RescoreJob.Status.DONE, done_chunks=4)
    client.force_login(sales_user)
    body = client.get(reverse("scoring:rescore-progress", args=[job.pk])).content.decode()
    assert "hx-trigger" not in body and "100%" in body


def test_detail_shows_the_latest_rescore_of_the_version(client, sales_user, active):
    make_job(active, done_chunks=2)
    client.force_login(sales_user)
    body = client.get(reverse("scoring:version-detail", args=[active.pk])).content.decode()
    assert "rescore-progress" in body and "50%" in body


# --- Comparing --------------------------------------------------------------------------------


def test_compare_defaults_to_the_active_version_against_the_chosen_one(
    client, sales_user, marketing_user, draft, active
):
    spec = copy.deepcopy(draft.spec)
    spec["thresholds"]["hot"] = 70
    spec["behaviour"] = [r for r in spec["behaviour"] if r["key"] != "video_view"]
    for rule in spec["behaviour"]:
        if rule["key"] == "chat":
            rule["points"] = 12
    definitions.draft_update(
        actor=marketing_user, version=draft, spec=spec, title=draft.title, change_note=""
    )
    client.force_login(sales_user)
    response = client.get(reverse("scoring:version-compare"), {"b": draft.pk})
    assert response.status_code == 200
    assert response.context["left"] == active and response.context["right"] == draft
    assert response.context["change_count"] == 3
    rows = {row.key: row for _c, _l, rows in response.context["sections"] for row in rows}
    assert rows["video_view"].status == "removed"
    assert rows["chat"].status == "changed"
    assert [c.text for c in rows["chat"].right if c.is_changed] == ["+12"]
    assert "pricing_page" not in rows  # unchanged rules are hidden by default
    response = client.get(reverse("scoring:version-compare"), {"b": draft.pk, "all": "1"})
    rows = {row.key for _c, _l, rows in response.context["sections"] for row in rows}
    assert "pricing_page" in rows


def test_compare_of_an_unknown_version_is_404(client, sales_user, active):
    client.force_login(sales_user)
    response = client.get(reverse("scoring:version-compare"), {"a": active.pk, "b": 9999})
    assert response.status_code == 404


def _compared_changes(client, draft, key: str) -> dict[str, str]:
    """The changed cells of rule ``key`` on the compare page of ``draft`` (in English)."""
    response = client.get(
        reverse("scoring:version-compare"), {"b": draft.pk}, HTTP_ACCEPT_LANGUAGE="en"
    )
    rows = {row.key: row for _c, _l, rows in response.context["sections"] for row in rows}
    return {c.label: c.text for c in rows[key].right if c.is_changed}


def test_compare_detail_and_audit_show_a_rules_conditions_and_trigger(
    client, sales_user, marketing_user, draft
):
    spec = copy.deepcopy(draft.spec)
    i = rule_index(draft, "behaviour", "pricing_page")
    spec["behaviour"][i]["conditions"] = [
        {"property": "minutes", "op": "gte", "value": 30, "negate": False},
        {"property": "utm_medium", "op": "in", "value": ["cpc", "email"], "negate": True},
    ]
    spec["behaviour"][i]["trigger"] = True
    definitions.draft_update(
        actor=marketing_user, version=draft, spec=spec, title=draft.title, change_note=""
    )
    client.force_login(sales_user)
    wanted = "minutes is at least 30 and not (utm_medium is one of cpc, email)"
    changed = _compared_changes(client, draft, "pricing_page")
    assert changed == {"Property conditions": wanted, "MQL trigger": "yes"}
    body = client.get(
        reverse("scoring:version-detail", args=[draft.pk]), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert wanted in body and "MQL trigger" in body
    assert 'title="behaviour[pricing_page].conditions"' in body


def test_compare_detail_and_audit_show_a_fit_rules_extra_conditions(
    client, sales_user, marketing_user, draft
):
    spec = copy.deepcopy(draft.spec)
    i = rule_index(draft, "attributes", "title_senior")
    spec["attributes"][i]["all_of"] = [
        {"attribute": "company.employee_count", "op": "gte", "value": 300},
        {"attribute": "company.industry", "op": "not_in", "value": ["E"]},
    ]
    definitions.draft_update(
        actor=marketing_user, version=draft, spec=spec, title=draft.title, change_note=""
    )
    client.force_login(sales_user)
    wanted = "Company: employees is at least 300 and Company: industry (JSIC) is none of E "
    changed = _compared_changes(client, draft, "title_senior")
    assert list(changed) == ["Also required"]
    assert changed["Also required"].startswith(wanted)
    body = client.get(
        reverse("scoring:version-detail", args=[draft.pk]), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert "Also required: " + wanted in body
    assert 'title="attributes[title_senior].all_of"' in body
    ja = client.get(
        reverse("scoring:version-detail", args=[draft.pk]), HTTP_ACCEPT_LANGUAGE="ja"
    ).content.decode()
    assert "かつ（すべて満たす）" in ja and "のいずれでもない" in ja
