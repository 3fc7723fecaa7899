"""API routes of the reviews app, registered on the portal's /api/v1/ router."""

from rest_framework.routers import SimpleRouter

from reviews.api import views, views_functions

router = SimpleRouter(trailing_slash=True)
router.register("reviews", views.OccurrenceViewSet, basename="review")
router.register("action-items", views.ActionItemViewSet, basename="action-item")
router.register(
    "maintenance-windows", views_functions.MaintenanceWindowViewSet, basename="maintenance-window"
)
router.register("changes", views_functions.ChangeItemViewSet, basename="change")

urlpatterns = router.urls
