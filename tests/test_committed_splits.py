"""The split files committed under splits/ verify against the data they were frozen on, and the
main job runs on them end to end (run -> store -> report)."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmark import cli
from benchmark.split_files import verify_all

ROOT = Path(__file__).resolve().parents[1]
SPLITS = ROOT / "splits"


def test_committed_chbmit_splits_verify_against_the_real_summaries(shared_data):
    results = verify_all(SPLITS, ["chbmit"], shared_data / "chbmit")
    assert len(results) >= 19
    bad = [r for r in results if r["status"] != "ok"]
    assert not bad, bad
    assert all("reproduced" in r["detail"] for r in results)


@pytest.fixture(scope="module")
def default_synthetic_cache(tmp_path_factory):
    """A private cache so the default synthetic dataset is generated fresh, as on a new machine."""
    cache = tmp_path_factory.mktemp("cache")
    mp = pytest.MonkeyPatch()
    mp.setenv("SEIZURE_BENCH_CACHE", str(cache))
    yield cache
    mp.undo()


@pytest.mark.slow
def test_committed_synthetic_splits_verify_and_the_main_job_runs_on_them(default_synthetic_cache, tmp_path, capsys):
    results = verify_all(SPLITS, ["chbmit-synthetic"])
    assert results and all(r["status"] == "ok" and "reproduced" in r["detail"] for r in results), results

    store = tmp_path / "r.sqlite"
    before = {p: p.read_bytes() for p in (SPLITS / "chbmit-synthetic").glob("*.json")}
    rc = cli.main(
        [
            "--store",
            str(store),
            "run",
            "--method",
            "bandpower_logreg",
            "--dataset",
            "chbmit-synthetic",
            "--task",
            "prediction",
            "--protocol",
            "loocv",
            "--budget",
            "smoke",
            "--splits-dir",
            str(SPLITS),
            "--no-progress",
        ]
    )
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "SYNTHETIC" in out
    # the committed split was used as is, not re-frozen
    assert {p: p.read_bytes() for p in (SPLITS / "chbmit-synthetic").glob("*.json")} == before

    site = tmp_path / "site"
    assert cli.main(["--store", str(store), "report", "--out", str(site)]) == 0
    html = (site / "index.html").read_text()
    assert "chbmit-synthetic" in html and "synthetic" in html.lower()
    boards = list((site / "leaderboards").glob("*.html"))
    assert any("bandpower_logreg" in b.read_text() for b in boards)


def test_committed_video_splits_verify_against_freshly_generated_videos(default_synthetic_cache):
    # The index hash covers the videos' probed durations and frame rates: the generator must write
    # the same files on every machine for these committed splits to stay valid.
    results = verify_all(SPLITS, ["video-synthetic"])
    assert len(results) == 6  # label and focus targets x loso, kfold5, kfold5-random
    assert all(r["status"] == "ok" and "reproduced" in r["detail"] for r in results), results
