"""Shared response cache (SPEC §11, issue 16): a scripted upstream that counts requests, one or two gateway
instances on one real Redis, real sockets."""

from __future__ import annotations

import json
import threading
import time

import pytest

from harness import assert_problem, get, make_config, request, wait_for
from scripted_upstream import ScriptedUpstream

LM = "Wed, 02 Dec 2026 10:00:00 GMT"


@pytest.fixture
def upstream():
    server = ScriptedUpstream().start()
    yield server
    server.stop()


def cache_config(url: str, *, redis: bool, route_cache: str = "ttl: 60s", top_cache: str = "max_object_bytes: 1MiB",
                 response_timeout: str = "5s") -> str:
    # command_timeout: the 2-core test machine is shared with builds; a timed-out lookup is (correctly) a BYPASS,
    # which would make the herd count depend on the machine's load rather than on the gateway.
    store = ("store:\n  redis: ${redis_url}\n  key_prefix: \"it-${uniq}:\"\n  command_timeout: 2s\n"
             if redis else "")
    return make_config(
        upstreams=f"app:\n  replicas: [\"{url}\"]\n  passive: false\n  retries: 0\n",
        routes=(
            "- name: catalog\n"
            "  match: { path_prefix: /api/ }\n"
            "  upstream: app\n"
            f"  timeouts: {{ response: {response_timeout} }}\n"
            "  cache:\n"
            + "".join(f"    {line}\n" for line in route_cache.strip().splitlines())
        ),
        top=store + "cache:\n" + "".join(f"  {line}\n" for line in top_cache.strip().splitlines()),
    )


def xcache(resp) -> str | None:
    return resp.header("x-cache")


# ---------------------------------------------------------------------------------------------------------------
# one instance, memory tier only


def test_miss_then_hit_with_age(gateway, upstream):
    upstream.script("/api/a", body=b'{"a":1}', headers=[("Content-Type", "application/json")])
    gw = gateway(cache_config(upstream.url, redis=False))
    first = gw.get("/api/a")
    assert first.status == 200 and first.body == b'{"a":1}' and xcache(first) == "MISS"
    second = gw.get("/api/a")
    assert second.status == 200 and second.body == b'{"a":1}' and xcache(second) == "HIT"
    assert second.header("age") is not None and int(second.header("age")) >= 0
    assert second.header("content-type") == "application/json"
    assert second.header("x-request-id") and second.header("x-request-id") != first.header("x-request-id")
    assert upstream.count("/api/a") == 1
    # query is part of the default key
    assert xcache(gw.get("/api/a?x=1")) == "MISS"
    assert upstream.count("/api/a") == 2


def test_head_is_answered_from_cached_get(gateway, upstream):
    upstream.script("/api/h", body=b"0123456789")
    gw = gateway(cache_config(upstream.url, redis=False))
    assert xcache(gw.get("/api/h")) == "MISS"
    with gw.connect() as conn:
        conn.send("HEAD", "/api/h")
        head = conn.read_response(head_request=True)
    assert head.status == 200 and xcache(head) == "HIT" and head.body == b""
    assert head.header("content-length") == "10"
    assert upstream.count("/api/h") == 1


def test_client_conditional_requests_get_304_from_the_cache(gateway, upstream):
    upstream.script("/api/c", body=b"cond", etag='"v1"', last_modified=LM)
    gw = gateway(cache_config(upstream.url, redis=False))
    assert xcache(gw.get("/api/c")) == "MISS"
    inm = gw.get("/api/c", headers={"If-None-Match": 'W/"v1"'})
    assert inm.status == 304 and inm.body == b"" and inm.header("etag") == '"v1"' and xcache(inm) == "HIT"
    other = gw.get("/api/c", headers={"If-None-Match": '"v0"'})
    assert other.status == 200 and other.body == b"cond"
    ims = gw.get("/api/c", headers={"If-Modified-Since": LM})
    assert ims.status == 304
    older = gw.get("/api/c", headers={"If-Modified-Since": "Tue, 01 Dec 2026 10:00:00 GMT"})
    assert older.status == 200 and older.body == b"cond"
    assert upstream.count("/api/c") == 1


@pytest.mark.parametrize(
    "headers",
    [
        [("Cache-Control", "private, max-age=60")],
        [("Cache-Control", "no-store")],
        [("Set-Cookie", "a=b"), ("Cache-Control", "max-age=60")],
        [("Vary", "*")],
    ],
    ids=["private", "no-store", "set-cookie", "vary-star"],
)
def test_responses_that_are_never_stored(gateway, upstream, headers):
    upstream.script("/api/n", headers=headers)
    gw = gateway(cache_config(upstream.url, redis=False))
    for _ in range(3):
        resp = gw.get("/api/n")
        assert resp.status == 200 and xcache(resp) == "MISS"
    assert upstream.count("/api/n") == 3


def test_authorization_is_not_served_from_the_cache_unless_public(gateway, upstream):
    upstream.script("/api/auth", body=b"secret")
    upstream.script("/api/pub", body=b"public", headers=[("Cache-Control", "public, max-age=60")])
    gw = gateway(cache_config(upstream.url, redis=False))
    for _ in range(2):
        assert gw.get("/api/auth", headers={"Authorization": "Bearer x"}).body == b"secret"
    assert upstream.count("/api/auth") == 2
    # an anonymous entry is not handed to an authorized request either
    assert xcache(gw.get("/api/auth")) == "MISS"
    assert xcache(gw.get("/api/auth", headers={"Authorization": "Bearer y"})) != "HIT"
    # a response marked public may be
    assert xcache(gw.get("/api/pub", headers={"Authorization": "Bearer x"})) == "MISS"
    assert xcache(gw.get("/api/pub", headers={"Authorization": "Bearer z"})) == "HIT"
    assert upstream.count("/api/pub") == 1


def test_vary_keeps_variants_apart(gateway, upstream):
    upstream.script("/api/v", body=b"varied", headers=[("Vary", "Accept-Language")])
    gw = gateway(cache_config(upstream.url, redis=False))
    assert xcache(gw.get("/api/v", headers={"Accept-Language": "en"})) == "MISS"
    assert xcache(gw.get("/api/v", headers={"Accept-Language": "de"})) == "MISS"
    assert xcache(gw.get("/api/v", headers={"Accept-Language": "en"})) == "HIT"
    assert xcache(gw.get("/api/v", headers={"Accept-Language": "de"})) == "HIT"
    assert xcache(gw.get("/api/v")) == "MISS"
    assert upstream.count("/api/v") == 3


def test_key_header_component(gateway, upstream):
    upstream.script("/api/k", body=b"k")
    gw = gateway(cache_config(upstream.url, redis=False, route_cache='key: [method, path, "header:X-Tenant"]'))
    assert xcache(gw.get("/api/k", headers={"X-Tenant": "a"})) == "MISS"
    assert xcache(gw.get("/api/k", headers={"X-Tenant": "b"})) == "MISS"
    assert xcache(gw.get("/api/k", headers={"X-Tenant": "a"})) == "HIT"
    assert upstream.count("/api/k") == 2


def test_larger_than_max_object_bytes_is_passed_through(gateway, upstream):
    upstream.script("/api/big", body=b"x" * 5000)
    upstream.script("/api/small", body=b"x" * 100)
    gw = gateway(cache_config(upstream.url, redis=False, top_cache="max_object_bytes: 1KiB"))
    for _ in range(2):
        resp = gw.get("/api/big")
        assert resp.status == 200 and len(resp.body) == 5000 and xcache(resp) == "MISS"
    assert upstream.count("/api/big") == 2
    gw.get("/api/small")
    assert xcache(gw.get("/api/small")) == "HIT"


def test_revalidation_with_etag_refreshes_the_entry(gateway, upstream):
    # max-age=2: Date has 1 s granularity, so a fresh entry's age starts anywhere in [0, 1)
    upstream.script("/api/r", body=b"rev", headers=[("Cache-Control", "max-age=2")], etag='"e1"')
    gw = gateway(cache_config(upstream.url, redis=False))
    assert xcache(gw.get("/api/r")) == "MISS"
    time.sleep(2.2)
    resp = gw.get("/api/r")
    assert resp.status == 200 and resp.body == b"rev" and xcache(resp) == "REVALIDATED"
    assert upstream.last_headers("/api/r").get("if-none-match") == '"e1"'
    assert xcache(gw.get("/api/r")) == "HIT"
    assert upstream.count("/api/r") == 2


def test_revalidation_with_last_modified(gateway, upstream):
    upstream.script("/api/lm", body=b"lm", headers=[("Cache-Control", "max-age=1")], last_modified=LM)
    gw = gateway(cache_config(upstream.url, redis=False))
    gw.get("/api/lm")
    time.sleep(1.3)
    assert xcache(gw.get("/api/lm")) == "REVALIDATED"
    assert upstream.last_headers("/api/lm").get("if-modified-since") == LM


def test_stale_while_revalidate_serves_stale_and_refreshes_in_background(gateway, upstream):
    upstream.script("/api/swr", body=b"old", headers=[("Cache-Control", "max-age=1")])
    gw = gateway(cache_config(upstream.url, redis=False, route_cache="ttl: 60s\nstale_while_revalidate: 30s"))
    assert gw.get("/api/swr").body == b"old"
    upstream.script("/api/swr", body=b"new", headers=[("Cache-Control", "max-age=60")])
    time.sleep(1.3)
    stale = gw.get("/api/swr")
    assert stale.status == 200 and stale.body == b"old" and xcache(stale) == "STALE"
    wait_for(lambda: upstream.count("/api/swr") == 2, 5, what="the background refresh")
    wait_for(lambda: gw.get("/api/swr").body == b"new", 5, what="the refreshed entry")
    fresh = gw.get("/api/swr")
    assert xcache(fresh) == "HIT" and fresh.body == b"new"
    assert upstream.count("/api/swr") == 2


def test_stale_if_error_with_the_upstream_down(gateway, upstream):
    upstream.script("/api/sie", body=b"keep", headers=[("Cache-Control", "max-age=1")])
    gw = gateway(cache_config(upstream.url, redis=False, route_cache="ttl: 60s\nstale_if_error: 5m"))
    assert gw.get("/api/sie").body == b"keep"
    upstream.stop()
    time.sleep(1.3)
    resp = gw.get("/api/sie")
    assert resp.status == 200 and resp.body == b"keep" and xcache(resp) == "STALE"


def test_stale_if_error_on_a_5xx(gateway, upstream):
    upstream.script("/api/sie5", body=b"good", headers=[("Cache-Control", "max-age=1")])
    gw = gateway(cache_config(upstream.url, redis=False, route_cache="ttl: 60s\nstale_if_error: 5m"))
    gw.get("/api/sie5")
    upstream.script("/api/sie5", status=503, body=b"down")
    time.sleep(1.3)
    resp = gw.get("/api/sie5")
    assert resp.status == 200 and resp.body == b"good" and xcache(resp) == "STALE"


def test_must_revalidate_never_serves_stale_on_error(gateway, upstream):
    upstream.script("/api/mr", body=b"strict", headers=[("Cache-Control", "max-age=1, must-revalidate")])
    gw = gateway(cache_config(upstream.url, redis=False, route_cache="ttl: 60s\nstale_if_error: 5m"))
    gw.get("/api/mr")
    upstream.stop()
    time.sleep(1.3)
    assert gw.get("/api/mr").status == 502


def test_stats_and_metrics(gateway, upstream):
    upstream.script("/api/s", body=b"s")
    gw = gateway(cache_config(upstream.url, redis=False))
    gw.get("/api/s")
    gw.get("/api/s")
    stats = gw.admin("GET", "/cache/stats").json()
    assert stats["store"] == "memory"
    assert stats["requests"]["hit"] == 1 and stats["requests"]["miss"] == 1
    assert stats["memory"]["entries"] == 1 and stats["memory"]["bytes"] > 0
    metrics = gw.admin("GET", "/metrics").body.decode()
    assert 'gateway_cache_requests_total{route="catalog",result="HIT"} 1' in metrics.replace(
        'result="HIT",route="catalog"', 'route="catalog",result="HIT"')
    assert "gateway_cache_bytes" in metrics


def test_purge_rejects_bad_bodies(gateway, upstream):
    gw = gateway(cache_config(upstream.url, redis=False))
    for body in [b"", b"[1]", b"{not json", b'{"route": "catalog", "prefix": "nope"}', b'{"key": ""}',
                 b'{"key": "a", "route": "b"}', b'{"nope": 1}']:
        assert_problem(gw.admin("POST", "/cache/purge", body=body), 400)
    assert gw.admin("GET", "/cache/purge").status == 405


def test_redis_down_bypasses_the_cache(gateway, upstream):
    upstream.script("/api/down", body=b"still served")
    config = cache_config(upstream.url, redis=True).replace("${redis_url}", "${closed_redis}")
    from harness import free_port

    gw = gateway(config, closed_redis=f"redis://127.0.0.1:{free_port()}/0")
    for _ in range(3):
        resp = gw.get("/api/down")
        assert resp.status == 200 and resp.body == b"still served" and xcache(resp) == "BYPASS"
    assert upstream.count("/api/down") == 3
    assert gw.admin("GET", "/cache/stats").json()["store"] == "redis_unreachable"


# ---------------------------------------------------------------------------------------------------------------
# two instances on one Redis


def two_gateways(gateway, upstream, **kw):
    config = cache_config(upstream.url, redis=True, **kw)
    return gateway(config), gateway(config)


def test_two_instances_share_hits(gateway, upstream):
    upstream.script("/api/shared", body=b"shared body", headers=[("Content-Type", "text/plain")])
    g1, g2 = two_gateways(gateway, upstream)
    assert xcache(g1.get("/api/shared")) == "MISS"
    wait_for(lambda: xcache(g2.get("/api/shared")) == "HIT", 5, what="a shared hit on the second instance")
    resp = g2.get("/api/shared")
    assert resp.body == b"shared body" and resp.header("content-type") == "text/plain"
    assert upstream.count("/api/shared") == 1


def test_vary_across_instances(gateway, upstream):
    upstream.script("/api/sv", body=b"v", headers=[("Vary", "Accept-Language")])
    g1, g2 = two_gateways(gateway, upstream)
    assert xcache(g1.get("/api/sv", headers={"Accept-Language": "en"})) == "MISS"
    assert xcache(g2.get("/api/sv", headers={"Accept-Language": "de"})) == "MISS"
    assert xcache(g2.get("/api/sv", headers={"Accept-Language": "en"})) == "HIT"
    assert xcache(g1.get("/api/sv", headers={"Accept-Language": "de"})) == "HIT"
    assert upstream.count("/api/sv") == 2


def test_purge_by_prefix_reaches_every_instance(gateway, upstream):
    upstream.script("/api/p/1", body=b"one")
    upstream.script("/api/p/2", body=b"two")
    upstream.script("/api/q", body=b"other")
    g1, g2 = two_gateways(gateway, upstream)
    for path in ["/api/p/1", "/api/p/2", "/api/q"]:
        g1.get(path)
        assert xcache(g2.get(path)) == "HIT"  # now in both memory tiers
    resp = g1.admin("POST", "/cache/purge", body=json.dumps({"route": "catalog", "prefix": "/api/p/"}).encode())
    assert resp.status == 200 and resp.json()["purged"] >= 2
    wait_for(lambda: xcache(g2.get("/api/p/1")) == "MISS", 5, what="the purge on the other instance")
    assert xcache(g1.get("/api/p/2")) == "MISS"
    assert xcache(g2.get("/api/q")) == "HIT"


def test_purge_by_key(gateway, upstream):
    upstream.script("/api/pk", body=b"pk")
    g1, g2 = two_gateways(gateway, upstream)
    g1.get("/api/pk?a=1")
    assert xcache(g2.get("/api/pk?a=1")) == "HIT"
    port = g1.port
    key = f"catalog GET 127.0.0.1 /api/pk a=1"
    resp = g2.admin("POST", "/cache/purge", body=json.dumps({"key": key}).encode())
    assert resp.status == 200 and resp.json()["purged"] >= 1, (resp.body, port)
    wait_for(lambda: xcache(g1.get("/api/pk?a=1")) == "MISS", 5, what="the purge on the other instance")


def test_thundering_herd_makes_one_upstream_request(gateway, upstream):
    upstream.script("/api/herd", body=b"h" * 4096, headers=[("Cache-Control", "max-age=1")], delay=0.5)
    g1, g2 = two_gateways(gateway, upstream, response_timeout="10s")
    assert xcache(g1.get("/api/herd")) == "MISS"
    # expired everywhere; the refetched response stays fresh for the whole herd
    upstream.script("/api/herd", body=b"h" * 4096, headers=[("Cache-Control", "max-age=60")], delay=0.5)
    time.sleep(1.3)
    results: list[tuple[int, str | None, int]] = []
    lock = threading.Lock()
    barrier = threading.Barrier(500)

    def one(i: int):
        gw = g1 if i % 2 else g2
        barrier.wait()
        resp = request(gw.port, "GET", "/api/herd", timeout=30)
        with lock:
            results.append((resp.status, xcache(resp), len(resp.body)))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(500)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(results) == 500
    assert all(status == 200 and size == 4096 for status, _, size in results), results[:5]
    from collections import Counter

    seen = Counter(x for _, x, _ in results)
    assert upstream.count("/api/herd") == 2, f"one fetch for the first MISS, exactly one for the expired key: {seen}"
    stats = g1.admin("GET", "/cache/stats").json()["coalesced"] + g2.admin("GET", "/cache/stats").json()["coalesced"]
    assert stats >= 1
