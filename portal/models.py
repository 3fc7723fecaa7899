from portal.audit import AuditEntry

__all__ = ["AuditEntry"]
from portal.notifications import Notification

__all__ += ["Notification"]
from portal.notification_preferences.models import (  # noqa: E402
    NotificationDigest,
    NotificationPreference,
)

__all__ += ["NotificationDigest", "NotificationPreference"]
