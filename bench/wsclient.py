"""A Streamlit browser tab without the browser: Streamlit's own websocket protocol, spoken from asyncio.

``StreamlitSession`` talks to a running ``streamlit run`` server exactly as the frontend (Streamlit 1.67's
``static/js/index.*.js``) does, minus rendering, so that a load test can open many sessions on a small machine
without the clients eating the CPU the server is measured on.

How a tab talks to the server (read from streamlit/web/server/starlette/starlette_websocket.py,
runtime/app_session.py, the protos in streamlit/proto and the frontend bundle):

* HTTP first: ``GET <base>/_stcore/health`` (which also sets the ``_streamlit_xsrf`` cookie) and
  ``GET <base>/_stcore/host-config``.
* Then a websocket to ``ws://<host><base>/_stcore/stream`` with the subprotocol list
  ``["streamlit", <xsrf cookie or "PLACEHOLDER_AUTH_TOKEN">]`` (a third entry would be the id of a session to
  resume after a reconnect; a new tab sends none). Every frame is a binary protobuf: ``BackMsg`` up,
  ``ForwardMsg`` down. The server does nothing until the tab asks for a run.
* A run is ``BackMsg(rerun_script=ClientState(...))``: the query string, the widget states, the page
  (``page_script_hash``, or on the very first run ``page_name`` = the URL path below the base with an empty
  hash), ``cached_message_hashes`` (the ForwardMsgs the tab holds in its message cache: this client claims
  none, so the server never answers with a ``ref_hash`` reference it would have to resolve) and
  ``context_info`` (timezone, locale, URL, colour scheme).
* The server answers with ``new_session`` (session id, main script hash, the page that runs), ``navigation``
  (st.navigation's pages: ``page_script_hash`` and ``url_pathname`` of each), ``page_info_changed`` (the query
  string the script set), ``delta`` (an element or block at ``metadata.delta_path``) and finally
  ``script_finished``. ``FINISHED_EARLY_FOR_RERUN`` means the script called st.rerun (or was interrupted) and
  another run follows at once; ``FINISHED_SUCCESSFULLY`` (also after st.stop) or
  ``FINISHED_WITH_COMPILE_ERROR`` ends what a tab would show as "running". An uncaught exception in the script
  still ends with FINISHED_SUCCESSFULLY, its traceback drawn as an ``exception`` element.
* Widget values travel in ``ClientState.widget_states``; a form submit sends the form's widget values plus
  ``trigger_value=True`` for the submit button. A sidebar page click reruns with the target page's hash, an
  empty query string (Streamlit 1.67 drops the query parameters on a page change, except widget-bound ones)
  and the current states of the widgets the main script (app.py) drew — the page's own widgets are cleared
  first. This client keeps the same widget states from the elements it received (``default`` on first
  sight, ``value``/``raw_value`` when the server sets a value), for the common widget types; other types
  are left out of a page change, so the server keeps their session-state value.
* Websocket pings from the server are answered by the ``websockets`` library; the client itself sends no
  pings (a browser does not), so a busy server is never dropped for a late pong.

A run's problems: an ``exception`` element, an ``alert`` of format ERROR, a compile error, ``page_not_found``,
an unexpected ``ref_hash``, a run not finished within the timeout, a closed connection.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from http.cookies import SimpleCookie

from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed

DEFAULT_TIMEOUT_S = 90.0
HTTP_TIMEOUT_S = 30.0
XSRF_COOKIE = "_streamlit_xsrf"

_FINAL = {ForwardMsg.FINISHED_SUCCESSFULLY: "finished", ForwardMsg.FINISHED_WITH_COMPILE_ERROR: "compile_error",
          ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY: "fragment_finished"}


class SessionError(RuntimeError):
    """The session cannot go on (not connected, sign-in form missing or refused)."""


@dataclass(frozen=True)
class Page:
    """One entry of the app's navigation."""
    page_script_hash: str
    url_pathname: str
    name: str
    section: str = ""
    is_default: bool = False


@dataclass
class RunResult:
    """What a tab shows once a run (with the reruns it triggered) is over."""
    status: str  # finished | compile_error | fragment_finished | timeout | disconnected
    seconds: float  # send → the final script_finished (or to the failure)
    page_script_hash: str = ""
    problems: list[str] = field(default_factory=list)
    runs: int = 0  # script runs seen (st.rerun adds one)
    messages: int = 0
    bytes: int = 0
    elements: list = field(default_factory=list)  # the final elements (streamlit.proto Element), in path order

    @property
    def ok(self) -> bool:
        return self.status in ("finished", "fragment_finished") and not self.problems

    def texts(self) -> list[str]:
        """The visible text of markdown, captions, headings, alerts, plain text and exceptions."""
        out = []
        for el in self.elements:
            kind = el.WhichOneof("type")
            if kind in ("markdown", "heading", "text", "alert", "code"):
                out.append(getattr(el, kind).body if kind != "code" else el.code.code_text)
            elif kind == "exception":
                out.append(f"{el.exception.type}: {el.exception.message}")
        return out

    def find(self, kind: str, pred=lambda proto: True) -> list:
        """The protos of the final elements of `kind` (e.g. "text_input") for which pred(proto) holds."""
        return [getattr(el, kind) for el in self.elements if el.WhichOneof("type") == kind and pred(getattr(el, kind))]


def problems_of(elements) -> list[str]:
    """What a browser would show as an error: Streamlit exception boxes and st.error boxes."""
    out = []
    for el in elements:
        kind = el.WhichOneof("type")
        if kind == "exception":
            e = el.exception
            label = "exception (warning)" if e.is_warning else "exception"
            out.append(f"{label}: {e.type}: {e.message}"[:300])
        elif kind == "alert" and el.alert.format == Alert.ERROR:
            out.append(f"error box: {el.alert.body}"[:300])
    return out


def _state_of(el, prev: WidgetState | None) -> WidgetState | None:
    """The widget state the frontend holds for widget element `el` (None: not a widget this client tracks, or
    no value). `prev` is the state held so far: kept unless the server sets a new value (set_value)."""
    kind = el.WhichOneof("type")
    w = getattr(el, kind)
    if prev is not None and not getattr(w, "set_value", False):
        return prev
    s = WidgetState(id=w.id)
    if kind in ("selectbox", "radio"):
        if w.HasField("raw_value"):
            s.string_value = w.raw_value
        elif w.HasField("default") and 0 <= w.default < len(w.options):
            s.string_value = w.options[w.default]
        else:
            return None
    elif kind in ("text_input", "text_area"):
        if w.HasField("value"):
            s.string_value = w.value
        elif w.HasField("default"):
            s.string_value = w.default
        else:
            return None
    elif kind == "checkbox":
        s.bool_value = w.value if w.set_value else w.default
    elif kind == "number_input":
        if w.HasField("value"):
            s.double_value = w.value
        elif w.HasField("default"):
            s.double_value = w.default
        else:
            return None
    elif kind == "date_input":
        s.string_array_value.data.extend(list(w.value) if w.set_value else list(w.default))
    elif kind == "multiselect":
        vals = list(w.raw_values) if w.set_value else [w.options[i] for i in w.default if 0 <= i < len(w.options)]
        s.string_array_value.data.extend(vals)
    else:
        return None
    return s


def _http_get(url: str, headers: dict | None = None, timeout: float = HTTP_TIMEOUT_S):
    """(status, headers, body); headers is the response's message (``.get``, and ``.get_all("Set-Cookie")`` for a
    response that sets several cookies, as nginx's affinity cookie and Streamlit's XSRF cookie together)."""
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, b""


# The app writes its session cookie from a script in the page (components/auth_ui.py): what a browser runs.
_PAGE_COOKIE = re.compile(r"""document\.cookie = "([^"]+)" \+ '=' \+ "([^"]*)" \+ '([^']*)'""")


class StreamlitSession:
    """One browser tab of a Streamlit app, at the protocol level.

        async with StreamlitSession("http://127.0.0.1:8501", query_string="period=2024-H1") as s:
            home = await s.run()                     # the first run: the page at `path` ("" = home page)
            await s.sign_in("bench", "…")            # st.form: 用户名 / 密码 / 登录
            for page in s.pages:
                r = await s.switch_page(page.page_script_hash)
                assert r.ok, r.problems
    """

    def __init__(self, base_url: str, *, path: str = "", query_string: str = "", timeout: float = DEFAULT_TIMEOUT_S,
                 timezone: str = "Asia/Shanghai", locale: str = "zh-CN"):
        self.base_url = base_url.rstrip("/")
        parts = urllib.parse.urlsplit(self.base_url)
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.ws_url = ("wss" if parts.scheme == "https" else "ws") + f"://{parts.netloc}{parts.path}/_stcore/stream"
        self.path = path.strip("/")
        self.query_string = query_string
        self.timeout = timeout
        self.timezone = timezone
        self.locale = locale
        self.ws = None
        self.session_id = ""
        self.main_script_hash = ""
        self.page_script_hash = ""  # the page the tab is on ("" before the first run)
        self.pages: list[Page] = []
        self.signed_in = False
        self.last: RunResult | None = None
        self._xsrf = ""
        self.cookies: dict[str, str] = {}  # this tab's cookie jar (path / only): set by responses and page scripts
        self.reconnects = 0
        self._widgets: dict[str, tuple[WidgetState, str, str]] = {}  # id → (state, active script hash, form id)
        self._fetched: set[str] = set()

    # ---------------------------------------------------------------------------------------- connection

    async def __aenter__(self) -> "StreamlitSession":
        await self.connect()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    async def connect(self, resume: str = "") -> None:
        """GET /_stcore/health and /_stcore/host-config like the frontend, then open the websocket. `resume`: the id
        of the session this tab had (after a lost connection the frontend offers it as a third subprotocol; a server
        that no longer has it starts a new session)."""
        status, headers, _ = await asyncio.to_thread(_http_get, f"{self.base_url}/_stcore/health", self._cookie())
        if status != 200:
            raise SessionError(f"health check: HTTP {status}")
        self._absorb(headers)
        status, headers, _ = await asyncio.to_thread(_http_get, f"{self.base_url}/_stcore/host-config",
                                                     self._cookie())
        if status != 200:
            raise SessionError(f"host-config: HTTP {status}")
        self._absorb(headers)
        self.ws = await ws_connect(
            self.ws_url,
            subprotocols=["streamlit", self._xsrf or "PLACEHOLDER_AUTH_TOKEN"] + ([resume] if resume else []),
            origin=self.origin,
            additional_headers=self._cookie(),
            max_size=None,  # a map's component arguments can be megabytes
            ping_interval=None,  # a browser sends no pings; the server's pings are answered by the library
            open_timeout=self.timeout,
            close_timeout=2,
        )

    async def reconnect(self, within: float = 30.0) -> bool:
        """What the frontend does after its websocket closed: ping /_stcore/health until it answers, open a new
        websocket offering the old session id, keep the tab's widget states and cookies (a server that lost the
        session — another replica behind the proxy — starts a new one, which the session cookie signs in). No run
        is asked for: the tab's next action (a page change) is. False when no server answered within `within`."""
        await self.close()
        old, deadline = self.session_id, time.monotonic() + within
        while True:
            try:
                await self.connect(resume=old)
                self.reconnects += 1
                return True
            except Exception:  # noqa: BLE001 - refused, 502, timeout: try again like the frontend's backoff
                if time.monotonic() >= deadline:
                    return False
                await asyncio.sleep(0.5)

    def _absorb(self, headers) -> None:
        """Keep the cookies a response sets (a Max-Age=0 one is removed)."""
        values = headers.get_all("Set-Cookie") if hasattr(headers, "get_all") else [headers.get("Set-Cookie")]
        for value in values or []:
            cookie = SimpleCookie()
            with contextlib.suppress(Exception):
                cookie.load(value or "")
            for name, morsel in cookie.items():
                if morsel["max-age"] in ("0", 0) or (not morsel.value and morsel["expires"]):
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        self._xsrf = self.cookies.get(XSRF_COOKIE, "")

    def _page_cookies(self, elements) -> None:
        """Run the cookie scripts of the page's html elements as a browser would (the app's sign-in cookie)."""
        for el in elements:
            if el.WhichOneof("type") != "html" or "document.cookie" not in el.html.body:
                continue
            for name, value, attrs in _PAGE_COOKIE.findall(el.html.body):
                if "max-age=0" in attrs or not value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = value

    def _cookie(self) -> dict:
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}

    async def close(self) -> None:
        ws, self.ws = self.ws, None
        if ws is not None:
            with contextlib.suppress(Exception):
                await ws.close()

    # -------------------------------------------------------------------------------------------- runs

    def widget_states(self, main_script_only: bool = False) -> list[WidgetState]:
        """The states the tab would send: every tracked widget outside a form, or (page change) only those the
        main script drew."""
        return [s for s, script, form in self._widgets.values()
                if not form and (not main_script_only or script == self.main_script_hash)]

    async def run(self, widget_states: list[WidgetState] | None = None, page_script_hash: str | None = None,
                  query_string: str | None = None, timeout: float | None = None) -> RunResult:
        """Ask for a run and read until it is over. Defaults: the page the tab is on (on the first run, the page
        at `path`), its current query string and the current widget states (what pressing "Rerun" sends)."""
        if self.ws is None:
            raise SessionError("not connected")
        msg = BackMsg()
        cs = msg.rerun_script
        cs.query_string = self.query_string if query_string is None else query_string
        cs.widget_states.widgets.extend(self.widget_states() if widget_states is None else widget_states)
        target = self.page_script_hash if page_script_hash is None else page_script_hash
        cs.page_script_hash = target
        if not target:
            cs.page_name = self.path  # first run: the server finds the page from the URL path
        ci = cs.context_info
        ci.timezone = self.timezone
        ci.timezone_offset = -480 if self.timezone == "Asia/Shanghai" else 0
        ci.locale = self.locale
        ci.url = f"{self.base_url}/{self.path}" + (f"?{cs.query_string}" if cs.query_string else "")
        ci.is_embedded = False
        ci.color_scheme = "light"
        t0 = time.perf_counter()
        try:
            await self.ws.send(msg.SerializeToString())
        except ConnectionClosed as exc:
            self.ws = None
            return self._remember(RunResult("disconnected", time.perf_counter() - t0,
                                            problems=[f"connection closed: {exc}"]))
        return self._remember(await self._read_run(t0, timeout or self.timeout))

    async def _read_run(self, t0: float, timeout: float) -> RunResult:
        res = RunResult("timeout", 0.0)
        tree: dict[tuple, tuple] = {}  # delta path → (Element or None for a block, active script hash)
        deadline = t0 + timeout
        while True:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                res.problems.append(f"run not finished within {timeout:.0f} s")
                break
            try:
                raw = await asyncio.wait_for(self.ws.recv(), remaining)
            except asyncio.TimeoutError:
                continue
            except ConnectionClosed as exc:
                self.ws = None
                res.status = "disconnected"
                res.problems.append(f"connection closed: {exc}")
                break
            res.messages += 1
            res.bytes += len(raw)
            fm = ForwardMsg()
            fm.ParseFromString(raw)
            kind = fm.WhichOneof("type")
            if kind == "new_session":
                ns = fm.new_session
                if ns.initialize.session_id:
                    self.session_id = ns.initialize.session_id
                self.main_script_hash = ns.main_script_hash or self.main_script_hash
                self.page_script_hash = ns.page_script_hash
                res.runs += 1
                tree.clear()  # what the previous (interrupted) run drew is dropped when this one ends
                if ns.app_pages and not self.pages:  # pages-directory apps; st.navigation sends "navigation"
                    self.pages = [Page(p.page_script_hash, p.url_pathname, p.page_name, p.section_header,
                                       p.is_default) for p in ns.app_pages if not p.is_hidden]
            elif kind == "navigation":
                nav = fm.navigation
                self.pages = [Page(p.page_script_hash, p.url_pathname, p.page_name, p.section_header, p.is_default)
                              for p in nav.app_pages if not p.is_hidden and not p.HasField("external_url")]
                if nav.page_script_hash:
                    self.page_script_hash = nav.page_script_hash
            elif kind == "page_info_changed":
                self.query_string = fm.page_info_changed.query_string
            elif kind == "delta":
                path = tuple(fm.metadata.delta_path)
                for p in [p for p in tree if p[:len(path)] == path]:  # a new element or block replaces the subtree
                    del tree[p]
                delta = fm.delta
                which = delta.WhichOneof("type")
                if which == "new_element":
                    tree[path] = (delta.new_element, fm.metadata.active_script_hash)
                elif which == "add_block":
                    tree[path] = (None, fm.metadata.active_script_hash)
            elif kind == "page_not_found":
                res.problems.append(f"page not found: {fm.page_not_found.page_name!r}")
            elif kind == "ref_hash":
                res.problems.append(f"unexpected cached-message reference {fm.ref_hash}")
            elif kind == "session_event" and fm.session_event.HasField("script_compilation_exception"):
                e = fm.session_event.script_compilation_exception
                res.problems.append(f"compile error: {e.type}: {e.message}"[:300])
            elif kind == "script_finished":
                status = fm.script_finished
                if status == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    continue
                res.status = _FINAL.get(status, f"status {status}")
                if status == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                    await self._drain_compile_error(res)
                break
        res.seconds = time.perf_counter() - t0
        res.page_script_hash = self.page_script_hash
        ordered = [tree[p] for p in sorted(tree)]
        res.elements = [el for el, _ in ordered if el is not None]
        res.problems += problems_of(res.elements)
        if res.status in ("finished", "fragment_finished"):
            self._track_widgets(ordered)
            self._page_cookies(res.elements)
        return res

    async def _drain_compile_error(self, res: RunResult) -> None:
        """The compile error's text follows its script_finished."""
        with contextlib.suppress(asyncio.TimeoutError, ConnectionClosed):
            raw = await asyncio.wait_for(self.ws.recv(), 2)
            fm = ForwardMsg()
            fm.ParseFromString(raw)
            if fm.WhichOneof("type") == "session_event" and fm.session_event.HasField("script_compilation_exception"):
                e = fm.session_event.script_compilation_exception
                res.problems.append(f"compile error: {e.type}: {e.message}"[:300])
        if not res.problems:
            res.problems.append("compile error")

    def _track_widgets(self, ordered) -> None:
        """Keep the states of the widgets on screen after a run, as the frontend's widget manager does."""
        widgets: dict[str, tuple[WidgetState, str, str]] = {}
        for el, script in ordered:
            if el is None:
                continue
            w = getattr(el, el.WhichOneof("type"))
            wid = getattr(w, "id", "")
            if not wid or not isinstance(wid, str):
                continue
            prev = self._widgets.get(wid)
            state = _state_of(el, prev[0] if prev else None)
            if state is not None:
                widgets[wid] = (state, script, getattr(w, "form_id", ""))
        self._widgets = widgets

    def _remember(self, res: RunResult) -> RunResult:
        self.last = res
        return res

    # ------------------------------------------------------------------------------------ user actions

    async def sign_in(self, username: str, password: str, timeout: float | None = None) -> RunResult:
        """Fill the sign-in form (st.form with text inputs 用户名 / 密码 and the submit button 登录) and submit it.
        Runs the first page first when nothing ran yet. Raises SessionError when the form is missing or the
        sign-in is refused (the form still there, or no "当前用户：" caption)."""
        if self.last is None:
            first = await self.run(timeout=timeout)
            if not first.ok:
                raise SessionError(f"first run: {first.status}: {'; '.join(first.problems)[:300]}")
        form = self.last
        user = form.find("text_input", lambda w: w.label == "用户名")
        pwd = form.find("text_input", lambda w: w.label == "密码")
        submit = form.find("button", lambda w: w.is_form_submitter and w.label == "登录")
        if not (user and pwd and submit):
            raise SessionError("no sign-in form (用户名 / 密码 / 登录) in the page")
        states = [s for s in self.widget_states()]  # widgets outside the form keep their values
        states += [WidgetState(id=user[0].id, string_value=username),
                   WidgetState(id=pwd[0].id, string_value=password),
                   WidgetState(id=submit[0].id, trigger_value=True)]
        res = await self.run(states, timeout=timeout)
        if res.status != "finished":
            raise SessionError(f"sign-in run: {res.status}: {'; '.join(res.problems)[:300]}")
        if res.find("text_input", lambda w: w.label == "用户名"):
            raise SessionError(f"sign-in refused: {'; '.join(res.problems) or 'the form is still shown'}"[:300])
        if not any("当前用户：" in t for t in res.texts()):
            raise SessionError("signed-in page has no 当前用户： caption")
        self.signed_in = True
        return res

    def page(self, hash_or_path: str) -> Page:
        for p in self.pages:
            if hash_or_path in (p.page_script_hash, p.url_pathname):
                return p
        raise KeyError(hash_or_path)

    async def switch_page(self, page_script_hash: str, timeout: float | None = None) -> RunResult:
        """A click on a sidebar navigation link: rerun with the target page, an empty query string and the main
        script's widget states. A run that ends on another page is a problem ("landed on …")."""
        target = self.page(page_script_hash).page_script_hash
        res = await self.run(self.widget_states(main_script_only=True), page_script_hash=target, query_string="",
                             timeout=timeout)
        if res.status == "finished" and res.page_script_hash != target:
            landed = next((p.url_pathname for p in self.pages if p.page_script_hash == res.page_script_hash),
                          res.page_script_hash)
            res.problems.append(f"landed on {landed!r}")
        return res

    # ------------------------------------------------------------------------------------ static files

    async def fetch_component_assets(self, res: RunResult | None = None) -> list[str]:
        """What the browser loads over HTTP for the custom components (streamlit-folium maps) of a run, once per
        session: the component's index.html, the scripts and stylesheets it links, and the same-origin
        js_links / css_links of its arguments. Returns problems (HTTP errors)."""
        res = res or self.last
        urls: list[str] = []
        for comp in (res.find("component_instance") if res else []):
            index = f"{self.base_url}/component/{comp.component_name}/index.html"
            if comp.url:
                index = urllib.parse.urljoin(self.base_url + "/", comp.url)
            urls.append(index)
            with contextlib.suppress(ValueError, TypeError):
                args = json.loads(comp.json_args or "{}")
                for link in list(args.get("js_links") or []) + list(args.get("css_links") or []):
                    if isinstance(link, str) and link.startswith("/") and not link.startswith("//"):
                        urls.append(self.origin + link)
        problems = []
        for url in urls:
            if url in self._fetched:
                continue
            self._fetched.add(url)
            status, _, body = await asyncio.to_thread(_http_get, url, self._cookie())
            if status >= 400:
                problems.append(f"HTTP {status} {url}")
                continue
            if url.endswith("index.html"):
                for ref in re.findall(rb'(?:src|href)="([^"]+\.(?:js|css))"', body):
                    sub = urllib.parse.urljoin(url, ref.decode())
                    if sub.startswith(self.origin) and sub not in self._fetched:
                        self._fetched.add(sub)
                        st, _, _ = await asyncio.to_thread(_http_get, sub, self._cookie())
                        if st >= 400:
                            problems.append(f"HTTP {st} {sub}")
        return problems
