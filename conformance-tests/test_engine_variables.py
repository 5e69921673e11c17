"""Engine scenarios with variables and the Commands action: source variables, V2 pipeline
variables with defaults and overrides, #{codepipeline.PipelineExecutionId}, output variables of
commands, and an unresolvable reference failing its action."""
import io
import unittest
import zipfile

import engine_util as U
from harness import ServerTestCase


class VariablesTest(ServerTestCase):
    def setUp(self):
        self.s3 = self.client("s3")
        self.cp = self.client("codepipeline")
        U.setup_buckets(self.s3)
        self.key = U.test_key(self)
        self.put = self.s3.put_object(Bucket="engine-src", Key=self.key,
                                      Body=U.make_zip({"hello.txt": "hello"}))

    def actions(self, eid, name):
        acts = self.cp.list_action_executions(
            pipelineName=name, filter={"pipelineExecutionId": eid})["actionExecutionDetails"]
        return {a["actionName"]: a for a in acts}

    def test_variables_flow_from_source_to_commands_to_approval(self):
        name = "vars-flow"
        run = U.commands(commands=["test \"$(cat hello.txt)\" = hello",
                                   "export GREETING=\"$(cat hello.txt) world\"",
                                   "mkdir -p out && echo built > out/result.txt"],
                         out="BuildArtifact", out_vars=["GREETING"], namespace="BuildVars")
        gate = U.approval(CustomData="v=#{SourceVariables.VersionId} g=#{BuildVars.GREETING} "
                                     "e=#{codepipeline.PipelineExecutionId} env=#{variables.Env}")
        self.cp.create_pipeline(pipeline=U.pipeline(name, [
            ("Source", [U.s3_source(key=self.key, namespace="SourceVariables")]),
            ("Build", [run]),
            ("Gate", [gate])],
            pipelineType="V2", variables=[{"name": "Env", "defaultValue": "dev"}]))
        first = U.first_execution(self.cp, name)
        t = U.approval_token(self.cp, name, "Gate", "Approve", first)
        acts = self.actions(first, name)
        self.assertEqual(acts["Run"]["status"], "Succeeded")
        self.assertEqual(acts["Run"]["output"]["outputVariables"], {"GREETING": "hello world"})
        self.assertEqual(acts["Approve"]["input"]["resolvedConfiguration"]["CustomData"],
                         "v=%s g=hello world e=%s env=dev" % (self.put["VersionId"], first))
        self.assertEqual(acts["Approve"]["input"]["configuration"]["CustomData"],
                         gate["configuration"]["CustomData"])
        loc = acts["Run"]["output"]["outputArtifacts"][0]["s3location"]
        self.assertTrue(loc["key"].startswith("vars-flow/BuildArtif/"), loc)
        z = zipfile.ZipFile(io.BytesIO(self.s3.get_object(Bucket=loc["bucket"], Key=loc["key"])
                                       ["Body"].read()))
        self.assertEqual(z.read("out/result.txt"), b"built\n")
        self.cp.put_approval_result(pipelineName=name, stageName="Gate", actionName="Approve",
                                    result={"summary": "ok", "status": "Approved"}, token=t)
        e = U.wait_execution(self.cp, name, first)
        self.assertEqual(e["status"], "Succeeded")
        self.assertEqual(e["variables"], [{"name": "Env", "resolvedValue": "dev"}])
        # An override at start replaces the default.
        second = self.cp.start_pipeline_execution(
            name=name, variables=[{"name": "Env", "value": "prod"}])["pipelineExecutionId"]
        U.approval_token(self.cp, name, "Gate", "Approve", second)
        acts = self.actions(second, name)
        self.assertTrue(acts["Approve"]["input"]["resolvedConfiguration"]["CustomData"]
                        .endswith("env=prod"))
        self.assertEqual(self.cp.get_pipeline_execution(pipelineName=name,
                                                        pipelineExecutionId=second)
                         ["pipelineExecution"]["variables"],
                         [{"name": "Env", "resolvedValue": "prod"}])
        self.assertClientError(lambda: self.cp.start_pipeline_execution(
            name=name, variables=[{"name": "Undeclared", "value": "x"}]), "ValidationException")

    def test_an_unresolvable_reference_fails_the_action(self):
        name = "vars-bad"
        gate = U.approval(CustomData="#{SourceVariables.NoSuchVariable}")
        self.cp.create_pipeline(pipeline=U.pipeline(name, [
            ("Source", [U.s3_source(key=self.key, namespace="SourceVariables")]), ("Gate", [gate])]))
        eid = U.first_execution(self.cp, name)
        e = U.wait_execution(self.cp, name, eid)
        self.assertEqual(e["status"], "Failed")
        a = self.actions(eid, name)["Approve"]
        self.assertEqual(a["status"], "Failed")
        msg = a["output"]["executionResult"]["errorDetails"]["message"]
        self.assertIn("one or more variables could not be resolved: Action name=Approve", msg)
        self.assertIn("#{SourceVariables.NoSuchVariable}",
                      a["output"]["executionResult"]["errorDetails"]["message"])

    def test_a_failing_command_fails_the_execution_with_its_output(self):
        name = "cmd-fail"
        self.cp.create_pipeline(pipeline=U.pipeline(name, [
            ("Source", [U.s3_source(key=self.key)]),
            ("Build", [U.commands(commands=["echo about to fail", "exit 3"])])]))
        eid = U.first_execution(self.cp, name)
        e = U.wait_execution(self.cp, name, eid)
        self.assertEqual(e["status"], "Failed")
        a = self.actions(eid, name)["Run"]
        msg = a["output"]["executionResult"]["errorDetails"]["message"]
        self.assertIn("exit code 3", msg)
        self.assertIn("about to fail", msg)

    def test_runorder_groups_run_in_sequence_and_same_runorder_in_parallel(self):
        name = "runorder"
        a1 = U.commands(name="A", commands=["sleep 0.3"])
        a2 = U.commands(name="B", commands=["sleep 0.3"])
        a3 = U.commands(name="C", commands=["true"])
        a3["runOrder"] = 2
        self.cp.create_pipeline(pipeline=U.pipeline(name, [
            ("Source", [U.s3_source(key=self.key)]), ("Build", [a1, a2, a3])]))
        eid = U.first_execution(self.cp, name)
        self.assertEqual(U.wait_execution(self.cp, name, eid)["status"], "Succeeded")
        acts = self.actions(eid, name)
        self.assertLess(acts["B"]["startTime"], acts["A"]["lastUpdateTime"])
        self.assertLess(acts["A"]["startTime"], acts["B"]["lastUpdateTime"])
        self.assertGreaterEqual(acts["C"]["startTime"],
                                max(acts["A"]["lastUpdateTime"], acts["B"]["lastUpdateTime"]))

    def test_providers_that_are_not_simulated_fail_clearly(self):
        name = "not-sim"
        lam = {"name": "Invoke", "actionTypeId": {"category": "Invoke", "owner": "AWS",
                                                  "provider": "Lambda", "version": "1"},
               "configuration": {"FunctionName": "f"}}
        self.cp.create_pipeline(pipeline=U.pipeline(name, [
            ("Source", [U.s3_source(key=self.key)]), ("Invoke", [lam])]))
        eid = U.first_execution(self.cp, name)
        self.assertEqual(U.wait_execution(self.cp, name, eid)["status"], "Failed")
        msg = self.actions(eid, name)["Invoke"]["output"]["executionResult"]["errorDetails"][
            "message"]
        self.assertIn("Lambda", msg)
        self.assertIn("not simulated", msg)

    def test_codebuild_action_runs_through_codebuild_or_fails_clearly(self):
        name = "cb-action"
        cb = self.client("codebuild")
        try:
            cb.create_project(name="engine-proj", source={"type": "CODEPIPELINE"},
                              artifacts={"type": "CODEPIPELINE"},
                              environment={"type": "LINUX_CONTAINER", "image": "x",
                                           "computeType": "BUILD_GENERAL1_SMALL"},
                              serviceRole="arn:aws:iam::000000000000:role/cb")
        except Exception:
            pass
        build = {"name": "Build", "actionTypeId": {"category": "Build", "owner": "AWS",
                                                   "provider": "CodeBuild", "version": "1"},
                 "configuration": {"ProjectName": "engine-proj", "BatchEnabled": "true"},
                 "inputArtifacts": [{"name": "SourceArtifact"}]}
        self.cp.create_pipeline(pipeline=U.pipeline(name, [
            ("Source", [U.s3_source(key=self.key)]), ("Build", [build])]))
        eid = U.first_execution(self.cp, name)
        self.assertEqual(U.wait_execution(self.cp, name, eid)["status"], "Failed")
        msg = self.actions(eid, name)["Build"]["output"]["executionResult"]["errorDetails"][
            "message"]
        self.assertIn("BatchEnabled", msg)


if __name__ == "__main__":
    unittest.main()
