"""Routes of the feature: its pages (`urlpatterns`) and its API (`api_urlpatterns`)."""

from django.urls import path

from reviews.feeds import views

urlpatterns = [
    path("me/calendar/", views.calendar_feed, name="calendar_feed"),
    path("me/calendar/new/", views.calendar_feed_new, name="calendar_feed_new"),
    path("me/calendar/revoke/", views.calendar_feed_revoke_view, name="calendar_feed_revoke"),
    path("calendar/<str:token>.ics", views.calendar_feed_ics, name="calendar_feed_ics"),
]
api_urlpatterns: list = []
