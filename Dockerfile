# Community Camera Portal: one image for the web server (daphne, the default command), the task
# workers (python manage.py qcluster) and one-off commands (migrate, create_staff).
# compose.yaml runs it with PostgreSQL, Redis, SeaweedFS, MediaMTX and Caddy; see README "Containers".

# --- Front-end packages: npm at build time, never committed ------------------------------------
FROM node:20-bookworm-slim AS frontend
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

# --- The portal ---------------------------------------------------------------------------------
FROM python:3.11-slim-bookworm
LABEL org.opencontainers.image.title="Community Camera Portal" \
      org.opencontainers.image.licenses="AGPL-3.0-or-later"

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

# Runtime dependencies only (requirements-dev.txt holds the test tools). Every pinned package has a
# wheel for bookworm's glibc 2.36 on x86-64 and arm64 (cryptography's needs 2.34): nothing compiles.
COPY requirements.txt /tmp/requirements.txt
RUN python -m venv /opt/venv \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

WORKDIR /app
COPY manage.py ./
COPY portal/ portal/
COPY cameras/ cameras/
COPY incidents/ incidents/
COPY requests_app/ requests_app/
COPY templates/ templates/
COPY static/ static/
COPY locale/ locale/
COPY deploy/healthcheck.py deploy/healthcheck.py
# The folders settings.STATICFILES_DIRS reads from node_modules, and nothing else of it.
COPY --from=frontend /build/node_modules/bootstrap/dist node_modules/bootstrap/dist
COPY --from=frontend /build/node_modules/bootstrap-icons/font node_modules/bootstrap-icons/font
COPY --from=frontend /build/node_modules/tus-js-client/dist node_modules/tus-js-client/dist
COPY --from=frontend /build/node_modules/hls.js/dist node_modules/hls.js/dist
COPY --from=frontend /build/node_modules/leaflet.markercluster/dist node_modules/leaflet.markercluster/dist
COPY --from=frontend /build/node_modules/chart.js/dist node_modules/chart.js/dist

# Static files are collected into the image, outside the VAR_DIR volume, so that each release
# serves its own. DEBUG=0 (the manifest storage) needs SECRET_KEY and ALLOWED_HOSTS: throw-away
# values set for this one command only, never in the image's environment; its VAR_DIR is removed.
ENV STATIC_ROOT=/app/staticfiles
RUN DEBUG=0 SECRET_KEY=build-only-collectstatic-key-never-used-to-sign-anything-0123456789 \
    ALLOWED_HOSTS=build.invalid VAR_DIR=/tmp/build-var \
    python manage.py collectstatic --noinput --verbosity 0 \
    && rm -rf /tmp/build-var

# The portal runs as its own user, who may write only VAR_DIR: uploads and evidence when footage
# is on local disk (FOOTAGE_ROOT), the SQLite file and the file cache when there is no
# PostgreSQL or Redis. The code, the packages and the collected static files stay root's.
RUN groupadd --system --gid 10001 portal \
    && useradd --system --uid 10001 --gid portal --home-dir /var/lib/portal --no-create-home \
       --shell /usr/sbin/nologin portal \
    && install -d -o portal -g portal -m 0750 /var/lib/portal
ENV VAR_DIR=/var/lib/portal \
    DJANGO_SETTINGS_MODULE=portal.settings
VOLUME ["/var/lib/portal"]
USER portal

EXPOSE 8000
# /healthz answers 503 while the database, the channel layer or the task cluster is down.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "deploy/healthcheck.py", "8000"]
# Behind a reverse proxy that sets X-Forwarded-For/-Proto, add --proxy-headers (compose.yaml does).
CMD ["daphne", "-b", "0.0.0.0", "-p", "8000", "portal.asgi:application"]
