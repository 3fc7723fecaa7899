"""Signals other apps listen to (sent after the transaction commits)."""

from django.dispatch import Signal

# kwargs: engagement_id
engagement_changed = Signal()
