// Services: Marathon apps as a tree of groups (derived from the app ids, so no /v2/groups fetch),
// each app with its status as DC/OS shows it, instances, CPU and memory; groups collapse and sum
// their apps. Everything comes from live.watch("apps") and live.watch("queue"): one render per
// update, no per-row fetches, so 1,000 apps stay fast. /services/group/<id> shows one subtree.

import { badge, clear, errorBox, fmtCpus, fmtMem, fmtNumber, h } from "../lib/dom.js";
import { describeError, idPath } from "../lib/api.js";

// Groups the user collapsed; module-level so it survives re-renders and navigation.
const collapsed = new Set();
let filterText = "";

// The queue entry of each app id.
export function queueByApp(queue) {
  const out = new Map();
  for (const q of (queue && queue.queue) || []) if (q.app) out.set(q.app.id, q);
  return out;
}

// DC/OS's service status: Deploying / Waiting (for resources) / Delayed (launch backoff) /
// Suspended (0 instances) / Running / Stopped.
export function appStatus(app, q) {
  const deploying = (app.deployments || []).length > 0;
  if (q) {
    const d = q.delay || {};
    if (d.timeLeftSeconds > 0 && !d.overdue) return "Delayed";
    const summary = q.processedOffersSummary || {};
    const declined = (summary.rejectSummaryLastOffers || []).some((r) => r.declined > 0);
    const since = q.since ? Date.parse(q.since) : NaN;
    if (declined || (since && Date.now() - since > 10000)) return "Waiting";
  }
  if (deploying) return "Deploying";
  if (app.instances === 0) return (app.tasksRunning || 0) > 0 ? "Deploying" : "Suspended";
  if ((app.tasksRunning || 0) === 0) return q ? "Waiting" : "Stopped";
  return "Running";
}

export const STATUS_KIND = { Running: "ok", Deploying: "warn", Waiting: "warn", Delayed: "warn", Suspended: "neutral", Stopped: "bad" };
export const statusBadge = (s) => badge(s, STATUS_KIND[s] || "neutral");

// "healthy / target" when the app has health checks, else "running / target".
export function instancesText(app) {
  const hc = (app.healthChecks || []).length > 0;
  const n = hc ? app.tasksHealthy || 0 : app.tasksRunning || 0;
  return `${fmtNumber(n)} / ${fmtNumber(app.instances)}`;
}

// Groups from app ids: Map(groupId -> {id, groups: Set, apps: []}), "/" the root.
function buildTree(apps) {
  const groups = new Map([["/", { id: "/", groups: new Set(), apps: [] }]]);
  const group = (id) => {
    let g = groups.get(id);
    if (!g) {
      g = { id, groups: new Set(), apps: [] };
      groups.set(id, g);
      const parent = id.slice(0, id.lastIndexOf("/")) || "/";
      group(parent).groups.add(id);
    }
    return g;
  };
  for (const a of apps) group(a.id.slice(0, a.id.lastIndexOf("/")) || "/").apps.push(a);
  return groups;
}

const baseName = (id) => id.slice(id.lastIndexOf("/") + 1) || "/";

export default {
  title: "Services",
  mount(root, params, { live }) {
    const rootId = params.id ? `/${params.id.split("/").filter(Boolean).join("/")}` : "/";
    const filter = h("input", { id: "services-filter", type: "search", value: filterText, placeholder: "Name contains…" });
    const problems = h("div");
    const summary = h("p", { class: "muted", role: "status" });
    const body = h("tbody");
    const crumbs = [h("a", { href: "/services" }, "Services")];
    let acc = "";
    for (const seg of rootId.split("/").filter(Boolean)) {
      acc += `/${seg}`;
      crumbs.push(" / ", h("a", { href: `/services/group/${idPath(acc)}` }, seg));
    }
    clear(root,
      rootId === "/" ? null : h("nav", { class: "crumbs", "aria-label": "Breadcrumb" }, crumbs),
      h("div", { class: "toolbar" },
        h("h1", { class: "grow" }, rootId === "/" ? "Services" : `Group ${rootId}`),
        h("a", { class: "button primary", href: "/services/deploy" }, "Deploy service")),
      problems,
      h("div", { class: "toolbar svc-filter" }, h("label", { for: "services-filter" }, "Filter by name"), filter),
      summary,
      h("div", { class: "table-wrap" }, h("table", { class: "grid svc-tree", "aria-label": "Services" },
        h("thead", {}, h("tr", {},
          ["Name", "Status", "Instances", "CPU", "Memory"].map((t, i) =>
            h("th", { scope: "col", class: i >= 2 ? "num" : null }, t)))),
        body)));

    let apps = null, queue = null, appsError = null;
    // App rows by id, rebuilt only when what they show changed: an update of 1,000 apps then
    // touches the few rows that differ instead of building every row again.
    const rowCache = new Map();
    let seen = new Set();
    const appRow = (a, depth, q) => {
      const status = appStatus(a, q.get(a.id));
      const unhealthy = a.tasksUnhealthy || 0;
      const failure = a.lastTaskFailure && status !== "Running" ? a.lastTaskFailure.message || "" : null;
      const sig = [depth, status, unhealthy, instancesText(a), a.cpus, a.mem, failure].join("|");
      seen.add(a.id);
      const cached = rowCache.get(a.id);
      if (cached && cached.sig === sig) return cached.tr;
      const tr = h("tr", {},
        h("td", { "data-label": "Name" }, indent(depth), h("span", { class: "svc-spacer", "aria-hidden": "true" }),
          h("a", { href: `/services/app/${idPath(a.id)}` }, baseName(a.id))),
        h("td", { "data-label": "Status" }, statusBadge(status),
          unhealthy ? [" ", badge(`${unhealthy} unhealthy`, "bad")] : null,
          failure !== null ? h("span", { class: "muted", title: failure }, " last task failed") : null),
        h("td", { class: "num", "data-label": "Instances" }, instancesText(a)),
        h("td", { class: "num", "data-label": "CPU" }, fmtCpus(a.cpus)),
        h("td", { class: "num", "data-label": "Memory" }, fmtMem(a.mem)));
      rowCache.set(a.id, { sig, tr });
      return tr;
    };

    const draw = () => {
      clear(problems, appsError ? errorBox(`Could not load the services: ${describeError(appsError)}`) : null);
      if (!apps) {
        clear(body, h("tr", {}, h("td", { colspan: 5, class: "empty" }, appsError ? "—" : "Loading…")));
        return;
      }
      const q = queueByApp(queue);
      const needle = filterText.trim().toLowerCase();
      const inScope = apps.filter((a) => rootId === "/" || a.id.startsWith(`${rootId}/`));
      const shown = needle ? inScope.filter((a) => a.id.toLowerCase().includes(needle)) : inScope;
      const tree = buildTree(shown);
      const rows = [];
      // Sums of a group's subtree, computed once per group.
      const sums = new Map();
      const sum = (gid) => {
        if (sums.has(gid)) return sums.get(gid);
        const g = tree.get(gid);
        const s = { apps: 0, running: 0, target: 0, cpus: 0, mem: 0, deploying: 0 };
        for (const a of g.apps) {
          s.apps++;
          s.running += a.tasksRunning || 0;
          s.target += a.instances || 0;
          s.cpus += (a.cpus || 0) * (a.instances || 0);
          s.mem += (a.mem || 0) * (a.instances || 0);
          if (appStatus(a, q.get(a.id)) !== "Running" && a.instances > 0) s.deploying++;
        }
        for (const c of g.groups) {
          const cs = sum(c);
          for (const k of Object.keys(s)) s[k] += cs[k];
        }
        sums.set(gid, s);
        return s;
      };
      const walk = (gid, depth) => {
        const g = tree.get(gid);
        for (const cid of [...g.groups].sort()) {
          const s = sum(cid);
          const open = needle || !collapsed.has(cid);
          const toggle = h("button", {
            type: "button", class: "svc-toggle", "aria-expanded": String(Boolean(open)),
            "aria-label": `${open ? "Collapse" : "Expand"} group ${cid}`, dataset: { group: cid },
          }, open ? "▾" : "▸");
          const name = h("td", { "data-label": "Name" }, indent(depth), toggle, " ",
            h("a", { href: `/services/group/${idPath(cid)}`, class: "svc-group" }, baseName(cid)),
            h("span", { class: "muted" }, ` · ${s.apps} app${s.apps === 1 ? "" : "s"}`));
          rows.push(h("tr", { class: "svc-group-row" }, name,
            h("td", { "data-label": "Status" }, s.deploying ? badge(`${s.deploying} not running`, "warn") : badge("Running", "ok")),
            h("td", { class: "num", "data-label": "Instances" }, `${fmtNumber(s.running)} / ${fmtNumber(s.target)}`),
            h("td", { class: "num", "data-label": "CPU" }, fmtCpus(s.cpus)),
            h("td", { class: "num", "data-label": "Memory" }, fmtMem(s.mem))));
          if (open) walk(cid, depth + 1);
        }
        for (const a of [...g.apps].sort((x, y) => x.id.localeCompare(y.id))) rows.push(appRow(a, depth, q));
      };
      // The page's own group shows its children (the group itself is the page).
      if (!tree.has(rootId)) tree.set(rootId, { id: rootId, groups: new Set(), apps: [] });
      walk(rootId, 0);
      if (!rows.length) {
        rows.push(h("tr", {}, h("td", { colspan: 5, class: "empty" },
          needle ? `No service matches “${filterText.trim()}”.` : inScope.length ? "Nothing to show." : [
            rootId === "/" ? "No services yet. " : "No services in this group. ",
            h("a", { href: "/services/deploy" }, "Deploy one"), "."])));
      }
      const total = inScope.length;
      summary.textContent = needle ? `${fmtNumber(shown.length)} of ${fmtNumber(total)} services match.` : `${fmtNumber(total)} service${total === 1 ? "" : "s"}.`;
      body.replaceChildren(...rows);
      for (const id of rowCache.keys()) if (!seen.has(id)) rowCache.delete(id);
      seen = new Set();
    };

    // One listener for every toggle (rows are rebuilt; the listener stays).
    body.addEventListener("click", (e) => {
      const t = e.target.closest("button.svc-toggle");
      if (!t) return;
      const gid = t.dataset.group;
      if (collapsed.has(gid)) collapsed.delete(gid);
      else collapsed.add(gid);
      draw();
      const again = body.querySelector(`button.svc-toggle[data-group="${CSS.escape(gid)}"]`);
      if (again) again.focus();
    });
    let pending = 0;
    filter.addEventListener("input", () => {
      filterText = filter.value;
      cancelAnimationFrame(pending);
      pending = requestAnimationFrame(draw);
    });
    const stops = [
      live.watch("apps", (v, e) => { if (v) apps = v.apps || []; appsError = e || null; draw(); }),
      live.watch("queue", (v) => { if (v) { queue = v; if (apps) draw(); } }),
    ];
    draw();
    return { destroy: () => { stops.forEach((s) => s()); cancelAnimationFrame(pending); } };
  },
};

function indent(depth) {
  if (!depth) return null;
  const s = h("span", { class: "svc-indent", "aria-hidden": "true" });
  s.style.width = `${depth * 1.25}rem`;
  return s;
}
