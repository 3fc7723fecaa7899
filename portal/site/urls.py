from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from portal import audit_views, live, metrics, notification_views
from portal.accounts import views as account_views
from portal.csp import api_docs_csp
from portal.notification_preferences import views as notification_preference_views
from portal.site import views
from portal.sso import views as sso_views
from portal.tenancy import views as tenancy_views
from portal.webhooks import views as webhook_views

urlpatterns = [
    # First: the API's routes are tried before the pages' (URL resolution tries patterns in
    # order; no page's pattern matches a path under api/v1/, which the API's catch-all ends).
    path("api/v1/", include("portal.site.api_urls")),
    path("", views.dashboard, name="dashboard"),
    path(
        "home/fragment/",
        live.live_fragment(views.dashboard, "home_live"),
        name="dashboard_fragment",
    ),
    path("me/badges/", live.nav_badges, name="nav_badges"),
    path("healthz", views.healthz, name="healthz"),
    path("ping", views.ping, name="ping"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("metrics", metrics.metrics, name="metrics"),
    path("audit/", audit_views.audit_log, name="audit_log"),
    path("organizations/", tenancy_views.organization_list, name="organization_list"),
    path("organizations/new/", tenancy_views.organization_create, name="organization_create"),
    path("organizations/<int:pk>/", tenancy_views.organization_detail, name="organization_detail"),
    path("organizations/<int:pk>/edit/", tenancy_views.organization_edit, name="organization_edit"),
    path(
        "organizations/<int:pk>/people/new/",
        tenancy_views.organization_person_add,
        name="organization_person_add",
    ),
    path("organizations/<int:pk>/sso/", sso_views.organization_sso, name="organization_sso"),
    path(
        "organizations/<int:pk>/sso/delete/",
        sso_views.organization_sso_delete,
        name="organization_sso_delete",
    ),
    path("sign-in/sso/", sso_views.sso_lookup, name="sso_lookup"),
    path("sign-in/sso/<slug:slug>/", sso_views.sso_start, name="sso_start"),
    path("people/", account_views.people_list, name="people_list"),
    path("organizations/<int:pk>/logo/", tenancy_views.organization_logo, name="organization_logo"),
    path("people/new/", account_views.staff_create, name="staff_create"),
    path("me/preferences/", account_views.preferences, name="preferences"),
    path(
        "me/notification-preferences/",
        notification_preference_views.notification_preferences,
        name="notification_preferences",
    ),
    path("me/tokens/", account_views.api_tokens, name="api_tokens"),
    path("me/tokens/<int:pk>/revoke/", account_views.api_token_revoke, name="api_token_revoke"),
    path("me/webhooks/", webhook_views.webhook_list, name="webhook_list"),
    path("me/webhooks/<int:pk>/", webhook_views.webhook_detail, name="webhook_detail"),
    path("me/webhooks/<int:pk>/ping/", webhook_views.webhook_ping, name="webhook_ping"),
    path("me/webhooks/<int:pk>/delete/", webhook_views.webhook_delete, name="webhook_delete"),
    path(
        "me/webhooks/<int:pk>/deliveries/<int:delivery_pk>/redeliver/",
        webhook_views.webhook_redeliver,
        name="webhook_redeliver",
    ),
    path("me/notifications/", notification_views.notifications, name="notifications"),
    path(
        "me/notifications/<int:pk>/read/",
        notification_views.notification_read,
        name="notification_read",
    ),
    path(
        "me/notifications/read-all/",
        notification_views.notifications_read_all,
        name="notifications_read_all",
    ),
    path("", include("engagements.urls")),
    path("", include("cases.urls")),
    path("", include("reviews.urls")),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path(
        "api/docs/",
        api_docs_csp(SpectacularSwaggerSplitView.as_view(url_name="api_schema")),
        name="api_docs",
    ),
    path(
        "api/redoc/",
        api_docs_csp(SpectacularRedocView.as_view(url_name="api_schema")),
        name="api_redoc",
    ),
    path("django-admin/", admin.site.urls),
]

handler400 = "portal.errors.bad_request"
handler403 = "portal.errors.permission_denied"
handler404 = "portal.errors.page_not_found"
handler500 = "portal.errors.server_error"

if settings.DEBUG:
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()
