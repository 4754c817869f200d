"""The CMS topic vocabulary: page tags the app lets citizens follow for push notifications."""

from __future__ import annotations

TOPICS: dict[str, str] = {
    "e-helse": "Nasjonale e-helseløsninger",
    "legemidler": "Legemidler",
    "provesvar": "Prøvesvar",
    "maledata": "Måledata",
    "svangerskap": "Svangerskap",
    "journal": "Journal",
    "kommune": "Kommunale tjenester",
}


def is_topic(name: str) -> bool:
    return name in TOPICS
