"""Files uploaded through the emulator: Slack's external upload flow, kept for tests to read.

The flow is files.getUploadURLExternal (reserve an id and a one-time upload URL), a POST
of the bytes to that URL, then files.completeUploadExternal (title it and share it into
a channel). Only a bounded number of files is kept.
"""

from __future__ import annotations

import mimetypes
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from socialdesk.sandbox.slack.api_request import ApiError, invalid_arguments
from socialdesk.sandbox.slack.ids import IdFactory, capability


@dataclass
class UploadedFile:
    id: str
    name: str
    user: str
    created: int
    length: int  # announced size
    content: bytes | None = None  # None until the bytes arrive at the upload URL
    title: str = ""
    channels: list[str] = field(default_factory=list)
    thread_ts: str | None = None
    initial_comment: str | None = None
    complete: bool = False

    @property
    def filetype(self) -> str:
        return self.name.rsplit(".", 1)[-1].lower() if "." in self.name else "binary"

    @property
    def mimetype(self) -> str:
        return mimetypes.guess_type(self.name)[0] or "application/octet-stream"

    def as_slack(self, base_url: str) -> dict[str, Any]:
        shown = f"{base_url}/files/{self.id}/{self.name}"
        return {
            "id": self.id, "created": self.created, "timestamp": self.created, "name": self.name,
            "title": self.title or self.name, "mimetype": self.mimetype, "filetype": self.filetype,
            "pretty_type": self.filetype.upper(), "user": self.user, "editable": False,
            "size": len(self.content or b""), "mode": "hosted", "is_external": False, "external_type": "",
            "is_public": True, "public_url_shared": False, "display_as_bot": False, "username": "",
            "url_private": shown, "url_private_download": shown + "?download=1",
            "permalink": shown, "permalink_public": shown, "comments_count": 0,
            # Slack lists where a file is shared by kind of conversation.
            "channels": [c for c in self.channels if c.startswith("C")],
            "groups": [c for c in self.channels if c.startswith("G")],
            "ims": [c for c in self.channels if c.startswith("D")],
        }


class FileStore:
    def __init__(self, ids: IdFactory, max_files: int = 200) -> None:
        self._ids = ids
        self._max = max_files
        self._files: OrderedDict[str, UploadedFile] = OrderedDict()
        self._upload_keys: dict[str, str] = {}  # secret upload path segment -> file id

    def all(self) -> list[UploadedFile]:
        return [f for f in self._files.values() if f.complete]

    def get(self, file_id: str) -> UploadedFile | None:
        return self._files.get(file_id)

    def reserve(self, name: str, length: int, user: str, now: float) -> tuple[UploadedFile, str]:
        """A new file id and the secret key of its one-time upload URL."""
        file = UploadedFile(self._ids.next("F"), name, user, int(now), length)
        self._files[file.id] = file
        key = capability()
        self._upload_keys[key] = file.id
        while len(self._files) > self._max:
            _, dropped = self._files.popitem(last=False)
            self._upload_keys = {k: v for k, v in self._upload_keys.items() if v != dropped.id}
        return file, key

    def receive(self, key: str, data: bytes) -> UploadedFile | None:
        file_id = self._upload_keys.pop(key, None)  # one use, like Slack's upload URLs
        file = self._files.get(file_id) if file_id else None
        if file is not None:
            file.content = data
        return file

    def complete(self, file_id: str, title: str | None) -> UploadedFile:
        file = self._files.get(file_id)
        if file is None or file.content is None:
            raise ApiError("file_not_found")
        if file.complete:
            raise invalid_arguments([f"file {file_id} was already completed [json-pointer:/files]"])
        file.title = title or file.name
        file.complete = True
        return file

    def add_complete(self, name: str, title: str | None, content: bytes, user: str, now: float) -> UploadedFile:
        """A file uploaded in one step (the legacy files.upload)."""
        file, key = self.reserve(name, len(content), user, now)
        self.receive(key, content)
        return self.complete(file.id, title)
