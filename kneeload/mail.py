"""The weekly report as an email: compose with :mod:`email`, send with :mod:`smtplib`.

The message is ``multipart/alternative``: a text part, then a ``multipart/related``
HTML part whose charts are inline ``image/png`` parts referenced by ``cid:``.
The SMTP password is read only from the environment variable named by
``[email] password_env``; it is never logged, printed or put in an error message.
"""

from __future__ import annotations

import contextlib
import os
import smtplib
import socket
import ssl
import threading
import time
from collections.abc import Mapping, Sequence
from email.errors import HeaderParseError, MessageError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, getaddresses, make_msgid, parseaddr
from pathlib import Path

from kneeload.config import EmailSettings
from kneeload.errors import MailError
from kneeload.report.render import render_html, render_text
from kneeload.report.sections import distance
from kneeload.report.weekly import WeeklyReport

CID_DOMAIN = "kneeload"
#: Longest wait for any one answer of the server.
DEFAULT_TIMEOUT_S = 30.0
#: Longest time for the whole delivery (connect, TLS, login, send), however
#: slowly a server trickles its answers.
DEFAULT_DEADLINE_S = 60.0


def subject_line(report: WeeklyReport) -> str:
    """E.g. 'kneeload — week of 16 Nov: 48.2 km, 2 flags' (rounded as in the body)."""
    n = report.flag_count
    return (
        f"kneeload — week of {report.week_start:%-d %b}: "
        f"{distance(report.numbers.distance_m, report.units)}, "
        f"{n} flag{'' if n == 1 else 's'}"
    )


class AddressError(ValueError):
    """Not one email address (e.g. ``runner@example.org``)."""


def check_address(text: str) -> str:
    """``text`` as one valid address (``Name <a@b.org>`` allowed), or AddressError."""
    if len(getaddresses([text])) != 1:
        raise AddressError(f"{text!r} is not one email address; repeat --email")
    name, spec = parseaddr(text.strip())
    try:
        address = Address(display_name=name, addr_spec=spec)
        formatted = str(address)
    except (ValueError, IndexError, HeaderParseError, MessageError):
        address = None
    if address is None or not spec or not address.username or not address.domain:
        raise AddressError(f"{text!r} is not an email address (e.g. me@example.org)")
    domain = address.domain
    if "." not in domain and not domain.startswith("[") and domain != "localhost":
        raise AddressError(f"{text!r} is not an email address: {domain!r} has no dot")
    return formatted


def chart_cid(name: str) -> str:
    """The Content-ID (without angle brackets) of one chart."""
    return f"{name}@{CID_DOMAIN}"


def compose_message(
    report: WeeklyReport,
    charts: Mapping[str, bytes],
    *,
    sender: str,
    to: Sequence[str],
) -> EmailMessage:
    """Build the multipart/alternative message for ``report`` and its PNG charts."""
    msg = EmailMessage()
    msg["Subject"] = subject_line(report)
    msg["From"] = check_address(sender)
    if to:
        msg["To"] = ", ".join(check_address(a) for a in to)
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid(domain=CID_DOMAIN)
    msg.set_content(render_text(report))
    cids = {chart_cid(name): png for name, png in charts.items()}
    msg.add_alternative(render_html(report, cids, embed=False), subtype="html")
    html_part = msg.get_payload()[1]  # type: ignore[index]
    assert isinstance(html_part, EmailMessage)
    for cid, png in cids.items():
        html_part.add_related(
            png,
            maintype="image",
            subtype="png",
            cid=f"<{cid}>",
            filename=cid.split("@")[0] + ".png",
            disposition="inline",
        )
    return msg


def write_eml(msg: EmailMessage, path: Path) -> None:
    """Write the message as an .eml file (what would have been sent)."""
    try:
        path.write_bytes(msg.as_bytes())
    except OSError as exc:
        raise MailError(f"cannot write {path}: {exc.strerror or exc}") from exc


def _password(cfg: EmailSettings) -> str | None:
    if not cfg.username:
        return None
    password = os.environ.get(cfg.password_env)
    if password is None:
        raise MailError(
            f"environment variable {cfg.password_env} is not set; it must hold the "
            f"SMTP password for {cfg.username}"
        )
    return password


def _connect(
    cfg: EmailSettings, timeout: float, context: ssl.SSLContext
) -> smtplib.SMTP:
    """An unconnected SMTP client of the configured kind (connect with ``_open``)."""
    if not cfg.host:
        raise MailError("no SMTP server: set [email] host in kneeload.toml")
    if cfg.security == "ssl":
        return smtplib.SMTP_SSL(timeout=timeout, context=context)
    return smtplib.SMTP(timeout=timeout)


def _open(smtp: smtplib.SMTP, cfg: EmailSettings, context: ssl.SSLContext) -> None:
    smtp._host = cfg.host or ""  # type: ignore[attr-defined]  # TLS checks it
    smtp.connect(cfg.host or "", cfg.port)
    if cfg.security == "starttls":
        smtp.starttls(context=context)


class _Deadline:
    """Cut the connection when the whole delivery has taken ``seconds``.

    Each socket call has its own timeout, but a server that answers one byte at a
    time never trips it; this timer shuts the socket down, which wakes any read.
    """

    def __init__(self, smtp: smtplib.SMTP, seconds: float) -> None:
        self.smtp, self.fired = smtp, False
        self._timer = threading.Timer(seconds, self._cut)
        self._timer.daemon = True

    def _cut(self) -> None:
        self.fired = True
        sock = getattr(self.smtp, "sock", None)
        if sock is not None:
            with contextlib.suppress(OSError):  # already closed
                sock.shutdown(socket.SHUT_RDWR)

    def __enter__(self) -> _Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()


def send_message(
    msg: EmailMessage,
    cfg: EmailSettings,
    *,
    timeout: float = DEFAULT_TIMEOUT_S,
    deadline: float = DEFAULT_DEADLINE_S,
    ssl_context: ssl.SSLContext | None = None,
) -> None:
    """Send ``msg`` through the configured SMTP server, or raise ``MailError``.

    Every recipient must be accepted; a partly refused message is an error, so
    nothing half-sent is reported as sent. The whole delivery takes at most
    ``deadline`` seconds (each answer at most ``timeout``).
    """
    password = _password(cfg)
    context = ssl_context or ssl.create_default_context()
    where = f"{cfg.host}:{cfg.port}"
    started = time.monotonic()
    smtp = _connect(cfg, min(timeout, deadline), context)
    guard = _Deadline(smtp, deadline)
    try:
        with guard, smtp:
            _open(smtp, cfg, context)
            if cfg.username and password is not None:
                smtp.login(cfg.username, password)
            refused = smtp.send_message(msg)
    except smtplib.SMTPAuthenticationError as exc:
        raise MailError(f"SMTP login refused by {where} ({exc.smtp_code})") from exc
    except smtplib.SMTPRecipientsRefused as exc:
        raise MailError(f"{where} refused every recipient") from exc
    except (smtplib.SMTPException, ssl.SSLError, OSError) as exc:
        if guard.fired or time.monotonic() - started >= deadline:
            raise MailError(
                f"email not sent: {where} did not finish within {deadline:g} s"
            ) from exc
        if isinstance(exc, smtplib.SMTPException):
            raise MailError(f"email not sent via {where}: {_one_line(exc)}") from exc
        if isinstance(exc, ssl.SSLError):
            raise MailError(f"TLS failed with {where}: {_one_line(exc)}") from exc
        raise MailError(f"cannot connect to {where}: {_one_line(exc)}") from exc
    if refused:
        names = ", ".join(sorted(refused))
        raise MailError(f"{where} refused {names}; the others were sent")


def _one_line(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return " ".join(str(text).split())
