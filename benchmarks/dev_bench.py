#!/usr/bin/env python3
"""Dev-cluster benchmark: exec `dcos dev` → the first Marathon task RUNNING, and idle footprints.

Each round starts `dcos dev` on a fresh work dir and an ephemeral port, POSTs a one-instance app
(`sleep 60`) as soon as the API answers, and times from the exec to the moment /v2/apps/<id>
reports the task running (the goal of issue 6 is 1 s). Then it reports the idle RSS of a
`dcos master` and a `dcos agent` started separately, and the binary's size. Nothing here passes
or fails; every process started is stopped (SIGTERM, then SIGKILL) before the script ends.

    python3 benchmarks/dev_bench.py [--binary build/dcos] [--rounds 5]
"""
import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(method, url, body=None, timeout=2):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        raw = r.read()
        try:
            return r.status, json.loads(raw or b"null")
        except ValueError:
            return r.status, raw.decode(errors="replace")


def wait(condition, deadline):
    end = time.perf_counter() + deadline
    while time.perf_counter() < end:
        try:
            if condition():
                return True
        except OSError:
            pass
        time.sleep(0.002)
    return False


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def stop(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def dev_round(binary):
    work = tempfile.mkdtemp(prefix="dcos-dev-bench-")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    start = time.perf_counter()
    proc = subprocess.Popen([binary, "dev", "--work_dir", work, "--port", str(port), "--address", "127.0.0.1",
                             "--log_level", "warn", "--resources", "cpus:2;mem:2048;disk:1024;ports:[31000-31099]"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        if not wait(lambda: request("GET", base + "/ping")[0] == 200, 10):
            raise RuntimeError("dcos dev did not answer within 10 s")
        answered = time.perf_counter() - start
        request("POST", base + "/v2/apps", {"id": "/first", "cmd": "sleep 60", "cpus": 0.1, "mem": 16})
        running = lambda: request("GET", base + "/v2/apps/first")[1]["app"]["tasksRunning"] == 1
        if not wait(running, 10):
            raise RuntimeError("the first task did not run within 10 s")
        first = time.perf_counter() - start
        time.sleep(0.3)
        return answered, first, rss_kib(proc.pid)
    finally:
        stop(proc)
        shutil.rmtree(work, ignore_errors=True)


def idle_master_agent(binary):
    work = tempfile.mkdtemp(prefix="dcos-idle-bench-")
    port, agent_port = free_port(), free_port()
    procs = []
    try:
        master = subprocess.Popen([binary, "master", "--work_dir", os.path.join(work, "m"), "--port", str(port),
                                   "--address", "127.0.0.1", "--log_level", "warn"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(master)
        if not wait(lambda: request("GET", f"http://127.0.0.1:{port}/health")[0] == 200, 10):
            raise RuntimeError("the master did not answer")
        args = [binary, "agent", "--work_dir", os.path.join(work, "a"), "--port", str(agent_port),
                "--address", "127.0.0.1", "--master", f"127.0.0.1:{port}", "--log_level", "warn",
                "--resources", "cpus:2;mem:2048;disk:1024"]
        token_file = os.path.join(work, "m", "join-token")
        if os.path.exists(token_file):
            with open(token_file) as f:
                args.append("--token=" + f.read().strip())
        agent = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(agent)
        active = lambda: any(s["active"] for s in request("GET", f"http://127.0.0.1:{port}/master/state")[1]["slaves"])
        if not wait(active, 10):
            raise RuntimeError("the agent did not register")
        time.sleep(1.0)
        return rss_kib(master.pid), rss_kib(agent.pid)
    finally:
        for p in reversed(procs):
            stop(p)
        shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--binary", default="build/dcos")
    ap.add_argument("--rounds", type=int, default=5)
    a = ap.parse_args()
    rounds = [dev_round(a.binary) for _ in range(a.rounds)]
    answered = statistics.median(r[0] for r in rounds)
    first = statistics.median(r[1] for r in rounds)
    print(f"dcos dev, median of {a.rounds} rounds (fresh work dir each):")
    print(f"  exec -> API answers            {answered * 1000:8.1f} ms")
    print(f"  exec -> first task RUNNING     {first * 1000:8.1f} ms   (goal 1000 ms: {first / 1.0:.2f}x of it)")
    print(f"  RSS with one task              {statistics.median(r[2] for r in rounds) / 1024:8.1f} MiB")
    master_rss, agent_rss = idle_master_agent(a.binary)
    print("idle RSS, one master and one agent registered, no tasks:")
    print(f"  dcos master                    {master_rss / 1024:8.1f} MiB")
    print(f"  dcos agent                     {agent_rss / 1024:8.1f} MiB")
    print(f"binary size: {os.path.getsize(a.binary) / 1e6:.1f} MB (static)")


if __name__ == "__main__":
    main()
