#!/usr/bin/env python3
"""Start-up benchmark: time from exec to the first answered health request, and idle RSS.

Measures `dcos master` against a reference measured in the same run on the same machine:
`python3 -m http.server` (a minimal HTTP server that does no work at start-up). Prints the
medians and the ratio; nothing here passes or fails.

    python3 benchmarks/startup.py [build/dcos] [rounds]
"""
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def time_to_answer(argv, url, cwd=None, deadline=10.0):
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=cwd)
    try:
        while time.perf_counter() - start < deadline:
            try:
                with urllib.request.urlopen(url, timeout=1) as r:
                    if r.status == 200:
                        elapsed = time.perf_counter() - start
                        time.sleep(0.3)  # let it settle before reading its idle memory
                        rss = rss_kib(proc.pid)
                        return elapsed, rss
            except OSError:
                time.sleep(0.002)
        raise RuntimeError(f"{argv[0]} did not answer within {deadline}s")
    finally:
        proc.terminate()
        proc.wait(10)


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else "build/dcos"
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 15
    dcos_times, dcos_rss, ref_times, ref_rss = [], [], [], []
    for _ in range(rounds):
        work = tempfile.mkdtemp(prefix="dcos-bench-")
        try:
            port = free_port()
            t, rss = time_to_answer([binary, "master", "--work_dir", work, "--address", "127.0.0.1",
                                     "--port", str(port), "--log_level", "warn"],
                                    f"http://127.0.0.1:{port}/health")
            dcos_times.append(t)
            dcos_rss.append(rss)
            port = free_port()
            t, rss = time_to_answer([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
                                    f"http://127.0.0.1:{port}/", cwd=work)
            ref_times.append(t)
            ref_rss.append(rss)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    d, r = statistics.median(dcos_times), statistics.median(ref_times)
    print(f"exec -> first 200, median of {rounds}:")
    print(f"  dcos master              {d * 1000:8.1f} ms")
    print(f"  python3 -m http.server   {r * 1000:8.1f} ms   (reference)")
    print(f"  ratio dcos/reference     {d / r:8.2f}")
    print("idle RSS after start-up, median:")
    print(f"  dcos master              {statistics.median(dcos_rss) / 1024:8.1f} MiB")
    print(f"  python3 -m http.server   {statistics.median(ref_rss) / 1024:8.1f} MiB   (reference)")
    print(f"binary size: {os.path.getsize(binary) / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
