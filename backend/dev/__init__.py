"""Dev-only helpers that production never imports: the dev token issuers (`tokens.py`).

`backend/app.py` imports this package only when dev issuers are enabled (never in production), and
`helsekort token` only outside production; tests/test_layering.py proves a production app loads none of it.
"""
