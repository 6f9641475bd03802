"""SPEC §2 `websocket: true` routes (upgrade proxied to a replica) and §5 pub/sub over WebSocket."""

import asyncio
import json

import pytest
import websockets

from harness import make_config, redis_command


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 30))


PROXY_CONFIG = make_config(
    upstreams='app: { replicas: ["${b0}"] }',
    routes="""
    - name: socket
      match: { path_prefix: /socket/ }
      upstream: app
      websocket: true
    - name: plain
      match: { path_prefix: / }
      upstream: app
    """,
)


def test_websocket_proxied_echo(gateway, backends):
    gw = gateway(PROXY_CONFIG, backends=backends(1))

    async def scenario():
        async with websockets.connect(f"ws://127.0.0.1:{gw.port}/socket/echo") as ws:
            await ws.send("hello")
            assert await ws.recv() == "hello"
            await ws.send(b"\x00\xffbinary")
            assert await ws.recv() == b"\x00\xffbinary"
            big = "x" * 200_000
            await ws.send(big)
            assert await ws.recv() == big

    run(scenario())


def test_websocket_server_close_propagates(gateway, backends):
    gw = gateway(PROXY_CONFIG, backends=backends(1))

    async def scenario():
        async with websockets.connect(f"ws://127.0.0.1:{gw.port}/socket/echo") as ws:
            await ws.send("__close__")
            with pytest.raises(websockets.ConnectionClosed) as info:
                await ws.recv()
            assert info.value.rcvd is not None and info.value.rcvd.code == 1000

    run(scenario())


def test_websocket_refused_on_plain_route(gateway, backends):
    gw = gateway(PROXY_CONFIG, backends=backends(1))

    async def scenario():
        with pytest.raises((websockets.exceptions.InvalidStatus, websockets.exceptions.InvalidHandshake)):
            async with websockets.connect(f"ws://127.0.0.1:{gw.port}/plain"):
                pass

    run(scenario())


def _pubsub_config():
    return make_config(
        upstreams='app: { replicas: ["${b0}"] }',
        routes="""
        - name: login
          match: { path: /login, methods: [POST] }
          upstream: app
          session: issue
        - name: events
          match: { path: /ws }
          pubsub:
            subscribe: ["public:*", "chat:*", "user:{user}"]
            publish: ["chat:*"]
          session: optional
        """,
        top="""
        store: { redis: "${redis_url}", key_prefix: "t${uniq}:" }
        sessions:
          cookie: gw_session
          secret_env: GATEWAY_SESSION_SECRET
        """,
    )


async def _recv_json(ws, timeout=5):
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def _subscribe(ws, channel):
    await ws.send(json.dumps({"type": "subscribe", "channel": channel}))
    assert await _recv_json(ws) == {"type": "subscribed", "channel": channel}


@pytest.fixture
def pubsub_pair(gateway, backends):
    replicas = backends(1)
    return gateway(_pubsub_config(), backends=replicas), gateway(_pubsub_config(), backends=replicas)


def test_publish_reaches_subscribers_on_every_instance(pubsub_pair):
    one, two = pubsub_pair

    async def scenario():
        async with websockets.connect(f"ws://127.0.0.1:{one.port}/ws") as a, \
                websockets.connect(f"ws://127.0.0.1:{two.port}/ws") as b:
            await _subscribe(a, "chat:1")
            await _subscribe(b, "chat:1")
            for i in range(5):
                await a.send(json.dumps({"type": "publish", "channel": "chat:1", "data": {"n": i}}))
            for ws in (a, b):
                got = [await _recv_json(ws) for _ in range(5)]
                assert got == [{"type": "message", "channel": "chat:1", "data": {"n": i}} for i in range(5)]

    run(scenario())


def test_forbidden_subscribe_and_publish(pubsub_pair):
    one, _ = pubsub_pair

    async def scenario():
        async with websockets.connect(f"ws://127.0.0.1:{one.port}/ws") as ws:
            await ws.send(json.dumps({"type": "subscribe", "channel": "secret:1"}))
            frame = await _recv_json(ws)
            assert frame["type"] == "error" and frame["code"] == "forbidden"
            await ws.send(json.dumps({"type": "publish", "channel": "public:news", "data": 1}))
            frame = await _recv_json(ws)
            assert frame["type"] == "error" and frame["code"] == "forbidden"
            await ws.send("not json")
            frame = await _recv_json(ws)
            assert frame["type"] == "error" and frame["code"] == "bad_request"

    run(scenario())


def test_subscribe_at_connect_and_admin_publish(pubsub_pair):
    one, two = pubsub_pair

    async def scenario():
        async with websockets.connect(f"ws://127.0.0.1:{one.port}/ws?subscribe=public:news,secret:x") as ws:
            frames = [await _recv_json(ws), await _recv_json(ws)]
            assert {"type": "subscribed", "channel": "public:news"} in frames
            assert any(f["type"] == "error" and f["code"] == "forbidden" for f in frames)
            resp = await asyncio.to_thread(two.admin, "POST", "/publish/public:news", {"Content-Type": "application/json"},
                                           b'{"headline":"hi"}')
            assert 200 <= resp.status < 300
            assert await _recv_json(ws) == {"type": "message", "channel": "public:news", "data": {"headline": "hi"}}

    run(scenario())


def test_redis_publish_reaches_subscribers(pubsub_pair, redis_url):
    one, _ = pubsub_pair
    prefix = f"t{one.values['uniq']}:"

    async def scenario():
        async with websockets.connect(f"ws://127.0.0.1:{one.port}/ws") as ws:
            await _subscribe(ws, "public:feed")
            await asyncio.to_thread(redis_command, redis_url, "PUBLISH", f"{prefix}ch:public:feed", '{"data":[1,2]}')
            assert await _recv_json(ws) == {"type": "message", "channel": "public:feed", "data": [1, 2]}

    run(scenario())


def test_user_channel_needs_that_user(pubsub_pair):
    one, _ = pubsub_pair
    resp = one.request("POST", "/login", {"Content-Type": "application/json"}, b'{"user":"alice"}')
    cookie = resp.header("set-cookie").split(";")[0]

    async def scenario():
        async with websockets.connect(f"ws://127.0.0.1:{one.port}/ws", additional_headers={"Cookie": cookie}) as ws:
            await _subscribe(ws, "user:alice")
            await ws.send(json.dumps({"type": "subscribe", "channel": "user:bob"}))
            frame = await _recv_json(ws)
            assert frame["type"] == "error" and frame["code"] == "forbidden"
        async with websockets.connect(f"ws://127.0.0.1:{one.port}/ws") as anonymous:
            await anonymous.send(json.dumps({"type": "subscribe", "channel": "user:alice"}))
            frame = await _recv_json(anonymous)
            assert frame["type"] == "error" and frame["code"] == "forbidden"

    run(scenario())
