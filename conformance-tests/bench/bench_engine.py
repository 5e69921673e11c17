"""Engine benchmarks (figures to report, not gates):
  latency, --scenario real (the default): the 4-stage pipeline of issue 12, S3 source -> CodeBuild
           (a buildspec of `true`) -> a manual approval answered at once -> CodeDeploy (an appspec
           with one trivial hook), from StartPipelineExecution to Succeeded. Besides the wall time
           it prints the emulator's own share: the execution's startTime..lastUpdateTime (server
           clock) minus the time inside the user's processes (the build phases that run commands,
           the lifecycle events that run a hook script, from the build's and the deployment's own
           records) and minus the time the approval waited for its answer (approval start to the
           client's PutApprovalResult; same machine, same clock). Target: at most 100 ms. Also the
           server's own CPU time per run (/proc, all threads; it includes answering the client's
           polls, counted) and its children's, which depend less on the machine's load.
  latency, --scenario commands: the same shape with Commands actions (`true`) for build and deploy.
  load:    N pipelines (S3 source, Commands `true`), their first runs over, started at once from
           16 client threads; all complete while GetPipelineState is sampled (p50/p99, client
           side: the client's own threads share one interpreter, so p99 is an upper bound).
Usage: python3 bench_engine.py [--binary build/codepipeline-local] [--runs 10] [--load 100]
       [--scenario real|commands] [--sync-off]"""
import argparse
import concurrent.futures
import io
import multiprocessing
import os
import re
import statistics
import sys
import threading
import time
import zipfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import engine_util as U  # noqa: E402
import harness  # noqa: E402


def client(srv, service):
    import boto3
    import botocore.config
    cfg = botocore.config.Config(retries={"max_attempts": 1}, max_pool_connections=50)
    return boto3.client(service, endpoint_url=srv.endpoint, aws_access_key_id="test",
                        aws_secret_access_key="test", region_name="us-east-1", config=cfg)


def clients(srv):
    return client(srv, "s3"), client(srv, "codepipeline")


BUILDSPEC = """version: 0.2
phases:
  build:
    commands:
      - true
artifacts:
  files:
    - '**/*'
"""
APPSPEC = """version: 0.0
os: linux
files:
  - source: web
    destination: /opt/app
hooks:
  ApplicationStart:
    - location: scripts/start.sh
"""
HOOKED_EVENTS = ("ApplicationStart",)  # the lifecycle events whose time is the user's script
COMMAND_PHASES = ("INSTALL", "PRE_BUILD", "BUILD", "POST_BUILD")  # phases that run commands


def source_zip():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("buildspec.yml", BUILDSPEC)
        z.writestr("appspec.yml", APPSPEC)
        info = zipfile.ZipInfo("scripts/start.sh")
        info.external_attr = 0o100755 << 16
        z.writestr(info, "#!/bin/sh\nexit 0\n")
        z.writestr("web/index.html", "<p>bench</p>")
    return buf.getvalue()


def real_pipeline(name):
    build = {"name": "Build", "actionTypeId": {"category": "Build", "owner": "AWS",
                                               "provider": "CodeBuild", "version": "1"},
             "configuration": {"ProjectName": "bench-build"},
             "inputArtifacts": [{"name": "SourceArtifact"}],
             "outputArtifacts": [{"name": "BuildArtifact"}]}
    deploy = {"name": "Deploy", "actionTypeId": {"category": "Deploy", "owner": "AWS",
                                                 "provider": "CodeDeploy", "version": "1"},
              "configuration": {"ApplicationName": "bench-app",
                                "DeploymentGroupName": "bench-group"},
              "inputArtifacts": [{"name": "BuildArtifact"}]}
    return U.pipeline(name, [
        ("Source", [U.s3_source(key="real.zip", poll="false")]),
        ("Build", [build]),
        ("Approve", [U.approval()]),
        ("Deploy", [deploy])])


def setup_real(srv, s3):
    cb, cd = client(srv, "codebuild"), client(srv, "codedeploy")
    s3.put_object(Bucket="engine-src", Key="real.zip", Body=source_zip())
    cb.create_project(name="bench-build", source={"type": "CODEPIPELINE"},
                      artifacts={"type": "CODEPIPELINE"},
                      environment={"type": "LINUX_CONTAINER",
                                   "image": "aws/codebuild/standard:7.0",
                                   "computeType": "BUILD_GENERAL1_SMALL"},
                      serviceRole="arn:aws:iam::000000000000:role/cb")
    cd.create_application(applicationName="bench-app")
    cd.create_deployment_group(
        applicationName="bench-app", deploymentGroupName="bench-group",
        serviceRoleArn="arn:aws:iam::000000000000:role/cd",
        ec2TagFilters=[{"Key": "Name", "Value": "bench", "Type": "KEY_AND_VALUE"}])
    return cb, cd


POLLS = [0]  # requests the client sent while polling (the server's CPU time includes them)


def cpu(pid):
    """The server's own CPU seconds (all threads) and its waited-for children's, from /proc."""
    with open("/proc/%d/stat" % pid) as f:
        v = f.read().rsplit(")", 1)[1].split()
    hz = os.sysconf("SC_CLK_TCK")
    return (int(v[11]) + int(v[12])) / hz, (int(v[13]) + int(v[14])) / hz


def drive(cp, name, eid, timeout=120):
    """Answers the execution's approval as soon as its token shows; returns the client time of
    the PutApprovalResult (None if there was none) and the client time the end was seen."""
    put_at, deadline = None, time.time() + timeout
    while True:
        POLLS[0] += 1 if put_at else 2
        st = cp.get_pipeline_execution(pipelineName=name, pipelineExecutionId=eid)[
            "pipelineExecution"]["status"]
        if st != "InProgress":
            if st != "Succeeded":
                raise RuntimeError("execution %s ended %s" % (eid, st))
            return put_at, time.time()
        if time.time() > deadline:
            where = [(a["stageName"], a["actionName"], a["status"],
                      a.get("output", {}).get("executionResult", {}).get("externalExecutionId"))
                     for a in cp.list_action_executions(pipelineName=name, filter={
                         "pipelineExecutionId": eid})["actionExecutionDetails"]]
            raise RuntimeError("execution %s still running: %s" % (eid, where))
        if put_at is None:
            stage = {s["stageName"]: s for s in cp.get_pipeline_state(name=name)["stageStates"]}[
                "Approve"]
            le = stage["actionStates"][0].get("latestExecution", {})
            if (stage.get("latestExecution", {}).get("pipelineExecutionId") == eid
                    and le.get("status") == "InProgress" and le.get("token")):
                put_at = time.time()
                cp.put_approval_result(pipelineName=name, stageName="Approve",
                                       actionName="Approve", token=le["token"],
                                       result={"summary": "ok", "status": "Approved"})
                continue
        time.sleep(0.002)


def secs(t):
    return t.timestamp() if hasattr(t, "timestamp") else t


def run_real(cp, cb, cd, name, pid):
    """One timed run; returns a dict of seconds: wall (client), server, user, approval, own,
    and the parts of own, and the CPU time of the server and of its children."""
    cpu0, polls0 = cpu(pid), POLLS[0]
    t0 = time.time()
    eid = cp.start_pipeline_execution(name=name)["pipelineExecutionId"]
    put_at, seen = drive(cp, name, eid)
    cpu1 = cpu(pid)
    summ = next(x for x in cp.list_pipeline_executions(pipelineName=name)[
        "pipelineExecutionSummaries"] if x["pipelineExecutionId"] == eid)
    acts = {a["actionName"]: a for a in cp.list_action_executions(
        pipelineName=name, filter={"pipelineExecutionId": eid})["actionExecutionDetails"]}
    build = cb.batch_get_builds(
        ids=[acts["Build"]["output"]["executionResult"]["externalExecutionId"]])["builds"][0]
    did = acts["Deploy"]["output"]["executionResult"]["externalExecutionId"]
    (tid,) = cd.list_deployment_targets(deploymentId=did)["targetIds"]
    events = cd.get_deployment_target(deploymentId=did, targetId=tid)["deploymentTarget"][
        "instanceTarget"]["lifecycleEvents"]
    build_user = sum(secs(p["endTime"]) - secs(p["startTime"]) for p in build["phases"]
                     if p["phaseType"] in COMMAND_PHASES and "endTime" in p)
    hook_user = sum(secs(e["endTime"]) - secs(e["startTime"]) for e in events
                    if e["lifecycleEventName"] in HOOKED_EVENTS)
    server = secs(summ["lastUpdateTime"]) - secs(summ["startTime"])
    approval = put_at - secs(acts["Approve"]["startTime"])
    r = {"wall": seen - t0, "server": server, "build cmds": build_user, "hook": hook_user,
         "approval wait": approval}
    r["own"] = server - build_user - hook_user - approval
    # Where the own share goes: each action less its user time, and the rest (transitions).
    for a, user in (("Source", 0), ("Build", build_user), ("Deploy", hook_user)):
        r["own: %s action" % a] = secs(acts[a]["lastUpdateTime"]) - secs(acts[a]["startTime"]) \
            - user
    # Of the Build and Deploy actions' own time, what the build and the deployment records
    # themselves span (the rest is the engine: artifacts in and out, polling their completion).
    r["  of Build: the build"] = secs(build["endTime"]) - secs(build["startTime"]) - build_user
    info = cd.get_deployment(deploymentId=did)["deploymentInfo"]
    r["  of Deploy: deployment"] = secs(info["completeTime"]) - secs(info["createTime"]) \
        - hook_user
    r["own: approval answer"] = secs(acts["Approve"]["lastUpdateTime"]) - put_at
    r["own: outside actions"] = r["own"] - sum(v for k, v in r.items() if k.startswith("own: "))
    r["server CPU"] = cpu1[0] - cpu0[0]
    r["children CPU"] = cpu1[1] - cpu0[1]
    r["client polls"] = (POLLS[0] - polls0) / 1000.0  # printed x1000: a count, not ms
    return r


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


def report_real(runs):
    print("== issue 12 pipeline: S3 -> CodeBuild `true` -> approval answered at once -> "
          "CodeDeploy (one trivial hook), %d runs; load average %s" % (len(runs), load()))
    for k in runs[0]:
        v = [r[k] * 1000 for r in runs]
        if k.endswith("CPU"):  # clock ticks: the mean over the runs says more than a median
            print("   %-24s mean   %7.1f ms per run (/proc ticks of %.0f ms)"
                  % (k, statistics.mean(v), 1000.0 / os.sysconf("SC_CLK_TCK")))
            continue
        unit = "  " if k == "client polls" else "ms"
        print("   %-24s median %7.1f %s  p90 %7.1f %s  min %7.1f %s  max %7.1f %s"
              % (k, statistics.median(v), unit, pct(v, 90), unit, min(v), unit, max(v), unit))
    own = statistics.median(r["own"] for r in runs) * 1000
    wall = statistics.median(r["wall"] for r in runs)
    print("   targets: wall within 1 s -> %s; own share at most 100 ms -> %s"
          % ("met" if wall <= 1 else "NOT met", "met" if own <= 100 else "NOT met"))


def load():
    return "%.2f %.2f %.2f" % os.getloadavg()


def four_stage(name):
    return U.pipeline(name, [
        ("Source", [U.s3_source()]),
        ("Build", [U.commands(name="Build", commands=["true"])]),
        ("Approve", [U.approval()]),
        ("Deploy", [U.commands(name="Deploy", commands=["true"])])])


def run_once(cp, name):
    """Starts a run and answers every approval token seen until the run ends."""
    t0 = time.time()
    eid = cp.start_pipeline_execution(name=name)["pipelineExecutionId"]
    answered = set()
    while cp.get_pipeline_execution(pipelineName=name, pipelineExecutionId=eid)[
            "pipelineExecution"]["status"] == "InProgress":
        le = cp.get_pipeline_state(name=name)["stageStates"][2]["actionStates"][0].get(
            "latestExecution", {})
        tok = le.get("token")
        if tok and tok not in answered and le.get("status") == "InProgress":
            answered.add(tok)
            cp.put_approval_result(pipelineName=name, stageName="Approve", actionName="Approve",
                                   result={"summary": "ok", "status": "Approved"}, token=tok)
        time.sleep(0.002)
    return time.time() - t0


def sample_state(endpoint, names, done, out):
    """Calls GetPipelineState round the names until done; puts the latencies (s) on out."""
    import boto3
    cp = boto3.client("codepipeline", endpoint_url=endpoint, region_name="us-east-1",
                      aws_access_key_id="test", aws_secret_access_key="test")
    samples = []
    while not done.is_set():
        t = time.perf_counter()
        cp.get_pipeline_state(name=names[len(samples) % len(names)])
        samples.append(time.perf_counter() - t)
    out.put(samples)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=harness.BINARY)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--load", type=int, default=100)
    ap.add_argument("--scenario", choices=("real", "commands"), default="real")
    ap.add_argument("--sync-off", action="store_true", help="run the server with --sync off")
    ap.add_argument("--server-side", action="store_true",
                    help="log every request (--log-level info) and report the server's own "
                         "GetPipelineState times during the load, beside the client's")
    a = ap.parse_args()
    harness.BINARY = a.binary
    level = "info" if a.server_side else "error"
    srv = harness.Server(extra_args=["--log-level", level] + (["--sync", "off"] if a.sync_off
                                                              else []))
    srv.start()
    try:
        s3, cp = clients(srv)
        U.setup_buckets(s3)
        if a.scenario == "real":
            cb, cd = setup_real(srv, s3)
            cp.create_pipeline(pipeline=real_pipeline("bench"))
            # CreatePipeline's own first run, driven to its end untimed (it also warms up).
            drive(cp, "bench", U.first_execution(cp, "bench"))
            report_real([run_real(cp, cb, cd, "bench", srv.proc.pid) for _ in range(a.runs)])
        else:
            s3.put_object(Bucket="engine-src", Key="app.zip", Body=U.make_zip({"f": "1"}))
            cp.create_pipeline(pipeline=four_stage("bench"))
            time.sleep(1)
            # The first run (CreatePipeline) waits at the approval: supersede it out of the way.
            lat = sorted(run_once(cp, "bench") for _ in range(a.runs))
            print("4-stage latency (Commands actions): min %.3f s, median %.3f s, max %.3f s; "
                  "load average %s" % (lat[0], lat[len(lat) // 2], lat[-1], load()))
        if a.load:
            names = ["load-%03d" % i for i in range(a.load)]
            s3.put_object(Bucket="engine-src", Key="app.zip", Body=U.make_zip({"f": "1"}))
            for n in names:
                cp.create_pipeline(pipeline=U.pipeline(n, [
                    ("Source", [U.s3_source(poll="false")]),
                    ("Build", [U.commands(name="Build", commands=["true"])])]))
            # The first runs (CreatePipeline's) end before the timed start of all at once.
            for n in names:
                U.wait_execution(cp, n, U.first_execution(cp, n), timeout=300)
            # The sampler is a process of its own: in a thread here it would wait for the GIL
            # behind the 16 starting threads, and measure that wait.
            ctx = multiprocessing.get_context("spawn")
            done, out = ctx.Event(), ctx.Queue()
            th = ctx.Process(target=sample_state, args=(srv.endpoint, names, done, out))
            th.start()
            log_from = os.path.getsize(srv.log_path)
            t0 = time.time()
            with concurrent.futures.ThreadPoolExecutor(16) as ex:
                eids = list(ex.map(lambda n: cp.start_pipeline_execution(name=n)[
                    "pipelineExecutionId"], names))
            started = time.time() - t0
            ends = [U.wait_execution(cp, n, e, timeout=300)["status"]
                    for n, e in zip(names, eids)]
            total = time.time() - t0
            done.set()
            samples = sorted(out.get(timeout=60))
            th.join()
            print("== %d pipelines (S3 source, Commands `true`) started at once (16 client "
                  "threads, all started in %.2f s): all ended in %.2f s, %d Succeeded"
                  % (a.load, started, total, ends.count("Succeeded")))
            print("   GetPipelineState meanwhile: p50 %.2f ms, p99 %.2f ms (%d samples, "
                  "client-side, target p99 <= 5 ms); load average %s"
                  % (1000 * samples[len(samples) // 2], 1000 * samples[int(len(samples) * 0.99)],
                     len(samples), load()))
            if a.server_side:
                with open(srv.log_path, "rb") as f:
                    f.seek(log_from)
                    ms = sorted(float(m.group(1)) for m in re.finditer(
                        rb"codepipeline\.GetPipelineState 200 ([0-9.]+)ms", f.read()))
                if ms:
                    print("   GetPipelineState server-side: p50 %.2f ms, p99 %.2f ms (%d requests)"
                          % (ms[len(ms) // 2], ms[int(len(ms) * 0.99)], len(ms)))
    finally:
        srv.cleanup()


if __name__ == "__main__":
    main()
