"""Method registration: in-tree ``@register`` and plug-ins through the ``seizure_bench.methods``
entry-point group.

Entry points are faked by monkeypatching ``importlib.metadata.entry_points`` as seen by
:mod:`benchmark.adapters`; the plug-in modules are real files written to ``tmp_path`` and imported
from there. Tests that need a registry use a fresh :class:`~benchmark.adapters.Registry`, never the
global one, except where the global one is the subject.
"""

from __future__ import annotations

import logging
import sys
import uuid
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest

from benchmark import adapters, cli
from benchmark.adapters import ENTRY_POINT_GROUP, REGISTRY, MethodAdapter, MethodMeta, Registry, register
from benchmark.errors import UnknownNameError

BASELINES = ("bandpower_logreg", "bandpower_rf", "chance", "eegnet", "shallow_convnet")

PLUGIN_SOURCE = """
import numpy as np

from benchmark.adapters import MethodAdapter, MethodMeta{import_register}


{decorator}class PluginAdapter(MethodAdapter):
    meta = MethodMeta(
        name="{name}",
        modality="eeg",
        tasks=("detection",),
        representation="bandpower",
        budgets={{"smoke": {{}}, "paper": {{}}}},
        citation="seizure-bench test plug-in",
    )

    def fit(self, train, valid, context):
        pass

    def predict_proba(self, test):
        return np.full((len(test), 2), 0.5)
"""


def _meta(name: str) -> MethodMeta:
    return MethodMeta(
        name=name,
        modality="eeg",
        tasks=("detection",),
        representation="bandpower",
        budgets={"smoke": {}, "paper": {}},
        citation="test",
    )


def _adapter_class(name: str) -> type[MethodAdapter]:
    class Adapter(MethodAdapter):
        meta = _meta(name)

        def fit(self, train, valid, context):
            pass

        def predict_proba(self, test):
            return np.full((len(test), 2), 0.5)

    return Adapter


@pytest.fixture
def write_plugin(tmp_path, monkeypatch):
    """Write a plug-in module into ``tmp_path`` (importable); returns its module name."""
    monkeypatch.syspath_prepend(str(tmp_path))
    written: list[str] = []

    def write(method_name: str, *, use_register: bool = False, source: str | None = None) -> str:
        module = f"sb_test_plugin_{uuid.uuid4().hex[:10]}"
        if source is None:
            source = PLUGIN_SOURCE.format(
                name=method_name,
                import_register=", register" if use_register else "",
                decorator="@register\n" if use_register else "",
            )
        (Path(tmp_path) / f"{module}.py").write_text(source)
        written.append(module)
        return module

    yield write
    for module in written:
        sys.modules.pop(module, None)


@pytest.fixture
def fake_entry_points(monkeypatch):
    """Replace the installed entry points with the given ones (all groups)."""

    def install(*eps: metadata.EntryPoint) -> None:
        monkeypatch.setattr(
            adapters.metadata, "entry_points", lambda **select: metadata.EntryPoints(eps).select(**select)
        )

    return install


def _ep(name: str, value: str, group: str = ENTRY_POINT_GROUP) -> metadata.EntryPoint:
    return metadata.EntryPoint(name=name, value=value, group=group)


@pytest.fixture
def global_like_registry(monkeypatch) -> Registry:
    """A fresh registry holding the in-tree methods, installed as ``benchmark.adapters.REGISTRY``
    (so ``@register``, ``get_method`` and the CLI use it); entry points are not loaded yet."""
    reg = Registry()
    for name in REGISTRY.names():
        reg.add(REGISTRY.get(name), origin=REGISTRY.origin(name))
    monkeypatch.setattr(adapters, "REGISTRY", reg)
    return reg


def _list_methods(capsys) -> dict[str, str]:
    """``seizure-bench list methods`` as {name: whole row}."""
    capsys.readouterr()
    assert cli.main(["list", "methods"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["name", "kind", "modality", "tasks", "input", "origin"]
    return {line.split()[0]: line for line in lines[1:]}


# -- in-tree ----------------------------------------------------------------------------------------
def test_in_tree_baselines_are_registered_and_listed(capsys):
    names = REGISTRY.names()
    assert set(BASELINES) <= set(names)
    for name in BASELINES:
        cls = REGISTRY.get(name)
        assert cls.meta.name == name and cls.meta.is_baseline
        assert REGISTRY.origin(name) == "in-tree"
    rows = _list_methods(capsys)
    for name in BASELINES:
        assert rows[name].split()[1] == "baseline"
        assert rows[name].endswith("in-tree")


def test_unknown_method_suggests_a_registered_name():
    with pytest.raises(UnknownNameError, match=r"unknown method 'eegnett'.*Did you mean 'eegnet'\?"):
        REGISTRY.get("eegnett")


# -- entry points -----------------------------------------------------------------------------------
def test_entry_point_registers_a_plugin(write_plugin, fake_entry_points):
    module = write_plugin("plugin_demo")
    fake_entry_points(_ep("plugin_demo", f"{module}:PluginAdapter"))
    reg = Registry()
    assert "plugin_demo" in reg.names()
    cls = reg.get("plugin_demo")
    assert cls is sys.modules[module].PluginAdapter
    assert reg.origin("plugin_demo") == f"entry point {module}:PluginAdapter"
    assert "plugin_demo" not in REGISTRY._methods  # the global registry is not touched


def test_entry_points_of_other_groups_are_ignored(write_plugin, fake_entry_points):
    module = write_plugin("other_group_demo")
    fake_entry_points(_ep("other_group_demo", f"{module}:PluginAdapter", group="someone_else.plugins"))
    assert "other_group_demo" not in Registry().names()
    assert module not in sys.modules  # not even imported


def test_list_methods_shows_entry_point_origin(write_plugin, fake_entry_points, global_like_registry, capsys):
    module = write_plugin("plugin_listed")
    fake_entry_points(_ep("plugin_listed", f"{module}:PluginAdapter"))
    rows = _list_methods(capsys)
    assert rows["plugin_listed"].split()[1:5] == ["method", "eeg", "detection", "bandpower"]
    assert rows["plugin_listed"].endswith(f"entry point {module}:PluginAdapter")
    assert rows["chance"].endswith("in-tree")


def test_plugin_using_register_like_the_readme_is_still_an_entry_point(
    write_plugin, fake_entry_points, global_like_registry, capsys
):
    # The README's example decorates the class with @register and also tells plug-in authors to
    # declare an entry point; importing the module registers it first, and it must still be
    # reported as coming from the entry point, not from the source tree.
    module = write_plugin("plugin_registered", use_register=True)
    fake_entry_points(_ep("plugin_registered", f"{module}:PluginAdapter"))
    assert global_like_registry.origin("plugin_registered") == f"entry point {module}:PluginAdapter"
    assert _list_methods(capsys)["plugin_registered"].endswith(f"entry point {module}:PluginAdapter")


def test_broken_entry_points_warn_and_do_not_break_listing(
    write_plugin, fake_entry_points, global_like_registry, caplog, capsys
):
    good = write_plugin("plugin_ok")
    needs_missing_dep = write_plugin("", source="import sb_dependency_that_is_not_installed\n")
    eps = [
        _ep("plugin_ok", f"{good}:PluginAdapter"),
        _ep("no_module", "sb_no_such_module_anywhere:Adapter"),
        _ep("no_attribute", f"{good}:NoSuchClass"),
        _ep("missing_dependency", f"{needs_missing_dep}:Adapter"),
        _ep("not_an_adapter", "json:dumps"),
        _ep("no_meta", "benchmark.adapters:MethodAdapter"),  # the abstract base: no MethodMeta
    ]
    fake_entry_points(*eps)
    with caplog.at_level(logging.WARNING, logger="benchmark.adapters"):
        rows = _list_methods(capsys)
    assert "plugin_ok" in rows and set(BASELINES) <= set(rows)
    warned = " | ".join(r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    for ep in eps[1:]:
        assert ep.name in warned and ep.value in warned, warned
    assert "sb_dependency_that_is_not_installed" in warned  # says why it failed
    with pytest.raises(UnknownNameError):
        global_like_registry.get("no_module")


# -- duplicates ---------------------------------------------------------------------------------
def test_duplicate_names_are_rejected():
    reg = Registry()
    first, second = _adapter_class("dup_demo"), _adapter_class("dup_demo")
    reg.add(first)
    assert reg.add(first) is first  # re-adding the same class is harmless
    with pytest.raises(ValueError, match="'dup_demo' registered twice"):
        reg.add(second)
    assert reg._methods["dup_demo"] is first


def test_register_rejects_a_second_class_named_like_a_baseline():
    original = REGISTRY.get("chance")
    with pytest.raises(ValueError, match="'chance' registered twice"):
        register(_adapter_class("chance"))
    assert REGISTRY.get("chance") is original


def test_entry_point_cannot_shadow_a_registered_method(write_plugin, fake_entry_points, global_like_registry, caplog):
    module = write_plugin("chance")
    fake_entry_points(_ep("my_chance", f"{module}:PluginAdapter"))
    original = global_like_registry._methods["chance"]
    with caplog.at_level(logging.WARNING, logger="benchmark.adapters"):
        names = global_like_registry.names()
    assert names.count("chance") == 1
    assert global_like_registry.get("chance") is original
    assert global_like_registry.origin("chance") == "in-tree"
    assert any("my_chance" in r.getMessage() and "already registered" in r.getMessage() for r in caplog.records)
