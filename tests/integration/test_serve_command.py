"""`ruralbrain serve`: gunicorn's own lines (start, workers, each request) carry the county's local time, as every
screen and report does, not the host's UTC; on a new folder the warehouse is created first, as every command does,
so no page fails on a missing table."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request

from tests.browser.conftest import free_port


def test_the_servers_lines_carry_local_time(tmp_path):
    port = free_port()
    command = [sys.executable, "-m", "etl.cli", "--var-dir", str(tmp_path / "var"), "serve", "--port", str(port)]
    server = subprocess.Popen(
        [*command, "--workers", "1"],
        env={**os.environ, "TZ": "UTC"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).read()
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "the server did not answer"
                time.sleep(0.2)
        server.send_signal(signal.SIGTERM)
        output, errors = server.communicate(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
    assert f"乡村大脑屏幕服务：http://127.0.0.1:{port}" in output
    access = [line for line in output.splitlines() if "GET /healthz" in line]
    assert access and all(re.search(r"\[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d \+0800\]", line) for line in access), output
    assert "Traceback" not in errors, errors  # the warm-up read the warehouse's version: its table exists
    started = [line for line in errors.splitlines() if "Listening at" in line]
    assert started and re.match(r"\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0800\]", started[0]), errors
