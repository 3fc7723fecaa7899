"""The /api/v1/ router. Every app registers its viewsets here."""

from django.urls import path, re_path
from django.views.decorators.csrf import csrf_exempt
from rest_framework.routers import DefaultRouter

from cases import urls as cases_urls
from engagements import urls as engagements_urls
from portal.accounts.api.views import UserViewSet
from portal.api.audit import AuditEntryViewSet
from portal.api.deletions import DeletionViewSet
from portal.errors import page_not_found as api_not_found
from portal.notification_preferences.api import NotificationPreferencesView
from portal.sso.api import SsoConnectionViewSet
from portal.tenancy.api.views import OrganizationViewSet
from portal.webhooks.api import WebhookViewSet
from reviews import urls as reviews_urls

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("users", UserViewSet, basename="user")
router.register("organizations", OrganizationViewSet, basename="organization")
router.register("sso-connections", SsoConnectionViewSet, basename="sso-connection")
router.register("audit-entries", AuditEntryViewSet, basename="audit-entry")
router.register("webhooks", WebhookViewSet, basename="webhook")
router.register("deletions", DeletionViewSet, basename="deletion")

urlpatterns = [
    path(
        "me/notification-preferences/",
        NotificationPreferencesView.as_view(),
        name="notification-preferences",
    ),
    *router.urls,
    *engagements_urls.api_urlpatterns,
    *cases_urls.api_urlpatterns,
    *reviews_urls.api_urlpatterns,
]

# Anything else under /api/ answers 404 in the API error format, in DEBUG too, whatever the
# method: exempt from CSRF, which would otherwise answer a token client's POST 403.
urlpatterns.append(re_path(r"^.*$", csrf_exempt(api_not_found), name="api_not_found"))
