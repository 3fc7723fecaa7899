"""The events a subscription may ask for, and how the apps emit them."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.db.models.signals import post_delete, post_save
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.tenancy.scoping import tenant_scope
from portal.webhooks.models import WebhookDelivery, WebhookSubscription

EVENTS: dict[str, Any] = {
    "case.created": _("An item was raised."),
    "case.updated": _("An item's status, priority or assignee changed."),
    "case.responded": _("The provider responded to an item."),
    "case.escalated": _("An item was escalated."),
    "case.resolved": _("An item was resolved."),
    "case.sla_warning": _("Three quarters of an item's response window have passed."),
    "case.sla_breached": _("An item's response objective was missed."),
    "case.commented": _("A comment was added to an item (internal notes to staff only)."),
    "review.scheduled": _("A review session was scheduled."),
    "review.rescheduled": _("A review session was moved."),
    "review.completed": _("A review session was held."),
    "review.missed": _("A review session was missed."),
    "engagement.updated": _("An engagement changed."),
    "contact.added": _("A named contact was added."),
    "contact.removed": _("A named contact was removed."),
    "maintenance.scheduled": _("A maintenance window was planned."),
    "ping": _("A test delivery, sent on request."),
}


@dataclass(frozen=True)
class Renderer:
    """How an object appears in a payload: `render(instance)` as the REST API returns it,
    called in the subscription owner's scope; `kind` names it in `object_key`."""

    kind: str
    render: Callable[[Any], dict[str, Any]]


_renderers: dict[type[models.Model], Renderer] = {}


def register_object(model: type[models.Model], kind: str, render: Callable[[Any], Any]) -> None:
    """Apps teach webhooks how their objects look (the API serializer's data)."""
    _renderers[model] = Renderer(kind=kind, render=render)


# The events some active subscription asks for, kept in the shared cache so that a change
# nobody subscribed to costs no query. A superset is harmless (emit then checks each
# subscription), so the set ignores whether owners are active; any save or delete of a
# subscription drops it at once and again when its transaction commits.
SUBSCRIBED_EVENTS_KEY = "webhooks:subscribed-events"
SUBSCRIBED_EVENTS_TTL = 60


def subscribed_events() -> frozenset[str]:
    known = cache.get(SUBSCRIBED_EVENTS_KEY)
    if known is None:
        rows = WebhookSubscription.objects.filter(active=True).values_list("events", flat=True)
        known = sorted({event for events in rows for event in (events or [])})
        cache.set(SUBSCRIBED_EVENTS_KEY, known, SUBSCRIBED_EVENTS_TTL)
    return frozenset(known)


def _forget_subscribed_events(**kwargs: Any) -> None:
    cache.delete(SUBSCRIBED_EVENTS_KEY)
    transaction.on_commit(lambda: cache.delete(SUBSCRIBED_EVENTS_KEY))


post_save.connect(_forget_subscribed_events, sender=WebhookSubscription)
post_delete.connect(_forget_subscribed_events, sender=WebhookSubscription)


def _nudge() -> None:
    from portal.tasks import deliver_webhooks

    deliver_webhooks.delay()


def body_of(delivery_id: uuid.UUID, event: str, data: dict[str, Any]) -> str:
    return json.dumps(
        {
            "id": str(delivery_id),
            "event": event,
            "occurred_at": timezone.now().isoformat(),
            "data": data,
        },
        cls=DjangoJSONEncoder,
        ensure_ascii=False,
    )


def emit(
    event: str,
    instance: models.Model,
    *,
    internal: bool = False,
    extra: dict[str, Any] | None = None,
) -> int:
    """Write a delivery of `event` about `instance` for every active subscription to it whose
    owner may read `instance` through the API (`internal`: only provider staff, never a
    customer). Call inside the transaction that makes the change: rolled back, nothing is
    sent. Returns how many deliveries were written."""
    if event not in EVENTS:
        raise ValueError(f"Unknown webhook event {event!r}")
    renderer = _renderers[type(instance)]
    if event not in subscribed_events():
        return 0
    model = type(instance)
    written = 0
    subscriptions = WebhookSubscription.objects.filter(active=True, owner__is_active=True)
    for subscription in subscriptions.select_related("owner"):
        if event not in subscription.events:
            continue
        owner = subscription.owner
        if internal and owner.is_customer:
            continue
        with tenant_scope(owner):
            fresh = model._default_manager.filter(pk=instance.pk).first()
            if fresh is None:  # outside the owner's scope
                continue
            data = {**renderer.render(fresh), **(extra or {})}
        delivery_id = uuid.uuid4()
        WebhookDelivery.objects.create(
            subscription=subscription,
            delivery_id=delivery_id,
            event=event,
            object_key=f"{renderer.kind}:{instance.pk}",
            body=body_of(delivery_id, event, data),
        )
        written += 1
    if written:
        transaction.on_commit(_nudge)
    return written
