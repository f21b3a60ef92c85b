"""Print the CloudFormation that SAM makes of a template, as JSON: `python synthesize.py TEMPLATE`.

Runs under the SAM CLI's interpreter (.venv-sam), which has samtranslator; the project's .venv does
not. This is what `sam deploy` would send, minus the code upload: local CodeUri/ContentUri become
placeholder S3 locations, as `sam validate` does. No AWS credentials or network are needed.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse


class _NoManagedPolicies:
    """The translator asks IAM for managed policy ARNs only when a template names one by bare name."""

    def load(self) -> dict[str, str]:
        return {}


def synthesize(template_path: Path) -> dict[str, Any]:
    template = yaml_parse(template_path.read_text())
    for resource in template.get("Resources", {}).values():
        properties = resource.get("Properties") or {}
        for key in ("CodeUri", "ContentUri"):
            if isinstance(properties.get(key), str) and not properties[key].startswith("s3://"):
                properties[key] = f"s3://placeholder-bucket/{properties[key].strip('/')}"
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    synthesized: dict[str, Any] = transform(template, {}, _NoManagedPolicies())
    return synthesized


if __name__ == "__main__":
    json.dump(synthesize(Path(sys.argv[1])), sys.stdout, indent=1, default=str)
