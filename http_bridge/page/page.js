// netpol-proxy's live page: polls /status?timeline=1 every second and
// /report every few seconds once collection started (or, with sampling on,
// once the job's first sweep ended), and draws them. No
// library: two SVG charts and a few tables. Every failure is shown in the
// banner, never thrown away.
"use strict";

const STATES = ["queued", "delivering", "delivered", "unconfirmed", "failed",
                "collect_queued", "collecting", "collected", "collect_failed"];
const STATUS_EVERY_MS = 1000;
const REPORT_EVERY_MS = 3000;
const REPORT_NETPOLS = 500; // the worst this many netpols are fetched
const PAGE_ROWS = 25;

const page = {
  status: null, report: null, reportError: null,
  problemsPage: 0, netpolsPage: 0, errors: {},
};

// -- errors: counted for the browser test, shown in the banner ---------------
let consoleErrors = 0;
function noteConsoleError() {
  consoleErrors += 1;
  const el = document.getElementById("console-errors");
  el.textContent = String(consoleErrors);
  el.dataset.count = String(consoleErrors);
}
const originalConsoleError = console.error.bind(console);
console.error = (...args) => { noteConsoleError(); originalConsoleError(...args); };
window.addEventListener("error", noteConsoleError);
window.addEventListener("unhandledrejection", noteConsoleError);

function showErrors() {
  const el = document.getElementById("error");
  const lines = Object.values(page.errors);
  el.hidden = lines.length === 0;
  el.textContent = lines.join(" · ");
}

// The page never asks more often than 20 times what an answer took: a
// report of a million netpols costs the proxy tens of milliseconds.
const spacing = {};
function nextPoll(key, every) {
  return Math.max(every, 20 * (spacing[key] || 0));
}

async function getJson(path, key) {
  const started = performance.now();
  try {
    return await getJsonOnce(path);
  } finally {
    if (key) spacing[key] = performance.now() - started;
  }
}

async function getJsonOnce(path) {
  let response;
  try {
    response = await fetch(path, { cache: "no-store" });
  } catch (e) {
    throw new Error(`${path}: the proxy did not answer (${e.message}); retrying`);
  }
  const text = await response.text();
  let body = null;
  try { body = JSON.parse(text); } catch (e) { body = null; }
  if (!response.ok) {
    const why = body && body.message ? body.message : text.slice(0, 200);
    const err = new Error(`${path}: HTTP ${response.status}: ${why}`);
    err.status = response.status;
    err.body = body;
    throw err;
  }
  if (body === null)
    throw new Error(`${path}: not JSON`);
  return body;
}

// -- formatting ---------------------------------------------------------------
const fmt = (n) => (n === undefined || n === null) ? "–" : Number(n).toLocaleString("en-US");
function duration(seconds) {
  if (seconds === undefined || seconds === null) return "–";
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 2 : 1)} s`;
  const m = Math.floor(seconds / 60), s = Math.round(seconds % 60);
  if (m < 60) return `${m} m ${s} s`;
  return `${Math.floor(m / 60)} h ${m % 60} m`;
}
function bytes(n) {
  if (!n) return "0 B";
  const units = ["B", "KB", "MB", "GB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i += 1; }
  return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
}
function setText(id, text) { document.getElementById(id).textContent = text; }
function el(tag, attrs, text) {
  const node = document.createElementNS(
    ["svg", "path", "line", "text", "polyline", "rect"].includes(tag)
      ? "http://www.w3.org/2000/svg" : "http://www.w3.org/1999/xhtml", tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}
const color = (state) => `var(--${state})`;

// -- the round ---------------------------------------------------------------
function renderStatus(s) {
  setText("round", s.round ? String(s.round) : "none yet");
  setText("phase", s.phase);
  setText("version", `${s.version}`);
  setText("commit", s.commit);
  setText("persistence", s.persistence);
  setText("updated", new Date().toLocaleTimeString("en-GB"));
  for (const key of ["pods", "delivered", "unconfirmed", "delivery_failed",
                     "collected", "collect_failed", "waiting_retry", "calls",
                     "retries"])
    setText(`n-${key}`, fmt(s[key]));
  setText("n-results", `${fmt(s.results_entries)} (${bytes(s.results_bytes)})`);
  setText("delivery-elapsed", s.round ? duration(s.delivery_seconds) : "–");
  setText("collection-elapsed",
          s.phase === "collecting" || s.phase === "collected"
            ? duration(s.collection_seconds) : "–");
  bar("bar-delivery", s.pods, [["delivered", s.delivered],
      ["unconfirmed", s.unconfirmed], ["failed", s.delivery_failed]]);
  bar("bar-collection", s.pods, [["collected", s.collected],
      ["collect_failed", s.collect_failed]]);
  const c = s.completeness || {};
  for (const key of ["expected", "reported", "missing", "unknown",
                     "netpols_incomplete", "pods_incomplete"])
    setText(`c-${key}`, fmt(c[key]));
  drawStates(s.timeline);
  renderProblems();
}

function bar(id, total, parts) {
  const node = document.getElementById(id);
  node.replaceChildren();
  for (const [state, n] of parts) {
    if (!total || !n) continue;
    const span = el("span", { title: `${state}: ${n}`, "data-state": state });
    span.style.width = `${(100 * n) / total}%`;
    span.style.background = color(state);
    node.appendChild(span);
  }
}

// Stacked areas, one per state, over the round's samples.
function drawStates(timeline) {
  const svg = document.getElementById("states-chart");
  svg.replaceChildren();
  const legend = document.getElementById("states-legend");
  legend.replaceChildren();
  if (!timeline || timeline.at_ms.length === 0) return;
  const W = 900, H = 220, L = 72, B = 20, T = 8;
  const xs = timeline.at_ms;
  const n = xs.length;
  const xmax = Math.max(xs[n - 1], 1);
  let ymax = 1;
  for (let i = 0; i < n; ++i) {
    let sum = 0;
    for (const st of STATES) sum += timeline.states[st][i];
    ymax = Math.max(ymax, sum);
  }
  const X = (ms) => L + ((W - L - 10) * ms) / xmax;
  const Y = (v) => H - B - ((H - B - T) * v) / ymax;
  const base = new Array(n).fill(0);
  for (const st of STATES) {
    const values = timeline.states[st];
    if (!values.some((v) => v > 0)) continue;
    const top = base.map((b, i) => b + values[i]);
    let d = `M${X(xs[0])},${Y(top[0])}`;
    for (let i = 1; i < n; ++i) d += `L${X(xs[i])},${Y(top[i])}`;
    for (let i = n - 1; i >= 0; --i) d += `L${X(xs[i])},${Y(base[i])}`;
    svg.appendChild(el("path", { d: d + "Z", fill: color(st), "data-state": st },
                       undefined));
    for (let i = 0; i < n; ++i) base[i] = top[i];
    const item = el("span", {});
    const swatch = el("i", {});
    swatch.style.background = color(st);
    item.append(swatch, `${st} ${fmt(values[n - 1])}`);
    legend.appendChild(item);
  }
  axes(svg, W, H, L, B, T, ymax, `${duration(xmax / 1000)} since /initiate`);
}

function axes(svg, W, H, L, B, T, ymax, xlabel) {
  svg.appendChild(el("line", { x1: L, y1: H - B, x2: W - 10, y2: H - B, class: "axis" }));
  svg.appendChild(el("line", { x1: L, y1: T, x2: L, y2: H - B, class: "axis" }));
  svg.appendChild(el("text", { x: L - 4, y: T + 10, "text-anchor": "end" }, fmt(ymax)));
  svg.appendChild(el("text", { x: L - 4, y: H - B, "text-anchor": "end" }, "0"));
  svg.appendChild(el("text", { x: W - 10, y: H - 4, "text-anchor": "end" }, xlabel));
}

// -- problem pods --------------------------------------------------------------
// Failed or unconfirmed pods, then the pods waiting for a retry (after
// "connection refused", say): an operator watching a round sees both.
function renderProblems() {
  const s = page.status;
  const body = document.querySelector("#problems tbody");
  body.replaceChildren();
  if (!s) return;
  const retrying = (s.retrying || []).map((p) =>
    Object.assign({}, p, { state: `${p.state}, waiting to retry` }));
  const retryingTotal = s.retrying_total || 0;
  const filter = document.getElementById("problem-filter").value.trim().toLowerCase();
  const rows = s.problems.concat(retrying).filter((p) => !filter ||
    [p.pod, p.state, p.delivery, p.delivery_error, p.collection_error]
      .some((v) => (v || "").toLowerCase().includes(filter)));
  const pages = Math.max(1, Math.ceil(rows.length / PAGE_ROWS));
  page.problemsPage = Math.min(page.problemsPage, pages - 1);
  for (const p of rows.slice(page.problemsPage * PAGE_ROWS,
                             (page.problemsPage + 1) * PAGE_ROWS)) {
    const tr = el("tr", {});
    const error = p.collection_error || p.delivery_error || "";
    for (const cell of [p.pod, p.state, p.delivery,
                        `${p.delivery_attempts} + ${p.collection_attempts}`, error])
      tr.appendChild(el("td", {}, String(cell)));
    body.appendChild(tr);
  }
  setText("problems-total", retryingTotal > 0
    ? `(${fmt(s.problems_total)}, and ${fmt(retryingTotal)} waiting to retry)`
    : `(${fmt(s.problems_total)})`);
  setText("problems-page", `${page.problemsPage + 1} / ${pages}`);
  const listed = s.problems.length + retrying.length;
  const total = s.problems_total + retryingTotal;
  setText("problems-note", total > listed
    ? `The ${fmt(listed)} listed first of ${fmt(total)}; /status?pods=1 lists all.`
    : (total === 0 ? "No pod has failed, is unconfirmed or is waiting to retry." : ""));
}

// -- completeness and the enforcement curve ------------------------------------
const NOT_KNOWN_YET = "Known once collection has started (/stop), or during the job "
                      + "once a sweep of --sample-interval ended.";

// During the job /report answers from the last sweep's samples: say so, and
// how old the oldest is.
function sourceNote(r) {
  if (!r || r.source !== "samples") return "";
  const c = r.completeness;
  const oldest = new Date(c.oldest_sample_unix_ms).toISOString().slice(11, 19);
  return `So far, from samples of ${fmt(c.pods_sampled)} pods during the job `
         + `(the oldest taken ${oldest} UTC); final once collected after /stop.`;
}

// /report is worth asking once it can answer: collection started, or a sweep
// of the job ended.
function reportKnown(s) {
  return s && (s.completeness || (s.sampling && s.sampling.sweeps > 0));
}
function renderReport() {
  const r = page.report;
  const body = document.querySelector("#netpols tbody");
  body.replaceChildren();
  if (!r) {
    setText("netpols-note", page.reportError || NOT_KNOWN_YET);
    setText("netpols-page", "–");
    drawCurve(null);
    return;
  }
  const filter = document.getElementById("netpol-filter").value.trim().toLowerCase();
  const rows = r.netpols.filter((n) => !filter || n.name.toLowerCase().includes(filter));
  const pages = Math.max(1, Math.ceil(rows.length / PAGE_ROWS));
  page.netpolsPage = Math.min(page.netpolsPage, pages - 1);
  for (const n of rows.slice(page.netpolsPage * PAGE_ROWS,
                             (page.netpolsPage + 1) * PAGE_ROWS)) {
    const tr = el("tr", {});
    tr.appendChild(el("td", {}, n.name));
    for (const v of [n.expected, n.reported, n.missing, n.unknown, n.pods_missing])
      tr.appendChild(el("td", { class: "num" }, fmt(v)));
    tr.appendChild(el("td", { class: "num" },
                      n.spread_ms === null ? "–" : duration(n.spread_ms / 1000)));
    body.appendChild(tr);
  }
  setText("netpols-total", `(${fmt(r.netpols_total)} netpols)`);
  setText("netpols-page", `${page.netpolsPage + 1} / ${pages}`);
  setText("netpols-note", [sourceNote(r), r.netpols_total > r.netpols.length
    ? `The worst ${fmt(r.netpols.length)} of ${fmt(r.netpols_total)}; /report?netpols=0 lists all.`
    : ""].filter((x) => x).join(" "));
  drawCurve(r.curve);
}

function drawCurve(curve) {
  const svg = document.getElementById("curve-chart");
  svg.replaceChildren();
  const note = document.getElementById("curve-note");
  if (!curve || !curve.succeeded || curve.succeeded.length === 0) {
    note.hidden = false;
    note.textContent = page.report ? "No connection test has succeeded yet."
                                   : NOT_KNOWN_YET;
    return;
  }
  note.hidden = false;
  note.textContent = [`From the first success (${curve.start}), in buckets of ${curve.bucket_seconds} s.`,
                      sourceNote(page.report)].filter((x) => x).join(" ");
  const W = 900, H = 180, L = 72, B = 20, T = 8;
  // Cumulative per bucket: none before the first, each bucket's count at
  // its end.
  const ys = curve.succeeded;
  const last = ys[ys.length - 1];
  const ymax = Math.max(last, 1);
  const span = ys.length;
  const X = (i) => L + ((W - L - 10) * i) / span;
  const Y = (v) => H - B - ((H - B - T) * v) / ymax;
  const points = [`${X(0)},${Y(0)}`].concat(ys.map((v, i) => `${X(i + 1)},${Y(v)}`));
  svg.appendChild(el("polyline", { points: points.join(" "), fill: "none",
                                   stroke: color("collected"), "stroke-width": 2,
                                   id: "curve-line", "data-last": String(last) }));
  axes(svg, W, H, L, B, T, ymax, `${duration(span * curve.bucket_seconds)} after the first success`);
}

// -- settings ---------------------------------------------------------------------
function renderSettings(s) {
  const body = document.querySelector("#settings tbody");
  body.replaceChildren();
  // "--listen=0.0.0.0:9002 --workers=20 ...": one row per flag.
  for (const part of s.settings.split(/ (?=--)/)) {
    const at = part.indexOf("=");
    const tr = el("tr", {});
    tr.appendChild(el("td", {}, at < 0 ? part : part.slice(0, at)));
    tr.appendChild(el("td", {}, at < 0 ? "" : part.slice(at + 1)));
    body.appendChild(tr);
  }
  setText("commit", s.commit);
}

// -- polling ----------------------------------------------------------------------
async function pollStatus() {
  try {
    page.status = await getJson("/status?timeline=1", "status");
    delete page.errors.status;
    renderStatus(page.status);
  } catch (e) {
    page.errors.status = e.message;
  }
  showErrors();
  setTimeout(pollStatus, nextPoll("status", STATUS_EVERY_MS));
}

async function pollReport() {
  if (reportKnown(page.status)) {
    try {
      page.report = await getJson(`/report?netpols=${REPORT_NETPOLS}`, "report");
      page.reportError = null;
      delete page.errors.report;
    } catch (e) {
      if (e.status === 409) { // not known yet: not an error
        page.report = null;
        page.reportError = e.message;
        delete page.errors.report;
      } else {
        page.errors.report = e.message;
      }
    }
  } else {
    page.report = null;
  }
  renderReport();
  showErrors();
  const every = page.report && page.report.collection_done
                  ? 2 * REPORT_EVERY_MS : REPORT_EVERY_MS;
  setTimeout(pollReport, nextPoll("report", every));
}

async function loadSettings() {
  try {
    renderSettings(await getJson("/ui/settings"));
    delete page.errors.settings;
  } catch (e) {
    page.errors.settings = e.message;
    setTimeout(loadSettings, 5000);
  }
  showErrors();
}

function pager(prev, next, key, render) {
  document.getElementById(prev).addEventListener("click", () => {
    page[key] = Math.max(0, page[key] - 1); render();
  });
  document.getElementById(next).addEventListener("click", () => {
    page[key] += 1; render();
  });
}
pager("problems-prev", "problems-next", "problemsPage", renderProblems);
pager("netpols-prev", "netpols-next", "netpolsPage", renderReport);
document.getElementById("problem-filter").addEventListener("input", () => {
  page.problemsPage = 0; renderProblems();
});
document.getElementById("netpol-filter").addEventListener("input", () => {
  page.netpolsPage = 0; renderReport();
});

loadSettings();
pollStatus();
pollReport();
