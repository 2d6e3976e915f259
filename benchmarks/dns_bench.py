#!/usr/bin/env python3
"""DNS benchmark of the master's built-in DNS server (Mesos-DNS names), against dnsmasq serving the same records.

Starts `dcos dev` (master and agent in one process; temporary work dir, ephemeral HTTP and DNS
ports, --dns_recurse=false so no query leaves the machine), creates one Marathon app of
--instances instances through POST /v2/apps and waits until they run and their names are in
GET /v1/enumerate. From /v1/enumerate (and /v1/hosts/leader.mesos for the master's names) it writes
a dnsmasq configuration serving the same A and SRV records (an --addn-hosts file and srv-host=
lines, local=/mesos/ so other names under .mesos are NXDOMAIN, local-ttl equal to our TTL), starts
dnsmasq in the foreground on another ephemeral port, and checks with `dig` that both servers give
the same rcode and the same answer records to every query of the query file before measuring.

The query file (the same for both) is a mix: A of the app's name, A of each instance's own name,
SRV of the app's service (one record per instance, with the targets' A records as additional
records), A of leader.mesos, and a few names that do not exist (NXDOMAIN). Queries carry EDNS0
(dnsperf -e) so the SRV answer of 20 instances fits one UDP answer; --no-edns sends plain 512-byte
queries (the SRV answer is then truncated, TC set, by both servers).

Each server is measured with `dnsperf -l <duration> -c <clients> -q <outstanding> -T 1 -e -v` over
UDP, alternating: ours, dnsmasq, ours, dnsmasq (--rounds 2). dnsperf 2.10 has no latency
percentiles or histogram (no -O latency-histogram), so the p50/p99 latencies are computed here from
dnsperf's verbose output: with -v it prints one line per answered query, "> RCODE name type
latency-seconds", written to a file and sorted afterwards (writing it costs dnsperf under 1 % of
its rate). Queries per second, average latency and lost queries are dnsperf's own summary. The
latency is measured under full load (-q queries always outstanding), so it is mostly queueing: about
outstanding/qps. The table also shows the server's CPU use over each run (its utime + stime from
/proc/<pid>/stat over the wall time) and queries/s per busy server core: when that use stays well
under 100 %, dnsperf (not the server) was the limit.

The machine may have only 2 cores and dnsperf needs about one of them: with 2 or more CPUs the
servers are pinned to CPU 0 (all their threads; the dev cluster's tasks sleep) and dnsperf to the
others (--no-pin turns that off), so each server is measured on one core, as Mesos-DNS' published
number (about 8.5K queries/s per core) is. dnsmasq is single-threaded; ours answers on one DNS
thread. Nothing passes or fails here; the exit status is 1 only when the benchmark could not run.
Without dnsperf, dnsmasq or dig it says which packages to install and exits 0.

    python3 benchmarks/dns_bench.py [--binary build/dcos] [--instances 20] [--duration 5]
                                    [--clients 2] [--outstanding 20] [--rounds 2] [--no-pin]
                                    [--no-edns]

Every process started (dcos dev and its tasks, dnsmasq, dnsperf) is stopped at the end, also on
Ctrl-C or SIGTERM.
"""
import argparse
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import free_port, run_main, stop_process, tail, wait_until  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
API_LINE = re.compile(r"API and dashboard: http://([0-9.]+):([0-9]+)/")
DNS_LINE = re.compile(r"DNS for \.(\S+): ([0-9.]+):([0-9]+)")
APP_ID = "/bench/web"
MESOS_DNS_REFERENCE = ("# reference: Mesos-DNS' docs (docs/performance-tuning.md): on one core of a Google Cloud "
                       "n1-standard-2 it serves up to about 8.5K queries/s for names in the cluster domain")


def pinned(cpus):
    """A preexec_fn putting the child (and so every thread it starts) on `cpus`; None when not pinning."""
    if not cpus:
        return None
    return lambda: os.sched_setaffinity(0, cpus)


# ---------------------------------------------------------------- HTTP helpers

def http_request(port, method, path, body=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        conn.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def get_json(port, path):
    status, data = http_request(port, "GET", path)
    if status != 200:
        raise RuntimeError(f"GET {path} answered {status}: {data[:300]!r}")
    return json.loads(data)


# ---------------------------------------------------------------- the two servers

def start_dev(args, work, procs):
    """Starts `dcos dev`; returns (http port, dns domain, dns port) from its banner."""
    log_path = os.path.join(work, "dev.log")
    log = open(log_path, "wb")
    argv = [args.binary, "dev", "--port=0", "--address=127.0.0.1", f"--work_dir={work}/dev", "--dns_port=0",
            "--dns_recurse=false", "--log_level=warn"]
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            preexec_fn=pinned(args.server_cpus))
    procs.append(proc)
    found = {}

    def up():
        if proc.poll() is not None:
            raise RuntimeError(f"dcos dev exited with {proc.returncode}: {tail(log_path)}")
        with open(log_path, errors="replace") as f:
            text = f.read()
        api, dns = API_LINE.search(text), DNS_LINE.search(text)
        if api and dns:
            found.update(port=int(api.group(2)), domain=dns.group(1), dns_port=int(dns.group(3)))
        elif api and "DNS for" not in text and "cluster is up" in text and "master and one agent" in text:
            raise RuntimeError(f"dcos dev printed no 'DNS for' line (no DNS server?): {tail(log_path)}")
        return bool(found)

    if not wait_until(up, 30.0):
        raise RuntimeError(f"dcos dev printed no 'API and dashboard' and 'DNS for' lines within 30 s: {tail(log_path)}")
    config = get_json(found["port"], "/v1/config")
    if config.get("Port") != found["dns_port"]:
        raise RuntimeError(f"/v1/config says DNS port {config.get('Port')}, the banner {found['dns_port']}")
    return proc, log_path, found["port"], found["domain"], found["dns_port"], config.get("TTL", 5)


def create_app(port, instances):
    app = {"id": APP_ID, "cmd": "sleep 100000", "cpus": 0.01, "mem": 16, "instances": instances,
           "portDefinitions": [{"port": 0}]}
    status, data = http_request(port, "POST", "/v2/apps", app)
    if status != 201:
        raise RuntimeError(f"POST /v2/apps answered {status}: {data[:300]!r}")
    state = {}

    def running():
        state["app"] = get_json(port, "/v2/apps" + APP_ID)["app"]
        return state["app"].get("tasksRunning", 0) >= instances

    start = time.monotonic()
    if not wait_until(running, 120.0, step=0.25):
        a = state.get("app", {})
        raise RuntimeError(f"{APP_ID}: {a.get('tasksRunning')} of {instances} tasks running after 120 s "
                           f"(staged {a.get('tasksStaged')}, unhealthy {a.get('tasksUnhealthy')}); "
                           "the dev agent may lack cpus/mem: try fewer --instances")
    return time.monotonic() - start


def enumerate_records(port, instances):
    """The records of GET /v1/enumerate once every instance is in it: [(name, rtype, host)]."""
    state = {}

    def complete():
        data = get_json(port, "/v1/enumerate")
        tasks = [t for fw in data.get("frameworks", []) for t in fw.get("tasks", [])]
        state["records"] = [(r["name"].rstrip(".").lower(), r["rtype"], r["host"])
                            for t in tasks for r in t.get("records", [])]
        state["tasks"] = len(tasks)
        return len(tasks) >= instances

    if not wait_until(complete, 15.0, step=0.2):
        raise RuntimeError(f"/v1/enumerate lists {state.get('tasks')} tasks, expected {instances}")
    return state["records"]


def write_dnsmasq_conf(work, domain, ttl, records, master_names):
    """An addn-hosts file with every A record and srv-host= lines for every SRV record."""
    root = os.path.join(work, "dnsmasq")
    os.makedirs(root)
    hosts = {}  # ip -> names
    srv = []
    for name, rtype, host in records + master_names:
        if rtype == "A":
            hosts.setdefault(host, [])
            if name not in hosts[host]:
                hosts[host].append(name)
        elif rtype == "SRV":
            target, _, port = host.rpartition(":")
            srv.append((name, target.rstrip("."), int(port)))
    hosts_path = os.path.join(root, "hosts")
    with open(hosts_path, "w") as f:
        for ip, names in hosts.items():
            # One line per name: dnsmasq has no limit, but keep the file easy to read.
            for name in names:
                f.write(f"{ip} {name}\n")
    conf = os.path.join(root, "dnsmasq.conf")
    with open(conf, "w") as f:
        f.write(f"addn-hosts={hosts_path}\nlocal=/{domain}/\nlocal-ttl={ttl}\n")
        for name, target, port in srv:
            f.write(f"srv-host={name},{target},{port},0,0\n")
    for d in (work, root):
        os.chmod(d, 0o755)
    for p in (hosts_path, conf):
        os.chmod(p, 0o644)
    return root, conf, sum(len(n) for n in hosts.values()), len(srv)


def start_dnsmasq(args, root, conf, procs):
    port = free_port(udp_too=True)
    log_path = os.path.join(root, "dnsmasq.log")
    argv = [args.dnsmasq, "--keep-in-foreground", "--no-resolv", "--no-hosts", "--no-poll", f"--port={port}",
            "--listen-address=127.0.0.1", "--bind-interfaces", f"--conf-file={conf}", "--pid-file=",
            f"--log-facility={log_path}", "--cache-size=1000"]
    if os.geteuid() == 0:
        argv.append("--user=root")  # else it changes to nobody, who may not read the temp dir
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            preexec_fn=pinned(args.server_cpus))
    procs.append(proc)

    def up():
        if proc.poll() is not None:
            raise RuntimeError(f"dnsmasq exited with {proc.returncode}: {tail(log_path)}")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(0.2)
            # A query for "leader.<domain>" A; any answer will do.
            q = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x06leader" + bytes([len(args.domain)]) + \
                args.domain.encode() + b"\x00\x00\x01\x00\x01"
            try:
                s.sendto(q, ("127.0.0.1", port))
                return s.recv(4096)[:2] == b"\x12\x34"
            except OSError:
                return False

    if not wait_until(up, 10.0):
        raise RuntimeError(f"dnsmasq did not answer within 10 s: {tail(log_path)}")
    return proc, port


# ---------------------------------------------------------------- queries and their check

def query_mix(records, domain, instances):
    """The lines of the dnsperf query file: (name, type), a realistic mix."""
    app_a = f"web-bench.marathon.{domain}"
    a_names = sorted({n for n, t, _ in records if t == "A"})
    canonical = [n for n in a_names if n.startswith("web-bench-") and n.endswith(f".marathon.{domain}")]
    srv_names = sorted({n for n, t, _ in records if t == "SRV"})
    service = f"_web-bench._tcp.marathon.{domain}"
    if app_a not in a_names or service not in srv_names or not canonical:
        raise RuntimeError(f"/v1/enumerate has no {app_a} A / {service} SRV / per-instance names: "
                           f"{a_names[:5]} {srv_names[:5]}")
    lines = []
    lines += [(n, "A") for n in canonical]                        # each instance's own name
    lines += [(app_a, "A")] * max(instances // 2, 5)              # the app's name
    lines += [(service, "SRV")] * max(instances // 2, 5)          # the app's service
    lines += [(f"web-bench.marathon.slave.{domain}", "A")] * 2
    lines += [(f"leader.{domain}", "A")] * 5
    lines += [(f"nope-{i}.marathon.{domain}", "A") for i in range(3)] + [(f"missing.{domain}", "A"),
                                                                        (f"_nope._tcp.marathon.{domain}", "SRV")]
    return lines


def dig(args, port, name, qtype):
    argv = [args.dig, "@127.0.0.1", "-p", str(port), name, qtype, "+ignore", "+tries=1", "+time=2", "+noall", "+comments",
            "+answer", "+additional"]
    argv.append("+bufsize=4096" if args.edns else "+noedns")
    out = subprocess.run(argv, capture_output=True, text=True, timeout=10).stdout
    m = re.search(r"status: (\w+)", out)
    flags = re.search(r";; flags: ([a-z ]*);", out)
    section, answers, additional = None, [], []
    for line in out.splitlines():
        if line.startswith(";; ANSWER SECTION"):
            section = answers
        elif line.startswith(";; ADDITIONAL SECTION"):
            section = additional
        elif line.startswith(";") or not line.strip():
            if line.startswith(";;") and "SECTION" in line:
                section = None
            continue
        elif section is not None:
            parts = line.split()
            if len(parts) >= 5 and parts[3] != "OPT":
                # name, type, data (no TTL: checked apart), lowercase
                section.append((parts[0].lower(), parts[3], " ".join(parts[4:]).lower()))
    ttls = {line.split()[1] for line in out.splitlines()
            if line and not line.startswith(";") and len(line.split()) >= 5 and line.split()[3] != "OPT"}
    return {"rcode": m.group(1) if m else "NO ANSWER", "tc": bool(flags and " tc" in " " + flags.group(1)),
            "answers": sorted(answers), "additional": sorted(additional), "ttls": ttls}


def check_same_answers(args, lines, our_port, ref_port):
    """Compares the two servers' answers to each distinct query; returns the differences, as text."""
    problems, notes = [], []
    for name, qtype in sorted(set(lines)):
        ours, ref = dig(args, our_port, name, qtype), dig(args, ref_port, name, qtype)
        what = f"{name} {qtype}"
        if ours["rcode"] != ref["rcode"]:
            problems.append(f"{what}: rcode ours {ours['rcode']}, dnsmasq {ref['rcode']}")
        if ours["tc"] != ref["tc"]:
            problems.append(f"{what}: TC ours {ours['tc']}, dnsmasq {ref['tc']}")
        if ours["tc"] and ref["tc"]:
            # Truncated: each keeps the records that fit, in its own order (ours rotates them).
            if len(ours["answers"]) != len(ref["answers"]):
                notes.append(f"{what}: truncated (TC) answers hold {len(ours['answers'])} records ours, "
                             f"{len(ref['answers'])} dnsmasq")
            else:
                notes.append(f"{what}: truncated (TC) by both, {len(ours['answers'])} records each")
        elif ours["answers"] != ref["answers"]:
            only_ours = [r for r in ours["answers"] if r not in ref["answers"]]
            only_ref = [r for r in ref["answers"] if r not in ours["answers"]]
            problems.append(f"{what}: {len(ours['answers'])} answers ours, {len(ref['answers'])} dnsmasq; "
                            f"only ours {only_ours[:3]}, only dnsmasq {only_ref[:3]}")
        if ours["additional"] != ref["additional"]:
            notes.append(f"{what}: additional records ours {len(ours['additional'])}, "
                         f"dnsmasq {len(ref['additional'])}")
        if ours["ttls"] != ref["ttls"] and ours["answers"]:
            notes.append(f"{what}: TTLs ours {sorted(ours['ttls'])}, dnsmasq {sorted(ref['ttls'])}")
    return problems, notes


# ---------------------------------------------------------------- dnsperf

def cpu_seconds(pid):
    """User + system CPU time of a process so far (all its threads), from /proc/<pid>/stat."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def run_dnsperf(args, port, qfile, out_path, procs, server_pid):
    argv = [args.dnsperf, "-s", "127.0.0.1", "-p", str(port), "-d", qfile, "-l", str(args.duration),
            "-c", str(args.clients), "-q", str(args.outstanding), "-T", "1", "-t", "2", "-v"]
    if args.edns:
        argv.append("-e")
    cpu_before, wall_before = cpu_seconds(server_pid), time.monotonic()
    with open(out_path, "w") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                preexec_fn=pinned(args.client_cpus))
        procs.append(proc)
        try:
            proc.wait(args.duration + 60)
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"{' '.join(argv)} still running {args.duration + 60} s later")
        procs.remove(proc)
    cpu_after, wall = cpu_seconds(server_pid), time.monotonic() - wall_before
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited with {proc.returncode}: {tail(out_path)}")
    res = {"argv": " ".join(argv)}
    # The server's CPU use over the run (dnsperf's start-up and end included, so slightly low).
    res["cpu"] = None if cpu_before is None or cpu_after is None else (cpu_after - cpu_before) / wall
    latencies, rcodes_v, other = [], {}, 0
    summary = []
    with open(out_path, errors="replace") as f:
        for line in f:
            if line.startswith("> "):
                parts = line.split()
                if len(parts) == 5:
                    try:
                        latencies.append(float(parts[4]))
                        rcodes_v[parts[1]] = rcodes_v.get(parts[1], 0) + 1
                        continue
                    except ValueError:
                        pass
                other += 1
            else:
                summary.append(line)
    text = "".join(summary)
    num = r"([0-9.]+)"

    def grab(pattern, conv=float):
        m = re.search(pattern, text)
        return conv(m.group(1)) if m else None

    res["sent"] = grab(r"Queries sent:\s+([0-9]+)", int)
    res["completed"] = grab(r"Queries completed:\s+([0-9]+)", int)
    res["lost"] = grab(r"Queries lost:\s+([0-9]+)", int)
    res["qps"] = grab(r"Queries per second:\s+" + num)
    avg = grab(r"Average Latency \(s\):\s+" + num)
    res["avg"] = None if avg is None else avg * 1000
    res["max"] = grab(r"Average Latency \(s\):.*max " + num)
    res["max"] = None if res["max"] is None else res["max"] * 1000
    m = re.search(r"Response codes:\s+(.*)", text)
    res["rcodes"] = m.group(1).strip() if m else "?"
    res["response_size"] = grab(r"response ([0-9]+)", int)
    latencies.sort()

    def pct(p):
        if not latencies:
            return None
        return latencies[min(len(latencies) - 1, int(len(latencies) * p / 100))] * 1000

    res["p50"], res["p99"], res["p999"] = pct(50), pct(99), pct(99.9)
    res["per_query_lines"] = len(latencies)
    res["other_lines"] = other
    res["summary"] = text
    return res


def fmt(v, spec=".3f"):
    return "-" if v is None else format(v, spec)


# ---------------------------------------------------------------- main

def run(args, work, procs):
    dev, dev_log, http_port, domain, our_port, ttl = start_dev(args, work, procs)
    args.domain = domain
    print(f"dcos dev on 127.0.0.1:{http_port}, DNS for .{domain} on 127.0.0.1:{our_port} (TTL {ttl} s); "
          f"creating {APP_ID} with {args.instances} instances ...", flush=True)
    took = create_app(http_port, args.instances)
    records = enumerate_records(http_port, args.instances)
    master_names = []
    for name in (f"leader.{domain}", f"master.{domain}"):
        for h in get_json(http_port, f"/v1/hosts/{name}"):
            master_names.append((name, "A", h["ip"]))
    n_a = sum(1 for r in records if r[1] == "A")
    print(f"  {args.instances} tasks running after {took:.1f} s; /v1/enumerate: {n_a} A and "
          f"{len(records) - n_a} SRV records", flush=True)

    root, conf, n_hosts, n_srv = write_dnsmasq_conf(work, domain, ttl, records, master_names)
    ref_proc, ref_port = start_dnsmasq(args, root, conf, procs)
    print(f"dnsmasq on 127.0.0.1:{ref_port} with the same records ({n_hosts} A names, {n_srv} srv-host lines)",
          flush=True)

    lines = query_mix(records, domain, args.instances)
    qfile = os.path.join(work, "queries.txt")
    with open(qfile, "w") as f:
        for name, qtype in lines:
            f.write(f"{name} {qtype}\n")
    print(f"query file: {len(lines)} lines, {len(set(lines))} distinct queries; checking both servers answer "
          f"them alike with dig ...", flush=True)
    problems, notes = check_same_answers(args, lines, our_port, ref_port)
    for p in problems:
        print(f"  DIFFERENT: {p}")
    for n in notes[:10]:
        print(f"  note: {n}")
    if len(notes) > 10:
        print(f"  note: ... and {len(notes) - 10} more such notes")
    if not problems:
        print("  same rcode, TC flag and answer records for every query", flush=True)

    servers = [("ours", our_port, dev), ("dnsmasq", ref_port, ref_proc)]
    results = {"ours": [], "dnsmasq": []}
    for rnd in range(args.rounds):
        for name, port, proc in servers:
            print(f"  round {rnd + 1}: dnsperf against {name} for {args.duration} s ...", flush=True)
            r = run_dnsperf(args, port, qfile, os.path.join(work, f"dnsperf-{name}-{rnd}.txt"), procs, proc.pid)
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode} during dnsperf: "
                                   f"{tail(dev_log if name == 'ours' else os.path.join(root, 'dnsmasq.log'))}")
            results[name].append(r)

    cpu_note = (f"servers pinned to CPU {','.join(map(str, sorted(args.server_cpus)))}, dnsperf to CPU "
                f"{','.join(map(str, sorted(args.client_cpus)))}" if args.server_cpus else
                "not pinned: servers and dnsperf share the CPUs")
    print(f"\ndnsperf -l {args.duration} -c {args.clients} -q {args.outstanding} -T 1{' -e' if args.edns else ''} "
          f"over UDP, {len(lines)}-line query mix, {args.instances} instances; {os.cpu_count()} CPUs, {cpu_note}; "
          f"dnsperf itself needs about one core")
    print(f"{'server':<22} {'queries/s':>10} {'avg ms':>8} {'p50 ms':>8} {'p99 ms':>8} {'p99.9 ms':>9} "
          f"{'max ms':>8} {'lost':>6} {'resp B':>7} {'srv CPU':>8} {'q/CPU-s':>8}  response codes")
    for name in ("ours", "dnsmasq"):
        for i, r in enumerate(results[name]):
            label = f"{'dcos dev' if name == 'ours' else 'dnsmasq'} run {i + 1}"
            lost = "-" if r["lost"] is None else str(r["lost"])
            cpu = "-" if r["cpu"] is None else f"{r['cpu'] * 100:.0f}%"
            per_cpu = "-" if not r["cpu"] or not r["qps"] else f"{r['qps'] / r['cpu'] / 1000:.0f}K"
            print(f"{label:<22} {fmt(r['qps'], '.0f'):>10} {fmt(r['avg']):>8} {fmt(r['p50']):>8} {fmt(r['p99']):>8} "
                  f"{fmt(r['p999']):>9} {fmt(r['max']):>8} {lost:>6} {fmt(r['response_size'], 'd'):>7} {cpu:>8} {per_cpu:>8}  "
                  f"{r['rcodes']}")
    best = {name: max(rs, key=lambda r: r["qps"] or 0) for name, rs in results.items()}
    ours, ref = best["ours"], best["dnsmasq"]
    print("srv CPU: the server process' CPU time over the run / its wall time (ours: the whole dcos dev process); "
          "q/CPU-s: queries/s per server core busy. Below ~100 % the server was not the bottleneck: dnsperf was.")
    print(MESOS_DNS_REFERENCE)
    if ours["qps"] and ref["qps"]:
        parts = [f"throughput {ours['qps'] / ref['qps']:.2f}x"]
        for key, label in (("avg", "avg latency"), ("p99", "p99 latency")):
            if ours.get(key) and ref.get(key):
                parts.append(f"{label} {ours[key] / ref[key]:.2f}x")
        if ours.get("cpu") and ref.get("cpu"):
            parts.append(f"queries per server CPU-second {(ours['qps'] / ours['cpu']) / (ref['qps'] / ref['cpu']):.2f}x")
        print(f"\nratio ours/dnsmasq (best run of each by queries/s): {', '.join(parts)}")
    lost = sum(r["lost"] or 0 for r in results["ours"])
    if lost:
        print(f"ours lost {lost} queries in {args.rounds} runs (no answer within dnsperf's 2 s timeout)")
    with open(dev_log, errors="replace") as f:
        errors = [line.rstrip() for line in f if re.search(r"\b(error|ERROR|warn|WARN)", line)]
    if errors:
        print(f"dcos dev logged {len(errors)} warning/error lines, the last: {errors[-3:]}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--binary", default=os.path.join(REPO, "build", "dcos"),
                    help="the dcos binary (default: build/dcos in the repository)")
    ap.add_argument("--instances", type=int, default=20, help="instances of the app (default 20)")
    ap.add_argument("--duration", type=int, default=5, help="dnsperf -l, seconds per run (default 5)")
    ap.add_argument("--clients", type=int, default=2, help="dnsperf -c, client sockets (default 2)")
    ap.add_argument("--outstanding", type=int, default=20, help="dnsperf -q, queries outstanding (default 20)")
    ap.add_argument("--rounds", type=int, default=2, help="runs of each server, alternating (default 2)")
    ap.add_argument("--no-pin", dest="pin", action="store_false",
                    help="do not pin the servers to CPU 0 and dnsperf to the other CPUs")
    ap.add_argument("--no-edns", dest="edns", action="store_false",
                    help="plain queries without EDNS0 (512-byte UDP answers; the SRV answer gets truncated)")
    args = ap.parse_args()
    args.binary = os.path.abspath(args.binary)
    if not os.access(args.binary, os.X_OK):
        sys.exit(f"{args.binary} is not an executable; build it with `ninja -C build dcos`")
    args.dnsperf = shutil.which("dnsperf")
    args.dnsmasq = shutil.which("dnsmasq") or next((p for p in ("/usr/sbin/dnsmasq",) if os.access(p, os.X_OK)), None)
    args.dig = shutil.which("dig")
    if not (args.dnsperf and args.dnsmasq and args.dig):
        missing = "/".join(n for n, p in (("dnsperf", args.dnsperf), ("dnsmasq", args.dnsmasq), ("dig", args.dig))
                           if not p)
        print(f"{missing} missing: apt-get install dnsperf dnsmasq-base bind9-dnsutils")
        sys.exit(0)
    cpus = sorted(os.sched_getaffinity(0))
    if args.pin and len(cpus) >= 2:
        args.server_cpus, args.client_cpus = {cpus[0]}, set(cpus[1:])
    else:
        args.server_cpus = args.client_cpus = None

    run_main("dcos-dns-bench-", run, args)


if __name__ == "__main__":
    main()
