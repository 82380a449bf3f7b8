"""Deterministic ids: one hash, one UUID shaping, the same ids as before the shaping was shared."""

from __future__ import annotations

import hashlib
import uuid

import pytest

from simlab.aws.sources.payloads.context import PayloadContext
from simlab.aws.trail import trail_record
from simlab.core.ids import derived_hex, derived_uuid, environment_hex_id, request_id


def _shaped_by_hand(seed: int, kind: str, number: int) -> str:
    """The version-4 shaping the id modules used to spell out, digit by digit."""
    h = hashlib.blake2b(f"{seed}:{kind}:{number}".encode(), digest_size=16).hexdigest()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) % 4]}{h[17:20]}-{h[20:32]}"


@pytest.mark.parametrize("seed", [0, 1, 7, 2**40])
def test_uuids_are_those_shaped_by_hand(seed: int) -> None:
    for number in range(300):
        expected = _shaped_by_hand(seed, "request", number)
        assert request_id(seed, number) == expected
        assert derived_uuid(seed, "request", number) == expected
        assert PayloadContext(seed=seed).uuid("sqs-message", number) == _shaped_by_hand(
            seed, "sqs-message", number)
        parsed = uuid.UUID(expected)
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122


def test_trail_record_ids_are_the_shared_uuids() -> None:
    record = trail_record("Invoke", None, 12.5, seed=3, number=9)
    assert record["requestID"] == _shaped_by_hand(3, "trail-request", 9)
    assert record["eventID"] == _shaped_by_hand(3, "trail-event", 9)


def test_hex_ids_are_prefixes_of_their_own_digest_size() -> None:
    assert environment_hex_id(5, 2) == hashlib.blake2b(b"5:environment:2",
                                                        digest_size=16).hexdigest()
    assert PayloadContext(seed=5).hex("environment", 2) == environment_hex_id(5, 2)
    assert derived_hex(5, "host", 1, 10) == hashlib.blake2b(b"5:host:1",
                                                             digest_size=5).hexdigest()
    assert len(derived_hex(5, "host", 1, 7)) == 7
