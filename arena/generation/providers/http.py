"""HTTP plumbing shared by the provider adapters.

One rule for every service: a failure that may pass (HTTP 408/425/429, any 5xx, a timeout,
a refused or dropped connection) is a *retryable* ``ProviderError`` carrying the service's
``Retry-After`` when it sent one; a failure that will not pass by waiting (other 4xx, a
body that is not the JSON the protocol promises, a file that is not an image) is not
retryable. Messages name the call and quote the service's own error message.

Retrying is the router's business (``arena.generation.router``): these helpers make one
attempt, except while polling a job already submitted, where a few transient errors are
tolerated rather than abandoning (and paying for) work in progress.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import io
import math
import time
from abc import abstractmethod
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar, TypeVar
from urllib.parse import urlsplit

import httpx
from PIL import Image

from arena.generation.base import ImageProvider, ImageRequest, ImageResult, ProviderError

T = TypeVar("T")

#: Seconds to wait for a response (connect, read, write) unless a provider says otherwise.
DEFAULT_TIMEOUT_S = 60.0
#: Seconds to wait for a TCP connection.
CONNECT_TIMEOUT_S = 10.0
#: Pause between two polls of a queued job.
DEFAULT_POLL_INTERVAL_S = 1.0
#: How long a queued job may take before we give up on it (and cancel it).
DEFAULT_POLL_TIMEOUT_S = 300.0
#: The largest image we download.
DEFAULT_MAX_IMAGE_BYTES = 50 * 1024 * 1024
#: A Retry-After longer than this is capped: the router sleeps it, so it must stay sane.
MAX_RETRY_AFTER_S = 120.0
#: Consecutive retryable errors tolerated while polling one job.
MAX_POLL_ERRORS = 3
#: Statuses besides 5xx after which the same call may succeed later.
RETRYABLE_STATUSES = frozenset({408, 425, 429})
#: Pillow's format names mapped to the format names we store.
_FORMATS = {"mpo": "jpeg"}


class PollTimeout(ProviderError):
    """A submitted job did not finish before the polling deadline (retryable)."""


def where(method: str, url: str) -> str:
    """``METHOD scheme://host/path`` for messages: no query string (it may hold a token)."""
    if url.startswith("data:"):
        return f"{method} data: URI"
    parts = urlsplit(url)
    return f"{method} {parts.scheme}://{parts.netloc}{parts.path}"


def retry_after(response: httpx.Response) -> float | None:
    """Seconds the service asked us to wait (``retry-after-ms`` or ``Retry-After`` as
    seconds or an HTTP date), capped at ``MAX_RETRY_AFTER_S``; None if it did not say."""
    seconds: float | None = None
    raw_ms = response.headers.get("retry-after-ms")
    raw = response.headers.get("retry-after")
    try:
        if raw_ms:
            seconds = float(raw_ms) / 1000
        elif raw:
            seconds = float(raw)
    except ValueError:
        seconds = None
    if seconds is None and raw:
        try:
            moment = parsedate_to_datetime(raw)
        except (TypeError, ValueError, IndexError):
            moment = None
        if moment is not None and moment.tzinfo is not None:
            seconds = moment.timestamp() - time.time()
    if seconds is None or not math.isfinite(seconds):
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)


def error_message(response: httpx.Response) -> str:
    """The service's own words for an error response, whatever its shape.

    Understands OpenAI's ``{"error": {"message", "type", "code"}}``, fal's ``{"detail": str
    | [{"loc", "msg"}]}`` and Replicate's problem details ``{"title", "detail"}``; falls back
    to the start of the body.
    """
    try:
        body = response.json()
    except ValueError:
        body = None
    parts: list[str] = []
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            parts.append(str(error.get("message") or ""))
            code = error.get("code") or error.get("type")
            if code:
                parts.append(f"({code})")
        elif isinstance(error, str):
            parts.append(error)
        title = body.get("title")
        if isinstance(title, str) and not parts:
            parts.append(title + ":")
        detail = body.get("detail")
        if isinstance(detail, str):
            parts.append(detail)
        elif isinstance(detail, list):
            parts.append("; ".join(_validation_item(item) for item in detail))
        if isinstance(body.get("message"), str) and not parts:
            parts.append(body["message"])
        if isinstance(body.get("error_type"), str):
            parts.append(f"[{body['error_type']}]")
    text = " ".join(p for p in parts if p).strip()
    if not text:
        text = response.text.strip()[:300] or response.reason_phrase
    return text


def _validation_item(item: Any) -> str:
    if isinstance(item, dict):
        loc = ".".join(str(p) for p in item.get("loc") or [] if p != "body")
        msg = str(item.get("msg") or item.get("message") or item)
        return f"{loc}: {msg}" if loc else msg
    return str(item)


def check_status(provider: str, response: httpx.Response, call: str) -> None:
    """Raise the ``ProviderError`` an unsuccessful response stands for (body already read).

    Raises:
        ProviderError: retryable (with ``retry_after``) for 408/425/429/5xx, else not.
    """
    if response.is_success:
        return
    status = response.status_code
    message = f"HTTP {status} from {call}: {error_message(response)}"
    if status in RETRYABLE_STATUSES or status >= 500:
        raise ProviderError(provider, message, retryable=True, retry_after=retry_after(response))
    if status in (401, 403):
        message += " (check the API key)"
    raise ProviderError(provider, message, retryable=False)


def _transport_error(provider: str, call: str, exc: httpx.HTTPError) -> ProviderError:
    if isinstance(exc, httpx.TimeoutException):
        return ProviderError(provider, f"{call} timed out ({type(exc).__name__})")
    return ProviderError(provider, f"{call} failed: {type(exc).__name__}: {exc}")


def request_json(
    client: httpx.Client,
    provider: str,
    method: str,
    url: str,
    *,
    json: Any = None,
    headers: Mapping[str, str] | None = None,
    timeout: httpx.Timeout | float | None = None,
) -> dict[str, Any]:
    """Make one call and return its JSON object.

    Raises:
        ProviderError: the call failed (see ``check_status``), or answered something that
            is not a JSON object (not retryable).
    """
    call = where(method, url)
    kwargs: dict[str, Any] = {"headers": dict(headers or {})}
    if json is not None:
        kwargs["json"] = json
    if timeout is not None:
        kwargs["timeout"] = timeout
    try:
        response = client.request(method, url, **kwargs)
    except httpx.HTTPError as exc:
        raise _transport_error(provider, call, exc) from None
    check_status(provider, response, call)
    try:
        body = response.json()
    except ValueError:
        snippet = response.text[:120]
        raise ProviderError(
            provider, f"malformed JSON from {call}: {snippet!r}", retryable=False
        ) from None
    if not isinstance(body, dict):
        raise ProviderError(
            provider,
            f"malformed response from {call}: expected a JSON object, got {type(body).__name__}",
            retryable=False,
        )
    return body


def poll(
    provider: str,
    fetch: Callable[[], T],
    done: Callable[[T], bool],
    *,
    interval_s: float,
    timeout_s: float,
    what: str,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """Call ``fetch`` until ``done`` says its answer is final, and return that answer.

    Up to ``MAX_POLL_ERRORS`` consecutive retryable errors are waited out (honouring their
    Retry-After); a non-retryable one ends the polling at once.

    Raises:
        PollTimeout: not done within ``timeout_s`` (retryable).
        ProviderError: ``fetch`` failed for good.
    """
    deadline = clock() + timeout_s
    errors = 0
    while True:
        try:
            state = fetch()
        except ProviderError as exc:
            errors += 1
            if not exc.retryable or errors > MAX_POLL_ERRORS:
                raise
            wait = max(interval_s, exc.retry_after or 0.0)
        else:
            errors = 0
            if done(state):
                return state
            wait = interval_s
        if clock() + wait > deadline:
            raise PollTimeout(provider, f"{what} not finished after {timeout_s:g}s")
        sleep(wait)


def download(
    client: httpx.Client,
    provider: str,
    url: str,
    *,
    max_bytes: int,
    headers: Mapping[str, str] | None = None,
) -> tuple[bytes, str | None]:
    """The bytes and content type at ``url`` (http(s) or a ``data:`` URI), at most
    ``max_bytes`` of them.

    Raises:
        ProviderError: the download failed (retryable as ``check_status`` says), the URL is
            not one we fetch, or the file is larger than ``max_bytes`` (not retryable).
    """
    if url.startswith("data:"):
        return _data_uri(provider, url, max_bytes)
    call = where("GET", url)
    if urlsplit(url).scheme not in ("http", "https"):
        raise ProviderError(provider, f"unsupported image URL {url[:80]!r}", retryable=False)
    too_large = ProviderError(
        provider, f"image at {call} is larger than {max_bytes} bytes", retryable=False
    )
    try:
        with client.stream("GET", url, headers=dict(headers or {})) as response:
            if not response.is_success:
                response.read()
                check_status(provider, response, call)
            length = response.headers.get("content-length", "")
            if length.isdigit() and int(length) > max_bytes:
                raise too_large
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise too_large
                chunks.append(chunk)
            content_type = response.headers.get("content-type")
    except httpx.HTTPError as exc:
        raise _transport_error(provider, call, exc) from None
    return b"".join(chunks), content_type


def _data_uri(provider: str, url: str, max_bytes: int) -> tuple[bytes, str | None]:
    header, sep, payload = url[5:].partition(",")
    if not sep or not header.endswith(";base64"):
        raise ProviderError(provider, "malformed data: URI (expected base64)", retryable=False)
    if len(payload) * 3 // 4 > max_bytes:
        raise ProviderError(
            provider, f"image in data: URI is larger than {max_bytes} bytes", retryable=False
        )
    data = decode_base64(provider, payload, "data: URI")
    return data, header.removesuffix(";base64") or None


def decode_base64(provider: str, text: str, what: str) -> bytes:
    """Standard base64 to bytes.

    Raises:
        ProviderError: not valid base64 (not retryable).
    """
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ProviderError(provider, f"malformed base64 in {what}", retryable=False) from None


def image_result(provider: str, data: bytes, content_type: str | None = None) -> ImageResult:
    """An ``ImageResult`` for downloaded bytes: format and size as Pillow reads them.

    Raises:
        ProviderError: the bytes are not an image Pillow can decode (not retryable).
    """
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            fmt = (image.format or "").lower()
            width, height = image.size
    except Image.DecompressionBombError as exc:
        raise ProviderError(provider, f"image refused: {exc}", retryable=False) from None
    except (OSError, SyntaxError, ValueError):
        kind = content_type or "unknown content type"
        raise ProviderError(
            provider,
            f"the file is not a readable image ({kind}, {len(data)} bytes)",
            retryable=False,
        ) from None
    if not fmt:
        raise ProviderError(provider, "the image's format is unknown", retryable=False)
    return ImageResult(data=data, format=_FORMATS.get(fmt, fmt), width=width, height=height)


class HTTPProvider(ImageProvider):
    """Base of the HTTP adapters: configuration, a client per call, shared helpers.

    Args:
        credential: the API key or token (required: calls without one fail, not retryable).
        base_url: the service's base URL; the class's ``default_base_url`` when None.
        timeout_s: seconds allowed for each HTTP call.
        poll_interval_s: pause between two polls of a queued job.
        poll_timeout_s: how long a queued job may take before we give up on it.
        max_image_bytes: the largest image downloaded.
        transport: an ``httpx`` transport (tests; None for the network).
    """

    #: The environment variable holding the credential (named in errors).
    credential_env: ClassVar[str]
    default_base_url: ClassVar[str]
    default_timeout_s: ClassVar[float] = DEFAULT_TIMEOUT_S

    def __init__(
        self,
        credential: str | None = None,
        base_url: str | None = None,
        *,
        timeout_s: float | None = None,
        poll_interval_s: float = DEFAULT_POLL_INTERVAL_S,
        poll_timeout_s: float = DEFAULT_POLL_TIMEOUT_S,
        max_image_bytes: int = DEFAULT_MAX_IMAGE_BYTES,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(credential, (base_url or self.default_base_url).rstrip("/"))
        self.timeout_s = self.default_timeout_s if timeout_s is None else timeout_s
        self.poll_interval_s = poll_interval_s
        self.poll_timeout_s = poll_timeout_s
        self.max_image_bytes = max_image_bytes
        self.transport = transport

    def generate(self, request: ImageRequest) -> ImageResult:
        if not self.credential:
            raise ProviderError(
                self.name, f"no credential configured (set {self.credential_env})", retryable=False
            )
        with self.client() as client:
            return self._generate(client, request)

    @abstractmethod
    def _generate(self, client: httpx.Client, request: ImageRequest) -> ImageResult:
        """Make one image with an open client."""

    @abstractmethod
    def auth_headers(self) -> dict[str, str]:
        """The headers that authenticate a call to the service's API."""

    def client(self) -> httpx.Client:
        """A fresh client; the credential is sent per call, never to other hosts."""
        return httpx.Client(
            timeout=httpx.Timeout(self.timeout_s, connect=min(self.timeout_s, CONNECT_TIMEOUT_S)),
            follow_redirects=True,
            headers={"User-Agent": "arena-image-gateway"},
            transport=self.transport,
        )

    def call(
        self,
        client: httpx.Client,
        method: str,
        url: str,
        *,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        timeout: httpx.Timeout | float | None = None,
    ) -> dict[str, Any]:
        """An authenticated JSON call to the service (see ``request_json``)."""
        return request_json(
            client,
            self.name,
            method,
            url,
            json=json,
            headers={**self.auth_headers(), **(headers or {})},
            timeout=timeout,
        )

    def poll(self, fetch: Callable[[], T], done: Callable[[T], bool], what: str) -> T:
        """``poll`` with this provider's interval and deadline."""
        return poll(
            self.name,
            fetch,
            done,
            interval_s=self.poll_interval_s,
            timeout_s=self.poll_timeout_s,
            what=what,
        )

    def fetch_image(
        self, client: httpx.Client, url: str, content_type: str | None = None
    ) -> ImageResult:
        """Download the image at ``url`` and read it.

        The credential goes along only when the file lives on the API's own host (some
        services serve outputs there); CDN URLs get no credential.
        """
        headers = self.auth_headers() if _same_origin(url, self.base_url or "") else None
        data, served_type = download(
            client, self.name, url, max_bytes=self.max_image_bytes, headers=headers
        )
        return image_result(self.name, data, content_type or served_type)

    def cancel_quietly(self, client: httpx.Client, method: str, url: str | None) -> None:
        """Ask the service to cancel a job we gave up on; its answer does not matter."""
        if not url:
            return
        with contextlib.suppress(ProviderError):
            self.call(client, method, url)


def _same_origin(url: str, base_url: str) -> bool:
    a, b = urlsplit(url), urlsplit(base_url)
    return (a.scheme, a.netloc) == (b.scheme, b.netloc)


def require(provider: str, body: Mapping[str, Any], key: str, call: str) -> Any:
    """``body[key]``, which the protocol promises.

    Raises:
        ProviderError: it is missing or empty (not retryable).
    """
    value = body.get(key)
    if value in (None, "", [], {}):
        raise ProviderError(
            provider, f"malformed response from {call}: no {key!r} in it", retryable=False
        )
    return value
