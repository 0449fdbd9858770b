"""Email over SMTP (smtplib): one message to the listed addresses, with STARTTLS or SSL and a login when
configured, and a Message-ID made from the notification's key (a mail system can drop a repeat)."""

from __future__ import annotations

import smtplib
import socket
from email.message import EmailMessage

from etl.alerts.channels import DeliveryError, Unreachable, required, text_list
from etl.alerts.channels.http import Deadline, excerpt
from etl.alerts.errors import AlertConfigError

TYPE = "email"
KEYS = ("host", "port", "security", "username", "password", "sender", "to")
SECURITY = ("none", "starttls", "ssl")
TIMEOUT = 10  # seconds each read may wait
# Seconds the whole conversation may take, greeting to QUIT (a few round trips with STARTTLS and a login): smtplib's
# timeout bounds each read, and a server sending its greeting a byte every 3 s held the sender, and every alert
# behind it, until its lease ran out and another sender sent the same email again.
DEADLINE = 30


def _watched(opener: type, deadline: Deadline) -> type:
    """``opener`` (SMTP or SMTP_SSL) whose socket is handed to ``deadline`` as soon as it is connected."""

    class Watched(opener):
        def _get_socket(self, host, port, timeout):
            if opener is smtplib.SMTP_SSL:  # watched before the TLS handshake, which a server can dribble too
                plain = socket.create_connection((host, port), timeout, self.source_address)
                deadline.watch(plain)
                return self.context.wrap_socket(plain, server_hostname=self._host)
            sock = super()._get_socket(host, port, timeout)
            deadline.watch(sock)
            return sock

    return Watched


def build(entry: dict, where: str):
    """A sender through the SMTP server ``host``:``port`` from ``sender`` to ``to``."""
    host, sender = required(entry, "host", where), required(entry, "sender", where)
    recipients = text_list(entry, "to", where)
    if not recipients:
        raise AlertConfigError(f"{where}.to：需要至少一个收件地址")
    security = entry.get("security", "starttls")
    if security not in SECURITY:
        raise AlertConfigError(f"{where}.security：'{security}' 不是 {'、'.join(SECURITY)} 之一")
    port = int(entry.get("port", 465 if security == "ssl" else 587 if security == "starttls" else 25))
    username, password = entry.get("username"), entry.get("password")

    def send(message) -> None:
        mail = EmailMessage()
        mail["Subject"], mail["From"], mail["To"] = message.title, sender, ", ".join(recipients)
        mail["Message-ID"] = f"<{message.key}@ruralbrain>"
        mail.set_content(message.text())
        deadline, accepted = Deadline(DEADLINE), False
        # Connected apart from the constructor, so that a conversation cut off in the greeting is closed too.
        server = _watched(smtplib.SMTP_SSL if security == "ssl" else smtplib.SMTP, deadline)(timeout=TIMEOUT)
        try:
            with deadline:
                server.connect(host, port)
                if security == "starttls":
                    server.starttls()
                if username:
                    server.login(username, password or "")
                server.send_message(mail)
                accepted = True
                server.quit()
        except (OSError, smtplib.SMTPException) as error:
            if accepted:  # a QUIT unanswered changes nothing: the message was accepted
                return
            if deadline.expired:  # the socket shut down reads as the server hanging up
                raise Unreachable(f"超时：SMTP 会话 {DEADLINE} 秒内没有完成") from None
            # No connection, or a server gone (SMTPException is an OSError too: a refusal is not unreachable).
            silent = smtplib.SMTPServerDisconnected | smtplib.SMTPConnectError
            if isinstance(error, silent) or not isinstance(error, smtplib.SMTPException):
                raise Unreachable(f"SMTP：{type(error).__name__}: {excerpt(error)}") from None
            raise DeliveryError(f"SMTP：{type(error).__name__}: {excerpt(error)}") from None
        finally:
            server.close()

    return send
