"""The report in a real headless browser (Debian chromium): no errors, sorting, escaping, offline.

Needs ``/usr/bin/chromium``; skipped without it, except under CI (``CI=true``) where a missing
browser is a failure so the checks cannot silently stop running.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

from benchmark.report import build_report

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

# The fake store is shared with the fast tests; load it by path so this works with or without a
# tests/__init__.py.
_spec = importlib.util.spec_from_file_location("_report_fixtures", Path(__file__).with_name("test_report.py"))
_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_fixtures)


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
        pytest.fail(f"{reason}; CI must run the browser tests")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} not found (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("python playwright is not installed (uv sync --group dev)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("browser-report")
    store = _fixtures.make_store(tmp / "results.db")
    index = build_report(store, tmp / "report")
    store.close()
    return index


@pytest.fixture()
def page(browser):
    """A page that records console errors, uncaught exceptions, dialogs and non-file requests."""
    context = browser.new_context()
    pg = context.new_page()
    problems: list[str] = []
    pg.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    pg.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    pg.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    pg.on(
        "request",
        lambda r: None if r.url.startswith(("file://", "data:")) else problems.append(f"network: {r.url}"),
    )
    pg.problems = problems
    yield pg
    context.close()


def _board(site: Path, needle: str) -> Path:
    (path,) = [p for p in (site.parent / "leaderboards").glob("*.html") if needle in p.read_text()]
    return path


def _column(page, metric: str) -> list[str]:
    """``data-sort`` of the metric's column, in displayed row order."""
    return page.eval_on_selector(
        "#leaderboard",
        """(table, metric) => {
            const th = table.querySelector(`th[data-sort-metric="${metric}"]`);
            return Array.from(table.tBodies[0].rows, r => r.cells[th.cellIndex].dataset.sort);
        }""",
        metric,
    )


def _is_sorted(keys: list[str], descending: bool) -> bool:
    values = [float(k) for k in keys if k != ""]
    blanks_last = keys[len(values):] == [""] * (len(keys) - len(values))
    return blanks_last and values == sorted(values, reverse=descending)


def test_every_page_loads_without_errors_or_network(site, page):
    pages = [site, *sorted(site.parent.glob("leaderboards/*.html")), *sorted(site.parent.glob("runs/*.html"))]
    for path in pages:
        page.goto(path.as_uri())
        assert page.locator("link[rel=stylesheet]").count() == 1
        # The stylesheet really applied (a styled header), i.e. relative links resolve from file://.
        assert page.eval_on_selector("header.site", "h => getComputedStyle(h).borderBottomStyle") == "solid"
    assert page.problems == []


def test_clicking_a_metric_header_sorts_and_toggles(site, page):
    page.goto(_board(site, "run-strong").as_uri())
    header = page.locator('th[data-sort-metric="roc_auc"]')
    before = _column(page, "roc_auc")
    # The reported set has no ROC AUC: its blank key must stay last in both directions.
    assert "" in before

    header.locator("button").click()
    first = _column(page, "roc_auc")
    assert header.get_attribute("aria-sort") == "descending"
    assert _is_sorted(first, descending=True) and sorted(first) == sorted(before)

    header.locator("button").click()
    second = _column(page, "roc_auc")
    assert header.get_attribute("aria-sort") == "ascending"
    assert _is_sorted(second, descending=False) and second != first
    assert page.locator('#leaderboard th[aria-sort="descending"]').count() == 0

    # FPR is lower-is-better: its first click puts the lowest first.
    fpr = page.locator('th[data-sort-metric="fpr"]')
    fpr.locator("button").click()
    assert fpr.get_attribute("aria-sort") == "ascending" and header.get_attribute("aria-sort") == "none"
    assert _is_sorted(_column(page, "fpr"), descending=False)
    assert page.problems == []


def test_text_column_sort(site, page):
    page.goto(_board(site, "run-strong").as_uri())
    page.locator("#leaderboard thead th", has_text="Method").locator("button").click()
    names = page.locator("#leaderboard td.method a").all_inner_texts()
    assert names == sorted(names, key=str.lower)
    page.locator("#leaderboard thead th", has_text="Method").locator("button").click()
    assert page.locator("#leaderboard td.method a").all_inner_texts() == sorted(names, key=str.lower, reverse=True)


def test_primary_metric_switch_shows_its_p_values(site, page):
    page.goto(_board(site, "run-strong").as_uri())
    visible = 'td.pcell[data-metric="{}"]:visible'
    assert page.locator(visible.format("accuracy")).count() > 0
    assert page.locator(visible.format("balanced_accuracy")).count() == 0
    page.select_option("#primary-metric", "balanced_accuracy")
    assert page.locator(visible.format("accuracy")).count() == 0
    assert page.locator(visible.format("balanced_accuracy")).count() > 0
    assert _is_sorted(_column(page, "balanced_accuracy"), descending=True)
    assert page.problems == []


def test_html_in_names_is_shown_as_text(site, page):
    evil_method, evil_patient = _fixtures.EVIL_METHOD, _fixtures.EVIL_PATIENT
    page.goto(site.as_uri())
    assert evil_method in page.locator("#runs").inner_text()
    assert page.locator("main script").count() == 0

    page.goto((site.parent / "runs" / "run-strong.html").as_uri())
    assert page.locator("h1").inner_text().startswith(evil_method)
    assert evil_patient in page.locator("#per-patient tbody").inner_text()
    assert page.locator("#per-patient b, main script").count() == 0
    # Synthetic banner and failed-fold traceback render as intended.
    assert page.locator(".banner.synthetic").is_visible()
    page.locator("tr.failed details summary").click()
    assert "RuntimeError" in page.locator("tr.failed details pre").inner_text()
    assert page.problems == []
