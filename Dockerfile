# The preview proxy: python -m proxy serve on :8080, caches and local storage under /data.
# Build: docker build -t preview-proxy .   Run: docker compose up -d (see docker-compose.yml)
# tests/test_container.py runs this file's pip install, CMD and HEALTHCHECK outside Docker.

# --- builder: the app and its dependencies in a venv, copied whole into the runtime image ---
FROM python:3.11-slim-bookworm AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/venv
WORKDIR /src
# Only what the wheel needs (.dockerignore keeps the rest, and any .env, out of the context);
# README.md because pyproject.toml names it as the readme.
COPY pyproject.toml README.md ./
COPY proxy ./proxy
# Every dependency is a wheel, libvips included (pyvips-binary), so no compiler and no apt.
RUN /opt/venv/bin/pip install --no-cache-dir .

# --- runtime: slim Python, the venv, an unprivileged user ---
FROM python:3.11-slim-bookworm AS runtime

LABEL org.opencontainers.image.title="preview-proxy" \
      org.opencontainers.image.description="Caching image-preview proxy for local disk, S3 and Azure Blob storage"

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DATA_PATH=/data

# A fixed uid so a bind-mounted ./data can be chowned to it: chown -R 10001:10001 data
RUN groupadd --system --gid 10001 proxy \
    && useradd --system --uid 10001 --gid proxy --no-create-home \
       --home-dir /nonexistent --shell /usr/sbin/nologin proxy \
    && mkdir -p /data /app \
    && chown proxy:proxy /data

COPY --from=builder /opt/venv /opt/venv

# An empty working folder: a stray .env here would otherwise be read as settings.
WORKDIR /app
# Numeric, so Kubernetes runAsNonRoot and host tools can check it without /etc/passwd.
USER 10001:10001
# A new named volume starts as a copy of this folder, so it is owned by the proxy user.
VOLUME ["/data"]
EXPOSE 8080

# --timeout is above proxy.healthcheck's own 4 s limit, so a slow answer is reported with a reason.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-m", "proxy.healthcheck", "http://127.0.0.1:8080/health"]

# Exec form: no shell in between, so python itself gets SIGTERM (directly, or from compose's
# init) and aiohttp drains in-flight requests for up to SHUTDOWN_TIMEOUT (compose's
# stop_grace_period must be longer).
CMD ["python", "-m", "proxy", "serve", "--host", "0.0.0.0", "--port", "8080"]
