"""Where a dataset's files come from, in order: a folder the user names, the
package, then the user cache (filled from mirrors unless offline).

Environment variables (read only by ``Settings.from_env``):

- ``OPTIMLAB_DATA``: a folder holding the four files, used when no
  ``data_dir`` argument is given.
- ``OPTIMLAB_CACHE``: the cache folder (default ``$XDG_CACHE_HOME/optimlab``,
  else ``~/.cache/optimlab``).
- ``OPTIMLAB_OFFLINE``: ``1``/``true``/``yes``/``on`` forbids network access;
  ``0``/``false``/``no``/``off`` or empty allows it; anything else is a ``SettingError``.
- ``OPTIMLAB_MIRRORS``: whitespace- or comma-separated base URLs tried instead of
  the dataset's built-in mirror list.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from .download import download, manual_instructions
from .errors import DataError, DataNotFoundError, OfflineError, SettingError
from .idx import gunzip
from .idx import read_payload as _read_payload
from .integrity import check_supplied, require
from .registry import DatasetSpec, FileSpec

__all__ = [
    "ENV_CACHE",
    "ENV_DATA",
    "ENV_MIRRORS",
    "ENV_OFFLINE",
    "Payload",
    "Settings",
    "cache_path",
    "default_cache_dir",
    "find_in_folder",
    "obtain",
    "parse_flag",
]

ENV_DATA = "OPTIMLAB_DATA"
ENV_CACHE = "OPTIMLAB_CACHE"
ENV_OFFLINE = "OPTIMLAB_OFFLINE"
ENV_MIRRORS = "OPTIMLAB_MIRRORS"

_log = logging.getLogger(__name__)
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off", "")


def parse_flag(name: str, value: str | None) -> bool:
    """An environment flag: ``1/true/yes/on`` -> True, ``0/false/no/off``, empty or unset
    -> False (any case); ``SettingError`` naming ``name`` and the valid spellings otherwise."""
    text = "" if value is None else value.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise SettingError(
        f"{name}={value!r} is not a yes/no value; valid: {', '.join(_TRUE)} (offline) "
        f"or {', '.join(_FALSE[:-1])} or empty (online)"
    )


def _origin_of_cache(environ: Mapping[str, str]) -> str:
    if environ.get(ENV_CACHE):
        return ENV_CACHE
    return "XDG_CACHE_HOME" if environ.get("XDG_CACHE_HOME") else "the default"


def default_cache_dir(environ: Mapping[str, str]) -> Path:
    """``$OPTIMLAB_CACHE``, else ``$XDG_CACHE_HOME/optimlab``, else ``~/.cache/optimlab``."""
    if environ.get(ENV_CACHE):
        return Path(environ[ENV_CACHE]).expanduser()
    if environ.get("XDG_CACHE_HOME"):
        return Path(environ["XDG_CACHE_HOME"]).expanduser() / "optimlab"
    return Path("~/.cache/optimlab").expanduser()


@dataclass(frozen=True)
class Settings:
    """Everything the environment decides about locating data."""

    data_dir: Path | None = None
    data_dir_origin: str = "data_dir"
    cache_dir: Path = field(default_factory=lambda: default_cache_dir(os.environ))
    cache_dir_origin: str = "the default"
    offline: bool = False
    mirrors: tuple[str, ...] | None = None

    @classmethod
    def from_env(
        cls, data_dir: os.PathLike | str | None = None, environ: Mapping[str, str] | None = None
    ) -> Settings:
        env = os.environ if environ is None else environ
        origin = "data_dir"
        if data_dir is None and env.get(ENV_DATA):
            data_dir, origin = env[ENV_DATA], ENV_DATA
        mirrors = tuple(url for url in re.split(r"[\s,]+", env.get(ENV_MIRRORS, "")) if url)
        return cls(
            data_dir=None if data_dir is None else Path(data_dir).expanduser(),
            data_dir_origin=origin,
            cache_dir=default_cache_dir(env),
            cache_dir_origin=_origin_of_cache(env),
            offline=parse_flag(ENV_OFFLINE, env.get(ENV_OFFLINE)),
            mirrors=mirrors or None,
        )


@dataclass(frozen=True)
class Payload:
    """A file's decompressed IDX bytes, where they came from, and whether they were verified."""

    data: bytes
    source: str
    verified: bool


def read_payload(path: Path) -> bytes:
    """:func:`optimlab.data.idx.read_payload`; an unreadable file is a ``DataError`` naming it."""
    try:
        return _read_payload(path)
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from None


def find_in_folder(folder: Path, spec: FileSpec) -> Path | None:
    """The file for ``spec`` in ``folder``: ``NAME.gz`` preferred, then raw ``NAME``."""
    for candidate in (folder / f"{spec.name}.gz", folder / spec.name):
        if candidate.is_file():
            return candidate
    return None


def cache_path(settings: Settings, dataset: DatasetSpec, spec: FileSpec) -> Path:
    return settings.cache_dir / dataset.name / f"{spec.name}.gz"


def _from_folder(dataset: DatasetSpec, settings: Settings) -> dict[str, Payload]:
    folder = settings.data_dir
    assert folder is not None
    where = f"{folder} (from {settings.data_dir_origin})"
    if not folder.is_dir():
        raise DataNotFoundError(f"data folder {where} does not exist or is not a folder")
    if not os.access(folder, os.R_OK | os.X_OK):
        raise DataError(f"cannot read data folder {where}: permission denied")
    found = {spec.role: find_in_folder(folder, spec) for spec in dataset.files}
    missing = [spec.name for spec in dataset.files if found[spec.role] is None]
    if missing:
        wanted = ", ".join(f"{name}[.gz]" for name in missing)
        raise DataNotFoundError(
            f"data folder {where} lacks {wanted}; it must hold the four files "
            + ", ".join(f"{spec.name}[.gz]" for spec in dataset.files)
        )
    payloads = {}
    for spec in dataset.files:
        path = found[spec.role]
        assert path is not None  # checked above
        data = read_payload(path)
        verified = check_supplied(data, spec, dataset=dataset.name, source=str(path))
        payloads[spec.role] = Payload(data, str(path), verified)
    return payloads


def _from_package(dataset: DatasetSpec, spec: FileSpec) -> Payload | None:
    if not dataset.packaged:
        return None
    resource = resources.files(__package__) / dataset.name / f"{spec.name}.gz"
    if not resource.is_file():
        return None
    source = f"{resource} (packaged with optimlab)"
    data = gunzip(resource.read_bytes(), source=source)
    require(data, spec, dataset=dataset.name, source=f"{source}; reinstall optimlab")
    return Payload(data, source, True)


def _from_cache(dataset: DatasetSpec, spec: FileSpec, settings: Settings) -> Payload:
    path = cache_path(settings, dataset, spec)
    problem = ""
    if path.is_file():
        try:
            data = read_payload(path)
            require(data, spec, dataset=dataset.name, source=str(path))
            return Payload(data, str(path), True)
        except DataError as exc:
            _log.warning("removing corrupt cached file %s: %s", path, exc)
            _remove(path, settings)
            problem = f" (the cached copy was corrupt and has been removed: {exc})"
    mirrors = settings.mirrors if settings.mirrors is not None else dataset.mirrors
    if settings.offline:
        raise OfflineError(
            f"{ENV_OFFLINE}=1 forbids network access, and {dataset.name}'s {spec.name} "
            f"is not in the cache at {path}{problem}.\n"
            f"{manual_instructions(dataset, mirrors)}"
        )
    _check_cache_folder(path.parent, settings)
    data = download(spec, dataset, path, mirrors=mirrors)
    return Payload(data, str(path), True)


def _cache_problem(settings: Settings, what: str) -> SettingError:
    return SettingError(
        f"cache folder {settings.cache_dir} (from {settings.cache_dir_origin}) {what}; "
        f"set {ENV_CACHE} to a writable folder"
    )


def _remove(path: Path, settings: Settings) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:
        raise _cache_problem(settings, f"is not writable ({exc.strerror or exc})") from None


def _check_cache_folder(folder: Path, settings: Settings) -> None:
    """Make ``folder`` (in the cache) and check a file can be written there, creating no
    folder that stays empty when it cannot; ``SettingError`` naming the cache otherwise."""
    for parent in (settings.cache_dir, *settings.cache_dir.parents):
        if parent.exists():
            if not parent.is_dir():
                raise _cache_problem(settings, f"cannot be created: {parent} is a file")
            break
    created = [p for p in (folder, *folder.parents) if not p.exists()]
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".probe-{os.getpid()}"
        probe.touch()
        probe.unlink()
    except OSError as exc:
        for p in created:  # deepest first: leave no empty folder behind
            with contextlib.suppress(OSError):
                p.rmdir()
        raise _cache_problem(settings, f"is not writable ({exc.strerror or exc})") from None


def obtain(dataset: DatasetSpec, settings: Settings) -> dict[str, Payload]:
    """The decompressed bytes of ``dataset``'s four files, keyed by role."""
    if settings.data_dir is not None:
        return _from_folder(dataset, settings)
    payloads = {}
    for spec in dataset.files:
        payload = _from_package(dataset, spec)
        payloads[spec.role] = payload or _from_cache(dataset, spec, settings)
    return payloads
