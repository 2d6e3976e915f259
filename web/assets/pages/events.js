// Events: the live stream of both event sources (Marathon's /v2/events and the operator API's
// SUBSCRIBE), newest first, with a text filter, a source/type filter and a Pause button.
// summarizeEvent (one line for an event) is also used by the overview.

import { clear, fmtNumber, fmtTime, h } from "../lib/dom.js";

const MAX_ROWS = 500;

// "prod_web.86053360-e12e-…" -> "prod_web.8605"
const shortId = (id) => {
  const s = String(id || "");
  const dot = s.lastIndexOf(".");
  return dot > 0 && s.length - dot > 9 ? s.slice(0, dot + 5) : s;
};
const taskRef = (id) => (id ? h("a", { href: `/tasks/${encodeURIComponent(id)}`, title: id }, shortId(id)) : "a task");
const appRef = (id) => (id ? h("a", { href: `/services/app/${String(id).replace(/^\/+/, "")}` }, id) : "an app");
const val = (x) => (x && typeof x === "object" && "value" in x ? x.value : x);
const on = (host) => (host ? ` on ${host}` : "");
const span = (...parts) => h("span", {}, ...parts);
const deployment = (d) => `deployment ${String((d && (d.id || (d.plan && d.plan.id))) || "").slice(0, 8)}`;
const planApps = (plan) => {
  const ids = new Set();
  for (const step of (plan && plan.steps) || []) for (const a of step.actions || []) if (a.app) ids.add(a.app);
  return [...ids].slice(0, 3).join(", ");
};

// One short line (a node) for an event {source, type, data, at} of either stream.
export function summarizeEvent(e) {
  const d = e.data || {};
  if (e.source === "operator") {
    switch (e.type) {
      case "TASK_ADDED": {
        const t = (d.task_added || {}).task || {};
        return span("task ", taskRef(val(t.task_id)), ` added (${t.state || "?"})`);
      }
      case "TASK_UPDATED": {
        const u = d.task_updated || {};
        const s = u.status || {};
        return span(taskRef(val(s.task_id)), ` ${u.state || s.state || ""}`, s.message ? ` — ${s.message}` : "");
      }
      case "AGENT_ADDED": {
        const a = (d.agent_added || {}).agent || {};
        const info = a.agent_info || {};
        return `agent ${info.hostname || val(info.id) || "?"} added`;
      }
      case "AGENT_REMOVED": return `agent ${val((d.agent_removed || {}).agent_id) || "?"} removed`;
      case "FRAMEWORK_ADDED":
      case "FRAMEWORK_UPDATED": {
        const f = (d.framework_added || d.framework_updated || {}).framework || {};
        const info = f.framework_info || {};
        return `framework ${info.name || val(info.id) || "?"} ${e.type === "FRAMEWORK_ADDED" ? "added" : `updated${f.active === false ? " (inactive)" : ""}`}`;
      }
      case "FRAMEWORK_REMOVED": {
        const info = (d.framework_removed || {}).framework_info || {};
        return `framework ${info.name || val(info.id) || "?"} removed`;
      }
      default: return e.type.toLowerCase().replace(/_/g, " ");
    }
  }
  switch (e.type) {
    case "status_update_event":
      return span(taskRef(d.taskId), ` ${d.taskStatus || ""}${on(d.host)}`, d.message ? ` — ${d.message}` : "");
    case "instance_changed_event":
      return span(taskRef(d.instanceId), ` is ${d.condition || "?"}${on(d.host)}`);
    case "health_status_changed_event":
      return span(taskRef(d.taskId || d.instanceId), d.alive ? " is healthy" : " is unhealthy");
    case "failed_health_check_event": return span("health check failed for ", taskRef(d.taskId || d.instanceId));
    case "unhealthy_instance_kill_event": return span("killed unhealthy ", taskRef(d.taskId), on(d.host));
    case "deployment_info": return `${deployment(d.plan)} started${planApps(d.plan) ? `: ${planApps(d.plan)}` : ""}`;
    case "deployment_success": return `${deployment(d)} succeeded`;
    case "deployment_failed": return `${deployment(d)} failed${d.reason ? ` (${d.reason})` : ""}`;
    case "deployment_step_success":
    case "deployment_step_failure": {
      const steps = (d.plan && d.plan.steps) || [];
      const i = steps.indexOf(steps.find((s) => JSON.stringify(s) === JSON.stringify(d.currentStep)));
      return `${deployment(d.plan)} step ${i >= 0 ? `${i + 1} of ${steps.length} ` : ""}${e.type.endsWith("success") ? "done" : "failed"}`;
    }
    case "api_post_event": return span("app ", appRef((d.appDefinition || {}).id), " changed through the API");
    case "app_terminated_event": return span("app ", appRef(d.appId), " terminated");
    case "group_change_success": return `group ${d.groupId || "/"} changed`;
    case "group_change_failed": return `group ${d.groupId || "/"} change failed${d.reason ? `: ${d.reason}` : ""}`;
    case "event_stream_attached": return `event stream attached from ${d.remoteAddress || "?"}`;
    case "event_stream_detached": return `event stream detached from ${d.remoteAddress || "?"}`;
    default: return e.type.replace(/_/g, " ");
  }
}

const copy = (x) => (x instanceof Node ? x.cloneNode(true) : x);
// Text of a node or string, for filtering.
const textOf = (x) => (x instanceof Node ? x.textContent : String(x));

export default {
  title: "Events",
  mount(root, _params, { live }) {
    const text = h("input", { id: "event-filter", type: "search", autocomplete: "off", placeholder: "Type, task, app, host…" });
    const kind = h("select", { id: "event-kind" });
    const pause = h("button", { type: "button", "aria-pressed": "false" }, "Pause");
    const resume = h("button", { type: "button", class: "primary more", hidden: true });
    const count = h("p", { class: "muted", role: "status", "aria-live": "polite" });
    const body = h("tbody");
    clear(root,
      h("h1", {}, "Events"),
      h("div", { class: "toolbar filters" },
        h("div", { class: "grow" }, h("label", { for: "event-filter" }, "Filter"), text),
        h("div", {}, h("label", { for: "event-kind" }, "Source or type"), kind),
        h("div", { class: "toolbar-buttons" }, pause, resume)),
      count,
      h("div", { class: "table-wrap" }, h("table", { class: "grid events-table", "aria-label": "Events, newest first" },
        h("thead", {}, h("tr", {}, ["Time", "Source", "Type", "Summary"].map((t) => h("th", { scope: "col" }, t)))),
        body)));

    let paused = false;
    let snapshot = [];  // what is shown while paused
    let missed = 0;
    let frame = 0;
    const types = new Set();
    const summaries = new WeakMap();  // event -> {node, text}
    const summary = (e) => {
      let s = summaries.get(e);
      if (!s) {
        const node = summarizeEvent(e);
        s = { node, text: `${e.source} ${e.type} ${textOf(node)}`.toLowerCase() };
        summaries.set(e, s);
      }
      return s;
    };
    const drawKinds = () => {
      const current = kind.value;
      clear(kind, h("option", { value: "" }, "All events"),
        h("optgroup", { label: "Source" }, h("option", { value: "source:marathon" }, "Marathon"),
          h("option", { value: "source:operator" }, "Operator")),
        h("optgroup", { label: "Type" }, [...types].sort().map((t) => h("option", { value: `type:${t}` }, t))));
      kind.value = current;
      if (kind.value !== current) kind.value = "";
    };
    const draw = () => {
      frame = 0;
      const needle = text.value.trim().toLowerCase();
      const [field, wanted] = kind.value ? kind.value.split(/:(.*)/s) : [null, null];
      const events = paused ? snapshot : live.events;
      const rows = [];
      let matching = 0;
      for (let i = events.length - 1; i >= 0; i--) {
        const e = events[i];
        if (field === "source" && e.source !== wanted) continue;
        if (field === "type" && e.type !== wanted) continue;
        if (needle && !summary(e).text.includes(needle)) continue;
        matching++;
        if (rows.length < MAX_ROWS) rows.push(e);
      }
      clear(body, rows.length ? rows.map((e) => h("tr", {},
        h("td", { "data-label": "Time" }, h("time", { datetime: new Date(e.at).toISOString(), title: fmtTime(e.at) },
          new Date(e.at).toLocaleTimeString())),
        h("td", { "data-label": "Source" }, e.source),
        h("td", { "data-label": "Type", class: "mono" }, e.type),
        h("td", { "data-label": "Summary" }, copy(summary(e).node))))
        : h("tr", {}, h("td", { colspan: 4, class: "empty" },
          events.length ? "No event matches the filters." : "No events yet: they appear here as the cluster changes.")));
      count.textContent = `${fmtNumber(matching)} of ${fmtNumber(events.length)} recent events${paused ? " (paused)" : ""}.`;
    };
    const schedule = () => { if (!frame) frame = requestAnimationFrame(draw); };
    const setPaused = (p) => {
      paused = p;
      snapshot = live.events.slice();
      missed = 0;
      pause.textContent = p ? "Paused" : "Pause";
      pause.setAttribute("aria-pressed", String(p));
      resume.hidden = true;
      schedule();
    };
    pause.addEventListener("click", () => setPaused(!paused));
    resume.addEventListener("click", () => { setPaused(false); pause.focus(); });
    text.addEventListener("input", schedule);
    kind.addEventListener("change", schedule);

    for (const e of live.events) types.add(e.type);
    drawKinds();
    draw();
    const stop = live.onEvent((e) => {
      if (!types.has(e.type)) {
        types.add(e.type);
        if (document.activeElement !== kind) drawKinds();
      }
      if (paused) {
        missed++;
        resume.hidden = false;
        resume.textContent = `${fmtNumber(missed)} new event${missed === 1 ? "" : "s"}: resume`;
        return;
      }
      schedule();
    });
    kind.addEventListener("blur", drawKinds);
    return { destroy: () => { stop(); if (frame) cancelAnimationFrame(frame); } };
  },
};
