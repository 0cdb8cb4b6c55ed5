"""Which webhook URLs the operator allows (`webhook_hosts`), checked at `setjob` and again before
every POST, on the addresses the host resolves to.

An entry is `host` (the default port of the URL's scheme: 80 for http, 443 for https) or
`host:port`; IPv6 literals are bracketed (`[fd00::1]:8080`). Host names compare case-insensitively,
after IDNA encoding and without a trailing dot, so what the operator wrote and what a URL says meet
in one spelling. An empty list turns webhooks off.

Resolution is not trusted blindly: a name the operator allowed may be made to resolve to the cloud
metadata service (169.254.169.254) or any link-local, multicast or unspecified address; those are
refused unless the operator listed that very address as a literal.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

import httpx

__all__ = ["MAX_URL_LENGTH", "WEBHOOKS_OFF", "Allowlist", "IPAddress", "Refused", "Target"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_DEFAULT_PORTS = {"http": 80, "https": 443}
_SETTING = "RAWEXPORT_WEBHOOK_HOSTS"
_PORTS = range(1, 65536)
MAX_URL_LENGTH = 2048
"""A longer `notify_url` is refused: it is stored with the job and its notification."""


class Refused(ValueError):
    """A webhook URL the allowlist does not accept: what it is, and what would be."""

    def __init__(self, received: str, expected: str) -> None:
        super().__init__(f"{received}, but {expected} expected")
        self.received, self.expected = received, expected


@dataclass(frozen=True)
class Target:
    """Where a webhook URL points: its scheme, its host as compared, and its effective port."""

    scheme: str
    host: str
    port: int

    @property
    def netloc(self) -> str:
        """`host:port`, an IPv6 address in brackets."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def literal(self) -> IPAddress | None:
        """The host as an IP address, when the URL names one."""
        try:
            return ipaddress.ip_address(self.host)
        except ValueError:
            return None


_ENTRY = re.compile(r"(\[[^\]]+\]|[^\s:/@?#\[\]]+)(?::(\d{1,5}))?")


def _host_key(url: httpx.URL) -> str:
    host = url.raw_host.decode("ascii").lower().rstrip(".")
    try:
        return str(ipaddress.ip_address(host))  # one spelling of an address: `[0::1]` is `::1`
    except ValueError:
        return host


def _parse_url(text: str) -> httpx.URL | None:
    try:
        return httpx.URL(text)
    except (httpx.InvalidURL, UnicodeError):
        return None


def _parse_entry(entry: str) -> tuple[str, int | None]:
    # Anything beyond host and port (a scheme, a path, user info) is a mistake rather than a
    # narrower rule, and must not be read as a looser one.
    match = _ENTRY.fullmatch(entry)
    parsed = _parse_url(f"http://{match.group(1)}/") if match else None
    port = int(match.group(2)) if match and match.group(2) else None
    bad_port = port is not None and port not in _PORTS
    if match is None or parsed is None or not parsed.host or bad_port:
        raise ValueError(f"{_SETTING}: {entry!r} is not `host` or `host:port`")
    return _host_key(parsed), port


@dataclass(frozen=True)
class Allowlist:
    entries: frozenset[tuple[str, int | None]] = frozenset()
    """(host, port) pairs; a port of None stands for the default port of the URL's scheme."""

    @classmethod
    def parse(cls, setting: str) -> Allowlist:
        """The allowlist of the setting's text; ValueError names an entry that is no host."""
        entries = (part.strip() for part in setting.split(","))
        return cls(frozenset(_parse_entry(e) for e in entries if e))

    @property
    def enabled(self) -> bool:
        return bool(self.entries)

    def target(self, url: str) -> Target:
        """The target of `url` if the operator allows it, else `Refused` saying why."""
        if not self.enabled:
            raise Refused("a URL", f"no notify_url (this server sends no webhooks: {_SETTING})")
        if len(url) > MAX_URL_LENGTH:
            raise Refused(f"a URL of {len(url)} characters", f"at most {MAX_URL_LENGTH}")
        parsed = _parse_url(url)
        if parsed is None or parsed.scheme not in _DEFAULT_PORTS or not parsed.host:
            raise Refused("a string that is no http or https URL", "an http or https URL")
        target = Target(
            parsed.scheme, _host_key(parsed), parsed.port or _DEFAULT_PORTS[parsed.scheme]
        )
        if not self._names(target):
            raise Refused(
                f"a URL of {target.netloc}",
                f"a URL of a host the server allows ({_SETTING})",
            )
        return target

    def address_allowed(self, target: Target, address: IPAddress) -> bool:
        """Whether a webhook for `target` may connect to `address`, one it resolved to.

        Unspecified, multicast and link-local addresses (with the cloud metadata service) are
        for the operator alone to name: allowed only when listed as that literal address.
        """
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if not (address.is_unspecified or address.is_multicast or address.is_link_local):
            return True
        return target.literal == address and self._names(target)

    def _names(self, target: Target) -> bool:
        default = _DEFAULT_PORTS[target.scheme] == target.port
        return (target.host, target.port) in self.entries or (
            default and (target.host, None) in self.entries
        )


WEBHOOKS_OFF = Allowlist()
"""The empty allowlist: no webhook is accepted or sent."""
