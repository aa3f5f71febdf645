FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 DATA_DIR=/data

RUN useradd --create-home --uid 10001 imaginebot && mkdir -p /data && chown imaginebot /data
WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY migrations ./migrations
RUN pip install .

USER imaginebot
VOLUME ["/data"]
CMD ["imaginebot", "run"]
