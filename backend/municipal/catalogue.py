"""The municipal service catalogue (API.md's codes) with labels in Bokmål, Nynorsk and English, as data.

`serviceLabel` in every answer is the Bokmål label; the three languages are here for the apps and the CMS.
"""

from __future__ import annotations

from typing import Final, Literal

Locale = Literal["nb", "nn", "en"]

SERVICES: Final[dict[str, dict[Locale, str]]] = {
    "home-nursing": {"nb": "Hjemmesykepleie", "nn": "Heimesjukepleie", "en": "Home nursing"},
    "practical-assistance": {"nb": "Praktisk bistand", "nn": "Praktisk bistand", "en": "Practical assistance"},
    "safety-alarm": {"nb": "Trygghetsalarm", "nn": "Tryggleiksalarm", "en": "Safety alarm"},
    "short-term-stay": {"nb": "Korttidsopphold", "nn": "Korttidsopphald", "en": "Short-term stay"},
    "long-term-stay": {"nb": "Langtidsopphold", "nn": "Langtidsopphald", "en": "Long-term stay"},
    "respite-care": {"nb": "Avlastning", "nn": "Avlasting", "en": "Respite care"},
    "day-centre": {"nb": "Dagsenter", "nn": "Dagsenter", "en": "Day centre"},
    "personal-assistance": {
        "nb": "Brukerstyrt personlig assistanse",
        "nn": "Brukarstyrt personleg assistanse",
        "en": "User-controlled personal assistance",
    },
    "mental-health": {"nb": "Psykisk helsetjeneste", "nn": "Psykisk helseteneste", "en": "Mental health services"},
    "substance-use": {"nb": "Rustjeneste", "nn": "Rusteneste", "en": "Substance use services"},
    "rehabilitation": {"nb": "Rehabilitering", "nn": "Rehabilitering", "en": "Rehabilitation"},
    "physiotherapy": {"nb": "Fysioterapi", "nn": "Fysioterapi", "en": "Physiotherapy"},
    "occupational-therapy": {"nb": "Ergoterapi", "nn": "Ergoterapi", "en": "Occupational therapy"},
    "meals-on-wheels": {"nb": "Middagslevering", "nn": "Middagslevering", "en": "Meals on wheels"},
    "municipal-acute-bed": {
        "nb": "Kommunal akutt døgnplass",
        "nn": "Kommunal akutt døgnplass",
        "en": "Municipal acute bed",
    },
    "individual-plan": {"nb": "Individuell plan", "nn": "Individuell plan", "en": "Individual plan"},
}


def is_known(code: str) -> bool:
    return code in SERVICES


def label(code: str, locale: Locale = "nb") -> str:
    """The service's label in `locale` (Bokmål by default); the code itself for a code the catalogue lost."""
    return SERVICES.get(code, {}).get(locale, code)
