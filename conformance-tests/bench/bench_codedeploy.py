#!/usr/bin/env python3
"""CodeDeploy benchmark: the emulator's own overhead for a deployment of a 1 MiB bundle to one
instance with one trivial hook (target: at most 50 ms).

Per deployment, overhead = (completeTime - createTime) - the hook's own runtime (the endTime minus
the startTime of the ApplicationStart lifecycle event, which holds only the script). Prints the
median and p90 over --deployments runs, with the load average, since a loaded machine shows.

usage: bench_codedeploy.py [--binary build/codepipeline-local] [--shared ../shared]
       [--deployments 30] [--sync-off]
Needs boto3."""
import argparse
import io
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile

import boto3
import botocore.config

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))

APPSPEC = ("version: 0.0\nos: linux\nfiles:\n  - source: web\n    destination: /opt/app\n"
           "hooks:\n  ApplicationStart:\n    - location: start.sh\n")


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


def bundle():
    """A zip of about 1 MiB (incompressible bytes, stored) with the appspec and one hook."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr("appspec.yml", APPSPEC)
        info = zipfile.ZipInfo("start.sh")
        info.external_attr = 0o100755 << 16
        z.writestr(info, "#!/bin/sh\nexit 0\n")
        for i in range(16):
            z.writestr("web/part-%02d.bin" % i, os.urandom(64 * 1024))
    return buf.getvalue()


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.path.join(ROOT, "build", "codepipeline-local"))
    ap.add_argument("--shared", default=os.path.join(ROOT, "..", "shared"))  # as the others take
    ap.add_argument("--deployments", type=int, default=30)
    ap.add_argument("--sync-off", action="store_true", help="run the server with --sync off")
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="cpl-bench-cd-")
    port = free_port()
    cmd = [args.binary, "--port", str(port), "--data-dir", os.path.join(work, "data"),
           "--log-level", "error"]
    if args.sync_off:
        cmd += ["--sync", "off"]
    proc = subprocess.Popen(cmd)
    try:
        wait_listening(port, proc)
        kw = dict(endpoint_url="http://127.0.0.1:%d" % port, region_name="us-east-1",
                  aws_access_key_id="test", aws_secret_access_key="test",
                  config=botocore.config.Config(retries={"max_attempts": 1}))
        s3, cd = boto3.client("s3", **kw), boto3.client("codedeploy", **kw)
        s3.create_bucket(Bucket="bench")
        body = bundle()
        s3.put_object(Bucket="bench", Key="b.zip", Body=body)
        cd.create_application(applicationName="bench")
        cd.create_deployment_group(
            applicationName="bench", deploymentGroupName="one",
            serviceRoleArn="arn:aws:iam::123456789012:role/CodeDeployDemoRole",
            ec2TagFilters=[{"Key": "Name", "Value": "one", "Type": "KEY_AND_VALUE"}])
        total, hook, over, parts = [], [], [], {}
        for i in range(args.deployments + 1):
            did = cd.create_deployment(
                applicationName="bench", deploymentGroupName="one",
                fileExistsBehavior="OVERWRITE",
                revision={"revisionType": "S3", "s3Location": {"bucket": "bench", "key": "b.zip",
                                                               "bundleType": "zip"}})["deploymentId"]
            end = time.time() + 60
            while True:
                info = cd.get_deployment(deploymentId=did)["deploymentInfo"]
                if info["status"] in ("Succeeded", "Failed", "Stopped"):
                    break
                if time.time() > end:
                    raise RuntimeError("deployment %s did not end" % did)
                time.sleep(0.005)
            if info["status"] != "Succeeded":
                raise RuntimeError("deployment %s: %s" % (did, info.get("errorInformation")))
            (tid,) = cd.list_deployment_targets(deploymentId=did)["targetIds"]
            t = cd.get_deployment_target(deploymentId=did, targetId=tid)
            events = t["deploymentTarget"]["instanceTarget"]["lifecycleEvents"]
            ev = {e["lifecycleEventName"]: e for e in events}["ApplicationStart"]
            d = (info["completeTime"] - info["createTime"]).total_seconds() * 1000
            h = (ev["endTime"] - ev["startTime"]).total_seconds() * 1000
            if i == 0:
                continue  # the first one creates the instance root
            total.append(d)
            hook.append(h)
            over.append(d - h)
            # where the rest goes: queue pickup, each event, the end
            ms = lambda a, b: (b - a).total_seconds() * 1000  # noqa: E731
            steps = [("pickup", ms(info["createTime"], info["startTime"])),
                     ("to first event", ms(info["startTime"], events[0]["startTime"]))]
            steps += [(e["lifecycleEventName"], ms(e["startTime"], e["endTime"])) for e in events]
            steps.append(("finish", ms(events[-1]["endTime"], info["completeTime"])))
            for name, v in steps:
                parts.setdefault(name, []).append(v)
        load = os.getloadavg()
        print("== CodeDeploy: %d deployments of a %.2f MiB bundle to one instance, one hook"
              % (len(over), len(body) / 1048576.0))
        print("   load average %.2f %.2f %.2f on %d cores" % (load + (os.cpu_count(),)))
        for name, v in (("create->complete", total), ("hook runtime", hook), ("overhead", over)):
            print("   %-17s median %6.1f ms  p90 %6.1f ms" % (name, statistics.median(v),
                                                              pct(v, 90)))
        print("   breakdown (median ms): " + ", ".join(
            "%s %.1f" % (k, statistics.median(v)) for k, v in parts.items()))
        print("   target: overhead at most 50 ms -> %s"
              % ("met" if statistics.median(over) <= 50 else "NOT met"))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
