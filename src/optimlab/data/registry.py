"""The known datasets: file names, published checksums, sizes and mirrors.

``DATASETS`` is the single table the loader consults; tests may swap an entry
(for example with ``monkeypatch.setitem``) to exercise the verified path with
synthetic files.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DATASETS", "ROLES", "DatasetSpec", "FileSpec", "get_dataset", "identify"]

#: The four files of an MNIST-style dataset, in the order they are loaded.
ROLES = ("train-images", "train-labels", "t10k-images", "t10k-labels")

_FILE_NAMES = {
    "train-images": "train-images-idx3-ubyte",
    "train-labels": "train-labels-idx1-ubyte",
    "t10k-images": "t10k-images-idx3-ubyte",
    "t10k-labels": "t10k-labels-idx1-ubyte",
}

# Decompressed sizes are identical for MNIST and Fashion-MNIST.
_SIZES = {
    "train-images": 16 + 60_000 * 28 * 28,
    "train-labels": 8 + 60_000,
    "t10k-images": 16 + 10_000 * 28 * 28,
    "t10k-labels": 8 + 10_000,
}


@dataclass(frozen=True)
class FileSpec:
    """One file of a dataset: ``name`` is the uncompressed IDX name (no ``.gz``)."""

    role: str
    name: str
    sha256: str
    size: int


@dataclass(frozen=True)
class DatasetSpec:
    """A dataset: its four files, mirrors tried in order, and whether it ships in the package."""

    name: str
    files: tuple[FileSpec, ...]
    mirrors: tuple[str, ...]
    packaged: bool = False

    def file(self, role: str) -> FileSpec:
        for spec in self.files:
            if spec.role == role:
                return spec
        raise KeyError(role)


def _files(sha256: dict[str, str]) -> tuple[FileSpec, ...]:
    return tuple(FileSpec(role, _FILE_NAMES[role], sha256[role], _SIZES[role]) for role in ROLES)


DATASETS: dict[str, DatasetSpec] = {
    "mnist": DatasetSpec(
        name="mnist",
        files=_files(
            {
                "train-images": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
                "train-labels": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
                "t10k-images": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
                "t10k-labels": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
            }
        ),
        mirrors=(
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "http://yann.lecun.com/exdb/mnist/",
        ),
        packaged=True,
    ),
    "fashion-mnist": DatasetSpec(
        name="fashion-mnist",
        files=_files(
            {
                "train-images": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
                "train-labels": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
                "t10k-images": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
                "t10k-labels": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
            }
        ),
        mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
    ),
}


def get_dataset(name: str) -> DatasetSpec:
    """Return the spec for ``name``; a ``ValueError`` lists the valid names otherwise."""
    try:
        return DATASETS[name]
    except (KeyError, TypeError):
        valid = ", ".join(repr(key) for key in DATASETS)
        raise ValueError(f"unknown dataset {name!r}; valid names are {valid}") from None


def identify(sha256: str) -> tuple[str, str] | None:
    """Return ``(dataset, role)`` of a known file with this digest, if any."""
    for dataset in DATASETS.values():
        for spec in dataset.files:
            if spec.sha256 == sha256:
                return dataset.name, spec.role
    return None
