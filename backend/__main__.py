"""`python -m backend` is the `helsekort` command."""

from backend.cli import main

raise SystemExit(main())
