#!/usr/bin/env sh
# Regenerate the lock files from pyproject.toml (pip-tools, installed by `make install`), with
# the Python of the production image (3.11). Run after changing a dependency, then commit them:
#   .venv/bin/python -m piptools --version && sh requirements/compile.sh
# Add --upgrade (or --upgrade-package NAME) to move pinned versions forward.
set -eu
cd "$(dirname "$0")/.."
PIP_COMPILE="${PIP_COMPILE:-.venv/bin/pip-compile}"
common="--quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url"
# Production: what the image runs (Dockerfile, `deps` stage).
$PIP_COMPILE $common "$@" --output-file requirements/lock.txt pyproject.toml
# Production plus polib: the image build's `translations` stage compiles the catalogues.
$PIP_COMPILE $common "$@" --extra i18n --output-file requirements/i18n-lock.txt pyproject.toml
# Development and CI: tests, linters, honcho, polib, pip-tools (`make install`).
$PIP_COMPILE $common "$@" --extra dev --output-file requirements/dev-lock.txt pyproject.toml
# The dev extra names the project itself (service-portal[test,i18n,run]): drop that self-pin, a
# path on this machine; `make install` installs the project with `pip install --no-deps -e .`.
sed -i -e '/^# WARNING: pip install will require/d' -e '/^# Consider using a hashable URL/d' \
    -e '/^service-portal @ /{N;d;}' requirements/dev-lock.txt
