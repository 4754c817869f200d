"""The printable card: three A4 pages in Norwegian, readable back as text, with no identifiers in metadata.

Issue 14: the card embeds a font with every nb, nn and Northern Sámi letter, prints the first-trimester tests,
illnesses, lifestyle and the woman's name, names a programme item (never a vaccine) as the next consultation,
and draws a reference band beside the SF curve, which starts at week 24 (CLINICAL.md v1.1).
"""

from __future__ import annotations

import functools
import io
import re
from datetime import date, timedelta
from typing import Any

import httpx
import msgspec
import pypdf
import pytest
from litestar import Litestar
from reportlab.graphics.shapes import Circle, Drawing, Polygon
from reportlab.lib import colors
from reportlab.pdfbase.ttfonts import TTFontFile

from backend.core.demo import DEMO_FNR
from backend.demo import load_core_demo
from backend.pregnancy import pdf, service
from backend.pregnancy.dating import gestational_age_on, naegele_due_date
from backend.pregnancy.demo import load_pregnancy_demo
from backend.pregnancy.pdf import (
    Author,
    CardPrintout,
    ConsultationRow,
    CurvePoint,
    EarlierPregnancy,
    IllnessRow,
    LifestyleFacts,
    TestRow,
    UltrasoundRow,
    VaccineRow,
    render_card_pdf,
)
from backend.pregnancy.schedule import DueItem, default_schedule
from backend.settings import Settings
from tests.factories import citizen_token
from tests.pregnancy.cards import add_consultation, card_path, create_card, lmp_for_week, on_week, team, today

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


# --- issue 14: font, first-trimester tests, illnesses, lifestyle, name, next consultation, SF band ---------

SAMI_NAME = "Áŋŋá Čáhppe"
SAMI_NOTE = "Đ ŧ: Áŋŋá muitala ahte buot lea buorre"
# Every letter of the Northern Sámi alphabet beyond a–z, and the letters nb and nn add (with their accents).
SAMI_LETTERS = "ÁáČčĐđŊŋŠšŦŧŽž"
NORWEGIAN_LETTERS = "ÆØÅæøåÉéÈèÊêÓóÒòÔôÜüÀà"
TAKEN = LMP + timedelta(days=8 * 7 + 2)


def every_test() -> list[TestRow]:
    return [
        TestRow(test="hb", taken_on=TAKEN, value=12.8, unit="g/dL"),
        TestRow(test="ferritin", taken_on=TAKEN, value=42, unit="ug/L"),
        TestRow(test="hepatitis-b", taken_on=TAKEN, result="negative"),
        TestRow(test="hiv", taken_on=TAKEN, result="negative"),
        TestRow(test="syphilis", taken_on=TAKEN, result="positive", note="Kontrollprøve bestilt"),
        TestRow(test="rubella", taken_on=TAKEN, result="not-immune"),
        TestRow(test="hba1c", taken_on=TAKEN, value=38, unit="mmol/mol"),
        TestRow(test="fetal-rhd", taken_on=LMP + timedelta(days=24 * 7 + 1), result="rhd-positive"),
        TestRow(test="antibody-screening", taken_on=LMP + timedelta(days=24 * 7 + 1), result="negative"),
        TestRow(test="glucose-tolerance", taken_on=LMP + timedelta(days=26 * 7), value=7.1, unit="mmol/L"),
    ]


def full_card(**overrides: Any) -> CardPrintout:
    """A card with every section filled, the Sámi name and a Sámi note."""
    fields: dict[str, Any] = {
        "name": SAMI_NAME,
        "tests": every_test(),
        "illnesses": [IllnessRow(name="Hypotyreose", needs_extra_follow_up=True), IllnessRow(name="Astma")],
        "lifestyle": LifestyleFacts(folate=True, tobacco="never", snus="stopped", alcohol="stopped"),
        "consultations": [consultation(week) for week in FIFTEEN_WEEKS[:-1]] + [consultation(40, note=SAMI_NOTE)],
        "vaccines_offered": [
            DueItem(
                key="influenza-vaccine",
                label_nb="Influensavaksine",
                label_en="Influenza vaccine",
                starts_on=date(2024, 6, 1),
                ends_on=DUE,
            )
        ],
        "extra_facts": [("CAVE / allergier", "Penicillin"), ("Planlagt fødested", "UNN Tromsø")],
    } | overrides
    return card(**fields)


def font_characters(font: str) -> set[str]:
    return {chr(code) for code in TTFontFile(pdf.font_path(font)).charToGlyph}


@functools.cache
def full_card_texts() -> tuple[str, ...]:
    return tuple(page_texts(render_card_pdf(full_card())))


def test_the_embedded_font_has_every_character_the_card_can_print() -> None:
    """The regular and bold faces cover every label, code word, schedule label and Sámi letter (the demo
    card's text is checked through the API in test_the_demo_card_prints_whole_in_the_embedded_font)."""
    printed = " ".join(full_card_texts())
    printed += " ".join(page_texts(render_card_pdf(card(consultations=[], next_due=None, name=None))))
    words = [
        *pdf.TEST_NB.values(),
        *pdf.RESULT_NB.values(),
        *pdf.UNIT_NB.values(),
        *pdf.HABIT_NB.values(),
        pdf.SF_REFERENCE_NOTE,
        pdf.SELF_REGISTERED_NOTE,
        *service.ROLE_NB.values(),
        *service.PRESENTATION_NB.values(),
        *service.VACCINE_NB.values(),
        *service.MODE_NB.values(),
        *(label for item in default_schedule() for label in (item.label_nb, item.label_en)),
        SAMI_LETTERS,
        NORWEGIAN_LETTERS,
        SAMI_NAME,
        SAMI_NOTE,
    ]
    needed = {character for text in [printed, *words] for character in text if not character.isspace()}
    assert set(SAMI_LETTERS) <= needed
    for font in (pdf.FONT, pdf.FONT_BOLD):
        assert needed - font_characters(font) == set(), font


def test_sami_name_and_note_come_back_exactly_from_the_pdf() -> None:
    texts = full_card_texts()
    assert SAMI_NAME in texts[0]
    assert "Navn" in texts[0]
    second = " ".join(texts[1].split())
    assert SAMI_NOTE in second
    # The base-14 fonts printed these as black boxes (U+25A0): nothing may be replaced.
    assert "\N{BLACK SQUARE}" not in "".join(texts)


def test_every_text_is_shown_in_the_embedded_subset_font() -> None:
    """No text falls back to a base-14 font (which has no Sámi letters); the font is a subset, not the whole file."""
    document = render_card_pdf(full_card())
    shown: set[str] = set()
    for page in read(document).pages:
        fonts = {name: str(font["/BaseFont"]) for name, font in page["/Resources"]["/Font"].items()}  # type: ignore[index]
        content = page.get_contents().get_data().decode("latin-1")  # type: ignore[union-attr]
        for block in re.findall(r"BT(.*?)ET", content, flags=re.DOTALL):
            if re.search(r"T[jJ]", block):
                shown.update(fonts["/" + name] for name in re.findall(r"/(\S+) [\d.]+ Tf", block))
    assert shown == {"/AAAAAA+SourceSansPro-Regular", "/AAAAAA+SourceSansPro-Bold"}
    # Subsetting keeps the file small: the two font files alone are ~585 KB.
    assert len(document) < 80_000


def flat(text: str) -> str:
    """The page's text on one line: pypdf gives each table cell a line of its own."""
    return " ".join(text.split())


def test_first_trimester_tests_print_with_norwegian_results_and_units() -> None:
    first = flat(full_card_texts()[0])
    assert "Prøver i første trimester" in first
    for expected in (
        "Hb 27.04.2024 8+2 12,8 g/dL",
        "Ferritin 27.04.2024 8+2 42 µg/L",
        "Hepatitt B (HBsAg) 27.04.2024 8+2 negativ",
        "Hiv 27.04.2024 8+2 negativ",
        "Syfilis 27.04.2024 8+2 positiv Kontrollprøve bestilt",
        "Rubella (ved indikasjon) 27.04.2024 8+2 ikke immun",
        "HbA1c (ved indikasjon) 27.04.2024 8+2 38 mmol/mol",
    ):
        assert expected in first, expected
    assert "Andre prøver Prøve Dato Uke Resultat Merknad Føtal RhD 16.08.2024 24+1 fosteret RhD positivt" in first
    assert "Antistoffscreening 16.08.2024 24+1 negativ" in first
    assert "Glukosebelastning (2 t) 29.08.2024 26+0 7,1 mmol/L" in first


def test_the_five_routine_tests_have_rows_even_before_they_are_taken() -> None:
    first = page_texts(render_card_pdf(card(tests=[])))[0]
    lines = first.splitlines()
    for name in ("Hb", "Ferritin", "Hepatitt B (HBsAg)", "Hiv", "Syfilis"):
        assert name in lines, name
    # On indication only: no empty row for rubella or HbA1c, and no "other tests" section at all.
    assert "Rubella" not in first
    assert "HbA1c" not in first
    assert "Andre prøver" not in first


def test_illnesses_with_extra_follow_up_and_lifestyle_are_on_the_first_page() -> None:
    first = flat(full_card_texts()[0])
    assert "Sykdommer Hypotyreose (trenger ekstra oppfølging); Astma" in first
    assert "Levevaner Folattilskudd: ja; Tobakk: aldri; Snus: sluttet; Alkohol: sluttet" in first
    assert "Andre rusmidler" not in first  # not recorded, so not claimed


def test_the_name_row_is_printed_empty_when_the_login_gives_no_name() -> None:
    first = flat(page_texts(render_card_pdf(card(name=None)))[0])
    assert "Helsekort for gravide Navn Termin 05.12.2024" in first


def test_vaccines_offered_are_listed_beside_the_next_consultation() -> None:
    first = flat(full_card_texts()[0])
    assert "Neste konsultasjon Konsultasjon uke 28: 12.09.2024\N{EN DASH}18.09.2024" in first
    assert "Vaksiner som tilbys nå: Influensavaksine (fra 01.06.2024)" in first


def test_the_full_card_still_fits_its_header_on_the_first_page() -> None:
    texts = full_card_texts()
    assert len(texts) == 3
    assert "Vaksiner" in texts[0]
    assert "Kikhoste" in texts[0]


def _drawn(drawing: Drawing, kind: type) -> list[Any]:
    return [shape for shape in drawing.contents if isinstance(shape, kind)]


def test_sf_curve_has_the_reference_band_for_weeks_24_to_36_behind_the_points() -> None:
    """CLINICAL.md v1.1: the PDF shows the reference band beside the SF curve."""
    points = [CurvePoint(24.3, 24.0), CurvePoint(30.1, 30.5), CurvePoint(38.0, 35.0)]
    drawing = pdf._curve(
        "SF",
        y_label="cm",
        series=[pdf.Series("SF", colors.darkblue, points)],
        x_range=(24, 42),
        y_step=5,
        y_range=(20, 45),
        band=pdf.SF_REFERENCE_BAND,
        band_note=pdf.SF_REFERENCE_NOTE,
    )
    (band,) = _drawn(drawing, Polygon)
    xs, ys = band.points[0::2], band.points[1::2]
    plot = next(shape for shape in drawing.contents if type(shape).__name__ == "LinePlot")
    per_week = plot.width / (42 - 24)
    per_cm = plot.height / (45 - 20)
    assert min(xs) == pytest.approx(plot.x)  # week 24
    assert max(xs) == pytest.approx(plot.x + 12 * per_week)  # week 36
    assert min(ys) == pytest.approx(plot.y + (22 - 20) * per_cm)  # 24 − 2 cm
    assert max(ys) == pytest.approx(plot.y + (38 - 20) * per_cm)  # 36 + 2 cm
    # Drawn first, so the woman's points lie on top of it.
    assert drawing.contents.index(band) < drawing.contents.index(plot)


def test_sf_band_and_its_note_are_on_the_curves_page() -> None:
    third = page_texts(render_card_pdf(card()))[2]
    assert "veiledende område uke ± 2 cm (uke 24–36)" in " ".join(third.split())


def test_sf_before_week_24_is_left_off_the_curve() -> None:
    """CLINICAL.md v1.1: SF is plotted from week 24; an earlier value stays in the table only."""
    early = consultation(22, sf_cm=21.0)
    texts = page_texts(render_card_pdf(card(consultations=[early])))
    assert "21" in texts[1]
    assert texts[2].count("Ingen målinger ennå") == 1  # the SF curve; weight and BP have their points


def test_self_registered_points_are_open_circles_without_a_line() -> None:
    clinician = [CurvePoint(20.0, 70.0), CurvePoint(24.0, 72.0)]
    own = [CurvePoint(21.0, 70.5, "self"), CurvePoint(22.5, 71.2, "self")]
    drawing = pdf._curve(
        "Vekt",
        y_label="kg",
        series=[pdf.Series("Vekt", colors.darkgreen, [*clinician, *own])],
        x_range=(0, 42),
        y_step=5,
    )
    circles = _drawn(drawing, Circle)
    assert len(circles) == 2
    assert all(circle.fillColor == colors.white for circle in circles)
    plot = next(shape for shape in drawing.contents if type(shape).__name__ == "LinePlot")
    assert plot.data == [[(20.0, 70.0), (24.0, 72.0)]]  # the line joins the clinicians' points only
    notes = [shape.text for shape in drawing.contents if hasattr(shape, "text")]
    assert pdf.SELF_REGISTERED_NOTE in notes


def test_a_curve_of_only_self_registered_points_still_has_axes() -> None:
    own = [CurvePoint(21.0, 70.5, "self"), CurvePoint(22.5, 71.2, "self")]
    drawing = pdf._curve(
        "Vekt", y_label="kg", series=[pdf.Series("Vekt", colors.darkgreen, own)], x_range=(0, 42), y_step=5
    )
    assert len(_drawn(drawing, Circle)) == 2
    assert any(type(shape).__name__ == "LinePlot" for shape in drawing.contents)


# --- through the API: the woman downloads her card -------------------------------------------------------


async def download(client: httpx.AsyncClient, headers: dict[str, str], card_id: str) -> list[str]:
    response = await client.get(f"/citizen/v1/me/pregnancies/{card_id}/card.pdf", headers=headers)
    assert response.status_code == 200, response.text
    return [flat(text) for text in page_texts(response.content)]


async def test_her_sami_name_from_the_login_and_a_sami_note_print_exactly(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    t = await team(client, app)
    card_ = await create_card(client, t.midwife, t.woman.patient_id, weeks=20)
    await add_consultation(client, t.midwife, t.woman.patient_id, card_["id"], date=today().isoformat(), note=SAMI_NOTE)
    named = {"Authorization": f"Bearer {citizen_token(app, t.woman.fnr, name=SAMI_NAME)}"}
    first, second, _ = await download(client, named, card_["id"])
    assert f"Navn {SAMI_NAME} Termin" in first
    assert SAMI_NOTE in second
    # A login without a name claim still prints the row, empty.
    unnamed_first = (await download(client, t.woman.headers, card_["id"]))[0]
    assert "Helsekort for gravide Navn Termin" in unnamed_first


async def test_next_consultation_is_the_programme_item_and_the_due_vaccine_is_listed_beside_it(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    """CLINICAL.md v1.1: nextDue names the next consultation or examination; vaccines are listed beside it."""
    t = await team(client, app)
    lmp = lmp_for_week(25, 3)
    card_ = await create_card(
        client, t.midwife, t.woman.patient_id, lastMenstrualPeriod=lmp.isoformat(), rhd="positive"
    )
    for week in (8, 24):
        await add_consultation(
            client, t.midwife, t.woman.patient_id, card_["id"], date=on_week(lmp, week, 1).isoformat()
        )
    for test in ({"test": "hb", "value": 12.4}, {"test": "hiv", "result": "negative"}):
        response = await client.post(
            f"{card_path(t.woman.patient_id, card_['id'])}/tests",
            json={**test, "takenOn": on_week(lmp, 8, 1).isoformat()},
            headers=t.midwife.headers,
        )
        assert response.status_code == 201, response.text
    first = (await download(client, t.woman.headers, card_["id"]))[0]
    week_28 = f"{on_week(lmp, 28):%d.%m.%Y}\N{EN DASH}{on_week(lmp, 28, 6):%d.%m.%Y}"
    assert f"Neste konsultasjon Konsultasjon uke 28: {week_28}" in first
    # Influenza is offered too while in season, from the second trimester (CLINICAL.md v1.1).
    assert "Vaksiner som tilbys nå:" in first
    assert f"Kikhostevaksine (fra {on_week(lmp, 24):%d.%m.%Y})" in first
    assert f"Hb {on_week(lmp, 8, 1):%d.%m.%Y} 8+1 12,4 g/dL" in first
    assert f"Hiv {on_week(lmp, 8, 1):%d.%m.%Y} 8+1 negativ" in first
    assert "Ferritin Hepatitt B (HBsAg) Hiv" in first  # not taken yet: empty rows to fill in


async def test_the_demo_card_prints_whole_in_the_embedded_font(
    client: httpx.AsyncClient, app: Litestar, settings: Settings
) -> None:
    await load_core_demo(settings)
    await load_pregnancy_demo(settings)
    headers = {"Authorization": f"Bearer {citizen_token(app, DEMO_FNR)}"}
    card_id = (await client.get("/citizen/v1/me/pregnancies", headers=headers)).json()["items"][0]["id"]
    texts = await download(client, headers, card_id)
    first = texts[0]
    assert "Levevaner Folattilskudd: ja; Tobakk: aldri; Snus: sluttet; Alkohol: sluttet" in first
    for row in ("12,8 g/dL", "Ferritin", "42 µg/L", "Hepatitt B (HBsAg)", "Syfilis"):
        assert row in first, row
    # The demo is at week 30 with the week-28 visit done: next is week 32, whatever vaccine is in season.
    assert "Neste konsultasjon Konsultasjon uke 32:" in first
    assert "Vaksiner som tilbys nå: Influensavaksine" in first or today().month not in service.INFLUENZA_MONTHS
    needed = {character for text in texts for character in text if not character.isspace()}
    for font in (pdf.FONT, pdf.FONT_BOLD):
        assert needed - font_characters(font) == set(), font


async def test_her_own_weight_and_blood_pressure_are_plotted_with_the_clinicians_values(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    """Issue 14: her structured registrations are shown with her as author and plotted with the clinicians'."""
    from backend.pregnancy.schemas import PregnancyCard

    t = await team(client, app)
    lmp = lmp_for_week(30)
    card_ = await create_card(client, t.midwife, t.woman.patient_id, lastMenstrualPeriod=lmp.isoformat())
    await add_consultation(client, t.midwife, t.woman.patient_id, card_["id"], date=on_week(lmp, 28).isoformat())
    mine = f"/citizen/v1/me/pregnancies/{card_['id']}"
    body = {
        "effectiveAt": f"{on_week(lmp, 29).isoformat()}T09:00:00+01:00",
        "weightKg": 71.5,
        "systolic": 121,
        "diastolic": 78,
    }
    registered = await client.post(f"{mine}/self-registrations", json=body, headers=t.woman.headers)
    assert registered.status_code == 201, registered.text

    card = msgspec.json.decode((await client.get(mine, headers=t.woman.headers)).content, type=PregnancyCard)
    sheet = service.printout(card, today())
    assert [(r.weight_kg, r.systolic, r.diastolic) for r in sheet.self_registrations] == [(71.5, 121, 78)]
    pdf.register_fonts()
    page = pdf._curves_page(sheet)
    weight_curve, bp_curve = page[3], page[5]
    assert len(_drawn(weight_curve, Circle)) == 1  # her weight, an open circle beside the midwife's line
    assert len(_drawn(bp_curve, Circle)) == 2  # her systolic and diastolic
    assert "Åpne punkter: målt av den gravide selv" in (await download(client, t.woman.headers, card_["id"]))[2]
