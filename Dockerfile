# The portal's production image: gunicorn for `web`, Celery for `worker` and `beat`, and the
# `migrate` one-off (docker-compose.yml runs them all from this one image).
# Dependencies come from requirements/lock.txt, pinned with hashes (requirements/compile.sh).

# --- deps: the locked runtime dependencies, so code edits do not reinstall them ---------------
FROM python:3.11-slim AS deps

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

COPY requirements/lock.txt requirements/lock.txt
RUN pip install --require-hashes --no-deps -r requirements/lock.txt

# --- translations: polib is needed to compile the catalogues, not to run the portal -----------
FROM deps AS translations
COPY requirements/i18n-lock.txt requirements/i18n-lock.txt
RUN pip install --require-hashes --no-deps -r requirements/i18n-lock.txt
COPY . .
# Settings refuse to load without a SECRET_KEY when DEBUG is off: this throwaway key exists only
# for this build step (and collectstatic's below) and is not kept in the image's environment.
RUN SECRET_KEY=build-only-throwaway-key-not-used-at-runtime \
        python manage.py compile_translations

# --- the image ---------------------------------------------------------------------------------
FROM deps

COPY . .
COPY --from=translations /app/locale/ /app/locale/
RUN pip install --no-deps . \
    && rm -rf build ./*.egg-info

RUN SECRET_KEY=build-only-throwaway-key-not-used-at-runtime \
        python manage.py collectstatic --noinput

RUN groupadd --system --gid 10001 portal \
    && useradd --system --uid 10001 --gid portal --home-dir /app --no-create-home portal \
    && mkdir -p /app/var/media \
    && chown -R portal:portal /app/var

USER portal

EXPOSE 8000

# Access log on stdout, with the request id the portal returns (X-Request-ID) on each line.
CMD ["gunicorn", "portal.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-", "--access-logformat", "%(h)s %(l)s %(u)s %(t)s \"%(r)s\" %(s)s %(b)s %(M)sms request_id=%({x-request-id}o)s"]
