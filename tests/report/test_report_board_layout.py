"""A board a reader takes in at a glance: rank column, the primary metric and its p-values in view on
a 1024 px screen, reported rows named by their method with a DOI, and the index's best entry and
counts. Fast checks of the HTML and the board model; the layout itself in headless chromium."""

from __future__ import annotations

import dataclasses
import html
import importlib.util
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchmark.metrics import summarize
from benchmark.report import build_report
from benchmark.report.build import _entry
from benchmark.report.leaderboard import build_leaderboards
from benchmark.store import ResultStore, RunRecord


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"_layout_{name}", Path(__file__).with_name(f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_fixtures = _load("test_report")
_browser = _load("test_report_browser")
browser = _browser.browser  # the headless chromium fixture, skipped where there is none

DOI = "10.1038/s41598-023-43328-y"


def _set(store, run_id, method, values, kind="run", status="complete", protocol="loocv", **extra):
    """A set on one prediction board whose balanced accuracy per patient is ``values``."""
    patients = pd.Index([f"p{i}" for i in range(len(values))], name="patient")
    table = pd.DataFrame({"balanced_accuracy": values, "accuracy": values[::-1]}, index=patients)
    store.create_run(
        RunRecord(
            run_id,
            kind,
            method,
            "chbmit",
            "prediction",
            protocol,
            task_params={"sop_minutes": 10},
            status="reported" if kind == "reported" else status,
            **extra,
        )
    )
    store.save_patient_metrics(run_id, table)
    store.save_summary(run_id, summarize(table, n_boot=50))


@pytest.fixture(scope="module")
def tied(tmp_path_factory):
    """Two methods tied on the mean, a better and a worse one, a failed run, chance, a paper's set."""
    tmp = tmp_path_factory.mktemp("layout")
    with ResultStore(tmp / "r.db") as store:
        _set(store, "a-tie", "eegnet", [0.7, 0.8])
        _set(store, "b-tie", "shallow_convnet", [0.8, 0.7])
        _set(store, "c-top", "resnet_lstm_supcon", [0.9, 0.9])
        _set(store, "d-low", "bandpower_rf", [0.55, 0.6])
        _set(store, "e-failed", "distilclip_eeg_teacher", [0.95, 0.95], status="failed")
        _set(store, "f-chance", "chance", [0.5, 0.5])
        _set(
            store,
            "g-paper",
            "Pre-train + ResNet-LSTM",
            [0.85, 0.85],
            kind="reported",
            display_name="Lee2024 Table 3 (SOP 10)",
            citation=f"Lee D et al. Sci. Rep. 14 (2024). doi:{DOI}",
            source="Table 3",
        )
        boards = build_leaderboards([_entry(store, r) for r in store.list_runs()])
        index = build_report(store, tmp / "site")
    (board,) = boards
    return board, index


def _board_page(index: Path) -> str:
    (page,) = (index.parent / "leaderboards").glob("*.html")
    return page.read_text(encoding="utf-8")


def _row(page: str, run_id: str) -> str:
    return re.search(rf'<tr data-run="{re.escape(run_id)}".*?</tr>', page, re.S).group(0)


def test_ranks_follow_the_row_order_with_ties_sharing_the_better_rank(tied):
    board, _ = tied
    assert board.primary == "balanced_accuracy"
    order = [e.run.run_id for e in board.entries]
    assert order == ["c-top", "g-paper", "a-tie", "b-tie", "d-low", "f-chance", "e-failed"]
    assert board.ranks == {"c-top": 1, "g-paper": 2, "a-tie": 3, "b-tie": 3, "d-low": 5, "f-chance": 6}


def test_rank_column_and_primary_metric_first_in_the_html(tied):
    _, index = tied
    page = _board_page(index)
    head = page.split("<tbody>", 1)[0]
    headers = re.findall(
        r"<th scope=\"col\"[^>]*>(?:<button type=\"button\">)?([^<]*)", head.split('id="leaderboard"')[1]
    )
    # Rank, method, isolation, patients, then the primary metric and its p-values before any other metric.
    assert headers[:5] == ["#", "Method", "Isolation", "Patients", "Balanced acc."]
    assert headers[5] == "p vs best" and headers.index("Accuracy") > headers.index("p vs chance")
    assert '<button type="button">Kind</button>' not in head and '<button type="button">Budget</button>' not in head
    for run_id, rank in (("c-top", "1"), ("a-tie", "3"), ("b-tie", "3"), ("e-failed", "—")):
        assert re.search(r'<td class="num rank" data-sort="[^"]*">([^<]*)</td>', _row(page, run_id)).group(1) == rank
    # Budget and status folded under the run's name: nothing lost.
    failed = _row(page, "e-failed")
    assert 'class="status status-failed">failed' in failed and "not ranked" in failed and "budget" in failed


def test_reported_row_is_named_by_its_method_with_the_citation_and_a_doi_link(tied):
    board, index = tied
    page = _board_page(index)
    row = _row(page, "g-paper")
    assert re.search(r'<td class="method"><a href="[^"]+">Pre-train \+ ResNet-LSTM</a>', row)
    mark = re.search(r'<sup class="cite"><a href="#cite-(\d)" title="([^"]*)">', row)
    assert "Lee2024 Table 3 (SOP 10)" in mark.group(2) and "Lee D et al." in mark.group(2)
    note = re.search(rf'<li id="cite-{mark.group(1)}">.*?</li>', page, re.S).group(0)
    assert f'<a class="doi" href="https://doi.org/{DOI}">' in note and "Table 3" in note
    assert board.cited[0].doi == DOI


def test_doi_is_read_from_the_citation_or_a_doi_address_in_the_source(tied):
    board, _ = tied
    run = dataclasses.replace(board.cited[0].run)  # a copy: the board is shared with other tests
    entry = dataclasses.replace(board.cited[0], run=run)
    wang = "Wang Z et al. (2025). doi:10.1109/JBHI.2025.3603022; arXiv:2510.13497"
    for citation, source, expected, text, where in (
        (wang, "", "10.1109/JBHI.2025.3603022", "Wang Z et al. (2025). arXiv:2510.13497", ""),
        ("Lee D et al. Sci Rep 2024", f"https://doi.org/{DOI}, Table 2", DOI, "Lee D et al. Sci Rep 2024", "Table 2"),
        ("A paper without one.", "Table 1", "", "A paper without one.", "Table 1"),
    ):
        run.citation, run.source = citation, source
        # The DOI becomes the link; the text around it keeps everything else.
        assert (entry.doi, entry.citation_text, entry.source_text) == (expected, text, where)


def test_index_shows_each_boards_best_entry_and_counts_every_set_once(tmp_path):
    rng = np.random.default_rng(3)
    store = _fixtures.make_store(tmp_path / "r.db")
    _fixtures.add_reference_sets(store, rng)
    _fixtures.add_protocol_runs(store, rng)
    boards = build_leaderboards([_entry(store, r) for r in store.list_runs()])
    index = build_report(store, tmp_path / "site")
    store.close()
    page = index.read_text(encoding="utf-8")
    table = page.split('id="boards"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr>.*?</tr>", table.split("<tbody>", 1)[1], re.S)
    assert len(rows) == len(boards)
    for board, row in zip(boards, rows):
        runs, reported = (int(x) for x in re.findall(r'<td class="num" data-sort="(\d+)">', row))
        # Runs and reported sets add up to every set the board lists (ranked rows and printed figures).
        assert (runs, reported) == (board.n_runs, board.n_reported)
        assert runs + reported == len(board.entries) + len(board.paper_figures)
        best = board.best_entry
        if best is None:
            assert '<td class="best-entry muted"' in row
            continue
        assert not best.is_baseline and best.run.run_id == board.best[board.primary]
        assert f">{html.escape(best.label)}</a>" in row and f"{best.stats[board.primary].mean:.3f}" in row
    assert any(b.best_entry and b.best_entry.run.run_id == "run-strong" for b in boards)


def test_a_baseline_above_the_best_method_is_said_on_the_board_and_in_the_index(tied, tmp_path):
    _, index = tied  # the best method beats every baseline: nothing to say
    assert 'id="baseline-above-best"' not in _board_page(index) and "below a baseline" not in index.read_text()
    with ResultStore(tmp_path / "r.db") as store:
        _set(store, "weak", "resnet_lstm_supcon", [0.55, 0.55])
        _set(store, "strong-baseline", "bandpower_logreg", [0.7, 0.68])
        _set(store, "chance", "chance", [0.5, 0.5])
        (board,) = build_leaderboards([_entry(store, r) for r in store.list_runs()])
        index = build_report(store, tmp_path / "site")
    assert board.best_entry.run.run_id == "weak"  # "best" is the best method, never a baseline
    assert [b.run.run_id for b in board.baselines_above_best] == ["strong-baseline"]
    banner = re.search(r'<p [^>]*id="baseline-above-best".*?</p>', _board_page(index), re.S).group(0)
    assert "bandpower_logreg (0.690)" in banner and "resnet_lstm_supcon (0.550)" in banner
    assert "below a baseline" in index.read_text()


def test_a_leaky_protocols_board_says_so_on_the_board_and_in_the_index(tmp_path):
    with ResultStore(tmp_path / "r.db") as store:
        _set(store, "random", "eegnet", [0.95, 0.93], protocol="kfold5-random")
        _set(store, "patientwise", "eegnet", [0.6, 0.62])
        index = build_report(store, tmp_path / "site")
    pages = {
        p.name.split("_")[2].rsplit("-", 1)[0]: p.read_text() for p in (index.parent / "leaderboards").glob("*.html")
    }
    assert 'id="leaky-protocol"' in pages["kfold5-random"] and "LEAKY" in pages["kfold5-random"]
    assert 'id="leaky-protocol"' not in pages["loocv"]
    rows = re.findall(r"<tr>.*?</tr>", index.read_text().split('id="boards"', 1)[1].split("</table>", 1)[0], re.S)
    assert [">leaky</span>" in r for r in rows] == ["kfold5-random" in r for r in rows] and any(
        "kfold5-random" in r for r in rows
    )


@pytest.mark.parametrize(
    "command",
    [
        "run --method m --with-baselines chance,eegnet --threads 1",
        "run --method m --with-baselines=chance --threads 1",
        "run --method m --with-baselines --threads 1",
        "run --method m --threads 1 --with-baselines",
    ],
)
def test_the_baselines_command_drops_the_runs_own_baselines_flag_and_its_value(command):
    from benchmark.report.leaderboard import _without_baselines_flag

    assert _without_baselines_flag(command.split()) == "run --method m --threads 1".split()


# -- in the browser ----------------------------------------------------------------------------------


@pytest.fixture()
def small_screen(browser):
    """A 1024 x 768 page that records console errors and any request leaving the file system."""
    context = browser.new_context(viewport={"width": 1024, "height": 768})
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"console: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("request", lambda r: None if r.url.startswith(("file://", "data:")) else problems.append(r.url))
    page.problems = problems
    yield page
    context.close()


def _in_view(page, selector: str) -> bool:
    box = page.locator(selector).first.bounding_box()
    return box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 1024 and box["y"] + box["height"] <= 768


def _ranks_and_keys(page, metric: str) -> list[tuple[str, str, str]]:
    """``(rank text, metric data-sort, data-ranked)`` of each row in displayed order."""
    return page.eval_on_selector(
        "#leaderboard",
        """(table, metric) => {
            const rank = table.querySelector("th.rank").cellIndex;
            const col = table.querySelector(`th[data-sort-metric="${metric}"]`).cellIndex;
            return Array.from(table.tBodies[0].rows, r =>
                [r.cells[rank].textContent.trim(), r.cells[col].dataset.sort, r.dataset.ranked]);
        }""",
        metric,
    )


def _consistent(rows, descending: bool = True) -> bool:
    """Ranks 1.. in row order for ranked rows with a value (ties share the better rank), none after."""
    ranked = [(r, float(k)) for r, k, ok in rows if k != "" and ok == "true"]
    if [r for r, _, _ in rows[len(ranked) :]] != ["—"] * (len(rows) - len(ranked)):
        return False
    values = [v for _, v in ranked]
    expected = [values.index(v) + 1 for v in values]
    return values == sorted(values, reverse=descending) and [int(r) for r, _ in ranked] == expected


def test_primary_metric_and_its_p_value_fit_a_1024_screen(tied, small_screen):
    board, index = tied
    small_screen.goto(next((index.parent / "leaderboards").glob("*.html")).as_uri())
    primary = f'#leaderboard th[data-sort-metric="{board.primary}"]'
    assert _in_view(small_screen, primary) and _in_view(small_screen, "#leaderboard th.pcol:not([hidden])")
    assert small_screen.locator("#leaderboard th.rank").inner_text().startswith("#")
    assert _consistent(_ranks_and_keys(small_screen, board.primary))
    # Another primary metric: its column moves beside its p-values, still in view, and ranks follow it.
    small_screen.select_option("#primary-metric", "accuracy")
    assert _in_view(small_screen, '#leaderboard th[data-sort-metric="accuracy"]')
    assert _in_view(small_screen, "#leaderboard th.pcol:not([hidden])")
    assert _consistent(_ranks_and_keys(small_screen, "accuracy"))
    assert small_screen.problems == []


def test_reported_row_shows_its_method_and_links_its_doi_in_the_browser(tied, small_screen):
    _, index = tied
    small_screen.goto(next((index.parent / "leaderboards").glob("*.html")).as_uri())
    cell = small_screen.locator('#leaderboard tr[data-run="g-paper"] td.method')
    assert cell.locator("a").first.inner_text() == "Pre-train + ResNet-LSTM"
    mark = cell.locator("sup.cite a")
    assert "Lee2024 Table 3 (SOP 10)" in mark.get_attribute("title")
    mark.click()
    note = small_screen.locator("ol.citations li:target")
    assert note.count() == 1 and note.locator("a.doi").get_attribute("href") == f"https://doi.org/{DOI}"
    assert note.locator("a.doi").is_visible()
    assert small_screen.problems == []


def test_real_fixture_board_fits_1024_with_baselines_and_banners(small_screen, tmp_path):
    """The shared fixture's board (a paper's set, two baselines, a missing-baselines hint)."""
    store = _fixtures.make_store(tmp_path / "r.db")
    index = build_report(store, tmp_path / "site")
    store.close()
    (path,) = [p for p in (index.parent / "leaderboards").glob("*.html") if "run-strong" in p.read_text()]
    small_screen.goto(path.as_uri())
    assert _in_view(small_screen, '#leaderboard th[data-sort-metric="balanced_accuracy"]')
    assert _in_view(small_screen, "#leaderboard th.pcol:not([hidden])")
    assert small_screen.problems == []


def test_every_page_of_the_fixture_site_fits_a_1024_screen_without_scrolling_sideways(small_screen, tmp_path):
    """No page is wider than the screen; a wide table scrolls inside its own frame. The index's list of
    result sets fits outright, its times to the minute in UTC with the stored time in the tooltip."""
    store = _fixtures.make_store(tmp_path / "r.db")
    index = build_report(store, tmp_path / "site")
    store.close()
    for page in sorted(index.parent.rglob("*.html")):
        small_screen.goto(page.as_uri())
        assert small_screen.evaluate("document.documentElement.scrollWidth") <= 1024, page.name
    small_screen.goto(index.as_uri())
    assert small_screen.locator("#runs").bounding_box()["width"] <= 1024
    cell = small_screen.locator("#runs td.when").first
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", cell.inner_text())
    assert cell.get_attribute("title") == cell.get_attribute("data-sort") != ""
    assert small_screen.problems == []


@pytest.mark.parametrize(
    ("stamp", "shown"),
    [
        ("2026-12-04T17:10:39+00:00", "2026-12-04 17:10 UTC"),
        ("2026-12-04T18:10:39+01:00", "2026-12-04 17:10 UTC"),
        ("2026-12-04T17:10:39", "2026-12-04 17:10"),
        ("yesterday", "yesterday"),
        ("2026-12-04", "2026-12-04"),  # a date alone: no invented time
        ("0001-01-01T00:30:00+01:00", "0001-01-01T00:30:00+01:00"),  # before year 1 in UTC: as stored
        (None, "—"),
    ],
)
def test_listing_times_are_shown_to_the_minute_in_utc(stamp, shown):
    from benchmark.report.build import _when

    assert _when(stamp) == shown


def test_times_stored_with_other_offsets_sort_by_the_moment():
    from benchmark.report.build import _when_key

    stamps = ["2025-01-01T00:30:00+05:00", "2025-01-01T00:00:00+00:00", "2024-12-31T20:00:00+00:00"]
    assert sorted(stamps, key=_when_key) == [stamps[0], stamps[2], stamps[1]]
