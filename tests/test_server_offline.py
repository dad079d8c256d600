"""The server side stays on the intranet too: starting the app and opening pages sends no HTTP request out.

Any outbound HTTP(S) from the server process (requests / urllib honour HTTP(S)_PROXY) is routed to a
local trap socket; the test fails if the trap sees a connection.
"""
import socket
import sys
import threading
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from browser import AppServer  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


class ServerAsDeployed(AppServer):
    """Started the way `make run` starts it: listening on every interface, not only 127.0.0.1."""

    def command(self, port: int) -> list[str]:
        return [sys.executable, "-m", "streamlit", "run", str(self.script), "--server.port", str(port),
                "--server.fileWatcherType", "none"]
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_server_makes_no_outbound_request(demo_url, page_probe):
    trap = socket.socket()
    trap.bind(("127.0.0.1", 0))
    trap.listen()
    trap.settimeout(0.2)
    seen: list[str] = []
    stop = threading.Event()

    def watch():
        while not stop.is_set():
            try:
                conn, _ = trap.accept()
            except OSError:
                continue
            seen.append(conn.recv(200).decode("latin-1", "replace").splitlines()[0] if conn else "")
            conn.close()

    threading.Thread(target=watch, daemon=True).start()
    proxy = f"http://127.0.0.1:{trap.getsockname()[1]}"
    env = {"DATABASE_URL": demo_url, "HTTP_PROXY": proxy, "HTTPS_PROXY": proxy, "http_proxy": proxy,
           "https_proxy": proxy, "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
    server = ServerAsDeployed(ROOT / "app.py", env=env).start()
    try:
        for path in ("weekly_review", "facilities", "aid"):
            assert page_probe(f"{server.url}/{path}?period=2024-H1").ok
        log = server.log_text()
    finally:
        server.close()
        stop.set()
        trap.close()
    assert seen == [], f"the server tried to reach: {seen}"
    assert "external IP" not in log
