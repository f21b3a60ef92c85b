"""Sign-up and sign-in by emailed code: who may sign up (the operator's mode), sending the code,
and opening the account with its first key and the starter credit, written in the ledger."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from urllib.parse import urlencode

from codegateway.accounts.accounts import create_account, top_up
from codegateway.accounts.email_codes import issue_code, redeem_code, take_code_request
from codegateway.accounts.keys import IssuedKey, create_key
from codegateway.accounts.outbox import Outbox
from codegateway.domain.records import Account
from codegateway.errors import Conflict, InvalidRequest, SignupClosed
from codegateway.settings import Settings
from codegateway.store import Store

_EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
SIGNUP_ACTOR = "signup"
STARTER_CREDIT_KEY = "signup-starter-credit"


@dataclass(frozen=True)
class NewAccount:
    account: Account
    first_key: IssuedKey


def normalized_email(email: object) -> str:
    if not isinstance(email, str) or len(email.strip()) > 254 or not _EMAIL_RE.match(email.strip()):
        raise InvalidRequest("email: expected an email address, e.g. ada@example.com.")
    return email.strip().lower()


def signup_allowed(settings: Settings, email: str) -> bool:
    if settings.signup_mode == "open":
        return True
    if settings.signup_mode == "domains":
        return email.rsplit("@", 1)[1] in settings.signup_domain_set
    return False


def send_code(store: Store, settings: Settings, outbox: Outbox, email: str, client_ip: str, link_base: str) -> None:
    """Email a code to an address that has an account or may open one; to any other address, send
    nothing, silently: the caller's answer is the same either way (no account enumeration)."""
    take_code_request(store, email, client_ip, time.time())
    if not signup_allowed(settings, email) and store.accounts.find_by_email(email) is None:
        return
    code = issue_code(store, email, time.time())
    outbox.send_code(email, code, f"{link_base}?{urlencode({'email': email, 'code': code})}")


def open_account(store: Store, settings: Settings, email: str, code: str) -> NewAccount:
    """Redeem the code and open the account (POST /v1/signup/verify). The code is checked before
    the address: without a valid code nobody learns whether the address has an account."""
    if not signup_allowed(settings, email):
        raise SignupClosed()
    redeem_code(store, email, code)
    if store.accounts.find_by_email(email) is not None:
        raise Conflict(f"email {email}: an account with this email exists already; sign in instead.")
    return _open(store, settings, email)


def sign_in_or_open(store: Store, settings: Settings, email: str, code: str) -> Account | NewAccount:
    """The dashboard's one code form: the address's account (sign-in), or a new one (sign-up)."""
    redeem_code(store, email, code)
    account = store.accounts.find_by_email(email)
    if account is not None:
        return account
    if not signup_allowed(settings, email):
        raise SignupClosed()
    return _open(store, settings, email)


def _open(store: Store, settings: Settings, email: str) -> NewAccount:
    """First key, and the starter credit as a ledger entry (actor "signup"). An address gets one
    account (its email claim is never released), so one starter credit, ever."""
    account = create_account(store, settings.model_copy(update={"starter_credit_nano": 0}), email)
    top_up(
        store,
        account.account_id,
        settings.starter_credit_nano,
        idempotency_key=STARTER_CREDIT_KEY,
        actor=SIGNUP_ACTOR,
        reason=f"starter credit: sign-up by email ({email})",
    )
    first_key = create_key(store, settings, account.account_id, name="first key")
    opened = store.accounts.get(account.account_id) or account
    return NewAccount(opened, first_key)
