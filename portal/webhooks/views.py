"""Pages: the user's webhooks (under the API tokens page), one webhook with its deliveries."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from portal.errors import DomainError
from portal.http import AuthenticatedHttpRequest
from portal.pages import apply_domain_error, flash_error, get_scoped_or_404
from portal.webhooks import services
from portal.webhooks.forms import WebhookForm
from portal.webhooks.models import WebhookDelivery, WebhookSubscription

DELIVERIES_SHOWN = 50


def _own(request: AuthenticatedHttpRequest, pk: int) -> WebhookSubscription:
    # A webhook is its owner's alone: anyone else's answers 404, like a missing one.
    return get_scoped_or_404(WebhookSubscription, pk=pk, owner=request.user)


@login_required
@require_http_methods(["GET", "POST"])
def webhook_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = WebhookForm(request.POST or None)
    created = secret = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            created, secret = services.webhook_create(
                acting_user=request.user,
                url=data["url"],
                events=data["events"],
                description=data["description"],
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            form = WebhookForm()
    return render(
        request,
        "portal/webhooks/webhook_list.html",
        {
            "form": form,
            "webhooks": WebhookSubscription.objects.filter(owner=request.user),
            "created": created,
            "secret": secret,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def webhook_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    webhook = _own(request, pk)
    initial = {
        "url": webhook.url,
        "events": webhook.events,
        "description": webhook.description,
        "active": webhook.active,
    }
    form = WebhookForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.webhook_update(
                acting_user=request.user, subscription=webhook, **form.cleaned_data
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, _("Webhook saved."))
            return redirect("webhook_detail", pk=webhook.pk)
    deliveries = WebhookDelivery.objects.filter(subscription=webhook)[:DELIVERIES_SHOWN]
    return render(
        request,
        "portal/webhooks/webhook_detail.html",
        {"webhook": webhook, "form": form, "deliveries": deliveries},
    )


@login_required
@require_POST
def webhook_ping(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    services.webhook_ping(acting_user=request.user, subscription=_own(request, pk))
    messages.success(request, _("A ping is on its way."))
    return redirect("webhook_detail", pk=pk)


@login_required
@require_POST
def webhook_delete(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    services.webhook_delete(acting_user=request.user, subscription=_own(request, pk))
    messages.success(request, _("Webhook deleted."))
    return redirect("webhook_list")


@login_required
@require_POST
def webhook_redeliver(request: AuthenticatedHttpRequest, pk: int, delivery_pk: int) -> HttpResponse:
    webhook = _own(request, pk)
    delivery = get_scoped_or_404(WebhookDelivery, pk=delivery_pk, subscription=webhook)
    try:
        services.delivery_redeliver(acting_user=request.user, delivery=delivery)
    except DomainError as error:
        flash_error(request, error)
    else:
        messages.success(request, _("The delivery will be sent again."))
    return redirect("webhook_detail", pk=pk)
