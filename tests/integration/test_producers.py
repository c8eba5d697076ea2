"""Producers started with ``roomcast serve --producer``: values reach rooms; failures restart."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from tests.conftest import RunningServer
from tests.integration.chat_client import ChatClient

FEEDS = textwrap.dedent(
    """
    import asyncio
    from roomcast import producer

    count = 0

    @producer("ticks", every=0.05)
    def tick():
        global count
        count += 1
        if count == 3:
            raise RuntimeError("the sensor hiccuped")
        return {"n": count}

    @producer("states")
    async def states():
        for state in ["idle", "busy", "idle"]:
            yield {"state": state}
            await asyncio.sleep(0.01)

    @producer("skips", every=0.05)
    async def nothing_new():
        return None

    not_a_producer = 42
    """
)


@pytest.fixture
def feeds_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "feeds"
    folder.mkdir()
    (folder / "myfeeds.py").write_text(FEEDS, encoding="utf-8")
    monkeypatch.setenv("PYTHONPATH", str(folder))
    return folder


def test_producers_publish_and_one_that_raises_is_restarted(
    feeds_dir: Path, server_factory: object
) -> None:
    server: RunningServer = server_factory(  # type: ignore[operator]
        "--producer",
        "myfeeds:tick",
        "--producer",
        "myfeeds:states,myfeeds:nothing_new",
        "--log-level",
        "info",
    )
    viewer = ChatClient(server.url, "Viewer", ["websocket"])
    try:
        for room in ("ticks", "states", "skips"):
            assert viewer.call("join", {"room": room, "watch": True})["ok"]
        # The third call raised: it was logged, and the producer went on after a back-off.
        viewer.wait_for(lambda: len(viewer.messages("ticks")) >= 4, timeout=15)
        values = [m["data"]["n"] for m in viewer.messages("ticks")]
        assert 3 not in values and values == sorted(values) and values[-1] >= 5
        history = viewer.call("history", {"room": "states"})["messages"]
        assert [m["data"]["state"] for m in history] == ["idle", "busy", "idle"]
        assert history[0]["sender"] == {"id": "producer:states", "name": "states"}
        assert viewer.call("history", {"room": "skips"})["messages"] == []
    finally:
        viewer.close()
    log = "".join(server.output)
    assert "producer tick failed; restarting in 1 s" in log
    assert "RuntimeError: the sensor hiccuped" in log


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("myfeeds", "write it as module:function"),
        ("nosuchmodule:tick", "cannot import nosuchmodule"),
        ("myfeeds:not_a_producer", "not a producer"),
        ("myfeeds:missing", "myfeeds has no 'missing'"),
    ],
)
def test_a_bad_producer_stops_start_up_with_a_clear_message(
    feeds_dir: Path, tmp_path: Path, spec: str, says: str
) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "roomcast",
            "serve",
            "--port",
            "0",
            "--producer",
            spec,
            "--data-dir",
            str(tmp_path / "data"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=feeds_dir,
    )
    assert done.returncode == 2
    assert says in done.stderr and "Traceback" not in done.stderr
