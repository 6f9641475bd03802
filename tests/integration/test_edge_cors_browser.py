"""SPEC §10 CORS with a real browser: headless Chromium (selenium) loads a page from one origin and `fetch`es the
gateway on another port with a non-simple request (PUT + JSON + Authorization), so the browser itself sends the
preflight. An allowed origin reads the response; a disallowed one is blocked by the browser. (That preflights
never reach the upstream is checked in test_edge_policies.py with a closed upstream.)"""

from __future__ import annotations

import shutil

import pytest

from edge_helpers import MiniServer
from harness import make_config

selenium = pytest.importorskip("selenium", reason="selenium is installed by scripts/bootstrap.sh")
from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = [
    pytest.mark.skipif(not CHROMIUM or not CHROMEDRIVER, reason="chromium and chromium-driver come from scripts/bootstrap.sh"),
    pytest.mark.timeout(180),
]

PAGE = b"<!doctype html><html><head><title>cors test</title></head><body>page</body></html>"

FETCH = """
const done = arguments[arguments.length - 1];
fetch(arguments[0], {method: "PUT", credentials: "include",
                     headers: {"Content-Type": "application/json", "Authorization": "Bearer t"},
                     body: JSON.stringify({a: 1})})
  .then(async r => done({ok: true, status: r.status, exposed: r.headers.get("X-Request-Id"), body: await r.text()}))
  .catch(e => done({ok: false, error: String(e)}));
"""


@pytest.fixture
def driver():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(arg)
    drv = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    drv.set_script_timeout(30)
    yield drv
    drv.quit()


@pytest.fixture
def pages():
    servers = []

    def start() -> MiniServer:
        server = MiniServer()
        server.routes["/"] = lambda h: (200, {"Content-Type": "text/html"}, PAGE)
        servers.append(server.start())
        return server

    yield start
    for server in servers:
        server.stop()


def test_browser_preflight_allowed_and_refused(gateway, backends, driver, pages):
    allowed_page, other_page = pages(), pages()
    config = make_config(
        upstreams="""
        app: { replicas: ["${b0}"] }
        """,
        routes=f"""
        - name: api
          match: {{ path_prefix: /api/, methods: [GET, PUT] }}
          upstream: app
          cors:
            origins: ["{allowed_page.url}"]
            methods: [GET, PUT]
            headers: [Authorization, Content-Type]
            expose: [X-Request-Id]
            credentials: true
            max_age: 1s
        """,
    )
    gw = gateway(config, backends=backends(1))
    target = f"{gw.url}/api/items"

    driver.get(allowed_page.url + "/")
    result = driver.execute_async_script(FETCH, target)
    assert result["ok"], result
    assert result["status"] == 200
    assert result["exposed"], "X-Request-Id is exposed to the script"
    assert "PUT" in result["body"], result

    driver.get(other_page.url + "/")
    result = driver.execute_async_script(FETCH, target)
    assert not result["ok"], f"the browser must block a disallowed origin: {result}"
    assert "Failed to fetch" in result["error"] or "TypeError" in result["error"], result
