// Small DOM helpers: an element builder that never parses HTML (so no text from the cluster is
// ever markup), formatters, tables, bars, badges, dialogs and toasts.

// h("a", {href: "/x", class: "y", onclick: fn}, "text", child, [more children])
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key === "value" && "value" in el) el.value = value;
    else if (key === "checked" || key === "disabled" || key === "selected" || key === "hidden") el[key] = Boolean(value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

// ---- formatting ----
export function fmtNumber(n, digits = 0) {
  if (n === undefined || n === null || Number.isNaN(n)) return "—";
  return Number(n).toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}
export const fmtCpus = (c) => fmtNumber(c, 2);
export function fmtMem(mb) {
  if (mb === undefined || mb === null) return "—";
  if (mb >= 1024 * 1024) return `${fmtNumber(mb / 1024 / 1024, 1)} TiB`;
  if (mb >= 1024) return `${fmtNumber(mb / 1024, 1)} GiB`;
  return `${fmtNumber(mb, 0)} MiB`;
}
export function fmtBytes(b) {
  if (b === undefined || b === null) return "—";
  if (b >= 1 << 30) return `${fmtNumber(b / (1 << 30), 1)} GiB`;
  if (b >= 1 << 20) return `${fmtNumber(b / (1 << 20), 1)} MiB`;
  if (b >= 1 << 10) return `${fmtNumber(b / (1 << 10), 1)} KiB`;
  return `${b} B`;
}
// "3 min ago" from an ISO time, epoch seconds or milliseconds.
export function fmtAgo(t) {
  const ms = toMillis(t);
  if (ms === null) return "—";
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}
export function fmtTime(t) {
  const ms = toMillis(t);
  return ms === null ? "—" : new Date(ms).toLocaleString();
}
export function toMillis(t) {
  if (t === undefined || t === null || t === "") return null;
  if (typeof t === "number") return t > 1e12 ? t : t * 1000;  // ms or s since the epoch
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? null : ms;
}

// ---- pieces ----
const STATE_CLASSES = {
  ok: ["TASK_RUNNING", "running", "healthy", "active", "Running", "Healthy", "Active", "ACTIVE"],
  warn: ["TASK_STAGING", "TASK_STARTING", "TASK_KILLING", "deploying", "waiting", "Deploying", "Waiting", "Delayed",
         "TASK_UNREACHABLE", "unreachable", "DISCONNECTED"],
  bad: ["TASK_FAILED", "TASK_LOST", "TASK_ERROR", "TASK_DROPPED", "TASK_GONE", "unhealthy", "Unhealthy", "failed",
        "UNREACHABLE", "GONE"],
};
export function badge(text, kind) {
  let k = kind;
  if (!k) k = Object.keys(STATE_CLASSES).find((c) => STATE_CLASSES[c].includes(text)) || "neutral";
  return h("span", { class: `badge ${k}` }, text);
}

// A used/total bar with its numbers, labelled for screen readers.
export function bar(label, used, total, format = fmtNumber) {
  const pct = total > 0 ? Math.min(100, (100 * used) / total) : 0;
  const fill = h("span", { class: "fill" });
  fill.style.width = `${pct.toFixed(1)}%`;
  return h("div", { class: "meter" },
    h("div", { class: "meter-head" }, h("span", {}, label), h("span", { class: "muted" }, `${format(used)} / ${format(total)}`)),
    h("div", { class: "track", role: "meter", "aria-label": label, "aria-valuemin": 0, "aria-valuemax": total,
              "aria-valuenow": used }, fill));
}

// A table: columns [{title, cell(row) -> node|string, class?}], rows; empty text when no rows.
export function table(columns, rows, options = {}) {
  const head = h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col", class: c.class }, c.title))));
  const body = h("tbody", {}, rows.length
    ? rows.map((r) => h("tr", options.rowAttrs ? options.rowAttrs(r) : {}, columns.map((c) => h("td", { class: c.class, "data-label": c.title }, c.cell(r)))))
    : h("tr", {}, h("td", { colspan: columns.length, class: "empty" }, options.empty || "Nothing here yet.")));
  return h("div", { class: "table-wrap" }, h("table", { class: "grid", "aria-label": options.label }, head, body));
}

export function section(title, ...children) {
  return h("section", { class: "card" }, title ? h("h2", {}, title) : null, ...children);
}

export function stat(label, value, href) {
  const inner = [h("span", { class: "stat-value" }, value), h("span", { class: "stat-label" }, label)];
  return href ? h("a", { class: "stat", href }, inner) : h("div", { class: "stat" }, inner);
}

export function errorBox(message) {
  return h("div", { class: "error", role: "alert" }, message);
}

// Tabs (WAI-ARIA: role=tablist, arrows/Home/End move, one tab in the tab order).
// items: [{key, title, panel}] -> {element, select(key)}; onSelect(key) after a change.
export function tabList(label, items, onSelect) {
  const tabs = items.map((it) => h("button", {
    type: "button", role: "tab", id: `tab-${it.key}`, "aria-controls": `panel-${it.key}`, dataset: { key: it.key },
  }, it.title));
  const panels = items.map((it) => h("div", { role: "tabpanel", id: `panel-${it.key}`, "aria-labelledby": `tab-${it.key}`, tabindex: "0" }, it.panel));
  const select = (key, focus = false) => {
    tabs.forEach((t, i) => {
      const on = items[i].key === key;
      t.setAttribute("aria-selected", String(on));
      t.tabIndex = on ? 0 : -1;
      panels[i].hidden = !on;
      if (on && focus) t.focus();
    });
    if (onSelect) onSelect(key);
  };
  const list = h("div", { role: "tablist", class: "tabs", "aria-label": label }, tabs);
  list.addEventListener("click", (e) => {
    const t = e.target.closest('[role="tab"]');
    if (t) select(t.dataset.key);
  });
  list.addEventListener("keydown", (e) => {
    const i = tabs.indexOf(document.activeElement);
    if (i < 0) return;
    const to = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[e.key];
    if (to === undefined) return;
    e.preventDefault();
    select(items[(to + tabs.length) % tabs.length].key, true);
  });
  return { element: h("div", {}, list, panels), select };
}


// ---- toasts and dialogs ----
export function toast(message, kind = "ok") {
  const box = document.getElementById("toasts");
  if (!box) return;
  const t = h("div", { class: `toast ${kind}` }, message);
  box.append(t);
  setTimeout(() => t.remove(), kind === "bad" ? 8000 : 4000);
}

// A modal dialog built by `build(close)` -> content; resolves with what close() is given.
// Escape and the backdrop cancel (null). Focus goes into the dialog and back afterwards.
export function dialog(title, build) {
  return new Promise((resolve) => {
    const previous = document.activeElement;
    const d = h("dialog", { class: "modal", "aria-label": title });
    const close = (value) => {
      d.close();
      d.remove();
      if (previous && previous.focus) previous.focus();
      resolve(value);
    };
    d.addEventListener("cancel", (e) => {
      e.preventDefault();
      close(null);
    });
    d.append(h("h2", {}, title), build(close));
    document.body.append(d);
    d.showModal();
    const first = d.querySelector("input, textarea, select, button.primary, button");
    if (first) first.focus();
  });
}

// Asks to confirm a destructive action; resolves true or false.
export async function confirmAction(title, text, actionLabel = "Confirm") {
  const ok = await dialog(title, (close) => h("div", {},
    h("p", {}, text),
    h("div", { class: "actions" },
      h("button", { type: "button", onclick: () => close(false) }, "Cancel"),
      h("button", { type: "button", class: "danger", onclick: () => close(true) }, actionLabel))));
  return ok === true;
}

// Runs an action with a busy button and a toast with the server's message on failure. Returns
// the action's result, or undefined when it failed.
export async function busy(button, action, describe) {
  const label = button ? button.textContent : "";
  if (button) {
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    button.textContent = `${label}…`;
  }
  try {
    return await action();
  } catch (e) {
    toast(describe ? describe(e) : String(e.message || e), "bad");
    return undefined;
  } finally {
    if (button) {
      button.disabled = false;
      button.removeAttribute("aria-busy");
      button.textContent = label;
    }
  }
}
