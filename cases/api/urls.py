"""API routes of the cases app, registered on the portal's /api/v1/ router."""

from rest_framework.routers import SimpleRouter

from cases.api import views

router = SimpleRouter(trailing_slash=True)
router.register("cases", views.CaseViewSet, basename="case")

urlpatterns = router.urls
