"""Project-wide periodic tasks."""

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

HEARTBEAT_CACHE_KEY = "portal:worker-heartbeat"


@shared_task(name="portal.tasks.heartbeat")
def heartbeat() -> str:
    """Record that beat scheduled and a worker ran a task; /healthz reports its age."""
    stamp = timezone.now().isoformat()
    cache.set(HEARTBEAT_CACHE_KEY, stamp, timeout=None)
    return stamp


@shared_task(name="portal.tasks.deliver_outbox", acks_late=True)
def deliver_outbox() -> dict[str, int]:
    """Send the e-mails waiting in the outbox (SMTP failures retry later with backoff)."""
    from portal.notifications import deliver_outbox as deliver

    sent, failed = deliver()
    return {"sent": sent, "failed": failed}


@shared_task(name="portal.tasks.purge_idempotency_keys")
def purge_idempotency_keys() -> int:
    """Delete Idempotency-Keys older than IDEMPOTENCY_KEY_HOURS (a reuse replaces one anyway)."""
    from portal.api.idempotency import purge_expired

    return purge_expired()


@shared_task(name="portal.tasks.send_notification_digests", acks_late=True)
def send_notification_digests() -> int:
    """Queue each person's daily digest once it is due in their time zone (exactly once a day,
    however often or concurrently this runs); the outbox delivers them."""
    from portal.notification_preferences.digest import send_digests

    return send_digests()


@shared_task(name="portal.tasks.deliver_webhooks")
def deliver_webhooks() -> dict[str, int]:
    """Post the due webhook deliveries (failures retry later with backoff)."""
    from portal.webhooks.delivery import deliver_due

    succeeded, failed = deliver_due()
    return {"succeeded": succeeded, "failed": failed}
