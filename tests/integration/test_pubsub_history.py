"""SPEC §9: channel history (offset/epoch), reconnect recovery across instances, presence, SSE, publish_rate.
Two gateway instances on one real redis-server; real WebSocket clients (`websockets.sync`) and raw SSE sockets."""

from __future__ import annotations

import json
import socket
import threading
import time

import pytest
from websockets.sync.client import connect

from harness import make_config, redis_command, wait_for

ROUTES = """
- name: events
  match: { path: /ws }
  pubsub:
    subscribe: ["public:*", "chat:*", "user:{user}"]
    publish: ["chat:*"]
    history: { channels: ["chat:*"], size: 100, ttl: 10m }
    presence: ["chat:*"]
  session: optional
- name: limited
  match: { path: /ws-limited }
  pubsub:
    subscribe: ["chat:*"]
    publish: ["chat:*"]
    publish_rate: { limit: 5, window: 10s }
- name: events-sse
  match: { path: /events }
  sse: { subscribe: ["public:*", "chat:*"], keepalive: 1s }
  compress: { min_bytes: 1 }
"""


def _config(store: str) -> str:
    return make_config(upstreams='app: { replicas: ["http://127.0.0.1:9"] }', routes=ROUTES, top=store + """
sessions:
  cookie: gw_session
  secret_env: GATEWAY_SESSION_SECRET
""")


def _store(url: str) -> str:
    return f'store: {{ redis: "{url}", key_prefix: "h${{uniq}}:", command_timeout: 2s }}'


def _ws(gw, path: str = "/ws"):
    return connect(f"ws://127.0.0.1:{gw.port}{path}", open_timeout=10, max_size=2**22)


def _recv(ws, timeout: float = 10.0):
    return json.loads(ws.recv(timeout=timeout))


def _publish(gw, channel: str, data) -> dict:
    resp = gw.admin("POST", f"/publish/{channel}", {"Content-Type": "application/json"}, json.dumps(data).encode())
    assert resp.status == 200, resp.body
    return resp.json()


def _messages(ws, count: int, timeout: float = 15.0) -> list[dict]:
    out = []
    deadline = time.monotonic() + timeout
    while len(out) < count:
        frame = _recv(ws, max(0.1, deadline - time.monotonic()))
        if frame["type"] == "message":
            out.append(frame)
    return out


@pytest.fixture
def pair(gateway, redis_url):
    return gateway(_config(_store(redis_url))), gateway(_config(_store(redis_url)))


def test_offsets_and_resume_on_the_other_instance_without_gap_or_duplicate(pair):
    one, two = pair
    channel = "chat:resume"
    with _ws(one) as ws:
        ws.send(json.dumps({"type": "subscribe", "channel": channel}))
        first = _recv(ws)
        assert first["type"] == "subscribed" and first["offset"] == 0 and first["epoch"], first
        epoch = first["epoch"]
        answers = [_publish(two, channel, {"n": i}) for i in range(1, 11)]
        assert [a["offset"] for a in answers] == list(range(1, 11)) and {a["epoch"] for a in answers} == {epoch}
        got = _messages(ws, 10)
        assert [(m["offset"], m["epoch"], m["data"]["n"]) for m in got] == [(i, epoch, i) for i in range(1, 11)]

    # Offline: 15 messages go by. Then, while a publisher keeps going, resume on the OTHER instance.
    for i in range(11, 26):
        _publish(one, channel, {"n": i})
    stop = threading.Event()
    published = []

    def keep_publishing():
        i = 26
        while not stop.is_set() and i <= 400:
            published.append(_publish(one, channel, {"n": i})["offset"])
            i += 1

    publisher = threading.Thread(target=keep_publishing)
    publisher.start()
    try:
        with _ws(two) as ws:
            ws.send(json.dumps({"type": "subscribe", "channel": channel, "since": {"offset": 10, "epoch": epoch}}))
            answer = _recv(ws)
            assert answer["type"] == "subscribed" and answer["recovered"] is True and answer["epoch"] == epoch, answer
            time.sleep(1.0)
            stop.set()
            publisher.join(30)
            last = published[-1] if published else 25
            got = _messages(ws, last - 10, timeout=30)
            offsets = [m["offset"] for m in got]
            assert offsets == list(range(11, last + 1)), f"gap or duplicate: {offsets[:5]}…{offsets[-5:]}"
            assert [m["data"]["n"] for m in got] == offsets
            with pytest.raises(TimeoutError):  # nothing more: no duplicate arrives late
                while True:
                    frame = _recv(ws, 1.0)
                    assert frame["type"] != "message", frame
    finally:
        stop.set()
        publisher.join(30)
    metrics = two.admin("GET", "/metrics").body.decode()
    assert 'gateway_pubsub_recoveries_total{result="recovered"}' in metrics
    assert "gateway_pubsub_history_reads_total" in metrics


def test_epoch_change_after_flushall_and_trimmed_history_give_recovered_false(gateway, private_redis):
    redis = private_redis()
    gw = gateway(_config(_store(redis.url)))
    channel = "chat:flush"
    first = [_publish(gw, channel, {"n": i}) for i in range(3)]
    epoch = first[0]["epoch"]
    with _ws(gw) as ws:  # an offset older than the retained 100 messages cannot be recovered
        for i in range(150):
            _publish(gw, channel, {"n": i})
        ws.send(json.dumps({"type": "subscribe", "channel": channel, "since": {"offset": 2, "epoch": epoch}}))
        answer = _recv(ws)
        assert answer["recovered"] is False and answer["offset"] == 153 and answer["epoch"] == epoch, answer
    redis_command(redis.port, "FLUSHALL")
    with _ws(gw) as ws:
        ws.send(json.dumps({"type": "subscribe", "channel": channel, "since": {"offset": 153, "epoch": epoch}}))
        answer = _recv(ws)
        assert answer["type"] == "subscribed" and answer["recovered"] is False, answer
        assert answer["epoch"] != epoch and answer["offset"] == 0, answer
        after = _publish(gw, channel, {"n": "new"})
        assert after["epoch"] == answer["epoch"] and after["offset"] == 1
        message = _messages(ws, 1)[0]
        assert message["offset"] == 1 and message["epoch"] == answer["epoch"] and message["data"] == {"n": "new"}


def test_history_frame_and_admin_history(pair):
    one, two = pair
    channel = "chat:hist"
    for i in range(1, 8):
        _publish(one, channel, {"n": i})
    with _ws(two) as ws:
        ws.send(json.dumps({"type": "history", "channel": channel, "limit": 3}))
        frame = _recv(ws)
        assert frame["type"] == "history" and frame["channel"] == channel and frame["offset"] == 7, frame
        assert [(m["offset"], m["data"]["n"]) for m in frame["messages"]] == [(5, 5), (6, 6), (7, 7)]
        for bad in ('{"type":"history","channel":"chat:hist","limit":-1}',
                    '{"type":"subscribe","channel":"chat:hist","since":{"offset":"x","epoch":"e"}}'):
            ws.send(bad)
            assert _recv(ws)["code"] == "bad_request"
        ws.send(json.dumps({"type": "history", "channel": "public:none"}))
        assert _recv(ws)["code"] == "no_history"
    resp = one.admin("GET", f"/channels/{channel}/history?limit=2")
    assert resp.status == 200, resp.body
    body = resp.json()
    assert body["channel"] == channel and body["offset"] == 7 and [m["data"]["n"] for m in body["messages"]] == [6, 7]
    assert one.admin("GET", "/channels/public:x/history").status == 404
    assert one.admin("GET", f"/channels/{channel}/history?limit=x").status == 400
    plain = one.admin("POST", "/publish/public:x", {"Content-Type": "application/json"}, b"1").json()
    assert "offset" not in plain


def test_presence_across_instances_with_join_and_leave(pair):
    one, two = pair
    channel = "chat:room"
    with _ws(one) as a, _ws(two) as b:
        a.send(json.dumps({"type": "subscribe", "channel": channel}))
        assert _recv(a)["type"] == "subscribed"
        b.send(json.dumps({"type": "subscribe", "channel": channel}))
        assert _recv(b)["type"] == "subscribed"
        join = _recv(a)
        assert join["type"] == "join" and join["channel"] == channel and join["user"] is None, join
        b_client = join["client"]

        def members():
            resp = one.admin("GET", f"/channels/{channel}/presence")
            assert resp.status == 200, resp.body
            return {c["client"] for c in resp.json()["clients"]}

        wait_for(lambda: len(members()) == 2, 10, what="two presence entries")
        assert b_client in members()
        a.send(json.dumps({"type": "presence", "channel": channel}))
        frame = _recv(a)
        assert frame["type"] == "presence" and {c["client"] for c in frame["clients"]} == members()
        metrics = two.admin("GET", "/metrics").body.decode()
        assert 'gateway_presence_clients{route="events"} 1' in metrics
        b.close()
        leave = _recv(a)
        assert leave == {"type": "leave", "channel": channel, "user": None, "client": b_client}, leave
        wait_for(lambda: len(members()) == 1 and b_client not in members(), 10, what="b's entry gone")


def test_publish_rate_limit_answers_error_frames(pair):
    one, _ = pair
    with _ws(one, "/ws-limited") as ws:
        for i in range(8):
            ws.send(json.dumps({"type": "publish", "channel": "chat:rate", "data": i}))
        errors = []
        try:
            while True:
                frame = _recv(ws, 2.0)
                if frame["type"] == "error":
                    errors.append(frame)
        except TimeoutError:
            pass
        assert len(errors) == 3 and all(e["code"] == "rate_limited" for e in errors), errors


# ---------------------------------------------------------------------------------------------------------------
# SSE


class SSE:
    """A raw `text/event-stream` reader (so the test sees exactly what is on the wire, also with gzip asked for)."""

    def __init__(self, port: int, target: str, headers: dict[str, str] | None = None):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        lines = [f"GET {target} HTTP/1.1", "Host: localhost", "Accept: text/event-stream"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.buffer = b""
        head = self._until(b"\r\n\r\n")
        self.status_line, *header_lines = head.decode().split("\r\n")
        self.headers = {k.lower(): v.strip() for k, v in (h.split(":", 1) for h in header_lines if h)}

    def _until(self, marker: bytes, timeout: float = 10.0) -> bytes:
        self.sock.settimeout(timeout)
        while marker not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("stream closed")
            self.buffer += chunk
        out, self.buffer = self.buffer.split(marker, 1)
        return out

    def event(self, timeout: float = 10.0) -> dict:
        """The next block (events and comments), as {"id","event","data","comment"}."""
        block = self._until(b"\n\n", timeout).decode()
        event: dict = {}
        for line in block.split("\n"):
            if line.startswith(":"):
                event["comment"] = line[1:].strip()
                continue
            key, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            event[key] = event[key] + "\n" + value if key == "data" and "data" in event else value
        return event

    def next_event(self, name: str, timeout: float = 10.0) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            event = self.event(max(0.1, deadline - time.monotonic()))
            if event.get("event") == name:
                return event

    def close(self):
        self.sock.close()


def test_sse_streams_messages_and_resumes_with_last_event_id(pair):
    one, two = pair
    channel = "chat:sse"
    stream = SSE(one.port, f"/events?channel={channel},public:news", {"Accept-Encoding": "gzip"})
    try:
        assert stream.status_line.startswith("HTTP/1.1 200"), stream.status_line
        assert stream.headers["content-type"].startswith("text/event-stream")
        assert "content-encoding" not in stream.headers  # never buffered by a compressor
        subscribed = [stream.next_event("subscribed"), stream.next_event("subscribed")]
        history = next(json.loads(e["data"]) for e in subscribed if json.loads(e["data"])["channel"] == channel)
        epoch = history["epoch"]
        for i in range(1, 6):
            _publish(two, channel, {"n": i})
            event = stream.next_event("message")  # each event arrives on its own: live, not buffered
            assert event["id"] == f"{epoch}:{i}" and json.loads(event["data"]) == {"channel": channel, "data": {"n": i}}
        _publish(two, "public:news", {"headline": "x"})
        plain = stream.next_event("message")
        assert "id" not in plain and json.loads(plain["data"]) == {"channel": "public:news", "data": {"headline": "x"}}
        keepalive = stream.event(timeout=5)
        assert keepalive.get("comment") == "keepalive", keepalive
    finally:
        stream.close()
    for i in range(6, 10):
        _publish(one, channel, {"n": i})
    resumed = SSE(two.port, f"/events?channel={channel}", {"Last-Event-ID": f"{epoch}:5"})
    try:
        answer = json.loads(resumed.next_event("subscribed")["data"])
        assert answer["recovered"] is True and answer["offset"] == 9, answer
        events = [resumed.next_event("message") for _ in range(4)]
        assert [e["id"] for e in events] == [f"{epoch}:{i}" for i in range(6, 10)]
        _publish(one, channel, {"n": 10})
        assert resumed.next_event("message")["id"] == f"{epoch}:10"
    finally:
        resumed.close()
    stale = SSE(two.port, f"/events?channel={channel}", {"Last-Event-ID": "nonsense"})
    try:
        assert json.loads(stale.next_event("subscribed")["data"])["recovered"] is False
    finally:
        stale.close()


def test_sse_request_problems(pair):
    one, _ = pair
    assert one.get("/events?channel=chat:a", {"Accept": "application/json"}).status == 406
    assert one.get("/events", {"Accept": "text/event-stream"}).status == 400
    forbidden = one.get("/events?channel=secret:x", {"Accept": "text/event-stream"})
    assert forbidden.status == 403 and forbidden.content_type == "application/problem+json"
    assert one.request("POST", "/events?channel=chat:a", {"Accept": "text/event-stream"}, b"").status == 405


def test_memory_store_keeps_history_in_process(gateway):
    gw = gateway(_config(""))
    channel = "chat:mem"
    answers = [_publish(gw, channel, {"n": i}) for i in range(1, 4)]
    epoch = answers[0]["epoch"]
    assert [a["offset"] for a in answers] == [1, 2, 3]
    with _ws(gw) as ws:
        ws.send(json.dumps({"type": "subscribe", "channel": channel, "since": {"offset": 1, "epoch": epoch}}))
        answer = _recv(ws)
        assert answer["recovered"] is True and answer["offset"] == 3
        assert [m["offset"] for m in _messages(ws, 2)] == [2, 3]
        _publish(gw, channel, {"n": 4})
        assert _messages(ws, 1)[0]["offset"] == 4
