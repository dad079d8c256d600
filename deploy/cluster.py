"""A local cluster: N Streamlit replicas of app.py on one PostgreSQL behind nginx, all on loopback ports.

    python -m deploy.cluster [--database-url URL] [--port 8500] [--replica-ports 8511,8512]      (make cluster)

Used by `make cluster` (a local try), tests/test_cluster.py and the load benchmark's --cluster mode
(bench/load.py). nginx runs as a child process in the foreground (`daemon off`) with its own prefix, pid, logs and
temp paths in a temporary folder: no /etc/nginx edits, nothing root-only. Its server block is the committed
deploy/nginx/minzheng.conf with only the listen port and the upstream's server lines replaced.

Every replica gets the same DATABASE_URL and the same server.cookieSecret (STREAMLIT_SERVER_COOKIE_SECRET), from
the environment (MZ_COOKIE_SECRET or STREAMLIT_SERVER_COOKIE_SECRET); for a local try without one, a random secret
is made for this run and handed to the replicas in their environment only, never written to disk.
"""
from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NGINX_SITE = ROOT / "deploy" / "nginx" / "minzheng.conf"
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/minzheng_cluster"
START_TIMEOUT_S = 90.0


def nginx_available() -> str | None:
    """The nginx binary (PATH, then /usr/sbin), or None."""
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)


def site_config(listen: str, replica_ports: list[int], access_log: str) -> str:
    """deploy/nginx/minzheng.conf for these ports: the `listen` line, the upstream's server lines and the access log
    path replaced, everything else as committed."""
    text = NGINX_SITE.read_text(encoding="utf-8")
    lines = text.splitlines()
    servers = [i for i, line in enumerate(lines) if re.match(r"\s+server 127\.0\.0\.1:\d+ ", line)]
    if not servers:
        raise RuntimeError(f"{NGINX_SITE}: no `server 127.0.0.1:…` line in the upstream")
    template = lines[servers[0]]
    new = [re.sub(r"127\.0\.0\.1:\d+", f"127.0.0.1:{p}", template) for p in replica_ports]
    lines = lines[:servers[0]] + new + [line for i, line in enumerate(lines[servers[0]:], servers[0])
                                        if i not in servers]
    out = "\n".join(lines) + "\n"
    out, n = re.subn(r"^(\s*)listen \S+;", lambda m: f"{m.group(1)}listen {listen};", out, count=1, flags=re.M)
    if n != 1:
        raise RuntimeError(f"{NGINX_SITE}: no `listen` line")
    out = re.sub(r"access_log \S+ minzheng;", f"access_log {access_log} minzheng;", out)
    return out


def main_config(prefix: Path, site: Path) -> str:
    """The nginx.conf around the site: foreground, its own pid, error log and temp paths under `prefix`."""
    user = "user root;\n" if os.geteuid() == 0 else ""  # as root, workers would switch to nobody (no access to prefix)
    return (f"{user}daemon off;\nworker_processes 1;\npid {prefix}/nginx.pid;\nerror_log {prefix}/error.log warn;\n"
            "events { worker_connections 1024; }\n"
            "http {\n"
            f"    client_body_temp_path {prefix}/client_body;\n    proxy_temp_path {prefix}/proxy;\n"
            f"    fastcgi_temp_path {prefix}/fastcgi;\n    uwsgi_temp_path {prefix}/uwsgi;\n"
            f"    scgi_temp_path {prefix}/scgi;\n"
            "    default_type application/octet-stream;\n"
            f"    include {site};\n"
            "}\n")


def _healthy(url: str, headers: dict | None = None) -> bool:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=2) as resp:
            return resp.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


class Replica:
    """One `streamlit run app.py` on a fixed loopback port."""

    def __init__(self, port: int, env: dict, log: Path):
        self.port, self.env, self.log_path = port, env, log
        self.process: subprocess.Popen | None = None
        self.peak_rss_mb = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        cmd = [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port", str(self.port),
               "--server.address", "127.0.0.1", "--server.headless", "true", "--server.fileWatcherType", "none",
               "--browser.gatherUsageStats", "false"]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True)

    def wait_healthy(self, timeout: float = START_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                tail = self.log_path.read_text(encoding="utf-8", errors="replace")[-3000:]
                raise RuntimeError(f"replica :{self.port} exited ({self.process.returncode}):\n{tail}")
            if _healthy(f"{self.url}/_stcore/health"):
                return
            time.sleep(0.3)
        raise RuntimeError(f"replica :{self.port} not healthy after {timeout:.0f} s")

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def rss_mb(self) -> dict:
        """VmRSS and VmHWM (peak) of the live process, in MB; the peak is also kept in peak_rss_mb."""
        out = {}
        try:
            for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
                if line.startswith(("VmHWM:", "VmRSS:")):
                    out[line.split(":")[0]] = round(int(line.split()[1]) / 1024, 1)
        except (OSError, AttributeError):
            pass
        self.peak_rss_mb = max(self.peak_rss_mb, out.get("VmHWM", 0.0))
        return out

    def kill(self) -> None:
        """SIGKILL, as a crash would: no goodbye to its websockets."""
        if self.alive():
            self.rss_mb()
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        proc, self.process = self.process, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


class Cluster:
    """N replicas + nginx. ``with Cluster(url) as c: c.url …``; c.kill(i) / c.restart(i) for failover tests."""

    def __init__(self, database_url: str, *, replicas: int = 2, port: int = 0, replica_ports: list[int] | None = None,
                 cookie_secret: str | None = None, env: dict | None = None):
        if not nginx_available():
            raise RuntimeError("nginx 未安装：apt-get install -y --no-install-recommends nginx-light")
        self.dir = Path(tempfile.mkdtemp(prefix="mz-cluster-"))
        os.chmod(self.dir, 0o755)
        ports = list(replica_ports or [])
        while len(ports) < replicas:
            ports.append(_free_port(exclude=ports + [port]))
        self.port = port or _free_port(exclude=ports)
        secret = (cookie_secret or os.environ.get("MZ_COOKIE_SECRET") or os.environ.get("STREAMLIT_SERVER_COOKIE_SECRET")
                  or secrets.token_hex(32))
        base_env = {**os.environ, **(env or {}), "DATABASE_URL": database_url,
                    "STREAMLIT_SERVER_COOKIE_SECRET": secret,
                    "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        base_env.pop("MZ_COOKIE_SECRET", None)
        self.replicas = [Replica(p, base_env, self.dir / f"replica-{p}.log") for p in ports[:replicas]]
        self.access_log = self.dir / "access.log"
        self.nginx: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # ------------------------------------------------------------------------------------------ lifecycle

    def start(self) -> "Cluster":
        try:
            for r in self.replicas:
                r.start()
            for r in self.replicas:
                r.wait_healthy()
            self._start_nginx()
        except BaseException:
            self.stop()
            raise
        return self

    def _start_nginx(self) -> None:
        site = self.dir / "minzheng.conf"
        site.write_text(site_config(f"127.0.0.1:{self.port}", [r.port for r in self.replicas], str(self.access_log)),
                        encoding="utf-8")
        conf = self.dir / "nginx.conf"
        conf.write_text(main_config(self.dir, site), encoding="utf-8")
        log = open(self.dir / "nginx.out", "ab")
        self.nginx = subprocess.Popen([nginx_available(), "-p", str(self.dir), "-c", str(conf), "-e", "stderr"],
                                      stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                      start_new_session=True)
        log.close()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.nginx.poll() is not None:
                raise RuntimeError("nginx exited:\n" + (self.dir / "nginx.out").read_text(errors="replace")[-2000:])
            if _healthy(f"{self.url}/_stcore/health"):
                return
            time.sleep(0.2)
        raise RuntimeError(f"nginx on :{self.port} not answering")

    def kill(self, i: int) -> None:
        self.replicas[i].kill()

    def restart(self, i: int) -> None:
        r = self.replicas[i]
        r.stop()
        r.start()
        r.wait_healthy()

    def stop(self) -> None:
        if self.nginx is not None and self.nginx.poll() is None:
            self.nginx.send_signal(signal.SIGQUIT)  # graceful: finish the requests in flight
            try:
                self.nginx.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.nginx.kill()
                self.nginx.wait(timeout=10)
        self.nginx = None
        for r in self.replicas:
            r.stop()

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> "Cluster":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------------------------------ inspection

    def replica_for(self, cookies: dict[str, str]) -> int:
        """The port of the replica that the proxy sends a browser with these cookies to now: one health request
        marked with a unique query, looked up in nginx's access log."""
        mark = uuid.uuid4().hex
        header = "; ".join(f"{k}={v}" for k, v in cookies.items())
        if not _healthy(f"{self.url}/_stcore/health?probe={mark}", {"Cookie": header} if header else None):
            raise RuntimeError("proxy health check failed")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            for line in self.access_log.read_text(encoding="utf-8", errors="replace").splitlines()[::-1]:
                if mark in line:
                    upstream = re.search(r"upstream=(\S+)", line).group(1).split(",")[-1].strip()
                    return int(upstream.rsplit(":", 1)[1])
            time.sleep(0.1)
        raise RuntimeError("health probe not in the access log")

    def route_to(self, port: int, tries: int = 64) -> str:
        """An mz_route cookie value that the proxy sends to the replica on `port` (while every replica is up)."""
        for _ in range(tries):
            route = uuid.uuid4().hex
            if self.replica_for({"mz_route": route}) == port:
                return route
        raise RuntimeError(f"no route to :{port} in {tries} tries")

    def index_of(self, port: int) -> int:
        return next(i for i, r in enumerate(self.replicas) if r.port == port)


def _free_port(exclude: list[int]) -> int:
    import socket

    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in exclude:
            return port


# ---------------------------------------------------------------------------------------------- make cluster


def prepare_database(url: str) -> None:
    """Create the PostgreSQL database of `url` when missing, then `python -m data init --demo` (migrations; the demo
    district and its accounts only when the database holds no ledger data)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    target = make_url(url)
    if target.get_backend_name() == "postgresql" and target.database:
        admin = target.set(database="postgres", drivername="postgresql+psycopg")
        eng = create_engine(admin, isolation_level="AUTOCOMMIT")
        try:
            with eng.connect() as conn:
                if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :d"),
                                    {"d": target.database}).first():
                    conn.execute(text(f'CREATE DATABASE "{target.database}"'))
                    print(f"已创建数据库 {target.database}")
        finally:
            eng.dispose()
    env = {**os.environ, "DATABASE_URL": url}
    subprocess.run([sys.executable, "-m", "data", "init", "--demo"], cwd=ROOT, env=env, check=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m deploy.cluster", description=__doc__.split("\n\n")[0])
    ap.add_argument("--database-url", default=os.environ.get("CLUSTER_DATABASE_URL", DEFAULT_DATABASE_URL))
    ap.add_argument("--port", type=int, default=8500, help="nginx (the address users open)")
    ap.add_argument("--replica-ports", default="8511,8512", help="one Streamlit replica per port")
    a = ap.parse_args(argv)
    ports = [int(p) for p in a.replica_ports.split(",") if p.strip()]

    def stop(_sig, _frame):  # `kill`, a closed terminal or `timeout`: stop the children too, as Ctrl+C does
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, stop)
    prepare_database(a.database_url)
    cluster = Cluster(a.database_url, replicas=len(ports), port=a.port, replica_ports=ports)
    print(f"正在启动 {len(ports)} 个看板副本（端口 {'、'.join(map(str, ports))}）和 nginx …", flush=True)
    try:
        cluster.start()
        print(f"民政一张图（集群试运行）已启动：{cluster.url}（nginx → {len(ports)} 个副本，同一 PostgreSQL）；"
              f"日志在 {cluster.dir}；Ctrl+C 全部停止", flush=True)
        while True:
            time.sleep(1)
            if cluster.nginx.poll() is not None:
                print("nginx 已退出，正在停止副本。", file=sys.stderr)
                return 1
            for r in cluster.replicas:
                if not r.alive():
                    print(f"副本 :{r.port} 已退出，正在重新启动（其用户由 nginx 转到其他副本，登录状态保留）。", flush=True)
                    r.start()
    except KeyboardInterrupt:
        print("\n正在停止 …", flush=True)
    finally:
        cluster.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
