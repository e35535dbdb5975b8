"""Real-browser test: JupyterLab in Debian's Chromium, driven by Playwright.

For every notebook: open it, run all cells, check that no cell shows a traceback, that every
widget view renders with its picture, and that moving the first slider of each widget
changes the picture. A screenshot of each notebook lands in build/screenshots/.

The server is started with `make lab` (the README's command) on a temporary copy of notebooks/ (autosave never touches the committed files),
its own settings folder (no news pop-up, no virtual scrolling that would hide cells) and a
random token on 127.0.0.1. Both the server and the browser are stopped even on failure.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
SHOTS = ROOT / "build" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Each notebook's limit: its quick-mode wall time measured by `make bench` (README's table)
# times HEADROOM, plus a fixed start-up allowance. The browser test shares two cores with
# the nbval run of other notebooks, so a notebook can take several times its measured time
# (03 once took over 3.6 times its 66 s there).
HEADROOM = 5
STARTUP_S = 60
STATIC_MARK = "(run the notebook to interact)"  # text/plain of every FigureWidget display

SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings":
        {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings":
        {"windowingMode": "none"},
}


def measured_seconds(readme: Path = ROOT / "README.md") -> dict[str, float]:
    """notebook stem -> wall seconds, from the README's measured quick-mode table."""
    rows = re.findall(r"^\| (\d\d\w*_\w+) \| (\d+(?:\.\d+)?) \|", readme.read_text(), re.M)
    return {stem: float(seconds) for stem, seconds in rows}


def run_limit(stem: str, measured: dict[str, float]) -> float:
    """Seconds allowed for Run All of notebook ``stem``."""
    if stem not in measured:
        raise KeyError(f"README's measured table has no row for {stem}: run make bench "
                       "and add its wall time")
    return HEADROOM * measured[stem] + STARTUP_S


def _browser_available() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed"
    return None


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    reason = _browser_available()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser test cannot run under CI: {reason}")
        pytest.skip(reason)
    tmp = tmp_path_factory.mktemp("lab")
    root = tmp / "notebooks"
    shutil.copytree(ROOT / "notebooks", root, ignore=shutil.ignore_patterns("*.py", ".*"))
    settings = tmp / "settings"
    for rel, value in SETTINGS.items():
        f = settings / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(json.dumps(value))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    token = secrets.token_hex(16)
    env = {**os.environ, "MPLIB_MODE": "quick", "JUPYTERLAB_SETTINGS_DIR": str(settings),
           "JUPYTERLAB_WORKSPACES_DIR": str(tmp / "workspaces"),
           "JUPYTER_RUNTIME_DIR": str(tmp / "runtime")}
    log = open(tmp / "server.log", "w")
    # Started through `make lab`, the README's command, so this test is its proof too.
    server = subprocess.Popen(
        ["make", "-s", "-C", str(ROOT), "lab", "HOST=127.0.0.1", f"PORT={port}",
         f"NOTEBOOK_DIR={root}",
         f"LAB_ARGS=--no-browser --IdentityProvider.token={token}"],
        stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for_server(base, token, server, tmp / "server.log")
        yield base, token
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        log.close()


def _wait_for_server(base, token, server, logfile, timeout=90):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if server.poll() is not None:
            raise RuntimeError("JupyterLab exited:\n" + logfile.read_text()[-3000:])
        try:
            with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError("JupyterLab did not answer within 90 s:\n" + logfile.read_text()[-3000:])


@pytest.fixture(scope="module")
def browser(lab):
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
        "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"])
    try:
        yield b
    finally:
        b.close()
        pw.stop()


def _expected_widgets(path) -> int:
    nb = json.loads(path.read_text())
    return sum(STATIC_MARK in "".join(o.get("data", {}).get("text/plain", ""))
               for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", []))


def _run_all(page, tries=4):
    """Run > Run All Cells, again if the kernel dropped the request (it can, right after
    it starts): started means some prompt shows [*] or a number within 15 s."""
    for _ in range(tries):
        page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
        page.get_by_text("Run All Cells", exact=True).click()
        for _ in range(30):
            page.wait_for_timeout(500)
            prompts = page.locator(".jp-CodeCell .jp-InputArea-prompt").all_inner_texts()
            if any(p.strip() not in ("[ ]:", "") for p in prompts):
                return
    pytest.fail("Run All Cells never started the kernel")


def _all_executed(page) -> bool:
    prompts = page.locator(".jp-CodeCell .jp-InputArea-prompt").all_inner_texts()
    return bool(prompts) and all(p.strip().startswith("[") and p.strip()[1:-2].isdigit()
                                 for p in prompts)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_in_jupyterlab(browser, lab, path):
    base, token = lab
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        page.goto(f"{base}/lab/tree/{path.name}?reset&token={token}")
        page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=60_000)
        page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']",
                               timeout=60_000)
        page.get_by_text("Python 3 (ipykernel) | Idle").wait_for(timeout=60_000)
        menus = page.locator(".lm-MenuBar-itemLabel").all_inner_texts()
        assert "Run" in menus and "Nbgrader" not in menus, (
            f"make lab should hide nbgrader's course menu; the menu bar holds {menus}")
        limit = run_limit(path.stem, measured_seconds())
        _run_all(page)
        deadline = time.time() + limit
        while not _all_executed(page):
            assert time.time() < deadline, f"{path.name} did not finish in {limit:.0f} s"
            page.wait_for_timeout(500)
        page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']",
                               timeout=60_000)

        errors = [t for t in page.locator(
            ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
        ).all_inner_texts() if "Traceback" in t or "Error" in t.split("\n", 1)[0]]
        assert not errors, f"{path.name} shows an error:\n{errors[0][:2000]}"

        views = page.locator(".mplib-widget")
        expected = _expected_widgets(path)
        page.wait_for_function(
            f"document.querySelectorAll('.mplib-widget img').length >= {expected}",
            timeout=30_000)
        assert views.count() == expected, f"{path.name}: {views.count()} of {expected} widgets"
        for k in range(expected):
            view = views.nth(k)
            view.scroll_into_view_if_needed()
            img = view.locator("img").first
            before = img.get_attribute("src")
            assert before, f"{path.name}: widget {k} has no picture"
            _move_first_slider(page, view)
            try:
                page.wait_for_function(
                    "([el, old]) => el.getAttribute('src') !== old",
                    arg=[img.element_handle(), before], timeout=20_000)
            except Exception:
                pytest.fail(f"{path.name}: moving the first slider of widget {k} "
                            "did not change its picture")
        if expected:
            views.first.scroll_into_view_if_needed()
    finally:
        page.screenshot(path=str(SHOTS / f"{path.stem}.png"))  # also (mostly) when it fails
        page.close()
        _shut_down_kernels(base, token)


def _shut_down_kernels(base, token):
    """End the notebook's kernel, so that nine notebooks do not hold nine kernels' memory."""
    def call(method, url):
        req = urllib.request.Request(f"{base}{url}", method=method,
                                     headers={"Authorization": f"token {token}"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read() or b"null")

    for session in call("GET", "/api/sessions"):
        call("DELETE", f"/api/sessions/{session['id']}")


def _move_first_slider(page, view):
    """Click the slider's track at three quarters of its width (noUiSlider moves there)."""
    track = view.locator(".noUi-target").first
    if track.count() == 0:
        pytest.fail("widget has no slider to move")
    box = track.bounding_box()
    page.mouse.click(box["x"] + 0.75 * box["width"], box["y"] + box["height"] / 2)
