"""Engine benchmarks (figures to report, not gates):
  latency: a 4-stage pipeline (S3 source, Commands `true`, an approval answered at once, Commands
           `true`) from StartPipelineExecution to Succeeded;
  load:    N pipelines started at once all complete while GetPipelineState is sampled (p50/p99).
Usage: python3 bench_engine.py [--binary build/codepipeline-local] [--runs 10] [--load 100]"""
import argparse
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import engine_util as U  # noqa: E402
import harness  # noqa: E402


def clients(srv):
    import boto3
    import botocore.config
    cfg = botocore.config.Config(retries={"max_attempts": 1}, max_pool_connections=50)
    mk = lambda s: boto3.client(s, endpoint_url=srv.endpoint, aws_access_key_id="test",
                                aws_secret_access_key="test", region_name="us-east-1", config=cfg)
    return mk("s3"), mk("codepipeline")


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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=harness.BINARY)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--load", type=int, default=100)
    a = ap.parse_args()
    harness.BINARY = a.binary
    srv = harness.Server()
    srv.start()
    try:
        s3, cp = clients(srv)
        U.setup_buckets(s3)
        s3.put_object(Bucket="engine-src", Key="app.zip", Body=U.make_zip({"f": "1"}))
        cp.create_pipeline(pipeline=four_stage("bench"))
        time.sleep(1)
        # The first run (CreatePipeline) waits at the approval: supersede it out of the way.
        lat = sorted(run_once(cp, "bench") for _ in range(a.runs))
        print("4-stage latency: min %.3f s, median %.3f s, max %.3f s" %
              (lat[0], lat[len(lat) // 2], lat[-1]))
        if a.load:
            names = ["load-%03d" % i for i in range(a.load)]
            for n in names:
                cp.create_pipeline(pipeline=U.pipeline(n, [
                    ("Source", [U.s3_source()]),
                    ("Build", [U.commands(name="Build", commands=["true"])])]))
            samples, done = [], threading.Event()

            def sample():
                while not done.is_set():
                    t = time.time()
                    cp.get_pipeline_state(name=names[len(samples) % len(names)])
                    samples.append(time.time() - t)
            th = threading.Thread(target=sample)
            t0 = time.time()
            th.start()
            pending = set(names)
            while pending:
                for n in list(pending):
                    s = cp.list_pipeline_executions(pipelineName=n)["pipelineExecutionSummaries"]
                    if s and all(x["status"] != "InProgress" for x in s):
                        pending.discard(n)
                time.sleep(0.05)
            done.set()
            th.join()
            samples.sort()
            print("%d pipelines complete in %.2f s; GetPipelineState p50 %.2f ms, p99 %.2f ms "
                  "(%d samples, client-side)" % (a.load, time.time() - t0,
                                                 1000 * samples[len(samples) // 2],
                                                 1000 * samples[int(len(samples) * 0.99)],
                                                 len(samples)))
    finally:
        srv.cleanup()


if __name__ == "__main__":
    main()
