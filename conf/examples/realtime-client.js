// A small client for the gateway's real-time WebSocket endpoint (SPEC §5 + §9): it keeps each history channel's
// offset/epoch, reconnects with exponential backoff (and jitter) to whichever instance the load balancer picks, and
// resumes every channel with `since`, so it gets exactly the messages it missed: no gap, no duplicate. When the
// gateway answers `recovered:false` (Redis was flushed, or the client was away longer than the history keeps), it
// calls `onReset(channel)`: reload that channel's state from your app, then carry on with live messages.
//
// Works in browsers and in Node ≥ 22 (global WebSocket). No dependencies.
//
//   const rt = new RealtimeClient("wss://example.com/ws", {
//     onMessage: (channel, data, meta) => render(channel, data),   // meta = {offset, epoch} on history channels
//     onReset: (channel) => reloadFromApp(channel),
//     onPresence: (event) => console.log(event.type, event.user), // join / leave
//   });
//   rt.subscribe("chat:1");
//   rt.publish("chat:1", { text: "hi" });
//   rt.history("chat:1", 20).then((frame) => console.log(frame.messages));
//   rt.presence("chat:1").then((frame) => console.log(frame.clients));
//
// Positions survive a page reload if you persist `rt.positions()` (e.g. in sessionStorage) and pass it back as
// `options.positions`.
//
// Server-Sent Events need no library: `new EventSource("/events?channel=user:alice")` already sends
// `Last-Event-ID` when it reconnects, and the gateway resumes from it.

export class RealtimeClient {
  constructor(url, options = {}) {
    this.url = url;
    this.options = options;
    this.channels = new Map(); // channel → {offset, epoch} (null until known)
    for (const [channel, position] of Object.entries(options.positions || {})) this.channels.set(channel, position);
    this.pending = []; // history/presence requests waiting for their answer, in order per channel
    this.attempt = 0;
    this.closed = false;
    this.socket = null;
    this.connect();
  }

  /** Subscribes (and resubscribes after every reconnect, resuming from the last offset seen). */
  subscribe(channel) {
    if (!this.channels.has(channel)) this.channels.set(channel, null);
    this.sendSubscribe(channel);
  }

  unsubscribe(channel) {
    this.channels.delete(channel);
    this.send({ type: "unsubscribe", channel });
  }

  /** Fire and forget; an `error` frame (e.g. `rate_limited`, `forbidden`) goes to `options.onError`. */
  publish(channel, data) {
    this.send({ type: "publish", channel, data });
  }

  /** The newest `limit` retained messages: resolves with the `history` frame. */
  history(channel, limit) {
    return this.request({ type: "history", channel, limit }, "history");
  }

  /** Who is subscribed, across instances: resolves with the `presence` frame. */
  presence(channel) {
    return this.request({ type: "presence", channel }, "presence");
  }

  /** {channel: {offset, epoch}} for the history channels: persist it to resume after a page reload. */
  positions() {
    const out = {};
    for (const [channel, position] of this.channels) if (position) out[channel] = position;
    return out;
  }

  close() {
    this.closed = true;
    if (this.socket) this.socket.close(1000);
  }

  // --- internals -------------------------------------------------------------------------------------------------

  connect() {
    // `url` may be a function (e.g. to rotate over instances without a load balancer).
    const socket = new WebSocket(typeof this.url === "function" ? this.url() : this.url);
    this.socket = socket;
    socket.onopen = () => {
      this.attempt = 0;
      for (const channel of this.channels.keys()) this.sendSubscribe(channel);
      this.options.onOpen?.();
    };
    socket.onmessage = (event) => this.receive(JSON.parse(event.data));
    socket.onclose = (event) => {
      for (const request of this.pending.splice(0)) request.reject(new Error("connection closed"));
      this.options.onClose?.(event);
      if (!this.closed) this.reconnectLater();
    };
    socket.onerror = () => {}; // onclose follows
  }

  /** 0.5 s, 1 s, 2 s … up to 30 s, each with ±50 % jitter so thousands of clients do not come back in lockstep. */
  reconnectLater() {
    const base = Math.min(30_000, 500 * 2 ** this.attempt);
    this.attempt += 1;
    setTimeout(() => this.connect(), base * (0.5 + Math.random()));
  }

  sendSubscribe(channel) {
    const position = this.channels.get(channel);
    const frame = { type: "subscribe", channel };
    if (position) frame.since = { offset: position.offset, epoch: position.epoch };
    this.send(frame);
  }

  send(frame) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(frame));
  }

  request(frame, type) {
    return new Promise((resolve, reject) => {
      this.pending.push({ type, channel: frame.channel, resolve, reject });
      this.send(frame);
    });
  }

  receive(frame) {
    switch (frame.type) {
      case "subscribed":
        if (frame.epoch !== undefined && frame.recovered !== true) {
          // A fresh subscription, or one that could not be recovered: start from the stream's current position.
          // (When recovered, the missed messages follow and move the position themselves.)
          if (frame.recovered === false) this.options.onReset?.(frame.channel);
          this.channels.set(frame.channel, { offset: frame.offset, epoch: frame.epoch });
        }
        this.options.onSubscribed?.(frame);
        break;
      case "message": {
        let meta;
        if (frame.offset !== undefined) {
          const known = this.channels.get(frame.channel);
          // The gateway never sends a duplicate; this check only guards against a client-side replay.
          if (known && known.epoch === frame.epoch && frame.offset <= known.offset) return;
          meta = { offset: frame.offset, epoch: frame.epoch };
          if (this.channels.has(frame.channel)) this.channels.set(frame.channel, meta);
        }
        this.options.onMessage?.(frame.channel, frame.data, meta);
        break;
      }
      case "join":
      case "leave":
        this.options.onPresence?.(frame);
        break;
      case "history":
      case "presence": {
        const index = this.pending.findIndex((r) => r.type === frame.type && r.channel === frame.channel);
        if (index >= 0) this.pending.splice(index, 1)[0].resolve(frame);
        break;
      }
      case "error": {
        const index = this.pending.findIndex((r) => r.channel === frame.channel);
        if (index >= 0 && frame.channel) this.pending.splice(index, 1)[0].reject(new Error(frame.message));
        this.options.onError?.(frame);
        break;
      }
      default:
        break;
    }
  }
}
