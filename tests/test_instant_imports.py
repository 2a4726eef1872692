"""Commands that answer at once: listing reads method metadata without importing the methods'
modules, and no listing imports torch; deterministic-algorithm setup stays cheap."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmark.adapters import REGISTRY, MethodMeta, Registry

SNAPSHOT = Path(__file__).parent / "data" / "method_metas.json"
HEAVY = ("torch", "timm", "braindecode", "sklearn", "methods.resnet_lstm_supcon", "baselines.video_baselines")


def _modules_after(argv: list[str]) -> dict[str, bool]:
    """Which heavy modules a fresh process holds after ``seizure-bench ARGV``."""
    code = (
        "import contextlib, io, json, sys\n"
        "from benchmark.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n"
        f"        main({argv!r})\n"
        "    except SystemExit:\n"
        "        pass\n"
        f"print(json.dumps({{m: m in sys.modules for m in {HEAVY!r}}}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("argv", [["--help"], ["list", "methods"], ["list", "datasets"], ["list", "tasks"]])
def test_listing_commands_import_no_torch_nor_method_modules(argv):
    loaded = _modules_after(argv)
    assert not any(loaded.values()), f"seizure-bench {' '.join(argv)} imported {[m for m, v in loaded.items() if v]}"


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
