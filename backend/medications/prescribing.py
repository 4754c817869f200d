"""Prescribing rights on the medication list by HPR authorization: LE everything, JO a configured ATC list, others read.

The midwives' (JO, jordmor) default list follows their right to prescribe (rekvireringsrett): forskrift om
rekvirering og utlevering av legemidler fra apotek (1998) § 2-5, whose midwives' right is carried on in § 7-1 of
forskrift om rekvirering og utlevering av legemidler m.m. (in force 16 September 2022) — hormonal contraception
and the vaccines recommended to pregnant women — plus the non-prescription medicines of normal pregnancy care,
which need no rekvireringsrett but are recorded on the shared list by the midwife who follows the pregnancy.

Each entry names a group only when every medicine in it lies inside the right (G03A, G02B: all contraceptives);
otherwise it names the substances (never all of J07, which holds yellow fever, rabies and live vaccines).
HELSEKORT_JO_ATC_PREFIXES replaces the whole list; settings refuse a level 1 or 2 group there (`J07`, `B03`),
but a configured level 3 or 4 group is taken as given, so name substances when a group is wider than the right.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from backend.core.access import Role
from backend.core.auth import AUTHORIZATIONS
from backend.core.settings import Settings

Rights = Literal["all", "listed", "none"]

# The sources each default cites.
CONTRACEPTION = (
    "rekvireringsrett § 2-5 (1998) / § 7-1 (2022); Helsedirektoratet's circular of 2016 on the extended right of"
    " helsesøstre and jordmødre: all contraceptives in ATC G02B and G03A"
)
PREGNANCY_VACCINES = (
    "§ 7-1 as amended by the Ministry of Health in 2024 for maternal pertussis vaccination (from 2 May 2024):"
    " midwives may prescribe the vaccines recommended to pregnant women in the national programme"
)
ANTENATAL_CARE = (
    "Helsedirektoratet, national guideline for antenatal care (svangerskapsomsorgen): folic acid, iron by"
    " Hb/ferritin, vitamin D; non-prescription in Norway"
)
NAUSEA = (
    "Norsk gynekologisk forening, Veileder i fødselshjelp (hyperemesis gravidarum): meclozine is the first choice"
    " for nausea in pregnancy; non-prescription in Norway"
)


@dataclass(frozen=True, slots=True)
class ListedMedicine:
    """One ATC code or group on the midwives' list, with what it is and the source that puts it there."""

    atc: str
    what: str
    source: str


DEFAULT_JO_LIST: tuple[ListedMedicine, ...] = (
    ListedMedicine("G03A", "hormonal contraceptives for systemic use (pill, patch, implant, emergency)", CONTRACEPTION),
    ListedMedicine("G02B", "contraceptives for topical use (hormonal IUD, vaginal ring)", CONTRACEPTION),
    ListedMedicine(
        "J07AJ52", "pertussis vaccine with diphtheria and tetanus toxoids (dTap), week 24", PREGNANCY_VACCINES
    ),
    ListedMedicine("J07CA02", "pertussis vaccine as dTap with poliomyelitis (dTap-IPV)", PREGNANCY_VACCINES),
    # Not J07BB: the live attenuated influenza vaccine (J07BB03) must not be given in pregnancy.
    ListedMedicine("J07BB02", "influenza vaccine, inactivated (split virus or surface antigen)", PREGNANCY_VACCINES),
    ListedMedicine("B03BB01", "folic acid", ANTENATAL_CARE),
    # Oral iron only: parenteral iron (B03AC) is a doctor's decision.
    ListedMedicine("B03AA", "iron, bivalent, oral", ANTENATAL_CARE),
    ListedMedicine("B03AB", "iron, trivalent, oral", ANTENATAL_CARE),
    ListedMedicine("B03AD", "iron in combination with folic acid", ANTENATAL_CARE),
    ListedMedicine("A11CC05", "colecalciferol (vitamin D3)", ANTENATAL_CARE),
    ListedMedicine("R06AE05", "meclozine, for nausea in pregnancy", NAUSEA),
)
# Left out on purpose (tests/medications/test_midwives_list.py holds each to its source):
# - J06BB01 anti-D immunoglobulin: Helsedirektoratet 2016, midwives may not prescribe RhD prophylaxis;
# - A03FA metoclopramide: prescription-only, a second-line antiemetic outside § 7-1.

DEFAULT_JO_ATC_PREFIXES: tuple[str, ...] = tuple(listed.atc for listed in DEFAULT_JO_LIST)


def rights_of(authorization: str) -> Rights:
    if authorization == "LE":
        return "all"
    if authorization == "JO":
        return "listed"
    return "none"


# Who may change the list and prescribe, by HPR authorization: LE everything, JO her list, others read (403).
PRESCRIBER = Role(
    "only doctors (LE) and, within the midwives' list, midwives (JO) may change the medication list or prescribe",
    authorizations=frozenset(a for a in AUTHORIZATIONS if rights_of(a) != "none"),
)


def jo_prefixes(settings: Settings) -> tuple[str, ...]:
    return settings.jo_atc_prefixes if settings.jo_atc_prefixes is not None else DEFAULT_JO_ATC_PREFIXES
