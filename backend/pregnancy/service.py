"""The pregnancy card's services, one module per sub-resource; this is the surface routes and the demo call.

| module | holds |
|---|---|
| `rules.py` | the Needs (who may read and write a card) and the checks that are pure rules |
| `card.py` | the card: create, read, list, header (versioned), outcome |
| `entries.py` | the clinicians' entries: consultations (corrected as versions), ultrasounds, vaccines, tests, earlier pregnancies |
| `woman.py` | her own notes and self-registrations |
| `printout.py` | the printable card (PDF) |
| `view.py` | the whole card as shown: entries, due date in force, the programme's status |
| `queries.py` | every SQL statement, with typed rows |

Every function touching a card takes the Grant of the access decision (`rules.READ`, `rules.WRITE`,
`rules.create_need`); the route asks `authorize` after the body checks (`check_*`) that need no patient data.
"""

from __future__ import annotations

from backend.pregnancy.card import (
    HeaderChange,
    NewCard,
    check_header_patch,
    check_new_card,
    create_card,
    header_history,
    list_cards,
    read_card,
    read_my_card,
    record_outcome,
    update_header,
)
from backend.pregnancy.entries import (
    add_consultation,
    add_earlier_pregnancy,
    add_test,
    add_ultrasound,
    add_vaccine,
    check_earlier_pregnancy,
    consultation_history,
    correct_consultation,
)
from backend.pregnancy.printout import MODE_NB, PRESENTATION_NB, ROLE_NB, VACCINE_NB, card_pdf, printout
from backend.pregnancy.rules import CONSENT, READ, RESOURCE, WRITE, CheckedTest, check_test, create_need
from backend.pregnancy.view import INFLUENZA_MONTHS, conditions_of, done_keys, latest_fetal_rhd
from backend.pregnancy.woman import add_note, add_self_registration

__all__ = [
    "CONSENT",
    "INFLUENZA_MONTHS",
    "MODE_NB",
    "PRESENTATION_NB",
    "READ",
    "RESOURCE",
    "ROLE_NB",
    "VACCINE_NB",
    "WRITE",
    "CheckedTest",
    "HeaderChange",
    "NewCard",
    "add_consultation",
    "add_earlier_pregnancy",
    "add_note",
    "add_self_registration",
    "add_test",
    "add_ultrasound",
    "add_vaccine",
    "card_pdf",
    "check_earlier_pregnancy",
    "check_header_patch",
    "check_new_card",
    "check_test",
    "conditions_of",
    "consultation_history",
    "correct_consultation",
    "create_card",
    "create_need",
    "done_keys",
    "header_history",
    "latest_fetal_rhd",
    "list_cards",
    "printout",
    "read_card",
    "read_my_card",
    "record_outcome",
    "update_header",
]
