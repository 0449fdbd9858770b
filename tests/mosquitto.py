"""A Mosquitto of a test's or benchmark's own on a free loopback port, which it can stop and start again."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from tests.browser.conftest import free_port
from tests.shared_fixtures import unavailable


class Broker:
    """A Mosquitto of the test's own (persistence on, so sessions and queued messages survive a restart)."""

    def __init__(self, folder: Path):
        binary = shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin")
        if binary is None:
            unavailable("mosquitto is not installed (apt-get install mosquitto)")
        self.port = free_port()
        self.config = folder / "mosquitto.conf"
        (folder / "db").mkdir()
        self.config.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
            f"persistence_location {folder / 'db'}/\nmax_queued_messages 0\nmax_inflight_messages 0\n"
        )
        self.binary, self.process = binary, None

    def start(self) -> None:
        self.process = subprocess.Popen([self.binary, "-c", str(self.config)], stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("mosquitto did not start")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)  # a clean stop writes the persistence file
        self.process.wait(timeout=10)
