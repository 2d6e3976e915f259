// The harness of the dashboard's browser tests (dashboard.test.mjs holds the cases): the
// configuration from the environment, waits with deadlines, `dcos dev` clusters on their own
// ports and temp dirs (killed at the end, also on failure), a per-case browser context that
// records console errors and requests to other origins, and the runner that prints doctest's
// summary line (tests/run.py totals it) or skips every case with the reason.

import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(HERE, "..", "..");
export const CHROMIUM = process.env.DCOS_E2E_CHROMIUM || "/usr/bin/chromium";
export const DCOS_BIN = path.resolve(process.env.DCOS_BIN || path.join(REPO, "build", "dcos"));
export const WEB_DIR = process.env.DCOS_E2E_WEB_DIR || "";
export const OUT = path.resolve(process.env.DCOS_E2E_OUTPUT || path.join(REPO, "build", "tests", "e2e-output"));
export const ONLY = process.env.DCOS_E2E_ONLY || "";
export const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
  "--no-first-run", "--disable-dev-shm-usage"];
export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };
export const CASE_TIMEOUT_MS = 120_000;

export const log = (...a) => console.log("[e2e]", ...a);
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const measurements = {};

// ---------------------------------------------------------------------------------------------
// Waiting: deadlines and polling, never fixed sleeps.

// Polls fn() until it returns a truthy value (returned); throws after `timeout` ms with the last
// value or error seen.
export async function until(what, fn, { timeout = 30_000, interval = 100 } = {}) {
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
export async function expectText(locator, expected, { timeout = 20_000, what } = {}) {
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

export async function expectVisible(locator, what, timeout = 20_000) {
  try {
    await locator.first().waitFor({ state: "visible", timeout });
  } catch (e) {
    throw new Error(`${what}: not visible within ${timeout} ms`);
  }
  return locator.first();
}

export function assert(cond, message) {
  if (!cond) throw new Error(message);
}

// ---------------------------------------------------------------------------------------------
// Clusters: `dcos dev` in its own process group, state in a temp dir; stopped (and its tasks
// with it) at the end of the case that started it, also on failure.

export const clusters = new Set();

// A port range of its own for the agent's tasks, so parallel tests' clusters (31000-32000 by
// default) never hand out the same ports. Below the kernel's ephemeral range (32768+).
export function taskPortRange() {
  const base = 20000 + 100 * Math.floor(Math.random() * 120);
  return `[${base}-${base + 99}]`;
}

export class Cluster {
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
export function killAllClusters() {
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

export let browser = null;
export const cases = [];
export function testCase(name, fn) { cases.push({ name, fn }); }

export class CaseContext {
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
export async function pageReady(page, { timeout = 20_000 } = {}) {
  await expectVisible(page.locator("#main h1"), `the page heading of ${page.url()}`, timeout);
  await expectText(page.getByRole("status").filter({ hasText: /Live|Connecting|Reconnecting/ }), "Live",
    { timeout, what: "the connection pill" });
}

// No "Loading…" (or "Finding …") left in the page: everything it fetched arrived.
export async function settled(page, timeout = 15_000) {
  await until(`${page.url()} to finish loading`, async () => {
    const text = await page.locator("#main").innerText();
    return !/Loading|Finding the sandbox/.test(text);
  }, { timeout });
}

// ---------------------------------------------------------------------------------------------
// The shared cluster of the cases that do not restart it; each case uses app ids of its own.

export let shared = null;
export async function sharedCluster() {
  if (!shared) shared = await new Cluster("shared").start();
  return shared;
}

export const uniq = () => Math.random().toString(36).slice(2, 8);
export const SLEEPER = { cmd: "sleep 100000", cpus: 0.05, mem: 32 };

// ---------------------------------------------------------------------------------------------

export function median(xs) {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
export function summarize(xs) {
  return { count: xs.length, medianMs: xs.length ? Math.round(median(xs) * 10) / 10 : null, maxMs: xs.length ? Math.round(Math.max(...xs) * 10) / 10 : null };
}

export function summaryLine(n, passed, failed, skipped) {
  return `[doctest] test cases: ${n} | ${passed} passed | ${failed} failed | ${skipped} skipped`;
}

export function skipAll(reason) {
  const selected = cases.filter((c) => c.name.includes(ONLY));
  log(`skipped: ${reason}`);
  for (const c of selected) log(`SKIP ${c.name}`);
  console.log(summaryLine(selected.length, 0, 0, selected.length));
  process.exit(0);
}

export async function run() {
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

// Runs every case and exits with the status; a harness failure fails every case.
export function runAndExit() {
  run().catch((e) => {
    log(`the harness failed: ${e.stack || e}`);
    killAllClusters();
    console.log(summaryLine(Math.max(1, cases.length), 0, Math.max(1, cases.length), 0));
    process.exit(1);
  });
}
