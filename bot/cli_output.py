"""What the one-shot commands print: tables and lines for a terminal.

Widths are counted in terminal cells (wcwidth), not code points: an emoji takes two cells
whatever its length in code points, so the columns stay aligned.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from wcwidth import wcswidth

from bot.core.models import Generation, Status
from bot.core.requests.styles import StyleCatalogue, load_catalogue


def cells(text: str) -> int:
    """Terminal cells `text` takes: an emoji is two cells whatever its length in code points."""
    width = wcswidth(text)
    return width if width >= 0 else len(text)


def pad(text: str, width: int) -> str:
    return text + " " * max(0, width - cells(text))


def styles_table(catalogue: StyleCatalogue | None = None) -> str:
    catalogue = catalogue or load_catalogue()
    rows = [("id", "name", "description")] + [
        (s.id, f"{s.emoji} {s.name}", s.description) for s in catalogue
    ]
    widths = [max(cells(r[i]) for r in rows) for i in range(2)]
    lines = [f"{pad(r[0], widths[0])}  {pad(r[1], widths[1])}  {r[2]}" for r in rows]
    lines.insert(1, "-" * (widths[0] + widths[1] + 4 + max(cells(r[2]) for r in rows)))
    return "\n".join(lines)


def providers_table(results: Sequence[tuple[str, bool, str]]) -> str:
    width = max(len("provider"), *(len(p) for p, _, _ in results))
    lines = [f"{'provider':<{width}}  status  detail"]
    for provider_id, ok, detail in results:
        lines.append(f"{provider_id:<{width}}  {'ok' if ok else 'FAIL':<6}  {detail}")
    return "\n".join(lines)


def capabilities_table(rows: Sequence[dict[str, str]]) -> str:
    """`chain.capability_rows` as aligned columns."""
    headers = {
        "provider": "provider",
        "batch": "per call",
        "image_input": "image in",
        "upscaler": "upscaler",
        "describe": "describe",
        "edits": "edits",
        "sizes": "sizes",
    }
    widths = {k: max(len(h), *(len(r[k]) for r in rows)) for k, h in headers.items()}
    lines = ["  ".join(f"{h:<{widths[k]}}" for k, h in headers.items()).rstrip()]
    for row in rows:
        lines.append("  ".join(f"{row[k]:<{widths[k]}}" for k in headers).rstrip())
    return "\n".join(lines)


def history_lines(rows: Sequence[Generation]) -> str:
    """One line a request: id, time (UTC), platform and user, status, style, prompt."""
    if not rows:
        return "no requests yet"
    width = max(cells(f"{g.platform}:{g.user_id}") for g in rows)
    lines = []
    for g in rows:
        when = datetime.fromtimestamp(g.created_at, tz=UTC).strftime("%Y-%m-%d %H:%M")
        who = pad(f"{g.platform}:{g.user_id}", width)
        reason = f"  ({g.failure_reason})" if g.status is Status.FAILED else ""
        lines.append(
            f"{g.id}  {when}  {who}  {g.status.value:<9}  {g.style:<12}  {g.prompt[:60]}{reason}"
        )
    return "\n".join(lines)


def schema_line(version: int, applied: Sequence[int]) -> str:
    return f"schema version {version}" + (
        f" (applied {', '.join(map(str, applied))})" if applied else " (up to date)"
    )
