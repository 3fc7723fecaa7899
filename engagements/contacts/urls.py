"""Routes of the feature: its pages (`urlpatterns`) and its API (`api_urlpatterns`)."""

from django.urls import path

from engagements.contacts import views

urlpatterns = [
    path(
        "engagements/<int:pk>/contacts/",
        views.engagement_contact_add,
        name="engagement_contact_add",
    ),
    path(
        "engagements/<int:pk>/contacts/<int:contact_pk>/remove/",
        views.engagement_contact_remove,
        name="engagement_contact_remove",
    ),
]
api_urlpatterns: list = []
