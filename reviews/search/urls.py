"""Routes of the feature: its pages (`urlpatterns`) and its API (`api_urlpatterns`)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from reviews.search import api, views

urlpatterns = [
    path("search/", views.search, name="search"),
]

router = SimpleRouter(trailing_slash=True)
router.register("search", api.SearchViewSet, basename="search")
api_urlpatterns = router.urls
