"""The staff queue: new, waiting, at-risk and breached items across the engagements served."""
