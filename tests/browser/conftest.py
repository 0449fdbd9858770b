"""Real Chromium (Debian's, driven by Playwright) and a real gunicorn serving a warehouse built for the test."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.shared_fixtures import unavailable

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def browser():
    """A headless Chromium for the whole session."""
    if not Path(CHROMIUM).exists():
        unavailable("Debian chromium is not installed (apt-get install chromium fonts-noto-cjk)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the playwright package is not installed")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        chromium.close()


def serve(var_dir: Path, environment: dict | None = None, workers: int = 2, port: int | None = None):
    """Start gunicorn on a port (default: a free one) for a var folder; returns (process, base URL)."""
    port = port or free_port()
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent))
    env = {**os.environ, "VAR_DIR": str(var_dir), **(environment or {})}
    process = subprocess.Popen(
        [
            gunicorn,
            "dashboard.wsgi:server",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--control-socket",
            str(var_dir / "gunicorn.ctl"),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base + "/", timeout=2).read()
            return process, base
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn ended: {process.stderr.read().decode()[-2000:]}") from None
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("gunicorn did not answer within 60 s")


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory):
    """The demo warehouse (built through the real pipeline) served by gunicorn with two workers."""
    from etl.demo.build import build_demo
    from etl.warehouse.settings import Settings

    var_dir = tmp_path_factory.mktemp("demo-var")
    build_demo(Settings.load(var_dir=str(var_dir)), echo=lambda _line: None)
    process, base = serve(var_dir)
    yield base
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(scope="session")
def sample_var(tmp_path_factory) -> Path:
    """The folder of the demo county with the hand-checkable sample facts (etl/demo/sample.py)."""
    from etl.demo.sample import build_sample

    var_dir = tmp_path_factory.mktemp("sample-var")
    build_sample(var_dir)
    return var_dir


@pytest.fixture(scope="session")
def sample_server(sample_var):
    """The sample served by gunicorn."""
    process, base = serve(sample_var)
    yield base
    process.terminate()
    process.wait(timeout=10)


# Recorded from a page's first script on: every report of the Content Security Policy (window.__violations).
LISTEN_CSP = """
window.__violations = [];
document.addEventListener('securitypolicyviolation',
  e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));
"""


def open_page(browser, enforce_csp: bool = False):
    """(context, page): a 1920×1080 page recording console errors and uncaught page errors (``page.errors``) and
    CSP reports. Playwright's wait_for_function evaluates its predicate from a string, which the CSP the app sends
    (no 'unsafe-eval') refuses: functional tests bypass the CSP; the CSP, XSS tests enforce it."""
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, bypass_csp=not enforce_csp)
    context.add_init_script(LISTEN_CSP)
    page = context.new_page()
    page.errors = []
    page.on("console", lambda message: message.type == "error" and page.errors.append(message.text))
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    return context, page


@pytest.fixture
def page(browser):
    """A fresh page with the CSP bypassed (see open_page)."""
    context, page = open_page(browser)
    yield page
    context.close()


def screenshot(page, name: str) -> Path:
    """Save what the page shows as a test artifact."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path
