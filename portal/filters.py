"""FilterSet base: choices of related filters are scoped to the actor, like every queryset."""

from __future__ import annotations

from typing import Any

import django_filters

from portal.tenancy.scoping import TenantOwned


class ScopedFilterSet(django_filters.FilterSet):
    """Model choice filters over tenant-owned models offer only what the actor may see.

    A filter value naming another tenant's object is refused exactly as one that does not exist.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for filter_ in self.filters.values():
            # Model choice filters keep their queryset on the instance (QuerySetRequestMixin).
            model = getattr(getattr(filter_, "queryset", None), "model", None)
            if model is not None and issubclass(model, TenantOwned):
                filter_.queryset = model._default_manager.all()
