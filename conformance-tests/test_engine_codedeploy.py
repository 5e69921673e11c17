"""Engine scenarios with a CodeDeploy action: the source artifact's appspec deployed to a simulated
instance through codedeploy.h, and a failing hook failing the action and the execution."""
import glob
import os
import unittest

import engine_util as U
from harness import ServerTestCase
from test_codedeploy_deployments import ROLE, app_files, bundle


def deploy_action(app, group):
    return {"name": "Deploy", "actionTypeId": {"category": "Deploy", "owner": "AWS",
                                               "provider": "CodeDeploy", "version": "1"},
            "configuration": {"ApplicationName": app, "DeploymentGroupName": group},
            "inputArtifacts": [{"name": "SourceArtifact"}]}


class CodeDeployActionTest(ServerTestCase):
    def setUp(self):
        self.s3 = self.client("s3")
        self.cp = self.client("codepipeline")
        self.cd = self.client("codedeploy")
        U.setup_buckets(self.s3)
        self.key = U.test_key(self)

    def group(self, app, group):
        self.cd.create_application(applicationName=app)
        self.cd.create_deployment_group(
            applicationName=app, deploymentGroupName=group, serviceRoleArn=ROLE,
            ec2TagFilters=[{"Key": "Name", "Value": group, "Type": "KEY_AND_VALUE"}])

    def run_pipeline(self, name, files):
        self.s3.put_object(Bucket="engine-src", Key=self.key, Body=bundle(files))
        self.group(name, name + "-group")
        self.cp.create_pipeline(pipeline=U.pipeline(name, [
            ("Source", [U.s3_source(key=self.key)]),
            ("Deploy", [deploy_action(name, name + "-group")])]))
        eid = U.first_execution(self.cp, name)
        e = U.wait_execution(self.cp, name, eid, timeout=120)
        acts = {a["actionName"]: a for a in self.cp.list_action_executions(
            pipelineName=name, filter={"pipelineExecutionId": eid})["actionExecutionDetails"]}
        return e, acts["Deploy"]

    def skip_if_not_available(self, act):
        msg = act["output"]["executionResult"].get("errorDetails", {}).get("message", "")
        if "not available in this build" in msg:
            self.skipTest(msg)

    def test_the_source_appspec_is_deployed_to_the_instance(self):
        e, act = self.run_pipeline("cd-ok", app_files("v1"))
        self.skip_if_not_available(act)
        self.assertEqual(e["status"], "Succeeded", act)
        did = act["output"]["executionResult"]["externalExecutionId"]
        self.assertTrue(did.startswith("d-"), did)
        self.assertEqual(self.cd.get_deployment(deploymentId=did)["deploymentInfo"]["status"],
                         "Succeeded")
        (instance,) = self.cd.list_deployment_targets(deploymentId=did)["targetIds"]
        found = glob.glob(os.path.join(self.server.data_dir, "codedeploy", "instances", "*", "*",
                                       instance, "opt", "app", "index.html"))
        self.assertEqual(len(found), 1, found)
        with open(found[0]) as f:
            self.assertEqual(f.read(), "<p>v1</p>")
        state = self.cp.get_pipeline_state(name="cd-ok")["stageStates"][1]["actionStates"][0]
        self.assertEqual(state["latestExecution"]["externalExecutionId"], did)
        self.assertIn("codedeploy", state["entityUrl"])

    def test_a_failing_hook_fails_the_action(self):
        e, act = self.run_pipeline("cd-fail", app_files("v1", start="scripts/fail.sh"))
        self.skip_if_not_available(act)
        self.assertEqual(e["status"], "Failed")
        self.assertEqual(act["status"], "Failed")
        self.assertIn("Failed", act["output"]["executionResult"]["errorDetails"]["message"])


if __name__ == "__main__":
    unittest.main()
