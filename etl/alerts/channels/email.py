"""Email over SMTP (smtplib): one message to the listed addresses, with STARTTLS or SSL and a login when
configured, and a Message-ID made from the notification's key (a mail system can drop a repeat)."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from etl.alerts.channels import DeliveryError, required, text_list
from etl.alerts.errors import AlertConfigError

TYPE = "email"
KEYS = ("host", "port", "security", "username", "password", "sender", "to")
SECURITY = ("none", "starttls", "ssl")
TIMEOUT = 10


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
        opener = smtplib.SMTP_SSL if security == "ssl" else smtplib.SMTP
        try:
            with opener(host, port, timeout=TIMEOUT) as server:
                if security == "starttls":
                    server.starttls()
                if username:
                    server.login(username, password or "")
                server.send_message(mail)
        except (OSError, smtplib.SMTPException) as error:
            raise DeliveryError(f"SMTP：{type(error).__name__}: {error}") from None

    return send
