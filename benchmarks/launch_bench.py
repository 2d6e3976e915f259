#!/usr/bin/env python3
"""Launch benchmark: N command tasks of `sleep 30` on one agent, timed until all are RUNNING.

Starts a master and one agent from the binary, subscribes a framework through the v1 scheduler
HTTP API, accepts the first offer with one LAUNCH of N tasks and times from just before the
ACCEPT to the N-th TASK_RUNNING update. The reference, measured in the same run on the same
machine, is a plain loop that fork/execs the same N `sleep 30` processes (timed until all are
spawned). Updates are acknowledged as they arrive, from a small pool of threads (--ack-threads),
each on its own keep-alive connection, as a framework that acknowledges asynchronously would;
TASK_RUNNING follows the acknowledged TASK_STARTING. Prints both times, the ratio (goal <= 2x)
and the agent's RSS with N tasks running.
Nothing here passes or fails; the exit status is 1 only if the launch did not complete.

    python3 benchmarks/launch_bench.py [--tasks 500] [--binary build/dcos] [--ack-threads 4]

Every process started is stopped at the end: the framework is torn down through the API (the
master kills its tasks), then master and agent get SIGTERM, and as a safety net any process left
whose command line or working directory lies in the temporary work dir, or that the agent
started, is killed.
"""
import argparse
import http.client
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import wait_until  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LISTENING = re.compile(r"listening on http://([0-9.]+):([0-9]+)")


# ---------------------------------------------------------------- /proc helpers

def proc_stat(pid):
    """(ppid, starttime) of pid, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            data = f.read()
    except OSError:
        return None
    fields = data[data.rfind(")") + 2:].split()  # the command name may hold spaces and parens
    return int(fields[1]), int(fields[19])


def cpu_seconds(pid):
    """utime + stime of pid in seconds (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            data = f.read()
    except OSError:
        return 0.0
    fields = data[data.rfind(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def all_pids():
    return [int(d) for d in os.listdir("/proc") if d.isdigit()]


def descendants(root):
    """{pid: starttime} of every live process whose parent chain leads to root."""
    children = {}
    for pid in all_pids():
        st = proc_stat(pid)
        if st:
            children.setdefault(st[0], []).append((pid, st[1]))
    out, todo = {}, [root]
    while todo:
        for pid, start in children.get(todo.pop(), []):
            if pid not in out:
                out[pid] = start
                todo.append(pid)
    return out


def alive(pid, start):
    st = proc_stat(pid)
    return st is not None and st[1] == start


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def mentions(pid, path):
    """Whether pid's command line or working directory lies in path."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            if path.encode() in f.read():
                return True
    except OSError:
        return False
    try:
        return os.readlink(f"/proc/{pid}/cwd").startswith(path)
    except OSError:
        return False


# ---------------------------------------------------------------- daemons

class Daemon:
    def __init__(self, name, argv, log_path, env=None):
        self.name = name
        self.log_path = log_path
        self.log = open(log_path, "wb")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env={**os.environ, **(env or {})})

    def address(self, deadline=15.0):
        found = []

        def check():
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}: {self.tail()}")
            with open(self.log_path, errors="replace") as f:
                m = LISTENING.search(f.read())
            if m:
                found.append((m.group(1), int(m.group(2))))
            return bool(found)

        if not wait_until(check, deadline):
            raise RuntimeError(f"{self.name} logged no 'listening on' within {deadline}s: {self.tail()}")
        return found[0]

    def tail(self, n=15):
        try:
            with open(self.log_path, errors="replace") as f:
                return "\n".join(f.read().splitlines()[-n:])
        except OSError:
            return ""

    def stop(self, deadline=10.0):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(deadline)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()


# ---------------------------------------------------------------- scheduler API client

class Scheduler:
    """A v1 scheduler over HTTP: one subscription stream read by a thread, calls on another connection."""

    def __init__(self, host, port, framework_info, timeout):
        self.host, self.port = host, port
        self.events = queue.Queue()
        self.running_at = {}  # task id -> perf_counter when its TASK_RUNNING arrived
        self.states = {}      # task id -> last state
        self.first_update_at = {}  # task id -> perf_counter of its first update (TASK_STARTING)
        self.lock = threading.Lock()
        self.all_running = threading.Event()
        self.expected = 0
        self.closing = False
        self.stream = http.client.HTTPConnection(host, port, timeout=timeout)
        body = json.dumps({"type": "SUBSCRIBE", "subscribe": {"framework_info": framework_info}})
        self.stream.request("POST", "/api/v1/scheduler", body,
                            {"Content-Type": "application/json", "Accept": "application/json"})
        resp = self.stream.getresponse()
        if resp.status != 200:
            raise RuntimeError(f"SUBSCRIBE answered {resp.status}: {resp.read(2000)!r}")
        self.stream_id = resp.getheader("Mesos-Stream-Id", "")
        self.resp = resp
        self.framework_id = None
        self.calls = http.client.HTTPConnection(host, port, timeout=timeout)
        self.ack_conns = []
        self.timeout = timeout
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        try:
            while True:
                line = self.resp.readline()
                if not line:
                    break
                line = line.strip()
                if not line:
                    continue
                record = self.resp.read(int(line))
                event = json.loads(record)
                if event.get("type") == "UPDATE":
                    status = event["update"]["status"]
                    tid = status["task_id"]["value"]
                    with self.lock:
                        self.states[tid] = status["state"]
                        self.first_update_at.setdefault(tid, time.perf_counter())
                        if status["state"] == "TASK_RUNNING" and tid not in self.running_at:
                            self.running_at[tid] = time.perf_counter()
                            if self.expected and len(self.running_at) >= self.expected:
                                self.all_running.set()
                self.events.put(event)
        except Exception as e:  # the stream closing at teardown is expected
            if not self.closing:
                self.events.put({"type": "_STREAM_ERROR", "error": repr(e)})
        self.events.put({"type": "_STREAM_CLOSED"})

    def next_event(self, deadline):
        try:
            return self.events.get(timeout=max(0.0, deadline))
        except queue.Empty:
            return None

    def call(self, call, conn=None):
        """POSTs call on conn (default: the calls connection); a connection serves one thread."""
        conn = conn or self.calls
        if self.framework_id and "framework_id" not in call:
            call["framework_id"] = {"value": self.framework_id}
        body = json.dumps(call)
        headers = {"Content-Type": "application/json", "Mesos-Stream-Id": self.stream_id}
        for attempt in range(2):  # one retry on a connection the server closed while idle
            try:
                conn.request("POST", "/api/v1/scheduler", body, headers)
                resp = conn.getresponse()
                data = resp.read()
                break
            except (http.client.HTTPException, ConnectionError):
                conn.close()
                if attempt:
                    raise
        if resp.status not in (200, 202):
            raise RuntimeError(f"{call['type']} answered {resp.status}: {data[:2000]!r}")
        return data

    def close(self):
        self.closing = True
        for conn in (self.calls, self.stream, *self.ack_conns):
            try:
                if conn.sock:
                    conn.sock.shutdown(2)
            except OSError:
                pass
            conn.close()


class Acknowledger:
    """Acknowledges updates from a few threads, each on its own keep-alive connection, as a real
    framework acknowledges asynchronously instead of one call after another."""

    def __init__(self, sched, threads):
        self.sched = sched
        self.todo = queue.Queue()
        self.lock = threading.Lock()
        self.seconds, self.count, self.errors = 0.0, 0, []
        self.threads = [threading.Thread(target=self._work, daemon=True) for _ in range(threads)]
        for t in self.threads:
            t.start()

    def _work(self):
        conn = http.client.HTTPConnection(self.sched.host, self.sched.port, timeout=self.sched.timeout)
        with self.lock:
            self.sched.ack_conns.append(conn)
        while True:
            call = self.todo.get()
            if call is None:
                return
            t0 = time.perf_counter()
            try:
                self.sched.call(call, conn)
            except Exception as e:
                with self.lock:
                    self.errors.append(repr(e))
                continue
            with self.lock:
                self.seconds += time.perf_counter() - t0
                self.count += 1

    def acknowledge(self, status):
        self.todo.put({"type": "ACKNOWLEDGE", "acknowledge": {
            "agent_id": status["agent_id"], "task_id": status["task_id"], "uuid": status["uuid"]}})

    def stop(self):
        for _ in self.threads:
            self.todo.put(None)
        for t in self.threads:
            t.join(10)


def scalar(resources, name):
    return sum(r.get("scalar", {}).get("value", 0) for r in resources if r.get("name") == name)


# ---------------------------------------------------------------- the two measurements

def fork_exec_loop(n, argv):
    """Seconds to spawn n processes of argv one after another (Popen returns once exec succeeded)."""
    procs = []
    try:
        start = time.perf_counter()
        for _ in range(n):
            procs.append(subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL))
        return time.perf_counter() - start
    finally:
        for p in procs:
            p.kill()
        for p in procs:
            p.wait(10)


def api_launch(args, work, daemons, result):
    binary = args.binary
    master = Daemon("master", [binary, "master", "--address=127.0.0.1", "--port=0",
                               f"--work_dir={work}/master"], f"{work}/master.log")
    daemons.append(master)
    host, port = master.address()
    # The master made its join token before listening; the agent passes it (DCOS_TOKEN keeps it
    # off the command line).
    with open(f"{work}/master/join-token") as f:
        token = f.read().strip()
    agent = Daemon("agent", [binary, "agent", f"--master={host}:{port}", "--address=127.0.0.1",
                             "--port=0", f"--work_dir={work}/agent",
                             f"--resources={args.resources}"], f"{work}/agent.log", env={"DCOS_TOKEN": token})
    daemons.append(agent)
    agent.address()
    result["agent_pid"] = agent.proc.pid

    sched = Scheduler(host, port, {"user": "root", "name": "launch-bench", "roles": ["*"]},
                      timeout=max(60.0, args.timeout))
    result["scheduler"] = sched
    end = time.monotonic() + 30
    offer = None
    n = args.tasks
    while offer is None:
        event = sched.next_event(end - time.monotonic())
        if event is None:
            raise RuntimeError("no usable offer within 30s:\n" + agent.tail())
        kind = event.get("type")
        if kind == "SUBSCRIBED":
            sched.framework_id = event["subscribed"]["framework_id"]["value"]
        elif kind == "OFFERS":
            for o in event["offers"]["offers"]:
                if scalar(o["resources"], "cpus") >= n * 0.1 - 1e-6 and scalar(o["resources"], "mem") >= n * 16:
                    offer = o
                    break
                sched.call({"type": "DECLINE", "decline": {"offer_ids": [o["id"]]}})
        elif kind in ("ERROR", "_STREAM_ERROR", "_STREAM_CLOSED"):
            raise RuntimeError(f"subscription failed: {event}")

    tasks = [{"name": f"sleep-{i}", "task_id": {"value": f"launch-bench-{i}"}, "agent_id": offer["agent_id"],
              "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.1}},
                            {"name": "mem", "type": "SCALAR", "scalar": {"value": 16}}],
              "command": {"value": args.command}} for i in range(n)]
    accept = {"type": "ACCEPT", "accept": {"offer_ids": [offer["id"]],
                                           "operations": [{"type": "LAUNCH", "launch": {"task_infos": tasks}}],
                                           "filters": {"refuse_seconds": 3600}}}
    sched.expected = n
    cpu_before = {d.name: cpu_seconds(d.proc.pid) for d in daemons}
    start = time.perf_counter()
    sched.call(accept)

    # Acknowledge updates as they come, from a pool of threads (the reader thread timestamps the
    # RUNNING ones).
    acker = Acknowledger(sched, args.ack_threads)
    end = time.monotonic() + args.timeout
    terminal = {}
    uuids = set()
    while not sched.all_running.is_set():
        event = sched.next_event(min(0.5, end - time.monotonic()))
        if time.monotonic() >= end:
            break
        if event is None:
            continue
        kind = event.get("type")
        if kind == "UPDATE":
            status = event["update"]["status"]
            if status.get("uuid"):
                acker.acknowledge(status)
                uuids.add(status["uuid"])
            if status["state"] not in ("TASK_STAGING", "TASK_STARTING", "TASK_RUNNING"):
                terminal[status["task_id"]["value"]] = (status["state"], status.get("message", ""),
                                                        status.get("reason", ""))
        elif kind == "OFFERS":
            sched.call({"type": "DECLINE", "decline": {"offer_ids": [o["id"] for o in event["offers"]["offers"]],
                                                       "filters": {"refuse_seconds": 3600}}})
        elif kind in ("ERROR", "_STREAM_ERROR", "_STREAM_CLOSED"):
            result["error"] = f"event stream: {event}"
            break
        if terminal and len(terminal) + len(sched.running_at) >= n:
            break  # every task is settled; some will never run
    with sched.lock:
        times = sorted(sched.running_at.values())
        states = dict(sched.states)
        firsts = sorted(sched.first_update_at.values())
    acker.stop()
    with acker.lock:
        acks = acker.count
        result["acks"], result["ack_seconds"], result["dup_updates"] = acks, acker.seconds, acks - len(uuids)
        result["ack_errors"] = list(acker.errors)
    result["ack_threads"] = args.ack_threads
    if len(firsts) >= n:
        result["first_update_time"] = firsts[n - 1] - start
    result["running"] = len(times)
    result["terminal"] = terminal
    result["states"] = states
    if len(times) >= n:
        result["api_time"] = times[n - 1] - start
    else:
        result["api_time"] = None
        result["last_running"] = (times[-1] - start) if times else None
    result["cpu"] = {d.name: cpu_seconds(d.proc.pid) - cpu_before[d.name] for d in daemons}
    result["agent_rss"] = rss_kib(agent.proc.pid)
    kids = descendants(agent.proc.pid)
    result["task_pids"] = kids
    result["kids_rss"] = sum(rss_kib(p) for p in kids)
    result["agent_tail"] = agent.tail()


# ---------------------------------------------------------------- cleanup

def teardown(result, daemons, work):
    notes = []
    sched = result.get("scheduler")
    agent_pid = result.get("agent_pid")
    tracked = dict(result.get("task_pids") or {})
    if agent_pid:
        tracked.update(descendants(agent_pid))
    if sched is not None:
        if sched.framework_id:
            try:
                sched.call({"type": "TEARDOWN"})
                if not wait_until(lambda: not any(alive(p, s) for p, s in tracked.items()), 30, step=0.05):
                    left = sum(alive(p, s) for p, s in tracked.items())
                    notes.append(f"{left} task processes still alive 30s after TEARDOWN")
            except Exception as e:
                notes.append(f"TEARDOWN failed: {e}")
        sched.close()
    if agent_pid:
        tracked.update(descendants(agent_pid))
    for d in reversed(daemons):
        d.stop()
    # Safety net: whatever the agent started, and anything running in or from the work dir.
    victims = {p: s for p, s in tracked.items() if alive(p, s)}
    for pid in all_pids():
        if pid != os.getpid() and pid not in victims and mentions(pid, work):
            st = proc_stat(pid)
            if st:
                victims[pid] = st[1]
    for pid in list(victims):
        victims.update(descendants(pid))
    killed = 0
    for pid, start in victims.items():
        if alive(pid, start):
            try:
                os.kill(pid, signal.SIGKILL)
                killed += 1
            except OSError:
                pass
    if killed:
        notes.append(f"safety net killed {killed} leftover processes")
    shutil.rmtree(work, ignore_errors=True)
    return notes


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tasks", type=int, default=500, help="tasks to launch (default 500)")
    ap.add_argument("--binary", default=os.path.join(REPO, "build", "dcos"),
                    help="the dcos binary (default: build/dcos in the repository)")
    ap.add_argument("--timeout", type=float, default=120.0,
                    help="seconds to wait for all tasks to be RUNNING (default 120)")
    ap.add_argument("--ack-threads", type=int, default=4,
                    help="threads acknowledging status updates, each on its own connection (default 4)")
    ap.add_argument("--resources", default="cpus:64;mem:65536;disk:100000;ports:[31000-32000]",
                    help="the agent's --resources")
    args = ap.parse_args()
    args.command = "sleep 30"
    args.binary = os.path.abspath(args.binary)
    if not os.access(args.binary, os.X_OK):
        sys.exit(f"{args.binary} is not an executable; build it with `ninja -C build dcos`")
    if args.tasks * 0.1 > 64 or args.tasks * 16 > 65536:
        print("warning: the default --resources do not fit that many tasks", file=sys.stderr)

    ref_time = fork_exec_loop(args.tasks, ["sleep", "30"])

    work = tempfile.mkdtemp(prefix="dcos-launch-bench-")
    daemons, result, notes = [], {}, []
    try:
        api_launch(args, work, daemons, result)
    except Exception as e:
        result["error"] = str(e)
    finally:
        notes = teardown(result, daemons, work)

    n = args.tasks
    print(f"launch {n} tasks of `sleep 30` on one agent:")
    api_time = result.get("api_time")
    if api_time is not None:
        print(f"  API: ACCEPT -> {n}th TASK_RUNNING  {api_time * 1000:9.1f} ms")
    else:
        print(f"  API: only {result.get('running', 0)} of {n} tasks reached TASK_RUNNING")
    if result.get("first_update_time") is not None:
        print(f"    of which ACCEPT -> {n}th first update (TASK_STARTING)  {result['first_update_time'] * 1000:.1f} ms;"
              f" {result['acks']} ACKNOWLEDGE calls ({result['dup_updates']} for repeated updates)"
              f" from {result['ack_threads']} threads took {result['ack_seconds'] * 1000:.1f} ms in all"
              " (RUNNING follows the acknowledged STARTING)")
    if result.get("cpu"):
        print("    CPU time used meanwhile: " + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in result["cpu"].items()))
    print(f"  fork/exec loop ({n} x Popen)      {ref_time * 1000:9.1f} ms   (reference)")
    if api_time is not None:
        print(f"  ratio API/reference              {api_time / ref_time:9.2f}x   (goal <= 2x)")
    if "agent_rss" in result:
        print(f"  agent RSS with {result.get('running', 0)} tasks running  {result['agent_rss'] / 1024:9.1f} MiB")
        kids = result.get("task_pids") or {}
        print(f"  RSS of the agent's descendants    {result['kids_rss'] / 1024:9.1f} MiB   ({len(kids)} processes)")
    if result.get("terminal"):
        counts = {}
        for state, message, reason in result["terminal"].values():
            counts.setdefault((state, reason, message), 0)
            counts[(state, reason, message)] += 1
        for (state, reason, message), c in sorted(counts.items(), key=lambda kv: -kv[1]):
            print(f"  {c} tasks {state} {reason}: {message}")
    if api_time is None and result.get("states"):
        counts = {}
        for s in result["states"].values():
            counts[s] = counts.get(s, 0) + 1
        print(f"  last states: {counts}; tasks with no update: {n - len(result['states'])}")
        if result.get("agent_tail"):
            print("  agent log tail:\n    " + result["agent_tail"].replace("\n", "\n    "))
    if result.get("ack_errors"):
        print(f"  {len(result['ack_errors'])} ACKNOWLEDGE calls failed, e.g. {result['ack_errors'][0]}")
    if result.get("error"):
        print(f"  error: {result['error']}")
    for note in notes:
        print(f"  cleanup: {note}")
    sys.exit(0 if api_time is not None else 1)


if __name__ == "__main__":
    main()
