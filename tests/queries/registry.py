"""Every route of the portal, registered with the query-count harness.

Each route of the URLconf is one of:

- `measured`: this package counts its queries at 3 and at 30 rows of the kinds in `grow`
  (`rows.py`), signed in as each role in `roles`, and asserts the counts are equal.
- `covered`: a rows-growth query-count test elsewhere already counts it (`covered_by`,
  "file::test"); `test_covering_tests_exist` checks that test is still there.
- `post_only`: the route answers GET with 405 (checked by `test_post_only_routes_refuse_get`),
  so it is neither a page nor a list.
- `exempt`: a route that lists no rows (one stored file, the schema, health), with the reason.

`test_every_route_is_registered` walks Django's URL resolver, so a new route that is not
registered here fails the suite, as in the tenant-isolation registry (tests/isolation), whose
`kwargs` builders this registry reuses to name each route's objects.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import tests.isolation.test_isolation  # noqa: F401  (registers every isolation route)
from tests.isolation.harness import REGISTRY as ISOLATION

ALL = ("poc", "member", "manager")


@dataclass(frozen=True)
class QueryRoute:
    name: str
    status: str  # "measured" | "covered" | "post_only" | "exempt"
    roles: tuple[str, ...] = ()
    grow: tuple[str, ...] = ()
    # (world, user) -> reverse() kwargs; defaults to the isolation registry's, for tenant A
    kwargs: Callable[[Any, Any], dict[str, Any]] | None = None
    # (world) -> query string
    params: Callable[[Any], dict[str, Any]] | None = None
    # the last grown row's marker must be in the response (False: aggregates, no names shown)
    shows: bool = True
    anonymous: bool = False  # token-authenticated (the calendar feed): no session
    covered_by: str = ""
    reason: str = ""

    def url_kwargs(self, world: Any, user: Any) -> dict[str, Any]:
        if self.kwargs is not None:
            return self.kwargs(world, user)
        return ISOLATION[self.name].kwargs(world, world.a)


QUERY_REGISTRY: dict[str, QueryRoute] = {}
# Route path prefixes that are not the portal's own pages, with the reason.
EXEMPT_PREFIXES: dict[str, str] = {
    "accounts/": "allauth: the signed-in user's own sign-in, password and MFA pages; no rows",
    "accounts/saml/": "allauth's SAML login, ACS and SP metadata of one connection; no rows",
    "django-admin/": "Django's admin site for provider admins, not a portal page",
    "static/": "vendored static files",
    "i18n/": "language switch (POST)",
}


def register(route: QueryRoute) -> None:
    if route.name in QUERY_REGISTRY:
        raise ValueError(f"{route.name} is registered twice")
    if route.status == "measured" and not (route.roles and route.grow):
        raise ValueError(f"{route.name}: a measured route needs roles and rows to grow")
    if route.status == "covered" and "::test_" not in route.covered_by:
        raise ValueError(f"{route.name}: say which test covers it (file::test)")
    if route.status == "exempt" and not route.reason:
        raise ValueError(f"{route.name}: an exempt route needs a reason")
    QUERY_REGISTRY[route.name] = route


def measured(name: str, roles: tuple[str, ...], grow: tuple[str, ...], **options: Any) -> None:
    register(QueryRoute(name, "measured", roles=roles, grow=grow, **options))


def measured_too(name: str, roles: tuple[str, ...], grow: tuple[str, ...], **options: Any) -> None:
    """A covered route whose covering test leaves out roles or rows: count these here."""
    route = QUERY_REGISTRY[name]
    assert route.status == "covered" and not route.roles, name
    QUERY_REGISTRY[name] = replace(route, roles=roles, grow=grow, **options)


def covered(by: str, *names: str) -> None:
    for name in names:
        register(QueryRoute(name, "covered", covered_by=by))


def post_only(*names: str) -> None:
    for name in names:
        register(QueryRoute(name, "post_only"))


def exempt(reason: str, *names: str) -> None:
    for name in names:
        register(QueryRoute(name, "exempt", reason=reason))


# --- Object builders the isolation registry has none for ---------------------------------------


def _publication(world, user):
    from reviews.publications.services import publication_publish

    if "publication" not in world.a.objects:
        world.a.objects["publication"] = publication_publish(
            acting_user=world.admin, kind="news", title="Release 9 is out", body="Details."
        )
    return {"pk": world.a.objects["publication"].pk}


def _review(world, user):
    """Tenant A's service review (the isolation registry's report review), kept as `review`."""
    from tests.isolation.routes_reviews_reports import _review as review_of

    return {"pk": review_of(world.a).pk}


def _upgrade(world, user):
    ISOLATION["upgrade-plan-detail"].kwargs(world, world.a)
    return {"pk": world.a.objects["upgrade"].pk}


def _feed_token(world, user):
    from reviews.feeds.services import calendar_feed_create
    from tests.queries.rows import feed_objects

    feed_objects(world)
    _feed, token = calendar_feed_create(acting_user=user)
    return {"token": token}


def _page_size(world):
    return {"page_size": 100}


def _grown(world):
    return {"q": "Grown"}  # in every grown case, engagement and session


def _engagement_param(world):
    return {"engagement": world.a.objects["engagement"].pk}


# --- Already covered elsewhere -------------------------------------------------------------------

covered(
    "tests/portal/test_views.py::test_pages_issue_constant_queries",
    "organization_list",
    "organization_detail",
    "people_list",
    "api_tokens",
)
covered(
    "tests/portal/test_audit_words.py::test_the_audit_page_issues_constant_queries", "audit_log"
)
covered(
    "tests/engagements/test_views.py::test_pages_issue_constant_queries",
    "dashboard",
    "engagement_list",
    "engagement_detail",
    "after_hours_list",
    "time_entries",
    "absence_list",
    "weekly_board",
)
covered(
    "tests/portal/test_notifications.py::test_the_list_issues_constant_queries", "notifications"
)
covered(
    "tests/engagements/test_catalog_pages.py::test_catalog_pages_issue_constant_queries",
    "catalog_matrix",
    "catalog_cadences",
    "catalog_plans",
    "catalog_plan_create",
    "catalog_plan_edit",
    "catalog_functions",
    "catalog_function_create",
    "catalog_function_edit",
)
covered(
    "tests/engagements/test_profile_advocacy_upgrades.py::test_list_queries_do_not_grow_with_rows",
    "customer_profile",
    "advocacy_list",
    "upgrade_plan_list",
    "customer-profile-list",
    "advocacy-item-list",
    "upgrade-plan-list",
)
covered(
    "tests/security/test_audit.py::test_audit_api_queries_do_not_grow_with_entries",
    "audit-entry-list",
)
post_only(
    "webhook_ping", "webhook_delete", "webhook_redeliver", "webhook-ping", "webhook-redeliver"
)
covered(
    "tests/portal/test_webhooks.py::test_pages_and_lists_issue_constant_queries",
    "webhook_list",
    "webhook_detail",
    "webhook-list",
    "webhook-detail",
    "webhook-deliveries",
)
covered("tests/cases/test_views.py::test_case_list_issues_constant_queries", "case_list")
covered("tests/cases/test_views.py::test_case_detail_issues_constant_queries", "case_detail")
covered(
    "tests/cases/test_risks.py::test_list_queries_do_not_grow_with_rows", "risk_list", "risk-list"
)
covered(
    "tests/cases/test_fix_requests.py::test_list_queries_do_not_grow_with_rows",
    "fix_request_list",
    "fix-request-list",
)
covered(
    "tests/reviews/test_reports.py::test_constant_queries", "review_report", "review_report_csv"
)
covered(
    "tests/reviews/test_views.py::test_pages_issue_constant_queries",
    "occurrence_list",
    "occurrence_detail",
    "occurrence_request",
    "occurrence_complete",
)
covered(
    "tests/reviews/test_maintenance.py::test_list_page_issues_constant_queries", "maintenance_list"
)
covered(
    "tests/reviews/test_maintenance.py::test_api_list_issues_constant_queries",
    "maintenance-window-list",
)
covered("tests/reviews/test_changes.py::test_list_page_issues_constant_queries", "change_list")
covered("tests/reviews/test_changes.py::test_api_list_issues_constant_queries", "change-list")
covered(
    "tests/reviews/test_publications.py::test_list_pages_and_endpoints_issue_constant_queries",
    "publication_list",
    "enablement_catalog",
    "consulting_list",
    "publication-list",
    "training-resource-list",
    "consulting-request-list",
)
covered(
    "tests/portal/test_api.py::test_list_endpoints_issue_constant_queries",
    "user-list",
    "organization-list",
)
covered(
    "tests/engagements/test_api.py::test_list_queries_do_not_grow_with_rows",
    "plan-list",
    "service-function-list",
    "engagement-list",
    "engagement-contacts",
    "absence-list",
    "after-hours-request-list",
    "time-entry-list",
)
covered("tests/cases/test_api.py::test_case_list_queries_do_not_grow_with_rows", "case-list")
covered("tests/cases/test_api.py::test_event_list_queries_do_not_grow_with_rows", "case-events")
covered(
    "tests/reviews/test_api.py::test_list_query_counts_do_not_grow",
    "review-list",
    "action-item-list",
)

# Roles the covering tests leave out, where the role changes what is read (scopes differ), and
# rows they do not grow.
measured_too("organization_list", ("poc", "manager"), ("clients", "memberships"))
measured_too("organization_detail", ("poc", "manager"), ("people", "engagements"))
measured_too("people_list", ("manager",), ("clients", "people"))
measured_too("engagement_detail", ("manager",), ("contacts", "time_entries"))
# The assignee select lists only the engagement's manager and deputy: more staff must not add
# queries, but they are not shown.
measured_too("case_detail", ("manager", "admin"), ("managers",), shows=False)
# The customer's home lists its organization's items: the most urgent open ones (the newest
# grown item is not among them, so not shown), the waiting and the resolved ones.
measured_too("dashboard", ("poc", "member"), ("cases",), shows=False)
measured_too("user-list", ("poc", "manager"), ("clients", "memberships"), params=_page_size)
measured_too("organization-list", ("poc", "manager"), ("clients", "memberships"), params=_page_size)
measured_too("engagement-contacts", ("manager",), ("contacts",), shows=False)  # ids, no names
measured_too("risk-list", ("manager",), ("risks",), params=_page_size)
measured_too("fix-request-list", ("manager",), ("fix_requests",), params=_page_size)
measured_too("maintenance-window-list", ("manager",), ("windows",), params=_page_size)
measured_too("change-list", ("poc",), ("changes",), params=_page_size)
measured_too("after-hours-request-list", ("manager",), ("after_hours",), params=_page_size)

# The case list sorted by a joined column, with the viewer's saved views: still constant.
measured_too(
    "case_list",
    ("poc", "manager", "admin"),
    ("cases", "saved_views"),
    params=lambda world: {"sort": "-assignee"},
)

# --- Measured here: pages ------------------------------------------------------------------------
# Forms are counted against the rows their selects offer; pages that list nothing of their own
# (preferences, the feed page) against growth that the shared layout could show.

measured("organization_create", ("admin",), ("organizations", "managers"), shows=False)
measured("organization_edit", ("admin",), ("people",), shows=False)
measured("organization_person_add", ("admin",), ("people",), shows=False)
measured("staff_create", ("admin",), ("managers",), shows=False)
measured("preferences", ("poc", "manager"), ("engagements", "cases"), shows=False)
measured("notification_preferences", ("poc", "manager"), ("engagements", "cases"), shows=False)
measured("notification-preferences", ("poc", "manager"), ("engagements", "cases"), shows=False)
measured("calendar_feed", ("poc", "manager"), ("engagements", "cases"), shows=False)
measured("engagement_create", ("admin",), ("organizations", "managers"))
measured("engagement_edit", ("admin",), ("managers",))
measured("advocacy_create", ("poc", "manager"), ("contacts",), shows=False)
measured("advocacy_edit", ("poc", "manager"), ("contacts",), shows=False)
measured("upgrade_plan_create", ("manager",), ("milestones",), shows=False)
measured("upgrade_plan_edit", ("manager",), ("milestones",), shows=False)
measured("upgrade_milestone_create", ("manager",), ("contacts", "milestones"))
measured("upgrade_milestone_edit", ("manager",), ("contacts", "milestones"))
measured("case_create", ("poc", "manager"), ("engagements",))
measured(
    "case_due_preview", ("poc", "manager"), ("engagements",), shows=False, params=_engagement_param
)
measured("risk_create", ("manager",), ("managers", "cases"))
measured("risk_edit", ("manager",), ("managers", "cases"))
# Past the manager's cap the grown items go to the deputy, whose items are not the manager's
# queue (README); the rows shown and the admin's counts: tests/cases/test_queue.py.
measured("staff_queue", ("manager",), ("cases",), shows=False)
# Live fragments (portal.live): the page's own view, one block of its template.
measured("case_list_fragment", ("poc", "manager", "admin"), ("cases",))
measured("staff_queue_fragment", ("manager",), ("cases",), shows=False)
measured("weekly_board_fragment", ("manager",), ("engagements", "cases"), shows=False)
measured("dashboard_fragment", ("poc", "member"), ("cases",), shows=False)
measured("nav_badges", ("poc", "manager", "admin"), ("cases",), shows=False)
exempt(
    "who is replying comes from the cache, not rows: one scoped fetch of the case "
    "(tests/cases/test_presence.py counts it with many writers)",
    "case_presence_list",
)
measured("fix_request_create", ("poc", "manager"), ("cases",), shows=False)
measured("fix_request_vendor", ("manager",), ("cases",), shows=False)
measured("maintenance_edit", ("manager",), ("conflicts",), shows=False)
measured("change_edit", ("manager",), ("acknowledgements",), shows=False)
measured("publication_create", ("manager", "admin"), ("engagements", "cases"), shows=False)
measured("publication_detail", ("manager", "admin"), ("receipts",), kwargs=_publication)
measured("consulting_create", ("poc",), ("engagements",), shows=False)
measured("consulting_schedule", ("manager",), ("people", "managers"), shows=False)
measured(
    "calendar_feed_ics", ("poc", "manager"), ("feed_events",), kwargs=_feed_token, anonymous=True
)
# Global search: every kind's count and first rows (the page marks the words, so its rows are
# checked by tests/reviews/test_search.py; the API's plain text shows them here).
measured(
    "search", (*ALL, "admin"), ("cases", "engagements", "sessions"), params=_grown, shows=False
)
measured("search-api", (*ALL, "admin"), ("cases", "engagements", "sessions"), params=_grown)

# --- Measured here: API lists and details that nest a list ---------------------------------------

measured("case-attachments", ALL, ("attachments",))
measured("case-trends", ("poc", "manager"), ("cases",), shows=False, params=_engagement_param)
measured("engagement-hours", ("poc", "manager"), ("time_entries",), shows=False)
measured("review-detail", ("poc", "manager"), ("action_items",), kwargs=_review)
measured(
    "review-report",
    ("poc", "manager"),
    ("action_items", "cases", "time_entries"),
    kwargs=_review,
    shows=False,
)
measured("upgrade-plan-detail", ("poc", "manager"), ("milestones",), kwargs=_upgrade)
measured("change-detail", ("poc", "manager"), ("acknowledgements",))
measured("maintenance-window-detail", ("poc", "manager"), ("conflicts",))
measured("publication-detail", ("manager", "admin"), ("receipts",), kwargs=_publication)
# Sync (portal/api/sync.py): the requester's record lists the organizations they serve.
measured("user-me", ("poc", "manager"), ("clients",), shows=False)
measured("deletion-list", ("poc", "manager", "admin"), ("deletions",), params=_page_size)

measured("saved-view-list", ALL, ("saved_views",))

# --- GET answers 405 -----------------------------------------------------------------------------

post_only("saved_view_create", "saved_view_delete", "case_bulk", "case-bulk")

post_only("case_presence")
post_only(
    "api_token_revoke",
    "notification_read",
    "notifications_read_all",
    "engagement_holiday_add",
    "engagement_holiday_delete",
    "engagement_contact_add",
    "engagement_contact_remove",
    "after_hours_decide",
    "time_entry_delete",
    "upgrade_milestone_done",
    "absence_delete",
    "case_reply",
    "case_status",
    "case_assign",
    "case_escalate",
    "case_priority",
    "case_rca",
    "case_rate",
    "case_attach",
    "fix_request_rank",
    "calendar_feed_new",
    "calendar_feed_revoke",
    "occurrence_cancel",
    "action_item_toggle",
    "maintenance_status",
    "change_status",
    "change_acknowledge",
    "training_resource_remove",
    "consulting_status",
    "after-hours-request-approve",
    "after-hours-request-decline",
    "upgrade-plan-milestones",
    "case-assign",
    "case-comment",
    "case-escalate",
    "case-rca",
    "case-rating",
    "case-resolve",
    "case-respond",
    "case-priority",
    "case-status",
    "fix-request-rank",
    "review-cancel",
    "review-complete",
    "change-acknowledge",
    "publication-read",
    "consulting-request-schedule",
)

# --- No rows -------------------------------------------------------------------------------------

exempt(
    "one saved view (the user's own): a name and a query string, nests no list", "saved-view-detail"
)

exempt("health check: database and broker status, no rows", "healthz")
exempt("constant JSON for the HTTP benchmark: no rows", "ping")
exempt("redirects to the static icon: no rows", "favicon")
exempt(
    "bearer token only, no session: tests/portal/test_metrics.py counts its queries at 3 and 30 "
    "rows",
    "metrics",
)
exempt(
    "the OpenAPI schema, its documentation pages and the API's 404: no data",
    "api_schema",
    "api_docs",
    "api_redoc",
    "api_not_found",
)
exempt(
    "serves one stored file",
    "organization_logo",
    "case_attachment_download",
    "case-attachment-download",
)
exempt(
    "one object through the same serializer as its list endpoint, whose rows-growth test covers "
    "the per-row queries; it nests no list",
    "user-detail",
    "organization-detail",
    "plan-detail",
    "service-function-detail",
    "engagement-detail",
    "engagement-contact-detail",
    "absence-detail",
    "after-hours-request-detail",
    "time-entry-detail",
    "customer-profile-detail",
    "advocacy-item-detail",
    "case-detail",
    "risk-detail",
    "fix-request-detail",
    "action-item-detail",
    "consulting-request-detail",
    "training-resource-detail",
    "audit-entry-detail",
)

# Engagement health (reviews/health): one aggregate per factor, whatever the engagements' number.
measured(
    "engagement_health",
    ("manager", "admin"),
    ("cases", "time_entries", "overdue_action_items"),
    shows=False,  # figures, not rows
)
measured(
    "engagement-health-detail",
    ("manager", "admin"),
    ("cases", "time_entries", "overdue_action_items"),
    shows=False,
)
measured("engagement-health-list", ("manager", "admin"), ("unhealthy_engagements",))
measured("overdue_action_items", ("manager", "admin"), ("overdue_action_items",))
measured(
    "overdue-action-item-list",
    ("manager", "admin"),
    ("overdue_action_items", "unhealthy_engagements"),
    params=_page_size,
)

# Single sign-on (portal.sso).
exempt(
    "the sign-in step's lookup and an organization's direct link: one connection, no rows",
    "sso_lookup",
    "sso_start",
)
post_only("organization_sso_delete")
covered(
    "tests/sso/test_api.py::test_pages_and_api_issue_constant_queries",
    "organization_sso",
    "sso-connection-list",
    "sso-connection-detail",
)
