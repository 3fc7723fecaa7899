from portal.audit import AuditEntry
from portal.notifications import Notification
from portal.webhooks.models import WebhookDelivery, WebhookSubscription

__all__ = ["AuditEntry", "Notification", "WebhookDelivery", "WebhookSubscription"]
