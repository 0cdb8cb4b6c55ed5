"""How a webhook proves where it comes from: an HMAC-SHA256 of the exact body bytes, keyed with
the secret of the job's space (`rawexport space webhook-secret SPACE`).

The receiver recomputes it over the bytes it received, before parsing them, and compares in
constant time; docs/api.md shows the few lines of Python this takes.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

__all__ = ["JOB_HEADER", "SIGNATURE_HEADER", "new_secret", "signature", "verify"]

SIGNATURE_HEADER = "X-Rawexport-Signature"
JOB_HEADER = "X-Rawexport-Job"

_SCHEME = "sha256="


def new_secret() -> str:
    """A space's webhook secret: 256 random bits as hex, easy to paste into a receiver's config."""
    return secrets.token_hex(32)


def signature(secret: str, body: bytes) -> str:
    """The `X-Rawexport-Signature` value of `body`: `sha256=` and the HMAC in lowercase hex."""
    return _SCHEME + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str) -> bool:
    """What a receiver does: whether `header` is the signature of `body` under `secret`."""
    return hmac.compare_digest(signature(secret, body), header)
