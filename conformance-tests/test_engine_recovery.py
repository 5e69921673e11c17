"""Engine durability: after kill -9 and a restart, waiting approvals carry on with their token,
job-worker jobs carry on with their worker, queued executions resume, and an action whose process
died with the server fails with a message that says so (nothing stays InProgress)."""
import os
import unittest

import engine_util as U
from harness import ServerTestCase


class RecoveryTest(ServerTestCase):
    def clients(self):
        self.s3 = self.client("s3")
        self.cp = self.client("codepipeline")

    def setUp(self):
        self.clients()
        U.setup_buckets(self.s3)
        self.key = U.test_key(self)
        self.s3.put_object(Bucket="engine-src", Key=self.key, Body=U.make_zip({"f": "1"}))

    def restart_hard(self):
        self.server.kill9()
        self.server.start()
        self.clients()

    def test_approvals_and_queued_executions_survive_kill_9(self):
        name = "rec-appr"
        self.cp.create_pipeline(pipeline=U.pipeline(name, [
            ("Source", [U.s3_source(key=self.key)]),
            ("Gate", [U.approval()]),
            ("Deploy", [U.s3_deploy(ObjectKey="rec")])], pipelineType="V2",
            executionMode="QUEUED"))
        first = U.first_execution(self.cp, name)
        t1 = U.approval_token(self.cp, name, "Gate", "Approve", first)
        second = self.cp.start_pipeline_execution(name=name)["pipelineExecutionId"]
        U.wait_for(lambda: self.cp.get_pipeline_state(name=name)["stageStates"][1]
                   .get("inboundExecutions"), what="the second execution queued")
        self.restart_hard()
        self.cp.put_approval_result(pipelineName=name, stageName="Gate", actionName="Approve",
                                    result={"summary": "after restart", "status": "Approved"},
                                    token=t1)
        self.assertEqual(U.wait_execution(self.cp, name, first)["status"], "Succeeded")
        t2 = U.approval_token(self.cp, name, "Gate", "Approve", second)
        self.cp.put_approval_result(pipelineName=name, stageName="Gate", actionName="Approve",
                                    result={"summary": "ok", "status": "Approved"}, token=t2)
        self.assertEqual(U.wait_execution(self.cp, name, second)["status"], "Succeeded")
        self.assertEqual(self.s3.get_object(Bucket="engine-dst", Key="rec/f")["Body"].read(), b"1")

    def custom_type(self, provider):
        self.cp.create_custom_action_type(
            category="Deploy", provider=provider, version="1",
            configurationProperties=[{"name": "Mode", "required": True, "key": True,
                                      "secret": False, "queryable": True}],
            inputArtifactDetails={"minimumCount": 0, "maximumCount": 1},
            outputArtifactDetails={"minimumCount": 0, "maximumCount": 0})
        return {"category": "Deploy", "owner": "Custom", "provider": provider, "version": "1"}

    def test_a_job_worker_finishes_its_job_across_kill_9(self):
        name = "rec-job"
        tid = self.custom_type("RecoveryWorker")
        self.cp.create_pipeline(pipeline=U.pipeline(name, [
            ("Source", [U.s3_source(key=self.key)]),
            ("Work", [{"name": "Work", "actionTypeId": tid, "configuration": {"Mode": "a"},
                       "inputArtifacts": [{"name": "SourceArtifact"}]}]),
            ("Again", [{"name": "Again", "actionTypeId": tid, "configuration": {"Mode": "b"},
                        "inputArtifacts": [{"name": "SourceArtifact"}]}])]))
        eid = U.first_execution(self.cp, name)

        def poll(mode):
            return U.wait_for(lambda: self.cp.poll_for_jobs(
                actionTypeId=tid, maxBatchSize=1, queryParam={"Mode": mode})["jobs"],
                what="a job")[0]
        job = poll("a")
        self.assertEqual(self.cp.acknowledge_job(jobId=job["id"], nonce=job["nonce"])["status"],
                         "InProgress")
        self.restart_hard()
        # The acknowledged job is still the worker's: same data, same nonce, still in progress.
        details = self.cp.get_job_details(jobId=job["id"])["jobDetails"]
        self.assertEqual(details["data"]["pipelineContext"]["pipelineName"], name)
        self.assertEqual(self.cp.acknowledge_job(jobId=job["id"], nonce=job["nonce"])["status"],
                         "InProgress")
        self.assertEqual(self.cp.poll_for_jobs(actionTypeId=tid, maxBatchSize=5,
                                               queryParam={"Mode": "a"})["jobs"], [])
        self.cp.put_job_success_result(jobId=job["id"],
                                       executionDetails={"summary": "after restart"})
        # The next action's job is queued; a restart before any worker polls it keeps it so.
        U.wait_for(lambda: [a for a in self.cp.list_action_executions(pipelineName=name)
                            ["actionExecutionDetails"] if a["actionName"] == "Again"],
                   what="the second custom action")
        self.restart_hard()
        job2 = poll("b")
        self.cp.acknowledge_job(jobId=job2["id"], nonce=job2["nonce"])
        self.cp.put_job_success_result(jobId=job2["id"])
        self.assertEqual(U.wait_execution(self.cp, name, eid)["status"], "Succeeded")
        work = [a for a in self.cp.list_action_executions(pipelineName=name)
                ["actionExecutionDetails"] if a["actionName"] == "Work"][0]
        self.assertEqual(work["output"]["executionResult"]["externalExecutionSummary"],
                         "after restart")

    def test_a_command_interrupted_by_kill_9_fails_with_a_clear_message(self):
        name = "rec-cmd"
        # The marker says the command really runs (an action queued but not yet taken by a worker
        # is not interrupted: it simply runs after the restart).
        marker = os.path.join(self.server.data_dir, "rec-cmd-started")
        self.cp.create_pipeline(pipeline=U.pipeline(name, [
            ("Source", [U.s3_source(key=self.key)]),
            ("Build", [U.commands(commands=["touch %s" % marker, "sleep 5"])])]))
        eid = U.first_execution(self.cp, name)
        U.wait_for(lambda: os.path.exists(marker), what="the command running")
        self.restart_hard()
        e = U.wait_execution(self.cp, name, eid)
        self.assertEqual(e["status"], "Failed")
        run = [a for a in self.cp.list_action_executions(pipelineName=name)
               ["actionExecutionDetails"] if a["actionName"] == "Run"][0]
        self.assertIn("interrupted by a restart of codepipeline-local",
                      run["output"]["executionResult"]["errorDetails"]["message"])
        # The stage lock is free: a new run goes through.
        again = self.cp.start_pipeline_execution(name=name)["pipelineExecutionId"]
        self.assertIn(U.wait_execution(self.cp, name, again)["status"], ("Succeeded",))


if __name__ == "__main__":
    unittest.main()
