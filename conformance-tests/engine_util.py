"""Helpers for the execution engine scenarios: buckets, zips, pipelines that really run, polling."""
import io
import time
import zipfile

ARTIFACT_BUCKET = "engine-artifacts"
ROLE = "arn:aws:iam::000000000000:role/pipeline"


def make_zip(files):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    return buf.getvalue()


def s3_source(name="Source", bucket="engine-src", key="app.zip", out="SourceArtifact",
              namespace=None, poll=None):
    cfg = {"S3Bucket": bucket, "S3ObjectKey": key}
    if poll is not None:
        cfg["PollForSourceChanges"] = poll
    a = {"name": name, "actionTypeId": {"category": "Source", "owner": "AWS", "provider": "S3",
                                        "version": "1"},
         "configuration": cfg, "outputArtifacts": [{"name": out}]}
    if namespace:
        a["namespace"] = namespace
    return a


def approval(name="Approve", run_order=1, **cfg):
    a = {"name": name, "actionTypeId": {"category": "Approval", "owner": "AWS",
                                        "provider": "Manual", "version": "1"},
         "runOrder": run_order}
    if cfg:
        a["configuration"] = cfg
    return a


def s3_deploy(name="Deploy", bucket="engine-dst", inp="SourceArtifact", extract="true", **cfg):
    c = {"BucketName": bucket, "Extract": extract}
    c.update(cfg)
    return {"name": name, "actionTypeId": {"category": "Deploy", "owner": "AWS", "provider": "S3",
                                           "version": "1"},
            "configuration": c, "inputArtifacts": [{"name": inp}]}


def commands(name="Run", commands=("true",), inp="SourceArtifact", out=None, out_vars=None,
             namespace=None):
    a = {"name": name, "actionTypeId": {"category": "Compute", "owner": "AWS",
                                        "provider": "Commands", "version": "1"},
         "commands": list(commands), "inputArtifacts": [{"name": inp}]}
    if out:
        a["outputArtifacts"] = [{"name": out, "files": ["**/*"]}]
    if out_vars:
        a["outputVariables"] = list(out_vars)
    if namespace:
        a["namespace"] = namespace
    return a


def pipeline(name, stages, **extra):
    d = {"name": name, "roleArn": ROLE,
         "artifactStore": {"type": "S3", "location": ARTIFACT_BUCKET},
         "stages": [{"name": s, "actions": a} for s, a in stages]}
    d.update(extra)
    return d


def setup_buckets(s3, src="engine-src", dst="engine-dst"):
    for b in (ARTIFACT_BUCKET, src, dst):
        try:
            s3.create_bucket(Bucket=b)
        except s3.exceptions.BucketAlreadyOwnedByYou:
            pass
    s3.put_bucket_versioning(Bucket=src, VersioningConfiguration={"Status": "Enabled"})


def wait_execution(cp, name, exec_id, statuses=("Succeeded", "Failed", "Stopped", "Superseded"),
                   timeout=60):
    deadline = time.time() + timeout
    while True:
        e = cp.get_pipeline_execution(pipelineName=name, pipelineExecutionId=exec_id)
        st = e["pipelineExecution"]["status"]
        if st in statuses:
            return e["pipelineExecution"]
        if time.time() > deadline:
            raise AssertionError("execution %s still %s" % (exec_id, st))
        time.sleep(0.05)


def wait_for(fn, timeout=60, what="condition"):
    deadline = time.time() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.time() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.05)


def first_execution(cp, name, timeout=30):
    return wait_for(lambda: cp.list_pipeline_executions(pipelineName=name)
                    ["pipelineExecutionSummaries"], timeout, "an execution")[-1]["pipelineExecutionId"]


def approval_token(cp, name, stage, action, exec_id=None, timeout=30):
    def tok():
        for s in cp.get_pipeline_state(name=name)["stageStates"]:
            if s["stageName"] != stage:
                continue
            if exec_id and s.get("latestExecution", {}).get("pipelineExecutionId") != exec_id:
                return None
            for a in s["actionStates"]:
                if a["actionName"] == action:
                    return a.get("latestExecution", {}).get("token")
        return None
    return wait_for(tok, timeout, "approval token of %s/%s" % (stage, action))


def test_key(test):
    """A source object key of the test's own: a put starts every pipeline that watches its key,
    so tests sharing one key would start each other's pipelines."""
    return test.id().rsplit(".", 1)[-1] + ".zip"
