"""A receiver that dribbles its status line and headers, a byte at a time within requests' per-read timeout, is
given up on at the channels' deadline (etl/alerts/channels/http.py), not held on to as long as it keeps dribbling."""

from __future__ import annotations

import contextlib
import socket
import threading

import pytest

from etl.alerts.channels import DeliveryError
from etl.alerts.config import load_alerts
from etl.alerts.message import Message

GAP = 2.0  # seconds between two bytes: each read comes well within requests' timeout of 10 s


class HeaderDribbler:
    """A loopback HTTP server that reads a request, then sends its status line and headers one byte every GAP
    seconds (a header line that never ends), until the client goes away or the test ends."""

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.stopped = threading.Event()
        self.connections: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _serve(self) -> None:
        while not self.stopped.is_set():
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.connections.append(connection)
            threading.Thread(target=self._dribble, args=(connection,), daemon=True).start()

    def _dribble(self, connection: socket.socket) -> None:
        with connection:
            received = b""
            while b"\r\n\r\n" not in received:  # the request's head; the body is not waited for
                chunk = connection.recv(65536)
                if not chunk:
                    return
                received += chunk
            head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Padding: "
            for index in range(10_000):
                if self.stopped.wait(0 if index < len(head) else GAP):
                    return
                try:
                    connection.sendall(head[index : index + 1] if index < len(head) else b"a")
                except OSError:
                    return

    def close(self) -> None:
        self.stopped.set()
        self.listener.close()
        for connection in self.connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def dribbler():
    server = HeaderDribbler()
    yield server
    server.close()


@pytest.mark.parametrize("kind", ["webhook", "dingtalk", "wecom", "sms"])
def test_a_receiver_dribbling_its_headers_is_given_up_on(tmp_path, dribbler, kind):
    # requests' timeout bounds each read, and the body's deadline began only once the headers were in: a receiver
    # sending its status line and headers a byte every two seconds held the sender as long as it liked.
    extra = 'phones = ["13900000001"]\n' if kind == "sms" else ""
    path = tmp_path / "alerts.toml"
    path.write_text(f'[channels.slow]\ntype = "{kind}"\nurl = "{dribbler.url("/hook")}"\n{extra}', encoding="utf-8")
    channel = load_alerts(path, {}).channels["slow"]
    outcome: list[BaseException] = []

    def send() -> None:
        try:
            channel.send(Message("k-1", "【新告警】污水COD超标", ("区划：甲村",), "major", {}))
        except BaseException as error:  # noqa: BLE001 - what the sender raised is the test's finding
            outcome.append(error)

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    sender.join(30)  # a hang guard, not a measure of speed: the deadline is 10 s
    assert not sender.is_alive(), "the sender is still waiting for the receiver's headers"
    (error,) = outcome
    assert isinstance(error, DeliveryError) and str(error).startswith("超时：10 秒内没有收完答复"), error
