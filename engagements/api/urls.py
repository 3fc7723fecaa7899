"""API routes of the engagements app, registered on the portal's /api/v1/ router."""

from rest_framework.routers import SimpleRouter

router = SimpleRouter(trailing_slash=True)

urlpatterns = router.urls
