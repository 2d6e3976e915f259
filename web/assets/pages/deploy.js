// Deploy service: a simple form or the app JSON (the two tabs carry the same definition both
// ways: JSON fields the form has no input for are kept). POST /v2/apps; on 201 the app's page;
// on a 4xx every details[] error is shown at its input (or at its JSON line), the rest in a
// summary at the top.

import { clear, h, tabList } from "../lib/dom.js";
import { ApiError, describeError, idPath, post } from "../lib/api.js";
import { jsonEditor } from "../lib/json_editor.js";

const PROTOCOLS = ["MESOS_HTTP", "MESOS_TCP", "COMMAND", "HTTP", "TCP"];

// "1 shown at its field." / "3 shown at their lines."
function shownText(n, mode) {
  const where = mode === "form" ? "field" : "line";
  return n === 1 ? `1 shown at its ${where}.` : `${n} shown at their ${where}s.`;
}

export default {
  title: "Deploy service",
  mount(root, _params, { navigate }) {
    const fields = {};     // key -> {input, error, wrap}
    const field = (key, label, attrs = {}, hint) => {
      const id = `deploy-${key}`;
      const input = attrs.tag === "select"
        ? h("select", { id }, attrs.options.map(([v, t]) => h("option", { value: v }, t)))
        : h(attrs.tag || "input", { id, ...attrs, tag: null, options: null });
      const error = h("p", { id: `${id}-error`, class: "field-error", hidden: true });
      const hintEl = hint ? h("p", { id: `${id}-hint`, class: "hint" }, hint) : null;
      input.setAttribute("aria-describedby", [hintEl && hintEl.id, error.id].filter(Boolean).join(" "));
      const wrap = h("div", { class: "field" }, h("label", { for: id }, label), input, hintEl, error);
      fields[key] = { input, error, wrap };
      return wrap;
    };
    const summary = h("div", { role: "alert" });
    const form = h("form", { novalidate: true, "aria-label": "Service" },
      h("div", { class: "form-grid" },
        field("id", "ID", { type: "text", placeholder: "/group/my-service", autocomplete: "off", spellcheck: "false" },
          "Lowercase letters, digits, hyphens; groups with /."),
        field("cmd", "Command", { tag: "textarea", rows: 2, class: "deploy-cmd", spellcheck: "false" })),
      h("div", { class: "form-grid" },
        field("instances", "Instances", { type: "number", min: "0", step: "1", value: "1" }),
        field("cpus", "CPUs", { type: "number", min: "0", step: "0.1", value: "0.1" }),
        field("mem", "Memory (MiB)", { type: "number", min: "0", step: "1", value: "128" }),
        field("ports", "Ports", { type: "text", value: "", placeholder: "0, 8080", spellcheck: "false" },
          "Comma list; 0 picks any service port. Empty: the default.")),
      h("fieldset", { class: "deploy-hc" }, h("legend", {}, "Health check (optional)"),
        h("div", { class: "form-grid" },
          field("hcProtocol", "Protocol", { tag: "select", options: [["", "None"], ...PROTOCOLS.map((p) => [p, p])] }),
          field("hcPath", "Path", { type: "text", value: "/", spellcheck: "false" }),
          field("hcPortIndex", "Port index", { type: "number", min: "0", step: "1", value: "0" }),
          field("hcCommand", "Health check script", { type: "text", spellcheck: "false", placeholder: "curl -f localhost:$PORT0" }),
          field("hcGrace", "Grace period (s)", { type: "number", min: "0", step: "1", value: "300" }),
          field("hcInterval", "Interval (s)", { type: "number", min: "1", step: "1", value: "60" }),
          field("hcDelay", "First check after (s)", { type: "number", min: "0", step: "1", value: "15" }))));
    const editor = jsonEditor({ label: "App definition (JSON)", id: "deploy-json", rows: 20 });
    const submit = h("button", { type: "submit", class: "primary", form: "deploy-form" }, "Deploy");
    form.id = "deploy-form";
    let mode = "form";
    let extra = {};  // JSON fields the form does not show, kept across tab switches

    const v = (k) => fields[k].input.value.trim();
    const showHc = () => {
      const p = v("hcProtocol");
      fields.hcPath.wrap.hidden = !p.includes("HTTP");
      fields.hcPortIndex.wrap.hidden = !p || p === "COMMAND";
      fields.hcCommand.wrap.hidden = p !== "COMMAND";
      fields.hcGrace.wrap.hidden = fields.hcInterval.wrap.hidden = fields.hcDelay.wrap.hidden = !p;
    };
    fields.hcProtocol.input.addEventListener("change", showHc);

    // The form's app JSON; throws {key, message} for input the server could not be sent.
    const formToApp = () => {
      const app = { ...extra, id: v("id") };
      if (v("cmd")) app.cmd = fields.cmd.input.value;
      else delete app.cmd;
      for (const k of ["instances", "cpus", "mem"]) {
        if (v(k) === "") delete app[k];
        else app[k] = Number(v(k));
      }
      if (v("ports")) {
        const ports = v("ports").split(",").map((s) => s.trim()).filter(Boolean);
        if (ports.some((p) => !/^\d+$/.test(p))) throw { key: "ports", message: "Ports are whole numbers separated by commas." };
        const old = extra.portDefinitions || [];
        app.portDefinitions = ports.map((p, i) => ({ ...(old[i] || {}), port: Number(p) }));
      } else delete app.portDefinitions;
      const p = v("hcProtocol");
      if (p) {
        const hc = { ...((extra.healthChecks || [])[0] || {}), protocol: p };
        for (const k of ["path", "portIndex", "port", "command"]) delete hc[k];
        if (p.includes("HTTP")) hc.path = v("hcPath") || "/";
        if (p === "COMMAND") hc.command = { value: fields.hcCommand.input.value };
        else hc.portIndex = Number(v("hcPortIndex") || 0);
        if (v("hcGrace") !== "") hc.gracePeriodSeconds = Number(v("hcGrace"));
        if (v("hcInterval") !== "") hc.intervalSeconds = Number(v("hcInterval"));
        if (v("hcDelay") !== "") hc.delaySeconds = Number(v("hcDelay"));
        app.healthChecks = [hc, ...(extra.healthChecks || []).slice(1)];
      } else delete app.healthChecks;
      return app;
    };
    const appToForm = (app) => {
      extra = { ...app };
      const set = (k, val) => { fields[k].input.value = val === undefined || val === null ? "" : String(val); };
      set("id", app.id);
      set("cmd", app.cmd);
      set("instances", app.instances);
      set("cpus", app.cpus);
      set("mem", app.mem);
      set("ports", Array.isArray(app.portDefinitions) ? app.portDefinitions.map((p) => p && p.port).join(", ") : "");
      const hc = (app.healthChecks || [])[0];
      set("hcProtocol", hc ? hc.protocol || "HTTP" : "");
      if (hc) {
        set("hcPath", hc.path ?? "/");
        set("hcPortIndex", hc.portIndex ?? 0);
        set("hcCommand", hc.command && typeof hc.command === "object" ? hc.command.value : hc.command);
        set("hcGrace", hc.gracePeriodSeconds ?? 300);
        set("hcInterval", hc.intervalSeconds ?? 60);
        set("hcDelay", hc.delaySeconds ?? 15);
      }
      showHc();
    };

    // ---- errors ----
    const clearErrors = () => {
      clear(summary);
      for (const f of Object.values(fields)) {
        f.input.removeAttribute("aria-invalid");
        f.error.hidden = true;
        f.error.textContent = "";
      }
      editor.clearErrors();
    };
    const fieldOf = (path, text) => {
      const m = /^\/healthChecks\/0\/(\w+)/.exec(path);
      if (m) return { protocol: "hcProtocol", path: "hcPath", portIndex: "hcPortIndex", port: "hcPortIndex", command: "hcCommand",
        gracePeriodSeconds: "hcGrace", intervalSeconds: "hcInterval", delaySeconds: "hcDelay" }[m[1]] || null;
      if (/^\/portDefinitions(\/\d+(\/port)?)?$/.test(path)) return "ports";
      if (path === "/" && /cmd|args/i.test(text)) return "cmd";
      return { "/id": "id", "/cmd": "cmd", "/instances": "instances", "/cpus": "cpus", "/mem": "mem" }[path] || null;
    };
    const markField = (key, message) => {
      const f = fields[key];
      f.input.setAttribute("aria-invalid", "true");
      f.error.hidden = false;
      f.error.textContent = f.error.textContent ? `${f.error.textContent}; ${message}` : message;
    };
    const showErrors = (e) => {
      const details = e instanceof ApiError ? e.details : [];
      const unmapped = [];
      if (mode === "form") {
        let first = null;
        for (const d of details) {
          const text = (d.errors || []).join(", ");
          const key = fieldOf(d.path, text);
          if (key && !fields[key].wrap.hidden) {
            markField(key, text);
            first = first || key;
          } else unmapped.push(d);
        }
        if (first) fields[first].input.focus();
      } else {
        unmapped.push(...editor.markErrors(details));
      }
      clear(summary, h("div", { class: "error" },
        h("strong", {}, details.length ? `${e.message}.` : describeError(e)),
        details.length ? ` ${shownText(details.length - unmapped.length, mode)}` : null,
        unmapped.length ? h("ul", {}, unmapped.map((d) => h("li", {}, h("code", {}, d.path || "/"), `: ${(d.errors || []).join(", ")}`))) : null));
    };

    // ---- tabs ----
    const jsonNote = h("p", { class: "hint" }, "Any Marathon app field can be set here; the form keeps those it has no input for.");
    const tabs = tabList("Editor", [
      { key: "form", title: "Form", panel: form },
      { key: "json", title: "JSON", panel: [jsonNote, editor.element] },
    ], (key) => {
      if (key === mode) return;
      if (key === "json") {
        try {
          editor.setValue(formToApp());
        } catch (err) {
          clearErrors();
          markField(err.key, err.message);
          tabs.select("form");
          return;
        }
      } else {
        const r = editor.getValue();
        if (!r.ok || !r.value || typeof r.value !== "object" || Array.isArray(r.value)) {
          clear(summary, h("div", { class: "error" }, r.ok ? "The JSON must be an object to show it as a form." : `${r.error}. Fix it to switch to the form.`));
          tabs.select("json");
          return;
        }
        appToForm(r.value);
      }
      mode = key;
    });

    const run = async (e) => {
      e.preventDefault();
      clearErrors();
      let app;
      if (mode === "form") {
        try {
          app = formToApp();
        } catch (err) {
          markField(err.key, err.message);
          fields[err.key].input.focus();
          return;
        }
      } else {
        const r = editor.getValue();
        if (!r.ok) {
          clear(summary, h("div", { class: "error" }, r.error));
          editor.textarea.focus();
          return;
        }
        app = r.value;
      }
      submit.disabled = true;
      submit.setAttribute("aria-busy", "true");
      submit.textContent = "Deploying…";
      try {
        const created = await post("/v2/apps", app);
        navigate(`/services/app/${idPath((created && created.id) || app.id)}`);
      } catch (err) {
        showErrors(err);
      } finally {
        submit.disabled = false;
        submit.removeAttribute("aria-busy");
        submit.textContent = "Deploy";
      }
    };
    form.addEventListener("submit", run);
    // The JSON tab has no form of its own; the one Deploy button submits either way.
    submit.addEventListener("click", (e) => { if (mode === "json") run(e); });

    clear(root,
      h("nav", { class: "crumbs", "aria-label": "Breadcrumb" }, h("a", { href: "/services" }, "Services"), " / Deploy"),
      h("h1", {}, "Deploy service"),
      summary,
      section(tabs.element),
      h("div", { class: "actions" }, h("a", { class: "button", href: "/services" }, "Cancel"), submit));
    tabs.select("form");
    showHc();
    fields.id.input.focus();
    return { destroy() {} };
  },
};

function section(...children) {
  return h("section", { class: "card", "aria-label": "Service definition" }, ...children);
}
