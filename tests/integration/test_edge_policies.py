"""SPEC §10 edge policies against a running gateway: JWT (tokens minted with PyJWT), forward auth (a real Python
auth service), CORS preflights as browsers send them, IP rules behind a trusted proxy, header rules, host
wildcards, rate limits by claim, and `gateway check`."""

from __future__ import annotations

import json
import re

import pytest

from edge_helpers import (AUDIENCE, ISSUER, MiniServer, hs256_with, jwks, make_key, unsigned_token)
from harness import assert_problem, echo_headers, make_config, run_gateway

ES = make_key("ES256", "es-1")
RS = make_key("RS256", "rs-1")
ED = make_key("EdDSA", "ed-1")
ROTATED = make_key("ES256", "es-2")

JWT_CONFIG = make_config(
    upstreams="""
    app: { replicas: ["${b0}"] }
    """,
    routes="""
    - name: api
      match: { path_prefix: /api/ }
      upstream: app
      auth: { jwt: main }
      rate_limits:
        - { name: per-user, key: "jwt:sub", limit: 3, window: 1m }
    - name: optional
      match: { path_prefix: /opt/ }
      upstream: app
      auth: { jwt: main, optional: true }
    - name: open
      match: { path_prefix: / }
      upstream: app
    """,
    top="""
    auth:
      jwt:
        main:
          jwks_file: ${dir}/jwks.json
          issuer: https://idp.example/
          audience: [my-api]
          algorithms: [RS256, ES256, EdDSA]
          leeway: 5s
          claims_to_headers: { sub: X-User-Id, email: X-User-Email, roles: X-Roles }
          user_claim: sub
    """,
)


@pytest.fixture
def jwt_gw(gateway, backends):
    return gateway(JWT_CONFIG, backends=backends(1), files={"jwks.json": jwks(ES, RS, ED)})


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def assert_invalid_token(resp, fragment: str):
    assert_problem(resp, 401)
    challenge = resp.header("www-authenticate") or ""
    assert challenge.startswith('Bearer error="invalid_token", error_description="'), challenge
    assert fragment in challenge, challenge


@pytest.mark.parametrize("key", [ES, RS, ED], ids=["ES256", "RS256", "EdDSA"])
def test_valid_tokens_reach_the_upstream_with_claim_headers(jwt_gw, key):
    resp = jwt_gw.get("/api/me", bearer(key.token()))
    assert resp.status == 200, resp.body
    seen = echo_headers(resp)
    assert seen["x-user-id"] == ["alice"]
    assert seen["x-user-email"] == ["alice@example.com"]
    assert seen["x-roles"] == ["admin,dev"]


def test_claim_headers_cannot_be_forged_by_the_client(jwt_gw):
    resp = jwt_gw.get("/api/me", {**bearer(ES.token(sub="bob")), "X-User-Id": "admin", "X-Roles": "root"})
    seen = echo_headers(resp)
    assert seen["x-user-id"] == ["bob"]
    assert seen["x-roles"] == ["admin,dev"]
    # Without a token on an optional route the forged values are dropped too.
    seen = echo_headers(jwt_gw.get("/opt/x", {"X-User-Id": "admin"}))
    assert "x-user-id" not in seen


def test_missing_token_is_401_with_rfc6750_challenge(jwt_gw):
    assert_invalid_token(jwt_gw.get("/api/me"), "bearer token is required")
    assert_invalid_token(jwt_gw.get("/api/me", {"Authorization": "Basic dXNlcjpwdw=="}), "bearer token is required")


@pytest.mark.parametrize(
    "token,fragment",
    [
        (lambda: ES.token(exp=1000), "expired"),
        (lambda: ES.token(nbf=4102444800), "not valid yet"),
        (lambda: ES.token(aud="other-api"), "audience other-api is not accepted; expected my-api"),
        (lambda: ES.token(iss="https://evil.example/"), "issuer https://evil.example/ is not accepted"),
        (lambda: unsigned_token(), "alg none"),
        (lambda: hs256_with(RS.public_pem(), kid="rs-1"), "algorithm HS256 is not accepted"),
        (lambda: ES.token()[:-6] + "AAAAAA", "signature is invalid"),
        (lambda: "garbage", "not a compact JWS"),
        (lambda: ROTATED.token(), "key id 'es-2' is unknown"),
    ],
    ids=["expired", "not-yet-valid", "wrong-aud", "wrong-iss", "alg-none", "key-confusion", "tampered", "garbage", "unknown-kid"],
)
def test_invalid_tokens_are_refused(jwt_gw, token, fragment):
    assert_invalid_token(jwt_gw.get("/api/me", bearer(token())), fragment)


def test_optional_auth_verifies_only_when_present(jwt_gw):
    assert jwt_gw.get("/opt/x").status == 200
    assert echo_headers(jwt_gw.get("/opt/x", bearer(ES.token())))["x-user-id"] == ["alice"]
    assert_invalid_token(jwt_gw.get("/opt/x", bearer(ES.token(exp=1000))), "expired")


def test_rate_limit_by_claim(jwt_gw):
    alice = bearer(ES.token(sub="alice-rl"))
    statuses = [jwt_gw.get("/api/x", alice).status for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert jwt_gw.get("/api/x", bearer(ES.token(sub="bob-rl"))).status == 200


def test_auth_metrics(jwt_gw):
    jwt_gw.get("/api/me", bearer(ES.token()))
    jwt_gw.get("/api/me")
    metrics = jwt_gw.admin("GET", "/metrics").body.decode()
    assert re.search(r'gateway_auth_decisions_total\{[^}]*result="allowed"[^}]*\} [1-9]', metrics), metrics[-2000:]
    assert re.search(r'gateway_auth_decisions_total\{[^}]*result="missing"[^}]*\} [1-9]', metrics)


# --- jwks_url: cached, refreshed on an unknown kid, last good set kept while the IdP is down ------------------


@pytest.fixture
def idp():
    state = {"jwks": jwks(ES), "up": True}
    server = MiniServer()
    server.routes["/jwks"] = lambda h: (200, {"Content-Type": "application/json"}, state["jwks"].encode()) if state["up"] \
        else (503, {}, b"down")
    server.state = state
    yield server.start()
    server.stop()


def test_jwks_url_is_cached_and_refetched_on_unknown_kid(gateway, backends, idp):
    config = JWT_CONFIG.replace("jwks_file: ${dir}/jwks.json", f"jwks_url: {idp.url}/jwks")
    gw = gateway(config, backends=backends(1))
    for _ in range(3):
        assert gw.get("/api/a", bearer(ES.token(sub="u1"))).status == 200
    assert idp.calls_to("/jwks") == 1, "the JWKS is fetched once and cached"
    idp.state["jwks"] = jwks(ES, ROTATED)  # the IdP rotates a key in
    resp = gw.get("/api/a", bearer(ROTATED.token(sub="u2")))
    assert resp.status == 200, resp.body
    assert idp.calls_to("/jwks") == 2
    idp.state["up"] = False  # IdP down: known keys keep working
    assert gw.get("/api/a", bearer(ROTATED.token(sub="u3"))).status == 200
    assert gw.get("/api/a", bearer(ES.token(sub="u4"))).status == 200


# --- HS256 with secret_env ----------------------------------------------------------------------------------


def test_hs256_secret_env(gateway, backends):
    import jwt as pyjwt

    secret = "an-hs256-secret-of-at-least-32-bytes!!"
    config = JWT_CONFIG.replace("jwks_file: ${dir}/jwks.json", "secret_env: JWT_HS256_SECRET").replace(
        "algorithms: [RS256, ES256, EdDSA]", "algorithms: [HS256]")
    gw = gateway(config, backends=backends(1), env={"JWT_HS256_SECRET": secret})
    claims = {"sub": "carol", "iss": ISSUER, "aud": AUDIENCE, "exp": 4102444800}
    ok = pyjwt.encode(claims, secret, algorithm="HS256")
    assert echo_headers(gw.get("/api/x", bearer(ok)))["x-user-id"] == ["carol"]
    bad = pyjwt.encode(claims, secret + "x", algorithm="HS256")
    assert_invalid_token(gw.get("/api/x", bearer(bad)), "signature is invalid")


# --- forward auth ---------------------------------------------------------------------------------------------


@pytest.fixture
def authsvc():
    server = MiniServer()

    def verify(handler):
        auth = handler.headers.get("Authorization", "")
        if auth == "Bearer good":
            return 200, {"X-User-Id": "42", "X-Roles": "reader", "X-Secret": "no"}, b""
        if auth == "Bearer forbidden":
            return 403, {"Content-Type": "application/json"}, b'{"error":"forbidden by policy"}'
        if auth == "Bearer broken":
            return 500, {}, b"oops"
        return 401, {"Content-Type": "text/plain", "WWW-Authenticate": 'Basic realm="sso"'}, b"please log in"

    server.routes["/verify"] = verify
    yield server.start()
    server.stop()


FORWARD_CONFIG = make_config(
    upstreams="""
    app: { replicas: ["${b0}"] }
    """,
    routes="""
    - name: internal
      match: { path_prefix: /internal/ }
      upstream: app
      auth: { forward: authsvc }
    - name: cached
      match: { path_prefix: /cached/ }
      upstream: app
      auth: { forward: authcached }
    """,
    top="""
    auth:
      forward:
        authsvc:
          url: ${auth_url}/verify
          copy_headers: [X-User-Id, X-Roles]
          timeout: 500ms
        authcached:
          url: ${auth_url}/verify
          copy_headers: [X-User-Id]
          cache: 10s
    """,
)


def test_forward_auth_allow_copies_headers(gateway, backends, authsvc):
    gw = gateway(FORWARD_CONFIG, backends=backends(1), auth_url=authsvc.url)
    resp = gw.get("/internal/doc?x=1", {"Authorization": "Bearer good", "X-User-Id": "forged"})
    assert resp.status == 200, resp.body
    seen = echo_headers(resp)
    assert seen["x-user-id"] == ["42"]
    assert seen["x-roles"] == ["reader"]
    assert "x-secret" not in seen
    _, sent = authsvc.calls[-1]
    assert sent.get("X-Forwarded-Uri") == "/internal/doc?x=1"
    assert sent.get("X-Forwarded-Method") == "GET"


def test_forward_auth_refusals_are_relayed_with_body(gateway, backends, authsvc):
    gw = gateway(FORWARD_CONFIG, backends=backends(1), auth_url=authsvc.url)
    resp = gw.get("/internal/doc", {"Authorization": "Bearer nope"})
    assert resp.status == 401
    assert resp.body == b"please log in"
    assert resp.header("www-authenticate") == 'Basic realm="sso"'
    resp = gw.get("/internal/doc", {"Authorization": "Bearer forbidden"})
    assert resp.status == 403
    assert resp.json() == {"error": "forbidden by policy"}
    assert_problem(gw.get("/internal/doc", {"Authorization": "Bearer broken"}), 503)


def test_forward_auth_down_is_503_with_retry_after(gateway, backends, closed_port):
    gw = gateway(FORWARD_CONFIG, backends=backends(1), auth_url=f"http://127.0.0.1:{closed_port}")
    resp = gw.get("/internal/doc", {"Authorization": "Bearer good"})
    assert_problem(resp, 503)
    assert resp.header("retry-after")


def test_forward_auth_cache_per_credential(gateway, backends, authsvc):
    gw = gateway(FORWARD_CONFIG, backends=backends(1), auth_url=authsvc.url)
    for _ in range(5):
        assert echo_headers(gw.get("/cached/x", {"Authorization": "Bearer good"}))["x-user-id"] == ["42"]
    assert authsvc.calls_to("/verify") == 1
    # refusals are never cached
    for _ in range(2):
        assert gw.get("/cached/x", {"Authorization": "Bearer nope"}).status == 401
    assert authsvc.calls_to("/verify") == 3


def test_forward_auth_cache_is_shared_through_redis(gateway, backends, authsvc):
    config = FORWARD_CONFIG.replace("routes:\n", "store:\n  redis: ${redis_url}\n  key_prefix: \"gw-${uniq}:\"\nroutes:\n", 1)
    app = backends(1)
    first = gateway(config, backends=app, auth_url=authsvc.url)
    second = gateway(config, backends=app, auth_url=authsvc.url)
    assert first.get("/cached/x", {"Authorization": "Bearer good"}).status == 200
    assert echo_headers(second.get("/cached/x", {"Authorization": "Bearer good"}))["x-user-id"] == ["42"]
    assert authsvc.calls_to("/verify") == 1, "the second instance used the shared cache"


# --- CORS -------------------------------------------------------------------------------------------------------

CORS_CONFIG = make_config(
    upstreams="""
    app: { replicas: ["${b0}"] }
    nowhere: { replicas: ["${closed_url}"] }
    """,
    routes="""
    - name: api
      match: { path_prefix: /api/, methods: [GET, POST, PUT] }
      upstream: app
      cors:
        origins: ["https://app.example.com", "https://*.example.com"]
        methods: [GET, POST, PUT, DELETE]
        headers: [Authorization, Content-Type]
        expose: [RateLimit, X-Request-Id]
        credentials: true
        max_age: 10m
      rate_limits:
        - { name: tiny, key: client_ip, limit: 1, window: 1m }
    - name: preflight-only
      match: { path_prefix: /never/ }
      upstream: nowhere
      cors: { origins: ["*"] }
    """,
)


def preflight(gw, path, origin, method="PUT", headers="authorization, content-type"):
    return gw.request("OPTIONS", path, {"Origin": origin, "Access-Control-Request-Method": method,
                                        "Access-Control-Request-Headers": headers})


def test_preflight_is_answered_by_the_gateway(gateway, backends):
    gw = gateway(CORS_CONFIG, backends=backends(1))
    resp = preflight(gw, "/never/x", "https://anything.test", method="GET", headers="")
    assert resp.status == 204, "answered without touching the (closed) upstream"
    assert resp.header("access-control-allow-origin") == "*"
    resp = preflight(gw, "/api/items", "https://shop.example.com")
    assert resp.status == 204
    assert resp.header("access-control-allow-origin") == "https://shop.example.com"
    assert resp.header("access-control-allow-credentials") == "true"
    assert resp.header("access-control-allow-methods") == "GET, POST, PUT, DELETE"
    assert resp.header("access-control-allow-headers") == "Authorization, Content-Type"
    assert resp.header("access-control-max-age") == "600"
    assert "Origin" in (resp.header("vary") or "")
    assert resp.body == b""
    metrics = gw.admin("GET", "/metrics").body.decode()
    assert re.search(r'gateway_cors_preflights_total\{route="api"\} [1-9]', metrics), metrics[-1500:]


@pytest.mark.parametrize("origin,method", [("https://evil.test", "PUT"), ("https://a.b.example.com", "PUT"),
                                           ("https://app.example.com", "PATCH")])
def test_disallowed_preflight_gets_no_cors_headers(gateway, backends, origin, method):
    gw = gateway(CORS_CONFIG, backends=backends(1))
    resp = preflight(gw, "/api/items", origin, method=method)
    assert resp.status == 204
    assert not [k for k, _ in resp.headers if k.lower().startswith("access-control-")], resp.headers


def test_simple_requests_get_cors_headers_and_vary(gateway, backends):
    gw = gateway(CORS_CONFIG, backends=backends(1))
    resp = gw.get("/api/items", {"Origin": "https://app.example.com"})
    assert resp.status == 200
    assert resp.header("access-control-allow-origin") == "https://app.example.com"
    assert resp.header("access-control-expose-headers") == "RateLimit, X-Request-Id"
    assert any("Origin" in v for v in resp.header_values("vary"))
    # the next one is rate limited: the 429 still carries CORS fields so the page can read it
    resp = gw.get("/api/items", {"Origin": "https://app.example.com"})
    assert resp.status == 429
    assert resp.header("access-control-allow-origin") == "https://app.example.com"
    evil = gw.get("/api/other", {"Origin": "https://evil.test"})
    assert evil.header("access-control-allow-origin") is None


def test_plain_options_outside_methods_is_still_405(gateway, backends):
    gw = gateway(CORS_CONFIG, backends=backends(1))
    assert_problem(gw.request("OPTIONS", "/api/items"), 405)


# --- IP rules, header rules, host wildcards -----------------------------------------------------------------

MISC_CONFIG = make_config(
    server="""
    trusted_proxies: [127.0.0.1/32]
    """,
    upstreams="""
    app: { replicas: ["${b0}"] }
    """,
    routes="""
    - name: internal
      match: { path_prefix: /internal/ }
      upstream: app
      ip: { allow: [10.0.0.0/8], deny: [10.9.0.0/16] }
    - name: local
      match: { path_prefix: /local/ }
      upstream: app
      ip: { allow: [192.0.2.0/24] }
    - name: rules
      match: { path_prefix: /rules/ }
      upstream: app
      strip_prefix: true
      request_headers: { set: { X-Env: prod }, add: { X-Extra: one }, remove: [X-Debug] }
      response_headers: { set: { X-Frame-Options: DENY }, add: { X-Added: "yes" }, remove: [X-Powered-By] }
    - name: tenants
      match: { path_prefix: /, host: "*.example.com" }
      upstream: app
    """,
)


def test_ip_rules_behind_a_trusted_proxy(gateway, backends):
    gw = gateway(MISC_CONFIG, backends=backends(1))
    assert gw.get("/internal/x", {"X-Forwarded-For": "10.1.2.3"}).status == 200
    denied = gw.get("/internal/x", {"X-Forwarded-For": "10.9.0.5"})
    assert_problem(denied, 403)
    assert_problem(gw.get("/internal/x"), 403)  # 127.0.0.1 itself is not in the allow list
    assert_problem(gw.get("/local/x"), 403)
    metrics = gw.admin("GET", "/metrics").body.decode()
    assert re.search(r'gateway_ip_denied_total\{route="internal"\} [1-9]', metrics)


def test_header_rules_on_both_sides(gateway, backends):
    gw = gateway(MISC_CONFIG, backends=backends(1))
    resp = gw.get("/rules/headers?X-Powered-By=php&X-Frame-Options=SAMEORIGIN",
                  {"X-Debug": "1", "X-Env": "dev", "X-Extra": "zero"})
    assert resp.status == 200
    seen = echo_headers(resp)
    assert "x-debug" not in seen
    assert seen["x-env"] == ["prod"]
    assert seen["x-extra"] == ["zero", "one"]
    assert resp.header("x-powered-by") is None
    assert resp.header_values("x-frame-options") == ["DENY"]
    assert resp.header("x-added") == "yes"


def test_host_wildcard_matches_one_label(gateway, backends):
    gw = gateway(MISC_CONFIG, backends=backends(1))
    assert gw.get("/x", host="api.example.com").status == 200
    assert gw.get("/x", host="API.example.com:8080").status == 200
    assert_problem(gw.get("/x", host="a.b.example.com"), 404)
    assert_problem(gw.get("/x", host="example.com"), 404)


# --- gateway check ----------------------------------------------------------------------------------------------


def test_check_reports_jwks_problems_with_positions(tmp_path):
    (tmp_path / "rsa.json").write_text(jwks(RS))
    config = tmp_path / "gateway.yaml"
    config.write_text(
        "upstreams:\n  app: { replicas: [http://127.0.0.1:9] }\n"
        "auth:\n  jwt:\n"
        f"    missing: {{ jwks_file: {tmp_path}/nope.json }}\n"
        f"    wrongtype: {{ jwks_file: {tmp_path}/rsa.json, algorithms: [ES256] }}\n"
        "routes:\n  - name: api\n    match: { path_prefix: /api/ }\n    upstream: app\n"
        "    ip: { allow: [10.0.0.0/8] }\n    cors: { origins: ['*'] }\n    auth: { jwt: wrongtype }\n")
    result = run_gateway("check", "--config", str(config))
    assert result.returncode == 1, result.stdout
    assert re.search(rf"{re.escape(str(config))}:5:\d+: auth.jwt.missing: cannot read the JWKS file", result.stderr), result.stderr
    assert re.search(rf"{re.escape(str(config))}:6:\d+: auth.jwt.wrongtype: .*key 'rs-1' is for RS256", result.stderr), result.stderr


def test_check_prints_the_policy_order(tmp_path):
    (tmp_path / "jwks.json").write_text(jwks(ES))
    config = tmp_path / "gateway.yaml"
    config.write_text(
        "upstreams:\n  app: { replicas: [http://127.0.0.1:9] }\n"
        f"auth:\n  jwt:\n    main: {{ jwks_file: {tmp_path}/jwks.json }}\n"
        "sessions: { secret_env: S }\n"
        "routes:\n  - name: api\n    match: { path_prefix: /api/ }\n    upstream: app\n    session: optional\n"
        "    ip: { allow: [10.0.0.0/8] }\n    cors: { origins: ['*'] }\n    auth: { jwt: main }\n"
        "    rate_limits: [{ key: 'jwt:sub', limit: 5, window: 1s }]\n")
    result = run_gateway("check", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert "policies ip → cors → auth(jwt main) → session → rate_limits" in result.stdout, result.stdout


def test_rotated_jwks_file_is_picked_up_without_restart(jwt_gw):
    assert jwt_gw.get("/api/me", bearer(ES.token())).status == 200  # the keys are loaded now
    (jwt_gw.workdir / "jwks.json").write_text(jwks(ES, RS, ED, ROTATED))
    # The unknown kid makes the gateway re-read the file (at most every 10 s), no reload or restart needed.
    resp = jwt_gw.get("/api/me", bearer(ROTATED.token(sub="rotated")))
    assert resp.status == 200, resp.body
    assert echo_headers(resp)["x-user-id"] == ["rotated"]


def test_jwt_user_reaches_the_access_log(jwt_gw):
    from harness import wait_for

    jwt_gw.get("/api/me", bearer(ES.token(sub="log-user")))
    wait_for(lambda: '"user":"log-user"' in jwt_gw.log(), 10, what="access log line with the JWT user")
