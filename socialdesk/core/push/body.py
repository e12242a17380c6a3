"""Reading a pushed body without ever holding more than the limit.

A declared ``Content-Length`` over the limit is refused before one byte is read; a
body sent without one (chunked) is read until it passes the limit, then refused.
"""

from __future__ import annotations

from aiohttp import web

CHUNK_BYTES = 16 * 1024


class BodyTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"the body is larger than {limit} bytes")
        self.limit = limit


async def read_bounded(request: web.Request, limit: int) -> bytes:
    declared = request.content_length
    if declared is not None and declared > limit:
        raise BodyTooLarge(limit)
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = await request.content.read(CHUNK_BYTES)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(limit)
        chunks.append(chunk)
