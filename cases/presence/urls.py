"""Routes of the feature: its pages (`urlpatterns`); no API."""

from django.urls import path

from cases.presence import views

urlpatterns = [
    path("cases/<int:pk>/presence/", views.case_presence, name="case_presence"),
    path("cases/<int:pk>/replying/", views.case_presence_list, name="case_presence_list"),
]

api_urlpatterns: list = []
