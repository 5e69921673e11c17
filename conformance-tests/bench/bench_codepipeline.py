#!/usr/bin/env python3
"""CodePipeline benchmarks.

1. GetPipeline of a 4-stage pipeline (SigV4 verified, read from LMDB) against the bare libmicrohttpd
   ceiling, alternating A B A B, 16 connections; prints the ratio (target: at least 0.5).
2. ListPipelines over 10,000 pipelines: requests/second for pages of 10, 100 and 1000 taken at the
   start and deep in the list (a nextToken near the end), and for a page of 10 over 100 pipelines;
   a page costs in proportion to its size, not to the number of pipelines.

usage: bench_codepipeline.py [--binary build/codepipeline-local] [--shared ../shared] [--seconds 5]
       [--pipelines 10000] [--pairs 4] [--skip-list]
Needs wrk and boto3."""
import argparse
import concurrent.futures
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import boto3
import botocore.config

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "conformance-tests"))
from test_codepipeline_pipelines import ARTIFACT_BUCKET, four_stage  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port, proc, timeout=10.0):
    t0 = time.time()
    while time.time() - t0 < timeout:
        if proc.poll() is not None:
            raise RuntimeError("process exited")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.05):
                return
        except OSError:
            time.sleep(0.01)
    raise RuntimeError("not listening")


def wrk(url, script, seconds, conns=16, threads=2):
    out = subprocess.run(["wrk", "-t%d" % threads, "-c%d" % conns, "-d%ds" % seconds, "-s", script,
                          url], capture_output=True, text=True).stdout
    if "Non-2xx" in out:
        raise RuntimeError("wrk saw errors:\n" + out)
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def token_after(name):
    """The nextToken that starts a page at pipeline `name` (the emulator's token format)."""
    return "cpl1." + name.encode().hex()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.path.join(ROOT, "build", "codepipeline-local"))
    ap.add_argument("--shared", default=os.path.join(ROOT, "..", "shared"))
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--pipelines", type=int, default=10000)
    ap.add_argument("--pairs", type=int, default=4, help="alternating ceiling/emulator runs")
    ap.add_argument("--skip-list", action="store_true", help="only the GetPipeline benchmark")
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="cpl-bench-cp-")
    ceiling = os.path.join(work, "mhd_ceiling")
    subprocess.run(["cc", "-O2", "-o", ceiling, os.path.join(args.shared, "bench", "mhd_ceiling.c"),
                    "-lmicrohttpd"], check=True)
    cport, eport = free_port(), free_port()
    cproc = subprocess.Popen([ceiling, str(cport)])
    eproc = subprocess.Popen([args.binary, "--port", str(eport), "--data-dir",
                              os.path.join(work, "data"), "--log-level", "error"])
    endpoint = "http://127.0.0.1:%d" % eport

    def script(target, body):
        path = os.path.join(work, "req-%d.lua" % abs(hash((target, body))))
        with open(path, "w") as f:
            subprocess.run([sys.executable, os.path.join(args.shared, "bench", "signed_wrk.py"),
                            endpoint, target, body], stdout=f, check=True)
        return path

    try:
        wait_listening(cport, cproc)
        wait_listening(eport, eproc)
        cp = boto3.client("codepipeline", endpoint_url=endpoint, aws_access_key_id="test",
                          aws_secret_access_key="test", region_name="us-east-1",
                          config=botocore.config.Config(retries={"max_attempts": 1},
                                                        max_pool_connections=16))
        # CreatePipeline needs its artifact bucket to exist, as on AWS.
        boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="test",
                     aws_secret_access_key="test",
                     region_name="us-east-1").create_bucket(Bucket=ARTIFACT_BUCKET)
        cp.create_pipeline(pipeline=four_stage("bench4"))
        get = script("CodePipeline_20150709.GetPipeline", '{"name":"bench4"}')
        print("== GetPipeline, 4 stages, 16 connections, %ds runs" % args.seconds)
        ratios = []
        for _ in range(args.pairs):
            c = wrk("http://127.0.0.1:%d/" % cport, get, args.seconds)
            e = wrk(endpoint + "/", get, args.seconds)
            ratios.append(e / c)
            print("ceiling %.0f req/s, GetPipeline %.0f req/s, ratio %.2f" % (c, e, e / c))
        ratios.sort()
        print("median ratio %.2f (min %.2f, max %.2f)"
              % (ratios[len(ratios) // 2], ratios[0], ratios[-1]))

        if args.skip_list:
            return
        print("== ListPipelines paging")
        cp.delete_pipeline(name="bench4")
        names = ["pipe-%05d" % i for i in range(100)]
        for n in names:
            cp.create_pipeline(pipeline=four_stage(n))
        small = wrk(endpoint + "/", script("CodePipeline_20150709.ListPipelines",
                                           '{"maxResults":10}'), args.seconds, conns=4)
        print("100 pipelines: page of 10 from the start %.0f req/s" % small)
        t0 = time.time()
        more = ["pipe-%05d" % i for i in range(100, args.pipelines)]
        with concurrent.futures.ThreadPoolExecutor(8) as ex:
            list(ex.map(lambda n: cp.create_pipeline(pipeline=four_stage(n)), more))
        print("created %d more pipelines in %.1fs" % (len(more), time.time() - t0))
        deep = "pipe-%05d" % (args.pipelines - 1001)
        for size in (10, 100, 1000):
            a = wrk(endpoint + "/", script("CodePipeline_20150709.ListPipelines",
                                           '{"maxResults":%d}' % size), args.seconds, conns=4)
            b = wrk(endpoint + "/", script("CodePipeline_20150709.ListPipelines",
                                           '{"maxResults":%d,"nextToken":"%s"}'
                                           % (size, token_after(deep))), args.seconds, conns=4)
            print("%d pipelines: page of %4d from the start %7.0f req/s, from %s %7.0f req/s"
                  % (args.pipelines, size, a, deep, b))
    finally:
        cproc.terminate()
        eproc.terminate()
        cproc.wait()
        eproc.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
