"use strict";
// Building blocks: elements with their handlers attached as they are made (no markup strings, so nothing a
// record holds is ever parsed as HTML), the API client, times in an instance's zone, the live event stream.
const $ = (s, r = document) => r.querySelector(s);
function h(tag, attrs, ...children) {
  const el = tag === "svg" || attrs?.svg ? document.createElementNS("http://www.w3.org/2000/svg", tag) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false || k === "svg") continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.setAttribute("class", v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k === "value" && !(el instanceof SVGElement)) el.value = v;
    else if (k === "checked" || k === "selected" || k === "disabled") el[k] = !!v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat(Infinity)) if (c != null && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}
const s = (tag, attrs, ...children) => h(tag, {...attrs, svg: true}, ...children);

function table(headers, rows, attrs) {
  return h("table", attrs, h("thead", null, h("tr", null, headers.map(c => h("th", {scope: "col"}, c)))),
    h("tbody", null, rows.map(r => h("tr", r.attrs || null, (r.cells || r).map(c => h("td", null, c))))));
}
const statusTag = st => h("span", {class: "status status-" + st}, st);
const token = () => sessionStorage.getItem("token") || "";

class APIError extends Error { constructor(status, message) { super(message); this.status = status; } }
async function api(method, path, body) {
  const r = await fetch("/api/v1" + path, {method, headers: {"Authorization": "Bearer " + token(), "Content-Type": "application/json"},
    body: body === undefined ? undefined : JSON.stringify(body)});
  if (r.status === 401) { App.login(); throw new APIError(401, "unauthorized"); }
  const text = await r.text();
  let json = {};
  try { json = text ? JSON.parse(text) : {}; } catch { json = {text}; }
  if (!r.ok) throw new APIError(r.status, json.error ? json.error.message : ("HTTP " + r.status));
  return json;
}
/** Downloads an API answer as a file (the token goes in a header, so a plain link cannot). */
async function download(path, name) {
  const r = await fetch("/api/v1" + path, {headers: {"Authorization": "Bearer " + token()}});
  if (!r.ok) throw new APIError(r.status, (await r.json().catch(() => ({}))).error?.message || "HTTP " + r.status);
  const url = URL.createObjectURL(await r.blob());
  const a = h("a", {href: url, download: name});
  document.body.append(a); a.click(); a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

// Times: yyyy-MM-dd HH:mm:ss in the instance's zone (the host's default zone otherwise), the zone named, and how long ago.
const Zones = {host: "UTC", byInstance: {}};
const formatters = {};
function clock(iso, zone) {
  const d = new Date(iso);
  if (isNaN(d)) return String(iso);
  const z = zone || Zones.host;
  const f = formatters[z] || (formatters[z] = new Intl.DateTimeFormat("en-CA", {timeZone: z, year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23"}));
  const p = Object.fromEntries(f.formatToParts(d).map(x => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
}
function ago(iso) {
  const secs = (new Date(iso) - Date.now()) / 1000;
  if (isNaN(secs)) return "";
  if (Math.abs(secs) < 5) return t("justNow");
  const rtf = new Intl.RelativeTimeFormat(lang, {numeric: "auto"});
  for (const [unit, n] of [["day", 86400], ["hour", 3600], ["minute", 60]]) if (Math.abs(secs) >= n) return rtf.format(Math.round(secs / n), unit);
  return rtf.format(Math.round(secs), "second");
}
function when(iso, zone) {
  if (!iso) return h("span", {class: "muted"}, t("never"));
  const z = zone || Zones.host;
  return h("time", {datetime: iso, title: z}, clock(iso, z), " ", h("span", {class: "muted zone"}, z), h("br"), h("span", {class: "muted ago"}, ago(iso)));
}
const zoneOf = instance => Zones.byInstance[instance] || Zones.host;

// The live stream: GET /api/v1/events read with fetch (EventSource cannot send the token), resumed with
// Last-Event-ID after a drop. While it is up the page never polls.
const Live = {
  up: false, lastID: null, listeners: new Set(), controller: null,
  on(fn) { this.listeners.add(fn); return () => this.listeners.delete(fn); },
  emit(type, data) { for (const fn of [...this.listeners]) { try { fn(type, data); } catch (e) { console.error(e); } } },
  status(up) { this.up = up; const el = $("#live"); if (el) { el.textContent = up ? "● " + t("live") : "○ " + t("offline"); el.className = up ? "ok" : "muted"; } },
  async start() {
    if (this.controller) return;
    this.controller = new AbortController();
    while (this.controller && !this.controller.signal.aborted) {
      try {
        const headers = {"Authorization": "Bearer " + token()};
        if (this.lastID) headers["Last-Event-ID"] = this.lastID;
        const r = await fetch("/api/v1/events", {headers, signal: this.controller.signal});
        if (r.status === 401) { this.stop(); return; }
        if (!r.ok || !r.body) throw new Error("HTTP " + r.status);
        this.status(true);
        const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = "";
        for (;;) {
          const {value, done} = await reader.read();
          if (done) break;
          buffer += value;
          let cut;
          while ((cut = buffer.indexOf("\n\n")) >= 0) {
            const block = buffer.slice(0, cut); buffer = buffer.slice(cut + 2);
            let type = "message", data = "", id = null;
            for (const line of block.split("\n")) {
              if (line.startsWith("event: ")) type = line.slice(7);
              else if (line.startsWith("data: ")) data += line.slice(6);
              else if (line.startsWith("id: ")) id = line.slice(4);
            }
            if (id) this.lastID = id;
            if (data) this.emit(type, JSON.parse(data));
          }
        }
      } catch (e) {
        if (this.controller?.signal.aborted) return;
      }
      this.status(false);
      await new Promise(r => setTimeout(r, 3000));
    }
  },
  stop() { this.controller?.abort(); this.controller = null; this.status(false); },
};
