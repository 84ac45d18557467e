"""The HTML reports in a real browser (headless Chromium, driven over the DevTools protocol).

``pgv report`` pages for P&G's machine and the MC68000 are opened after their scripts ran:
every figure is drawn and non-empty, the instruction table has one row per instruction form
in the order and with the classes of ``NAME.json``, the filter and sort script works, the
index links the machines, and no page asks for anything outside itself.

"No external request" is checked with the browser's own network log: every request
Chromium starts for a tab (``Network.requestWillBeSent``, which also reports requests the
Content-Security-Policy then blocks), every CSP violation (the page's
``securitypolicyviolation`` events and Chromium's security log) and every resource the
page's Performance API saw. Hosts resolve nowhere (``--host-resolver-rules``), so nothing
leaves the machine even if a page tried. :func:`test_detector_sees_requests` shows the check
would fail: copies of a report with an ``<img>`` from the web, a CSS ``url()`` and a
``fetch()`` injected are caught, both with the CSP (blocked) and without it (attempted).

Only the standard library talks to Chromium: ``--remote-debugging-pipe`` carries the
protocol's JSON messages over file descriptors 3 and 4, so no websocket client is needed.
Skipped, with a message, where ``chromium`` is not installed. ``PGV_SAVE_SCREENSHOTS=1``
also saves the MC68000 page's screenshot as ``reports/screenshots/mc68000.png``.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import select
import shutil
import signal
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from analyzer import load_isa
from analyzer.report.site import write_reports

from .catalog import CATALOG
from .conftest import SPECS, analysis_of

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium")
MACHINES = ("pg74", "mc68000")
PAGES = (*MACHINES, "index")
TIMEOUT = 30.0  # seconds for any one protocol answer: a hung browser fails, it never blocks
VIEWPORT = (1280, 1600)

pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="chromium is not installed (Debian: apt-get install chromium), so the HTML "
    "reports were not checked in a browser",
)

# Runs in the child: fds argv[1], argv[2] become 3 and 4, then argv[3:] replaces it.
_TRAMPOLINE = (
    "import os, sys; a, b = int(sys.argv[1]), int(sys.argv[2]); "
    "os.dup2(a, 3); os.dup2(b, 4); os.close(a); os.close(b); "
    "os.execv(sys.argv[3], sys.argv[3:])"
)

# Run in every document before its own scripts: records the CSP violations the page sees.
_RECORD_VIOLATIONS = """
window.__pgvViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__pgvViolations.push(e.blockedURI + " (" + e.effectiveDirective + ")");
});
"""


class BrowserError(RuntimeError):
    pass


class Chromium:
    """One headless Chromium, spoken to over ``--remote-debugging-pipe``: requests go to
    its file descriptor 3, answers and events come from 4, each a JSON text ending in NUL."""

    def __init__(self, executable: str, profile: Path) -> None:
        profile.mkdir(parents=True, exist_ok=True)
        self._log = profile / "chromium.log"
        to_browser, self._write = os.pipe()
        self._read, from_browser = os.pipe()
        # A small Python trampoline puts the browser's ends on fds 3 and 4 and execs it;
        # moved above 9 first, they cannot be overwritten there.
        ends = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in (to_browser, from_browser)]
        os.close(to_browser)
        os.close(from_browser)
        flags = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--hide-scrollbars",
            "--mute-audio",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            f"--user-data-dir={profile}",
            "--remote-debugging-pipe",
            "about:blank",
        ]
        with self._log.open("wb") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-c", _TRAMPOLINE, *map(str, ends), executable, *flags],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                pass_fds=ends,
                start_new_session=True,  # its own process group, for the kill in close()
            )
        for fd in ends:
            os.close(fd)
        self._buffer = b""
        self._next = 0
        self.events: list[dict[str, Any]] = []

    def _fail(self, what: str) -> BrowserError:
        tail = self._log.read_text(errors="replace")[-2000:]
        return BrowserError(f"{what}; chromium's output ends:\n{tail}")

    def _receive(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._read], [], [], left)[0]:
                raise self._fail("no answer from chromium in time")
            chunk = os.read(self._read, 1 << 20)
            if not chunk:
                raise self._fail("chromium closed the DevTools pipe")
            self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        answer: dict[str, Any] = json.loads(message)
        return answer

    def call(
        self, method: str, params: dict[str, Any] | None = None, session: str | None = None
    ) -> dict[str, Any]:
        """Send one command and return its result; events that arrive meanwhile are kept."""
        self._next += 1
        message: dict[str, Any] = {"id": self._next, "method": method, "params": params or {}}
        if session is not None:
            message["sessionId"] = session
        try:
            os.write(self._write, json.dumps(message).encode() + b"\0")
        except BrokenPipeError:
            raise self._fail(f"chromium is gone (sending {method})") from None
        deadline = time.monotonic() + TIMEOUT
        while True:
            answer = self._receive(deadline)
            if answer.get("id") == self._next:
                if "error" in answer:
                    raise BrowserError(f"{method}: {answer['error']}")
                result: dict[str, Any] = answer.get("result", {})
                return result
            self.events.append(answer)

    def wait_for(self, method: str, session: str) -> dict[str, Any]:
        """The first event ``method`` of ``session`` (kept in ``events`` as well)."""
        deadline = time.monotonic() + TIMEOUT
        seen = 0
        while True:
            for event in self.events[seen:]:
                if event.get("method") == method and event.get("sessionId") == session:
                    return event
            seen = len(self.events)
            self.events.append(self._receive(deadline))

    def close(self) -> None:
        with contextlib.suppress(BrowserError, OSError):
            self.call("Browser.close")
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait()
        os.close(self._write)
        os.close(self._read)


class Tab:
    """One page loaded in its own target, with the events of its session."""

    def __init__(self, browser: Chromium, path: Path) -> None:
        self.browser = browser
        self.url = path.resolve().as_uri()
        target = browser.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.target = target
        self.session: str = browser.call(
            "Target.attachToTarget", {"targetId": target, "flatten": True}
        )["sessionId"]
        for domain in ("Page", "Network", "Runtime", "Log"):
            self.call(f"{domain}.enable")
        self.call("Page.addScriptToEvaluateOnNewDocument", {"source": _RECORD_VIOLATIONS})
        width, height = VIEWPORT
        self.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )
        self.call("Page.navigate", {"url": self.url})
        browser.wait_for("Page.loadEventFired", self.session)
        self._settle()

    def call(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.browser.call(method, params, self.session)

    def _events(self, method: str) -> list[dict[str, Any]]:
        return [
            e["params"]
            for e in self.browser.events
            if e.get("sessionId") == self.session and e.get("method") == method
        ]

    def _settle(self) -> None:
        """Wait (up to TIMEOUT) until every request the page started has ended."""
        deadline = time.monotonic() + TIMEOUT
        while True:
            started = {e["requestId"] for e in self._events("Network.requestWillBeSent")}
            ended = {
                e["requestId"]
                for method in ("Network.loadingFinished", "Network.loadingFailed")
                for e in self._events(method)
            }
            if started <= ended or time.monotonic() > deadline:
                return
            self.evaluate("new Promise(function (r) { setTimeout(r, 50); })")

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (promises awaited)."""
        result = self.call(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
        )
        if "exceptionDetails" in result:
            raise BrowserError(f"script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def requests(self) -> list[str]:
        """Every URL the page asked for (whether the CSP then let it go or not), but for the
        page itself and ``data:`` URLs."""
        urls = [e["request"]["url"] for e in self._events("Network.requestWillBeSent")]
        return [u for u in urls if u != self.url and not u.startswith("data:")]

    def blocked(self) -> list[str]:
        """The CSP violations: the page's own events, Chromium's security log and requests
        that failed as blocked."""
        seen: list[str] = list(self.evaluate("window.__pgvViolations"))
        seen += [
            e["entry"]["text"]
            for e in self._events("Log.entryAdded")
            if e["entry"].get("source") == "security"
        ]
        seen += [
            f"request {e['requestId']} blocked: {e['blockedReason']}"
            for e in self._events("Network.loadingFailed")
            if e.get("blockedReason")
        ]
        return seen

    def resources(self) -> list[str]:
        """The resources the page's Performance API recorded."""
        names: list[str] = self.evaluate(
            'performance.getEntriesByType("resource").map(function (e) { return e.name; })'
        )
        return names

    def outside(self) -> list[str]:
        """Everything that shows the page reached, or tried to reach, beyond itself."""
        return self.requests() + self.blocked() + self.resources()

    def exceptions(self) -> list[str]:
        return [
            e["exceptionDetails"].get("exception", {}).get("description")
            or e["exceptionDetails"].get("text", "")
            for e in self._events("Runtime.exceptionThrown")
        ]

    def screenshot(self, path: Path) -> bytes:
        """The viewport as PNG, once the tab is in front and has painted two more frames."""
        self.call("Page.bringToFront")
        self.evaluate(
            "new Promise(function (done) { requestAnimationFrame(function () {"
            " requestAnimationFrame(function () { done(true); }); }); })"
        )
        data = base64.b64decode(self.call("Page.captureScreenshot", {"format": "png"})["data"])
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return data

    def close(self) -> None:
        with contextlib.suppress(BrowserError):
            self.browser.call("Target.closeTarget", {"targetId": self.target})


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``pgv report`` of P&G's machine and the MC68000, with their graphs."""
    out = tmp_path_factory.mktemp("site")
    analyses = [analysis_of(name) for name in MACHINES]
    isas = [load_isa(SPECS / f"{name}.isa") for name in MACHINES]
    write_reports(analyses, out, isas=isas, root=ROOT)
    return out


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chromium]:
    assert CHROMIUM is not None
    chromium = Chromium(CHROMIUM, tmp_path_factory.mktemp("chromium-profile"))
    try:
        yield chromium
    finally:
        chromium.close()


@contextlib.contextmanager
def opened(browser: Chromium, path: Path) -> Iterator[Tab]:
    tab = Tab(browser, path)
    try:
        yield tab
    finally:
        tab.close()


@pytest.fixture(scope="module")
def tabs(browser: Chromium, site: Path) -> Iterator[dict[str, Tab]]:
    """Each page, loaded once, for the checks that only look."""
    loaded = {name: Tab(browser, site / f"{name}.html") for name in PAGES}
    yield loaded
    for tab in loaded.values():
        tab.close()


def report_json(site: Path, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((site / f"{name}.json").read_text())
    return data


# ---------------------------------------------------------------- what the browser drew

_FIGURES = """
(function () {
  var out = {};
  document.querySelectorAll("figure[data-figure]").forEach(function (figure) {
    var svg = figure.querySelector("svg");
    var box = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
    var drawn = svg ? svg.getBBox() : {width: 0, height: 0};
    out[figure.dataset.figure] = {
      graph: svg ? svg.getAttribute("data-graph") : null,
      width: box.width, height: box.height,
      drawnWidth: drawn.width, drawnHeight: drawn.height,
      shapes: svg ? svg.querySelectorAll("rect, circle, ellipse, path, line, polygon").length : 0,
      texts: svg ? Array.prototype.map.call(svg.querySelectorAll("text"),
        function (t) { return t.textContent; }) : [],
      nodes: svg ? Array.prototype.map.call(svg.querySelectorAll("[data-node]"),
        function (n) { return n.getAttribute("data-node"); }) : [],
      edges: svg ? svg.querySelectorAll("[data-edge]").length : 0,
      regions: svg ? Array.prototype.map.call(svg.querySelectorAll("g[data-region]"),
        function (g) { return [g.getAttribute("data-region"), g.getAttribute("data-count"),
          g.textContent]; }) : [],
      caption: (figure.querySelector("figcaption") || {textContent: ""}).textContent
    };
  });
  return out;
})()
"""


@pytest.mark.parametrize("name", MACHINES)
def test_figures(tabs: dict[str, Tab], site: Path, name: str) -> None:
    figures = tabs[name].evaluate(_FIGURES)
    assert sorted(figures) == ["mode-transitions", "sets", "state-flow"]
    for key, figure in figures.items():
        assert figure["graph"] == key
        assert figure["width"] > 100 and figure["height"] > 100, (key, figure)
        assert figure["drawnWidth"] > 100 and figure["drawnHeight"] > 100, (key, figure)
        assert figure["shapes"] > 0 and any(t.strip() for t in figure["texts"]), key
        assert figure["caption"].strip(), key

    data = report_json(site, name)
    critical = [r for r in data["instructions"] if r["critical"] == "PROVED"]
    regions = {key: (int(count), text) for key, count, text in figures["sets"]["regions"]}
    drawn_critical = regions["critical"][0] + regions["critical-user"][0]
    assert drawn_critical == len(critical)
    named = regions["critical"][1] + regions["critical-user"][1]
    for r in critical:
        assert r["mnemonic"] in named, f"{r['form']} is critical but not named in the diagram"
    if name == "mc68000":
        assert "MOVE from SR" in named
        assert len(critical) == 2

    modes = figures["mode-transitions"]
    assert {"supervisor", "user"} <= set(modes["nodes"])
    assert modes["edges"] > 0
    flow = figures["state-flow"]
    assert flow["edges"] > 0
    assert any(n.startswith("state:") for n in flow["nodes"])
    for r in critical:
        assert f"instruction:{r['name']}" in flow["nodes"]


_ROWS = """
Array.prototype.map.call(
  document.querySelectorAll('table[data-table="instructions"] tbody tr'),
  function (row) {
    return {name: row.getAttribute("data-instruction"), klass: row.getAttribute("data-class"),
      critical: row.getAttribute("data-critical"), form: row.cells[1].textContent,
      mnemonic: row.cells[2].textContent, classText: row.cells[3].textContent,
      hidden: row.hidden};
  })
"""


@pytest.mark.parametrize("name", MACHINES)
def test_rows_match_json(tabs: dict[str, Tab], site: Path, name: str) -> None:
    tab = tabs[name]
    rows = tab.evaluate(_ROWS)
    data = report_json(site, name)
    expected = [
        {
            "name": r["name"],
            "klass": r["class"],
            "critical": r["critical"],
            "form": r["form"],
            "mnemonic": r["mnemonic"],
            "classText": r["class"],
            "hidden": False,
        }
        for r in data["instructions"]
    ]
    assert len(rows) == len(expected) == len(data["instructions"])
    assert rows == expected
    assert tab.evaluate('document.querySelectorAll("tr[data-instruction]").length') == len(rows)
    assert len({r["name"] for r in rows}) == len(rows)


@pytest.mark.parametrize("name", MACHINES)
def test_theorems_match_json(tabs: dict[str, Tab], site: Path, name: str) -> None:
    shown = tabs[name].evaluate(
        "Array.prototype.map.call(document.querySelectorAll('tr[data-theorem]'), "
        "function (r) { return [r.dataset.theorem, r.dataset.verdict]; })"
    )
    theorems = report_json(site, name)["theorems"]
    assert shown == [[k, theorems[k]["verdict"]] for k in sorted(theorems, key=int)]
    assert tabs[name].evaluate("document.querySelector('h1[data-isa]').dataset.isa") == name


def test_index(tabs: dict[str, Tab], site: Path) -> None:
    rows = tabs["index"].evaluate(
        "Array.prototype.map.call(document.querySelectorAll('tr[data-isa]'), function (r) {"
        "  return [r.dataset.isa, r.querySelector('a').getAttribute('href'),"
        "    Array.prototype.map.call(r.querySelectorAll('span[class^=verdict-]'),"
        "      function (s) { return s.textContent; })]; })"
    )
    expected = []
    for name in MACHINES:
        theorems = report_json(site, name)["theorems"]
        verdicts = [theorems[k]["verdict"] for k in ("1", "2", "3")]
        expected.append([name, f"{name}.html", verdicts])
    assert rows == expected
    for _, href, _ in rows:
        assert (site / href).is_file()


# ---------------------------------------------------------------- the table's script

# Drives the filter and sort controls as a reader would and reports what the table showed.
_DRIVE = """
(function () {
  var table = document.querySelector('table[data-table="instructions"]');
  var text = document.getElementById("instruction-filter");
  var klass = document.getElementById("class-filter");
  var count = document.getElementById("instruction-count");
  function visible() {
    return Array.prototype.filter.call(table.tBodies[0].rows, function (r) { return !r.hidden; })
      .map(function (r) { return r.getAttribute("data-instruction"); });
  }
  function order() {
    return Array.prototype.map.call(table.tBodies[0].rows,
      function (r) { return r.getAttribute("data-instruction"); });
  }
  function button(label) {
    return Array.prototype.filter.call(table.tHead.querySelectorAll("th button"),
      function (b) { return b.textContent === label; })[0];
  }
  function sortState(label) { return button(label).parentNode.getAttribute("aria-sort"); }
  var out = {};
  klass.value = "critical";
  klass.dispatchEvent(new Event("change"));
  out.critical = {visible: visible(), count: count.textContent};
  klass.value = "";
  klass.dispatchEvent(new Event("change"));
  out.allAgain = {visible: visible().length, count: count.textContent};
  text.value = WORD;
  text.dispatchEvent(new Event("input"));
  out.word = {visible: visible(), count: count.textContent,
    containing: Array.prototype.filter.call(table.tBodies[0].rows, function (r) {
      return r.textContent.toLowerCase().indexOf(WORD.toLowerCase()) >= 0;
    }).map(function (r) { return r.getAttribute("data-instruction"); })};
  text.value = "";
  text.dispatchEvent(new Event("input"));
  button("form").click();
  out.ascending = {order: order(), sort: sortState("form")};
  button("form").click();
  out.descending = {order: order(), sort: sortState("form")};
  button("#").click();
  out.original = {order: order(), sort: sortState("#"), form: sortState("form")};
  return out;
})()
"""


def _duplicate_ids(tab: Tab) -> list[str]:
    found: list[str] = tab.evaluate(
        "(function () { var seen = {}, twice = [];"
        "  document.querySelectorAll('[id]').forEach(function (e) {"
        "    if (seen[e.id]) { twice.push(e.id); } seen[e.id] = true; });"
        "  return twice; })()"
    )
    return found


@pytest.mark.parametrize("name", MACHINES)
def test_filter_and_sort(browser: Chromium, site: Path, name: str) -> None:
    data = report_json(site, name)
    instructions = data["instructions"]
    names = [r["name"] for r in instructions]
    word = instructions[-1]["mnemonic"]
    with opened(browser, site / f"{name}.html") as tab:
        errors = tab.exceptions()
        duplicates = _duplicate_ids(tab)
        assert errors == [], "the page's script threw"
        assert duplicates == []
        seen = tab.evaluate(_DRIVE.replace("WORD", json.dumps(word)))
        assert tab.exceptions() == []

    critical = [r["name"] for r in instructions if r["class"] == "critical"]
    assert seen["critical"] == {"visible": critical, "count": str(len(critical))}
    assert seen["allAgain"] == {"visible": len(names), "count": str(len(names))}
    assert seen["word"]["visible"] == seen["word"]["containing"]
    assert instructions[-1]["name"] in seen["word"]["visible"]
    assert seen["word"]["count"] == str(len(seen["word"]["visible"]))

    forms = {r["name"]: r["form"].strip().lower() for r in instructions}
    position = {n: k for k, n in enumerate(names)}
    ascending = sorted(names, key=lambda n: (forms[n], position[n]))
    assert ascending != names, "sorting by form should change the order"
    assert seen["ascending"] == {"order": ascending, "sort": "ascending"}
    # Descending by form; equal forms stay in spec order.
    by_form: dict[str, list[str]] = {}
    for n in names:
        by_form.setdefault(forms[n], []).append(n)
    descending = [n for form in sorted(by_form, reverse=True) for n in by_form[form]]
    assert seen["descending"] == {"order": descending, "sort": "descending"}
    assert seen["original"] == {"order": names, "sort": "ascending", "form": None}


# ---------------------------------------------------------------- nothing from outside


@pytest.mark.parametrize("name", PAGES)
def test_no_external_request(tabs: dict[str, Tab], name: str) -> None:
    tab = tabs[name]
    assert tab.outside() == []
    # Nothing in the DOM (after scripts) points outside the page either: links are to
    # fragments or to sibling reports, and no element loads anything.
    refs = tab.evaluate(
        "Array.prototype.concat.apply([], Array.prototype.map.call(document.querySelectorAll("
        "'[src], [href], [srcset], [poster], [data], link, iframe, object, embed, base'),"
        " function (e) { return ['src', 'href', 'srcset', 'poster', 'data', 'xlink:href']"
        "   .map(function (a) { return e.getAttribute(a); })"
        "   .filter(function (v) { return v !== null; })"
        "   .concat(['link', 'iframe', 'object', 'embed', 'base'].indexOf("
        "     e.localName) >= 0 ? [e.localName] : []); }))"
    )
    for ref in refs:
        assert ref.startswith("#") or (ref.endswith(".html") and "/" not in ref), ref
    sheets = tab.evaluate(
        "Array.prototype.map.call(document.styleSheets, function (s) {"
        "  return Array.prototype.map.call(s.cssRules, function (r) { return r.cssText; })"
        "    .join('\\n'); }).join('\\n')"
    )
    assert "url(" not in sheets and "@import" not in sheets


def test_detector_sees_requests(browser: Chromium, site: Path, tmp_path: Path) -> None:
    """The check above is not vacuous: requests injected into a copy of a report are seen,
    blocked while the page keeps its CSP and attempted when it does not."""
    page = (site / "pg74.html").read_text()
    csp_meta = '<meta http-equiv="Content-Security-Policy"'
    assert page.count(csp_meta) == 1
    bait = (
        '<img src="http://img.example.invalid/a.png" alt="">'
        '<div style="background: url(https://css.example.invalid/b.png)">x</div>'
        '<script>fetch("https://fetch.example.invalid/c.json").catch(function () {});</script>'
    )
    baited = page.replace("<main>", "<main>" + bait, 1)
    no_csp = "".join(
        line for line in baited.splitlines(keepends=True) if not line.startswith(csp_meta)
    )
    (tmp_path / "with-csp.html").write_text(baited)
    (tmp_path / "without-csp.html").write_text(no_csp)

    with opened(browser, tmp_path / "with-csp.html") as tab:
        blocked = "\n".join(tab.blocked())
        outside = "\n".join(tab.outside())
    for host in ("img", "css", "fetch"):
        assert f"{host}.example.invalid" in blocked, (host, blocked)
        assert f"{host}.example.invalid" in outside

    with opened(browser, tmp_path / "without-csp.html") as tab:
        requested = "\n".join(tab.requests())
        assert tab.blocked() == []
        outside = "\n".join(tab.outside())
    for host in ("img", "css", "fetch"):
        assert f"{host}.example.invalid" in requested, (host, requested)
        assert f"{host}.example.invalid" in outside


# ---------------------------------------------------------------- screenshots


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.mark.parametrize("name", PAGES)
def test_screenshot(
    tabs: dict[str, Tab], tmp_path_factory: pytest.TempPathFactory, name: str
) -> None:
    tab = tabs[name]
    tab.evaluate("window.scrollTo(0, 0)")
    shot = tmp_path_factory.getbasetemp() / "screenshots" / f"{name}.png"
    data = tab.screenshot(shot)
    assert _png_size(data) == VIEWPORT
    assert len(data) > 10_000, "the screenshot looks blank"
    height = tab.evaluate("document.documentElement.scrollHeight")
    assert height > VIEWPORT[1] // 2
    if name == "mc68000" and os.environ.get("PGV_SAVE_SCREENSHOTS"):
        saved = ROOT / "reports" / "screenshots" / "mc68000.png"
        saved.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, saved)


def test_x86_report_names_the_critical_instructions_in_its_diagram(
    browser: Chromium, tmp_path: Path
) -> None:
    """The committed x86 report (kept current by test_reports_current) draws the sets diagram
    with every derived critical mnemonic, the published ones among them, named in the gap;
    ``PGV_SAVE_SCREENSHOTS=1`` keeps the screenshot as ``reports/screenshots/x86-sets.png``."""
    page = ROOT / "reports" / "x86.html"
    data: dict[str, Any] = json.loads(page.with_suffix(".json").read_text())
    critical = {r["mnemonic"] for r in data["instructions"] if r["critical"] == "PROVED"}
    published = next(p for p in CATALOG if p.spec == "x86").critical_include
    assert published <= critical
    with opened(browser, page) as tab:
        figures = tab.evaluate(_FIGURES)
        regions = {key: text for key, _, text in figures["sets"]["regions"]}
        named = regions["critical"] + regions["critical-user"]
        missing = sorted(m for m in critical if m not in named)
        assert not missing, f"critical but not named in the diagram: {missing}"
        tab.evaluate("document.getElementById('sets').scrollIntoView()")
        shot = tab.screenshot(tmp_path / "x86-sets.png")
    assert _png_size(shot) == VIEWPORT
    assert len(shot) > 10_000, "the screenshot looks blank"
    if os.environ.get("PGV_SAVE_SCREENSHOTS"):
        saved = ROOT / "reports" / "screenshots" / "x86-sets.png"
        saved.parent.mkdir(parents=True, exist_ok=True)
        saved.write_bytes(shot)
