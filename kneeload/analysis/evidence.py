"""The flag shape every rule returns, and the citations behind each rule (RULES §11).

Grades (RULES §0): A prospective data in runners; B lab/biomechanical or other
sports; C heuristic or convention; Contested an active published dispute.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from typing import Any

SEVERITIES: tuple[str, ...] = ("info", "caution", "warning")


@dataclass(frozen=True)
class Evidence:
    """One citation and its evidence grade."""

    citation: str
    grade: str

    def to_json(self) -> dict[str, str]:
        """``{"citation", "grade"}`` as in INTERFACE.md."""
        return {"citation": self.citation, "grade": self.grade}


@dataclass(frozen=True)
class Flag:
    """One rule that fired: what, how strongly, on which day, and why.

    ``context`` holds extra sentences about the same flag from outside the rule
    (e.g. "you also started running in NAME on DATE"), added through the
    registry's context hooks (:func:`kneeload.analysis.registry.add_context`);
    renderers print them after the message and JSON carries them as ``context``.
    """

    rule: str
    severity: str  # "info" | "caution" | "warning"
    date: date
    value: float | None
    threshold: float | None
    message: str
    evidence: list[Evidence] = field(default_factory=list)
    context: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The flag object of INTERFACE.md."""
        return {
            "rule": self.rule,
            "severity": self.severity,
            "date": self.date.isoformat(),
            "value": _num(self.value),
            "threshold": _num(self.threshold),
            "message": self.message,
            "evidence": [e.to_json() for e in self.evidence],
            "context": list(self.context),
        }


def _num(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), 4)


FRANDSEN_2025 = Evidence(
    "Frandsen et al. 2025, How much running is too much? 5200-person cohort, "
    "BJSM 59:1203-1210, doi:10.1136/bjsports-2024-109380",
    "A",
)
NIELSEN_2014 = Evidence(
    "Nielsen et al. 2014, Excessive progression in weekly running distance "
    "(874 novice runners), JOSPT 44:739-747",
    "A",
)
DAMSTED_2019 = Evidence(
    "Damsted et al. 2019, Changes in weekly running distance and injury "
    "(261 half-marathoners), JOSPT 49:230-238",
    "A",
)
BUIST_2008 = Evidence(
    "Buist et al. 2008, No effect of a graded training program (RCT, 532 novices), "
    "AJSM 36:33-39, doi:10.1177/0363546507307505",
    "A",
)
GABBETT_2016 = Evidence(
    "Gabbett 2016, The training-injury prevention paradox (team sports), "
    "BJSM 50:273-280, doi:10.1136/bjsports-2015-095788",
    "Contested",
)
IMPELLIZZERI_2020 = Evidence(
    "Impellizzeri et al. 2020, Training load and its role in injury prevention, "
    "J Athl Train 55:885-901, doi:10.4085/1062-6050-500-19",
    "Contested",
)
NAKAOKA_2021 = Evidence(
    "Nakaoka et al. 2021, ACWR and running-related injuries in Dutch runners, "
    "Sports Med 51:2437-2447, doi:10.1007/s40279-021-01483-0",
    "Contested",
)
RAMSKOV_2018 = Evidence(
    "Ramskov et al. 2018, Run Clever RCT (447 runners), BMJ Open SEM 4:e000333", "C"
)
FREDETTE_2022 = Evidence(
    "Fredette et al. 2022, Running injuries and training parameters: systematic "
    "review, J Athl Train 57:650-671, doi:10.4085/1062-6050-0195.21",
    "C",
)
FOSTER_1998 = Evidence(
    "Foster 1998, Monitoring training in athletes with reference to overtraining "
    "syndrome, MSSE 30:1164-1168",
    "C",
)
HEIDERSCHEIT_2011 = Evidence(
    "Heiderscheit et al. 2011, Effects of step rate manipulation on joint mechanics "
    "(45 healthy runners), MSSE 43:296-302, doi:10.1249/MSS.0b013e3181ebedf4",
    "B",
)
LENHART_2014 = Evidence(
    "Lenhart et al. 2014, Increasing running step rate reduces patellofemoral "
    "joint forces, MSSE 46:557-564, doi:10.1249/MSS.0b013e3182a78c3a",
    "B",
)
BRAMAH_2019 = Evidence(
    "Bramah et al. 2019, A 10% increase in step rate improves running kinematics "
    "and clinical outcomes in runners with PFP, AJSM 47:3406-3413",
    "B",
)
ANDERSON_2022 = Evidence(
    "Anderson et al. 2022, Changing running step rate: systematic review, "
    "Sports Med Open, doi:10.1186/s40798-022-00504-0",
    "B",
)
VAN_OEVEREN_2017 = Evidence(
    "van Oeveren et al. 2017, Optimal stride frequencies at different speeds, "
    "PLoS One 12:e0184273",
    "C",
)
WILLSON_2014 = Evidence(
    "Willson et al. 2014, Effects of step length on patellofemoral joint stress, "
    "Clin Biomech 29:243-247",
    "B",
)
SHIH_HO_2023 = Evidence(
    "Shih & Ho 2023, Support moment in sloped running, JSSM 22:111-116, "
    "doi:10.52082/jssm.2023.111",
    "B",
)
ESCULIER_2016 = Evidence(
    "Esculier et al. 2016, protocol (clinical observation of PFP onset), "
    "BMC Musculoskelet Disord 17:5",
    "C",
)

ACWR_TOOLTIP = (
    "ACWR compares your last 7 days with your usual load. The 0.8-1.3 'sweet "
    "spot' and >1.5 band come from team-sport studies; large studies of runners "
    "did not find that high ACWR predicts injury, and the method is disputed. "
    "Read it as how fast your load changed, not as a risk score."
)
