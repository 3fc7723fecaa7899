"""Routes of the feature: its pages (`urlpatterns`) and its API (`api_urlpatterns`)."""

from django.urls import path

from portal.live import live_fragment
from reviews.board import views

urlpatterns = [
    path("board/", views.weekly_board, name="weekly_board"),
    path(
        "board/fragment/",
        live_fragment(views.weekly_board, "board_live"),
        name="weekly_board_fragment",
    ),
]
api_urlpatterns: list = []
