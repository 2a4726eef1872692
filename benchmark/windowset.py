"""WindowSet: the windows an adapter trains or predicts on, streamed from disk.

A window set is a list of row references into one or more on-disk arrays (``np.memmap`` of the
window cache), plus per-window metadata (patient, recording, start, end). Rows are read only when
asked for, batch by batch, so memory does not grow with the hours of EEG.

Test sets are handed to adapters with ``y = None``: the labels stay with the harness. In a run, the
identifiers and times of every set a method gets are pseudonymous (:mod:`benchmark.pseudonyms`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from benchmark.window_store import scaled


@dataclass
class WindowSet:
    """Windows of one representation, possibly drawn from several cached arrays.

    Parameters
    ----------
    sources
        Arrays (usually read-only ``np.memmap``) of shape ``(n_rows, *window_shape)``.
    refs
        ``(n, 2)`` int array of ``(source index, row)`` for each window of the set, in order.
    meta
        One row per window: ``patient``, ``recording``, ``start``, ``end`` (seconds), ``unit`` (the
        split unit it belongs to). Never contains labels. In a run these are pseudonyms and shifted
        times: equal ids are equal and keep their sort order across the fold's sets, and durations
        and start-time differences within a recording are real (so consecutive windows can be
        chained), but neither ids nor times match the dataset's files.
    y
        Integer class labels, or ``None`` when hidden (test sets).
    classes
        Class names; for binary tasks ``classes[1]`` is the positive class.
    info
        Representation details: ``representation``, ``sfreq``, ``ch_names``, ...; in a run also
        ``dataset``, ``patients`` and ``montages`` keyed by the same pseudonyms as ``meta``.
    """

    sources: Sequence[np.ndarray]
    refs: np.ndarray
    meta: pd.DataFrame
    y: np.ndarray | None
    classes: tuple[str, ...]
    info: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.refs = np.asarray(self.refs, dtype=np.int64).reshape(-1, 2)
        if len(self.meta) != len(self.refs):
            raise ValueError("meta and refs must have one row per window")
        if len(self.refs) and (self.refs[:, 0].min() < 0 or self.refs[:, 0].max() >= len(self.sources)):
            raise ValueError(
                f"refs name a source outside the {len(self.sources)} given; give one array per source index"
            )
        if self.y is not None:
            self.y = np.asarray(self.y, dtype=np.int64)
            if len(self.y) != len(self.refs):
                raise ValueError("y must have one label per window")

    def __len__(self) -> int:
        return len(self.refs)

    @property
    def window_shape(self) -> tuple[int, ...]:
        if not self.sources:
            return ()
        return tuple(self.sources[0].shape[1:])

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    def get(self, idx, out: np.ndarray | None = None) -> np.ndarray:
        """Return the windows at positions ``idx`` (int array or slice) as a float32 array.

        Video clips are cached as uint8 pixels and returned scaled to [0, 1]. ``out``, a float32
        array of shape ``(len(idx), *window_shape)``, receives the windows instead of a new array
        (e.g. pinned memory a GPU copies from; see :func:`benchmark.torch_utils.prefetched`).
        """
        refs = self.refs[idx]
        if refs.ndim == 1:
            if out is not None:
                raise ValueError("out is for a batch of windows; index with an array or a slice")
            return scaled(np.asarray(self.sources[refs[0]][refs[1]]))
        shape = (len(refs), *self.window_shape)
        if out is not None and (out.shape != shape or out.dtype != np.float32):
            raise ValueError(f"out must be a float32 array of shape {shape}, not {out.dtype} {out.shape}")
        if len(self.sources) == 1:  # the usual case: no grouping by source
            groups = [(self.sources[0], refs[:, 1], np.arange(len(refs)))]
        else:
            groups = [
                (self.sources[s], refs[mask, 1], np.flatnonzero(mask))
                for s in np.unique(refs[:, 0])
                for mask in [refs[:, 0] == s]
            ]
        one, rows, _ = groups[0] if len(groups) == 1 else (None, None, None)  # none: an empty batch
        if one is not None and not hasattr(one, "read_into") and len(rows) > 1 and np.all(rows[1:] >= rows[:-1]):
            # Rows asked for in order from one array: read straight into the result, no scattered writes.
            block = scaled(np.asarray(one[rows]))
            if out is None:
                return np.ascontiguousarray(block)  # as a fresh array would be, whatever the source's order
            out[:] = block
            return out
        if out is None:
            out = np.empty(shape, dtype=np.float32)
        for source, rows, dest in groups:
            if hasattr(source, "read_into"):  # a cache entry writes its windows in place
                source.read_into(rows, out, dest)
                continue
            # Fancy indexing on a memmap needs sorted rows to read sequentially.
            order = np.argsort(rows, kind="stable")
            out[dest[order]] = scaled(np.asarray(source[rows[order]]))
        return out

    def load(self) -> np.ndarray:
        """All windows in memory. Fine for small sets; prefer :meth:`iter_batches` otherwise."""
        return self.get(np.arange(len(self)))

    def iter_batches(
        self,
        batch_size: int,
        shuffle: bool = False,
        rng: np.random.Generator | None = None,
    ) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
        """Yield ``(X, y)`` batches; ``y`` is ``None`` for sets without labels."""
        for idx in self.batch_indices(batch_size, shuffle, rng):
            yield self.get(idx), (None if self.y is None else self.y[idx])

    def batch_indices(
        self, batch_size: int, shuffle: bool = False, rng: np.random.Generator | None = None
    ) -> list[np.ndarray]:
        """The positions of each batch :meth:`iter_batches` yields, in order (shuffled once, here)."""
        order = np.arange(len(self))
        if shuffle:
            (rng or np.random.default_rng(0)).shuffle(order)
        return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]

    def subset(self, idx) -> WindowSet:
        idx = np.asarray(idx)
        return WindowSet(
            sources=self.sources,
            refs=self.refs[idx],
            meta=self.meta.iloc[idx].reset_index(drop=True),
            y=None if self.y is None else self.y[idx],
            classes=self.classes,
            info=dict(self.info),
        )

    def without_labels(self) -> WindowSet:
        """The same windows with labels removed: what an adapter sees at test time."""
        return WindowSet(self.sources, self.refs, self.meta.copy(), None, self.classes, dict(self.info))

    @staticmethod
    def concat(sets: Sequence[WindowSet]) -> WindowSet:
        """Concatenate window sets (sharing sources where they are the same objects)."""
        sets = [s for s in sets if len(s)]
        if not sets:
            raise ValueError("nothing to concatenate")
        sources: list[np.ndarray] = []
        ids: dict[int, int] = {}
        refs, metas, ys = [], [], []
        for s in sets:
            remap = np.empty(len(s.sources), dtype=np.int64)
            for i, src in enumerate(s.sources):
                key = id(src)
                if key not in ids:
                    ids[key] = len(sources)
                    sources.append(src)
                remap[i] = ids[key]
            r = s.refs.copy()
            r[:, 0] = remap[r[:, 0]]
            refs.append(r)
            metas.append(s.meta)
            ys.append(s.y)
        y = None if any(v is None for v in ys) else np.concatenate(ys)
        return WindowSet(
            sources, np.concatenate(refs), pd.concat(metas, ignore_index=True), y, sets[0].classes, dict(sets[0].info)
        )
