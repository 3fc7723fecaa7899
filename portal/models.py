from portal.audit import AuditEntry
from portal.deletions import Deletion
from portal.notifications import Notification

__all__ = ["AuditEntry", "Deletion", "Notification"]
