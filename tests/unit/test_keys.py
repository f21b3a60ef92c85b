"""Key format, hashing and the per-process verification cache."""

from __future__ import annotations

import asyncio

import pytest

from codegateway.auth import Authenticator
from codegateway.errors import AccountSuspended, AuthenticationFailed
from codegateway.keys import VerifiedKeyCache, generate_key, hash_key, key_from_headers, parse_key, redact
from codegateway.records import Account, ApiKeyRecord
from tests.support.fakes import memory_store, revoke


def test_generated_keys_have_the_documented_format_and_fit_bcrypt() -> None:
    key = generate_key()
    assert key.plaintext.startswith("sk-cg-" + key.key_id + "_")
    secret = key.plaintext.split("_", 1)[1]
    assert len(secret) >= 43  # 32 random bytes, URL-safe base64
    assert len(key.plaintext.encode()) <= 72  # bcrypt reads at most 72 bytes
    assert parse_key(key.plaintext) == key
    assert generate_key().plaintext != key.plaintext


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        "sk-ant-api03-abc",
        "sk-cg-XYZ_" + "a" * 43,
        "sk-cg-0123456789abcdef_short",
        "sk-cg-0123456789abcdef_" + "a" * 200,
    ],
)
def test_malformed_keys_do_not_parse(text: str | None) -> None:
    assert parse_key(text) is None


def test_both_header_styles_carry_the_key() -> None:
    assert key_from_headers("sk-cg-a", None) == "sk-cg-a"
    assert key_from_headers(None, "Bearer sk-cg-b") == "sk-cg-b"
    assert key_from_headers(None, "bearer  sk-cg-c ") == "sk-cg-c"
    assert key_from_headers(None, "Basic abc") is None


def test_redaction_never_shows_the_secret() -> None:
    key = generate_key()
    assert redact(key.plaintext) == f"sk-cg-{key.key_id}_***"
    assert key.plaintext.split("_", 1)[1] not in redact(key.plaintext)


def _fixture(rounds: int = 4) -> tuple[Account, ApiKeyRecord, str]:
    key = generate_key()
    account = Account("acct_1", "a@example.com", "active", 10, 10, 15_000, 0, "2026-11-25T00:00:00.000Z")
    record = ApiKeyRecord(key.key_id, "acct_1", "k", hash_key(key.plaintext, rounds), "2026-11-25T00:00:00.000Z")
    return account, record, key.plaintext


def test_bcrypt_runs_once_per_key_per_process() -> None:
    account, record, plaintext = _fixture()
    store = memory_store(account, record)
    verified = VerifiedKeyCache()
    auth = Authenticator(store, verified, record_max_age_s=0.0)

    async def many() -> None:
        for _ in range(50):
            caller = await auth.authenticate(plaintext, None)
            assert caller.account.account_id == "acct_1"

    asyncio.run(many())
    assert verified.bcrypt_checks == 1
    # ... while the key record is still read on every request (max age 0 here), so revocation shows.
    assert store.api_keys.reads == 50


def test_wrong_secret_on_a_known_key_id_is_refused_without_more_bcrypt() -> None:
    account, record, plaintext = _fixture()
    verified = VerifiedKeyCache()
    auth = Authenticator(memory_store(account, record), verified, record_max_age_s=0.0)
    asyncio.run(auth.authenticate(plaintext, None))
    forged = plaintext.split("_", 1)[0] + "_" + "Z" * 43
    for _ in range(5):
        with pytest.raises(AuthenticationFailed):
            asyncio.run(auth.authenticate(forged, None))
    assert verified.bcrypt_checks == 1


def test_revocation_takes_effect_once_the_record_is_re_read() -> None:
    account, record, plaintext = _fixture()
    store = memory_store(account, record)
    now = [100.0]
    auth = Authenticator(store, VerifiedKeyCache(), record_max_age_s=0.5, clock=lambda: now[0])
    asyncio.run(auth.authenticate(plaintext, None))
    revoke(store, record.key_id)
    now[0] += 0.5
    with pytest.raises(AuthenticationFailed):
        asyncio.run(auth.authenticate(None, f"Bearer {plaintext}"))


def test_suspended_account_is_a_403_not_a_401() -> None:
    account, record, plaintext = _fixture()
    from dataclasses import replace

    auth = Authenticator(memory_store(replace(account, status="suspended"), record), VerifiedKeyCache(), 0.0)
    with pytest.raises(AccountSuspended):
        asyncio.run(auth.authenticate(plaintext, None))
