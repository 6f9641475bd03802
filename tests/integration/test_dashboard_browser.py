"""SPEC §12 dashboard in a real browser: headless Chromium (Debian's `chromium` + `chromium-driver`) driven by
Selenium. The page is loaded while traffic runs; a replica is killed and must turn unhealthy on the page; the
reload button and the drain button are used through their confirmation dialogs. Every test fails on a console
error and on any request the page makes outside the admin listener. Screenshots are saved under
$GATEWAY_TEST_ARTIFACTS (default: <tmp>/gateway-test-artifacts/dashboard)."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

import pytest

from harness import get, make_config, wait_for

selenium = pytest.importorskip("selenium", reason="selenium is installed by scripts/bootstrap.sh")
from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import StaleElementReferenceException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = [
    pytest.mark.skipif(not CHROMIUM or not CHROMEDRIVER, reason="chromium and chromium-driver come from scripts/bootstrap.sh"),
    pytest.mark.timeout(180),
]

ARTIFACTS = Path(os.environ.get("GATEWAY_TEST_ARTIFACTS") or Path(tempfile.gettempdir()) / "gateway-test-artifacts") / "dashboard"

ROUTES = """
- name: api
  match: { path_prefix: /api/ }
  upstream: app
  strip_prefix: true
  rate_limits:
    - { name: per-ip, key: client_ip, limit: 100000, window: 1m }
- name: shop
  match: { path_prefix: /shop/ }
  upstream: app
  strip_prefix: true
- name: ws
  match: { path: /ws }
  pubsub:
    subscribe: ["public:*"]
"""

UPSTREAMS = """
app:
  replicas: ["${b0}", "${b1}"]
  retries: 1
  health:
    path: /health
    interval: 200ms
    timeout: 300ms
    unhealthy_after: 2
    healthy_after: 2
"""


def _config(extra_route: str = "") -> str:
    return make_config(upstreams=UPSTREAMS, routes=ROUTES + extra_route)


class Traffic:
    """Background requests through the gateway (a few per second per path) until stopped."""

    def __init__(self, gw, paths):
        self.gw, self.paths, self.stop_flag, self.count = gw, paths, threading.Event(), 0
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop_flag.is_set():
            for path in self.paths:
                try:
                    self.gw.get(path, timeout=5)
                    self.count += 1
                except Exception:  # noqa: BLE001 - a killed replica may reset one
                    pass
            time.sleep(0.05)

    def stop(self):
        self.stop_flag.set()
        self.thread.join(10)


@pytest.fixture
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1440,1200",
                "--no-first-run", "--disable-extensions", "--disable-background-networking",
                "--disable-component-update", "--disable-default-apps", "--disable-sync"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


class Page:
    """The dashboard in the browser, plus the checks every test ends with."""

    def __init__(self, driver, gw, name: str):
        self.driver, self.gw, self.name = driver, gw, name
        self.origin = f"http://127.0.0.1:{gw.admin_port}"
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        driver.get(self.origin + "/")
        self.wait(lambda d: d.execute_script("return document.getElementById('live').classList.contains('on')"),
                  what="the live feed connected")

    def wait(self, predicate, timeout: float = 40, what: str = "condition"):
        # the page re-renders its tables every second: an element found a moment ago may be gone
        return WebDriverWait(self.driver, timeout, poll_frequency=0.2,
                             ignored_exceptions=(StaleElementReferenceException,)).until(
            predicate, message=f"waiting for {what}")

    def js(self, script: str, *args):
        """Reads the page in one step (elements are replaced every second, so no element handles)."""
        return self.driver.execute_script(script, *args)

    def replica_state(self, target: str) -> str | None:
        return self.js("const r = document.querySelector(`tr[data-replica=\"${arguments[0]}\"]`); "
                       "return r ? r.getAttribute('data-state') : null", target)

    def text(self, element_id: str) -> str:
        """The element's text as written (`.text` would apply CSS `text-transform`)."""
        return self.driver.execute_script("const e = document.getElementById(arguments[0]); return e ? e.textContent : ''",
                                          element_id)

    def click(self, css: str):
        self.wait(lambda d: d.find_elements(By.CSS_SELECTOR, css), what=css)
        # the table re-renders every second: find and click in one script step
        clicked = self.driver.execute_script(
            "const e = document.querySelector(arguments[0]); if (!e) return false; e.click(); return true;", css)
        assert clicked, css

    def confirm(self):
        self.wait(lambda d: d.execute_script("return document.getElementById('confirm').open"), what="the dialog")
        self.driver.find_element(By.ID, "confirm-ok").click()

    def screenshot(self, step: str) -> Path:
        path = ARTIFACTS / f"{self.name}-{step}.png"
        self.driver.save_screenshot(str(path))
        return path

    def assert_clean(self, expected: tuple[str, ...] = ()):
        """No console error, and every request went to the admin listener (or was a data: URL).

        `expected`: substrings of the network errors the test provoked on purpose (Chrome logs every 4xx answer
        to a fetch as a console error, even when the page handles it)."""
        errors = [e for e in self.driver.get_log("browser") if e.get("level") == "SEVERE"
                  and not (e.get("source") == "network" and any(x in e.get("message", "") for x in expected))]
        assert not errors, f"console errors: {errors}"
        outside = []
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message.get("method") != "Network.requestWillBeSent":
                continue
            url = message["params"]["request"]["url"]
            if not (url.startswith(self.origin + "/") or url.startswith("data:")):
                outside.append(url)
        assert not outside, f"requests outside the admin listener: {outside}"


def test_dashboard_shows_traffic_and_a_killed_replica(gateway, backends, browser):
    replicas = backends(2)
    gw = gateway(_config(), backends=replicas)
    wait_for(lambda: all(r["state"] == "healthy" for r in gw.admin("GET", "/upstreams").json()["upstreams"]["app"]["replicas"]),
             15, what="replicas healthy")
    gw.get("/nowhere")  # one gateway-made 404 for the errors table
    # (no upstream 5xx here: three in a row would eject a replica by passive health before the test looks)
    traffic = Traffic(gw, ["/api/json", "/shop/json", "/shop/status/404"])
    try:
        page = Page(browser, gw, "traffic")
        page.wait(lambda d: page.replica_state("app/0") == "healthy" and page.replica_state("app/1") == "healthy",
                  what="both replicas healthy on the page")
        page.wait(lambda d: d.execute_script(
            "const r = document.querySelector('tr[data-route=\"api\"] [data-role=rps]'); return r && Number(r.textContent) > 0"),
            what="api req/s above zero")
        page.wait(lambda d: d.find_elements(By.CSS_SELECTOR, 'tr[data-request-id]'), what="a recent error row")
        time.sleep(2)  # a few more seconds of sparkline
        page.screenshot("1-live")
        # the page numbers agree with the API
        upstreams = gw.admin("GET", "/upstreams").json()["upstreams"]["app"]["replicas"]
        urls = page.js("return [...document.querySelectorAll('tr[data-replica] td.mono')].map(e => e.textContent)")
        assert urls == [r["url"] for r in upstreams]

        replicas[1].stop()
        page.wait(lambda d: page.replica_state("app/1") in ("unhealthy", "ejected"), what="replica 1 turning red")
        page.wait(lambda d: page.js("return document.getElementById('banner').classList.contains('show')"),
                  what="the problem banner")
        assert "replica 1" in page.text("banner")
        assert page.js("return document.querySelector('tr[data-replica=\"app/1\"]').className") == "problem"
        assert page.replica_state("app/0") == "healthy"
        page.screenshot("2-replica-down")
        page.assert_clean()
    finally:
        traffic.stop()


def test_reload_button_applies_a_new_config(gateway, backends, browser):
    replicas = backends(2)
    gw = gateway(_config(), backends=replicas)
    page = Page(browser, gw, "reload")
    page.wait(lambda d: page.text("config-version") == "v1", what="config v1")
    gw.write_config(_config("- name: added\n  match: { path: /added }\n  upstream: app\n"))
    page.click("#btn-reload")
    page.confirm()
    page.wait(lambda d: "Reloaded" in page.text("toast"), what="the reload toast")
    page.wait(lambda d: page.text("config-version") == "v2", what="config v2 on the page")
    page.wait(lambda d: d.find_elements(By.CSS_SELECTOR, 'tr[data-config-route="added"]'), what="the new route listed")
    page.screenshot("reloaded")
    # a cancelled confirmation does nothing
    page.click("#btn-reload")
    page.wait(lambda d: d.execute_script("return document.getElementById('confirm').open"), what="the dialog")
    browser.find_element(By.ID, "confirm-cancel").click()
    time.sleep(1.5)
    assert page.text("config-version") == "v2"
    page.assert_clean()
    # an invalid file is rejected and said so
    gw.config_path.write_text(gw.config_path.read_text() + "\nbogus_key: 1\n")
    page.click("#btn-reload")
    page.confirm()
    page.wait(lambda d: "rejected" in page.text("toast"), what="the rejection toast")
    assert "bogus_key" in page.text("toast")
    assert page.text("config-version") == "v2"
    page.screenshot("rejected")
    page.assert_clean(expected=("/reload - Failed to load resource: the server responded with a status of 422",))


def test_drain_and_undrain_from_the_page(gateway, backends, browser):
    replicas = backends(2)
    gw = gateway(_config(), backends=replicas)
    wait_for(lambda: all(r["state"] == "healthy" for r in gw.admin("GET", "/upstreams").json()["upstreams"]["app"]["replicas"]),
             15, what="replicas healthy")
    traffic = Traffic(gw, ["/api/json"])
    try:
        page = Page(browser, gw, "drain")
        page.wait(lambda d: page.replica_state("app/0") == "healthy", what="replica 0 healthy")
        page.click('button[data-action="drain"][data-target="app/0"]')
        page.confirm()
        page.wait(lambda d: page.replica_state("app/0") == "draining", what="replica 0 draining on the page")
        assert gw.admin("GET", "/upstreams").json()["upstreams"]["app"]["replicas"][0]["state"] == "draining"
        names = {gw.get("/api/hello").json()["replica"] for _ in range(8)}
        assert names == {replicas[1].name}
        page.screenshot("drained")
        page.click('button[data-action="undrain"][data-target="app/0"]')
        page.confirm()
        page.wait(lambda d: page.replica_state("app/0") == "healthy", what="replica 0 back")
        page.assert_clean()
    finally:
        traffic.stop()


def test_page_works_with_basic_auth(gateway, backends, browser):
    replicas = backends(1)
    config = make_config(upstreams='app: { replicas: ["${b0}"] }', routes=ROUTES.split("- name: shop")[0],
                         server="admin_auth: { basic_users_file: admin.htpasswd }")
    gw = gateway(config, backends=replicas, wait=False,
                 files={"admin.htpasswd": "alice:$2y$04$e3xbZFGgkwelal5xuvWx3e0qxU..VwOM7obhG32VnjPHEbcjk7Iqi\n"})
    import base64
    auth = {"Authorization": "Basic " + base64.b64encode(b"alice:wonder land").decode()}
    wait_for(lambda: get(gw.admin_port, "/healthz", headers=auth, timeout=2).status == 200, 30, what="admin up")
    # credentials go through Chrome's DevTools (the same as a user typing them into the prompt)
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": auth})
    page = Page(browser, gw, "basic-auth")
    page.wait(lambda d: page.replica_state("app/0") is not None, what="a replica row")
    page.assert_clean()


def test_end_sessions_and_publish_from_the_page(gateway, backends, browser):
    from websockets.sync.client import connect

    replicas = backends(1)
    config = make_config(
        upstreams='app: { replicas: ["${b0}"] }',
        routes=ROUTES.split("- name: shop")[0] + """
- name: login
  match: { path: /login, methods: [POST] }
  upstream: app
  session: issue
- name: ws
  match: { path: /ws }
  pubsub:
    subscribe: ["public:*"]
""",
        top="""
sessions:
  secret_env: GATEWAY_SESSION_SECRET
""")
    gw = gateway(config, backends=replicas)
    login = gw.request("POST", "/login", {"Content-Type": "application/json"}, json.dumps({"user": "bob"}).encode())
    assert login.status == 200 and (login.header("set-cookie") or "").startswith("gw_session=")
    page = Page(browser, gw, "actions")

    page.click("#btn-sessions")
    page.wait(lambda d: d.execute_script("return document.getElementById('confirm').open"), what="the dialog")
    browser.find_element(By.ID, "field-user").send_keys("bob")
    browser.find_element(By.ID, "confirm-ok").click()
    page.wait(lambda d: "Sessions of bob" in page.text("toast"), what="the sessions toast")
    assert "(1 ended)" in page.text("toast")

    with connect(f"ws://127.0.0.1:{gw.port}/ws?subscribe=public:test", open_timeout=20) as ws:
        assert json.loads(ws.recv(timeout=20)) == {"type": "subscribed", "channel": "public:test"}
        page.click("#btn-publish")
        page.confirm()  # the dialog comes filled with public:test and a JSON object
        page.wait(lambda d: "Published to public:test" in page.text("toast"), what="the publish toast")
        message = json.loads(ws.recv(timeout=20))
        assert message == {"type": "message", "channel": "public:test", "data": {"hello": "from the dashboard"}}
    page.screenshot("published")
    page.assert_clean()
