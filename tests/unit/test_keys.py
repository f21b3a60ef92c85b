"""Key format, hashing and the per-process verification cache."""

from __future__ import annotations

import asyncio
import threading

import bcrypt
import pytest

from codegateway.domain.keys import (
    PresentedKey,
    VerifiedKeyCache,
    generate_key,
    hash_key,
    key_from_headers,
    parse_key,
    redact,
)
from codegateway.domain.records import Account, ApiKeyRecord
from codegateway.errors import AccountSuspended, AuthenticationFailed
from codegateway.proxy.auth import Authenticator
from tests.support.fakes import memory_store, revoke


def test_generated_keys_have_the_documented_format_and_fit_bcrypt() -> None:
    key = generate_key()
    assert key.plaintext.startswith("sk-cg-" + key.key_id + "_")
    secret = key.plaintext.split("_", 1)[1]
    assert len(secret) == 43  # 32 random bytes, URL-safe base64
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
        "sk-cg-0123456789abcdef_" + "a" * 42,
        "sk-cg-0123456789abcdef_" + "a" * 44,
        "sk-cg-0123456789abcdef_" + "a" * 60,  # 83 bytes: past bcrypt's 72
        "sk-cg-0123456789abcdef_" + "a" * (1024 * 1024),
    ],
    ids=["none", "empty", "anthropic", "bad-id", "short", "long", "secret-42", "secret-44", "past-bcrypt", "1mb"],
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
    auth = Authenticator(store, verified, refresh_after_s=0.0, max_age_s=0.0)

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
    auth = Authenticator(memory_store(account, record), verified, refresh_after_s=0.0, max_age_s=0.0)
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
    auth = Authenticator(store, VerifiedKeyCache(), refresh_after_s=0.4, max_age_s=0.9, clock=lambda: now[0])

    async def scenario() -> None:
        await auth.authenticate(plaintext, None)
        revoke(store, record.key_id)
        now[0] += 0.3
        await auth.authenticate(plaintext, None)  # a fresh record: served without a read
        now[0] += 0.9  # past the hard limit: this request must read, and sees the revocation
        with pytest.raises(AuthenticationFailed):
            await auth.authenticate(None, f"Bearer {plaintext}")

    asyncio.run(scenario())


def test_a_stale_record_is_served_while_one_background_read_refreshes_it() -> None:
    account, record, plaintext = _fixture()
    store = memory_store(account, record)
    now = [100.0]
    auth = Authenticator(store, VerifiedKeyCache(), refresh_after_s=0.4, max_age_s=0.9, clock=lambda: now[0])

    async def scenario() -> None:
        await auth.authenticate(plaintext, None)
        reads_before = store.api_keys.reads
        now[0] += 0.5  # stale but usable: answered at once, refreshed behind the scenes
        await asyncio.gather(*(auth.authenticate(plaintext, None) for _ in range(20)))
        await asyncio.sleep(0.05)
        assert store.api_keys.reads == reads_before + 1  # twenty requests, one read
        revoke(store, record.key_id)
        now[0] += 0.5
        await auth.authenticate(plaintext, None)  # the refreshed copy is fresh: still served
        await asyncio.sleep(0.05)
        now[0] += 0.5
        with pytest.raises(AuthenticationFailed):  # the background read saw the revocation
            await auth.authenticate(plaintext, None)

    asyncio.run(scenario())


def test_concurrent_requests_for_an_unknown_record_read_it_once() -> None:
    account, record, plaintext = _fixture()
    store = memory_store(account, record)
    auth = Authenticator(store, VerifiedKeyCache(), refresh_after_s=0.4, max_age_s=0.9)

    async def scenario() -> None:
        await asyncio.gather(*(auth.authenticate(plaintext, None) for _ in range(10)))

    asyncio.run(scenario())
    assert store.api_keys.reads == 1 and store.accounts.reads == 1


def test_suspended_account_is_a_403_not_a_401() -> None:
    account, record, plaintext = _fixture()
    from dataclasses import replace

    store = memory_store(replace(account, status="suspended"), record)
    auth = Authenticator(store, VerifiedKeyCache(), refresh_after_s=0.0, max_age_s=0.0)
    with pytest.raises(AccountSuspended):
        asyncio.run(auth.authenticate(plaintext, None))


@pytest.mark.parametrize("extra", [1, 7, 30, 1024 * 1024])
def test_a_real_key_id_with_a_secret_of_the_wrong_length_is_the_same_401_cold_or_warm(extra: int) -> None:
    account, record, plaintext = _fixture()
    verified = VerifiedKeyCache()
    auth = Authenticator(memory_store(account, record), verified, refresh_after_s=0.0, max_age_s=0.0)
    too_long = plaintext + "A" * extra
    with pytest.raises(AuthenticationFailed):  # cold: nothing remembered for this key id
        asyncio.run(auth.authenticate(too_long, None))
    asyncio.run(auth.authenticate(plaintext, None))
    with pytest.raises(AuthenticationFailed):  # warm: the real key was just accepted
        asyncio.run(auth.authenticate(None, f"Bearer {too_long}"))


def test_the_verification_cache_refuses_input_bcrypt_cannot_take_instead_of_raising() -> None:
    _account, record, plaintext = _fixture()
    verified = VerifiedKeyCache()

    assert verified.check(PresentedKey(record.key_id, plaintext + "x" * 10), record.key_hash) is False
    assert verified.bcrypt_checks == 0


def _counting_bcrypt(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Every bcrypt.checkpw the verification cache makes, by presented key."""
    checked: list[bytes] = []
    real_checkpw = bcrypt.checkpw

    def checkpw(password: bytes, hashed: bytes) -> bool:
        checked.append(password)
        matched: bool = real_checkpw(password, hashed)
        return matched

    # domain/keys.py calls bcrypt.checkpw through the module, so patching the module counts its calls.
    monkeypatch.setattr(bcrypt, "checkpw", checkpw)
    return checked


def test_a_new_keys_first_requests_arriving_together_share_one_bcrypt_run(monkeypatch: pytest.MonkeyPatch) -> None:
    account, record, plaintext = _fixture(rounds=8)
    checked = _counting_bcrypt(monkeypatch)
    auth = Authenticator(memory_store(account, record), VerifiedKeyCache(), refresh_after_s=1.0, max_age_s=1.0)

    async def together() -> list[dict[str, str]]:
        notes: list[dict[str, str]] = [{} for _ in range(12)]
        callers = await asyncio.gather(*(auth.authenticate(plaintext, None, note) for note in notes))
        assert {caller.account.account_id for caller in callers} == {"acct_1"}
        return notes

    notes = asyncio.run(together())
    assert len(checked) == 1
    assert sorted(note["key_check"] for note in notes) == ["bcrypt"] + ["bcrypt_shared"] * 11


def test_a_wrong_secret_arriving_with_the_right_one_never_shares_its_bcrypt_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    account, record, plaintext = _fixture(rounds=8)
    checked = _counting_bcrypt(monkeypatch)
    auth = Authenticator(memory_store(account, record), VerifiedKeyCache(), refresh_after_s=1.0, max_age_s=1.0)
    forged = plaintext.split("_", 1)[0] + "_" + "Z" * 43

    async def mixed() -> list[object]:
        presented = [plaintext, forged, plaintext, forged, plaintext]
        return await asyncio.gather(*(auth.authenticate(key, None) for key in presented), return_exceptions=True)

    outcomes = asyncio.run(mixed())
    assert [type(outcome).__name__ for outcome in outcomes] == [
        "Caller",
        "AuthenticationFailed",
        "Caller",
        "AuthenticationFailed",
        "Caller",
    ]
    # One run for the right secret, one shared by the two wrong ones.
    assert sorted(checked) == sorted([plaintext.encode(), forged.encode()])


def test_a_request_that_gives_up_does_not_cancel_the_bcrypt_run_others_wait_for() -> None:
    account, record, plaintext = _fixture(rounds=8)
    verified = VerifiedKeyCache()
    auth = Authenticator(memory_store(account, record), verified, refresh_after_s=1.0, max_age_s=1.0)

    async def scenario() -> None:
        leaver = asyncio.create_task(auth.authenticate(plaintext, None))
        stayer = asyncio.create_task(auth.authenticate(plaintext, None))
        await asyncio.sleep(0.001)
        leaver.cancel()
        caller = await stayer
        assert caller.account.account_id == "acct_1"
        assert leaver.cancelled()

    asyncio.run(scenario())
    assert verified.bcrypt_checks == 1


def test_once_the_records_expire_a_known_keys_account_is_read_beside_the_key_not_after_it() -> None:
    account, record, plaintext = _fixture()
    store = memory_store(account, record)
    read_key, read_account = store.api_keys.get, store.accounts.get
    account_read_started, waiting = threading.Event(), [False]
    key_read_saw_account_read: list[bool] = []

    def key_read(key_id: str) -> ApiKeyRecord | None:
        if waiting[0]:
            key_read_saw_account_read.append(account_read_started.wait(timeout=2))
        return read_key(key_id)  # type: ignore[no-any-return]

    def account_read(account_id: str) -> Account | None:
        account_read_started.set()
        return read_account(account_id)  # type: ignore[no-any-return]

    store.api_keys.get, store.accounts.get = key_read, account_read
    now = [100.0]
    auth = Authenticator(store, VerifiedKeyCache(), refresh_after_s=0.4, max_age_s=0.9, clock=lambda: now[0])

    async def scenario() -> Account:
        await auth.authenticate(plaintext, None)  # unknown key: its account is only known after its read
        account_read_started.clear()
        waiting[0] = True
        now[0] += 1.0  # both records past max_age_s: this request must read both
        return (await auth.authenticate(plaintext, None)).account

    assert asyncio.run(scenario()) == account
    assert key_read_saw_account_read == [True]
    assert store.api_keys.reads == 2 and store.accounts.reads == 2
