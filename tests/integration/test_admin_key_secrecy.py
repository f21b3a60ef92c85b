"""No answer of the admin function, the CLI or self-service shows a key hash, or a key's plaintext
after the one answer that created it."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator

import httpx
import pytest

from codegateway.settings import Settings
from tests.support.admin_function import AdminFunction
from tests.support.cli import Cgw
from tests.support.proxy import request_id_of_message
from tests.support.stack import RunningStack

BCRYPT_PREFIX = "$2b$"


@pytest.fixture(scope="module")
def admin(stack: RunningStack, stack_settings: Settings) -> Iterator[AdminFunction]:
    function = AdminFunction(stack_settings)
    yield function
    function.close()


def _assert_no_secrets(outputs: list[str], plaintexts: list[str]) -> None:
    assert outputs
    for output in outputs:
        assert BCRYPT_PREFIX not in output
        for plaintext in plaintexts:
            assert plaintext not in output
            assert plaintext.split("_", 1)[1] not in output  # not even the secret part alone


def test_admin_function_answers_never_show_a_hash_or_an_old_plaintext(
    stack: RunningStack, admin: AdminFunction
) -> None:
    account_id = admin.invoke("admin-accounts", body={"email": f"leak-{secrets.token_hex(4)}@example.com"}).json()["id"]
    created = admin.invoke("admin-keys", path=f"/v1/accounts/{account_id}/keys")
    assert created.status == 201 and BCRYPT_PREFIX not in created.text
    key = created.json()
    request_id_of_message(stack, key["key"])
    spare = admin.invoke("admin-keys", path=f"/v1/accounts/{account_id}/keys", body={"name": "spare"}).json()

    outputs = [
        admin.get(f"/v1/accounts/{account_id}/keys").text,
        admin.get(f"/v1/keys/{key['id']}").text,
        admin.get(f"/v1/accounts/{account_id}").text,
        admin.get("/v1/accounts", "limit=1000").text,
        admin.get(f"/v1/accounts/{account_id}/usage").text,
        admin.get(f"/v1/accounts/{account_id}/usage", "format=csv").text,
        admin.get(f"/v1/keys/{key['id']}/usage").text,
        admin.post(f"/v1/keys/{spare['id']}/revoke").text,
    ]
    rotated = admin.post(f"/v1/keys/{key['id']}/rotate")
    new_plaintext = rotated.json()["issued"]["key"]
    outputs += [rotated.text.replace(new_plaintext, "<the new key, shown once>")]
    outputs += [admin.get(f"/v1/accounts/{account_id}/keys").text, admin.get(f"/v1/keys/{key['id']}").text]
    _assert_no_secrets(outputs, [key["key"], spare["key"], new_plaintext])


def test_cli_output_never_shows_a_hash_or_an_old_plaintext(stack: RunningStack) -> None:
    cgw = Cgw(stack.dynamodb_endpoint)
    account_id = cgw.json("accounts", "create", f"leak-cli-{secrets.token_hex(4)}@example.com")["id"]
    created = cgw.ok("keys", "create", account_id, "--name", "laptop")
    plaintext = created.stdout.strip().splitlines()[-1]  # the table first, the key on its own last line
    assert plaintext.startswith("sk-cg-") and created.stdout.count(plaintext) == 1
    assert "shown this once" in created.stderr
    key_id = plaintext[len("sk-cg-") :].split("_")[0]
    request_id_of_message(stack, plaintext)

    outputs: list[str] = []
    for output_format in ("table", "json"):
        outputs += [
            cgw.ok("keys", "list", account_id, "--format", output_format).output,
            cgw.ok("accounts", "get", account_id, "--format", output_format).output,
            cgw.ok("usage", "--account", account_id, "--format", output_format).output,
        ]
    outputs.append(cgw.ok("usage", "--key", key_id, "--format", "csv").output)
    rotated = cgw.ok("keys", "rotate", key_id)
    new_plaintext = rotated.stdout.strip().splitlines()[-1]
    outputs.append(rotated.output.replace(new_plaintext, "<the new key, shown once>"))
    outputs += [
        cgw.ok("keys", "list", account_id).output,
        cgw.ok("keys", "list", account_id, "--format", "json").output,
    ]
    outputs.append(cgw.ok("keys", "revoke", new_plaintext[len("sk-cg-") :].split("_")[0]).output)
    _assert_no_secrets(outputs, [plaintext, new_plaintext])


def test_self_service_answers_never_show_a_hash_or_an_old_plaintext(stack: RunningStack, admin: AdminFunction) -> None:
    account_id = admin.invoke("admin-accounts", body={"email": f"leak-self-{secrets.token_hex(4)}@example.com"}).json()[
        "id"
    ]
    holder = admin.invoke("admin-keys", path=f"/v1/accounts/{account_id}/keys").json()["key"]

    def call(method: str, path: str) -> str:
        response = httpx.request(method, f"{stack.base_url}{path}", headers={"x-api-key": holder}, timeout=30)
        assert response.status_code < 300, response.text
        return response.text

    created = httpx.post(f"{stack.base_url}/v1/account/keys", headers={"x-api-key": holder}, timeout=30).json()
    rotated_text = call("POST", f"/v1/account/keys/{created['id']}/rotate")
    newest = json.loads(rotated_text)["issued"]["key"]
    outputs = [
        call("GET", "/v1/account/keys"),
        call("GET", "/v1/account"),
        rotated_text.replace(newest, "<the new key, shown once>"),
        call("POST", f"/v1/account/keys/{newest[len('sk-cg-') :].split('_')[0]}/revoke"),
        call("GET", "/v1/account/keys"),
    ]
    _assert_no_secrets(outputs, [holder, created["key"], newest])
