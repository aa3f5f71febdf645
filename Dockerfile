FROM python:3.11-slim

# DATA_DIR, HEALTH_PORT and WEB_HOST are the image's: docker-compose.yml keeps them (a blank line
# in an env file would count as unset and fall back to ./data, a folder the non-root user cannot
# write, or to 127.0.0.1, which nothing outside the container reaches).
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 DATA_DIR=/data HEALTH_PORT=8080 WEB_HOST=0.0.0.0

RUN useradd --create-home --uid 10001 imaginebot && mkdir -p /data && chown imaginebot /data
WORKDIR /app
COPY pyproject.toml README.md hatch_build.py ./
COPY bot ./bot
COPY migrations ./migrations
RUN pip install .

USER imaginebot
VOLUME ["/data"]
# /healthz answers 200 only when every check passes (see docs/operations.md).
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % (os.environ.get('HEALTH_PORT') or '8080'), timeout=5)"]
CMD ["imaginebot", "run"]
