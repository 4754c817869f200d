"""The printable card: three A4 pages in Norwegian, readable back as text, with no identifiers in metadata."""

from __future__ import annotations

import io
from datetime import date, timedelta
from typing import Any

import msgspec
import pypdf

from backend.pregnancy.dating import gestational_age_on, naegele_due_date
from backend.pregnancy.pdf import (
    Author,
    CardPrintout,
    ConsultationRow,
    EarlierPregnancy,
    UltrasoundRow,
    VaccineRow,
    render_card_pdf,
)
from backend.pregnancy.schedule import DueItem

LMP = date(2024, 2, 29)
DUE = naegele_due_date(LMP)
NAME = "Åse Ødegård Bækken"
MIDWIFE = Author(name="Kari Jordmor", role="jordmor", organisation="Bærum kommune", hpr="9144889")
FIFTEEN_WEEKS = [8, 12, 16, 20, 24, 26, 28, 30, 32, 34, 36, 37, 38, 39, 40]


def consultation(week: int, days: int = 2, **overrides: Any) -> ConsultationRow:
    on = LMP + timedelta(days=week * 7 + days)
    fields: dict[str, Any] = {
        "date": on,
        "gestational_age": gestational_age_on(DUE, on),
        "author": MIDWIFE,
        "weight_kg": 62.0 + week * 0.35,
        "systolic": 110 + week // 3,
        "diastolic": 70 + week // 4,
        "urine_protein": "neg",
        "urine_glucose": "neg",
        "hb": 12.1,
        "sf_cm": float(week - 1) if week >= 24 else None,
        "fetal_heart": True,
        "presentation": "hode" if week >= 32 else None,
        "fetal_movements": week >= 20,
        "oedema": False,
        "note": "Føler seg bra, lite kvalme",
    } | overrides
    return ConsultationRow(**fields)


def card(**overrides: Any) -> CardPrintout:
    fields: dict[str, Any] = {
        "printed_on": date(2024, 9, 1),
        "due_date": DUE,
        "due_date_source": "ultrasound",
        "name": NAME,
        "last_menstrual_period": LMP,
        "gestational_age_today": gestational_age_on(DUE, date(2024, 9, 1)),
        "blood_type": "0",
        "rhd": "negative",
        "antibodies": "Ingen",
        "gravida": 2,
        "para": 1,
        "earlier_pregnancies": [EarlierPregnancy(year=2021, week=40, birth_weight_g=3550, mode="vaginal")],
        "consultations": [consultation(week) for week in FIFTEEN_WEEKS],
        "ultrasounds": [UltrasoundRow(date=date(2024, 7, 4), due_date=DUE, fetuses=1, placenta="fremre vegg")],
        "vaccines": [VaccineRow(name="Kikhoste", given_on=date(2024, 8, 17))],
        "next_due": DueItem(
            key="consultation-28",
            label_nb="Konsultasjon uke 28",
            label_en="Consultation week 28",
            starts_on=date(2024, 9, 12),
            ends_on=date(2024, 9, 18),
        ),
    } | overrides
    return CardPrintout(**fields)


def read(pdf: bytes) -> pypdf.PdfReader:
    return pypdf.PdfReader(io.BytesIO(pdf))


def page_texts(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in read(pdf).pages]


def test_full_card_is_three_a4_pages() -> None:
    reader = read(render_card_pdf(card()))
    assert len(reader.pages) == 3
    for page in reader.pages:
        assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (595, 842)


def test_first_page_has_the_header_facts_and_the_next_consultation() -> None:
    first = page_texts(render_card_pdf(card()))[0]
    for expected in (
        "Helsekort for gravide",
        "Termin",
        "05.12.2024 (etter ultralyd)",
        "Svangerskapsuke i dag",
        "26+3",
        "0 RhD negativ",
        "G2 P1",
        "Neste konsultasjon",
        "Konsultasjon uke 28: 12.09.2024\N{EN DASH}18.09.2024",
        "Tidligere svangerskap",
        "Ultralyd",
        "Kikhoste",
    ):
        assert expected in first


def test_norwegian_letters_survive_into_the_text() -> None:
    texts = page_texts(render_card_pdf(card()))
    assert NAME in texts[0]
    assert "Føler seg bra, lite kvalme" in texts[1]
    assert "Bærum" in texts[1]


def test_second_page_is_the_consultation_table() -> None:
    second = page_texts(render_card_pdf(card()))[1]
    for label in ("Konsultasjoner", "Dato", "Vekt", "Blodtrykk", "Hb", "Ødem", "Merknad", "Signatur"):
        assert label in second
    assert "17.08.2024" in second  # the week-24 consultation
    assert "24+2" in second
    assert "118/76" in second
    assert "70,4" in second  # decimal comma


def test_third_page_has_the_three_curves_with_axis_labels() -> None:
    third = page_texts(render_card_pdf(card()))[2]
    for label in ("Kurver", "Symfyse-fundusmål", "Vekt", "Blodtrykk", "Systolisk", "Diastolisk", "Svangerskapsuke"):
        assert label in third
    assert third.count("Svangerskapsuke") == 3
    assert "Ingen målinger ennå" not in third


def test_title_is_set_and_metadata_names_no_patient() -> None:
    metadata = read(render_card_pdf(card())).metadata
    assert metadata is not None
    assert metadata.title == "Helsekort for gravide"
    values = " ".join(str(value) for value in metadata.values())
    assert "Ødegård" not in values
    assert "Bækken" not in values
    assert "9144889" not in values


def test_empty_card_still_prints_three_pages_and_says_no_measurements_yet() -> None:
    texts = page_texts(
        render_card_pdf(
            card(consultations=[], ultrasounds=[], vaccines=[], earlier_pregnancies=[], next_due=None, name=None)
        )
    )
    assert len(texts) == 3
    assert "Ingen planlagte konsultasjoner" in texts[0]
    assert "Ingen registrert" in texts[0]
    assert "Ingen konsultasjoner ennå" in texts[1]
    assert texts[2].count("Ingen målinger ennå") == 3


def test_curves_cope_with_single_and_partial_series() -> None:
    only = consultation(30, weight_kg=None, diastolic=None, sf_cm=29.5)
    texts = page_texts(render_card_pdf(card(consultations=[only])))
    assert len(texts) == 3
    assert texts[2].count("Ingen målinger ennå") == 1  # weight only
    assert "Systolisk" not in texts[2]  # no legend for a single series


def test_values_outside_the_usual_axes_do_not_break_the_curves() -> None:
    early_sf = consultation(12, sf_cm=11.0)
    overdue = consultation(42, days=3, sf_cm=44.0, weight_kg=130.5, systolic=185, diastolic=125)
    texts = page_texts(render_card_pdf(card(consultations=[early_sf, overdue])))
    assert len(texts) == 3
    assert "44" in texts[2]


def test_long_table_repeats_its_header_row_on_each_page() -> None:
    many = [consultation(8 + index // 7, days=index % 7) for index in range(60)]
    texts = page_texts(render_card_pdf(card(consultations=many)))
    assert len(texts) > 3
    table_pages = texts[1:-1]
    assert len(table_pages) >= 2
    for text in table_pages:
        assert "Merknad" in text
        assert "Signatur" in text
    assert "Kurver" in texts[-1]


def test_markup_in_free_text_is_printed_literally() -> None:
    note = "Sjekk <b>BT</b> & urin <script>"
    second = page_texts(render_card_pdf(card(consultations=[consultation(24, note=note)])))[1]
    # The narrow column wraps the note, so compare it without line breaks.
    assert "Sjekk <b>BT</b> & urin <script>" in " ".join(second.split())


def test_same_card_gives_the_same_bytes() -> None:
    assert render_card_pdf(card()) == render_card_pdf(card())


def test_printout_can_be_built_from_camel_case_json() -> None:
    printout = card()
    decoded = msgspec.json.decode(msgspec.json.encode(printout), type=CardPrintout)
    assert decoded == printout
    assert b'"dueDateSource":"ultrasound"' in msgspec.json.encode(printout)
