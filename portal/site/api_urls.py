"""The /api/v1/ router. Every app registers its viewsets here."""

from django.urls import re_path
from django.views.decorators.csrf import csrf_exempt
from rest_framework.routers import DefaultRouter

from cases.api import urls as cases_api
from engagements.api import urls as engagements_api
from portal.accounts.api.views import UserViewSet
from portal.api.audit import AuditEntryViewSet
from portal.errors import page_not_found as api_not_found
from portal.tenancy.api.views import OrganizationViewSet
from reviews.api import urls as reviews_api

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("users", UserViewSet, basename="user")
router.register("organizations", OrganizationViewSet, basename="organization")
router.register("audit-entries", AuditEntryViewSet, basename="audit-entry")

urlpatterns = router.urls + engagements_api.urlpatterns + cases_api.urlpatterns
urlpatterns += reviews_api.urlpatterns

# Anything else under /api/ answers 404 in the API error format, in DEBUG too, whatever the
# method: exempt from CSRF, which would otherwise answer a token client's POST 403.
urlpatterns.append(re_path(r"^.*$", csrf_exempt(api_not_found), name="api_not_found"))
