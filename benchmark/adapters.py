"""The method contract and the registry that finds methods by name.

A method is a :class:`MethodAdapter` subclass with a :class:`MethodMeta` record. It declares what it
needs (modality, tasks, input representation, hyper-parameters per budget); the harness owns data,
splits, seeds, device, timing and logging, and hands the adapter :class:`~benchmark.windowset.WindowSet`
objects. Test windows reach :meth:`MethodAdapter.predict_proba` without labels.

Register in-tree with :func:`register`; an in-tree package may :func:`declare` its methods first
(name, module, class name and a ``MethodMeta`` kept in a light module), so listing and planning read
the metadata without importing the method's module, which is imported when :meth:`Registry.get`
needs the class. Other packages register through the entry-point group
``seizure_bench.methods``: each entry point names a ``MethodAdapter`` subclass, an adapter instance
(``benchmark.SklearnAdapter(...)``, ``benchmark.BraindecodeAdapter(...)``) or a function returning
either (:func:`adapter_class`), and its name is the method's ``meta.name``.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import importlib
import inspect
import logging
import sys
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from benchmark.bytecode import refresh_before_import
from benchmark.errors import BenchmarkError, UnknownNameError, did_you_mean

if TYPE_CHECKING:  # windowset imports pandas: only the annotations need it, not the commands that list
    from benchmark.windowset import WindowSet

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "seizure_bench.methods"
BUDGETS = ("smoke", "paper")
MODALITIES = ("eeg", "video")
REPRESENTATIONS = ("raw", "bandpower", "spectrogram", "video")
VIDEO_AGGREGATIONS = ("mean", "vote")


@dataclass(frozen=True)
class MethodMeta:
    """What a method is and what it needs.

    Parameters
    ----------
    name
        Registry name, used on the command line (``--method NAME``).
    modality
        ``"eeg"`` or ``"video"``.
    tasks
        Task names the method supports (``"prediction"``, ``"detection"``, ...).
    representation
        Input the harness must prepare: ``"raw"`` windows ``(channels, samples)``, ``"bandpower"``
        features ``(channels, bands)`` or ``"spectrogram"`` ``(channels, time, freq)``.
    budgets
        Hyper-parameters per budget; ``"smoke"`` must run in minutes on 2 CPU cores, ``"paper"``
        holds the paper's settings.
    version
        Bumped when the method's behaviour changes; stored with every run.
    citation
        Reference for the method, shown in reports.
    representation_params
        Parameters of the representation (e.g. STFT settings), part of the window cache key.
    bandpass
        ``(low_hz, high_hz)`` band-pass the harness applies to the continuous signal before it is
        cut into windows (``None``: no filter); part of the window cache key.
    video_aggregation
        Video methods: how the harness turns clip probabilities into one prediction per video,
        ``"mean"`` (average over the video's clips, as Hou et al.) or ``"vote"`` (majority of the
        clips' predicted classes, as Li et al.).
    budget_representation_params
        Per budget, representation parameters that replace those of ``representation_params``
        (e.g. the ``paper`` budget's 224-px, 64-frame clips, while ``smoke`` keeps small ones).
    task_defaults
        Task parameters used when the user gives none, per task; e.g.
        ``{"classification": {"target": "focus"}}`` for a TLE-vs-exTLE method.
    pretrained
        The pretrained weights the method's paper starts from (e.g. ``"TimeSformer, Kinetics-400"``),
        ``""`` when it starts from random initialisation. A run of a method that declares weights
        but loaded none (its ``weights_source()`` says random init) is flagged by the runner and the
        report; other methods' random initialisation is their normal setting and is not.
    """

    name: str
    modality: str
    tasks: tuple[str, ...]
    representation: str
    budgets: dict[str, dict[str, Any]]
    version: str = "1"
    citation: str = ""
    description: str = ""
    is_baseline: bool = False
    representation_params: dict[str, Any] = field(default_factory=dict)
    bandpass: tuple[float, float] | None = None
    video_aggregation: str = "mean"
    task_defaults: dict[str, dict[str, Any]] = field(default_factory=dict)
    budget_representation_params: dict[str, dict[str, Any]] = field(default_factory=dict)
    pretrained: str = ""

    def __post_init__(self) -> None:
        if self.modality not in MODALITIES:
            raise ValueError(f"{self.name}: modality must be one of {MODALITIES}")
        if self.video_aggregation not in VIDEO_AGGREGATIONS:
            raise ValueError(f"{self.name}: video_aggregation must be one of {VIDEO_AGGREGATIONS}")
        missing = [b for b in BUDGETS if b not in self.budgets]
        if missing:
            raise ValueError(f"{self.name}: budgets {missing} are not defined")

    def representation_params_for(self, budget: str) -> dict[str, Any]:
        """The representation parameters the harness prepares for ``budget``."""
        return {**self.representation_params, **self.budget_representation_params.get(budget, {})}

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["tasks"] = list(self.tasks)
        return d


@dataclass
class FitContext:
    """What the harness gives an adapter besides data.

    In an isolated run (``run --isolation sandbox|auto``) the method runs in a bubblewrap sandbox
    where ``work_dir`` and ``cache_dir`` are the only writable folders and the fold's window arrays
    the only data; it has no network, and window ids and times are pseudonymous (see
    :class:`~benchmark.windowset.WindowSet`). A method must not read other files: ``check-adapter``
    fails one that does (``no_file_access``).
    """

    seed: int
    device: str = "cpu"
    budget: str = "smoke"
    work_dir: Path | None = None  # per-fold scratch space (checkpoints live here)
    n_jobs: int = 1
    progress: bool = False
    # Video: clips of the unlabelled contextual videos of the fold's TRAINING patients (y=None),
    # for self-supervised pre-training. Test patients' footage is never included, so pre-training
    # cannot adapt to the people it is scored on.
    unlabelled: WindowSet | None = None
    # Cache shared by runs and folds, for features of frozen backbones (None: do not cache).
    cache_dir: Path | None = None
    logger: logging.Logger = field(default_factory=lambda: logging.getLogger("seizure_bench.method"))

    def rng(self) -> np.random.Generator:
        return np.random.default_rng(self.seed)


class MethodAdapter(ABC):
    """Base class of every method.

    Subclasses set ``meta`` and implement :meth:`fit` and :meth:`predict_proba`; they may implement
    :meth:`pretrain` for self-supervised stages. ``params`` is the budget's hyper-parameters merged
    with user overrides; it must stay JSON-serialisable because it is stored with the run.
    """

    meta: ClassVar[MethodMeta]

    def __init__(self, params: dict[str, Any] | None = None):
        self.params: dict[str, Any] = dict(params or {})

    def reject_unknown_params(self) -> None:
        """Refuse a hyper-parameter the ``paper`` budget does not define: a typo in ``--set`` or a
        direct construction must fail in one line, not be ignored."""
        allowed = set(self.meta.budgets["paper"])
        unknown = sorted(set(self.params) - allowed)
        if unknown:
            raise UnknownNameError(
                f"method '{self.meta.name}' has no hyper-parameter '{unknown[0]}'.{did_you_mean(unknown[0], allowed)} "
                f"Known: {', '.join(sorted(allowed))}."
            )

    @classmethod
    def from_budget(cls, budget: str, overrides: dict[str, Any] | None = None) -> MethodAdapter:
        return cls(budget_params(cls.meta, budget, overrides))

    def pretrain(self, unlabelled: WindowSet, context: FitContext) -> None:
        """Optional self-supervised stage on training windows of the fold (labels may be used)."""

    @abstractmethod
    def fit(self, train: WindowSet, valid: WindowSet | None, context: FitContext) -> None:
        """Train on ``train`` (labels in ``train.y``); ``valid`` is a held-out part of training data."""

    @abstractmethod
    def predict_proba(self, test: WindowSet) -> np.ndarray:
        """Return ``(len(test), n_classes)`` class probabilities; rows sum to 1."""

    def n_parameters(self) -> int | None:
        """Number of trainable parameters, when meaningful."""
        return None

    def weights_source(self) -> str:
        """Where the fitted model's initial weights came from, stored with the run (``weights_source``
        in its provenance) and shown on its page: a loaded file (``benchmark.weights.weights_provenance``
        names it with its SHA-256), or text containing ``"random init"`` when nothing was loaded.

        Override it when the method can load weights. Only a method whose ``meta.pretrained`` names the
        paper's weights gets the "random init" warning and banner when it returns random init.
        """
        return "random init"


def budget_params(meta: MethodMeta, budget: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """The hyper-parameters of ``budget`` (a copy) with ``overrides`` applied; one line if there is no such budget."""
    if budget not in meta.budgets:
        raise UnknownNameError(f"method '{meta.name}' has no budget '{budget}'; choose one of {sorted(meta.budgets)}.")
    params = copy.deepcopy(meta.budgets[budget])
    params.update(overrides or {})
    return params


#: ``plan_notes(params, window_s, stride_s) -> lines`` of a declared method (see :meth:`Registry.declare`).
PlanNotes = Callable[[dict[str, Any], float, float], list[str]]


@dataclass(frozen=True)
class DeclaredMethod:
    """An in-tree method known by its metadata before its module is imported (see :func:`declare`)."""

    module: str
    qualname: str
    meta: MethodMeta
    # The class's ``plan_notes`` as ``plan_notes(params, window_s, stride_s)``, readable without its module.
    plan_notes: PlanNotes | None = None


class Registry:
    """Methods by name: in-tree ones registered with :func:`register`, plus entry points.

    In-tree methods may be declared first (:meth:`declare`): their ``meta`` is known without
    importing their module, which :meth:`get` imports when the class is needed.

    Entry points are kept unloaded: importing a plug-in runs its code with the user's access, so
    :meth:`get` loads only the one asked for (its entry-point name must equal its ``meta.name``),
    and only listing (:meth:`names`) loads them all. An isolated run never loads one in the harness
    (see :func:`benchmark.runner.resolve_method`).
    """

    def __init__(self) -> None:
        self._methods: dict[str, type[MethodAdapter]] = {}
        self._declared: dict[str, DeclaredMethod] = {}
        self._origin: dict[str, str] = {}
        self._entry_points: dict[str, metadata.EntryPoint] | None = None
        self._loaded_entry_points = False
        self._shadowed: set[str] = set()  # plug-in names differing from a registered one only in case

    def _refuse_case_variant(self, name: str) -> None:
        # Names are matched ignoring case on the command line: two that differ only in case would
        # let one take over the other's name.
        taken = [k for k in (*self._methods, *self._declared) if k != name and k.casefold() == name.casefold()]
        if taken:
            raise ValueError(f"method name '{name}' differs from the registered '{taken[0]}' only in case")

    def add(self, cls: type[MethodAdapter], origin: str = "in-tree") -> type[MethodAdapter]:
        name = cls.meta.name
        self._refuse_case_variant(name)
        if name in self._methods and self._methods[name] is not cls:
            raise ValueError(f"method name '{name}' registered twice")
        declared = self._declared.get(name)
        if declared is not None and (cls.__module__, cls.__qualname__) != (declared.module, declared.qualname):
            raise ValueError(f"method name '{name}' registered twice")
        if declared is not None and cls.meta != declared.meta:
            raise ValueError(f"method '{name}': its class's meta differs from the one declared for it")
        self._methods[name] = cls
        self._origin[name] = origin
        return cls

    def replace(self, cls: type[MethodAdapter], origin: str) -> type[MethodAdapter]:
        """Put ``cls`` in place of the method of its name that code added with the same ``origin``
        (never an in-tree method or a plug-in); returns ``cls``."""
        name = cls.meta.name
        if name in self._declared or self._origin.get(name) != origin:
            raise ValueError(f"method name '{name}' registered twice")
        self._methods[name] = cls
        return cls

    def declare(self, meta: MethodMeta, module: str, qualname: str, plan_notes: PlanNotes | None = None) -> None:
        """Make the in-tree method ``meta.name`` known without importing ``module``; :meth:`get`
        imports it, and its ``@register`` class ``qualname`` must carry this very ``meta``.
        ``plan_notes(params, window_s, stride_s)``, when the method has notes for ``plan``, is what
        its class's ``plan_notes`` returns, readable without the module."""
        self._refuse_case_variant(meta.name)
        known = self._declared.get(meta.name)
        entry = DeclaredMethod(module, qualname, meta, plan_notes)
        if (known is not None and known != entry) or meta.name in self._methods:
            raise ValueError(f"method name '{meta.name}' registered twice")
        self._declared[meta.name] = entry

    def _load_builtin(self) -> None:
        # The packages import only their light metadata modules, which declare every method.
        import baselines  # noqa: F401
        import methods  # noqa: F401

    def _import_declared(self, name: str) -> type[MethodAdapter]:
        """Import a declared method's module (its ``@register`` adds the class) and return the class."""
        declared = self._declared[name]
        importlib.import_module(declared.module)
        if name not in self._methods:
            raise ValueError(f"module {declared.module} does not register the declared method '{name}'")
        return self._methods[name]

    def known_names(self) -> list[str]:
        """Every method's name, installed plug-ins included, without loading any plug-in. A plug-in
        named like a registered method but for case is left out (logged): it cannot take over, nor
        hide, the registered one."""
        self._load_builtin()
        own = set(self._methods) | set(self._declared)
        folded = {k.casefold(): k for k in own}
        plugins = set()
        for k in self.entry_points():
            if k in own or k.casefold() not in folded:
                plugins.add(k)
            elif k not in self._shadowed:
                self._shadowed.add(k)
                log.warning(
                    "plug-in method '%s' ignored: its name differs from '%s' only in case", k, folded[k.casefold()]
                )
        return sorted(own | plugins)

    def shipped(self, name: str) -> bool:
        """Whether ``name`` is one of the suite's own methods (declared by its metadata modules): only
        these can be baselines, whatever a plug-in's ``meta.is_baseline`` says."""
        self._load_builtin()
        return name in self._declared

    def resolve_name(self, name: str) -> str:
        """The registered spelling of ``name``: ``name`` itself when it is registered, else the one
        name equal to it ignoring case (``EEGNet`` -> ``eegnet``); ``name`` unchanged when no name or
        several names match (then :meth:`get` says it is unknown). Loads no plug-in."""
        self._load_builtin()
        known = self.known_names()
        if name in known:
            return name
        same = [k for k in known if k.casefold() == name.casefold()]
        if len(same) > 1:  # e.g. an installed plug-in named like an in-tree method but for case
            raise UnknownNameError(
                f"methods {' and '.join(repr(k) for k in same)} differ only in case, so neither name is safe to "
                "use; uninstall or rename the plug-in."
            )
        return same[0] if same else name

    def meta(self, name: str) -> MethodMeta:
        """The ``MethodMeta`` of ``name``; a declared in-tree method's module is not imported."""
        self._load_builtin()
        name = self.resolve_name(name)
        if name not in self._methods and name in self._declared:
            return self._declared[name].meta
        return self.get(name).meta

    def stand_in(self, name: str) -> type[MethodAdapter] | None:
        """What needs only a method's metadata (``plan``) takes for its class: for a declared in-tree
        method whose module is not imported, a stand-in with its declared ``meta`` and ``plan_notes``
        that cannot fit or predict (the module, torch included, stays unimported); the class itself
        once imported; ``None`` for any other name (plug-ins, unknown names: see :meth:`get`)."""
        self._load_builtin()
        name = self.resolve_name(name)
        if name in self._methods or name not in self._declared:
            return self._methods.get(name)
        return declared_stand_in(self._declared[name])

    def entry_points(self) -> dict[str, metadata.EntryPoint]:
        """The installed entry points of the group by name, not loaded (read once)."""
        if self._entry_points is None:
            found: dict[str, metadata.EntryPoint] = {}
            for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
                found.setdefault(ep.name, ep)
            self._entry_points = found
        return self._entry_points

    def _load_entry_point(self, ep: metadata.EntryPoint, to_run: bool = True) -> type[MethodAdapter]:
        """Import one entry point's class and register it; raises ``ValueError`` saying why it is
        unusable. ``to_run``: its bytecode is first checked against its source (a listing skips it:
        what it shows is the metadata, not results)."""
        try:
            if to_run:
                refresh_before_import(ep.module)
            obj = ep.load()
        except Exception as exc:  # a broken plug-in must not break the whole suite
            raise ValueError(f"could not load method entry point {ep.name} ({ep.value}): {exc}") from exc
        what = f"entry point {ep.name} ({ep.value})"
        try:
            cls = adapter_class(obj, what, ep.module, ep.attr)
        except ValueError:
            raise
        except Exception as exc:  # its factory or adapter refused its arguments
            raise ValueError(f"{what} could not be built: {exc}") from exc
        if not isinstance(getattr(cls, "meta", None), MethodMeta):
            raise ValueError(f"entry point {ep.name} ({ep.value}) names a class without a MethodMeta 'meta'")
        name = cls.meta.name
        registered = self._methods.get(name) is cls  # the plug-in also used @register (as the README's example)
        if (name in self._methods or name in self._declared) and not registered:
            raise ValueError(
                f"entry point {ep.name} ({ep.value}) names method '{name}', which is already "
                f"registered ({self._origin.get(name, 'in-tree')})"
            )
        try:
            check_entry_point_name(ep, name)
        except BenchmarkError:
            if registered:
                self._methods.pop(name)
                self._origin.pop(name, None)
            raise
        self.add(cls, origin=f"entry point {ep.value}")
        return cls

    def _load_entry_points(self) -> None:
        if self._loaded_entry_points:
            return
        self._loaded_entry_points = True
        for ep in self.entry_points().values():
            if self._methods.get(ep.name) is not None and self._origin.get(ep.name, "").startswith("entry point"):
                continue  # loaded already by get()
            try:
                self._load_entry_point(ep, to_run=False)
            except (ValueError, BenchmarkError) as exc:
                log.warning("%s; ignored", exc)

    def names(self) -> list[str]:
        """Every method's name; imports every installed plug-in (listing only)."""
        self._load_builtin()
        self._load_entry_points()
        return sorted(set(self._methods) | set(self._declared))

    def in_tree_names(self) -> list[str]:
        """Names of the methods registered without loading any entry point (in-tree, or added by code)."""
        self._load_builtin()
        return sorted(set(self._methods) | set(self._declared))

    def has(self, name: str) -> bool:
        """Whether ``name`` (in any case) is registered or installed as an entry point, without loading plug-ins."""
        self._load_builtin()
        name = self.resolve_name(name)
        return name in self._methods or name in self._declared or name in self.entry_points()

    def unloaded_entry_point(self, name: str) -> metadata.EntryPoint | None:
        """The entry point of ``name`` when its plug-in's code has not run in this process (neither
        registered, nor its top-level module imported), else ``None``."""
        self._load_builtin()
        name = self.resolve_name(name)
        if name in self._methods or name in self._declared:
            return None
        ep = self.entry_points().get(name)
        if ep is None or ep.module.split(".")[0] in sys.modules:
            return None
        return ep

    def get(self, name: str) -> type[MethodAdapter]:
        """The method named ``name`` (matched ignoring case where that is unambiguous, see
        :meth:`resolve_name`): registered (in-tree first), else the entry point of that name, loading
        only that one."""
        self._load_builtin()
        name = self.resolve_name(name)
        if name in self._methods:
            return self._methods[name]
        if name in self._declared:
            return self._import_declared(name)
        ep = self.entry_points().get(name)
        if ep is not None:
            try:
                return self._load_entry_point(ep)
            except ValueError as exc:  # installed but unusable: no method of that name
                raise UnknownNameError(f"{exc}; fix or uninstall that plug-in.") from None
        known = self.known_names()
        raise UnknownNameError(
            f"unknown method '{name}'.{did_you_mean(name.casefold(), known)} Known: {', '.join(known)} "
            "('seizure-bench list methods' describes them)."
        )

    def origin(self, name: str) -> str:
        self._load_builtin()
        name = self.resolve_name(name)
        if name not in self._methods and name in self._declared:
            return "in-tree"
        self.get(name)
        return self._origin[name]


def check_entry_point_name(ep: metadata.EntryPoint, meta_name: str) -> None:
    """Refuse a plug-in whose entry-point name is not its ``meta.name``: the harness finds a plug-in
    by that name without importing it."""
    if ep.name != meta_name:
        raise BenchmarkError(
            f"entry point '{ep.name}' ({ep.value}) names a method whose meta.name is '{meta_name}'; "
            f"the entry-point name must equal meta.name: rename it to '{meta_name}' in the plug-in's "
            '[project.entry-points."seizure_bench.methods"] and reinstall it.'
        )


def plugin_proxy(meta: MethodMeta, module: str, qualname: str, path: Path | None, origin: str) -> type[MethodAdapter]:
    """A stand-in for a plug-in's class that was never imported here: its ``meta`` (as a sandboxed
    probe reported it) and where the fold worker imports the real one (``plugin_source``). It
    checks settings and records provenance; it cannot fit or predict."""

    def refuse(self, *args, **kwargs):
        raise RuntimeError(
            f"method '{meta.name}' runs only in a sandboxed fold worker; its code is not imported into the harness"
        )

    cls = type(
        qualname.rsplit(".", 1)[-1],
        (MethodAdapter,),
        {
            "meta": meta,
            "fit": refuse,
            "predict_proba": refuse,
            "__module__": module,
            "__qualname__": qualname,
            "plugin_source": (module, qualname, path),
            "plugin_origin": origin,
        },
    )
    return cls


def declared_stand_in(declared: DeclaredMethod) -> type[MethodAdapter]:
    """A class with a declared method's ``meta`` whose instances give its declared ``plan_notes``;
    named as the real class, which alone can fit and predict."""

    def refuse(self, *args, **kwargs):
        raise RuntimeError(f"method '{declared.meta.name}': its module {declared.module} is not imported")

    def plan_notes(self, window_s: float, stride_s: float) -> list[str]:
        return [] if declared.plan_notes is None else list(declared.plan_notes(self.params, window_s, stride_s))

    return type(
        declared.qualname.rsplit(".", 1)[-1],
        (MethodAdapter,),
        {
            "meta": declared.meta,
            "fit": refuse,
            "predict_proba": refuse,
            "plan_notes": plan_notes,
            "__module__": declared.module,
            "__qualname__": declared.qualname,
        },
    )


def pretrained_of(method: str, provenance: dict[str, Any] | None) -> str:
    """The pretrained weights a run's method declares (``MethodMeta.pretrained``): as the run's
    provenance recorded it, else (a run stored before it was recorded) the in-tree method's declared
    meta, read without importing its module or any plug-in; ``""`` when unknown."""
    recorded = (provenance or {}).get("pretrained")
    if isinstance(recorded, str):
        return recorded
    cls = REGISTRY.stand_in(method)
    return cls.meta.pretrained if cls is not None else ""


def warns_random_init(pretrained: str, weights_source: Any) -> bool:
    """Whether a run is flagged "random init" (the runner's warning, the report's banner): its method's
    paper starts from pretrained weights (``pretrained``) and the run loaded none. Random
    initialisation is the normal setting of every other method and is not flagged."""
    from benchmark.weights import is_random_init

    return bool(pretrained) and is_random_init(weights_source)


def adapter_class(obj: Any, what: str, module: str | None = None, qualname: str | None = None) -> type[MethodAdapter]:
    """The ``MethodAdapter`` subclass that ``obj`` (what an entry point or :func:`register` names) stands for.

    A subclass is itself; an adapter instance (``SklearnAdapter(...)``, ``BraindecodeAdapter(...)``)
    becomes a class whose ``from_budget`` copies it (:func:`instance_class`), named ``module:qualname``
    where the fold worker imports it again; a function is a factory, called without arguments, and
    its result is taken as above. Anything else is refused with a ``ValueError`` naming ``what`` and
    the fix (a scikit-learn estimator does not say which input representation it takes).
    """
    if inspect.isfunction(obj) or inspect.ismethod(obj) or isinstance(obj, functools.partial):
        made = obj()
        if not isinstance(made, MethodAdapter) and not (isinstance(made, type) and issubclass(made, MethodAdapter)):
            raise ValueError(f"{what} is a function returning {_kind(made)}, not a MethodAdapter; {_fix(made)}")
        obj = made
    if isinstance(obj, type) and issubclass(obj, MethodAdapter):
        return obj
    if isinstance(obj, MethodAdapter):
        return instance_class(obj, module, qualname)
    raise ValueError(f"{what} names {_kind(obj)}, not a MethodAdapter; {_fix(obj)}")


def _kind(obj: Any) -> str:
    if isinstance(obj, type):
        return f"the class {obj.__module__}.{obj.__qualname__}"
    return f"a {type(obj).__module__}.{type(obj).__qualname__}"


def _fix(obj: Any) -> str:
    """How to make ``obj`` a method, for the one-line refusal of :func:`adapter_class`."""
    cls = obj if isinstance(obj, type) else type(obj)
    if hasattr(obj, "get_params") and hasattr(obj, "fit"):
        return (
            "a scikit-learn estimator does not say which input it takes: point the entry point at a function "
            "returning benchmark.SklearnAdapter(estimator, representation='bandpower', name=...)"
        )
    if any(c.__name__ == "Module" and c.__module__.startswith("torch.nn") for c in cls.__mro__):
        return (
            "point the entry point at benchmark.BraindecodeAdapter(ModelClass, name=...) or a function "
            "returning it, or at a MethodAdapter subclass"
        )
    return "point it at a MethodAdapter subclass, an adapter instance or a function returning one"


def instance_class(adapter: MethodAdapter, module: str | None = None, qualname: str | None = None):
    """A class standing for the adapter instance ``adapter``: its ``meta`` is the instance's, and its
    ``from_budget`` gives a copy of the instance with that budget's hyper-parameters (unknown
    overrides refused). ``module`` and ``qualname`` say where a fold worker finds the instance again
    (an entry point's target); by default the module that built it (``caller_module``), under a
    name no import finds, so a fold worker takes it from the registry of its own process."""
    meta = adapter.meta
    if not isinstance(meta, MethodMeta):
        raise ValueError(f"adapter {type(adapter).__qualname__} has no MethodMeta 'meta'")
    template = copy.deepcopy(adapter)

    def from_budget(cls, budget: str, overrides: dict[str, Any] | None = None) -> MethodAdapter:
        made = copy.deepcopy(template)
        made.__class__ = cls
        made.params = budget_params(meta, budget, overrides)
        made.reject_unknown_params()
        return made

    base = type(adapter)
    return type(
        base.__name__,
        (base,),
        {
            "meta": meta,
            "from_budget": classmethod(from_budget),
            "__module__": module or getattr(adapter, "caller_module", None) or base.__module__,
            "__qualname__": qualname or f"{base.__qualname__}[{meta.name}]",
        },
    )


def meta_from_dict(d: Any, what: str) -> MethodMeta:
    """A :class:`MethodMeta` from its :meth:`MethodMeta.to_dict` form, checked field by field;
    ``ValueError`` naming ``what`` otherwise."""
    fields_ = {f.name: f for f in dataclasses.fields(MethodMeta)}
    if not isinstance(d, dict) or not {"name", "modality", "tasks", "representation", "budgets"} <= set(d):
        raise ValueError(f"{what}: its meta is not a MethodMeta record")
    unknown = sorted(set(d) - set(fields_))
    if unknown:
        raise ValueError(f"{what}: its meta has unknown field(s) {unknown}")
    kinds = {
        "name": str,
        "modality": str,
        "tasks": list,
        "representation": str,
        "budgets": dict,
        "version": str,
        "citation": str,
        "description": str,
        "is_baseline": bool,
        "representation_params": dict,
        "bandpass": (list, type(None)),
        "video_aggregation": str,
        "task_defaults": dict,
        "budget_representation_params": dict,
        "pretrained": str,
    }
    for key, value in d.items():
        if not isinstance(value, kinds[key]):
            raise ValueError(f"{what}: its meta field '{key}' is a {type(value).__name__}")
    if not all(isinstance(t, str) for t in d["tasks"]) or not all(isinstance(b, dict) for b in d["budgets"].values()):
        raise ValueError(f"{what}: its meta's tasks or budgets are malformed")
    kw = dict(d)
    kw["tasks"] = tuple(d["tasks"])
    if d.get("bandpass") is not None:
        if len(d["bandpass"]) != 2 or not all(isinstance(v, (int, float)) for v in d["bandpass"]):
            raise ValueError(f"{what}: its meta field 'bandpass' is not (low, high)")
        kw["bandpass"] = (float(d["bandpass"][0]), float(d["bandpass"][1]))
    return MethodMeta(**kw)


REGISTRY = Registry()


def register(cls: type[MethodAdapter] | MethodAdapter) -> type[MethodAdapter]:
    """Class decorator that adds an in-tree method to the registry; also takes an adapter instance
    (``register(SklearnAdapter(pipeline, representation="bandpower", name="mine"))``) and returns its class."""
    return REGISTRY.add(adapter_class(cls, f"register({_kind(cls)})"))


def declare(meta: MethodMeta, module: str, qualname: str, plan_notes: PlanNotes | None = None) -> MethodMeta:
    """Declare an in-tree method by its metadata (see :meth:`Registry.declare`); returns ``meta``."""
    REGISTRY.declare(meta, module, qualname, plan_notes)
    return meta


def get_method(name: str) -> type[MethodAdapter]:
    return REGISTRY.get(name)
