"""Engine scenarios with a custom action run by a job worker written with boto3: polling,
acknowledging with the nonce, reading the input with artifactCredentials, continuation tokens,
output variables, failure, and AWS's errors; artifactCredentials are temporary credentials of
the pipeline's role that expire."""
import io
import os
import time
import unittest
import zipfile

import boto3
import botocore.config
from botocore.exceptions import ClientError

import engine_util as U
from harness import ServerTestCase

TYPE = {"category": "Build", "owner": "Custom", "provider": "EngineWorker", "version": "1"}


def custom_action(name="Work", inp="SourceArtifact", out="WorkOut", namespace=None, mode="fast"):
    a = {"name": name, "actionTypeId": TYPE, "configuration": {"Mode": mode},
         "inputArtifacts": [{"name": inp}], "outputArtifacts": [{"name": out}]}
    if namespace:
        a["namespace"] = namespace
    return a


class JobCase(ServerTestCase):
    # When set, every credential the server issues expires this many seconds after issue (the
    # server's test knob CPL_STS_TEST_EXPIRY_SECONDS).
    expiry = None

    @classmethod
    def setUpClass(cls):
        if cls.expiry:
            os.environ["CPL_STS_TEST_EXPIRY_SECONDS"] = str(cls.expiry)
        try:
            super().setUpClass()
        finally:
            os.environ.pop("CPL_STS_TEST_EXPIRY_SECONDS", None)
        cp = boto3.client("codepipeline", endpoint_url=cls.server.endpoint,
                          aws_access_key_id="test", aws_secret_access_key="test",
                          region_name="us-east-1")
        cp.create_custom_action_type(
            category="Build", provider="EngineWorker", version="1",
            configurationProperties=[{"name": "Mode", "required": True, "key": True,
                                      "secret": False, "queryable": True}],
            inputArtifactDetails={"minimumCount": 0, "maximumCount": 1},
            outputArtifactDetails={"minimumCount": 0, "maximumCount": 1},
            settings={"entityUrlTemplate": "http://example/{Config:Mode}"})

    def setUp(self):
        self.s3 = self.client("s3")
        self.cp = self.client("codepipeline")
        U.setup_buckets(self.s3)
        # One source object per test: a put starts every pipeline watching its key.
        self.key = self.id().rsplit(".", 1)[-1] + ".zip"
        self.s3.put_object(Bucket="engine-src", Key=self.key,
                           Body=U.make_zip({"input.txt": "data"}))

    def poll(self, mode="fast"):
        return U.wait_for(lambda: self.cp.poll_for_jobs(actionTypeId=TYPE, maxBatchSize=1,
                                                        queryParam={"Mode": mode})["jobs"],
                          what="a job")[0]

    def artifact_client(self, creds):
        return boto3.client("s3", endpoint_url=self.server.endpoint, region_name="us-east-1",
                            aws_access_key_id=creds["accessKeyId"],
                            aws_secret_access_key=creds["secretAccessKey"],
                            aws_session_token=creds["sessionToken"],
                            config=botocore.config.Config(retries={"max_attempts": 1}))

    def sts_client(self, creds):
        return boto3.client("sts", endpoint_url=self.server.endpoint, region_name="us-east-1",
                            aws_access_key_id=creds["accessKeyId"],
                            aws_secret_access_key=creds["secretAccessKey"],
                            aws_session_token=creds["sessionToken"])


class JobWorkerTest(JobCase):
    def test_a_job_worker_completes_the_action_with_a_continuation(self):
        name = "jobs-ok"
        self.cp.create_pipeline(pipeline=U.pipeline(name, [
            ("Source", [U.s3_source(key=self.key)]), ("Work", [custom_action(namespace="WorkVars")]),
            ("Gate", [U.approval(CustomData="#{WorkVars.Result}")])]))
        eid = U.first_execution(self.cp, name)
        job = self.poll()
        data = job["data"]
        self.assertEqual(data["pipelineContext"]["pipelineName"], name)
        self.assertEqual(data["pipelineContext"]["stage"]["name"], "Work")
        self.assertEqual(data["actionConfiguration"]["configuration"], {"Mode": "fast"})
        self.assertClientError(lambda: self.cp.acknowledge_job(jobId=job["id"], nonce="wrong"),
                               "InvalidNonceException")
        self.assertEqual(self.cp.acknowledge_job(jobId=job["id"], nonce=job["nonce"])["status"],
                         "InProgress")
        creds = data["artifactCredentials"]
        self.assertRegex(creds["accessKeyId"], r"^ASIA[A-Z2-7]{16}$")
        self.assertEqual(len(creds["secretAccessKey"]), 40)
        self.assertNotEqual(creds["accessKeyId"], "test")
        # the pipeline's role, in a session named after the job
        self.assertEqual(self.sts_client(creds).get_caller_identity()["Arn"],
                         "arn:aws:sts::000000000000:assumed-role/pipeline/" + job["id"])
        s3 = self.artifact_client(creds)
        loc = data["inputArtifacts"][0]["location"]["s3Location"]
        z = zipfile.ZipFile(io.BytesIO(s3.get_object(Bucket=loc["bucketName"],
                                                      Key=loc["objectKey"])["Body"].read()))
        self.assertEqual(z.read("input.txt"), b"data")
        self.cp.put_job_success_result(jobId=job["id"], continuationToken="step-2",
                                       executionDetails={"summary": "half way",
                                                         "externalExecutionId": "w-1",
                                                         "percentComplete": 50})
        state = self.cp.get_pipeline_state(name=name)["stageStates"][1]["actionStates"][0]
        self.assertEqual(state["latestExecution"]["status"], "InProgress")
        self.assertEqual(state["latestExecution"]["percentComplete"], 50)
        self.assertEqual(state["entityUrl"], "http://example/fast")
        job2 = self.poll()
        self.assertNotEqual(job2["id"], job["id"])
        self.assertEqual(job2["data"].get("continuationToken"), "step-2", job2)
        self.cp.acknowledge_job(jobId=job2["id"], nonce=job2["nonce"])
        out = job2["data"]["outputArtifacts"][0]["location"]["s3Location"]
        self.assertTrue(out["objectKey"].startswith("jobs-ok/WorkOut/"))
        s3.put_object(Bucket=out["bucketName"], Key=out["objectKey"], Body=U.make_zip({"o": "1"}))
        self.cp.put_job_success_result(jobId=job2["id"], outputVariables={"Result": "done"},
                                       executionDetails={"summary": "finished",
                                                         "externalExecutionId": "w-2"})
        self.assertClientError(lambda: self.cp.put_job_success_result(jobId=job2["id"]),
                               "InvalidJobStateException")
        U.approval_token(self.cp, name, "Gate", "Approve", eid)
        acts = {a["actionName"]: a for a in self.cp.list_action_executions(
            pipelineName=name, filter={"pipelineExecutionId": eid})["actionExecutionDetails"]}
        work = acts["Work"]
        self.assertEqual(work["status"], "Succeeded")
        self.assertEqual(work["output"]["outputVariables"], {"Result": "done"})
        self.assertEqual(work["output"]["executionResult"]["externalExecutionId"], "w-2")
        self.assertEqual(work["output"]["outputArtifacts"][0]["s3location"]["key"],
                         out["objectKey"])
        self.assertEqual(acts["Approve"]["input"]["resolvedConfiguration"]["CustomData"], "done")

    def test_a_job_failure_fails_the_action(self):
        name = "jobs-fail"
        self.cp.create_pipeline(pipeline=U.pipeline(name, [
            ("Source", [U.s3_source(key=self.key)]), ("Work", [custom_action()])]))
        eid = U.first_execution(self.cp, name)
        job = self.poll()
        self.cp.acknowledge_job(jobId=job["id"], nonce=job["nonce"])
        details = self.cp.get_job_details(jobId=job["id"])["jobDetails"]
        self.assertEqual(details["id"], job["id"])
        self.cp.put_job_failure_result(jobId=job["id"], failureDetails={
            "type": "JobFailed", "message": "worker says no"})
        e = U.wait_execution(self.cp, name, eid)
        self.assertEqual(e["status"], "Failed")
        err = self.cp.get_pipeline_state(name=name)["stageStates"][1]["actionStates"][0][
            "latestExecution"]["errorDetails"]
        self.assertEqual(err["message"], "worker says no")

    def abandoned_run(self, name, mode):
        self.cp.create_pipeline(pipeline=U.pipeline(name, [
            ("Source", [U.s3_source(key=self.key)]), ("Work", [custom_action(mode=mode)])]))
        eid = U.first_execution(self.cp, name)
        job = self.poll(mode)
        self.assertEqual(self.cp.acknowledge_job(jobId=job["id"], nonce=job["nonce"])["status"],
                         "InProgress")
        return eid, job

    def abandon(self, name, eid):
        self.cp.stop_pipeline_execution(pipelineName=name, pipelineExecutionId=eid, abandon=True)
        self.assertEqual(U.wait_execution(self.cp, name, eid)["status"], "Stopped")
        work = [a for a in self.cp.list_action_executions(pipelineName=name)
                ["actionExecutionDetails"] if a["actionName"] == "Work"][0]
        self.assertEqual(work["status"], "Abandoned")

    def test_the_job_of_an_abandoned_action_takes_no_result(self):
        name = "jobs-abandon-result"
        eid, job = self.abandoned_run(name, "abandon-result")
        self.abandon(name, eid)
        self.assertClientError(lambda: self.cp.put_job_success_result(jobId=job["id"]),
                               "InvalidJobStateException")
        self.assertClientError(lambda: self.cp.put_job_failure_result(
            jobId=job["id"], failureDetails={"type": "JobFailed", "message": "late"}),
            "InvalidJobStateException")
        self.assertEqual(U.wait_execution(self.cp, name, eid)["status"], "Stopped")

    def test_a_queued_job_of_an_abandoned_action_is_never_handed_out(self):
        name = "jobs-abandon-poll"
        eid, job = self.abandoned_run(name, "abandon-poll")
        # A continuation queues the action's next job, which no worker has taken yet.
        self.cp.put_job_success_result(jobId=job["id"], continuationToken="next")
        self.abandon(name, eid)
        self.assertEqual(self.cp.poll_for_jobs(actionTypeId=TYPE, maxBatchSize=5,
                                               queryParam={"Mode": "abandon-poll"})["jobs"], [])

    def test_job_errors(self):
        self.assertClientError(lambda: self.cp.get_job_details(
            jobId="00000000-0000-0000-0000-000000000000"), "JobNotFoundException")
        self.assertClientError(lambda: self.cp.acknowledge_job(
            jobId="00000000-0000-0000-0000-000000000000", nonce="1"), "JobNotFoundException")
        self.assertClientError(lambda: self.cp.poll_for_jobs(actionTypeId={
            "category": "Build", "owner": "Custom", "provider": "Nobody", "version": "1"}),
            "ActionTypeNotFoundException")


class JobCredentialsExpire(JobCase):
    expiry = 15

    def test_artifact_credentials_expire_and_job_details_hand_out_fresh_ones(self):
        name = "jobs-expiry"
        action = custom_action()
        action["roleArn"] = "arn:aws:iam::000000000000:role/worker-role"
        self.cp.create_pipeline(pipeline=U.pipeline(name, [
            ("Source", [U.s3_source(key=self.key)]), ("Work", [action])]))
        eid = U.first_execution(self.cp, name)
        job = self.poll()
        self.cp.acknowledge_job(jobId=job["id"], nonce=job["nonce"])
        creds = job["data"]["artifactCredentials"]
        # the action's own role wins over the pipeline's
        self.assertEqual(self.sts_client(creds).get_caller_identity()["Arn"],
                         "arn:aws:sts::000000000000:assumed-role/worker-role/" + job["id"])
        s3 = self.artifact_client(creds)
        loc = job["data"]["inputArtifacts"][0]["location"]["s3Location"]
        get = lambda c: c.get_object(Bucket=loc["bucketName"], Key=loc["objectKey"])
        self.assertTrue(get(s3)["Body"].read().startswith(b"PK"))
        # without the session token the key is not accepted
        bare = boto3.client("s3", endpoint_url=self.server.endpoint, region_name="us-east-1",
                            aws_access_key_id=creds["accessKeyId"],
                            aws_secret_access_key=creds["secretAccessKey"],
                            config=botocore.config.Config(retries={"max_attempts": 1}))
        self.assertClientError(lambda: get(bare), "InvalidToken", 400)
        deadline = time.time() + self.expiry + 60
        while time.time() < deadline:
            try:
                get(s3)
            except ClientError:
                break
            time.sleep(0.5)
        self.assertClientError(lambda: get(s3), "ExpiredToken", 400)
        # GetJobDetails renews them, as a long-running worker on AWS would ask
        fresh = self.cp.get_job_details(jobId=job["id"])["jobDetails"]["data"][
            "artifactCredentials"]
        self.assertNotEqual(fresh["accessKeyId"], creds["accessKeyId"])
        out = job["data"]["outputArtifacts"][0]["location"]["s3Location"]
        self.artifact_client(fresh).put_object(Bucket=out["bucketName"], Key=out["objectKey"],
                                               Body=U.make_zip({"o": "1"}))
        self.cp.put_job_success_result(jobId=job["id"])
        self.assertEqual(U.wait_execution(self.cp, name, eid)["status"], "Succeeded")


if __name__ == "__main__":
    unittest.main()
