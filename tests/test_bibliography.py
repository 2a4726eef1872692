"""The bibliography: one entry per cited work, read by methods, baselines, recipes and the report."""

from __future__ import annotations

import ast
import hashlib
import json
from pathlib import Path

import pytest

from benchmark.adapters import REGISTRY
from benchmark.bibliography import WORKS, cite, doi_url, reference, short, work
from benchmark.errors import UnknownNameError
from benchmark.recipes import RECIPES

ROOT = Path(__file__).resolve().parents[1]
#: In-tree methods that implement no published work (their citation says so in words).
NO_PAPER = {"chance"}
#: SHA-256 of these methods' ``meta.citation`` texts, which are stored with each of their runs.
PINNED_METHODS = (
    "bandpower_logreg",
    "bandpower_rf",
    "chance",
    "distilclip_eeg_student",
    "distilclip_eeg_teacher",
    "eegnet",
    "i3d_lstm",
    "perez_garcia",
    "pv_contrastive_timesformer",
    "pv_contrastive_timesformer_nopretrain",
    "pv_contrastive_timesformer_patient_only",
    "pv_contrastive_timesformer_video_only",
    "r2plus1d_lstm",
    "resnet_lstm",
    "resnet_lstm_supcon",
    "resnet_supcon",
    "shallow_convnet",
    "video_ssl_transformer",
)
STORED_CITATIONS_SHA256 = "e13537074f2613fddd0aec467d2153895e21ca2e8d41254eeea2b05410b99188"


def _method_citations() -> dict[str, str]:
    return {name: REGISTRY.get(name).meta.citation for name in REGISTRY.in_tree_names()}


def test_every_method_citation_is_built_from_bibliography_entries():
    for name, citation in _method_citations().items():
        if name in NO_PAPER:
            assert not any(w.cited_as and w.cited_as in citation for w in WORKS.values()), name
            continue
        cited = [k for k in WORKS if cite(k) in citation or short(k) in citation]
        assert cited, f"{name}: citation {citation!r} cites no benchmark.bibliography entry"


def test_stored_method_citations_are_unchanged():
    citations = _method_citations()
    blob = json.dumps({name: citations[name] for name in PINNED_METHODS}, sort_keys=True, ensure_ascii=False).encode()
    assert hashlib.sha256(blob).hexdigest() == STORED_CITATIONS_SHA256, (
        "a method's citation text changed; run records store it, so keep bibliography entries as they are"
    )


def test_every_recipe_cites_one_bibliography_entry_with_its_doi():
    for name, recipe in RECIPES.items():
        keys = [k for k in WORKS if recipe.citation == reference(k)]
        assert len(keys) == 1, f"recipe {name}: citation {recipe.citation!r} is not a bibliography reference"
        assert recipe.doi_url == doi_url(keys[0])


def test_bundled_reported_papers_are_bibliography_entries():
    papers = json.loads((ROOT / "reports" / "reported" / "index.json").read_text())["papers"]
    for key, paper in papers.items():
        assert key in WORKS, f"reports/reported/index.json cites {key!r}, which benchmark.bibliography lacks"
        assert WORKS[key].doi in paper["citation"]


def _code_strings(path: Path) -> list[str]:
    """String literals of a module that are not docstrings (docstrings may mention papers)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    return [
        n.value
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docstrings
    ]


def test_no_citation_text_is_pasted_outside_the_bibliography():
    needles = {w.doi for w in WORKS.values() if w.doi} | {w.title for w in WORKS.values() if len(w.title) >= 30}
    files = [p for folder in ("benchmark", "methods", "baselines") for p in (ROOT / folder).rglob("*.py")]
    assert len(files) > 20
    pasted = [
        f"{path.relative_to(ROOT)}: {needle}"
        for path in files
        if path.name != "bibliography.py"
        for text in _code_strings(path)
        for needle in needles
        if needle.lower() in text.lower()
    ]
    assert not pasted, "citation text outside benchmark/bibliography.py: " + "; ".join(pasted)


def test_scan_sees_a_pasted_doi(tmp_path):
    module = tmp_path / "m.py"
    module.write_text('"""doc mentions doi:10.1/x"""\nCITATION = "Foo (2020). doi:10.1/x"\n')
    assert _code_strings(module) == ["Foo (2020). doi:10.1/x"]


def test_formats():
    assert cite("lawhern2018").startswith("Lawhern et al. (2018). EEGNet: ")
    assert cite("lawhern2018").endswith("J. Neural Eng. 15(5):056013.")  # full stop when no DOI
    assert cite("lee2024").startswith("Lee et al. (2024). ")
    assert cite("lee2024").endswith(". doi:" + WORKS["lee2024"].doi)
    assert reference("lee2024").startswith("Lee D, Kim B, ")
    assert cite("karacsony2020", "karacsony2022").count("; Karácsony et al. (2022). ") == 1
    assert short("shoeb2010") == "Shoeb & Guttag, ICML 2010"
    assert doi_url("li2024") == "" and doi_url("hou2022") == "https://doi.org/10.1109/ICASSP43922.2022.9746325"
    assert all(key == w.key for key, w in WORKS.items())


def test_unknown_work_is_a_one_line_error_with_a_suggestion():
    with pytest.raises(UnknownNameError, match="Did you mean 'lee2024'") as err:
        work("lee2023")
    assert "\n" not in str(err.value)
