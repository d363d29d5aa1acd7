"""Where alert messages go: the channels platform packages offer (a spec's `alert_channel`, e.g. a platform's ops
chat), a webhook, e-mail. Each channel is one small class with a
blocking `send(alert)` (run in a thread by the service, under a timeout) that delivers or raises
`AlertDeliveryError` with a message safe to log (never a URL carrying a token)."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit

import requests

from syndicator.alerts.conditions import Alert

if TYPE_CHECKING:
    from syndicator.alerts.settings import AlertConfig

class AlertDeliveryError(Exception):
    """A channel could not deliver an alert. The message is safe to log."""


class Channel(Protocol):
    name: str
    timeout: float

    def send(self, alert: Alert) -> None:
        """Blocking: deliver the alert or raise."""


def describe_failure(exc: BaseException, where: str) -> str:
    # a requests exception's text repeats the URL (which may carry a token): name the failure, not the URL
    return f"{exc.__class__.__name__} ({where})"


class WebhookChannel:
    name = "webhook"

    def __init__(self, url: str, timeout: float) -> None:
        self._url = url
        self.timeout = timeout

    def send(self, alert: Alert) -> None:
        host = urlsplit(self._url).netloc
        try:
            resp = requests.post(self._url, json=alert.document(), timeout=self.timeout)
        except requests.RequestException as exc:
            raise AlertDeliveryError(describe_failure(exc, f"webhook at {host}")) from None
        if not 200 <= resp.status_code < 300:
            raise AlertDeliveryError(f"webhook at {host} answered {resp.status_code}")


class SmtpChannel:
    name = "smtp"

    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        recipients: list[str],
        user: str = "",
        password: str = "",
        starttls: bool = True,
        use_ssl: bool = False,
        timeout: float = 10.0,
    ) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.recipients = recipients
        self._user = user
        self._password = password
        self.starttls = starttls
        self.use_ssl = use_ssl
        self.timeout = timeout

    def send(self, alert: Alert) -> None:
        msg = EmailMessage()
        msg["Subject"] = f"[syndicator] {'RESOLVED' if alert.resolved else 'ALERT'}: {alert.title}"
        msg["From"] = self.sender
        msg["To"] = ", ".join(self.recipients)
        msg.set_content(alert.message())
        try:
            context = ssl.create_default_context()
            smtp: smtplib.SMTP
            if self.use_ssl:
                smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            with smtp:
                if self.starttls and not self.use_ssl:
                    smtp.starttls(context=context)
                if self._user:
                    smtp.login(self._user, self._password)
                smtp.send_message(msg)
        except (OSError, smtplib.SMTPException) as exc:
            detail = str(exc)[:200] if isinstance(exc, smtplib.SMTPException) else exc.__class__.__name__
            raise AlertDeliveryError(f"SMTP {self.host}:{self.port}: {detail}") from None


def channels_for(config: AlertConfig) -> list[Channel]:
    """The channels the settings configure, in a fixed order: the platforms' (registry order), webhook, smtp."""
    from syndicator.platforms import registry

    s = config.settings
    timeout = s.timeout.total_seconds()
    out: list[Channel] = []
    for spec in registry.specs():
        if spec.alert_channel is None or spec.name not in s.platforms:
            continue
        channel = spec.alert_channel.channel_class().configure(s.platforms[spec.name], config.secrets, timeout)
        if channel is not None:
            out.append(channel)
    if config.webhook_url:
        out.append(WebhookChannel(config.webhook_url, timeout))
    if s.smtp_host:
        out.append(
            SmtpChannel(
                host=s.smtp_host,
                port=s.smtp_port,
                sender=s.smtp_from,
                recipients=s.recipients,
                user=config.smtp_user,
                password=config.smtp_password,
                starttls=s.smtp_starttls,
                use_ssl=s.smtp_ssl,
                timeout=timeout,
            )
        )
    return out
