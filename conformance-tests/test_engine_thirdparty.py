"""Engine scenarios with a partner (owner ThirdParty) action run by a job worker written with boto3:
PollForThirdPartyJobs hands out a clientId that every later call must name as clientToken,
GetThirdPartyJobDetails gives the nonce, and the result operations end the action."""
import io
import unittest
import zipfile

import boto3
import botocore.config

import engine_util as U
from harness import ServerTestCase

TYPE = {"category": "Source", "owner": "ThirdParty", "provider": "GitHub", "version": "1"}


def github_source():
    return {"name": "Source", "actionTypeId": TYPE,
            "configuration": {"Owner": "octo", "Repo": "app", "Branch": "main",
                              "OAuthToken": "secret-token", "PollForSourceChanges": "false"},
            "outputArtifacts": [{"name": "SourceArtifact"}]}


class ThirdPartyJobTest(ServerTestCase):
    def setUp(self):
        self.s3 = self.client("s3")
        self.cp = self.client("codepipeline")
        U.setup_buckets(self.s3)

    def poll(self):
        return U.wait_for(lambda: self.cp.poll_for_third_party_jobs(
            actionTypeId=TYPE, maxBatchSize=1)["jobs"], what="a third-party job")[0]

    def artifact_client(self, creds):
        return boto3.client("s3", endpoint_url=self.server.endpoint, region_name="us-east-1",
                            aws_access_key_id=creds["accessKeyId"],
                            aws_secret_access_key=creds["secretAccessKey"],
                            aws_session_token=creds["sessionToken"],
                            config=botocore.config.Config(retries={"max_attempts": 1}))

    def test_a_partner_job_worker_completes_the_action(self):
        name = "tp-ok"
        self.cp.create_pipeline(pipeline=U.pipeline(name, [
            ("Source", [github_source()]),
            ("Deploy", [U.s3_deploy(ObjectKey="tp-ok")])]))
        eid = U.first_execution(self.cp, name)
        job = self.poll()
        jid, token = job["jobId"], job["clientId"]
        self.assertTrue(token)
        # Only the ThirdParty operations see the job, and only with the client token.
        self.assertClientError(lambda: self.cp.get_job_details(jobId=jid),
                               "JobNotFoundException")
        self.assertClientError(lambda: self.cp.get_third_party_job_details(
            jobId=jid, clientToken="wrong"), "InvalidClientTokenException")
        details = self.cp.get_third_party_job_details(jobId=jid, clientToken=token)["jobDetails"]
        self.assertEqual(details["id"], jid)
        data = details["data"]
        self.assertEqual(data["actionTypeId"], TYPE)
        self.assertEqual(data["actionConfiguration"]["configuration"]["Repo"], "app")
        ctx = data["pipelineContext"]
        self.assertEqual(ctx["pipelineName"], name)
        self.assertEqual(ctx["stage"]["name"], "Source")
        self.assertNotIn("pipelineArn", ctx)
        self.assertNotIn("pipelineExecutionId", ctx)
        self.assertClientError(lambda: self.cp.acknowledge_third_party_job(
            jobId=jid, nonce="wrong", clientToken=token), "InvalidNonceException")
        self.assertClientError(lambda: self.cp.acknowledge_third_party_job(
            jobId=jid, nonce=details["nonce"], clientToken="wrong"), "InvalidClientTokenException")
        self.assertEqual(self.cp.acknowledge_third_party_job(
            jobId=jid, nonce=details["nonce"], clientToken=token)["status"], "InProgress")
        out = data["outputArtifacts"][0]["location"]["s3Location"]
        self.assertTrue(out["objectKey"].startswith("tp-ok/SourceArti/"), out)
        self.artifact_client(data["artifactCredentials"]).put_object(
            Bucket=out["bucketName"], Key=out["objectKey"], Body=U.make_zip({"f.txt": "partner"}))
        self.assertClientError(lambda: self.cp.put_third_party_job_success_result(
            jobId=jid, clientToken="wrong"), "InvalidClientTokenException")
        self.cp.put_third_party_job_success_result(
            jobId=jid, clientToken=token,
            currentRevision={"revision": "abc123", "changeIdentifier": "abc123"},
            executionDetails={"summary": "fetched", "externalExecutionId": "gh-1"})
        self.assertClientError(lambda: self.cp.put_third_party_job_success_result(
            jobId=jid, clientToken=token), "InvalidJobStateException")
        self.assertEqual(U.wait_execution(self.cp, name, eid)["status"], "Succeeded")
        self.assertEqual(self.s3.get_object(Bucket="engine-dst", Key="tp-ok/f.txt")["Body"].read(),
                         b"partner")
        src = [a for a in self.cp.list_action_executions(
            pipelineName=name, filter={"pipelineExecutionId": eid})["actionExecutionDetails"]
            if a["actionName"] == "Source"][0]
        self.assertEqual(src["output"]["executionResult"]["externalExecutionId"], "gh-1")

    def test_a_partner_job_failure_fails_the_action(self):
        name = "tp-fail"
        self.cp.create_pipeline(pipeline=U.pipeline(name, [
            ("Source", [github_source()]), ("Gate", [U.approval()])]))
        eid = U.first_execution(self.cp, name)
        job = self.poll()
        jid, token = job["jobId"], job["clientId"]
        self.assertClientError(lambda: self.cp.put_third_party_job_failure_result(
            jobId=jid, clientToken="wrong", failureDetails={"type": "JobFailed",
                                                            "message": "x"}),
            "InvalidClientTokenException")
        nonce = self.cp.get_third_party_job_details(jobId=jid, clientToken=token)[
            "jobDetails"]["nonce"]
        self.cp.acknowledge_third_party_job(jobId=jid, nonce=nonce, clientToken=token)
        self.cp.put_third_party_job_failure_result(
            jobId=jid, clientToken=token,
            failureDetails={"type": "JobFailed", "message": "partner says no"})
        self.assertEqual(U.wait_execution(self.cp, name, eid)["status"], "Failed")
        err = self.cp.get_pipeline_state(name=name)["stageStates"][0]["actionStates"][0][
            "latestExecution"]["errorDetails"]
        self.assertEqual(err["message"], "partner says no")

    def test_third_party_job_errors(self):
        self.assertClientError(lambda: self.cp.get_third_party_job_details(
            jobId="00000000-0000-0000-0000-000000000000", clientToken="t"),
            "JobNotFoundException")
        self.assertClientError(lambda: self.cp.acknowledge_third_party_job(
            jobId="00000000-0000-0000-0000-000000000000", nonce="1", clientToken="t"),
            "JobNotFoundException")
        self.assertClientError(lambda: self.cp.poll_for_third_party_jobs(actionTypeId={
            "category": "Build", "owner": "ThirdParty", "provider": "Nobody", "version": "1"}),
            "ActionTypeNotFoundException")
        self.assertClientError(lambda: self.cp.poll_for_third_party_jobs(actionTypeId={
            "category": "Build", "owner": "Custom", "provider": "Nobody", "version": "1"}),
            "ActionTypeNotFoundException")


if __name__ == "__main__":
    unittest.main()
