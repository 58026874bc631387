"""What every provider takes and gives, and how its failures are classified.

A provider only translates a request into its SDK's call and the answer back, and says whether
a failure is worth retrying. Retries, backoff, rate limits and the cache belong to the runner,
so the SDKs are built with `max_retries=0`.

Per call, the SDKs' typed `create` cost ~4 ms of CPU (walking the typed parameters, building the
response's models), and even their lower-level `post` ~1.7 ms (an options model, the URL joined
to the base URL, the auth, version and platform headers merged, auth and retry wrappers: all
made again for every call), which made a judge run CPU-bound past ~32 calls at once
(bench/RESULTS.md, issue 16). So the SDK prepares the endpoint's request once, through the
steps its `post` takes (`_prepare_options`, `_build_request`, `_prepare_request`: URL, auth,
headers, timeout), and each call sends a copy of it carrying its own body through the SDK's own
HTTP client (its aiohttp transport): ~0.9 ms a call. The body is JSON bytes serialised by
pydantic-core (the SDK's own `json.dumps` took 4x as long); the reply's few fields are read in
one pass of pydantic-core.
"""

from __future__ import annotations

import functools
import json
import os
import re
import sys
from abc import ABC, abstractmethod
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import to_json

OutputMode = Literal["json_schema", "json_object", "tools", "plain"]


@dataclass(frozen=True)
class Request:
    messages: list[dict]  # [system, user] as rendered by judge.prompts
    schema: dict  # JSON Schema of the answer
    max_tokens: int
    temperature: float
    timeout: float
    options: dict = field(default_factory=dict)  # further sampling parameters (seed, top_p)


@dataclass(frozen=True)
class Response:
    text: str  # the answer: JSON text (tool arguments are serialised back to JSON)
    input_tokens: int
    output_tokens: int
    truncated: bool  # stopped at max_tokens
    served_model: str | None  # the model the provider says answered, e.g. a dated snapshot


class ProviderError(Exception):
    """A failed call. `retry` says whether the same call may succeed later; `retry_after` is the
    server's own hint in seconds; `fatal` means no call of this run can succeed (bad key, unknown
    model), so the run stops."""

    def __init__(
        self, message: str, *, retry: bool, retry_after: float | None = None, fatal: bool = False
    ):
        super().__init__(message)
        self.retry = retry
        self.retry_after = retry_after
        self.fatal = fatal


# An error message is kept to this length, after the key is cut out of it (cutting first let
# the part of the key before the cut through).
MAX_ERROR_CHARS = 300
# Any run of this many consecutive characters of the key counts as leaking it.
KEY_RUN = 8


def scrub_text(text: str, key: str | None) -> str:
    """`text` with every run of KEY_RUN or more consecutive characters of `key` replaced by
    "[key]": the whole key, a prefix, a suffix or a piece of it.

    >>> scrub_text("auth sk-abcdefghijkl, ends ghijkl, cdefghij", "sk-abcdefghijkl")
    'auth [key], ends ghijkl, [key]'
    """
    if not key or len(key) < KEY_RUN:
        return text.replace(key, "[key]") if key else text
    grams = _key_grams(key)  # every answer is scrubbed: the search runs in C, not per character
    out: list[str] = []
    start = 0
    while (found := grams.search(text, start)) is not None:
        i, end = found.start(), found.end()
        while end < len(text) and text[i : end + 1] in key:
            end += 1
        out += [text[start:i], "[key]"]
        start = end
    out.append(text[start:])
    return "".join(out)


@functools.lru_cache(maxsize=8)
def _key_grams(key: str) -> re.Pattern[str]:
    """A pattern matching any KEY_RUN consecutive characters of `key`."""
    grams = {key[i : i + KEY_RUN] for i in range(len(key) - KEY_RUN + 1)}
    return re.compile("|".join(re.escape(g) for g in sorted(grams)))


def scrub(error: ProviderError, key: str | None) -> ProviderError:
    """The same error with any part of the key (if an error body echoed it) cut out of its
    message, then the message cut to MAX_ERROR_CHARS."""
    error.args = (scrub_text(str(error), key)[:MAX_ERROR_CHARS],)
    return error


class ProviderSetupError(ValueError):
    """The provider cannot be used as configured (missing key, missing base URL)."""


class Provider(Protocol):
    name: str
    model: str
    mode: OutputMode

    async def complete(self, request: Request) -> Response: ...

    async def close(self) -> None: ...


def api_key(env_var: str, *, required: bool) -> str | None:
    """The key from the environment; never from a file, never stored."""
    key = os.environ.get(env_var)
    if required and not key:
        raise ProviderSetupError(
            f"no API key: set the environment variable {env_var} (keys are read from the "
            "environment only and never stored)"
        )
    return key


def retry_after_seconds(headers: object) -> float | None:
    """Seconds from a Retry-After (or retry-after-ms) header, if the server sent one."""
    get = getattr(headers, "get", None)
    if get is None:
        return None
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = get(name)
        if value:
            try:
                return max(0.0, float(value) * scale)
            except ValueError:
                continue  # an HTTP date: fall back to our own backoff
    return None


def classify_status(status: int, message: str, headers: object) -> ProviderError:
    """Rate limits, overload, timeouts and server errors are retried; a bad key, a forbidden
    or unknown model stop the run; any other 4xx fails this call only."""
    if status in (408, 409, 429) or status >= 500:
        return ProviderError(message, retry=True, retry_after=retry_after_seconds(headers))
    return ProviderError(message, retry=False, fatal=status in (401, 403, 404))


M = TypeVar("M", bound=BaseModel)


def read_reply(model: type[M], body: bytes, api: str) -> M:
    """The reply's fields, parsed from its JSON in one pass; a body that is not the API's answer
    (an HTML page from a proxy, an empty body) is a failed call, retried."""
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise ProviderError(
            f"the server's reply is not what the {api} API returns ({where}: {first['msg']})",
            retry=True,
        ) from None


class SdkProvider(ABC):
    """What both SDK-backed providers share: the key kept out of error messages, an SDK client
    made at the first call (importing an SDK takes 1-2.4 s, which a run served entirely from
    the cache should not pay), and the request the SDK prepared, sent once per call."""

    path: str  # the endpoint, relative to the SDK's base URL

    def __init__(
        self, name: str, model: str, mode: OutputMode, key: str | None, base_url: str | None
    ):
        self.name, self.model, self.mode = name, model, mode
        self._key, self._base_url = key, base_url
        self._client: Any = None
        self._http: Any = None  # the SDK's HTTP client, which the SDK client sends through
        self._prepared: dict[float, Any] = {}  # timeout -> the SDK's request, without a body

    def _sdk(self) -> Any:
        if self._client is None:
            self._client, self._http, self._options = self._make_client()
        return self._client

    def warm(self) -> None:
        """Make the SDK client now, so that the first call's latency is the call's own."""
        self._sdk()

    @abstractmethod
    def _make_client(self) -> tuple[Any, Any, Any]:
        """The SDK's async client, the SDK's HTTP client it was given, and the SDK's class of
        a request's options (imports the SDK)."""

    @abstractmethod
    def _body(self, request: Request) -> dict:
        """The body the SDK's typed call would send, as a plain dict."""

    @abstractmethod
    def _read(self, raw: bytes) -> Response:
        """The answer in a successful reply's body."""

    async def _prepare(self, timeout: float) -> Any:
        """The request the SDK's `post(self.path)` builds, without its body: the SDK's own
        steps, once per run (per timeout). A per-call idempotency key is not set: the runner's
        retries are new calls, and the SDK's own retries are off."""
        client = self._sdk()
        options = self._options.construct(method="post", url=self.path, timeout=timeout)
        prepared = client._build_request(await client._prepare_options(options))
        await client._prepare_request(prepared)
        prepared.headers.pop("content-length", None)  # each call's body sets its own
        # The SDK's HTTP library (httpx, or httpx2 in the SDKs' later majors), for its request
        # and error classes: whichever the installed SDK built this request with.
        self._httpx = sys.modules[type(prepared).__module__.partition(".")[0]]
        self._prepared[timeout] = prepared
        return prepared

    async def _post(self, body: bytes, timeout: float) -> bytes:
        """Send one body on the prepared request: the reply's body, or the failure classified."""
        prepared = self._prepared.get(timeout) or await self._prepare(timeout)
        httpx = self._httpx
        sent = httpx.Request(
            "POST", prepared.url, headers=prepared.headers, content=body,
            extensions=prepared.extensions,
        )  # fmt: skip
        try:
            response = await self._http.send(sent)
        except httpx.TimeoutException as exc:
            raise ProviderError(f"{type(exc).__name__}: {exc}", retry=True) from None
        except httpx.HTTPError as exc:  # the connection failed or broke: try again later
            raise ProviderError(f"{type(exc).__name__}: {exc}", retry=True) from None
        if response.status_code >= 400:
            message = status_message(response.status_code, response.content)
            raise classify_status(response.status_code, message, response.headers)
        return response.content

    async def complete(self, request: Request) -> Response:
        try:
            response = self._read(await self._post(to_json(self._body(request)), request.timeout))
        except ProviderError as exc:
            raise scrub(exc, self._key) from None
        except (AttributeError, TypeError, ValueError, KeyError, IndexError) as exc:
            # A 200 whose body is not the API's answer: an HTML page from a proxy, an empty
            # body. A failed call, retried.
            failed = ProviderError(
                f"the server's reply is not what the {self.name} API returns "
                f"({type(exc).__name__}: {exc})",
                retry=True,
            )
            raise scrub(failed, self._key) from None
        text = scrub_text(response.text, self._key)
        return response if text == response.text else replace(response, text=text)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()


def status_message(status: int, body: bytes) -> str:
    """An error reply in a line: the API's own message when its body carries one
    (`{"error": {"message": ...}}`), else its error (or the body); cut to length by `scrub`
    once the key is out of it.

    >>> status_message(429, b'{"error": {"message": "Rate limit reached"}}')
    'HTTP 429: Rate limit reached'
    >>> status_message(502, b'<html>Bad gateway</html>')
    'HTTP 502: <html>Bad gateway</html>'
    """
    text = body.decode("utf-8", "replace").strip()
    try:
        parsed = json.loads(text)
    except ValueError:
        return f"HTTP {status}: {text}"
    error = parsed.get("error", parsed) if isinstance(parsed, dict) else parsed
    if isinstance(error, dict) and error.get("message"):
        return f"HTTP {status}: {error['message']}"
    return f"HTTP {status}: {json.dumps(error)}"
