"""API routes of the engagements app, registered on the portal's /api/v1/ router."""

from rest_framework.routers import SimpleRouter

from engagements.api import views, views_functions

router = SimpleRouter(trailing_slash=True)
router.register("plans", views.PlanViewSet, basename="plan")
router.register("service-functions", views.ServiceFunctionViewSet, basename="service-function")
router.register("engagements", views.EngagementViewSet, basename="engagement")
router.register("absences", views.AbsenceViewSet, basename="absence")
router.register(
    "after-hours-requests", views.AfterHoursRequestViewSet, basename="after-hours-request"
)
router.register("time-entries", views.TimeEntryViewSet, basename="time-entry")
router.register(
    "customer-profiles", views_functions.CustomerProfileViewSet, basename="customer-profile"
)
router.register("advocacy-items", views_functions.AdvocacyItemViewSet, basename="advocacy-item")
router.register("upgrade-plans", views_functions.UpgradePlanViewSet, basename="upgrade-plan")

urlpatterns = router.urls
