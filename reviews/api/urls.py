"""API routes of the reviews app, registered on the portal's /api/v1/ router."""

from rest_framework.routers import SimpleRouter

from reviews.api import views, views_functions, views_publications

router = SimpleRouter(trailing_slash=True)
router.register("reviews", views.OccurrenceViewSet, basename="review")
router.register("action-items", views.ActionItemViewSet, basename="action-item")
router.register(
    "maintenance-windows", views_functions.MaintenanceWindowViewSet, basename="maintenance-window"
)
router.register("changes", views_functions.ChangeItemViewSet, basename="change")
router.register("publications", views_publications.PublicationViewSet, basename="publication")
router.register(
    "training-resources",
    views_publications.TrainingResourceViewSet,
    basename="training-resource",
)
router.register(
    "consulting-requests",
    views_publications.ConsultingRequestViewSet,
    basename="consulting-request",
)

urlpatterns = router.urls
