// Overview: what the cluster has and uses (per role too), how many agents, services, tasks by
// state, unhealthy instances and running deployments, and the latest events — all live.

import { badge, bar, clear, fmtCpus, fmtMem, fmtNumber, h, section, stat, table, fmtAgo, errorBox } from "../lib/dom.js";
import { summarizeEvent } from "./events.js";

const SCALARS = [["cpus", "CPU", fmtCpus], ["mem", "Memory", fmtMem], ["disk", "Disk", fmtMem]];

// Every task the master knows about: [{...task, framework}] from /master/state.
export function allTasks(state) {
  const out = [];
  for (const fw of state.frameworks || []) for (const t of fw.tasks || []) out.push({ ...t, frameworkName: fw.name });
  return out;
}

function totals(state) {
  const total = { cpus: 0, mem: 0, disk: 0 };
  const used = { cpus: 0, mem: 0, disk: 0 };
  for (const a of state.slaves || []) {
    if (!a.active) continue;
    for (const k of Object.keys(total)) {
      total[k] += (a.resources || {})[k] || 0;
      used[k] += (a.used_resources || {})[k] || 0;
    }
  }
  return { total, used };
}

function byRole(tasks) {
  const roles = new Map();
  for (const t of tasks) {
    if (t.state !== "TASK_RUNNING" && t.state !== "TASK_STAGING" && t.state !== "TASK_STARTING") continue;
    const r = roles.get(t.role || "*") || { role: t.role || "*", cpus: 0, mem: 0, disk: 0, tasks: 0 };
    for (const k of ["cpus", "mem", "disk"]) r[k] += (t.resources || {})[k] || 0;
    r.tasks += 1;
    roles.set(r.role, r);
  }
  return [...roles.values()].sort((a, b) => a.role.localeCompare(b.role));
}

export default {
  title: "Overview",
  mount(root, _params, { live }) {
    const stats = h("div", { class: "stats", "aria-label": "Cluster counts" });
    const allocation = h("div", { class: "meters" });
    const roles = h("div");
    const states = h("div");
    const recent = h("ol", { class: "event-list", "aria-label": "Latest events" });
    clear(root,
      h("h1", {}, "Overview"),
      stats,
      h("div", { class: "columns" },
        section("Allocation", allocation, h("h3", {}, "By role"), roles),
        section("Tasks by state", states)),
      section("Latest events", recent, h("p", {}, h("a", { href: "/events" }, "All events"))));

    let state = null, apps = null, deployments = null;
    const draw = () => {
      const tasks = state ? allTasks(state) : [];
      const agents = state ? state.slaves || [] : [];
      const appList = apps ? apps.apps || [] : [];
      const unhealthy = appList.reduce((n, a) => n + (a.tasksUnhealthy || 0), 0);
      clear(stats,
        stat("Agents active", state ? `${agents.filter((a) => a.active).length} / ${agents.length}` : "…", "/nodes"),
        stat("Services", apps ? fmtNumber(appList.length) : "…", "/services"),
        stat("Tasks running", state ? fmtNumber(tasks.filter((t) => t.state === "TASK_RUNNING").length) : "…", "/tasks"),
        stat("Unhealthy instances", apps ? fmtNumber(unhealthy) : "…", "/services"),
        stat("Deployments running", deployments ? fmtNumber(deployments.length) : "…", "/deployments"));
      if (!state) return;
      const { total, used } = totals(state);
      clear(allocation, SCALARS.map(([k, label, f]) => bar(label, used[k], total[k], f)));
      clear(roles, table([
        { title: "Role", cell: (r) => r.role },
        { title: "CPU", cell: (r) => fmtCpus(r.cpus), class: "num" },
        { title: "Memory", cell: (r) => fmtMem(r.mem), class: "num" },
        { title: "Disk", cell: (r) => fmtMem(r.disk), class: "num" },
        { title: "Tasks", cell: (r) => fmtNumber(r.tasks), class: "num" },
      ], byRole(tasks), { label: "Allocation by role", empty: "No task holds resources." }));
      const counts = new Map();
      for (const t of [...tasks, ...(state.completed_tasks || [])]) counts.set(t.state, (counts.get(t.state) || 0) + 1);
      clear(states, table([
        { title: "State", cell: ([s]) => badge(s) },
        { title: "Tasks", cell: ([, n]) => fmtNumber(n), class: "num" },
      ], [...counts.entries()].sort((a, b) => b[1] - a[1]), { label: "Tasks by state", empty: "No tasks yet." }));
    };
    const drawEvents = () => {
      const latest = live.events.slice(-10).reverse();
      clear(recent, latest.length
        ? latest.map((e) => h("li", {}, h("span", { class: "muted" }, fmtAgo(e.at)), " ", summarizeEvent(e)))
        : h("li", { class: "muted" }, "No events since this page was opened."));
    };
    const problems = h("div");
    root.insertBefore(problems, stats);
    const showError = (e) => clear(problems, e ? errorBox(`The master did not answer: ${e.message}`) : null);
    const stops = [
      live.watch("state", (v, e) => { if (v) state = v; showError(e); draw(); }),
      live.watch("apps", (v) => { if (v) apps = v; draw(); }),
      live.watch("deployments", (v) => { if (v) deployments = v; draw(); }),
      live.onEvent(drawEvents),
    ];
    drawEvents();
    const ticker = setInterval(drawEvents, 15000);  // "n s ago" labels only; no data is fetched
    return { destroy: () => { stops.forEach((s) => s()); clearInterval(ticker); } };
  },
};
