"""Every registered dataset, task, protocol and method is complete and usable.

One parametrized test per registry (MOABB's ``test_datasets_init`` and MTEB's metadata test are the
models): a new entry is checked without writing a test for it. Synthetic datasets are generated
small, into a temporary folder; real ones must refuse an empty folder in one line.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import tiny_config

from benchmark.adapters import BUDGETS, MODALITIES, REGISTRY
from benchmark.datasets import DATASETS, load_dataset
from benchmark.errors import BenchmarkError, DataError

NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def _one_line(text) -> bool:
    return isinstance(text, str) and bool(text.strip()) and "\n" not in text


# -- datasets -----------------------------------------------------------------------------------
def _small_configs() -> dict:
    """A few-second configuration of each synthetic dataset (a new one must be added here)."""
    from benchmark.datasets.synthetic.tusz import TuszSyntheticConfig
    from benchmark.datasets.synthetic.video import VideoSyntheticConfig

    return {
        "chbmit-synthetic": tiny_config(),
        "tusz-synthetic": TuszSyntheticConfig(
            n_patients=5,
            seizure_types=("ABSZ", "FNSZ", "GNSZ"),
            sessions_per_patient=2,
            recording_minutes=1.0,
            seizures_per_recording=1,
            sfreq=128,
        ),
        "video-synthetic": VideoSyntheticConfig(
            n_patients=4,
            videos_per_patient=(2, 2),
            video_s=(2.0, 2.0),
            contextual_per_patient=1,
            contextual_s=(2.0, 2.0),
            size=32,
            fps=10,
        ),
    }


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> dict[str, Path]:
    """Folders of every registered synthetic dataset, generated small."""
    configs = _small_configs()
    missing = sorted(n for n, s in DATASETS.items() if s.synthetic and n not in configs)
    assert not missing, f"add a small configuration of {missing} to _small_configs"
    root = tmp_path_factory.mktemp("synthetic")
    folders = {}
    for name, config in configs.items():
        DATASETS[name].loader(root / name, config=config)  # generates, then loads
        folders[name] = root / name
    return folders


@pytest.mark.parametrize("name", list(DATASETS))
def test_dataset_spec_and_loading(name, tmp_path, synthetic):
    spec = DATASETS[name]
    assert spec.name == name and NAME.match(name)
    assert _one_line(spec.description) and callable(spec.loader)
    if not spec.synthetic:
        # Real data: a folder is required, and an empty one is refused in one line naming it.
        assert spec.needs_data_dir and spec.stands_in_for is None
        with pytest.raises(DataError, match="--data-dir") as exc:
            load_dataset(name)
        assert "\n" not in str(exc.value)
        with pytest.raises(DataError) as exc:
            load_dataset(name, tmp_path)
        assert str(tmp_path) in str(exc.value) and "\n" not in str(exc.value)
        return
    # Synthetic data: labelled so in the description and the index, standing in for named data.
    assert "SYNTHETIC" in spec.description
    stands_in = (spec.stands_in_for,) if isinstance(spec.stands_in_for, str) else spec.stands_in_for
    assert stands_in and all(_one_line(s) for s in stands_in)
    index = load_dataset(name, synthetic[name])
    assert index.synthetic and index.dataset == name and index.modality in MODALITIES
    assert index.patients and all(p.recordings for p in index.patients)
    assert re.fullmatch(r"[0-9a-f]{64}", index.content_hash())
    assert load_dataset(name, synthetic[name]).content_hash() == index.content_hash()  # deterministic


# -- tasks (benchmark.tasks registry) -----------------------------------------------------------
def _task_names() -> list[str]:
    from benchmark.tasks import task_names

    return task_names()


@pytest.mark.parametrize("name", _task_names())
def test_task_metadata_params_and_labels(name, synthetic):
    from benchmark.tasks import get_task, make_labels, make_params

    task = get_task(name)
    meta = task.metadata
    assert meta.name == name and NAME.match(name) and _one_line(meta.description)
    assert meta.modality in MODALITIES and meta.window_s > 0 and meta.ranking_metrics
    if meta.classes is None:
        assert _one_line(meta.classes_from), "classes derived from the data must say how"
    else:
        assert len(meta.classes) >= 2 and len(set(meta.classes)) == len(meta.classes)
    params = make_params(name)
    assert _one_line(params.label()) and NAME.match(params.slug())
    with pytest.raises(BenchmarkError, match="has no parameter") as exc:
        make_params(name, no_such_parameter=1)
    assert "\n" not in str(exc.value)
    # Some registered synthetic dataset of the task's modality gives labelled units of every class.
    labelled = []
    for ds, folder in synthetic.items():
        index = load_dataset(ds, folder)
        if index.modality != meta.modality:
            continue
        try:
            labels = make_labels(index, name, params)
        except BenchmarkError:
            continue  # e.g. seizure types on a dataset without typed seizures
        if not labels.units:
            continue  # e.g. prediction where no recording has a clock time
        assert labels.task == name and len(labels.classes) >= 2
        if meta.classes is not None:
            assert tuple(labels.classes) == tuple(meta.classes)
        labelled.append(ds)
    assert labelled, f"no synthetic dataset can be labelled for task '{name}'"


# -- protocols (benchmark.protocols registry) ---------------------------------------------------
def _protocol_names() -> list[str]:
    from benchmark.protocols import all_protocols

    return [p.name for p in all_protocols()]


@pytest.mark.parametrize("name", _protocol_names())
def test_protocol_metadata_and_splitter(name):
    from benchmark.protocols import get_protocol
    from benchmark.splits import get_splitter, leakage_checks

    proto = get_protocol(name)
    assert proto.name == name and NAME.match(name) and _one_line(proto.description)
    # Leaky protocols say so where users read them (listings, split files); others never do.
    assert proto.leaky == ("LEAKY" in proto.description)
    assert not proto.window_level or proto.leaky, "a window-level split always leaks neighbouring seconds"
    assert not (proto.patient_specific and proto.cross_patient)
    splitter = get_splitter(name)
    assert callable(getattr(splitter, "split", None)) and callable(getattr(splitter, "get_n_splits", None))
    assert getattr(splitter, "leaky", proto.leaky) == proto.leaky
    checks = leakage_checks(name)
    assert "overlapping windows" in checks
    assert not proto.cross_patient or {"patients", "subjects"} <= set(checks)
    for task in _task_names():
        why = proto.is_valid(task)
        assert why is None or _one_line(why)


# -- methods ------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", REGISTRY.names())
def test_method_meta(name):
    from benchmark import features
    from benchmark.tasks import get_task, make_params

    cls = REGISTRY.get(name)
    meta = cls.meta
    assert meta.name == name and NAME.match(name)
    assert meta.modality in MODALITIES and set(BUDGETS) <= set(meta.budgets)
    assert _one_line(meta.description) and meta.citation.strip() and str(meta.version).strip()
    assert meta.tasks and len(set(meta.tasks)) == len(meta.tasks)
    for task in meta.tasks:
        assert get_task(task).metadata.modality == meta.modality, f"{name} takes {task} of another modality"
    expected = {"video"} if meta.modality == "video" else set(features.REPRESENTATIONS)
    assert meta.representation in expected
    assert set(meta.task_defaults) <= set(meta.tasks)
    for task, defaults in meta.task_defaults.items():
        make_params(task, **defaults)  # the defaults are valid parameters of the task
    assert cls.from_budget("smoke").params is not None
