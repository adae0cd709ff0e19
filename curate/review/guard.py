"""Who may talk to the review app: Host header names, and a token beyond loopback.

A browser on this machine can be made to send requests to 127.0.0.1 by any web page
(DNS rebinding): such requests carry the attacker's host name, so only loopback names
and the names the app was told about are served. Bound beyond loopback, anyone on
the network can connect, so every request must then carry the token (once, in the
link or the login form; the signed session cookie carries it afterwards).
"""

from __future__ import annotations

import ipaddress
import secrets
import socket
from dataclasses import dataclass, field

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1", "localhost.localdomain"})
WILDCARDS = frozenset({"0.0.0.0", "::", ""})


def is_loopback(host: str) -> bool:
    """True for names and addresses that only reach this machine."""
    h = host.strip("[]").lower()
    if h in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(h).is_loopback
    except ValueError:
        return False


def split_host(header: str) -> str:
    """The name part of a Host header: "example.org:8765" -> "example.org", "[::1]:80" -> "::1"."""
    h = header.strip().lower()
    if h.startswith("["):
        return h[1:h.index("]")] if "]" in h else h[1:]
    return h.rsplit(":", 1)[0] if h.count(":") == 1 else h


@dataclass
class Guard:
    """The Host names served and the token required (None: none required)."""

    bind: str = "127.0.0.1"
    allowed: set[str] = field(default_factory=set)
    token: str | None = None

    @classmethod
    def for_bind(cls, bind: str, extra_hosts: list[str] | tuple[str, ...] = (),
                 token: str | None = None) -> Guard:
        """Loopback names, the bound name, ``extra_hosts``; on a wildcard bind also this
        machine's own names. A token is generated when bound beyond loopback without one."""
        allowed = set(LOOPBACK_NAMES) | {h.strip("[]").lower() for h in extra_hosts if h}
        b = bind.strip("[]").lower()
        if b in WILDCARDS:
            for name in (socket.gethostname(), socket.getfqdn()):
                if name:
                    allowed.add(name.lower())
        else:
            allowed.add(b)
        if token is None and not is_loopback(b):
            token = secrets.token_urlsafe(18)
        return cls(bind=b, allowed=allowed, token=token or None)

    @property
    def exposed(self) -> bool:
        return not is_loopback(self.bind)

    def host_ok(self, header: str | None) -> bool:
        name = split_host(header or "")
        if name in self.allowed:
            return True
        # on a wildcard bind, clients may use any of this machine's addresses
        if self.bind in WILDCARDS:
            try:
                ipaddress.ip_address(name)
                return True
            except ValueError:
                return False
        return False

    def token_ok(self, sent: str | None) -> bool:
        return self.token is None or (bool(sent) and secrets.compare_digest(
            str(sent).encode(), self.token.encode()))
