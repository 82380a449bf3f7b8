"""Deterministic identifiers: request ids, environment ids and log-stream ids.

AWS gives every request a UUID and every execution environment a 32-hex-digit id. A simulation must
be reproducible, so simlab derives both from the run's seed and a counter with a cryptographic hash:
the same seed always yields the same ids, on every machine, and no random stream is consumed.
"""

from __future__ import annotations

import hashlib

__all__ = ["request_id", "environment_hex_id"]


def _digest(seed: int, kind: str, number: int) -> str:
    return hashlib.blake2b(f"{seed}:{kind}:{number}".encode(), digest_size=16).hexdigest()


def request_id(seed: int, invocation_id: int) -> str:
    """Return the UUID-shaped request id of invocation ``invocation_id`` in a run seeded ``seed``.

    Examples
    --------
    >>> request_id(1, 0) == request_id(1, 0)
    True
    >>> len(request_id(1, 0))
    36
    """
    h = _digest(seed, "request", int(invocation_id))
    # Shape it as a version-4 UUID, as Lambda's request ids are.
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) % 4]}{h[17:20]}-{h[20:32]}"


def environment_hex_id(seed: int, env_id: int) -> str:
    """Return the 32-hex-digit id of execution environment ``env_id`` (as in log-stream names)."""
    return _digest(seed, "environment", int(env_id))
