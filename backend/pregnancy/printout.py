"""The printable card (A4 PDF) the woman downloads: the card in the PDF module's terms, Norwegian words for the
API's codes, and a small cache of rendered documents.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections import OrderedDict
from collections.abc import Sequence
from datetime import date

import msgspec

from backend.core.access import Grant
from backend.core.auth import CitizenPrincipal
from backend.pregnancy import pdf, view
from backend.pregnancy.dating import GestationalAge
from backend.pregnancy.rules import today
from backend.pregnancy.schedule import DueItem
from backend.pregnancy.schemas import EntryAuthor, HeaderOut, PregnancyCard

# Rendering costs a few hundred milliseconds of CPU and the output is deterministic, so a card unchanged since
# the last download (same content, same print date) is served from memory. The key is a digest of the content:
# only a caller who already has the content can address an entry.
_PDF_CACHE: OrderedDict[bytes, bytes] = OrderedDict()
PDF_CACHE_SIZE = 64
# reportlab holds the GIL: more parallel renders only slow each other down and starve the thread pool.
_RENDERING = asyncio.Semaphore(2)


async def card_pdf(me: Grant, card_id: uuid.UUID) -> bytes:
    card = await view.load(me, card_id)
    on = today()
    # The name is the one her login carries (the patient record holds none); without it the row prints empty.
    # Her own name only: a representative's login names the representative, not her.
    name = me.principal.name if isinstance(me.principal, CitizenPrincipal) and me.basis == "self" else None
    # The card's own schedule status: the next programme item, and the vaccines offered beside it (CLINICAL.md v1.1).
    sheet = printout(card, on, name=name, next_due=card.next_due, vaccines_offered=card.vaccines_due)
    key = hashlib.sha256(msgspec.json.encode(sheet)).digest()
    cached = _PDF_CACHE.get(key)
    if cached is not None:
        _PDF_CACHE.move_to_end(key)
        return cached
    async with _RENDERING:
        # CPU-bound: keep it off the event loop.
        document = await asyncio.to_thread(pdf.render_card_pdf, sheet)
    _PDF_CACHE[key] = document
    if len(_PDF_CACHE) > PDF_CACHE_SIZE:
        _PDF_CACHE.popitem(last=False)
    return document


ROLE_NB = {"JO": "jordmor", "LE": "lege", "SP": "sykepleier"}
PRESENTATION_NB = {"cephalic": "hode", "breech": "sete", "transverse": "tverr", "oblique": "skrå", "unknown": "ukjent"}
VACCINE_NB = {
    "whooping-cough": "Kikhoste",
    "influenza": "Influensa",
    "covid-19": "Covid-19",
    "anti-d": "Anti-D-profylakse",
    "other": "Annen",
}
MODE_NB = {"vaginal": "vaginal", "assisted-vaginal": "assistert vaginal", "caesarean": "keisersnitt"}


def _print_author(author: EntryAuthor) -> pdf.Author:
    return pdf.Author(
        name=author.name or f"HPR {author.hpr}",
        role=ROLE_NB.get(author.role, author.role),
        organisation=f"org.nr. {author.organisation}",
        hpr=author.hpr,
    )


def _extra_facts(header: HeaderOut) -> list[tuple[str, str]]:
    """What the birth ward needs from the header besides blood type, gravida/para, illnesses and lifestyle."""
    facts: list[tuple[str, str]] = []
    if header.allergies:
        facts.append(("CAVE / allergier", header.allergies))
    if header.medicines:
        facts.append(("Legemidler", header.medicines))
    if header.height_cm and header.pre_pregnancy_weight_kg:
        facts.append(
            (
                "Høyde / vekt før svangerskapet",
                f"{header.height_cm:g} cm / {header.pre_pregnancy_weight_kg:g} kg (KMI {header.bmi})",
            )
        )
    for label, contact in (("Fastlege", header.gp), ("Jordmor", header.midwife)):
        if contact is not None:
            facts.append(
                (label, ", ".join(part for part in (contact.name, contact.organisation, contact.phone) if part))
            )
    if header.planned_place_of_birth:
        facts.append(("Planlagt fødested", header.planned_place_of_birth))
    return facts


def printout(
    card: PregnancyCard,
    printed_on: date,
    *,
    name: str | None = None,
    next_due: DueItem | None = None,
    vaccines_offered: Sequence[DueItem] = (),
) -> pdf.CardPrintout:
    """The card as the PDF module wants it, with Norwegian words for the API's codes.

    `next_due` and `vaccines_offered` come from the card's schedule status (`nextDue`, `vaccinesDue`).
    """
    header = card.header
    age = card.gestational_age
    lifestyle = header.lifestyle
    return pdf.CardPrintout(
        printed_on=printed_on,
        name=name,
        due_date=card.due_date,
        due_date_source=card.due_date_source,
        last_menstrual_period=card.last_menstrual_period,
        gestational_age_today=GestationalAge(weeks=age.weeks, days=age.days) if age is not None else None,
        blood_type=header.blood_type,
        rhd=header.rhd,
        antibodies=header.antibodies,
        gravida=header.gravida,
        para=header.para,
        illnesses=[
            pdf.IllnessRow(name=illness.name, needs_extra_follow_up=illness.needs_extra_follow_up)
            for illness in header.illnesses
        ],
        lifestyle=(
            pdf.LifestyleFacts(
                folate=lifestyle.folate,
                tobacco=lifestyle.tobacco,
                snus=lifestyle.snus,
                alcohol=lifestyle.alcohol,
                other_substances=lifestyle.other_substances,
            )
            if lifestyle is not None
            else None
        ),
        tests=[
            pdf.TestRow(test=t.test, taken_on=t.taken_on, value=t.value, unit=t.unit, result=t.result, note=t.note)
            for t in card.tests
        ],
        earlier_pregnancies=[
            pdf.EarlierPregnancy(
                year=p.year,
                week=p.week,
                birth_weight_g=p.birth_weight_g,
                mode="spontanabort" if p.kind == "miscarriage" else MODE_NB.get(p.mode or "", p.mode),
                complications=p.complications,
            )
            for p in card.earlier_pregnancies
        ],
        consultations=[
            pdf.ConsultationRow(
                date=c.date,
                gestational_age=GestationalAge(weeks=c.gestational_age.weeks, days=c.gestational_age.days),
                author=_print_author(c.author),
                weight_kg=c.weight_kg,
                systolic=c.systolic,
                diastolic=c.diastolic,
                urine_protein=c.urine_protein,
                urine_glucose=c.urine_glucose,
                hb=c.hb,
                sf_cm=c.sf_cm,
                fetal_heart=c.fetal_heart,
                presentation=PRESENTATION_NB.get(c.presentation or "", c.presentation),
                fetal_movements=c.fetal_movements,
                oedema=c.oedema,
                note=c.note,
            )
            for c in card.consultations
        ],
        ultrasounds=[
            pdf.UltrasoundRow(
                date=u.date,
                gestational_age=(
                    GestationalAge(weeks=u.gestational_age.weeks, days=u.gestational_age.days)
                    if u.gestational_age is not None
                    else None
                ),
                due_date=u.due_date,
                fetuses=u.fetuses,
                placenta=u.placenta,
                findings=u.findings,
            )
            for u in card.ultrasounds
        ],
        vaccines=[
            pdf.VaccineRow(name=VACCINE_NB.get(v.vaccine, v.vaccine), given_on=v.given_on, note=v.note)
            for v in card.vaccines
        ],
        self_registrations=[
            pdf.SelfRegistrationRow(
                gestational_age=GestationalAge(weeks=r.gestational_age.weeks, days=r.gestational_age.days),
                weight_kg=r.weight_kg,
                systolic=r.systolic,
                diastolic=r.diastolic,
            )
            for r in card.self_registrations
            if r.gestational_age is not None
        ],
        next_due=next_due,
        vaccines_offered=list(vaccines_offered),
        extra_facts=_extra_facts(header),
    )
