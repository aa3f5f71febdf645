"""Fault-injection points, for the crash-window tests only.

`IMAGINEBOT_FAULT` is a test hook, not a setting: no deployment sets it, `Settings` does not
know it, and the docs do not offer it. The test suite sets it to a comma-separated list of
point names; a process that reaches a listed point kills itself with SIGKILL right there, the
way a power cut or the OOM killer would (no `finally`, no shutdown, nothing flushed to Redis
or SQLite). That lets a test hit a crash window on purpose instead of by chance.

Points (`name` or `name:detail`):
  after_deliver        the platform accepted the picture; the row does not say `delivered` yet
  before_ack:<event>   an event of that type was handled; it is not acknowledged on the stream
"""

from __future__ import annotations

import logging
import os
import signal

log = logging.getLogger(__name__)

ENV = "IMAGINEBOT_FAULT"


def crash_point(name: str, detail: object = None) -> None:
    wanted = os.environ.get(ENV)
    if not wanted:
        return
    points = {p.strip() for p in wanted.split(",")}
    if name in points or (detail is not None and f"{name}:{detail}" in points):
        log.warning("%s: killing this process at %s (test fault injection)", ENV, name)
        os.kill(os.getpid(), signal.SIGKILL)
