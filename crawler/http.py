"""One polite HTTP client for arXiv: one session, a delay between requests, bounded retries.

arXiv's terms of use for its API ask for no more than one request every three
seconds and a single connection at a time. ``HttpClient`` keeps both for every
request it makes (API pages, OAI-PMH pages and PDFs alike): one
``requests.Session``, a ``Clock`` that spaces requests by ``delay`` seconds,
a timeout on every request, and retries with backoff for 429, 5xx and
timeouts that honour ``Retry-After``. The clock is injectable so tests can
check the spacing without sleeping.
"""

from __future__ import annotations

import email.utils
import importlib.metadata
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import requests

from db.errors import DlcomputeError

log = logging.getLogger(__name__)

DEFAULT_DELAY = 3.0  # seconds between requests: arXiv's terms of use
DEFAULT_TIMEOUT = 60.0  # seconds to connect / between bytes of a response
RETRY_STATUSES = {429, 500, 502, 503, 504}
MAX_RETRY_AFTER = 600.0  # never wait longer than this for one Retry-After


class ArxivError(DlcomputeError):
    """A request to arXiv (or a mirror) failed; carries url, status and retries made."""

    def __init__(self, message: str, url: str = "", status: int | None = None,
                 retries: int = 0):
        super().__init__(message)
        self.url = url
        self.status = status
        self.retries = retries

    def __reduce__(self):
        return (type(self), (str(self), self.url, self.status, self.retries))


class ArxivUnreachableError(ArxivError):
    """DNS failure, connection refused: no point in trying other queries."""


class PolitenessError(DlcomputeError, ValueError):
    """A setting that would break arXiv's terms of use (e.g. a delay under 3 s)."""


def default_user_agent(version: str | None = None) -> str:
    """``dlcompute/VERSION``; the version from the installed distribution when not given."""
    if version is None:
        try:
            version = importlib.metadata.version("dlcompute")
        except importlib.metadata.PackageNotFoundError:
            version = "unknown"
    return f"dlcompute/{version}"


def is_arxiv_host(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return host == "arxiv.org" or host.endswith(".arxiv.org")


def check_delay(url: str, delay: float) -> None:
    """Refuse a delay under 3 seconds for arxiv.org; any delay is fine for other hosts."""
    if delay < 0:
        raise PolitenessError(f"--delay {delay} is negative; use a number of seconds >= 0")
    if delay < DEFAULT_DELAY and is_arxiv_host(url):
        raise PolitenessError(
            f"--delay {delay:g} is below arXiv's limit of one request every "
            f"{DEFAULT_DELAY:g} seconds for {urlsplit(url).hostname}; use --delay 3 or more "
            f"(smaller delays are allowed only for mirrors and test servers via --arxiv-url)")


class Clock:
    """Real time. Tests pass a FakeClock instead."""

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


@dataclass
class FakeClock(Clock):
    """A clock that only moves when slept on; records every sleep."""

    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if seconds > 0:
            self.now += seconds


@dataclass
class RequestRecord:
    """One request sent: when (clock time), what, and how it ended."""

    at: float
    url: str
    status: int | None = None
    error: str | None = None


def _retry_after(resp: requests.Response) -> float | None:
    value = resp.headers.get("Retry-After")
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class HttpClient:
    """Every request dlcompute sends to arXiv goes through one of these.

    ``delay``: seconds between the start of one request and the next (also
    between retries). ``timeout``: connect and read timeout per request.
    ``retries``: extra attempts for 429/5xx/timeouts; ``backoff``: first wait,
    doubled each retry, raised to Retry-After when the server sends one.
    """

    def __init__(self, *, delay: float = DEFAULT_DELAY, timeout: float = DEFAULT_TIMEOUT,
                 retries: int = 4, backoff: float = 5.0, user_agent: str | None = None,
                 clock: Clock | None = None, connect_retries: int = 1,
                 mirror_hint: str = "--arxiv-url URL (or arxiv_url in [crawl] of "
                                    "dlcompute.toml)"):
        self.delay = delay
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.connect_retries = connect_retries
        self.mirror_hint = mirror_hint
        self.clock = clock or Clock()
        self.session = requests.Session()
        self.session.headers["User-Agent"] = user_agent or default_user_agent()
        self._last: float | None = None
        self.log: list[RequestRecord] = []

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def requests_made(self) -> int:
        return len(self.log)

    def _wait_turn(self) -> None:
        if self._last is not None:
            wait = self._last + self.delay - self.clock.monotonic()
            if wait > 0:
                self.clock.sleep(wait)
        self._last = self.clock.monotonic()

    def _pause(self, seconds: float) -> None:
        """Wait before a retry; the next request's turn starts after it."""
        self.clock.sleep(seconds)

    @contextmanager
    def get(self, url: str, params: dict | None = None, *, stream: bool = False,
            what: str = "") -> Iterator[requests.Response]:
        """GET with politeness and retries; yields a 2xx or 4xx (not 429) response.

        Raises ArxivUnreachableError when the host cannot be reached and
        ArxivError when retries run out. ``what`` names the request in errors.
        """
        attempt = 0
        connect_failures = 0
        what = what or url
        while True:
            self._wait_turn()
            record = RequestRecord(self.clock.monotonic(), url)
            self.log.append(record)
            try:
                resp = self.session.get(url, params=params, timeout=self.timeout,
                                        stream=stream)
                record.url = resp.url
            except requests.exceptions.ConnectionError as e:
                record.error = type(e).__name__
                # a timeout while connecting is a ConnectTimeout, a ConnectionError too
                unreachable = not isinstance(e, requests.exceptions.ConnectTimeout) and (
                    "Failed to resolve" in str(e) or "Name or service" in str(e)
                    or "refused" in str(e).lower() or "NameResolution" in str(e)
                    or "No route" in str(e))
                connect_failures += 1
                if unreachable and connect_failures > self.connect_retries:
                    raise ArxivUnreachableError(
                        f"Cannot reach {urlsplit(url).scheme}://{urlsplit(url).netloc} "
                        f"({_unreachable_reason(e)}); check the network, or point dlcompute at a mirror "
                        f"with {self.mirror_hint}",
                        url, None, attempt) from e
                if not unreachable:
                    attempt += 1
                if attempt > self.retries:
                    raise ArxivError(f"{what}: connection failed {attempt} times "
                                     f"({_short(e)}); try again later", url, None,
                                     attempt) from e
                # an unreachable host gets one quick second try, not the full backoff
                self._pause(min(self.backoff, 2.0) if unreachable
                            else self.backoff * 2 ** max(0, attempt - 1))
                continue
            except requests.exceptions.Timeout as e:
                record.error = "timeout"
                attempt += 1
                log.warning("%s: no answer within %gs (attempt %d)", what, self.timeout,
                            attempt)
                if attempt > self.retries:
                    raise ArxivError(
                        f"{what}: no answer within {self.timeout:g}s after {attempt} attempts; "
                        f"the server is slow or down, try again later", url, None,
                        attempt) from e
                self._pause(self.backoff * 2 ** (attempt - 1))
                continue
            record.status = resp.status_code
            if resp.status_code in RETRY_STATUSES:
                wait = _retry_after(resp)
                resp.close()
                attempt += 1
                if attempt > self.retries:
                    raise ArxivError(
                        f"{what}: HTTP {resp.status_code} after {attempt} attempts; "
                        f"arXiv is busy, try again later", url, resp.status_code, attempt)
                pause = self.backoff * 2 ** (attempt - 1)
                if wait is not None:
                    pause = min(max(wait, 0.0), MAX_RETRY_AFTER)
                log.info("%s: HTTP %d, retrying in %.1fs", what, resp.status_code, pause)
                self._pause(pause)
                continue
            try:
                yield resp
            finally:
                resp.close()
            return

    def fetch(self, url: str, params: dict | None = None, what: str = "") -> requests.Response:
        """GET the whole body (see ``get``)."""
        with self.get(url, params, what=what) as resp:
            try:
                _ = resp.content
            except (requests.exceptions.ConnectionError,
                    requests.exceptions.ChunkedEncodingError) as e:
                raise ArxivError(f"{what or url}: connection broke while reading ({_short(e)})",
                                 url, resp.status_code) from e
            return resp


def _unreachable_reason(e: BaseException) -> str:
    text = str(e)
    if "refused" in text.lower():
        return "connection refused"
    if "resolve" in text or "Name or service" in text or "NameResolution" in text:
        return "host name not found: no DNS, or no network"
    if "No route" in text:
        return "no route to host"
    return _short(e)


def _short(e: BaseException) -> str:
    text = str(e)
    return text if len(text) < 200 else text[:200] + "..."
