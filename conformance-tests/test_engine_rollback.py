"""Stage rollback and a stage's onFailure result: RollbackStage to an earlier execution's source
revision (executionType ROLLBACK), an onFailure RETRY that passes the second time, an automatic
onFailure ROLLBACK, and RollbackStage's errors with their codes and HTTP statuses."""
import os
import shutil
import tempfile
import unittest
import uuid

import engine_util as U
from harness import ServerTestCase


class RollbackTest(ServerTestCase):
    def setUp(self):
        self.s3 = self.client("s3")
        self.cp = self.client("codepipeline")
        U.setup_buckets(self.s3)
        self.key = U.test_key(self)
        self.dir = tempfile.mkdtemp(prefix="rollback-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.log = os.path.join(self.dir, "deployed")

    def put_source(self, text):
        self.s3.put_object(Bucket="engine-src", Key=self.key,
                           Body=U.make_zip({"hello.txt": text + "\n"}))

    def deployed(self):
        """The lines the Deploy stage's command wrote, one per run."""
        with open(self.log) as f:
            return f.read().splitlines()

    def create(self, name, deploy_commands, on_failure=None, pipeline_type="V2"):
        deploy = {"name": "Deploy", "actions": [U.commands(commands=deploy_commands)]}
        if on_failure:
            deploy["onFailure"] = on_failure
        d = U.pipeline(name, [("Source", [U.s3_source(key=self.key)])],
                       pipelineType=pipeline_type)
        d["stages"].append(deploy)
        self.cp.create_pipeline(pipeline=d)
        return d

    def execution(self, name, eid):
        return self.cp.get_pipeline_execution(pipelineName=name,
                                              pipelineExecutionId=eid)["pipelineExecution"]

    def summaries(self, name):
        return self.cp.list_pipeline_executions(pipelineName=name)["pipelineExecutionSummaries"]

    def next_execution(self, name, known):
        """The id of the oldest execution not in known, waiting for one to appear (an automatic
        rollback may follow it at once)."""
        def new():
            ids = [s["pipelineExecutionId"] for s in self.summaries(name)
                   if s["pipelineExecutionId"] not in known]
            return ids and ids[-1]
        return U.wait_for(new, 60, "a new execution")

    def stage(self, name, stage):
        for s in self.cp.get_pipeline_state(name=name)["stageStates"]:
            if s["stageName"] == stage:
                return s
        raise AssertionError("no stage " + stage)

    def two_runs(self, name, second_text, **create):
        """Runs revision 'one' then second_text through the pipeline; returns both ids."""
        self.put_source("one")
        self.create(name, **create)
        first = U.first_execution(self.cp, name)
        self.assertEqual(U.wait_execution(self.cp, name, first, timeout=120)["status"],
                         "Succeeded")
        self.put_source(second_text)
        second = self.next_execution(name, {first})
        return first, second

    def test_rollback_stage_deploys_the_first_revision_again(self):
        name = "rb-manual"
        first, second = self.two_runs(name, "two",
                                      deploy_commands=["cat hello.txt >> " + self.log])
        self.assertEqual(U.wait_execution(self.cp, name, second, timeout=120)["status"],
                         "Succeeded")
        self.assertEqual(self.deployed(), ["one", "two"])
        _, out, _ = self.aws("codepipeline", "rollback-stage", "--pipeline-name", name,
                             "--stage-name", "Deploy", "--target-pipeline-execution-id", first)
        rid = out["pipelineExecutionId"]
        self.assertNotIn(rid, (first, second))
        e = U.wait_execution(self.cp, name, rid, timeout=120)
        self.assertEqual(e["status"], "Succeeded")
        self.assertEqual(e["executionType"], "ROLLBACK")
        self.assertEqual(e["rollbackMetadata"], {"rollbackTargetPipelineExecutionId": first})
        self.assertEqual(e["trigger"]["triggerType"], "ManualRollback")
        self.assertEqual(e["artifactRevisions"],
                         self.execution(name, first)["artifactRevisions"])
        self.assertEqual(self.deployed(), ["one", "two", "one"])
        self.assertEqual(self.execution(name, second)["executionType"], "STANDARD")
        listed = {s["pipelineExecutionId"]: s for s in self.summaries(name)}
        self.assertEqual(listed[rid]["executionType"], "ROLLBACK")
        self.assertEqual(listed[rid]["rollbackMetadata"]["rollbackTargetPipelineExecutionId"],
                         first)
        self.assertEqual(listed[first]["executionType"], "STANDARD")
        self.assertEqual(listed[rid]["sourceRevisions"], listed[first]["sourceRevisions"])
        latest = self.stage(name, "Deploy")["latestExecution"]
        self.assertEqual(latest, {"pipelineExecutionId": rid, "status": "Succeeded",
                                  "type": "ROLLBACK"})
        # The source stage did not run in the rollback.
        acts = self.cp.list_action_executions(
            pipelineName=name, filter={"pipelineExecutionId": rid})["actionExecutionDetails"]
        self.assertEqual([a["stageName"] for a in acts], ["Deploy"])
        # The CLI shows the same.
        _, r, _ = self.aws("codepipeline", "get-pipeline-execution", "--pipeline-name", name,
                           "--pipeline-execution-id", rid)
        self.assertEqual(r["pipelineExecution"]["executionType"], "ROLLBACK")

    def test_on_failure_retry_passes_the_second_time(self):
        name = "rb-retry"
        marker = os.path.join(self.dir, "tried")
        self.put_source("one")
        # Fails the first time (leaving the marker), passes the second.
        self.create(name, ["test -f %s || { touch %s; exit 1; }" % (marker, marker)],
                    on_failure={"result": "RETRY",
                                "retryConfiguration": {"retryMode": "FAILED_ACTIONS"}})
        got = self.cp.get_pipeline(name=name)["pipeline"]["stages"][1]["onFailure"]
        self.assertEqual(got, {"result": "RETRY",
                               "retryConfiguration": {"retryMode": "FAILED_ACTIONS"}})
        eid = U.first_execution(self.cp, name)
        e = U.wait_execution(self.cp, name, eid, timeout=120)
        self.assertEqual(e["status"], "Succeeded")
        self.assertTrue(os.path.exists(marker))
        meta = self.stage(name, "Deploy")["retryStageMetadata"]
        self.assertEqual(meta, {"autoStageRetryAttempt": 1,
                                "latestRetryTrigger": "AutomatedStageRetry"})

    def test_on_failure_retry_gives_up_after_one_attempt(self):
        name = "rb-retry-fail"
        self.put_source("one")
        self.create(name, ["false"], on_failure={"result": "RETRY"})
        eid = U.first_execution(self.cp, name)
        self.assertEqual(U.wait_execution(self.cp, name, eid, timeout=120)["status"], "Failed")
        self.assertEqual(self.stage(name, "Deploy")["retryStageMetadata"]["autoStageRetryAttempt"],
                         1)
        # A manual retry afterwards is counted apart.
        self.cp.retry_stage_execution(pipelineName=name, stageName="Deploy",
                                      pipelineExecutionId=eid, retryMode="ALL_ACTIONS")
        self.assertEqual(U.wait_execution(self.cp, name, eid, timeout=120)["status"], "Failed")
        meta = self.stage(name, "Deploy")["retryStageMetadata"]
        self.assertEqual(meta, {"autoStageRetryAttempt": 1, "manualStageRetryAttempt": 1,
                                "latestRetryTrigger": "ManualStageRetry"})

    def test_on_failure_rollback_redeploys_the_last_good_revision(self):
        name = "rb-auto"
        first, second = self.two_runs(
            name, "bad two",
            deploy_commands=["cat hello.txt >> " + self.log, "grep -qv bad hello.txt"],
            on_failure={"result": "ROLLBACK"})
        self.assertEqual(U.wait_execution(self.cp, name, second, timeout=120)["status"], "Failed")
        rid = self.next_execution(name, {first, second})
        e = U.wait_execution(self.cp, name, rid, timeout=120)
        self.assertEqual(e["status"], "Succeeded")
        self.assertEqual(e["executionType"], "ROLLBACK")
        self.assertEqual(e["rollbackMetadata"]["rollbackTargetPipelineExecutionId"], first)
        self.assertEqual(e["trigger"], {"triggerType": "AutomatedRollback",
                                        "triggerDetail": second})
        self.assertEqual(self.deployed(), ["one", "bad two", "one"])
        self.assertEqual(len(self.summaries(name)), 3, "the rollback does not roll back again")
        # The failed execution is no rollback target.
        self.assertClientError(lambda: self.cp.rollback_stage(
            pipelineName=name, stageName="Deploy", targetPipelineExecutionId=second),
            "UnableToRollbackStageException", 400)
        # Nor is a rollback execution.
        self.assertClientError(lambda: self.cp.rollback_stage(
            pipelineName=name, stageName="Deploy", targetPipelineExecutionId=rid),
            "UnableToRollbackStageException", 400)

    def test_rollback_stage_errors(self):
        name = "rb-errors"
        self.put_source("one")
        d = self.create(name, ["true"])
        first = U.first_execution(self.cp, name)
        self.assertEqual(U.wait_execution(self.cp, name, first, timeout=120)["status"],
                         "Succeeded")

        def rollback(**kw):
            args = {"pipelineName": name, "stageName": "Deploy",
                    "targetPipelineExecutionId": first}
            args.update(kw)
            return lambda: self.cp.rollback_stage(**args)
        self.assertClientError(rollback(pipelineName="rb-none"), "PipelineNotFoundException", 400)
        self.assertClientError(rollback(stageName="Nope"), "StageNotFoundException", 400)
        self.assertClientError(rollback(targetPipelineExecutionId=str(uuid.uuid4())),
                               "PipelineExecutionNotFoundException", 400)
        self.assertClientError(rollback(stageName="Source"), "UnableToRollbackStageException", 400)
        self.assertClientError(rollback(targetPipelineExecutionId="not-an-id"),
                               "ValidationException", 400)
        # A stage in progress cannot be rolled back.
        d["stages"][1]["actions"] = [U.approval()]
        self.cp.update_pipeline(pipeline=d)
        held = self.cp.start_pipeline_execution(name=name)["pipelineExecutionId"]
        U.approval_token(self.cp, name, "Deploy", "Approve", held, timeout=60)
        # first ran the pipeline's first version: outdated now.
        self.assertClientError(rollback(), "PipelineExecutionOutdatedException", 400)
        self.cp.put_approval_result(
            pipelineName=name, stageName="Deploy", actionName="Approve",
            token=U.approval_token(self.cp, name, "Deploy", "Approve", held),
            result={"summary": "ok", "status": "Approved"})
        self.assertEqual(U.wait_execution(self.cp, name, held, timeout=60)["status"], "Succeeded")
        again = self.cp.start_pipeline_execution(name=name)["pipelineExecutionId"]
        U.approval_token(self.cp, name, "Deploy", "Approve", again, timeout=60)
        self.assertClientError(rollback(targetPipelineExecutionId=held),
                               "UnableToRollbackStageException", 400)
        self.cp.stop_pipeline_execution(pipelineName=name, pipelineExecutionId=again,
                                        abandon=True)
        U.wait_execution(self.cp, name, again, timeout=60)
        rid = self.cp.rollback_stage(pipelineName=name, stageName="Deploy",
                                     targetPipelineExecutionId=held)["pipelineExecutionId"]
        self.assertEqual(self.execution(name, rid)["executionType"], "ROLLBACK")
        self.cp.stop_pipeline_execution(pipelineName=name, pipelineExecutionId=rid, abandon=True)

    def test_rollback_stage_needs_a_v2_pipeline(self):
        name = "rb-v1"
        self.put_source("one")
        self.create(name, ["true"], pipeline_type="V1")
        first = U.first_execution(self.cp, name)
        self.assertEqual(U.wait_execution(self.cp, name, first, timeout=120)["status"],
                         "Succeeded")
        self.assertClientError(lambda: self.cp.rollback_stage(
            pipelineName=name, stageName="Deploy", targetPipelineExecutionId=first),
            "UnableToRollbackStageException", 400)


if __name__ == "__main__":
    unittest.main()
