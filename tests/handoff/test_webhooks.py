"""The SQL handoff webhook: signed, delivered to a real HTTP server, retried, replayable."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.core.exceptions import PermissionDenied

from handoff.models import WebhookDelivery, WebhookEndpoint
from handoff.services.webhooks import (
    SIGNATURE_HEADER,
    webhook_attempt,
    webhook_replay,
    webhooks_queue,
)

pytestmark = pytest.mark.django_db


class _Crm(BaseHTTPRequestHandler):
    received: list[tuple[dict, bytes]] = []
    answers: list[int] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((dict(self.headers), body))
        self.send_response(type(self).answers.pop(0) if type(self).answers else 200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def crm():
    _Crm.received, _Crm.answers = [], []
    server = HTTPServer(("127.0.0.1", 0), _Crm)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", _Crm
    server.shutdown()


def test_a_handover_is_posted_signed(make_cycle, crm, django_capture_on_commit_callbacks):
    url, handler = crm
    endpoint = WebhookEndpoint.objects.create(name="CRM", url=url, secret="s3cret")
    cycle = make_cycle(stage="handed_over")
    with django_capture_on_commit_callbacks(execute=True):
        (delivery_id,) = webhooks_queue(cycle=cycle)
    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("succeeded", 1, 200)
    headers, body = handler.received[0]
    timestamp, given = headers[SIGNATURE_HEADER].replace("t=", "").split(",v1=")
    expected = hmac.new(b"s3cret", f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(given, expected)
    payload = json.loads(body)
    assert (
        payload["event"] == "lead.handed_over" and payload["lead"]["email"] == cycle.contact.email
    )
    assert endpoint.deliveries.count() == 1


def test_a_failed_attempt_is_logged_then_retried_to_success(make_cycle, crm, settings):
    url, handler = crm
    handler.answers = [503]
    endpoint = WebhookEndpoint.objects.create(name="CRM", url=url, secret="x")
    delivery = WebhookDelivery.objects.create(endpoint=endpoint, payload={"a": 1})
    first = webhook_attempt(delivery_id=delivery.pk)
    assert (first.status, first.attempts, first.last_status_code) == ("pending", 1, 503)
    second = webhook_attempt(delivery_id=delivery.pk)
    assert (second.status, second.attempts) == ("succeeded", 2)


def test_an_unreachable_crm_fails_after_the_last_attempt(settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    endpoint = WebhookEndpoint.objects.create(name="down", url="http://127.0.0.1:9/", secret="x")
    delivery = WebhookDelivery.objects.create(endpoint=endpoint, payload={})
    assert webhook_attempt(delivery_id=delivery.pk).status == "pending"
    last = webhook_attempt(delivery_id=delivery.pk)
    assert last.status == "failed" and last.last_error


def test_only_an_admin_replays(
    make_cycle, admin_user, manager_user, crm, django_capture_on_commit_callbacks
):
    url, _handler = crm
    endpoint = WebhookEndpoint.objects.create(name="CRM", url=url, secret="x")
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint, payload={}, status="failed", attempts=8
    )
    with pytest.raises(PermissionDenied):
        webhook_replay(actor=manager_user, delivery_id=delivery.pk)
    with django_capture_on_commit_callbacks(execute=True):
        webhook_replay(actor=admin_user, delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("succeeded", 1)
