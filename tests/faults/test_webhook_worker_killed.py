"""A real Celery worker on Redis posts webhook deliveries to a real HTTP receiver (in this test
process) and is SIGKILLed while the receiver holds one request unanswered. Counted at the
receiver: every delivery arrives, and only the request in flight arrives twice."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from portal.webhooks.events import body_of
from portal.webhooks.models import WebhookDelivery, WebhookSubscription
from tests.faults.harness import sender, wait_for

pytestmark = [
    pytest.mark.services,
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored"),
]

DELIVERIES = 6
HELD = 3  # the third request is held unanswered: the worker dies waiting for it
TIMEOUT_SECONDS = 2  # a claim lasts three timeouts


class HoldingReceiver:
    def __init__(self) -> None:
        self.ids: list[str] = []
        self.release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.ids.append(self.headers["X-Portal-Delivery"])
                if len(receiver.ids) == HELD:
                    receiver.release.wait(30)
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[HoldingReceiver]:
    server = HoldingReceiver()
    try:
        yield server
    finally:
        server.stop()


def test_a_worker_killed_mid_delivery_resends_only_the_request_in_flight(
    start_worker, redis_server, receiver, world
):
    subscription = WebhookSubscription.objects.create(
        owner=world.a.poc, url=receiver.url, events=["ping"], secret="s" * 64
    )
    for n in range(DELIVERIES):
        delivery = WebhookDelivery(subscription=subscription, event="ping", object_key=f"ping:{n}")
        delivery.body = body_of(delivery.delivery_id, "ping", {"n": n})
        delivery.save()
    settings = {
        "WEBHOOK_ALLOW_PRIVATE_HOSTS": "1",
        "WEBHOOK_TIMEOUT_SECONDS": str(TIMEOUT_SECONDS),
        "WEBHOOK_BACKOFF_BASE_SECONDS": "0",
    }
    client = sender(redis_server.url)
    worker = start_worker("webhooks-killed", faults=settings)
    client.send_task("portal.tasks.deliver_webhooks", queue=start_worker.queue)
    wait_for(lambda: len(receiver.ids) == HELD, "the held request")
    worker.kill()
    receiver.release.set()
    done = WebhookDelivery.objects.filter(status=WebhookDelivery.Status.SUCCEEDED)
    assert done.count() == HELD - 1  # answered and marked before the kill
    assert WebhookDelivery.objects.exclude(claim_token="").count() == DELIVERIES - (HELD - 1)

    last = start_worker("webhooks-restarted", faults=settings)

    def drained() -> bool:
        if done.count() == DELIVERIES:
            return True
        task = client.send_task("portal.tasks.deliver_webhooks", queue=start_worker.queue)
        wait_for(lambda: last.succeeded(task.id), "a delivery run", timeout=30)
        return False

    wait_for(drained, "the dead worker's claim to expire and every delivery to arrive", timeout=90)
    arrivals = Counter(receiver.ids)
    expected = {str(row.delivery_id) for row in WebhookDelivery.objects.all()}
    assert set(arrivals) == expected  # nothing lost
    assert sum(arrivals.values()) == DELIVERIES + 1, arrivals  # the one in flight, once more
    assert arrivals[receiver.ids[HELD - 1]] == 2
