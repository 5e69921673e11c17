"""Engine control scenarios: StopPipelineExecution (stop and wait, abandon killing its command),
Disable/EnableStageTransition holding and superseding executions, RetryStageExecution after a
fix, with AWS's errors."""
import os
import shutil
import tempfile
import time
import unittest
import uuid

import engine_util as U
from harness import ServerTestCase


def procs_with(marker):
    """The pids whose command line holds marker."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                if marker.encode() in f.read():
                    found.append(int(pid))
        except OSError:
            pass
    return found


class ControlTest(ServerTestCase):
    def setUp(self):
        self.s3 = self.client("s3")
        self.cp = self.client("codepipeline")
        U.setup_buckets(self.s3)
        self.key = U.test_key(self)
        self.s3.put_object(Bucket="engine-src", Key=self.key,
                           Body=U.make_zip({"hello.txt": "hello"}))

    def actions(self, name, eid):
        acts = self.cp.list_action_executions(
            pipelineName=name, filter={"pipelineExecutionId": eid})["actionExecutionDetails"]
        return {a["actionName"]: a for a in acts}

    def action_status(self, name, eid, action):
        a = self.actions(name, eid).get(action)
        return a and a["status"]

    def stage(self, name, stage):
        for s in self.cp.get_pipeline_state(name=name)["stageStates"]:
            if s["stageName"] == stage:
                return s
        raise AssertionError("no stage " + stage)

    def test_stop_and_wait_lets_the_running_action_finish_and_starts_nothing_more(self):
        name = "ctl-stop-wait"
        self.cp.create_pipeline(pipeline=U.pipeline(name, [
            ("Source", [U.s3_source(key=self.key)]),
            ("Build", [U.commands(commands=["sleep 3"])]),
            ("Gate", [U.approval()])]))
        eid = U.first_execution(self.cp, name)
        U.wait_for(lambda: self.action_status(name, eid, "Run") == "InProgress", 60, "Run")
        self.cp.stop_pipeline_execution(pipelineName=name, pipelineExecutionId=eid,
                                        reason="hold on")
        e = self.cp.get_pipeline_execution(pipelineName=name, pipelineExecutionId=eid)
        self.assertIn(e["pipelineExecution"]["status"], ("Stopping", "Stopped"))
        if e["pipelineExecution"]["status"] == "Stopping":
            self.assertClientError(lambda: self.cp.stop_pipeline_execution(
                pipelineName=name, pipelineExecutionId=eid), "DuplicatedStopRequestException")
        e = U.wait_execution(self.cp, name, eid, timeout=120)
        self.assertEqual(e["status"], "Stopped")
        self.assertEqual(e["statusSummary"], "hold on")
        self.assertEqual(self.action_status(name, eid, "Run"), "Succeeded")
        self.assertNotIn("Approve", self.actions(name, eid))
        self.assertEqual(self.stage(name, "Build")["latestExecution"]["status"], "Stopped")
        self.assertClientError(lambda: self.cp.stop_pipeline_execution(
            pipelineName=name, pipelineExecutionId=eid), "PipelineExecutionNotStoppableException")
        self.assertClientError(lambda: self.cp.stop_pipeline_execution(
            pipelineName=name, pipelineExecutionId=str(uuid.uuid4())),
            "PipelineExecutionNotStoppableException")
        self.assertClientError(lambda: self.cp.stop_pipeline_execution(
            pipelineName="ctl-none", pipelineExecutionId=eid), "PipelineNotFoundException")

    def test_abandon_ends_the_execution_at_once_and_kills_its_command(self):
        name = "ctl-abandon"
        marker = "ctl-marker-" + uuid.uuid4().hex
        self.cp.create_pipeline(pipeline=U.pipeline(name, [
            ("Source", [U.s3_source(key=self.key)]),
            ("Build", [U.commands(commands=["sleep 600 && echo " + marker])])]))
        eid = U.first_execution(self.cp, name)
        U.wait_for(lambda: procs_with(marker), 120, "the command to run")
        # Stop and wait leaves it Stopping (the command runs on); abandon then ends it.
        self.cp.stop_pipeline_execution(pipelineName=name, pipelineExecutionId=eid)
        self.assertEqual(self.cp.get_pipeline_execution(
            pipelineName=name, pipelineExecutionId=eid)["pipelineExecution"]["status"],
            "Stopping")
        self.assertClientError(lambda: self.cp.stop_pipeline_execution(
            pipelineName=name, pipelineExecutionId=eid), "DuplicatedStopRequestException")
        self.cp.stop_pipeline_execution(pipelineName=name, pipelineExecutionId=eid, abandon=True,
                                        reason="abandoned")
        e = U.wait_execution(self.cp, name, eid, timeout=30)
        self.assertEqual(e["status"], "Stopped")
        self.assertEqual(e["statusSummary"], "abandoned")
        self.assertEqual(self.action_status(name, eid, "Run"), "Abandoned")
        U.wait_for(lambda: not procs_with(marker), 60, "the command to be killed")
        # A stopped execution takes no abandon either.
        self.assertClientError(lambda: self.cp.stop_pipeline_execution(
            pipelineName=name, pipelineExecutionId=eid, abandon=True),
            "PipelineExecutionNotStoppableException")
        # The stage is free again: a new execution runs into it.
        second = self.cp.start_pipeline_execution(name=name)["pipelineExecutionId"]
        U.wait_for(lambda: self.action_status(name, second, "Run") == "InProgress", 120, "Run")
        self.cp.stop_pipeline_execution(pipelineName=name, pipelineExecutionId=second,
                                        abandon=True)
        self.assertEqual(U.wait_execution(self.cp, name, second, timeout=30)["status"], "Stopped")
        U.wait_for(lambda: not procs_with(marker), 60, "the second command to be killed")

    def test_abandon_stops_the_build_of_a_codebuild_action(self):
        name = "ctl-abandon-build"
        # The buildspec's commands run from a script: a sleep argument of its own marks them.
        marker = "600.%010d" % (uuid.uuid4().int % 10 ** 10)
        cb = self.client("codebuild")
        cb.create_project(name=name, source={"type": "CODEPIPELINE"},
                          artifacts={"type": "CODEPIPELINE"},
                          environment={"type": "LINUX_CONTAINER",
                                       "image": "aws/codebuild/standard:7.0",
                                       "computeType": "BUILD_GENERAL1_SMALL"},
                          serviceRole="arn:aws:iam::000000000000:role/cb")
        key = "build-" + self.key
        self.s3.put_object(Bucket="engine-src", Key=key, Body=U.make_zip({
            "buildspec.yml": "version: 0.2\nphases:\n  build:\n    commands:\n"
                             "      - sleep %s\n" % marker}))
        build = {"name": "Build", "actionTypeId": {"category": "Build", "owner": "AWS",
                                                   "provider": "CodeBuild", "version": "1"},
                 "configuration": {"ProjectName": name},
                 "inputArtifacts": [{"name": "SourceArtifact"}]}
        self.cp.create_pipeline(pipeline=U.pipeline(name, [
            ("Source", [U.s3_source(key=key)]), ("Build", [build])]))
        eid = U.first_execution(self.cp, name)

        def build_id():
            a = self.actions(name, eid).get("Build")
            if a and a["status"] != "InProgress":
                raise AssertionError("build action ended: %s" % a)
            return a and a["output"]["executionResult"].get("externalExecutionId")
        bid = U.wait_for(build_id, 120, "the build to start")
        U.wait_for(lambda: procs_with(marker), 120, "the build's command to run")
        self.cp.stop_pipeline_execution(pipelineName=name, pipelineExecutionId=eid, abandon=True)
        self.assertEqual(U.wait_execution(self.cp, name, eid, timeout=30)["status"], "Stopped")
        self.assertEqual(self.action_status(name, eid, "Build"), "Abandoned")
        U.wait_for(lambda: cb.batch_get_builds(ids=[bid])["builds"][0]["buildStatus"] ==
                   "STOPPED", 60, "the build to stop")
        U.wait_for(lambda: not procs_with(marker), 60, "the build's command to be killed")

    def test_a_disabled_transition_holds_executions_and_the_newest_enters_when_enabled(self):
        name = "ctl-transition"
        self.cp.create_pipeline(pipeline=U.pipeline(name, [
            ("Source", [U.s3_source(key=self.key)]), ("Gate", [U.approval()])]))
        self.cp.disable_stage_transition(pipelineName=name, stageName="Gate",
                                         transitionType="Inbound", reason="freeze")
        # The run CreatePipeline started may have passed before the disable: end it, start one.
        auto = U.first_execution(self.cp, name)
        try:
            self.cp.stop_pipeline_execution(pipelineName=name, pipelineExecutionId=auto,
                                            abandon=True)
        except self.cp.exceptions.PipelineExecutionNotStoppableException:
            pass
        U.wait_execution(self.cp, name, auto, timeout=60)
        first = self.cp.start_pipeline_execution(name=name)["pipelineExecutionId"]

        def inbound():
            return self.stage(name, "Gate").get("inboundExecution", {}).get("pipelineExecutionId")
        U.wait_for(lambda: inbound() == first, 60, "the first execution to wait")
        its = self.stage(name, "Gate")["inboundTransitionState"]
        self.assertFalse(its["enabled"])
        self.assertEqual(its["disabledReason"], "freeze")
        self.assertEqual(its["lastChangedBy"], "arn:aws:iam::000000000000:root")
        self.assertIn("lastChangedAt", its)
        second = self.cp.start_pipeline_execution(name=name)["pipelineExecutionId"]
        self.assertEqual(U.wait_execution(self.cp, name, first, timeout=60)["status"],
                         "Superseded")
        U.wait_for(lambda: inbound() == second, 60, "the second execution to wait")
        self.assertEqual(self.cp.get_pipeline_execution(
            pipelineName=name, pipelineExecutionId=second)["pipelineExecution"]["status"],
            "InProgress")
        # Neither held execution entered; only the CreatePipeline run may have, before the disable.
        latest = self.stage(name, "Gate").get("latestExecution")
        self.assertIn(latest and latest["pipelineExecutionId"], (None, auto))
        self.cp.enable_stage_transition(pipelineName=name, stageName="Gate",
                                        transitionType="Inbound")
        U.approval_token(self.cp, name, "Gate", "Approve", second, timeout=60)
        its = self.stage(name, "Gate")["inboundTransitionState"]
        self.assertTrue(its["enabled"])
        self.assertNotIn("disabledReason", its)
        self.assertNotIn("inboundExecution", self.stage(name, "Gate"))
        self.assertClientError(lambda: self.cp.disable_stage_transition(
            pipelineName=name, stageName="Nope", transitionType="Inbound", reason="x"),
            "StageNotFoundException")
        self.assertClientError(lambda: self.cp.enable_stage_transition(
            pipelineName="ctl-none", stageName="Gate", transitionType="Inbound"),
            "PipelineNotFoundException")
        self.cp.stop_pipeline_execution(pipelineName=name, pipelineExecutionId=second,
                                        abandon=True)

    def test_an_outbound_transition_holds_executions_after_the_stage(self):
        name = "ctl-outbound"
        self.cp.create_pipeline(pipeline=U.pipeline(name, [
            ("Source", [U.s3_source(key=self.key)]), ("Gate", [U.approval()])]))
        self.cp.disable_stage_transition(pipelineName=name, stageName="Source",
                                         transitionType="Outbound", reason="hold")
        # The run CreatePipeline started may have passed before the disable: end it, start one.
        auto = U.first_execution(self.cp, name)
        try:
            self.cp.stop_pipeline_execution(pipelineName=name, pipelineExecutionId=auto,
                                            abandon=True)
        except self.cp.exceptions.PipelineExecutionNotStoppableException:
            pass
        U.wait_execution(self.cp, name, auto, timeout=60)
        first = self.cp.start_pipeline_execution(name=name)["pipelineExecutionId"]
        U.wait_for(lambda: self.stage(name, "Gate").get("inboundExecution", {})
                   .get("pipelineExecutionId") == first, 60, "the execution to wait")
        self.cp.enable_stage_transition(pipelineName=name, stageName="Source",
                                        transitionType="Outbound")
        U.approval_token(self.cp, name, "Gate", "Approve", first, timeout=60)
        self.cp.stop_pipeline_execution(pipelineName=name, pipelineExecutionId=first,
                                        abandon=True)

    def test_retry_after_a_fix_passes(self):
        name = "ctl-retry"
        fixdir = tempfile.mkdtemp(prefix="ctl-retry-")
        self.addCleanup(shutil.rmtree, fixdir, True)
        fix = os.path.join(fixdir, "fixed")
        # Once fixed, the action holds until "go" so that the retry is still running when the
        # second retry call comes (ConflictException), however fast the machine.
        go = os.path.join(fixdir, "go")
        self.cp.create_pipeline(pipeline=U.pipeline(name, [
            ("Source", [U.s3_source(key=self.key)]),
            ("Build", [U.commands(commands=[
                "test -f %s && until test -f %s; do sleep 0.1; done" % (fix, go)])])]))
        eid = U.first_execution(self.cp, name)
        self.assertEqual(U.wait_execution(self.cp, name, eid, timeout=120)["status"], "Failed")
        failed_aeid = self.actions(name, eid)["Run"]["actionExecutionId"]
        # AWS's preconditions.
        self.assertClientError(lambda: self.cp.retry_stage_execution(
            pipelineName=name, stageName="Nope", pipelineExecutionId=eid,
            retryMode="FAILED_ACTIONS"), "StageNotFoundException")
        self.assertClientError(lambda: self.cp.retry_stage_execution(
            pipelineName=name, stageName="Source", pipelineExecutionId=eid,
            retryMode="FAILED_ACTIONS"), "StageNotRetryableException")
        self.assertClientError(lambda: self.cp.retry_stage_execution(
            pipelineName="ctl-none", stageName="Build", pipelineExecutionId=eid,
            retryMode="FAILED_ACTIONS"), "PipelineNotFoundException")
        # Without the fix it fails again, with a new action execution.
        self.cp.retry_stage_execution(pipelineName=name, stageName="Build",
                                      pipelineExecutionId=eid, retryMode="FAILED_ACTIONS")
        self.assertEqual(U.wait_execution(self.cp, name, eid, timeout=120)["status"], "Failed")
        self.assertNotEqual(self.actions(name, eid)["Run"]["actionExecutionId"], failed_aeid)
        open(fix, "w").close()
        out = self.cp.retry_stage_execution(pipelineName=name, stageName="Build",
                                            pipelineExecutionId=eid, retryMode="ALL_ACTIONS")
        self.assertEqual(out["pipelineExecutionId"], eid)
        self.assertClientError(lambda: self.cp.retry_stage_execution(
            pipelineName=name, stageName="Build", pipelineExecutionId=eid,
            retryMode="FAILED_ACTIONS"), "ConflictException")
        open(go, "w").close()
        e = U.wait_execution(self.cp, name, eid, timeout=120)
        self.assertEqual(e["status"], "Succeeded")
        latest = self.stage(name, "Build")["latestExecution"]
        self.assertEqual((latest["pipelineExecutionId"], latest["status"]), (eid, "Succeeded"))

    def test_only_the_latest_execution_of_a_stage_can_be_retried(self):
        name = "ctl-retry-latest"
        self.cp.create_pipeline(pipeline=U.pipeline(name, [
            ("Source", [U.s3_source(key=self.key)]),
            ("Build", [U.commands(commands=["false"])])]))
        first = U.first_execution(self.cp, name)
        self.assertEqual(U.wait_execution(self.cp, name, first, timeout=120)["status"], "Failed")
        second = self.cp.start_pipeline_execution(name=name)["pipelineExecutionId"]
        self.assertEqual(U.wait_execution(self.cp, name, second, timeout=120)["status"], "Failed")
        self.assertClientError(lambda: self.cp.retry_stage_execution(
            pipelineName=name, stageName="Build", pipelineExecutionId=first,
            retryMode="FAILED_ACTIONS"), "NotLatestPipelineExecutionException")


if __name__ == "__main__":
    unittest.main()
