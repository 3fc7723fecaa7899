"""The service catalog: reads.

`catalog_snapshot` is every service function and the entitlement matrix (each plan's function
codes), kept in the shared cache: the dashboard's engagement cards and the weekly board read it
on every request and it changes only when an admin edits the catalog. Any save or delete of a
function or an entitlement drops it at once and again when its transaction commits (as
`portal.webhooks.events.subscribed_events` does), so a change shows on the next request; the
short lifetime bounds what a request that read the old rows just before the commit could put
back. Each process also keeps the snapshot it read for up to a second (`LOCAL_SECONDS`; the
board asks for it three times a request), dropped at once in the process that made the change:
another process shows a change of the catalog within that second, as issue 17 allows for
entitlements.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save

from engagements.catalog.models import Entitlement, ServiceFunction

CATALOG_KEY = "catalog:snapshot:v1"
CATALOG_TTL = 60
LOCAL_SECONDS = 1.0


@dataclass(frozen=True)
class CatalogSnapshot:
    functions: tuple[ServiceFunction, ...]  # every function, in catalog order
    plan_codes: dict[int, frozenset[str]]  # plan id -> its functions' codes

    def codes_of(self, plan_id: int) -> frozenset[str]:
        return self.plan_codes.get(plan_id, frozenset())


# (kept until, snapshot) of this process: a tuple swapped whole, so threads need no lock.
_local: tuple[float, CatalogSnapshot] | None = None


def catalog_snapshot() -> CatalogSnapshot:
    """The functions and the matrix: the process's copy of the last second, else one cache read,
    or two queries when it is not cached."""
    global _local
    kept, now = _local, time.monotonic()
    if kept is not None and kept[0] > now:
        return kept[1]
    snapshot = cache.get(CATALOG_KEY)
    if snapshot is None:
        codes: dict[int, set[str]] = defaultdict(set)
        for plan_id, code in Entitlement.objects.values_list("plan_id", "function__code"):
            codes[plan_id].add(code)
        snapshot = CatalogSnapshot(
            functions=tuple(ServiceFunction.objects.all()),
            plan_codes={plan_id: frozenset(found) for plan_id, found in codes.items()},
        )
        cache.set(CATALOG_KEY, snapshot, CATALOG_TTL)
    _local = (now + LOCAL_SECONDS, snapshot)
    return snapshot


def forget_local_catalog() -> None:
    """Drop this process's copy (a change here; tests between tests)."""
    global _local
    _local = None


def _forget_everywhere() -> None:
    cache.delete(CATALOG_KEY)
    forget_local_catalog()


def forget_catalog(**kwargs: Any) -> None:
    _forget_everywhere()
    transaction.on_commit(_forget_everywhere)


for _model in (ServiceFunction, Entitlement):
    post_save.connect(
        forget_catalog, sender=_model, dispatch_uid=f"catalog_saved_{_model.__name__}"
    )
    post_delete.connect(
        forget_catalog, sender=_model, dispatch_uid=f"catalog_gone_{_model.__name__}"
    )
