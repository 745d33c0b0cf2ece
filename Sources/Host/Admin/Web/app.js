"use strict";
// The console: the host's own pages (overview, instances, schedules, runs, data, notifications, tokens, audit)
// and each instance's plugin views, in Chinese or English, updated live from the event stream.

// A token in the URL fragment (#token=...) is moved to sessionStorage and removed from the address bar.
const fragment = location.hash.match(/token=([^&]+)/);
if (fragment) { sessionStorage.setItem("token", decodeURIComponent(fragment[1])); history.replaceState(null, "", location.pathname + location.search); }
const params = new URLSearchParams(location.search);
let dataState = {instance: params.get("instance") || undefined, collection: params.get("collection") || undefined};

const jobsByPlugin = plugins => Object.fromEntries(plugins.map(p => [p.name, p.jobs || []]));
function instanceSelect(id, instances, selected, filter = () => true) {
  return h("select", {id}, instances.filter(filter).map(i => h("option", {value: i.id, selected: i.id === selected, dataset: {plugin: i.plugin}}, i.id)));
}
function errorLine(el, e) { el.replaceChildren(h("span", {class: "err"}, e.message)); }
function noteZones(instances) { for (const i of instances) Zones.byInstance[i.id] = i.zone || Zones.host; }

/** Progress bars of a running run (one per bar name: a backfill's days), updated in place by run.progress. */
function progressBars(run) {
  return h("div", {class: "bars", dataset: {run: run.id}}, (run.progress || []).map(barOf));
}
function barOf(p) {
  const pct = p.total > 0 ? Math.round(p.done * 100 / p.total) : 0;
  const fill = h("span", {class: "fill"});
  fill.style.width = pct + "%";
  return h("div", {class: "bar", dataset: {bar: p.bar || ""}, role: "progressbar", "aria-valuemin": 0, "aria-valuemax": p.total, "aria-valuenow": p.done},
    h("span", {class: "track"}, fill), h("span", {class: "label"}, `${p.label || p.bar || ""} ${p.done}/${p.total} (${pct}%)`));
}
function applyProgress(data) {
  for (const box of document.querySelectorAll(`.bars[data-run="${CSS.escape(data.run)}"]`)) {
    const old = [...box.children].find(b => b.dataset.bar === (data.bar || ""));
    const bar = barOf(data);
    if (old) old.replaceWith(bar); else box.append(bar);
  }
}

const Views = {
  async overview(main) {
    const [health, plugins, running, failedRuns, scores] = await Promise.all([(await fetch("/healthz")).json(), api("GET", "/plugins"),
      api("GET", "/runs?status=running&limit=50"), api("GET", "/runs?status=failed&limit=10"), api("GET", "/health")]);
    const scoreTag = n => h("b", {class: n >= 80 ? "ok" : n >= 60 ? "warn" : "err"}, String(n));
    Zones.host = health.timezone || Zones.host;
    const inflight = h("div", {id: "inflight"});
    const paintRuns = async () => {
      const r = await api("GET", "/runs?status=running&limit=50");
      inflight.replaceChildren(r.runs.length ? table([t("instance"), t("job"), t("started"), t("progress")], r.runs.map(run =>
        [run.instance, run.job, when(run.started_at, zoneOf(run.instance)), progressBars(run)])) : h("p", {class: "muted"}, t("none")));
    };
    inflight.replaceChildren(running.runs.length ? table([t("instance"), t("job"), t("started"), t("progress")], running.runs.map(run =>
      [run.instance, run.job, when(run.started_at, zoneOf(run.instance)), progressBars(run)])) : h("p", {class: "muted"}, t("none")));
    main.append(
      h("h2", null, `${t("host")} ${health.version} — `, statusTag(health.status)),
      h("section", {class: "card"}, h("h3", null, t("plugins")), table([t("plugin"), t("version"), t("kind"), t("status"), t("mode"), t("jobs"), t("collections")],
        plugins.map(p => [p.name, p.version, p.kind, p.status === "loaded" ? h("span", {class: "ok"}, t("loaded"))
            : h("span", {class: "err"}, `${t(p.status === "failing" ? "failing" : "failed")}: ${p.reason}`),
          p.worker ? h("span", {title: p.worker.last_crash ? `${t("lastCrash")}: ${p.worker.last_crash}` : ""}, t("mode_process"), " · ", statusTag(p.worker.state),
            p.worker.pid ? ` pid ${p.worker.pid}` : "", p.worker.restarts ? ` · ${t("restarts")} ${p.worker.restarts}` : "") : t("mode_in_process"),
          (p.jobs || []).map(j => j.name).join(", "), (p.collections || []).map(c => c.name).join(", ")]))),
      h("section", {class: "card"}, h("h3", null, t("instanceHealth")), scores.instances.length ? table([t("instance"), t("plugin"), t("score"), t("successRate"),
        t("failed24h"), t("sinceSuccess"), t("punctuality")], scores.instances.map(x => [x.instance, x.plugin, scoreTag(x.score), x.parts.success_rate,
        x.parts.failed_24h, x.parts.hours_since_success ?? t("never"), x.parts.punctuality])) : h("p", {class: "muted"}, t("noInstances"))),
      h("section", {class: "card"}, h("h3", null, t("inFlight")), inflight),
      h("section", {class: "card"}, h("h3", null, t("recentFailures")), failedRuns.runs.length ? table([t("started"), t("instance"), t("job"), t("error")],
        failedRuns.runs.map(r => [when(r.started_at, zoneOf(r.instance)), r.instance, r.job, r.error || ""])) : h("p", {class: "muted"}, t("none"))));
    return (type, data) => {
      if (type === "run.progress") applyProgress(data);
      if (type === "run.started" || type === "run.finished") App.soon("runs", paintRuns);
      if (type.startsWith("plugin.")) App.soon("page", () => App.show("overview", true));
    };
  },

  async views(main) {
    const [instances, plugins] = await Promise.all([api("GET", "/instances"), api("GET", "/plugins")]);
    noteZones(instances);
    const byName = Object.fromEntries(plugins.map(p => [p.name, p]));
    const withViews = instances.filter(i => byName[i.plugin]?.views?.length);
    if (!instances.length) { main.append(h("p", {class: "muted"}, t("noInstances"))); return; }
    const selected = withViews.some(i => i.id === dataState.instance) ? dataState.instance : (withViews[0] || instances[0]).id;
    const root = h("div", {id: "plugin-views"});
    const select = instanceSelect("vi", instances, selected);
    let stop = () => {};
    const open = async id => {
      dataState.instance = id; stop();
      const inst = instances.find(i => i.id === id);
      stop = await renderPluginViews(inst, byName[inst.plugin] || {name: inst.plugin, views: []}, root);
    };
    select.addEventListener("change", () => open(select.value));
    main.append(h("p", null, h("label", {for: "vi"}, t("instance")), " ", select, " ", h("span", {class: "muted"}, t("zone"), ": ", zoneOf(selected))), root);
    await open(selected);
    return {close: () => stop()};
  },

  async instances(main) {
    const [list, plugins] = await Promise.all([api("GET", "/instances"), api("GET", "/plugins")]);
    noteZones(list);
    const byName = Object.fromEntries(plugins.map(p => [p.name, p]));
    const msg = h("span", {id: "nmsg", role: "status"});
    const configInputs = (plugin, current) => (plugin?.config || []).map(k => {
      const id = "cfg-" + k.key;
      const value = current && !k.secret && current[k.key] !== undefined ? (typeof current[k.key] === "string" ? current[k.key] : JSON.stringify(current[k.key])) : "";
      return h("div", {class: "field"}, h("label", {for: id}, k.key + (k.required ? " *" : "")),
        h("input", {id, dataset: {key: k.key, type: k.type, secret: k.secret ? "1" : ""}, type: k.secret ? "password" : "text", value, autocomplete: "off",
          placeholder: k.secret && current ? t("secretKept") : (k.default === undefined ? k.type : JSON.stringify(k.default))}),
        h("span", {class: "muted"}, k.description));
    });
    const readConfig = (form, editing) => {
      const config = {};
      for (const el of form.querySelectorAll("input[data-key]")) {
        const v = el.value.trim(); const ty = el.dataset.type;
        if (!v) { if (editing && !el.dataset.secret) config[el.dataset.key] = null; continue; }
        config[el.dataset.key] = ty === "integer" || ty === "number" ? Number(v) : ty === "boolean" ? v === "true" : ty === "string_list" ? v.split(",").map(x => x.trim()) : ty === "object" ? JSON.parse(v) : v;
      }
      return config;
    };
    const editor = h("div");
    const rows = list.map(i => [i.id, i.plugin, i.zone || "",
      h("label", null, h("input", {type: "checkbox", checked: i.enabled, "aria-label": t("enabled") + " " + i.id, onchange: async ev => {
        try { await api("PATCH", "/instances/" + encodeURIComponent(i.id), {enabled: ev.target.checked}); } catch (e) { ev.target.checked = !ev.target.checked; errorLine(msg, e); }
      }}), " ", t("enabled")),
      h("pre", null, JSON.stringify(i.config, null, 1)),
      h("span", null,
        h("button", {type: "button", onclick: () => {
          const form = h("form", {class: "card", onsubmit: async ev => {
            ev.preventDefault();
            try { await api("PATCH", "/instances/" + encodeURIComponent(i.id), {config: readConfig(form, true)}); App.show("instances"); } catch (e) { errorLine(msg, e); }
          }}, h("h3", null, t("edit"), " ", i.id), configInputs(byName[i.plugin], i.config), h("button", {type: "submit"}, t("save")), " ",
            h("button", {type: "button", onclick: () => editor.replaceChildren()}, t("cancel")));
          editor.replaceChildren(form); form.querySelector("input")?.focus();
        }}, t("edit")), " ",
        h("button", {type: "button", dataset: {del: i.id}, onclick: async () => {
          if (!confirm(t("confirmDelete", i.id))) return;
          try { await api("DELETE", "/instances/" + encodeURIComponent(i.id)); App.show("instances"); } catch (e) { errorLine(msg, e); }
        }}, t("del")), " ",
        h("button", {type: "button", class: "danger", onclick: async () => {
          if (!confirm(t("confirmDeleteData", i.id))) return;
          try { await api("DELETE", "/instances/" + encodeURIComponent(i.id) + "?purge=true"); App.show("instances"); } catch (e) { errorLine(msg, e); }
        }}, t("delData")))]);
    const pluginSelect = h("select", {id: "nplugin"}, plugins.filter(p => p.status === "loaded").map(p => h("option", {value: p.name}, p.name)));
    const nform = h("div", {id: "nform"});
    const fill = () => nform.replaceChildren(...configInputs(byName[pluginSelect.value], null));
    pluginSelect.addEventListener("change", fill); fill();
    const create = h("form", {class: "card", onsubmit: async ev => {
      ev.preventDefault();
      try {
        await api("POST", "/instances", {id: $("#nid").value.trim(), plugin: pluginSelect.value, config: readConfig(nform, false)});
        App.show("instances");
      } catch (e) { errorLine(msg, e); }
    }}, h("h3", null, t("newInstance")), h("label", {for: "nid"}, t("id")), " ", h("input", {id: "nid", required: true}), " ",
      h("label", {for: "nplugin"}, t("plugin")), " ", pluginSelect, nform, h("button", {type: "submit", id: "create"}, t("create")), " ", msg);
    main.append(table([t("id"), t("plugin"), t("zone"), t("enabled"), t("config"), t("actions")], rows), editor, create);
  },

  async schedules(main) {
    const [list, instances, plugins] = await Promise.all([api("GET", "/schedules"), api("GET", "/instances"), api("GET", "/plugins")]);
    noteZones(instances);
    const jobs = jobsByPlugin(plugins);
    const preview = (input, out, zone) => {
      let timer = null;
      const run = async () => {
        try { const p = await api("GET", `/cron/preview?count=3&expr=${encodeURIComponent(input.value)}&tz=${encodeURIComponent(zone())}`);
          out.className = "muted preview"; out.textContent = t("next") + p.next.map(x => clock(x, zone())).join(", "); }
        catch (e) { out.className = "err preview"; out.textContent = e.message; }
      };
      input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(run, 250); });
      if (input.value) run();
      return run;
    };
    const si = instanceSelect("si", instances);
    const sj = h("select", {id: "sj"});
    const fillJobs = () => { const o = si.selectedOptions[0]; sj.replaceChildren(...(o ? (jobs[o.dataset.plugin] || []).map(j => h("option", {value: j.name}, j.name)) : [])); };
    si.addEventListener("change", fillJobs); fillJobs();
    const sc = h("input", {id: "sc", class: "cron", size: 18, placeholder: "*/10 9-23 * * *", "aria-label": t("cron")});
    const sz = h("input", {id: "sz", value: "UTC", size: 14, "aria-label": t("zone")});
    const spreview = h("div", {class: "muted preview", id: "spreview", role: "status"});
    const rerun = preview(sc, spreview, () => sz.value);
    sz.addEventListener("input", rerun);
    const smsg = h("span", {id: "smsg", role: "status"});
    const examples = h("p", {class: "muted"}, t("cronExamples"), ": ", CRON_EXAMPLES.map(([expr, zh, en]) => h("button", {type: "button", class: "link", onclick: () => {
      sc.value = expr; rerun();
    }}, `${expr} (${lang === "zh-CN" ? zh : en})`)));
    const form = h("form", {id: "newschedule", class: "card", onsubmit: async ev => {
      ev.preventDefault();
      try {
        const params = $("#sp").value.trim() ? JSON.parse($("#sp").value) : {};
        const body = {instance: si.value, job: sj.value, cron: sc.value, timezone: sz.value, params};
        if ($("#sn").value.trim()) body.name = $("#sn").value.trim();
        await api("POST", "/schedules", body);
        App.show("schedules");
      } catch (e) { smsg.replaceChildren(h("span", {class: "err", id: "serror"}, e.message)); }
    }}, h("h3", null, t("newSchedule")), h("label", {for: "si"}, t("instance")), " ", si, " ", h("label", {for: "sj"}, t("job")), " ", sj, " ",
      h("label", {for: "sn"}, t("name")), " ", h("input", {id: "sn", size: 12, placeholder: t("optionalUnique")}), " ",
      h("label", {for: "sc"}, t("cron")), " ", sc, " ", h("label", {for: "sz"}, t("zone")), " ", sz, " ",
      h("label", {for: "sp"}, t("params")), " ", h("input", {id: "sp", size: 24, placeholder: '{"dates": "T-3..T-1"}'}), " ",
      h("button", {type: "submit", id: "sadd"}, t("add")), spreview, examples, smsg);
    const rows = list.map(sch => {
      const cron = h("input", {class: "cron", dataset: {id: sch.id}, value: sch.cron, size: 18, "aria-label": t("cron") + " " + (sch.name || sch.id)});
      const out = h("div", {class: "muted preview"});
      preview(cron, out, () => sch.timezone);
      const enabled = h("input", {type: "checkbox", class: "en", dataset: {id: sch.id}, checked: sch.enabled, "aria-label": t("enabled")});
      return [h("span", null, sch.name || "-", sch.note ? h("div", {class: "muted"}, sch.note) : ""), sch.instance, sch.job, h("code", null, JSON.stringify(sch.params)),
        h("span", null, cron, out), sch.timezone, enabled, sch.next_run_at ? when(sch.next_run_at, sch.timezone) : "-", sch.last_status ? statusTag(sch.last_status) : "-",
        h("span", null, h("button", {type: "button", class: "save", dataset: {id: sch.id}, onclick: async () => {
          try { await api("PATCH", "/schedules/" + sch.id, {cron: cron.value, enabled: enabled.checked}); App.show("schedules"); } catch (e) { errorLine(out, e); }
        }}, t("save")), " ", h("button", {type: "button", onclick: async () => {
          if (!confirm(t("confirmDeleteSchedule", sch.name || sch.id))) return;
          try { await api("DELETE", "/schedules/" + sch.id); App.show("schedules"); } catch (e) { errorLine(out, e); }
        }}, t("del")))];
    });
    main.append(form, table([t("name"), t("instance"), t("job"), t("params"), t("cron"), t("zone"), t("enabled"), t("next").replace(/[:：]\s*$/, ""), t("last"), t("actions")], rows));
  },

  async runs(main) {
    const [instances, plugins] = await Promise.all([api("GET", "/instances"), api("GET", "/plugins")]);
    noteZones(instances);
    const jobs = jobsByPlugin(plugins);
    const ri = instanceSelect("ri", instances), rj = h("select", {id: "rj"}), rparams = h("div", {id: "rparams"}), rmsg = h("span", {id: "rmsg", role: "status"});
    const fillParams = () => {
      const o = ri.selectedOptions[0]; const job = (jobs[o?.dataset.plugin] || []).find(j => j.name === rj.value);
      rparams.replaceChildren(...(job?.params || []).map(k => h("span", {class: "field"}, h("label", {for: "rp-" + k.key}, k.key), " ",
        h("input", {id: "rp-" + k.key, dataset: {key: k.key, type: k.type}, placeholder: k.description, size: 16}))));
    };
    const fillJobs = () => { const o = ri.selectedOptions[0]; rj.replaceChildren(...(o ? (jobs[o.dataset.plugin] || []).map(j => h("option", {value: j.name}, j.name)) : [])); fillParams(); };
    ri.addEventListener("change", fillJobs); rj.addEventListener("change", fillParams); fillJobs();
    const form = h("form", {class: "card", onsubmit: async ev => {
      ev.preventDefault();
      const p = {};
      for (const el of rparams.querySelectorAll("input")) if (el.value.trim()) p[el.dataset.key] = el.dataset.type === "boolean" ? el.value.trim() === "true" : el.dataset.type === "integer" ? Number(el.value) : el.value.trim();
      try { const r = await api("POST", `/instances/${encodeURIComponent(ri.value)}/jobs/${encodeURIComponent(rj.value)}/run`, {params: p, dry_run: $("#rdry").checked});
        rmsg.replaceChildren(h("span", {class: "ok"}, t("queued", r.run_id))); } catch (e) { errorLine(rmsg, e); }
    }}, h("h3", null, t("runNow")), h("label", {for: "ri"}, t("instance")), " ", ri, " ", h("label", {for: "rj"}, t("job")), " ", rj, rparams,
      h("label", null, h("input", {type: "checkbox", id: "rdry"}), " ", t("dryRun")), " ", h("button", {type: "submit", id: "rgo"}, t("run")), " ", rmsg);
    const list = h("div", {id: "runlist"});
    const paint = async () => {
      const runs = await api("GET", "/runs?limit=50");
      list.replaceChildren(table([t("started"), t("instance"), t("job"), t("trigger"), t("status"), t("fetched"), t("ins"), t("upd"), t("unch"), t("dels"), t("message"), ""],
        runs.runs.map(r => ({attrs: {dataset: {run: r.id}}, cells: [when(r.started_at || r.run_at || r.created_at, zoneOf(r.instance)), r.instance, r.job + (r.dry_run ? " (dry)" : ""), r.trigger,
          h("span", null, statusTag(r.status), r.status === "running" ? progressBars(r) : ""),
          r.counts.fetched, r.counts.inserted, r.counts.updated, r.counts.unchanged, r.counts.deleted, r.error || r.message || "",
          h("span", null, ["queued", "running"].includes(r.status) ? h("button", {type: "button", dataset: {cancel: r.id}, onclick: async () => {
            try { await api("POST", `/runs/${r.id}/cancel`); } catch (e) { alert(e.message); } paint(); }}, t("cancelRun")) : "",
          r.log ? h("details", null, h("summary", null, t("showLog")), h("pre", {class: "log"}, r.log)) : "")]}))));
    };
    await paint();
    main.append(form, list);
    return (type, data) => {
      if (type === "run.progress") applyProgress(data);
      if (type === "run.started" || type === "run.finished") App.soon("runs", paint);
    };
  },

  async data(main) {
    const instances = await api("GET", "/instances");
    noteZones(instances);
    if (!dataState.instance && instances.length) dataState.instance = instances[0].id;
    const select = instanceSelect("di", instances, dataState.instance);
    select.addEventListener("change", () => { dataState = {instance: select.value}; App.show("data"); });
    main.append(h("p", null, h("label", {for: "di"}, t("instance")), " ", select));
    if (!dataState.instance) return;
    const inst = encodeURIComponent(dataState.instance), zone = zoneOf(dataState.instance);
    const cols = await api("GET", `/instances/${inst}/collections`);
    if (!cols.collections.some(c => c.name === dataState.collection)) dataState.collection = (cols.collections[0] || {}).name;
    main.append(table([t("collection"), t("records"), t("deleted"), t("lastSynced")], cols.collections.map(c => [
      h("a", {href: `?view=data&instance=${inst}&collection=${encodeURIComponent(c.name)}`, dataset: {col: c.name}, onclick: ev => {
        ev.preventDefault(); dataState.collection = c.name; App.show("data"); }}, c.name), c.records, c.deleted, when(c.last_synced_at, zone)])));
    if (!dataState.collection) return;
    const q = dataState.live ? "?limit=50&cache=live" : "?limit=50";
    dataState.live = false;
    const page = await api("GET", `/instances/${inst}/collections/${encodeURIComponent(dataState.collection)}${q}`);
    const out = h("span", {role: "status"});
    const exportBtn = f => h("button", {type: "button", dataset: {export: f}, onclick: () =>
      download(`/instances/${inst}/export/${encodeURIComponent(dataState.collection)}?format=${f}`, `${dataState.instance}-${dataState.collection}.${f}`).catch(e => errorLine(out, e))}, t(f === "csv" ? "exportCsv" : "exportJson"));
    main.append(h("h3", null, dataState.collection, " ", h("button", {type: "button", id: "live-read", onclick: () => { dataState.live = true; App.show("data"); }}, t("refreshLive")), " ",
      exportBtn("csv"), " ", exportBtn("json"), " ", out),
      h("p", {id: "source"}, t("source"), ": ", h("b", null, page.source === "live" ? t("liveData") : t("cache")), page.stale ? h("span", {class: "err"}, ` (${t("stale")}: ${page.upstream_error})`) : "",
        " · ", t("lastSynced"), ": ", when(page.last_synced_at, zone)),
      table([t("key"), t("synced"), t("changed"), "data"], page.records.map(r => [r.key, when(r.synced_at, zone), when(r.changed_at, zone), h("pre", null, JSON.stringify(r.data).slice(0, 400))])));
    return (type, data) => { if (type === "records.changed" && data.instance === dataState.instance && data.collection === dataState.collection) App.soon("page", () => App.show("data", true)); };
  },

  async notifications(main) {
    const [n, instances, plugins] = await Promise.all([api("GET", "/notifications?limit=50"), api("GET", "/instances"), api("GET", "/plugins")]);
    // Channels are the instances of notifier plugins (by the kind their manifests declare, not by name).
    const notifiers = new Set(plugins.filter(p => p.kind === "notifier").map(p => p.name));
    const nmsg = h("span", {id: "nmsg", role: "status"});
    main.append(h("form", {class: "card", onsubmit: async ev => {
      ev.preventDefault();
      try { await api("POST", "/notifications/test", {channel: $("#nc").value, text: $("#nt").value}); App.show("notifications"); } catch (e) { errorLine(nmsg, e); }
    }}, h("h3", null, t("testMessage")), h("label", {for: "nc"}, t("channel")), " ", instanceSelect("nc", instances, null, i => notifiers.has(i.plugin)), " ",
      h("input", {id: "nt", size: 40, value: "synchost test message", "aria-label": t("text")}), " ", h("button", {type: "submit", id: "ngo"}, t("send")), " ", nmsg),
    h("p", null, t("outbox"), ": ", n.depth),
    table([t("created"), t("channel"), t("state"), t("attempts"), t("text"), t("error"), ""], n.notifications.map(x => [when(x.created_at), x.channel, statusTag(x.state), x.attempts,
      h("pre", null, x.message.text.slice(0, 200)), x.last_error || x.detail || "",
      ["dead", "unknown"].includes(x.state) ? h("button", {type: "button", onclick: async () => {
        try { await api("POST", `/notifications/${x.id}/retry`); App.show("notifications"); } catch (e) { errorLine(nmsg, e); } }}, t("retry")) : ""])));
    return type => { if (type.startsWith("notification.")) App.soon("page", () => App.show("notifications", true)); };
  },

  async alerts(main) {
    const [active, history, rules, instances, plugins] = await Promise.all([api("GET", "/alerts"), api("GET", "/alerts?state=all&limit=50"),
      api("GET", "/alert-rules"), api("GET", "/instances"), api("GET", "/plugins")]);
    noteZones(instances);
    const notifiers = new Set(plugins.filter(p => p.kind === "notifier").map(p => p.name));
    const amsg = h("span", {id: "amsg", role: "status"});
    const kinds = ["consecutive_failures", "failures_24h", "no_success_for", "health_below", "stale_collection", "run_slower_than", "run_slower_than_median",
      "fetched_below_median", "zero_rows_business_day", "upstream_errors"];
    const jobs = [...new Set(plugins.flatMap(p => (p.jobs || []).map(j => j.name || j)))].sort();
    const sev = x => h("span", {class: x === "critical" ? "err" : x === "warning" ? "warn" : "muted"}, t("sev_" + x));
    const alertRows = list => list.map(a => [when(a.fired_at, zoneOf(a.instance)), a.instance, sev(a.severity), a.rule_name, a.message,
      a.state === "active" ? statusTag("active") : h("span", null, statusTag("resolved"), " ", when(a.resolved_at, zoneOf(a.instance)))]);
    // One form adds a rule or, after 编辑/Edit on a row, replaces that rule (PUT keeps its id and switch).
    let editing = null;
    const heading = h("h3", {id: "aformtitle"}, t("newRule"));
    const submit = h("button", {type: "submit", id: "aadd"}, t("add"));
    const stopEditing = h("button", {type: "button", id: "acancel", hidden: true, onclick: () => App.show("alerts", true)}, t("cancel"));
    const ruleBody = r => {
      const b = {name: r.name, kind: r.kind, threshold: r.threshold, severity: r.severity, repeat_minutes: r.repeat_minutes, channels: r.channels, enabled: r.enabled};
      for (const k of ["instance", "collection", "job", "error_class"]) if (r[k]) b[k] = r[k];
      return b;
    };
    const edit = r => {
      editing = r;
      $("#an").value = r.name; $("#ak").value = r.kind; $("#ai").value = r.instance || ""; $("#acol").value = r.collection || "";
      $("#aj").value = r.job || ""; $("#ae").value = r.error_class || "any"; $("#at").value = r.threshold; $("#as").value = r.severity;
      $("#ar").value = r.repeat_minutes;
      for (const o of $("#ac").options) o.selected = r.channels.includes(o.value);
      heading.textContent = t("edit") + " · " + r.name;
      submit.textContent = t("save");
      stopEditing.hidden = false;
      $("#an").focus();
    };
    const form = h("form", {class: "card", onsubmit: async ev => {
      ev.preventDefault();
      const body = {name: $("#an").value.trim(), kind: $("#ak").value, threshold: Number($("#at").value), severity: $("#as").value,
        repeat_minutes: Number($("#ar").value || 60), channels: [...$("#ac").selectedOptions].map(o => o.value)};
      if ($("#ai").value) body.instance = $("#ai").value;
      if ($("#acol").value.trim()) body.collection = $("#acol").value.trim();
      if ($("#aj").value) body.job = $("#aj").value;
      if (body.kind === "upstream_errors") body.error_class = $("#ae").value;
      try {
        if (editing) await api("PUT", "/alert-rules/" + encodeURIComponent(editing.id), {...body, enabled: editing.enabled});
        else await api("POST", "/alert-rules", body);
        App.show("alerts");
      } catch (e) { errorLine(amsg, e); }
    }}, heading,
      h("label", {for: "an"}, t("name")), " ", h("input", {id: "an", size: 24, required: true}), " ",
      h("label", {for: "ak"}, t("kind")), " ", h("select", {id: "ak"}, kinds.map(k => h("option", {value: k}, t("kind_" + k)))), " ",
      h("label", {for: "ai"}, t("instance")), " ", h("select", {id: "ai"}, h("option", {value: ""}, t("all")), instances.filter(i => !notifiers.has(i.plugin)).map(i => h("option", {value: i.id}, i.id))), " ",
      h("label", {for: "acol"}, t("collection")), " ", h("input", {id: "acol", size: 12}), " ",
      h("label", {for: "aj"}, t("job")), " ", h("select", {id: "aj"}, h("option", {value: ""}, t("all")), jobs.map(j => h("option", {value: j}, j))), " ",
      h("label", {for: "ae"}, t("errorClass")), " ", h("select", {id: "ae"}, ["timeout", "rate_limit", "auth", "any"].map(x => h("option", {value: x}, t("err_" + x)))), " ",
      h("label", {for: "at"}, t("threshold")), " ", h("input", {id: "at", type: "number", step: "any", required: true, size: 6}), " ",
      h("label", {for: "as"}, t("severity")), " ", h("select", {id: "as"}, ["warning", "critical", "info"].map(x => h("option", {value: x}, t("sev_" + x)))), " ",
      h("label", {for: "ar"}, t("repeatMinutes")), " ", h("input", {id: "ar", type: "number", value: 60, size: 5}), " ",
      h("label", {for: "ac"}, t("channel")), " ", h("select", {id: "ac", multiple: true}, instances.filter(i => notifiers.has(i.plugin)).map(i => h("option", {value: i.id}, i.id))), " ",
      submit, " ", stopEditing, " ", amsg);
    main.append(
      h("section", {class: "card"}, h("h3", null, t("activeAlerts")), active.alerts.length ? table([t("at"), t("instance"), t("severity"), t("rule"), t("message"), t("state")],
        alertRows(active.alerts)) : h("p", {class: "muted"}, t("none"))),
      h("section", {class: "card"}, h("h3", null, t("alertRules")), table([t("name"), t("kind"), t("instance"), t("threshold"), t("severity"), t("channel"), t("repeatMinutes"), t("enabled"), ""],
        rules.map(r => [r.name, t("kind_" + r.kind) + (r.collection ? ` (${r.collection})` : "") + (r.job ? ` · ${r.job}` : "") + (r.error_class ? ` · ${t("err_" + r.error_class)}` : ""), r.instance || t("all"), r.threshold, sev(r.severity),
          r.channels.length ? r.channels.join(", ") : h("span", {class: "muted"}, t("listOnly")), r.repeat_minutes,
          h("input", {type: "checkbox", checked: r.enabled, "aria-label": t("enabled") + " " + r.name, onchange: async ev => {
            try { await api("PUT", "/alert-rules/" + encodeURIComponent(r.id), {...ruleBody(r), enabled: ev.target.checked}); App.show("alerts", true); }
            catch (e) { ev.target.checked = r.enabled; errorLine(amsg, e); } }}),
          h("span", null, h("button", {type: "button", class: "edit-rule", "data-rule": r.id, onclick: () => edit(r)}, t("edit")), " ",
          h("button", {type: "button", onclick: async () => {
            if (!confirm(t("confirmDeleteRule", r.name))) return;
            try { await api("DELETE", "/alert-rules/" + encodeURIComponent(r.id)); App.show("alerts"); } catch (e) { errorLine(amsg, e); } }}, t("del")))]))),
      form,
      h("section", {class: "card"}, h("h3", null, t("alertHistory")), table([t("at"), t("instance"), t("severity"), t("rule"), t("message"), t("state")], alertRows(history.alerts))));
    return type => { if (type.startsWith("alert.")) App.soon("page", () => App.show("alerts", true)); };
  },

  async reports(main) {
    const [list, instances, plugins] = await Promise.all([api("GET", "/reports"), api("GET", "/instances"), api("GET", "/plugins")]);
    noteZones(instances);
    const notifiers = new Set(plugins.filter(p => p.kind === "notifier").map(p => p.name));
    const byName = Object.fromEntries(plugins.map(p => [p.name, p]));
    const connectors = instances.filter(i => !notifiers.has(i.plugin));
    const rmsg = h("span", {id: "rmsg", role: "status"});
    const preview = h("section", {class: "card", id: "rpreview", hidden: true});
    const words = v => v.split(",").map(x => x.trim()).filter(Boolean);
    // The views a report can read: the instance's plugin's tables and charts, labelled in the page's language.
    const viewOptions = id => {
      const i = instances.find(x => x.id === id);
      const views = ((i && byName[i.plugin]?.views) || []).filter(v => v.kind !== "summary");
      return views.map(v => h("option", {value: v.id}, (v.title?.[lang] || v.title?.en || v.id) + ` (${v.collection})`));
    };
    const rv = h("select", {id: "rv"}, viewOptions(connectors[0]?.id));
    const show = async r => {
      try {
        const p = await api("GET", `/reports/${encodeURIComponent(r.id)}/preview`);
        const rows = p.rows.map(row => row.map(c => c ?? ""));
        if (p.totals) rows.push(p.totals.map(c => h("strong", null, c ?? "")));
        preview.replaceChildren(h("h3", null, p.title, " · ", p.range, " (", p.zone, ")"), table(p.labels, rows, {class: "records"}));
        preview.hidden = false;
      } catch (e) { errorLine(rmsg, e); }
    };
    const form = h("form", {class: "card", onsubmit: async ev => {
      ev.preventDefault();
      const body = {name: $("#rn").value.trim(), instance: $("#ri").value, view: $("#rv").value, date_field: $("#rd").value.trim() || "@key",
        language: $("#rl").value, formats: ["html", "csv", "xlsx"].filter(f => $("#rf-" + f).checked),
        channels: [...$("#rc").selectedOptions].map(o => o.value)};
      if ($("#rr").value.trim()) body.range = $("#rr").value.trim(); else delete body.date_field;
      if (words($("#rfields").value).length) body.fields = words($("#rfields").value);
      if (words($("#rs").value).length) body.sums = words($("#rs").value);
      if ($("#rcron").value.trim()) body.cron = $("#rcron").value.trim();
      try { await api("POST", "/reports", body); App.show("reports"); } catch (e) { errorLine(rmsg, e); }
    }}, h("h3", null, t("newReport")),
      h("label", {for: "rn"}, t("name")), " ", h("input", {id: "rn", size: 24, required: true}), " ",
      h("label", {for: "ri"}, t("instance")), " ", h("select", {id: "ri", onchange: ev => rv.replaceChildren(...viewOptions(ev.target.value))},
        connectors.map(i => h("option", {value: i.id}, i.id))), " ",
      h("label", {for: "rv"}, t("view")), " ", rv, " ",
      h("label", {for: "rfields"}, t("fields")), " ", h("input", {id: "rfields", size: 20, placeholder: "@key, grade_9, grade_1"}), " ",
      h("label", {for: "rd"}, t("dateField")), " ", h("input", {id: "rd", size: 8, value: "@key"}), " ",
      h("label", {for: "rr"}, t("range")), " ", h("input", {id: "rr", size: 10, value: "T-7..T-1", title: t("rangeHint")}), " ",
      h("label", {for: "rs"}, t("sums")), " ", h("input", {id: "rs", size: 16, placeholder: "grade_9, grade_1"}), " ",
      h("label", {for: "rcron"}, t("cron")), " ", h("input", {id: "rcron", size: 12, placeholder: "0 8 * * *"}), " ",
      h("label", {for: "rc"}, t("channel")), " ", h("select", {id: "rc", multiple: true}, instances.filter(i => notifiers.has(i.plugin)).map(i => h("option", {value: i.id}, i.id))), " ",
      ["html", "csv", "xlsx"].map(f => h("label", null, h("input", {type: "checkbox", id: "rf-" + f, checked: true}), " ", f.toUpperCase(), " ")),
      h("label", {for: "rl"}, t("language")), " ", h("select", {id: "rl"}, h("option", {value: "zh-CN", selected: lang === "zh-CN"}, "中文"),
        h("option", {value: "en", selected: lang === "en"}, "English")), " ",
      h("button", {type: "submit", id: "radd"}, t("add")), " ", rmsg);
    main.append(
      h("section", {class: "card"}, h("h3", null, t("reports")), list.reports.length ? table([t("name"), t("instance"), t("source"), t("range"), t("cron"), t("channel"),
        t("nextFire"), t("lastOutcome"), ""], list.reports.map(x => { const r = x.report, z = zoneOf(r.instance); return [r.name, r.instance, r.view || r.collection,
        r.range || t("all"), r.cron || h("span", {class: "muted"}, t("onDemand")), (r.channels || []).join(", "), x.next_fire_at ? when(x.next_fire_at, z) : "",
        x.last_fired_at ? h("span", {class: x.last_failed ? "err" : null}, when(x.last_fired_at, z), " ", x.last_outcome || "") : t("never"),
        h("span", null,
          h("button", {type: "button", dataset: {preview: r.id}, onclick: () => show(r)}, t("preview")), " ",
          h("button", {type: "button", dataset: {xlsx: r.id}, onclick: () => download(`/reports/${encodeURIComponent(r.id)}/preview?format=xlsx`, r.id + ".xlsx")}, "XLSX"), " ",
          (r.channels || []).length ? h("button", {type: "button", onclick: async () => {
            try { const s = await api("POST", `/reports/${encodeURIComponent(r.id)}/run`); rmsg.replaceChildren(t("queued", s.ids.length)); } catch (e) { errorLine(rmsg, e); } }}, t("sendNow")) : "", " ",
          h("button", {type: "button", onclick: async () => {
            if (!confirm(t("confirmDeleteReport", r.name))) return;
            try { await api("DELETE", "/reports/" + encodeURIComponent(r.id)); App.show("reports"); } catch (e) { errorLine(rmsg, e); } }}, t("del")))]; })) :
        h("p", {class: "muted"}, t("none"))),
      preview, form);
    return type => { if (type.startsWith("notification.")) App.soon("page", () => App.show("reports", true)); };
  },

  async tokens(main) {
    const list = await api("GET", "/tokens?revoked=true");
    const tmsg = h("span", {id: "tmsg", role: "status"});
    main.append(h("form", {class: "card", onsubmit: async ev => {
      ev.preventDefault();
      try { const tk = await api("POST", "/tokens", {name: $("#tn").value.trim(), role: $("#tr").value});
        tmsg.replaceChildren(t("copyNow"), h("code", null, tk.token)); } catch (e) { errorLine(tmsg, e); }
    }}, h("h3", null, t("newToken")), h("label", {for: "tn"}, t("name")), " ", h("input", {id: "tn", placeholder: "grafana", size: 24}), " ",
      h("label", {for: "tr"}, t("role")), " ", h("select", {id: "tr"}, ["viewer", "operator", "admin"].map(r => h("option", {value: r}, r))), " ",
      h("button", {type: "submit", id: "tgo"}, t("create")), " ", tmsg),
    table([t("name"), t("role"), t("created"), t("by"), t("lastUsed"), t("revoked"), ""], list.map(tk => [tk.name, tk.role, when(tk.created_at), tk.created_by,
      when(tk.last_used_at), tk.revoked_at ? when(tk.revoked_at) : "", tk.revoked_at ? "" : h("button", {type: "button", dataset: {revoke: tk.id}, onclick: async () => {
        if (!confirm(t("confirmRevoke"))) return;
        try { await api("DELETE", "/tokens/" + encodeURIComponent(tk.id)); App.show("tokens"); } catch (e) { errorLine(tmsg, e); } }}, t("revoke"))])));
  },

  async audit(main) {
    const page = await api("GET", "/audit?limit=200");
    const brief = v => v == null ? "" : h("pre", null, JSON.stringify(v).slice(0, 300));
    main.append(h("p", {class: "muted"}, t("auditNote")), table([t("at"), t("actor"), t("from"), t("action"), t("target"), t("before"), t("after")],
      page.entries.map(e => [when(e.at), e.actor, e.source === "api" ? e.address : e.source, e.action, e.target, brief(e.before), brief(e.after)])));
  },
};

const App = {
  view: "overview", handler: null, timers: {}, poll: null,
  /** Runs `fn` once after a burst of events (300 ms), per key. */
  soon(key, fn) { clearTimeout(this.timers[key]); this.timers[key] = setTimeout(fn, 300); },
  login() {
    Live.stop();
    const tok = h("input", {id: "tok", type: "password", size: 50, placeholder: t("tokenHint"), autocomplete: "off"});
    $("#main").replaceChildren(h("form", {class: "card", onsubmit: ev => { ev.preventDefault(); sessionStorage.setItem("token", tok.value.trim()); App.show(App.view); }},
      h("h3", null, h("label", {for: "tok"}, t("adminToken"))), tok, " ", h("button", {type: "submit", id: "go"}, t("signIn"))));
    tok.focus();
  },
  nav() {
    const names = ["overview", "views", "instances", "schedules", "runs", "data", "notifications", "alerts", "reports", "tokens", "audit"];
    const langSelect = h("select", {id: "lang", "aria-label": t("language"), onchange: ev => { setLanguage(ev.target.value); App.nav(); App.show(App.view); }},
      h("option", {value: "zh-CN", selected: lang === "zh-CN"}, "中文"), h("option", {value: "en", selected: lang === "en"}, "English"));
    $("header").replaceChildren(h("strong", null, "synchost"), h("nav", {"aria-label": "main"}, names.map(v => h("a", {href: "?view=" + v, dataset: {view: v},
      class: v === App.view ? "on" : null, "aria-current": v === App.view ? "page" : null, onclick: ev => { ev.preventDefault(); App.show(v); }}, t(v)))),
      h("span", {class: "grow"}), h("span", {id: "live", class: "muted"}), langSelect,
      h("button", {type: "button", class: "link", onclick: () => { sessionStorage.removeItem("token"); App.login(); }}, t("signOut")));
    Live.status(Live.up);
  },
  async show(v, quiet) {
    if (!Views[v]) v = "overview";
    if (this.handler?.close) this.handler.close();
    this.handler = null; this.view = v;
    for (const a of document.querySelectorAll("header nav a")) { a.classList.toggle("on", a.dataset.view === v); a.toggleAttribute("aria-current", a.dataset.view === v); }
    if (!token()) return this.login();
    if (!Live.controller) Live.start();
    const main = h("main", {id: "main"});
    try {
      const handler = await Views[v](main);
      if (this.view !== v) { if (handler?.close) handler.close(); return; }
      $("#main").replaceWith(main);
      this.handler = handler;
    } catch (e) {
      if (e.status === 401) return;
      if (!quiet) $("#main").replaceChildren();
      $("#main").prepend(h("p", {class: "err", id: "error"}, e.message));
    }
  },
};
// Events go to the view on screen; without the stream, the page polls every 10 s instead.
Live.on((type, data) => {
  if (type === "reset") { App.show(App.view, true); return; }
  const handler = App.handler;
  if (typeof handler === "function") handler(type, data);
});
setInterval(() => { if (!Live.up && token() && ["overview", "runs", "notifications"].includes(App.view)) App.show(App.view, true); }, 10000);
setLanguage(lang, false);
fetch("/healthz").then(r => r.json()).then(hc => { Zones.host = hc.timezone || "UTC"; }).catch(() => {}).finally(() => { App.nav(); App.show(params.get("views") || params.get("view") || "overview"); });
