"""Issue 12 (TLS part): `gateway cert dev`, HTTPS listeners (SNI, min_version, reload, mTLS, redirect, HSTS),
rediss:// and https:// upstreams, with real TLS clients (Python `ssl`, curl) and real servers."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import ssl
import stat
import subprocess
import textwrap
import threading
import time

import pytest

from harness import (GATEWAY_BIN, assert_problem, echo_headers, free_port, get, make_config, pattern_sha256,
                     redis_command, run_gateway, wait_for)
from tls_helpers import HTTPSUpstream, TLSConnection, cert_dev, client_context, https_get

ECHO_ROUTES = """
- name: all
  match: { path_prefix: / }
  upstream: app
"""


def _tls_config(certificates=(("cert", "key"),), tls_extra: str = "", extra_listener: str = "", server: str = "",
                routes: str = ECHO_ROUTES, top: str = "") -> str:
    """A config with the usual plain listener plus an HTTPS one at ${tls_listen}. `certificates` are pairs of
    placeholder names; `tls_extra` lines go under `tls:`; `extra_listener` and `server` are YAML at column 0."""
    lines = ["listeners:", "  - address: ${tls_listen}", "    tls:", "      certificates:"]
    lines += [f"        - {{ cert: '${{{c}}}', key: '${{{k}}}' }}" for c, k in certificates]
    lines += ["      " + line.strip() for line in tls_extra.strip().splitlines()]
    lines += ["  " + line for line in textwrap.dedent(extra_listener).strip("\n").splitlines()]
    lines += [line for line in textwrap.dedent(server).strip("\n").splitlines()]
    return make_config(upstreams='app: { replicas: ["${b0}"] }', routes=routes, server="\n".join(lines), top=top)


# ---------------------------------------------------------------------------------------------------------------
# gateway cert dev


def test_cert_dev_writes_a_ca_and_a_localhost_leaf(tmp_path):
    out = tmp_path / "certs"
    paths = cert_dev(out)
    for name in ("ca.pem", "localhost.pem"):
        assert (out / name).read_text().startswith("-----BEGIN CERTIFICATE-----")
    for name in ("ca-key.pem", "localhost-key.pem"):
        assert stat.S_IMODE(os.stat(out / name).st_mode) == 0o600, name
        assert "PRIVATE KEY" in (out / name).read_text()
    text = paths["stdout"]
    assert "update-ca-certificates" in text and "Firefox" in text and "Chrome" in text
    assert f"curl --cacert {out / 'ca.pem'}" in text
    # The leaf verifies against the CA for all three default names (openssl is only the test's checker).
    for check in (["-verify_hostname", "localhost"], ["-verify_ip", "127.0.0.1"], ["-verify_ip", "::1"]):
        done = subprocess.run(["openssl", "verify", "-CAfile", str(out / "ca.pem"), *check, str(out / "localhost.pem")],
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr
    leaf = subprocess.run(["openssl", "x509", "-noout", "-text", "-in", str(out / "localhost.pem")],
                          capture_output=True, text=True).stdout
    assert "prime256v1" in leaf and "ecdsa-with-SHA256" in leaf


def test_cert_dev_custom_names_and_bad_names(tmp_path):
    cert_dev(tmp_path / "c", "dev.test", "10.1.2.3")
    done = subprocess.run(["openssl", "verify", "-CAfile", str(tmp_path / "c/ca.pem"), "-verify_hostname", "dev.test",
                           str(tmp_path / "c/localhost.pem")], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout
    done = subprocess.run(["openssl", "verify", "-CAfile", str(tmp_path / "c/ca.pem"), "-verify_hostname", "localhost",
                           str(tmp_path / "c/localhost.pem")], capture_output=True, text=True)
    assert done.returncode != 0
    bad = run_gateway("cert", "dev", "--out", str(tmp_path / "d"), "--name", "not a name")
    assert bad.returncode != 0 and "not a name" in bad.stderr


# ---------------------------------------------------------------------------------------------------------------
# HTTPS listeners


def test_https_listener_serves_with_forwarded_proto_hsts_and_log_fields(tmp_path, gateway, backends):
    certs = cert_dev(tmp_path / "certs")
    tls_port = free_port()
    gw = gateway(_tls_config(server="hsts: { max_age: 1h, include_subdomains: true }"),
                 backends=backends(1), tls_listen=f"127.0.0.1:{tls_port}", tls_port=tls_port,
                 cert=certs["cert"], key=certs["key"])
    ctx = client_context(certs["ca"])
    resp = https_get(tls_port, "/hello?x=1", ctx, headers={"X-Forwarded-Proto": "http", "X-Client-Cert-Subject": "CN=forged"})
    assert resp.status == 200, resp.body
    seen = echo_headers(resp)
    assert seen["x-forwarded-proto"] == ["https"]
    assert "x-client-cert-subject" not in seen
    assert resp.header("strict-transport-security") == "max-age=3600; includeSubDomains"
    # Plain listener of the same gateway: no HSTS, proto http.
    plain = gw.get("/hello")
    assert plain.status == 200 and plain.header("strict-transport-security") is None
    assert echo_headers(plain)["x-forwarded-proto"] == ["http"]
    # curl, the way the README shows it.
    done = subprocess.run(["curl", "-sS", "--cacert", str(certs["ca"]), f"https://localhost:{tls_port}/curl"],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    seen_by_curl = {name.lower(): value for name, value in json.loads(done.stdout)["headers"]}
    assert seen_by_curl["x-forwarded-proto"] == "https"

    def logged():
        for line in gw.log().splitlines():
            if '"uri":"/hello?x=1"' in line.replace(" ", "") and '"tls"' in line:
                return json.loads(line[line.index("{"):])
        return None

    entry = wait_for(logged, 10, what="access log line with tls")
    assert entry["tls"] in ("TLSv1.3", "TLSv1.2") and entry["protocol"] == "HTTP/1.1"


def test_sni_picks_the_certificate_by_san_including_wildcards(tmp_path, gateway, backends):
    a = cert_dev(tmp_path / "a", "a.test")
    b = cert_dev(tmp_path / "b", "*.b.test")
    tls_port = free_port()
    gateway(_tls_config((("a_cert", "a_key"), ("b_cert", "b_key"))), backends=backends(1), tls_listen=f"127.0.0.1:{tls_port}",
            a_cert=a["cert"], a_key=a["key"], b_cert=b["cert"], b_key=b["key"])
    with TLSConnection(tls_port, client_context(a["ca"]), "a.test") as conn:
        assert conn.peer_names() == ["a.test"]
        assert conn.request("GET", "/").status == 200
    with TLSConnection(tls_port, client_context(b["ca"]), "api.b.test") as conn:
        assert conn.peer_names() == ["*.b.test"]
        assert conn.request("GET", "/").status == 200
    # Unknown names and IP literals (no SNI) get the first certificate, the default.
    unchecked_name = client_context(a["ca"])
    unchecked_name.check_hostname = False
    with TLSConnection(tls_port, unchecked_name, "unknown.test") as conn:
        assert conn.peer_names() == ["a.test"]
    with pytest.raises(ssl.SSLCertVerificationError):
        TLSConnection(tls_port, client_context(b["ca"]), "a.b.c.test")


def test_min_version_and_handshake_failure_metrics(tmp_path, gateway, backends):
    certs = cert_dev(tmp_path / "certs")
    tls_port = free_port()
    gw = gateway(_tls_config(tls_extra='min_version: "1.3"'), backends=backends(1), tls_listen=f"127.0.0.1:{tls_port}",
                 cert=certs["cert"], key=certs["key"])
    assert https_get(tls_port, "/", client_context(certs["ca"])).status == 200
    with pytest.raises(ssl.SSLError):
        https_get(tls_port, "/", client_context(certs["ca"], maximum=ssl.TLSVersion.TLSv1_2))
    # Plain HTTP to the TLS port.
    with pytest.raises(Exception):
        get(tls_port, "/", timeout=5)

    def failures():
        text = gw.admin("GET", "/metrics").body.decode()
        found = dict(re.findall(r'gateway_tls_handshake_failures_total\{reason="([a-z_]+)"\} (\d+)', text))
        return found if "protocol_version" in found and "not_tls" in found else None

    wait_for(failures, 10, what="handshake failure counters")


def test_tls_1_0_and_1_1_are_refused_by_default(tmp_path, gateway, backends):
    certs = cert_dev(tmp_path / "certs")
    tls_port = free_port()
    gateway(_tls_config(), backends=backends(1), tls_listen=f"127.0.0.1:{tls_port}",
            cert=certs["cert"], key=certs["key"])
    assert https_get(tls_port, "/", client_context(certs["ca"], maximum=ssl.TLSVersion.TLSv1_2)).status == 200
    done = subprocess.run(["curl", "-sS", "--cacert", str(certs["ca"]), "--tls-max", "1.1", "--tlsv1.0",
                           f"https://localhost:{tls_port}/"], capture_output=True, text=True, timeout=30)
    assert done.returncode != 0


def _download(port, ctx, target, result, pause_after=1 << 20):
    """Reads a whole body slowly (a pause after the first MiB) over TLS; stores (status, sha256) in `result`."""
    try:
        with TLSConnection(port, ctx, timeout=60) as conn:
            conn.send("GET", target)
            head = conn._read_until(b"\r\n\r\n").decode()
            length = int(re.search(r"(?i)content-length: (\d+)", head).group(1))
            digest, got = hashlib.sha256(), 0
            while got < length:
                if conn.buffer:
                    chunk, conn.buffer = conn.buffer[: length - got], conn.buffer[length - got:]
                else:
                    chunk = conn.sock.recv(65536)
                    if not chunk:
                        break
                digest.update(chunk)
                got += len(chunk)
                if got >= pause_after and not result.get("paused"):
                    result["paused"] = True
                    result["paused_event"].set()
                    result["resume_event"].wait(60)
            result["status"] = head.split(" ")[1]
            result["sha"] = digest.hexdigest()
            result["got"] = got
    except Exception as error:  # noqa: BLE001
        result["error"] = repr(error)
        result["paused_event"].set()


def test_certificate_reload_keeps_open_connections_and_new_handshakes_see_the_new_cert(tmp_path, gateway, backends):
    old = cert_dev(tmp_path / "old")
    new = cert_dev(tmp_path / "new")
    live = tmp_path / "live"
    live.mkdir()
    shutil.copy(old["cert"], live / "site.pem")
    shutil.copy(old["key"], live / "site-key.pem")
    tls_port = free_port()
    gw = gateway(_tls_config(), backends=backends(1), tls_listen=f"127.0.0.1:{tls_port}",
                 cert=live / "site.pem", key=live / "site-key.pem")
    size = 16 << 20
    result = {"paused_event": threading.Event(), "resume_event": threading.Event()}
    reader = threading.Thread(target=_download, args=(tls_port, client_context(old["ca"]), f"/bytes?n={size}", result))
    reader.start()
    assert result["paused_event"].wait(60), "download did not start"
    assert "error" not in result, result.get("error")

    # Replace the files and reload with SIGHUP while the download is held half-way.
    shutil.copy(new["cert"], live / "site.pem")
    shutil.copy(new["key"], live / "site-key.pem")
    gw.reload()
    wait_for(lambda: "configuration reloaded" in gw.log(), 15, what="reload")
    assert https_get(tls_port, "/", client_context(new["ca"])).status == 200
    with pytest.raises(ssl.SSLCertVerificationError):
        https_get(tls_port, "/", client_context(old["ca"]))

    result["resume_event"].set()
    reader.join(120)
    assert "error" not in result, result.get("error")
    assert result["status"] == "200" and result["got"] == size
    assert result["sha"] == pattern_sha256(size)


def test_broken_certificate_on_reload_is_refused_and_the_old_one_serves(tmp_path, gateway, backends):
    certs = cert_dev(tmp_path / "certs")
    live = tmp_path / "live"
    live.mkdir()
    shutil.copy(certs["cert"], live / "site.pem")
    shutil.copy(certs["key"], live / "site-key.pem")
    tls_port = free_port()
    gw = gateway(_tls_config(), backends=backends(1), tls_listen=f"127.0.0.1:{tls_port}",
                 cert=live / "site.pem", key=live / "site-key.pem")
    (live / "site.pem").write_text("-----BEGIN CERTIFICATE-----\ngarbage\n-----END CERTIFICATE-----\n")
    resp = gw.admin("POST", "/reload")
    assert resp.status >= 400, resp.body
    assert "site.pem" in resp.body.decode()
    assert "site.pem" in gw.log()
    assert https_get(tls_port, "/", client_context(certs["ca"])).status == 200
    # `gateway check` names the file too (with the listener's position).
    done = run_gateway("check", "--config", str(gw.config_path))
    assert done.returncode != 0 and "site.pem" in done.stderr


def test_a_missing_certificate_fails_the_start_naming_the_file(tmp_path, gateway, backends):
    tls_port = free_port()
    gw = gateway(_tls_config(), backends=backends(1), tls_listen=f"127.0.0.1:{tls_port}",
                 cert=tmp_path / "nope.pem", key=tmp_path / "nope-key.pem", wait=False)
    assert gw.proc.wait(30) != 0
    assert "nope.pem" in gw.log() and "no such file" in gw.log()


def test_mtls_required_missing_and_client_cert_rate_limit_key(tmp_path, gateway, backends):
    server = cert_dev(tmp_path / "server")
    alice = cert_dev(tmp_path / "alice", "alice.client")
    bob = cert_dev(tmp_path / "bob", "bob.client")
    bundle = tmp_path / "clients.pem"
    bundle.write_text(alice["ca"].read_text() + bob["ca"].read_text())
    tls_port = free_port()
    routes = """
    - name: all
      match: { path_prefix: / }
      upstream: app
      rate_limits:
        - { name: per-cert, key: client_cert, limit: 2, window: 1m }
    """
    gw = gateway(_tls_config(tls_extra="client_ca: '${clients}'", routes=routes), backends=backends(1),
                 tls_listen=f"127.0.0.1:{tls_port}", cert=server["cert"], key=server["key"], clients=bundle)
    # Missing client certificate: the handshake (or, in TLS 1.3, the first read) fails; nothing is proxied.
    with pytest.raises((ssl.SSLError, ConnectionError, Exception)):
        https_get(tls_port, "/", client_context(server["ca"]))
    alice_ctx = client_context(server["ca"], alice["cert"], alice["key"])
    resp = https_get(tls_port, "/who", alice_ctx, headers={"X-Client-Cert-Subject": "CN=admin"})
    assert resp.status == 200, resp.body
    subject = echo_headers(resp)["x-client-cert-subject"]
    assert len(subject) == 1 and "CN=alice.client" in subject[0], subject
    assert https_get(tls_port, "/who", alice_ctx).status == 200
    assert_problem(https_get(tls_port, "/who", alice_ctx), 429)
    # Bob has his own budget.
    assert https_get(tls_port, "/who", client_context(server["ca"], bob["cert"], bob["key"])).status == 200
    # A certificate from a CA not in client_ca is refused.
    stranger = cert_dev(tmp_path / "stranger", "eve.client")
    with pytest.raises(Exception):
        https_get(tls_port, "/", client_context(server["ca"], stranger["cert"], stranger["key"]))
    metrics = gw.admin("GET", "/metrics").body.decode()
    assert 'gateway_tls_handshake_failures_total{reason="client_certificate' in metrics


def test_redirect_https_listener(tmp_path, gateway, backends):
    certs = cert_dev(tmp_path / "certs")
    tls_port, redirect_port = free_port(), free_port()
    extra = """
      - address: ${redirect_listen}
        redirect_https: ${tls_port}
    """
    gw = gateway(_tls_config(extra_listener=extra, server="hsts: { max_age: 8760h }"), backends=backends(1),
                 tls_listen=f"127.0.0.1:{tls_port}", tls_port=tls_port, redirect_listen=f"127.0.0.1:{redirect_port}",
                 cert=certs["cert"], key=certs["key"])
    resp = get(redirect_port, "/a/b?c=1&d", host=f"localhost:{redirect_port}")
    assert resp.status == 308
    assert resp.header("location") == f"https://localhost:{tls_port}/a/b?c=1&d"
    # Following it with curl lands on the HTTPS listener, with HSTS.
    done = subprocess.run(["curl", "-sS", "-L", "-D", "-", "--cacert", str(certs["ca"]),
                           f"http://localhost:{redirect_port}/x?y=2"], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert "strict-transport-security: max-age=31536000" in done.stdout.lower()
    assert '"x-forwarded-proto","https"' in done.stdout.replace(" ", "").lower()
    # Without a Host there is nowhere to redirect to.
    from harness import HTTPConnection
    with HTTPConnection(redirect_port) as conn:
        conn.send_raw(b"GET /x HTTP/1.0\r\n\r\n")
        assert_problem(conn.read_response(), 400)


def test_session_cookie_is_secure_on_tls_only(tmp_path, gateway, backends):
    certs = cert_dev(tmp_path / "certs")
    tls_port = free_port()
    routes = """
    - name: login
      match: { path: /login, methods: [POST] }
      upstream: app
      session: issue
    - name: all
      match: { path_prefix: / }
      upstream: app
    """
    gw = gateway(_tls_config(routes=routes,
                             top="sessions: { cookie: gw_session, secret_env: GATEWAY_SESSION_SECRET }"),
                 backends=backends(1), tls_listen=f"127.0.0.1:{tls_port}", cert=certs["cert"], key=certs["key"])
    body = b'{"user":"ann"}'
    with TLSConnection(tls_port, client_context(certs["ca"])) as conn:
        resp = conn.request("POST", "/login", headers={"Content-Type": "application/json"}, body=body)
    cookies = [c for c in resp.header_values("set-cookie") if c.startswith("gw_session=")]
    assert cookies and all("; Secure" in c for c in cookies), resp.headers
    plain = gw.request("POST", "/login", headers={"Content-Type": "application/json"}, body=body)
    cookies = [c for c in plain.header_values("set-cookie") if c.startswith("gw_session=")]
    assert cookies and not any("Secure" in c for c in cookies), plain.headers


# ---------------------------------------------------------------------------------------------------------------
# https:// upstreams


def test_https_upstream_with_private_ca_sni_and_health_checks(tmp_path, gateway):
    upstream_certs = cert_dev(tmp_path / "up", "app.internal")
    with HTTPSUpstream(upstream_certs["cert"], upstream_certs["key"]) as upstream:
        config = make_config(
            upstreams="""
            secure:
              replicas: ["https://127.0.0.1:${up_port}"]
              tls: { ca_file: "${ca}", server_name: app.internal }
              health: { path: /health, interval: 200ms, timeout: 2s, healthy_after: 1 }
            """,
            routes="""
            - name: all
              match: { path_prefix: / }
              upstream: secure
            """)
        gw = gateway(config, up_port=upstream.port, ca=upstream_certs["ca"])
        for _ in range(3):  # pooled keep-alive connections over TLS
            resp = gw.get("/over-tls")
            assert resp.status == 200, resp.body
            assert resp.json()["path"] == "/over-tls"

        def healthy():
            doc = gw.admin("GET", "/upstreams").json()
            text = json.dumps(doc)
            return "healthy" in text and '"ok": true' in text.replace('"ok":true', '"ok": true')

        wait_for(healthy, 15, what="active health check over TLS")


def test_untrusted_upstream_certificate_is_502_and_logged(tmp_path, gateway):
    upstream_certs = cert_dev(tmp_path / "up")
    other = cert_dev(tmp_path / "other")
    with HTTPSUpstream(upstream_certs["cert"], upstream_certs["key"]) as upstream:
        config = make_config(
            upstreams="""
            secure:
              replicas: ["https://127.0.0.1:${up_port}"]
              tls: { ca_file: "${ca}" }
              passive: false
              retries: 0
            """,
            routes="""
            - name: all
              match: { path_prefix: / }
              upstream: secure
            """)
        gw = gateway(config, up_port=upstream.port, ca=other["ca"])
        resp = gw.get("/x")
        assert_problem(resp, 502)
        wait_for(lambda: "TLS handshake failed" in gw.log(), 10, what="logged TLS failure")


def test_insecure_skip_verify_warns_at_start(tmp_path, gateway):
    upstream_certs = cert_dev(tmp_path / "up")
    with HTTPSUpstream(upstream_certs["cert"], upstream_certs["key"]) as upstream:
        config = make_config(
            upstreams="""
            secure:
              replicas: ["https://127.0.0.1:${up_port}"]
              insecure_skip_verify: true
            """,
            routes="""
            - name: all
              match: { path_prefix: / }
              upstream: secure
            """)
        gw = gateway(config, up_port=upstream.port)
        assert gw.get("/x").status == 200
        assert "insecure_skip_verify is on" in gw.log()


def test_https_upstream_with_client_certificate(tmp_path, gateway):
    upstream_certs = cert_dev(tmp_path / "up")
    client = cert_dev(tmp_path / "client", "gateway.client")
    with HTTPSUpstream(upstream_certs["cert"], upstream_certs["key"], client_ca=client["ca"]) as upstream:
        config = make_config(
            upstreams="""
            secure:
              replicas: ["https://127.0.0.1:${up_port}"]
              tls: { ca_file: "${ca}", client_cert: "${cc}", client_key: "${ck}" }
            without:
              replicas: ["https://127.0.0.1:${up_port}"]
              tls: { ca_file: "${ca}" }
              retries: 0
            """,
            routes="""
            - name: without
              match: { path_prefix: /without }
              upstream: without
            - name: all
              match: { path_prefix: / }
              upstream: secure
            """)
        gw = gateway(config, up_port=upstream.port, ca=upstream_certs["ca"], cc=client["cert"], ck=client["key"])
        assert gw.get("/x").status == 200
        assert gw.get("/without").status == 502


# ---------------------------------------------------------------------------------------------------------------
# rediss://


@pytest.fixture
def tls_redis(tmp_path):
    """A redis-server speaking only TLS (certificates from `gateway cert dev`), requiring no client certificates."""
    certs = cert_dev(tmp_path / "redis-certs")
    port = free_port()
    proc = subprocess.Popen(
        ["redis-server", "--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1",
         "--tls-cert-file", str(certs["cert"]), "--tls-key-file", str(certs["key"]),
         "--tls-ca-cert-file", str(certs["ca"]), "--tls-auth-clients", "no",
         "--save", "", "--appendonly", "no", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)

    def cli(*args):
        return subprocess.run(["redis-cli", "--tls", "--cacert", str(certs["ca"]), "-p", str(port), *args],
                              capture_output=True, text=True, timeout=10).stdout.strip()

    wait_for(lambda: cli("PING") == "PONG", 15, what="TLS redis-server")
    yield {"port": port, "ca": certs["ca"], "cli": cli}
    proc.terminate()
    proc.wait(10)


def test_rediss_rate_limits_and_pubsub(tmp_path, gateway, backends, tls_redis):
    from websockets.sync.client import connect

    config = make_config(
        upstreams='app: { replicas: ["${b0}"] }',
        routes="""
        - name: limited
          match: { path_prefix: /limited }
          upstream: app
          rate_limits:
            - { name: per-ip, key: client_ip, limit: 3, window: 1m }
        - name: events
          match: { path: /ws }
          pubsub: { subscribe: ["public:*"], publish: ["public:*"] }
        """,
        top="""
        store:
          redis: "rediss://127.0.0.1:${redis_port}/0"
          tls: { ca_file: "${redis_ca}" }
          key_prefix: "tls${uniq}:"
          command_timeout: 2s
          on_error: deny
        """)
    gw = gateway(config, backends=backends(1), redis_port=tls_redis["port"], redis_ca=tls_redis["ca"])
    # /readyz turns 200 once Redis answered over TLS (the first connect may be retried on a loaded machine).
    wait_for(lambda: gw.admin("GET", "/readyz").status == 200, 30, what="readyz with rediss")
    statuses = [gw.get("/limited").status for _ in range(4)]
    assert statuses == [200, 200, 200, 429], statuses
    keys = tls_redis["cli"]("--scan", "--pattern", f"tls*")
    assert "rl:limited" in keys, keys

    with connect(f"ws://127.0.0.1:{gw.port}/ws", open_timeout=10) as ws:
        ws.send(json.dumps({"type": "subscribe", "channel": "public:news"}))
        assert json.loads(ws.recv(timeout=10)) == {"type": "subscribed", "channel": "public:news"}
        # Publish through Redis (over TLS): the gateway's subscriber connection delivers it.
        def published():
            tls_redis["cli"]("PUBLISH", _channel_key(gw, tls_redis, "public:news"), json.dumps({"n": 1}))
            try:
                return json.loads(ws.recv(timeout=1))
            except TimeoutError:
                return None

        frame = wait_for(published, 20, interval=0.2, what="message over rediss pub/sub")
        assert frame.get("channel") == "public:news", frame


def _channel_key(gw, tls_redis, channel):
    """The Redis channel the gateway subscribed for `channel` (found via PUBSUB CHANNELS)."""
    names = tls_redis["cli"]("PUBSUB", "CHANNELS", "*").split()
    for name in names:
        if name.endswith(channel):
            return name
    return channel


def test_rediss_with_a_wrong_ca_is_a_store_failure(tmp_path, gateway, backends, tls_redis):
    wrong = cert_dev(tmp_path / "wrong")
    config = make_config(
        upstreams='app: { replicas: ["${b0}"] }',
        routes="""
        - name: limited
          match: { path_prefix: /limited }
          upstream: app
          rate_limits:
            - { name: per-ip, key: client_ip, limit: 3, window: 1m }
        """,
        top="""
        store:
          redis: "rediss://127.0.0.1:${redis_port}/0"
          tls: { ca_file: "${redis_ca}" }
          on_error: deny
        """)
    gw = gateway(config, backends=backends(1), redis_port=tls_redis["port"], redis_ca=wrong["ca"])
    assert gw.get("/limited").status == 503


def test_pubsub_websocket_over_the_https_listener(tmp_path, gateway, backends):
    from websockets.sync.client import connect

    certs = cert_dev(tmp_path / "certs")
    tls_port = free_port()
    routes = """
    - name: events
      match: { path: /ws }
      pubsub: { subscribe: ["public:*"], publish: ["public:*"] }
    """
    gateway(_tls_config(routes=routes), backends=backends(1), tls_listen=f"127.0.0.1:{tls_port}",
            cert=certs["cert"], key=certs["key"])
    ctx = client_context(certs["ca"])
    with connect(f"wss://localhost:{tls_port}/ws", ssl=ctx, open_timeout=10) as a, \
            connect(f"wss://localhost:{tls_port}/ws", ssl=ctx, open_timeout=10) as b:
        for ws in (a, b):
            ws.send(json.dumps({"type": "subscribe", "channel": "public:x"}))
            assert json.loads(ws.recv(timeout=10)) == {"type": "subscribed", "channel": "public:x"}
        a.send(json.dumps({"type": "publish", "channel": "public:x", "data": {"n": 1}}))
        frame = json.loads(b.recv(timeout=10))
        assert frame["type"] == "message" and frame["data"] == {"n": 1}, frame
