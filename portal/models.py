from portal.audit import AuditEntry

__all__ = ["AuditEntry"]
