"""Every route of the portal, registered with the isolation harness."""

from tests.isolation.harness import Route, exempt_prefix, register

# --- Routes without tenant data ------------------------------------------------------------
exempt_prefix("accounts/", "allauth: the signed-in user's own sign-in, password and MFA pages")
exempt_prefix(
    "accounts/saml/",
    "allauth's SAML endpoints (login, ACS, metadata) of one organization's connection, named by "
    "its short name: the portal's own SP metadata, no tenant data (tests/sso/test_saml.py)",
)
exempt_prefix("django-admin/", "Django's admin site: provider admins only, who see every tenant")
exempt_prefix("static/", "vendored static files")
exempt_prefix("i18n/", "language switch")
register(Route("healthz", "exempt", reason="health check: database and broker status only"))
register(Route("favicon", "exempt", reason="redirect to the static icon: no data"))
register(Route("ping", "exempt", reason="constant JSON for the HTTP benchmark: no data"))
register(Route("metrics", "exempt", reason="Prometheus metrics: bearer token only, aggregates"))
register(Route("api_schema", "exempt", reason="OpenAPI schema: no data"))
register(Route("api_docs", "exempt", reason="API documentation page: no data"))
register(Route("api_redoc", "exempt", reason="API documentation page: no data"))
register(Route("api_not_found", "exempt", reason="the API's 404 for unknown paths"))
register(Route("audit_log", "exempt", reason="provider admins only (403 for everyone else)"))
register(Route("audit-entry-list", "exempt", reason="provider admins only (403 for everyone else)"))
register(
    Route("audit-entry-detail", "exempt", reason="provider admins only (403 for everyone else)")
)
register(Route("organization_create", "exempt", reason="provider admins only; creates, shows none"))
register(Route("staff_create", "exempt", reason="provider admins only; creates provider staff"))
register(Route("preferences", "exempt", reason="the signed-in user's own preferences"))
register(
    Route(
        "notification_preferences",
        "exempt",
        reason="the signed-in user's own notification preferences; names no object",
    )
)
register(
    Route(
        "notification-preferences",
        "exempt",
        reason="the caller's own notification preferences (API); names no object",
    )
)


def org(world, tenant):
    return {"pk": tenant.organization.pk}


def org_name(world, tenant):
    return tenant.organization.name


def poc_email(world, tenant):
    return tenant.poc.email


# --- Pages ---------------------------------------------------------------------------------
ALL = ("poc", "member", "manager")
# Service managers are redirected to their weekly board (routes_reviews_pages.py).
register(Route("dashboard", "list", marker=org_name, roles=("poc", "member")))


def _home_cases(world, tenant):
    from tests.isolation.routes_cases_pages import both_cases

    return both_cases(world, tenant)


def _case_subject(world, tenant):
    from tests.isolation.routes_cases_pages import case_subject

    return case_subject(world, tenant)


# The home's live fragment (portal.live): the customer's items, as the dashboard lists them.
register(
    Route(
        "dashboard_fragment",
        "list",
        kwargs=_home_cases,
        marker=_case_subject,
        roles=("poc", "member"),
    )
)
register(
    Route(
        "nav_badges",
        "exempt",
        reason="the signed-in user's own badge counts, numbers only, counted through the scoped "
        "managers (tests/portal/test_live.py checks they leave other tenants out)",
    )
)
register(Route("organization_list", "list", marker=org_name, roles=ALL))
register(Route("organization_detail", "detail", kwargs=org, roles=ALL))
register(Route("organization_edit", "detail", kwargs=org, roles=ALL))
register(Route("organization_person_add", "detail", kwargs=org, roles=ALL))
register(Route("organization_logo", "detail", kwargs=org, roles=ALL))
register(Route("people_list", "list", marker=poc_email, roles=ALL))
register(Route("api_tokens", "list", marker=lambda world, tenant: tenant.objects["token"].name))
register(
    Route(
        "api_token_revoke",
        "detail",
        method="post",
        kwargs=lambda world, tenant: {"pk": tenant.objects["token"].pk},
    )
)


# --- Webhooks: each user's own (another's answers 404 like a missing one) ---------------------
def webhook_of(tenant, owner):
    """A webhook of `owner` (a person of `tenant`, or serving it) with one failed delivery."""
    from portal.webhooks.models import WebhookDelivery, WebhookSubscription

    tenant.objects["webhook"] = WebhookSubscription.objects.create(
        owner=owner,
        url=f"https://hooks.example.com/{tenant.organization.slug}",
        events=["case.created"],
        secret="0" * 64,
    )
    tenant.objects["delivery"] = WebhookDelivery.objects.create(
        subscription=tenant.objects["webhook"],
        event="ping",
        object_key="ping",
        body="{}",
        status=WebhookDelivery.Status.FAILED,
    )
    return tenant.objects["webhook"]


def _webhook(world, tenant):
    if "webhook" not in tenant.objects:  # the isolation test makes the actor's own first
        webhook_of(tenant, tenant.poc)
    return {"pk": tenant.objects["webhook"].pk}


def _webhook_delivery(world, tenant):
    _webhook(world, tenant)
    return {"pk": tenant.objects["webhook"].pk, "delivery_pk": tenant.objects["delivery"].pk}


def _webhook_url(world, tenant):
    _webhook(world, tenant)
    return tenant.objects["webhook"].url


register(Route("webhook_list", "list", marker=_webhook_url))
register(Route("webhook_detail", "detail", kwargs=_webhook))
register(Route("webhook_ping", "detail", method="post", kwargs=_webhook))
register(Route("webhook_delete", "detail", method="post", kwargs=_webhook))
register(Route("webhook_redeliver", "detail", method="post", kwargs=_webhook_delivery))
register(Route("webhook-list", "list", marker=lambda world, tenant: tenant.objects["webhook"].url))
register(Route("webhook-detail", "detail", kwargs=_webhook))
register(Route("webhook-ping", "detail", method="post", kwargs=_webhook))
register(Route("webhook-deliveries", "detail", kwargs=_webhook))
register(Route("webhook-redeliver", "detail", method="post", kwargs=_webhook_delivery))

# --- API -----------------------------------------------------------------------------------
register(Route("organization-list", "list", marker=org_name, roles=ALL))
register(Route("organization-detail", "detail", kwargs=org, roles=ALL))
register(Route("user-list", "list", marker=poc_email, roles=ALL))
register(
    Route("user-detail", "detail", kwargs=lambda world, tenant: {"pk": tenant.poc.pk}, roles=ALL)
)
# The requester's own record: their organizations by name, never another tenant's.
register(Route("user-me", "list", marker=org_name, roles=ALL))


def tombstones(world, tenant):
    """One deleted time entry of each tenant's engagement (portal.deletions)."""
    from portal.deletions import deletion_record

    for offset, each in enumerate((world.a, world.b)):
        if "deletion" not in each.objects:
            engagement = each.objects["engagement"]
            each.objects["deletion"] = deletion_record(
                object_type="time-entry",
                object_id=900_001 + offset,
                organization_id=engagement.organization_id,
                engagement_id=engagement.pk,
            )
    return {}


register(
    Route(
        "deletion-list",
        "list",
        kwargs=tombstones,
        marker=lambda world, tenant: f'"object_id":{tenant.objects["deletion"].object_id}',
        roles=ALL,
    )
)


# --- Notifications: each user's own ----------------------------------------------------------
def _notification(tenant, user):
    from portal.notifications import Notification

    notification, _created = Notification.objects.get_or_create(
        dedupe_key=f"isolation:{tenant.organization.slug}:{user.pk}",
        defaults={
            "user": user,
            "kind": "test",
            "title": f"Notice for {tenant.organization.slug}",
            "url": "/",
        },
    )
    return notification


def notification_title(world, tenant):
    return f"Notice for {tenant.organization.slug}"


def all_notifications(world, tenant):
    """Before the list is fetched: tenant A's notice for every role that signs in, tenant B's
    for B's PoC only."""
    for person in (world.a.poc, world.a.member, world.manager):
        _notification(world.a, person)
    _notification(world.b, world.b.poc)
    return {}


register(
    Route(
        "notifications",
        "list",
        kwargs=all_notifications,
        marker=notification_title,
        roles=ALL,
    )
)
register(
    Route(
        "notification_read",
        "detail",
        method="post",
        # Another user's notification answers 404; A's own is the signed-in PoC's.
        kwargs=lambda world, tenant: {"pk": _notification(tenant, tenant.poc).pk},
        roles=("poc",),
    )
)
register(
    Route(
        "notifications_read_all",
        "exempt",
        reason="marks the signed-in user's own notifications read; names no object, shows none",
    )
)


# --- Single sign-on (portal.sso) -------------------------------------------------------------
register(
    Route(
        "sso_lookup",
        "exempt",
        reason="the sign-in step before anyone is signed in: finds the identity provider of an "
        "address's domain and shows only its button (tests/sso/test_sign_in.py)",
    )
)
register(
    Route(
        "sso_start",
        "exempt",
        reason="an organization's public direct sign-in link: its identity provider's button, "
        "no tenant data (tests/sso/test_sign_in.py)",
    )
)


def sso_connection_of(world, tenant):
    """Tenant's single sign-on connection (made once), its issuer unique to the tenant."""
    from portal.sso.services import sso_connection_create

    if "sso" not in tenant.objects:
        tenant.objects["sso"] = sso_connection_create(
            acting_user=world.admin,
            organization=tenant.organization,
            name=f"{tenant.organization.slug} login",
            issuer=f"https://login.{tenant.organization.slug}.example.com",
            client_id=f"client-{tenant.organization.slug}",
            client_secret="secret",
            domains=[f"{tenant.organization.slug}.example.com"],
        )
    return tenant.objects["sso"]


def _sso_both(world, tenant):
    sso_connection_of(world, world.a)
    sso_connection_of(world, world.b)
    return {}


def _sso(world, tenant):
    _sso_both(world, tenant)
    return {"pk": sso_connection_of(world, tenant).pk}


register(Route("organization_sso", "detail", kwargs=org, roles=ALL))
register(Route("organization_sso_delete", "detail", method="post", kwargs=org, roles=ALL))
register(
    Route(
        "sso-connection-list",
        "list",
        kwargs=_sso_both,
        marker=lambda world, tenant: sso_connection_of(world, tenant).issuer,
        roles=ALL,
    )
)
register(Route("sso-connection-detail", "detail", kwargs=_sso, roles=ALL))
