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

    def group(self, app, group, instances=1):
        self.cd.create_application(applicationName=app)
        self.cd.create_deployment_group(
            applicationName=app, deploymentGroupName=group, serviceRoleArn=ROLE,
            ec2TagFilters=[{"Key": "Name", "Value": group, "Type": "KEY_AND_VALUE"}],
            tags=[{"Key": "codepipeline-local:instances", "Value": str(instances)}])

    def run_pipeline(self, name, files, instances=1):
        self.s3.put_object(Bucket="engine-src", Key=self.key, Body=bundle(files))
        self.group(name, name + "-group", instances)
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

    def test_deploy_action_targets_list_the_deployment_instances_with_their_events(self):
        e, act = self.run_pipeline("cd-targets", app_files("v1"), instances=2)
        self.skip_if_not_available(act)
        self.assertEqual(e["status"], "Succeeded", act)
        did = act["output"]["executionResult"]["externalExecutionId"]
        aeid = act["actionExecutionId"]
        ids = sorted(self.cd.list_deployment_targets(deploymentId=did)["targetIds"])
        self.assertEqual(len(ids), 2, ids)
        got = self.cp.list_deploy_action_execution_targets(pipelineName="cd-targets",
                                                           actionExecutionId=aeid)
        self.assertNotIn("nextToken", got)
        targets = sorted(got["targets"], key=lambda t: t["targetId"])
        self.assertEqual([t["targetId"] for t in targets], ids)
        cd_events = [ev["lifecycleEventName"] for ev in self.cd.get_deployment_target(
            deploymentId=did, targetId=ids[0])["deploymentTarget"]["instanceTarget"]
            ["lifecycleEvents"]]
        for t in targets:
            self.assertEqual(t["targetType"], "EC2")
            self.assertEqual(t["status"], "Succeeded")
            self.assertLessEqual(t["startTime"], t["endTime"])
            self.assertEqual([ev["name"] for ev in t["events"]], cd_events)
            ran = [ev for ev in t["events"] if ev["name"] == "ApplicationStart"][0]
            self.assertEqual(ran["status"], "Succeeded")
            self.assertLessEqual(ran["startTime"], ran["endTime"])
        # Without the pipeline name the action execution id alone finds it.
        self.assertEqual(len(self.cp.list_deploy_action_execution_targets(
            actionExecutionId=aeid)["targets"]), 2)
        # Pagination: one a page, the token leads to the other.
        p1 = self.cp.list_deploy_action_execution_targets(
            pipelineName="cd-targets", actionExecutionId=aeid, maxResults=1)
        self.assertEqual(len(p1["targets"]), 1)
        p2 = self.cp.list_deploy_action_execution_targets(
            pipelineName="cd-targets", actionExecutionId=aeid, maxResults=1,
            nextToken=p1["nextToken"])
        self.assertEqual(len(p2["targets"]), 1)
        self.assertNotIn("nextToken", p2)
        self.assertEqual(sorted([p1["targets"][0]["targetId"], p2["targets"][0]["targetId"]]), ids)
        # TARGET_STATUS filters.
        f = self.cp.list_deploy_action_execution_targets(
            pipelineName="cd-targets", actionExecutionId=aeid,
            filters=[{"name": "TARGET_STATUS", "values": ["Failed"]}])
        self.assertEqual(f["targets"], [])
        f = self.cp.list_deploy_action_execution_targets(
            pipelineName="cd-targets", actionExecutionId=aeid,
            filters=[{"name": "TARGET_STATUS", "values": ["Failed", "Succeeded"]}])
        self.assertEqual(len(f["targets"]), 2)
        # The CLI spells it the same way.
        _, out, _ = self.aws("codepipeline", "list-deploy-action-execution-targets",
                             "--pipeline-name", "cd-targets", "--action-execution-id", aeid,
                             "--filters", "name=TARGET_STATUS,values=Succeeded")
        self.assertEqual(len(out["targets"]), 2)
        _, out, _ = self.aws("codepipeline", "list-deploy-action-execution-targets",
                             "--pipeline-name", "cd-targets", "--action-execution-id", aeid,
                             "--filters", "name=TARGET_STATUS,values=Failed")
        self.assertEqual(out["targets"], [])
        # Errors.
        self.assertClientError(lambda: self.cp.list_deploy_action_execution_targets(
            pipelineName="cd-nope", actionExecutionId=aeid), "PipelineNotFoundException")
        self.assertClientError(lambda: self.cp.list_deploy_action_execution_targets(
            pipelineName="cd-targets", actionExecutionId="00000000-0000-0000-0000-000000000000"),
            "ActionExecutionNotFoundException")
        self.assertClientError(lambda: self.cp.list_deploy_action_execution_targets(
            pipelineName="cd-targets", actionExecutionId=aeid, nextToken="garbage"),
            "InvalidNextTokenException")
        self.assertClientError(lambda: self.cp.list_deploy_action_execution_targets(
            pipelineName="cd-targets", actionExecutionId=aeid, maxResults=101),
            "ValidationException")
        self.assertClientError(lambda: self.cp.list_deploy_action_execution_targets(
            pipelineName="cd-targets", actionExecutionId=aeid,
            filters=[{"name": "STATUS", "values": ["Failed"]}]), "ValidationException")
        src = [a for a in self.cp.list_action_executions(pipelineName="cd-targets")
               ["actionExecutionDetails"] if a["actionName"] == "Source"][0]
        self.assertClientError(lambda: self.cp.list_deploy_action_execution_targets(
            pipelineName="cd-targets", actionExecutionId=src["actionExecutionId"]),
            "ValidationException")

    def test_a_failed_deployment_shows_its_failed_target_and_event(self):
        e, act = self.run_pipeline("cd-targets-fail", app_files("v1", start="scripts/fail.sh"))
        self.skip_if_not_available(act)
        self.assertEqual(e["status"], "Failed")
        (t,) = self.cp.list_deploy_action_execution_targets(
            pipelineName="cd-targets-fail",
            actionExecutionId=act["actionExecutionId"])["targets"]
        self.assertEqual(t["status"], "Failed")
        failed = [ev for ev in t["events"] if ev["status"] == "Failed"]
        self.assertEqual([ev["name"] for ev in failed], ["ApplicationStart"])
        self.assertIn("context", failed[0])
        f = self.cp.list_deploy_action_execution_targets(
            pipelineName="cd-targets-fail", actionExecutionId=act["actionExecutionId"],
            filters=[{"name": "TARGET_STATUS", "values": ["Failed"]}])
        self.assertEqual(len(f["targets"]), 1)


if __name__ == "__main__":
    unittest.main()
