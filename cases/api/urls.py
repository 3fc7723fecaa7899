"""API routes of the cases app, registered on the portal's /api/v1/ router."""

from rest_framework.routers import SimpleRouter

from cases.api import views, views_functions

router = SimpleRouter(trailing_slash=True)
router.register("cases", views.CaseViewSet, basename="case")
router.register("risks", views_functions.RiskViewSet, basename="risk")
router.register("fix-requests", views_functions.FixRequestViewSet, basename="fix-request")

urlpatterns = router.urls
