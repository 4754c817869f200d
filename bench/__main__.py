"""`python -m bench` (what `make bench` runs)."""

from bench.harness import main

raise SystemExit(main())
