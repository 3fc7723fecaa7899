"""Engagement pages."""

urlpatterns: list = []
