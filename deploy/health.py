"""Wait until a replica answers on /_stcore/health: ``python -m deploy.health 8501 [--timeout 60]``.

The systemd unit's ExecStartPost (deploy/systemd/minzheng@.service): the unit counts as started only once the
replica serves, which is what nginx and the browsers' reconnects probe. Exit status 0 healthy, 1 not in time."""
from __future__ import annotations

import argparse
import sys
import time
import urllib.error
import urllib.request


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m deploy.health")
    ap.add_argument("port", type=int)
    ap.add_argument("--timeout", type=float, default=60.0)
    a = ap.parse_args(argv)
    deadline = time.monotonic() + a.timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{a.port}/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    return 0
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        time.sleep(0.5)
    print(f"看板副本（端口 {a.port}）在 {a.timeout:.0f} 秒内未就绪", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
