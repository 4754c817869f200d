"""Prescribing rights on the medication list by HPR authorization: LE everything, JO a configured ATC list, others read."""

from __future__ import annotations

from typing import Literal

from backend.settings import Settings

Rights = Literal["all", "listed", "none"]

# Midwives' (jordmødre) prescribing, as groups of ATC codes; HELSEKORT_JO_ATC_PREFIXES replaces the list.
DEFAULT_JO_ATC_PREFIXES: tuple[str, ...] = (
    "G03A",  # hormonal contraceptives
    "G02B",  # intrauterine and vaginal contraceptives
    "J07",  # vaccines (pertussis, influenza in pregnancy)
    "J06BB01",  # anti-D immunoglobulin
    "B03A",  # iron
    "B03B",  # folic acid and vitamin B12
    "A11",  # vitamins
    "A12",  # mineral supplements (calcium, iodine)
    "G01A",  # vaginal anti-infectives (candida)
    "R06AE",  # antihistamine antiemetics (meclizine) for nausea in pregnancy
    "A03FA",  # metoclopramide for nausea in pregnancy
)


def rights_of(authorization: str) -> Rights:
    if authorization == "LE":
        return "all"
    if authorization == "JO":
        return "listed"
    return "none"


def jo_prefixes(settings: Settings) -> tuple[str, ...]:
    return settings.jo_atc_prefixes if settings.jo_atc_prefixes is not None else DEFAULT_JO_ATC_PREFIXES
