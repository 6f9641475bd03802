"""Acceptance checks of issue 4 (rate limits shared exactly across gateway instances through Redis).

"How it will be checked":
- two gateway processes on one Redis, a route limited to 100 per hour: hundreds of concurrent requests spread across
  both instances admit exactly 100, and every answer carries correct `RateLimit-Policy` / `RateLimit` fields;
- the same with two limits on one route (a request denied by one limit consumes none of the other);
- with `key: header:X-Api-Key` two keys get separate budgets;
- Redis stopped under load → behaviour per `on_error` (allow, deny, local), no crash, latency bounded by the command
  timeout; Redis restarted → exact shared limits again within a second or two, without restarting the gateway.

Not repeated here (test_ratelimit.py has them): single-instance field values, 429 basics, trusted proxies, the
in-memory store, on_error with a Redis that was never there.
"""

from __future__ import annotations

import re
import signal
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from harness import HTTPConnection, assert_problem, make_config, redis_command, wait_for

FIELD = re.compile(r'^"([^"]+)";r=(\d+);t=(\d+)$')


def _config(limits: list[str], store: str) -> str:
    """Route `limited` (/limited/…) with `limits` (flow mappings), route `free` (everything else) without."""
    items = "\n".join(f"            - {l}" for l in limits)
    return make_config(
        upstreams='app: { replicas: ["${b0}"] }',
        routes=f"""
        - name: limited
          match: {{ path_prefix: /limited/ }}
          upstream: app
          rate_limits:
{items}
        - name: free
          match: {{ path_prefix: / }}
          upstream: app
        """,
        top=store,
    )


def _shared_store(url: str = "${redis_url}", extra: str = "") -> str:
    return f'store: {{ redis: "{url}", key_prefix: "acc${{uniq}}:"{extra} }}'


class Result:
    def __init__(self, instance: int, started: float, took: float, resp=None, error: str | None = None):
        self.instance, self.started, self.took, self.resp, self.error = instance, started, took, resp, error

    @property
    def status(self):
        return self.resp.status if self.resp is not None else self.error


def blast(gws, total: int, headers_for=lambda i: {}, threads: int = 24, path: str = "/limited/x") -> list[Result]:
    """`total` requests from `threads` threads at once, request i through instance i % len(gws), each thread on its
    own keep-alive connection per instance. Returns one Result per request."""
    barrier = threading.Barrier(threads)

    def worker(t: int) -> list[Result]:
        conns: dict[int, HTTPConnection] = {}
        out = []
        barrier.wait(10)
        for i in range(t, total, threads):
            which = i % len(gws)
            started = time.monotonic()
            try:
                if which not in conns:
                    conns[which] = gws[which].connect(timeout=10)
                resp = conns[which].request("GET", path, headers_for(i))
                out.append(Result(which, started, time.monotonic() - started, resp))
                if (resp.header("connection") or "").lower() == "close":
                    conns.pop(which).close()
            except Exception as error:  # noqa: BLE001
                out.append(Result(which, started, time.monotonic() - started, error=repr(error)))
                if which in conns:
                    conns.pop(which).close()
        for c in conns.values():
            c.close()
        return out

    with ThreadPoolExecutor(threads) as pool:
        results = [r for rs in pool.map(worker, range(threads)) for r in rs]
    assert len(results) == total
    return results


def _counts(results):
    out: dict[object, int] = {}
    for r in results:
        out[r.status] = out.get(r.status, 0) + 1
    return out


def _field(resp):
    value = resp.header("ratelimit")
    assert value, f"no RateLimit field on a {resp.status}: {resp.headers}"
    m = FIELD.match(value)
    assert m, f"RateLimit not a structured item with r and t: {value!r}"
    return m.group(1), int(m.group(2)), int(m.group(3))


def _check_denied(resp, window_s: int, emission_s: float):
    """A 429: problem+json, integer Retry-After of about one emission interval, `r=0`."""
    assert_problem(resp, 429)
    retry = resp.header("retry-after") or ""
    assert re.fullmatch(r"\d+", retry), resp.headers
    assert 1 <= int(retry) <= emission_s + 1, f"Retry-After {retry}s; one request frees up every {emission_s}s"
    _, r, t = _field(resp)
    assert r == 0 and 0 < t <= window_s, resp.header("ratelimit")


_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$')


def _metric_sum(gw, name: str, **labels) -> float:
    """Sum of the samples of `name` on `gw`'s /metrics whose labels include `labels`."""
    total = 0.0
    for line in gw.admin("GET", "/metrics").body.decode().splitlines():
        m = _SAMPLE.match(line)
        if not m or m.group(1) != name:
            continue
        have = dict(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        if all(have.get(k) == v for k, v in labels.items()):
            total += float(m.group(3))
    return total


# ---------------------------------------------------------------------------------------------------------------
# exactness across two instances


def test_two_instances_admit_exactly_100_per_hour_with_correct_fields(gateway, backends):
    limits = ["{ name: hourly, key: route, limit: 100, window: 1h }"]
    replicas = backends(1)
    gws = [gateway(_config(limits, _shared_store()), backends=replicas) for _ in range(2)]
    results = blast(gws, 300)

    counts = _counts(results)
    assert counts.get(200) == 100 and counts.get(429) == 200, counts
    per_instance = {i: sum(1 for r in results if r.instance == i and r.status == 200) for i in (0, 1)}
    assert all(n > 0 for n in per_instance.values()), f"both instances admit from the one budget: {per_instance}"

    remaining = []
    for r in results:
        assert r.resp.header("ratelimit-policy") == '"hourly";q=100;w=3600', r.resp.headers
        name, left, reset = _field(r.resp)
        assert name == "hourly"
        if r.status == 200:
            remaining.append(left)
            # GCRA, 100/h: each admitted request uses 36 s of the hour; t = seconds until the budget is full again
            assert abs(reset - (100 - left) * 36) <= 2, f"r={left} t={reset}"
        else:
            _check_denied(r.resp, 3600, 36)
            assert abs(reset - 3600) <= 2, reset
    assert sorted(remaining) == list(range(100)), "every admitted request saw its own budget state (r=99…0 once each)"

    # gateway_ratelimit_decisions_total{route,limit,result} over both instances counts the same decisions
    decided = {result: sum(_metric_sum(gw, "gateway_ratelimit_decisions_total", route="limited", limit="hourly",
                                       result=result) for gw in gws) for result in ("allowed", "denied")}
    assert decided == {"allowed": 100, "denied": 200}, decided

    # the limiter's keys expire on their own (no key without a TTL; none longer than the window)
    redis_url = gws[0].values["redis_url"]
    keys = redis_command(redis_url, "KEYS", f"acc{gws[0].values['uniq']}:*")
    assert keys, "the shared state lives in Redis under store.key_prefix"
    for key in keys:
        ttl = redis_command(redis_url, "PTTL", key)
        assert 0 < ttl <= 3600 * 1000, f"{key}: PTTL {ttl}"


def test_two_limits_on_one_route_across_instances(gateway, backends):
    """`per-key` 5/min and `shared` 20/h: 120 concurrent requests of one key admit 5; the 115 it denied took
    nothing from `shared`, so 15 more distinct keys get through afterwards, and no more."""
    limits = ['{ name: per-key, key: "header:X-Api-Key", limit: 5, window: 1m }',
              "{ name: shared, key: route, limit: 20, window: 1h }"]
    replicas = backends(1)
    gws = [gateway(_config(limits, _shared_store()), backends=replicas) for _ in range(2)]
    policy = '"per-key";q=5;w=60, "shared";q=20;w=3600'

    one_key = blast(gws, 120, lambda i: {"X-Api-Key": "k1"})
    counts = _counts(one_key)
    assert counts.get(200) == 5 and counts.get(429) == 115, counts
    for r in one_key:
        assert r.resp.header("ratelimit-policy") == policy, r.resp.headers
        name, left, _ = _field(r.resp)
        assert name == "per-key", f"per-key (r≤4) is more restrictive than shared (r≥15): {r.resp.header('ratelimit')}"
        if r.status == 429:
            _check_denied(r.resp, 60, 12)
    assert sorted(_field(r.resp)[1] for r in one_key if r.status == 200) == [0, 1, 2, 3, 4]

    many_keys = blast(gws, 60, lambda i: {"X-Api-Key": f"other-{i}"})
    counts = _counts(many_keys)
    assert counts.get(200) == 15, f"shared had 20 - 5 = 15 left (denials consume nothing): {counts}"
    for r in many_keys:
        assert r.resp.header("ratelimit-policy") == policy
        name, left, _ = _field(r.resp)
        if r.status == 429:
            assert name == "shared", r.resp.header("ratelimit")
            _check_denied(r.resp, 3600, 180)
        else:
            assert (name, left) in {("per-key", 4)} | {("shared", n) for n in range(15)}, r.resp.header("ratelimit")


def test_api_keys_have_separate_budgets_across_instances_concurrently(gateway, backends):
    """Four budgets at once (three API keys and the no-header fallback to the client IP), spread over two instances:
    each admits exactly its 10."""
    limits = ['{ name: per-key, key: "header:X-Api-Key", limit: 10, window: 1h }']
    replicas = backends(1)
    gws = [gateway(_config(limits, _shared_store()), backends=replicas) for _ in range(2)]
    keys = ["alpha", "beta", "gamma", None]
    with ThreadPoolExecutor(4) as pool:
        futures = {key: pool.submit(blast, gws, 50, (lambda key: lambda i: {"X-Api-Key": key} if key else {})(key), 8)
                   for key in keys}
        outcome = {key: _counts(f.result()) for key, f in futures.items()}
    for key, counts in outcome.items():
        assert counts.get(200) == 10 and counts.get(429) == 40, f"key {key!r}: {counts} (all: {outcome})"


# ---------------------------------------------------------------------------------------------------------------
# Redis stopped under load, then restarted

COMMAND_TIMEOUT = 0.1
# debug build, Python client threads and 2 CPU cores: what a request may take on top of the command timeout
LATENCY_SLACK = 0.4


class LimitedLoad:
    """Threads sending GET /limited/x with `X-Api-Key: key` to the instances in turn, until stopped."""

    def __init__(self, gws, key: str, threads: int = 4):
        self.gws, self.key = gws, key
        self.results: list[Result] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(t,), daemon=True) for t in range(threads)]

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        for t in self.threads:
            t.join(10)

    def _run(self, t: int):
        i = t
        while not self.stopping.is_set():
            which = i % len(self.gws)
            i += 1
            started = time.monotonic()
            try:
                resp = self.gws[which].get("/limited/x", {"X-Api-Key": self.key}, timeout=5)
                result = Result(which, started, time.monotonic() - started, resp)
            except Exception as error:  # noqa: BLE001
                result = Result(which, started, time.monotonic() - started, error=repr(error))
            with self.lock:
                self.results.append(result)
            time.sleep(0.005)

    def since(self, t: float) -> list[Result]:
        with self.lock:
            return [r for r in self.results if r.started >= t]


def _exact_again(gws, deadline: float) -> float:
    """Fresh key per try: 40 concurrent requests over both instances until exactly 5 are admitted (shared limit
    back) in two tries in a row (each instance has a Redis connection per event loop, reconnecting on its own, so
    one exact try could be luck); returns the time the first of the two started."""
    streak_started = None
    while True:
        started = time.monotonic()
        key = f"after-{uuid.uuid4().hex[:8]}"
        results = blast(gws, 40, lambda i: {"X-Api-Key": key}, threads=8)
        counts = _counts(results)
        if counts.get(200) == 5 and counts.get(429) == 35:
            if streak_started is not None:
                return streak_started
            streak_started = started
            continue
        streak_started = None
        if time.monotonic() > deadline:
            raise AssertionError(f"shared limit not exact again in time; last try: {counts}")
        time.sleep(0.05)


@pytest.mark.parametrize("on_error", ["allow", "deny", "local"])
def test_redis_stopped_under_load_then_restarted(gateway, backends, private_redis, on_error):
    redis = private_redis()
    limits = ['{ name: per-key, key: "header:X-Api-Key", limit: 5, window: 1h }']
    store = _shared_store(redis.url, f", command_timeout: {int(COMMAND_TIMEOUT * 1000)}ms, on_error: {on_error}")
    replicas = backends(1)
    gws = [gateway(_config(limits, store), backends=replicas) for _ in range(2)]

    before = _counts(blast(gws, 40, lambda i: {"X-Api-Key": "before"}, threads=8))
    assert before.get(200) == 5 and before.get(429) == 35, before

    with LimitedLoad(gws, "during") as load:
        wait_for(lambda: len(load.since(0)) >= 20, 5, what="load running")
        redis.stop()
        stopped = time.monotonic()
        settled = stopped + 0.3  # the gateways notice the closed connections
        wait_for(lambda: len(load.since(settled)) >= 60 and time.monotonic() > settled + 0.7, 5,
                 what="requests during the outage")
        free = gws[0].get("/free/x", timeout=5)
        ready = [gw.admin("GET", "/readyz", timeout=5).status for gw in gws]
        outage = load.since(stopped)
        steady = load.since(settled)

    for gw in gws:
        assert gw.proc.poll() is None, f"gateway crashed:\n{gw.log_excerpt()}"
        assert gw.admin("GET", "/healthz").status == 200
    assert free.status == 200, "routes without limits do not need the store"
    assert ready == [503, 503], f"/readyz reports the store: {ready}"
    assert sum(_metric_sum(gw, "gateway_store_errors_total") for gw in gws) > 0, "store errors are counted"
    errors = [r.error for r in outage if r.error]
    assert not errors, errors[:5]
    slowest = max(r.took for r in outage)
    assert slowest <= COMMAND_TIMEOUT + LATENCY_SLACK, f"a decision took {slowest:.3f}s with Redis down"

    counts = _counts(steady)
    if on_error == "allow":
        assert set(counts) == {200}, counts
    elif on_error == "deny":
        assert set(counts) == {503}, counts
        for r in steady[:10]:
            assert_problem(r.resp, 503)
            assert r.resp.header("retry-after") is not None
    else:  # local: the same limit per instance, so at most 5 per instance, then 429 with fields
        for i in (0, 1):
            admitted = sum(1 for r in steady if r.instance == i and r.status == 200)
            assert admitted <= 5, f"instance {i} admitted {admitted} with a local limit of 5"
        assert set(counts) <= {200, 429} and counts.get(429), counts
        for r in steady:
            if r.status == 429:
                assert_problem(r.resp, 429)
                assert r.resp.header("retry-after") and r.resp.header("ratelimit"), r.resp.headers

    redis.start()  # same port; its data is gone (no persistence), so fresh budgets
    restarted = time.monotonic()
    exact_at = _exact_again(gws, restarted + 2.5)
    assert exact_at - restarted <= 2.5
    wait_for(lambda: all(gw.admin("GET", "/readyz").status == 200 for gw in gws), 2, what="/readyz 200 again")


@pytest.mark.parametrize("on_error", ["allow", "deny", "local"])
def test_frozen_redis_latency_bounded_by_command_timeout(gateway, backends, private_redis, on_error):
    """Redis hangs (SIGSTOP: connections open, no replies) — the worst case for latency: no request waits much longer
    than `command_timeout`, answers follow `on_error`; SIGCONT → exact shared limits again."""
    redis = private_redis()
    limits = ['{ name: per-key, key: "header:X-Api-Key", limit: 5, window: 1h }']
    store = _shared_store(redis.url, f", command_timeout: {int(COMMAND_TIMEOUT * 1000)}ms, on_error: {on_error}")
    replicas = backends(1)
    gws = [gateway(_config(limits, store), backends=replicas) for _ in range(2)]
    assert _counts(blast(gws, 20, lambda i: {"X-Api-Key": "warm"}, threads=4)).get(200) == 5

    redis.proc.send_signal(signal.SIGSTOP)
    try:
        with LimitedLoad(gws, "frozen") as load:
            frozen = time.monotonic()
            wait_for(lambda: len(load.since(frozen)) >= 40 and time.monotonic() > frozen + 1.0, 6,
                     what="requests while Redis is frozen")
            during = load.since(frozen)
    finally:
        redis.proc.send_signal(signal.SIGCONT)
    resumed = time.monotonic()
    errors = [r.error for r in during if r.error]
    assert not errors, errors[:5]
    slowest = max(r.took for r in during)
    assert slowest <= COMMAND_TIMEOUT + LATENCY_SLACK, f"a request took {slowest:.3f}s with Redis frozen"
    counts = _counts(during)
    if on_error == "allow":
        assert set(counts) == {200}, counts
    elif on_error == "deny":
        assert set(counts) == {503}, counts
    else:
        assert set(counts) <= {200, 429} and counts.get(429), counts
        for i in (0, 1):
            admitted = sum(1 for r in during if r.instance == i and r.status == 200)
            assert admitted <= 5, f"instance {i} admitted {admitted} with a local limit of 5"
    for gw in gws:
        assert gw.proc.poll() is None, f"gateway crashed:\n{gw.log_excerpt()}"
    _exact_again(gws, resumed + 2.5)
