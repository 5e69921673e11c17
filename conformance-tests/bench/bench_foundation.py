#!/usr/bin/env python3
"""Foundation benchmarks: cold start to the first answered request, idle RSS, and a signed
ListPipelines at 16 connections against the bare libmicrohttpd ceiling, alternating A B A B.

usage: bench_foundation.py [--binary build/codepipeline-local] [--shared ../shared] [--seconds 5]
Needs wrk. Prints one line per measurement and the ratio."""
import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port, proc, timeout=10.0):
    """Polls until a TCP connection succeeds; returns the time it took."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        if proc.poll() is not None:
            raise RuntimeError("process exited")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.05):
                return time.perf_counter() - t0
        except OSError:
            time.sleep(0.0005)
    raise RuntimeError("not listening")


def cold_start(binary, runs=10):
    """Exec to the first answered health request, in ms (best and median of runs)."""
    times = []
    for _ in range(runs):
        d = tempfile.mkdtemp(prefix="cpl-bench-")
        port = free_port()
        t0 = time.perf_counter()
        p = subprocess.Popen([binary, "--port", str(port), "--data-dir", d, "--log-level", "error"])
        while True:
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/_codepipeline-local/health" % port,
                                            timeout=1) as r:
                    r.read()
                    break
            except OSError:
                time.sleep(0.0005)
        times.append((time.perf_counter() - t0) * 1000)
        p.terminate()
        p.wait()
        shutil.rmtree(d, ignore_errors=True)
    times.sort()
    return times[0], times[len(times) // 2]


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        m = re.search(r"VmRSS:\s+(\d+) kB", f.read())
    return int(m.group(1))


def wrk(url, script, seconds, conns=16, threads=2):
    out = subprocess.run(["wrk", "-t%d" % threads, "-c%d" % conns, "-d%ds" % seconds, "-s", script, url],
                         capture_output=True, text=True).stdout
    if "Non-2xx" in out:
        raise RuntimeError("wrk saw errors:\n" + out)
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.path.join(ROOT, "build", "codepipeline-local"))
    ap.add_argument("--shared", default=os.path.join(ROOT, "..", "shared"))
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--target", default="CodePipeline_20150709.ListPipelines")
    ap.add_argument("--body", default="{}")
    ap.add_argument("--setup", help="python file run with 'endpoint' defined, before measuring")
    args = ap.parse_args()

    best, median = cold_start(args.binary)
    print("cold start to first answer: best %.1f ms, median %.1f ms" % (best, median))

    work = tempfile.mkdtemp(prefix="cpl-bench-")
    ceiling = os.path.join(work, "mhd_ceiling")
    subprocess.run(["cc", "-O2", "-o", ceiling, os.path.join(args.shared, "bench", "mhd_ceiling.c"),
                    "-lmicrohttpd"], check=True)
    cport, eport = free_port(), free_port()
    cproc = subprocess.Popen([ceiling, str(cport)])
    eproc = subprocess.Popen([args.binary, "--port", str(eport), "--data-dir", os.path.join(work, "data"),
                              "--log-level", "error"])
    try:
        wait_listening(cport, cproc)
        wait_listening(eport, eproc)
        time.sleep(0.2)
        endpoint = "http://127.0.0.1:%d" % eport
        if args.setup:
            exec(open(args.setup).read(), {"endpoint": endpoint})
        print("idle RSS: %.1f MiB" % (rss_kib(eproc.pid) / 1024))
        script = os.path.join(work, "req.lua")
        with open(script, "w") as f:
            subprocess.run([sys.executable, os.path.join(args.shared, "bench", "signed_wrk.py"),
                            endpoint, args.target, args.body], stdout=f, check=True)
        ratios = []
        for _ in range(2):
            c = wrk("http://127.0.0.1:%d/" % cport, script, args.seconds)
            e = wrk(endpoint + "/", script, args.seconds)
            ratios.append(e / c)
            print("ceiling %.0f req/s, emulator %s %.0f req/s, ratio %.2f" % (c, args.target, e, e / c))
        print("RSS after load: %.1f MiB" % (rss_kib(eproc.pid) / 1024))
        print("mean ratio %.2f" % (sum(ratios) / len(ratios)))
    finally:
        cproc.terminate()
        eproc.terminate()
        cproc.wait()
        eproc.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
