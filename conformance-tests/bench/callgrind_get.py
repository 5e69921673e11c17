#!/usr/bin/env python3
"""Instructions per GetPipeline under callgrind: a load-independent companion of
bench_codepipeline.py, whose requests/second swing by 2x or more on a shared machine.

Each binary (the emulator, and the libmicrohttpd ceiling of ../shared/bench/mhd_ceiling.c)
runs under valgrind --tool=callgrind with instrumentation off until the pipeline exists, its
first run is over and 50 requests have warmed it up; then N signed GetPipeline requests of a 4-stage pipeline go over one
keep-alive connection with instrumentation on. Prints instructions per request for each binary
and the ceiling/binary ratio (user-space instructions only: the kernel's share, the same for all,
is not counted), and keeps the callgrind files with --keep DIR for callgrind_annotate
(e.g. `callgrind_annotate --inclusive=yes --tree=calling FILE`).

usage: callgrind_get.py [--shared ../shared] [--requests 2000] [--keep DIR] BINARY...
Needs valgrind and boto3."""
import argparse
import http.client
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
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "conformance-tests"))
from test_codepipeline_pipelines import ARTIFACT_BUCKET, four_stage  # noqa: E402

BODY = '{"name":"bench4"}'


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def measure(cmd, port, out, n, setup):
    """Runs cmd under callgrind; returns the instructions of n requests and the answer's size."""
    proc = subprocess.Popen(["valgrind", "--tool=callgrind", "--instr-atstart=no",
                             "--callgrind-out-file=" + out] + cmd,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 300
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError("%s did not start" % cmd[0])
                time.sleep(0.2)
        ep = "http://127.0.0.1:%d" % port
        if setup:
            kw = dict(endpoint_url=ep, aws_access_key_id="test", aws_secret_access_key="test",
                      region_name="us-east-1",
                      config=botocore.config.Config(retries={"max_attempts": 1}))
            boto3.client("s3", **kw).create_bucket(Bucket=ARTIFACT_BUCKET)
            cp = boto3.client("codepipeline", **kw)
            cp.create_pipeline(pipeline=four_stage("bench4"))
            # CreatePipeline's first run must be over: its source action (libgit2's first use
            # parses the CA bundle, 50M instructions) would land in the measured window.
            while True:
                try:
                    s = cp.list_pipeline_executions(pipelineName="bench4")[
                        "pipelineExecutionSummaries"]
                except cp.exceptions.ClientError as e:  # a build from before the engine
                    if e.response["Error"]["Code"] != "NotImplementedException":
                        raise
                    break
                if s and all(x["status"] != "InProgress" for x in s):
                    break
                if time.time() > deadline:
                    raise RuntimeError("the first run of bench4 did not end")
                time.sleep(0.2)
        req = AWSRequest(method="POST", url=ep + "/", data=BODY.encode(),
                         headers={"Content-Type": "application/x-amz-json-1.1",
                                  "X-Amz-Target": "CodePipeline_20150709.GetPipeline"})
        SigV4Auth(Credentials("test", "test"), "codepipeline", "us-east-1").add_auth(req)
        headers = dict(req.headers.items())
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)

        def send(k):
            size = 0
            for _ in range(k):
                conn.request("POST", "/", body=BODY, headers=headers)
                r = conn.getresponse()
                data = r.read()
                if r.status != 200:
                    raise RuntimeError("status %d: %r" % (r.status, data[:200]))
                size = len(data)
            return size

        send(50)
        ctl = lambda on: subprocess.run(["callgrind_control", "-i", on, str(proc.pid)],  # noqa
                                        check=True, capture_output=True)
        ctl("on")
        size = send(n)
        ctl("off")
        conn.close()
    finally:
        proc.terminate()
        proc.wait(timeout=120)
    with open(out) as f:
        total = int(re.findall(r"^totals: (\d+)", f.read(), re.M)[-1])
    return total, size


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binaries", nargs="+")
    ap.add_argument("--shared", default=os.path.join(ROOT, "..", "shared"))
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--keep", help="directory for the callgrind output files")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="cpl-callgrind-")
    keep = args.keep or work
    try:
        ceiling = os.path.join(work, "mhd_ceiling")
        subprocess.run(["cc", "-O2", "-o", ceiling,
                        os.path.join(args.shared, "bench", "mhd_ceiling.c"), "-lmicrohttpd"],
                       check=True)
        port = free_port()
        c, csize = measure([ceiling, str(port)], port, os.path.join(keep, "ceiling.out"),
                           args.requests, False)
        print("== GetPipeline of a 4-stage pipeline, %d requests on one connection"
              % args.requests)
        print("ceiling: %8.0f instructions per request (answer %d bytes)"
              % (c / args.requests, csize))
        for i, b in enumerate(args.binaries):
            port = free_port()
            e, size = measure([b, "--port", str(port), "--data-dir",
                               os.path.join(work, "data-%d" % i), "--log-level", "error"], port,
                              os.path.join(keep, "binary-%d.out" % i), args.requests, True)
            print("%s: %8.0f instructions per request (answer %d bytes), ceiling/binary %.3f"
                  % (b, e / args.requests, size, c / e))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
