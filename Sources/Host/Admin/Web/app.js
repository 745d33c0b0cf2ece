"use strict";
const $ = (s, r = document) => r.querySelector(s);
const esc = v => String(v ?? "").replace(/[&<>"']/g, c => ({"&":"&amp;","<":"&lt;",">":"&gt;",'"':"&quot;","'":"&#39;"}[c]));
// A token in the URL fragment (#token=...) is moved to sessionStorage and removed from the address bar.
const m = location.hash.match(/token=([^&]+)/);
if (m) { sessionStorage.setItem("token", decodeURIComponent(m[1])); history.replaceState(null, "", location.pathname + location.search); }
const params = new URLSearchParams(location.search);
// Deep links: ?view=data&instance=vos-node1&collection=customers
let view = "overview", timer = null, dataState = {instance: params.get("instance") || undefined, collection: params.get("collection") || undefined};
async function api(method, path, body) {
  const r = await fetch("/api/v1" + path, {method, headers: {"Authorization": "Bearer " + (sessionStorage.getItem("token") || ""),
    "Content-Type": "application/json"}, body: body === undefined ? undefined : JSON.stringify(body)});
  if (r.status === 401) { login(); throw new Error("unauthorized"); }
  const text = await r.text(); const json = text ? JSON.parse(text) : {};
  if (!r.ok) throw new Error(json.error ? json.error.message : ("HTTP " + r.status));
  return json;
}
function login() {
  $("#main").innerHTML = `<fieldset><legend>Admin token</legend><input id="tok" type="password" size="50" placeholder="printed by synchost at first start">
  <button id="go">Sign in</button></fieldset>`;
  $("#go").onclick = () => { sessionStorage.setItem("token", $("#tok").value.trim()); show(view); };
}
function table(cols, rows) {
  return `<table><tr>${cols.map(c => `<th>${esc(c)}</th>`).join("")}</tr>${rows.map(r => `<tr>${r.map(c => `<td>${c}</td>`).join("")}</tr>`).join("")}</table>`;
}
const st = s => `<span class="status-${esc(s)}">${esc(s)}</span>`;
function fail(e) { $("#main").insertAdjacentHTML("afterbegin", `<p class="err" id="error">${esc(e.message)}</p>`); }

const views = {
  async overview() {
    const h = await (await fetch("/healthz")).json(); const plugins = await api("GET", "/plugins");
    return `<h2>Host ${esc(h.version)} — ${esc(h.status)}</h2>` + table(["plugin", "version", "kind", "status", "jobs", "collections"],
      plugins.map(p => [esc(p.name), esc(p.version), esc(p.kind), p.status === "loaded" ? `<span class="ok">loaded</span>` : `<span class="err">${esc(p.status)} ${esc(p.reason)}</span>`,
        esc((p.jobs || []).map(j => j.name).join(", ")), esc((p.collections || []).map(c => c.name).join(", "))]));
  },
  async instances() {
    const [list, plugins] = await Promise.all([api("GET", "/instances"), api("GET", "/plugins")]);
    let html = table(["id", "plugin", "enabled", "config", ""], list.map(i => [esc(i.id), esc(i.plugin), i.enabled ? "yes" : "no",
      `<pre>${esc(JSON.stringify(i.config, null, 1))}</pre>`, `<button data-del="${esc(i.id)}">delete</button>`]));
    html += `<fieldset><legend>New instance</legend>id <input id="nid"> plugin <select id="nplugin">${plugins.filter(p => p.status === "loaded")
      .map(p => `<option>${esc(p.name)}</option>`).join("")}</select><div id="nform"></div><button id="create">Create</button> <span id="nmsg"></span></fieldset>`;
    setTimeout(() => {
      const byName = Object.fromEntries(plugins.map(p => [p.name, p]));
      const form = () => { const p = byName[$("#nplugin").value]; $("#nform").innerHTML = (p.config || []).map(k =>
        `<div><label>${esc(k.key)}${k.required ? " *" : ""} <input data-key="${esc(k.key)}" data-type="${esc(k.type)}" type="${k.secret ? "password" : "text"}"
        placeholder="${esc(k.default === undefined ? k.type : JSON.stringify(k.default))}"></label> <span class="muted">${esc(k.description)}</span></div>`).join(""); };
      $("#nplugin").onchange = form; form();
      $("#create").onclick = async () => {
        const config = {};
        for (const el of document.querySelectorAll("#nform input")) {
          const v = el.value.trim(); if (!v) continue; const t = el.dataset.type;
          config[el.dataset.key] = t === "integer" || t === "number" ? Number(v) : t === "boolean" ? v === "true" : t === "string_list" ? v.split(",").map(s => s.trim()) : t === "object" ? JSON.parse(v) : v;
        }
        try { await api("POST", "/instances", {id: $("#nid").value.trim(), plugin: $("#nplugin").value, config}); show("instances"); }
        catch (e) { $("#nmsg").innerHTML = `<span class="err">${esc(e.message)}</span>`; }
      };
      document.querySelectorAll("[data-del]").forEach(b => b.onclick = async () => {
        if (confirm("Delete " + b.dataset.del + "?")) { await api("DELETE", "/instances/" + encodeURIComponent(b.dataset.del)); show("instances"); } });
    });
    return html;
  },
  async schedules() {
    const [list, instances, plugins] = await Promise.all([api("GET", "/schedules"), api("GET", "/instances"), api("GET", "/plugins")]);
    const jobs = Object.fromEntries(plugins.map(p => [p.name, (p.jobs || []).map(j => j.name)]));
    const form = `<fieldset id="newschedule"><legend>New schedule</legend>
      <select id="si">${instances.map(i => `<option value="${esc(i.id)}" data-plugin="${esc(i.plugin)}">${esc(i.id)}</option>`).join("")}</select>
      <select id="sj"></select> name <input id="sn" size="12" placeholder="optional, unique"> cron <input id="sc" class="cron" data-tz="UTC" size="18" placeholder="*/10 9-23 * * *"> zone <input id="sz" value="UTC" size="14">
      params <input id="sp" size="24" placeholder='{"dates": "T-3..T-1"}'> <button id="sadd">Add</button>
      <div class="muted preview" id="spreview"></div><span id="smsg"></span></fieldset>`;
    const html = form + table(["name", "instance", "job", "params", "cron (edit: preview as you type)", "zone", "enabled", "next", "last", ""], list.map(s => [
      `${esc(s.name || "-")}${s.note ? `<div class="muted">${esc(s.note)}</div>` : ""}`, esc(s.instance), esc(s.job), `<code>${esc(JSON.stringify(s.params))}</code>`,
      `<input class="cron" data-id="${esc(s.id)}" data-tz="${esc(s.timezone)}" value="${esc(s.cron)}" size="18"><div class="muted preview"></div>`,
      esc(s.timezone), `<input type="checkbox" class="en" data-id="${esc(s.id)}" ${s.enabled ? "checked" : ""}>`, esc(s.next_run_at || "-"),
      esc(s.last_status || "-"), `<button class="save" data-id="${esc(s.id)}">save</button>`]));
    setTimeout(() => {
      let t = null;
      const preview = async inp => {
        const out = inp.parentElement.querySelector(".preview");
        try { const p = await api("GET", `/cron/preview?count=3&expr=${encodeURIComponent(inp.value)}&tz=${encodeURIComponent(inp.dataset.tz)}`);
          out.className = "muted preview"; out.textContent = "next: " + p.next.join(", "); }
        catch (e) { out.className = "err preview"; out.textContent = e.message; } };
      document.querySelectorAll("input.cron").forEach(inp => { if (inp.value) preview(inp); inp.oninput = () => { clearTimeout(t); t = setTimeout(() => preview(inp), 250); }; });
      const fill = () => { const o = $("#si").selectedOptions[0]; $("#sj").innerHTML = o ? (jobs[o.dataset.plugin] || []).map(j => `<option>${esc(j)}</option>`).join("") : ""; };
      $("#si").onchange = fill; fill();
      $("#sz").oninput = () => { $("#sc").dataset.tz = $("#sz").value; $("#sc").oninput(); };
      $("#sadd").onclick = async () => {
        try {
          const params = $("#sp").value.trim() ? JSON.parse($("#sp").value) : {};
          const body = {instance: $("#si").value, job: $("#sj").value, cron: $("#sc").value, timezone: $("#sz").value, params};
          if ($("#sn").value.trim()) body.name = $("#sn").value.trim();
          await api("POST", "/schedules", body);
          show("schedules");
        } catch (e) { $("#smsg").innerHTML = `<span class="err" id="serror">${esc(e.message)}</span>`; }
      };
      document.querySelectorAll("button.save").forEach(b => b.onclick = async () => {
        const id = b.dataset.id; const cron = $(`input.cron[data-id="${id}"]`).value; const enabled = $(`input.en[data-id="${id}"]`).checked;
        try { await api("PATCH", "/schedules/" + id, {cron, enabled}); show("schedules"); } catch (e) { fail(e); } });
    });
    return html;
  },
  async runs() {
    const [runs, instances, plugins] = await Promise.all([api("GET", "/runs?limit=50"), api("GET", "/instances"), api("GET", "/plugins")]);
    const jobs = Object.fromEntries(plugins.map(p => [p.name, (p.jobs || []).map(j => j.name)]));
    let html = `<fieldset><legend>Run now</legend><select id="ri">${instances.map(i => `<option value="${esc(i.id)}" data-plugin="${esc(i.plugin)}">${esc(i.id)}</option>`).join("")}</select>
      <select id="rj"></select> <label><input type="checkbox" id="rdry"> dry run</label> <button id="rgo">Run</button> <span id="rmsg"></span></fieldset>`;
    html += `<p class="muted">refreshes every 3 s</p>` + table(["started", "instance", "job", "trigger", "status", "fetched", "ins", "upd", "unch", "del", "message / error", ""],
      runs.runs.map(r => [esc(r.started_at || r.run_at || r.created_at), esc(r.instance), esc(r.job) + (r.dry_run ? " (dry)" : ""), esc(r.trigger), st(r.status),
        r.counts.fetched, r.counts.inserted, r.counts.updated, r.counts.unchanged, r.counts.deleted, esc(r.error || r.message || ""),
        ["queued", "running"].includes(r.status) ? `<button data-cancel="${esc(r.id)}">cancel</button>` : ""]));
    setTimeout(() => {
      const fill = () => { const p = $("#ri").selectedOptions[0]; $("#rj").innerHTML = p ? (jobs[p.dataset.plugin] || []).map(j => `<option>${esc(j)}</option>`).join("") : ""; };
      $("#ri").onchange = fill; fill();
      $("#rgo").onclick = async () => { try { const r = await api("POST", `/instances/${encodeURIComponent($("#ri").value)}/jobs/${encodeURIComponent($("#rj").value)}/run`,
        {dry_run: $("#rdry").checked}); $("#rmsg").textContent = "queued " + r.run_id; } catch (e) { $("#rmsg").innerHTML = `<span class="err">${esc(e.message)}</span>`; } };
      document.querySelectorAll("[data-cancel]").forEach(b => b.onclick = async () => { await api("POST", `/runs/${b.dataset.cancel}/cancel`); show("runs"); });
      timer = setTimeout(() => show("runs", true), 3000);
    });
    return html;
  },
  async data() {
    const instances = await api("GET", "/instances");
    if (!dataState.instance && instances.length) dataState.instance = instances[0].id;
    let html = `Instance <select id="di">${instances.map(i => `<option ${i.id === dataState.instance ? "selected" : ""}>${esc(i.id)}</option>`).join("")}</select>`;
    if (dataState.instance) {
      const cols = await api("GET", `/instances/${encodeURIComponent(dataState.instance)}/collections`);
      if (!cols.collections.some(c => c.name === dataState.collection)) dataState.collection = (cols.collections[0] || {}).name;
      html += table(["collection", "records", "deleted", "last synced"], cols.collections.map(c => [`<a href="#" data-col="${esc(c.name)}">${esc(c.name)}</a>`,
        c.records, c.deleted, esc(c.last_synced_at || "never")]));
      if (dataState.collection) {
        const q = dataState.live ? "?limit=50&cache=live" : "?limit=50";
        const page = await api("GET", `/instances/${encodeURIComponent(dataState.instance)}/collections/${encodeURIComponent(dataState.collection)}${q}`);
        dataState.live = false;
        html += `<h3>${esc(dataState.collection)} <button id="live">refresh live</button></h3><p id="source">source: <b>${esc(page.source)}</b>${page.stale ? " (stale: " + esc(page.upstream_error) + ")" : ""},
          last synced: ${esc(page.last_synced_at || "never")}</p>` + table(["key", "synced", "changed", "data"], page.records.map(r => [esc(r.key), esc(r.synced_at),
          esc(r.changed_at), `<pre>${esc(JSON.stringify(r.data)).slice(0, 400)}</pre>`]));
      }
    }
    setTimeout(() => {
      $("#di") && ($("#di").onchange = () => { dataState = {instance: $("#di").value}; show("data"); });
      document.querySelectorAll("[data-col]").forEach(a => a.onclick = ev => { ev.preventDefault(); dataState.collection = a.dataset.col; show("data"); });
      $("#live") && ($("#live").onclick = () => { dataState.live = true; show("data"); });
    });
    return html;
  },
  async notifications() {
    const [n, instances, plugins] = await Promise.all([api("GET", "/notifications?limit=50"), api("GET", "/instances"), api("GET", "/plugins")]);
    // Channels are the instances of notifier plugins (by the kind their manifests declare, not by name).
    const notifiers = new Set(plugins.filter(p => p.kind === "notifier").map(p => p.name));
    let html = `<fieldset><legend>Test message</legend><select id="nc">${instances.filter(i => notifiers.has(i.plugin)).map(i => `<option>${esc(i.id)}</option>`).join("")}</select>
      <input id="nt" size="40" value="synchost test message"> <button id="ngo">Send</button> <span id="nmsg"></span></fieldset><p>outbox depth: ${n.depth}</p>`;
    html += table(["created", "channel", "state", "attempts", "text", "error / detail"], n.notifications.map(x => [esc(x.created_at), esc(x.channel), st(x.state),
      x.attempts, `<pre>${esc(x.message.text).slice(0, 200)}</pre>`, esc(x.last_error || x.detail || "")]));
    setTimeout(() => { $("#ngo") && ($("#ngo").onclick = async () => { try { await api("POST", "/notifications/test", {channel: $("#nc").value, text: $("#nt").value}); show("notifications"); }
      catch (e) { $("#nmsg").innerHTML = `<span class="err">${esc(e.message)}</span>`; } }); });
    return html;
  },
  async tokens() {
    const list = await api("GET", "/tokens?revoked=true");
    const html = `<fieldset><legend>New token (shown once)</legend><input id="tn" placeholder="name, e.g. grafana" size="24">
      <select id="tr"><option>viewer</option><option>operator</option><option>admin</option></select> <button id="tgo">Create</button>
      <span id="tmsg"></span></fieldset>` + table(["name", "role", "created", "by", "last used", "revoked", ""], list.map(t => [esc(t.name), esc(t.role),
      esc(t.created_at), esc(t.created_by), esc(t.last_used_at || "never"), esc(t.revoked_at || ""),
      t.revoked_at ? "" : `<button data-revoke="${esc(t.id)}">Revoke</button>`]));
    setTimeout(() => {
      $("#tgo") && ($("#tgo").onclick = async () => { try { const t = await api("POST", "/tokens", {name: $("#tn").value.trim(), role: $("#tr").value});
        $("#tmsg").innerHTML = `copy it now, it is not shown again: <code>${esc(t.token)}</code>`; } catch (e) { $("#tmsg").innerHTML = `<span class="err">${esc(e.message)}</span>`; } });
      document.querySelectorAll("[data-revoke]").forEach(b => b.onclick = async () => { if (confirm("Revoke this token? It stops working at once.")) {
        try { await api("DELETE", "/tokens/" + encodeURIComponent(b.dataset.revoke)); show("tokens"); } catch (e) { fail(e); } } });
    });
    return html;
  },
  async audit() {
    const page = await api("GET", "/audit?limit=200");
    const brief = v => v == null ? "" : `<pre>${esc(JSON.stringify(v)).slice(0, 300)}</pre>`;
    return `<p class="muted">changes made through the API and the CLI, newest first (secrets shown as ***)</p>` +
      table(["at", "actor", "from", "action", "target", "before", "after"], page.entries.map(e => [esc(e.at), esc(e.actor), esc(e.source === "api" ? e.address : e.source),
      esc(e.action), esc(e.target), brief(e.before), brief(e.after)]));
  },
};
async function show(v, quiet) {
  clearTimeout(timer); view = v;
  document.querySelectorAll("header a").forEach(a => a.classList.toggle("on", a.dataset.view === v));
  if (!sessionStorage.getItem("token")) return login();
  try { const html = await views[v](); if (view === v) $("#main").innerHTML = html; $("#who").textContent = "signed in"; }
  catch (e) { if (e.message !== "unauthorized") { if (!quiet) $("#main").innerHTML = ""; fail(e); } }
}
document.querySelectorAll("header a").forEach(a => a.onclick = () => show(a.dataset.view));
show(params.get("view") || "overview");
