"""Every route of the portal, registered with the isolation harness."""

from tests.isolation.harness import Route, exempt_prefix, register

# --- Routes without tenant data ------------------------------------------------------------
exempt_prefix("accounts/", "allauth: the signed-in user's own sign-in, password and MFA pages")
exempt_prefix("django-admin/", "Django's admin site: provider admins only, who see every tenant")
exempt_prefix("static/", "vendored static files")
exempt_prefix("i18n/", "language switch")
register(Route("healthz", "exempt", reason="health check: database and broker status only"))
register(Route("api_schema", "exempt", reason="OpenAPI schema: no data"))
register(Route("api_docs", "exempt", reason="API documentation page: no data"))
register(Route("api_redoc", "exempt", reason="API documentation page: no data"))
register(Route("api_not_found", "exempt", reason="the API's 404 for unknown paths"))
register(Route("audit_log", "exempt", reason="provider admins only (403 for everyone else)"))
register(Route("organization_create", "exempt", reason="provider admins only; creates, shows none"))
register(Route("staff_create", "exempt", reason="provider admins only; creates provider staff"))
register(Route("preferences", "exempt", reason="the signed-in user's own preferences"))


def org(world, tenant):
    return {"pk": tenant.organization.pk}


def org_name(world, tenant):
    return tenant.organization.name


def poc_email(world, tenant):
    return tenant.poc.email


# --- Pages ---------------------------------------------------------------------------------
ALL = ("poc", "member", "manager")
register(Route("dashboard", "list", marker=org_name, roles=ALL))
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

# --- API -----------------------------------------------------------------------------------
register(Route("organization-list", "list", marker=org_name, roles=ALL))
register(Route("organization-detail", "detail", kwargs=org, roles=ALL))
register(Route("user-list", "list", marker=poc_email, roles=ALL))
register(
    Route("user-detail", "detail", kwargs=lambda world, tenant: {"pk": tenant.poc.pk}, roles=ALL)
)
