"""The signed-in person's notification preferences page (/me/notification-preferences/)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from portal.errors import DomainError
from portal.http import AuthenticatedHttpRequest
from portal.notification_preferences.forms import NotificationPreferencesForm
from portal.notification_preferences.selectors import preferences_of
from portal.notification_preferences.services import notification_preferences_set
from portal.pages import apply_domain_error


@login_required
@require_http_methods(["GET", "POST"])
def notification_preferences(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = NotificationPreferencesForm(request.POST or None, rows=preferences_of(request.user))
    if request.method == "POST" and form.is_valid():
        try:
            notification_preferences_set(acting_user=request.user, changes=form.changes())
        except DomainError as error:
            # the service names kinds; the page shows each problem beside the kind's e-mail
            for kind, problems in error.fields.items():
                field = f"email:{kind}"
                for problem in problems:
                    form.add_error(field if field in form.fields else None, problem)
            if not error.fields:
                apply_domain_error(form, error)
        else:
            messages.success(request, _("Notification preferences saved."))
            return redirect("notification_preferences")
    return render(request, "accounts/notification_preferences.html", {"form": form})
