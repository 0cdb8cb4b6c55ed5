"""One webhook POST, to an address the allowlist accepted after resolution.

The host is resolved once, here, and every address it resolves to is checked; the connection
then goes to a checked address itself, with the URL's host kept in the `Host` header and as the
TLS server name (so certificates are verified against it). A second lookup by the HTTP client
could be answered differently (DNS rebinding) and is never made. Redirects are not followed,
proxies from the environment are not used (a proxy would resolve the name again), and the
answer's body is never read: only its status matters.
"""

from __future__ import annotations

import ipaddress
import socket

import httpx

from rawexport.webhooks.allowlist import Allowlist, IPAddress, Target
from rawexport.webhooks.signing import JOB_HEADER, SIGNATURE_HEADER, signature

__all__ = ["WebhookError", "post", "resolve"]


class WebhookError(Exception):
    """A POST that could not be made (resolution, refused address, connection, timeout)."""


def resolve(target: Target) -> list[IPAddress]:
    """The addresses of the target's host, in the resolver's order, without repeats."""
    literal = target.literal
    if literal is not None:
        return [literal]
    try:
        found = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except OSError as error:  # socket.gaierror: no such name, or no resolver answer
        raise WebhookError(f"{target.host} could not be resolved: {error}") from None
    addresses: list[IPAddress] = []
    for *_, sockaddr in found:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])  # no IPv6 zone id
        if address not in addresses:
            addresses.append(address)
    return addresses


def post(
    allowlist: Allowlist,
    target: Target,
    url: str,
    *,
    job_id: str,
    body: bytes,
    secret: str,
    timeout_s: float,
) -> int:
    """POST the signed body; the answer's HTTP status. WebhookError when there is no answer."""
    addresses = resolve(target)
    refused = [a for a in addresses if not allowlist.address_allowed(target, a)]
    if refused:
        # One forbidden address is enough: a name that also points at the metadata service is
        # not one to send to by whichever address happens to come first.
        raise WebhookError(f"{target.host} resolves to {refused[0]}, which webhooks may not reach")
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: signature(secret, body),
        JOB_HEADER: job_id,
    }
    failure: Exception | None = None
    for address in addresses:  # the next one only when one cannot be connected to
        try:
            return _post_to(address, target, httpx.URL(url), body, headers, timeout_s)
        except httpx.ConnectError as error:
            failure = error
        except httpx.HTTPError as error:
            raise WebhookError(f"{type(error).__name__}: {error}") from None
    raise WebhookError(f"could not connect to {target.netloc}: {failure}")


def _post_to(
    address: IPAddress,
    target: Target,
    url: httpx.URL,
    body: bytes,
    headers: dict[str, str],
    timeout_s: float,
) -> int:
    pinned = url.copy_with(host=str(address))
    # The URL's host, not the address, is what the receiver and its certificate answer to.
    extensions = {"sni_hostname": target.host} if target.literal is None else {}
    # A client per POST: a pooled connection to one address must not carry another host's
    # request under the first one's TLS name.
    with (
        httpx.Client(follow_redirects=False, timeout=timeout_s, trust_env=False) as client,
        client.stream(
            "POST",
            pinned,
            content=body,
            headers={**headers, "Host": url.netloc.decode("ascii")},
            extensions=extensions,
        ) as response,
    ):
        return response.status_code
