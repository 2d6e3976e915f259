// Frameworks: the schedulers registered with the master (/master/state "frameworks"), with their
// tasks and the resources those use.

import { describeError } from "../lib/api.js";
import { badge, clear, errorBox, fmtCpus, fmtMem, fmtNumber, h, table } from "../lib/dom.js";
import { isTerminal, timeCell } from "./tasks.js";

function usage(f) {
  const u = { cpus: 0, mem: 0, disk: 0, tasks: 0 };
  for (const t of f.tasks || []) {
    if (isTerminal(t.state)) continue;
    u.tasks++;
    for (const k of ["cpus", "mem", "disk"]) u[k] += (t.resources || {})[k] || 0;
  }
  return u;
}

// Only http(s) URLs are links.
const webui = (url) => (/^https?:\/\//i.test(url || "") ? h("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, url) : "—");

export default {
  title: "Frameworks",
  mount(root, _params, { live }) {
    const problems = h("div");
    const count = h("p", { class: "muted", role: "status", "aria-live": "polite" }, "Loading frameworks…");
    const list = h("div");
    clear(root, h("h1", {}, "Frameworks"), problems, count, list);
    let state = null;
    let stateError = null;

    const draw = () => {
      clear(problems, stateError ? errorBox(`Could not load the frameworks: ${describeError(stateError)}`) : null);
      if (!state) return;
      const fws = [...(state.frameworks || [])].sort((a, b) => String(a.name).localeCompare(String(b.name)));
      const used = new Map(fws.map((f) => [f.id, usage(f)]));
      count.textContent = `${fmtNumber(fws.length)} framework${fws.length === 1 ? "" : "s"}, ${fmtNumber(fws.filter((f) => f.active).length)} active.`;
      clear(list, table([
        { title: "Name", cell: (f) => h("a", { href: `/tasks?state=all&framework=${encodeURIComponent(f.id)}`,
          title: `Tasks of ${f.name}` }, f.name || f.id) },
        { title: "ID", cell: (f) => h("span", { class: "mono" }, f.id), class: "task-id" },
        { title: "Role", cell: (f) => (f.roles && f.roles.length ? f.roles.join(", ") : f.role || "*") },
        { title: "Status", cell: (f) => badge(f.active ? "active" : "inactive", f.active ? "ok" : "warn") },
        { title: "Tasks", cell: (f) => fmtNumber(used.get(f.id).tasks), class: "num" },
        { title: "CPU", cell: (f) => fmtCpus(used.get(f.id).cpus), class: "num" },
        { title: "Memory", cell: (f) => fmtMem(used.get(f.id).mem), class: "num" },
        { title: "Disk", cell: (f) => fmtMem(used.get(f.id).disk), class: "num" },
        { title: "Registered", cell: (f) => timeCell(f.registered_time) },
        { title: "Hostname", cell: (f) => f.hostname || "—" },
        { title: "Web UI", cell: (f) => webui(f.webui_url) },
      ], fws, { label: "Frameworks", empty: "No framework has registered." }));
    };

    const stop = live.watch("state", (v, e) => { if (v) state = v; stateError = e; draw(); });
    return { destroy: stop };
  },
};
