"""The chat-completions endpoint, through the official ``openai`` client pointed at ``base_url``.

Any OpenAI-compatible server works (OpenAI, a self-hosted vLLM or Ollama, a gateway).
The client is the maintained one rather than hand-written HTTP: it speaks the same
protocol to all of them, parses ``Retry-After`` and maps status codes to exceptions.
Every failure becomes :class:`DraftUnavailable` with a line an agent can read in the form.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import openai
from openai import AsyncOpenAI

from socialdesk.core.secrets import redact
from socialdesk.plugins.drafts.settings import PLUGIN_NAME, DraftsSettings

log = logging.getLogger(__name__)


class DraftUnavailable(Exception):
    """No answer from the endpoint; the message is shown in the form as it is."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind  # timeout, rate_limited, refused, failed, unreachable, empty


@dataclass(frozen=True, slots=True)
class Completion:
    text: str
    prompt_tokens: int
    completion_tokens: int
    truncated: bool  # the model hit max_tokens


def _retry_after(exc: openai.APIStatusError) -> str:
    seconds = exc.response.headers.get("retry-after")
    return f"; try again in {seconds} s" if seconds and seconds.replace(".", "", 1).isdigit() else "; try again soon"


class DraftEndpoint:
    def __init__(self, settings: DraftsSettings, api_key: str | None) -> None:
        self.settings = settings
        self.model = settings.model or ""
        # An endpoint without keys still gets a (non-secret) placeholder: the client insists on one.
        self._client = AsyncOpenAI(api_key=api_key or "no-key", base_url=settings.base_url,
                                   timeout=settings.timeout_seconds, max_retries=settings.max_retries)

    async def complete(self, messages: list[dict[str, str]], *, max_tokens: int | None = None) -> Completion:
        try:
            answer: Any = await self._client.chat.completions.create(
                model=self.model, messages=messages,  # type: ignore[arg-type]
                max_tokens=max_tokens or self.settings.max_tokens, temperature=self.settings.temperature)
        except openai.APITimeoutError:
            raise DraftUnavailable(f"the model endpoint did not answer within {self.settings.timeout_seconds:g} s",
                                   "timeout") from None
        except openai.RateLimitError as exc:
            raise DraftUnavailable("the model endpoint is rate limited" + _retry_after(exc), "rate_limited") from None
        except (openai.AuthenticationError, openai.PermissionDeniedError) as exc:
            raise DraftUnavailable(f"the model endpoint refused the API key (HTTP {exc.status_code}); ask an admin "
                                   f"to check plugins.{PLUGIN_NAME}.api_key_env", "refused") from None
        except openai.NotFoundError:
            raise DraftUnavailable(f"the model endpoint has no model {self.model!r}; ask an admin to check "
                                   f"plugins.{PLUGIN_NAME}.model", "refused") from None
        except openai.APIStatusError as exc:
            log.warning("draft endpoint failed", extra={"status": exc.status_code, "error": redact(str(exc))[:300]})
            raise DraftUnavailable(f"the model endpoint failed (HTTP {exc.status_code})", "failed") from None
        except openai.APIConnectionError as exc:
            log.warning("draft endpoint unreachable", extra={"error": redact(str(exc))[:300]})
            raise DraftUnavailable("the model endpoint is not reachable", "unreachable") from None
        choices = getattr(answer, "choices", None) or []
        text = (choices[0].message.content or "").strip() if choices else ""
        usage = getattr(answer, "usage", None)
        completion = Completion(text, int(getattr(usage, "prompt_tokens", 0) or 0),
                                int(getattr(usage, "completion_tokens", 0) or 0),
                                bool(choices) and choices[0].finish_reason == "length")
        if not text:
            raise DraftUnavailable("the model answered with no text", "empty")
        return completion

    async def models(self) -> list[str]:
        """The models the endpoint serves (``GET /models``), for ``socialdesk check --online``."""
        try:
            page = await self._client.models.list()
            return [model.id async for model in page]
        except openai.APITimeoutError:
            raise DraftUnavailable(f"the model endpoint did not answer within {self.settings.timeout_seconds:g} s",
                                   "timeout") from None
        except (openai.AuthenticationError, openai.PermissionDeniedError) as exc:
            raise DraftUnavailable(f"the model endpoint refused the API key (HTTP {exc.status_code}); check the "
                                   f"variable plugins.{PLUGIN_NAME}.api_key_env names", "refused") from None
        except openai.APIStatusError as exc:
            raise DraftUnavailable(f"the model endpoint answered HTTP {exc.status_code} to GET /models",
                                   "failed") from None
        except openai.APIConnectionError:
            raise DraftUnavailable(f"the model endpoint at {self.settings.base_url} is not reachable",
                                   "unreachable") from None

    async def close(self) -> None:
        await self._client.close()
