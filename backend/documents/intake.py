"""An upload as it streams in: the multipart parts or the FHIR DocumentReference, and the file checked on the way.

Nothing here buffers the file: the `content` part is handed on piece by piece as the request's chunks arrive
(python-multipart's push parser), and `Inspected` holds the file to the limit, checks its first bytes against
the declared type (415 as soon as they disagree) and, for text, that it is UTF-8 without NUL. The FHIR form
carries the file base64-encoded in JSON, so it is decoded whole; its size is bounded by the route's body limit.
"""

from __future__ import annotations

import base64
import binascii
import codecs
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import msgspec
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from backend.core.errors import BadRequest, PayloadTooLarge
from backend.core.fields import field_errors
from backend.core.inputs import UnsupportedMediaType
from backend.documents.schemas import DocumentMetadataIn

MULTIPART = "multipart/form-data"
FHIR_JSON = "application/fhir+json"
MAX_METADATA_BYTES = 64 * 1024

# The first bytes each allowed type must start with (text/plain is checked as UTF-8 instead).
MAGIC: dict[str, tuple[bytes, ...]] = {
    "application/pdf": (b"%PDF-",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
}
ALLOWED = ("application/pdf", "text/plain", "image/jpeg", "image/png")
_LONGEST_MAGIC = 8


def declared_type(header: str | None) -> str:
    """The file's declared media type, without parameters (`text/plain; charset=utf-8` → `text/plain`); 415 if not allowed."""
    media = (header or "").split(";", 1)[0].strip().lower()
    if media not in ALLOWED:
        raise UnsupportedMediaType(
            f"content: {media or 'no content type'} is not accepted; send one of {', '.join(ALLOWED)}"
        )
    return media


class Inspected:
    """The file's bytes as they pass, held to the rules: the limit (413), the type's first bytes (415), not empty."""

    def __init__(self, chunks: AsyncIterable[bytes], content_type: str, limit: int) -> None:
        self.chunks, self.content_type, self.limit = chunks, content_type, limit
        self.size = 0
        self._head = b""
        self._text = codecs.getincrementaldecoder("utf-8")("strict") if content_type == "text/plain" else None

    def _check_head(self, final: bool) -> None:
        if len(self._head) < _LONGEST_MAGIC and not final:
            return
        head, self._head = self._head, b"checked"
        if head == b"checked":
            return
        magic = MAGIC.get(self.content_type)
        if magic is not None and not head.startswith(magic):
            raise UnsupportedMediaType(f"content: the file is not {self.content_type} (its first bytes say otherwise)")
        if magic is None and any(head.startswith(m) for ms in MAGIC.values() for m in ms):
            raise UnsupportedMediaType("content: the file is not text/plain (its first bytes say otherwise)")

    def _check_text(self, piece: bytes, final: bool) -> None:
        if self._text is None:
            return
        if b"\x00" in piece:
            raise UnsupportedMediaType("content: text/plain must not contain NUL bytes")
        try:
            self._text.decode(piece, final)
        except UnicodeDecodeError:
            raise UnsupportedMediaType("content: text/plain must be UTF-8") from None

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for piece in self.chunks:
            if not piece:
                continue
            self.size += len(piece)
            if self.size > self.limit:
                raise PayloadTooLarge(f"content: the file is larger than the limit of {self.limit} bytes")
            if self._head != b"checked":
                self._head += piece[:_LONGEST_MAGIC]
                self._check_head(final=False)
            self._check_text(piece, final=False)
            yield piece
        if self.size == 0:
            raise BadRequest("content: the file is empty", field="content")
        self._check_head(final=True)
        self._check_text(b"", final=True)


def metadata_from(document: Any) -> DocumentMetadataIn:
    """The metadata document as the struct, every invalid field named (`metadata.title`, ...); 400 otherwise."""
    errors = field_errors(document, DocumentMetadataIn, "metadata")
    if errors:
        raise BadRequest(
            "; ".join(f"{e['field']}: {e['message']}" for e in errors), field=errors[0]["field"], errors=errors
        )
    metadata = msgspec.convert(document, DocumentMetadataIn, strict=False)
    if not metadata.visible_to_patient and not (metadata.hidden_reason or "").strip():
        raise BadRequest(
            "metadata.hiddenReason: say why the document is not visible to the patient",
            field="metadata.hiddenReason",
        )
    if metadata.visible_to_patient and metadata.hidden_reason is not None:
        raise BadRequest(
            "metadata.hiddenReason: only for a document not visible to the patient", field="metadata.hiddenReason"
        )
    if "\x00" in metadata.title or "\x00" in (metadata.department or "") or "\x00" in (metadata.hidden_reason or ""):
        raise BadRequest("metadata: text must not contain NUL characters", field="metadata")
    return metadata


def decode_metadata(raw: bytes) -> DocumentMetadataIn:
    try:
        document = msgspec.json.decode(raw)
    except (msgspec.DecodeError, RecursionError):
        raise BadRequest("metadata: not a JSON document", field="metadata") from None
    return metadata_from(document)


# --- multipart/form-data, parsed as it streams -----------------------------------------------------------------------


@dataclass
class Part:
    name: str
    content_type: str | None
    data: AsyncIterator[bytes] = field(repr=False)


def boundary_of(content_type: str | None) -> bytes:
    media, options = parse_options_header(content_type or "")
    boundary = options.get(b"boundary")
    if media != MULTIPART.encode() or not boundary or len(boundary) > 200:
        raise BadRequest("the body is multipart/form-data without a valid boundary", field="body")
    return boundary


def _disposition_name(value: bytes) -> str | None:
    media, options = parse_options_header(value)
    if media != b"form-data":
        return None
    name = options.get(b"name")
    return name.decode("utf-8", "replace") if name is not None else None


async def parts(body: AsyncIterable[bytes], boundary: bytes) -> AsyncIterator[Part]:
    """The form's parts in order; each part's `data` must be read (or is drained) before the next is yielded."""
    events: list[tuple[str, Any]] = []
    header: dict[str, bytearray] = {"field": bytearray(), "value": bytearray()}
    headers: dict[bytes, bytes] = {}

    def on_header_field(data: bytes, start: int, end: int) -> None:
        header["field"] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        header["value"] += data[start:end]

    def on_header_end() -> None:
        headers[bytes(header["field"]).lower()] = bytes(header["value"])
        header["field"], header["value"] = bytearray(), bytearray()

    def on_headers_finished() -> None:
        events.append(("part", dict(headers)))
        headers.clear()

    def on_part_data(data: bytes, start: int, end: int) -> None:
        events.append(("data", bytes(data[start:end])))

    def on_part_end() -> None:
        events.append(("end", None))

    def on_end() -> None:
        events.append(("done", None))

    parser = MultipartParser(
        boundary,
        {
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
            "on_end": on_end,
        },
    )

    async def stream() -> AsyncIterator[tuple[str, Any]]:
        async for chunk in body:
            try:
                parser.write(chunk)
            except MultipartParseError:
                raise BadRequest("the body is not valid multipart/form-data", field="body") from None
            batch = events[:]
            events.clear()
            for event in batch:
                yield event
        try:
            parser.finalize()
        except MultipartParseError:
            raise BadRequest("the body is not valid multipart/form-data", field="body") from None
        for event in events:
            yield event

    source = stream()

    async def data() -> AsyncIterator[bytes]:
        async for kind, value in source:
            if kind == "data":
                yield value
            elif kind == "end":
                return
        raise BadRequest("the body ends in the middle of a part", field="body")

    async for kind, value in source:
        if kind == "done":
            return
        if kind != "part":
            continue
        name = _disposition_name(value.get(b"content-disposition", b""))
        if name is None:
            raise BadRequest("every part needs Content-Disposition: form-data with a name", field="body")
        content_type = value.get(b"content-type")
        part = Part(name, content_type.decode("latin-1") if content_type is not None else None, data())
        yield part
        async for _ in part.data:  # whatever the consumer left of the part
            pass
    raise BadRequest("the body ends before the closing boundary", field="body")


async def read_small(part: Part, limit: int = MAX_METADATA_BYTES) -> bytes:
    buffer = bytearray()
    async for piece in part.data:
        buffer += piece
        if len(buffer) > limit:
            raise BadRequest(f"{part.name}: larger than {limit} bytes", field=part.name)
    return bytes(buffer)


# --- FHIR DocumentReference with an inline attachment ------------------------------------------------------------

# LOINC document codes (the kinds an MHD DocumentReference carries) → our type.
FHIR_TYPE_CODES = {
    "18842-5": "epicrisis",  # Discharge summary
    "11488-4": "outpatient-note",  # Consult note
    "57133-1": "referral",  # Referral note
    "18748-4": "radiology-report",  # Diagnostic imaging study
    "11502-2": "lab-report",  # Laboratory report
    "34133-9": "summary",  # Summary of episode note
}


@dataclass(frozen=True, slots=True)
class FhirUpload:
    metadata: DocumentMetadataIn
    content_type: str
    content: bytes


def _fhir_error(message: str, where: str) -> BadRequest:
    return BadRequest(f"{where}: {message}", field=where)


HIDDEN_REASON_EXTENSION = "urn:helsekort:document:hidden-reason"
TYPE_SYSTEM = "urn:helsekort:document-type"


def _type_of(resource: dict[str, Any]) -> str:
    kind = resource.get("type")
    codings = kind.get("coding") if isinstance(kind, dict) else None
    for coding in codings if isinstance(codings, list) else []:
        if not isinstance(coding, dict):
            continue
        if coding.get("system") == TYPE_SYSTEM and isinstance(coding.get("code"), str):
            return str(coding["code"])
        if coding.get("code") in FHIR_TYPE_CODES:
            return FHIR_TYPE_CODES[coding["code"]]
    return "other"


def read_fhir(raw: bytes, limit: int) -> FhirUpload:
    """A FHIR R4 DocumentReference (IHE MHD style) with one inline attachment, as our metadata and file.

    `masterIdentifier.value`: the sender's UUID; `type.coding`: LOINC (or `urn:helsekort:document-type`);
    `description`: the title; `date`; `context.practiceSetting.text`: department; `relatesTo` `replaces`;
    the extension `urn:helsekort:document:hidden-reason` (valueString) hides it from the patient with that reason.
    """
    try:
        resource = msgspec.json.decode(raw)
    except (msgspec.DecodeError, RecursionError):
        raise BadRequest("the body is not valid JSON", field="body") from None
    if not isinstance(resource, dict) or resource.get("resourceType") != "DocumentReference":
        raise _fhir_error("must be DocumentReference", "resourceType")
    contents = resource.get("content")
    if not isinstance(contents, list) or len(contents) != 1 or not isinstance(contents[0], dict):
        raise _fhir_error("exactly one content with an inline attachment", "content")
    attachment = contents[0].get("attachment")
    if not isinstance(attachment, dict) or not isinstance(attachment.get("data"), str):
        raise _fhir_error("an inline base64 attachment is required", "content[0].attachment.data")
    declared = attachment.get("contentType")
    content_type = declared_type(declared if isinstance(declared, str) else None)
    encoded: str = attachment["data"]
    if len(encoded) > (limit + 2) // 3 * 4 + 4:
        raise PayloadTooLarge(f"content: the file is larger than the limit of {limit} bytes")
    try:
        content = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise _fhir_error("not valid base64", "content[0].attachment.data") from None
    master = resource.get("masterIdentifier")
    when = resource.get("date")
    metadata: dict[str, Any] = {
        "id": master.get("value") if isinstance(master, dict) else None,
        "type": _type_of(resource),
        "title": resource.get("description"),
        "date": when[:10] if isinstance(when, str) else None,
    }
    relations = resource.get("relatesTo")
    for relation in relations if isinstance(relations, list) else []:
        target = relation.get("target") if isinstance(relation, dict) else None
        reference = target.get("reference") if isinstance(target, dict) else None
        if isinstance(relation, dict) and relation.get("code") == "replaces" and isinstance(reference, str):
            metadata["replaces"] = reference.rsplit("/", 1)[-1]
    context = resource.get("context")
    setting = context.get("practiceSetting") if isinstance(context, dict) else None
    if isinstance(setting, dict) and isinstance(setting.get("text"), str):
        metadata["department"] = setting["text"]
    extensions = resource.get("extension")
    for extension in extensions if isinstance(extensions, list) else []:
        if isinstance(extension, dict) and extension.get("url") == HIDDEN_REASON_EXTENSION:
            metadata["visibleToPatient"] = False
            metadata["hiddenReason"] = extension.get("valueString")
    return FhirUpload(metadata_from(metadata), content_type, content)


async def once(content: bytes) -> AsyncIterator[bytes]:
    yield content
