"""The site's wiring, apart from the kernel: the root URLconf, the /api/v1/ router and the pages
that show every app's data (the dashboard). It may import every app; the kernel (the rest of
`portal`) imports none (import-linter, `[tool.importlinter]` in pyproject.toml)."""
