"""The printable pregnancy card (A4, Norwegian labels): header facts, consultations and growth curves."""

from __future__ import annotations

import datetime as dt
import io
import math
from collections.abc import Sequence
from functools import partial
from typing import Any, Literal
from xml.sax.saxutils import escape

import msgspec
from reportlab.graphics.charts.lineplots import LinePlot
from reportlab.graphics.shapes import Drawing, Group, Line, String
from reportlab.graphics.widgets.markers import makeMarker
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from backend.pregnancy.dating import DueDateSource, GestationalAge
from backend.pregnancy.schedule import DueItem

TITLE = "Helsekort for gravide"
NO_MEASUREMENTS = "Ingen målinger ennå"
NOT_RECORDED = "Ingen registrert"

# The home-BP alert thresholds from CLINICAL.md, drawn so a rising curve is seen against them.
ALERT_SYSTOLIC = 140
ALERT_DIASTOLIC = 90


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


class CardPrintout(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """Everything the printed card shows, already resolved by the service; `printed_on` is its "today"."""

    printed_on: dt.date
    due_date: dt.date
    due_date_source: DueDateSource
    name: str | None = None
    last_menstrual_period: dt.date | None = None
    gestational_age_today: GestationalAge | None = None
    blood_type: str | None = None
    rhd: Literal["positive", "negative"] | None = None
    antibodies: str | None = None
    gravida: int | None = None
    para: int | None = None
    earlier_pregnancies: list[EarlierPregnancy] = msgspec.field(default_factory=list)
    consultations: list[ConsultationRow] = msgspec.field(default_factory=list)
    ultrasounds: list[UltrasoundRow] = msgspec.field(default_factory=list)
    vaccines: list[VaccineRow] = msgspec.field(default_factory=list)
    next_due: DueItem | None = None
    # Further header facts as (label, text), printed after the fixed ones when the card has them.
    extra_facts: list[tuple[str, str]] = msgspec.field(default_factory=list)


_styles = getSampleStyleSheet()
_TITLE_STYLE = _styles["Title"]
_HEADING = _styles["Heading2"]
_BODY = _styles["BodyText"]
_CELL = ParagraphStyle("cell", parent=_BODY, fontName="Helvetica", fontSize=7, leading=8.5)
_HEAD_CELL = ParagraphStyle("head-cell", parent=_CELL, fontName="Helvetica-Bold")

_MARGIN = 14 * mm
# The frame pads 6 pt on each side; tables and drawings must fit inside that.
_CONTENT_WIDTH = A4[0] - 2 * _MARGIN - 12

# Every cell is a Paragraph, which carries its own font; the table style only draws lines and padding.
_LINES: list[tuple[Any, ...]] = [
    ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ("LEFTPADDING", (0, 0), (-1, -1), 2),
    ("RIGHTPADDING", (0, 0), (-1, -1), 2),
    ("TOPPADDING", (0, 0), (-1, -1), 2),
    ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
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
        ("Navn", card.name or ""),
        ("Termin", f"{_date(card.due_date)} (etter {source})"),
        ("Siste menstruasjon", _date(card.last_menstrual_period)),
        ("Svangerskapsuke i dag", str(card.gestational_age_today) if card.gestational_age_today is not None else ""),
        ("Blodtype", blood),
        ("Antistoffer", card.antibodies or ""),
        ("Gravida / para", gravida_para),
        *card.extra_facts,
    ]
    fact_table = Table(
        [[_cell(label, _HEAD_CELL), _cell(value)] for label, value in facts],
        colWidths=[45 * mm, _CONTENT_WIDTH - 45 * mm],
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


def _week(age: GestationalAge) -> float:
    return age.total_days / 7


def _bounds(values: Sequence[float], step: float, at_least: tuple[float, float] | None) -> tuple[float, float]:
    """An axis range on whole steps that holds the data and `at_least`, or the data plus a step each side."""
    if at_least is None:
        low, high = min(values) - step, max(values) + step
    else:
        low, high = min(*values, at_least[0]), max(*values, at_least[1])
    return math.floor(low / step) * step, math.ceil(high / step) * step


_CURVE_HEIGHT = 205


def _curve(
    title: str,
    *,
    y_label: str,
    series: Sequence[tuple[str, colors.Color, list[tuple[float, float]]]],
    x_range: tuple[float, float],
    y_step: float,
    y_range: tuple[float, float] | None = None,
    reference_lines: Sequence[float] = (),
    reference_note: str | None = None,
) -> Drawing:
    width, height = _CONTENT_WIDTH, _CURVE_HEIGHT
    drawing = Drawing(width, height)
    drawing.add(String(0, height - 12, title, fontName="Helvetica-Bold", fontSize=11))
    drawn = [entry for entry in series if entry[2]]
    if not drawn:
        # LinePlot cannot draw an empty series; say so rather than show blank axes.
        drawing.add(
            String(width / 2, height / 2, NO_MEASUREMENTS, fontName="Helvetica", fontSize=10, textAnchor="middle")
        )
        return drawing
    xs = [x for _, _, points in drawn for x, _ in points]
    ys = [y for _, _, points in drawn for _, y in points]
    x_min, x_max = _bounds(xs, 2, x_range)
    y_min, y_max = _bounds([*ys, *reference_lines], y_step, y_range)

    plot = LinePlot()
    plot.x, plot.y, plot.width, plot.height = 45, 32, width - 60, height - 62
    plot.data = [points for _, _, points in drawn]
    plot.xValueAxis.valueMin, plot.xValueAxis.valueMax, plot.xValueAxis.valueStep = x_min, x_max, 2
    plot.yValueAxis.valueMin, plot.yValueAxis.valueMax, plot.yValueAxis.valueStep = y_min, y_max, y_step
    for axis in (plot.xValueAxis, plot.yValueAxis):
        axis.labels.fontName = "Helvetica"
        axis.labels.fontSize = 7
    for index, (_, color, _) in enumerate(drawn):
        plot.lines[index].strokeColor = color
        plot.lines[index].strokeWidth = 1.2
        plot.lines[index].symbol = makeMarker("FilledCircle", size=3, fillColor=color, strokeColor=color)
    drawing.add(plot)

    for value in reference_lines:
        y = plot.y + (value - y_min) / (y_max - y_min) * plot.height
        drawing.add(
            Line(plot.x, y, plot.x + plot.width, y, strokeColor=colors.red, strokeWidth=0.5, strokeDashArray=[3, 2])
        )

    drawing.add(
        String(plot.x + plot.width / 2, 4, "Svangerskapsuke", fontName="Helvetica", fontSize=8, textAnchor="middle")
    )
    # A y-axis label reads bottom to top: rotate a group 90° about its anchor point.
    drawing.add(
        Group(
            String(0, 0, y_label, fontName="Helvetica", fontSize=8, textAnchor="middle"),
            transform=(0, 1, -1, 0, 10, plot.y + plot.height / 2),
        )
    )
    legend_x = plot.x + plot.width
    for name, color, _ in reversed(drawn if len(drawn) > 1 else []):
        drawing.add(
            String(legend_x, height - 12, name, fontName="Helvetica", fontSize=8, fillColor=color, textAnchor="end")
        )
        legend_x -= 10 + stringWidth(name, "Helvetica", 8)
    if reference_note:
        drawing.add(
            String(
                plot.x + plot.width,
                height - 23,
                reference_note,
                fontName="Helvetica",
                fontSize=7,
                fillColor=colors.red,
                textAnchor="end",
            )
        )
    return drawing


def _curves_page(card: CardPrintout) -> list[Any]:
    rows = sorted(card.consultations, key=lambda row: row.date)
    # SF is measured from week 20 onward; an earlier value would fall off the curve's axis.
    sf = [(_week(r.gestational_age), r.sf_cm) for r in rows if r.sf_cm is not None and _week(r.gestational_age) >= 20]
    weight = [(_week(r.gestational_age), r.weight_kg) for r in rows if r.weight_kg is not None]
    systolic = [(_week(r.gestational_age), float(r.systolic)) for r in rows if r.systolic is not None]
    diastolic = [(_week(r.gestational_age), float(r.diastolic)) for r in rows if r.diastolic is not None]
    return [
        Paragraph("Kurver", _TITLE_STYLE),
        _curve(
            "Symfyse-fundusmål",
            y_label="cm",
            series=[("SF", colors.darkblue, sf)],
            x_range=(20, 42),
            y_step=5,
            y_range=(15, 45),
        ),
        Spacer(1, 6),
        _curve("Vekt", y_label="kg", series=[("Vekt", colors.darkgreen, weight)], x_range=(0, 42), y_step=5),
        Spacer(1, 6),
        _curve(
            "Blodtrykk",
            y_label="mmHg",
            series=[("Systolisk", colors.darkred, systolic), ("Diastolisk", colors.darkblue, diastolic)],
            x_range=(0, 42),
            y_step=20,
            y_range=(40, 160),
            reference_lines=(ALERT_SYSTOLIC, ALERT_DIASTOLIC),
            reference_note=f"Stiplet: varslingsgrense {ALERT_SYSTOLIC}/{ALERT_DIASTOLIC}",
        ),
    ]


def _footer(printed_on: dt.date, canvas: Any, doc: Any) -> None:
    canvas.saveState()
    canvas.setFont("Helvetica", 7)
    canvas.drawString(_MARGIN, 8 * mm, f"{TITLE} · utskrevet {_date(printed_on)}")
    canvas.drawRightString(A4[0] - _MARGIN, 8 * mm, f"Side {doc.page}")
    canvas.restoreState()


def render_card_pdf(printout: CardPrintout) -> bytes:
    """The card as an A4 PDF: page 1 header facts, then consultations, then the curves."""
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
        # No timestamps or random ids: the same card always gives the same bytes.
        invariant=True,
    )
    story = [*_header_page(printout), PageBreak(), *_consultation_page(printout), PageBreak(), *_curves_page(printout)]
    footer = partial(_footer, printout.printed_on)
    document.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
