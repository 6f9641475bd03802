"""Issue 18: what an operator reads — logs, access log, errors, reload warnings, Date — each finding retried as written."""

import asyncio
import gzip
import json
import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import websockets

from harness import GATEWAY_BIN, REPO, free_port, get, make_config, run_gateway, wait_for

ISO = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"


def _config(backend_url: str, *, listen: str, admin: str, access_log: str = "stdout", extra_routes: str = "",
            top: str = "") -> str:
    return f"""\
server:
  listen: {listen}
  admin_listen: {admin}
  access_log: {access_log}
{top}upstreams:
  app:
    replicas: [{backend_url}]
routes:
  - name: api
    match: {{ path_prefix: /api/ }}
    upstream: app
    strip_prefix: true
{extra_routes}"""


def _start(args, env=None, **kw):
    process_env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    process_env.update(env or {})
    return subprocess.Popen([GATEWAY_BIN, *args], stdin=subprocess.DEVNULL, env=process_env, **kw)


def _wait_ready(port: int, admin_port: int, proc, timeout: float = 20.0):
    def ready():
        if proc.poll() is not None:
            raise RuntimeError(f"gateway exited with {proc.returncode}")
        try:
            return get(admin_port, "/healthz", timeout=1).status == 200
        except Exception:  # noqa: BLE001
            return False

    wait_for(ready, timeout, what="gateway ready")


def _stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def _is_access_json(line: str) -> bool:
    try:
        entry = json.loads(line)
    except ValueError:
        return False
    return isinstance(entry, dict) and "request_id" in entry and "status" in entry


def _is_operator_line(line: str) -> bool:
    return re.match(ISO + r" (trace|debug|info|notice|warning|error|critical) \S", line) is not None


# 1. access_log: stderr with `2> file` (not appending) and with stderr on a socket.
def test_access_log_stderr_to_a_truncated_file_keeps_every_line_whole(backends, tmp_path):
    backend = backends(1)[0]
    port, admin_port = free_port(), free_port()
    config = tmp_path / "g.yaml"
    config.write_text(_config(backend.url, listen=f"127.0.0.1:{port}", admin=f"127.0.0.1:{admin_port}", access_log="stderr"))
    err_path = tmp_path / "stderr.txt"
    with open(err_path, "wb") as err:  # like `2> file`: O_TRUNC, no O_APPEND
        proc = _start(["serve", "--config", str(config)], stdout=subprocess.DEVNULL, stderr=err)
        try:
            _wait_ready(port, admin_port, proc)
            for i in range(40):
                assert get(port, f"/api/x{i}").status == 200
                if i % 10 == 0:
                    proc.send_signal(signal.SIGHUP)  # operator log lines interleaved with access lines
            wait_for(lambda: err_path.read_text().count('"request_id"') >= 40, 10, what="40 access lines")
        finally:
            _stop(proc)
    lines = [line for line in err_path.read_text().splitlines() if line.strip()]
    bad = [line for line in lines if not (_is_access_json(line) or _is_operator_line(line))]
    assert not bad, f"corrupted lines: {bad[:5]}"
    assert sum(1 for line in lines if _is_access_json(line)) == 40
    assert any("configuration reloaded" in line for line in lines)


def test_access_log_stderr_on_a_socket_is_written(backends, tmp_path):
    backend = backends(1)[0]
    port, admin_port = free_port(), free_port()
    config = tmp_path / "g.yaml"
    config.write_text(_config(backend.url, listen=f"127.0.0.1:{port}", admin=f"127.0.0.1:{admin_port}", access_log="stderr"))
    reader, writer = socket.socketpair()  # what journald hands a service as stderr
    proc = _start(["serve", "--config", str(config)], stdout=subprocess.DEVNULL, stderr=writer.fileno())
    writer.close()
    received = b""
    try:
        _wait_ready(port, admin_port, proc)
        assert get(port, "/api/socket-check").status == 200
        reader.settimeout(0.5)
        deadline = time.monotonic() + 10
        while b"/api/socket-check" not in received and time.monotonic() < deadline:
            try:
                received += reader.recv(65536)
            except socket.timeout:
                pass
    finally:
        _stop(proc)
        reader.close()
    assert b"/api/socket-check" in received, received.decode(errors="replace")


# 2. A log file in a directory that does not exist: check fails, serve refuses to start.
def test_access_log_in_a_missing_directory_is_refused(tmp_path):
    config = tmp_path / "g.yaml"
    config.write_text(_config("http://127.0.0.1:9", listen=f"127.0.0.1:{free_port()}", admin="false",
                              access_log="/nonexistent-dir/access.log"))
    check = run_gateway("check", "--config", str(config))
    assert check.returncode == 1
    assert f"{config}:4:15: 'access_log': directory '/nonexistent-dir' does not exist" in check.stderr
    serve = subprocess.run([GATEWAY_BIN, "serve", "--config", str(config)], capture_output=True, text=True, timeout=30,
                           stdin=subprocess.DEVNULL)
    assert serve.returncode == 1
    assert "does not exist" in serve.stderr


# 3. A port in use: the address is named, the text is readable, and nothing connected to Redis before.
def test_port_in_use_names_the_address_before_touching_redis(tmp_path, redis_url):
    taken = socket.socket()
    taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    port = taken.getsockname()[1]
    try:
        config = tmp_path / "g.yaml"
        config.write_text(_config("http://127.0.0.1:9", listen=f"127.0.0.1:{port}", admin="false",
                                  top=f"store:\n  redis: {redis_url}\n"))
        result = subprocess.run([GATEWAY_BIN, "serve", "--config", str(config)], capture_output=True, text=True,
                                timeout=30, stdin=subprocess.DEVNULL)
    finally:
        taken.close()
    assert result.returncode == 1
    assert f"gateway: error: cannot listen on 127.0.0.1:{port} ('server.listen'): address already in use" in result.stderr
    assert "redis" not in result.stderr.lower(), result.stderr
    assert "errno" not in result.stderr and "bind(descriptor" not in result.stderr


# 4. No library text: access-log errors, startup address, one `redis connected`, a startup summary.
def test_operator_text_has_no_library_types(gateway, backends, closed_port, tmp_path):
    log = tmp_path / "access.log"
    config = f"""\
server:
  listen: ${{listen}}
  admin_listen: ${{admin_listen}}
  access_log: {log}
  workers: 2
store:
  redis: ${{redis_url}}
upstreams:
  app:
    replicas: [${{b0}}]
  dead:
    replicas: [http://127.0.0.1:{closed_port}]
    retries: 0
routes:
  - name: api
    match: {{ path_prefix: /api/ }}
    upstream: app
  - name: dead
    match: {{ path_prefix: /dead/ }}
    upstream: dead
"""
    gw = gateway(config, backends=backends(1))
    assert gw.get("/dead/x").status == 502
    entries = wait_for(lambda: [json.loads(l) for l in log.read_text().splitlines() if l.strip()] if log.exists() else None,
                       10, what="an access line")
    assert entries[-1]["error"] == f"connect: connection refused (127.0.0.1:{closed_port})"
    wait_for(lambda: "redis connected" in gw.log(), 10, what="redis connected")
    text = gw.log()
    assert f"address={'127.0.0.1'}:{gw.port}" in text, text
    assert "[IPv4]" not in text
    assert text.count("redis connected") == 1, text
    started = [line for line in text.splitlines() if "gateway started" in line]
    assert started, text
    for field in ("version=", f"config={gw.config_path}", "routes=2", "upstreams=2", "store=\"redis redis://"):
        assert field in started[0], started[0]


# 5. Health transitions and /upstreams say why.
def test_health_transition_and_upstreams_give_the_reason(gateway, closed_port):
    config = f"""\
server: {{ listen: "${{listen}}", admin_listen: "${{admin_listen}}" }}
upstreams:
  app:
    replicas: [http://127.0.0.1:{closed_port}]
    health: {{ path: /health, interval: 200ms, timeout: 1s, unhealthy_after: 1 }}
routes:
  - name: api
    match: {{ path_prefix: / }}
    upstream: app
"""
    gw = gateway(config)
    wait_for(lambda: "healthy -> unhealthy" in gw.log(), 15, what="the transition")
    line = next(l for l in gw.log().splitlines() if "healthy -> unhealthy" in l)
    assert "1 failed check of GET /health, last: connection refused (127.0.0.1:" in line, line
    replica = json.loads(gw.admin("GET", "/upstreams").body)["upstreams"]["app"]["replicas"][0]
    assert replica["last_check"]["ok"] is False
    assert replica["last_check"]["error"].startswith("connection refused"), replica


# 6. Putting `listen` back to what is listening does not warn.
def test_reload_back_to_the_bound_listen_address_does_not_warn(gateway, backends):
    backend = backends(1)[0]
    text = "server: { listen: \"LISTEN\", admin_listen: \"${admin_listen}\" }\n" + \
        "upstreams: { app: { replicas: [${b0}] } }\nroutes:\n  - { name: a, match: { path_prefix: / }, upstream: app }\n"
    gw = gateway(text.replace("LISTEN", "${listen}"), backends=[backend])
    other = f"127.0.0.1:{free_port()}"
    gw.write_config(text.replace("LISTEN", other))
    assert gw.admin("POST", "/reload").status == 200
    assert gw.log().count("listen addresses changed") == 1
    gw.write_config(text.replace("LISTEN", "${listen}"))
    assert gw.admin("POST", "/reload").status == 200
    assert gw.log().count("listen addresses changed") == 1, gw.log()


# 7. bytes_out after gzip is what was sent.
def test_bytes_out_counts_the_compressed_body(gateway, backends, tmp_path):
    log = tmp_path / "access.log"
    config = make_config(upstreams="app:\n  replicas: [${b0}]\n",
                         routes="- name: api\n  match: { path_prefix: /api/ }\n  upstream: app\n  strip_prefix: true\n  compress: true\n").replace("access_log: stdout", f"access_log: {log}")
    gw = gateway(config, backends=backends(1))
    resp = gw.get("/api/json?kb=64", headers={"Accept-Encoding": "gzip"})
    assert resp.status == 200 and resp.header("content-encoding") == "gzip"
    sent = len(resp.body)
    assert len(gzip.decompress(resp.body)) > 60000
    entry = wait_for(lambda: [json.loads(l) for l in log.read_text().splitlines() if l.strip()] if log.exists() else None,
                     10, what="access line")[-1]
    assert entry["bytes_out"] == sent, (entry, sent)


# 8. Upgraded connections get a line at close, with duration and bytes both ways.
def test_websocket_tunnel_is_logged_at_close(gateway, backends, tmp_path):
    log = tmp_path / "access.log"
    config = make_config(upstreams="app:\n  replicas: [${b0}]\n",
                         routes="- name: socket\n  match: { path_prefix: /socket/ }\n  upstream: app\n  websocket: true\n").replace("access_log: stdout", f"access_log: {log}")
    gw = gateway(config, backends=backends(1))

    async def talk():
        async with websockets.connect(f"ws://127.0.0.1:{gw.port}/socket/echo") as ws:
            for _ in range(3):
                await ws.send("x" * 1000)
                await ws.recv()
            await asyncio.sleep(0.3)

    asyncio.run(talk())

    def close_line():
        if not log.exists():
            return None
        entries = [json.loads(l) for l in log.read_text().splitlines() if l.strip()]
        closes = [e for e in entries if e.get("event") == "close"]
        return (entries, closes[0]) if closes else None

    entries, close = wait_for(close_line, 10, what="the close line")
    upgrade = next(e for e in entries if e.get("status") == 101 and "event" not in e)
    assert close["request_id"] == upgrade["request_id"] and close["route"] == "socket"
    assert close["bytes_in"] >= 3000 and close["bytes_out"] >= 3000, close
    assert close["duration_ms"] >= 300, close


# 9. A missing secret: one positioned line, no doubled prefix.
def test_missing_session_secret_is_one_positioned_line(tmp_path):
    config = tmp_path / "g.yaml"
    config.write_text(_config("http://127.0.0.1:9", listen=f"127.0.0.1:{free_port()}", admin="false",
                              top="sessions:\n  cookie: sid\n"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    result = subprocess.run([GATEWAY_BIN, "serve", "--config", str(config)], capture_output=True, text=True, timeout=30,
                            stdin=subprocess.DEVNULL, env=env)
    assert result.returncode == 1
    assert re.search(rf"^{re.escape(str(config))}:\d+:\d+: sessions: environment variable GATEWAY_SESSION_SECRET",
                     result.stderr, re.M), result.stderr
    assert "sessions: sessions:" not in result.stderr


# 10. The README shows what `check` really prints.
def test_readme_check_output_matches_the_real_output():
    readme = (REPO / "README.md").read_text()
    result = run_gateway("check", "--config", "conf/gateway.yaml", cwd=str(REPO))
    assert result.returncode == 0, result.stderr
    overview = result.stdout.strip().splitlines()[-1]
    assert overview.startswith("config OK: ")
    assert overview in readme, f"README does not show the real closing line {overview!r}"
    for line in result.stdout.strip().splitlines()[:-1]:
        assert line in readme, f"README does not show {line!r}"


# 14 and 15: config hints.
def test_upstream_url_in_a_route_points_to_upstreams(tmp_path):
    config = tmp_path / "g.yaml"
    config.write_text("routes:\n  - name: a\n    match: { path_prefix: / }\n    upstream: http://127.0.0.1:9001\n")
    result = run_gateway("check", "--config", str(config))
    assert result.returncode == 1
    assert "not a URL: declare it under 'upstreams:'" in result.stderr, result.stderr


def test_prefix_without_trailing_slash_warns_in_check(tmp_path):
    config = tmp_path / "g.yaml"
    config.write_text("upstreams: { app: { replicas: [http://127.0.0.1:9001] } }\n"
                      "routes:\n  - name: a\n    match: { path_prefix: /api }\n    upstream: app\n")
    result = run_gateway("check", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert f"{config}:4:27: warning: 'path_prefix: /api' also matches '/apix'" in result.stderr, result.stderr


# 16. Date on proxied answers (when the upstream sent none) and on the gateway's own.
def test_date_header_on_every_response(gateway, backends):
    config = make_config(upstreams="app:\n  replicas: [${b0}]\n",
                         routes="- name: api\n  match: { path_prefix: /api/ }\n  upstream: app\n")
    gw = gateway(config, backends=backends(1))
    date = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT$")
    for path in ("/api/x", "/nope"):
        resp = gw.get(path)
        assert date.match(resp.header("date") or ""), (path, resp.headers)
        assert len(resp.header_values("date")) == 1


# Deliverables: SIGUSR1 reopen, combined format.
def test_sigusr1_reopens_the_access_log_after_a_rename(gateway, backends, tmp_path):
    log = tmp_path / "access.log"
    config = make_config(upstreams="app:\n  replicas: [${b0}]\n",
                         routes="- name: api\n  match: { path_prefix: /api/ }\n  upstream: app\n").replace("access_log: stdout", f"access_log: {log}")
    gw = gateway(config, backends=backends(1))
    gw.get("/api/before")
    wait_for(lambda: log.exists() and "/api/before" in log.read_text(), 10, what="first line")
    rotated = tmp_path / "access.log.1"
    log.rename(rotated)
    gw.send_signal(signal.SIGUSR1)
    wait_for(lambda: "access log reopened" in gw.log(), 10, what="reopen")
    gw.get("/api/after")
    wait_for(lambda: log.exists() and "/api/after" in log.read_text(), 10, what="line in the new file")
    assert "/api/after" not in rotated.read_text()


COMBINED = re.compile(
    r'^(?P<addr>\S+) - (?P<user>\S+) \[(?P<time>\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4})\] '
    r'"(?P<request>[^"]*)" (?P<status>\d{3}) (?P<bytes>\d+) "(?P<referer>[^"]*)" "(?P<agent>[^"]*)"$')


def test_combined_format_parses_with_the_standard_regex(gateway, backends, tmp_path):
    log = tmp_path / "access.log"
    config = make_config(upstreams="app:\n  replicas: [${b0}]\n",
                         routes="- name: api\n  match: { path_prefix: /api/ }\n  upstream: app\n").replace("access_log: stdout", f"access_log: {{ path: {log}, format: combined }}")
    gw = gateway(config, backends=backends(1))
    resp = gw.get("/api/x?y=1", headers={"User-Agent": 'curl/8 "quoted"', "Referer": "http://example.com/"})
    gw.get("/missing")
    lines = wait_for(lambda: [l for l in log.read_text().splitlines() if l] if log.exists() and
                     len(log.read_text().splitlines()) >= 2 else None, 10, what="2 lines")
    first = COMBINED.match(lines[0])
    assert first, lines[0]
    assert first["request"] == "GET /api/x?y=1 HTTP/1.1" and first["status"] == "200"
    assert int(first["bytes"]) == len(resp.body)
    assert first["referer"] == "http://example.com/" and first["agent"] == 'curl/8 \\x22quoted\\x22'
    assert COMBINED.match(lines[1])["status"] == "404"
