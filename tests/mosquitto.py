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

# Sessions and queued messages survive a restart; no limit on a session's queue or in-flight window.
TEST_SETTINGS = "persistence true\nmax_queued_messages 0\nmax_inflight_messages 0\n"


class Broker:
    """A Mosquitto of the test's own (persistence on, so sessions and queued messages survive a restart), logging
    connections and sessions to ``mosquitto.log`` beside its configuration."""

    def __init__(self, folder: Path, settings: str = TEST_SETTINGS):
        """A broker whose ``settings`` (Mosquitto configuration lines) say how it persists and queues; a test may
        pass the deployment's own file instead of these."""
        binary = shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin")
        if binary is None:
            unavailable("mosquitto is not installed (apt-get install mosquitto)")
        self.port = free_port()
        self.config = folder / "mosquitto.conf"
        self.log = folder / "mosquitto.log"
        self.store = folder / "db" / "mosquitto.db"
        self.store.parent.mkdir()
        # Started as root, Mosquitto switches to the user "mosquitto", which cannot write into a test's private
        # folder: it then ran with no persistence file at all. "user root" keeps it as it was started (it is
        # ignored when started as anyone else).
        self.config.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\nuser root\n"
            f"persistence_location {self.store.parent}/\n"
            f"log_dest file {self.log}\nlog_type error\nlog_type warning\nlog_type notice\nlog_type information\n"
            f"{settings}"
        )
        self.binary, self.process = binary, None

    def start(self) -> None:
        stderr = self.config.with_suffix(".stderr")
        with stderr.open("w") as errors:
            self.process = subprocess.Popen([self.binary, "-c", str(self.config)], stderr=errors)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"mosquitto refused to start: {stderr.read_text().strip()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("mosquitto did not start")

    def stop(self) -> None:
        before = self.store.stat().st_mtime_ns if self.store.exists() else None
        self.process.send_signal(signal.SIGTERM)  # a clean stop writes the persistence file
        self.process.wait(timeout=10)
        if not self.store.exists() or self.store.stat().st_mtime_ns == before:
            raise RuntimeError(f"mosquitto did not save its sessions to {self.store.name} on stopping (see {self.log})")
