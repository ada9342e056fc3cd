"""Report charts: ``plot_*(ax, ...)`` draw on given axes and return the artists.

Object-oriented matplotlib on the Agg backend; every figure made here is closed.
Colours are Okabe-Ito (colour-blind safe). Figures are drawn for a phone: shown
``CSS_WIDTH_PX`` CSS pixels wide at ``DENSITY``x pixel density, so the smallest
text (``MIN_FONT_PT``) is at least 11 CSS px there. Distances follow the
configured units (km or mi), climbs with them (m or ft), paces likewise (min/km
or min/mi). Legends state the thresholds in force, from the settings.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date
from typing import Any, cast

import matplotlib
import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import FuncFormatter, MaxNLocator

from kneeload.analysis.taper import taper_chart_frame
from kneeload.config import Thresholds
from kneeload.report.knee import report_chart as knee_chart
from kneeload.report.weekly import WeeklyReport
from kneeload.units import FOOT_M, km_per_unit, per_unit_m

#: Okabe & Ito (2008) colour-blind-safe palette.
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
}
#: The CSS width a chart is drawn for (a 390 px phone minus the page margins) and
#: the pixel density: the PNG is CSS_WIDTH_PX x DENSITY pixels wide.
CSS_WIDTH_PX, DENSITY = 360, 2
_DPI = 200
_WIDTH_IN = CSS_WIDTH_PX * DENSITY / _DPI
#: Smallest font used: 8 pt at 200 dpi and 2x density is 11.1 CSS px.
MIN_FONT_PT = 8.0
_STYLE: dict[str, Any] = {
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.labelsize": 9,
    "xtick.labelsize": 8.5,
    "ytick.labelsize": 8.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.fontsize": 8.5,
    "legend.frameon": False,
    "legend.handlelength": 1.4,
    "legend.columnspacing": 1.0,
}
Drawn = list[Any]  # lines, patches, collections, bar containers


def css_px(points: float) -> float:
    """A font size in points as CSS pixels on the phone (DPI and density)."""
    return points * _DPI / 72.0 / DENSITY


def _date_axis(ax: Axes, days: int = 112) -> None:
    """Mondays as ticks: every 2 weeks for a short history, else every 4."""
    interval = 2 if days <= 8 * 7 else 4
    ax.xaxis.set_major_locator(
        mdates.WeekdayLocator(byweekday=mdates.MO, interval=interval)
    )
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%-d %b"))


def _few_y_ticks(ax: Axes) -> None:
    ax.yaxis.set_major_locator(MaxNLocator(4))


def _centres(weeks: pd.DataFrame) -> pd.DatetimeIndex:
    """Bar centres: the Thursday of each Monday-Sunday week."""
    return pd.DatetimeIndex(weeks.index).shift(3, freq="D")


def plot_acwr(
    ax: Axes,
    daily: pd.DataFrame,
    *,
    ratio_ax: Axes,
    units: str = "km",
    flag_days: tuple[date, ...] = (),
    thresholds: Thresholds | None = None,
) -> Drawn:
    """Acute (7-day) vs usual weekly load on ``ax``; uncoupled ACWR on ``ratio_ax``.

    The shaded bands are the configured ACWR thresholds (RULES §3). The caveat is
    printed by the report beside the chart, not inside it.
    """
    f = km_per_unit(units)
    x = daily.index
    drawn: Drawn = [
        *ax.plot(x, daily["acute_km"] / f, color=OKABE_ITO["vermillion"], lw=2,
                 label="last 7 days"),
        *ax.plot(x, daily["usual_km"] / f, color=OKABE_ITO["blue"], lw=2, ls="--",
                 label="usual week"),
    ]  # fmt: skip
    ax.set_ylabel(f"{units} per 7 days")
    peak = np.nanmax(daily[["acute_km", "usual_km"]].to_numpy(float), initial=1.0)
    ax.set_ylim(0, peak / f * 1.8)  # headroom for the legend
    _few_y_ticks(ax)
    drawn += _ratio_panel(ratio_ax, daily, flag_days, thresholds or Thresholds())
    # one legend for both panels: nothing is written over the ratio line
    marks = [a for a in ratio_ax.collections if a.get_label() == "flagged day"]
    bands = [p for p in ratio_ax.patches if "band" in str(p.get_label())]
    ax.legend(handles=[*ax.lines, *marks, *bands], loc="upper left", ncol=2)
    ax.set_title("Load: this week vs your usual", loc="left")
    return drawn


def _ratio_panel(
    ax: Axes, daily: pd.DataFrame, flag_days: tuple[date, ...], thr: Thresholds
) -> Drawn:
    low, mid = thr.acwr_low.info_below, thr.acwr_high.info_above
    high = thr.acwr_high.caution_above
    top = max(2.0, high + 0.5)
    drawn: Drawn = [
        ax.axhspan(low, mid, color=OKABE_ITO["green"], alpha=0.15, lw=0,
                   label=f"ACWR {low:g}-{mid:g} band"),
        ax.axhspan(high, max(3.0, high), color=OKABE_ITO["orange"], alpha=0.18,
                   lw=0, label=f"ACWR >{high:g} band"),
    ]  # fmt: skip
    drawn += ax.plot(daily.index, daily["acwr"], color=OKABE_ITO["black"], lw=1.8,
                     label="ACWR (uncoupled)")  # fmt: skip
    days = [pd.Timestamp(d) for d in flag_days if pd.Timestamp(d) in daily.index]
    # a flag is marked only where a ratio is shown, as a rug along the bottom so
    # it never hides the line (a short line would vanish under the markers)
    shown = daily["acwr"].reindex(days).dropna()
    if not shown.empty:
        drawn.append(
            ax.scatter(shown.index, np.full(len(shown), 0.06), marker="^", s=36,
                       zorder=3, color=OKABE_ITO["vermillion"],
                       transform=ax.get_xaxis_transform(), label="flagged day")
        )  # fmt: skip
    peak = float(daily["acwr"].max()) if daily["acwr"].notna().any() else 0.0
    ax.set_ylim(0, max(top, min(3.0, peak + 0.2)))
    ax.set_ylabel("ACWR")
    _few_y_ticks(ax)
    _date_axis(ax, len(daily))
    return drawn


def _ramp_colour(severity: str) -> str:
    return OKABE_ITO["yellow"] if severity == "info" else OKABE_ITO["orange"]


def plot_weekly_km(
    ax: Axes, weeks: pd.DataFrame, *, units: str = "km",
    thresholds: Thresholds | None = None,
) -> Drawn:  # fmt: skip
    """Weekly running distance bars, ramp weeks by level, longest run as markers.

    Weeks without runs have no longest-run marker. The legend gives the ramp
    levels (note and caution) and the spike limit from the settings.
    """
    thr = thresholds or Thresholds()
    spike_pct = 100 * (thr.session_spike.caution_ratio - 1)
    f = km_per_unit(units)
    x = _centres(weeks)
    ramp = weeks["ramp"].astype(str).to_numpy()
    colours = [_ramp_colour(r) if r else OKABE_ITO["sky"] for r in ramp]
    bars = ax.bar(x, weeks["km"] / f, width=5.5, color=colours, label="week total")
    ran = weeks["runs"].to_numpy(int) > 0
    spike = weeks["spike"].to_numpy(bool) & ran
    plain = ran & ~spike
    long_u = (weeks["longest_km"] / f).to_numpy(float)
    drawn: Drawn = [bars]
    handles: list[Any] = [Patch(color=OKABE_ITO["sky"], label="week total")]
    dots = ax.plot(x[plain], long_u[plain], "o", color=OKABE_ITO["blue"], ms=5,
                   label="longest run")  # fmt: skip
    drawn += dots
    handles += dots
    if spike.any():
        marks = ax.plot(x[spike], long_u[spike], "D", color=OKABE_ITO["black"],
                        mec="white", mew=1.2, ms=7,
                        label=f"long-run spike (> +{spike_pct:.0f}%)")  # fmt: skip
        drawn += marks
        handles += marks
    present = {
        "info": bool((ramp == "info").any()),
        "caution": bool(np.isin(ramp, ["caution", "warning"]).any()),
    }
    levels = (
        ("info", f"ramp, note (> +{thr.weekly_ramp.info_pct:.0f}%)"),
        ("caution", f"ramp, caution (> +{thr.weekly_ramp.caution_pct:.0f}%)"),
    )
    handles += [
        Patch(color=_ramp_colour(sev), label=label)
        for sev, label in levels
        if present[sev]
    ]
    ax.set_ylabel(f"{units} per week")
    ax.set_xlabel("weeks, Monday to Sunday")
    ax.set_ylim(0, max(1.0, float((weeks["km"] / f).max()) * 1.55))
    _few_y_ticks(ax)
    ax.legend(handles=handles, loc="upper left", ncol=2)
    ax.set_title("Weekly distance: sudden jumps", loc="left")
    _date_axis(ax, 7 * len(weeks))
    return drawn


#: Half the width of the cadence target band around easy pace, in km/h.
TARGET_HALF_WIDTH_KMH = 0.75


def pace_min(speed_mps: Any, units: str = "km") -> Any:
    """Pace in minutes per km or per mile (decimal) for a speed in m/s."""
    return per_unit_m(units) / np.asarray(speed_mps, dtype=float) / 60.0


def _pace_label(minutes: float, _pos: object = None) -> str:
    seconds = round(minutes * 60)
    return f"{seconds // 60}:{seconds % 60:02d}"


def plot_cadence_speed(
    ax: Axes,
    gait: pd.DataFrame,
    *,
    model: tuple[float, float] | None,
    target_spm: tuple[int, int] | None,
    easy_speed_mps: float | None,
    units: str = "km",
) -> Drawn:
    """Cadence vs pace (min/km or min/mi, faster to the right) of recent runs.

    With the runner's own fit and, when a suggestion is made, the target band at
    easy pace (easy speed +- ``TARGET_HALF_WIDTH_KMH``).
    """
    speed = gait["speed_mps"].to_numpy(float)
    pace = pace_min(speed, units)
    spm = gait["spm"].to_numpy(float)
    week = gait["this_week"].to_numpy(bool)
    drawn: Drawn = []
    if target_spm is not None:
        label = f"target {target_spm[0]}-{target_spm[1]} spm"
        lo, hi = target_spm
        colour = OKABE_ITO["green"]
        if easy_speed_mps is None:
            drawn.append(ax.axhspan(lo, hi, color=colour, alpha=0.2, lw=0,
                                    label=label))  # fmt: skip
        else:  # the target holds at easy pace, not at every speed
            half = TARGET_HALF_WIDTH_KMH / 3.6
            slow = float(pace_min(easy_speed_mps - half, units))
            fast = float(pace_min(easy_speed_mps + half, units))
            band = Rectangle((fast, lo), slow - fast, hi - lo, color=colour,
                             alpha=0.2, lw=0, label=label)  # fmt: skip
            drawn.append(ax.add_patch(band))
    drawn += ax.plot(pace[~week], spm[~week], "o", color=OKABE_ITO["blue"],
                     alpha=0.6, ms=5, label="earlier runs")  # fmt: skip
    drawn += ax.plot(pace[week], spm[week], "s", color=OKABE_ITO["vermillion"],
                     ms=6, label="this week")  # fmt: skip
    if model is not None and len(speed):
        xs = np.linspace(speed.min() - 0.1, speed.max() + 0.1, 20)
        a, b = model
        drawn += ax.plot(pace_min(xs, units), a + b * xs, color=OKABE_ITO["black"],
                         lw=1.5, label="your usual")  # fmt: skip
    if easy_speed_mps is not None:
        drawn.append(ax.axvline(float(pace_min(easy_speed_mps, units)),
                                color="#666666", ls=":", lw=1.2,
                                label="your easy pace"))  # fmt: skip
    if not ax.xaxis_inverted():
        ax.invert_xaxis()  # faster to the right, as the runner speeds up
    ax.xaxis.set_major_formatter(FuncFormatter(_pace_label))
    ax.xaxis.set_major_locator(MaxNLocator(4, steps=[1, 2.5, 5, 10]))  # m:ss
    ax.set_xlabel(f"pace (min/{units}) on steady stretches")
    ax.set_ylabel("cadence (steps/min)")
    ax.yaxis.set_major_locator(MaxNLocator(4, integer=True))
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=2)
    ax.set_title("Cadence vs pace", loc="left")
    return drawn


def plot_descent(
    ax: Axes, weeks: pd.DataFrame, *, units: str = "km",
    thresholds: Thresholds | None = None,
) -> Drawn:  # fmt: skip
    """Descent per week (m, or ft with miles); weeks with a downhill flag in orange."""
    cfg = (thresholds or Thresholds()).descent_ramp
    per, unit = (FOOT_M, "ft") if units == "mi" else (1.0, "m")
    x = _centres(weeks)
    flagged = weeks["descent_flag"].to_numpy(bool)
    colours = np.where(flagged, OKABE_ITO["orange"], OKABE_ITO["sky"])
    climb = weeks["descent_m"] / per
    drawn: Drawn = [ax.bar(x, climb, width=5.5, color=colours)]
    handles: list[Any] = [Patch(color=OKABE_ITO["sky"], label="descent per week")]
    if flagged.any():
        limit = f"> {cfg.weekly_ratio:g}x the {cfg.baseline_weeks}-week mean"
        handles.append(Patch(color=OKABE_ITO["orange"], label=f"flagged: {limit}"))
    ax.legend(handles=handles, loc="upper left")
    ax.set_ylabel(f"descent ({unit} per week)")
    ax.set_xlabel("weeks, Monday to Sunday")
    ax.set_ylim(0, max(100.0 / per, float(climb.max()) * 1.45))
    _few_y_ticks(ax)
    ax.set_title("Downhill: braking work for the knee", loc="left")
    _date_axis(ax, 7 * len(weeks))
    return drawn


def plot_taper(
    ax: Axes,
    frame: pd.DataFrame,
    *,
    units: str = "km",
    baseline_km: float | None = None,
) -> Drawn:
    """Weekly km of race weeks -7 ... -1 with the expected band of weeks -3 ... -1.

    Baseline weeks (-7 ... -4) and taper weeks have different colours; weeks to come
    have no bar, only their band with a dashed outline; a week in progress is hatched.
    """
    f = km_per_unit(units)
    x = frame.index.to_numpy(int)
    km = frame["km"].to_numpy(float) / f
    lo = frame["lo_km"].to_numpy(float) / f
    hi = frame["hi_km"].to_numpy(float) / f
    drawn = _taper_bands(ax, x, lo, hi, frame["status"].eq("to_come").to_numpy())
    drawn += _taper_bars(ax, x, km, frame["status"].to_numpy(str))
    if baseline_km:
        drawn.append(
            ax.axhline(baseline_km / f, color=OKABE_ITO["black"], ls=":", lw=1.2,
                       label=f"baseline {baseline_km / f:.0f} {units}/week")
        )  # fmt: skip
    drawn += _taper_labels(ax, frame, x, hi)
    top = np.nanmax(np.concatenate([km, hi, [(baseline_km or 1.0) / f]]))
    ax.set_ylim(0, max(1.0, float(top)) * 1.1)
    ax.set_xticks(x, [f"{k}" for k in x])
    ax.set_xlabel("race weeks (-1 = the 7 days before the race)")
    ax.set_ylabel(f"{units} per week")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.25), ncol=2)
    _few_y_ticks(ax)
    title = (
        "Taper: last bars in the green?"
        if np.isfinite(lo).any()
        else "Taper check starts at week -3"
    )
    ax.set_title(title, loc="left")
    return drawn


def _taper_bands(
    ax: Axes, x: np.ndarray, lo: np.ndarray, hi: np.ndarray, come: np.ndarray
) -> Drawn:
    """The expected km range of each taper week; dashed outline for weeks to come."""
    band = np.isfinite(lo) & np.isfinite(hi)
    if not band.any():
        return []
    drawn: Drawn = [
        ax.bar(x[band], (hi - lo)[band], bottom=lo[band], width=0.86,
               color=OKABE_ITO["green"], alpha=0.25, lw=0,
               label="expected range"),
    ]  # fmt: skip
    if (band & come).any():
        drawn.append(
            ax.bar(x[band & come], (hi - lo)[band & come], bottom=lo[band & come],
                   width=0.86, fill=False, ls="--", lw=1.2,
                   edgecolor=OKABE_ITO["green"], label="week to come: aim here")
        )  # fmt: skip
    return drawn


def _taper_bars(ax: Axes, x: np.ndarray, km: np.ndarray, status: np.ndarray) -> Drawn:
    """Baseline weeks light blue, taper weeks dark blue, this week hatched."""
    base, done, now = x <= -4, status == "done", status == "in_progress"
    drawn: Drawn = []
    for mask, colour, hatch, label in (
        (base & done, "sky", None, "weeks -7 to -4"),
        (~base & done, "blue", None, "taper weeks"),
        (now, "sky" if (base & now).any() else "blue", "//", "this week so far"),
    ):
        if mask.any():
            drawn.append(
                ax.bar(x[mask], km[mask], width=0.55, color=OKABE_ITO[colour],
                       hatch=hatch, edgecolor="white", lw=0, label=label)
            )  # fmt: skip
    return drawn


def _taper_labels(
    ax: Axes, frame: pd.DataFrame, x: np.ndarray, hi: np.ndarray
) -> Drawn:
    """'to come' above the bands of the weeks that have not started."""
    come = frame["status"].eq("to_come").to_numpy()
    return [
        ax.text(xi, h if np.isfinite(h) else 0.0, "to come", ha="center",
                va="bottom", fontsize=MIN_FONT_PT, color="#333333")
        for xi, h in zip(x[come], hi[come], strict=True)
    ]  # fmt: skip


def new_figure(height_in: float, rows: int = 1, **kw: Any) -> tuple[Figure, Any]:
    """A phone-width figure with the report style (not registered with pyplot)."""
    with matplotlib.rc_context(cast(Any, _STYLE)):
        fig = Figure(figsize=(_WIDTH_IN, height_in), dpi=_DPI, layout="constrained")
        FigureCanvasAgg(fig)  # Agg canvas; never registered with pyplot
        axes = fig.subplots(rows, 1, **kw)
    return fig, axes


def figure_to_png(fig: Figure) -> bytes:
    """Render ``fig`` to PNG bytes and release it."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=_DPI)
    fig.clear()
    return buf.getvalue()


#: Optional charts, e.g. ``knee.png`` of ``kneeload.report.knee``: each takes the
#: report and returns (name, figure drawn with ``new_figure``) or None. Register
#: one by adding it here; its section (sections.EXTRA_SECTIONS) adds the Image.
EXTRA_CHARTS: tuple[Callable[[WeeklyReport], tuple[str, Figure] | None], ...] = (
    knee_chart,
)


def report_figures(report: WeeklyReport) -> dict[str, Figure]:
    """Every chart of the report as a drawn figure, keyed by file stem."""
    with matplotlib.rc_context(cast(Any, _STYLE)):
        return _figures(report)


def report_charts(report: WeeklyReport) -> dict[str, bytes]:
    """Every chart of the report as PNG bytes, keyed by file stem."""
    with matplotlib.rc_context(cast(Any, _STYLE)):
        return {k: figure_to_png(fig) for k, fig in _figures(report).items()}


def _figures(report: WeeklyReport) -> dict[str, Figure]:
    units, thr = report.units, report.thresholds
    out: dict[str, Figure] = {}
    fig, (top, bottom) = new_figure(4.6, 2, sharex=True, height_ratios=[3, 2])
    flag_days = tuple(d for days in report.weeks["flag_days"] for d in days)
    plot_acwr(top, report.daily, ratio_ax=bottom, units=units, flag_days=flag_days,
              thresholds=thr)  # fmt: skip
    out["acwr"] = fig
    fig, ax = new_figure(3.0)
    plot_weekly_km(ax, report.weeks, units=units, thresholds=thr)
    out["weekly_km"] = fig
    if "cadence" in report.chart_names:
        fig, ax = new_figure(3.6)
        c = report.cadence
        plot_cadence_speed(
            ax,
            report.gait,
            model=report.gait_model,
            target_spm=c.target_spm if report.suggest_cadence else None,
            easy_speed_mps=c.easy_speed_mps,
            units=units,
        )
        out["cadence"] = fig
    if "descent" in report.chart_names:
        fig, ax = new_figure(2.8)
        plot_descent(ax, report.weeks, units=units, thresholds=thr)
        out["descent"] = fig
    if report.taper is not None:
        fig, ax = new_figure(3.9)
        plot_taper(ax, taper_chart_frame(report.taper), units=units,
                   baseline_km=report.taper.baseline_km_per_week)  # fmt: skip
        out["taper"] = fig
    for extra in EXTRA_CHARTS:
        made = extra(report)
        if made is not None:
            out[made[0]] = made[1]
    return out
