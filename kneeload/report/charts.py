"""Report charts: ``plot_*(ax, ...)`` draw on given axes and return the artists.

Object-oriented matplotlib on the Agg backend; every figure made here is closed.
Colours are Okabe-Ito (colour-blind safe); figures are 6.4 in wide at 150 dpi,
readable on a phone. Distances follow the configured units (km or mi).
"""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import matplotlib
import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator

from kneeload.analysis.taper import taper_chart_frame
from kneeload.config import Thresholds
from kneeload.report.weekly import WeeklyReport
from kneeload.units import km_per_unit

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
_WIDTH_IN, _DPI = 6.4, 150
_STYLE = {
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.fontsize": 8.5,
    "legend.frameon": False,
}


def _date_axis(ax: Axes) -> None:
    ax.xaxis.set_major_locator(mdates.WeekdayLocator(byweekday=mdates.MO, interval=2))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))


def plot_acwr(
    ax: Axes,
    daily: pd.DataFrame,
    *,
    ratio_ax: Axes,
    units: str = "km",
    flag_days: tuple[date, ...] = (),
    thresholds: Thresholds | None = None,
) -> list[Artist]:
    """Acute (7-day) vs usual weekly load on ``ax``; uncoupled ACWR on ``ratio_ax``.

    The shaded bands are the configured ACWR thresholds (RULES §3).
    """
    f = km_per_unit(units)
    x = daily.index
    drawn: list[Artist] = [
        *ax.plot(
            x,
            daily["acute_km"] / f,
            color=OKABE_ITO["vermillion"],
            lw=2,
            label="last 7 days",
        ),
        *ax.plot(
            x,
            daily["usual_km"] / f,
            color=OKABE_ITO["blue"],
            lw=2,
            ls="--",
            label="usual week (3 weeks before)",
        ),
    ]
    ax.set_ylabel(f"{units} per 7 days")
    peak = np.nanmax(daily[["acute_km", "usual_km"]].to_numpy(float), initial=1.0)
    ax.set_ylim(0, peak / f * 1.3)  # headroom for the legend
    ax.legend(loc="upper left", ncol=2)
    drawn += _ratio_panel(ratio_ax, daily, flag_days, thresholds or Thresholds())
    ax.set_title("Is this week's load far from your usual?", loc="left")
    return drawn


def _ratio_panel(
    ax: Axes, daily: pd.DataFrame, flag_days: tuple[date, ...], thr: Thresholds
) -> list:
    low, mid = thr.acwr_low.info_below, thr.acwr_high.info_above
    high = thr.acwr_high.caution_above
    drawn: list[Artist] = [
        ax.axhspan(low, mid, color=OKABE_ITO["green"], alpha=0.15, lw=0),
        ax.axhspan(high, max(3.0, high), color=OKABE_ITO["orange"], alpha=0.18, lw=0),
    ]
    box = {"facecolor": "white", "alpha": 0.7, "lw": 0, "pad": 1}
    kw = {"fontsize": 7.5, "color": "#333333", "va": "center", "bbox": box}
    x0 = daily.index[0]
    drawn.append(
        ax.text(x0, (low + mid) / 2, f" {low:g}-{mid:g} team-sport band", **kw)
    )
    drawn.append(ax.text(x0, high + 0.25, f" >{high:g} team-sport band", **kw))
    drawn += ax.plot(
        daily.index,
        daily["acwr"],
        color=OKABE_ITO["black"],
        lw=1.8,
        label="ACWR (uncoupled)",
    )
    days = [pd.Timestamp(d) for d in flag_days if pd.Timestamp(d) in daily.index]
    # a flag is marked on the ratio line only where a ratio is shown
    y = daily["acwr"].reindex(days).dropna().clip(upper=2.4)
    if not y.empty:
        drawn.append(
            ax.scatter(
                y.index,
                y,
                marker="v",
                s=40,
                zorder=3,
                color=OKABE_ITO["vermillion"],
                label="flagged day",
            )
        )
    top = np.nanmax(daily["acwr"].to_numpy(float), initial=1.6)
    ax.set_ylim(0, max(2.0, min(3.0, top + 0.2)))
    ax.set_ylabel("ACWR")
    ax.legend(loc="lower left", ncol=2)
    _date_axis(ax)
    return drawn


def plot_weekly_km(
    ax: Axes, weeks: pd.DataFrame, *, units: str = "km",
    thresholds: Thresholds | None = None,
) -> list[Artist]:  # fmt: skip
    """Weekly running distance bars, ramp weeks highlighted, longest run as markers."""
    thr = thresholds or Thresholds()
    spike_pct = 100 * (thr.session_spike.caution_ratio - 1)
    f = km_per_unit(units)
    x = weeks.index + pd.Timedelta(days=3)  # bar centred on the week's Thursday
    ramp = weeks["ramp"].astype(bool).to_numpy()
    colours = np.where(ramp, OKABE_ITO["orange"], OKABE_ITO["sky"])
    bars = ax.bar(x, weeks["km"] / f, width=5.5, color=colours, label="week total")
    spike = weeks["spike"].to_numpy(bool)
    long_km = weeks["longest_km"] / f
    drawn: list[Artist] = [bars]
    drawn += ax.plot(
        x[~spike], long_km[~spike], "o", color=OKABE_ITO["blue"], label="longest run"
    )
    drawn += ax.plot(
        x[spike],
        long_km[spike],
        "D",
        color=OKABE_ITO["vermillion"],
        ms=8,
        label=f"long-run spike (>{spike_pct:.0f}% over month's longest)",
    )
    if ramp.any():
        drawn.append(
            ax.bar(
                [x[ramp][0]],
                [0],
                color=OKABE_ITO["orange"],
                label=f"ramp week (>{thr.weekly_ramp.info_pct:.0f}% over previous)",
            )
        )
    ax.set_ylabel(f"{units} per week")
    ax.set_xlabel("weeks, Monday to Sunday")
    ax.set_ylim(0, max(1.0, float((weeks["km"] / f).max()) * 1.3))
    ax.legend(loc="upper left", ncol=2)
    ax.set_title("Weekly distance: watch for sudden jumps", loc="left")
    _date_axis(ax)
    return drawn


#: Half the width of the cadence target band around easy pace, in km/h.
TARGET_HALF_WIDTH_KMH = 0.75


def plot_cadence_speed(
    ax: Axes,
    gait: pd.DataFrame,
    *,
    model: tuple[float, float] | None,
    target_spm: tuple[int, int] | None,
    easy_speed_mps: float | None,
    units: str = "km",
) -> list[Artist]:
    """Cadence vs speed of recent runs, the runner's own fit and the target band."""
    to_speed = 3.6 / km_per_unit(units)
    speed = gait["speed_mps"].to_numpy(float) * to_speed
    spm = gait["spm"].to_numpy(float)
    week = gait["this_week"].to_numpy(bool)
    drawn: list[Artist] = []
    if target_spm is not None:
        label = f"easy-run target {target_spm[0]}-{target_spm[1]} spm"
        style = {"color": OKABE_ITO["green"], "alpha": 0.2, "lw": 0, "label": label}
        if easy_speed_mps is None:
            drawn.append(ax.axhspan(*target_spm, **style))
        else:  # the target holds at easy pace, not at every speed
            x0 = easy_speed_mps * to_speed - TARGET_HALF_WIDTH_KMH / km_per_unit(units)
            width = 2 * TARGET_HALF_WIDTH_KMH / km_per_unit(units)
            lo, hi = target_spm
            drawn.append(ax.add_patch(Rectangle((x0, lo), width, hi - lo, **style)))
    drawn += ax.plot(
        speed[~week],
        spm[~week],
        "o",
        color=OKABE_ITO["blue"],
        alpha=0.6,
        label="earlier runs",
    )
    drawn += ax.plot(
        speed[week],
        spm[week],
        "s",
        color=OKABE_ITO["vermillion"],
        ms=7,
        label="this week",
    )
    if model is not None and len(speed):
        xs = np.linspace(speed.min() - 0.3, speed.max() + 0.3, 20)
        a, b = model
        drawn += ax.plot(
            xs,
            a + b * xs / to_speed,
            color=OKABE_ITO["black"],
            lw=1.5,
            label="your usual at each speed",
        )
    if easy_speed_mps is not None:
        drawn.append(
            ax.axvline(
                easy_speed_mps * to_speed,
                color="#666666",
                ls=":",
                lw=1.2,
                label="your easy pace",
            )
        )
    speed_unit = "mph" if units == "mi" else "km/h"
    ax.set_xlabel(f"speed ({speed_unit}) on steady stretches")
    ax.set_ylabel("cadence (steps/min)")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=3)
    ax.set_title("Cadence vs speed: the green band is the suggested range", loc="left")
    return drawn


def plot_descent(ax: Axes, weeks: pd.DataFrame) -> list[Artist]:
    """Descent per week, weeks with a downhill flag highlighted."""
    x = weeks.index + pd.Timedelta(days=3)
    flagged = weeks["descent_flag"].to_numpy(bool)
    colours = np.where(flagged, OKABE_ITO["orange"], OKABE_ITO["sky"])
    drawn: list[Artist] = [ax.bar(x, weeks["descent_m"], width=5.5, color=colours)]
    if flagged.any():
        drawn.append(
            ax.bar(
                [x[flagged][0]],
                [0],
                color=OKABE_ITO["orange"],
                label="downhill flag that week",
            )
        )
        ax.legend(loc="upper left")
    ax.set_ylabel("descent (m per week)")
    ax.set_ylim(0, max(100.0, float(weeks["descent_m"].max()) * 1.25))
    ax.set_title("Downhill per week: more braking work for the knee", loc="left")
    _date_axis(ax)
    return drawn


def plot_taper(
    ax: Axes,
    frame: pd.DataFrame,
    *,
    units: str = "km",
    baseline_km: float | None = None,
) -> list[Artist]:
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
    ax.set_ylim(0, max(1.0, float(top)) * 1.35)  # headroom for the legend
    ax.set_xticks(x, [f"{k}" for k in x])
    ax.set_xlabel("race weeks (week -1 = the 7 days before race day)")
    ax.set_ylabel(f"{units} per week")
    ax.legend(loc="upper right", ncol=2)
    title = (
        "Taper: do the last three bars land in the green?"
        if np.isfinite(lo).any()
        else "Before the race: the taper check starts after week -4"
    )
    ax.set_title(title, loc="left")
    return drawn


def _taper_bands(
    ax: Axes, x: np.ndarray, lo: np.ndarray, hi: np.ndarray, come: np.ndarray
) -> list[Artist]:
    """The expected km range of each taper week; dashed outline for weeks to come."""
    band = np.isfinite(lo) & np.isfinite(hi)
    if not band.any():
        return []
    drawn: list[Artist] = [
        ax.bar(x[band], (hi - lo)[band], bottom=lo[band], width=0.86,
               color=OKABE_ITO["green"], alpha=0.25, lw=0,
               label="expected range for the week"),
    ]  # fmt: skip
    if (band & come).any():
        drawn.append(
            ax.bar(x[band & come], (hi - lo)[band & come], bottom=lo[band & come],
                   width=0.86, fill=False, ls="--", lw=1.2,
                   edgecolor=OKABE_ITO["green"], label="week to come: aim here")
        )  # fmt: skip
    return drawn


def _taper_bars(
    ax: Axes, x: np.ndarray, km: np.ndarray, status: np.ndarray
) -> list[Artist]:
    """Baseline weeks light blue, taper weeks dark blue, this week hatched."""
    base, done, now = x <= -4, status == "done", status == "in_progress"
    drawn: list[Artist] = []
    for mask, colour, hatch, label in (
        (base & done, "sky", None, "baseline weeks (-7 to -4)"),
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
) -> list[Artist]:
    """'to come' above the bands of the weeks that have not started."""
    kw = {"ha": "center", "va": "bottom", "fontsize": 8, "color": "#333333"}
    come = frame["status"].eq("to_come").to_numpy()
    return [
        ax.text(xi, h if np.isfinite(h) else 0.0, "to come", **kw)
        for xi, h in zip(x[come], hi[come], strict=True)
    ]


def new_figure(height_in: float, rows: int = 1, **kw: Any) -> tuple[Figure, Any]:
    """A phone-width figure with the report style (not registered with pyplot)."""
    with matplotlib.rc_context(_STYLE):
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


def report_charts(report: WeeklyReport) -> dict[str, bytes]:
    """Every chart of the report as PNG bytes, keyed by file stem."""
    with matplotlib.rc_context(_STYLE):
        return _charts(report)


def _charts(report: WeeklyReport) -> dict[str, bytes]:
    units = report.units
    out: dict[str, bytes] = {}
    fig, (top, bottom) = new_figure(5.6, 2, sharex=True, height_ratios=[3, 2])
    flag_days = tuple(d for days in report.weeks["flag_days"] for d in days)
    plot_acwr(top, report.daily, ratio_ax=bottom, units=units, flag_days=flag_days,
              thresholds=report.thresholds)  # fmt: skip
    fig.supxlabel(
        _wrap(report.acwr_caveat), x=0.01, ha="left", fontsize=7.5, color="#333333"
    )
    out["acwr"] = figure_to_png(fig)
    fig, ax = new_figure(3.6)
    plot_weekly_km(ax, report.weeks, units=units, thresholds=report.thresholds)
    out["weekly_km"] = figure_to_png(fig)
    if len(report.gait):
        fig, ax = new_figure(3.8)
        c = report.cadence
        plot_cadence_speed(
            ax,
            report.gait,
            model=report.gait_model,
            target_spm=c.target_spm,
            easy_speed_mps=c.easy_speed_mps,
            units=units,
        )
        out["cadence"] = figure_to_png(fig)
    if report.show_descent_chart:
        fig, ax = new_figure(3.2)
        plot_descent(ax, report.weeks)
        out["descent"] = figure_to_png(fig)
    if report.taper is not None:
        fig, ax = new_figure(3.6)
        plot_taper(ax, taper_chart_frame(report.taper), units=units,
                   baseline_km=report.taper.baseline_km_per_week)  # fmt: skip
        out["taper"] = figure_to_png(fig)
    return out


def _wrap(text: str, width: int = 95) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width))
