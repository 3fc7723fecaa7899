"""The import contracts of pyproject.toml (`lint-imports`, run by `make lint`) cover every module
of `portal`: each is kernel (may import no app) or named wiring, so a new module cannot escape
the contract by being left out of its list."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
import tomllib
from pathlib import Path

import portal

# The wiring: settings, the Celery app, WSGI, and the packages that know every app.
WIRING = {"portal.settings", "portal.celery", "portal.wsgi", "portal.site", "portal.demo"}
APPS = {"engagements", "cases", "reviews"}


PYPROJECT = Path(__file__).parents[2] / "pyproject.toml"


def contracts() -> dict[str, dict]:
    config = tomllib.loads(PYPROJECT.read_text())
    return {contract["name"]: contract for contract in config["tool"]["importlinter"]["contracts"]}


def kernel_contract() -> dict:
    return contracts()["The kernel imports no app and none of the wiring that does"]


def test_every_module_of_portal_is_kernel_or_wiring() -> None:
    modules = {f"portal.{module.name}" for module in pkgutil.iter_modules(portal.__path__)}
    kernel = set(kernel_contract()["source_modules"])
    assert not kernel & WIRING
    assert modules == kernel | WIRING


def test_the_kernel_may_import_neither_apps_nor_wiring() -> None:
    assert set(kernel_contract()["forbidden_modules"]) == APPS | {"portal.site", "portal.demo"}


def test_apps_are_layered_reviews_over_cases_over_engagements() -> None:
    layers = contracts()["Apps import downwards only: reviews > cases > engagements"]
    assert layers["type"] == "layers"
    assert layers["layers"] == ["reviews", "cases", "engagements"]


def test_the_contracts_hold() -> None:
    """What `make lint` runs, so that pytest alone also notices an import running back up. In a
    process of its own: import-linter changes the logging of the process that runs it."""
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from importlinter.cli import lint_imports; "
            f"sys.exit(lint_imports(config_filename={str(PYPROJECT)!r}, no_cache=True))",
        ],
        cwd=PYPROJECT.parent,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
