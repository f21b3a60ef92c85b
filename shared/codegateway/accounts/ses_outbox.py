"""The deployed outbox: Amazon SES (v2) SendEmail with a stored template whose variables are
`code` and `link`. The sender must be a verified SES identity (docs/dashboard.md)."""

from __future__ import annotations

from typing import Any

import orjson

from codegateway.accounts.outbox import ConsoleOutbox, Outbox
from codegateway.settings import Settings


class SesOutbox:
    def __init__(self, client: Any, sender: str, template: str) -> None:
        self._client = client
        self._sender = sender
        self._template = template

    def send_code(self, email: str, code: str, link: str) -> None:
        self._client.send_email(
            FromEmailAddress=self._sender,
            Destination={"ToAddresses": [email]},
            Content={
                "Template": {
                    "TemplateName": self._template,
                    "TemplateData": orjson.dumps({"code": code, "link": link}).decode(),
                }
            },
        )


def build_outbox(settings: Settings) -> Outbox:
    if settings.outbox == "console":
        return ConsoleOutbox()
    import botocore.session

    client = botocore.session.Session().create_client("sesv2", region_name=settings.aws_region)
    return SesOutbox(client, settings.ses_sender, settings.ses_template)
