/// `GET /` on the admin listener: the dashboard, one self-contained document (HTML, CSS and JS inline; no font,
/// CDN or other outside fetch; its Content-Security-Policy forbids them too). It renders the `/events` frames.
enum DashboardPage {
    /// Only this origin may be contacted; inline script and style are the page itself.
    static let securityHeaders: [(String, String)] = [
        (
            "Content-Security-Policy",
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; "
                + "img-src data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
        ),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "no-referrer"),
        ("Cache-Control", "no-store"),
    ]

    static let response = AdminResponse(
        contentType: "text/html; charset=utf-8", body: html, headers: securityHeaders)

    static let html = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>gateway · dashboard</title>
<link rel="icon" href="data:,">
<style>
:root {
  --bg: #0b1120; --panel: #111a2e; --panel2: #16213a; --line: #24324f; --text: #e2e8f0; --muted: #8b9ab5;
  --ok: #22c55e; --warn: #f59e0b; --bad: #ef4444; --info: #60a5fa; --drain: #a78bfa;
  --c2: #22c55e; --c3: #60a5fa; --c4: #f59e0b; --c5: #ef4444;
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--text); font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
header { display: flex; align-items: center; gap: 18px; padding: 12px 20px; background: var(--panel); border-bottom: 1px solid var(--line); position: sticky; top: 0; z-index: 5; flex-wrap: wrap; }
header h1 { font-size: 17px; margin: 0; letter-spacing: .3px; }
header h1 small { color: var(--muted); font-weight: 400; margin-left: 6px; }
.live { display: inline-flex; align-items: center; gap: 6px; color: var(--muted); font-size: 12px; }
.dot { width: 9px; height: 9px; border-radius: 50%; background: var(--muted); display: inline-block; }
.live.on .dot { background: var(--ok); box-shadow: 0 0 0 3px rgba(34,197,94,.2); }
.live.off .dot { background: var(--bad); }
.kpis { display: flex; gap: 10px; flex-wrap: wrap; margin-left: auto; }
.kpi { background: var(--panel2); border: 1px solid var(--line); border-radius: 8px; padding: 4px 12px; min-width: 92px; }
.kpi b { display: block; font-size: 18px; font-variant-numeric: tabular-nums; }
.kpi span { color: var(--muted); font-size: 11px; text-transform: uppercase; letter-spacing: .5px; }
.kpi.bad { border-color: var(--bad); background: rgba(239,68,68,.12); }
.actions { display: flex; gap: 8px; }
button { font: inherit; color: var(--text); background: var(--panel2); border: 1px solid var(--line); border-radius: 6px; padding: 5px 11px; cursor: pointer; }
button:hover { border-color: var(--info); }
button.primary { background: #2563eb; border-color: #2563eb; color: #fff; }
button.danger { background: #b91c1c; border-color: #b91c1c; color: #fff; }
button.small { padding: 2px 8px; font-size: 12px; }
main { padding: 16px 20px 40px; display: grid; grid-template-columns: repeat(12, 1fr); gap: 16px; }
section { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; padding: 12px 14px; min-width: 0; }
section h2 { font-size: 13px; margin: 0 0 10px; color: var(--muted); text-transform: uppercase; letter-spacing: .8px; display: flex; align-items: center; gap: 8px; }
section h2 .count { background: var(--panel2); border-radius: 10px; padding: 0 8px; font-size: 11px; }
.w12 { grid-column: span 12; } .w8 { grid-column: span 8; } .w6 { grid-column: span 6; } .w4 { grid-column: span 4; }
@media (max-width: 1100px) { .w8, .w6, .w4 { grid-column: span 12; } }
table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
th { text-align: left; color: var(--muted); font-weight: 500; font-size: 12px; padding: 4px 8px; border-bottom: 1px solid var(--line); white-space: nowrap; }
td { padding: 6px 8px; border-bottom: 1px solid rgba(36,50,79,.6); vertical-align: middle; }
tr:last-child td { border-bottom: 0; }
td.num, th.num { text-align: right; }
.mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
.muted { color: var(--muted); }
.pill { display: inline-block; padding: 1px 9px; border-radius: 10px; font-size: 12px; font-weight: 600; }
.pill.healthy { background: rgba(34,197,94,.15); color: var(--ok); }
.pill.unhealthy { background: var(--bad); color: #fff; }
.pill.ejected { background: var(--warn); color: #1f1300; }
.pill.draining { background: rgba(167,139,250,.2); color: var(--drain); }
.pill.up { background: rgba(34,197,94,.15); color: var(--ok); }
.pill.down { background: var(--bad); color: #fff; }
tr.problem td { background: rgba(239,68,68,.09); }
tr.problem td:first-child { box-shadow: inset 3px 0 0 var(--bad); }
.upstream + .upstream { margin-top: 14px; }
.upstream h3 { margin: 0 0 4px; font-size: 14px; display: flex; gap: 10px; align-items: baseline; }
.upstream h3 small { color: var(--muted); font-weight: 400; }
canvas.spark { width: 150px; height: 32px; display: block; }
.legend { display: flex; gap: 10px; font-size: 11px; color: var(--muted); }
.legend i { display: inline-block; width: 8px; height: 8px; border-radius: 2px; margin-right: 4px; }
.bar { height: 6px; background: var(--panel2); border-radius: 3px; overflow: hidden; min-width: 80px; }
.bar i { display: block; height: 100%; background: var(--bad); }
.stats { display: grid; grid-template-columns: repeat(2, 1fr); gap: 10px; }
.stat { background: var(--panel2); border-radius: 8px; padding: 8px 10px; }
.stat b { font-size: 20px; display: block; font-variant-numeric: tabular-nums; }
.stat span { color: var(--muted); font-size: 12px; }
.stat.bad { box-shadow: inset 3px 0 0 var(--bad); }
.empty { color: var(--muted); font-style: italic; padding: 8px; }
.scroll { max-height: 340px; overflow: auto; }
#toast { position: fixed; right: 18px; bottom: 18px; max-width: 460px; padding: 10px 14px; border-radius: 8px; background: var(--panel2); border: 1px solid var(--line); display: none; z-index: 20; white-space: pre-wrap; }
#toast.ok { display: block; border-color: var(--ok); } #toast.err { display: block; border-color: var(--bad); }
dialog { background: var(--panel); color: var(--text); border: 1px solid var(--line); border-radius: 10px; min-width: 380px; padding: 18px; }
dialog::backdrop { background: rgba(0,0,0,.55); }
dialog h3 { margin: 0 0 8px; }
dialog label { display: block; margin-top: 10px; color: var(--muted); font-size: 12px; }
dialog input, dialog textarea { width: 100%; padding: 7px; border-radius: 6px; border: 1px solid var(--line); background: var(--bg); color: var(--text); font: inherit; }
dialog .row { display: flex; justify-content: flex-end; gap: 8px; margin-top: 16px; }
.banner { grid-column: span 12; background: rgba(239,68,68,.14); border: 1px solid var(--bad); border-radius: 10px; padding: 10px 14px; display: none; }
.banner.show { display: block; }
</style>
</head>
<body>
<header>
  <h1>gateway <small id="version">…</small></h1>
  <span class="live" id="live"><span class="dot"></span><span id="live-text">connecting…</span></span>
  <div class="kpis">
    <div class="kpi"><b id="kpi-rps">–</b><span>req/s</span></div>
    <div class="kpi"><b id="kpi-conns">–</b><span>connections</span></div>
    <div class="kpi"><b id="kpi-inflight">–</b><span>in flight</span></div>
    <div class="kpi"><b id="kpi-ws">–</b><span>websockets</span></div>
    <div class="kpi" id="kpi-store-box"><b id="kpi-store">–</b><span>store</span></div>
  </div>
  <div class="actions">
    <button id="btn-reload" class="primary" title="POST /reload">Reload config</button>
    <button id="btn-sessions" title="DELETE /sessions?user=…">End sessions…</button>
    <button id="btn-publish" title="POST /publish/CHANNEL">Publish…</button>
  </div>
</header>
<main>
  <div class="banner" id="banner"></div>
  <section class="w12" id="upstreams-section"><h2>Upstreams <span class="count" id="upstreams-count">0</span></h2><div id="upstreams"><div class="empty">waiting for the first frame…</div></div></section>
  <section class="w12"><h2>Routes <span class="count" id="routes-count">0</span>
      <span class="legend"><span><i style="background:var(--c2)"></i>2xx</span><span><i style="background:var(--c3)"></i>3xx</span><span><i style="background:var(--c4)"></i>4xx</span><span><i style="background:var(--c5)"></i>5xx</span><span>· last 5 minutes</span></span></h2>
    <div class="scroll"><table id="routes"><thead><tr><th>route</th><th class="num">req/s</th><th>traffic</th><th class="num">p50</th><th class="num">p99</th><th>latency (p50 / p99)</th><th>status classes</th><th class="num">5xx</th><th class="num">total</th></tr></thead><tbody></tbody></table></div></section>
  <section class="w6"><h2>Rate limits</h2><table id="limits"><thead><tr><th>route</th><th>limit</th><th class="num">allowed</th><th class="num">denied</th><th>denied share</th></tr></thead><tbody></tbody></table></section>
  <section class="w6"><h2>Store, WebSockets, pub/sub</h2><div class="stats" id="realtime"></div></section>
  <section class="w12"><h2>Recent gateway errors <span class="count" id="errors-count">0</span></h2><div class="scroll"><table id="errors"><thead><tr><th>time</th><th>status</th><th>route</th><th>request</th><th>request id</th><th>detail</th></tr></thead><tbody></tbody></table></div></section>
  <section class="w12"><h2>Configuration <span class="count" id="config-version">v–</span></h2><table id="config"><thead><tr><th>route</th><th>match</th><th>target</th><th>session</th><th>limits</th></tr></thead><tbody></tbody></table><div class="muted" id="config-files" style="margin-top:8px;font-size:12px"></div></section>
</main>
<div id="toast" role="status"></div>
<dialog id="confirm">
  <form method="dialog" id="confirm-form">
    <h3 id="confirm-title">Are you sure?</h3>
    <div id="confirm-text" class="muted"></div>
    <div id="confirm-fields"></div>
    <div class="row"><button value="cancel" id="confirm-cancel">Cancel</button><button value="ok" id="confirm-ok" class="danger">Confirm</button></div>
  </form>
</dialog>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
const state = { frame: null, last: 0 };

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === "class") node.className = value;
    else if (key.startsWith("data-")) node.setAttribute(key, value);
    else if (key === "title") node.title = value;
    else if (key === "onclick") node.addEventListener("click", value);
    else node[key] = value;
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}
function fmt(n, digits) {
  if (n === null || n === undefined) return "–";
  if (typeof n !== "number") return String(n);
  if (Math.abs(n) >= 1e6) return (n / 1e6).toFixed(1) + "M";
  if (Math.abs(n) >= 1e4) return (n / 1e3).toFixed(1) + "k";
  return digits === undefined ? String(Math.round(n * 10) / 10) : n.toFixed(digits);
}
function ms(n) { return n === null || n === undefined ? "–" : (n < 10 ? n.toFixed(2) : n.toFixed(0)) + " ms"; }
function ago(iso) {
  if (!iso) return "never";
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  return s < 60 ? s + "s ago" : Math.round(s / 60) + "m ago";
}
function until(iso) {
  if (!iso) return "";
  const s = Math.round((Date.parse(iso) - Date.now()) / 1000);
  return s > 0 ? "for " + s + "s" : "until a check passes";
}

// ---------------------------------------------------------------------------------------------- sparklines
function canvas(key) {
  const c = el("canvas", { class: "spark", "data-spark": key });
  return c;
}
function prep(c) {
  const ratio = window.devicePixelRatio || 1;
  const w = c.clientWidth || 150, h = c.clientHeight || 32;
  if (c.width !== w * ratio) { c.width = w * ratio; c.height = h * ratio; }
  const g = c.getContext("2d");
  g.setTransform(ratio, 0, 0, ratio, 0, 0);
  g.clearRect(0, 0, w, h);
  return { g, w, h };
}
/** Seconds the x axis spans: the history there is, at least one minute, at most five. */
function span(length) { return Math.min(300, Math.max(60, length)); }
function lines(c, seriesList, colors) {
  const { g, w, h } = prep(c);
  const n = span(seriesList[0].length);
  let max = 0;
  for (const s of seriesList) for (const v of s) if (v !== null && v > max) max = v;
  if (max <= 0) { g.strokeStyle = "#24324f"; g.beginPath(); g.moveTo(0, h - 1); g.lineTo(w, h - 1); g.stroke(); return; }
  seriesList.forEach((s, i) => {
    g.strokeStyle = colors[i]; g.lineWidth = 1.3; g.beginPath();
    let started = false;
    const offset = n - s.length;
    s.forEach((v, j) => {
      if (v === null) { started = false; return; }
      const x = ((offset + j) / (n - 1)) * w, y = h - 2 - (v / max) * (h - 4);
      if (!started) { g.moveTo(x, y); started = true; } else g.lineTo(x, y);
    });
    g.stroke();
  });
}
function stacked(c, layers, colors) {
  const { g, w, h } = prep(c);
  const len = layers[0].length, n = span(len), offset = n - len;
  let max = 0;
  for (let j = 0; j < len; j++) { let t = 0; for (const l of layers) t += l[j] || 0; if (t > max) max = t; }
  if (max <= 0) { g.strokeStyle = "#24324f"; g.beginPath(); g.moveTo(0, h - 1); g.lineTo(w, h - 1); g.stroke(); return; }
  const bw = Math.max(1, w / n);
  for (let j = 0; j < len; j++) {
    let y = h;
    const x = ((offset + j) / n) * w;
    layers.forEach((l, i) => {
      const v = l[j] || 0; if (!v) return;
      const bh = (v / max) * (h - 2);
      g.fillStyle = colors[i]; g.fillRect(x, y - bh, bw, bh); y -= bh;
    });
  }
}

// ---------------------------------------------------------------------------------------------- rendering
function renderHeader(f) {
  $("version").textContent = "v" + f.gateway_version + " · config v" + f.config.version + " · up " + fmtUptime(f.uptime_s);
  $("kpi-rps").textContent = fmt(f.totals.requests_per_s);
  $("kpi-conns").textContent = fmt(f.totals.connections_open);
  $("kpi-inflight").textContent = fmt(f.totals.in_flight);
  $("kpi-ws").textContent = fmt(f.totals.websockets);
  $("kpi-store").textContent = f.store.kind + (f.store.up ? " up" : " DOWN");
  $("kpi-store-box").classList.toggle("bad", !f.store.up);
}
function fmtUptime(s) {
  if (s < 120) return s + "s";
  if (s < 7200) return Math.round(s / 60) + "m";
  return Math.round(s / 3600) + "h";
}

function renderUpstreams(f) {
  const root = $("upstreams");
  root.replaceChildren();
  $("upstreams-count").textContent = f.upstreams.length;
  if (!f.upstreams.length) root.append(el("div", { class: "empty" }, "no upstreams configured"));
  const problems = [];
  for (const u of f.upstreams) {
    const healthy = u.replicas.filter((r) => r.state === "healthy").length;
    const box = el("div", { class: "upstream", "data-upstream": u.name });
    box.append(el("h3", {}, u.name, el("small", {}, u.balance + " · " + healthy + "/" + u.replicas.length + " healthy")));
    const table = el("table", {});
    table.append(el("thead", {}, el("tr", {}, ...["#", "replica", "state", "in flight", "failures", "last check", "attempts", ""].map((t, i) => el("th", { class: i === 3 || i === 4 ? "num" : "" }, t)))));
    const body = el("tbody", {});
    for (const r of u.replicas) {
      const bad = r.state === "unhealthy" || r.state === "ejected";
      if (bad) problems.push(u.name + " replica " + r.index + " (" + r.url + ") is " + r.state);
      const check = r.last_check ? (r.last_check.ok ? "ok " : "failed ") + (r.last_check.status ?? "no answer") + " · " + ago(r.last_check.at) : "no active checks";
      const attempts = Object.entries(r.requests_total || {}).map(([k, v]) => k + " " + fmt(v)).join(", ") || "–";
      const draining = r.state === "draining";
      const action = el("button", { class: "small", "data-action": draining ? "undrain" : "drain", "data-target": u.name + "/" + r.index,
        onclick: () => drainReplica(u.name, r.index, r.url, !draining) }, draining ? "Undrain" : "Drain");
      body.append(el("tr", { class: bad ? "problem" : "", "data-replica": u.name + "/" + r.index, "data-state": r.state },
        el("td", { class: "muted" }, r.index),
        el("td", { class: "mono" }, r.url, r.weight !== 1 ? el("span", { class: "muted" }, " ×" + r.weight) : null),
        el("td", {}, el("span", { class: "pill " + r.state, "data-role": "state" }, r.state), r.ejected_until ? el("span", { class: "muted" }, " " + until(r.ejected_until)) : null),
        el("td", { class: "num" }, r.in_flight),
        el("td", { class: "num" }, r.consecutive_failures),
        el("td", { class: r.last_check && !r.last_check.ok ? "" : "muted" }, check),
        el("td", { class: "muted" }, attempts),
        el("td", { class: "num" }, action)));
    }
    table.append(body);
    box.append(table);
    root.append(box);
  }
  return problems;
}

function renderRoutes(f) {
  const body = $("routes").tBodies[0];
  body.replaceChildren();
  $("routes-count").textContent = f.routes.filter((r) => !r.unrouted).length;
  const problems = [];
  for (const r of f.routes) {
    const s = r.series;
    const recent = (a) => a.slice(-10).reduce((x, y) => x + (y || 0), 0);
    const total10 = recent(s.rps), e10 = recent(s["5xx"]);
    const totalAll = s.rps.reduce((x, y) => x + y, 0), eAll = s["5xx"].reduce((x, y) => x + y, 0);
    const before = totalAll - total10, eBefore = eAll - e10;
    const share = total10 ? e10 / total10 : 0, baseline = before ? eBefore / before : 0;
    const jumped = e10 >= 3 && share >= 0.05 && share > 2 * baseline;
    if (jumped) problems.push("route " + r.name + ": 5xx at " + Math.round(share * 100) + "% over the last 10 s");
    const c1 = canvas(r.name + ":rps"), c2 = canvas(r.name + ":latency"), c3 = canvas(r.name + ":status");
    body.append(el("tr", { class: jumped ? "problem" : "", "data-route": r.name },
      el("td", {}, el("b", {}, r.unrouted ? "(no route)" : r.name), el("div", { class: "muted", style: "font-size:12px" }, r.kind ? r.kind + (r.upstream ? " → " + r.upstream : "") : "404 / 405 / malformed")),
      el("td", { class: "num", "data-role": "rps" }, fmt(r.rps)),
      el("td", {}, c1),
      el("td", { class: "num" }, ms(r.p50_ms)),
      el("td", { class: "num" }, ms(r.p99_ms)),
      el("td", {}, c2),
      el("td", {}, c3),
      el("td", { class: "num" + (jumped ? "" : " muted") }, total10 ? Math.round(share * 100) + "%" : "–"),
      el("td", { class: "num muted" }, fmt(r.requests_total))));
    requestAnimationFrame(() => {
      lines(c1, [s.rps], ["#60a5fa"]);
      lines(c2, [s.p99_ms, s.p50_ms], ["#f59e0b", "#22c55e"]);
      stacked(c3, [s["2xx"], s["3xx"], s["4xx"], s["5xx"]], ["#22c55e", "#60a5fa", "#f59e0b", "#ef4444"]);
    });
  }
  if (!f.routes.length) body.append(el("tr", {}, el("td", { colSpan: 9, class: "empty" }, "no routes")));
  return problems;
}

function renderLimits(f) {
  const body = $("limits").tBodies[0];
  body.replaceChildren();
  for (const l of f.rate_limits) {
    const total = l.allowed + l.denied, share = total ? l.denied / total : 0;
    body.append(el("tr", { "data-limit": l.route + "/" + l.limit },
      el("td", {}, l.route), el("td", { class: "mono" }, l.limit), el("td", { class: "num" }, fmt(l.allowed)),
      el("td", { class: "num" }, fmt(l.denied)),
      el("td", {}, el("div", { class: "bar", title: Math.round(share * 100) + "% denied" }, el("i", { style: "width:" + (share * 100).toFixed(1) + "%" })))));
  }
  if (!f.rate_limits.length) body.append(el("tr", {}, el("td", { colSpan: 5, class: "empty" }, "no rate-limit decisions yet")));
}

function renderRealtime(f) {
  const root = $("realtime");
  const ws = f.routes.filter((r) => r.websockets > 0).map((r) => r.name + " " + r.websockets).join(", ");
  const stat = (value, label, bad, id) => el("div", { class: "stat" + (bad ? " bad" : ""), id: id || "" }, el("b", {}, value), el("span", {}, label));
  const p = f.pubsub;
  root.replaceChildren(
    stat(f.store.kind + (f.store.up ? " · up" : " · DOWN"), (f.store.url || "in-memory, this instance only") + " · on_error " + f.store.on_error + " · errors " + f.store.errors_total, !f.store.up, "store-state"),
    stat(fmt(f.totals.websockets), "open WebSockets" + (ws ? " (" + ws + ")" : "")),
    stat(fmt(p.messages_per_s.published) + " / " + fmt(p.messages_per_s.delivered), "pub/sub msgs/s published / delivered"),
    stat(fmt(p.slow_consumer_closes), "slow-consumer closes (1013)", p.slow_consumer_closes > 0),
    stat(fmt(f.totals.connections_open), "open client connections"),
    stat(fmt(f.totals.upstream_retries_total), "upstream retries"));
  return f.store.up ? [] : ["the store (" + f.store.kind + ") is unreachable: " + f.store.state];
}

function renderErrors(f) {
  const body = $("errors").tBodies[0];
  body.replaceChildren();
  $("errors-count").textContent = f.errors.length;
  for (const e of f.errors) {
    body.append(el("tr", { "data-request-id": e.request_id },
      el("td", { class: "muted", title: e.at }, new Date(e.at).toLocaleTimeString()),
      el("td", {}, el("span", { class: "pill " + (e.status >= 500 ? "unhealthy" : "ejected") }, e.status)),
      el("td", {}, e.route),
      el("td", { class: "mono" }, e.method + " " + e.path),
      el("td", { class: "mono muted" }, e.request_id),
      el("td", {}, e.detail)));
  }
  if (!f.errors.length) body.append(el("tr", {}, el("td", { colSpan: 6, class: "empty" }, "no gateway-made errors")));
}

function renderConfig(f) {
  $("config-version").textContent = "v" + f.config.version;
  const body = $("config").tBodies[0];
  body.replaceChildren();
  for (const r of f.routes) {
    if (r.unrouted) continue;
    const m = r.match || {};
    const match = [m.path ? "= " + m.path : "", m.path_prefix ? m.path_prefix + "*" : "", m.host ? "host " + m.host : "", m.methods ? m.methods.join(",") : ""].filter(Boolean).join("  ") || "any";
    body.append(el("tr", { "data-config-route": r.name },
      el("td", {}, r.name), el("td", { class: "mono" }, match),
      el("td", {}, r.kind === "pubsub" ? "pub/sub" : (r.upstream || "") + (r.kind === "websocket" ? " (websocket)" : "")),
      el("td", { class: "muted" }, r.session),
      el("td", { class: "muted" }, (r.limits || []).map((l) => l.name + " " + l.limit + "/" + l.window_s + "s").join(", ") || "–")));
  }
  $("config-files").textContent = "files: " + f.config.files.join(", ");
}

function render(f) {
  state.frame = f;
  renderHeader(f);
  const problems = [].concat(renderUpstreams(f), renderRoutes(f), renderRealtime(f));
  renderLimits(f); renderErrors(f); renderConfig(f);
  const banner = $("banner");
  banner.classList.toggle("show", problems.length > 0);
  banner.textContent = problems.length ? "⚠ " + problems.join(" · ") : "";
}

// ---------------------------------------------------------------------------------------------- live feed
let source = null;
function connect() {
  source = new EventSource("/events");
  source.onopen = () => setLive(true, "live");
  source.onmessage = (event) => {
    state.last = Date.now();
    try { render(JSON.parse(event.data)); setLive(true, "live"); }
    catch (err) { setLive(false, "bad frame: " + err.message); }
  };
  source.onerror = () => setLive(false, "reconnecting…");
}
function setLive(on, text) {
  $("live").className = "live " + (on ? "on" : "off");
  $("live-text").textContent = text;
}
setInterval(() => { if (state.last && Date.now() - state.last > 4000) setLive(false, "no data for " + Math.round((Date.now() - state.last) / 1000) + "s"); }, 1000);

// ---------------------------------------------------------------------------------------------- actions
function toast(text, ok) {
  const t = $("toast");
  t.textContent = text;
  t.className = ok ? "ok" : "err";
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.className = ""; }, 6000);
}
function confirmDialog(title, text, fields, confirmLabel) {
  return new Promise((resolve) => {
    const dialog = $("confirm");
    $("confirm-title").textContent = title;
    $("confirm-text").textContent = text;
    $("confirm-ok").textContent = confirmLabel || "Confirm";
    const box = $("confirm-fields");
    box.replaceChildren();
    const inputs = {};
    for (const f of fields || []) {
      const input = el(f.multiline ? "textarea" : "input", { id: "field-" + f.name, name: f.name, value: f.value || "", placeholder: f.placeholder || "" });
      if (f.multiline) input.rows = 3;
      inputs[f.name] = input;
      box.append(el("label", { htmlFor: "field-" + f.name }, f.label), input);
    }
    dialog.onclose = () => {
      const values = {};
      for (const [k, v] of Object.entries(inputs)) values[k] = v.value;
      resolve(dialog.returnValue === "ok" ? values : null);
    };
    dialog.returnValue = "";
    dialog.showModal();
  });
}
async function call(method, path, body) {
  const response = await fetch(path, { method, body, headers: body ? { "Content-Type": "application/json" } : {}, credentials: "same-origin" });
  const text = await response.text();
  let doc = null;
  try { doc = JSON.parse(text); } catch (_) { /* not JSON */ }
  return { ok: response.ok, status: response.status, doc, text };
}
function describe(result) {
  if (result.doc && result.doc.detail) return result.status + ": " + result.doc.detail;
  if (result.doc && result.doc.errors) return result.status + ": " + result.doc.errors.join("\n");
  return result.status + ": " + result.text.slice(0, 300);
}
$("btn-reload").addEventListener("click", async () => {
  if (!await confirmDialog("Reload the configuration?", "The gateway re-reads its config files. An invalid file is rejected and the running configuration kept.", [], "Reload")) return;
  const r = await call("POST", "/reload");
  toast(r.ok ? "Reloaded: config v" + r.doc.version + ", " + r.doc.routes + " routes" : "Reload rejected — " + describe(r), r.ok);
});
$("btn-sessions").addEventListener("click", async () => {
  const v = await confirmDialog("End a user's sessions", "Every session of this user ends on every instance; their next request needs a new login.", [{ name: "user", label: "user name", placeholder: "alice" }], "End sessions");
  if (!v || !v.user.trim()) return;
  const r = await call("DELETE", "/sessions?user=" + encodeURIComponent(v.user.trim()));
  toast(r.ok ? "Sessions of " + v.user.trim() + ": done" + (r.doc && r.doc.sessions_ended !== undefined ? " (" + r.doc.sessions_ended + " ended)" : "") : "Failed — " + describe(r), r.ok);
});
$("btn-publish").addEventListener("click", async () => {
  const v = await confirmDialog("Publish a test message", "Delivered to every subscriber of the channel on every instance.", [
    { name: "channel", label: "channel", value: "public:test" },
    { name: "data", label: "data (JSON)", value: '{"hello": "from the dashboard"}', multiline: true }], "Publish");
  if (!v || !v.channel.trim()) return;
  try { JSON.parse(v.data); } catch (err) { toast("The data is not JSON: " + err.message, false); return; }
  const r = await call("POST", "/publish/" + encodeURIComponent(v.channel.trim()), v.data);
  toast(r.ok ? "Published to " + v.channel.trim() : "Publish failed — " + describe(r), r.ok);
});
async function drainReplica(upstream, index, url, drain) {
  const verb = drain ? "Drain" : "Undrain";
  const text = drain ? url + " finishes its in-flight requests and gets no new ones until undrained." : url + " goes back into rotation (if its health checks pass).";
  if (!await confirmDialog(verb + " replica " + index + " of " + upstream + "?", text, [], verb)) return;
  const r = await call("POST", "/upstreams/" + encodeURIComponent(upstream) + "/replicas/" + index + "/" + (drain ? "drain" : "undrain"));
  toast(r.ok ? verb + "ed " + url + ": now " + r.doc.state : verb + " failed — " + describe(r), r.ok);
}

connect();
</script>
</body>
</html>
"""#
}
