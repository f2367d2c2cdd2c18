"""The handoff's pages and actions: who gets in, what they do, and every denial."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.roles import Role
from handoff.models import AssignmentRule, Cycle, Notification, Pool, Stage

pytestmark = pytest.mark.django_db

QUEUE = reverse("portal:queue")


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.INSIDE_SALES, 200), (Role.SALES_MANAGER, 200), (Role.MARKETING, 200),
        (Role.ADMIN, 200), (Role.SALES, 200),
    ],
)  # fmt: skip
def test_who_opens_the_queue(client, role_users, role, status):
    client.force_login(role_users[role])
    assert client.get(QUEUE).status_code == status


def test_the_queue_refuses_no_role_and_sends_anonymous_to_login(client, no_role_user):
    assert client.get(QUEUE).status_code == 302
    client.force_login(no_role_user)
    assert client.get(QUEUE).status_code == 403


def test_a_rep_sees_their_queue_a_manager_the_teams_field_sales_their_handovers(
    client, make_rep, make_cycle, manager_user
):
    rep, other = make_rep("q-rep"), make_rep("q-other")
    field = make_rep("q-field", pool=Pool.FIELD)
    mine, theirs = make_cycle(owner=rep), make_cycle(owner=other)
    handed = make_cycle(stage=Stage.HANDED_OVER, owner=rep, field_owner=field)
    client.force_login(rep)
    response = client.get(QUEUE)
    assert response.context["tab"] == "mine"
    assert [r.cycle for r in response.context["rows"]] == [mine]  # not the SQL handed over
    client.force_login(manager_user)
    team = client.get(QUEUE).context["rows"]
    assert {r.cycle for r in team} == {mine, theirs}
    client.force_login(field)
    response = client.get(QUEUE)
    assert response.context["tab"] == "handovers"
    assert [r.cycle for r in response.context["rows"]] == [handed]


def test_the_queue_puts_breached_and_due_leads_first(client, make_rep, make_cycle):
    import datetime as dt

    from django.utils import timezone

    rep = make_rep("order-rep")
    now = timezone.now()
    later = make_cycle(owner=rep, first_touch_due_at=now + dt.timedelta(hours=6))
    late = make_cycle(owner=rep, first_touch_due_at=now - dt.timedelta(hours=1))
    soon = make_cycle(owner=rep, first_touch_due_at=now + dt.timedelta(minutes=10))
    client.force_login(rep)
    rows = client.get(QUEUE).context["rows"]
    assert [r.cycle for r in rows] == [late, soon, later]
    assert [r.sla.state for r in rows] == ["breached", "due_soon", "on_time"]
    breached = client.get(QUEUE, {"sla": "breached"}).context["rows"]
    assert [r.cycle for r in breached] == [late]


def test_the_lead_page_shows_the_workspace_and_the_owner_logs_a_call_in_place(
    client, make_rep, make_cycle
):
    rep = make_rep("ws-rep")
    cycle = make_cycle(owner=rep)
    client.force_login(rep)
    page = client.get(
        reverse("portal:lead-detail", args=[cycle.contact_id]), HTTP_ACCEPT_LANGUAGE="en"
    )
    html = page.content.decode()
    assert 'id="handoff-panel"' in html and "Log a call" in html
    url = reverse("handoff:cycle-call", args=[cycle.pk])
    bad = client.post(url, {"outcome": "nope"}, HTTP_HX_REQUEST="true")
    assert bad.status_code == 400 and "<html" not in bad.content.decode()
    ok = client.post(
        url,
        {"outcome": "connected", "budget_status": "unknown", "authority_status": "unknown",
         "authority_role": "unknown", "need_status": "confirmed", "timeframe_status": "unknown",
         "timeframe_kind": "undecided", "notes": "初回ヒアリング"},
        HTTP_HX_REQUEST="true",
    )  # fmt: skip
    assert ok.status_code == 200, ok.content.decode()[:500]
    cycle.refresh_from_db()
    assert cycle.stage == Stage.WORKING and cycle.calls.count() == 1


@pytest.mark.parametrize("role", [Role.MARKETING, Role.SALES])
def test_marketing_and_field_sales_cannot_log_calls_or_promote(
    client, role_users, make_cycle, role
):
    cycle = make_cycle()
    client.force_login(role_users[role])
    for name in ("handoff:cycle-call", "handoff:cycle-promote"):
        assert (
            client.post(reverse(name, args=[cycle.pk]), {"outcome": "connected"}).status_code == 403
        )
    assert not cycle.calls.exists()


def test_another_rep_cannot_work_a_lead_that_is_not_theirs(client, make_rep, make_cycle):
    cycle = make_cycle(owner=make_rep("owner-x"))
    client.force_login(make_rep("intruder"))
    assert (
        client.post(
            reverse("handoff:cycle-call", args=[cycle.pk]), {"outcome": "connected"}
        ).status_code
        == 403
    )
    assert client.post(reverse("handoff:cycle-promote", args=[cycle.pk])).status_code == 403


def test_raising_a_lead_by_hand_from_its_page(client, make_rep):
    from tests.factories import ContactFactory

    rep = make_rep("raiser")
    contact = ContactFactory()
    client.force_login(rep)
    url = reverse("handoff:contact-raise", args=[contact.pk])
    client.post(url, {"reason": "展示会で名刺交換、決裁者"})
    cycle = Cycle.objects.get(contact=contact)
    assert (cycle.origin, cycle.owner) == ("sales", rep)


@pytest.mark.parametrize("role", [Role.MARKETING, Role.SALES])
def test_marketing_and_field_sales_cannot_raise_leads(client, role_users, role):
    from tests.factories import ContactFactory

    contact = ContactFactory()
    client.force_login(role_users[role])
    assert (
        client.post(
            reverse("handoff:contact-raise", args=[contact.pk]), {"reason": "x"}
        ).status_code
        == 403
    )


@pytest.mark.parametrize("role", [Role.INSIDE_SALES, Role.MARKETING, Role.SALES])
def test_only_managers_reassign_and_edit_routing(client, role_users, make_cycle, role):
    cycle = make_cycle()
    client.force_login(role_users[role])
    assert client.post(reverse("handoff:cycles-reassign"), {"cycle": [cycle.pk]}).status_code == 403
    assert client.get(reverse("handoff:team")).status_code == 403
    assert client.post(reverse("handoff:team"), {"action": "rule"}).status_code == 403


def test_a_manager_reassigns_from_the_queue(client, make_rep, make_cycle, manager_user):
    a, b = make_rep("qa"), make_rep("qb")
    cycles = [make_cycle(owner=a), make_cycle(owner=a)]
    client.force_login(manager_user)
    response = client.post(
        reverse("handoff:cycles-reassign"),
        {"cycle": [c.pk for c in cycles], "user": b.pk, "next": QUEUE},
    )
    assert response.status_code == 302 and response["Location"] == QUEUE
    assert Cycle.objects.filter(owner=b).count() == 2


def test_a_manager_edits_the_routing_rules(client, make_rep, manager_user):
    rep = make_rep("routed-rep")
    client.force_login(manager_user)
    page = client.get(reverse("handoff:team"))
    assert page.status_code == 200
    refused = client.post(reverse("handoff:team"), {"action": "rule", "rule-order": 1, "rule-pool": "inside",
                                                    "rule-assignee": rep.pk, "rule-is_active": "on"})  # fmt: skip
    assert refused.status_code == 400  # no condition
    client.post(reverse("handoff:team"), {"action": "rule", "rule-order": 1, "rule-pool": "inside",
                                          "rule-prefecture": "27", "rule-assignee": rep.pk,
                                          "rule-is_active": "on"})  # fmt: skip
    rule = AssignmentRule.objects.get()
    assert (rule.prefecture, rule.assignee, rule.updated_by) == ("27", rep, manager_user)


def test_the_bell_counts_unread_and_the_list_marks_read(client, make_rep, make_cycle):
    from django.utils import timezone

    rep = make_rep("belled")
    cycle = make_cycle(owner=rep)
    Notification.objects.create(user=rep, kind="assigned", cycle=cycle, created_at=timezone.now())
    client.force_login(rep)
    html = client.get(reverse("home")).content.decode()
    assert 'data-testid="unread-count"' in html
    listed = client.get(reverse("handoff:notification-list"), HTTP_ACCEPT_LANGUAGE="en")
    assert "is yours to call" in listed.content.decode()
    client.post(reverse("handoff:notifications-read"))
    assert not Notification.objects.filter(read_at__isnull=True).exists()


def test_notifications_are_each_users_own(client, make_rep, make_cycle, marketing_user):
    from django.utils import timezone

    rep = make_rep("private")
    note = Notification.objects.create(
        user=rep, kind="assigned", cycle=make_cycle(), created_at=timezone.now()
    )
    client.force_login(marketing_user)
    client.post(reverse("handoff:notifications-read"), {"id": [note.pk]})
    note.refresh_from_db()
    assert note.read_at is None
    assert "private" not in client.get(reverse("handoff:notification-list")).content.decode()


def test_an_open_redirect_is_refused(client, make_rep, manager_user, make_cycle):
    b = make_rep("redir")
    cycle = make_cycle()
    client.force_login(manager_user)
    response = client.post(
        reverse("handoff:cycles-reassign"),
        {"cycle": [cycle.pk], "user": b.pk, "next": "https://evil.example/"},
    )
    assert response["Location"] == QUEUE


def test_home_shows_each_role_its_part_of_the_queue(client, make_rep, make_cycle, manager_user):
    rep = make_rep("home-rep")
    make_cycle(owner=rep)
    client.force_login(rep)
    assert client.get(reverse("home")).context["queue"].scope == "mine"
    client.force_login(manager_user)
    assert client.get(reverse("home")).context["queue"].scope == "team"
