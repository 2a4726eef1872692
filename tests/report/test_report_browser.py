"""The report in a real headless browser (Debian chromium): no errors, sorting, escaping, offline,
and the newer sections (references, paper figures, model cost, protocol gap, per-class results).

Needs ``/usr/bin/chromium``; skipped without it, except under CI (``CI=true``) where a missing
browser is a failure so the checks cannot silently stop running.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pandas as pd
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
    blanks_last = keys[len(values) :] == [""] * (len(keys) - len(values))
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
    names = page.locator("#leaderboard td.method > a").all_inner_texts()  # not a reported row's source mark
    assert names == sorted(names, key=str.lower)
    page.locator("#leaderboard thead th", has_text="Method").locator("button").click()
    assert page.locator("#leaderboard td.method > a").all_inner_texts() == sorted(names, key=str.lower, reverse=True)


def test_primary_metric_switch_shows_its_p_values(site, page):
    page.goto(_board(site, "run-strong").as_uri())
    visible = 'td.pcell[data-metric="{}"]:visible'
    # A prediction board ranks by balanced accuracy by default (a metric chance cannot top).
    assert page.locator(visible.format("balanced_accuracy")).count() > 0
    assert page.locator(visible.format("accuracy")).count() == 0
    page.select_option("#primary-metric", "accuracy")
    assert page.locator(visible.format("balanced_accuracy")).count() == 0
    assert page.locator(visible.format("accuracy")).count() > 0
    assert _is_sorted(_column(page, "accuracy"), descending=True)
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
    # The failed-fold traceback renders as intended, and a synthetic run's banner.
    page.locator("tr.failed details summary").click()
    assert "RuntimeError" in page.locator("tr.failed details pre").inner_text()
    page.goto((site.parent / "runs" / "run-sop30.html").as_uri())
    assert page.locator(".banner.synthetic").is_visible()
    assert page.problems == []


# -- the newer sections, as a reader sees them -----------------------------------------------------


@pytest.fixture(scope="module")
def sections_site(tmp_path_factory):
    """A report of the store with references, protocol gap, model cost, paper figures and scored
    seizure-type / video / binary runs; yields ``(store, index)`` (the store stays open to read)."""
    tmp = tmp_path_factory.mktemp("browser-sections")
    store = _fixtures.make_sections_store(tmp / "results.db")
    index = build_report(store, tmp / "report")
    yield store, index
    store.close()


def _cells(page, selector: str) -> list[str]:
    return [t.strip() for t in page.locator(selector).all_inner_texts()]


def test_reference_section_is_a_separate_not_comparable_table(sections_site, page):
    _, index = sections_site
    page.goto(_board(index, 'data-run="syn-a"').as_uri())
    refs = page.locator("#references")
    assert refs.is_visible()
    assert page.locator("#references-title").inner_text() == "Reported on real chbmit, for reference"
    banner = refs.locator(".banner.reference")
    assert banner.is_visible() and banner.inner_text().startswith("Not comparable.")
    assert page.locator(".banner.synthetic").is_visible()
    # Only the same-SOP reference, and only in its own table, never ranked in the leaderboard.
    assert page.locator("#references-table tbody tr").evaluate_all("rs => rs.map(r => r.dataset.run)") == ["rep-10"]
    assert page.locator('#leaderboard tr[data-run^="rep-"]').count() == 0
    assert "Lee D et al. Sci Rep 2024" in refs.inner_text()
    assert page.problems == []


def test_protocol_gap_table_on_the_index(sections_site, page):
    store, index = sections_site
    page.goto(index.as_uri())
    assert page.locator("#protocol-gaps").is_visible()
    table = page.locator("table.gaps")
    assert table.is_visible()
    headers = _cells(page, "table.gaps thead th")
    assert headers[:3] == ["Method", "kfold5-random", "kfold5"] and headers[-1] == "Gap"
    row = table.locator("tbody tr")
    assert row.count() == 1 and row.locator("td.method").inner_text() == "distilclip_eeg_teacher"
    means = {p: float(store.summary(f"t-{p}").loc["balanced_accuracy", "mean"]) for p in ("kfold5-random", "kfold5")}
    values = _cells(page, "table.gaps tbody td.num")
    assert values == [
        f"{means['kfold5-random']:.3f}",
        f"{means['kfold5']:.3f}",
        f"{means['kfold5-random'] - means['kfold5']:.3f}",
    ]
    # Each score links to its leaderboard.
    page.locator("table.gaps tbody td.num a").first.click()
    assert page.locator('#leaderboard tr[data-run="t-kfold5-random"]').is_visible()
    assert page.problems == []


def test_efficiency_and_paper_figures_on_the_board(sections_site, page):
    _, index = sections_site
    page.goto(_board(index, 'data-run="t-kfold5-random"').as_uri())
    eff = page.locator("#efficiency")
    assert eff.is_visible() and "19 × 256" in eff.inner_text()
    rows = eff.locator("tbody tr")
    assert rows.count() == 1
    assert _cells(page, "#efficiency tbody td.num")[:5] == ["1,234", "1,000", "5e+06", "0.5", "0.7"]

    figures = page.locator("#paper-figures")
    assert figures.is_visible()
    assert figures.locator(".banner.reference").inner_text().startswith("As printed, not re-computed.")
    assert figures.locator('tr[data-run="paper-fig"]').is_visible()
    assert "0.978" in figures.locator('tr[data-run="paper-fig"]').inner_text()
    assert page.locator('#leaderboard tr[data-run="paper-fig"]').count() == 0  # never ranked
    assert page.problems == []


def test_seizure_type_run_page_per_class_table_and_confusion_matrix(sections_site, page):
    store, index = sections_site
    page.goto((index.parent / "runs" / "st-run.html").as_uri())
    assert page.locator(".banner.synthetic").is_visible()
    # Overall metrics only in the per-patient table.
    header = _cells(page, "#per-patient thead th")
    assert "F1 (macro)" in header and not any(":" in h or "FNSZ" in h for h in header)

    table = page.locator("#per-class-table")
    assert table.is_visible() and page.locator("#per-class .badge.synthetic").is_visible()
    classes = list(_fixtures.SEIZURE_TYPES)
    assert _cells(page, "#per-class-table tbody th") == classes
    pooled = store.get_run("st-run").provenance["pooled_metrics"]
    summary = store.summary("st-run")
    for cls in classes:
        for metric in ("recall", "precision", "specificity", "f1", "roc_auc"):
            cell = f'#per-class-table tr[data-class="{cls}"] td[data-metric="{metric}"]'
            assert page.locator(cell + '[data-source="pooled"]').inner_text() == f"{pooled[f'{metric}:{cls}']:.3f}"
            assert (
                page.locator(cell + '[data-source="mean"]').inner_text()
                == f"{summary.loc[f'{metric}:{cls}', 'mean']:.3f}"
            )

    scores = store.scores("st-run")
    expected = pd.crosstab(scores["label"], scores["pred"]).reindex(index=range(4), columns=range(4), fill_value=0)
    shown = page.locator("#confusion-table tbody tr").evaluate_all(
        "rs => rs.map(r => Array.from(r.querySelectorAll('td.cell'), c => Number(c.dataset.count)))"
    )
    assert shown == expected.to_numpy().tolist()
    assert _cells(page, "#confusion-table thead th[data-predicted]") == classes
    # Row-normalised shares: each row's percentages add up to 100.
    for k, cls in enumerate(classes):
        row = page.locator(f'#confusion-table tr[data-true="{cls}"]')
        shares = [float(t.rstrip("%")) for t in row.locator("td.cell .share").all_inner_texts()]
        assert sum(shares) == pytest.approx(100, abs=0.3)
        assert row.locator("td.total").inner_text() == str(int(expected.loc[k].sum()))
        assert (
            row.locator("td.diagonal .share").inner_text() == f"{100 * expected.loc[k, k] / expected.loc[k].sum():.1f}%"
        )

    # Sorting the per-class table by pooled recall orders the classes by it.
    page.locator('#per-class-table th[data-class-metric="recall"][data-source="pooled"] button').click()
    order = _cells(page, "#per-class-table tbody th")
    assert order == sorted(classes, key=lambda c: -pooled[f"recall:{c}"])
    assert page.problems == []


def test_video_level_confusion_matrix_and_metrics(sections_site, page):
    _, index = sections_site
    page.goto((index.parent / "runs" / "video-run.html").as_uri())
    section = page.locator("#video-level")
    assert section.is_visible() and page.locator("#video-level-title").inner_text().startswith("Video-level results")
    assert section.locator(".badge.synthetic").is_visible()
    video = _fixtures.VIDEO_LEVEL
    shown = page.locator("#video-confusion-table tbody tr").evaluate_all(
        "rs => rs.map(r => Array.from(r.querySelectorAll('td.cell'), c => Number(c.dataset.count)))"
    )
    assert shown == video["confusion"]
    assert _cells(page, "#video-confusion-table thead th[data-predicted]") == video["classes"]
    assert _cells(page, "#video-metrics td") == [f"{video['metrics'][m]:.3f}" for m in video["metrics"]]
    # The window-level matrix of the same run is still there, separately.
    assert page.locator("#confusion-table").is_visible()
    assert page.problems == []


# -- figures ------------------------------------------------------------------------------------------

_figures_spec = importlib.util.spec_from_file_location(
    "_figures_fixtures", Path(__file__).with_name("test_report_figures.py")
)
_figures_fixtures = importlib.util.module_from_spec(_figures_spec)
_figures_spec.loader.exec_module(_figures_fixtures)

# Set to a folder (e.g. docs/screenshots) to save a full-page PNG of each page the figure test opens.
SCREENSHOTS = os.environ.get("SEIZURE_BENCH_SCREENSHOTS", "")


@pytest.fixture(scope="module")
def figures_site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("browser-figures")
    store = _figures_fixtures.make_figures_store(tmp / "results.sqlite")
    index = build_report(store, tmp / "report")
    store.close()
    return index


def _rendered_figures(page) -> list[dict]:
    """Each drawn figure's id, the size of its SVG as laid out, and its caption."""
    return page.eval_on_selector_all(
        "figure.plot",
        """fs => fs.map(f => {
            const box = f.querySelector("svg, img").getBoundingClientRect();
            return {id: f.id, width: box.width, height: box.height,
                    caption: (f.querySelector("figcaption") || {}).textContent || ""};
        })""",
    )


@pytest.mark.parametrize(
    "name, path, expected",
    [
        ("leaderboard", "board", {"fig-scores", "fig-paired", "fig-cd", "fig-cost"}),
        ("run", "runs/pred-run.html", {"fig-roc", "fig-confusion", "fig-timings", "fig-trace"}),
        (
            "detection-run",
            "runs/det-resnet_lstm_supcon.html",
            {"fig-roc", "fig-confusion", "fig-timings", "fig-timeline"},
        ),
        ("paper", "papers/lee2024.html", None),
    ],
)
def test_figures_render_with_captions_offline(figures_site, page, name, path, expected):
    target = (
        _board(figures_site, 'data-run="det-resnet_lstm_supcon"') if path == "board" else figures_site.parent / path
    )
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(target.as_uri())
    figures = _rendered_figures(page)
    ids = {f["id"] for f in figures}
    if expected is None:
        assert ids and all(i.startswith("fig-paper-") for i in ids)
    else:
        assert ids == expected
    for f in figures:
        assert f["width"] > 100 and f["height"] > 50, f
        assert len(f["caption"].strip()) > 40, f
    # Scaled to the page: no figure wider than the main column.
    main_width = page.eval_on_selector("main", "m => m.getBoundingClientRect().width")
    assert all(f["width"] <= main_width + 1 for f in figures)
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / f"report-{name}.png"), full_page=True)
    assert page.problems == []
