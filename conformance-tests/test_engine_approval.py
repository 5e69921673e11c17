"""Engine scenarios with manual approvals: approve, reject, AWS's errors, and the three execution
modes (SUPERSEDED, QUEUED, PARALLEL) with executions held at an approval."""
import unittest

import engine_util as U
from harness import ServerTestCase


class ApprovalTest(ServerTestCase):
    def setUp(self):
        self.s3 = self.client("s3")
        self.cp = self.client("codepipeline")
        U.setup_buckets(self.s3)
        self.key = U.test_key(self)
        self.s3.put_object(Bucket="engine-src", Key=self.key, Body=U.make_zip({"f": "1"}))

    def gated(self, name, **extra):
        self.cp.create_pipeline(pipeline=U.pipeline(name, [
            ("Source", [U.s3_source(key=self.key)]),
            ("Gate", [U.approval(CustomData="Please look", ExternalEntityLink="http://x/y")]),
            ("Deploy", [U.s3_deploy(ObjectKey=name)])], **extra))

    def answer(self, name, token, status, summary="ok"):
        return self.cp.put_approval_result(pipelineName=name, stageName="Gate",
                                           actionName="Approve",
                                           result={"summary": summary, "status": status},
                                           token=token)

    def test_approve_lets_the_execution_finish(self):
        self.gated("appr-ok")
        eid = U.first_execution(self.cp, "appr-ok")
        token = U.approval_token(self.cp, "appr-ok", "Gate", "Approve")
        st = self.cp.get_pipeline_state(name="appr-ok")["stageStates"][1]
        self.assertEqual(st["latestExecution"]["status"], "InProgress")
        self.assertEqual(st["actionStates"][0]["latestExecution"]["status"], "InProgress")
        self.assertEqual(self.cp.get_pipeline_execution(pipelineName="appr-ok",
                                                        pipelineExecutionId=eid)
                         ["pipelineExecution"]["status"], "InProgress")
        out = self.answer("appr-ok", token, "Approved", "looks good")
        self.assertIn("approvedAt", out)
        e = U.wait_execution(self.cp, "appr-ok", eid)
        self.assertEqual(e["status"], "Succeeded")
        gate = self.cp.get_pipeline_state(name="appr-ok")["stageStates"][1]["actionStates"][0]
        self.assertEqual(gate["latestExecution"]["summary"], "looks good")
        self.assertNotIn("token", gate["latestExecution"])
        self.assertClientError(lambda: self.answer("appr-ok", token, "Approved"),
                               "ApprovalAlreadyCompletedException")

    def test_the_token_of_an_abandoned_approval_is_refused(self):
        self.gated("appr-abandon")
        eid = U.first_execution(self.cp, "appr-abandon")
        token = U.approval_token(self.cp, "appr-abandon", "Gate", "Approve", eid)
        self.cp.stop_pipeline_execution(pipelineName="appr-abandon", pipelineExecutionId=eid,
                                        abandon=True)
        self.assertEqual(U.wait_execution(self.cp, "appr-abandon", eid)["status"], "Stopped")
        self.assertClientError(lambda: self.answer("appr-abandon", token, "Approved"),
                               "InvalidApprovalTokenException")
        self.assertEqual(U.wait_execution(self.cp, "appr-abandon", eid)["status"], "Stopped")

    def test_reject_fails_the_stage_and_the_execution(self):
        self.gated("appr-no")
        eid = U.first_execution(self.cp, "appr-no")
        token = U.approval_token(self.cp, "appr-no", "Gate", "Approve")
        self.answer("appr-no", token, "Rejected", "not today")
        e = U.wait_execution(self.cp, "appr-no", eid)
        self.assertEqual(e["status"], "Failed")
        st = self.cp.get_pipeline_state(name="appr-no")["stageStates"]
        self.assertEqual(st[1]["latestExecution"]["status"], "Failed")
        self.assertEqual(st[1]["actionStates"][0]["latestExecution"]["status"], "Failed")
        self.assertNotIn("latestExecution", st[2])

    def test_approval_errors(self):
        self.gated("appr-err")
        U.first_execution(self.cp, "appr-err")
        token = U.approval_token(self.cp, "appr-err", "Gate", "Approve")
        self.assertClientError(lambda: self.answer("appr-err", "0" * 8 + "-0000-0000-0000-" + "0" * 12,
                                                   "Approved"),
                               "InvalidApprovalTokenException")
        self.assertClientError(lambda: self.cp.put_approval_result(
            pipelineName="appr-err", stageName="Nope", actionName="Approve",
            result={"summary": "s", "status": "Approved"}, token=token), "StageNotFoundException")
        self.assertClientError(lambda: self.cp.put_approval_result(
            pipelineName="appr-err", stageName="Gate", actionName="Nope",
            result={"summary": "s", "status": "Approved"}, token=token), "ActionNotFoundException")
        self.assertClientError(lambda: self.cp.put_approval_result(
            pipelineName="nope", stageName="Gate", actionName="Approve",
            result={"summary": "s", "status": "Approved"}, token=token),
            "PipelineNotFoundException")
        rc, _, err = self.aws("codepipeline", "put-approval-result", "--pipeline-name", "appr-err",
                              "--stage-name", "Gate", "--action-name", "Approve", "--result",
                              "summary=ok,status=Approved", "--token", token)
        self.assertEqual(rc, 0, err)

    def three_starts(self, name):
        """The first run holds the Gate; two more start behind it."""
        first = U.first_execution(self.cp, name)
        t1 = U.approval_token(self.cp, name, "Gate", "Approve", first)
        second = self.cp.start_pipeline_execution(name=name)["pipelineExecutionId"]
        third = self.cp.start_pipeline_execution(name=name)["pipelineExecutionId"]
        return first, t1, second, third

    def test_superseded_a_newer_waiting_execution_replaces_an_older_one(self):
        name = "mode-sup"
        self.gated(name)
        first, t1, second, third = self.three_starts(name)
        e = U.wait_execution(self.cp, name, second, statuses=("Superseded",))
        self.assertEqual(e["status"], "Superseded")
        def inbound():
            st = self.cp.get_pipeline_state(name=name)["stageStates"][1]
            ids = [x["pipelineExecutionId"] for x in st.get("inboundExecutions", [])]
            return ids == [third] and st
        st = U.wait_for(inbound, what="the third execution waiting at the Gate")
        self.assertEqual(st["inboundExecution"]["pipelineExecutionId"], third)
        self.answer(name, t1, "Approved")
        self.assertEqual(U.wait_execution(self.cp, name, first)["status"], "Succeeded")
        t3 = U.approval_token(self.cp, name, "Gate", "Approve", third)
        self.answer(name, t3, "Approved")
        self.assertEqual(U.wait_execution(self.cp, name, third)["status"], "Succeeded")

    def test_queued_runs_every_execution_in_order(self):
        name = "mode-queued"
        self.gated(name, pipelineType="V2", executionMode="QUEUED")
        first, t1, second, third = self.three_starts(name)
        def waiting():
            st = self.cp.get_pipeline_state(name=name)["stageStates"][1]
            return [x["pipelineExecutionId"] for x in st.get("inboundExecutions", [])] == \
                [second, third]
        U.wait_for(waiting, what="two executions queued at the Gate")
        self.answer(name, t1, "Approved")
        t2 = U.approval_token(self.cp, name, "Gate", "Approve", second)
        self.answer(name, t2, "Approved")
        t3 = U.approval_token(self.cp, name, "Gate", "Approve", third)
        self.answer(name, t3, "Approved")
        for eid in (first, second, third):
            e = U.wait_execution(self.cp, name, eid)
            self.assertEqual(e["status"], "Succeeded")
            self.assertEqual(e["executionMode"], "QUEUED")

    def test_parallel_executions_run_independently(self):
        name = "mode-par"
        self.gated(name, pipelineType="V2", executionMode="PARALLEL")
        first, t1, second, third = self.three_starts(name)
        # Each waits at its own approval at once; tokens come from ListActionExecutions.
        def tokens():
            acts = self.cp.list_action_executions(pipelineName=name)["actionExecutionDetails"]
            gates = [a for a in acts if a["stageName"] == "Gate" and a["status"] == "InProgress"
                     and "externalExecutionId" in a["output"]["executionResult"]]
            return len(gates) == 3 and gates
        gates = U.wait_for(tokens, what="three approvals in progress")
        for e in (first, second, third):
            self.assertEqual(self.cp.get_pipeline_execution(pipelineName=name,
                                                            pipelineExecutionId=e)
                             ["pipelineExecution"]["status"], "InProgress")
        by_exec = {g["pipelineExecutionId"]: g["output"]["executionResult"]["externalExecutionId"]
                   for g in gates}
        self.assertEqual(by_exec[first], t1)
        for e in (first, second, third):
            self.answer(name, by_exec[e], "Approved")
        for e in (first, second, third):
            self.assertEqual(U.wait_execution(self.cp, name, e)["status"], "Succeeded")


if __name__ == "__main__":
    unittest.main()
