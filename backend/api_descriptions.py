"""What API users read about each schema component of openapi.json, written for them and kept in one place.

Struct docstrings are notes for developers (and msgspec's handling of them changes between versions), so
backend.core.contract strips them and puts these descriptions in their place. A component not named here
has no description; add one here, not in a docstring.
"""

from __future__ import annotations

SCHEMA_DESCRIPTIONS: dict[str, str] = {
    # patients and the core mechanisms
    "Me": "The signed-in citizen: her opaque patient id and the consents she has given",
    "AccessLogEntry": "One access to the citizen's data: who (name, HPR, organisation), when, what and on which basis "
    "(`representative`: someone acting for her, `actorKind` citizen, her patient id in `representative`)",
    "GuardianshipIn": "The population register's parent–child link: both fødselsnumre (never echoed) and whether "
    "it is in force",
    "PowerOfAttorneyIn": "A power of attorney to an adult (18+), by fødselsnummer (never echoed): its scopes and an "
    "optional end (`until`, in the future)",
    "PowerOfAttorneyCreated": "The new power of attorney's id (revoke it with DELETE /me/representatives/{id})",
    "Representative": "A power of attorney she has given and that is in force: to whom (`patientId`), its scopes, "
    "from when and until when",
    "RepresentativeList": "Her powers of attorney in force, oldest first",
    "Represented": "Someone the citizen may act for now with the Helsekort-Act-For header: as guardian (scopes by the "
    "child's age: all under 12, medications and prescriptions from 12 to 15) or with power of attorney",
    "ChangePage": "The citizen's change feed since a sequence number; `next` is the `since` of the next call",
    "LookupIn": "A fødselsnummer or D-nummer to find the patient by (sent in the body, never in a URL)",
    "LookupOut": "The patient's opaque id, to use in every patient URL",
    "CareRelationIn": "A care relation the clinician's organisation attests (its kind must be one it may attest)",
    "EmergencyAccessIn": "Why the clinician needs emergency access; logged and told to the citizen",
    "EmergencyAccessOut": "Emergency access is open until `until`",
    "HealthStatus": "The service's state",
    # journal documents
    "DocumentMetadataIn": "The `metadata` part of an upload: the sender's own UUID (re-sending it is idempotent), type, "
    "title, date, department; `visibleToPatient: false` needs `hiddenReason`; `replaces` supersedes a current document "
    "of the same organisation",
    "ClinicianDocument": "A journal document's metadata as a clinician sees it: who wrote it where, its content (type, "
    "size, SHA-256) and status; `restricted` when the patient restricted it (seen only by its organisation and under "
    "emergency access)",
    "CitizenDocument": "One of the citizen's journal documents; `restricted` is her own restriction",
    "ClinicianDocumentPage": "Documents the caller may see, newest first; `restrictedCount` counts those the patient's "
    "restrictions hide from the caller",
    "CitizenDocumentPage": "The citizen's documents, newest first (never one the author hid from her)",
    "DocumentAuthor": "The clinician who published the document",
    "EnteredInErrorIn": "Why the document is retracted (the author's organisation only)",
    # municipal services and the legevakt overview
    "MunicipalServiceIn": "A municipal service decision as the municipality's record system sends it, by its own decision "
    "id (the path): the service code, status, from/until dates, frequency, the provider with the phone number and "
    "hours to call, an optional coordinator; `municipality` (optional) must be the caller's own",
    "MunicipalServiceOut": "A municipal service as its municipality last wrote it, with its Norwegian label, version and "
    "`stale` (true when not updated for 90 days)",
    "MunicipalServiceList": "The services of the municipalities the caller may read (her own, her legevakt district's, "
    "those sharing nationally); `otherMunicipalitiesCount` counts the services of the others",
    "CitizenMunicipalServiceList": "All of the citizen's municipal services, with whom to call",
    "Provider": "Who provides the service: name, unit, phone number and when it answers (e.g. 24/7)",
    "Coordinator": "The citizen's coordinator for the service",
    "ServiceHistory": "Versions of one municipal service, newest first",
    "ServiceVersionOut": "One version: who wrote it and when, which fields changed, and the service as written",
    "Overview": "The legevakt's one-screen summary of a patient (one audit row): municipal services active or paused, "
    "current medicines, active prescriptions, the newest vitals and NEWS2 of the last 72 hours, pregnancy status "
    "only with her consent (otherwise the field is left out), flagged lab results of the last 14 days, the newest five documents, open alerts; "
    "a section this build does not serve is null",
    "OverviewPatient": "The patient's age in whole years and legal sex, from her identity number",
    "OverviewVitals": "The newest reading of each vital sign and the newest NEWS2 score of the last 72 hours",
    "OverviewPregnancy": "Pregnancy status and today's gestational age (only with her consent)",
    # measurements
    "UploadIn": "A batch of home measurements, at most 1,000 items; each is checked and answered on its own",
    "UploadItem": "One reading: a LOINC `code` with `value` and `unit`, or `components` for a panel such as blood pressure",
    "ReadingComponent": "One part of a panel reading (e.g. the systolic value of a blood pressure)",
    "MeasuringDevice": "The device that measured, as the app knows it",
    "UploadOut": "One result per uploaded item, in the order sent",
    "UploadResult": "The answer for one item: created, duplicate or rejected (with the reason)",
    "Series": "One code's values in a period, oldest first, for charts",
    "News2RecordIn": "A set of vital signs to store and score; `spo2Scale: 2` only for a recorded 88-92 % target",
    "News2Result": "The NEWS2 score and its sub-scores (Royal College of Physicians, NEWS2, 2017)",
    # lab results
    "LabReportIn": "A lab report as JSON: requester, performing laboratory, observations and optional panels",
    "ObservationIn": "One observed value with its unit and reference range",
    "Panel": "Observations that belong together (a blood count, a liver panel) and are shown as a group",
    "PerformingLab": "The laboratory that performed the analyses",
    "Requester": "The clinician who requested the analyses",
    "ReferenceRange": "The reference range of a value, as numbers or as text",
    "LabReportReceipt": "The stored report: its id, version, release state (when the citizen will see it) and content",
    "CitizenLabResult": "A released lab result as the citizen sees it",
    # medications
    "MedicationListIn": "The whole list as read at the version named in If-Match, with the caller's changes",
    "MedicationListOut": "The patient's medication list at its current version (also the ETag)",
    "Author": "A clinician beside what she wrote, acknowledged or prescribed: HPR number, name, authorization (LE, JO, SP), organisation number and kind",
    "DiscrepancyIn": "The citizen's report that an entry of her list is wrong",
    "MedicationEntry": "One entry of the list, read and sent back as it is; `prescription` is read-only (ignored on PUT)",
    "PrescriptionSummary": "The entry's current prescription (its newest): id, status and last valid day",
    "PrescriptionEvent": "Something that happened to a prescription of the list: prescribed, cancelled, replaced by an approved renewal, or dispensed",
    # prescriptions (SFM)
    "PrescriptionIn": "A prescription of a current list entry; `id` is the prescriber's (the same id and content again is a replay, other content 409); `validUntil` at most one year ahead (default one year); `quantity` is one dispensing, `dispensings` how many",
    "PrescriptionOut": 'A prescription with its status computed now: active, completed (nothing left), expired (after `validUntil`) or cancelled. A prescription replaced by an approved renewal is `cancelled` with `cancelReason` "replaced" and `replacedBy` naming the new one, which names it in `replaces`',
    "PrescriptionPage": "Prescriptions newest first; a pharmacy sees only active ones",
    "PrescriptionWarning": "A drug catalogue (FEST) warning on the prescribed medicine, for clinicians with access: `interaction` with another current entry of the list (`atc` names it), or `pregnancy` for a woman with an ongoing pregnancy, shown only to clinicians who may see the pregnancy",
    "Quantity": "An amount and its unit (e.g. 30 tablett)",
    "PrescribedMedication": "The medicine as prescribed, copied from the list entry",
    "PrescriberOut": "The clinician (or pharmacy) who wrote it: HPR number, name and organisation number",
    "CancelPrescriptionIn": "Why the prescription is cancelled",
    "DispensingIn": "One dispensing at the pharmacy: at most the prescribed quantity, in its unit, at a time not in the future",
    "DispensingOut": "The recorded dispensing and how many dispensings are left",
    "RenewalRequestIn": "The citizen's request to renew a prescription, with an optional note to her GP",
    "RenewalRequestOut": "A renewal request and its answer: approved (with the new prescription) or declined (with the reason)",
    "RenewalRequestPage": "Renewal requests newest first",
    "ApproveRenewalIn": "Approve: a new prescription of the same entry, dosage and quantity replaces the old one; `validUntil` (default one year) and `dispensings` (default as before) may be changed",
    "DeclineRenewalIn": "Why the request is declined; the citizen reads it in the app",
    # pregnancy card
    "PregnancyCard": "The whole pregnancy card (Helsekort for gravide); its `version` is the ETag",
    "EntryAuthor": "Who wrote an entry: name, HPR number, role (LE, JO, SP), organisation and time",
    # push notifications
    "DeviceIn": "A phone to push to: `ios` (an APNs token) or `android` (an FCM registration token), and the language of its texts",
    "Notification": "One notification in the citizen's inbox: its kind, the kind's fixed text in the asked locale, and what to open",
    "NotificationList": "The citizen's notifications, newest first, kept 12 months; `unread` counts all her unread ones",
    "ReadAll": "How many notifications were marked read now, and how many are left unread",
    "Preferences": "Which kinds of notification push to her phones, and her quiet hours (`null`: the service's)",
    "PreferenceKinds": "Each kind on (pushes) or off (only in the inbox); a kind left out is on",
    # content
    "Page": "A published page of the CMS in one locale",
    "PageIn": "A new page, saved as a draft",
    "DraftIn": "The new draft of a page, built on the version named in If-Match",
    "EditorPage": "A page as editors see it: draft, publication state and version (the ETag)",
}
