"""Routes of the feature: its pages (`urlpatterns`) and its API (`api_urlpatterns`)."""

from django.urls import path

from cases.queue import views

urlpatterns = [
    path("queue/", views.staff_queue, name="staff_queue"),
]
api_urlpatterns: list = []
