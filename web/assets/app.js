// The status page: who this cluster is and whether its master is healthy, from GET /health and
// GET /version, refreshed every few seconds. The full dashboard replaces it in later versions.

const REFRESH_MS = 5000;

// The dashboard's future pages; the master already serves this page at their paths.
const PAGES = {
  services: "Services",
  nodes: "Nodes",
  tasks: "Tasks",
  deployments: "Deployments",
  catalog: "Catalog",
  frameworks: "Frameworks",
  events: "Events",
};

const $ = (id) => document.getElementById(id);

// Uptime as the server last reported it, and when (performance.now()), so the page can count on.
let uptime = null;
let versionShown = false;

function setText(id, text) {
  $(id).textContent = text;
}

function formatUptime(seconds) {
  const s = Math.floor(seconds);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d} d ${h} h`;
  if (h > 0) return `${h} h ${m} min`;
  if (m > 0) return `${m} min ${s % 60} s`;
  return `${s} s`;
}

// GETs a JSON document; throws an Error whose message says what went wrong in plain words.
async function getJson(path) {
  let response;
  try {
    response = await fetch(path, { headers: { Accept: "application/json" }, cache: "no-store" });
  } catch (e) {
    throw Object.assign(new Error(`GET ${path}: the master did not answer (${e.message}).`), { unreachable: true });
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    // Not JSON: reported below.
  }
  if (!response.ok) {
    const why = body && typeof body.message === "string" ? body.message : response.statusText;
    throw new Error(`GET ${path} answered ${response.status}${why ? `: ${why}` : ""}.`);
  }
  if (body === null || typeof body !== "object") throw new Error(`GET ${path} did not answer with JSON.`);
  return body;
}

function showHealth(health) {
  const pill = $("health-pill");
  pill.className = `pill ${health.healthy ? "ok" : "bad"}`;
  pill.textContent = health.healthy ? "Healthy" : "Unhealthy";
  setText("health", health.healthy ? "Healthy" : "Unhealthy");
  setText("cluster-id", health.cluster_id ?? "—");
  setText("master-id", health.master_id ?? "—");
  setText("role", health.role ?? "—");
  uptime = typeof health.uptime_seconds === "number" ? { seconds: health.uptime_seconds, at: performance.now() } : null;
  showUptime();
}

function showUptime() {
  if (uptime === null) return;
  setText("uptime", formatUptime(uptime.seconds + (performance.now() - uptime.at) / 1000));
}

function showHealthUnknown(error) {
  const pill = $("health-pill");
  pill.className = "pill bad";
  pill.textContent = error.unreachable ? "Unreachable" : "Error";
  setText("health", error.unreachable ? "Unknown: the master did not answer" : "Unknown: see the error above");
  setText("uptime", "—");
  uptime = null;
}

function showVersion(version) {
  setText("version", version.version ?? "—");
  setText("git-sha", version.git_sha ?? "—");
  setText("build-date", version.build_date ?? "—");
  const rows = Object.entries(version.libraries ?? {}).sort(([a], [b]) => a.localeCompare(b));
  const tbody = $("libraries").tBodies[0];
  tbody.replaceChildren(
    ...rows.map(([name, v]) => {
      const tr = document.createElement("tr");
      for (const text of [name, String(v)]) tr.appendChild(document.createElement("td")).textContent = text;
      return tr;
    }),
  );
  $("libraries").hidden = rows.length === 0;
  versionShown = true;
}

function showErrors(messages) {
  const box = $("error");
  if (messages.length === 0) {
    box.hidden = true;
    box.replaceChildren();
    return;
  }
  const title = document.createElement("strong");
  title.textContent = "Could not load the cluster's status.";
  const list = document.createElement("ul");
  for (const m of messages) list.appendChild(document.createElement("li")).textContent = m;
  const hint = document.createElement("p");
  hint.textContent = `Retrying every ${REFRESH_MS / 1000} seconds.`;
  box.replaceChildren(title, list, hint);
  box.hidden = false;
}

async function refresh() {
  const [health, version] = await Promise.allSettled([
    getJson("/health"),
    versionShown ? Promise.resolve(null) : getJson("/version"),
  ]);
  const errors = [];
  if (health.status === "fulfilled") showHealth(health.value);
  else {
    showHealthUnknown(health.reason);
    errors.push(health.reason.message);
  }
  if (version.status === "fulfilled") {
    if (version.value !== null) showVersion(version.value);
  } else errors.push(version.reason.message);
  showErrors(errors);
  setText("updated", `Last checked at ${new Date().toLocaleTimeString()}.`);
}

function showPageNote() {
  const first = location.pathname.split("/").filter(Boolean)[0];
  const name = PAGES[first];
  if (!name) return;
  const note = $("page-note");
  note.textContent = `The ${name} page is not part of this version yet; this is the cluster's status page.`;
  note.hidden = false;
}

let refreshing = false;
async function refreshOnce() {
  if (refreshing) return;
  refreshing = true;
  try {
    await refresh();
  } finally {
    refreshing = false;
  }
}

showPageNote();
$("refresh").addEventListener("click", refreshOnce);
refreshOnce();
setInterval(() => {
  if (!document.hidden) refreshOnce();
}, REFRESH_MS);
setInterval(showUptime, 1000);
document.addEventListener("visibilitychange", () => {
  if (!document.hidden) refreshOnce();
});
