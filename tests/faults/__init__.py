"""Fault tests: workers killed mid-run, the broker restarted, database connections dropped."""
