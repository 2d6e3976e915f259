// Live cluster data shared by every page, kept fresh by the master's event streams instead of
// polling: Marathon's /v2/events (Server-Sent Events) and the operator API's SUBSCRIBE (RecordIO
// over a streamed POST /api/v1). An event marks the resources it concerns stale; they are
// fetched again (batched: at most one fetch in flight per resource) and handed to their
// watchers. When a stream breaks — the master restarted — it reconnects with a growing delay and
// everything is fetched again, so a page recovers by itself.

import { get } from "./api.js";

const MARATHON_EMBEDS = ["apps.counts", "apps.deployments", "apps.readiness", "apps.lastTaskFailure", "apps.taskStats"];

// What each shared resource is fetched from, and which stream's events make it stale.
const RESOURCES = {
  state: { path: "/master/state", source: "operator" },
  apps: { path: `/v2/apps?${MARATHON_EMBEDS.map((e) => `embed=${e}`).join("&")}`, source: "marathon" },
  deployments: { path: "/v2/deployments", source: "marathon" },
  queue: { path: "/v2/queue", source: "marathon" },
};

const MAX_EVENTS = 500;

export class Live {
  constructor() {
    this.data = {};        // resource -> latest value
    this.errors = {};      // resource -> latest fetch error (cleared by a good fetch)
    this.watchers = {};    // resource -> Set(fn(value, error))
    this.inFlight = {};    // resource -> true while fetching
    this.again = {};       // resource -> fetch again when the one in flight ends
    this.listeners = new Set();        // fn(event) for every event of either stream
    this.statusListeners = new Set();  // fn(status)
    this.events = [];                  // the latest MAX_EVENTS events, newest last
    this.streams = { marathon: "connecting", operator: "connecting" };
    this.pendingSince = {};            // source -> performance.now() of the oldest unshown event
    window.__dcos = window.__dcos || { eventToScreenMs: [] };
  }

  start() {
    this.connectMarathon();
    this.connectOperator(0);
  }

  // Calls fn(value, error) now when the resource is known and after each fetch; fetches it when
  // it is not known yet. Returns the function that stops watching.
  watch(resource, fn) {
    (this.watchers[resource] ||= new Set()).add(fn);
    if (resource in this.data || resource in this.errors) fn(this.data[resource], this.errors[resource]);
    if (!(resource in this.data)) this.refresh(resource);
    return () => this.watchers[resource].delete(fn);
  }

  // Calls fn(event) for each event of either stream: {source, type, data, at}.
  onEvent(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  onStatus(fn) {
    this.statusListeners.add(fn);
    fn(this.status());
    return () => this.statusListeners.delete(fn);
  }

  // "live" when both streams are up, "connecting" before, "reconnecting" after a break.
  status() {
    const s = Object.values(this.streams);
    if (s.every((x) => x === "live")) return "live";
    return s.includes("reconnecting") ? "reconnecting" : "connecting";
  }

  async refresh(resource) {
    const spec = RESOURCES[resource];
    if (!spec) return;
    if (this.inFlight[resource]) {
      this.again[resource] = true;
      return;
    }
    this.inFlight[resource] = true;
    try {
      this.data[resource] = await get(spec.path);
      delete this.errors[resource];
    } catch (e) {
      this.errors[resource] = e;
    }
    this.inFlight[resource] = false;
    for (const fn of this.watchers[resource] || []) fn(this.data[resource], this.errors[resource]);
    this.noteShown(spec.source);
    if (this.again[resource]) {
      this.again[resource] = false;
      this.refresh(resource);
    }
  }

  refreshAll() {
    for (const r of Object.keys(RESOURCES)) if (r in this.data || this.watchers[r]?.size) this.refresh(r);
  }

  // ---- event streams ----
  setStream(source, status) {
    if (this.streams[source] === status) return;
    const wasBroken = this.streams[source] === "reconnecting";
    this.streams[source] = status;
    for (const fn of this.statusListeners) fn(this.status());
    if (status === "live" && wasBroken) this.refreshAll();  // what happened while we were away
  }

  dispatch(source, type, data) {
    // When it happened: Marathon's events carry their time (replayed ones are older than now).
    const stamped = data && typeof data.timestamp === "string" ? Date.parse(data.timestamp) : NaN;
    const event = { source, type, data, at: Number.isNaN(stamped) ? Date.now() : stamped };
    this.events.push(event);
    if (this.events.length > MAX_EVENTS) this.events.splice(0, this.events.length - MAX_EVENTS);
    if (!(source in this.pendingSince)) this.pendingSince[source] = performance.now();
    for (const fn of this.listeners) fn(event);
    for (const [r, spec] of Object.entries(RESOURCES)) {
      if (spec.source === source && (r in this.data || this.watchers[r]?.size)) this.refresh(r);
    }
  }

  // Event-to-screen delay: from the first event a fetch answers to the watchers having drawn it.
  noteShown(source) {
    const since = this.pendingSince[source];
    if (since === undefined) return;
    delete this.pendingSince[source];
    const list = window.__dcos.eventToScreenMs;
    list.push(performance.now() - since);
    if (list.length > 1000) list.shift();
  }

  connectMarathon() {
    // replay: the master's last 100 events first (so the pages show what just happened); they
    // come again after a reconnection, so events already seen are skipped by their text.
    const source = new EventSource(`/v2/events?plan-format=light&replay=${MAX_EVENTS > 100 ? 100 : MAX_EVENTS}`);
    const seen = new Set();
    const order = [];
    const onMessage = (e) => {
      if (seen.has(e.data)) return;
      seen.add(e.data);
      order.push(e.data);
      if (order.length > MAX_EVENTS) seen.delete(order.shift());
      let data = null;
      try {
        data = JSON.parse(e.data);
      } catch {
        return;
      }
      this.dispatch("marathon", (data && data.eventType) || e.type, data);
    };
    source.onopen = () => this.setStream("marathon", "live");
    source.onmessage = onMessage;
    for (const type of ["status_update_event", "deployment_info", "deployment_success", "deployment_failed",
      "deployment_step_success", "deployment_step_failure", "api_post_event", "app_terminated_event",
      "health_status_changed_event", "failed_health_check_event", "unhealthy_instance_kill_event",
      "instance_changed_event", "group_change_success", "group_change_failed", "framework_message_event",
      "add_health_check_event", "remove_health_check_event", "instance_health_changed_event"]) {
      source.addEventListener(type, onMessage);
    }
    // EventSource reconnects by itself; this only says so.
    source.onerror = () => this.setStream("marathon", "reconnecting");
  }

  async connectOperator(attempt) {
    try {
      const response = await fetch("/api/v1", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ type: "SUBSCRIBE" }),
        cache: "no-store",
      });
      if (!response.ok || !response.body) throw new Error(`SUBSCRIBE answered ${response.status}`);
      this.setStream("operator", "live");
      attempt = 0;
      await readRecordIO(response.body, (record) => {
        if (record && record.type && record.type !== "HEARTBEAT" && record.type !== "SUBSCRIBED") {
          this.dispatch("operator", record.type, record);
        }
      });
    } catch {
      // The master is away (or restarting): below.
    }
    this.setStream("operator", "reconnecting");
    const delay = Math.min(5000, 250 * 2 ** attempt);
    setTimeout(() => this.connectOperator(attempt + 1), delay);
  }
}

// Reads a RecordIO stream ("<length>\n<length bytes of JSON>" repeated) and calls onRecord with
// each parsed record. Resolves when the stream ends.
async function readRecordIO(body, onRecord) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buf = new Uint8Array(0);
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    const joined = new Uint8Array(buf.length + value.length);
    joined.set(buf);
    joined.set(value, buf.length);
    buf = joined;
    for (;;) {
      const nl = buf.indexOf(10);
      if (nl < 0) break;
      const length = Number(decoder.decode(buf.subarray(0, nl)));
      if (!Number.isFinite(length) || buf.length < nl + 1 + length) break;
      const text = decoder.decode(buf.subarray(nl + 1, nl + 1 + length));
      buf = buf.slice(nl + 1 + length);
      try {
        onRecord(JSON.parse(text));
      } catch {
        // a record that is not JSON is skipped
      }
    }
  }
}

export const live = new Live();
