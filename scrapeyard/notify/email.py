"""E-mail: composing a message (plain text and HTML) and sending it over SMTP.

Sending uses aiosmtplib: it is asyncio-native, so a slow or silent SMTP server ties up
nothing but a coroutine, and the job's timeout and cancellation reach it, where
``smtplib`` in a thread would hold a thread the job could not take back. STARTTLS
(port 587), implicit TLS (465) or neither (a relay on the same machine), as configured;
certificates are verified. The password comes from the settings (best from
``SCRAPEYARD_EMAIL__PASSWORD``) and is never logged: ``runtime.configure`` adds it to
the log mask, and errors are reported by type and server reply only.

Like a webhook attempt, sending never raises for what the server does: ``send``
returns a ``Sent`` saying whether it worked and, if not, whether trying again may help.
"""

from __future__ import annotations

import email.utils
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage

from scrapeyard import config, errors


@dataclass(frozen=True)
class Sent:
    """What became of one message."""

    ok: bool
    error: str | None = None
    permanent: bool = False
    """The server refused the message or the recipients for good (5xx)."""


def compose(
    sender: str, to: Sequence[str], subject: str, text: str, html: str | None = None
) -> EmailMessage:
    """A message with a plain-text body and, when given, an HTML alternative."""
    if not to:
        raise errors.InvalidInput("to", "at least one recipient is needed")
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(to)
    message["Subject"] = " ".join(subject.split())
    message["Date"] = email.utils.formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = email.utils.make_msgid(domain=sender.rpartition("@")[2] or None)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message


def enabled(settings: config.EmailSettings) -> bool:
    """Whether e-mail is configured at all (an SMTP host is set)."""
    return bool(settings.host)


async def send(settings: config.EmailSettings, message: EmailMessage) -> Sent:
    """Hand ``message`` to the configured SMTP server."""
    import aiosmtplib

    if not settings.host:
        return Sent(False, "e-mail is not configured (email.host is not set)", permanent=True)
    password = settings.password.get_secret_value() if settings.password else None
    try:
        await aiosmtplib.send(
            message,
            hostname=settings.host,
            port=settings.port,
            username=settings.user,
            password=password if settings.user else None,
            use_tls=settings.security == "tls",
            start_tls=settings.security == "starttls",
            timeout=settings.timeout,
        )
    except aiosmtplib.SMTPResponseException as exc:
        return Sent(False, f"{type(exc).__name__}: {exc.code} {exc.message}", exc.code >= 500)
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        return Sent(False, f"{type(exc).__name__}: {_reason(exc, password)}")
    return Sent(True)


def _reason(exc: BaseException, password: str | None) -> str:
    text = str(exc) or type(exc).__name__
    return text.replace(password, "***") if password else text
