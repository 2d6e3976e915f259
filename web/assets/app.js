// The dashboard: a router over the pages (each URL is a page, so links and reloads work), the
// navigation, and the connection status of the live event streams (lib/live.js).
//
// A page module exports default {title, mount(root, params, ctx) -> {destroy()}}: it draws into
// `root`, subscribes to what it shows (ctx.live.watch / onEvent) and undoes that in destroy().
// ctx = {live, navigate(path), params, query (URLSearchParams)}.

import { live } from "./lib/live.js";
import { clear, h } from "./lib/dom.js";
import overview from "./pages/overview.js";
import services from "./pages/services.js";
import appPage from "./pages/app_page.js";
import deploy from "./pages/deploy.js";
import deployments from "./pages/deployments.js";
import nodes from "./pages/nodes.js";
import tasks from "./pages/tasks.js";
import taskPage from "./pages/task_page.js";
import catalog from "./pages/catalog.js";
import frameworks from "./pages/frameworks.js";
import events from "./pages/events.js";

// [pattern, page, nav]: ":name" is one segment, ":name*" the rest of the path.
const ROUTES = [
  ["/", overview, "overview"],
  ["/overview", overview, "overview"],
  ["/services", services, "services"],
  ["/services/deploy", deploy, "services"],
  ["/services/app/:id*", appPage, "services"],
  ["/services/group/:id*", services, "services"],
  ["/deployments", deployments, "deployments"],
  ["/nodes", nodes, "nodes"],
  ["/nodes/:agent", nodes, "nodes"],
  ["/tasks", tasks, "tasks"],
  ["/tasks/:task", taskPage, "tasks"],
  ["/catalog", catalog, "catalog"],
  ["/catalog/:package", catalog, "catalog"],
  ["/frameworks", frameworks, "frameworks"],
  ["/events", events, "events"],
];

function match(pattern, path) {
  const p = pattern.split("/").filter(Boolean);
  const s = path.split("/").filter(Boolean);
  const params = {};
  for (let i = 0; i < p.length; i++) {
    if (p[i].endsWith("*")) {
      if (i >= s.length) return null;
      params[p[i].slice(1, -1)] = s.slice(i).map(decodeURIComponent).join("/");
      return params;
    }
    if (i >= s.length) return null;
    if (p[i].startsWith(":")) params[p[i].slice(1)] = decodeURIComponent(s[i]);
    else if (p[i] !== s[i]) return null;
  }
  return p.length === s.length ? params : null;
}

let current = null;  // the mounted page's handle

function render() {
  const main = document.getElementById("main");
  if (current && current.destroy) current.destroy();
  current = null;
  const path = location.pathname.replace(/\/+$/, "") || "/";
  let found = null;
  for (const [pattern, page, nav] of ROUTES) {
    const params = match(pattern, path);
    if (params) {
      found = { page, nav, params };
      break;
    }
  }
  for (const a of document.querySelectorAll("#nav a")) {
    if (found && a.dataset.nav === found.nav) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  clear(main);
  if (!found) {
    document.title = "Not found · dcos";
    main.append(h("h1", {}, "Not found"), h("p", {}, "No page at ", h("code", {}, path), ". ",
      h("a", { href: "/" }, "Go to the overview"), "."));
    return;
  }
  document.title = `${found.page.title} · dcos`;
  const ctx = { live, navigate, params: found.params, query: new URLSearchParams(location.search) };
  try {
    current = found.page.mount(main, found.params, ctx) || null;
  } catch (e) {
    main.append(h("div", { class: "error", role: "alert" }, `This page failed to draw: ${e.message}`));
    console.warn(e);
  }
}

export function navigate(path, { replace = false } = {}) {
  if (replace) history.replaceState(null, "", path);
  else history.pushState(null, "", path);
  render();
  document.getElementById("main").focus({ preventScroll: true });
  window.scrollTo(0, 0);
}

// Same-origin links are routed here (no reload); others, downloads and modified clicks are not.
document.addEventListener("click", (e) => {
  const a = e.target.closest("a");
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  if (a.target || a.hasAttribute("download") || a.origin !== location.origin) return;
  const path = a.pathname;
  if (!ROUTES.some(([pattern]) => match(pattern, path.replace(/\/+$/, "") || "/"))) return;
  e.preventDefault();
  closeNav();
  navigate(path + a.search);
});
window.addEventListener("popstate", render);

// The menu on narrow screens.
const toggle = document.getElementById("nav-toggle");
function closeNav() {
  document.body.classList.remove("nav-open");
  toggle.setAttribute("aria-expanded", "false");
}
toggle.addEventListener("click", () => {
  const open = document.body.classList.toggle("nav-open");
  toggle.setAttribute("aria-expanded", String(open));
});

const pill = document.getElementById("connection");
const STATUS_TEXT = { live: "Live", connecting: "Connecting…", reconnecting: "Reconnecting…" };
live.onStatus((s) => {
  pill.textContent = STATUS_TEXT[s];
  pill.className = `pill ${s === "live" ? "ok" : s === "reconnecting" ? "bad" : "unknown"}`;
  pill.title = s === "live" ? "Receiving the master's events" : "The master's event streams are not connected";
});

live.start();
render();
