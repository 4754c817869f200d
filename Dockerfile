# syntax=docker/dockerfile:1
# Helsekort API image. The builder installs the package into a virtual environment (with build tools,
# for any dependency without a wheel); the final image gets that environment and no compiler.
#
#   docker build -t helsekort .
#   docker run --rm -p 8000:8000 -e DATABASE_URL=... -e HELSEKORT_ISSUERS=... helsekort
#   docker run --rm -e DATABASE_URL=... helsekort helsekort migrate      # one-off, before a rollout
#
# Builder and final stage use the same base image, so the venv's interpreter path is valid in both.
ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
# Dependencies first, in their own layer, from the pinned and hashed lock (the same one `make` installs):
# rebuilt only when the lock changes. The project itself is then installed without dependencies.
COPY requirements.txt ./
RUN pip install --require-hashes -r requirements.txt
COPY pyproject.toml README.md ./
COPY backend ./backend
RUN pip install --no-deps --no-build-isolation . \
    && helsekort --help > /dev/null

FROM ${PYTHON_IMAGE} AS runtime
# tini as PID 1: reaps zombies and passes SIGTERM to `helsekort serve`, which hands it to the server.
RUN apt-get update \
    && apt-get install -y --no-install-recommends tini \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 helsekort \
    && useradd --system --uid 10001 --gid helsekort --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin helsekort \
    && install -d -o helsekort -g helsekort -m 0700 /var/lib/helsekort
COPY --from=builder /opt/venv /opt/venv
WORKDIR /app
# CMS source pages, for `helsekort content sync` (read-only, owned by root).
COPY content ./content
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HELSEKORT_ENV=production \
    HELSEKORT_DATA_DIR=/var/lib/helsekort
USER helsekort:helsekort
EXPOSE 8000
# Liveness only (/ready also checks the database; use it for the load balancer, not for restarts).
# Assumes the default port 8000 of the CMD below.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=3)"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["helsekort", "serve", "--host", "0.0.0.0", "--port", "8000"]
