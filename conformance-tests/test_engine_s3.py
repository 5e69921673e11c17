"""Engine scenarios with S3: a versioned S3 source deployed to a bucket, artifacts under AWS's key
layout, change detection on a new object version, and the execution read operations."""
import io
import re
import time
import unittest
import zipfile

import engine_util as U
from harness import ServerTestCase


class S3PipelineTest(ServerTestCase):
    def setUp(self):
        self.s3 = self.client("s3")
        self.cp = self.client("codepipeline")
        U.setup_buckets(self.s3)
        self.key = U.test_key(self)
        self.s3.put_object(Bucket="engine-src", Key=self.key,
                           Body=U.make_zip({"index.html": "<h1>hi</h1>", "css/site.css": "x{}"}))

    def test_s3_source_to_s3_deploy_with_extract(self):
        name = "s3-extract"
        self.cp.create_pipeline(pipeline=U.pipeline(name, [
            ("Source", [U.s3_source(key=self.key, namespace="SourceVariables")]),
            ("Deploy", [U.s3_deploy(bucket="engine-dst", ObjectKey="site",
                                    CacheControl="max-age=60", CannedACL="public-read")])]))
        eid = U.first_execution(self.cp, name)
        e = U.wait_execution(self.cp, name, eid)
        self.assertEqual(e["status"], "Succeeded")
        self.assertEqual(e["trigger"]["triggerType"], "CreatePipeline")
        self.assertEqual(e["executionMode"], "SUPERSEDED")
        body = self.s3.get_object(Bucket="engine-dst", Key="site/index.html")["Body"].read()
        self.assertEqual(body, b"<h1>hi</h1>")
        self.assertEqual(self.s3.get_object(Bucket="engine-dst", Key="site/css/site.css")
                         ["Body"].read(), b"x{}")
        head = self.s3.head_object(Bucket="engine-src", Key=self.key)
        rev = e["artifactRevisions"][0]
        self.assertEqual(rev["name"], "SourceArtifact")
        self.assertEqual(rev["revisionId"], head["VersionId"])
        # The artifact zip sits under <pipeline cut to 20>/<artifact cut to 10>/<7 chars>.
        keys = [o["Key"] for o in self.s3.list_objects_v2(Bucket=U.ARTIFACT_BUCKET)["Contents"]]
        self.assertTrue(any(re.fullmatch(r"s3-extract/SourceArti/[A-Za-z0-9]{7}", k) for k in keys),
                        keys)
        acts = self.cp.list_action_executions(
            pipelineName=name, filter={"pipelineExecutionId": eid})["actionExecutionDetails"]
        self.assertEqual([a["actionName"] for a in acts], ["Deploy", "Source"])
        src = acts[1]
        self.assertEqual(src["output"]["outputVariables"]["VersionId"], head["VersionId"])
        self.assertEqual(src["output"]["outputVariables"]["ETag"], head["ETag"].strip('"'))
        self.assertEqual(src["input"]["namespace"], "SourceVariables")
        loc = src["output"]["outputArtifacts"][0]["s3location"]
        self.assertEqual(loc["bucket"], U.ARTIFACT_BUCKET)
        self.assertEqual(acts[0]["input"]["inputArtifacts"][0]["s3location"], loc)
        self.assertEqual(acts[0]["input"]["resolvedConfiguration"]["CannedACL"], "public-read")
        state = self.cp.get_pipeline_state(name=name)
        self.assertEqual([s["latestExecution"]["status"] for s in state["stageStates"]],
                         ["Succeeded", "Succeeded"])
        self.assertEqual(state["stageStates"][0]["actionStates"][0]["currentRevision"]["revisionId"],
                         head["VersionId"])
        summ = self.cp.list_pipeline_executions(pipelineName=name)["pipelineExecutionSummaries"]
        self.assertEqual(summ[0]["sourceRevisions"][0]["actionName"], "Source")
        self.assertEqual(summ[0]["sourceRevisions"][0]["revisionId"], head["VersionId"])

    def test_an_action_in_another_region_uses_that_regions_artifact_store(self):
        name = "s3-cross"
        west = self.client("s3", region="eu-west-1")
        try:
            west.create_bucket(Bucket="engine-eu-artifacts",
                               CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        except west.exceptions.BucketAlreadyOwnedByYou:
            pass
        run = U.commands(commands=["echo x > x.txt"], out="EuOut")
        run["region"] = "eu-west-1"
        d = U.pipeline(name, [("Source", [U.s3_source(key=self.key)]), ("Build", [run])])
        del d["artifactStore"]
        d["artifactStores"] = {"us-east-1": {"type": "S3", "location": U.ARTIFACT_BUCKET},
                               "eu-west-1": {"type": "S3", "location": "engine-eu-artifacts"}}
        self.cp.create_pipeline(pipeline=d)
        eid = U.first_execution(self.cp, name)
        self.assertEqual(U.wait_execution(self.cp, name, eid)["status"], "Succeeded")
        acts = {a["actionName"]: a for a in self.cp.list_action_executions(
            pipelineName=name, filter={"pipelineExecutionId": eid})["actionExecutionDetails"]}
        self.assertEqual(acts["Run"]["input"]["region"], "eu-west-1")
        self.assertEqual(acts["Run"]["output"]["outputArtifacts"][0]["s3location"]["bucket"],
                         "engine-eu-artifacts")
        self.assertEqual(acts["Source"]["output"]["outputArtifacts"][0]["s3location"]["bucket"],
                         U.ARTIFACT_BUCKET)

    def test_extract_false_writes_the_artifact_as_one_object(self):
        name = "s3-noextract"
        self.cp.create_pipeline(pipeline=U.pipeline(name, [
            ("Source", [U.s3_source(key=self.key)]),
            ("Deploy", [U.s3_deploy(extract="false", ObjectKey="bundle.zip")])]))
        e = U.wait_execution(self.cp, name, U.first_execution(self.cp, name))
        self.assertEqual(e["status"], "Succeeded")
        data = self.s3.get_object(Bucket="engine-dst", Key="bundle.zip")["Body"].read()
        self.assertEqual(zipfile.ZipFile(io.BytesIO(data)).read("index.html"), b"<h1>hi</h1>")

    def test_a_missing_source_object_fails_the_stage_and_the_execution(self):
        name = "s3-missing"
        self.cp.create_pipeline(pipeline=U.pipeline(name, [
            ("Source", [U.s3_source(key="nothing-here.zip")]),
            ("Deploy", [U.s3_deploy()])]))
        e = U.wait_execution(self.cp, name, U.first_execution(self.cp, name))
        self.assertEqual(e["status"], "Failed")
        state = self.cp.get_pipeline_state(name=name)
        src = state["stageStates"][0]
        self.assertEqual(src["latestExecution"]["status"], "Failed")
        err = src["actionStates"][0]["latestExecution"]["errorDetails"]
        self.assertIn("nothing-here.zip", err["message"])
        self.assertNotIn("latestExecution", state["stageStates"][1])

    def test_a_new_object_version_starts_the_pipeline(self):
        name = "s3-trigger"
        self.s3.put_object(Bucket="engine-src", Key="trig.zip", Body=U.make_zip({"v": "1"}))
        self.cp.create_pipeline(pipeline=U.pipeline(name, [
            ("Source", [U.s3_source(key="trig.zip", poll="false")]),
            ("Deploy", [U.s3_deploy(ObjectKey="trig")])]))
        U.wait_execution(self.cp, name, U.first_execution(self.cp, name))
        put = self.s3.put_object(Bucket="engine-src", Key="trig.zip", Body=U.make_zip({"v": "2"}))
        summ = U.wait_for(lambda: [s for s in self.cp.list_pipeline_executions(pipelineName=name)
                                   ["pipelineExecutionSummaries"]
                                   if s["trigger"]["triggerType"] == "CloudWatchEvent"],
                          what="an execution started by the new version")
        self.assertTrue(summ[0]["trigger"]["triggerDetail"].startswith("arn:aws:events:"))
        e = U.wait_execution(self.cp, name, summ[0]["pipelineExecutionId"])
        self.assertEqual(e["artifactRevisions"][0]["revisionId"], put["VersionId"])
        self.assertEqual(self.s3.get_object(Bucket="engine-dst", Key="trig/v")["Body"].read(), b"2")

    def test_start_is_idempotent_with_a_client_request_token(self):
        name = "s3-token"
        self.cp.create_pipeline(pipeline=U.pipeline(name, [
            ("Source", [U.s3_source(key=self.key)]), ("Deploy", [U.s3_deploy(ObjectKey="tok")])]))
        a = self.cp.start_pipeline_execution(name=name, clientRequestToken="tok-1")
        b = self.cp.start_pipeline_execution(name=name, clientRequestToken="tok-1")
        self.assertEqual(a["pipelineExecutionId"], b["pipelineExecutionId"])
        c = self.cp.start_pipeline_execution(name=name, clientRequestToken="tok-2")
        self.assertNotEqual(a["pipelineExecutionId"], c["pipelineExecutionId"])
        e = U.wait_execution(self.cp, name, c["pipelineExecutionId"])
        self.assertEqual(e["trigger"]["triggerType"], "StartPipelineExecution")

    def test_list_executions_paginates_newest_first(self):
        name = "s3-list"
        self.cp.create_pipeline(pipeline=U.pipeline(name, [
            ("Source", [U.s3_source(key=self.key)]), ("Deploy", [U.s3_deploy(ObjectKey="list")])]))
        ids = [U.first_execution(self.cp, name)]
        U.wait_execution(self.cp, name, ids[0])
        for _ in range(3):
            ids.append(self.cp.start_pipeline_execution(name=name)["pipelineExecutionId"])
            U.wait_execution(self.cp, name, ids[-1])
        p = self.cp.get_paginator("list_pipeline_executions")
        got = [s["pipelineExecutionId"] for page in p.paginate(
            pipelineName=name, PaginationConfig={"PageSize": 3}) for s in page["pipelineExecutionSummaries"]]
        self.assertEqual(got, list(reversed(ids)))
        got = [a["actionExecutionId"] for page in self.cp.get_paginator("list_action_executions")
               .paginate(pipelineName=name, PaginationConfig={"PageSize": 3})
               for a in page["actionExecutionDetails"]]
        self.assertEqual(len(got), 8)
        self.assertEqual(len(set(got)), 8)
        only = self.cp.list_pipeline_executions(
            pipelineName=name, filter={"succeededInStage": {"stageName": "Deploy"}})
        self.assertEqual(len(only["pipelineExecutionSummaries"]), 4)

    def test_errors_of_the_execution_operations(self):
        self.assertClientError(lambda: self.cp.start_pipeline_execution(name="nope"),
                               "PipelineNotFoundException")
        self.assertClientError(lambda: self.cp.get_pipeline_state(name="nope"),
                               "PipelineNotFoundException")
        self.assertClientError(lambda: self.cp.list_pipeline_executions(pipelineName="nope"),
                               "PipelineNotFoundException")
        name = "s3-errs"
        self.cp.create_pipeline(pipeline=U.pipeline(name, [
            ("Source", [U.s3_source(key=self.key)]), ("Deploy", [U.s3_deploy(ObjectKey="errs")])]))
        self.assertClientError(lambda: self.cp.get_pipeline_execution(
            pipelineName=name, pipelineExecutionId="00000000-0000-0000-0000-000000000000"),
            "PipelineExecutionNotFoundException")
        self.assertClientError(lambda: self.cp.list_pipeline_executions(
            pipelineName=name, nextToken="garbage"), "InvalidNextTokenException")

    def test_cli_shows_the_execution(self):
        name = "s3-cli"
        self.cp.create_pipeline(pipeline=U.pipeline(name, [
            ("Source", [U.s3_source(key=self.key)]), ("Deploy", [U.s3_deploy(ObjectKey="cli")])]))
        eid = U.first_execution(self.cp, name)
        U.wait_execution(self.cp, name, eid)
        _, out, _ = self.aws("codepipeline", "get-pipeline-execution", "--pipeline-name", name,
                             "--pipeline-execution-id", eid)
        self.assertEqual(out["pipelineExecution"]["status"], "Succeeded")
        _, out, _ = self.aws("codepipeline", "get-pipeline-state", "--name", name)
        self.assertEqual(out["stageStates"][1]["actionStates"][0]["latestExecution"]["status"],
                         "Succeeded")


if __name__ == "__main__":
    unittest.main()
