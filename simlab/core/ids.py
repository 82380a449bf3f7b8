"""Deterministic identifiers: request ids, environment ids and log-stream ids.

AWS gives every request a UUID and every execution environment a 32-hex-digit id. A simulation must
be reproducible, so simlab derives both from the run's seed and a counter with a cryptographic hash:
the same seed always yields the same ids, on every machine, and no random stream is consumed.
"""

from __future__ import annotations

import hashlib
import uuid

__all__ = ["request_id", "environment_hex_id", "derived_hex", "derived_uuid"]


def derived_hex(seed: int, kind: str, number: int, n_hex: int = 32) -> str:
    """Return ``n_hex`` (at most 128) hex digits hashed from a seed, a kind of id and a counter.

    Examples
    --------
    >>> derived_hex(1, "environment", 0) == derived_hex(1, "environment", 0)
    True
    >>> len(derived_hex(1, "environment", 0, 12))
    12
    """
    size = min(64, (n_hex + 1) // 2)
    return hashlib.blake2b(f"{seed}:{kind}:{number}".encode(), digest_size=size).hexdigest()[:n_hex]


def derived_uuid(seed: int, kind: str, number: int) -> str:
    """Return a version-4 UUID (as Lambda's request ids are) hashed from a seed, a kind of id and
    a counter: the 128-bit hash with its version and variant bits set.

    Examples
    --------
    >>> u = derived_uuid(1, "request", 0)
    >>> u[14], u[19] in "89ab", len(u)
    ('4', True, 36)
    """
    digest = hashlib.blake2b(f"{seed}:{kind}:{number}".encode(), digest_size=16).digest()
    return str(uuid.UUID(bytes=digest, version=4))


def request_id(seed: int, invocation_id: int) -> str:
    """Return the UUID-shaped request id of invocation ``invocation_id`` in a run seeded ``seed``.

    Examples
    --------
    >>> request_id(1, 0) == request_id(1, 0)
    True
    >>> len(request_id(1, 0))
    36
    """
    return derived_uuid(seed, "request", int(invocation_id))


def environment_hex_id(seed: int, env_id: int) -> str:
    """Return the 32-hex-digit id of execution environment ``env_id`` (as in log-stream names)."""
    return derived_hex(seed, "environment", int(env_id))
