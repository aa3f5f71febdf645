"""Prometheus metrics of one process (bot or worker), exposed on HEALTH_PORT at /metrics."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

QUEUE_DEPTH = Gauge("imaginebot_queue_depth", "Jobs waiting or running in the ARQ queue.")
JOBS = Counter(
    "imaginebot_jobs_total", "Requests that reached an end state, by outcome.", ["outcome"]
)
GENERATION_SECONDS = Histogram(
    "imaginebot_generation_seconds",
    "From the request being queued to its image being stored.",
    buckets=(0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600),
)
DELIVERY_SECONDS = Histogram(
    "imaginebot_delivery_seconds",
    "From the image being stored to the chat platform confirming it.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60),
)
PROVIDER_ERRORS = Counter(
    "imaginebot_provider_errors_total",
    "Provider errors, by provider and class.",
    ["provider", "kind"],
)
PROVIDER_CALLS = Counter("imaginebot_provider_calls_total", "Provider calls made.", ["provider"])
REFUSALS = Counter(
    "imaginebot_refusals_total", "Requests refused before queueing, by reason.", ["reason"]
)
DEAD_LETTERS = Counter(
    "imaginebot_dead_letters_total",
    "Jobs and events that could not be read, set aside on a dead-letter stream, by kind.",
    ["kind"],
)
