"""Global search: one box in the header over the cases, engagements, organizations and
sessions the viewer may see (it reads every app, so it lives in the app that may import all)."""
