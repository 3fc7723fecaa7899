"""The demo data (`seed.py`, `manage.py seed_demo`, `manage.py demo_totp_code`) and the
benchmarks' synthetic data set (`dataset.py`, `manage.py generate_dataset`): builders that know
every app, so they sit apart from the kernel (import-linter, `[tool.importlinter]`)."""
