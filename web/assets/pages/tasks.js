// Tasks: every task the master knows (running and completed) from /master/state, filtered by
// text, state and framework, live through live.watch("state"). The helpers exported here are
// shared with the nodes and task pages.

import { describeError } from "../lib/api.js";
import { badge, clear, errorBox, fmtAgo, fmtCpus, fmtMem, fmtNumber, fmtTime, h, table } from "../lib/dom.js";

const TERMINAL = new Set(["TASK_FINISHED", "TASK_FAILED", "TASK_KILLED", "TASK_LOST", "TASK_ERROR", "TASK_DROPPED",
  "TASK_GONE", "TASK_GONE_BY_OPERATOR"]);
export const isTerminal = (state) => TERMINAL.has(state);
const PAGE = 250;  // rows drawn at once; "Show more" adds as many

// Every task in the state: [{task, framework (name), frameworkId, completed, host}], each id once.
export function collectTasks(state) {
  const hosts = new Map((state.slaves || []).map((a) => [a.id, a.hostname]));
  const names = new Map((state.frameworks || []).map((f) => [f.id, f.name]));
  const seen = new Set();
  const out = [];
  const add = (t, completed) => {
    if (!t || seen.has(t.id)) return;
    seen.add(t.id);
    const agentId = t.agent_id || t.slave_id;
    out.push({ task: t, id: t.id, agentId, host: hosts.get(agentId) || "", frameworkId: t.framework_id,
      framework: names.get(t.framework_id) || t.framework_id || "", completed: completed || isTerminal(t.state) });
  };
  for (const f of state.frameworks || []) for (const t of f.tasks || []) add(t, false);
  for (const f of state.frameworks || []) for (const t of f.completed_tasks || []) add(t, true);
  for (const t of state.completed_tasks || []) add(t, true);
  return out;
}

// The latest status that says something about health: "healthy", "unhealthy" or "".
export function taskHealth(t) {
  const statuses = t.statuses || [];
  for (let i = statuses.length - 1; i >= 0; i--) {
    if (typeof statuses[i].healthy === "boolean") return statuses[i].healthy ? "healthy" : "unhealthy";
  }
  return "";
}

// {started (its TASK_RUNNING status), updated} in epoch seconds from the task's statuses (null when unknown).
export function taskTimes(t) {
  const statuses = t.statuses || [];
  const running = statuses.find((s) => s.state === "TASK_RUNNING");
  const last = statuses[statuses.length - 1];
  return { started: running ? running.timestamp : null, updated: last ? last.timestamp : null };
}

export const healthBadge = (t) => {
  const health = taskHealth(t);
  return health ? badge(health) : h("span", { class: "muted" }, "—");
};
export const timeCell = (t) => (t ? h("time", { title: fmtTime(t), datetime: new Date(t * 1000).toISOString() }, fmtAgo(t)) : "—");
export const taskLink = (id, text) => h("a", { href: `/tasks/${encodeURIComponent(id)}` }, text || id);
export const nodeLink = (id, host) => (id ? h("a", { href: `/nodes/${encodeURIComponent(id)}` }, host || id) : "—");

// The tasks table; `rows` from collectTasks. options: {label, empty, hide: ["host", ...]}.
export function tasksTable(rows, options = {}) {
  const hide = new Set(options.hide || []);
  const columns = [
    { key: "name", title: "Name", cell: (r) => taskLink(r.id, r.task.name || r.id) },
    { key: "id", title: "ID", cell: (r) => taskLink(r.id), class: "task-id" },
    { key: "state", title: "State", cell: (r) => badge(r.task.state) },
    { key: "health", title: "Health", cell: (r) => healthBadge(r.task) },
    { key: "host", title: "Host", cell: (r) => nodeLink(r.agentId, r.host) },
    { key: "framework", title: "Framework", cell: (r) => r.framework },
    { key: "cpus", title: "CPU", cell: (r) => fmtCpus((r.task.resources || {}).cpus), class: "num" },
    { key: "mem", title: "Memory", cell: (r) => fmtMem((r.task.resources || {}).mem), class: "num" },
    { key: "started", title: "Started", cell: (r) => timeCell(taskTimes(r.task).started) },
    { key: "updated", title: "Updated", cell: (r) => timeCell(taskTimes(r.task).updated) },
  ].filter((c) => !hide.has(c.key));
  return table(columns, rows, { label: options.label || "Tasks", empty: options.empty || "No tasks." });
}

// Active tasks by name, then completed ones newest first.
export function sortTasks(rows) {
  const updated = new Map(rows.map((r) => [r, taskTimes(r.task).updated || 0]));
  return rows.sort((a, b) => (a.completed - b.completed)
    || (a.completed ? updated.get(b) - updated.get(a) : 0)
    || String(a.task.name).localeCompare(String(b.task.name)) || a.id.localeCompare(b.id));
}

export default {
  title: "Tasks",
  mount(root, _params, { live, query }) {
    const text = h("input", { id: "task-filter", type: "search", value: query.get("q") || "", autocomplete: "off",
      placeholder: "Name, ID or host" });
    const stateSel = h("select", { id: "task-state" },
      [["active", "Active"], ["completed", "Completed"], ["all", "All"]].map(([v, l]) => h("option", { value: v }, l)));
    stateSel.value = ["active", "completed", "all"].includes(query.get("state")) ? query.get("state") : "active";
    const fwSel = h("select", { id: "task-framework" }, h("option", { value: "" }, "All frameworks"));
    const wantedFw = query.get("framework") || "";
    const count = h("p", { class: "muted", role: "status", "aria-live": "polite" });
    const problems = h("div");
    const list = h("div");
    const more = h("button", { type: "button", class: "more", hidden: true, onclick: () => { shown += PAGE; draw(); } }, "Show more");
    clear(root,
      h("h1", {}, "Tasks"),
      problems,
      h("div", { class: "toolbar filters" },
        h("div", { class: "grow" }, h("label", { for: "task-filter" }, "Filter"), text),
        h("div", {}, h("label", { for: "task-state" }, "State"), stateSel),
        h("div", {}, h("label", { for: "task-framework" }, "Framework"), fwSel)),
      count, list, more);

    let state = null;
    let rows = [];          // all tasks, sorted
    let shown = PAGE;
    let frame = 0;

    const syncUrl = () => {
      const q = new URLSearchParams();
      if (text.value) q.set("q", text.value);
      if (stateSel.value !== "active") q.set("state", stateSel.value);
      if (fwSel.value) q.set("framework", fwSel.value);
      const s = q.toString();
      history.replaceState(null, "", `/tasks${s ? `?${s}` : ""}`);
    };
    const draw = () => {
      frame = 0;
      if (!state) return;
      const needle = text.value.trim().toLowerCase();
      const which = stateSel.value;
      const fw = fwSel.value;
      const matching = rows.filter((r) => (which === "all" || (which === "completed") === r.completed)
        && (!fw || r.frameworkId === fw)
        && (!needle || String(r.task.name).toLowerCase().includes(needle) || r.id.toLowerCase().includes(needle)
          || r.host.toLowerCase().includes(needle) || String(r.agentId).toLowerCase().includes(needle)));
      const visible = matching.slice(0, shown);
      count.textContent = matching.length > visible.length
        ? `Showing ${fmtNumber(visible.length)} of ${fmtNumber(matching.length)} tasks (${fmtNumber(rows.length)} in all).`
        : `${fmtNumber(matching.length)} of ${fmtNumber(rows.length)} tasks.`;
      clear(list, tasksTable(visible, { empty: rows.length ? "No task matches these filters." : "No tasks yet." }));
      more.hidden = matching.length <= visible.length;
      more.textContent = `Show ${fmtNumber(Math.min(PAGE, matching.length - visible.length))} more`;
    };
    const schedule = () => { if (!frame) frame = requestAnimationFrame(draw); };
    const onFilter = () => { shown = PAGE; syncUrl(); schedule(); };
    text.addEventListener("input", onFilter);
    stateSel.addEventListener("change", onFilter);
    fwSel.addEventListener("change", onFilter);

    const drawFrameworks = () => {
      const current = fwSel.value || wantedFw;
      const fws = (state.frameworks || []).map((f) => [f.id, f.name || f.id]);
      for (const r of rows) if (!fws.some(([id]) => id === r.frameworkId)) fws.push([r.frameworkId, r.framework]);
      const key = fws.map(([id, n]) => id + n).join();
      if (fwSel.dataset.key === key) return;
      fwSel.dataset.key = key;
      clear(fwSel, h("option", { value: "" }, "All frameworks"), fws.map(([id, n]) => h("option", { value: id }, n)));
      fwSel.value = fws.some(([id]) => id === current) ? current : "";
    };
    const stop = live.watch("state", (v, e) => {
      clear(problems, e ? errorBox(`Could not load the tasks: ${describeError(e)}`) : null);
      if (!v) return;
      state = v;
      rows = sortTasks(collectTasks(v));
      drawFrameworks();
      schedule();
    });
    if (!state) count.textContent = "Loading tasks…";
    return { destroy: () => { stop(); if (frame) cancelAnimationFrame(frame); } };
  },
};
