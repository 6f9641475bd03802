"""SPEC §1: reload (SIGHUP, POST /reload), graceful shutdown (SIGTERM/SIGINT), `gateway --config FILE`,
access log lines, admin health endpoints."""

import json
import signal
import threading
import time

import pytest

from harness import HTTPConnection, assert_problem, make_config, request, wait_for

ROUTE_A = """
- name: a
  match: { path_prefix: /a/ }
  upstream: app
"""
ROUTE_B = """
- name: b
  match: { path_prefix: /b/ }
  upstream: app
"""


def _config(routes, server=""):
    return make_config(upstreams='app: { replicas: ["${b0}"] }', routes=routes, server=server)


def test_sighup_reload_adds_route_and_keeps_serving(gateway, backends):
    gw = gateway(_config(ROUTE_A), backends=backends(1))
    assert gw.get("/a/x").status == 200
    assert_problem(gw.get("/b/x"), 404)

    gw.write_config(_config(ROUTE_A + ROUTE_B))
    gw.reload()
    wait_for(lambda: gw.get("/b/x").status == 200, 10, what="route b after SIGHUP")
    assert gw.get("/a/x").status == 200
    assert gw.proc.poll() is None


def test_sighup_with_bad_file_keeps_running_config(gateway, backends):
    gw = gateway(_config(ROUTE_A), backends=backends(1))
    gw.write_config(_config(ROUTE_A + ROUTE_B).replace("path_prefix: /b/", "path_prefx: /b/"))
    gw.reload()
    wait_for(lambda: "path_prefx" in gw.log(), 10, what="the reload error in the log")
    assert gw.proc.poll() is None, "a bad file does not stop the gateway"
    assert gw.get("/a/x").status == 200
    assert gw.get("/b/x").status == 404
    # a later good file still applies
    gw.write_config(_config(ROUTE_A + ROUTE_B))
    gw.reload()
    wait_for(lambda: gw.get("/b/x").status == 200, 10, what="route b after fixing the file")


def test_reload_error_is_logged_with_position(gateway, backends):
    gw = gateway(_config(ROUTE_A), backends=backends(1))
    gw.write_config(_config(ROUTE_A + ROUTE_B).replace("path_prefix: /b/", "path_prefx: /b/"))
    gw.reload()
    wait_for(lambda: "path_prefx" in gw.log(), 10, what="the reload error in the log")
    assert f"{gw.config_path.name}:" in gw.log()


def test_in_flight_request_survives_reload_that_removes_its_route(gateway, backends):
    gw = gateway(_config(ROUTE_A), backends=backends(1))
    result = {}

    def slow():
        result["resp"] = gw.get("/a/slow?ms=1500", timeout=10)

    thread = threading.Thread(target=slow)
    thread.start()
    time.sleep(0.3)
    gw.write_config(_config(ROUTE_B))
    gw.reload()
    wait_for(lambda: gw.get("/b/x").status == 200, 10, what="new config")
    thread.join(10)
    assert result["resp"].status == 200, "the old config finishes what it started"
    assert_problem(gw.get("/a/x"), 404)


def test_admin_post_reload(gateway, backends):
    gw = gateway(_config(ROUTE_A), backends=backends(1))
    gw.write_config(_config(ROUTE_A + ROUTE_B))
    resp = gw.admin("POST", "/reload", body=b"")
    assert resp.status == 200, resp.body
    assert gw.get("/b/x").status == 200, "the new config is live once /reload answered"


def test_admin_post_reload_with_bad_file_is_refused(gateway, backends):
    gw = gateway(_config(ROUTE_A), backends=backends(1))
    gw.write_config(_config(ROUTE_A + ROUTE_B).replace("path_prefix: /b/", "path_prefx: /b/"))
    resp = gw.admin("POST", "/reload", body=b"")
    assert 400 <= resp.status < 600
    assert b"path_prefx" in resp.body, "the answer says what is wrong"
    assert gw.get("/a/x").status == 200
    assert gw.get("/b/x").status == 404


def test_sigterm_drains_in_flight_request_then_exits_0(gateway, backends):
    gw = gateway(_config(ROUTE_A, server="shutdown_grace: 10s"), backends=backends(1))
    result = {}

    def slow():
        try:
            result["resp"] = gw.get("/a/slow?ms=1500", timeout=10)
        except Exception as error:  # noqa: BLE001
            result["error"] = error

    thread = threading.Thread(target=slow)
    thread.start()
    time.sleep(0.4)
    started = time.monotonic()
    gw.send_signal(signal.SIGTERM)
    thread.join(10)
    assert "error" not in result, result.get("error")
    assert result["resp"].status == 200
    assert gw.proc.wait(15) == 0
    assert time.monotonic() - started < 10


def test_sigterm_stops_accepting(gateway, backends):
    gw = gateway(_config(ROUTE_A, server="shutdown_grace: 5s"), backends=backends(1))
    thread = threading.Thread(target=lambda: gw.get("/a/slow?ms=1500", timeout=10))
    thread.start()
    time.sleep(0.3)
    gw.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    try:
        resp = gw.get("/a/new", timeout=3)
        refused = resp.status >= 500 or (resp.header("connection") or "").lower() == "close"
    except OSError:
        refused = True
    thread.join(10)
    assert refused, "new requests are not served normally during shutdown"
    assert gw.proc.wait(15) == 0


def test_sigint_exits_0(gateway, backends):
    gw = gateway(_config(ROUTE_A), backends=backends(1))
    gw.send_signal(signal.SIGINT)
    assert gw.proc.wait(15) == 0


def test_shutdown_grace_bounds_the_drain(gateway, backends):
    gw = gateway(_config(ROUTE_A, server="shutdown_grace: 500ms"), backends=backends(1))
    thread = threading.Thread(target=lambda: _swallow(lambda: gw.get("/a/slow?ms=8000", timeout=12)))
    thread.start()
    time.sleep(0.3)
    started = time.monotonic()
    gw.send_signal(signal.SIGTERM)
    code = gw.proc.wait(15)
    assert time.monotonic() - started < 5, "the gateway does not wait beyond shutdown_grace"
    assert code == 0
    thread.join(15)


def _swallow(fn):
    try:
        fn()
    except Exception:  # noqa: BLE001
        pass


def test_config_flag_without_serve_runs_the_gateway(gateway, backends):
    gw = gateway(_config(ROUTE_A), backends=backends(1), args=["--config", "${config}"])
    assert gw.get("/a/x").status == 200


def test_admin_health_endpoints(gateway, backends):
    gw = gateway(_config(ROUTE_A), backends=backends(1))
    assert gw.admin("GET", "/healthz").status == 200
    assert gw.admin("GET", "/readyz").status == 200


def test_access_log_one_json_line_per_request(gateway, backends, tmp_path):
    log_file = tmp_path / "access.log"
    config = _config(ROUTE_A).replace("access_log: stdout", f"access_log: {log_file}")
    gw = gateway(config, backends=backends(1))
    for path in ("/a/1", "/a/2", "/nope"):
        gw.get(path)

    def lines():
        if not log_file.exists():
            return None
        found = [line for line in log_file.read_text().splitlines() if line.strip()]
        return found if len(found) >= 3 else None

    found = wait_for(lines, 10, what="3 access log lines")
    entries = [json.loads(line) for line in found]
    assert len(entries) == 3
    text = json.dumps(entries)
    assert "/a/1" in text and "/nope" in text and "404" in text
