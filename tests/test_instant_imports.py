"""Commands that answer at once: listing reads method metadata without importing the methods'
modules, and no listing imports torch; ``results list`` imports neither pandas nor scipy; ``plan``
reads the declared metadata (plan notes included) and imports no torch; deterministic-algorithm
setup stays cheap."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmark.adapters import REGISTRY, MethodMeta, Registry, declared_stand_in
from benchmark.store import ResultStore, RunRecord

SNAPSHOT = Path(__file__).parent / "data" / "method_metas.json"
HEAVY = ("torch", "timm", "braindecode", "sklearn", "methods.resnet_lstm_supcon", "baselines.video_baselines")


def _modules_after(argv: list[str], modules=HEAVY, env=None) -> tuple[dict[str, bool], str]:
    """Which of ``modules`` a fresh process holds after ``seizure-bench ARGV``, and what it printed."""
    code = (
        "import contextlib, io, json, sys\n"
        "from benchmark.cli import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        "    try:\n"
        f"        main({argv!r})\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print(out.getvalue())\n"
        f"print(json.dumps({{m: m in sys.modules for m in {tuple(modules)!r}}}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120, env=env
    )
    *printed, loaded = done.stdout.strip().splitlines()
    return json.loads(loaded), "\n".join(printed)


@pytest.mark.parametrize("argv", [["--help"], ["list", "methods"], ["list", "datasets"], ["list", "tasks"]])
def test_listing_commands_import_no_torch_nor_method_modules(argv):
    loaded, _ = _modules_after(argv)
    assert not any(loaded.values()), f"seizure-bench {' '.join(argv)} imported {[m for m, v in loaded.items() if v]}"


def test_results_list_imports_neither_torch_nor_pandas_nor_scipy(tmp_path):
    store = ResultStore(tmp_path / "results.sqlite")
    for i, status in enumerate(("complete", "running", "reported")):
        kind = "reported" if status == "reported" else "run"
        store.create_run(
            RunRecord(f"r{i}", kind, "eegnet", "chbmit-synthetic", "detection", "loso", status=status, synthetic=True)
        )
    import pandas as pd

    from benchmark.metrics import summarize

    store.save_summary("r0", summarize(pd.DataFrame({"balanced_accuracy": [0.5, 0.7]})))  # scored without pandas
    store.close()
    env = {**os.environ, "SEIZURE_BENCH_STORE": str(tmp_path / "results.sqlite")}
    loaded, printed = _modules_after(["results", "list", "--kind", "all"], (*HEAVY, "pandas", "scipy"), env)
    assert not any(loaded.values()), f"results list imported {[m for m, v in loaded.items() if v]}"
    lines = printed.splitlines()
    assert [line.split()[0] for line in lines[1:3]] == ["r0", "r1"] and lines[5].split()[0] == "r2"
    assert "balanced_accuracy=0.600" in lines[1]


def test_plan_imports_no_torch_nor_the_method_module_and_keeps_its_notes(tmp_path, tiny_synthetic):
    argv = ["plan", "--method", "resnet_lstm_supcon", "--dataset", "chbmit-synthetic", "--stride", "5"]
    argv += ["--data-dir", str(tiny_synthetic), "--splits-dir", str(tmp_path / "s"), "--cache-dir", str(tmp_path / "c")]
    loaded, printed = _modules_after(argv)
    assert not any(loaded.values()), f"plan imported {[m for m, v in loaded.items() if v]}"
    assert "note: LSTM context 30 s of EEG = 5 consecutive windows of 10 s every 5 s" in printed


CASES = [("smoke", {}, 10, 10), ("paper", {}, 10, 1), ("smoke", {"lstm_context_s": 60}, 10, 3)]


@pytest.mark.parametrize("name", ["resnet_lstm_supcon", "resnet_lstm", "resnet_supcon", "eegnet"])
def test_stand_in_gives_the_meta_and_plan_notes_of_the_class(name):
    meta = REGISTRY.meta(name)  # declares the in-tree methods
    stand_in = declared_stand_in(REGISTRY._declared[name])
    assert stand_in.meta is meta
    with pytest.raises(RuntimeError, match="not imported"):
        stand_in.from_budget("smoke").fit(None, None, None)
    real = REGISTRY.get(name)
    for budget, over, window, stride in CASES:
        over = over if "lstm_context_s" in real.meta.budgets[budget] else {}
        light = stand_in.from_budget(budget, over).plan_notes(window, stride)
        assert light == getattr(real.from_budget(budget, over), "plan_notes", lambda *a: [])(window, stride)
    assert REGISTRY.stand_in(name) is real  # once imported, the class itself
    assert REGISTRY.stand_in("no_such_method") is None


def test_every_method_meta_is_as_before_the_metadata_moved():
    """The light metadata modules declare exactly the metas the adapter modules used to build."""
    snapshot = json.loads(SNAPSHOT.read_text())
    assert sorted(snapshot) == REGISTRY.in_tree_names()
    for name, recorded in snapshot.items():
        recorded = dict(recorded)
        where = recorded.pop("__class__")
        declared = json.loads(json.dumps(REGISTRY.meta(name).to_dict(), default=repr))
        assert declared == recorded, name
        cls = REGISTRY.get(name)
        assert f"{cls.__module__}.{cls.__qualname__}" == where
        assert cls.meta is REGISTRY.meta(name)


def test_meta_of_a_declared_method_does_not_import_its_module():
    code = (
        "import sys\n"
        "from benchmark.adapters import REGISTRY\n"
        "m = REGISTRY.meta('resnet_lstm_supcon')\n"
        "assert REGISTRY.origin('resnet_lstm_supcon') == 'in-tree'\n"
        "assert 'methods.resnet_lstm_supcon' not in sys.modules, 'imported by meta()'\n"
        "cls = REGISTRY.get('resnet_lstm_supcon')\n"
        "assert 'methods.resnet_lstm_supcon' in sys.modules and cls.meta is m\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def _meta(name: str) -> MethodMeta:
    return MethodMeta(
        name=name, modality="eeg", tasks=("detection",), representation="raw", budgets={"smoke": {}, "paper": {}}
    )


def test_declared_name_refuses_another_class_and_a_module_that_does_not_register_it():
    reg = Registry()
    reg._load_builtin = lambda: None  # this registry holds only what the test declares
    reg.declare(_meta("lazy_demo"), "json", "LazyDemo")
    assert reg.in_tree_names() == ["lazy_demo"] and reg.meta("lazy_demo").name == "lazy_demo"
    other = type("Other", (), {"meta": _meta("lazy_demo"), "__module__": "elsewhere"})
    with pytest.raises(ValueError, match="registered twice"):
        reg.add(other)
    with pytest.raises(ValueError, match="does not register the declared method"):
        reg.get("lazy_demo")
    with pytest.raises(ValueError, match="registered twice"):
        reg.declare(_meta("lazy_demo"), "json", "Elsewhere")


def test_seed_everything_sets_deterministic_algorithms_without_dynamo():
    code = (
        "import sys, torch\n"
        "from benchmark.torch_utils import seed_everything\n"
        "seed_everything(3)\n"
        "assert torch.are_deterministic_algorithms_enabled()\n"
        "assert torch.is_deterministic_algorithms_warn_only_enabled()\n"
        "assert 'torch._dynamo' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=300)
