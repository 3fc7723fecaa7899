"""The audit page (/audit/, provider admins): each change in words, filtered by who, what, when
and kind, the filters kept in the URL; 50 a page, a constant number of queries."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from portal.audit import AuditEntry
from portal.audit_filters import CHANGES, AuditPageFilter
from portal.audit_words import describe
from portal.pages import admin_required

PAGE_SIZE = 50


@admin_required
@require_GET
def audit_log(request: HttpRequest) -> HttpResponse:
    data = request.GET.copy()
    data.pop("page", None)
    filtering = any(value for key, value in data.items() if key != "kind")
    data.setdefault("kind", CHANGES)  # personal preference changes do not crowd out the rest
    filterset = AuditPageFilter(data, queryset=AuditEntry.objects.select_related("actor"))
    entries = filterset.qs if filterset.is_valid() else AuditEntry.objects.none()
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "audit_log.html",
        {
            "page": page,
            "described": describe(list(page.object_list)),
            "filterset": filterset,
            "filtering": filtering or data["kind"] != CHANGES,
        },
    )
