"""Where emailed codes go: the Outbox protocol, and the console outbox of the local stack (the
stack's own output is its mailbox). The deployed one, through Amazon SES, is ses_outbox.py."""

from __future__ import annotations

from typing import Protocol


class Outbox(Protocol):
    def send_code(self, email: str, code: str, link: str) -> None: ...


class ConsoleOutbox:
    """Prints the code and the link, and nothing else about it (no log line carries either)."""

    def send_code(self, email: str, code: str, link: str) -> None:
        print(f"verification code for {email}: {code}", flush=True)
        print(f"sign-in link for {email}: {link}", flush=True)
