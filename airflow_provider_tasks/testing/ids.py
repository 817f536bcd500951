"""Object ids of the emulators (random ones for created objects, stable ones for seed data) and
the fixed creation times of seed objects.

A stable id is a pure function of a seed string, so seed objects carry the same id in every
process (a test in another process can hard-code it). Apify ids are 17 alphanumerics, Lobstr.io
hashes 32 lowercase hex digits: both are these two functions with another alphabet and length.
"""

from __future__ import annotations

import hashlib
import secrets
import string
from datetime import datetime, timedelta, timezone

ALNUM = string.ascii_letters + string.digits
HEX = "0123456789abcdef"
_SEED_TIME = datetime(2024, 1, 15, 9, 0, tzinfo=timezone.utc)


def random_id(length: int = 17, alphabet: str = ALNUM) -> str:
    """A fresh random id."""
    return "".join(secrets.choice(alphabet) for _ in range(length))


def stable_id(seed: str, length: int = 17, alphabet: str = ALNUM) -> str:
    """An id derived from ``seed`` (SHA-256 digits in ``alphabet``): the same in every process."""
    number = int.from_bytes(hashlib.sha256(seed.encode()).digest(), "big")
    chars = []
    for _ in range(length):
        number, rest = divmod(number, len(alphabet))
        chars.append(alphabet[rest])
    return "".join(chars)


def seed_time(index: int) -> datetime:
    """Creation time of the index-th seed object: fixed, so ``created`` order is stable."""
    return _SEED_TIME + timedelta(minutes=index)
