# syntax=docker/dockerfile:1
# One image for every medoffice service: `docker run IMAGE serve scheduling` runs one service,
# `serve compliance` another (see docker-compose.yml and deploy/k8s/).
ARG PYTHON_IMAGE=python:3.11-slim

# ---- builder: a venv with the locked dependencies (wheels only: no compiler needed) and the app
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore
RUN python -m venv /opt/medoffice
WORKDIR /src
# The lock first, so that a code change does not reinstall the dependencies.
COPY requirements.lock ./
RUN /opt/medoffice/bin/pip install --only-binary=:all: -r requirements.lock
COPY pyproject.toml ./
COPY shared ./shared
COPY services ./services
# --no-deps: everything the app needs came from the lock; `pip check` proves nothing is missing.
RUN /opt/medoffice/bin/pip install --no-deps . \
    && /opt/medoffice/bin/pip check

# ---- runtime: the venv and a non-root user, nothing else
FROM ${PYTHON_IMAGE} AS runtime
# A fixed uid/gid, so Kubernetes' runAsUser and volume ownership can name it.
RUN groupadd --system --gid 10001 medoffice \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin medoffice \
    && install -d -o 10001 -g 10001 -m 0750 /var/lib/medoffice
COPY --from=builder /opt/medoffice /opt/medoffice
# Services listen on all interfaces inside the container, always on 8000; the scale-out
# backends and the secrets come from the deployment (docker-compose.yml, deploy/k8s/).
ENV PATH=/opt/medoffice/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MEDOFFICE_HOST=0.0.0.0 \
    MEDOFFICE_PORT=8000 \
    MEDOFFICE_DATA_DIR=/var/lib/medoffice \
    MEDOFFICE_SEED_DEMO=false \
    MEDOFFICE_LOG_JSON=true
USER 10001:10001
WORKDIR /var/lib/medoffice
EXPOSE 8000
# Alive, not ready: a process waiting for Kafka is not restarted for it (readiness is /ready).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('MEDOFFICE_PORT', '8000'), timeout=4)"]
ENTRYPOINT ["medoffice"]
CMD ["serve"]
