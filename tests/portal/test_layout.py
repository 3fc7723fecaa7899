"""The floor plan CONTRIBUTING.md describes is the one on disk: one sub-package per feature,
each listed there and registered with its app (models, routes, jobs), no suffix modules."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APPS = ("engagements", "cases", "reviews")
NOT_FEATURES = {"migrations", "templatetags", "management", "__pycache__"}
CONTRIBUTING = (ROOT / "CONTRIBUTING.md").read_text()


def features(app: str) -> list[Path]:
    return sorted(
        path
        for path in (ROOT / app).iterdir()
        if path.is_dir() and path.name not in NOT_FEATURES and (path / "__init__.py").exists()
    )


@pytest.mark.parametrize("app", APPS)
def test_every_feature_is_in_the_floor_plan(app):
    assert features(app)
    for feature in features(app):
        assert re.search(rf"^  {feature.name}/ ", CONTRIBUTING, re.M), feature


@pytest.mark.parametrize("app", APPS)
def test_every_feature_is_registered_with_its_app(app):
    models = (ROOT / app / "models.py").read_text()
    urls = (ROOT / app / "urls.py").read_text()
    tasks = (ROOT / app / "tasks.py").read_text() if (ROOT / app / "tasks.py").exists() else ""
    for feature in features(app):
        module = f"{app}.{feature.name}"
        if (feature / "models.py").exists():
            assert f"from {module}.models import *" in models, module
        if (feature / "urls.py").exists():
            assert f"from {module} import urls as {feature.name}" in urls, module
            assert re.search(rf"FEATURES = \([^)]*\b{feature.name}\b", urls), module
        if (feature / "tasks.py").exists():
            assert f"from {module} import tasks" in tasks, module


def test_no_feature_hides_behind_a_file_name_suffix():
    suffixed = [
        path.relative_to(ROOT)
        for app in (*APPS, "portal", "tests")
        for path in (ROOT / app).rglob("*.py")
        if "/migrations/" not in str(path)
        and not path.name.startswith("test_")  # a test module named for its feature
        and re.search(
            r"_(functions|publications)\.py$|^(views|forms|urls|filters|services|selectors|tasks)_",
            path.name,
        )
    ]
    assert suffixed == []
