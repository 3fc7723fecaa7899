"""Signed webhooks: subscriptions of a user to events, delivered from an outbox by the worker.

`events.emit(...)` is called by the apps' services inside the transaction that changes the
object; it renders the object as the REST API returns it to each subscription's owner (in the
owner's scope, so nobody receives what they could not read) and writes one delivery per
subscription. `delivery.deliver_due()` (a periodic job and a nudge after each commit) posts
them, signed, in order within one object, retrying with backoff for at least a day.
"""
