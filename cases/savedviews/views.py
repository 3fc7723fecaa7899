"""Saved views of the case list: the list's "Save this view" and "Delete" (POST only)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cases.savedviews import services
from cases.savedviews.forms import SavedViewForm
from cases.savedviews.selectors import saved_views_of
from portal.errors import DomainError
from portal.http import AuthenticatedHttpRequest
from portal.pages import flash_error


def _list_url(query: str) -> str:
    url = reverse("case_list")
    return f"{url}?{query}" if query else url


@login_required
@require_POST
def saved_view_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = SavedViewForm(request.POST)
    query = services.clean_query(request.POST.get("query", ""))
    if not form.is_valid():
        messages.error(request, _("Give the view a name of at most 80 characters."))
        return redirect(_list_url(query))
    try:
        view = services.saved_view_create(
            acting_user=request.user,
            name=form.cleaned_data["name"],
            query=form.cleaned_data["query"],
            is_default=form.cleaned_data["is_default"],
        )
    except DomainError as error:
        flash_error(request, error)
        return redirect(_list_url(query))
    messages.success(request, _("Saved the view “%(name)s”.") % {"name": view.name})
    return redirect(_list_url(view.query))


@login_required
@require_POST
def saved_view_delete(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    view = get_object_or_404(saved_views_of(request.user), pk=pk)
    services.saved_view_delete(acting_user=request.user, view=view)
    messages.success(request, _("Deleted the view “%(name)s”.") % {"name": view.name})
    return redirect(_list_url(services.clean_query(request.POST.get("query", ""))))
