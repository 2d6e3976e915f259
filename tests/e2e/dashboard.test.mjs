#!/usr/bin/env node
// Browser end-to-end tests of the dashboard: Debian's Chromium, headless, driven by
// playwright-core against real `dcos dev` clusters started from the built binary ($DCOS_BIN).
//
// Run by meson as the test 'e2e-dashboard' (suite 'e2e'); by hand:
//   tests/e2e/setup.sh && DCOS_BIN=build/dcos node tests/e2e/dashboard.test.mjs
// Environment:
//   DCOS_BIN            the dcos binary (default: build/dcos)
//   DCOS_E2E_OUTPUT     where screenshots, cluster logs and measurements go (default: build/tests/e2e-output)
//   DCOS_E2E_ONLY       run only the cases whose name contains this text
//   DCOS_E2E_WEB_DIR    serve the dashboard from this directory (`dcos dev --web_dir`) instead of the
//                       embedded copy: only for developing the pages, never in `make test`
//   DCOS_E2E_CHROMIUM   the browser (default: /usr/bin/chromium)
//   DCOS_E2E_HEADED=1   show the browser (needs a display)
//
// The last line is doctest's summary line (tests/run.py totals those): cases skipped when Chromium or
// playwright-core is missing (the reason is printed), failed ones make the exit status non-zero.
// Measurements (page weight, time to first render with 1,000 apps, event-to-screen delay) are
// printed and written to <output>/measurements.json; they do not pass or fail, except that no
// request may leave the master's origin.

import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, "..", "..");
const CHROMIUM = process.env.DCOS_E2E_CHROMIUM || "/usr/bin/chromium";
const DCOS_BIN = path.resolve(process.env.DCOS_BIN || path.join(REPO, "build", "dcos"));
const WEB_DIR = process.env.DCOS_E2E_WEB_DIR || "";
const OUT = path.resolve(process.env.DCOS_E2E_OUTPUT || path.join(REPO, "build", "tests", "e2e-output"));
const ONLY = process.env.DCOS_E2E_ONLY || "";
const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
  "--no-first-run", "--disable-dev-shm-usage"];
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const CASE_TIMEOUT_MS = 120_000;

const log = (...a) => console.log("[e2e]", ...a);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const measurements = {};

// ---------------------------------------------------------------------------------------------
// Waiting: deadlines and polling, never fixed sleeps.

// Polls fn() until it returns a truthy value (returned); throws after `timeout` ms with the last
// value or error seen.
async function until(what, fn, { timeout = 30_000, interval = 100 } = {}) {
  const end = Date.now() + timeout;
  let last, lastError;
  for (;;) {
    try {
      last = await fn();
      lastError = undefined;
      if (last) return last;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > end) {
      const seen = lastError ? `; last error: ${lastError.message}` : last !== undefined ? `; last value: ${JSON.stringify(last)}` : "";
      throw new Error(`timed out after ${timeout} ms waiting for ${what}${seen}`);
    }
    await sleep(interval);
  }
}

// Waits for the locator's text to match (a RegExp, or a string it must contain).
async function expectText(locator, expected, { timeout = 20_000, what } = {}) {
  let text = null;
  try {
    return await until(what || `text ${expected}`, async () => {
      text = (await locator.first().innerText({ timeout: 1000 })).replace(/\s+/g, " ").trim();
      return (expected instanceof RegExp ? expected.test(text) : text.includes(expected)) ? text : false;
    }, { timeout });
  } catch (e) {
    throw new Error(`${what || "text"}: expected ${expected}, saw ${JSON.stringify(text)} (${e.message})`);
  }
}

async function expectVisible(locator, what, timeout = 20_000) {
  try {
    await locator.first().waitFor({ state: "visible", timeout });
  } catch (e) {
    throw new Error(`${what}: not visible within ${timeout} ms`);
  }
  return locator.first();
}

function assert(cond, message) {
  if (!cond) throw new Error(message);
}

// ---------------------------------------------------------------------------------------------
// Clusters: `dcos dev` in its own process group, state in a temp dir; stopped (and its tasks
// with it) at the end of the case that started it, also on failure.

const clusters = new Set();

// A port range of its own for the agent's tasks, so parallel tests' clusters (31000-32000 by
// default) never hand out the same ports. Below the kernel's ephemeral range (32768+).
function taskPortRange() {
  const base = 20000 + 100 * Math.floor(Math.random() * 120);
  return `[${base}-${base + 99}]`;
}

class Cluster {
  constructor(name) {
    this.name = name;
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `dcos-e2e-${name}-`));
    this.workDir = path.join(this.dir, "work");
    this.ports = taskPortRange();
    this.port = 0;
    this.proc = null;
    this.logFile = path.join(OUT, `cluster-${name}.log`);
    clusters.add(this);
  }

  async start({ port = 0 } = {}) {
    const args = ["dev", "--address", "127.0.0.1", "--port", String(port), "--dns_port", "0", "--work_dir", this.workDir,
      "--log_level", "warn", "--resources", `cpus:4;mem:4096;disk:8192;ports:${this.ports}`];
    if (WEB_DIR) args.push("--web_dir", path.resolve(WEB_DIR));
    const proc = spawn(DCOS_BIN, args, { cwd: this.dir, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    this.proc = proc;
    let out = "";
    const logStream = fs.createWriteStream(this.logFile, { flags: "a" });
    logStream.write(`--- ${new Date().toISOString()} ${DCOS_BIN} ${args.join(" ")}\n`);
    proc.stdout.on("data", (d) => { out += d; logStream.write(d); });
    proc.stderr.on("data", (d) => { out += d; logStream.write(d); });
    proc.exited = new Promise((resolve) => proc.on("exit", (code, signal) => { proc.exitedWith = { code, signal }; logStream.end(); resolve(); }));
    const url = await until(`cluster ${this.name} to start`, () => {
      if (proc.exitedWith) throw new Error(`dcos dev exited (${JSON.stringify(proc.exitedWith)}): ${out.slice(-2000)}`);
      const m = /API and dashboard: (http:\/\/[^\s/]+)\//.exec(out);
      return m ? m[1] : null;
    }, { timeout: 30_000 }).catch((e) => { if (proc.exitedWith) throw new Error(`dcos dev exited: ${out.slice(-2000)}`); throw e; });
    this.url = url;
    this.port = Number(new URL(url).port);
    await until(`cluster ${this.name}: the agent to register`, async () => {
      const s = await this.get("/master/state");
      return (s.slaves || []).filter((a) => a.active).length === 1;
    }, { timeout: 30_000 });
    return this;
  }

  async stop() {
    const proc = this.proc;
    if (!proc || proc.exitedWith) return;
    try { process.kill(-proc.pid, "SIGTERM"); } catch { /* gone */ }
    const done = await Promise.race([proc.exited.then(() => true), sleep(20_000).then(() => false)]);
    if (!done) {
      try { process.kill(-proc.pid, "SIGKILL"); } catch { /* gone */ }
      await proc.exited;
    }
  }

  async destroy() {
    await this.stop();
    clusters.delete(this);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  async request(method, p, body) {
    const res = await fetch(this.url + p, {
      method,
      headers: body === undefined ? {} : { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await res.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch { json = text; }
    if (!res.ok) {
      const e = new Error(`${method} ${p}: ${res.status} ${text.slice(0, 300)}`);
      e.status = res.status;
      e.body = json;
      throw e;
    }
    return json;
  }
  get(p) { return this.request("GET", p); }
  post(p, body) { return this.request("POST", p, body); }

  async app(id) {
    return (await this.get(`/v2/apps${id}?embed=app.tasks`)).app;
  }
  async waitRunning(id, n, { healthy = false, timeout = 60_000 } = {}) {
    return until(`${id}: ${n} ${healthy ? "healthy" : "running"} instance(s)`, async () => {
      const a = await this.app(id);
      return (healthy ? a.tasksHealthy : a.tasksRunning) === n && (a.deployments || []).length === 0 ? a : false;
    }, { timeout });
  }
  async runningTasks() {
    const s = await this.get("/master/state");
    let n = 0;
    for (const f of s.frameworks || []) for (const t of f.tasks || []) if (t.state === "TASK_RUNNING") n++;
    return n;
  }
}

// A synchronous last resort: the clusters of a run that is interrupted (meson's timeout) stop.
function killAllClusters() {
  for (const c of clusters) {
    if (c.proc && !c.proc.exitedWith) try { process.kill(-c.proc.pid, "SIGTERM"); } catch { /* gone */ }
  }
}
process.on("exit", killAllClusters);
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(sig, () => {
    log(`interrupted by ${sig}; stopping the clusters`);
    killAllClusters();
    process.exit(1);
  });
}

// ---------------------------------------------------------------------------------------------
// Cases: each gets a fresh browser context per page it opens; console errors and warnings, page
// errors and requests to other origins are recorded per page and fail the case.

let browser = null;
const cases = [];
function testCase(name, fn) { cases.push({ name, fn }); }

class CaseContext {
  constructor(name) {
    this.name = name;
    this.slug = name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
    this.contexts = [];
    this.pages = [];
    this.problems = [];        // console errors/warnings, page errors
    this.external = [];        // requests that left the master's origin
    this.allowConsole = [];    // RegExps of console messages this case expects (e.g. while the master is down)
    this.cleanups = [];
  }

  // Opens `path` of `cluster` in a new context; resolves when the dashboard has drawn its page.
  async open(cluster, p, { viewport = DESKTOP, onResponse } = {}) {
    const context = await browser.newContext({ viewport, deviceScaleFactor: 1, reducedMotion: "reduce" });
    context.setDefaultTimeout(20_000);
    this.contexts.push(context);
    const page = await context.newPage();
    this.pages.push(page);
    const origin = new URL(cluster.url).origin;
    page.on("console", (msg) => {
      if (msg.type() !== "error" && msg.type() !== "warning") return;
      const text = msg.text();
      if (this.allowConsole.some((re) => re.test(text))) return;
      const loc = msg.location();
      this.problems.push(`console.${msg.type()} on ${page.url()}: ${text}${loc && loc.url ? ` (${loc.url}:${loc.lineNumber})` : ""}`);
    });
    page.on("pageerror", (err) => this.problems.push(`page error on ${page.url()}: ${err.message}`));
    page.on("request", (req) => {
      const u = req.url();
      if (u.startsWith("data:") || u.startsWith("blob:") || u.startsWith("about:")) return;
      if (new URL(u).origin !== origin) this.external.push(u);
    });
    if (onResponse) page.on("response", onResponse);
    await page.goto(cluster.url + p, { waitUntil: "domcontentloaded" });
    await pageReady(page);
    return page;
  }

  async screenshot(page, name, { fullPage = false } = {}) {
    fs.mkdirSync(OUT, { recursive: true });
    const file = path.join(OUT, `${name}.png`);
    await page.screenshot({ path: file, fullPage, animations: "disabled" });
    return file;
  }

  async close(failed) {
    if (failed) {
      for (const [i, page] of this.pages.entries()) {
        if (page.isClosed()) continue;
        try {
          const file = await this.screenshot(page, `FAILED-${this.slug}-${i + 1}`, { fullPage: true });
          log(`  screenshot of the failure: ${file} (${page.url()})`);
        } catch { /* the page is gone */ }
      }
    }
    for (const c of this.contexts) await c.close().catch(() => {});
    for (const fn of this.cleanups.reverse()) await fn().catch((e) => log(`  clean-up failed: ${e.message}`));
  }
}

// The dashboard drew a page: the router mounted it (an h1 in #main) and the live streams connected.
async function pageReady(page, { timeout = 20_000 } = {}) {
  await expectVisible(page.locator("#main h1"), `the page heading of ${page.url()}`, timeout);
  await expectText(page.getByRole("status").filter({ hasText: /Live|Connecting|Reconnecting/ }), "Live",
    { timeout, what: "the connection pill" });
}

// No "Loading…" (or "Finding …") left in the page: everything it fetched arrived.
async function settled(page, timeout = 15_000) {
  await until(`${page.url()} to finish loading`, async () => {
    const text = await page.locator("#main").innerText();
    return !/Loading|Finding the sandbox/.test(text);
  }, { timeout });
}

// ---------------------------------------------------------------------------------------------
// The shared cluster of the cases that do not restart it; each case uses app ids of its own.

let shared = null;
async function sharedCluster() {
  if (!shared) shared = await new Cluster("shared").start();
  return shared;
}

const uniq = () => Math.random().toString(36).slice(2, 8);
const SLEEPER = { cmd: "sleep 100000", cpus: 0.05, mem: 32 };

testCase("overview shows the cluster's real numbers", async (t) => {
  const c = await sharedCluster();
  await c.post("/v2/apps", { id: "/e2e-overview", instances: 2, ...SLEEPER });
  await c.waitRunning("/e2e-overview", 2);
  const page = await t.open(c, "/");
  const statValue = (label) => page.getByRole("link", { name: new RegExp(label) }).locator(".stat-value");
  await expectText(statValue("Agents active"), /^1 \/ 1$/, { what: "Agents active" });
  // Tasks running equals the master's count (polled: both must agree at one moment).
  let seen = null;
  await until("the overview's Tasks running to equal /master/state's", async () => {
    const expected = await c.runningTasks();
    seen = { page: (await statValue("Tasks running").innerText()).trim(), state: expected };
    return seen.page === String(expected) && expected >= 2;
  }, { timeout: 20_000 }).catch((e) => { throw new Error(`${e.message} (page ${seen && seen.page}, state ${seen && seen.state})`); });
  const apps = (await c.get("/v2/apps")).apps.length;
  await expectText(statValue("Services"), String(apps), { what: "Services" });
  // Scaling by API changes the number on the open page (no reload).
  await c.request("PUT", "/v2/apps/e2e-overview", { instances: 3 });
  await c.waitRunning("/e2e-overview", 3);
  await until("Tasks running to follow a scale-up", async () =>
    (await statValue("Tasks running").innerText()).trim() === String(await c.runningTasks()), { timeout: 20_000 });
  // The allocation meters show real resources (4 CPUs from --resources).
  await expectVisible(page.getByRole("meter", { name: "CPU" }), "the CPU meter");
  const cpuMax = await page.getByRole("meter", { name: "CPU" }).getAttribute("aria-valuemax");
  assert(Number(cpuMax) === 4, `the CPU meter's maximum is ${cpuMax}, the agent has 4`);
});

// Marks the page so that a reload would be noticed (the mark would be gone).
async function markNoReload(page) {
  await page.evaluate(() => { window.__e2eNoReload = true; });
  return async () => assert(await page.evaluate(() => window.__e2eNoReload === true), "the page was reloaded");
}

testCase("deploy an app through the form, watch it become healthy, scale it to 3", async (t) => {
  const c = await sharedCluster();
  const id = `/e2e-web-${uniq()}`;
  const page = await t.open(c, "/services");
  const noReload = await markNoReload(page);
  await page.getByRole("link", { name: "Deploy service" }).click();
  await expectVisible(page.getByRole("heading", { name: "Deploy service" }), "the deploy page");
  await page.getByLabel("ID", { exact: true }).fill(id);
  await page.getByLabel("Command", { exact: true }).fill("python3 -m http.server $PORT0");
  await page.getByLabel("Instances", { exact: true }).fill("1");
  await page.getByLabel("CPUs", { exact: true }).fill("0.05");
  await page.getByLabel("Memory (MiB)", { exact: true }).fill("64");
  await page.getByLabel("Protocol", { exact: true }).selectOption("MESOS_HTTP");
  await page.getByLabel("Path", { exact: true }).fill("/");
  await page.getByLabel("Grace period (s)").fill("30");
  await page.getByLabel("Interval (s)").fill("1");
  // The form has no input for the check's first delay (Mesos' default: 15 s): set it in the JSON
  // tab, which must carry what the form says.
  await page.getByRole("tab", { name: "JSON" }).click();
  const json = page.getByLabel("App definition (JSON)");
  await expectVisible(json, "the JSON editor");
  const def = JSON.parse(await json.inputValue());
  assert(def.id === id && def.cmd === "python3 -m http.server $PORT0" && def.cpus === 0.05 && def.mem === 64 && def.instances === 1,
    `the JSON tab does not carry the form: ${JSON.stringify(def)}`);
  assert(def.healthChecks && def.healthChecks[0] && def.healthChecks[0].protocol === "MESOS_HTTP" && def.healthChecks[0].intervalSeconds === 1,
    `the JSON tab lost the health check: ${JSON.stringify(def.healthChecks)}`);
  def.healthChecks[0].delaySeconds = 0;
  await json.fill(JSON.stringify(def, null, 2));
  await page.getByRole("button", { name: "Deploy", exact: true }).click();
  // The app's page, reached without a reload, shows it healthy once Marathon says so.
  await page.waitForURL(`**/services/app${id}*`, { timeout: 20_000 });
  await expectVisible(page.getByRole("heading", { name: id }), "the app page heading");
  await expectText(page.locator("#main p.muted").filter({ hasText: /^Instances/ }), /^Instances 1 \/ 1 healthy/,
    { timeout: 60_000, what: "the app page's instance count" });
  const instances = page.getByRole("tabpanel", { name: "Instances" }).getByRole("table");
  await expectVisible(instances.getByText("Healthy", { exact: true }), "the instance's Healthy badge");
  await expectText(page.locator("h1 .badge"), "Running", { what: "the app's status badge" });
  await t.screenshot(page, "deploy-healthy");
  // Scale to 3 through the Scale action.
  const before = (await page.evaluate(() => window.__dcos.eventToScreenMs.length));
  await page.getByRole("group", { name: "Actions" }).getByRole("button", { name: "Scale" }).click();
  const dialog = page.getByRole("dialog", { name: `Scale ${id}` });
  await expectVisible(dialog, "the Scale dialog");
  await dialog.getByLabel("Instances").fill("3");
  await dialog.getByRole("button", { name: "Scale" }).click();
  await expectText(page.locator("#main p.muted").filter({ hasText: /^Instances/ }), /^Instances 3 \/ 3 healthy/,
    { timeout: 60_000, what: "the app page's instance count after scaling" });
  await until("3 rows in the Instances table", async () =>
    (await instances.locator("tbody tr").filter({ hasText: "Healthy" }).count()) === 3, { timeout: 20_000 });
  const api = await c.app(id);
  assert(api.instances === 3 && api.tasksHealthy === 3, `the API says instances ${api.instances}, healthy ${api.tasksHealthy}`);
  await t.screenshot(page, "deploy-scaled-to-3");
  await noReload();
  // Event-to-screen delay of what the scaling caused.
  const delays = await page.evaluate((n) => window.__dcos.eventToScreenMs.slice(n), before);
  measurements.eventToScreenAfterScale = summarize(delays);
});

testCase("task page follows its log and searches it", async (t) => {
  const c = await sharedCluster();
  const id = `/e2e-log-${uniq()}`;
  const start = `e2e-start-${uniq()}`;
  await c.post("/v2/apps", {
    id, instances: 1, cpus: 0.05, mem: 32,
    cmd: `echo ${start}; echo e2e-to-stderr >&2; while true; do echo "tick $(date +%s%N)"; sleep 1; done`,
  });
  const app = await c.waitRunning(id, 1);
  const taskId = app.tasks[0].id;
  const page = await t.open(c, `/tasks/${encodeURIComponent(taskId)}`);
  const logBox = page.getByLabel("Log", { exact: true });
  await expectText(logBox, start, { what: "the log's first line" });
  const follow = page.getByRole("checkbox", { name: "Follow" });
  if (!(await follow.isChecked())) await follow.check();
  // A line printed after the page had drawn the log: its tick is later than now.
  const openedNs = (BigInt(Date.now()) * 1_000_000n).toString();
  await page.waitForFunction((since) => {
    const el = document.querySelector("pre.log, [aria-label='Log']");
    const ticks = ((el && el.textContent) || "").match(/tick \d+/g) || [];
    return ticks.some((x) => BigInt(x.slice(5)) > BigInt(since));
  }, openedNs, { timeout: 20_000 }).catch(() => { throw new Error("no log line printed after the page was opened appeared (Follow on)"); });
  // Search: one match of the first line, marked.
  await page.getByLabel("Search the log").fill(start);
  await expectText(logBox.locator("mark"), start, { what: "the marked match" });
  await expectText(page.getByRole("status").filter({ hasText: /match/ }), /^1 match$/, { what: "the match count" });
  await page.getByLabel("Search the log").fill("tick");
  await expectText(page.getByRole("status").filter({ hasText: /match/ }), /^[2-9]\d* matches$|^\d{2,} matches$/, { what: "the tick matches" });
  // The Download link points at the file.
  const href = await page.getByRole("link", { name: "Download" }).getAttribute("href");
  assert(/\/files\/download\?path=.*stdout$/.test(decodeURIComponent(href || "")), `Download points at ${href}`);
  await t.screenshot(page, "task-log-follow");
  // stderr.
  await page.getByRole("radio", { name: "stderr" }).check();
  await expectText(logBox, "e2e-to-stderr", { what: "stderr" });
});

testCase("install hello-world from the catalog with a changed option", async (t) => {
  const c = await sharedCluster();
  const greeting = `Hello from the e2e test ${uniq()}`;
  const page = await t.open(c, "/catalog");
  await page.getByRole("link", { name: "hello-world", exact: true }).click();
  await expectVisible(page.getByRole("heading", { name: "hello-world", level: 1 }), "the package page");
  await page.getByRole("button", { name: "Install", exact: true }).click();
  const dialog = page.getByRole("dialog");
  await expectVisible(dialog, "the Install dialog");
  const field = dialog.getByLabel("greeting", { exact: true });
  assert((await field.inputValue()) === "Hello from DC/OS!", `the greeting's default is ${await field.inputValue()}`);
  await field.fill(greeting);
  await t.screenshot(page, "catalog-install-dialog");
  await dialog.getByRole("button", { name: "Install", exact: true }).click();
  await expectText(page.getByRole("status").filter({ hasText: /Installed hello-world/ }), /Installed hello-world .* as \/hello-world/,
    { what: "the installed note" });
  const app = await c.app("/hello-world");
  assert(app.env && app.env.GREETING === greeting, `the app's GREETING is ${JSON.stringify(app.env && app.env.GREETING)}`);
  assert(app.labels && app.labels.DCOS_PACKAGE_NAME === "hello-world", "the app has no DC/OS package labels");
  await expectVisible(page.getByRole("table", { name: "Installed copies of hello-world" }).getByRole("link", { name: "/hello-world" }),
    "hello-world in the Installed list");
  await t.screenshot(page, "catalog-installed");
});

testCase("an invalid app shows the error at its field", async (t) => {
  const c = await sharedCluster();
  const id = `e2e-bad-${uniq()}`;
  // Chromium logs every non-2xx answer; the 422s of the invalid submissions are expected.
  t.allowConsole.push(/Failed to load resource: the server responded with a status of 422/);
  const page = await t.open(c, "/services/deploy");
  await page.getByLabel("ID", { exact: true }).fill(id);
  await page.getByLabel("Command", { exact: true }).fill("sleep 1000");
  await page.getByLabel("CPUs", { exact: true }).fill("-1");
  await page.getByRole("button", { name: "Deploy", exact: true }).click();
  const cpus = page.getByLabel("CPUs", { exact: true });
  await until("the CPUs input to be marked invalid", async () => (await cpus.getAttribute("aria-invalid")) === "true", { timeout: 15_000 });
  // Its error is next to it and is its description.
  const error = page.locator("#deploy-cpus-error");
  await expectText(error, /greater than or equal to 0/, { what: "the CPUs error" });
  const describedBy = (await cpus.getAttribute("aria-describedby")) || "";
  assert(describedBy.split(/\s+/).includes("deploy-cpus-error"), `the CPUs input is described by "${describedBy}", not its error`);
  const sameField = await error.evaluate((el) => el.closest(".field") === document.getElementById("deploy-cpus").closest(".field"));
  assert(sameField, "the CPUs error is not next to the CPUs input");
  assert((await page.getByLabel("ID", { exact: true }).getAttribute("aria-invalid")) !== "true", "the valid ID is marked invalid");
  assert(new URL(page.url()).pathname === "/services/deploy", `the form left the page: ${page.url()}`);
  await c.get(`/v2/apps/${id}`).then(() => { throw new Error(`the invalid app ${id} was created`); }, (e) => assert(e.status === 404, e.message));
  await t.screenshot(page, "deploy-invalid");
  // An id with bad characters: its error at the ID.
  await page.getByLabel("CPUs", { exact: true }).fill("0.1");
  await page.getByLabel("ID", { exact: true }).fill("/Bad_Name");
  await page.getByRole("button", { name: "Deploy", exact: true }).click();
  await until("the ID input to be marked invalid", async () =>
    (await page.getByLabel("ID", { exact: true }).getAttribute("aria-invalid")) === "true", { timeout: 15_000 });
  await expectText(page.locator("#deploy-id-error"), /regular expression|id|match/i, { what: "the ID error" });
  assert((await cpus.getAttribute("aria-invalid")) !== "true", "the CPUs error stayed after it was fixed");
});

testCase("every page loads without console errors (screenshots, page weight)", async (t) => {
  const c = await sharedCluster();
  const id = `/e2e-pages-${uniq()}`;
  await c.post("/v2/apps", { id, instances: 1, ...SLEEPER });
  const app = await c.waitRunning(id, 1);
  const taskId = app.tasks[0].id;
  const agentId = app.tasks[0].slaveId;
  const pages = [
    ["overview", "/"], ["services", "/services"], ["deploy", "/services/deploy"], ["deployments", "/deployments"],
    ["nodes", "/nodes"], ["tasks", "/tasks"], ["catalog", "/catalog"], ["frameworks", "/frameworks"], ["events", "/events"],
    ["app", `/services/app${id}`], ["node", `/nodes/${encodeURIComponent(agentId)}`], ["task", `/tasks/${encodeURIComponent(taskId)}`],
    ["package", "/catalog/hello-world"],
  ];
  // Page weight: every same-origin response's bytes (the streams excepted), per URL.
  const bytes = new Map();
  const streaming = (u) => /\/v2\/events|\/api\/v1$/.test(u.pathname);
  const onResponse = async (res) => {
    const u = new URL(res.url());
    if (streaming(u) || res.request().method() !== "GET") return;
    try {
      const body = await res.body();
      // Every page URL answers the same index.html: counted once.
      const key = res.request().resourceType() === "document" ? "asset (index.html)"
        : u.pathname.startsWith("/assets/") ? `asset ${u.pathname}` : `api ${u.pathname}${u.search}`;
      bytes.set(key, body.length);
    } catch { /* a redirect or aborted request has no body */ }
  };
  const shots = [];
  const bad = [];
  for (const [name, p] of pages) {
    const page = await t.open(c, p, { onResponse });
    try {
      await settled(page);
      if (await page.getByText("This page is being written.").count()) bad.push(`${p}: still a placeholder`);
      if (await page.getByText(/This page failed to draw/).count()) bad.push(`${p}: failed to draw`);
      if ((await page.locator("#main h1").first().innerText()) === "Not found") bad.push(`${p}: Not found`);
    } catch (e) {
      bad.push(`${p}: ${e.message}`);
    }
    shots.push(await t.screenshot(page, `page-${name}`));
    if (name === "overview" || name === "services") {
      await page.setViewportSize(PHONE);
      await until("the layout to follow the phone viewport", () => page.evaluate(() => innerWidth === 390));
      shots.push(await t.screenshot(page, `page-${name}-phone`));
    }
    await page.context().close();
  }
  log(`  screenshots: ${shots.length} in ${OUT}`);
  const assets = [...bytes].filter(([k]) => k.startsWith("asset "));
  const apiBytes = [...bytes].filter(([k]) => k.startsWith("api ")).reduce((n, [, b]) => n + b, 0);
  measurements.pageWeight = {
    assetBytes: assets.reduce((n, [, b]) => n + b, 0),
    assets: Object.fromEntries(assets.map(([k, b]) => [k.slice(6), b])),
    apiBytesOnce: apiBytes,
    pages: pages.length,
    externalRequests: [...new Set(t.external)],
  };
  assert(!bad.length, `pages did not load: ${bad.join("; ")}`);
});

testCase("the dashboard recovers by itself when the master restarts", async (t) => {
  const c = new Cluster("restart");
  t.cleanups.push(() => c.destroy());
  await c.start();
  const page = await t.open(c, "/");
  const noReload = await markNoReload(page);
  const pill = page.locator("#connection");
  const statValue = (label) => page.getByRole("link", { name: new RegExp(label) }).locator(".stat-value");
  await expectText(statValue("Agents active"), /^1 \/ 1$/, { what: "Agents active" });
  await expectText(statValue("Services"), /^0$/, { what: "Services before" });
  // While the master is away the browser logs the refused connections; nothing else may appear.
  t.allowConsole.push(/Failed to load resource: net::ERR_CONNECTION_(REFUSED|RESET|CLOSED)|net::ERR_INCOMPLETE_CHUNKED_ENCODING|EventSource/);
  const port = c.port;
  await c.stop();
  await expectText(pill, /Reconnecting/, { what: "the connection pill while the master is down" });
  await t.screenshot(page, "restart-master-down");
  await until("dcos dev to start again on the same port", async () => {
    try {
      await c.start({ port });
      return true;
    } catch (e) {
      log(`  restart attempt failed (${e.message.slice(0, 120)}); retrying`);
      await c.stop();
      return false;
    }
  }, { timeout: 60_000, interval: 500 });
  await expectText(pill, /^Live$/, { timeout: 30_000, what: "the connection pill after the restart" });
  await expectText(statValue("Agents active"), /^1 \/ 1$/, { what: "Agents active after the restart" });
  // New data after the restart reaches the open page.
  await c.post("/v2/apps", { id: "/e2e-after-restart", instances: 1, ...SLEEPER });
  await c.waitRunning("/e2e-after-restart", 1);
  await expectText(statValue("Services"), /^1$/, { what: "Services after the restart" });
  await until("Tasks running after the restart", async () =>
    (await statValue("Tasks running").innerText()).trim() === String(await c.runningTasks()) && (await c.runningTasks()) === 1, { timeout: 20_000 });
  await noReload();
  await t.screenshot(page, "restart-recovered");
});

testCase("services page with 1,000 apps (time to first render)", async (t) => {
  const c = new Cluster("thousand");
  t.cleanups.push(() => c.destroy());
  await c.start();
  const N = 1000;
  const t0 = Date.now();
  let next = 0;
  const worker = async () => {
    while (next < N) {
      const i = next++;
      const id = `/load/g${String(Math.floor(i / 100)).padStart(2, "0")}/app-${String(i).padStart(4, "0")}`;
      await c.post("/v2/apps", { id, cmd: "sleep 1000", instances: 0, cpus: 0.01, mem: 16 });
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  const createMs = Date.now() - t0;
  await until("1,000 apps in /v2/apps", async () => (await c.get("/v2/apps")).apps.length === N, { timeout: 30_000 });
  const runs = [];
  for (let run = 0; run < 3; run++) {
    const context = await browser.newContext({ viewport: DESKTOP });
    t.contexts.push(context);
    const page = await context.newPage();
    t.pages.push(page);
    page.on("pageerror", (err) => t.problems.push(`page error: ${err.message}`));
    page.on("console", (m) => { if (m.type() === "error" || m.type() === "warning") t.problems.push(`console.${m.type()}: ${m.text()}`); });
    await page.goto(`${c.url}/services`, { waitUntil: "commit" });
    // Polled at every frame: the first frame with all 1,000 app rows drawn.
    const ms = await page.waitForFunction((n) => {
      const rows = document.querySelectorAll('table[aria-label="Services"] tbody a[href^="/services/app/"]').length;
      return rows >= n ? performance.now() : false;
    }, N, { polling: "raf", timeout: 60_000 }).then((h) => h.jsonValue());
    runs.push(Math.round(ms));
    if (run === 0) await t.screenshot(page, "page-services-1000-apps");
    await context.close();
  }
  measurements.services1000 = { createMs, firstRenderMs: runs, medianMs: median(runs) };
});

// ---------------------------------------------------------------------------------------------

function median(xs) {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
function summarize(xs) {
  return { count: xs.length, medianMs: xs.length ? Math.round(median(xs) * 10) / 10 : null, maxMs: xs.length ? Math.round(Math.max(...xs) * 10) / 10 : null };
}

function summaryLine(n, passed, failed, skipped) {
  return `[doctest] test cases: ${n} | ${passed} passed | ${failed} failed | ${skipped} skipped`;
}

function skipAll(reason) {
  const selected = cases.filter((c) => c.name.includes(ONLY));
  log(`skipped: ${reason}`);
  for (const c of selected) log(`SKIP ${c.name}`);
  console.log(summaryLine(selected.length, 0, 0, selected.length));
  process.exit(0);
}

async function main() {
  if (Number(process.versions.node.split(".")[0]) < 20) skipAll(`node ${process.versions.node} is too old for playwright-core (needs 20)`);
  if (!fs.existsSync(CHROMIUM)) skipAll(`${CHROMIUM} is missing (Debian's package chromium; packaging/install-deps.sh installs it)`);
  let chromium;
  try {
    ({ chromium } = await import(pathToFileURL(path.join(HERE, "node_modules", "playwright-core", "index.mjs")).href));
  } catch (e) {
    skipAll(`playwright-core is not installed in tests/e2e/node_modules (tests/e2e/setup.sh installs it): ${e.message.split("\n")[0]}`);
  }
  if (!fs.existsSync(DCOS_BIN)) {
    log(`the dcos binary ${DCOS_BIN} is missing`);
    console.log(summaryLine(1, 0, 1, 0));
    process.exit(1);
  }
  fs.mkdirSync(OUT, { recursive: true });
  for (const f of fs.readdirSync(OUT)) if (/\.(png|log|json)$/.test(f)) fs.rmSync(path.join(OUT, f));
  log(`output (screenshots, cluster logs, measurements): ${OUT}`);
  if (WEB_DIR) log(`serving the dashboard from ${path.resolve(WEB_DIR)} (DCOS_E2E_WEB_DIR), not the embedded copy`);
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: process.env.DCOS_E2E_HEADED !== "1", timeout: 60_000 });
  } catch (e) {
    skipAll(`Chromium did not start: ${e.message.split("\n")[0]}`);
  }
  log(`Chromium ${browser.version()}, playwright-core ${JSON.parse(fs.readFileSync(path.join(HERE, "node_modules", "playwright-core", "package.json"))).version}`);

  const selected = cases.filter((c) => c.name.includes(ONLY));
  let passed = 0, failed = 0;
  const failures = [];
  const started = Date.now();
  for (const c of selected) {
    const t = new CaseContext(c.name);
    const t0 = Date.now();
    let error = null;
    try {
      let timer;
      await Promise.race([
        c.fn(t),
        new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`the case took longer than ${CASE_TIMEOUT_MS / 1000} s`)), CASE_TIMEOUT_MS); }),
      ]).finally(() => clearTimeout(timer));
      if (t.external.length) throw new Error(`requests left the master's origin: ${[...new Set(t.external)].join(", ")}`);
      if (t.problems.length) throw new Error(`console errors or warnings:\n      ${t.problems.join("\n      ")}`);
    } catch (e) {
      error = e;
    }
    await t.close(Boolean(error));
    const secs = ((Date.now() - t0) / 1000).toFixed(1);
    if (error) {
      failed++;
      failures.push(c.name);
      log(`FAIL ${c.name} (${secs} s)\n    ${String(error.message || error).split("\n").join("\n    ")}`);
    } else {
      passed++;
      log(`PASS ${c.name} (${secs} s)`);
    }
  }
  if (shared) await shared.destroy();
  await browser.close();

  // Measurements.
  const m = measurements;
  log("measurements (reported, not judged):");
  if (m.pageWeight) {
    const w = m.pageWeight;
    log(`  page weight of the dashboard: ${w.assetBytes} bytes (${(w.assetBytes / 1024).toFixed(1)} KiB) uncompressed in ${Object.keys(w.assets).length} files ` +
      `(goal: under 300 KB) ${w.assetBytes < 300_000 ? "- within the goal" : "- OVER the goal"}; API answers for ${w.pages} pages once: ${(w.apiBytesOnce / 1024).toFixed(1)} KiB; ` +
      `requests to other origins: ${w.externalRequests.length}`);
  }
  if (m.services1000) log(`  services page with 1,000 apps, navigation to all rows drawn: median ${m.services1000.medianMs} ms (runs ${m.services1000.firstRenderMs.join(", ")} ms; creating them took ${m.services1000.createMs} ms)`);
  if (m.eventToScreenAfterScale) {
    const e = m.eventToScreenAfterScale;
    log(`  event-to-screen delay while scaling to 3: median ${e.medianMs} ms, max ${e.maxMs} ms over ${e.count} updates`);
  }
  fs.writeFileSync(path.join(OUT, "measurements.json"), `${JSON.stringify(m, null, 2)}\n`);
  log(`total ${((Date.now() - started) / 1000).toFixed(1)} s; screenshots in ${OUT}`);
  if (failures.length) log(`failed: ${failures.join("; ")}`);
  console.log(summaryLine(selected.length, passed, failed, 0));
  process.exit(failed ? 1 : 0);
}

main().catch((e) => {
  log(`the harness failed: ${e.stack || e}`);
  killAllClusters();
  console.log(summaryLine(Math.max(1, cases.length), 0, Math.max(1, cases.length), 0));
  process.exit(1);
});
