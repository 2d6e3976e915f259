#!/usr/bin/env python3
"""HTTP benchmark of GET /v2/apps?embed=apps.tasks with 1,000 apps, against nginx serving the same bytes.

Starts `dcos master` (temporary work dir, ephemeral port), creates --apps apps of 0 instances
through POST /v2/apps, fetches GET /v2/apps?embed=apps.tasks once to get the exact response body,
writes it to a file that nginx (one worker process, as our master serves HTTP from one event loop
thread) serves as a static file on another ephemeral port, then runs
`wrk -t2 -c32 -d5s --latency` against each URL and prints requests/s, latency and the ratio
ours/nginx. The reference (nginx) is measured in the same run on the same machine.
Nothing passes or fails here; the exit status is 1 only when the benchmark could not run.
Without nginx or wrk it says which packages to install and exits 0.

    python3 benchmarks/apps_http_bench.py [--apps 1000] [--binary build/dcos] [--duration 5s]
                                          [--threads 2] [--connections 32] [--nginx-workers 1]

Every process started (master, nginx, wrk) is stopped at the end, also on Ctrl-C or SIGTERM.
"""
import argparse
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import free_port, run_main, stop_process, tail, wait_until  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LISTENING = re.compile(r"listening on http://([0-9.]+):([0-9]+)")
APPS_PATH = "/v2/apps?embed=apps.tasks"


# ---------------------------------------------------------------- the two servers

def start_master(binary, work, procs):
    log_path = os.path.join(work, "master.log")
    log = open(log_path, "wb")
    proc = subprocess.Popen([binary, "master", f"--work_dir={work}/master", "--port=0", "--address=127.0.0.1",
                             "--hostname=127.0.0.1"],
                            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    procs.append(proc)
    found = []

    def listening():
        if proc.poll() is not None:
            raise RuntimeError(f"dcos master exited with {proc.returncode}: {tail(log_path)}")
        with open(log_path, errors="replace") as f:
            m = LISTENING.search(f.read())
        if m:
            found.append((m.group(1), int(m.group(2))))
        return bool(found)

    if not wait_until(listening, 15.0):
        raise RuntimeError(f"dcos master logged no 'listening on' within 15 s: {tail(log_path)}")
    return found[0]


def start_nginx(nginx, work, body, workers, procs):
    root = os.path.join(work, "nginx")
    www = os.path.join(root, "www")
    os.makedirs(www)
    # nginx's workers run as nobody when started as root: they must be able to read the file.
    for d in (work, root, www):
        os.chmod(d, 0o755)
    with open(os.path.join(www, "apps.json"), "wb") as f:
        f.write(body)
    os.chmod(os.path.join(www, "apps.json"), 0o644)
    port = free_port()
    conf = os.path.join(root, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""daemon off;
master_process on;
worker_processes {workers};
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  default_type application/json;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  client_body_temp_path {root}/body;
  proxy_temp_path {root}/proxy;
  fastcgi_temp_path {root}/fastcgi;
  server {{
    listen 127.0.0.1:{port};
    root {www};
    location / {{ try_files /apps.json =404; }}
  }}
}}
""")
    proc = subprocess.Popen([nginx, "-p", root, "-c", conf, "-e", os.path.join(root, "error.log")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    procs.append(proc)

    def up():
        if proc.poll() is not None:
            raise RuntimeError(f"nginx exited with {proc.returncode}: {tail(os.path.join(root, 'error.log'))}")
        try:
            return len(http_get("127.0.0.1", port, "/v2/apps")[1]) == len(body)
        except OSError:
            return False

    if not wait_until(up, 10.0):
        raise RuntimeError(f"nginx did not serve the file within 10 s: {tail(os.path.join(root, 'error.log'))}")
    return port


# ---------------------------------------------------------------- HTTP helpers

def http_get(host, port, path):
    conn = http.client.HTTPConnection(host, port, timeout=60)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def create_apps(host, port, n):
    """POSTs n apps of 0 instances on one keep-alive connection; returns the seconds it took."""
    conn = http.client.HTTPConnection(host, port, timeout=60)
    start = time.monotonic()
    try:
        for i in range(n):
            app = {"id": f"/bench/group-{i // 100:02d}/app-{i:04d}", "cmd": "sleep 3600", "cpus": 0.1, "mem": 32,
                   "instances": 0, "labels": {"bench": "apps-http"},
                   "env": {"INDEX": str(i)}, "healthChecks": [{"protocol": "COMMAND", "command": {"value": "true"}}]}
            conn.request("POST", "/v2/apps", body=json.dumps(app), headers={"Content-Type": "application/json"})
            r = conn.getresponse()
            data = r.read()
            if r.status != 201:
                raise RuntimeError(f"POST /v2/apps for app {i} answered {r.status}: {data[:300]!r}")
    finally:
        conn.close()
    return time.monotonic() - start


# ---------------------------------------------------------------- wrk

def to_ms(text):
    m = re.match(r"([0-9.]+)(us|ms|s|m)$", text)
    if not m:
        return None
    v = float(m.group(1))
    return {"us": v / 1000, "ms": v, "s": v * 1000, "m": v * 60000}[m.group(2)]


def run_wrk(wrk, url, args, procs):
    argv = [wrk, f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}", "--latency", url]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True)
    procs.append(proc)
    out, _ = proc.communicate()
    procs.remove(proc)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited with {proc.returncode}: {out}")
    res = {"raw": out}
    m = re.search(r"Requests/sec:\s+([0-9.]+)", out)
    res["rps"] = float(m.group(1)) if m else None
    m = re.search(r"Latency\s+(\S+)\s+(\S+)\s+(\S+)", out)
    if m:
        res["avg"], res["stdev"], res["max"] = (to_ms(x) for x in m.groups())
    for pct in ("50", "90", "99"):
        m = re.search(rf"^\s+{pct}%\s+(\S+)", out, re.M)
        res[f"p{pct}"] = to_ms(m.group(1)) if m else None
    m = re.search(r"Transfer/sec:\s+(\S+)", out)
    res["transfer"] = m.group(1) if m else "?"
    m = re.search(r"Non-2xx or 3xx responses:\s+([0-9]+)", out)
    res["non2xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: (.*)", out)
    res["socket_errors"] = m.group(1) if m else ""
    return res


def fmt_ms(v):
    return "-" if v is None else f"{v:.2f}"


# ---------------------------------------------------------------- main

def run(args, work, procs):
    host, port = start_master(args.binary, work, procs)
    print(f"dcos master on {host}:{port}; creating {args.apps} apps of 0 instances through POST /v2/apps ...",
          flush=True)
    create_s = create_apps(host, port, args.apps)
    status, body = http_get(host, port, APPS_PATH)
    if status != 200:
        raise RuntimeError(f"GET {APPS_PATH} answered {status}: {body[:300]!r}")
    count = len(json.loads(body)["apps"])
    print(f"  created in {create_s:.2f} s ({args.apps / create_s:.0f} apps/s); GET {APPS_PATH} -> {count} apps, "
          f"{len(body)} bytes", flush=True)
    nginx_port = start_nginx(args.nginx, work, body, args.nginx_workers, procs)

    ours = run_wrk(args.wrk, f"http://{host}:{port}{APPS_PATH}", args, procs)
    ref = run_wrk(args.wrk, f"http://127.0.0.1:{nginx_port}{APPS_PATH}", args, procs)

    print(f"\nwrk -t{args.threads} -c{args.connections} -d{args.duration} --latency, body {len(body)} bytes "
          f"({count} apps), nginx with {args.nginx_workers} worker process(es):")
    print(f"{'server':<40} {'req/s':>10} {'avg ms':>9} {'p50 ms':>9} {'p90 ms':>9} {'p99 ms':>9} {'max ms':>9} "
          f"{'transfer/s':>11} {'non-2xx':>8}")
    for name, r in ((f"dcos master {APPS_PATH}", ours), ("nginx (same bytes, static)", ref)):
        rps = "-" if r["rps"] is None else f"{r['rps']:.0f}"
        print(f"{name:<40} {rps:>10} {fmt_ms(r.get('avg')):>9} {fmt_ms(r.get('p50')):>9} {fmt_ms(r.get('p90')):>9} "
              f"{fmt_ms(r.get('p99')):>9} {fmt_ms(r.get('max')):>9} {r['transfer']:>11} {r['non2xx']:>8}")
        if r["socket_errors"]:
            print(f"  {name}: socket errors: {r['socket_errors']}")
    if ours["rps"] and ref["rps"]:
        print(f"\nratio ours/nginx: throughput {ours['rps'] / ref['rps']:.3f}x"
              + (f", p50 latency {ours['p50'] / ref['p50']:.1f}x" if ours.get("p50") and ref.get("p50") else "")
              + " (nginx serves a file; ours renders the list once per state change and serves those bytes until the next one)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--apps", type=int, default=1000, help="apps to create (default 1000)")
    ap.add_argument("--binary", default=os.path.join(REPO, "build", "dcos"),
                    help="the dcos binary (default: build/dcos in the repository)")
    ap.add_argument("--duration", default="5s", help="wrk -d (default 5s)")
    ap.add_argument("--threads", type=int, default=2, help="wrk -t (default 2)")
    ap.add_argument("--connections", type=int, default=32, help="wrk -c (default 32)")
    ap.add_argument("--nginx-workers", type=int, default=1, help="nginx worker_processes (default 1)")
    args = ap.parse_args()
    args.binary = os.path.abspath(args.binary)
    if not os.access(args.binary, os.X_OK):
        sys.exit(f"{args.binary} is not an executable; build it with `ninja -C build dcos`")
    args.nginx = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)
    args.wrk = shutil.which("wrk")
    if not args.nginx or not args.wrk:
        missing = "/".join(n for n, p in (("nginx", args.nginx), ("wrk", args.wrk)) if not p)
        print(f"{missing} missing: apt-get install nginx-light wrk")
        sys.exit(0)

    run_main("dcos-apps-http-bench-", run, args)


if __name__ == "__main__":
    main()
