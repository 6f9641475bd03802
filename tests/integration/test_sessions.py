"""SPEC §4 sessions: issue via X-Gateway-Session, identity headers upstream, required → 401, logout, no fixation,
shared across instances through Redis, admin DELETE /sessions, timeouts, store down → 503."""

import json
import time

import pytest

from harness import assert_problem, echo_headers, make_config


def _config(store: str = "store: { redis: \"${redis_url}\", key_prefix: \"t${uniq}:\" }", idle="30m", absolute="12h"):
    return make_config(
        upstreams='app: { replicas: ["${b0}"] }',
        routes="""
        - name: login
          match: { path: /login, methods: [POST] }
          upstream: app
          session: issue
        - name: logout
          match: { path: /logout, methods: [POST] }
          upstream: app
          session: optional
        - name: private
          match: { path_prefix: /private/ }
          upstream: app
          session: required
        - name: nosession
          match: { path_prefix: /off/ }
          upstream: app
        - name: public
          match: { path_prefix: / }
          upstream: app
          session: optional
        """,
        top=f"""
        {store}
        sessions:
          cookie: gw_session
          secret_env: GATEWAY_SESSION_SECRET
          idle_timeout: {idle}
          absolute_timeout: {absolute}
          secure: false
        """,
    )


def _login(gw, user="alice", cookie=None):
    headers = {"Content-Type": "application/json"}
    if cookie:
        headers["Cookie"] = cookie
    resp = gw.request("POST", "/login", headers, json.dumps({"user": user}).encode())
    assert resp.status == 200, resp.body
    set_cookie = resp.header("set-cookie")
    assert set_cookie and set_cookie.startswith("gw_session="), resp.headers
    return resp, set_cookie.split(";")[0]


@pytest.fixture
def gw(gateway, backends):
    return gateway(_config(), backends=backends(1))


def test_login_sets_cookie_and_hides_header(gw):
    resp, _ = _login(gw)
    attributes = [a.strip().lower() for a in resp.header("set-cookie").split(";")[1:]]
    assert "httponly" in attributes
    assert "samesite=lax" in attributes
    assert "path=/" in attributes
    assert "secure" not in attributes
    assert resp.header("x-gateway-session") is None


def test_identity_headers_forwarded(gw):
    _, cookie = _login(gw)
    seen = echo_headers(gw.get("/private/me", {"Cookie": cookie}))
    assert seen["x-gateway-user"] == ["alice"]
    assert json.loads(seen["x-gateway-session"][0]) == {"user": "alice", "role": "user"}
    assert seen["x-gateway-session"][0] == '{"user":"alice","role":"user"}' or " " not in seen["x-gateway-session"][0]
    seen = echo_headers(gw.get("/anything", {"Cookie": cookie}))
    assert seen["x-gateway-user"] == ["alice"], "optional routes forward identity too"


def test_forged_identity_headers_replaced(gw):
    _, cookie = _login(gw)
    seen = echo_headers(gw.get("/private/me", [("Cookie", cookie), ("X-Gateway-User", "mallory")]))
    assert seen["x-gateway-user"] == ["alice"]


def test_session_off_route_forwards_nothing(gw):
    _, cookie = _login(gw)
    seen = echo_headers(gw.get("/off/x", {"Cookie": cookie}))
    assert "x-gateway-user" not in seen and "x-gateway-session" not in seen


def test_required_without_cookie_is_401(gw):
    assert_problem(gw.get("/private/me"), 401)


def test_tampered_cookie_is_401(gw):
    _, cookie = _login(gw)
    name, value = cookie.split("=", 1)
    flipped = value[:-1] + ("A" if value[-1] != "A" else "B")
    assert_problem(gw.get("/private/me", {"Cookie": f"{name}={flipped}"}), 401)
    assert_problem(gw.get("/private/me", {"Cookie": "gw_session=garbage"}), 401)


def test_optional_without_cookie_passes(gw):
    seen = echo_headers(gw.get("/public"))
    assert "x-gateway-user" not in seen


def test_logout_clears(gw):
    _, cookie = _login(gw)
    resp = gw.request("POST", "/logout", {"Cookie": cookie}, b"")
    assert resp.status == 200
    set_cookie = (resp.header("set-cookie") or "").lower()
    assert set_cookie.startswith("gw_session="), resp.headers
    assert "max-age=0" in set_cookie or "expires=thu, 01 jan 1970" in set_cookie
    assert resp.header("x-gateway-session") is None
    assert_problem(gw.get("/private/me", {"Cookie": cookie}), 401)


def test_login_again_drops_old_session(gw):
    _, first = _login(gw)
    _, second = _login(gw, cookie=first)
    assert first != second
    assert gw.get("/private/me", {"Cookie": second}).status == 200
    assert_problem(gw.get("/private/me", {"Cookie": first}), 401)


def test_session_shared_between_instances(gateway, backends):
    replicas = backends(1)
    one = gateway(_config(), backends=replicas)
    two = gateway(_config(), backends=replicas)
    _, cookie = _login(one)
    assert echo_headers(two.get("/private/me", {"Cookie": cookie}))["x-gateway-user"] == ["alice"]
    assert two.request("POST", "/logout", {"Cookie": cookie}, b"").status == 200
    assert_problem(one.get("/private/me", {"Cookie": cookie}), 401)


def test_admin_delete_sessions_of_user(gw):
    _, alice = _login(gw, "alice")
    _, bob = _login(gw, "bob")
    resp = gw.admin("DELETE", "/sessions?user=alice")
    assert 200 <= resp.status < 300
    assert_problem(gw.get("/private/me", {"Cookie": alice}), 401)
    assert gw.get("/private/me", {"Cookie": bob}).status == 200


def test_idle_timeout_slides(gateway, backends):
    gw = gateway(_config(idle="1500ms", absolute="1h"), backends=backends(1))
    _, cookie = _login(gw)
    for _ in range(4):
        time.sleep(0.6)
        assert gw.get("/private/me", {"Cookie": cookie}).status == 200, "use slides the idle timeout"
    time.sleep(2.0)
    assert_problem(gw.get("/private/me", {"Cookie": cookie}), 401)


def test_absolute_timeout_does_not_slide(gateway, backends):
    gw = gateway(_config(idle="10s", absolute="2s"), backends=backends(1))
    _, cookie = _login(gw)
    deadline = time.monotonic() + 1.5
    while time.monotonic() < deadline:
        assert gw.get("/private/me", {"Cookie": cookie}).status == 200
        time.sleep(0.3)
    time.sleep(1.0)
    assert_problem(gw.get("/private/me", {"Cookie": cookie}), 401)


def test_in_memory_store_without_redis(gateway, backends):
    gw = gateway(_config(store=""), backends=backends(1))
    _, cookie = _login(gw)
    assert gw.get("/private/me", {"Cookie": cookie}).status == 200


def test_store_down_is_503_with_retry_after(gateway, backends, private_redis):
    redis = private_redis()
    gw = gateway(_config(store=f'store: {{ redis: "{redis.url}", command_timeout: 200ms }}'), backends=backends(1))
    _, cookie = _login(gw)
    redis.stop()
    resp = gw.get("/private/me", {"Cookie": cookie})
    assert_problem(resp, 503)
    assert resp.header("retry-after") is not None
    assert gw.admin("GET", "/readyz").status == 503, "not ready while the configured store is down"
