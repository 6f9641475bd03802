"""Acceptance checks of issue 5 (sessions shared across gateway instances through Redis).

"How it will be checked" — two instances on one Redis:
- log in through instance A, call a `required` route through B with the cookie → the upstream sees the user; log out
  through B → A answers 401 at once;
- a client-sent `X-Gateway-User: admin` never reaches any upstream;
- a modified cookie is refused;
- logging in again changes the id and the old id stops working (on every instance);
- idle expiry and absolute expiry (short timeouts in a test config);
- admin revocation (`DELETE /sessions?user=NAME`) ends that user's sessions everywhere;
- Redis stopped → 503 on required routes, recovery after restart.

Not repeated here (test_sessions.py has them): cookie attributes, the one-instance versions of these flows.
"""

from __future__ import annotations

import base64
import json
import time

import pytest

from harness import assert_problem, echo_headers, make_config, redis_command, wait_for


def _config(store: str = 'store: { redis: "${redis_url}", key_prefix: "acc${uniq}:" }', idle: str = "30m",
            absolute: str = "12h") -> str:
    return make_config(
        upstreams='app: { replicas: ["${b0}", "${b1}"] }',
        routes="""
        - name: login
          match: { path: /login, methods: [POST] }
          upstream: app
          session: issue
        - name: logout
          match: { path: /logout, methods: [POST] }
          upstream: app
          session: optional
        - name: issue-echo
          match: { path_prefix: /issue/ }
          upstream: app
          session: issue
        - name: private
          match: { path_prefix: /private/ }
          upstream: app
          session: required
        - name: nosession
          match: { path_prefix: /off/ }
          upstream: app
        - name: per-user
          match: { path_prefix: /quota/ }
          upstream: app
          session: optional
          rate_limits:
            - { name: per-user, key: session_user, limit: 3, window: 1h }
        - name: ws
          match: { path_prefix: /socket/ }
          upstream: app
          websocket: true
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
        """,
    )


def _login(gw, user: str = "alice", cookie: str | None = None) -> str:
    """POST /login through `gw`; returns the `gw_session=…` pair of the new cookie."""
    headers = {"Content-Type": "application/json"}
    if cookie:
        headers["Cookie"] = cookie
    resp = gw.request("POST", "/login", headers, json.dumps({"user": user}).encode())
    assert resp.status == 200, resp.body[:300]
    set_cookie = resp.header("set-cookie") or ""
    assert set_cookie.startswith("gw_session="), resp.headers
    return set_cookie.split(";")[0]


def _user_seen(gw, cookie: str, path: str = "/private/me") -> list[str]:
    resp = gw.get(path, {"Cookie": cookie})
    assert resp.status == 200, f"{resp.status}: {resp.body[:300]!r}"
    return echo_headers(resp).get("x-gateway-user", [])


def _refused(gw, cookie: str, path: str = "/private/me"):
    assert_problem(gw.get(path, {"Cookie": cookie}), 401)


@pytest.fixture
def pair(gateway, backends):
    """Two instances (A, B) on one Redis in front of the same two replicas."""
    replicas = backends(2)
    return gateway(_config(), backends=replicas), gateway(_config(), backends=replicas)


# ---------------------------------------------------------------------------------------------------------------


def test_login_on_a_use_on_b_logout_on_b_ends_it_on_a(pair):
    a, b = pair
    cookie = _login(a, "alice")
    for _ in range(4):  # both replicas behind B see the user
        assert _user_seen(b, cookie) == ["alice"]
    assert _user_seen(a, cookie) == ["alice"]
    resp = b.request("POST", "/logout", {"Cookie": cookie}, b"")
    assert resp.status == 200
    assert "max-age=0" in (resp.header("set-cookie") or "").lower() or "1970" in (resp.header("set-cookie") or "")
    _refused(a, cookie)  # at once: no wait, no retry
    _refused(b, cookie)
    seen = echo_headers(a.get("/anything", {"Cookie": cookie}))
    assert "x-gateway-user" not in seen, "an ended session is no session on optional routes either"


FORGED = [("X-Gateway-User", "admin"), ("x-gateway-user", "root"), ("X-GATEWAY-USER", "admin"),
          ("X-Gateway-Session", '{"user":"admin","role":"admin"}')]


def test_forged_identity_never_reaches_an_upstream(pair):
    """On every kind of route (required, optional, off, issue), with and without a session, through both instances:
    the upstream never sees the client's X-Gateway-User / X-Gateway-Session, only (on session routes with a session)
    the real user."""
    a, b = pair
    cookie = _login(a, "bob")
    cases = [(gw, path, with_cookie) for gw in (a, b) for path in ("/private/me", "/anything", "/off/x", "/issue/x")
             for with_cookie in (False, True)]
    for gw, path, with_cookie in cases:
        if path.startswith("/private/") and not with_cookie:
            assert_problem(gw.get(path, FORGED), 401)
            continue
        resp = gw.get(path, FORGED + ([("Cookie", cookie)] if with_cookie else []))
        assert resp.status == 200, resp.body[:300]
        seen = echo_headers(resp)
        users = seen.get("x-gateway-user", [])
        sessions = seen.get("x-gateway-session", [])
        assert "admin" not in users and "root" not in users, f"{path}: forged user reached upstream: {users}"
        assert all("admin" not in s for s in sessions), f"{path}: forged session reached upstream: {sessions}"
        if with_cookie and not path.startswith("/off/"):
            assert users == ["bob"], f"{path}: {users}"
            assert [json.loads(s) for s in sessions] == [{"user": "bob", "role": "user"}]
        else:
            assert users == [] and sessions == [], f"{path} (cookie={with_cookie}): {users} {sessions}"


def test_forged_identity_on_websocket_route_is_stripped(pair):
    """The WebSocket route is proxied too: the upgrade request's forged identity never reaches the replica.
    (The demo replica answers a plain GET on a WebSocket path with its echo document.)"""
    a, _ = pair
    seen = echo_headers(a.get("/socket/x", FORGED))
    assert "x-gateway-user" not in seen and "x-gateway-session" not in seen, seen


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _modified_cookies(cookie: str) -> dict[str, str]:
    name, value = cookie.split("=", 1)
    variants = {
        "last char flipped": value[:-1] + ("A" if value[-1] != "A" else "B"),
        "first char flipped": ("A" if value[0] != "A" else "B") + value[1:],
        "middle char flipped": value[: len(value) // 2] + ("x" if value[len(value) // 2] != "x" else "y")
        + value[len(value) // 2 + 1:],
        "truncated": value[:-4],
        "extended": value + "AAAA",
        "empty": "",
        "garbage": "not-a-session",
    }
    for sep in (".", "~", "|", ":"):
        if sep in value:  # id and signature parts: swap in another id, keep the signature
            head, _, tail = value.rpartition(sep)
            variants[f"id changed before '{sep}'"] = ("B" if head[0] != "B" else "C") + head[1:] + sep + tail
            variants[f"signature dropped after '{sep}'"] = head
            break
    return {k: f"{name}={v}" for k, v in variants.items()}


def test_modified_cookie_is_refused_everywhere(pair):
    a, b = pair
    cookie = _login(a, "carol")
    for what, bad in _modified_cookies(cookie).items():
        for gw in (a, b):
            resp = gw.get("/private/me", {"Cookie": bad})
            assert resp.status == 401, f"{what}: {resp.status} on {gw.port}"
            seen = echo_headers(gw.get("/anything", {"Cookie": bad}))
            assert "x-gateway-user" not in seen, f"{what}: an optional route treats it as no session"
    assert _user_seen(b, cookie) == ["carol"], "the genuine cookie still works"


def test_cookie_signed_with_another_secret_is_refused(gateway, backends):
    """A gateway with a different `secret_env` value signs differently: its cookies are worthless here, even with
    the session id present in the shared Redis."""
    replicas = backends(2)
    a = gateway(_config(), backends=replicas)
    other = gateway(_config(), backends=replicas, env={"GATEWAY_SESSION_SECRET": "another-secret-abcdefghijklmnop-0123456789"})
    foreign = _login(other, "mallory")
    assert _user_seen(other, foreign) == ["mallory"]
    _refused(a, foreign)


def test_login_again_rotates_the_id_everywhere(pair):
    a, b = pair
    first = _login(a, "dave")
    assert _user_seen(b, first) == ["dave"]
    second = _login(b, "dave", cookie=first)  # re-login through the other instance, sending the old cookie
    assert second != first
    assert second.split("=", 1)[1][:20] != first.split("=", 1)[1][:20], "a new id, not just a new signature"
    _refused(a, first)
    _refused(b, first)
    assert _user_seen(a, second) == ["dave"]
    # another user logging in on the same client (old cookie sent) does not inherit anything either
    third = _login(a, "erin", cookie=second)
    _refused(b, second)
    assert _user_seen(b, third) == ["erin"]


def test_idle_timeout_slides_across_instances_then_expires(gateway, backends):
    """idle 800ms: using the session on B keeps it alive on A and vice versa; left alone it ends on both."""
    replicas = backends(2)
    a = gateway(_config(idle="800ms", absolute="1h"), backends=replicas)
    b = gateway(_config(idle="800ms", absolute="1h"), backends=replicas)
    cookie = _login(a)
    started = time.monotonic()
    for gw in (b, a, b, a):
        time.sleep(0.4)  # the timer under test: each use comes well inside the idle timeout
        assert gw.get("/private/me", {"Cookie": cookie}).status == 200, "use slides the idle timeout"
    assert time.monotonic() - started > 1.2, "outlived one idle timeout only by sliding"
    time.sleep(1.2)
    _refused(a, cookie)
    _refused(b, cookie)


def test_absolute_timeout_ends_session_on_all_instances_despite_use(gateway, backends):
    replicas = backends(2)
    a = gateway(_config(idle="10s", absolute="1500ms"), backends=replicas)
    b = gateway(_config(idle="10s", absolute="1500ms"), backends=replicas)
    cookie = _login(b)
    created = time.monotonic()
    while time.monotonic() < created + 1.0:
        for gw in (a, b):
            assert gw.get("/private/me", {"Cookie": cookie}).status == 200
        time.sleep(0.2)
    time.sleep(max(0.0, created + 1.8 - time.monotonic()))
    _refused(a, cookie)
    _refused(b, cookie)


def test_admin_revocation_ends_all_of_a_users_sessions_everywhere(pair):
    a, b = pair
    alice_on_a = _login(a, "alice")
    alice_on_b = _login(b, "alice")  # a second device
    bob = _login(b, "bob")
    for cookie in (alice_on_a, alice_on_b):
        assert _user_seen(a, cookie) == ["alice"] and _user_seen(b, cookie) == ["alice"]
    resp = b.admin("DELETE", "/sessions?user=alice")
    assert 200 <= resp.status < 300, resp.status
    for gw in (a, b):
        _refused(gw, alice_on_a)
        _refused(gw, alice_on_b)
        assert _user_seen(gw, bob) == ["bob"], "other users keep their sessions"
    again = _login(a, "alice")  # revocation is not a ban
    assert _user_seen(b, again) == ["alice"]
    resp = a.admin("DELETE", "/sessions?user=nobody")
    assert 200 <= resp.status < 300 or resp.status == 404, resp.status


def test_session_keys_in_redis_expire_on_their_own(gateway, backends):
    """Sessions live in Redis under `store.key_prefix` and carry a TTL (idle timeout), so abandoned ones vanish."""
    replicas = backends(2)
    a = gateway(_config(idle="5m", absolute="1h"), backends=replicas)
    _login(a, "henry")
    url, prefix = a.values["redis_url"], f"acc{a.values['uniq']}:"
    keys = redis_command(url, "KEYS", prefix + "*")
    assert keys, f"no keys under {prefix!r}"
    for key in keys:
        ttl = redis_command(url, "PTTL", key)
        assert 0 < ttl <= 3600 * 1000, f"{key}: PTTL {ttl}"


def test_session_user_rate_limit_is_one_budget_per_user_across_instances(pair):
    """`key: session_user`: a user's budget is shared by all their sessions on every instance; another user has
    their own; without a session the client IP is the key."""
    a, b = pair
    alice_1, alice_2, bob = _login(a, "alice"), _login(b, "alice"), _login(a, "bob")
    statuses = [gw.get("/quota/x", {"Cookie": c}).status for gw, c in
                [(a, alice_1), (b, alice_2), (b, alice_1), (a, alice_2), (b, alice_1)]]
    assert statuses == [200, 200, 200, 429, 429], statuses
    assert [gw.get("/quota/x", {"Cookie": bob}).status for gw in (b, a, b, a)] == [200, 200, 200, 429]
    assert [gw.get("/quota/x").status for gw in (a, b, a, b)] == [200, 200, 200, 429], "no session: per client IP"


def test_redis_stopped_503_on_required_routes_then_recovers(gateway, backends, private_redis):
    redis = private_redis()
    store = f'store: {{ redis: "{redis.url}", key_prefix: "acc${{uniq}}:", command_timeout: 200ms }}'
    replicas = backends(2)
    a = gateway(_config(store=store), backends=replicas)
    b = gateway(_config(store=store), backends=replicas)
    cookie = _login(a, "frank")
    assert _user_seen(b, cookie) == ["frank"]
    assert redis_command(redis.port, "SAVE") == "OK"  # so that the session survives the restart below

    redis.stop()
    for gw in (a, b):
        started = time.monotonic()
        resp = gw.get("/private/me", {"Cookie": cookie}, timeout=5)
        took = time.monotonic() - started
        assert_problem(resp, 503)
        assert resp.header("retry-after") is not None
        assert took < 1.0, f"503 took {took:.2f}s"
        assert gw.get("/off/x").status == 200, "routes without sessions do not need the store"
        assert gw.proc.poll() is None

    redis.start()  # same port and directory: loads the saved session
    restarted = time.monotonic()
    # Each instance has a Redis connection per event loop, reconnecting on its own (jittered backoff): recovered
    # means every request works again, not one lucky one. 10 in a row over fresh connections on both instances.
    streak = 0
    deadline = restarted + 2.5
    while streak < 10:
        gw = (a, b)[streak % 2]
        status = gw.get("/private/me", {"Cookie": cookie}, timeout=5).status
        streak = streak + 1 if status == 200 else 0
        assert status in (200, 503), status
        assert time.monotonic() <= deadline, "required routes did not recover within 2.5 s of the restart"
    for gw in (a, b):
        for _ in range(10):
            assert _user_seen(gw, cookie) == ["frank"], "the saved session works on every instance again"
    fresh = _login(b, "grace")
    assert _user_seen(a, fresh) == ["grace"]
