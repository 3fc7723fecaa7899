"""Calendar feed routes: the user's feed page, and the token-authenticated feed itself."""

from django.urls import path

from reviews import feeds

urlpatterns = [
    path("me/calendar/", feeds.calendar_feed, name="calendar_feed"),
    path("me/calendar/new/", feeds.calendar_feed_new, name="calendar_feed_new"),
    path("me/calendar/revoke/", feeds.calendar_feed_revoke_view, name="calendar_feed_revoke"),
    path("calendar/<str:token>.ics", feeds.calendar_feed_ics, name="calendar_feed_ics"),
]
