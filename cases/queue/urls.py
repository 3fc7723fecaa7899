"""Routes of the feature: its pages (`urlpatterns`) and its API (`api_urlpatterns`)."""

from django.urls import path

from cases.queue import views
from portal.live import live_fragment

urlpatterns = [
    path("queue/", views.staff_queue, name="staff_queue"),
    path(
        "queue/fragment/",
        live_fragment(views.staff_queue, "queue_live"),
        name="staff_queue_fragment",
    ),
]
api_urlpatterns: list = []
