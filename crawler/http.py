"""One polite HTTP client for arXiv: one session, a delay between requests, bounded retries.

arXiv's terms of use for its API ask for no more than one request every three
seconds and a single connection at a time. ``HttpClient`` keeps both for every
request it makes (API pages, OAI-PMH pages and PDFs alike): one
``requests.Session``, a ``Clock`` that spaces the starts of requests by
``delay`` seconds plus a margin of 0.1 s (a server sees requests a few
milliseconds closer together than the client sent them), a timeout on every
request, and retries with exponential backoff for 429, 5xx and timeouts, where
``Retry-After`` is a floor under the backoff, never a replacement for it.

With ``pace_dir`` (the crawl's data dir), the spacing holds across processes on
this machine: a :class:`Pacer` keeps the last request start per host in a small
file there, read and written under an ``fcntl`` lock, so back-to-back or
overlapping commands (``crawl && harvest``, two cron jobs) keep it too, and a
server's Retry-After holds every process back. The clock is injectable so
tests can check the spacing without sleeping.
"""

from __future__ import annotations

import contextlib
import email.utils
import fcntl
import importlib.metadata
import json
import logging
import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import requests

from db.errors import DlcomputeError

log = logging.getLogger(__name__)

DEFAULT_DELAY = 3.0  # seconds between requests: arXiv's terms of use
DEFAULT_TIMEOUT = 60.0  # seconds to connect / between bytes of a response
RETRY_STATUSES = {429, 500, 502, 503, 504}
MAX_RETRY_AFTER = 600.0  # never wait longer than this for one Retry-After
# Added to the spacing: a server measured 2.994 s between requests sent 3 s apart. The
# difference is jitter in connecting and scheduling, the same at any delay: an absolute
# margin.
SPACING_MARGIN = 0.1
PACE_DIR_NAME = "http-pace"  # under the data dir, beside the PDF cache


def pace_dir(data_dir: str | os.PathLike) -> Path:
    """Where the shared request pacing of commands using ``data_dir`` lives."""
    return Path(data_dir) / PACE_DIR_NAME


def spacing(delay: float) -> float:
    """Seconds from one request's start to the next: ``delay`` plus a small margin."""
    return delay + SPACING_MARGIN if delay > 0 else 0.0


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


def _boot_id() -> str:
    """Identifies this boot: monotonic clock readings are comparable only within one."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


class Pacer:
    """Request starts to one host, spaced across every process that shares ``directory``.

    The file ``directory/HOST_PORT.json`` holds the monotonic time (system-wide
    on one machine) of the last request start and a ``not_before`` set by a
    Retry-After. :meth:`turn` takes an exclusive ``fcntl`` lock on it, sleeps
    until this process may start, records the start, and lets go: waiting
    processes queue on the lock and each sees the start before its own.
    """

    def __init__(self, directory: Path, url: str):
        parts = urlsplit(url)
        host = re.sub(r"[^A-Za-z0-9.-]", "_", f"{parts.hostname or 'host'}_{parts.port or ''}")
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / f"{host}.json"
        self._boot = _boot_id()

    @contextmanager
    def _locked(self) -> Iterator[tuple[dict, dict]]:
        """The shared state under the lock; what the caller puts in ``new`` is written."""
        with open(self.path, "a+", encoding="utf-8") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            fh.seek(0)
            try:
                state = json.loads(fh.read() or "{}")
            except ValueError:
                state = {}
            now = time.monotonic()
            if state.get("boot") != self._boot or state.get("last_start", 0) > now + 3600:
                state = {}  # written before a reboot (or nonsense): no spacing to keep
            new: dict = {}
            yield state, new
            if new:
                fh.seek(0)
                fh.truncate()
                fh.write(json.dumps({**state, **new, "boot": self._boot}))
                fh.flush()

    def turn(self, spacing_s: float) -> float:
        """Wait until ``spacing_s`` after the last start by anyone (and past any
        Retry-After), record this start; returns the start (monotonic)."""
        with self._locked() as (state, new):
            start = max(state.get("last_start", -1e18) + spacing_s,
                        state.get("not_before", -1e18))
            wait = start - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            new["last_start"] = time.monotonic()
        return new["last_start"]

    def hold_off(self, seconds: float) -> None:
        """No process starts a request to this host for ``seconds`` (a Retry-After)."""
        with self._locked() as (state, new):
            new["not_before"] = max(state.get("not_before", -1e18),
                                    time.monotonic() + seconds)


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
    between retries), plus a margin (:func:`spacing`). ``timeout``: connect and
    read timeout per request. ``retries``: extra attempts for 429/5xx/timeouts;
    ``backoff``: first wait, doubled each retry; a Retry-After longer than the
    backoff raises that wait to it. ``pace_dir``: share the spacing with other
    processes on this machine (see :class:`Pacer`; real clock only).
    """

    def __init__(self, *, delay: float = DEFAULT_DELAY, timeout: float = DEFAULT_TIMEOUT,
                 retries: int = 4, backoff: float = 5.0, user_agent: str | None = None,
                 clock: Clock | None = None, connect_retries: int = 1,
                 mirror_hint: str = "--arxiv-url URL (or arxiv_url in [crawl] of "
                                    "dlcompute.toml)",
                 pace_dir: str | os.PathLike | None = None):
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
        # Shared pacing needs the real, machine-wide clock; a FakeClock keeps it local.
        self.pace_dir = Path(pace_dir) if pace_dir is not None and delay > 0 and \
            type(self.clock) is Clock else None
        self._pacers: dict[str, Pacer] = {}

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def requests_made(self) -> int:
        return len(self.log)

    def _pacer(self, url: str) -> Pacer | None:
        if self.pace_dir is None:
            return None
        key = urlsplit(url).netloc
        if key not in self._pacers:
            try:
                self._pacers[key] = Pacer(self.pace_dir, url)
            except OSError as e:  # a read-only data dir: keep this process's own spacing
                log.warning("cannot share request pacing in %s: %s", self.pace_dir, e)
                self.pace_dir = None
                return None
        return self._pacers[key]

    def _wait_turn(self, url: str) -> None:
        gap = spacing(self.delay)
        if self._last is not None:
            wait = self._last + gap - self.clock.monotonic()
            if wait > 0:
                self.clock.sleep(wait)
        pacer = self._pacer(url)
        if pacer is not None:
            try:
                self._last = pacer.turn(gap)
                return
            except OSError as e:  # the pace file went away or turned read-only
                log.warning("cannot share request pacing in %s: %s", self.pace_dir, e)
                self.pace_dir = None
        self._last = self.clock.monotonic()

    def _pause(self, seconds: float, url: str, floor: float | None = None) -> None:
        """Wait before a retry: ``seconds`` of backoff, at least ``floor`` (a
        Retry-After); other processes sharing the pacing hold off as long."""
        if floor is not None:
            seconds = max(seconds, min(max(floor, 0.0), MAX_RETRY_AFTER))
        pacer = self._pacer(url)
        if pacer is not None:
            with contextlib.suppress(OSError):
                pacer.hold_off(seconds)
        log.info("retrying %s in %.1fs", url, seconds)
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
            self._wait_turn(url)
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
                            else self.backoff * 2 ** max(0, attempt - 1), url)
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
                self._pause(self.backoff * 2 ** (attempt - 1), url)
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
                log.info("%s: HTTP %d (Retry-After: %s)", what, resp.status_code, wait)
                self._pause(self.backoff * 2 ** (attempt - 1), url, floor=wait)
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
