"""SPEC §12 admin side: the `/events` feed, the dashboard page, drain/undrain, `server.admin_auth`, and the
`gateway check` warning for an open admin listener. Real gateway, real demo-backends, real sockets."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import threading
import time

import pytest
import requests

from harness import assert_problem, get, make_config, run_gateway, wait_for

ROUTES = """
- name: api
  match: { path_prefix: /api/ }
  upstream: app
  strip_prefix: true
  rate_limits:
    - { name: per-ip, key: client_ip, limit: 1000, window: 1m }
- name: tight
  match: { path_prefix: /tight/ }
  upstream: app
  strip_prefix: true
  rate_limits:
    - { name: three, key: client_ip, limit: 3, window: 1m }
- name: ws
  match: { path: /ws }
  pubsub:
    subscribe: ["public:*"]
"""

HEALTH = """
  health:
    path: /health
    interval: 200ms
    timeout: 300ms
    unhealthy_after: 2
    healthy_after: 2
"""


def _config(server: str = "", upstream_extra: str = HEALTH) -> str:
    return make_config(
        upstreams='app:\n  replicas: ["${b0}", "${b1}"]\n' + upstream_extra.strip("\n") + "\n",
        routes=ROUTES,
        server=server,
    )


class EventStream:
    """A `GET /events` reader on its own thread; `frames` collects the decoded JSON frames."""

    def __init__(self, url: str, headers=None):
        self.response = requests.get(url, stream=True, timeout=(5, 30), headers=headers or {})
        self.frames: list[dict] = []
        self.raw: list[str] = []
        self.error: Exception | None = None
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        try:
            for line in self.response.iter_lines(decode_unicode=True):
                if line is None:
                    continue
                self.raw.append(line)
                if line.startswith("data: "):
                    self.frames.append(json.loads(line[len("data: "):]))
        except Exception as exc:  # noqa: BLE001 - closed by the test or by the gateway
            self.error = exc

    def latest(self) -> dict | None:
        return self.frames[-1] if self.frames else None

    def wait(self, predicate, timeout: float = 20.0, what: str = "a frame"):
        def check():
            frame = self.latest()
            return frame if frame is not None and predicate(frame) else None

        return wait_for(check, timeout, interval=0.1, what=what)

    def close(self):
        self.response.close()


def _replica(frame: dict, upstream: str, index: int) -> dict:
    return next(u for u in frame["upstreams"] if u["name"] == upstream)["replicas"][index]


def _route(frame: dict, name: str) -> dict | None:
    return next((r for r in frame["routes"] if r["name"] == name), None)


def test_events_feed_streams_json_frames_every_second(gateway, backends):
    replicas = backends(2)
    gw = gateway(_config(), backends=replicas)
    stream = EventStream(gw.admin_url + "/events")
    try:
        assert stream.response.status_code == 200
        assert stream.response.headers["content-type"].startswith("text/event-stream")
        assert stream.response.headers.get("cache-control") == "no-store"
        first = stream.wait(lambda f: True, what="the first frame")
        # the documented shape
        for key in ("time", "uptime_s", "gateway_version", "config", "totals", "store", "upstreams", "routes",
                    "rate_limits", "pubsub", "errors"):
            assert key in first, key
        assert first["config"]["version"] == 1
        assert first["store"] == {**first["store"], "kind": "memory", "up": True}
        assert [r["url"] for r in first["upstreams"][0]["replicas"]] == [b.url for b in replicas]
        api = _route(first, "api")
        assert api["kind"] == "proxy" and api["upstream"] == "app" and api["match"] == {"path_prefix": "/api/"}
        assert api["limits"] == [{"name": "per-ip", "limit": 1000, "window_s": 60}]
        assert _route(first, "ws")["kind"] == "pubsub"
        # traffic shows up as req/s, totals, percentiles and series
        for _ in range(30):
            assert gw.get("/api/json").status == 200
        frame = stream.wait(lambda f: _route(f, "api")["requests_total"] >= 30, what="30 api requests in the feed")
        api = _route(frame, "api")
        assert api["status_total"]["2xx"] >= 30
        assert api["p50_ms"] is not None and api["p99_ms"] >= api["p50_ms"] > 0
        assert sum(api["series"]["rps"]) >= 30 and len(api["series"]["rps"]) <= 300
        assert len(api["series"]["rps"]) == len(api["series"]["p99_ms"]) == len(api["series"]["5xx"])
        # frames keep coming, about one per second (generous bounds: the machine may be loaded)
        count = len(stream.frames)
        time.sleep(5)
        assert len(stream.frames) >= count + 2
        ids = [int(line[4:]) for line in stream.raw if line.startswith("id: ")]
        assert ids == sorted(ids) and len(set(ids)) == len(ids)
    finally:
        stream.close()


def test_feed_numbers_match_metrics_and_upstreams(gateway, backends):
    replicas = backends(2)
    gw = gateway(_config(), backends=replicas)
    for _ in range(5):
        gw.get("/tight/json")  # 3 allowed, 2 denied
    gw.get("/nowhere")  # 404, unrouted
    stream = EventStream(gw.admin_url + "/events")
    try:
        frame = stream.wait(lambda f: any(l["route"] == "tight" for l in f["rate_limits"]) and _route(f, "-"),
                            what="rate-limit rows and the unrouted 404")
        row = next(l for l in frame["rate_limits"] if l["route"] == "tight" and l["limit"] == "three")
        assert (row["allowed"], row["denied"]) == (3, 2)
        metrics = gw.admin("GET", "/metrics").body.decode()
        lines = [l for l in metrics.splitlines() if l.startswith("gateway_ratelimit_decisions_total{")
                 and 'limit="three"' in l and 'route="tight"' in l]
        values = {("denied" if 'result="denied"' in l else "allowed"): float(l.rsplit(" ", 1)[1]) for l in lines}
        assert values == {"allowed": 3.0, "denied": 2.0}, lines
        upstreams = gw.admin("GET", "/upstreams").json()["upstreams"]["app"]["replicas"]
        for index, replica in enumerate(upstreams):
            mine = _replica(frame, "app", index)
            assert (mine["url"], mine["state"], mine["weight"]) == (replica["url"], replica["state"], replica["weight"])
        # gateway-made errors: the two 429s and the 404, newest first, with request ids and details
        errors = frame["errors"]
        statuses = [e["status"] for e in errors]
        assert statuses.count(429) == 2 and 404 in statuses, errors
        e404 = next(e for e in errors if e["status"] == 404)
        assert e404["route"] == "-" and e404["path"] == "/nowhere" and "No route" in e404["detail"]
        assert re.match(r"^[0-9a-fA-F-]{36}$", e404["request_id"])
        unrouted = _route(frame, "-")
        assert unrouted is not None and unrouted["unrouted"] is True and unrouted["status_total"]["4xx"] >= 1
    finally:
        stream.close()


def test_upstream_errors_are_not_listed_as_gateway_errors(gateway, backends):
    replicas = backends(2)
    gw = gateway(_config(upstream_extra="  passive: false"), backends=replicas)
    assert gw.get("/api/status/500").status == 500  # the upstream's own 500
    stream = EventStream(gw.admin_url + "/events")
    try:
        frame = stream.wait(lambda f: _route(f, "api")["status_total"]["5xx"] >= 1, what="the 500 counted")
        assert frame["errors"] == []
    finally:
        stream.close()


def test_a_stopped_viewer_stops_the_work(gateway, backends):
    """Viewers come and go; the feed keeps working for the next one and serves several at once."""
    replicas = backends(2)
    gw = gateway(_config(), backends=replicas)
    streams = [EventStream(gw.admin_url + "/events") for _ in range(3)]
    try:
        for s in streams:
            s.wait(lambda f: True)
        for s in streams:
            s.close()
        time.sleep(1.5)
        again = EventStream(gw.admin_url + "/events")
        try:
            frame = again.wait(lambda f: True)
            assert frame["config"]["version"] == 1
        finally:
            again.close()
    finally:
        for s in streams:
            s.close()


def test_dashboard_page_is_self_contained(gateway, backends):
    replicas = backends(2)
    gw = gateway(_config(), backends=replicas)
    resp = gw.admin("GET", "/")
    assert resp.status == 200 and resp.content_type == "text/html"
    csp = resp.header("content-security-policy")
    assert "default-src 'none'" in csp and "connect-src 'self'" in csp
    html = resp.body.decode()
    assert 'new EventSource("/events")' in html
    # nothing outside: no absolute URLs in src/href/fetch, no @import or url() to elsewhere
    assert not re.search(r"""(src|href)\s*=\s*["'](https?:)?//""", html)
    assert "@import" not in html and "url(http" not in html
    assert gw.admin("HEAD", "/").status == 200


def test_drain_and_undrain_a_replica(gateway, backends):
    replicas = backends(2)
    gw = gateway(_config(), backends=replicas)
    wait_for(lambda: all(r["state"] == "healthy" for r in gw.admin("GET", "/upstreams").json()["upstreams"]["app"]["replicas"]),
             10, what="both replicas healthy")
    # a slow request in flight on whichever replica it lands
    results = {}

    def slow():
        results["resp"] = gw.get("/api/slow?ms=4000", timeout=30)

    thread = threading.Thread(target=slow)
    thread.start()
    def busy():
        states = gw.admin("GET", "/upstreams").json()["upstreams"]["app"]["replicas"]
        return next((str(i) for i, r in enumerate(states) if r["in_flight"] > 0), None)

    busy_index = int(wait_for(busy, 10, what="a request in flight"))
    resp = gw.admin("POST", f"/upstreams/app/replicas/{busy_index}/drain", body=b"")
    assert resp.status == 200, resp.body
    doc = resp.json()
    assert doc["state"] == "draining" and doc["replica"] == busy_index and doc["url"] == replicas[busy_index].url
    assert doc["in_flight"] == 1
    states = gw.admin("GET", "/upstreams").json()["upstreams"]["app"]["replicas"]
    assert states[busy_index]["state"] == "draining"
    # new requests all go to the other replica; the in-flight one finishes fine
    other = replicas[1 - busy_index].name
    seen = {gw.get("/api/hello").json()["replica"] for _ in range(10)}
    assert seen == {other}
    thread.join(30)
    assert results["resp"].status == 200 and results["resp"].json()["replica"] == replicas[busy_index].name
    # undrain: back in rotation
    resp = gw.admin("POST", f"/upstreams/app/replicas/{busy_index}/undrain", body=b"")
    assert resp.status == 200 and resp.json()["state"] == "healthy"
    seen = {gw.get("/api/hello").json()["replica"] for _ in range(10)}
    assert seen == {r.name for r in replicas}


def test_drain_errors_are_problems(gateway, backends):
    replicas = backends(2)
    gw = gateway(_config(), backends=replicas)
    assert_problem(gw.admin("POST", "/upstreams/nope/replicas/0/drain", body=b""), 404)
    assert_problem(gw.admin("POST", "/upstreams/app/replicas/2/drain", body=b""), 404)
    assert_problem(gw.admin("POST", "/upstreams/app/replicas/x/drain", body=b""), 400)
    resp = gw.admin("GET", "/upstreams/app/replicas/0/drain")
    assert_problem(resp, 405)
    assert resp.header("allow") == "POST"
    # a browser page from elsewhere cannot drain (CSRF)
    resp = gw.admin("POST", "/upstreams/app/replicas/0/drain", headers={"Origin": "http://evil.example"}, body=b"")
    assert_problem(resp, 403)
    assert gw.admin("GET", "/upstreams").json()["upstreams"]["app"]["replicas"][0]["state"] != "draining"


def test_all_replicas_drained_answers_503(gateway, backends):
    replicas = backends(2)
    gw = gateway(_config(upstream_extra=""), backends=replicas)
    for index in (0, 1):
        assert gw.admin("POST", f"/upstreams/app/replicas/{index}/drain", body=b"").status == 200
    assert_problem(gw.get("/api/json"), 503)


# ----------------------------------------------------------------------------------------------- admin auth

ALICE = "alice:$2y$04$e3xbZFGgkwelal5xuvWx3e0qxU..VwOM7obhG32VnjPHEbcjk7Iqi\n"  # password "wonder land"
ADMIN_PATHS = ["/", "/events", "/metrics", "/upstreams", "/healthz", "/readyz"]


def _wait_admin(gw, headers=None):
    wait_for(lambda: gw.proc.poll() is None and get(gw.admin_port, "/healthz", headers=headers, timeout=2).status == 200,
             30, what="admin listener answering with credentials")


def _basic(user: str, password: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_basic_auth_protects_every_admin_endpoint(gateway, backends):
    replicas = backends(2)
    gw = gateway(_config(server="admin_auth: { basic_users_file: admin.htpasswd }"), backends=replicas,
                 files={"admin.htpasswd": ALICE}, wait=False)
    good = _basic("alice", "wonder land")
    _wait_admin(gw, good)
    for path in ADMIN_PATHS:
        resp = gw.admin("GET", path)
        assert_problem(resp, 401)
        assert resp.header("www-authenticate").startswith("Basic realm=")
        assert_problem(gw.admin("GET", path, headers=_basic("alice", "wrong")), 401)
        assert_problem(gw.admin("GET", path, headers=_basic("mallory", "wonder land")), 401)
    assert_problem(gw.admin("POST", "/reload", body=b""), 401)
    assert_problem(gw.admin("POST", "/upstreams/app/replicas/0/drain", body=b""), 401)
    assert gw.admin("GET", "/metrics", headers=good).status == 200
    assert gw.admin("GET", "/", headers=good).status == 200
    assert gw.admin("POST", "/reload", headers=good, body=b"").status == 200
    stream = EventStream(gw.admin_url + "/events", headers=good)
    try:
        assert stream.wait(lambda f: True)["config"]["version"] == 2
    finally:
        stream.close()
    # the proxy listener is not affected
    assert gw.get("/api/json").status == 200


def test_token_auth_and_the_login_cookie(gateway, backends):
    replicas = backends(2)
    token = "t0ken-with-enough-entropy"
    gw = gateway(_config(server="admin_auth: { token_env: GATEWAY_ADMIN_TOKEN }"), backends=replicas,
                 env={"GATEWAY_ADMIN_TOKEN": token}, wait=False)
    bearer = {"Authorization": f"Bearer {token}"}
    _wait_admin(gw, bearer)
    for path in ADMIN_PATHS:
        resp = gw.admin("GET", path)
        assert_problem(resp, 401)
        assert resp.header("www-authenticate").startswith("Bearer")
        assert_problem(gw.admin("GET", path, headers={"Authorization": f"Bearer {token}x"}), 401)
        assert gw.admin("HEAD" if path == "/events" else "GET", path, headers=bearer).status == 200
    # a browser asking for the page gets a sign-in form (still 401)
    page = gw.admin("GET", "/", headers={"Accept": "text/html"})
    assert page.status == 401 and page.content_type == "text/html" and b'action="/login"' in page.body
    bad = gw.admin("POST", "/login", headers={"Content-Type": "application/x-www-form-urlencoded"}, body=b"token=nope")
    assert bad.status == 401 and "Set-Cookie" not in dict(bad.headers)
    ok = gw.admin("POST", "/login", headers={"Content-Type": "application/x-www-form-urlencoded"},
                  body=f"token={token}".encode())
    assert ok.status == 303 and ok.header("location") == "/"
    cookie = ok.header("set-cookie")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    pair = cookie.split(";")[0]
    assert gw.admin("GET", "/upstreams", headers={"Cookie": pair}).status == 200


def test_token_auth_needs_its_variable(gateway, backends, tmp_path):
    replicas = backends(1)
    config = make_config(upstreams='app: { replicas: ["${b0}"] }', routes=ROUTES.split("- name: tight")[0],
                         server="admin_auth: { token_env: GATEWAY_ADMIN_TOKEN }")
    gw = gateway(config, backends=replicas, wait=False)
    assert gw.proc.wait(30) != 0
    assert "GATEWAY_ADMIN_TOKEN" in gw.log()


def test_htpasswd_with_weak_hashes_is_refused_at_start(gateway, backends):
    replicas = backends(1)
    config = make_config(upstreams='app: { replicas: ["${b0}"] }', routes=ROUTES.split("- name: tight")[0],
                         server="admin_auth: { basic_users_file: admin.htpasswd }")
    gw = gateway(config, backends=replicas, files={"admin.htpasswd": "bob:$apr1$x$y\n"}, wait=False)
    assert gw.proc.wait(30) != 0
    assert "htpasswd -B" in gw.log()


def test_check_warns_about_an_open_admin_listener(tmp_path, backends):
    conf = tmp_path / "gateway.yaml"
    base = "server:\n  listen: 127.0.0.1:0\n  admin_listen: 0.0.0.0:0\n{auth}upstreams:\n  app: {{ replicas: [http://127.0.0.1:9] }}\nroutes:\n  - {{ name: r, match: {{ path_prefix: / }}, upstream: app }}\n"
    conf.write_text(base.format(auth=""))
    result = run_gateway("check", "--config", str(conf))
    assert result.returncode == 0, result.stderr
    assert "not on loopback" in result.stderr and "admin_auth" in result.stderr
    conf.write_text(base.format(auth="  admin_auth: { token_env: GATEWAY_ADMIN_TOKEN }\n"))
    result = run_gateway("check", "--config", str(conf))
    assert result.returncode == 0 and "not on loopback" not in result.stderr
    conf.write_text(base.replace("0.0.0.0:0", "127.0.0.1:0").format(auth=""))
    result = run_gateway("check", "--config", str(conf))
    assert result.returncode == 0 and "not on loopback" not in result.stderr
