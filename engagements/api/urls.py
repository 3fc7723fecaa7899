"""API routes of the engagements app, registered on the portal's /api/v1/ router."""

from rest_framework.routers import SimpleRouter

from engagements.api import views

router = SimpleRouter(trailing_slash=True)
router.register("plans", views.PlanViewSet, basename="plan")
router.register("service-functions", views.ServiceFunctionViewSet, basename="service-function")
router.register("engagements", views.EngagementViewSet, basename="engagement")
router.register("absences", views.AbsenceViewSet, basename="absence")
router.register(
    "after-hours-requests", views.AfterHoursRequestViewSet, basename="after-hours-request"
)
router.register("time-entries", views.TimeEntryViewSet, basename="time-entry")

urlpatterns = router.urls
