"""Fixtures for the gateway's user-level integration tests.

- `redis_url`: GATEWAY_TEST_REDIS_URL (scripts/test.sh starts one), else a private redis-server on a free port.
- `backends(n)`: starts n demo-backend processes on free ports (names r0, r1, …), healthy before returned.
- `gateway(yaml, backends=[...], files={...}, env={...})`: writes the config (placeholders, see harness.Gateway),
  starts `$GATEWAY_BIN serve --config FILE`, waits until it accepts connections and admin /healthz says 200.
Everything started is stopped at teardown (SIGTERM, then SIGKILL after 20 s).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from harness import DEMO_BIN, GATEWAY_BIN, Backend, Gateway, RedisServer, free_port, wait_for


def pytest_report_header(config):
    return [f"gateway binary: {GATEWAY_BIN}", f"demo-backend binary: {DEMO_BIN}"]


@pytest.fixture(scope="session", autouse=True)
def _binaries_exist():
    missing = [p for p in (GATEWAY_BIN, DEMO_BIN) if not os.access(p, os.X_OK)]
    if missing:
        pytest.exit(f"missing executables {missing}: run `swift build` first (or scripts/test.sh)", returncode=2)


def _redis_ping(port: int) -> bool:
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
        s.sendall(b"PING\r\n")
        return s.recv(64).startswith(b"+PONG")


@pytest.fixture(scope="session")
def redis_url():
    url = os.environ.get("GATEWAY_TEST_REDIS_URL")
    if url:
        yield url
        return
    if not shutil.which("redis-server"):
        pytest.skip("redis-server not installed and GATEWAY_TEST_REDIS_URL not set")
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="gw-it-redis-")
    proc = subprocess.Popen(
        ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--dir", workdir, "--save", "",
         "--appendonly", "no", "--daemonize", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: _redis_ping(port), 10, what=f"redis-server on :{port}")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def backends(tmp_path):
    """Factory: `backends(2)` → [Backend r0, Backend r1]; `backends(names=["a", "b"])` names them."""
    started: list[Backend] = []

    def start(n: int = 1, names: list[str] | None = None) -> list[Backend]:
        names = names or [f"r{len(started) + i}" for i in range(n)]
        out = []
        for name in names:
            backend = Backend(name=name, port=free_port(), log_path=tmp_path / f"demo-{name}.log")
            started.append(backend)
            out.append(backend.start())
        return out

    yield start
    for backend in started:
        backend.stop()


@pytest.fixture
def gateway(tmp_path, request):
    """Factory: `gateway(yaml_text, backends=[...], files={"routes.d/x.yaml": "..."}, env={...}, **values)`."""
    started: list[Gateway] = []
    uniq = uuid.uuid4().hex[:12]

    def start(config_text: str, *, backends=(), files: dict[str, str] | None = None, env: dict[str, str] | None = None,
              wait: bool = True, args: list[str] | None = None, **values) -> Gateway:
        workdir = tmp_path / f"gateway{len(started)}"
        port, admin_port = free_port(), free_port()
        all_values: dict[str, object] = {
            "listen": f"127.0.0.1:{port}",
            "admin_listen": f"127.0.0.1:{admin_port}",
            "port": port,
            "admin_port": admin_port,
            "dir": str(workdir),
            "closed_url": f"http://127.0.0.1:{free_port()}",
            # the same for every gateway of one test: use it in store.key_prefix so tests never share keys
            "uniq": uniq,
        }
        for i, backend in enumerate(backends):
            all_values[f"b{i}"] = backend.url
        if "${redis_url}" in config_text or any("${redis_url}" in t for t in (files or {}).values()):
            all_values["redis_url"] = request.getfixturevalue("redis_url")
        all_values.update(values)
        process_env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
        process_env["GATEWAY_SESSION_SECRET"] = "integration-test-secret-0123456789abcdef"
        process_env.update(env or {})
        gw = Gateway(workdir=workdir, values=all_values, env=process_env, args=args)
        gw.write_config(config_text, files)
        if args is not None:
            gw.args = [a.replace("${config}", str(gw.config_path)) for a in args]
        started.append(gw)
        return gw.start(wait=wait)

    yield start
    for gw in started:
        gw.stop()


@pytest.fixture
def private_redis(tmp_path):
    """Factory for a redis-server this test owns (to stop it mid-test): returns a RedisServer."""
    servers: list[RedisServer] = []

    def start() -> RedisServer:
        server = RedisServer(port=free_port(), workdir=tmp_path / f"redis{len(servers)}")
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def closed_port():
    """A port where nothing listens (bound and released)."""
    return free_port()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    """On failure, attach the tail of every gateway log of the test to the report."""
    outcome = yield
    if outcome.excinfo is not None:
        tmp = item.funcargs.get("tmp_path")
        if tmp:
            for log in sorted(Path(tmp).glob("gateway*/gateway.log")):
                text = log.read_text(errors="replace")
                if len(text) > 4000:
                    text = text[:1500] + "\n[…]\n" + text[-2500:]
                item.add_report_section("call", f"log {log.parent.name}", text)
