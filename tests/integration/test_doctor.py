"""`cgw doctor`, run as a user runs it, against the real local stack and real faults on loopback: it passes
where Claude Code would work, and names the fault and its fix where it would not."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from codegateway.dev.processes import free_port
from codegateway.doctor import fixes
from codegateway.settings import Settings
from codegateway.store import Store
from tests.support.accounts import ApiCaller, new_caller
from tests.support.faults import FaultyProxy, PrivateCa, private_ca, redirecting_server
from tests.support.requests import message_body
from tests.support.stack import REPO, RunningStack, StackWithStore

MODEL = "claude-opus-4-8"


@dataclass
class Outcome:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def checks(self) -> dict[str, dict[str, str]]:
        return {check["name"]: check for check in json.loads(self.stdout)["checks"]}

    def status(self, name: str) -> str:
        return self.checks[name]["status"]


def doctor(home: Path, *args: str, **env: str) -> Outcome:
    """`cgw doctor ARGS` in a shell holding only `env` (plus PATH), with its own home directory."""
    clean = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("ANTHROPIC_", "CLAUDE_", "NODE_EXTRA_CA")) and "proxy" not in name.lower()
    }
    result = subprocess.run(
        [sys.executable, "-m", "codegateway.cli", "doctor", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**clean, "HOME": str(home), "NO_COLOR": "1", "COLUMNS": "80", **env},
        timeout=120,
    )
    return Outcome(result.returncode, result.stdout, result.stderr)


def client_env(base_url: str, caller: ApiCaller, **more: str) -> dict[str, str]:
    return {"ANTHROPIC_BASE_URL": base_url, "ANTHROPIC_API_KEY": caller.api_key, "ANTHROPIC_MODEL": MODEL, **more}


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> PrivateCa:
    return private_ca(tmp_path_factory.mktemp("ca"))


def test_doctor_passes_against_the_local_stack(fast_stack: StackWithStore, home: Path) -> None:
    outcome = doctor(home, **client_env(fast_stack.running.base_url, fast_stack.caller()))
    assert outcome.exit_code == 0, outcome.stdout
    lines = outcome.stdout.splitlines()
    assert all(line.startswith("pass ") for line in lines[:-1]), outcome.stdout
    assert "0 warnings, 0 failed." in lines[-1] and "--idle" in lines[-1]
    assert all(len(line) <= 80 for line in lines)
    for name in ("env.base_url", "net.tcp", "gateway.key", "gateway.balance", "gateway.rpm", "gateway.first_byte"):
        assert any(line.split()[1] == name for line in lines[:-1]), name


def test_json_lists_every_check_with_name_status_value_and_fix(fast_stack: StackWithStore, home: Path) -> None:
    outcome = doctor(home, "--json", **client_env(fast_stack.running.base_url, fast_stack.caller()))
    assert outcome.exit_code == 0
    report = json.loads(outcome.stdout)
    assert set(report) == {"checks"}
    for check in report["checks"]:
        assert set(check) == {"name", "status", "value", "fix"}
        assert check["status"] == "pass" and check["fix"] == ""
    checks = outcome.checks
    assert checks["gateway.rpm"]["value"].endswith("of 120 requests left this minute")
    assert checks["gateway.balance"]["value"] == "$2.00 available"
    assert checks["env.model"]["value"] == f"{MODEL} (served)"


def test_flags_stand_in_for_the_environment(fast_stack: StackWithStore, home: Path) -> None:
    caller = fast_stack.caller()
    outcome = doctor(home, "--json", "--base-url", fast_stack.running.base_url, "--key", caller.api_key)
    assert outcome.checks["gateway.key"]["status"] == "pass"
    assert outcome.checks["env.credentials"]["value"].startswith("--key")


def test_a_wrong_key_fails_with_the_401_fix_and_exit_1(fast_stack: StackWithStore, home: Path) -> None:
    caller = fast_stack.caller()
    wrong = ApiCaller(caller.account, caller.key_id, caller.api_key[:-4] + "AAAA")
    outcome = doctor(home, "--json", **client_env(fast_stack.running.base_url, wrong))
    assert outcome.exit_code == 1
    key = outcome.checks["gateway.key"]
    assert key["status"] == "fail" and "401 authentication_error" in key["value"]
    assert key["fix"] == fixes.WRONG_KEY_401
    assert wrong.api_key not in outcome.stdout and caller.api_key[10:] not in outcome.stdout


def test_a_base_url_with_a_path_fails_and_one_with_a_trailing_slash_warns(
    fast_stack: StackWithStore, home: Path
) -> None:
    caller = fast_stack.caller()
    with_path = doctor(home, "--json", **client_env(fast_stack.running.base_url + "/v1", caller))
    assert with_path.exit_code == 1
    assert with_path.checks["env.base_url"]["status"] == "fail"
    assert with_path.checks["env.base_url"]["fix"] == fixes.BASE_URL_PATH
    # The host behind the wrong URL is still diagnosed.
    assert with_path.status("gateway.key") == "pass"

    with_slash = doctor(home, "--json", **client_env(fast_stack.running.base_url + "/", caller))
    assert with_slash.exit_code == 0
    assert with_slash.status("env.base_url") == "warn"


def test_an_unknown_model_fails_with_the_nearest_ids_as_the_gateway_would_answer_422(
    fast_stack: StackWithStore, home: Path
) -> None:
    caller = fast_stack.caller()
    outcome = doctor(
        home, "--json", **client_env(fast_stack.running.base_url, caller, ANTHROPIC_MODEL="claude-sonnet-4.6")
    )
    assert outcome.exit_code == 1
    model = outcome.checks["env.model"]
    assert model["status"] == "fail" and "claude-sonnet-4-6" in model["fix"]
    answer = httpx.post(
        f"{fast_stack.running.base_url}/v1/messages",
        content=message_body("claude-sonnet-4.6"),
        headers={"x-api-key": caller.api_key},
        timeout=30,
    )
    assert answer.status_code == 422


def test_an_empty_balance_fails_with_the_top_up_fix_as_the_gateway_would_answer_402(
    fast_stack: StackWithStore, home: Path
) -> None:
    broke = new_caller(fast_stack.store, fast_stack.settings.model_copy(update={"starter_credit_nano": 0}))
    outcome = doctor(home, "--json", **client_env(fast_stack.running.base_url, broke))
    assert outcome.exit_code == 1
    balance = outcome.checks["gateway.balance"]
    assert balance["status"] == "fail" and balance["fix"] == fixes.BALANCE_402
    # The diagnostics stream is free: it still answers for an empty account.
    assert outcome.status("gateway.first_byte") == "pass"
    answer = httpx.post(
        f"{fast_stack.running.base_url}/v1/messages",
        content=message_body(MODEL),
        headers={"x-api-key": broke.api_key},
        timeout=30,
    )
    assert answer.status_code == 402


def test_the_idle_check_survives_on_the_gateways_pings(fast_stack: StackWithStore, home: Path) -> None:
    caller = fast_stack.caller()
    outcome = doctor(home, "--json", "--idle", "--idle-seconds", "2", **client_env(fast_stack.running.base_url, caller))
    assert outcome.exit_code == 0, outcome.stdout
    idle = outcome.checks["gateway.idle"]
    assert idle["status"] == "pass", idle
    assert int(idle["value"].split(" pings")[0].rsplit(" ", 1)[-1]) >= 4


def test_a_path_that_cuts_idle_connections_is_survived_with_pings_and_fails_without(
    fast_stack: StackWithStore, stack: RunningStack, home: Path, store: Store, stack_settings: Settings
) -> None:
    # A middlebox that resets connections idle for 1 s (real ones: 30-60 s). The doctor stack pings every
    # 0.3 s and keeps the path open; the default stack pings every 10 s and loses it.
    with FaultyProxy(fast_stack.port, idle_cut_s=1.0) as middlebox:
        kept = doctor(
            home, "--json", "--idle", "--idle-seconds", "2.5", **client_env(middlebox.url, fast_stack.caller())
        )
    assert kept.status("gateway.idle") == "pass", kept.checks["gateway.idle"]

    with FaultyProxy(urlsplit(stack.base_url).port or 0, idle_cut_s=1.0) as middlebox:
        caller = new_caller(store, stack_settings)
        cut = doctor(home, "--json", "--idle", "--idle-seconds", "2.5", **client_env(middlebox.url, caller))
    assert cut.exit_code == 1
    idle = cut.checks["gateway.idle"]
    assert idle["status"] == "fail" and idle["fix"] == fixes.ECONNRESET_IDLE
    assert "ECONNRESET" in idle["value"] or "hang up" in idle["value"]
    assert middlebox.cuts >= 1


def test_a_slow_first_byte_warns(fast_stack: StackWithStore, home: Path) -> None:
    with FaultyProxy(fast_stack.port, first_byte_delay_s=1.2) as slow:
        outcome = doctor(home, "--json", **client_env(slow.url, fast_stack.caller()))
    first_byte = outcome.checks["gateway.first_byte"]
    assert first_byte["status"] == "warn" and first_byte["fix"] == fixes.SLOW_FIRST_BYTE
    assert outcome.exit_code == 0


def test_a_private_ca_fails_verification_until_node_extra_ca_certs_names_it(
    fast_stack: StackWithStore, home: Path, ca: PrivateCa
) -> None:
    caller = fast_stack.caller()
    with FaultyProxy(fast_stack.port, tls=ca.server_context()) as interception:
        untrusted = doctor(home, "--json", **client_env(interception.url, caller))
        trusted = doctor(home, "--json", **client_env(interception.url, caller, NODE_EXTRA_CA_CERTS=str(ca.ca_pem)))
    assert untrusted.exit_code == 1
    verify = untrusted.checks["tls.verify"]
    assert verify["status"] == "fail" and verify["fix"] == fixes.TLS_UNTRUSTED
    assert "interception" in verify["value"]
    assert untrusted.status("tls.version") == "pass"

    assert trusted.exit_code == 0, trusted.stdout
    assert "NODE_EXTRA_CA_CERTS" in trusted.checks["tls.verify"]["value"]
    assert trusted.status("gateway.key") == "pass" and trusted.status("gateway.first_byte") == "pass"


def test_a_tls12_only_server_warns_of_the_downgrade(fast_stack: StackWithStore, home: Path, ca: PrivateCa) -> None:
    with FaultyProxy(fast_stack.port, tls=ca.server_context(tls12_only=True)) as old:
        outcome = doctor(home, "--json", **client_env(old.url, fast_stack.caller(), NODE_EXTRA_CA_CERTS=str(ca.ca_pem)))
    version = outcome.checks["tls.version"]
    assert version["status"] == "warn" and version["value"].startswith("TLSv1.2")
    assert version["fix"] == fixes.TLS_OLD_VERSION


def test_https_to_a_plain_http_port_is_the_wrong_version_number(fast_stack: StackWithStore, home: Path) -> None:
    url = fast_stack.running.base_url.replace("http://", "https://")
    outcome = doctor(home, "--json", **client_env(url, fast_stack.caller()))
    assert outcome.exit_code == 1
    version = outcome.checks["tls.version"]
    assert version["status"] == "fail" and version["fix"] == fixes.TLS_WRONG_VERSION
    assert "wrong version number" in version["value"]


def test_a_redirect_fails_as_claude_code_treats_it(home: Path, fast_stack: StackWithStore) -> None:
    with redirecting_server() as url:
        outcome = doctor(home, "--json", **client_env(url, fast_stack.caller()))
    assert outcome.exit_code == 1
    head = outcome.checks["gateway.head"]
    assert head["status"] == "fail" and head["fix"] == fixes.REDIRECT
    assert "https://gateway.example.com/" in head["value"]


def test_nothing_listening_is_connection_refused(home: Path, fast_stack: StackWithStore) -> None:
    port = free_port()
    outcome = doctor(home, "--json", **client_env(f"http://127.0.0.1:{port}", fast_stack.caller()))
    assert outcome.exit_code == 1
    assert outcome.checks["net.tcp"]["fix"] == fixes.CONNECT_REFUSED


def test_a_stale_claude_login_beside_the_base_url_is_the_login_loop(fast_stack: StackWithStore, home: Path) -> None:
    credentials = home / ".claude" / ".credentials.json"
    credentials.parent.mkdir()
    credentials.write_text(
        json.dumps({"claudeAiOauth": {"accessToken": "sk-ant-oat01-x", "expiresAt": 1_700_000_000_000}})
    )
    outcome = doctor(home, "--json", **client_env(fast_stack.running.base_url, fast_stack.caller()))
    assert outcome.exit_code == 1
    login = outcome.checks["claude.login"]
    assert login["status"] == "fail" and login["fix"] == fixes.LOGIN_LOOP
    assert "sk-ant-oat01" not in outcome.stdout
