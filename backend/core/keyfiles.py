"""Per-machine secret files for dev and test (signing keys, the patient key), created once, atomically."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def ensure_secret_file(path: Path, make: Callable[[], bytes]) -> bytes:
    """Return the file's bytes, creating it with `make()` first if absent; safe when processes race."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            os.fchmod(handle, 0o600)
            os.write(handle, make())
            os.close(handle)
            # link() fails if another process won the race; then we read theirs.
            with contextlib.suppress(FileExistsError):
                os.link(temporary, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
    return path.read_bytes()
