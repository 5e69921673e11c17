"""Engine timeouts waited out with the test knobs CPL_APPROVAL_TIMEOUT_SECONDS and
CPL_JOB_TIMEOUT_SECONDS (README, "Test knobs"): an approval nobody answers expires and fails its
action, and a job-worker job that is never finished, or never even polled, times out and fails its
action, each with AWS's errors for a late answer."""
import os
import unittest

import boto3

import engine_util as U
from harness import ServerTestCase

TYPE = {"category": "Test", "owner": "Custom", "provider": "SlowWorker", "version": "1"}
APPROVAL_SECONDS = 4
JOB_SECONDS = 8  # room for a loaded machine to poll and acknowledge before it runs out


def custom_action(name="Work"):
    return {"name": name, "actionTypeId": TYPE, "configuration": {"Mode": "slow"},
            "inputArtifacts": [{"name": "SourceArtifact"}]}


class TimeoutTest(ServerTestCase):
    @staticmethod
    def with_knobs(start):
        os.environ["CPL_APPROVAL_TIMEOUT_SECONDS"] = str(APPROVAL_SECONDS)
        os.environ["CPL_JOB_TIMEOUT_SECONDS"] = str(JOB_SECONDS)
        os.environ["CPL_PIPELINE_SECONDS_PER_MINUTE"] = "1"
        try:
            start()
        finally:
            del os.environ["CPL_APPROVAL_TIMEOUT_SECONDS"]
            del os.environ["CPL_JOB_TIMEOUT_SECONDS"]
            del os.environ["CPL_PIPELINE_SECONDS_PER_MINUTE"]

    @classmethod
    def setUpClass(cls):
        cls.with_knobs(super().setUpClass)
        cp = boto3.client("codepipeline", endpoint_url=cls.server.endpoint,
                          aws_access_key_id="test", aws_secret_access_key="test",
                          region_name="us-east-1")
        cp.create_custom_action_type(
            category="Test", provider="SlowWorker", version="1",
            configurationProperties=[{"name": "Mode", "required": True, "key": True,
                                      "secret": False, "queryable": True}],
            inputArtifactDetails={"minimumCount": 0, "maximumCount": 1},
            outputArtifactDetails={"minimumCount": 0, "maximumCount": 0})

    def setUp(self):
        self.s3 = self.client("s3")
        self.cp = self.client("codepipeline")
        U.setup_buckets(self.s3)
        self.key = U.test_key(self)
        self.s3.put_object(Bucket="engine-src", Key=self.key, Body=U.make_zip({"f": "1"}))

    def action(self, name, eid, action):
        acts = self.cp.list_action_executions(
            pipelineName=name, filter={"pipelineExecutionId": eid})["actionExecutionDetails"]
        found = [a for a in acts if a["actionName"] == action]
        return found[0] if found else {}

    def test_an_unanswered_approval_expires_and_fails_its_action(self):
        name = "to-approval"
        self.cp.create_pipeline(pipeline=U.pipeline(name, [
            ("Source", [U.s3_source(key=self.key)]), ("Gate", [U.approval()])]))
        eid = U.first_execution(self.cp, name)
        token = U.approval_token(self.cp, name, "Gate", "Approve", eid)
        e = U.wait_execution(self.cp, name, eid, timeout=APPROVAL_SECONDS + 60)
        self.assertEqual(e["status"], "Failed")
        act = self.action(name, eid, "Approve")
        self.assertEqual(act["status"], "Failed")
        err = act["output"]["executionResult"]["errorDetails"]
        self.assertEqual(err["code"], "JobFailed")
        self.assertEqual(err["message"], "The approval request expired: no answer within 7 days")
        gate = self.cp.get_pipeline_state(name=name)["stageStates"][1]["actionStates"][0]
        self.assertEqual(gate["latestExecution"]["status"], "Failed")
        self.assertNotIn("token", gate["latestExecution"])
        self.assertClientError(lambda: self.cp.put_approval_result(
            pipelineName=name, stageName="Gate", actionName="Approve",
            result={"summary": "too late", "status": "Approved"}, token=token),
            "ApprovalAlreadyCompletedException")

    def test_an_approval_expires_after_its_own_timeout_in_minutes(self):
        name = "to-approval-minutes"
        gate = dict(U.approval(), timeoutInMinutes=5)  # 5 s with the knob, not the 4 s default
        self.cp.create_pipeline(pipeline=U.pipeline(name, [
            ("Source", [U.s3_source(key=self.key)]), ("Gate", [gate])]))
        eid = U.first_execution(self.cp, name)
        e = U.wait_execution(self.cp, name, eid, timeout=60)
        self.assertEqual(e["status"], "Failed")
        err = self.action(name, eid, "Approve")["output"]["executionResult"]["errorDetails"]
        self.assertEqual(err["message"], "The approval request expired: no answer within 5 minutes")

    def run_custom(self, name):
        self.cp.create_pipeline(pipeline=U.pipeline(name, [
            ("Source", [U.s3_source(key=self.key)]), ("Work", [custom_action()])]))
        return U.first_execution(self.cp, name)

    def assert_timed_out(self, name, eid):
        e = U.wait_execution(self.cp, name, eid, timeout=JOB_SECONDS + 60)
        self.assertEqual(e["status"], "Failed")
        act = self.action(name, eid, "Work")
        self.assertEqual(act["status"], "Failed")
        err = act["output"]["executionResult"]["errorDetails"]
        self.assertEqual(err["code"], "JobFailed")
        self.assertRegex(err["message"], r"^The job [0-9a-f-]{36} was not completed by a job "
                                         r"worker within %d seconds$" % JOB_SECONDS)

    def test_a_job_polled_and_never_finished_times_out(self):
        name = "to-job-polled"
        eid = self.run_custom(name)
        job = U.wait_for(lambda: self.cp.poll_for_jobs(actionTypeId=TYPE, maxBatchSize=1,
                                                       queryParam={"Mode": "slow"})["jobs"],
                         what="a job")[0]
        self.assertEqual(self.cp.acknowledge_job(jobId=job["id"], nonce=job["nonce"])["status"],
                         "InProgress")
        self.assert_timed_out(name, eid)
        # The worker's late answers are refused.
        self.assertClientError(lambda: self.cp.put_job_success_result(jobId=job["id"]),
                               "InvalidJobStateException")
        self.assertClientError(lambda: self.cp.put_job_failure_result(
            jobId=job["id"], failureDetails={"type": "JobFailed", "message": "late"}),
            "InvalidJobStateException")
        self.assertEqual(self.cp.acknowledge_job(jobId=job["id"], nonce=job["nonce"])["status"],
                         "TimedOut")

    def test_a_job_never_polled_times_out(self):
        name = "to-job-idle"
        eid = self.run_custom(name)
        U.wait_for(lambda: self.action(name, eid, "Work").get("status") == "InProgress",
                   what="the custom action started")
        self.assert_timed_out(name, eid)
        self.assertEqual(self.cp.poll_for_jobs(actionTypeId=TYPE, maxBatchSize=5,
                                               queryParam={"Mode": "slow"})["jobs"], [])

    def test_a_job_in_progress_at_kill_9_still_times_out_after_the_restart(self):
        name = "to-job-kill"
        eid = self.run_custom(name)
        job = U.wait_for(lambda: self.cp.poll_for_jobs(actionTypeId=TYPE, maxBatchSize=1,
                                                       queryParam={"Mode": "slow"})["jobs"],
                         what="a job")[0]
        self.cp.acknowledge_job(jobId=job["id"], nonce=job["nonce"])
        self.server.kill9()
        self.with_knobs(self.server.start)
        self.cp = self.client("codepipeline")
        self.assert_timed_out(name, eid)
        self.assertClientError(lambda: self.cp.put_job_success_result(jobId=job["id"]),
                               "InvalidJobStateException")


if __name__ == "__main__":
    unittest.main()
