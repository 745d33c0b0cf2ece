"use strict";
// Plugin-declared views (the manifest's "views"): tables of a collection, charts over a date key, summary cards
// from a route, and their actions. Nothing here knows a plugin: everything comes from the manifest.

function fieldOf(obj, path) {
  let v = obj;
  for (const part of path.split(".")) { if (v == null) return undefined; v = v[part]; }
  return v;
}
/** A record's value for a column: `@key`, `@synced_at`, `@changed_at` or a path into its data. */
function recordField(r, field) {
  if (field === "@key") return r.key;
  if (field === "@synced_at") return r.synced_at;
  if (field === "@changed_at") return r.changed_at;
  return fieldOf(r.data, field);
}
function formatValue(v, format, zone) {
  if (v === undefined || v === null || v === "") return h("span", {class: "muted"}, "—");
  switch (format) {
    case "number": return typeof v === "number" ? v.toLocaleString(lang) : String(v);
    case "percent": return (typeof v === "number" ? v.toLocaleString(lang, {maximumFractionDigits: 2}) : String(v)) + "%";
    case "money": return typeof v === "number" ? v.toLocaleString(lang, {minimumFractionDigits: 2, maximumFractionDigits: 2}) : String(v);
    case "datetime": return when(typeof v === "number" ? new Date(v > 1e12 ? v : v * 1000).toISOString() : v, zone);
    case "bool": return v === true || v === 1 || v === "1" || v === "true" ? t("yes") : t("no");
    case "status": return statusTag(String(v));
    default: return typeof v === "object" ? JSON.stringify(v) : String(v);
  }
}
const pluginPath = (plugin, route, instance, values = {}) =>
  `/plugins/${encodeURIComponent(plugin)}/` + route.split("/").map(seg => {
    const m = seg.match(/^\{(.+)\}$/);
    if (!m) return seg;
    return encodeURIComponent(m[1] === "id" ? instance : values[m[1]] ?? "");
  }).join("/");

/** A small form for an action's inputs (from its ConfigKey list), answering the values on submit. */
function inputForm(inputs, submitLabel, onSubmit, onCancel) {
  const fields = inputs.map(k => {
    const id = "in-" + Math.random().toString(36).slice(2);
    const input = h("input", {id, name: k.key, required: k.required, placeholder: k.default === undefined ? k.type : JSON.stringify(k.default),
      type: k.type === "integer" || k.type === "number" ? "number" : "text"});
    return {k, input, el: h("div", {class: "field"}, h("label", {for: id}, k.key + (k.required ? " *" : "")), input, h("span", {class: "muted"}, k.description))};
  });
  const form = h("form", {class: "inline", onsubmit: ev => {
    ev.preventDefault();
    const values = {};
    for (const {k, input} of fields) {
      const v = input.value.trim();
      if (!v) { if (k.default !== undefined) values[k.key] = k.default; continue; }
      values[k.key] = k.type === "integer" || k.type === "number" ? Number(v) : k.type === "boolean" ? v === "true" : k.type === "string_list" ? v.split(",").map(x => x.trim()) : v;
    }
    onSubmit(values);
  }}, fields.map(f => f.el), h("button", {type: "submit"}, submitLabel), " ", h("button", {type: "button", onclick: onCancel}, t("cancel")));
  return form;
}

/** Runs an action: a job of the instance, a route of the plugin, or a live read of the view. */
async function runAction(ctx, view, action, values, out) {
  if (action.confirm && !confirm(L(action.confirm))) return;
  out.replaceChildren(h("span", {class: "muted"}, t("loading")));
  try {
    if (action.kind === "live") { await ctx.reload(view, {live: true}); out.replaceChildren(); return; }
    if (action.kind === "job") {
      const r = await api("POST", `/instances/${encodeURIComponent(ctx.instance.id)}/jobs/${encodeURIComponent(action.target)}/run`,
        {params: {...(action.params || {}), ...values}});
      out.replaceChildren(h("span", {class: "ok"}, t("queued", r.run_id)));
      return;
    }
    const pathParams = new Set((action.target.match(/\{([^}]+)\}/g) || []).map(x => x.slice(1, -1)));
    const body = {...(action.params || {})};
    for (const [k, v] of Object.entries(values)) if (!pathParams.has(k)) body[k] = v;
    const method = action.method || "POST";
    const answer = await api(method, pluginPath(ctx.plugin.name, action.target, ctx.instance.id, values), method === "DELETE" ? undefined : body);
    out.replaceChildren(h("details", {open: true}, h("summary", null, t("answer")), h("pre", {class: "answer"}, JSON.stringify(answer, null, 2))));
    ctx.reload(view);
  } catch (e) { out.replaceChildren(h("span", {class: "err"}, e.message)); }
}

function actionBar(ctx, view, actions) {
  const out = h("div", {class: "action-out", role: "status"});
  const formSlot = h("div");
  const buttons = actions.filter(a => !a.row).map(a => h("button", {type: "button", dataset: {action: a.id}, onclick: () => {
    if (!a.inputs?.length) return runAction(ctx, view, a, {}, out);
    formSlot.replaceChildren(inputForm(a.inputs, L(a.label), values => { formSlot.replaceChildren(); runAction(ctx, view, a, values, out); }, () => formSlot.replaceChildren()));
    formSlot.querySelector("input")?.focus();
  }}, L(a.label)));
  return h("div", {class: "actions"}, buttons, formSlot, out);
}

function chartSVG(title, style, xs, series) {
  const W = 680, H = 240, left = 48, right = 12, top = 12, bottom = 40;
  const max = Math.max(1, ...series.flatMap(se => se.values.filter(v => typeof v === "number")));
  const n = Math.max(1, xs.length);
  const x = i => left + (n === 1 ? (W - left - right) / 2 : i * (W - left - right) / (n - 1));
  const y = v => top + (H - top - bottom) * (1 - v / max);
  const svg = s("svg", {viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-label": title});
  for (let k = 0; k <= 4; k++) {
    const v = max * k / 4, yy = y(v);
    svg.append(s("line", {x1: left, x2: W - right, y1: yy, y2: yy, class: "grid"}), s("text", {x: left - 6, y: yy + 4, class: "axis", "text-anchor": "end"}, Math.round(v).toLocaleString(lang)));
  }
  const every = Math.ceil(n / 10);
  xs.forEach((label, i) => { if (i % every === 0 || i === n - 1) svg.append(s("text", {x: x(i), y: H - bottom + 16, class: "axis", "text-anchor": "middle"}, String(label).slice(5) || label)); });
  if (style === "bar") {
    const slot = (W - left - right) / n, bw = Math.max(2, slot * 0.8 / series.length);
    series.forEach((se, k) => se.values.forEach((v, i) => {
      if (typeof v !== "number") return;
      const bx = left + i * slot + slot * 0.1 + k * bw;
      svg.append(s("rect", {x: bx, y: y(v), width: bw - 1, height: Math.max(0, y(0) - y(v)), class: "series-" + k}, s("title", null, `${xs[i]} ${se.label}: ${v}`)));
    }));
  } else {
    series.forEach((se, k) => {
      const pts = se.values.map((v, i) => typeof v === "number" ? `${x(i)},${y(v)}` : null).filter(Boolean).join(" ");
      svg.append(s("polyline", {points: pts, class: "line series-" + k}));
      se.values.forEach((v, i) => { if (typeof v === "number") svg.append(s("circle", {cx: x(i), cy: y(v), r: 3, class: "series-" + k}, s("title", null, `${xs[i]} ${se.label}: ${v}`))); });
    });
  }
  const legend = h("div", {class: "legend"}, series.map((se, k) => h("span", null, h("span", {class: "swatch series-" + k}), " ", se.label)));
  return h("figure", null, svg, legend);
}

/** The views of one instance, each in its own section, reloaded in place when its data changes. */
async function renderPluginViews(instance, plugin, root) {
  const zone = zoneOf(instance.id);
  const sections = new Map();
  const ctx = {
    instance, plugin,
    async reload(view, opts = {}) { const sec = sections.get(view.id); if (sec) await loadView(view, sec.body, opts); },
  };
  async function loadView(view, body, opts = {}) {
    try {
      if (view.kind === "table") await loadTable(view, body, opts);
      else if (view.kind === "chart") await loadChart(view, body);
      else await loadSummary(view, body);
    } catch (e) { body.replaceChildren(h("p", {class: "err"}, e.message)); }
  }
  async function loadTable(view, body, opts) {
    const state = sections.get(view.id).state;
    const q = new URLSearchParams({limit: "50"});
    const desc = view.order.startsWith("-");
    q.set("order", view.order.replace("-", "")); if (desc) q.set("desc", "true");
    for (const [k, v] of Object.entries(state.filters)) if (v) q.set(k, v);
    if (opts.live) q.set("cache", "live");
    const base = `/instances/${encodeURIComponent(instance.id)}/collections/${encodeURIComponent(view.collection)}`;
    const page = await api("GET", `${base}?${q}`);
    const rowActions = view.actions.filter(a => a.row);
    const headers = view.columns.map(c => L(c.label)).concat(rowActions.length ? [t("actions")] : []);
    const out = h("div", {class: "action-out", role: "status"});
    const rowOf = r => ({attrs: {dataset: {key: r.key}}, cells: view.columns.map(c => formatValue(recordField(r, c.field), c.format, zone)).concat(rowActions.length ? [
      h("span", null, rowActions.map(a => h("button", {type: "button", dataset: {action: a.id}, onclick: () => {
        const values = Object.fromEntries((a.inputs || []).map(k => [k.key, k.key === "key" ? r.key : recordField(r, k.key) ?? r.key]));
        runAction(ctx, view, a, values, out);
      }}, L(a.label))))] : [])});
    const tbl = table(headers, page.records.map(rowOf), {class: "records"});
    let cursor = page.next_cursor;
    const moreBtn = h("button", {type: "button", onclick: async () => {
      const more = await api("GET", `${base}?${q}&cursor=${encodeURIComponent(cursor)}`);
      for (const r of more.records) tbl.tBodies[0].append(table([], [rowOf(r)]).tBodies[0].rows[0]);
      cursor = more.next_cursor; if (!cursor) moreBtn.remove();
    }}, t("more"));
    const exportQuery = () => { const e = new URLSearchParams(q); e.delete("limit"); e.delete("cache"); e.set("fields", view.columns.map(c => c.field).join(",")); return e; };
    const exports = [["csv", t("exportCsv")], ["json", t("exportJson")]].map(([f, label]) => h("button", {type: "button", dataset: {export: f}, onclick: async () => {
      const e = exportQuery(); e.set("format", f);
      try { await download(`/instances/${encodeURIComponent(instance.id)}/export/${encodeURIComponent(view.collection)}?${e}`, `${instance.id}-${view.collection}.${f}`); }
      catch (err) { out.replaceChildren(h("span", {class: "err"}, err.message)); }
    }}, label));
    const source = page.source === "live" ? t("liveData") : t("cache");
    body.replaceChildren(
      h("p", {class: "meta"}, t("source"), ": ", h("b", {class: "source"}, source), page.stale ? h("span", {class: "err"}, ` (${t("stale")}: ${page.upstream_error})`) : "",
        " · ", t("lastSynced"), ": ", when(page.last_synced_at, zone), " ", exports),
      tbl, cursor ? moreBtn : "", out);
  }
  async function loadChart(view, body) {
    const c = view.chart;
    let rows;
    if (view.collection) {
      const page = await api("GET", `/instances/${encodeURIComponent(instance.id)}/collections/${encodeURIComponent(view.collection)}?limit=${c.days}&order=key&desc=true`);
      rows = page.records.reverse().map(r => ({x: recordField(r, c.x), r, get: f => recordField(r, f)}));
    } else {
      const answer = await api("GET", pluginPath(plugin.name, view.route, instance.id));
      const list = view.rows ? fieldOf(answer, view.rows) : answer;
      rows = (Array.isArray(list) ? list : []).map(o => ({x: fieldOf(o, c.x === "@key" ? "date" : c.x), get: f => fieldOf(o, f)}))
        .sort((a, b) => String(a.x).localeCompare(String(b.x))).slice(-c.days);
    }
    if (!rows.length) { body.replaceChildren(h("p", {class: "muted"}, t("none"))); return; }
    body.replaceChildren(chartSVG(L(view.title), c.style, rows.map(r => r.x), c.series.map(se => ({label: L(se.label), values: rows.map(r => {
      const v = r.get(se.field); return typeof v === "number" ? v : (v == null ? null : Number(v)); })}))));
  }
  async function loadSummary(view, body) {
    const answer = await api("GET", pluginPath(plugin.name, view.route, instance.id));
    body.replaceChildren(h("dl", {class: "summary"}, view.columns.map((c, i) => h("div", {class: i === 0 ? "big" : null},
      h("dt", null, L(c.label)), h("dd", null, formatValue(fieldOf(answer, c.field), c.format, zone))))));
  }
  root.replaceChildren();
  if (!plugin.views?.length) { root.append(h("p", {class: "muted"}, t("noViews"))); return () => {}; }
  for (const view of plugin.views) {
    const body = h("div", {class: "view-body"}, h("span", {class: "muted"}, t("loading")));
    const filters = view.kind === "table" && view.filters.length ? h("form", {class: "filters", onsubmit: ev => {
      ev.preventDefault();
      for (const el of ev.target.querySelectorAll("input")) sections.get(view.id).state.filters[el.name] = el.value.trim();
      ctx.reload(view);
    }}, view.filters.map(f => { const id = `f-${view.id}-${f}`; return h("span", null, h("label", {for: id}, f), " ", h("input", {id, name: f, size: 12})); }),
      h("button", {type: "submit"}, t("filter"))) : "";
    const section = h("section", {class: "card view", id: "view-" + view.id, dataset: {kind: view.kind}},
      h("h3", null, L(view.title)), actionBar(ctx, view, view.actions), filters, body);
    sections.set(view.id, {view, body, state: {filters: {}}});
    root.append(section);
    loadView(view, body);
  }
  // Records of a collection changed: its tables and charts reload; a run of the instance ended: route-fed ones.
  const timers = {};
  return Live.on((type, data) => {
    if (data.instance !== instance.id) return;
    for (const {view, body} of sections.values()) {
      const hit = (type === "records.changed" && view.collection === data.collection) || (type === "run.finished" && view.route);
      if (!hit) continue;
      clearTimeout(timers[view.id]);
      timers[view.id] = setTimeout(() => loadView(view, body), 300);
    }
  });
}
