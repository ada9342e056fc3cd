"""Email delivery end to end: a real SMTP server on 127.0.0.1 (aiosmtpd)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import email
import io
import ipaddress
import itertools
import json
import shutil
import socket
import ssl
import threading
import time
import tomllib
from datetime import date
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from click.testing import CliRunner
from PIL import Image

from kneeload.analysis.evidence import ACWR_TOOLTIP, Flag
from kneeload.cli import cli
from kneeload.config import EmailSettings, Settings
from kneeload.mail import (
    AddressError,
    MailError,
    check_address,
    compose_message,
    send_message,
    subject_line,
)
from kneeload.report.weekly import build_weekly_report

SAMPLE_DIR = Path(__file__).resolve().parents[1] / "sample_activities"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class Inbox:
    """aiosmtpd handler that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(
            (envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content)
        )
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def ramp(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The sample block ingested once, and its ramp week from index.toml."""
    index = SAMPLE_DIR / "index.toml"
    if not index.exists():
        pytest.skip(f"sample block not generated yet ({index} missing)")
    with index.open("rb") as fh:
        story = tomllib.load(fh)["story"]
    home = tmp_path_factory.mktemp("mail_home")
    result = CliRunner().invoke(cli, ["--home", str(home), "ingest", str(SAMPLE_DIR)])
    assert result.exit_code == 0, result.output
    return {"home": home, "as_of": story["weekly_ramp"]["as_of"], "story": story}


def _home_with(ramp: dict[str, Any], tmp_path: Path, email_toml: str) -> Path:
    home = tmp_path / "home"
    shutil.copytree(ramp["home"], home)
    (home / "kneeload.toml").write_text(email_toml, encoding="utf-8")
    return home


def _report(home: Path, as_of: str, *extra: str) -> Any:
    args = ["--home", str(home), "report", "--as-of", as_of, "--out",
            str(home / "out"), *extra]  # fmt: skip
    return CliRunner().invoke(cli, args)


def _json(home: Path, *args: str) -> Any:
    result = CliRunner().invoke(cli, ["--home", str(home), *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture
def smtp_server() -> Any:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        yield controller, inbox
    finally:
        controller.stop()


def _parts(msg: EmailMessage) -> tuple[str, str, dict[str, bytes]]:
    assert msg.get_content_type() == "multipart/alternative"
    text_part, related = msg.get_payload()
    assert text_part.get_content_type() == "text/plain"
    assert related.get_content_type() == "multipart/related"
    html_part, *images = related.get_payload()
    assert html_part.get_content_type() == "text/html"
    pngs = {}
    for part in images:
        assert part.get_content_type() == "image/png"
        pngs[part["Content-ID"].strip("<>")] = part.get_content()
    return text_part.get_content(), html_part.get_content(), pngs


def test_report_email_arrives_intact(
    smtp_server: Any, ramp: dict, tmp_path: Path
) -> None:
    controller, inbox = smtp_server
    home = _home_with(ramp, tmp_path, (
        f'[email]\nhost = "127.0.0.1"\nport = {controller.port}\nsecurity = "none"\n'
        'sender = "kneeload@example.org"\nto = ["nobody@example.org"]\n'
    ))  # fmt: skip
    result = _report(home, ramp["as_of"], "--email", "runner@example.org",
                     "--email", "physio@example.org")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    (mail_from, rcpt, raw) = inbox.messages[0]
    assert len(inbox.messages) == 1
    assert mail_from == "kneeload@example.org"
    assert rcpt == ["runner@example.org", "physio@example.org"]
    msg = email.message_from_bytes(raw, policy=policy.default)
    text, html, pngs = _parts(msg)
    for cid, png in pngs.items():
        assert png.startswith(PNG_MAGIC)
        with Image.open(io.BytesIO(png)) as img:
            img.verify()
            assert img.size[0] >= 600  # phone-width chart, not a thumbnail
        assert f'src="cid:{cid}"' in html
    assert html.count('src="cid:') == len(pngs) >= 3

    as_of = date.fromisoformat(ramp["as_of"])
    checked = _json(home, "check", "--as-of", ramp["as_of"], "--json")
    week = ramp["story"]["weekly_ramp"]
    n = len(checked["flags"])
    expected = (
        f"kneeload — week of {as_of - dt.timedelta(days=6):%-d %b}: "
        f"{week['km']:.1f} km, {n} flag{'' if n == 1 else 's'}"
    )
    assert msg["Subject"] == expected
    assert msg["To"] == "runner@example.org, physio@example.org"
    flat = " ".join(text.split())
    assert {"weekly_ramp", "session_spike"} <= {f["rule"] for f in checked["flags"]}
    caveat = " ".join(ACWR_TOOLTIP.split())
    assert flat.count(caveat) == 1  # the ACWR caveat is said once, not per flag
    for flag in checked["flags"]:
        message = " ".join(flag["message"].replace(ACWR_TOOLTIP, " ").split())
        assert message in flat
    easy = _json(home, "cadence", "--as-of", ramp["as_of"], "--json")
    # RULES §6.3: no cadence flag, no knee pain, no opt-in -> one line, no target
    assert not easy["low"]
    spm = f"{easy['easy_cadence_spm']:.0f}"
    assert f"Cadence at easy pace: {spm} spm — no change suggested." in flat
    assert "Not medical advice" in text and "Not medical advice" in html
    _assert_shared_message(msg, text, html)


def _assert_shared_message(msg: EmailMessage, text: str, html: str) -> None:
    """What the sent email and the --eml file share: To:, rounding, email-safe HTML."""
    assert msg["To"]
    subject_km = msg["Subject"].split(": ")[1].split(",")[0]  # e.g. "49.0 km"
    assert f"Distance:          {subject_km}" in text
    assert "<style" not in html and "class=" not in html
    assert 'name="viewport"' in html
    for tag in html.split("<img ")[1:]:
        assert 'width="100%"' in tag and "max-width:100%" in tag
        assert "height:auto" in tag


def test_closed_port_exits_1_with_one_line(ramp: dict, tmp_path: Path) -> None:
    port = _free_port()  # nothing listens there
    home = _home_with(ramp, tmp_path, (
        f'[email]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n'
    ))  # fmt: skip
    result = _report(home, ramp["as_of"], "--email", "runner@example.org")
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"Error: cannot connect to 127.0.0.1:{port}")
    # the report files are still written before delivery is attempted
    assert (home / "out" / "report.html").exists()


def test_eml_matches_sent_message(smtp_server: Any, ramp: dict, tmp_path: Path) -> None:
    controller, inbox = smtp_server
    home = _home_with(ramp, tmp_path, (
        f'[email]\nhost = "127.0.0.1"\nport = {controller.port}\nsecurity = "none"\n'
        'sender = "kneeload@example.org"\nto = ["runner@example.org"]\n'
    ))  # fmt: skip
    eml = tmp_path / "week.eml"
    assert _report(home, ramp["as_of"], "--eml", str(eml)).exit_code == 0
    assert inbox.messages == []  # --eml writes instead of sending
    assert _report(home, ramp["as_of"]).exit_code == 0  # [email] to is the default
    wire = inbox.messages[0][2].replace(b"\r\n", b"\n")  # SMTP sends CRLF
    sent = email.message_from_bytes(wire, policy=policy.default)
    saved = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    for header in ("Subject", "From", "To"):
        assert saved[header] == sent[header]
    assert saved["To"] == "runner@example.org"  # from [email] to
    assert _parts(saved) == _parts(sent)
    text, html, _ = _parts(saved)
    _assert_shared_message(saved, text, html)


def test_eml_to_from_the_address_given(ramp: dict, tmp_path: Path) -> None:
    home = _home_with(ramp, tmp_path, "")
    eml = tmp_path / "week.eml"
    result = _report(home, ramp["as_of"], "--eml", str(eml), "--email",
                     "Runner <runner@example.org>")  # fmt: skip
    assert result.exit_code == 0, result.output
    saved = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert saved["To"] == "Runner <runner@example.org>"


def test_eml_without_any_recipient_is_a_usage_error(ramp: dict, tmp_path: Path) -> None:
    home = _home_with(ramp, tmp_path, "")
    result = _report(home, ramp["as_of"], "--eml", str(tmp_path / "week.eml"))
    assert result.exit_code == 2
    assert "--eml needs a recipient" in result.stderr
    assert not (tmp_path / "week.eml").exists()


@pytest.mark.parametrize(
    "bad", ["not-an-address", "runner@", "@example.org", "a@@b.org", "a b@c.org",
            "a@example.org, b@example.org", "runner@localhost-typo"],
)  # fmt: skip
def test_email_address_is_validated(ramp: dict, tmp_path: Path, bad: str) -> None:
    home = _home_with(ramp, tmp_path, "")
    result = _report(home, ramp["as_of"], "--email", bad)
    assert result.exit_code == 2
    assert "--email" in result.stderr and "not" in result.stderr
    assert not (home / "out").exists()  # refused before any work


def test_check_address_accepts_real_forms() -> None:
    assert check_address(" me@example.org ") == "me@example.org"
    assert check_address("Me <me@example.org>") == "Me <me@example.org>"
    assert check_address("kneeload@localhost") == "kneeload@localhost"
    with pytest.raises(AddressError):
        check_address("")


class _Trickler:
    """A fake SMTP server that answers one byte every ``gap_s`` and never finishes."""

    def __init__(self, gap_s: float) -> None:
        self.gap_s = gap_s
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.port = int(self.sock.getsockname()[1])
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn, _ = self.sock.accept()
        with conn:
            for byte in itertools.cycle(b"220-slow greeting "):
                if self.stop.wait(self.gap_s):
                    return
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return

    def close(self) -> None:
        self.stop.set()
        self.sock.close()
        self.thread.join(timeout=5)


def test_smtp_deadline_covers_the_whole_delivery() -> None:
    server = _Trickler(gap_s=0.2)  # each read succeeds well within its timeout
    cfg = EmailSettings(host="127.0.0.1", port=server.port, security="none")
    try:
        t0 = time.monotonic()
        with pytest.raises(MailError, match=r"did not finish within 1\.5 s"):
            send_message(_tiny_message(), cfg, timeout=1.0, deadline=1.5)
        elapsed = time.monotonic() - t0
    finally:
        server.close()
    assert 1.4 <= elapsed < 4.0  # cut at the deadline, not at some read timeout


def _self_signed(folder: Path) -> tuple[Path, Path]:
    """A throwaway certificate for 127.0.0.1 (cryptography package)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def tls_server(tmp_path: Path) -> Any:
    """An SMTP server that requires STARTTLS before AUTH (user runner, pw s3cret)."""
    pytest.importorskip("cryptography", reason="needs cryptography for a test cert")
    cert, key = _self_signed(tmp_path)
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    logins: list[tuple[str, bool]] = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and (
            auth_data.login, auth_data.password) == (b"runner", b"s3cret")  # fmt: skip
        logins.append((mechanism, ok))
        return AuthResult(success=ok, handled=False)  # False: server replies 535

    inbox = Inbox()
    controller = Controller(
        inbox, hostname="127.0.0.1", port=_free_port(), tls_context=server_ctx,
        require_starttls=True, authenticator=authenticator, auth_require_tls=True,
        auth_exclude_mechanism=["LOGIN"],  # one mechanism: a refusal is final
    )  # fmt: skip
    controller.start()
    try:
        yield controller, inbox, logins, cert
    finally:
        controller.stop()


def _tiny_message() -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"], msg["From"], msg["To"] = "t", "k@example.org", "r@example.org"
    msg.set_content("hello")
    return msg


def test_starttls_and_auth(tls_server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    controller, inbox, logins, cert = tls_server
    monkeypatch.setenv("KL_TEST_SMTP_PW", "s3cret")
    cfg = EmailSettings(host="127.0.0.1", port=controller.port, security="starttls",
                        username="runner", password_env="KL_TEST_SMTP_PW")  # fmt: skip
    trusted = ssl.create_default_context(cafile=str(cert))
    send_message(_tiny_message(), cfg, timeout=5, ssl_context=trusted)
    assert logins and logins[-1][1] is True
    assert len(inbox.messages) == 1

    monkeypatch.setenv("KL_TEST_SMTP_PW", "wrong")
    with pytest.raises(MailError, match="login refused") as info:
        send_message(_tiny_message(), cfg, timeout=5, ssl_context=trusted)
    assert "wrong" not in str(info.value) and "\n" not in str(info.value)
    # the default trust store does not know the throwaway certificate
    monkeypatch.setenv("KL_TEST_SMTP_PW", "s3cret")
    with pytest.raises(MailError, match="TLS failed"):
        send_message(_tiny_message(), cfg, timeout=5)
    assert len(inbox.messages) == 1


def test_starttls_auth_through_the_cli(
    tls_server: Any, ramp: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    controller, inbox, logins, cert = tls_server
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # trust the test certificate
    monkeypatch.setenv("KL_TEST_SMTP_PW", "s3cret")
    home = _home_with(ramp, tmp_path, (
        f'[email]\nhost = "127.0.0.1"\nport = {controller.port}\n'
        'username = "runner"\npassword_env = "KL_TEST_SMTP_PW"\n'
    ))  # fmt: skip
    result = _report(home, ramp["as_of"], "--email", "runner@example.org")
    assert result.exit_code == 0, result.output
    assert "s3cret" not in result.output
    assert logins == [("PLAIN", True)]
    assert len(inbox.messages) == 1

    monkeypatch.delenv("KL_TEST_SMTP_PW")
    result = _report(home, ramp["as_of"], "--email", "runner@example.org")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "Error: environment variable KL_TEST_SMTP_PW is not set; it must hold the "
        "SMTP password for runner"
    )


def test_subject_counts_flags_and_follows_units() -> None:
    columns = ["local_date", "sport", "distance_m", "moving_s", "elapsed_s",
               "descent_m", "start_utc", "steady_segments", "hr_hist", "max_hr",
               "downhill_s"]  # fmt: skip
    empty = pd.DataFrame(columns=columns)
    base = build_weekly_report(
        empty, settings=Settings(), week_ending=date(2026, 11, 22)
    )
    assert subject_line(base) == "kneeload — week of 16 Nov: 0.0 km, 0 flags"
    flag = Flag("weekly_ramp", "info", date(2026, 11, 22), 25.0, 20.0, "m", [])
    ten_miles = dataclasses.replace(base.numbers, runs=2, distance_m=16093.44)
    report = dataclasses.replace(base, units="mi", numbers=ten_miles, flags=[flag])
    assert subject_line(report) == "kneeload — week of 16 Nov: 10.0 mi, 1 flag"
    msg = compose_message(report, {}, sender="k@example.org", to=[])
    assert msg["To"] is None and msg.get_content_type() == "multipart/alternative"


def test_configured_recipient_is_validated(ramp: dict, tmp_path: Path) -> None:
    home = _home_with(ramp, tmp_path, (
        '[email]\nhost = "127.0.0.1"\nsecurity = "none"\nto = ["runner@"]\n'
    ))  # fmt: skip
    result = _report(home, ramp["as_of"])
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "Error: [email] in kneeload.toml: 'runner@' is not an email address "
        "(e.g. me@example.org)"
    )
