#!/usr/bin/env python3
"""CodeBuild benchmarks.

1. The emulator's own cost of a build whose only command is `true`: from the build's startTime to
   its endTime (the server's own timestamps, in milliseconds), over N builds run one at a time;
   prints the median and p90 (target: median at most 50 ms), the client-side time from StartBuild
   to a BatchGetBuilds that sees it complete, and the median of each phase, to show where it goes.
   `true` is a shell builtin: the command itself costs microseconds.
2. GetPipeline latency (SigV4 signed, one keep-alive connection, wrk --latency) while 20 builds
   run `sleep 5`, against the same with no build running; prints p50/p90/p99 (target: p99 < 5 ms).

Prints the load average with the figures: the machine is shared.

usage: bench_codebuild.py [--binary build/codepipeline-local] [--shared ../shared] [--builds 50]
       [--seconds 5]
Needs wrk and boto3."""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import boto3
import botocore.config

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "conformance-tests"))
from bench_codepipeline import free_port, wait_listening  # noqa: E402
from test_codepipeline_pipelines import ARTIFACT_BUCKET, four_stage  # noqa: E402

ENV = {"type": "LINUX_CONTAINER", "image": "aws/codebuild/standard:7.0",
       "computeType": "BUILD_GENERAL1_SMALL"}


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


def load():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def wrk_latency(url, script, seconds):
    out = subprocess.run(["wrk", "-t1", "-c1", "-d%ds" % seconds, "--latency", "-s", script, url],
                         capture_output=True, text=True).stdout
    if "Non-2xx" in out or "Socket errors" in out:
        raise RuntimeError("wrk saw errors:\n" + out)

    def ms(label):
        m = re.search(r"^\s*%s\s+([\d.]+)(us|ms|s)\s*$" % label, out, re.M)
        return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    return ms("50%"), ms("90%"), ms("99%"), rps


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.path.join(ROOT, "build", "codepipeline-local"))
    ap.add_argument("--shared", default=os.path.join(ROOT, "..", "shared"))
    ap.add_argument("--builds", type=int, default=50)
    ap.add_argument("--seconds", type=int, default=5)
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="cpl-bench-cb-")
    port = free_port()
    proc = subprocess.Popen([args.binary, "--port", str(port), "--data-dir",
                             os.path.join(work, "data"), "--log-level", "error",
                             "--max-builds", "20"])
    endpoint = "http://127.0.0.1:%d" % port
    try:
        wait_listening(port, proc)
        kw = dict(endpoint_url=endpoint, aws_access_key_id="test", aws_secret_access_key="test",
                  region_name="us-east-1",
                  config=botocore.config.Config(retries={"max_attempts": 1},
                                                max_pool_connections=4))
        cb = boto3.client("codebuild", **kw)
        cb.create_project(name="bench-true", source={"type": "NO_SOURCE", "buildspec":
                          "version: 0.2\nphases:\n  build:\n    commands:\n      - true\n"},
                          artifacts={"type": "NO_ARTIFACTS"}, environment=ENV,
                          serviceRole="arn:aws:iam::000000000000:role/cb")
        print("load average before: %s" % load())
        print("== a build of `true`, %d builds one at a time" % args.builds)
        server_ms, client_ms, per_phase = [], [], {}
        for i in range(args.builds + 3):
            t0 = time.perf_counter()
            bid = cb.start_build(projectName="bench-true")["build"]["id"]
            while True:
                b = cb.batch_get_builds(ids=[bid])["builds"][0]
                if b["buildComplete"]:
                    break
            t1 = time.perf_counter()
            if b["buildStatus"] != "SUCCEEDED":
                raise RuntimeError("build failed: %s" % b["phases"])
            if i < 3:  # warm-up
                continue
            client_ms.append((t1 - t0) * 1000)
            server_ms.append((b["endTime"].timestamp() - b["startTime"].timestamp()) * 1000)
            for p in b["phases"]:
                if "endTime" in p:
                    per_phase.setdefault(p["phaseType"], []).append(
                        (p["endTime"].timestamp() - p["startTime"].timestamp()) * 1000)
        print("server startTime..endTime: median %.1f ms, p90 %.1f ms (target median <= 50 ms)"
              % (statistics.median(server_ms), pct(server_ms, 90)))
        print("client StartBuild..complete seen: median %.1f ms, p90 %.1f ms"
              % (statistics.median(client_ms), pct(client_ms, 90)))
        print("per phase (median ms): " + ", ".join(
            "%s %.1f" % (k, statistics.median(v)) for k, v in per_phase.items()))
        print("load average: %s" % load())

        print("== GetPipeline latency, 1 keep-alive connection, %ds runs" % args.seconds)
        boto3.client("s3", **kw).create_bucket(Bucket=ARTIFACT_BUCKET)
        boto3.client("codepipeline", **kw).create_pipeline(pipeline=four_stage("bench4"))
        script = os.path.join(work, "get.lua")
        with open(script, "w") as f:
            subprocess.run([sys.executable, os.path.join(args.shared, "bench", "signed_wrk.py"),
                            endpoint, "CodePipeline_20150709.GetPipeline", '{"name":"bench4"}'],
                           stdout=f, check=True)
        idle = wrk_latency(endpoint + "/", script, args.seconds)
        print("idle:           p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, %.0f req/s" % idle)
        cb.create_project(name="bench-sleep", source={"type": "NO_SOURCE", "buildspec":
                          "version: 0.2\nphases:\n  build:\n    commands:\n      - sleep %d\n"
                          % (args.seconds + 5)},
                          artifacts={"type": "NO_ARTIFACTS"}, environment=ENV,
                          serviceRole="arn:aws:iam::000000000000:role/cb")
        ids = [cb.start_build(projectName="bench-sleep")["build"]["id"] for _ in range(20)]
        end = time.time() + 60
        while time.time() < end:  # all 20 in their BUILD phase before measuring
            if all(b["currentPhase"] == "BUILD" for b in cb.batch_get_builds(ids=ids)["builds"]):
                break
            time.sleep(0.05)
        busy = wrk_latency(endpoint + "/", script, args.seconds)
        running = sum(1 for b in cb.batch_get_builds(ids=ids)["builds"] if not b["buildComplete"])
        print("20 builds run:  p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, %.0f req/s "
              "(%d builds still running at the end; target p99 < 5 ms)" % (busy + (running,)))
        print("load average: %s" % load())
    finally:
        proc.terminate()
        proc.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
