"""Issue 18: the `static` route — files beside /api, as nginx's root/index/try_files/gzip_static serve them."""

import gzip
import json
import os
import socket

import pytest

from harness import get, run_gateway

FILES = {
    "index.html": b"<!doctype html><title>app</title>",
    "app.js": b"console.log('hi');\n" * 200,
    "style.css": b"body{}",
    "data.bin": bytes(range(256)) * 16,  # 4 KiB
    "docs/index.html": b"<h1>docs</h1>",
    "docs/guide.txt": b"guide",
    "weird name.txt": b"space",
}


@pytest.fixture
def site(tmp_path):
    root = tmp_path / "public"
    for rel, data in FILES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    (root / "app.js.gz").write_bytes(gzip.compress(FILES["app.js"]))
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"top secret")
    os.symlink(secret, root / "leak.txt")  # a symlink leaving the root
    os.symlink(root / "style.css", root / "alias.css")  # one staying inside
    return root


def _gateway(gateway, backends, root, spa=True, extra=""):
    config = f"""\
server:
  listen: ${{listen}}
  admin_listen: ${{admin_listen}}
upstreams:
  app:
    replicas: [${{b0}}]
routes:
  - name: api
    match: {{ path_prefix: /api/ }}
    upstream: app
  - name: web
    match: {{ path_prefix: / }}
    static: {{ root: {root}, index: index.html, spa_fallback: {str(spa).lower()}, precompressed: true, cache: 1h }}
{extra}"""
    return gateway(config, backends=backends(1))


def _raw(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(request)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return data
            data += chunk


def test_files_types_validators_and_cache(gateway, backends, site):
    gw = _gateway(gateway, backends, site)
    resp = gw.get("/style.css")
    assert resp.status == 200 and resp.body == FILES["style.css"]
    assert resp.header("content-type") == "text/css; charset=utf-8"
    assert resp.header("cache-control") == "public, max-age=3600"
    assert resp.header("etag", "").startswith('"') and resp.header("last-modified", "").endswith(" GMT")
    assert resp.header("accept-ranges") == "bytes" and resp.header("date")
    assert gw.get("/data.bin").header("content-type") == "application/octet-stream"
    assert gw.get("/weird%20name.txt").body == b"space"
    # /api/ still proxies
    assert json.loads(gw.get("/api/hello").body)["path"] == "/api/hello"


def test_conditional_requests(gateway, backends, site):
    gw = _gateway(gateway, backends, site)
    first = gw.get("/style.css")
    etag, modified = first.header("etag"), first.header("last-modified")
    assert gw.get("/style.css", headers={"If-None-Match": etag}).status == 304
    assert gw.get("/style.css", headers={"If-None-Match": f'"other", W/{etag}'}).status == 304
    assert gw.get("/style.css", headers={"If-None-Match": '"other"'}).status == 200
    not_modified = gw.get("/style.css", headers={"If-Modified-Since": modified})
    assert not_modified.status == 304 and not_modified.body == b"" and not_modified.header("etag") == etag
    assert gw.get("/style.css", headers={"If-Modified-Since": "Thu, 01 Jan 1970 00:00:00 GMT"}).status == 200
    assert gw.get("/style.css", headers={"If-Modified-Since": "garbage"}).status == 200


def test_ranges(gateway, backends, site):
    gw = _gateway(gateway, backends, site)
    data = FILES["data.bin"]
    part = gw.get("/data.bin", headers={"Range": "bytes=10-19"})
    assert part.status == 206 and part.body == data[10:20]
    assert part.header("content-range") == f"bytes 10-19/{len(data)}"
    assert gw.get("/data.bin", headers={"Range": "bytes=-5"}).body == data[-5:]
    assert gw.get("/data.bin", headers={"Range": "bytes=4000-"}).body == data[4000:]
    assert gw.get("/data.bin", headers={"Range": "bytes=4000-99999"}).body == data[4000:]
    bad = gw.get("/data.bin", headers={"Range": f"bytes={len(data)}-"})
    assert bad.status == 416 and bad.header("content-range") == f"bytes */{len(data)}"
    assert gw.get("/data.bin", headers={"Range": "bytes=0-1,5-6"}).status == 200  # multi-range → whole file
    etag = gw.get("/data.bin").header("etag")
    assert gw.get("/data.bin", headers={"Range": "bytes=0-0", "If-Range": etag}).status == 206
    assert gw.get("/data.bin", headers={"Range": "bytes=0-0", "If-Range": '"stale"'}).status == 200


def test_head_and_methods(gateway, backends, site):
    gw = _gateway(gateway, backends, site)
    raw = _raw(gw.port, b"HEAD /style.css HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    head_text, _, body = raw.partition(b"\r\n\r\n")
    assert head_text.startswith(b"HTTP/1.1 200") and b"content-length: 6" in head_text.lower() and body == b""
    post = gw.request("POST", "/style.css", body=b"x")
    assert post.status == 405 and post.header("allow") == "GET, HEAD"


def test_precompressed_sibling(gateway, backends, site):
    gw = _gateway(gateway, backends, site)
    zipped = gw.get("/app.js", headers={"Accept-Encoding": "gzip, br"})
    assert zipped.header("content-encoding") == "gzip" and zipped.header("vary") == "Accept-Encoding"
    assert gzip.decompress(zipped.body) == FILES["app.js"]
    assert zipped.header("content-type") == "text/javascript; charset=utf-8"
    plain = gw.get("/app.js")
    assert plain.header("content-encoding") is None and plain.body == FILES["app.js"]
    assert plain.header("etag") != zipped.header("etag")


def test_index_directories_and_spa_fallback(gateway, backends, site):
    gw = _gateway(gateway, backends, site)
    root = gw.get("/")
    assert root.body == FILES["index.html"] and root.header("cache-control") == "no-cache"
    assert gw.get("/docs/").body == FILES["docs/index.html"]
    redirect = gw.get("/docs")
    assert redirect.status == 301 and redirect.header("location") == "/docs/"
    spa = gw.get("/settings/profile")
    assert spa.status == 200 and spa.body == FILES["index.html"]
    assert gw.get("/missing.png").status == 404  # has an extension: a real 404


def test_no_spa_fallback_is_404(gateway, backends, site):
    gw = _gateway(gateway, backends, site, spa=False)
    missing = gw.get("/settings")
    assert missing.status == 404 and missing.content_type.startswith("application/problem+json")


@pytest.mark.parametrize("target", [
    "/../secret.txt", "/docs/../../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E/secret.txt", "/docs/%2e%2e%2f%2e%2e%2fsecret.txt",
    "/..%2fsecret.txt", "/..%5csecret.txt", "/%00", "/%zz", "/leak.txt",
])
def test_traversal_is_refused(gateway, backends, site, target):
    gw = _gateway(gateway, backends, site, spa=False)
    raw = _raw(gw.port, f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    assert b"top secret" not in raw
    status = int(raw.split(b" ", 2)[1])
    assert status in (400, 404), raw[:200]


def test_symlink_inside_the_root_is_served(gateway, backends, site):
    gw = _gateway(gateway, backends, site)
    assert gw.get("/alias.css").body == FILES["style.css"]


def test_check_refuses_a_missing_root_and_an_upstream_on_a_static_route(tmp_path):
    config = tmp_path / "g.yaml"
    config.write_text("upstreams: { app: { replicas: [http://127.0.0.1:9] } }\nroutes:\n"
                      "  - name: web\n    match: { path_prefix: / }\n    upstream: app\n"
                      f"    static: {{ root: {tmp_path}/nope }}\n")
    result = run_gateway("check", "--config", str(config))
    assert result.returncode == 1
    assert f"directory '{tmp_path}/nope' does not exist" in result.stderr
    assert "a static route serves files itself; remove 'upstream'" in result.stderr
