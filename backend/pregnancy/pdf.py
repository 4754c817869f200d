"""The printable pregnancy card (A4, Norwegian labels): header facts, tests, consultations and growth curves.

Text is set in Source Sans Pro, embedded (subset) from the `font-source-sans-pro` package, because the base-14
PDF fonts have no ŋ, Č, Đ or Ŧ: a Northern Sámi name or note must print as written (issue 14).
"""

from __future__ import annotations

import datetime as dt
import io
import math
import threading
from collections.abc import Sequence
from functools import partial
from importlib import resources
from typing import Any, Literal, NamedTuple
from xml.sax.saxutils import escape

import msgspec
from reportlab.graphics.charts.lineplots import LinePlot
from reportlab.graphics.shapes import Circle, Drawing, Group, Line, Polygon, String
from reportlab.graphics.widgets.markers import makeMarker
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from backend.pregnancy.dating import DueDateSource, GestationalAge, gestational_age_on
from backend.pregnancy.schedule import DueItem

TITLE = "Helsekort for gravide"
NO_MEASUREMENTS = "Ingen målinger ennå"
NOT_RECORDED = "Ingen registrert"

# The home-BP alert thresholds from CLINICAL.md, drawn so a rising curve is seen against them.
ALERT_SYSTOLIC = 140
ALERT_DIASTOLIC = 90

# CLINICAL.md v1.1: SF height is accepted and plotted from week 24.
SF_FROM_WEEK = 24

# Reference band beside the SF curve, as (week, low cm, high cm). NOT a published percentile table: we could
# not confirm the numbers of a Norwegian/Scandinavian SF reference (Westin's Swedish gravidogram, Acta Obstet
# Gynecol Scand 1977, and its 1995 ultrasound-dated revision are the ones in Nordic use, but their tables were
# not available to us). The band is the widely taught clinical rule of thumb "SF in cm ≈ gestational week
# ± 2 cm", which is stated for weeks 24–36 only; after 36 weeks SF growth slows, so no band is drawn there.
# Replace these rows with a validated reference table when one is adopted; the drawing takes any rows.
SF_REFERENCE_BAND: tuple[tuple[int, float, float], ...] = tuple(
    (week, week - 2.0, week + 2.0) for week in range(SF_FROM_WEEK, 37)
)
SF_REFERENCE_NOTE = "Skravert: veiledende område uke ± 2 cm (uke 24–36), ikke en publisert persentilkurve"

# --- the embedded font -----------------------------------------------------------------------------

FONT = "SourceSansPro"
FONT_BOLD = "SourceSansPro-Bold"
_FONT_PACKAGE = "font_source_sans_pro"
_FONT_FILES = {FONT: "SourceSansPro-Regular.ttf", FONT_BOLD: "SourceSansPro-Bold.ttf"}
_font_lock = threading.Lock()


def font_path(font: str) -> str:
    """The TTF file of `font` inside its installed package (nothing is downloaded at run time)."""
    return str(resources.files(_FONT_PACKAGE) / "files" / _FONT_FILES[font])


def register_fonts() -> None:
    """Registers regular and bold with reportlab once per process; renders run in threads, hence the lock."""
    with _font_lock:
        registered = pdfmetrics.getRegisteredFontNames()
        for font in (FONT, FONT_BOLD):
            if font not in registered:
                # TTFont subsets on output: each PDF carries only the glyphs it uses.
                pdfmetrics.registerFont(TTFont(font, font_path(font)))


# --- what the card prints --------------------------------------------------------------------------


class Author(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    name: str
    role: str
    organisation: str
    hpr: str | None = None


class ConsultationRow(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    date: dt.date
    gestational_age: GestationalAge
    author: Author
    weight_kg: float | None = None
    systolic: int | None = None
    diastolic: int | None = None
    urine_protein: str | None = None
    urine_glucose: str | None = None
    hb: float | None = None  # g/dL
    sf_cm: float | None = None
    fetal_heart: bool | None = None
    presentation: str | None = None
    fetal_movements: bool | None = None
    oedema: bool | str | None = None
    note: str | None = None


class UltrasoundRow(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    date: dt.date
    gestational_age: GestationalAge | None = None
    due_date: dt.date | None = None
    fetuses: int | None = None
    placenta: str | None = None
    findings: str | None = None


class VaccineRow(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    name: str
    given_on: dt.date | None = None
    note: str | None = None


class EarlierPregnancy(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """A birth or spontaneous miscarriage; induced abortions never reach the card, which partners may read."""

    year: int
    week: int | None = None
    birth_weight_g: int | None = None
    mode: str | None = None
    complications: str | None = None


class TestRow(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """A test result as the API holds it: `test` is the API's code, numeric tests carry `value` and `unit`."""

    __test__ = False  # not a pytest class

    test: str
    taken_on: dt.date
    value: float | None = None
    unit: str | None = None
    result: str | None = None
    note: str | None = None


class IllnessRow(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    name: str
    needs_extra_follow_up: bool = False


Habit = Literal["never", "stopped", "current"]


class LifestyleFacts(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    folate: bool | None = None
    tobacco: Habit | None = None
    snus: Habit | None = None
    alcohol: Habit | None = None
    other_substances: Habit | None = None


AuthorKind = Literal["clinician", "self"]


class CurvePoint(NamedTuple):
    """One point of a curve; `by` says whether a clinician measured it or the woman registered it herself."""

    week: float
    value: float
    by: AuthorKind = "clinician"


class SelfRegistrationRow(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """A value the woman registered herself: plotted with the clinicians' values, marked as hers."""

    gestational_age: GestationalAge
    weight_kg: float | None = None
    systolic: int | None = None
    diastolic: int | None = None


class CardPrintout(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """Everything the printed card shows, already resolved by the service; `printed_on` is its "today"."""

    printed_on: dt.date
    due_date: dt.date
    due_date_source: DueDateSource
    # The woman's name as her login gave it; None prints an empty row to fill in by hand.
    name: str | None = None
    last_menstrual_period: dt.date | None = None
    gestational_age_today: GestationalAge | None = None
    blood_type: str | None = None
    rhd: Literal["positive", "negative"] | None = None
    antibodies: str | None = None
    gravida: int | None = None
    para: int | None = None
    illnesses: list[IllnessRow] = msgspec.field(default_factory=list)
    lifestyle: LifestyleFacts | None = None
    earlier_pregnancies: list[EarlierPregnancy] = msgspec.field(default_factory=list)
    tests: list[TestRow] = msgspec.field(default_factory=list)
    consultations: list[ConsultationRow] = msgspec.field(default_factory=list)
    ultrasounds: list[UltrasoundRow] = msgspec.field(default_factory=list)
    vaccines: list[VaccineRow] = msgspec.field(default_factory=list)
    self_registrations: list[SelfRegistrationRow] = msgspec.field(default_factory=list)
    # The next consultation or examination of the basic programme, never a vaccine (CLINICAL.md v1.1) ...
    next_due: DueItem | None = None
    # ... and the vaccines offered now, listed beside it.
    vaccines_offered: list[DueItem] = msgspec.field(default_factory=list)
    # Further header facts as (label, text), printed after the fixed ones when the card has them.
    extra_facts: list[tuple[str, str]] = msgspec.field(default_factory=list)


# Names and results of the tests the API knows (backend/pregnancy/schemas.py TestKind), in the card's order.
TEST_NB = {
    "hb": "Hb",
    "ferritin": "Ferritin",
    "hepatitis-b": "Hepatitt B (HBsAg)",
    "hiv": "Hiv",
    "syphilis": "Syfilis",
    "rubella": "Rubella (ved indikasjon)",
    "hba1c": "HbA1c (ved indikasjon)",
    "fetal-rhd": "Føtal RhD",
    "antibody-screening": "Antistoffscreening",
    "glucose-tolerance": "Glukosebelastning (2 t)",
}
# CLINICAL.md: the first-trimester tests; the first five are taken from every woman and always get a row.
FIRST_TRIMESTER_TESTS = ("hb", "ferritin", "hepatitis-b", "hiv", "syphilis", "rubella", "hba1c")
ROUTINE_FIRST_TRIMESTER_TESTS = FIRST_TRIMESTER_TESTS[:5]
RESULT_NB = {
    "negative": "negativ",
    "positive": "positiv",
    "immune": "immun",
    "not-immune": "ikke immun",
    "rhd-positive": "fosteret RhD positivt",
    "rhd-negative": "fosteret RhD negativt",
}
UNIT_NB = {"ug/L": "µg/L"}
HABIT_NB: dict[str, str] = {"never": "aldri", "stopped": "sluttet", "current": "bruker nå"}


# --- layout ----------------------------------------------------------------------------------------

_styles = getSampleStyleSheet()
_TITLE_STYLE = ParagraphStyle("card-title", parent=_styles["Title"], fontName=FONT_BOLD, fontSize=16, leading=19)
_HEADING = ParagraphStyle(
    "card-heading", parent=_styles["Heading2"], fontName=FONT_BOLD, fontSize=11, leading=13, spaceBefore=7, spaceAfter=3
)
_BODY = ParagraphStyle("card-body", parent=_styles["BodyText"], fontName=FONT, fontSize=9, leading=11)
_CELL = ParagraphStyle("cell", parent=_BODY, fontName=FONT, fontSize=7.5, leading=9)
_HEAD_CELL = ParagraphStyle("head-cell", parent=_CELL, fontName=FONT_BOLD)

_MARGIN = 14 * mm
# The frame pads 6 pt on each side; tables and drawings must fit inside that.
_CONTENT_WIDTH = A4[0] - 2 * _MARGIN - 12

# Every cell is a Paragraph, which carries its own font; the table style only draws lines and padding.
_LINES: list[tuple[Any, ...]] = [
    # Tables set a font state even around Paragraphs; naming ours keeps Helvetica out of the file altogether.
    ("FONTNAME", (0, 0), (-1, -1), FONT),
    ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ("LEFTPADDING", (0, 0), (-1, -1), 2),
    ("RIGHTPADDING", (0, 0), (-1, -1), 2),
    ("TOPPADDING", (0, 0), (-1, -1), 1.5),
    ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
]
_FACTS = TableStyle(_LINES)
_GRID = TableStyle([*_LINES, ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8"))])


def _date(value: dt.date | None) -> str:
    return value.strftime("%d.%m.%Y") if value is not None else ""


def _number(value: float | None) -> str:
    """One decimal with the Norwegian decimal comma, without a trailing ",0"."""
    if value is None:
        return ""
    return f"{value:.1f}".replace(".", ",").removesuffix(",0")


def _yes_no(value: bool | str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Ja" if value else "Nei"
    return value


def _text(value: str | int | None) -> str:
    return "" if value is None else str(value)


def _cell(text: str, style: ParagraphStyle = _CELL) -> Paragraph:
    # Free text is the clinician's; escape it so "<" in a note cannot break or inject markup.
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def _section(title: str, headers: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[float]) -> list[Any]:
    flowables: list[Any] = [Paragraph(escape(title), _HEADING)]
    if not rows:
        flowables.append(Paragraph(NOT_RECORDED, _BODY))
        return flowables
    data = [[_cell(h, _HEAD_CELL) for h in headers], *[[_cell(value) for value in row] for row in rows]]
    flowables.append(Table(data, colWidths=list(widths), repeatRows=1, style=_GRID, hAlign="LEFT"))
    return flowables


def _lifestyle(facts: LifestyleFacts | None) -> str:
    if facts is None:
        return ""
    parts = [
        ("Folattilskudd", _yes_no(facts.folate).lower()),
        ("Tobakk", HABIT_NB.get(facts.tobacco or "", "")),
        ("Snus", HABIT_NB.get(facts.snus or "", "")),
        ("Alkohol", HABIT_NB.get(facts.alcohol or "", "")),
        ("Andre rusmidler", HABIT_NB.get(facts.other_substances or "", "")),
    ]
    return "; ".join(f"{label}: {value}" for label, value in parts if value)


def _illnesses(illnesses: Sequence[IllnessRow]) -> str:
    return "; ".join(
        illness.name + (" (trenger ekstra oppfølging)" if illness.needs_extra_follow_up else "")
        for illness in illnesses
    )


def _test_result(row: TestRow) -> str:
    if row.value is not None:
        unit = UNIT_NB.get(row.unit or "", row.unit or "")
        return f"{_number(row.value)} {unit}".strip()
    return RESULT_NB.get(row.result or "", row.result or "")


def _age_on(due_date: dt.date, on: dt.date) -> str:
    try:
        return str(gestational_age_on(due_date, on))
    except ValueError:  # taken before 0+0 (e.g. a test from before the pregnancy): no week to show
        return ""


def _test_rows(card: CardPrintout, kinds: Sequence[str], always: Sequence[str]) -> list[list[str]]:
    """One row per result of `kinds`, in the card's order; a kind in `always` without a result gets an empty row."""
    rows: list[list[str]] = []
    for kind in kinds:
        results = sorted((t for t in card.tests if t.test == kind), key=lambda t: t.taken_on)
        for t in results:
            rows.append(
                [TEST_NB[kind], _date(t.taken_on), _age_on(card.due_date, t.taken_on), _test_result(t), t.note or ""]
            )
        if not results and kind in always:
            rows.append([TEST_NB[kind], "", "", "", ""])
    return rows


_TEST_WIDTHS = [105, 50, 30, 80, _CONTENT_WIDTH - 265]
_TEST_HEADERS = ["Prøve", "Dato", "Uke", "Resultat", "Merknad"]


def _header_page(card: CardPrintout) -> list[Any]:
    source = "ultralyd" if card.due_date_source == "ultrasound" else "siste menstruasjon"
    blood = " ".join(
        part
        for part in (
            card.blood_type or "",
            {"positive": "RhD positiv", "negative": "RhD negativ", None: ""}[card.rhd],
        )
        if part
    )
    gravida_para = (
        f"G{_text(card.gravida) or '?'} P{_text(card.para) or '?'}"
        if card.gravida is not None or card.para is not None
        else ""
    )
    facts = [
        # Always printed: without a name from the login the row is left empty to be filled in by hand.
        ("Navn", card.name or ""),
        ("Termin", f"{_date(card.due_date)} (etter {source})"),
        ("Siste menstruasjon", _date(card.last_menstrual_period)),
        ("Svangerskapsuke i dag", str(card.gestational_age_today) if card.gestational_age_today is not None else ""),
        ("Blodtype", blood),
        ("Antistoffer", card.antibodies or ""),
        ("Gravida / para", gravida_para),
        ("Sykdommer", _illnesses(card.illnesses)),
        ("Levevaner", _lifestyle(card.lifestyle)),
        *card.extra_facts,
    ]
    fact_table = Table(
        [[_cell(label, _HEAD_CELL), _cell(value)] for label, value in facts],
        colWidths=[45 * mm, _CONTENT_WIDTH - 45 * mm],
        # An empty name row is high enough to write the name in by hand.
        rowHeights=[None if card.name else 18, *([None] * (len(facts) - 1))],
        style=_FACTS,
        hAlign="LEFT",
    )
    if card.next_due is None:
        next_due = "Ingen planlagte konsultasjoner"
    else:
        item = card.next_due
        next_due = f"{item.label_nb}: {_date(item.starts_on)}\N{EN DASH}{_date(item.ends_on)}"
    flowables: list[Any] = [
        Paragraph(TITLE, _TITLE_STYLE),
        fact_table,
        Paragraph("Neste konsultasjon", _HEADING),
        Paragraph(escape(next_due), _BODY),
    ]
    if card.vaccines_offered:
        offered = "; ".join(f"{item.label_nb} (fra {_date(item.starts_on)})" for item in card.vaccines_offered)
        flowables.append(Paragraph(escape(f"Vaksiner som tilbys nå: {offered}"), _BODY))
    flowables += _section(
        "Tidligere svangerskap",
        ["År", "Uke", "Fødselsvekt (g)", "Forløsning", "Komplikasjoner"],
        [
            [str(p.year), _text(p.week), _text(p.birth_weight_g), p.mode or "", p.complications or ""]
            for p in card.earlier_pregnancies
        ],
        [30, 30, 60, 90, _CONTENT_WIDTH - 210],
    )
    flowables += _section(
        "Prøver i første trimester",
        _TEST_HEADERS,
        _test_rows(card, FIRST_TRIMESTER_TESTS, ROUTINE_FIRST_TRIMESTER_TESTS),
        _TEST_WIDTHS,
    )
    later = _test_rows(card, [kind for kind in TEST_NB if kind not in FIRST_TRIMESTER_TESTS], ())
    # Tests the API may add later still print, under their code, rather than vanish from the card.
    later += [
        [t.test, _date(t.taken_on), _age_on(card.due_date, t.taken_on), _test_result(t), t.note or ""]
        for t in sorted(card.tests, key=lambda t: t.taken_on)
        if t.test not in TEST_NB
    ]
    if later:
        flowables += _section("Andre prøver", _TEST_HEADERS, later, _TEST_WIDTHS)
    flowables += _section(
        "Ultralyd",
        ["Dato", "Uke", "Termin", "Fostre", "Placenta", "Funn"],
        [
            [
                _date(u.date),
                str(u.gestational_age) if u.gestational_age is not None else "",
                _date(u.due_date),
                _text(u.fetuses),
                u.placenta or "",
                u.findings or "",
            ]
            for u in card.ultrasounds
        ],
        [50, 30, 50, 35, 90, _CONTENT_WIDTH - 255],
    )
    flowables += _section(
        "Vaksiner",
        ["Vaksine", "Dato", "Merknad"],
        [[v.name, _date(v.given_on), v.note or ""] for v in card.vaccines],
        [130, 55, _CONTENT_WIDTH - 185],
    )
    return flowables


_CONSULTATION_COLUMNS: list[tuple[str, float]] = [
    ("Dato", 42),
    ("Uke", 24),
    ("Vekt (kg)", 28),
    ("Blodtrykk", 38),
    ("Urin prot. / gluk.", 36),
    ("Hb", 22),
    ("SF (cm)", 24),
    ("Foster-lyd", 28),
    ("Leie", 34),
    ("Foster-bev.", 30),
    ("Ødem", 24),
    ("Merknad", 86),
    ("Signatur", 80),
]


def _consultation_cells(row: ConsultationRow) -> list[str]:
    pressure = (
        f"{_text(row.systolic)}/{_text(row.diastolic)}" if row.systolic is not None or row.diastolic is not None else ""
    )
    urine = " / ".join(value or "\N{EN DASH}" for value in (row.urine_protein, row.urine_glucose))
    author = row.author
    signature = f"{author.name}\n{author.role}, {author.organisation}"
    if author.hpr:
        signature += f"\nHPR {author.hpr}"
    return [
        _date(row.date),
        str(row.gestational_age),
        _number(row.weight_kg),
        pressure,
        urine if row.urine_protein is not None or row.urine_glucose is not None else "",
        _number(row.hb),
        _number(row.sf_cm),
        _yes_no(row.fetal_heart),
        row.presentation or "",
        _yes_no(row.fetal_movements),
        _yes_no(row.oedema),
        row.note or "",
        signature,
    ]


def _consultation_page(card: CardPrintout) -> list[Any]:
    flowables: list[Any] = [Paragraph("Konsultasjoner", _TITLE_STYLE)]
    if not card.consultations:
        flowables.append(Paragraph("Ingen konsultasjoner ennå", _BODY))
        return flowables
    rows = sorted(card.consultations, key=lambda row: row.date)
    flowables += _section(
        "Konsultasjoner etter dato",
        [label for label, _ in _CONSULTATION_COLUMNS],
        [_consultation_cells(row) for row in rows],
        [width for _, width in _CONSULTATION_COLUMNS],
    )
    flowables.append(Paragraph("SF = symfyse-fundusmål. Blodtrykk i mmHg, Hb i g/dL.", _CELL))
    return flowables


# --- curves ----------------------------------------------------------------------------------------


def _week(age: GestationalAge) -> float:
    return age.total_days / 7


def _bounds(values: Sequence[float], step: float, at_least: tuple[float, float] | None) -> tuple[float, float]:
    """An axis range on whole steps that holds the data and `at_least`, or the data plus a step each side."""
    if at_least is None:
        low, high = min(values) - step, max(values) + step
    else:
        low, high = min(*values, at_least[0]), max(*values, at_least[1])
    return math.floor(low / step) * step, math.ceil(high / step) * step


class Series(NamedTuple):
    name: str
    color: colors.Color
    points: Sequence[CurvePoint]


_CURVE_HEIGHT = 205
_BAND_COLOR = colors.HexColor("#d6e4f5")
SELF_REGISTERED_NOTE = "Åpne punkter: målt av den gravide selv"


def _curve(
    title: str,
    *,
    y_label: str,
    series: Sequence[Series],
    x_range: tuple[float, float],
    y_step: float,
    y_range: tuple[float, float] | None = None,
    reference_lines: Sequence[float] = (),
    reference_note: str | None = None,
    band: Sequence[tuple[float, float, float]] = (),
    band_note: str | None = None,
) -> Drawing:
    """A curve over gestational weeks: clinicians' points joined by a line, self-registered ones as open circles."""
    width, height = _CONTENT_WIDTH, _CURVE_HEIGHT
    drawing = Drawing(width, height)
    drawing.add(String(0, height - 12, title, fontName=FONT_BOLD, fontSize=11))
    drawn = [entry for entry in series if entry.points]
    if not drawn:
        # LinePlot cannot draw an empty series; say so rather than show blank axes.
        drawing.add(String(width / 2, height / 2, NO_MEASUREMENTS, fontName=FONT, fontSize=10, textAnchor="middle"))
        return drawing
    xs = [point.week for entry in drawn for point in entry.points]
    ys = [point.value for entry in drawn for point in entry.points]
    x_min, x_max = _bounds(xs, 2, x_range)
    band = [row for row in band if x_min <= row[0] <= x_max]
    y_min, y_max = _bounds(
        [*ys, *reference_lines, *(row[1] for row in band), *(row[2] for row in band)], y_step, y_range
    )

    plot = LinePlot()
    plot.x, plot.y, plot.width, plot.height = 45, 32, width - 60, height - 62

    def to_x(week: float) -> float:
        return float(plot.x + (week - x_min) / (x_max - x_min) * plot.width)

    def to_y(value: float) -> float:
        return float(plot.y + (value - y_min) / (y_max - y_min) * plot.height)

    if len(band) >= 2:
        # Behind everything else: the reference band is context, the woman's own points are the data.
        upper = [coordinate for week, _, high in band for coordinate in (to_x(week), to_y(high))]
        lower = [coordinate for week, low, _ in reversed(band) for coordinate in (to_x(week), to_y(low))]
        drawing.add(Polygon(points=upper + lower, fillColor=_BAND_COLOR, strokeColor=None, strokeWidth=0))

    # A series with no clinician point still gives LinePlot its self-registered points, with line and marker
    # hidden, so the axes are drawn; the open circles are drawn below for every self-registered point.
    lines = [[(p.week, p.value) for p in entry.points if p.by == "clinician"] for entry in drawn]
    plot.data = [line or [(p.week, p.value) for p in entry.points] for line, entry in zip(lines, drawn, strict=True)]
    plot.xValueAxis.valueMin, plot.xValueAxis.valueMax, plot.xValueAxis.valueStep = x_min, x_max, 2
    plot.yValueAxis.valueMin, plot.yValueAxis.valueMax, plot.yValueAxis.valueStep = y_min, y_max, y_step
    for axis in (plot.xValueAxis, plot.yValueAxis):
        axis.labels.fontName = FONT
        axis.labels.fontSize = 7
    for index, (line, entry) in enumerate(zip(lines, drawn, strict=True)):
        if line:
            plot.lines[index].strokeColor = entry.color
            plot.lines[index].strokeWidth = 1.2
            plot.lines[index].symbol = makeMarker(
                "FilledCircle", size=3, fillColor=entry.color, strokeColor=entry.color
            )
        else:
            plot.lines[index].strokeColor = None
            plot.lines[index].strokeWidth = 0
            plot.lines[index].symbol = None
    drawing.add(plot)
    self_registered = [(entry.color, p) for entry in drawn for p in entry.points if p.by == "self"]
    for color, point in self_registered:
        drawing.add(
            Circle(to_x(point.week), to_y(point.value), 2.2, fillColor=colors.white, strokeColor=color, strokeWidth=0.8)
        )

    for value in reference_lines:
        y = to_y(value)
        drawing.add(
            Line(plot.x, y, plot.x + plot.width, y, strokeColor=colors.red, strokeWidth=0.5, strokeDashArray=[3, 2])
        )

    drawing.add(String(plot.x + plot.width / 2, 4, "Svangerskapsuke", fontName=FONT, fontSize=8, textAnchor="middle"))
    # A y-axis label reads bottom to top: rotate a group 90° about its anchor point.
    drawing.add(
        Group(
            String(0, 0, y_label, fontName=FONT, fontSize=8, textAnchor="middle"),
            transform=(0, 1, -1, 0, 10, plot.y + plot.height / 2),
        )
    )
    legend_x = plot.x + plot.width
    for entry in reversed(drawn if len(drawn) > 1 else []):
        drawing.add(
            String(
                legend_x, height - 12, entry.name, fontName=FONT, fontSize=8, fillColor=entry.color, textAnchor="end"
            )
        )
        legend_x -= 10 + stringWidth(entry.name, FONT, 8)
    notes = [
        (reference_note, colors.red),
        (band_note if band else None, colors.HexColor("#3a5f8f")),
        (SELF_REGISTERED_NOTE if self_registered else None, colors.black),
    ]
    note_y = height - 23
    for note, color in notes:
        if note:
            drawing.add(
                String(plot.x + plot.width, note_y, note, fontName=FONT, fontSize=7, fillColor=color, textAnchor="end")
            )
            note_y -= 9
    return drawing


def _curves_page(card: CardPrintout) -> list[Any]:
    rows = sorted(card.consultations, key=lambda row: row.date)
    # CLINICAL.md v1.1: SF is plotted from week 24; an earlier value stays in the table only.
    sf = [
        CurvePoint(_week(r.gestational_age), r.sf_cm)
        for r in rows
        if r.sf_cm is not None and _week(r.gestational_age) >= SF_FROM_WEEK
    ]
    weight = [CurvePoint(_week(r.gestational_age), r.weight_kg) for r in rows if r.weight_kg is not None]
    systolic = [CurvePoint(_week(r.gestational_age), float(r.systolic)) for r in rows if r.systolic is not None]
    diastolic = [CurvePoint(_week(r.gestational_age), float(r.diastolic)) for r in rows if r.diastolic is not None]
    # Her own values are drawn with the clinicians', marked as hers (open circles).
    for own in card.self_registrations:
        week = _week(own.gestational_age)
        if own.weight_kg is not None:
            weight.append(CurvePoint(week, own.weight_kg, "self"))
        if own.systolic is not None and own.diastolic is not None:
            systolic.append(CurvePoint(week, float(own.systolic), "self"))
            diastolic.append(CurvePoint(week, float(own.diastolic), "self"))
    return [
        Paragraph("Kurver", _TITLE_STYLE),
        _curve(
            "Symfyse-fundusmål",
            y_label="cm",
            series=[Series("SF", colors.darkblue, sf)],
            x_range=(SF_FROM_WEEK, 42),
            y_step=5,
            y_range=(20, 45),
            band=SF_REFERENCE_BAND,
            band_note=SF_REFERENCE_NOTE,
        ),
        Spacer(1, 6),
        _curve("Vekt", y_label="kg", series=[Series("Vekt", colors.darkgreen, weight)], x_range=(0, 42), y_step=5),
        Spacer(1, 6),
        _curve(
            "Blodtrykk",
            y_label="mmHg",
            series=[Series("Systolisk", colors.darkred, systolic), Series("Diastolisk", colors.darkblue, diastolic)],
            x_range=(0, 42),
            y_step=20,
            y_range=(40, 160),
            reference_lines=(ALERT_SYSTOLIC, ALERT_DIASTOLIC),
            reference_note=f"Stiplet: varslingsgrense {ALERT_SYSTOLIC}/{ALERT_DIASTOLIC}",
        ),
    ]


def _footer(printed_on: dt.date, canvas: Any, doc: Any) -> None:
    canvas.saveState()
    canvas.setFont(FONT, 7)
    canvas.drawString(_MARGIN, 8 * mm, f"{TITLE} · utskrevet {_date(printed_on)}")
    canvas.drawRightString(A4[0] - _MARGIN, 8 * mm, f"Side {doc.page}")
    canvas.restoreState()


def render_card_pdf(printout: CardPrintout) -> bytes:
    """The card as an A4 PDF: page 1 header facts and tests, then consultations, then the curves."""
    register_fonts()
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=_MARGIN,
        rightMargin=_MARGIN,
        topMargin=_MARGIN,
        bottomMargin=16 * mm,
        # Viewers show metadata and desktop search indexes it, so it names the document, never the woman.
        title=TITLE,
        author="Helsekort",
        subject="",
        creator="Helsekort",
        keywords="",
        lang="nb-NO",
        # The canvas opens every page with a font state; the default would pull Helvetica in.
        initialFontName=FONT,
        # No timestamps or random ids: the same card always gives the same bytes.
        invariant=True,
    )
    story = [*_header_page(printout), PageBreak(), *_consultation_page(printout), PageBreak(), *_curves_page(printout)]
    footer = partial(_footer, printout.printed_on)
    document.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
