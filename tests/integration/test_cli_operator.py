"""Issue 18: the command line that helps — help texts, completion, init, check --json, schema, serve --watch."""

import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from harness import GATEWAY_BIN, REPO, free_port, get, run_gateway, wait_for

SHIPPED_CONFIGS = [REPO / "conf" / "gateway.yaml", *sorted((REPO / "conf" / "examples").glob("*.yaml")),
                   *sorted((REPO / "conf" / "routes.d").glob("*.yaml"))]


@pytest.mark.parametrize("args", [["--help"], ["serve", "--help"], ["check", "--help"]])
def test_help_has_examples_environment_signals_exit_codes(args):
    result = run_gateway(*args)
    assert result.returncode == 0, result.stderr
    text = result.stdout
    for section in ("EXAMPLES", "EXIT CODES", "docs/configuration.md"):
        assert section in text, (args, section)
    if args[0] != "check":
        assert "ENVIRONMENT" in text and "GATEWAY_SESSION_SECRET" in text and "SIGUSR1" in text and "SIGHUP" in text


def test_spec_cli_still_works(tmp_path):
    assert run_gateway("--version").returncode == 0
    assert run_gateway("check", "--config", "conf/gateway.yaml").returncode == 0
    assert run_gateway("check", "-c", "conf/gateway.yaml").returncode == 0


def test_bash_completion_can_be_sourced():
    script = f'source <("{GATEWAY_BIN}" completion bash) && complete -p gateway'
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    assert "gateway" in result.stdout
    for shell in ("zsh", "fish"):
        out = run_gateway("completion", shell)
        assert out.returncode == 0 and "gateway" in out.stdout and len(out.stdout) > 200
    assert run_gateway("completion", "tcsh").returncode != 0


def test_init_then_check_then_serve(tmp_path, backends):
    backend = backends(1)[0]
    port, admin_port = free_port(), free_port()
    out = tmp_path / "gateway.yaml"
    init = run_gateway("init", "--upstream", backend.url, "--listen", f"127.0.0.1:{port}",
                       "--admin-listen", f"127.0.0.1:{admin_port}", "--out", str(out))
    assert init.returncode == 0, init.stderr
    text = out.read_text()
    assert text.startswith("# yaml-language-server: $schema=") and backend.url in text
    assert run_gateway("init", "--out", str(out)).returncode == 1, "refuses to overwrite without --force"
    check = run_gateway("check", "--config", str(out))
    assert check.returncode == 0 and "config OK" in check.stdout, check.stderr
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    proc = subprocess.Popen([GATEWAY_BIN, "serve", "--config", str(out)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, env=env, cwd=str(tmp_path))
    try:
        wait_for(lambda: _ok(admin_port, "/healthz"), 20, what="serve from the init config")
        assert json.loads(get(port, "/hello").body)["path"] == "/hello"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)


def _ok(port, path):
    try:
        return get(port, path, timeout=1).status == 200
    except Exception:  # noqa: BLE001
        return False


def test_check_json_summary():
    result = run_gateway("check", "--config", "conf/gateway.yaml", "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["ok"] is True
    assert summary["listen"] == {"host": "127.0.0.1", "port": 8080, "address": "127.0.0.1:8080"}
    assert summary["admin_listen"]["port"] == 9901
    assert summary["store"]["mode"] == "redis"
    names = [r["name"] for r in summary["routes"]]
    assert "api-v1" in names and "events" in names
    app = next(u for u in summary["upstreams"] if u["name"] == "app")
    assert [r["port"] for r in app["replicas"]] == [9001, 9002]


def test_check_json_failure(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("server:\n  lisen: 1\n")
    result = run_gateway("check", "--config", str(bad), "--json")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False and report["errors"][0]["line"] == 2 and "lisen" in report["errors"][0]["message"]


def _schema():
    result = run_gateway("schema")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _yaml(path: Path):
    import yaml

    return yaml.safe_load(path.read_text())


def test_schema_accepts_every_shipped_config_and_the_docs_copy_is_current():
    jsonschema = pytest.importorskip("jsonschema")
    pytest.importorskip("yaml")
    schema = _schema()
    assert json.loads((REPO / "docs" / "gateway.schema.json").read_text()) == schema, \
        "docs/gateway.schema.json is stale: gateway schema > docs/gateway.schema.json"
    for path in SHIPPED_CONFIGS:
        assert path.read_text().startswith("# yaml-language-server: $schema="), path
        jsonschema.validate(_yaml(path), schema)


@pytest.mark.parametrize("text", [
    "server:\n  lisen: 1\n",
    "upstreams:\n  app:\n    replicas: [http://127.0.0.1:1]\n    helth: true\n",
    "routes:\n  - name: a\n    match: { path_prefx: / }\n    upstream: app\n",
    "routes:\n  - name: a\n    match: { path: / }\n    upstream: app\n    rate_limits: [{ name: x, key: route, limit: 1, window: 1s, limt: 2 }]\n",
    "bogus: 1\n",
    "server:\n  access_log: { path: stdout, fmt: json }\n",
])
def test_schema_rejects_what_check_rejects_for_unknown_keys(tmp_path, text):
    jsonschema = pytest.importorskip("jsonschema")
    pytest.importorskip("yaml")
    import yaml

    path = tmp_path / "bad.yaml"
    path.write_text(text)
    check = run_gateway("check", "--config", str(path))
    assert check.returncode == 1 and "unknown key" in check.stderr, check.stderr
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(yaml.safe_load(text), _schema())


def test_serve_watch_reloads_on_edit_without_failing_requests(tmp_path, backends):
    backend = backends(1)[0]
    port, admin_port = free_port(), free_port()
    config = tmp_path / "gateway.yaml"
    template = (f"server: {{ listen: '127.0.0.1:{port}', admin_listen: '127.0.0.1:{admin_port}', access_log: false }}\n"
                f"upstreams: {{ app: {{ replicas: ['{backend.url}'] }} }}\nroutes:\n"
                "  - { name: a, match: { path_prefix: /a/ }, upstream: app }\nEXTRA")
    config.write_text(template.replace("EXTRA", ""))
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    log = tmp_path / "gateway.log"
    with open(log, "wb") as log_file:
        proc = subprocess.Popen([GATEWAY_BIN, "serve", "--config", str(config), "--watch", "--watch-interval", "200ms"],
                                stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
        failures, done = [], threading.Event()

        def load():
            while not done.is_set():
                try:
                    status = get(port, "/a/x", timeout=5).status
                    if status != 200:
                        failures.append(status)
                except Exception as error:  # noqa: BLE001
                    failures.append(repr(error))

        try:
            wait_for(lambda: _ok(admin_port, "/healthz"), 20, what="ready")
            assert get(port, "/b/x").status == 404
            worker = threading.Thread(target=load)
            worker.start()
            time.sleep(0.5)
            config.write_text(template.replace("EXTRA", "  - { name: b, match: { path_prefix: /b/ }, upstream: app }\n"))
            wait_for(lambda: get(port, "/b/x").status == 200, 15, what="the new route")
            config.write_text(template.replace("EXTRA", "  - { name: b, match: { path_prefx: /b/ } }\n"))  # a bad edit
            wait_for(lambda: "reload rejected" in log.read_text(), 15, what="the bad edit refused")
            assert get(port, "/b/x").status == 200, "the running config keeps serving"
            done.set()
            worker.join(20)
        finally:
            done.set()
            proc.send_signal(signal.SIGTERM)
            proc.wait(20)
    assert not failures, failures[:5]
    assert "trigger=watch" in log.read_text()
