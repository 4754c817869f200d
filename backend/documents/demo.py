"""Demo journal documents for the demo citizen: the hospital's epicrisis (a PDF drawn with ReportLab) and
radiology report, and the GP's referral, so that a clinician from either organisation sees the other's."""

from __future__ import annotations

import io
import uuid
from datetime import timedelta

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from backend.core import events
from backend.core.clock import oslo_now, utcnow
from backend.core.db import DB
from backend.core.demo import DEMO_GP, DEMO_HOSPITAL, DemoClinician, demo_loader, demo_patient_id
from backend.core.settings import Settings
from backend.documents import queries
from backend.documents.intake import once
from backend.documents.schemas import DocumentMetadataIn
from backend.documents.store import store_for

# Stable ids, so that loading twice is recognisably the same documents.
_NAMESPACE = uuid.UUID("0d7c9a4e-3f8b-4a51-8c2e-6b1d9f0a7e35")


def demo_pdf(title: str, lines: list[str]) -> bytes:
    """A one-page A4 PDF with a title and lines of text."""
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4, invariant=True)  # invariant: the same bytes on every run
    page.setTitle(title)
    page.setFont("Helvetica-Bold", 16)
    page.drawString(60, 780, title)
    page.setFont("Helvetica", 11)
    for number, line in enumerate(lines):
        page.drawString(60, 750 - 18 * number, line)
    page.showPage()
    page.save()
    return buffer.getvalue()


def _documents() -> list[tuple[DemoClinician, DocumentMetadataIn, str, bytes]]:
    today = oslo_now().date()
    return [
        (
            DEMO_HOSPITAL,
            DocumentMetadataIn(
                id=uuid.uuid5(_NAMESPACE, "epicrisis"),
                type="epicrisis",
                title="Epikrise, fødeavdelingen",
                date=today - timedelta(days=20),
                department="Kvinneklinikken",
            ),
            "application/pdf",
            demo_pdf(
                "Epikrise",
                [
                    "Innlagt for observasjon grunnet hodepine og lett forhøyet blodtrykk.",
                    "Blodtrykk normalisert under oppholdet; urinstix uten proteinuri.",
                    "Videre oppfølging hos jordmor og fastlege; ny kontroll om en uke.",
                ],
            ),
        ),
        (
            DEMO_HOSPITAL,
            DocumentMetadataIn(
                id=uuid.uuid5(_NAMESPACE, "radiology"),
                type="radiology-report",
                title="Ultralyd, tilvekstkontroll",
                date=today - timedelta(days=21),
                department="Ultralydseksjonen",
            ),
            "application/pdf",
            demo_pdf("Radiologisk svar", ["Ultralyd: tilvekst langs 50-persentilen.", "Normal fostervannsmengde."]),
        ),
        (
            DEMO_GP,
            DocumentMetadataIn(
                id=uuid.uuid5(_NAMESPACE, "referral"),
                type="referral",
                title="Henvisning til fødepoliklinikk",
                date=today - timedelta(days=25),
            ),
            "text/plain",
            "Henvisning: gravid i uke 30 med hodepine og blodtrykk 145/95. Ønsker vurdering.\n".encode(),
        ),
    ]


@demo_loader("documents", after=("core",))
async def load_documents_demo(settings: Settings) -> str:
    """Three documents from two organisations; loading again adds nothing."""
    patient_id = await demo_patient_id()
    store = store_for(settings.document_store)
    added = 0
    for clinician, metadata, content_type, content in _documents():
        async with DB.transaction(), DB.connection() as connection:
            if await queries.lock_document(connection, patient_id, metadata.id) is not None:
                continue
            staged = await store.stage(connection, patient_id, once(content))
            await store.keep(connection, patient_id, staged)
            new = queries.NewDocument(
                metadata=metadata,
                organisation=clinician.org_number,
                org_kind=clinician.org_kind,
                author_hpr=clinician.hpr,
                author_name=clinician.name,
                author_authorization=clinician.authorization,
                content_type=content_type,
                size=staged.size,
                sha256=staged.sha256,
                created_at=utcnow(),
            )
            await queries.insert_document(connection, patient_id, new)
            await events.append_event(patient_id, events.EventType.DOCUMENT_ADDED, metadata.id, citizen_visible=True)
            added += 1
    return f"documents: {added} added (epicrisis, radiology report, referral)"
