"""The operator's allowlist: which URLs it accepts, which addresses they may resolve to."""

from __future__ import annotations

import ipaddress

import pytest

from rawexport.webhooks.allowlist import WEBHOOKS_OFF, Allowlist, Refused
from rawexport.webhooks.signing import signature, verify

ALLOWED = Allowlist.parse(
    "Hooks.Example.com, 127.0.0.1:8080, [::1]:9000, bücher.de, 169.254.169.254"
)


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.com/rawexport?team=data",
        "http://HOOKS.example.com./x",  # case and the root's trailing dot do not matter
        "https://hooks.example.com:443/x",
        "http://127.0.0.1:8080/hook",
        "http://[::1]:9000/",
        "https://bücher.de/",
        "https://xn--bcher-kva.de/",  # the same host in its IDNA spelling
        "http://169.254.169.254/",
    ],
)
def test_urls_of_listed_hosts_are_accepted(url: str) -> None:
    ALLOWED.target(url)


@pytest.mark.parametrize(
    ("url", "received"),
    [
        ("http://hooks.example.com:8080/", "a URL of hooks.example.com:8080"),  # not its port
        ("https://hooks.example.com:80/", "a URL of hooks.example.com:80"),
        ("http://127.0.0.1/", "a URL of 127.0.0.1:80"),
        ("http://[::1]:9001/", "a URL of [::1]:9001"),
        ("http://evil.example.com/", "a URL of evil.example.com:80"),
        ("http://hooks.example.com.evil.io/", "a URL of hooks.example.com.evil.io:80"),
        ("ftp://hooks.example.com/", "a string that is no http or https URL"),
        ("hooks.example.com/x", "a string that is no http or https URL"),
        ("http://hooks.example.com:x/", "a string that is no http or https URL"),
        ("https://hooks.example.com/" + "x" * 2030, "a URL of 2056 characters"),
    ],
)
def test_other_urls_are_refused_saying_what_they_are(url: str, received: str) -> None:
    with pytest.raises(Refused) as refused:
        ALLOWED.target(url)
    assert refused.value.received == received


def test_with_no_host_listed_every_url_is_refused() -> None:
    assert Allowlist.parse(" , ") == WEBHOOKS_OFF and not WEBHOOKS_OFF.enabled
    with pytest.raises(Refused, match="this server sends no webhooks"):
        WEBHOOKS_OFF.target("https://hooks.example.com/")


@pytest.mark.parametrize(
    "entry", ["http://hooks.example.com", "hooks.example.com/x", "me@host", "host:0", "fd00::1"]
)
def test_an_entry_that_is_no_host_or_port_stops_the_setting(entry: str) -> None:
    with pytest.raises(ValueError, match=f"RAWEXPORT_WEBHOOK_HOSTS: '{entry}' is not"):
        Allowlist.parse(f"ok.example.com,{entry}")


@pytest.mark.parametrize(
    "address",
    [
        "169.254.169.254",
        "fe80::1",
        "0.0.0.0",
        "::",
        "224.0.0.1",
        "ff02::1",
        "::ffff:169.254.169.254",
    ],
)
def test_a_name_never_reaches_link_local_multicast_or_unspecified_addresses(address: str) -> None:
    target = ALLOWED.target("https://hooks.example.com/")
    assert not ALLOWED.address_allowed(target, ipaddress.ip_address(address))


def test_an_address_listed_as_a_literal_is_reached_and_ordinary_ones_are() -> None:
    metadata = ALLOWED.target("http://169.254.169.254/")
    named = ALLOWED.target("https://hooks.example.com/")
    assert ALLOWED.address_allowed(metadata, ipaddress.ip_address("169.254.169.254"))
    assert ALLOWED.address_allowed(named, ipaddress.ip_address("203.0.113.7"))
    assert ALLOWED.address_allowed(named, ipaddress.ip_address("10.0.0.8"))


def test_the_signature_is_an_hmac_of_the_exact_bytes() -> None:
    body = b'{"status_code":201}'
    header = signature("s3cret", body)
    assert header.startswith("sha256=") and len(header) == 7 + 64
    assert verify("s3cret", body, header)
    assert not verify("s3cret", body + b" ", header)
    assert not verify("other", body, header)
