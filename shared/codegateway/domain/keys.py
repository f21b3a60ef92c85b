"""Key format, hashing and the per-process verification cache. No I/O.

A key is `sk-cg-<key_id>_<secret>`: key_id is 16 hex characters (the DynamoDB partition key, so a
lookup is one GetItem), secret is 32 random bytes in URL-safe base64 (43 characters). The whole key
is bcrypt-hashed; at 66 bytes it sits under bcrypt's 72-byte input limit. A presented key of any
other length is refused here, before any lookup: bcrypt 5 raises on input over 72 bytes (which
would surface as a 500), and no key this gateway ever issued has another length.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections import OrderedDict
from dataclasses import dataclass

import bcrypt

KEY_PREFIX = "sk-cg-"
SECRET_BYTES = 32
SECRET_CHARS = 43  # token_urlsafe(32): 32 bytes in unpadded URL-safe base64
BCRYPT_MAX_INPUT_BYTES = 72
_KEY_RE = re.compile(rf"^sk-cg-([0-9a-f]{{16}})_([A-Za-z0-9_-]{{{SECRET_CHARS}}})$")
_KEY_CHARS = len(KEY_PREFIX) + 16 + 1 + SECRET_CHARS


@dataclass(frozen=True, slots=True)
class PresentedKey:
    key_id: str
    plaintext: str


def generate_key() -> PresentedKey:
    key_id = secrets.token_hex(8)
    return PresentedKey(key_id, f"{KEY_PREFIX}{key_id}_{secrets.token_urlsafe(SECRET_BYTES)}")


def parse_key(text: str | None) -> PresentedKey | None:
    """The key's id if `text` has the key format, else None. Says nothing about validity."""
    if not text or len(text) != _KEY_CHARS:
        return None
    match = _KEY_RE.match(text)
    return PresentedKey(match.group(1), text) if match else None


def key_from_headers(x_api_key: str | None, authorization: str | None) -> str | None:
    if x_api_key:
        return x_api_key.strip()
    if authorization and authorization[:7].lower() == "bearer ":
        return authorization[7:].strip()
    return None


def hash_key(plaintext: str, rounds: int) -> str:
    return bcrypt.hashpw(plaintext.encode(), bcrypt.gensalt(rounds)).decode()


def redact(plaintext: str) -> str:
    """What may appear in logs and listings: the prefix and key id, never the secret."""
    key = parse_key(plaintext)
    return f"{KEY_PREFIX}{key.key_id}_***" if key else "sk-cg-***"


class VerifiedKeyCache:
    """Remembers keys bcrypt already accepted, so bcrypt runs once per key per warm process.

    Entries are keyed by (key_id, stored bcrypt hash) and hold the SHA-256 of the accepted key: a
    record whose hash changed no longer matches, and a different secret under the same id does not
    match the digest, so it goes to bcrypt (and fails there).
    """

    def __init__(self, max_entries: int = 10_000) -> None:
        self._digests: OrderedDict[tuple[str, str], bytes] = OrderedDict()
        self._max_entries = max_entries
        self.bcrypt_checks = 0

    def check(self, key: PresentedKey, stored_hash: str) -> bool:
        digest = _digest(key)
        slot = (key.key_id, stored_hash)
        known = self._digests.get(slot)
        if known is not None:
            return hmac.compare_digest(known, digest)
        if len(key.plaintext.encode()) > BCRYPT_MAX_INPUT_BYTES:
            return False  # bcrypt 5 raises past 72 bytes; such a key was never issued
        self.bcrypt_checks += 1
        if not bcrypt.checkpw(key.plaintext.encode(), stored_hash.encode()):
            return False
        self._digests[slot] = digest
        if len(self._digests) > self._max_entries:
            self._digests.popitem(last=False)
        return True

    def is_known(self, key: PresentedKey, stored_hash: str) -> bool:
        """True when `check` would answer from memory (lets callers skip a thread hop)."""
        return (key.key_id, stored_hash) in self._digests

    @staticmethod
    def attempt_of(key: PresentedKey, stored_hash: str) -> tuple[str, str, bytes]:
        """What identifies one bcrypt check: the record's hash and the presented secret's digest, so
        checks of the same secret can share one run and a different secret never shares another's."""
        return key.key_id, stored_hash, _digest(key)


def _digest(key: PresentedKey) -> bytes:
    return hashlib.sha256(key.plaintext.encode()).digest()
