"""The weekly report as an email: compose with :mod:`email`, send with :mod:`smtplib`.

The message is ``multipart/alternative``: a text part, then a ``multipart/related``
HTML part whose charts are inline ``image/png`` parts referenced by ``cid:``.
The SMTP password is read only from the environment variable named by
``[email] password_env``; it is never logged, printed or put in an error message.
"""

from __future__ import annotations

import os
import smtplib
import ssl
from collections.abc import Mapping, Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from kneeload.config import EmailSettings
from kneeload.errors import KneeloadError
from kneeload.report.render import render_html, render_text
from kneeload.report.weekly import WeeklyReport
from kneeload.units import per_unit_m

CID_DOMAIN = "kneeload"
DEFAULT_TIMEOUT_S = 30.0


class MailError(KneeloadError):
    """The report could not be delivered (connection, TLS, login or refusal)."""


def subject_line(report: WeeklyReport) -> str:
    """E.g. 'kneeload — week of 16 Nov: 48 km, 2 flags'."""
    per = per_unit_m(report.units)
    distance = report.numbers.distance_m / per
    n = report.flag_count
    return (
        f"kneeload — week of {report.week_start:%-d %b}: {distance:.0f} "
        f"{report.units}, {n} flag{'' if n == 1 else 's'}"
    )


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
    msg["From"] = sender
    if to:
        msg["To"] = ", ".join(to)
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid(domain=CID_DOMAIN)
    msg.set_content(render_text(report))
    cids = {chart_cid(name): png for name, png in charts.items()}
    msg.add_alternative(render_html(report, cids, embed=False), subtype="html")
    html_part = msg.get_payload()[1]  # type: ignore[index]
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
    if not cfg.host:
        raise MailError("no SMTP server: set [email] host in kneeload.toml")
    if cfg.security == "ssl":
        return smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=timeout, context=context)
    smtp = smtplib.SMTP(cfg.host, cfg.port, timeout=timeout)
    if cfg.security == "starttls":
        smtp.starttls(context=context)
    return smtp


def send_message(
    msg: EmailMessage,
    cfg: EmailSettings,
    *,
    timeout: float = DEFAULT_TIMEOUT_S,
    ssl_context: ssl.SSLContext | None = None,
) -> None:
    """Send ``msg`` through the configured SMTP server, or raise ``MailError``.

    Every recipient must be accepted; a partly refused message is an error, so
    nothing half-sent is reported as sent.
    """
    password = _password(cfg)
    context = ssl_context or ssl.create_default_context()
    where = f"{cfg.host}:{cfg.port}"
    try:
        with _connect(cfg, timeout, context) as smtp:
            if cfg.username and password is not None:
                smtp.login(cfg.username, password)
            refused = smtp.send_message(msg)
    except smtplib.SMTPAuthenticationError as exc:
        raise MailError(f"SMTP login refused by {where} ({exc.smtp_code})") from exc
    except smtplib.SMTPRecipientsRefused as exc:
        raise MailError(f"{where} refused every recipient") from exc
    except smtplib.SMTPException as exc:
        raise MailError(f"email not sent via {where}: {_one_line(exc)}") from exc
    except ssl.SSLError as exc:
        raise MailError(f"TLS failed with {where}: {_one_line(exc)}") from exc
    except OSError as exc:
        raise MailError(f"cannot connect to {where}: {_one_line(exc)}") from exc
    if refused:
        names = ", ".join(sorted(refused))
        raise MailError(f"{where} refused {names}; the others were sent")


def _one_line(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return " ".join(str(text).split())
