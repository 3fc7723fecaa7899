"""Signals other apps listen to (sent after the transaction commits)."""

from django.dispatch import Signal

# kwargs: engagement_id
engagement_changed = Signal()

# kwargs: plan_id. The plan's entitlements (the matrix), cadences or settings changed: what its
# engagements are scheduled for may have changed with them.
plan_changed = Signal()
