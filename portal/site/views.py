"""The landing dashboard and the health check."""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db import connection
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.templatetags.static import static
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from cases.casework.selectors import customer_home
from engagements.afterhours.models import AfterHoursRequest
from engagements.afterhours.selectors import pending_after_hours
from engagements.contracts.selectors import admin_panel, engagement_cards, served_by
from portal.accounts.models import User
from portal.audit import AuditEntry
from portal.audit_words import PERSONAL, actions_of_kind, describe
from portal.celery import app as celery_app
from portal.http import AuthenticatedHttpRequest
from portal.tasks import HEARTBEAT_CACHE_KEY
from portal.tenancy.models import Membership, Organization
from portal.tenancy.scoping import raw_sql
from reviews.health.selectors import engagement_health, health_engagements
from reviews.scheduling.selectors import upcoming_sessions

logger = logging.getLogger(__name__)

HEALTH_ROWS = 20  # the admin overview's least healthy engagements


@login_required
def dashboard(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Customers: their organizations' open items with their SLA state, what waits on their
    reply, the recent resolutions, a card per current engagement and their next sessions.
    Service managers land on their weekly board instead. Admins: the engagements they serve,
    the after-hours requests to decide, counts, open overage flags, engagements without a
    deputy, recent changes. Constant queries throughout."""
    user: User = request.user
    if user.is_service_manager:
        return redirect("weekly_board")
    now = timezone.now()
    context: dict = {}
    if user.is_customer:
        memberships = list(
            Membership.objects.filter(user=user, is_active=True).select_related("organization")
        )
        cards = engagement_cards(
            user=user,
            now=now,
            organization_ids=[membership.organization_id for membership in memberships],
        )
        context["organizations"] = [
            {
                "membership": membership,
                "cards": [
                    card
                    for card in cards
                    if card.engagement.organization_id == membership.organization_id
                ],
            }
            for membership in memberships
        ]
        context["upcoming_sessions"] = upcoming_sessions(
            [card.engagement.pk for card in cards], now=now
        )
        context["may_request_session"] = any(card.takes_requests for card in cards)
        # the PoC home: raising comes first, for named contacts of an engagement in its term
        context["may_raise"] = context["may_request_session"]
        context["home"] = customer_home(
            [membership.organization_id for membership in memberships],
            now,
            engagements=[card.engagement for card in cards],
        )
        context["many_organizations"] = len(memberships) > 1
        context["now"] = now
    else:
        context["organization_count"] = Organization.objects.filter(is_active=True).count()
        context["my_cards"] = engagement_cards(served_by(user), user=user, now=now)
        context["pending_requests"] = pending_after_hours(
            AfterHoursRequest.objects.filter(
                Q(engagement__manager=user) | Q(engagement__deputy=user)
            )
        )
    if user.is_provider_admin:
        context["people_count"] = User.objects.filter(is_active=True).count()
        # the latest changes in words, personal preference changes left to the audit page
        context["recent_audit"] = describe(
            list(
                AuditEntry.objects.select_related("actor").exclude(
                    action__in=actions_of_kind(PERSONAL)
                )[:10]
            )
        )
        context.update(admin_panel(now))
        engagements = health_engagements(user, now)
        health = engagement_health(engagements, now)
        context["health_rows"] = sorted(
            ((engagement, health[engagement.pk]) for engagement in engagements),
            key=lambda row: (row[1].score, row[0].pk),
        )[:HEALTH_ROWS]
    # A TemplateResponse: the home's live fragment (portal.live) renders one block of it.
    return TemplateResponse(request, "dashboard.html", context)


# /healthz answers within about two seconds even when Redis (cache and broker) is down or drops
# packets: one broker connection attempt with a short timeout, and the cache client's own short
# socket timeouts (settings.CACHES).
BROKER_CONNECT_TIMEOUT_SECONDS = 1.0
# The heartbeat is stale (the worker or beat is not running) after this many intervals.
HEARTBEAT_STALE_INTERVALS = 3


def _broker_ok() -> bool:
    try:
        with celery_app.connection_for_write(
            connect_timeout=BROKER_CONNECT_TIMEOUT_SECONDS
        ) as conn:
            conn.ensure_connection(max_retries=0, timeout=BROKER_CONNECT_TIMEOUT_SECONDS)
        return True
    except Exception:
        return False


def _cache_heartbeat() -> tuple[bool, str | None]:
    """Whether the cache answers, and the heartbeat stamp it holds."""
    try:
        return True, cache.get(HEARTBEAT_CACHE_KEY)
    except Exception:
        logger.warning("/healthz: the cache is unreachable", exc_info=True)
        return False, None


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico whatever the page links: send them to the static icon (its
    hashed name under the manifest storage, so it is cached like every static file)."""
    return redirect(static("portal/favicon.ico"), permanent=False)


@never_cache
@require_GET
def ping(request: HttpRequest) -> JsonResponse:
    """A constant JSON answer with no database or cache access: the framework's ceiling in the
    HTTP benchmark (bench/bench_http.py)."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Database, broker and cache reachability, and the age of the last beat-scheduled
    heartbeat. 503 names the failing components: any unreachable service, or a heartbeat older
    than HEARTBEAT_STALE_INTERVALS intervals (beat or every worker stopped). No heartbeat yet
    (a fresh start, an emptied cache) is reported as "unknown" and is not a failure."""
    try:
        with raw_sql("health check: the database answers") as cursor:
            cursor.execute("SELECT 1")
        database = "ok"
    except Exception:
        database = "error"
    broker = "ok" if _broker_ok() else "error"
    cache_ok, stamp = _cache_heartbeat()
    heartbeat_age = (
        round((timezone.now() - datetime.fromisoformat(stamp)).total_seconds(), 1)
        if stamp
        else None
    )
    stale_after = HEARTBEAT_STALE_INTERVALS * settings.HEARTBEAT_INTERVAL_SECONDS
    if heartbeat_age is None:
        heartbeat = "unknown"
    else:
        heartbeat = "stale" if heartbeat_age > stale_after else "ok"
    components = {
        "database": database,
        "broker": broker,
        "cache": "ok" if cache_ok else "error",
        "heartbeat": heartbeat,
    }
    failing = [name for name, state in components.items() if state in ("error", "stale")]
    return JsonResponse(
        {
            "status": "error" if failing else "ok",
            "failing": failing,
            **components,
            "database_vendor": connection.vendor,
            "broker_transport": celery_app.conf.broker_url.split(":", 1)[0],
            "worker_heartbeat_age_seconds": heartbeat_age,
            "heartbeat_interval_seconds": settings.HEARTBEAT_INTERVAL_SECONDS,
            "heartbeat_stale_after_seconds": stale_after,
        },
        status=503 if failing else 200,
    )
