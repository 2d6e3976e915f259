// Catalog: the packages of the master's repositories (POST /package/search) as cards with a
// filter, the installed packages (POST /package/list) with Uninstall, and a package's page
// (/catalog/<name>: describe, versions) with an Install dialog whose options form is generated
// from the package's config.json schema (lib/schema_form.js); errors are shown at their fields.
// Icons are only ever data: URIs (the dashboard makes no external requests) or letter avatars.

import { ApiError, describeError, post } from "../lib/api.js";
import { badge, busy, clear, confirmAction, dialog, errorBox, h, section, table, toast } from "../lib/dom.js";
import { diffOptions, schemaForm } from "../lib/schema_form.js";

const appHref = (id) => `/services/app/${String(id).split("/").filter(Boolean).map(encodeURIComponent).join("/")}`;
const pkgHref = (name) => `/catalog/${encodeURIComponent(name)}`;

// The package's icon: a data: URI it ships, else a letter on a color derived from its name.
export function packageIcon(pkg, size = "medium") {
  const images = pkg && typeof pkg.images === "object" && pkg.images ? pkg.images : {};
  const src = [images[`icon-${size}`], images["icon-medium"], images["icon-small"], images["icon-large"]]
    .find((s) => typeof s === "string" && /^data:image\/(png|gif|jpeg|webp|svg\+xml)[;,]/i.test(s));
  if (src) return h("img", { class: `pkg-icon ${size}`, src, alt: "", width: 48, height: 48 });
  const name = String((pkg && pkg.name) || "?");
  let hash = 0;
  for (const c of name) hash = (hash * 31 + c.codePointAt(0)) >>> 0;
  const el = h("span", { class: `pkg-icon avatar ${size}`, "aria-hidden": "true" }, (name.match(/[a-z0-9]/i) || ["?"])[0].toUpperCase());
  el.style.backgroundColor = `hsl(${hash % 360} 55% 34%)`;
  return el;
}

const tagList = (tags) => (Array.isArray(tags) && tags.length
  ? h("ul", { class: "pkg-tags", "aria-label": "Tags" }, tags.slice(0, 12).map((t) => h("li", {}, badge(String(t), "neutral"))))
  : null);

// Installed packages: [{appId, name, version, notes}] (all of them, or one package's).
async function listInstalled(packageName, signal) {
  const body = await post("/package/list", packageName ? { packageName } : {}, { signal });
  return (body && Array.isArray(body.packages) ? body.packages : []).map((p) => {
    const def = (p.packageInformation && p.packageInformation.packageDefinition) || {};
    return { appId: String(p.appId || ""), name: String(def.name || ""), version: String(def.version || ""),
      postUninstallNotes: def.postUninstallNotes };
  }).sort((a, b) => a.name.localeCompare(b.name) || a.appId.localeCompare(b.appId));
}

// The installed packages as a table, with Uninstall when `onChange` (called after one) is given.
function installedTable(rows, problems, onChange, label) {
  const uninstall = async (row, button) => {
    const ok = await confirmAction(`Uninstall ${row.name}?`,
      `This removes the service ${row.appId} and stops its tasks.`, "Uninstall");
    if (!ok) return;
    clear(problems);
    const result = await busy(button, () => post("/package/uninstall", { packageName: row.name, appId: row.appId }),
      (e) => {
        clear(problems, errorBox(`Could not uninstall ${row.name} (${row.appId}): ${describeError(e)}`));
        return `Uninstall of ${row.name} failed`;
      });
    if (!result) return;
    const notes = (result.results || []).map((r) => r.postUninstallNotes).filter(Boolean).join(" ");
    toast(`Uninstalled ${row.name} (${row.appId}).${notes ? ` ${notes}` : ""}`);
    onChange();
  };
  return table([
    { title: "Package", cell: (r) => r.name },
    { title: "Version", cell: (r) => r.version || "—" },
    { title: "Service", cell: (r) => h("a", { href: appHref(r.appId) }, r.appId) },
    onChange && { title: "Actions", class: "num", cell: (r) => {
      const b = h("button", { type: "button", class: "cat-small", "aria-label": `Uninstall ${r.name} (${r.appId})` }, "Uninstall");
      b.addEventListener("click", () => uninstall(r, b));
      return b;
    } },
  ].filter(Boolean), rows, { label, empty: "No package is installed." });
}

// The Install dialog. Resolves with the install's answer, or null when cancelled.
function installDialog(pkg, version) {
  return dialog(`Install ${pkg.name} ${version}`, (close) => {
    const schema = pkg.config && typeof pkg.config === "object" ? pkg.config : { type: "object", properties: {} };
    let form = schemaForm(schema, {});
    const formBox = h("div", {}, form.element);
    const summary = h("div", { class: "error", role: "alert", tabindex: "-1", hidden: true });
    const jsonId = `install-json-${Date.now()}`;
    const jsonErr = h("div", { class: "field-error", id: `${jsonId}-err`, hidden: true });
    const json = h("textarea", { id: jsonId, spellcheck: "false", rows: 14 });
    const jsonBox = h("div", { hidden: true }, h("label", { for: jsonId }, "Options (JSON)"),
      h("div", { class: "hint", id: `${jsonId}-hint` }, "The options object sent with the install; the package's defaults apply to what is left out."),
      json, jsonErr);
    json.setAttribute("aria-describedby", `${jsonId}-hint`);
    const toggle = h("button", { type: "button", class: "cat-link", "aria-expanded": "false", "aria-controls": jsonId },
      "Advanced: edit JSON");
    let jsonMode = false;
    const setJsonError = (text) => {
      jsonErr.textContent = text || "";
      jsonErr.hidden = !text;
      if (text) {
        json.setAttribute("aria-invalid", "true");
        json.setAttribute("aria-describedby", `${jsonId}-hint ${jsonId}-err`);
      } else {
        json.removeAttribute("aria-invalid");
        json.setAttribute("aria-describedby", `${jsonId}-hint`);
      }
    };
    const parseJson = () => {
      try {
        const v = JSON.parse(json.value.trim() || "{}");
        if (v === null || typeof v !== "object" || Array.isArray(v)) throw new Error("the options must be a JSON object");
        return v;
      } catch (e) {
        setJsonError(`Not valid JSON: ${e.message}`);
        json.focus();
        return null;
      }
    };
    toggle.addEventListener("click", () => {
      summary.hidden = true;
      if (!jsonMode) {
        json.value = JSON.stringify(diffOptions(form.value(), form.defaults()) || {}, null, 2);
        setJsonError("");
      } else {
        const v = parseJson();
        if (!v) return;
        form = schemaForm(schema, v);
        clear(formBox, form.element);
      }
      jsonMode = !jsonMode;
      formBox.hidden = jsonMode;
      jsonBox.hidden = !jsonMode;
      toggle.setAttribute("aria-expanded", String(jsonMode));
      toggle.textContent = jsonMode ? "Back to the form" : "Advanced: edit JSON";
      (jsonMode ? json : formBox.querySelector("input, select, textarea") || toggle).focus();
    });

    const submit = h("button", { type: "submit", class: "primary" }, "Install");
    const cancel = h("button", { type: "button", onclick: () => close(null) }, "Cancel");
    const onSubmit = async (e) => {
      e.preventDefault();
      if (submit.disabled) return;
      summary.hidden = true;
      form.clearErrors();
      setJsonError("");
      const options = jsonMode ? parseJson() : diffOptions(form.value(), form.defaults()) || {};
      if (!options) return;
      const label = submit.textContent;
      submit.disabled = true;
      submit.setAttribute("aria-busy", "true");
      submit.textContent = "Installing…";
      try {
        const result = await post("/package/install", { packageName: pkg.name, packageVersion: version, options });
        close(result || { appId: "" });
      } catch (err) {
        showError(err);
      } finally {
        submit.disabled = false;
        submit.removeAttribute("aria-busy");
        submit.textContent = label;
      }
    };
    const showError = (err) => {
      let details = err instanceof ApiError ? err.details || [] : [];
      // "The id is taken" is about the service's name when the form has one.
      if (!jsonMode && form.hasField("/service/name")) details = details.map((d) => (d.path === "/appId" ? { ...d, path: "/service/name" } : d));
      const unmatched = jsonMode ? details : form.setErrors(details);
      const atFields = details.length - unmatched.length;
      const message = err instanceof ApiError ? err.message : String((err && err.message) || err);
      clear(summary,
        h("p", {}, atFields ? `${message}. See the ${atFields === 1 ? "marked field" : `${atFields} marked fields`}.` : message),
        unmatched.length ? h("ul", {}, unmatched.map((d) => h("li", {}, h("code", {}, d.path || "/"), ": ", d.errors.join("; ")))) : null);
      summary.hidden = false;
      if (jsonMode && details.length === 0) setJsonError("");
      if (atFields && form.focusFirstError()) return;
      summary.focus();
    };

    const notes = pkg.preInstallNotes ? h("p", { class: "note pkg-notes" }, pkg.preInstallNotes) : null;
    return h("form", { class: "install-form", novalidate: true, onsubmit: onSubmit },
      notes, summary, formBox, jsonBox,
      h("div", { class: "install-foot" }, toggle, h("div", { class: "actions" }, cancel, submit)));
  });
}

function listPage(root, ctx, signal, stops) {
  const problems = h("div");
  const installedProblems = h("div");
  const installedBox = h("div", {}, h("p", { class: "note" }, "Loading…"));
  const query = h("input", { type: "search", id: "catalog-search", autocomplete: "off",
    placeholder: "Name, tag or description", value: ctx.query.get("q") || "" });
  const count = h("p", { class: "muted", role: "status", "aria-live": "polite" }, "Loading the packages…");
  const grid = h("ul", { class: "pkg-grid", "aria-label": "Packages" });
  clear(root, h("h1", {}, "Catalog"), problems,
    section("Installed", installedProblems, installedBox),
    h("section", { class: "card", "aria-labelledby": "catalog-packages" },
      h("h2", { id: "catalog-packages" }, "Packages"),
      h("div", { class: "toolbar" }, h("label", { for: "catalog-search", class: "cat-inline" }, "Search"), query, count),
      grid));

  let packages = null;
  const draw = () => {
    if (!packages) return;
    const words = query.value.toLowerCase().split(/\s+/).filter(Boolean);
    const shown = packages.filter((p) => {
      const text = [p.name, p.description, ...(Array.isArray(p.tags) ? p.tags : [])].join(" ").toLowerCase();
      return words.every((w) => text.includes(w));
    });
    count.textContent = words.length ? `${shown.length} of ${packages.length} packages match.` : `${packages.length} packages.`;
    clear(grid, shown.length ? shown.map((p) => h("li", { class: "pkg-card" },
      packageIcon(p),
      h("div", { class: "pkg-main" },
        h("h3", {}, h("a", { href: pkgHref(p.name) }, p.name)),
        h("div", { class: "pkg-meta" }, h("span", { class: "muted" }, p.currentVersion || ""),
          p.selected ? badge("Featured", "ok") : null, p.framework ? badge("Framework", "neutral") : null),
        h("p", { class: "pkg-desc" }, p.description || ""),
        tagList(p.tags))))
      : h("li", { class: "muted pkg-none" }, "No package matches."));
  };
  query.addEventListener("input", () => {
    const u = new URL(location.href);
    if (query.value) u.searchParams.set("q", query.value);
    else u.searchParams.delete("q");
    history.replaceState(null, "", u.pathname + u.search);
    draw();
  });
  post("/package/search", { query: "" }, { signal }).then((body) => {
    packages = (body && Array.isArray(body.packages) ? body.packages : []).filter((p) => p && p.name)
      .sort((a, b) => Number(Boolean(b.selected)) - Number(Boolean(a.selected)) || String(a.name).localeCompare(b.name));
    draw();
  }, (e) => {
    if (e.name === "AbortError") return;
    count.textContent = "";
    clear(problems, errorBox(`The packages could not be loaded: ${describeError(e)}`));
  });

  // The installed list follows the apps (an install or a removal anywhere changes them).
  let loading = false, again = false;
  const loadInstalled = async () => {
    if (loading) { again = true; return; }
    loading = true;
    try {
      const rows = await listInstalled("", signal);
      clear(installedBox, installedTable(rows, installedProblems, loadInstalled, "Installed packages"));
    } catch (e) {
      if (e.name !== "AbortError") clear(installedBox, errorBox(`The installed packages could not be listed: ${describeError(e)}`));
    }
    loading = false;
    if (again && !signal.aborted) { again = false; loadInstalled(); }
  };
  stops.push(ctx.live.watch("apps", () => loadInstalled()));
}

function detailPage(root, name, ctx, signal, stops) {
  const problems = h("div");
  const body = h("div", {}, h("p", { class: "note" }, "Loading…"));
  clear(root, h("p", { class: "crumbs" }, h("a", { href: "/catalog" }, "Catalog"), " / ", name), problems, body);
  const installedProblems = h("div");
  const installedBox = h("div");
  const installedCard = section("Installed", installedProblems, installedBox);
  const justInstalled = h("div", { role: "status", "aria-live": "polite" });
  let versions = [];
  let current = null;

  const loadInstalled = async () => {
    try {
      const rows = await listInstalled(name, signal);
      clear(installedBox, rows.length ? [installedTable(rows, installedProblems, null, `Installed copies of ${name}`),
          h("p", { class: "note" }, "Uninstall from the ", h("a", { href: "/catalog" }, "catalog"), ".")]
        : h("p", { class: "note" }, `${name} is not installed.`));
    } catch (e) {
      if (e.name !== "AbortError") clear(installedBox, errorBox(`Could not list the installed packages: ${describeError(e)}`));
    }
  };

  const draw = (pkg) => {
    current = pkg;
    document.title = `${pkg.name} · Catalog · dcos`;
    const select = h("select", { id: "pkg-version" }, (versions.length ? versions : [pkg.version]).map((v) =>
      h("option", { value: v, selected: v === pkg.version }, v)));
    select.addEventListener("change", () => load(select.value, select));
    const install = h("button", { type: "button", class: "primary", id: "pkg-install" }, "Install");
    install.addEventListener("click", async () => {
      const result = await installDialog(current, current.version);
      if (!result) return;
      const notes = result.postInstallNotes || current.postInstallNotes;
      const id = result.appId || "";
      toast(h("span", {}, `Installed ${current.name} as `, id ? h("a", { href: appHref(id) }, id) : "a service", ".",
        notes ? ` ${notes}` : ""));
      clear(justInstalled, h("p", { class: "ok-note" }, `Installed ${current.name} ${current.version} as `,
        id ? h("a", { href: appHref(id) }, id) : "a service", ".", notes ? ` ${notes}` : ""));
      loadInstalled();
    });
    const licenses = Array.isArray(pkg.licenses) ? pkg.licenses.filter((l) => l && l.name) : [];
    const facts = [
      ["Maintainer", pkg.maintainer],
      ["Version", pkg.releaseVersion !== undefined ? `${pkg.version} (release ${pkg.releaseVersion})` : pkg.version],
      ["Packaging", pkg.packagingVersion],
      ["Framework", pkg.framework ? "Yes" : "No"],
      ["Tags", tagList(pkg.tags)],
      ["Licenses", licenses.length ? licenses.map((l, i) => [i ? ", " : "", l.name]) : null],
      ["Website", pkg.website],
      ["Source", pkg.scm],
    ].filter(([, v]) => v !== undefined && v !== null && v !== "");
    clear(body,
      h("div", { class: "pkg-head" }, packageIcon(pkg, "large"),
        h("div", { class: "pkg-main" }, h("h1", {}, pkg.name),
          h("div", { class: "pkg-meta" }, h("span", { class: "muted" }, pkg.version), pkg.selected ? badge("Featured", "ok") : null))),
      h("div", { class: "toolbar pkg-actions" }, h("label", { for: "pkg-version", class: "cat-inline" }, "Version"), select, install),
      justInstalled,
      h("div", { class: "columns" },
        section("About", h("p", { class: "pkg-desc-full" }, pkg.description || "No description."),
          pkg.preInstallNotes ? [h("h3", {}, "Before installing"), h("p", { class: "pkg-notes" }, pkg.preInstallNotes)] : null),
        section("Details", h("dl", { class: "facts" }, facts.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])))),
      installedCard);
  };

  const describe = (version) => post("/package/describe",
    version ? { packageName: name, packageVersion: version } : { packageName: name }, { signal }).then((a) => a.package);
  // Another version: the select is disabled while it loads; a failure is said under the heading.
  const load = async (version, select) => {
    select.disabled = true;
    try {
      const pkg = await describe(version);
      clear(problems);
      draw(pkg);
      document.getElementById("pkg-version")?.focus();
    } catch (e) {
      if (e.name === "AbortError") return;
      select.disabled = false;
      clear(problems, errorBox(`Version ${version} could not be loaded: ${describeError(e)}`));
    }
  };
  // The versions only once the package is known (a missing one is one error, not two).
  describe("").then((pkg) => post("/package/list-versions", { packageName: name, includePackageVersions: true }, { signal })
    .then((v) => { versions = Object.keys((v && v.results) || {}); }, () => { versions = []; }).then(() => pkg))
    .then((pkg) => draw(pkg), (e) => {
    if (e.name === "AbortError") return;
    clear(body);
    clear(problems, errorBox(e instanceof ApiError && e.status === 400 && /not found/i.test(e.message)
      ? `No package named ${name} is in the catalog.` : `The package could not be loaded: ${describeError(e)}`),
    h("p", {}, h("a", { href: "/catalog" }, "Back to the catalog")));
  });
  loadInstalled();
  stops.push(ctx.live.onEvent((e) => {
    if (e.type === "app_terminated_event" || e.type === "api_post_event") loadInstalled();
  }));
}

export default {
  title: "Catalog",
  mount(root, params, ctx) {
    const controller = new AbortController();
    const stops = [];
    if (params.package) detailPage(root, params.package, ctx, controller.signal, stops);
    else listPage(root, ctx, controller.signal, stops);
    return { destroy: () => { controller.abort(); stops.forEach((s) => s()); } };
  },
};
