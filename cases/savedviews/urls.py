"""Routes of the feature: the case list's save and delete (`urlpatterns`) and its API."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from cases.savedviews import api, views

urlpatterns = [
    path("cases/views/", views.saved_view_create, name="saved_view_create"),
    path("cases/views/<int:pk>/delete/", views.saved_view_delete, name="saved_view_delete"),
]

router = SimpleRouter(trailing_slash=True)
router.register("saved-views", api.SavedViewViewSet, basename="saved-view")
api_urlpatterns = router.urls
