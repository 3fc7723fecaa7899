from portal.audit import AuditEntry
from portal.deletions import Deletion
from portal.notification_preferences.models import NotificationDigest, NotificationPreference
from portal.notifications import Notification
from portal.sso.models import SsoConnection, SsoDomain
from portal.webhooks.models import WebhookDelivery, WebhookSubscription

__all__ = [
    "AuditEntry",
    "Deletion",
    "Notification",
    "NotificationDigest",
    "NotificationPreference",
    "SsoConnection",
    "SsoDomain",
    "WebhookDelivery",
    "WebhookSubscription",
]
