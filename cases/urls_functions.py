"""Pages of the risk register and the fix requests, per engagement."""

from django.urls import path

from cases import views_functions as views

urlpatterns = [
    path("engagements/<int:pk>/risks/", views.risk_list, name="risk_list"),
    path("engagements/<int:pk>/risks/new/", views.risk_create, name="risk_create"),
    path("engagements/<int:pk>/risks/<int:risk_pk>/", views.risk_edit, name="risk_edit"),
    path("engagements/<int:pk>/fixes/", views.fix_request_list, name="fix_request_list"),
    path("engagements/<int:pk>/fixes/new/", views.fix_request_create, name="fix_request_create"),
    path("engagements/<int:pk>/fixes/rank/", views.fix_request_rank, name="fix_request_rank"),
    path(
        "engagements/<int:pk>/fixes/<int:fix_pk>/vendor/",
        views.fix_request_vendor,
        name="fix_request_vendor",
    ),
]
