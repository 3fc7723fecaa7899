"""Models of this app arrive with its issue.

The app is registered now so that its routes and tasks have a home.
"""
