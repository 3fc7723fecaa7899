"""Posting deliveries: signed, checked against private addresses, retried with backoff.

Each delivery is claimed for a lease in a committed step of its own (like the e-mail outbox),
then posted and marked in its own short transaction, so a worker killed mid-run re-sends at most
the one request in flight. Within one object, a delivery waits until every earlier one to the
same subscription has succeeded or been given up: a `case.resolved` never overtakes its
`case.created`.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import random
import socket
import time
import uuid
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import urllib3
from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.errors import InvalidInput
from portal.notifications import notify
from portal.webhooks.models import WebhookDelivery, WebhookSubscription

logger = logging.getLogger(__name__)

RESPONSE_KEPT = 1024
USER_AGENT = "ServicePortal-Webhooks/1"


def signature(secret: str, body: bytes) -> str:
    """X-Portal-Signature: `sha256=` and the hex HMAC-SHA256 of the raw body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _refused_address(host: str, port: int) -> str | None:
    """Why `host` may not be posted to (a private, loopback, link-local or otherwise
    non-public address, unless WEBHOOK_ALLOW_PRIVATE_HOSTS), or None."""
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        return _("The host name does not resolve.")
    if settings.WEBHOOK_ALLOW_PRIVATE_HOSTS:
        return None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global or address.is_multicast:
            return _("The address %(address)s is private, loopback or link-local.") % {
                "address": address
            }
    return None


def check_url(url: str) -> None:
    """An http(s) URL of a host that resolves to public addresses (400 otherwise)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(fields={"url": [_("Enter an http or https URL.")]})
    if parts.username or parts.password:
        raise InvalidInput(fields={"url": [_("Credentials in the URL are not allowed.")]})
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise InvalidInput(fields={"url": [_("Enter a valid port.")]}) from None
    refused = _refused_address(parts.hostname, port)
    if refused:
        raise InvalidInput(fields={"url": [refused]})


def backoff(attempts: int) -> timedelta:
    """After the n-th failed attempt: base × 2^(n-1), at most six hours, with ±20 % jitter."""
    base = settings.WEBHOOK_BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0)
    seconds = min(base, 6 * 3600) * random.uniform(0.8, 1.2)  # noqa: S311 (jitter, not secrecy)
    return timedelta(seconds=seconds)


def _claim(batch: int, now: datetime) -> tuple[str, list[WebhookDelivery]]:
    token = uuid.uuid4().hex
    free = models.Q(claimed_until__isnull=True) | models.Q(claimed_until__lte=now)
    earlier_pending = WebhookDelivery.objects.filter(
        subscription=models.OuterRef("subscription"),
        object_key=models.OuterRef("object_key"),
        status=WebhookDelivery.Status.PENDING,
        id__lt=models.OuterRef("id"),
    )
    due = WebhookDelivery.objects.filter(
        free, status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now
    ).filter(~models.Exists(earlier_pending))
    with transaction.atomic():
        picked = due.order_by("next_attempt_at", "id")
        if connection.features.has_select_for_update_skip_locked:
            picked = picked.select_for_update(skip_locked=True)
        ids = list(picked.values_list("id", flat=True)[:batch])
        if not ids:
            return token, []
        WebhookDelivery.objects.filter(pk__in=ids).filter(free).update(
            claimed_until=now + timedelta(seconds=settings.WEBHOOK_TIMEOUT_SECONDS * 3),
            claim_token=token,
        )
    rows = list(
        WebhookDelivery.objects.filter(claim_token=token)
        .select_related("subscription__owner")
        .order_by("id")
    )
    return token, rows


def post(delivery: WebhookDelivery) -> tuple[int | None, str, int, str]:
    """POST the delivery once: (status code or None, ≤1 KB of the response, duration in ms,
    error). Redirects are not followed; the address is checked again now (DNS rebinding)."""
    subscription = delivery.subscription
    body = delivery.body.encode()
    parts = urlsplit(subscription.url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    refused = _refused_address(parts.hostname or "", port)
    if refused:
        return None, "", 0, refused
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Portal-Event": delivery.event,
        "X-Portal-Delivery": str(delivery.delivery_id),
        "X-Portal-Signature": signature(subscription.secret, body),
    }
    started = time.monotonic()
    http = urllib3.PoolManager(retries=False)
    try:
        response = http.request(
            "POST",
            subscription.url,
            body=body,
            headers=headers,
            redirect=False,
            timeout=urllib3.Timeout(total=settings.WEBHOOK_TIMEOUT_SECONDS),
            preload_content=False,
        )
        try:
            kept = response.read(RESPONSE_KEPT, decode_content=False)
        finally:
            response.release_conn()
        duration = int((time.monotonic() - started) * 1000)
        return response.status, kept.decode("utf-8", "replace"), duration, ""
    except urllib3.exceptions.HTTPError as exc:
        duration = int((time.monotonic() - started) * 1000)
        return None, "", duration, f"{type(exc).__name__}: {exc}"[:500]
    finally:
        http.clear()


def _record(
    delivery: WebhookDelivery, token: str, outcome: tuple[int | None, str, int, str]
) -> bool:
    code, kept, duration, error = outcome
    now = timezone.now()
    attempts = delivery.attempts + 1
    ok = code is not None and 200 <= code < 300
    fields: dict[str, object] = {
        "attempts": attempts,
        "response_code": code,
        "response_body": kept,
        "duration_ms": duration,
        "last_error": error
        or ("" if ok else _("The receiver answered %(code)s.") % {"code": code}),
        "claimed_until": None,
        "claim_token": "",
    }
    subscription = delivery.subscription
    with transaction.atomic():
        if ok:
            fields.update(status=WebhookDelivery.Status.SUCCEEDED, delivered_at=now)
            WebhookSubscription.objects.filter(pk=subscription.pk).update(failing_since=None)
        else:
            gave_up = attempts >= settings.WEBHOOK_MIN_ATTEMPTS and now - delivery.created_at >= (
                timedelta(hours=settings.WEBHOOK_RETRY_HOURS)
            )
            if gave_up:
                fields["status"] = WebhookDelivery.Status.FAILED
            else:
                fields["next_attempt_at"] = now + backoff(attempts)
            _failing(subscription, now, delivery if gave_up else None)
        WebhookDelivery.objects.filter(pk=delivery.pk, claim_token=token).update(**fields)
    return ok


def _failing(
    subscription: WebhookSubscription, now: datetime, given_up: WebhookDelivery | None
) -> None:
    """Note a failure: since when it fails; disabled (owner told) after WEBHOOK_DISABLE_DAYS;
    the owner told of a delivery given up."""
    since = subscription.failing_since or now
    WebhookSubscription.objects.filter(pk=subscription.pk, failing_since__isnull=True).update(
        failing_since=now
    )
    owner = subscription.owner
    url = "/me/webhooks/"
    if given_up is not None:
        notify(
            users=[owner],
            kind="webhook.failed",
            key=f"webhook-delivery:{given_up.pk}:failed",
            url=url,
            render=lambda: (
                _("A webhook delivery failed"),
                _("%(event)s to %(url)s failed after %(attempts)s attempts.")
                % {
                    "event": given_up.event,
                    "url": subscription.url,
                    "attempts": given_up.attempts + 1,
                },
            ),
        )
    if subscription.active and now - since >= timedelta(days=settings.WEBHOOK_DISABLE_DAYS):
        WebhookSubscription.objects.filter(pk=subscription.pk).update(
            active=False, disabled_reason="failing"
        )
        notify(
            users=[owner],
            kind="webhook.disabled",
            key=f"webhook:{subscription.pk}:disabled:{since.date().isoformat()}",
            url=url,
            render=lambda: (
                _("A webhook was disabled"),
                _("Every delivery to %(url)s has failed for %(days)s days; it is now disabled.")
                % {"url": subscription.url, "days": settings.WEBHOOK_DISABLE_DAYS},
            ),
        )


def deliver_due(batch: int = 20) -> tuple[int, int]:
    """Post the due deliveries; returns (succeeded, failed attempts)."""
    succeeded = failed = 0
    token, rows = _claim(batch, timezone.now())
    for row in rows:
        if _record(row, token, post(row)):
            succeeded += 1
        else:
            failed += 1
    return succeeded, failed
