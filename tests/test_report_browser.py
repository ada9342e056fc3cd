"""The sent email in a real browser: headless Chromium at a 390 px phone width.

The HTML part of the message ``compose_message`` builds is loaded with its
``cid:`` images inlined as data URIs, twice: as sent, and as a style-stripping
webmail client shows it (every ``<style>`` block and ``class`` attribute removed).
Headless Chromium will not make a window narrower than about 500 px, so the email
sits in an ``iframe`` 390 px wide; a small script measures it and writes the
results into the page, which ``--dump-dom`` returns. Screenshots of both variants
are kept in ``SHOTS`` (``$KNEELOAD_SHOTS`` or /tmp/kneeload-shots) for a human.

Skips only when no Chromium binary can be found (``.ci/run`` installs the Debian
package ``chromium``).
"""

from __future__ import annotations

import base64
import dataclasses
import html
import json
import os
import re
import shutil
import subprocess
from datetime import date, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner

from kneeload.analysis.evidence import Flag
from kneeload.cli import cli
from kneeload.config import Settings
from kneeload.history import open_history
from kneeload.mail import compose_message
from kneeload.report.charts import report_charts
from kneeload.report.render import render_html
from kneeload.report.weekly import WeeklyReport, build_weekly_report

SAMPLE_DIR = Path(__file__).resolve().parents[1] / "sample_activities"
SHOTS = Path(os.environ.get("KNEELOAD_SHOTS", "/tmp/kneeload-shots"))
PHONE_PX = 390
_BROWSERS = ("chromium", "chromium-browser", "google-chrome", "chrome")


def _chromium() -> str:
    for name in _BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    pytest.skip(
        "no Chromium found (install the Debian package 'chromium'; .ci/run does)"
    )


_PROBE = """
<!DOCTYPE html><html><head><meta charset="utf-8"></head>
<body style="margin:0">
<iframe id="mail" width="%(width)d" height="800" style="border:0;display:block"
  srcdoc="%(doc)s"></iframe>
<pre id="result">pending</pre>
<script>
const frame = document.getElementById("mail");
frame.addEventListener("load", () => {
  const doc = frame.contentDocument, root = doc.documentElement;
  const win = frame.contentWindow;
  const imgs = [...doc.images].map((img) => {
    const box = img.getBoundingClientRect();
    const holder = img.parentElement.getBoundingClientRect();
    return {alt: img.alt, width: box.width, right: box.right,
            holder: holder.width, natural: img.naturalWidth};
  });
  const flags = [...doc.querySelectorAll("[data-severity]")].map((el) => {
    const css = win.getComputedStyle(el);
    const head = el.querySelector("p");
    return {severity: el.dataset.severity, bar: css.borderLeftColor,
            barWidth: css.borderLeftWidth, background: css.backgroundColor,
            ink: win.getComputedStyle(head).color,
            word: head.textContent.trim(), top: el.getBoundingClientRect().top};
  });
  const firstImg = doc.images[0], firstFlag = doc.querySelector("[data-severity]");
  const order = firstImg && firstFlag
    ? !!(firstFlag.compareDocumentPosition(firstImg) & Node.DOCUMENT_POSITION_FOLLOWING)
    : null;
  const result = {scrollWidth: root.scrollWidth, clientWidth: root.clientWidth,
                  scrollHeight: root.scrollHeight,
                  bodyScroll: doc.body.scrollWidth, imgs, flags,
                  flagBeforeChart: order,
                  firstImgTop: firstImg ? firstImg.getBoundingClientRect().top : null,
                  styles: doc.querySelectorAll("style").length,
                  classes: doc.querySelectorAll("[class]").length};
  frame.height = root.scrollHeight;  // the whole email in the screenshot
  document.getElementById("result").textContent = JSON.stringify(result);
});
</script></body></html>
"""


def _strip_styles(page: str) -> str:
    """What a style-stripping webmail client leaves: no <style>, no class."""
    page = re.sub(r"<style\b.*?</style>", "", page, flags=re.S | re.I)
    return re.sub(r"\sclass=(\"[^\"]*\"|'[^']*'|[^\s>]+)", "", page, flags=re.I)


def _inline_cids(msg: EmailMessage) -> str:
    """The HTML part with every ``cid:`` image replaced by a data URI."""
    related = msg.get_payload()[1]  # type: ignore[index]
    html_part, *images = related.get_payload()
    page = html_part.get_content()
    for part in images:
        cid = part["Content-ID"].strip("<>")
        data = base64.b64encode(part.get_content()).decode("ascii")
        assert f"cid:{cid}" in page
        page = page.replace(f"cid:{cid}", f"data:image/png;base64,{data}")
    assert "cid:" not in page
    return page


def _run(browser: str, page: str, name: str, tmp: Path) -> dict[str, Any]:
    probe = tmp / f"{name}.html"
    probe.write_text(
        _PROBE % {"width": PHONE_PX, "doc": html.escape(page, quote=True)},
        encoding="utf-8",
    )
    common = [browser, "--headless", "--no-sandbox", "--disable-gpu",
              "--hide-scrollbars", f"--user-data-dir={tmp / 'profile'}",
              "--virtual-time-budget=15000",
              "--run-all-compositor-stages-before-draw"]  # fmt: skip
    url = probe.as_uri()
    dom = subprocess.run([*common, "--dump-dom", url], capture_output=True,
                         text=True, timeout=120, check=False)  # fmt: skip
    found = re.search(r'<pre id="result">(.*?)</pre>', dom.stdout, flags=re.S)
    assert found, f"no result from Chromium: {dom.stderr[-2000:]}"
    text = html.unescape(found.group(1))
    assert text != "pending", "the email frame never finished loading"
    result: dict[str, Any] = json.loads(text)
    SHOTS.mkdir(parents=True, exist_ok=True)
    shot = SHOTS / f"report-390px-{name}.png"
    height = int(result.get("scrollHeight", 0)) + 40 or 6000
    subprocess.run([*common, f"--window-size=520,{height}",
                    f"--screenshot={shot}", url],
                   capture_output=True, timeout=120, check=False)  # fmt: skip
    result["shot"] = str(shot)
    return result


@pytest.fixture(scope="module")
def sent_message(story: dict, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The ramp week's email with a warning, a caution and a note among its flags."""
    home = tmp_path_factory.mktemp("browser_home")
    result = CliRunner().invoke(cli, ["--home", str(home), "ingest", str(SAMPLE_DIR)])
    assert result.exit_code == 0, result.output
    history = open_history(home)
    try:
        activities = history.activities
    finally:
        history.close()
    end = date.fromisoformat(story["story"]["weekly_ramp"]["as_of"])
    report = build_weekly_report(
        activities,
        settings=Settings(),
        week_ending=end,
        problems=pd.DataFrame(
            [("/home/runner/watch/exports/2026/very/long/folder/names/that/go/on/"
              "and/on/2026-08-27-morning-run-with-a-long-name.fit",
              "error", "truncated record", None, "2026-08-27")],
            columns=["path", "status", "reason", "checked_utc", "last_day"],
        ),
    )  # fmt: skip
    report = _with_all_severities(report, end)
    charts = report_charts(report)
    msg = compose_message(report, charts, sender="k@example.org",
                          to=["runner@example.org"])  # fmt: skip
    return report, msg


def _with_all_severities(report: WeeklyReport, end: date) -> WeeklyReport:
    """The sample week has caution and note flags; add a warning for the test."""
    have = {f.severity for f in report.flags}
    extra = []
    if "warning" not in have:
        extra.append(
            Flag(
                "session_spike",
                "warning",
                end - timedelta(days=1),
                2.1,
                2.0,
                "A run twice as long as the month's longest.",
                [],
            )
        )
    if "info" not in have:
        extra.append(Flag("acwr_low", "info", end, 0.7, 0.8, "Less than usual.", []))
    if "caution" not in have:
        extra.append(Flag("weekly_ramp", "caution", end, 35.0, 30.0, "A jump.", []))
    return dataclasses.replace(report, flags=[*extra, *report.flags])


@pytest.mark.parametrize("variant", ["sent", "stripped"])
def test_email_at_phone_width(sent_message: Any, variant: str, tmp_path: Path) -> None:
    browser = _chromium()
    report, msg = sent_message
    page = _inline_cids(msg)
    if variant == "stripped":
        page = _strip_styles(page)
    r = _run(browser, page, variant, tmp_path)
    assert r["styles"] == 0 and (variant == "sent" or r["classes"] == 0)
    # no horizontal overflow (the long file path wraps or is shortened)
    assert r["clientWidth"] == PHONE_PX
    assert r["scrollWidth"] <= r["clientWidth"], r
    assert r["bodyScroll"] <= r["clientWidth"], r
    # every chart fills its column and none is wider than the screen
    assert len(r["imgs"]) == len(report_charts(report)) >= 3
    for img in r["imgs"]:
        assert img["natural"] > 0, img  # the data URI decoded
        assert img["width"] >= img["holder"] - 1, img
        assert img["width"] >= PHONE_PX - 40, img  # 16 px margins each side
        assert img["right"] <= r["clientWidth"], img
    # phone-first: the first flag comes before the first chart
    assert r["flagBeforeChart"] is True
    assert r["flags"][0]["top"] < r["firstImgTop"]
    # warning, caution and note differ by inline colour AND by their words
    seen = {f["severity"]: f for f in r["flags"]}
    assert {"warning", "caution", "info"} <= set(seen)
    words = {"warning": "Warning", "caution": "Caution", "info": "Note"}
    for severity, word in words.items():
        assert word in seen[severity]["word"]
        assert seen[severity]["barWidth"] == "6px"
    for key in ("bar", "background", "ink"):
        colours = {seen[s][key] for s in words}
        assert len(colours) == 3, (key, colours)
    assert Path(r["shot"]).exists()


def test_report_html_is_the_email_html(sent_message: Any) -> None:
    """report.html and the email's HTML part are one page (data: vs cid: images)."""
    report, msg = sent_message
    assert _inline_cids(msg) == render_html(report, report_charts(report), embed=True)
