"""Engine scenarios with CodeBuild: the full CodeCommit -> CodeBuild -> approval -> CodeDeploy
chain, variables flowing from source to build to approval, several artifacts and a failing build."""
import glob
import io
import os
import unittest
import zipfile

import engine_util as U
from harness import ServerTestCase
from test_codedeploy_deployments import ROLE, app_files
from test_engine_codecommit import cc_source
from test_engine_codedeploy import deploy_action

BUILDSPEC = """version: 0.2
env:
  exported-variables:
    - BUILT_FROM
phases:
  build:
    commands:
      - test "$COMMIT" = "$(git -C . rev-parse HEAD 2>/dev/null || echo $COMMIT)"
      - export BUILT_FROM="$COMMIT"
      - mkdir -p out && cp -r appspec.yml scripts web out/
      - echo "$GREETING" > out/web/greeting.txt
artifacts:
  base-directory: out
  files:
    - '**/*'
"""


def build_action(project, inp="SourceArtifact", out="BuildArtifact", env=None, namespace=None,
                 **cfg):
    c = {"ProjectName": project}
    if env is not None:
        import json
        c["EnvironmentVariables"] = json.dumps(env)
    c.update(cfg)
    a = {"name": "Build", "actionTypeId": {"category": "Build", "owner": "AWS",
                                           "provider": "CodeBuild", "version": "1"},
         "configuration": c, "inputArtifacts": [{"name": inp}]}
    if out:
        a["outputArtifacts"] = [{"name": out}]
    if namespace:
        a["namespace"] = namespace
    return a


class CodeBuildActionTest(ServerTestCase):
    def setUp(self):
        self.s3 = self.client("s3")
        self.cp = self.client("codepipeline")
        self.cc = self.client("codecommit")
        self.cb = self.client("codebuild")
        self.cd = self.client("codedeploy")
        U.setup_buckets(self.s3)

    def project(self, name):
        self.cb.create_project(name=name, source={"type": "CODEPIPELINE"},
                               artifacts={"type": "CODEPIPELINE"},
                               environment={"type": "LINUX_CONTAINER", "image": "aws/codebuild/standard:7.0",
                                            "computeType": "BUILD_GENERAL1_SMALL"},
                               serviceRole="arn:aws:iam::000000000000:role/cb")

    def actions(self, name, eid):
        return {a["actionName"]: a for a in self.cp.list_action_executions(
            pipelineName=name, filter={"pipelineExecutionId": eid})["actionExecutionDetails"]}

    def skip_if_not_available(self, act):
        msg = act["output"]["executionResult"].get("errorDetails", {}).get("message", "")
        if "not available in this build" in msg:
            self.skipTest(msg)

    def test_commit_build_approve_deploy(self):
        repo, name = "chain-repo", "chain"
        self.cc.create_repository(repositoryName=repo)
        files = {p: c for p, (c, _) in app_files("v1").items()}
        files["buildspec.yml"] = BUILDSPEC
        commit = self.cc.create_commit(
            repositoryName=repo, branchName="main", commitMessage="app v1",
            putFiles=[{"filePath": p, "fileContent": c.encode(),
                       "fileMode": "EXECUTABLE" if p.endswith(".sh") else "NORMAL"}
                      for p, c in files.items()])["commitId"]
        self.project("chain-build")
        self.cd.create_application(applicationName="chain-app")
        self.cd.create_deployment_group(
            applicationName="chain-app", deploymentGroupName="chain-group", serviceRoleArn=ROLE,
            ec2TagFilters=[{"Key": "Name", "Value": "chain", "Type": "KEY_AND_VALUE"}])
        build = build_action("chain-build", namespace="BuildVariables", env=[
            {"name": "COMMIT", "value": "#{SourceVariables.CommitId}", "type": "PLAINTEXT"},
            {"name": "GREETING", "value": "hello from #{SourceVariables.BranchName}"}])
        self.cp.create_pipeline(pipeline=U.pipeline(name, [
            ("Source", [cc_source(repo, poll="false")]),
            ("Build", [build]),
            ("Approve", [U.approval(CustomData="built #{BuildVariables.BUILT_FROM}")]),
            ("Deploy", [deploy_action("chain-app", "chain-group") | {"inputArtifacts": [
                {"name": "BuildArtifact"}]}])]))
        eid = U.first_execution(self.cp, name)
        def at_approval_or_done():
            e = self.cp.get_pipeline_execution(pipelineName=name, pipelineExecutionId=eid)[
                "pipelineExecution"]
            acts = self.actions(name, eid)
            return e["status"] != "InProgress" or "Approve" in acts
        U.wait_for(at_approval_or_done, timeout=180, what="the build to end")
        acts = self.actions(name, eid)
        self.skip_if_not_available(acts["Build"])
        self.assertEqual(acts["Build"]["status"], "Succeeded", acts["Build"])
        b = acts["Build"]
        self.assertEqual(b["input"]["resolvedConfiguration"]["EnvironmentVariables"].count(commit), 1)
        self.assertEqual(b["output"]["outputVariables"], {"BUILT_FROM": commit})
        build_id = b["output"]["executionResult"]["externalExecutionId"]
        self.assertTrue(build_id.startswith("chain-build:"), build_id)
        loc = b["output"]["outputArtifacts"][0]["s3location"]
        self.assertTrue(loc["key"].startswith("chain/BuildArtif/"), loc)
        z = zipfile.ZipFile(io.BytesIO(self.s3.get_object(Bucket=loc["bucket"], Key=loc["key"])
                                       ["Body"].read()))
        self.assertEqual(z.read("web/greeting.txt"), b"hello from main\n")
        token = U.approval_token(self.cp, name, "Approve", "Approve", eid)
        self.assertEqual(self.actions(name, eid)["Approve"]["input"]["resolvedConfiguration"]
                         ["CustomData"], "built " + commit)
        self.cp.put_approval_result(pipelineName=name, stageName="Approve", actionName="Approve",
                                    result={"summary": "ship", "status": "Approved"}, token=token)
        e = U.wait_execution(self.cp, name, eid, timeout=180)
        self.assertEqual(e["status"], "Succeeded", self.actions(name, eid)["Deploy"])
        did = self.actions(name, eid)["Deploy"]["output"]["executionResult"]["externalExecutionId"]
        (instance,) = self.cd.list_deployment_targets(deploymentId=did)["targetIds"]
        (path,) = glob.glob(os.path.join(self.server.data_dir, "codedeploy", "instances", "*", "*",
                                         instance, "opt", "app", "greeting.txt"))
        with open(path) as f:
            self.assertEqual(f.read(), "hello from main\n")

    def test_two_inputs_with_primary_source_and_two_outputs(self):
        # The buildspec comes from the PrimarySource (the second input); the other input is a
        # secondary source under CODEBUILD_SRC_DIR_<name>; the second output is the
        # secondary-artifacts entry whose identifier is its name.
        name = "cb-multi"
        self.project("multi-proj")
        spec = """version: 0.2
phases:
  build:
    commands:
      - cp "$CODEBUILD_SRC_DIR_Code/code.txt" first.txt
      - mkdir -p second && echo "from $(cat data.txt)" > second/second.txt
artifacts:
  files: [first.txt]
  secondary-artifacts:
    Second:
      base-directory: second
      files: ['**/*']
"""
        self.s3.put_object(Bucket="engine-src", Key="cb-multi-code.zip",
                           Body=U.make_zip({"code.txt": "code-input"}))
        self.s3.put_object(Bucket="engine-src", Key="cb-multi-spec.zip",
                           Body=U.make_zip({"buildspec.yml": spec, "data.txt": "spec-input"}))
        build = build_action("multi-proj", PrimarySource="Spec")
        build["inputArtifacts"] = [{"name": "Code"}, {"name": "Spec"}]
        build["outputArtifacts"] = [{"name": "First"}, {"name": "Second"}]
        self.cp.create_pipeline(pipeline=U.pipeline(name, [
            ("Source", [U.s3_source(key="cb-multi-code.zip", out="Code"),
                        U.s3_source(name="Source2", key="cb-multi-spec.zip", out="Spec")]),
            ("Build", [build])]))
        eid = U.first_execution(self.cp, name)
        e = U.wait_execution(self.cp, name, eid, timeout=180)
        act = self.actions(name, eid)["Build"]
        self.skip_if_not_available(act)
        self.assertEqual(e["status"], "Succeeded", act)
        outs = {o["name"]: o["s3location"] for o in act["output"]["outputArtifacts"]}
        self.assertEqual(sorted(outs), ["First", "Second"])
        self.assertEqual(sorted(i["name"] for i in act["input"]["inputArtifacts"]),
                         ["Code", "Spec"])
        got = {}
        for art, loc in outs.items():
            self.assertTrue(loc["key"].startswith("cb-multi/" + art[:10] + "/"), loc)
            body = self.s3.get_object(Bucket=loc["bucket"], Key=loc["key"])["Body"].read()
            got[art] = zipfile.ZipFile(io.BytesIO(body))
        self.assertEqual(got["First"].namelist(), ["first.txt"])
        self.assertEqual(got["First"].read("first.txt"), b"code-input")
        self.assertEqual(got["Second"].namelist(), ["second.txt"])
        self.assertEqual(got["Second"].read("second.txt"), b"from spec-input\n")

    def test_a_failing_build_fails_the_execution(self):
        name = "build-fail"
        key = U.test_key(self)
        self.s3.put_object(Bucket="engine-src", Key=key, Body=U.make_zip({
            "buildspec.yml": "version: 0.2\nphases:\n  build:\n    commands:\n      - exit 4\n"}))
        self.project("fail-build")
        self.cp.create_pipeline(pipeline=U.pipeline(name, [
            ("Source", [U.s3_source(key=key)]), ("Build", [build_action("fail-build", out=None)])]))
        eid = U.first_execution(self.cp, name)
        e = U.wait_execution(self.cp, name, eid, timeout=180)
        b = self.actions(name, eid)["Build"]
        self.skip_if_not_available(b)
        self.assertEqual(e["status"], "Failed")
        self.assertEqual(b["status"], "Failed")
        self.assertIn("FAILED", b["output"]["executionResult"]["errorDetails"]["message"])


if __name__ == "__main__":
    unittest.main()
