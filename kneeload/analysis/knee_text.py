"""The words of the knee journey: routines, warm-ups, advice (RULES §8, §12, §13).

Practitioner content from the seed guide (grade C), worded as "physical
therapists recommend", never as a prevention promise. Kept apart from the
numbers in :mod:`kneeload.analysis.knee`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from kneeload.analysis.evidence import Evidence
from kneeload.config import KneeSettings
from kneeload.notes import Note

#: The RULES §12 defaults (``[thresholds.knee]``) when no settings are passed.
DEFAULT_KNEE = KneeSettings()

CROSSLEY_2016 = Evidence(
    "Crossley et al. 2016, Patellofemoral pain consensus statement from the 4th "
    "International Patellofemoral Pain Research Retreat, BJSM 50:839-843",
    "A",
)
COLLINS_2018 = Evidence(
    "Collins et al. 2018, 2018 consensus statement on exercise therapy and "
    "physical interventions for patellofemoral pain, BJSM 52:1170",
    "B",
)
ESCULIER_2018 = Evidence(
    "Esculier et al. 2018, Is combining gait retraining or an exercise programme "
    "with education better than education alone in treating runners with PFP? "
    "(RCT, 69 runners), BJSM 52:659-666, doi:10.1136/bjsports-2016-096988",
    "A",
)
RATHLEFF_2014 = Evidence(
    "Rathleff et al. 2014, Is hip strength a risk factor for patellofemoral pain? "
    "A systematic review and meta-analysis, BJSM 48:1088",
    "B",
)
MALISOUX_2015 = Evidence(
    "Malisoux et al. 2015, Can parallel use of different running shoes decrease "
    "running-related injury risk? SJMSS 25:110-115",
    "A",
)
SEED_GUIDE = Evidence(
    "The seed guide's physical therapists: 3-stage return to running, dynamic "
    "warm-ups and cool-down (practitioner advice)",
    "C",
)
KNEE_EVIDENCE: tuple[Evidence, ...] = (
    SEED_GUIDE,
    CROSSLEY_2016,
    COLLINS_2018,
    RATHLEFF_2014,
    MALISOUX_2015,
)

_PLAN = "the plan belongs to you and your physio/PT."


def minutes_limit(minutes: float) -> str:
    """A configured number of minutes: '15', or '17.5' when not whole."""
    return f"{minutes:g}"


def no_pain_reason(k: KneeSettings = DEFAULT_KNEE) -> str:
    """The reason of 'no stage': no pain noted in the knee window (RULES §12)."""
    return f"no knee pain of 1/10 or more noted in the last {k.pain_window_days} days"


def next_step(stage: int, k: KneeSettings = DEFAULT_KNEE) -> str:
    """What moves the runner up from ``stage``, with the configured numbers (§12)."""
    if stage == 1:
        return (
            f"Stage 2 comes with a run of {minutes_limit(k.stage2_minutes)} min or "
            f"more at manageable pain ({k.manageable_pain}/10 or less, a common "
            "clinical heuristic) that is not worse the next morning. Walk or "
            "walk/jog durations are agreed with your physio/PT; " + _PLAN
        )
    if stage == 2:
        return (
            f"Stage 3 comes with a run of {minutes_limit(k.stage3_minutes)} min or "
            f"more at minimal pain ({k.minimal_pain}/10 or less) that is not worse "
            "the next morning. Build the duration with your physio/PT; " + _PLAN
        )
    return (
        f"Keep runs at minimal pain ({k.minimal_pain}/10 or less) and not worse "
        "the next morning; running duration, intensity and load are agreed with "
        "your physio/PT, and " + _PLAN + " The knee page closes once no pain has "
        f"been noted for {k.pain_window_days} days."
    )


#: The default texts (RULES §12 defaults), kept for readers of the old names.
NO_PAIN_REASON = no_pain_reason()
NEXT_STEP: dict[int, str] = {n: next_step(n) for n in (1, 2, 3)}


def clinician_text(k: KneeSettings = DEFAULT_KNEE) -> str:
    """'With pain of 5/10 or more, ... see a clinician first.' (RULES §12)."""
    return (
        f"With pain of {k.clinician_pain}/10 or more, swelling, locking, giving way "
        "or night pain, see a clinician first."
    )


CLINICIAN = clinician_text()
RED_FLAG_WORDS: tuple[str, ...] = (
    "swelling",
    "swollen",
    "locking",
    "locked",
    "giving way",
    "gave way",
    "night pain",
)

FOAM_ROLLING = "foam rolling before runs (soft tissue first, then stretching)"
WARM_UPS: tuple[str, ...] = (
    "knee hugs to calf raise",
    "figure-4 hip stretch",
    "lunge twist",
    "high knees",
    "glute kicks",
    "grapevine",
)
COOL_DOWN: tuple[str, ...] = (
    "physical therapists also recommend a dedicated cool-down after every run, "
    "e.g. easing down to a walk, then gentle stretching",
)
WOMEN_NOTE = (
    "the guide's physios put extra weight on the warm-up for women (context: "
    "kneecap pain is more common in women, Boling 2010)"
)

_PRE_RUN: dict[int, list[str]] = {
    1: [
        "a 10-15 min routine before any run or walk",
        "lower-limb foam rolling",
        "a trigger-point ball as tolerated",
        "joint mobilisations of the hips, ankles and spine",
        "muscle activation of the core, posterior chain, glutes/hips and calves "
        "(isometric at first)",
    ],
    2: [
        "the same 10-15 min routine: foam rolling, joint mobilisations",
        "muscle activation moving from isometric to dynamic",
    ],
    3: [
        "a 15-20 min routine before each run",
        "full-body foam rolling",
        "joint mobilisations",
        "dynamic activation",
        "the dynamic warm-up below",
        "form drills",
    ],
}
_LOAD: dict[int, list[str]] = {
    1: [
        "cross-training: swimming, cycling (not automatically easy on the knee) "
        "or the elliptical",
        "walking or walk/jog, durations agreed with your physio/PT",
    ],
    2: [
        "cross-training, including hiking",
        "walk/jog and jogging, durations agreed with your physio/PT",
    ],
    3: [
        "cross-training as needed",
        "running duration, intensity and load agreed with your physio/PT",
    ],
}


def strength_target(k: KneeSettings = DEFAULT_KNEE) -> str:
    """The strength target as words: '2-3 sessions a week' (RULES §12)."""
    lo, hi = k.strength_min_per_week, k.strength_max_per_week
    span = f"{lo}" if lo == hi else f"{lo}-{hi}"
    return f"{span} session{'' if span == '1' else 's'} a week"


def strength_advice(k: KneeSettings = DEFAULT_KNEE) -> str:
    """The routine's strength line with the configured target (RULES §12)."""
    return (
        "Combined hip and knee strengthening is the recommended treatment for "
        f"kneecap pain (Crossley 2016): aim for {strength_target(k)}."
    )


STRENGTH_TEXT = strength_advice()


def routine(
    stage: int | None, *, sex: str | None = None, knee: KneeSettings = DEFAULT_KNEE
) -> dict[str, list[str]]:
    """The routine of a stage: pre-run, warm-up, cool-down, load, strength (§12-13)."""
    warm = [FOAM_ROLLING, *WARM_UPS]
    if sex == "female":
        warm.append(WOMEN_NOTE)
    return {
        "pre_run": list(_PRE_RUN.get(stage or 0, [FOAM_ROLLING])),
        "warm_up": warm,
        "cool_down": list(COOL_DOWN),
        "load": list(_LOAD.get(stage or 0, [])),
        "strength": [strength_advice(knee)],
    }


def strength_text(sessions: int, k: KneeSettings = DEFAULT_KNEE) -> str:
    """E.g. 'Strength: 1 session in the last 7 days; ... 2-3 sessions a week.'"""
    word = "session" if sessions == 1 else "sessions"
    return (
        f"Strength: {sessions} {word} in the last 7 days. Combined hip and knee "
        "strengthening is the recommended treatment for kneecap pain (Crossley "
        f"2016): {strength_target(k)}."
    )


DESCRIPTIVE_CAVEAT = (
    "These are averages of your own notes, to talk over with your physio/PT; "
    "they do not show a cause and do not predict anything."
)


@dataclass(frozen=True)
class KneeAdvice:
    """Knee-aware taper advice for the latest noted pain (RULES §7, §8, §13)."""

    note: Note
    message: str
    race_week: bool = False
    evidence: tuple[Evidence, ...] = (ESCULIER_2018, COLLINS_2018, SEED_GUIDE)

    def to_json(self) -> dict[str, Any]:
        """``{"pain", "date", "race_week", "message", "evidence"}``."""
        return {
            "pain": self.note.score,
            "date": self.note.day.isoformat(),
            "race_week": self.race_week,
            "message": self.message,
            "evidence": [e.to_json() for e in self.evidence],
        }


def taper_advice(k: KneeSettings = DEFAULT_KNEE) -> str:
    """The §7 knee advice during a taper, with the configured 'minimal' pain."""
    return _TAPER_ADVICE.format(minimal=k.minimal_pain)


_TAPER_ADVICE = (
    "During a taper, cut volume and downhill running first, before cutting all "
    "intensity: short, controlled faster efforts on flat ground can stay if they "
    "are pain-free. Lower-impact options such as swimming, deep-water running, "
    "the elliptical or cycling can replace some runs; choose what is pain-free. "
    "A common clinical heuristic (not a validated rule) keeps running pain at or "
    "below {minimal}/10 and not worse the next day. If the pain persists, or with "
    "swelling, locking, giving way or night pain, see a clinician."
)
TAPER_ADVICE = taper_advice()
RACE_WEEK_ADVICE = (
    "In race week with knee pain, physical therapists recommend running about "
    "40-60% of your normal mileage, foam rolling and the dynamic warm-ups before "
    "each run (knee hugs to calf raise, figure-4 hip stretch, lunge twist, high "
    "knees, glute kicks, grapevine), and knee-friendlier options to keep moving: "
    "water running, swimming, cycling (not automatically easy on the knee: "
    "kneecap pain is common in cyclists too) and the elliptical."
)


def taper_advice_text(
    note: Note, *, race_week: bool, knee: KneeSettings = DEFAULT_KNEE
) -> str:
    """The taper advice for a pain note, with the race-week part in race week."""
    head = f"Knee pain noted ({note.score}/10 on {note.day.isoformat()})."
    parts = [head, taper_advice(knee)]
    if race_week:
        parts.append(RACE_WEEK_ADVICE)
    return " ".join(parts)


def minutes_text(minutes: float) -> str:
    """Whole minutes, rounded down: 14.9 min reads '14 min' (it is not 15)."""
    return f"{math.floor(minutes + 1e-9)} min"


#: The seed guide's words for each stage (RULES §12).
STAGE_WORDS: dict[int, str] = {
    1: "I have not been running, or I've been running a little bit with pain",
    2: "I can run for 15-20 min with minimal or manageable discomfort",
    3: "I can run 30+ min with minimal to no discomfort",
}
WHEN_WORDS: dict[str, str] = {
    "during": "during",
    "after": "after",
    "next-morning": "next morning",
    "rest": "at rest",
}


def pain_words(note: Note) -> str:
    """E.g. 'after 5/10 (left; stairs, downhill)' or the text of a text note."""
    if note.kind == "text":
        return f'"{note.text}"'
    text = f"{WHEN_WORDS.get(note.when or '', note.when or '')} {note.score}/10"
    extra = [note.side] if note.side else []
    if note.aggravated_by:
        extra.append(", ".join(note.aggravated_by))
    return text + (f" ({'; '.join(s for s in extra if s)})" if extra else "")
