"""CodePipeline structure validation: every rule of a pipeline declaration answered with AWS's
exception type, HTTP status and (where known) message, before anything is stored."""
import unittest

from harness import ServerTestCase
from test_codepipeline_pipelines import (build_action, create_artifact_bucket, declaration,
                                         deploy_action, source_action)


def approval(name="Approve", **extra):
    a = {"name": name, "actionTypeId": {"category": "Approval", "owner": "AWS",
                                        "provider": "Manual", "version": "1"}}
    a.update(extra)
    return a


class Structure(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        create_artifact_bucket(cls.server)

    def setUp(self):
        self.cp = self.client("codepipeline")

    def rejects(self, decl, code, message=None):
        self.assertClientError(lambda: self.cp.create_pipeline(pipeline=decl), code, 400, message)
        self.assertClientError(lambda: self.cp.get_pipeline(name=decl["name"]),
                               "PipelineNotFoundException", 400)

    def test_valid_pipeline_is_accepted(self):
        self.cp.create_pipeline(pipeline=declaration("valid"))
        self.cp.delete_pipeline(name="valid")

    def test_at_least_two_stages(self):
        self.rejects(declaration("one", [{"name": "Source", "actions": [source_action()]}]),
                     "InvalidStructureException",
                     "Pipeline has only 1 stage(s). There should be a minimum of 2 stages in a "
                     "pipeline")

    def test_first_stage_holds_only_source_actions(self):
        self.rejects(declaration("first", [
            {"name": "Source", "actions": [source_action(), approval()]},
            {"name": "Build", "actions": [build_action()]}]),
            "InvalidStructureException",
            "Pipeline should start with a stage that only contains source actions")

    def test_only_the_first_stage_holds_source_actions(self):
        self.rejects(declaration("later", [
            {"name": "Source", "actions": [source_action()]},
            {"name": "Build", "actions": [build_action(), source_action("Src2", "Other")]}]),
            "InvalidStructureException")

    def test_stage_names_are_unique(self):
        self.rejects(declaration("stages", [
            {"name": "Source", "actions": [source_action()]},
            {"name": "Source", "actions": [build_action()]}]),
            "InvalidStageDeclarationException")

    def test_action_names_are_unique_in_a_stage(self):
        self.rejects(declaration("actions", [
            {"name": "Source", "actions": [source_action()]},
            {"name": "Build", "actions": [build_action(), build_action()]}]),
            "InvalidActionDeclarationException")

    def test_input_artifact_must_be_produced_earlier(self):
        self.rejects(declaration("inputs", [
            {"name": "Source", "actions": [source_action()]},
            {"name": "Build", "actions": [build_action(inp="Missing")]}]),
            "InvalidStructureException",
            "Input Artifact Bundle Missing in action Build is not declared as an output of an "
            "action that runs before it.")

    def test_input_artifact_from_same_run_order_is_refused(self):
        self.rejects(declaration("parallel", [
            {"name": "Source", "actions": [source_action()]},
            {"name": "Build", "actions": [build_action(out="BuildOut"), deploy_action()]}]),
            "InvalidStructureException")
        ok = declaration("serial", [
            {"name": "Source", "actions": [source_action()]},
            {"name": "Build", "actions": [build_action(out="BuildOut"),
                                          dict(deploy_action(), runOrder=2)]}])
        self.cp.create_pipeline(pipeline=ok)
        self.cp.delete_pipeline(name="serial")

    def test_output_artifact_names_are_unique(self):
        self.rejects(declaration("outputs", [
            {"name": "Source", "actions": [source_action()]},
            {"name": "Build", "actions": [build_action(out="SourceOut")]}]),
            "InvalidStructureException",
            "Output Artifact Bundle name must be unique within the pipeline. SourceOut has been "
            "used more than once.")

    def test_input_artifact_minimum_count(self):
        b = build_action()
        del b["inputArtifacts"]
        self.rejects(declaration("mincount", [
            {"name": "Source", "actions": [source_action()]}, {"name": "Build", "actions": [b]}]),
            "InvalidActionDeclarationException",
            "Action Build declares 0 input artifacts which is less than the minimum count (1)")

    def test_output_artifact_maximum_count(self):
        s = source_action()
        s["outputArtifacts"] = [{"name": "A"}, {"name": "B"}]
        self.rejects(declaration("maxcount", [
            {"name": "Source", "actions": [s]},
            {"name": "Build", "actions": [build_action(inp="A")]}]),
            "InvalidActionDeclarationException",
            "Action Source declares 2 output artifacts which is more than the maximum count (1)")

    def test_codecommit_requires_branch_name(self):
        s = source_action()
        del s["configuration"]["BranchName"]
        self.rejects(declaration("cc", [{"name": "Source", "actions": [s]},
                                        {"name": "Build", "actions": [build_action()]}]),
                     "InvalidActionDeclarationException",
                     "Action configuration for action 'Source' is missing required configuration "
                     "'BranchName'")

    def test_s3_source_requires_object_key(self):
        s = {"name": "S3", "actionTypeId": {"category": "Source", "owner": "AWS", "provider": "S3",
                                            "version": "1"},
             "configuration": {"S3Bucket": "b"}, "outputArtifacts": [{"name": "SourceOut"}]}
        self.rejects(declaration("s3src", [{"name": "Source", "actions": [s]},
                                           {"name": "Build", "actions": [build_action()]}]),
                     "InvalidActionDeclarationException",
                     "Action configuration for action 'S3' is missing required configuration "
                     "'S3ObjectKey'")

    def test_codebuild_requires_project_name(self):
        b = build_action()
        b["configuration"] = {}
        self.rejects(declaration("cb", [{"name": "Source", "actions": [source_action()]},
                                        {"name": "Build", "actions": [b]}]),
                     "InvalidActionDeclarationException",
                     "Action configuration for action 'Build' is missing required configuration "
                     "'ProjectName'")

    def test_codedeploy_requires_deployment_group(self):
        d = {"name": "CD", "actionTypeId": {"category": "Deploy", "owner": "AWS",
                                            "provider": "CodeDeploy", "version": "1"},
             "configuration": {"ApplicationName": "app"}, "inputArtifacts": [{"name": "SourceOut"}]}
        self.rejects(declaration("cd", [{"name": "Source", "actions": [source_action()]},
                                        {"name": "Deploy", "actions": [d]}]),
                     "InvalidActionDeclarationException",
                     "Action configuration for action 'CD' is missing required configuration "
                     "'DeploymentGroupName'")

    def test_s3_deploy_requires_object_key_without_extract(self):
        d = deploy_action(inp="SourceOut")
        d["configuration"]["Extract"] = "false"
        self.rejects(declaration("s3dep", [{"name": "Source", "actions": [source_action()]},
                                           {"name": "Deploy", "actions": [d]}]),
                     "InvalidActionDeclarationException")

    def test_unknown_configuration_key_is_refused(self):
        b = build_action()
        b["configuration"]["Colour"] = "blue"
        self.rejects(declaration("unknown", [{"name": "Source", "actions": [source_action()]},
                                             {"name": "Build", "actions": [b]}]),
                     "InvalidActionDeclarationException",
                     "Action configuration for action 'Build' contains unknown configuration "
                     "'Colour'")

    def test_category_owner_provider_must_exist(self):
        b = build_action()
        b["actionTypeId"]["provider"] = "CodeDeploy"
        self.rejects(declaration("ptype", [{"name": "Source", "actions": [source_action()]},
                                           {"name": "Build", "actions": [b]}]),
                     "InvalidActionDeclarationException",
                     "ActionType (Category: 'Build', Provider: 'CodeDeploy', Owner: 'AWS', "
                     "Version: '1') in action 'Build' is not available in region 'US_EAST_1'")

    def test_namespaces_are_unique(self):
        self.rejects(declaration("ns", [
            {"name": "Source", "actions": [source_action(namespace="Vars")]},
            {"name": "Build", "actions": [build_action(namespace="Vars")]}]),
            # AWS's exception and wording (aws/aws-cdk#6111)
            "InvalidActionDeclarationException",
            "Namespaces must be unique across the pipeline definition. The following occur more "
            "than once in the pipeline. StageName=[Build], ActionName=[Build], Namespace=[Vars]")

    def test_namespace_must_not_clash_with_an_artifact(self):
        self.rejects(declaration("nsart", [
            {"name": "Source", "actions": [source_action(namespace="SourceOut")]},
            {"name": "Build", "actions": [build_action()]}]),
            "InvalidStructureException")

    def test_variables_reference_only_earlier_namespaces(self):
        b = build_action(namespace="BuildVars")
        b["configuration"]["EnvironmentVariables"] = '[{"name":"X","value":"#{Later.Id}"}]'
        self.rejects(declaration("vars", [
            {"name": "Source", "actions": [source_action(namespace="SourceVars")]},
            {"name": "Build", "actions": [b]},
            {"name": "Deploy", "actions": [dict(approval(), namespace="Later")]}]),
            "InvalidActionDeclarationException",
            "Action 'Build' references variable namespace 'Later' which is not declared by an "
            "action that runs before it")

    def test_artifact_store_xor_artifact_stores(self):
        d = declaration("stores")
        del d["artifactStore"]
        self.rejects(d, "InvalidStructureException")
        d = declaration("stores", artifactStores={"us-east-1": {"type": "S3", "location": "other-bucket"}})
        self.rejects(d, "InvalidStructureException")

    def test_queued_and_parallel_only_on_v2(self):
        self.rejects(declaration("mode", executionMode="QUEUED"), "ValidationException")
        self.rejects(declaration("mode", executionMode="PARALLEL", pipelineType="V1"),
                     "ValidationException")

    def test_at_most_50_stages(self):
        stages = [{"name": "Source", "actions": [source_action()]}] + [
            {"name": "S%d" % i, "actions": [approval()]} for i in range(50)]
        self.rejects(declaration("many", stages), "InvalidStructureException",
                     "Pipeline has 51 stages. There should be a maximum of 50 stages in a pipeline")

    def test_at_most_50_actions_per_stage(self):
        self.rejects(declaration("wide", [
            {"name": "Source", "actions": [source_action()]},
            {"name": "Approve", "actions": [approval("A%d" % i) for i in range(51)]}]),
            "InvalidStageDeclarationException",
            "Stage Approve has 51 actions. There should be a maximum of 50 actions in a stage")

    def test_blocker_names_unique_and_bounded(self):
        d = declaration("blockers")
        d["stages"][1]["blockers"] = [{"name": "b", "type": "Schedule"}] * 2
        self.rejects(d, "InvalidBlockerDeclarationException")
        d["stages"][1]["blockers"] = [{"name": "b%d" % i, "type": "Schedule"} for i in range(51)]
        self.rejects(d, "InvalidBlockerDeclarationException")

    def test_run_order_range(self):
        self.rejects(declaration("order", [
            {"name": "Source", "actions": [source_action()]},
            {"name": "Approve", "actions": [approval(runOrder=1000)]}]),
            "ValidationException")

    def test_configuration_value_size(self):
        b = build_action()
        b["configuration"]["ProjectName"] = "x" * 1001
        self.rejects(declaration("size", [{"name": "Source", "actions": [source_action()]},
                                          {"name": "Build", "actions": [b]}]),
                     "ValidationException")

    def test_source_actions_stay_in_the_pipeline_region(self):
        d = declaration("srcregion", [
            {"name": "Source", "actions": [source_action(region="us-west-2")]},
            {"name": "Build", "actions": [build_action()]}])
        del d["artifactStore"]
        d["artifactStores"] = {"us-east-1": {"type": "S3", "location": "bucket-a"},
                               "us-west-2": {"type": "S3", "location": "bucket-b"}}
        self.rejects(d, "InvalidActionDeclarationException")

    def test_triggers_need_a_v2_pipeline(self):
        d = declaration("trigv1", pipelineType="V1", triggers=[{
            "providerType": "CodeStarSourceConnection",
            "gitConfiguration": {"sourceActionName": "Source",
                                 "push": [{"tags": {"includes": ["v*"]}}]}}])
        # AWS's exception and wording (cloudposse/terraform-aws-ecs-codepipeline#145)
        self.rejects(d, "InvalidStructureException",
                     "Triggers on tag can only be used with V2 pipelines")

    def test_trigger_must_name_a_connection_source(self):
        d = declaration("trig", pipelineType="V2", triggers=[{
            "providerType": "CodeStarSourceConnection",
            "gitConfiguration": {"sourceActionName": "Source"}}])
        self.rejects(d, "InvalidStructureException",
                     "Triggers for connection must reference a CodeStarSourceConnection action. "
                     "Note that when you specify a trigger, you cant specify more than one "
                     "trigger per source action.")

    def test_commands_only_on_compute_actions(self):
        self.rejects(declaration("cmds", pipelineType="V2", stages=[
            {"name": "Source", "actions": [source_action()]},
            {"name": "Build", "actions": [build_action(commands=["make"])]}]),
            "InvalidActionDeclarationException",
            "The following action cannot contain a commands field: Build. To use the commands "
            "field, use a compute action.")

    def test_commands_action_needs_commands(self):
        cmd = {"name": "Run", "actionTypeId": {"category": "Compute", "owner": "AWS",
                                               "provider": "Commands", "version": "1"},
               "inputArtifacts": [{"name": "SourceOut"}]}
        # AWS's wording (hashicorp/terraform-provider-aws#42997)
        self.rejects(declaration("nocmds", pipelineType="V2", stages=[
            {"name": "Source", "actions": [source_action()]},
            {"name": "Run", "actions": [cmd]}]),
            "InvalidActionDeclarationException", "Action Run must have a non-empty commands field")

    def test_clone_ref_artifacts_are_for_codebuild_only(self):
        s = source_action()
        s["configuration"]["OutputArtifactFormat"] = "CODEBUILD_CLONE_REF"
        d = {"name": "CD", "actionTypeId": {"category": "Deploy", "owner": "AWS",
                                            "provider": "CodeDeploy", "version": "1"},
             "configuration": {"ApplicationName": "a", "DeploymentGroupName": "g"},
             "inputArtifacts": [{"name": "SourceOut"}]}
        self.rejects(declaration("cloneref", [{"name": "Source", "actions": [s]},
                                              {"name": "Deploy", "actions": [d]}]),
                     "InvalidActionDeclarationException")

    def test_boolean_configuration_values(self):
        s = source_action()
        s["configuration"]["PollForSourceChanges"] = "maybe"
        self.rejects(declaration("bools", [{"name": "Source", "actions": [s]},
                                           {"name": "Build", "actions": [build_action()]}]),
                     "InvalidActionDeclarationException",
                     "Action configuration for action 'Source' has an invalid value for "
                     "'PollForSourceChanges'. Valid values are true and false")


if __name__ == "__main__":
    unittest.main()
