"""A signed-in caller cannot fill the server's memory with one request (issue 12, "Memory that an attacker
cannot fill"): a 300 MB chunked body with an Idempotency-Key is refused with 413 while it streams, and the
real server's resident memory stays flat. Before the fix the idempotency step read the whole body first
(113 MB → 1,039 MB for 400 MB).
"""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest

from tests.factories import synthetic_fnr

ROOT = Path(__file__).resolve().parent.parent.parent
BODY_BYTES = 300 * 1024 * 1024
CHUNK = 64 * 1024
ALLOWED_GROWTH_KB = 50 * 1024


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _tree_rss_kb(root: int) -> int:
    """Resident memory of the server's process tree (serve → granian → worker), PostgreSQL excluded."""
    children: dict[int, list[int]] = {}
    names: dict[int, str] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        parent = int(stat[stat.rindex(")") + 2 :].split()[1])
        children.setdefault(parent, []).append(int(entry))
        names[int(entry)] = name
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        stack.extend(children.get(pid, []))
        if names.get(pid, "").startswith("postgres"):
            continue
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total


def _stream_until_answered(port: int, token: str) -> tuple[bytes, int]:
    """Send a chunked POST of BODY_BYTES in small chunks; stop as soon as the server answers or hangs up."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    head = (
        "POST /citizen/v1/me/measurements HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {token}\r\n"
        f"Idempotency-Key: {uuid.uuid4()}\r\n"
        "Content-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    )
    sock.sendall(head.encode())
    chunk = f"{CHUNK:x}\r\n".encode() + b"x" * CHUNK + b"\r\n"
    sent = 0
    answer = b""
    try:
        while sent < BODY_BYTES:
            readable, writable, _ = select.select([sock], [sock], [], 10)
            if readable:
                break
            if not writable:
                continue
            sock.sendall(chunk)
            sent += CHUNK
        else:
            sock.sendall(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass
    try:
        sock.settimeout(10)
        while b"\r\n\r\n" not in answer:
            data = sock.recv(65536)
            if not data:
                break
            answer += data
    except (ConnectionResetError, TimeoutError):
        pass
    finally:
        sock.close()
    return answer, sent


@pytest.mark.slow
def test_a_300_mb_chunked_body_is_413_and_the_server_memory_stays_flat(database_url: str) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="helsekort-rss-"))
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELSEKORT_")}
    env.update(
        {
            "DATABASE_URL": database_url,
            "HELSEKORT_DATA_DIR": str(data_dir),
            "HELSEKORT_ENV": "dev",
            "HELSEKORT_LOG_LEVEL": "WARNING",
        }
    )
    token = subprocess.run(
        [sys.executable, "-m", "backend", "token", "citizen", "--pid", synthetic_fnr()],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    log = (data_dir / "serve.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "backend", "serve", "--port", str(port), "--workers", "1"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None, (data_dir / "serve.log").read_text(errors="replace")
            time.sleep(0.3)
        # A signed-in request first, so the worker's steady state (imports, pool, token keys) is the baseline.
        warm = httpx.get(
            f"http://127.0.0.1:{port}/citizen/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=10
        )
        assert warm.status_code == 200, warm.text
        before = _tree_rss_kb(process.pid)

        peak = before
        streaming = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not streaming.wait(0.05):
                peak = max(peak, _tree_rss_kb(process.pid))

        sampler = threading.Thread(target=sample)
        sampler.start()
        try:
            answer, sent = _stream_until_answered(port, token)
        finally:
            streaming.set()
            sampler.join()
        peak = max(peak, _tree_rss_kb(process.pid))
        assert answer.startswith(b"HTTP/1.1 413"), (answer[:300], sent)
        assert peak - before < ALLOWED_GROWTH_KB, f"server grew {(peak - before) // 1024} MB on a refused body"
        # Still serving.
        assert httpx.get(f"http://127.0.0.1:{port}/ready", timeout=5).status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
