"""benchmarks/report.py: the page a full run writes keeps its hand-written parts and its short
summary between the markers; the plots are drawn from the same JSON (matplotlib: the `bench`
extra for a benchmark run, and in the `test` extra for this test)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import report
from tests.support import ROOT

RESULTS = json.loads((ROOT / "docs" / "benchmarks.json").read_text())


def test_the_page_has_the_summary_the_notes_and_every_figure() -> None:
    page = report.markdown(RESULTS, 600.0)
    start, end = page.index(report.SUMMARY_START), page.index(report.SUMMARY_END)
    summary = page[start:end]
    assert "| burst_discord | 0 late acks (> 3 s); ack p99 <= 1000 ms | yes |" in summary
    assert page.index("## The gallery's speed") > end
    assert page.index("## Every figure") > page.index("## The gallery's speed")
    assert "late_acks=0; callback_types=[5]" in page  # the full figures, after the summary
    for picture in ("acks.png", "capacity.png", "memory.png"):
        assert f"](benchmarks/{picture})" in page
        assert (ROOT / "docs" / "benchmarks" / picture).is_file()


def test_the_published_page_is_what_the_report_writes_above_its_full_table() -> None:
    published = (ROOT / "docs" / "benchmarks.md").read_text()
    written = report.markdown(RESULTS, 600.0)
    head = written.split(report.SUMMARY_START, 1)[0]
    tail = written.split(report.SUMMARY_END, 1)[1].split("Last full run", 1)[0]
    assert published.startswith(head) and tail in published


# e2e: matplotlib's first import on a machine builds its font cache by running `fc-list`.
@pytest.mark.e2e
def test_the_plots_are_drawn_from_the_json(tmp_path: Path) -> None:
    written = report.plots(RESULTS, tmp_path)
    assert [p.name for p in written] == ["acks.png", "capacity.png", "memory.png"]
    for path in written:
        assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n") and path.stat().st_size > 5000
