"""Routes of the feature: its pages (`urlpatterns`) and its API (`api_urlpatterns`)."""

from django.urls import path

from reviews.search import api, views

urlpatterns = [
    path("search/", views.search, name="search"),
]

# One operation, not a collection: a plain view, so the schema answers one object.
api_urlpatterns = [
    path("search/", api.SearchView.as_view(), name="search-api"),
]
