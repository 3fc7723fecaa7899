from portal.audit import AuditEntry

__all__ = ["AuditEntry"]
from portal.notifications import Notification

__all__ += ["Notification"]
