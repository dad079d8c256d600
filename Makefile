# 民政一张图 — two commands: `make run` (dashboard on the embedded SQLite demo) and `make test` (whole suite).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/test
PORT ?= 8501
# the issue-22 figures in one JSON: cold and warm at ×1 (SQLite, PostgreSQL) and ×100 (PostgreSQL, built once and
# kept: --keep), the browser on ×1 SQLite, the load through nginx with 2 replicas (steady, and one killed halfway)
BENCH_ARGS ?= --datasets sqlite:1,postgresql:1,postgresql:100 --browser-on sqlite:1 --browser-cache cold,warm --runs 3 --keep --cluster --imports
export TEST_DATABASE_URL

CLUSTER_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/minzheng_cluster
CLUSTER_PORT ?= 8500
CLUSTER_REPLICA_PORTS ?= 8511,8512
export CLUSTER_DATABASE_URL

.PHONY: run test venv system-deps browser-deps postgres bench cluster clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip >/dev/null
	$(PY) -m pip install -r requirements.txt
	touch $@

venv: $(VENV)/.installed

run: venv
	$(PY) -m data init --demo
	@echo "民政一张图 已启动：http://localhost:$(PORT)（Ctrl+C 停止）"
	$(PY) -m streamlit run app.py --server.port $(PORT)

# what the tests need from the system: Chromium and the Noto CJK fonts (browser tests, chart images), LibreOffice
# Writer and Impress without a GUI (PDF of the Word documents and the deck: exports/pdf.py), nginx (the proxy in
# front of several replicas: deploy/, tests/test_cluster.py, make cluster)
system-deps:
	@if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi "Noto Sans CJK" \
		|| ! command -v soffice >/dev/null 2>&1 || ! { command -v nginx || test -x /usr/sbin/nginx; } >/dev/null 2>&1; then \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium \
		fonts-noto-cjk libreoffice-writer-nogui libreoffice-impress-nogui nginx-light; fi

browser-deps: system-deps

postgres:
	@pg_isready -h 127.0.0.1 -p 5432 -q || pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start
	@for i in 1 2 3 4 5 6 7 8 9 10; do pg_isready -h 127.0.0.1 -p 5432 -q && exit 0; sleep 1; done; \
		echo "PostgreSQL 未能启动（127.0.0.1:5432）" >&2; exit 1

test: venv system-deps postgres
	$(PY) -m pytest -n 2 --dist loadgroup -q

bench: venv postgres system-deps
	$(PY) -m pip install -q -r bench/requirements.txt
	$(PY) -m bench $(BENCH_ARGS)

# a local try of the deployment (deploy/): PostgreSQL, the demo in its own database (once), 2 replicas and nginx on
# loopback ports; Ctrl+C stops them all
cluster: venv system-deps postgres
	$(PY) -m deploy.cluster --database-url $(CLUSTER_DATABASE_URL) --port $(CLUSTER_PORT) \
		--replica-ports $(CLUSTER_REPLICA_PORTS)

clean:
	rm -rf $(VENV) data/minzheng.db data/minzheng.db-*
