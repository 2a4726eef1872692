"""The works the benchmark cites, one entry each, and how a citation to them is written.

Methods (``MethodMeta.citation``), baselines and recipes (:mod:`benchmark.recipes`, shown by the
report) build their citation text from here, so a paper is described once. The texts
:func:`cite` writes are stored with every run, so an entry's fields must not change once runs cite
it (``tests/test_bibliography.py`` pins them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from benchmark.errors import UnknownNameError, did_you_mean

__all__ = ["WORKS", "Work", "cite", "doi_url", "reference", "short", "work"]


@dataclass(frozen=True)
class Work:
    """One cited work.

    Attributes
    ----------
    key
        ``firstauthorYEAR`` (a letter more if needed), how code refers to the work.
    authors
        The author list as a reference prints it (``"Hou J-C, McGonigal A, ..."``).
    year, title, venue
        Publication year, title, and where it appeared as a citation prints it (journal with
        volume and pages, or proceedings), without a final full stop.
    doi
        DOI without prefix, ``""`` when none is cited.
    cited_as
        Author text of the in-line citation (``"Lee et al."``); default: ``authors``.
    short_venue
        Venue of the short in-text form (``"Brain"`` in "Mormann et al., Brain 2007").
    """

    key: str
    authors: str
    year: int
    title: str
    venue: str
    doi: str = ""
    cited_as: str = ""
    short_venue: str = ""


_WORKS = (
    # Published methods (methods/) and the recipes of their papers.
    Work(
        "lee2024",
        "Lee D, Kim B, Kim T, Joe I, Chong J, Min K, Jung K.",
        2024,
        "A ResNet-LSTM hybrid model for predicting epileptic seizures using a pretrained model with supervised "
        "contrastive learning",
        "Sci. Rep. 14 (2024)",
        doi="10.1038/s41598-023-43328-y",
        cited_as="Lee et al.",
    ),
    Work(
        "wang2025",
        "Wang Z, Shi L, Wu H, Luo J, Kong X, Qi J.",
        2025,
        "DistilCLIP-EEG: Enhancing epileptic seizure detection through multi-modal learning and knowledge distillation",
        "IEEE J. Biomed. Health Inform",
        doi="10.1109/JBHI.2025.3603022",
        cited_as="Wang et al.",
    ),
    Work(
        "hou2022",
        "Hou J-C, McGonigal A, Bartolomei F, Thonnat M.",
        2022,
        "A self-supervised pre-training framework for vision-based seizure classification",
        "Proc. IEEE ICASSP 2022, 1151-1155",
        doi="10.1109/ICASSP43922.2022.9746325",
    ),
    Work(
        "li2024",
        "Li C-J, Chou C-C, Shih Y-C, Kuo L-C, Wang Y-T, McGonigal A, Yu H-Y, Hou J-C, Tsao Y.",
        2024,
        "Epileptic seizure classification with patient-level and video-level contrastive pretraining",
        "Proc. 46th Annual International Conference of the IEEE Engineering in Medicine and Biology Society (EMBC)",
    ),
    # EEG baselines (baselines/).
    Work(
        "lawhern2018",
        "Lawhern et al.",
        2018,
        "EEGNet: a compact convolutional neural network for EEG-based brain-computer interfaces",
        "J. Neural Eng. 15(5):056013",
    ),
    Work(
        "schirrmeister2017",
        "Schirrmeister et al.",
        2017,
        "Deep learning with convolutional neural networks for EEG decoding and visualization",
        "Hum. Brain Mapp. 38(11):5391-5420",
    ),
    Work(
        "mormann2007",
        "Mormann et al.",
        2007,
        "Seizure prediction: the long and winding road",
        "Brain 130(2):314-333",
        short_venue="Brain",
    ),
    Work(
        "shoeb2010",
        "Shoeb A, Guttag J.",
        2010,
        "Application of machine learning to epileptic seizure detection",
        "Proc. ICML 2010, 975-982",
        cited_as="Shoeb & Guttag",
        short_venue="ICML",
    ),
    Work(
        "pedregosa2011",
        "Pedregosa et al.",
        2011,
        "Scikit-learn: machine learning in Python",
        "J. Mach. Learn. Res. 12:2825-2830",
        short_venue="JMLR",
    ),
    Work(
        "breiman2001",
        "Breiman L.",
        2001,
        "Random forests",
        "Machine Learning 45(1):5-32",
        cited_as="Breiman",
        short_venue="Machine Learning",
    ),
    # Video baselines (baselines/video_baselines.py).
    Work(
        "karacsony2020",
        "Karácsony et al.",
        2020,
        "A deep learning architecture for epileptic seizure classification based on object and action recognition",
        "Proc. IEEE ICASSP, 4117-4121",
    ),
    Work(
        "karacsony2022",
        "Karácsony et al.",
        2022,
        "Novel 3D video action recognition deep learning approach for near real time epileptic seizure classification",
        "Sci. Rep. 12:19571",
    ),
    Work(
        "tran2018",
        "Tran et al.",
        2018,
        "A closer look at spatiotemporal convolutions for action recognition",
        "Proc. CVPR",
    ),
    Work(
        "perezgarcia2021",
        "Pérez-García et al.",
        2021,
        "Transfer learning of deep spatiotemporal networks to model arbitrarily long videos of seizures",
        "Proc. MICCAI, LNCS 12905, 334-344",
    ),
)

#: Every cited work by key.
WORKS: Mapping[str, Work] = MappingProxyType({w.key: w for w in _WORKS})


def work(key: str) -> Work:
    """The entry of ``key``; an unknown key is an :class:`UnknownNameError` with a suggestion."""
    try:
        return WORKS[key]
    except KeyError:
        hint = did_you_mean(key, WORKS)
        raise UnknownNameError(f"no cited work {key!r}; add a Work entry to benchmark.bibliography.{hint}") from None


def _entry(w: Work, full_authors: bool) -> str:
    authors = w.authors if full_authors or not w.cited_as else w.cited_as
    text = f"{authors} ({w.year}). {w.title}. {w.venue}"
    return f"{text}. doi:{w.doi}" if w.doi else text


def cite(*keys: str) -> str:
    """The citation of one or more works, as ``MethodMeta.citation`` stores it.

    ``Authors (year). Title. Venue. doi:DOI``, works joined by ``"; "``, with a final full stop
    unless the text ends with a DOI; authors as :attr:`Work.cited_as`.
    """
    return _join([work(k) for k in keys], full_authors=False)


def reference(*keys: str) -> str:
    """As :func:`cite` with the full author lists (a recipe's page in the report)."""
    return _join([work(k) for k in keys], full_authors=True)


def _join(works: list[Work], full_authors: bool) -> str:
    text = "; ".join(_entry(w, full_authors) for w in works)
    return text if works[-1].doi else text + "."


def short(key: str) -> str:
    """The short in-text form, ``"Mormann et al., Brain 2007"``."""
    w = work(key)
    return f"{w.cited_as or w.authors}, {w.short_venue or w.venue} {w.year}"


def doi_url(key: str) -> str:
    """``https://doi.org/<doi>`` of the work, ``""`` when it has none."""
    doi = work(key).doi
    return f"https://doi.org/{doi}" if doi else ""
