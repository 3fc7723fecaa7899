"""Writes of webhooks: subscribe, change, delete, ping, redeliver. A subscription is its owner's
alone: nobody else (admins included) reads or changes it."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterable

from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.accounts.models import User
from portal.audit import audit
from portal.errors import Conflict, InvalidInput
from portal.webhooks.delivery import check_url
from portal.webhooks.events import EVENTS, body_of
from portal.webhooks.models import WebhookDelivery, WebhookSubscription

MAX_SUBSCRIPTIONS = 20
DESCRIPTION_MAX = 200


def _events(events: Iterable[str]) -> list[str]:
    chosen = list(dict.fromkeys(events))
    unknown = [event for event in chosen if event not in EVENTS]
    if unknown:
        raise InvalidInput(
            fields={"events": [_("Unknown events: %(names)s.") % {"names": ", ".join(unknown)}]}
        )
    if not chosen:
        raise InvalidInput(fields={"events": [_("Choose at least one event.")]})
    return chosen


def _own(acting_user: User, subscription: WebhookSubscription) -> None:
    if subscription.owner_id != acting_user.pk:
        raise Http404  # like one that does not exist


@transaction.atomic
def webhook_create(
    *, acting_user: User, url: str, events: Iterable[str], description: str = ""
) -> tuple[WebhookSubscription, str]:
    """A new subscription and its secret (shown this once)."""
    chosen = _events(events)
    check_url(url)
    if len(description) > DESCRIPTION_MAX:
        raise InvalidInput(fields={"description": [_("At most 200 characters.")]})
    owned = WebhookSubscription.objects.select_for_update().filter(owner=acting_user)
    if len(owned) >= MAX_SUBSCRIPTIONS:
        raise Conflict(_("You have 20 webhooks already; delete one first."))
    secret = secrets.token_hex(32)
    subscription = WebhookSubscription.objects.create(
        owner=acting_user, url=url, events=chosen, description=description, secret=secret
    )
    audit(
        actor=acting_user,
        action="webhook.create",
        instance=subscription,
        after={"url": url, "events": chosen},
    )
    return subscription, secret


@transaction.atomic
def webhook_update(
    *,
    acting_user: User,
    subscription: WebhookSubscription,
    url: str | None = None,
    events: Iterable[str] | None = None,
    description: str | None = None,
    active: bool | None = None,
) -> WebhookSubscription:
    """Change what is given; turning a disabled subscription on again starts afresh."""
    _own(acting_user, subscription)
    subscription = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
    before = {"url": subscription.url, "events": subscription.events, "active": subscription.active}
    if url is not None:
        check_url(url)
        subscription.url = url
    if events is not None:
        subscription.events = _events(events)
    if description is not None:
        if len(description) > DESCRIPTION_MAX:
            raise InvalidInput(fields={"description": [_("At most 200 characters.")]})
        subscription.description = description
    if active is not None:
        if active and not subscription.active:
            subscription.failing_since = None
            subscription.disabled_reason = ""
        subscription.active = active
    subscription.save()
    audit(
        actor=acting_user,
        action="webhook.update",
        instance=subscription,
        before=before,
        after={
            "url": subscription.url,
            "events": subscription.events,
            "active": subscription.active,
        },
    )
    return subscription


@transaction.atomic
def webhook_delete(*, acting_user: User, subscription: WebhookSubscription) -> None:
    _own(acting_user, subscription)
    audit(
        actor=acting_user,
        action="webhook.delete",
        instance=subscription,
        before={"url": subscription.url, "events": subscription.events},
    )
    subscription.delete()


@transaction.atomic
def webhook_ping(*, acting_user: User, subscription: WebhookSubscription) -> WebhookDelivery:
    """A `ping` delivery now, whatever events the subscription has (also when disabled)."""
    _own(acting_user, subscription)
    delivery_id = uuid.uuid4()
    delivery = WebhookDelivery.objects.create(
        subscription=subscription,
        delivery_id=delivery_id,
        event="ping",
        object_key=f"webhook:{subscription.pk}:ping:{delivery_id.hex}",
        body=body_of(
            delivery_id,
            "ping",
            {"webhook": subscription.pk, "url": subscription.url, "events": subscription.events},
        ),
    )
    from portal.webhooks.events import _nudge

    transaction.on_commit(_nudge)
    return delivery


@transaction.atomic
def delivery_redeliver(*, acting_user: User, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery again, the same body and X-Portal-Delivery, at the next run."""
    _own(acting_user, delivery.subscription)
    delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
    if delivery.status == WebhookDelivery.Status.PENDING:
        raise Conflict(_("This delivery is still being tried."))
    delivery.status = WebhookDelivery.Status.PENDING
    delivery.next_attempt_at = timezone.now()
    delivery.claimed_until = None
    delivery.claim_token = ""
    delivery.save(update_fields=["status", "next_attempt_at", "claimed_until", "claim_token"])
    from portal.webhooks.events import _nudge

    transaction.on_commit(_nudge)
    return delivery
