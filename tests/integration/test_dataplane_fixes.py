"""Review fixes of issue 11 that a user can see: one Redis URL parser for `check` and `serve`."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest

from harness import make_config, run_gateway, wait_for

CONFIG = make_config(
    upstreams="""
    app:
      replicas: [${b0}]
    """,
    routes="""
    - name: all
      match: { path_prefix: / }
      upstream: app
    """,
    top="""
    store:
      redis: "${store_url}"
    """,
)


def _variants(redis_url: str) -> list[str]:
    parts = urlsplit(redis_url)
    host = f"{parts.hostname}:{parts.port}"
    return [
        f"REDIS://{host}/0",  # scheme in capitals: `check` accepted it, `serve` refused to start
        f"redis://{host}?db=0",  # query form: `serve` accepted it, `check` refused it
        f"redis://{host}/0?db=1",
    ]


@pytest.mark.parametrize("index", range(3))
def test_redis_url_that_passes_check_starts(tmp_path, gateway, backends, redis_url, index):
    store_url = _variants(redis_url)[index]
    [backend] = backends(1)
    gw = gateway(CONFIG, backends=[backend], store_url=store_url)
    check = run_gateway("check", "--config", str(gw.config_path))
    assert check.returncode == 0, check.stdout + check.stderr
    ready = gw.admin("GET", "/readyz")
    assert ready.status == 200, ready.body
    assert json.loads(ready.body)["store"] == "redis"
    assert gw.get("/x").status == 200


def test_redis_url_refused_by_check_is_refused_by_serve(tmp_path, gateway, backends, redis_url):
    parts = urlsplit(redis_url)
    store_url = f"redis://{parts.hostname}:{parts.port}?tls=1"
    [backend] = backends(1)
    gw = gateway(CONFIG, backends=[backend], store_url=store_url, wait=False)
    check = run_gateway("check", "--config", str(gw.config_path))
    assert check.returncode != 0
    assert "tls" in check.stdout + check.stderr
    assert gw.proc.wait(20) != 0
    assert "tls" in gw.log()


def test_reload_that_turns_compress_on_reaches_open_connections(gateway, backends):
    """A keep-alive connection opened while no route compressed must, after a reload that turns `compress` on,
    get a real gzip body (or none), never `Content-Encoding: gzip` over plain bytes or the internal marker."""
    import gzip as gz

    [backend] = backends(1)
    route = """
    - name: all
      match: { path_prefix: / }
      upstream: app
    """
    config = make_config(upstreams="app:\n  replicas: [${b0}]", routes=route)
    gw = gateway(config, backends=[backend])
    with gw.connect() as conn:
        first = conn.request("GET", "/json?kb=16", {"Accept-Encoding": "gzip"})
        assert first.status == 200 and first.header("content-encoding") is None
        gw.write_config(make_config(upstreams="app:\n  replicas: [${b0}]",
                                    routes=route + "  compress: { min_bytes: 1024 }\n"))
        reloaded = gw.admin("POST", "/reload")
        assert reloaded.status == 200, reloaded.body
        second = conn.request("GET", "/json?kb=16", {"Accept-Encoding": "gzip"})
        assert second.status == 200
        assert not any(name.lower().startswith("x-gateway") for name, _ in second.headers), second.headers
        assert second.header("content-encoding") == "gzip"
        assert gz.decompress(second.body) == first.body
        # The connection still works for a third, compressed request.
        third = conn.request("GET", "/json?kb=16", {"Accept-Encoding": "gzip"})
        assert gz.decompress(third.body) == first.body


def test_502_detail_is_generic(gateway, tmp_path):
    """A failed upstream attempt is logged with its address and error; the client's problem body names neither."""
    config = make_config(upstreams="app:\n  replicas: [${closed_url}]\n  retries: 0", routes="""
    - name: all
      match: { path_prefix: / }
      upstream: app
    """)
    gw = gateway(config)
    resp = gw.get("/x")
    assert resp.status == 502
    body = json.loads(resp.body)
    closed = urlsplit(gw.values["closed_url"])
    assert str(closed.port) not in body["detail"] and "127.0.0.1" not in body["detail"], body
    assert "refused" not in body["detail"].lower() and "connect:" not in body["detail"], body
    # …while the access log keeps what went wrong.
    wait_for(lambda: "connect:" in gw.log(), 10, what="the attempt's error in the access log")
