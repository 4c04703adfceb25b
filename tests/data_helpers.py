"""Helpers for the tests of optimlab.data: synthetic IDX datasets and a local HTTP server.

Nothing here touches the internet: servers bind to 127.0.0.1 on a free port.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import http.server
import socket
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from optimlab.data.idx import encode_idx
from optimlab.data.registry import ROLES, DatasetSpec, FileSpec

NAMES = {
    "train-images": "train-images-idx3-ubyte",
    "train-labels": "train-labels-idx1-ubyte",
    "t10k-images": "t10k-images-idx3-ubyte",
    "t10k-labels": "t10k-labels-idx1-ubyte",
}
ENV_VARS = ("OPTIMLAB_DATA", "OPTIMLAB_CACHE", "OPTIMLAB_OFFLINE", "OPTIMLAB_MIRRORS")


def _no_network(*args: object, **kwargs: object) -> None:
    raise AssertionError("a test tried to use the network")


def isolate_env(monkeypatch, tmp_path: Path, *, network: bool = False) -> Path:
    """Clear optimlab's variables and point the cache at an empty folder; returns it.

    Unless ``network``, also set OPTIMLAB_OFFLINE=1 and make ``urlopen`` fail the
    test. Tests that download say ``network=True`` and point OPTIMLAB_MIRRORS at
    a local server.
    """
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    cache = tmp_path / "cache"
    monkeypatch.setenv("OPTIMLAB_CACHE", str(cache))
    monkeypatch.setenv("OPTIMLAB_OFFLINE", "0" if network else "1")
    if not network:
        monkeypatch.setattr(urllib.request, "urlopen", _no_network)
    return cache


def fill_cache(cache: Path, data: Synthetic) -> dict[str, Path]:
    """Put ``data``'s four .gz files where the loader looks in ``cache``; paths by role."""
    folder = cache / data.spec.name
    folder.mkdir(parents=True, exist_ok=True)
    paths = {role: folder / f"{NAMES[role]}.gz" for role in ROLES}
    for role, path in paths.items():
        path.write_bytes(data.gz(role))
    return paths


@dataclass
class Synthetic:
    """A small MNIST-shaped dataset: arrays, their raw IDX bytes, and a spec naming them."""

    arrays: dict[str, np.ndarray]
    raw: dict[str, bytes]
    spec: DatasetSpec

    def gz(self, role: str) -> bytes:
        return gzip.compress(self.raw[role], mtime=0)

    def write(self, folder: Path, *, compress: bool = True) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        for role in ROLES:
            name = NAMES[role] + (".gz" if compress else "")
            (folder / name).write_bytes(self.gz(role) if compress else self.raw[role])
        return folder


def synthetic(
    name: str = "synthetic",
    *,
    n_train: int = 12,
    n_test: int = 5,
    rows: int = 28,
    cols: int = 28,
    seed: int = 0,
    mirrors: tuple[str, ...] = (),
) -> Synthetic:
    rng = np.random.default_rng(seed)
    arrays = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        arrays[f"{prefix}-images"] = rng.integers(0, 256, size=(n, rows, cols), dtype=np.uint8)
        arrays[f"{prefix}-labels"] = rng.integers(0, 10, size=n, dtype=np.uint8)
    raw = {role: encode_idx(array) for role, array in arrays.items()}
    files = tuple(
        FileSpec(role, NAMES[role], hashlib.sha256(raw[role]).hexdigest(), len(raw[role]))
        for role in ROLES
    )
    return Synthetic(arrays, raw, DatasetSpec(name, files, mirrors))


def dead_url() -> str:
    """A URL on 127.0.0.1 where nothing listens (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/dead/"


@dataclass
class Server:
    """Serves ``routes``: path -> bytes (200), or ("cut", bytes) for a transfer that stops
    halfway while promising the full Content-Length. Other paths get 404."""

    routes: dict[str, bytes | tuple[str, bytes]] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    url: str = ""


@contextlib.contextmanager
def serve(routes: dict[str, bytes | tuple[str, bytes]]) -> Iterator[Server]:
    server_state = Server(routes=dict(routes))

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            server_state.requests.append(self.path)
            body = server_state.routes.get(self.path)
            if body is None:
                self.send_error(404)
                return
            cut = isinstance(body, tuple)
            payload = body[1] if cut else body
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if cut:
                self.wfile.write(payload[: len(payload) // 2])
                self.wfile.flush()
                self.close_connection = True
            else:
                self.wfile.write(payload)

        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    server_state.url = f"http://127.0.0.1:{httpd.server_address[1]}/"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield server_state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def gz_routes(data: Synthetic, prefix: str = "/", **overrides: bytes | tuple[str, bytes]):
    """Routes serving ``data``'s four .gz files under ``prefix``; ``overrides`` by role."""
    routes: dict[str, bytes | tuple[str, bytes]] = {}
    for role in ROLES:
        routes[f"{prefix}{NAMES[role]}.gz"] = overrides.get(role.replace("-", "_"), data.gz(role))
    return routes
