"""``[plugins.drafts]``: validated once at start-up; every message names the fix.

The API key is never here, only the NAME of the environment variable holding it (and
none at all for a self-hosted endpoint without keys).
"""

from __future__ import annotations

import re

from pydantic import Field, field_validator, model_validator
from yarl import URL

from socialdesk.core.config import StrictModel
from socialdesk.core.config_types import EnvVarName
from socialdesk.core.outbound_url import checked_url

PLUGIN_NAME = "drafts"
EXAMPLE_BASE_URL = "https://api.openai.com/v1"
MAX_VOICE_NOTES = 4000
_HOST = re.compile(r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")


class DraftsSettings(StrictModel):
    base_url: str | None = None  # the endpoint's /v1 address; required once the plugin is enabled
    model: str | None = None  # required once the plugin is enabled
    api_key_env: EnvVarName | None = "OPENAI_API_KEY"  # None: the endpoint takes no key (a local vLLM/Ollama)
    allow_plain_http: bool = Field(False, description="http to a host other than this machine (a private network)")
    timeout_seconds: float = 15.0
    max_retries: int = 0  # the agent's next click is the retry: a form waits on nobody
    max_tokens: int = 400
    temperature: float = 0.3
    voice_notes: str = Field("", description="the brand's voice: tone, sign-off, what never to promise")
    allowed_link_hosts: list[str] = Field(default_factory=list, description="links a draft may contain")
    agent_languages: list[str] = Field(default_factory=lambda: ["en"], description="languages the agents write")
    draft_on_open: bool = True  # draft as soon as the reply form opens (else: the form's button)
    max_conversation_messages: int = 12  # the latest messages of the conversation given to the model
    price_per_1k_prompt_tokens: float | None = None  # in the endpoint's currency, for the cost counter
    price_per_1k_completion_tokens: float | None = None

    @field_validator("api_key_env", mode="before")
    @classmethod
    def _no_key(cls, value: object) -> object:
        return None if value == "" else value  # api_key_env = "": the endpoint takes no key

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return checked_url(value, EXAMPLE_BASE_URL, allow_query=False)
        except ValueError as exc:
            if "must use https" in str(exc) and URL(value.strip()).scheme == "http":
                return value.strip().rstrip("/")  # checked again with allow_plain_http below
            raise

    @field_validator("model")
    @classmethod
    def _check_model(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must name the endpoint's model, such as gpt-4o-mini or llama3.1:8b (got an empty string)")
        return value.strip() if value else value

    @field_validator("timeout_seconds")
    @classmethod
    def _check_timeout(cls, value: float) -> float:
        if not 1 <= value <= 120:
            raise ValueError(f"must be from 1 to 120 seconds; the agent waits on the form meanwhile (got {value})")
        return value

    @field_validator("max_retries")
    @classmethod
    def _check_retries(cls, value: int) -> int:
        if not 0 <= value <= 3:
            raise ValueError(f"must be from 0 to 3 (got {value})")
        return value

    @field_validator("max_tokens")
    @classmethod
    def _check_max_tokens(cls, value: int) -> int:
        if not 16 <= value <= 4096:
            raise ValueError(f"must be from 16 to 4096 tokens; a public reply needs a few hundred (got {value})")
        return value

    @field_validator("temperature")
    @classmethod
    def _check_temperature(cls, value: float) -> float:
        if not 0 <= value <= 2:
            raise ValueError(f"must be from 0 to 2 (got {value})")
        return value

    @field_validator("voice_notes")
    @classmethod
    def _check_voice(cls, value: str) -> str:
        if len(value) > MAX_VOICE_NOTES:
            raise ValueError(f"must be at most {MAX_VOICE_NOTES} characters; every draft sends them (got {len(value)})")
        return value.strip()

    @field_validator("allowed_link_hosts")
    @classmethod
    def _check_hosts(cls, hosts: list[str]) -> list[str]:
        lowered = [h.strip().lower().removeprefix("www.") for h in hosts]
        bad = [h for h in lowered if not _HOST.match(h)]
        if bad:
            raise ValueError(f"must be host names such as help.example.com, without https:// or a path "
                             f"(got {', '.join(map(repr, bad))})")
        return list(dict.fromkeys(lowered))

    @field_validator("agent_languages")
    @classmethod
    def _check_languages(cls, languages: list[str]) -> list[str]:
        lowered = [code.strip().lower() for code in languages]
        bad = [code for code in lowered if not _LANGUAGE.match(code)]
        if bad:
            raise ValueError(f"must be ISO 639-1 codes such as en, fr, de (got {', '.join(map(repr, bad))})")
        if not lowered:
            raise ValueError("name at least one language the agents write, such as [\"en\"]")
        return list(dict.fromkeys(lowered))

    @field_validator("max_conversation_messages")
    @classmethod
    def _check_messages(cls, value: int) -> int:
        if not 1 <= value <= 50:
            raise ValueError(f"must be from 1 to 50 messages (got {value})")
        return value

    @field_validator("price_per_1k_prompt_tokens", "price_per_1k_completion_tokens")
    @classmethod
    def _check_price(cls, value: float | None) -> float | None:
        if value is not None and value < 0:
            raise ValueError(f"must be 0 or more (got {value})")
        return value

    @model_validator(mode="after")
    def _plain_http_needs_consent(self) -> DraftsSettings:
        if self.base_url and URL(self.base_url).scheme == "http" and not self.allow_plain_http:
            try:
                checked_url(self.base_url, EXAMPLE_BASE_URL, allow_query=False)
            except ValueError:
                raise ValueError(
                    f"base_url {self.base_url!r} is plain http to another machine: customer messages would cross "
                    "the network unencrypted; use https, or set allow_plain_http = true for a private network"
                ) from None
        return self

    def missing(self) -> list[str]:
        """What an enabled plugin still needs (start-up refuses to run without it)."""
        problems = []
        if not self.base_url:
            problems.append(f"plugins.{PLUGIN_NAME}.base_url is not set: the endpoint's address, such as "
                            f"{EXAMPLE_BASE_URL} or http://127.0.0.1:11434/v1 (Ollama)")
        if not self.model:
            problems.append(f"plugins.{PLUGIN_NAME}.model is not set: the model to ask, such as gpt-4o-mini")
        return problems
