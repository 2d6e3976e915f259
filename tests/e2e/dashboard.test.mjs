#!/usr/bin/env node
// Browser end-to-end tests of the dashboard: Debian's Chromium, headless, driven by
// playwright-core against real `dcos dev` clusters started from the built binary ($DCOS_BIN).
//
// Run by meson as the test 'e2e-dashboard' (suite 'e2e'); by hand:
//   tests/e2e/setup.sh && DCOS_BIN=build/dcos node tests/e2e/dashboard.test.mjs
// The harness (clusters, browser contexts, waits, the runner) is in harness.mjs.
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

import { OUT, DESKTOP, PHONE, log, measurements, until, expectText, expectVisible, assert, Cluster, browser, testCase, settled, sharedCluster, uniq, SLEEPER, median, summarize, runAndExit } from "./harness.mjs";
import path from "node:path";

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
  await page.getByLabel("First check after (s)").fill("0");  // Marathon's default is 15 s
  // The JSON tab must carry what the form says.
  await page.getByRole("tab", { name: "JSON" }).click();
  const json = page.getByLabel("App definition (JSON)");
  await expectVisible(json, "the JSON editor");
  const def = JSON.parse(await json.inputValue());
  assert(def.id === id && def.cmd === "python3 -m http.server $PORT0" && def.cpus === 0.05 && def.mem === 64 && def.instances === 1,
    `the JSON tab does not carry the form: ${JSON.stringify(def)}`);
  assert(def.healthChecks && def.healthChecks[0] && def.healthChecks[0].protocol === "MESOS_HTTP" &&
    def.healthChecks[0].intervalSeconds === 1 && def.healthChecks[0].delaySeconds === 0,
    `the JSON tab lost the health check: ${JSON.stringify(def.healthChecks)}`);
  await page.getByRole("button", { name: "Deploy", exact: true }).click();
  // The app's page, reached without a reload, shows it healthy once Marathon says so.
  await page.waitForURL(`**/services/app${id}*`, { timeout: 20_000 });
  await expectVisible(page.getByRole("heading", { name: id }), "the app page heading");
  await expectText(page.locator("#main p.muted").filter({ hasText: /^Instances/ }), /^Instances 1 \/ 1 healthy/,
    { timeout: 60_000, what: "the app page's instance count" });
  const instances = page.getByRole("tabpanel", { name: "Instances" }).getByRole("table");
  await expectVisible(instances.getByText("Healthy", { exact: true }), "the instance's Healthy badge");
  await expectText(page.locator("h1 .badge"), "Running", { what: "the app's status badge" });
  await expectVisible(page.getByText(`${id.slice(1)}.marathon.mesos`, { exact: true }), "the app's DNS name");
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

testCase("the events page shows what happened before it was opened, then new events live", async (t) => {
  const c = await sharedCluster();
  const id = `/e2e-events-${uniq()}`;
  await c.post("/v2/apps", { id, instances: 1, ...SLEEPER });
  await c.waitRunning(id, 1);
  const page = await t.open(c, "/events");
  // Replayed by the master (/v2/events?replay=N): this app's task became running before the page existed.
  const rows = page.locator("#main table tbody tr");
  await expectVisible(rows.filter({ hasText: "TASK_RUNNING" }).filter({ hasText: id.slice(1) }).first(), "the app's earlier TASK_RUNNING event");
  await c.request("PUT", `/v2/apps${id}`, { instances: 2 });
  await until("a second TASK_RUNNING of the app to appear live", async () =>
    (await rows.filter({ hasText: "TASK_RUNNING" }).filter({ hasText: id.slice(1) }).count()) >= 2, { timeout: 30_000 });
});

testCase("the dashboard is usable by keyboard alone", async (t) => {
  const c = await sharedCluster();
  const page = await t.open(c, "/");
  // Tab until `name` has the focus (at most 30 presses), then Enter.
  const tabTo = async (name) => {
    for (let i = 0; i < 30; i++) {
      await page.keyboard.press("Tab");
      const focused = await page.evaluate(() => (document.activeElement && document.activeElement.textContent || "").trim());
      if (focused === name) {
        await page.keyboard.press("Enter");
        return;
      }
    }
    throw new Error(`Tab never reached "${name}"`);
  };
  await tabTo("Skip to content");
  assert(await page.evaluate(() => document.activeElement && document.activeElement.id === "main"), "the skip link moves the focus to the content");
  await tabTo("Services");
  await expectText(page.locator("#main h1"), "Services", { what: "the Services page heading" });
  await tabTo("Deploy service");
  await expectVisible(page.getByLabel("ID"), "the deploy form's ID input");
  const id = `/e2e-keys-${uniq()}`;
  await page.getByLabel("ID").focus();
  await page.keyboard.type(id);
  await page.keyboard.press("Tab");  // to the command
  await page.keyboard.type("sleep 100000");
  await tabTo("Deploy");
  await until(`${id} to exist`, async () => (await c.get("/v2/apps")).apps.some((a) => a.id === id), { timeout: 20_000 });
  await expectVisible(page.locator("#main h1", { hasText: id }), "the new app's page");
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

runAndExit();
