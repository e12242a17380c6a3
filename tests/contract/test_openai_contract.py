"""Contract: the OpenAI-compatible emulator's answers, and what the drafts plugin sends, against
OpenAI's own description (tests/contract/specs/openai/openapi.yaml, OpenAPI 3.1).

Answers are read raw over HTTP (the traffic record redacts keys such as ``prompt_tokens``)
and checked against the schema of their status code: ``CreateChatCompletionResponse``,
``ListModelsResponse``, ``Model``, and ``ErrorResponse`` for 400/401/404/429/500. The
official ``openai`` client must parse the same answers and map the errors to its
exception classes; the plugin's request bodies must be valid ``CreateChatCompletionRequest``s.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import openai
import pytest
from openai.types.chat import ChatCompletionChunk
import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from socialdesk.sandbox.openai import Answer, OpenAIEmulator

SPEC_PATH = Path(__file__).parent / "specs" / "openai" / "openapi.yaml"
SPEC_URI = "urn:socialdesk:openai-openapi"


@functools.cache
def spec() -> dict[str, Any]:
    return yaml.load(SPEC_PATH.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


@functools.cache
def registry() -> Registry:
    return Registry().with_resource(SPEC_URI, Resource.from_contents(spec(), default_specification=DRAFT202012))


def schema(name: str) -> Draft202012Validator:
    return Draft202012Validator({"$ref": f"{SPEC_URI}#/components/schemas/{name}"}, registry=registry())


def problems(name: str, instance: Any) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in schema(name).iter_errors(instance)]


@pytest.fixture
async def llm() -> AsyncIterator[OpenAIEmulator]:
    async with OpenAIEmulator(models=("sandbox-chat", "sandbox-small"), clock=lambda: 1_790_000_000.0) as emulator:
        yield emulator


async def _call(llm: OpenAIEmulator, method: str, path: str, body: Any = None, *,
                key: str | None = "valid") -> tuple[int, dict[str, str], Any]:
    headers = {} if key is None else {"Authorization": f"Bearer {llm.api_key if key == 'valid' else key}"}
    async with aiohttp.ClientSession() as session, \
            session.request(method, f"{llm.api_url}{path}", json=body, headers=headers) as answer:
        return answer.status, dict(answer.headers), await answer.json()


CHAT = {"model": "sandbox-chat", "messages": [{"role": "system", "content": "Be brief."},
                                               {"role": "user", "content": "My order never arrived"}]}


async def test_a_completion_has_openai_shape_and_usage(llm: OpenAIEmulator) -> None:
    llm.queue(Answer("Sorry about that! Could you DM us the order number?"))
    status, _, body = await _call(llm, "POST", "/chat/completions", {**CHAT, "max_tokens": 100})
    assert status == 200 and problems("CreateChatCompletionResponse", body) == []
    assert body["object"] == "chat.completion" and body["id"].startswith("chatcmpl-")
    assert body["created"] == 1_790_000_000 and body["model"] == "sandbox-chat"
    [choice] = body["choices"]
    assert choice["message"]["role"] == "assistant" and choice["finish_reason"] == "stop"
    assert choice["message"]["content"] == "Sorry about that! Could you DM us the order number?"
    usage = body["usage"]
    assert usage["completion_tokens"] == 12 and usage["prompt_tokens"] > 0
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


async def test_max_tokens_cuts_the_answer_with_finish_reason_length(llm: OpenAIEmulator) -> None:
    llm.queue(Answer("one two three four five six"))
    status, _, body = await _call(llm, "POST", "/chat/completions", {**CHAT, "max_tokens": 3})
    assert status == 200 and problems("CreateChatCompletionResponse", body) == []
    assert body["choices"][0]["message"]["content"] == "one two three"
    assert body["choices"][0]["finish_reason"] == "length" and body["usage"]["completion_tokens"] == 3


async def test_models_are_listed_and_looked_up(llm: OpenAIEmulator) -> None:
    status, _, body = await _call(llm, "GET", "/models")
    assert status == 200 and problems("ListModelsResponse", body) == []
    assert [m["id"] for m in body["data"]] == ["sandbox-chat", "sandbox-small"]
    status, _, body = await _call(llm, "GET", "/models/sandbox-small")
    assert status == 200 and problems("Model", body) == []
    status, _, body = await _call(llm, "GET", "/models/gpt-99")
    assert status == 404 and problems("ErrorResponse", body) == [] and body["error"]["code"] == "model_not_found"


@pytest.mark.parametrize(("case", "status", "code"), [
    ("no key", 401, None), ("wrong key", 401, "invalid_api_key"), ("unknown model", 404, "model_not_found"),
    ("no messages", 400, "missing_required_parameter"), ("bad role", 400, "invalid_value"),
    ("zero max_tokens", 400, "integer_below_min_value"), ("rate limited", 429, "rate_limit_exceeded"),
    ("server error", 500, None),
])
async def test_errors_are_openai_error_responses(llm: OpenAIEmulator, case: str, status: int, code: str | None) -> None:
    body: dict[str, Any] = dict(CHAT)
    key: str | None = "valid"
    if case == "no key":
        key = None
    elif case == "wrong key":
        key = "sk-not-the-right-one-1234"
    elif case == "unknown model":
        body["model"] = "gpt-99"
    elif case == "no messages":
        del body["messages"]
    elif case == "bad role":
        body["messages"] = [{"role": "customer", "content": "hi"}]
    elif case == "zero max_tokens":
        body["max_tokens"] = 0
    elif case == "rate limited":
        llm.queue(Answer(status=429, retry_after=7))
    else:
        llm.queue(Answer(status=500))
    got, headers, answer = await _call(llm, "POST", "/chat/completions", body, key=key)
    assert got == status and problems("ErrorResponse", answer) == []
    assert answer["error"]["code"] == code and answer["error"]["message"]
    if status == 429:
        assert headers["Retry-After"] == "7"
    if case == "wrong key":
        assert "sk-not-the-right-one-1234" not in answer["error"]["message"]  # OpenAI shows a masked key


async def test_faults_answer_429_with_retry_after_and_500(llm: OpenAIEmulator) -> None:
    llm.faults.set(rate_limited=1.0, retry_after_seconds=3)
    status, headers, body = await _call(llm, "POST", "/chat/completions", CHAT)
    assert status == 429 and headers["Retry-After"] == "3" and problems("ErrorResponse", body) == []
    llm.faults.set(rate_limited=0.0, server_error=1.0)
    status, _, body = await _call(llm, "POST", "/chat/completions", CHAT)
    assert status == 500 and problems("ErrorResponse", body) == [] and body["error"]["type"] == "server_error"


async def test_streamed_chunks_have_the_stream_response_shape(llm: OpenAIEmulator) -> None:
    llm.queue(Answer("Hello there friend"))
    async with aiohttp.ClientSession() as session, session.post(
            f"{llm.api_url}/chat/completions", json={**CHAT, "stream": True},
            headers={"Authorization": f"Bearer {llm.api_key}"}) as answer:
        assert answer.status == 200 and answer.content_type == "text/event-stream"
        lines = [line for line in (await answer.text()).splitlines() if line.startswith("data: ")]
    assert lines[-1] == "data: [DONE]"
    import json

    chunks = [json.loads(line.removeprefix("data: ")) for line in lines[:-1]]
    # The description marks these two nullable the OpenAPI 3.0 way (``nullable: true``, or not
    # at all for finish_reason), which JSON Schema ignores; OpenAI sends null on every chunk
    # but the last, and the official client types both Optional. Checked without the nulls.
    for chunk in chunks:
        shown = {**chunk, "choices": [{k: v for k, v in c.items() if not (k in ("finish_reason", "logprobs")
                                                                          and v is None)}
                                      for c in chunk["choices"]]}
        assert problems("CreateChatCompletionStreamResponse", shown) in ([], ["choices/0: 'finish_reason' is a "
                                                                               "required property"])
        ChatCompletionChunk.model_validate(chunk)
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks) == "Hello there friend"
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"


async def test_the_official_client_parses_answers_and_maps_errors(llm: OpenAIEmulator) -> None:
    client = openai.AsyncOpenAI(api_key=llm.api_key, base_url=llm.api_url, max_retries=0)
    try:
        llm.queue(Answer("Hi!"), Answer(status=429, retry_after=2), Answer(status=500))
        completion = await client.chat.completions.create(model="sandbox-chat", messages=CHAT["messages"])
        assert completion.choices[0].message.content == "Hi!" and completion.usage is not None
        with pytest.raises(openai.RateLimitError):
            await client.chat.completions.create(model="sandbox-chat", messages=CHAT["messages"])
        with pytest.raises(openai.InternalServerError):
            await client.chat.completions.create(model="sandbox-chat", messages=CHAT["messages"])
        with pytest.raises(openai.NotFoundError):
            await client.chat.completions.create(model="gpt-99", messages=CHAT["messages"])
        models = await client.models.list()
        assert [m.id async for m in models] == ["sandbox-chat", "sandbox-small"]
    finally:
        await client.close()
    bad = openai.AsyncOpenAI(api_key="sk-wrong-wrong-wrong", base_url=llm.api_url, max_retries=0)
    try:
        with pytest.raises(openai.AuthenticationError):
            await bad.chat.completions.create(model="sandbox-chat", messages=CHAT["messages"])
    finally:
        await bad.close()


async def test_requests_are_recorded_whole_without_the_key(llm: OpenAIEmulator) -> None:
    await _call(llm, "POST", "/chat/completions", CHAT)
    [request] = llm.requests
    assert request.json() == CHAT and "Authorization" not in request.headers
    assert llm.completions == [CHAT]


async def test_the_drafts_request_is_a_valid_create_chat_completion_request(llm: OpenAIEmulator) -> None:
    from socialdesk.plugins.drafts.endpoint import DraftEndpoint
    from socialdesk.plugins.drafts.prompt import DraftRequest, Turn, draft_messages
    from socialdesk.plugins.drafts.settings import DraftsSettings

    settings = DraftsSettings(base_url=llm.api_url, model="sandbox-chat", max_tokens=200)
    endpoint = DraftEndpoint(settings, llm.api_key)
    try:
        request = DraftRequest(platform="x", customer="dana", conversation=(Turn("customer", "Where is my order?"),),
                               limits=None, voice_notes="Warm, short.")
        completion = await endpoint.complete(draft_messages(request))
    finally:
        await endpoint.close()
    assert completion.text and completion.prompt_tokens > 0
    [sent] = llm.completions
    assert problems("CreateChatCompletionRequest", sent) == []
    assert sent["model"] == "sandbox-chat" and sent["max_tokens"] == 200
