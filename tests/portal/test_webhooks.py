"""Webhooks, end to end against a real HTTP receiver in the test process: subscribe through the
API, act through the API, and check every request that arrives (signature, order, payload),
retries, tenancy and internal notes, and the refusals of bad input."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from cases.casework.models import Case
from portal.notifications import Notification
from portal.webhooks.delivery import deliver_due
from portal.webhooks.models import WebhookDelivery, WebhookSubscription
from tests.conftest import World, signed_in

pytestmark = pytest.mark.django_db
WEBHOOKS = "/api/v1/webhooks/"


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    path: str = ""

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A real HTTP server on a free port: records each request, answers the next scripted
    status (200 once the script is used up)."""

    received: list[Received] = field(default_factory=list)
    script: list[int] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                receiver.received.append(
                    Received(dict(self.headers), self.rfile.read(length), self.path)
                )
                code = receiver.script.pop(0) if receiver.script else 200
                self.send_response(code)
                self.end_headers()
                self.wfile.write(b"ok" if code < 300 else b"nope" * 1000)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


@pytest.fixture
def receiver(settings: Any) -> Iterator[Receiver]:
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = True  # the receiver is on loopback
    settings.WEBHOOK_BACKOFF_BASE_SECONDS = 0  # retries are due at once
    server = Receiver()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def subscribe(client: Any, url: str, events: list[str]) -> dict[str, Any]:
    response = client.post(WEBHOOKS, {"url": url, "events": events}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert len(body["secret"]) == 64
    return body


def drain(rounds: int = 20) -> None:
    for _ in range(rounds):
        if not WebhookDelivery.objects.filter(status="pending").exists():
            return
        deliver_due()


def verified(request: Received, secret: str) -> dict[str, Any]:
    expected = "sha256=" + hmac.new(secret.encode(), request.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(request.headers["X-Portal-Signature"], expected)
    body = request.json
    assert set(body) == {"id", "event", "occurred_at", "data"}
    assert request.headers["X-Portal-Event"] == body["event"]
    assert request.headers["X-Portal-Delivery"] == body["id"]
    return body


def raise_case(client: Any, world: World, subject: str = "Printer on fire") -> dict[str, Any]:
    response = client.post(
        "/api/v1/cases/",
        {
            "engagement": world.a.objects["engagement"].pk,
            "kind": "inquiry",
            "severity": 2,
            "subject": subject,
            "description": "설명: 프린터가 멈췄습니다.",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    return response.json()


def test_raise_and_resolve_arrive_signed_in_order_as_the_api_shows_them(
    world: World, receiver: Receiver
) -> None:
    poc = signed_in(world.a.poc)
    hook = subscribe(poc, receiver.url, ["case.created", "case.updated", "case.resolved"])
    case = raise_case(poc, world)
    manager = signed_in(world.manager)
    resolved = manager.post(f"/api/v1/cases/{case['id']}/resolve/", {"note": "Fixed."})
    assert resolved.status_code == 200, resolved.content
    drain()
    bodies = [verified(request, hook["secret"]) for request in receiver.received]
    assert [body["event"] for body in bodies] == ["case.created", "case.updated", "case.resolved"]
    assert len({body["id"] for body in bodies}) == 3
    assert bodies[0]["data"] == case  # what the API returned the owner on creation
    assert bodies[2]["data"]["status"] == "resolved"
    assert bodies[2]["data"] == poc.get(f"/api/v1/cases/{case['id']}/").json()
    deliveries = poc.get(f"{WEBHOOKS}{hook['id']}/deliveries/").json()["results"]
    assert [row["status"] for row in deliveries] == ["succeeded"] * 3
    assert all(row["response_code"] == 200 and row["attempts"] == 1 for row in deliveries)


def test_a_failing_receiver_gets_the_event_once_more_after_the_retries(
    world: World, receiver: Receiver
) -> None:
    poc = signed_in(world.a.poc)
    hook = subscribe(poc, receiver.url, ["case.created"])
    receiver.script = [500, 500, 500]
    raise_case(poc, world)
    drain()
    assert len(receiver.received) == 4
    assert len({request.headers["X-Portal-Delivery"] for request in receiver.received}) == 1
    for request in receiver.received:
        verified(request, hook["secret"])
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("succeeded", 4, 200)
    assert WebhookSubscription.objects.get().failing_since is None
    drain()
    assert len(receiver.received) == 4  # nothing is sent again


def test_order_within_one_case_holds_while_its_first_event_is_retried(
    world: World, receiver: Receiver, settings: Any
) -> None:
    settings.WEBHOOK_BACKOFF_BASE_SECONDS = 3600  # a failed attempt waits an hour
    poc = signed_in(world.a.poc)
    subscribe(poc, receiver.url, ["case.created", "case.resolved"])
    receiver.script = [503]
    case = raise_case(poc, world)
    signed_in(world.manager).post(f"/api/v1/cases/{case['id']}/resolve/", {"note": "Done."})
    deliver_due()
    deliver_due()
    assert [request.json["event"] for request in receiver.received] == ["case.created"]
    WebhookDelivery.objects.filter(event="case.created").update(next_attempt_at="2000-01-01T00:00Z")
    drain()
    assert [request.json["event"] for request in receiver.received] == [
        "case.created",
        "case.created",
        "case.resolved",
    ]


def test_a_customer_never_receives_another_tenant_or_an_internal_note(
    world: World, receiver: Receiver
) -> None:
    events = ["case.created", "case.commented"]
    tenant_b = subscribe(signed_in(world.b.poc), receiver.url + "/b", events)
    own = subscribe(signed_in(world.a.poc), receiver.url + "/a", events)
    staff = subscribe(signed_in(world.manager), receiver.url + "/manager", events)
    case = raise_case(signed_in(world.a.poc), world)
    manager = signed_in(world.manager)
    note = manager.post(
        f"/api/v1/cases/{case['id']}/comment/",
        {"body": "Internal: customer is on an old build", "public": False},
        format="json",
    )
    assert note.status_code in (200, 201), note.content
    drain()
    by_owner: dict[str, list[dict[str, Any]]] = {"a": [], "b": [], "manager": []}
    secrets = {"a": own["secret"], "b": tenant_b["secret"], "manager": staff["secret"]}
    for request in receiver.received:  # the path says whose subscription it was
        owner = request.path.rsplit("/", 1)[-1]
        by_owner[owner].append(verified(request, secrets[owner]))
    assert [body["event"] for body in by_owner["a"]] == ["case.created"]
    assert [body["event"] for body in by_owner["manager"]] == ["case.created", "case.commented"]
    assert by_owner["manager"][1]["data"]["comment"]["public"] is False
    assert by_owner["b"] == []


def test_bad_input_is_refused_with_the_error_format(world: World, settings: Any) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = False
    client = signed_in(world.a.poc)
    cases = [
        ({"url": "ftp://example.com/hook", "events": ["case.created"]}, "url"),
        ({"url": "http://127.0.0.1:9/hook", "events": ["case.created"]}, "url"),
        ({"url": "http://169.254.169.254/latest", "events": ["case.created"]}, "url"),
        ({"url": "http://10.0.0.7/hook", "events": ["case.created"]}, "url"),
        ({"url": "https://example.com/hook", "events": ["case.exploded"]}, "events"),
        ({"url": "https://example.com/hook", "events": []}, "events"),
        ({"url": "https://example.com/hook", "events": ["case.created"], "secret": "x"}, "secret"),
    ]
    for payload, field_name in cases:
        response = client.post(WEBHOOKS, payload, format="json")
        assert response.status_code == 400, (payload, response.content)
        body = response.json()
        assert set(body) == {"code", "detail", "fields"}
        assert field_name in body["fields"], body
    assert not WebhookSubscription.objects.exists()


def test_only_the_owner_sees_or_touches_a_webhook(world: World, receiver: Receiver) -> None:
    hook = subscribe(signed_in(world.a.poc), receiver.url, ["case.created"])
    other = signed_in(world.a.member)  # same organization, still not theirs
    for method, path in (
        ("get", f"{WEBHOOKS}{hook['id']}/"),
        ("patch", f"{WEBHOOKS}{hook['id']}/"),
        ("delete", f"{WEBHOOKS}{hook['id']}/"),
        ("post", f"{WEBHOOKS}{hook['id']}/ping/"),
        ("get", f"{WEBHOOKS}{hook['id']}/deliveries/"),
    ):
        response = getattr(other, method)(path, {}, format="json")
        assert response.status_code == 404, (method, path, response.status_code)
    assert other.get(WEBHOOKS).json()["results"] == []
    assert WebhookSubscription.objects.filter(pk=hook["id"], active=True).exists()


def test_ping_redeliver_and_giving_up(world: World, receiver: Receiver, settings: Any) -> None:
    settings.WEBHOOK_MIN_ATTEMPTS = 2
    settings.WEBHOOK_RETRY_HOURS = 0
    poc = signed_in(world.a.poc)
    hook = subscribe(poc, receiver.url, ["case.created"])
    receiver.script = [500, 500]
    ping = poc.post(f"{WEBHOOKS}{hook['id']}/ping/")
    assert ping.status_code == 202
    drain()
    delivery = WebhookDelivery.objects.get(pk=ping.json()["id"])
    assert (delivery.status, delivery.attempts) == ("failed", 2)
    assert len(delivery.response_body) <= 1024
    assert Notification.objects.filter(user=world.a.poc, kind="webhook.failed").count() == 1
    redelivered = poc.post(f"{WEBHOOKS}{hook['id']}/deliveries/{delivery.pk}/redeliver/")
    assert redelivered.status_code == 202, redelivered.content
    drain()
    assert len(receiver.received) == 3
    assert receiver.received[2].json["event"] == "ping"
    assert receiver.received[2].headers["X-Portal-Delivery"] == str(delivery.delivery_id)
    again = poc.post(f"{WEBHOOKS}{hook['id']}/deliveries/{delivery.pk}/redeliver/")
    assert again.status_code == 202  # a delivered one may be sent again on request


def test_a_subscription_failing_for_days_is_disabled_and_its_owner_told(
    world: World, receiver: Receiver, settings: Any
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    poc = signed_in(world.a.poc)
    hook = subscribe(poc, receiver.url, ["case.created"])
    WebhookSubscription.objects.filter(pk=hook["id"]).update(
        failing_since=timezone.now() - timedelta(days=3, minutes=1)
    )
    receiver.script = [500]
    raise_case(poc, world)
    deliver_due()
    subscription = WebhookSubscription.objects.get(pk=hook["id"])
    assert not subscription.active
    assert Notification.objects.filter(user=world.a.poc, kind="webhook.disabled").count() == 1
    raise_case(poc, world, "Another one")
    assert WebhookDelivery.objects.count() == 1  # a disabled subscription gets nothing new
    assert Case.objects.count() == 2


def test_pages_and_lists_issue_constant_queries(world: World) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    poc = world.a.poc
    client = signed_in(poc)

    def grow(count: int) -> WebhookSubscription:
        hooks = [
            WebhookSubscription.objects.create(
                owner=poc, url=f"https://hooks.example.com/{n}", events=["ping"], secret="0" * 64
            )
            for n in range(count)
        ]
        for n in range(count):
            WebhookDelivery.objects.create(
                subscription=hooks[0], event="ping", object_key=f"ping:{n}", body="{}"
            )
        return hooks[0]

    def counts(hook: WebhookSubscription) -> list[int]:
        paths = [
            "/me/webhooks/",
            f"/me/webhooks/{hook.pk}/",
            WEBHOOKS,
            f"{WEBHOOKS}{hook.pk}/",
            f"{WEBHOOKS}{hook.pk}/deliveries/",
        ]
        measured = []
        for path in paths:
            with CaptureQueriesContext(connection) as queries:
                assert client.get(path).status_code == 200, path
            measured.append(len(queries))
        return measured

    few = counts(grow(3))
    WebhookSubscription.objects.all().delete()
    many = counts(grow(30))
    assert few == many


def test_engagement_contact_and_maintenance_events_reach_whoever_may_read_them(
    world: World, receiver: Receiver
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from engagements.contacts.services import contact_add
    from engagements.contracts.services import engagement_update
    from reviews.maintenance.services import maintenance_plan

    events = ["engagement.updated", "contact.added", "maintenance.scheduled"]
    own = subscribe(signed_in(world.a.poc), receiver.url + "/a", events)
    subscribe(signed_in(world.b.poc), receiver.url + "/b", events)
    engagement = world.a.objects["engagement"]
    engagement_update(acting_user=world.admin, engagement=engagement, name="Engagement A, renewed")
    contact_add(acting_user=world.admin, engagement=engagement, user=world.a.member)
    starts = timezone.now() + timedelta(days=10)
    maintenance_plan(
        acting_user=world.manager,
        engagement=engagement,
        title="Database upgrade",
        starts_at=starts,
        ends_at=starts + timedelta(hours=2),
        systems_affected="DB",
        expected_impact="Read-only for an hour.",
    )
    drain()
    assert {request.path for request in receiver.received} == {"/hook/a"}
    bodies = [verified(request, own["secret"]) for request in receiver.received]
    assert [body["event"] for body in bodies] == events
    assert bodies[0]["data"]["name"] == "Engagement A, renewed"
    assert bodies[1]["data"]["user"] == world.a.member.pk
    assert bodies[2]["data"]["title"] == "Database upgrade"


def test_a_replayed_create_emits_no_second_event(world: World, receiver: Receiver) -> None:
    poc = signed_in(world.a.poc)
    hook = subscribe(poc, receiver.url, ["case.created"])
    body = {
        "engagement": world.a.objects["engagement"].pk,
        "kind": "inquiry",
        "severity": 2,
        "subject": "Sent twice by a flaky network",
    }
    first = poc.post("/api/v1/cases/", body, format="json", HTTP_IDEMPOTENCY_KEY="retry-1")
    again = poc.post("/api/v1/cases/", body, format="json", HTTP_IDEMPOTENCY_KEY="retry-1")
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    drain()
    assert [verified(request, hook["secret"])["event"] for request in receiver.received] == [
        "case.created"
    ]


def test_an_event_nobody_subscribed_to_costs_no_query_and_a_new_subscription_hears_the_next(
    world: World, receiver: Receiver
) -> None:
    """The set of subscribed events is cached: raising an item with no subscriber reads no
    subscription, and subscribing (or unsubscribing) takes effect on the very next change."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    poc = signed_in(world.a.poc)
    raise_case(poc, world, "Before anyone listened")  # warms the cache: nobody subscribed
    with CaptureQueriesContext(connection) as queries:
        raise_case(poc, world, "Still nobody")
    assert not [q for q in queries if "webhook" in q["sql"].lower()]

    subscription = subscribe(poc, receiver.url, ["case.created"])
    raise_case(poc, world, "Now someone listens")
    drain()
    assert [verified(r, subscription["secret"])["data"]["subject"] for r in receiver.received] == [
        "Now someone listens"
    ]

    assert poc.delete(f"{WEBHOOKS}{subscription['id']}/").status_code == 204
    raise_case(poc, world, "Gone again")
    drain()
    assert len(receiver.received) == 1
    assert not WebhookDelivery.objects.filter(body__contains="Gone again").exists()
