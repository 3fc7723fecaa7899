"""The service catalog: reads.

`catalog_snapshot` is every service function and the entitlement matrix (each plan's function
codes), kept in the shared cache: the dashboard's engagement cards and the weekly board read it
on every request and it changes only when an admin edits the catalog. Any save or delete of a
function or an entitlement drops it at once and again when its transaction commits (as
`portal.webhooks.events.subscribed_events` does), so a change shows on the next request; the
short lifetime bounds what a request that read the old rows just before the commit could put
back.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save

from engagements.catalog.models import Entitlement, ServiceFunction

CATALOG_KEY = "catalog:snapshot:v1"
CATALOG_TTL = 60


@dataclass(frozen=True)
class CatalogSnapshot:
    functions: tuple[ServiceFunction, ...]  # every function, in catalog order
    plan_codes: dict[int, frozenset[str]]  # plan id -> its functions' codes

    def codes_of(self, plan_id: int) -> frozenset[str]:
        return self.plan_codes.get(plan_id, frozenset())


def catalog_snapshot() -> CatalogSnapshot:
    """The functions and the matrix: one cache read, or two queries when it is not cached."""
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
    return snapshot


def forget_catalog(**kwargs: Any) -> None:
    cache.delete(CATALOG_KEY)
    transaction.on_commit(lambda: cache.delete(CATALOG_KEY))


for _model in (ServiceFunction, Entitlement):
    post_save.connect(
        forget_catalog, sender=_model, dispatch_uid=f"catalog_saved_{_model.__name__}"
    )
    post_delete.connect(
        forget_catalog, sender=_model, dispatch_uid=f"catalog_gone_{_model.__name__}"
    )
