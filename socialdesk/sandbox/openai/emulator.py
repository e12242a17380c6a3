"""The OpenAI-compatible emulator: ``POST /v1/chat/completions`` and ``GET /v1/models`` on 127.0.0.1.

Answers have the shapes of OpenAI's description (``CreateChatCompletionResponse``,
``CreateChatCompletionStreamResponse`` chunks with ``stream: true``, ``ListModelsResponse``,
``ErrorResponse``): bearer auth with 401s as OpenAI words them, 404 for an unknown model,
400 for a malformed request, 429 with ``Retry-After``, 500. What it says is scripted:

* ``queue(Answer(...))``: the next completions, in order (text, delay, or an error status);
* ``rule(needle, text)``: the answer whenever a request's messages contain ``needle``;
* otherwise ``default_answer``.

``latency_seconds`` delays every completion; ``faults`` (the sandbox's FaultPlan) adds a
share of 429s, 500s, slow and dropped answers. Every request is kept whole, as received,
in ``requests`` (tests check what a client sent; the traffic record is redacted).
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from socialdesk.sandbox.faults import FaultPlan
from socialdesk.sandbox.openai import errors
from socialdesk.sandbox.server import EmulatorServer
from socialdesk.sandbox.traffic import TrafficRecorder

DEFAULT_MODEL = "sandbox-chat"
DEFAULT_ANSWER = ("Thanks for reaching out, and sorry for the trouble. We're looking into it now and will "
                  "follow up here as soon as we know more.")
ROLES = frozenset({"system", "developer", "user", "assistant", "tool"})
MODEL_CREATED = 1_735_689_600  # 2025-01-01: when the sandbox's models "appeared"
# A token here is a word or a punctuation mark: close enough to a BPE count for usage
# figures and for ``max_tokens`` cut-offs, and the same in every run.
_TOKEN = re.compile(r"\w+|[^\w\s]")
MESSAGE_OVERHEAD_TOKENS = 4  # the role and separators OpenAI counts per message


def count_tokens(text: str) -> int:
    return len(_TOKEN.findall(text))


def cut_to_tokens(text: str, limit: int) -> str:
    ends = [m.end() for m in _TOKEN.finditer(text)]
    return text if len(ends) <= limit else text[:ends[limit - 1]] if limit > 0 else ""


@dataclass(frozen=True, slots=True)
class Answer:
    """One scripted completion: its text, or an error ``status`` (401, 429, 500) instead."""

    content: str = DEFAULT_ANSWER
    delay_seconds: float = 0.0
    status: int | None = None
    retry_after: float = 1.0


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # as received, minus Authorization
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


def _message_text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts: only text parts carry text
        return "".join(str(p.get("text", "")) for p in content if isinstance(p, dict) and p.get("type") == "text")
    return ""


class OpenAIEmulator(EmulatorServer):
    name = "openai"

    def __init__(self, *, models: tuple[str, ...] = (DEFAULT_MODEL,), api_key: str | None = None,
                 default_answer: str = DEFAULT_ANSWER, clock: Callable[[], float] = time.time,
                 recorder: TrafficRecorder | None = None, faults: FaultPlan | None = None) -> None:
        super().__init__(recorder, faults)
        self.models = models
        self.api_key = api_key or "sk-sandbox-" + secrets.token_urlsafe(24)
        self.default_answer = default_answer
        self.latency_seconds = 0.0
        self.clock = clock
        self.requests: list[RecordedRequest] = []
        self._queue: deque[Answer] = deque()
        self._rules: list[tuple[str, str]] = []

    @property
    def api_url(self) -> str:
        """What OpenAI clients take as ``base_url``."""
        return f"{self.base_url}/v1"

    # --- scripting ---------------------------------------------------------------------------
    def queue(self, *answers: Answer) -> None:
        self._queue.extend(answers)

    def rule(self, needle: str, content: str) -> None:
        """Answer ``content`` to any request whose messages contain ``needle`` (case-insensitive)."""
        self._rules.append((needle.casefold(), content))

    def reset(self) -> None:
        self._queue.clear()
        self._rules.clear()
        self.latency_seconds = 0.0
        self.faults.clear()

    @property
    def completions(self) -> list[dict[str, Any]]:
        """The JSON bodies of every chat-completions request received, oldest first."""
        return [r.json() for r in self.requests if r.path.endswith("/chat/completions") and r.method == "POST"]

    def _next_answer(self, messages: list[dict[str, Any]]) -> Answer:
        if self._queue:
            return self._queue.popleft()
        said = "\n".join(_message_text(m) for m in messages).casefold()
        for needle, content in self._rules:
            if needle in said:
                return Answer(content)
        return Answer(self.default_answer)

    # --- server plumbing ---------------------------------------------------------------------
    def setup(self, app: web.Application) -> None:
        app.middlewares.insert(0, self._keep_request)
        app.router.add_post("/v1/chat/completions", self._chat_completions)
        app.router.add_get("/v1/models", self._list_models)
        app.router.add_get("/v1/models/{model}", self._get_model)

    def error_response(self, request: web.Request, status: int) -> web.StreamResponse:
        if status == 429:
            return errors.rate_limited(self.models[0], self.faults.retry_after_seconds)
        return errors.server_error()

    @web.middleware
    async def _keep_request(self, request: web.Request, handler: Any) -> web.StreamResponse:
        body = await request.read() if request.can_read_body else b""
        headers = {k: v for k, v in request.headers.items() if k.lower() != "authorization"}
        self.requests.append(RecordedRequest(request.method, request.path, headers, body))
        return await handler(request)

    def _refused(self, request: web.Request) -> web.Response | None:
        header = request.headers.get("Authorization", "")
        scheme, _, given = header.partition(" ")
        if scheme.lower() != "bearer" or not given.strip():
            return errors.missing_key()
        if not secrets.compare_digest(given.strip().encode(), self.api_key.encode()):
            return errors.wrong_key(given.strip())
        return None

    # --- endpoints ---------------------------------------------------------------------------
    def _model_json(self, model: str) -> dict[str, Any]:
        return {"id": model, "object": "model", "created": MODEL_CREATED, "owned_by": "socialdesk-sandbox"}

    async def _list_models(self, request: web.Request) -> web.Response:
        refused = self._refused(request)
        if refused is not None:
            return refused
        return web.json_response({"object": "list", "data": [self._model_json(m) for m in self.models]})

    async def _get_model(self, request: web.Request) -> web.Response:
        refused = self._refused(request)
        if refused is not None:
            return refused
        model = request.match_info["model"]
        return web.json_response(self._model_json(model)) if model in self.models else errors.unknown_model(model)

    async def _chat_completions(self, request: web.Request) -> web.StreamResponse:
        refused = self._refused(request)
        if refused is not None:
            return refused
        try:
            body = json.loads(await request.read())
        except ValueError:
            return errors.invalid("We could not parse the JSON body of your request. (HINT: This likely means you "
                                  "aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, "
                                  "but what was sent was not valid JSON.)", None)
        problem = _request_problem(body)
        if problem is not None:
            return problem
        model = body["model"]
        if model not in self.models:
            return errors.unknown_model(model)
        answer = self._next_answer(body["messages"])
        delay = self.latency_seconds + answer.delay_seconds
        if delay > 0:
            await asyncio.sleep(delay)
        if answer.status == 429:
            return errors.rate_limited(model, answer.retry_after)
        if answer.status == 401:
            return errors.wrong_key("sk-revoked-key")
        if answer.status is not None:
            return errors.server_error()
        limit = body.get("max_completion_tokens") or body.get("max_tokens")
        content = answer.content
        finish_reason = "stop"
        if limit is not None and count_tokens(content) > limit:
            content, finish_reason = cut_to_tokens(content, int(limit)), "length"
        completion_id = f"chatcmpl-{secrets.token_hex(12)}"
        created = int(self.clock())
        prompt_tokens = sum(count_tokens(_message_text(m)) + MESSAGE_OVERHEAD_TOKENS for m in body["messages"])
        completion_tokens = count_tokens(content)
        n = int(body.get("n") or 1)
        if body.get("stream"):
            return await self._stream(request, completion_id, created, model, content, finish_reason, n)
        return web.json_response({
            "id": completion_id, "object": "chat.completion", "created": created, "model": model,
            "choices": [{"index": i, "message": {"role": "assistant", "content": content, "refusal": None,
                                                 "annotations": []},
                         "logprobs": None, "finish_reason": finish_reason} for i in range(n)],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens * n,
                      "total_tokens": prompt_tokens + completion_tokens * n,
                      "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                      "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                                                    "accepted_prediction_tokens": 0,
                                                    "rejected_prediction_tokens": 0}},
            "service_tier": "default", "system_fingerprint": "fp_sandbox",
        })

    async def _stream(self, request: web.Request, completion_id: str, created: int, model: str, content: str,
                      finish_reason: str, n: int) -> web.StreamResponse:
        """``text/event-stream`` of ``chat.completion.chunk`` objects, then ``data: [DONE]``."""
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await response.prepare(request)

        def chunk(index: int, delta: dict[str, Any], finish: str | None) -> bytes:
            data = {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": model,
                    "system_fingerprint": "fp_sandbox",
                    "choices": [{"index": index, "delta": delta, "logprobs": None, "finish_reason": finish}]}
            return f"data: {json.dumps(data)}\n\n".encode()

        pieces = re.findall(r"\S+\s*|\s+", content)
        for index in range(n):
            await response.write(chunk(index, {"role": "assistant", "content": ""}, None))
            for piece in pieces:
                await response.write(chunk(index, {"content": piece}, None))
            await response.write(chunk(index, {}, finish_reason))
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response


def _request_problem(body: Any) -> web.Response | None:
    """The 400 OpenAI answers to a malformed CreateChatCompletionRequest, or ``None``."""
    if not isinstance(body, dict):
        return errors.invalid("Invalid type for request body: expected an object.", None, "invalid_type")
    if not isinstance(body.get("model"), str) or not body["model"]:
        return errors.invalid("you must provide a model parameter", None)
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return errors.invalid("Missing required parameter: 'messages'." if messages is None
                              else "Invalid 'messages': empty array. Expected an array with minimum length 1, "
                                   "but got an empty array instead.", "messages",
                              "missing_required_parameter" if messages is None else "empty_array")
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in ROLES:
            return errors.invalid(f"Invalid value for 'messages[{index}].role': expected one of system, developer, "
                                  "user, assistant or tool.", f"messages[{index}].role", "invalid_value")
        if not isinstance(message.get("content"), (str, list)) and message.get("role") != "assistant":
            return errors.invalid(f"Missing required parameter: 'messages[{index}].content'.",
                                  f"messages[{index}].content", "missing_required_parameter")
    for key in ("max_tokens", "max_completion_tokens", "n"):
        value = body.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
            return errors.invalid(f"Invalid '{key}': integer below minimum value. Expected a value >= 1, but got "
                                  f"{value} instead.", key, "integer_below_min_value")
    temperature = body.get("temperature")
    if temperature is not None and (not isinstance(temperature, (int, float)) or not 0 <= temperature <= 2):
        return errors.invalid(f"Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got "
                              f"{temperature} instead.", "temperature", "decimal_above_max_value")
    return None
