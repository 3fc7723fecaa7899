# The portal's production image: gunicorn for `web`, Celery for `worker` and `beat`
# (docker-compose.yml runs all three from this one image).
FROM python:3.11-slim

# Run from the source tree: templates/, static/ and locale/ sit beside the packages and settings
# find them relative to portal/, so PYTHONPATH puts /app ahead of the installed copy.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    PORTAL_VAR_DIR=/app/var \
    DEBUG=0

WORKDIR /app

# Dependencies first, from pyproject.toml alone, so code edits do not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY . .
RUN pip install --no-deps . \
    && rm -rf build ./*.egg-info

# Settings refuse to load without a SECRET_KEY when DEBUG is off: this throwaway key exists only
# for these two build steps and is not kept in the image's environment.
RUN SECRET_KEY=build-only-throwaway-key-not-used-at-runtime \
        sh -c "python manage.py compile_translations && python manage.py collectstatic --noinput"

RUN groupadd --system --gid 10001 portal \
    && useradd --system --uid 10001 --gid portal --home-dir /app --no-create-home portal \
    && mkdir -p /app/var/media \
    && chown -R portal:portal /app/var

USER portal

EXPOSE 8000

CMD ["gunicorn", "portal.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
