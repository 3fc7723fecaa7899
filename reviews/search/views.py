"""Global search: the results page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from portal.http import AuthenticatedHttpRequest
from reviews.search.forms import SearchForm
from reviews.search.selectors import MAX_LENGTH, PAGE_SIZE, Group, Kind, search_for


@login_required
@require_GET
def search(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Every kind's first rows and counts, or one kind (`type=`) page by page. A query that
    breaks the rules answers 400 with the form's errors; an empty one shows the prompt."""
    form = SearchForm(request.GET)
    context: dict = {"form": form, "max_length": MAX_LENGTH, "search_q": request.GET.get("q", "")}
    if not form.is_valid():
        return render(request, "reviews/search/search.html", context, status=400)
    query, kind = form.cleaned_data["q"], form.cleaned_data["type"]
    if not query:
        return render(request, "reviews/search/search.html", context)
    found = search_for(request.user, query)
    if kind:
        page = Paginator(found.matches(kind), PAGE_SIZE).get_page(request.GET.get("page"))
        groups = [
            Group(
                kind=kind,
                label=Kind(kind).label,
                count=page.paginator.count,
                hits=found.hits(kind, list(page.object_list)),
            )
        ]
        context["page"] = page
    else:
        groups = found.groups()
    context.update(
        query=query,
        kind=kind,
        words=found.words,
        groups=groups,
        total=sum(group.count for group in groups),
    )
    return render(request, "reviews/search/search.html", context)
