// One task: its details and status history (from /master/state, which keeps the latest status
// only, plus the statuses that arrive as events while the page is open), its sandbox (found like
// `dcos task log` does, through the agent's /state) with a file browser, and a log viewer that
// can follow a file: the files API has no push, so while Follow is on and the page is visible
// it reads the new bytes once a second.

import { describeError, get } from "../lib/api.js";
import { badge, clear, errorBox, fmtBytes, fmtCpus, fmtMem, fmtNumber, fmtTime, h, section, table } from "../lib/dom.js";
import { collectTasks, healthBadge, isTerminal, nodeLink, taskTimes, timeCell } from "./tasks.js";

const TAIL = 1 << 20;        // bytes of a file kept in the viewer
const FOLLOW_MS = 1000;
const MAX_MARKS = 2000;
const val = (x) => (x && typeof x === "object" && "value" in x ? x.value : x);
const utf8 = new TextEncoder();
const q = (path) => `path=${encodeURIComponent(path)}`;

// Where the task's sandbox is in the agent's /state (cli/task_sandbox.cpp's sandboxInAgentState).
function sandboxIn(state, taskId) {
  for (const list of ["frameworks", "completed_frameworks"]) {
    for (const f of state[list] || []) {
      for (const e of f.executors || []) if (e.id === taskId && e.directory) return e.directory;
      for (const t of [...(f.tasks || []), ...(f.completed_tasks || [])]) if (t.id === taskId && t.sandbox) return t.sandbox;
    }
  }
  for (const t of state.completed_tasks || []) if (t.id === taskId && t.sandbox) return t.sandbox;
  return "";
}

// Builds `text` into `into` with each match of `needle` in a <mark>; returns the number of matches.
function highlight(into, text, needle) {
  if (!needle) { into.append(text); return 0; }
  const hay = text.toLowerCase();
  let at = 0, n = 0;
  for (let i = hay.indexOf(needle); i >= 0; i = hay.indexOf(needle, i + needle.length)) {
    n++;
    if (n > MAX_MARKS) continue;
    into.append(text.slice(at, i), h("mark", {}, text.slice(i, i + needle.length)));
    at = i + needle.length;
  }
  into.append(text.slice(at));
  return n;
}

function logViewer(agentId, initialFollow) {
  const base = `/agent/${encodeURIComponent(agentId)}/files`;
  const radios = ["stdout", "stderr"].map((name) => h("label", { class: "inline" },
    h("input", { type: "radio", name: "log-file", value: name, checked: name === "stdout" }), ` ${name}`));
  const follow = h("input", { type: "checkbox", id: "log-follow", checked: initialFollow });
  const search = h("input", { type: "search", id: "log-search", autocomplete: "off", placeholder: "Text to highlight" });
  const matches = h("span", { class: "muted", role: "status", "aria-live": "polite" });
  const download = h("a", { class: "button", download: "" }, "Download");
  const fileName = h("span", { class: "mono" });
  const info = h("p", { class: "muted log-info" });
  const problems = h("div");
  const pre = h("pre", { class: "log", tabindex: "0", "aria-label": "Log" });
  const el = h("div", { class: "log-viewer" },
    h("div", { class: "toolbar log-tools" },
      h("fieldset", { class: "radios" }, h("legend", {}, "Log file"), radios),
      h("label", { class: "inline switch" }, follow, " Follow"),
      h("div", { class: "grow" }, h("label", { for: "log-search" }, "Search the log"), search),
      matches, download),
    h("p", { class: "log-file" }, "File: ", fileName), problems, pre, info);

  let root = "", path = "", start = 0, end = 0, text = "", count = 0;
  let timer = 0, generation = 0, inFlight = false, dead = false;

  const render = () => {
    const needle = search.value.toLowerCase();
    clear(pre);
    count = highlight(pre, text, needle);
    showCount();
  };
  const showCount = () => {
    matches.textContent = search.value ? `${fmtNumber(count)} match${count === 1 ? "" : "es"}${count > MAX_MARKS ? ` (first ${MAX_MARKS} marked)` : ""}` : "";
  };
  const showInfo = () => {
    info.textContent = `${fmtBytes(end - start)} shown${start > 0 ? ` (the last part of ${fmtBytes(end)})` : ""}` +
      `${follow.checked ? "; following" : ""}.`;
  };
  const atBottom = () => pre.scrollHeight - pre.scrollTop - pre.clientHeight < 40;

  const read = (offset, length) => get(`${base}/read?${q(path)}&offset=${offset}&length=${length}`);
  // Loads the last TAIL bytes of `path`.
  const load = async () => {
    const g = ++generation;
    clear(problems);
    text = "";
    pre.textContent = "Loading…";
    try {
      const size = (await read(-1, 0)).offset;
      start = Math.max(0, size - TAIL);
      end = start;
      const parts = [];
      while (end < size) {
        const r = await read(end, size - end);
        if (g !== generation) return;
        if (!r.data) break;
        parts.push(r.data);
        end += utf8.encode(r.data).length;
      }
      text = parts.join("");
      if (start > 0) text = text.slice(text.indexOf("\n") + 1);  // from a whole line
      render();
      pre.scrollTop = pre.scrollHeight;
    } catch (e) {
      if (g !== generation) return;
      pre.textContent = "";
      clear(problems, errorBox(`Could not read ${path}: ${describeError(e)}`));
    }
    showInfo();
  };
  // Reads what was appended since `end`.
  const more = async () => {
    if (inFlight || !path) return;
    inFlight = true;
    const g = generation;
    try {
      const r = await read(end, TAIL);
      if (g !== generation) return;
      clear(problems);
      if (r.offset < end) return load();  // the file got shorter: start again
      if (!r.data) return;
      const stick = atBottom();
      end += utf8.encode(r.data).length;
      text += r.data;
      if (text.length > TAIL * 1.25) {
        text = text.slice(text.length - TAIL);
        text = text.slice(text.indexOf("\n") + 1);
        start = end - utf8.encode(text).length;
        render();
      } else {
        count += highlight(pre, r.data, search.value.toLowerCase());
        showCount();
      }
      showInfo();
      if (stick) pre.scrollTop = pre.scrollHeight;
    } catch (e) {
      if (g === generation) clear(problems, errorBox(`Could not read ${path}: ${describeError(e)}`));
    } finally {
      inFlight = false;
    }
  };
  const tick = () => {
    timer = 0;
    if (dead || !follow.checked || document.hidden) return;
    more().finally(() => { if (!timer && !dead) timer = setTimeout(tick, FOLLOW_MS); });
  };
  const schedule = () => {
    clearTimeout(timer);
    timer = 0;
    if (!dead && follow.checked && !document.hidden && path) timer = setTimeout(tick, FOLLOW_MS);
    showInfo();
  };
  const open = async (file) => {
    path = file;
    fileName.textContent = root && file.startsWith(`${root}/`) ? file.slice(root.length + 1) : file;
    for (const r of radios) r.firstChild.checked = file === `${root}/${r.firstChild.value}`;
    download.href = `${base}/download?${q(file)}`;
    clearTimeout(timer);
    timer = 0;
    await load();
    schedule();
  };
  for (const r of radios) r.firstChild.addEventListener("change", (e) => open(`${root}/${e.target.value}`));
  follow.addEventListener("change", schedule);
  search.addEventListener("input", render);
  const onVisible = () => schedule();
  document.addEventListener("visibilitychange", onVisible);
  return {
    el,
    open,
    setRoot: (r) => { root = r; return open(`${r}/stdout`); },
    setFollow: (on) => { if (follow.checked !== on) { follow.checked = on; schedule(); } },
    destroy: () => { dead = true; generation++; clearTimeout(timer); document.removeEventListener("visibilitychange", onVisible); },
  };
}

function fileBrowser(agentId, onOpen) {
  const base = `/agent/${encodeURIComponent(agentId)}/files`;
  const crumbs = h("nav", { class: "crumbs", "aria-label": "Sandbox path" });
  const problems = h("div");
  const list = h("div");
  const el = h("div", {}, crumbs, problems, list);
  let root = "";
  const rel = (p) => (p === root ? "" : p.slice(root.length + 1));
  const browse = async (dir) => {
    clear(problems);
    try {
      const entries = await get(`${base}/browse?${q(dir)}`);
      const parts = rel(dir).split("/").filter(Boolean);
      clear(crumbs, h("button", { type: "button", class: "link", onclick: () => browse(root) }, "sandbox"),
        parts.map((p, i) => [" / ", i === parts.length - 1 ? h("span", { "aria-current": "location" }, p)
          : h("button", { type: "button", class: "link", onclick: () => browse(`${root}/${parts.slice(0, i + 1).join("/")}`) }, p)]));
      const sorted = [...entries].sort((a, b) => (b.mode[0] === "d") - (a.mode[0] === "d") || a.path.localeCompare(b.path));
      clear(list, table([
        { title: "Name", cell: (f) => {
          const name = f.path.slice(f.path.lastIndexOf("/") + 1);
          const dir = f.mode[0] === "d";
          return h("button", { type: "button", class: "link", onclick: () => (dir ? browse(f.path) : onOpen(f.path)),
            title: dir ? `Open the folder ${name}` : `View ${name}` }, dir ? `${name}/` : name);
        } },
        { title: "Size", cell: (f) => (f.mode[0] === "d" ? "—" : fmtBytes(f.size)), class: "num" },
        { title: "Mode", cell: (f) => h("span", { class: "mono" }, f.mode) },
        { title: "Modified", cell: (f) => timeCell(f.mtime) },
      ], sorted, { label: "Sandbox files", empty: "This folder is empty." }));
    } catch (e) {
      clear(problems, errorBox(`Could not list ${rel(dir) || "the sandbox"}: ${describeError(e)}`));
    }
  };
  return { el, setRoot: (r) => { root = r; return browse(r); } };
}

// The status history: the statuses seen, oldest first, each once.
function statusKey(s) { return s.uuid || `${s.state}|${s.timestamp}|${s.message || ""}`; }

export default {
  title: "Task",
  mount(root, params, { live }) {
    const taskId = params.task;
    const title = h("h1", {}, taskId);
    const problems = h("div");
    const facts = h("dl", { class: "facts" });
    const history = h("div");
    const sandboxNote = h("div");
    const statuses = new Map();  // key -> status
    let task = null, agentId = null, viewer = null, browser = null, sandboxFor = null;
    const filesSection = section("Sandbox files", sandboxNote);
    const logSection = section("Log");
    clear(root, h("p", { class: "crumbs" }, h("a", { href: "/tasks" }, "Tasks"), " / ", h("span", { class: "mono" }, taskId)),
      title, problems,
      section("Details", facts),
      section("Status history", history,
        h("p", { class: "hint" }, "Newest first. The master keeps the last 15 changes of state or health of a task (since its last restart); statuses arriving while this page is open are added as they come.")),
      logSection, filesSection);

    const addStatus = (s) => { if (s && s.state) statuses.set(statusKey(s), s); };
    const drawHistory = () => {
      const rows = [...statuses.values()].sort((a, b) => (b.timestamp || 0) - (a.timestamp || 0));
      clear(history, table([
        { title: "Time", cell: (s) => (s.timestamp ? fmtTime(s.timestamp) : "—") },
        { title: "State", cell: (s) => badge(s.state) },
        { title: "Health", cell: (s) => (typeof s.healthy === "boolean" ? badge(s.healthy ? "healthy" : "unhealthy") : "—") },
        { title: "Source", cell: (s) => String(s.source || "—").replace(/^SOURCE_/, "").toLowerCase() },
        { title: "Reason / message", cell: (s) => [s.reason || "", s.reason && s.message ? ": " : "", s.message || ""].join("") || "—" },
      ], rows, { label: "Status history, newest first", empty: "No status yet." }));
    };

    const findSandbox = async () => {
      sandboxFor = agentId;
      clear(sandboxNote, h("p", { class: "muted" }, "Finding the sandbox…"));
      try {
        const state = await get(`/agent/${encodeURIComponent(agentId)}/state`);
        const dir = sandboxIn(state || {}, taskId);
        if (!dir) throw new Error(`Agent ${agentId} has no sandbox for this task (it may have been removed).`);
        if (!viewer) return;  // destroyed meanwhile
        clear(sandboxNote);
        clear(logSection, h("h2", {}, "Log"), viewer.el);
        filesSection.append(browser.el);
        browser.setRoot(dir);
        viewer.setRoot(dir);
      } catch (e) {
        clear(sandboxNote, errorBox(`Could not find the sandbox: ${describeError(e)}`));
        clear(logSection, h("h2", {}, "Log"), h("p", { class: "muted" }, "No log without the sandbox."));
      }
    };

    const drawTask = () => {
      const t = task.task;
      const r = t.resources || {};
      const times = taskTimes({ statuses: [...statuses.values()].sort((a, b) => (a.timestamp || 0) - (b.timestamp || 0)) });
      const sts = t.statuses || [];
      const last = sts[sts.length - 1] || {};
      const container = val((last.container_status || {}).container_id);
      const discovery = t.discovery || {};
      const ports = ((discovery.ports || {}).ports || []).map((p) => `${p.number}${p.name ? ` (${p.name})` : ""}/${p.protocol || "tcp"}`);
      title.textContent = t.name || t.id;
      document.title = `${t.name || t.id} · Tasks · dcos`;
      const row = (k, v) => [h("dt", {}, k), h("dd", {}, v)];
      clear(facts,
        row("ID", h("span", { class: "mono" }, t.id)),
        row("State", [badge(t.state), task.completed ? " (completed)" : ""]),
        row("Health", healthBadge(t)),
        row("Agent", [nodeLink(task.agentId, task.host), " ", h("span", { class: "mono muted" }, task.agentId)]),
        row("Framework", task.framework),
        row("Role", t.role || "*"),
        row("Resources", `${fmtCpus(r.cpus)} CPU, ${fmtMem(r.mem)} memory, ${fmtMem(r.disk)} disk${r.gpus ? `, ${fmtNumber(r.gpus)} GPU` : ""}`),
        row("Ports", ports.length ? ports.join(", ") : r.ports || "—"),
        row("Discovery name", discovery.name || "—"),
        container ? row("Container", h("span", { class: "mono" }, container)) : null,
        row("Started", times.started ? [fmtTime(times.started), " (", timeCell(times.started), ")"] : "—"),
        row("Updated", times.updated ? [fmtTime(times.updated), " (", timeCell(times.updated), ")"] : "—"));
    };

    const stops = [
      live.watch("state", (state, e) => {
        clear(problems, e ? errorBox(`Could not load the task: ${describeError(e)}`) : null);
        if (!state) return;
        const found = collectTasks(state).find((x) => x.id === taskId);
        if (!found) {
          if (!task) {
            title.textContent = "Task not found";
            clear(facts, h("dt", {}, "ID"), h("dd", { class: "mono" }, taskId));
            clear(problems, errorBox(`The master knows no task ${taskId} (completed tasks are kept for a while only).`));
          }
          return;
        }
        task = found;
        for (const s of task.task.statuses || []) addStatus(s);
        drawTask();
        drawHistory();
        if (!viewer) {
          agentId = task.agentId;
          viewer = logViewer(agentId, !task.completed);
          browser = fileBrowser(agentId, (p) => { viewer.open(p); logSection.scrollIntoView({ block: "start" }); });
        }
        if (task.completed) viewer.setFollow(false);
        if (sandboxFor !== agentId) findSandbox();
      }),
      live.onEvent((e) => {
        if (e.source !== "operator") return;
        const s = e.type === "TASK_UPDATED" ? (e.data.task_updated || {}).status
          : e.type === "TASK_ADDED" ? (((e.data.task_added || {}).task || {}).statuses || [])[0] : null;
        if (!s || val(s.task_id) !== taskId) return;
        addStatus(s);
        drawHistory();
      }),
    ];
    return { destroy: () => { stops.forEach((s) => s()); if (viewer) viewer.destroy(); viewer = null; } };
  },
};
