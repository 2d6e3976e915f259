// Nodes: the agents in /master/state ("slaves") with their state, resources in use, attributes and
// tasks; /nodes/<agentId> shows one agent and its tasks. Live through live.watch("state").

import { describeError } from "../lib/api.js";
import { badge, bar, clear, errorBox, fmtCpus, fmtMem, fmtNumber, fmtTime, h, section, table } from "../lib/dom.js";
import { collectTasks, nodeLink, sortTasks, tasksTable, timeCell } from "./tasks.js";

const STATE_KIND = { ACTIVE: "ok", UNREACHABLE: "warn", DISCONNECTED: "warn", GONE: "bad" };
export const agentBadge = (a) => badge(String(a.state || (a.active ? "ACTIVE" : "UNKNOWN")).toLowerCase(),
  STATE_KIND[a.state] || (a.active ? "ok" : "neutral"));

const RESOURCES = [["cpus", "CPU", fmtCpus], ["mem", "Memory", fmtMem], ["disk", "Disk", fmtMem]];
const meters = (a) => h("div", { class: "meters node-meters" },
  RESOURCES.map(([k, label, f]) => bar(label, (a.used_resources || {})[k] || 0, (a.resources || {})[k] || 0, f)));

function attributes(a) {
  const entries = Object.entries(a.attributes || {});
  if (!entries.length) return h("span", { class: "muted" }, "—");
  return h("ul", { class: "chips", "aria-label": "Attributes" },
    entries.map(([k, v]) => h("li", { class: "chip" }, `${k}: ${v}`)));
}

function countByAgent(tasks) {
  const counts = new Map();
  for (const r of tasks) if (!r.completed) counts.set(r.agentId, (counts.get(r.agentId) || 0) + 1);
  return counts;
}

function listPage(root, live, query) {
  const filter = h("input", { id: "node-filter", type: "search", value: query.get("q") || "", autocomplete: "off",
    placeholder: "Hostname, ID, state or attribute" });
  const problems = h("div");
  const count = h("p", { class: "muted", role: "status", "aria-live": "polite" }, "Loading nodes…");
  const list = h("div");
  clear(root, h("h1", {}, "Nodes"), problems,
    h("div", { class: "toolbar filters" }, h("div", { class: "grow" }, h("label", { for: "node-filter" }, "Filter"), filter)),
    count, list);
  let state = null;
  const draw = () => {
    if (!state) return;
    const agents = state.slaves || [];
    const counts = countByAgent(collectTasks(state));
    const needle = filter.value.trim().toLowerCase();
    const rows = agents.filter((a) => !needle || [a.hostname, a.id, a.state,
      ...Object.entries(a.attributes || {}).map(([k, v]) => `${k}:${v}`)].some((x) => String(x).toLowerCase().includes(needle)))
      .sort((a, b) => String(a.hostname).localeCompare(String(b.hostname)) || a.id.localeCompare(b.id));
    count.textContent = `${fmtNumber(rows.length)} of ${fmtNumber(agents.length)} node${agents.length === 1 ? "" : "s"}, ${fmtNumber(agents.filter((a) => a.active).length)} active.`;
    clear(list, table([
      { title: "Hostname", cell: (a) => nodeLink(a.id, a.hostname || a.id) },
      { title: "ID", cell: (a) => h("span", { class: "mono" }, a.id), class: "task-id" },
      { title: "State", cell: agentBadge },
      { title: "Resources used", cell: meters, class: "meter-cell" },
      { title: "Tasks", cell: (a) => fmtNumber(counts.get(a.id) || 0), class: "num" },
      { title: "Attributes", cell: attributes },
      { title: "Registered", cell: (a) => timeCell(a.registered_time) },
    ], rows, { label: "Nodes", empty: agents.length ? "No node matches the filter." : "No agent has registered yet." }));
  };
  filter.addEventListener("input", () => {
    history.replaceState(null, "", filter.value ? `/nodes?q=${encodeURIComponent(filter.value)}` : "/nodes");
    draw();
  });
  const stop = live.watch("state", (v, e) => {
    clear(problems, e ? errorBox(`Could not load the nodes: ${describeError(e)}`) : null);
    if (v) state = v;
    draw();
  });
  return { destroy: stop };
}

function detailPage(root, live, agentId) {
  const title = h("h1", {}, agentId);
  const problems = h("div");
  const body = h("div");
  clear(root, h("p", { class: "crumbs" }, h("a", { href: "/nodes" }, "Nodes"), " / ", h("span", { class: "mono" }, agentId)),
    title, problems, body);
  const stop = live.watch("state", (state, e) => {
    clear(problems, e ? errorBox(`Could not load the node: ${describeError(e)}`) : null);
    if (!state) return;
    const a = (state.slaves || []).find((x) => x.id === agentId);
    if (!a) {
      title.textContent = "Node not found";
      clear(body, h("p", {}, "The master knows no agent ", h("code", {}, agentId), ". ", h("a", { href: "/nodes" }, "All nodes"), "."));
      return;
    }
    title.textContent = a.hostname || a.id;
    document.title = `${a.hostname || a.id} · Nodes · dcos`;
    const tasks = sortTasks(collectTasks(state).filter((r) => r.agentId === agentId));
    const active = tasks.filter((r) => !r.completed);
    const done = tasks.filter((r) => r.completed);
    const ranges = Object.entries(a.resources || {}).filter(([, v]) => typeof v === "string");
    clear(body,
      h("div", { class: "columns" },
        section("Details", h("dl", { class: "facts" },
          h("dt", {}, "ID"), h("dd", { class: "mono" }, a.id),
          h("dt", {}, "State"), h("dd", {}, agentBadge(a)),
          h("dt", {}, "Address"), h("dd", { class: "mono" }, `${a.hostname}:${a.port}`),
          h("dt", {}, "Registered"), h("dd", {}, fmtTime(a.registered_time), " (", timeCell(a.registered_time), ")"),
          h("dt", {}, "Tasks"), h("dd", {}, `${fmtNumber(active.length)} active, ${fmtNumber(done.length)} completed`),
          ranges.map(([k, v]) => [h("dt", {}, k), h("dd", { class: "mono" }, `${(a.used_resources || {})[k] || "[]"} used of ${v}`)]),
          h("dt", {}, "Attributes"), h("dd", {}, attributes(a)))),
        section("Resources used", meters(a))),
      section(`Tasks (${fmtNumber(active.length)})`, tasksTable(active, { label: "Active tasks on this node", hide: ["host"],
        empty: "No task runs on this node." })),
      done.length ? section(`Completed tasks (${fmtNumber(done.length)})`, tasksTable(done.slice(0, 200),
        { label: "Completed tasks on this node", hide: ["host"] }),
      done.length > 200 ? h("p", { class: "muted" }, "The latest 200 are shown.") : null) : null);
  });
  return { destroy: stop };
}

export default {
  title: "Nodes",
  mount(root, params, { live, query }) {
    return params.agent ? detailPage(root, live, params.agent) : listPage(root, live, query);
  },
};
