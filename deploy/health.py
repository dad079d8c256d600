"""Wait until a replica answers on /_stcore/health: ``python -m deploy.health 8501 [--timeout 60] [--warm]``.

--warm: then open one anonymous session (the sign-in page, over Streamlit's websocket like a browser tab) so the
replica's first run of app.py happens now: it declares the map component (components/map_component.py), whose files
a tab that failed over from another replica fetches from this one by its routing cookie.

The systemd unit's ExecStartPost (deploy/systemd/minzheng@.service): the unit counts as started only once the
replica serves, which is what nginx and the browsers' reconnects probe. Exit status 0 healthy, 1 not in time."""
from __future__ import annotations

import argparse
import sys
import time
import urllib.error
import urllib.request


def warm(port: int, timeout: float = 60.0) -> bool:
    """One anonymous run of app.py on the replica at `port` (its sign-in page). True when the run finished."""
    import asyncio

    from bench.wsclient import StreamlitSession

    async def one() -> bool:
        async with StreamlitSession(f"http://127.0.0.1:{port}", timeout=timeout) as s:
            res = await s.run()
            return res.status == "finished"

    result: list[bool] = []

    def in_own_thread() -> None:  # its own event loop: the caller's thread may have one running (Playwright's)
        try:
            result.append(asyncio.run(one()))
        except Exception:  # noqa: BLE001 - a failed warm-up only leaves the first real visit to do it
            result.append(False)

    import threading

    t = threading.Thread(target=in_own_thread, daemon=True)
    t.start()
    t.join(timeout + 5)
    return bool(result and result[0])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m deploy.health")
    ap.add_argument("port", type=int)
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--warm", action="store_true", help="then run app.py once (declares the map component)")
    a = ap.parse_args(argv)
    deadline = time.monotonic() + a.timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{a.port}/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    if a.warm and not warm(a.port, max(5.0, deadline - time.monotonic())):
                        print(f"看板副本（端口 {a.port}）已就绪，但预热运行未完成", file=sys.stderr)
                    return 0
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        time.sleep(0.5)
    print(f"看板副本（端口 {a.port}）在 {a.timeout:.0f} 秒内未就绪", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
