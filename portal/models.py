from portal.audit import AuditEntry
from portal.notification_preferences.models import NotificationDigest, NotificationPreference
from portal.notifications import Notification
from portal.webhooks.models import WebhookDelivery, WebhookSubscription

__all__ = [
    "AuditEntry",
    "Notification",
    "NotificationDigest",
    "NotificationPreference",
    "WebhookDelivery",
    "WebhookSubscription",
]
