"""Schemathesis against /api/v1/openapi.json: generated requests, good and bad, with a key.

Every answer must match the document (status, content type, body schema, headers) and no
request may cause a server error. ``make fuzz-api`` runs the same with many more examples.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
from tests.conftest import RunningServer
from tests.integration.test_http_api import make_key

# 413 is the right answer to an oversized text; this check expects other 4xx codes only.
EXCLUDED = "negative_data_rejection"


def run_schemathesis(
    server: RunningServer, key: str, examples: int, workdir: Path
) -> subprocess.CompletedProcess[str]:
    binary = Path(sys.executable).with_name("schemathesis")
    assert binary.exists() or shutil.which("schemathesis"), "make setup installs schemathesis"
    return subprocess.run(
        [
            str(binary),
            "run",
            f"{server.url}/api/v1/openapi.json",
            "--url",
            f"{server.url}/api/v1",
            "-H",
            f"Authorization: Bearer {key}",
            "--checks",
            "all",
            "--exclude-checks",
            EXCLUDED,
            "--max-examples",
            str(examples),
            "--generation-database",
            "none",
            "--no-color",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=workdir,  # it keeps a cache of crashes in the current folder
    )


def test_generated_requests_get_documented_answers_and_no_server_error(
    server: RunningServer, tmp_path: Path
) -> None:
    examples = int(os.environ.get("ROOMCAST_FUZZ_EXAMPLES", "15"))
    done = run_schemathesis(server, make_key(server), examples, tmp_path)
    summary = done.stdout[-3000:]
    assert done.returncode == 0, summary
    assert "passed" in summary
    print(*(line for line in summary.splitlines() if "generated" in line))  # for make fuzz-api
    # The server is still healthy after it all.
    assert httpx.get(f"{server.url}/healthz", timeout=10).json()["ok"] is True
