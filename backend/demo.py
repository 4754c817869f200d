"""`helsekort demo`: idempotent demo data; each capability adds its loader to DEMO_LOADERS."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from backend.settings import Settings

DemoLoader = Callable[[Settings], Awaitable[str]]

DEMO_LOADERS: list[DemoLoader] = []


async def load_demo(settings: Settings) -> str:
    if not DEMO_LOADERS:
        return "demo: no demo data is defined in this build"
    lines = [await loader(settings) for loader in DEMO_LOADERS]
    return "\n".join(lines)
