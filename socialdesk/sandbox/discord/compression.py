"""Gateway transport compression, one stream per connection, chosen by ``?compress=`` in the URL.

``zlib-stream``: one zlib context for the whole connection, every payload ends with a
Z_SYNC_FLUSH (``00 00 ff ff``) — the suffix discord.py waits for before inflating.
``zstd-stream``: one zstd frame for the connection, each payload flushed as a block; discord.py
asks for it only when a zstd module is importable, and so does this.
"""

from __future__ import annotations

import zlib
from typing import Any, Protocol

try:  # the same two sources discord.py tries
    import zstandard as _zstandard  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - depends on the environment
    _zstandard = None
try:
    from compression import zstd as _stdlib_zstd  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - Python < 3.14
    _stdlib_zstd = None


class Compressor(Protocol):
    def compress(self, data: bytes) -> bytes: ...


class ZlibStream:
    def __init__(self) -> None:
        self._context = zlib.compressobj()

    def compress(self, data: bytes) -> bytes:
        return self._context.compress(data) + self._context.flush(zlib.Z_SYNC_FLUSH)


class ZstdStream:
    def __init__(self) -> None:
        self._context: Any
        if _zstandard is not None:
            self._context = _zstandard.ZstdCompressor().compressobj()
        elif _stdlib_zstd is not None:
            self._context = _stdlib_zstd.ZstdCompressor()
        else:
            raise RuntimeError("no zstd module available")

    def compress(self, data: bytes) -> bytes:
        if _zstandard is not None:
            return self._context.compress(data) + self._context.flush(_zstandard.COMPRESSOBJ_FLUSH_BLOCK)
        return self._context.compress(data, mode=_stdlib_zstd.ZstdCompressor.FLUSH_BLOCK)


def supported() -> tuple[str, ...]:
    names = ["zlib-stream"]
    if _zstandard is not None or _stdlib_zstd is not None:
        names.append("zstd-stream")
    return tuple(names)


def compressor_for(name: str | None) -> Compressor | None:
    """The compressor for ``?compress=name``; None for plain JSON text frames."""
    if not name:
        return None
    if name == "zlib-stream":
        return ZlibStream()
    if name == "zstd-stream" and name in supported():
        return ZstdStream()
    raise ValueError(f"unsupported gateway compression {name!r}")
