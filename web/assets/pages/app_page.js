// One Marathon app: status and actions (scale, restart, suspend/resume, destroy), and tabs for
// its instances, configuration (editable JSON; a 422's details are shown at their JSON paths),
// versions (roll back) and deployments. The app's detail (with its tasks) is fetched again only
// when a Marathon event concerns it; counts, queue and deployments come from live.watch.

import { badge, busy, clear, confirmAction, dialog, errorBox, fmtAgo, fmtCpus, fmtMem, fmtTime, h, section, table, tabList, toast } from "../lib/dom.js";
import { ApiError, del, describeError, get, idPath, post, put } from "../lib/api.js";
import { jsonEditor } from "../lib/json_editor.js";
import { appStatus, instancesText, queueByApp, statusBadge } from "./services.js";

// Mesos-DNS' label of a task name (discovery/zone.cpp's dnsLabel): lowercase a-z0-9 and '-'.
function dnsLabel(name) {
  return name.toLowerCase().replace(/[._ ]/g, "-").replace(/[^a-z0-9-]/g, "").slice(0, 63).replace(/^-+|-+$/g, "");
}

// Fields Marathon computes; a client strips them before sending a definition back.
const READ_ONLY = ["version", "versionInfo", "tasks", "tasksStaged", "tasksRunning", "tasksHealthy", "tasksUnhealthy",
  "deployments", "lastTaskFailure", "taskStats", "readinessCheckResults", "counts", "uris", "ports"];
export function editableApp(app) {
  const out = { ...app };
  for (const k of READ_ONLY) delete out[k];
  return out;
}


// Runs a change; a 409 (a deployment holds the app) offers to force it, as Marathon's UI does.
async function change(send, what) {
  try {
    return await send("");
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 409)) throw e;
    const ids = ((e.body && e.body.deployments) || []).map((d) => d.id).join(", ");
    const ok = await confirmAction(`${what}: a deployment is running`,
      `${e.message}${ids ? ` (${ids})` : ""}. Force it? The running deployment is cancelled.`, "Force");
    if (!ok) return undefined;
    return send("force=true");
  }
}
const withQuery = (path, q, extra = "") => {
  const all = [extra, q].filter(Boolean).join("&");
  return all ? `${path}?${all}` : path;
};

export default {
  title: "Service",
  mount(root, params, { live, navigate, query }) {
    const id = `/${params.id.split("/").filter(Boolean).join("/")}`;
    const base = `/v2/apps/${idPath(id)}`;
    let app = null, queue = null, deployments = [], gone = false, stopped = false;

    const status = h("span");
    const facts = h("p", { class: "muted" });
    const problems = h("div", { "aria-live": "polite" });
    const waiting = h("div");
    const failure = h("div");
    const instancesPanel = h("div", {}, h("p", { class: "muted" }, "Loading…"));
    const deploymentsPanel = h("div");
    const versionsPanel = h("div", {}, h("p", { class: "muted" }, "Loading…"));
    const editor = jsonEditor({ label: "App definition (JSON)", id: "app-json", rows: 22 });
    const configErrors = h("div", { role: "alert" });
    const configNote = h("p", { class: "hint", "aria-live": "polite" });
    let dirty = false;
    editor.textarea.addEventListener("input", () => { dirty = true; });

    const b = (label, cls, fn) => {
      const btn = h("button", { type: "button", class: cls });
      btn.textContent = label;
      btn.addEventListener("click", () => fn(btn));
      return btn;
    };
    const done = (message) => (r) => { if (r !== undefined) { toast(message); refetch(); } return r; };
    const scaleBtn = b("Scale", null, async (btn) => {
      const n = await dialog(`Scale ${id}`, (close) => {
        const input = h("input", { id: "scale-instances", type: "number", min: "0", step: "1", required: true, value: app ? app.instances : 1 });
        const form = h("form", {}, h("label", { for: "scale-instances" }, "Instances"), input,
          h("div", { class: "actions" },
            h("button", { type: "button", onclick: () => close(null) }, "Cancel"),
            h("button", { type: "submit", class: "primary" }, "Scale")));
        form.addEventListener("submit", (e) => {
          e.preventDefault();
          if (input.checkValidity()) close(Number(input.value));
          else input.reportValidity();
        });
        return form;
      });
      if (n === null || n === undefined) return;
      await busy(btn, () => change((q) => put(withQuery(base, q), { instances: n }), "Scale"), describeError)
        .then(done(`Scaling ${id} to ${n}.`));
    });
    const restartBtn = b("Restart", null, async (btn) => {
      if (!await confirmAction(`Restart ${id}?`, "Every instance is replaced by a new one (rolling, by the upgrade strategy).", "Restart")) return;
      await busy(btn, () => change((q) => post(withQuery(`${base}/restart`, q)), "Restart"), describeError).then(done(`Restarting ${id}.`));
    });
    const suspendBtn = b("Suspend", null, async (btn) => {
      if (!await confirmAction(`Suspend ${id}?`, "All instances are stopped (scaled to 0). The configuration is kept; Resume starts them again.", "Suspend")) return;
      await busy(btn, () => change((q) => put(withQuery(base, q), { instances: 0 }), "Suspend"), describeError).then(done(`Suspending ${id}.`));
    });
    const resumeBtn = b("Resume", "primary", async (btn) => {
      const n = await dialog(`Resume ${id}`, (close) => {
        const input = h("input", { id: "resume-instances", type: "number", min: "1", step: "1", required: true, value: 1 });
        const form = h("form", {}, h("label", { for: "resume-instances" }, "Instances"), input,
          h("div", { class: "actions" }, h("button", { type: "button", onclick: () => close(null) }, "Cancel"),
            h("button", { type: "submit", class: "primary" }, "Resume")));
        form.addEventListener("submit", (e) => { e.preventDefault(); if (input.checkValidity()) close(Number(input.value)); else input.reportValidity(); });
        return form;
      });
      if (!n) return;
      await busy(btn, () => change((q) => put(withQuery(base, q), { instances: n }), "Resume"), describeError).then(done(`Resuming ${id}.`));
    });
    const destroyBtn = b("Destroy", "danger", async (btn) => {
      if (!await confirmAction(`Destroy ${id}?`, "The app and all its instances are removed. This cannot be undone.", "Destroy")) return;
      const r = await busy(btn, () => change((q) => del(withQuery(base, q)), "Destroy"), describeError);
      if (r !== undefined) {
        toast(`Destroying ${id}.`);
        navigate("/services");
      }
    });

    // ---- configuration ----
    const saveBtn = b("Save", "primary", async (btn) => {
      const parsed = editor.getValue();
      clear(configErrors);
      if (!parsed.ok) {
        editor.textarea.focus();
        return;
      }
      editor.clearErrors();
      const body = editableApp(parsed.value);
      try {
        await busy(btn, async () => {
          try {
            await change((q) => put(withQuery(base, q, "partialUpdate=false"), body), "Save");
          } catch (e) {
            // 4xx with details: shown at their fields, not only as a toast.
            if (e instanceof ApiError && e.details.length) {
              const unplaced = editor.markErrors(e.details);
              clear(configErrors, errorBox([`${e.message}: ${e.details.length} problem${e.details.length === 1 ? "" : "s"}, shown at their lines below.`,
                unplaced.length ? h("ul", {}, unplaced.map((d) => h("li", {}, `${d.path || "/"}: ${d.errors.join(", ")}`))) : null]));
              return undefined;
            }
            throw e;
          }
          dirty = false;
          toast(`Saved ${id}; deploying.`);
          refetch();
          return true;
        }, describeError);
      } catch { /* busy already reported it */ }
    });
    const resetBtn = b("Discard changes", null, () => {
      dirty = false;
      clear(configErrors);
      if (app) editor.setValue(editableApp(app));
      configNote.textContent = "";
    });

    const tabs = tabList("Service details", [
      { key: "instances", title: "Instances", panel: instancesPanel },
      { key: "configuration", title: "Configuration", panel: [configErrors, editor.element, configNote, h("div", { class: "actions" }, resetBtn, saveBtn)] },
      { key: "versions", title: "Versions", panel: versionsPanel },
      { key: "deployments", title: "Deployments", panel: deploymentsPanel },
    ], (key) => {
      const u = new URL(location.href);
      if (key === "instances") u.searchParams.delete("tab");
      else u.searchParams.set("tab", key);
      history.replaceState(null, "", u.pathname + u.search);
      if (key === "versions") loadVersions();
    });

    // The app's DNS names (Mesos-DNS'; the master's DNS answers them), when the master serves DNS.
    const names = h("p", { class: "muted app-dns" });
    get("/v1/config").then((config) => {
      const label = dnsLabel(id.split("/").filter(Boolean).reverse().join("-"));
      if (!config || !config.DnsOn || !label) return;
      clear(names, "DNS: ", h("code", {}, `${label}.marathon.${config.Domain}`), " · ",
        h("code", {}, `_${label}._tcp.marathon.${config.Domain}`), " (SRV, one per instance and port)");
    }, () => {});  // no DNS (--dns_port=off): no names to show

    clear(root,
      h("nav", { class: "crumbs", "aria-label": "Breadcrumb" }, h("a", { href: "/services" }, "Services"),
        id.split("/").filter(Boolean).slice(0, -1).map((seg, i, all) =>
          [" / ", h("a", { href: `/services/group/${idPath(all.slice(0, i + 1).join("/"))}` }, seg)])),
      h("div", { class: "toolbar app-head" }, h("h1", { class: "grow" }, id, " ", status),
        h("div", { class: "app-actions", role: "group", "aria-label": "Actions" }, scaleBtn, restartBtn, suspendBtn, resumeBtn, destroyBtn)),
      facts, names, problems, waiting, failure, tabs.element);

    // ---- drawing ----
    const draw = () => {
      if (!app) return;
      const q = queueByApp(queue).get(id);
      const s = appStatus(app, q);
      clear(status, statusBadge(s));
      facts.textContent = `Instances ${instancesText(app)}${(app.healthChecks || []).length ? " healthy" : " running"} · ` +
        `${fmtCpus(app.cpus)} CPU · ${fmtMem(app.mem)} each · version ${app.version || "—"}`;
      suspendBtn.hidden = app.instances === 0;
      resumeBtn.hidden = app.instances !== 0;
      const refusals = q ? Object.entries(q.refusalMessages || {}) : [];
      clear(waiting, q && (s === "Waiting" || s === "Delayed") ? section("Why it waits", h("p", {},
        s === "Delayed" ? `Launches are delayed ${q.delay.timeLeftSeconds} s after failures (backoff). ` : `${q.count} instance${q.count === 1 ? "" : "s"} waiting for offers. `,
        `${(q.processedOffersSummary || {}).processedOffersCount || 0} offers processed.`),
        refusals.length ? h("ul", {}, refusals.map(([r, m]) => h("li", {}, h("strong", {}, r), `: ${m}`))) : null) : null);
      const f = app.lastTaskFailure;
      clear(failure, f ? section("Last task failure", h("dl", { class: "facts" },
        h("dt", {}, "When"), h("dd", {}, `${fmtTime(f.timestamp)} (${fmtAgo(f.timestamp)})`),
        h("dt", {}, "State"), h("dd", {}, badge(f.state || "—")),
        h("dt", {}, "Message"), h("dd", {}, f.message || "—"),
        h("dt", {}, "Task"), h("dd", {}, f.taskId ? h("a", { href: `/tasks/${encodeURIComponent(f.taskId)}` }, f.taskId) : "—"),
        h("dt", {}, "Host"), h("dd", {}, f.host || "—"))) : null);
      clear(instancesPanel, table([
        { title: "ID", cell: (t) => h("a", { href: `/tasks/${encodeURIComponent(t.id)}`, class: "mono" }, t.id) },
        { title: "State", cell: (t) => badge(t.state) },
        { title: "Health", cell: (t) => { const r = (t.healthCheckResults || [])[0]; return r ? badge(r.alive ? "Healthy" : "Unhealthy") : "—"; } },
        { title: "Host", cell: (t) => t.host || "—" },
        { title: "Ports", cell: (t) => (t.ports || []).join(", ") || "—" },
        { title: "Started", cell: (t) => (t.startedAt ? h("span", { title: fmtTime(t.startedAt) }, fmtAgo(t.startedAt)) : "—") },
        { title: "Agent", cell: (t) => (t.slaveId ? h("a", { href: `/nodes/${encodeURIComponent(t.slaveId)}` }, t.slaveId) : "—") },
        { title: "", cell: (t) => b("Kill", null, async (btn) => {
          if (!await confirmAction(`Kill ${t.id}?`, "The instance is killed; Marathon starts a replacement.", "Kill")) return;
          await busy(btn, () => del(`${base}/tasks/${encodeURIComponent(t.id)}`), describeError).then(done(`Killing ${t.id}.`));
        }) },
      ], app.tasks || [], { label: "Tasks of this app", empty: app.instances ? "No instances yet." : "Suspended: no instances." }));
      clear(deploymentsPanel, table([
        { title: "Deployment", cell: (d) => h("span", { class: "mono" }, d.id) },
        { title: "Step", cell: (d) => `${d.currentStep} of ${d.totalSteps}` },
        { title: "Current actions", cell: (d) => (d.currentActions || []).map((a) => `${a.action} ${a.app}`).join("; ") || "—" },
        { title: "Started", cell: (d) => fmtAgo(d.version) },
      ], deployments.filter((d) => (d.affectedApps || []).includes(id)), { label: "Deployments of this app", empty: "No deployment is running for this app." }),
      h("p", {}, h("a", { href: "/deployments" }, "All deployments")));
      if (!dirty) {
        // Only when it differs: setting the text resets the caret and scroll of someone reading it.
        const text = JSON.stringify(editableApp(app), null, 2);
        if (text !== editor.getText()) editor.setText(text);
        editedVersion = app.version;
      }
      else if (app.version !== editedVersion) configNote.textContent = "The app changed on the server since you started editing. “Discard changes” loads the new definition.";
    };
    let editedVersion = null;

    // ---- data ----
    let inFlight = false, again = false;
    const refetch = async () => {
      if (inFlight) { again = true; return; }
      inFlight = true;
      try {
        const r = await get(base);
        if (stopped) return;
        const versionChanged = app && app.version !== r.app.version;
        app = r.app;
        gone = false;
        clear(problems);
        draw();
        if (versionChanged && !versionsPanel.hidden) loadVersions();
      } catch (e) {
        if (stopped) return;
        gone = e instanceof ApiError && e.status === 404;
        clear(problems, errorBox(gone ? `There is no app ${id} (it may have been destroyed). ` : `Could not load ${id}: ${describeError(e)}`,
          gone ? h("a", { href: "/services" }, "Back to services") : null));
      } finally {
        inFlight = false;
        if (again && !stopped) { again = false; refetch(); }
      }
    };
    let versionsLoading = false;
    const loadVersions = async () => {
      if (versionsLoading) return;
      versionsLoading = true;
      try {
        const r = await get(`${base}/versions`);
        const list = [...(r.versions || [])].sort().reverse();
        clear(versionsPanel, table([
          { title: "Version", cell: (v) => h("span", { class: "mono" }, v) },
          { title: "When", cell: (v) => fmtAgo(v) },
          { title: "", cell: (v) => (app && v === app.version ? badge("Current", "ok") : b("Roll back", null, async (btn) => {
            if (!await confirmAction(`Roll back ${id}?`, `The app's configuration becomes the one of version ${v}; a deployment replaces the instances.`, "Roll back")) return;
            await busy(btn, async () => {
              const def = await get(`${base}/versions/${encodeURIComponent(v)}`);
              // Our PUT ignores {"version": v}, so the whole versioned definition is sent.
              return change((q) => put(withQuery(base, q, "partialUpdate=false"), editableApp(def)), "Roll back");
            }, describeError).then(done(`Rolling ${id} back to ${v}.`));
          })) },
        ], list, { label: "Versions", empty: "No versions." }));
      } catch (e) {
        clear(versionsPanel, errorBox(`Could not load the versions: ${describeError(e)}`));
      } finally {
        versionsLoading = false;
      }
    };

    // Which Marathon events concern this app.
    const concerns = (d) => {
      if (!d) return false;
      if (d.appId === id || d.id === id) return true;
      const plan = d.plan || {};
      if ((plan.affectedApps || []).includes(id)) return true;
      if (d.appDefinition && d.appDefinition.id === id) return true;
      return typeof d.taskId === "string" && d.taskId.startsWith(`${id.slice(1).replace(/\//g, "_")}.`);
    };
    const stops = [
      live.onEvent((e) => { if (e.source === "marathon" && concerns(e.data)) refetch(); }),
      live.watch("queue", (v) => { if (v) { queue = v; draw(); } }),
      live.watch("deployments", (v) => { if (v) { deployments = v; draw(); } }),
      // Counts change without an event naming the app (health); the shared list says when.
      live.watch("apps", (v) => {
        const a = v && (v.apps || []).find((x) => x.id === id);
        if (a && app && (a.version !== app.version || a.tasksRunning !== (app.tasks || []).filter((t) => t.state === "TASK_RUNNING").length ||
          a.tasksHealthy !== app.tasksHealthy)) refetch();
        if (!a && app && !gone) refetch();
      }),
    ];
    const tab = query.get("tab");
    tabs.select(["instances", "configuration", "versions", "deployments"].includes(tab) ? tab : "instances");
    refetch();
    return { destroy: () => { stopped = true; stops.forEach((s) => s()); } };
  },
};
