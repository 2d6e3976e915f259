"""What the Python benchmarks share: waiting with a deadline, free ports, stopping processes, and
a main() wrapper that stops every process a benchmark started and removes its temporary
directory, also on Ctrl-C or SIGTERM."""
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time


class Terminated(Exception):
    pass


def _on_sigterm(signum, frame):
    raise Terminated(f"signal {signum}")


def wait_until(predicate, deadline, step=0.02):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def free_port(udp_too=False):
    """A port free right now on 127.0.0.1 (for servers that cannot report an ephemeral port);
    with udp_too, free for both TCP and UDP."""
    for _ in range(50):
        with socket.socket() as t:
            t.bind(("127.0.0.1", 0))
            port = t.getsockname()[1]
            if not udp_too:
                return port
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                try:
                    u.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    raise RuntimeError("found no free port")


def stop_process(proc, sig=signal.SIGTERM, deadline=15.0):
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(deadline)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def tail(path, n=15):
    try:
        with open(path, errors="replace") as f:
            return "\n".join(f.read().splitlines()[-n:])
    except OSError:
        return ""


def run_main(prefix, run, args):
    """Calls run(args, work, procs) with a fresh temporary directory `work`; every process the
    benchmark appends to `procs` is stopped afterwards (newest first), whatever happens. Exits
    with 0, 1 (an error) or 130 (interrupted)."""
    signal.signal(signal.SIGTERM, _on_sigterm)
    # Also when started with SIGINT ignored (a background job of a non-interactive shell).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    work = tempfile.mkdtemp(prefix=prefix)
    procs = []
    code = 0
    try:
        run(args, work, procs)
    except (KeyboardInterrupt, Terminated) as e:
        print(f"\ninterrupted ({str(e) or 'Ctrl-C'}); cleaning up", file=sys.stderr)
        code = 130
    except Exception as e:
        print(f"error: {e}", file=sys.stderr)
        code = 1
    finally:
        # Ctrl-C during cleanup must not leave processes behind.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for proc in reversed(procs):
            stop_process(proc)
        shutil.rmtree(work, ignore_errors=True)
    sys.exit(code)
