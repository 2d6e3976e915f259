// Deployments: every running deployment with its affected apps, the current step of all steps
// and each step's actions, progress (instances healthy of target per current action), and — when
// an action waits for offers — why: our /v2/deployments puts waitingForOffers.offerRefusals
// {reason: {count, message}} on each current action. Roll back (DELETE) or Stop (?force=true).

import { badge, busy, clear, confirmAction, errorBox, fmtAgo, fmtTime, h, toast } from "../lib/dom.js";
import { del, describeError, idPath } from "../lib/api.js";

const appLink = (id) => h("a", { href: `/services/app/${idPath(id)}` }, id);

function progress(label, done, total) {
  const pct = total > 0 ? Math.min(100, (100 * done) / total) : 100;
  const fill = h("span", { class: "fill" });
  fill.style.width = `${pct.toFixed(1)}%`;
  return h("div", { class: "track", role: "progressbar", "aria-label": label, "aria-valuemin": 0, "aria-valuemax": total, "aria-valuenow": done }, fill);
}

function currentAction(a) {
  const i = a.instances || {};
  const w = a.waitingForOffers;
  const refusals = w ? Object.entries(w.offerRefusals || {}).sort((x, y) => y[1].count - x[1].count) : [];
  const ready = (a.readinessCheckResults || []);
  return h("li", { class: "dep-action" },
    h("div", {}, h("strong", {}, a.action), " ", appLink(a.app)),
    i.target !== undefined ? h("div", { class: "dep-progress" },
      h("span", { class: "muted" }, `${i.healthy} healthy of ${i.target} target (${i.total} instances)`),
      progress(`${a.action} ${a.app}: healthy instances`, i.healthy, i.target)) : null,
    ready.length ? h("p", { class: "hint" }, `Readiness: ${ready.filter((r) => r.ready).length} of ${ready.length} ready`) : null,
    w ? h("div", { class: "dep-waiting" },
      h("p", {}, badge("Waiting for offers", "warn"), ` ${w.count} instance${w.count === 1 ? "" : "s"} to launch`,
        w.delaySeconds > 0 ? `; launch delayed ${Math.ceil(w.delaySeconds)} s (backoff after failures)` : ""),
      refusals.length
        ? h("ul", { class: "dep-refusals", "aria-label": "Why offers were refused" }, refusals.map(([reason, r]) =>
          h("li", {}, h("strong", {}, reason), ` ×${r.count}`, r.message ? `: ${r.message}` : "")))
        : h("p", { class: "hint" }, "No offer refused yet: waiting for an offer from an agent.")) : null);
}

function card(d, onAction) {
  const rollback = h("button", { type: "button" }, "Roll back");
  const stop = h("button", { type: "button", class: "danger" }, "Stop");
  rollback.addEventListener("click", () => onAction(d, false, rollback));
  stop.addEventListener("click", () => onAction(d, true, stop));
  const steps = d.steps || [];
  return h("section", { class: "card dep", "aria-labelledby": `dep-${d.id}` },
    h("div", { class: "toolbar" },
      h("h2", { id: `dep-${d.id}`, class: "grow" }, (d.affectedApps || []).length ? (d.affectedApps || []).join(", ") : d.id,
        d.rollback ? [" ", badge("Rollback", "warn")] : null),
      rollback, stop),
    h("dl", { class: "facts" },
      h("dt", {}, "Deployment"), h("dd", { class: "mono" }, d.id),
      h("dt", {}, "Affected apps"), h("dd", {}, (d.affectedApps || []).map((a, i) => [i ? ", " : "", appLink(a)])),
      h("dt", {}, "Started"), h("dd", {}, d.version ? h("span", { title: fmtTime(d.version) }, fmtAgo(d.version)) : "—"),
      h("dt", {}, "Step"), h("dd", {}, `${d.currentStep} of ${d.totalSteps}`,
        progress(`Deployment ${d.id}: steps`, Math.max(0, d.currentStep - 1), d.totalSteps))),
    h("h3", {}, "Current step"),
    (d.currentActions || []).length ? h("ul", { class: "dep-actions" }, d.currentActions.map(currentAction)) : h("p", { class: "muted" }, "Finishing."),
    h("details", {}, h("summary", {}, `All ${steps.length} step${steps.length === 1 ? "" : "s"}`),
      h("ol", { class: "dep-steps" }, steps.map((s, i) => h("li", { class: i + 1 === d.currentStep ? "current" : i + 1 < d.currentStep ? "done" : null },
        i + 1 < d.currentStep ? "✓ " : i + 1 === d.currentStep ? "▶ " : "",
        (s.actions || []).map((a, k) => [k ? "; " : "", `${a.action} `, appLink(a.app)]))))));
}

export default {
  title: "Deployments",
  mount(root, _params, { live }) {
    const problems = h("div");
    const list = h("div", { "aria-live": "off" });
    const count = h("p", { class: "muted", role: "status" });
    clear(root, h("h1", {}, "Deployments"), problems, count, list);
    // <details> open state survives re-renders (keyed by deployment id).
    const opened = new Set();
    list.addEventListener("toggle", (e) => {
      const sec = e.target.closest("section.dep");
      if (!sec) return;
      const id = sec.dataset.id;
      if (e.target.open) opened.add(id);
      else opened.delete(id);
    }, true);

    const onAction = async (d, force, button) => {
      const apps = (d.affectedApps || []).join(", ");
      const ok = force
        ? await confirmAction("Stop this deployment?", `The deployment of ${apps} stops where it is: instances already started or stopped stay so; nothing is rolled back.`, "Stop")
        : await confirmAction("Roll back this deployment?", `A new deployment returns ${apps} to the previous configuration.`, "Roll back");
      if (!ok) return;
      const r = await busy(button, () => del(`/v2/deployments/${encodeURIComponent(d.id)}${force ? "?force=true" : ""}`), describeError);
      if (r !== undefined) toast(force ? "Deployment stopped." : "Rolling back.");
    };

    const stops = [live.watch("deployments", (v, e) => {
      clear(problems, e ? errorBox(`Could not load the deployments: ${describeError(e)}`) : null);
      if (!v) return;
      const sorted = [...v].sort((a, b) => String(b.version).localeCompare(String(a.version)));
      count.textContent = `${sorted.length} deployment${sorted.length === 1 ? "" : "s"} running.`;
      // Keep focus on a button that is about to be rebuilt (same deployment, same button).
      const active = document.activeElement;
      const focusKey = active && list.contains(active) ? [active.closest("section.dep")?.dataset.id, active.textContent] : null;
      clear(list, sorted.length ? sorted.map((d) => {
        const c = card(d, onAction);
        c.dataset.id = d.id;
        if (opened.has(d.id)) c.querySelector("details").open = true;
        return c;
      }) : h("p", { class: "card muted" }, "No deployment is running. Changes to services show here while they roll out."));
      if (focusKey) {
        const sec = [...list.querySelectorAll("section.dep")].find((s) => s.dataset.id === focusKey[0]);
        const btn = sec && [...sec.querySelectorAll("button, summary")].find((x) => x.textContent === focusKey[1]);
        if (btn) btn.focus();
      }
    })];
    return { destroy: () => stops.forEach((s) => s()) };
  },
};
