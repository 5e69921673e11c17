"""CodePipeline tags, action types (built-in catalogue and custom) and webhooks through the AWS CLI
and boto3."""
import json
import unittest

from harness import ACCOUNT, ServerTestCase
from test_codepipeline_pipelines import (build_action, create_artifact_bucket, declaration,
                                         source_action)

ARN = "arn:aws:codepipeline:us-east-1:%s:" % ACCOUNT


def custom_type(provider="Jenkins", version="1", **extra):
    t = {"category": "Build", "provider": provider, "version": version,
         "settings": {"entityUrlTemplate": "https://ci.example/job/{Config:ProjectName}"},
         "configurationProperties": [{"name": "ProjectName", "required": True, "key": True,
                                      "secret": False, "queryable": True,
                                      "description": "The job", "type": "String"}],
         "inputArtifactDetails": {"minimumCount": 0, "maximumCount": 1},
         "outputArtifactDetails": {"minimumCount": 0, "maximumCount": 1}}
    t.update(extra)
    return t


def webhook(name="hook", pipeline="hooked", action="Source", **extra):
    w = {"name": name, "targetPipeline": pipeline, "targetAction": action,
         "filters": [{"jsonPath": "$.ref", "matchEquals": "refs/heads/{Branch}"}],
         "authentication": "GITHUB_HMAC", "authenticationConfiguration": {"SecretToken": "s3cr3t"}}
    w.update(extra)
    return w


class Tags(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        create_artifact_bucket(cls.server)

    def setUp(self):
        self.cp = self.client("codepipeline")

    def test_cli_tag_list_untag_on_a_pipeline(self):
        self.cp.create_pipeline(pipeline=declaration("tagged"),
                                tags=[{"key": "team", "value": "a"}])
        arn = ARN + "tagged"
        self.aws("codepipeline", "tag-resource", "--resource-arn", arn, "--tags",
                 "key=env,value=dev", "key=team,value=b")
        _, out, _ = self.aws("codepipeline", "list-tags-for-resource", "--resource-arn", arn)
        self.assertEqual(sorted((t["key"], t["value"]) for t in out["tags"]),
                         [("env", "dev"), ("team", "b")])
        self.aws("codepipeline", "untag-resource", "--resource-arn", arn, "--tag-keys", "team")
        out = self.cp.list_tags_for_resource(resourceArn=arn)
        self.assertEqual(out["tags"], [{"key": "env", "value": "dev"}])
        self.cp.delete_pipeline(name="tagged")
        self.assertClientError(lambda: self.cp.list_tags_for_resource(resourceArn=arn),
                               "ResourceNotFoundException", 400)

    def test_aws_prefixed_keys_are_invalid_tags(self):
        self.assertClientError(lambda: self.cp.create_pipeline(
            pipeline=declaration("awskey"), tags=[{"key": "aws:owner", "value": "x"}]),
            "InvalidTagsException", 400)
        self.cp.create_pipeline(pipeline=declaration("awskey"))
        self.assertClientError(lambda: self.cp.tag_resource(
            resourceArn=ARN + "awskey", tags=[{"key": "aws:x", "value": "y"}]),
            "InvalidTagsException", 400)
        self.cp.delete_pipeline(name="awskey")

    def test_more_than_50_tags_is_too_many_tags(self):
        tags = [{"key": "k%d" % i, "value": "v"} for i in range(50)]
        self.cp.create_pipeline(pipeline=declaration("full"), tags=tags)
        self.cp.tag_resource(resourceArn=ARN + "full", tags=[{"key": "k0", "value": "new"}])
        self.assertClientError(lambda: self.cp.tag_resource(
            resourceArn=ARN + "full", tags=[{"key": "k50", "value": "v"}]),
            "TooManyTagsException", 400)
        self.assertEqual(len(self.cp.list_tags_for_resource(resourceArn=ARN + "full")["tags"]), 50)
        self.assertClientError(lambda: self.cp.create_pipeline(
            pipeline=declaration("overfull"), tags=tags + [{"key": "k50", "value": "v"}]),
            "TooManyTagsException", 400)
        self.cp.delete_pipeline(name="full")

    def test_tags_on_custom_action_types_and_webhooks(self):
        self.cp.create_custom_action_type(**custom_type("Tagged"),
                                          tags=[{"key": "a", "value": "1"}])
        at = ARN + "actiontype:Custom/Build/Tagged/1"
        self.assertEqual(self.cp.list_tags_for_resource(resourceArn=at)["tags"],
                         [{"key": "a", "value": "1"}])
        self.cp.create_pipeline(pipeline=declaration("hooked"))
        self.cp.put_webhook(webhook=webhook("tagged-hook"), tags=[{"key": "b", "value": "2"}])
        wh = ARN + "webhook:tagged-hook"
        self.cp.tag_resource(resourceArn=wh, tags=[{"key": "c", "value": "3"}])
        self.assertEqual(len(self.cp.list_tags_for_resource(resourceArn=wh)["tags"]), 2)
        self.cp.delete_webhook(name="tagged-hook")
        self.cp.delete_custom_action_type(category="Build", provider="Tagged", version="1")
        self.cp.delete_pipeline(name="hooked")
        for arn in (at, wh):
            self.assertClientError(lambda: self.cp.list_tags_for_resource(resourceArn=arn),
                                   "ResourceNotFoundException", 400)

    def test_malformed_arn_is_invalid_arn(self):
        self.assertClientError(lambda: self.cp.list_tags_for_resource(
            resourceArn="arn:aws-cn:codepipeline:us-east-1:%s:x" % ACCOUNT),
            "InvalidArnException", 400)
        self.assertClientError(lambda: self.cp.list_tags_for_resource(
            resourceArn="arn:aws:codepipeline:eu-west-1:%s:x" % ACCOUNT),
            "ResourceNotFoundException", 400)


class ActionTypes(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        create_artifact_bucket(cls.server)

    def setUp(self):
        self.cp = self.client("codepipeline")

    def test_cli_lists_the_built_in_catalogue(self):
        _, out, _ = self.aws("codepipeline", "list-action-types", "--action-owner-filter", "AWS")
        ids = {(t["id"]["category"], t["id"]["provider"]) for t in out["actionTypes"]}
        for want in [("Source", "S3"), ("Source", "CodeCommit"), ("Build", "CodeBuild"),
                     ("Test", "CodeBuild"), ("Deploy", "S3"), ("Deploy", "CodeDeploy"),
                     ("Approval", "Manual"), ("Invoke", "Lambda")]:
            self.assertIn(want, ids)
        self.assertTrue(all(t["id"]["owner"] == "AWS" for t in out["actionTypes"]))
        cb = [t for t in out["actionTypes"]
              if t["id"]["category"] == "Build" and t["id"]["provider"] == "CodeBuild"][0]
        self.assertEqual(cb["inputArtifactDetails"], {"minimumCount": 1, "maximumCount": 5})
        self.assertEqual(cb["outputArtifactDetails"], {"minimumCount": 0, "maximumCount": 5})
        props = {p["name"]: p for p in cb["actionConfigurationProperties"]}
        self.assertTrue(props["ProjectName"]["required"])
        self.assertFalse(props["PrimarySource"]["required"])

    def test_custom_action_type_lifecycle_and_versioning(self):
        _, out, _ = self.aws("codepipeline", "create-custom-action-type", "--cli-input-json",
                             json.dumps(custom_type()))
        self.assertEqual(out["actionType"]["id"],
                         {"category": "Build", "owner": "Custom", "provider": "Jenkins",
                          "version": "1"})
        listed = self.cp.list_action_types(actionOwnerFilter="Custom")["actionTypes"]
        self.assertEqual([t["id"]["provider"] for t in listed], ["Jenkins"])
        self.assertIn("Jenkins", [t["id"]["provider"]
                                  for t in self.cp.list_action_types()["actionTypes"]])
        # The custom type can be used in a pipeline, with its own configuration properties.
        job = {"name": "Job", "actionTypeId": {"category": "Build", "owner": "Custom",
                                               "provider": "Jenkins", "version": "1"},
               "configuration": {"ProjectName": "x"}, "inputArtifacts": [{"name": "SourceOut"}]}
        self.cp.create_pipeline(pipeline=declaration("custom", [
            {"name": "Source", "actions": [source_action()]}, {"name": "Build", "actions": [job]}]))
        self.cp.delete_pipeline(name="custom")
        self.aws("codepipeline", "delete-custom-action-type", "--category", "Build", "--provider",
                 "Jenkins", "--action-version", "1")
        self.assertEqual(self.cp.list_action_types(actionOwnerFilter="Custom")["actionTypes"], [])
        # A deleted version cannot be re-created with another definition...
        self.assertClientError(lambda: self.cp.create_custom_action_type(
            **custom_type(inputArtifactDetails={"minimumCount": 0, "maximumCount": 2})),
            "ValidationException", 400)
        # ...and is no longer usable in pipelines.
        self.assertClientError(lambda: self.cp.create_pipeline(pipeline=declaration("custom", [
            {"name": "Source", "actions": [source_action()]}, {"name": "Build", "actions": [job]}])),
            "InvalidActionDeclarationException", 400)
        # A new version string works.
        self.cp.create_custom_action_type(**custom_type(version="2"))
        self.cp.delete_custom_action_type(category="Build", provider="Jenkins", version="2")

    def test_cli_example_custom_action_round_trips_member_by_member(self):
        # awscli/examples/codepipeline/create-custom-action-type.rst, and the shape its
        # list-action-types example shows for custom types.
        example = {
            "category": "Build", "provider": "MyJenkinsProviderName", "version": "1",
            "settings": {
                "entityUrlTemplate": "https://192.0.2.4/job/{Config:ProjectName}/",
                "executionUrlTemplate": "https://192.0.2.4/job/{Config:ProjectName}/"
                                        "lastSuccessfulBuild/{ExternalExecutionId}/"},
            "configurationProperties": [{
                "name": "MyJenkinsExampleBuildProject", "required": True, "key": True,
                "secret": False, "queryable": False,
                "description": "The name of the build project must be provided when this action "
                               "is added to the pipeline.", "type": "String"}],
            "inputArtifactDetails": {"maximumCount": 1, "minimumCount": 0},
            "outputArtifactDetails": {"maximumCount": 1, "minimumCount": 0}}
        _, out, _ = self.aws("codepipeline", "create-custom-action-type", "--cli-input-json",
                             json.dumps(example))
        self.assertEqual(set(out), {"actionType"})
        at = out["actionType"]
        self.assertEqual(set(at), {"id", "settings", "actionConfigurationProperties",
                                   "inputArtifactDetails", "outputArtifactDetails"})
        self.assertEqual(at["id"], {"category": "Build", "owner": "Custom",
                                    "provider": "MyJenkinsProviderName", "version": "1"})
        self.assertEqual(at["settings"], example["settings"])
        # As the API reference's CreateCustomActionType sample response: the properties come
        # back as sent but without "type", and nothing (no JobList) is added.
        self.assertEqual(at["actionConfigurationProperties"],
                         [{k: v for k, v in p.items() if k != "type"}
                          for p in example["configurationProperties"]])
        self.assertEqual(at["inputArtifactDetails"], {"minimumCount": 0, "maximumCount": 1})
        self.assertEqual(at["outputArtifactDetails"], {"minimumCount": 0, "maximumCount": 1})
        _, listed, _ = self.aws("codepipeline", "list-action-types", "--action-owner-filter",
                                "Custom")
        self.assertEqual(listed, {"actionTypes": [at]})
        self.cp.delete_custom_action_type(category="Build", provider="MyJenkinsProviderName",
                                          version="1")

    def test_joblist_may_be_set_on_a_custom_action(self):
        # The user guide (actions-create-custom-action) has pipelines set JobList on custom
        # actions to narrow the jobs their worker polls for.
        self.cp.create_custom_action_type(**custom_type("Lister"))
        job = {"name": "Job", "actionTypeId": {"category": "Build", "owner": "Custom",
                                               "provider": "Lister", "version": "1"},
               "configuration": {"ProjectName": "x", "JobList": "a,b"},
               "inputArtifacts": [{"name": "SourceOut"}]}
        self.cp.create_pipeline(pipeline=declaration("joblist", [
            {"name": "Source", "actions": [source_action()]}, {"name": "Build", "actions": [job]}]))
        self.cp.delete_pipeline(name="joblist")
        # The value of a queryable property is at most 20 of [A-Za-z0-9_-] (the model).
        job["configuration"]["ProjectName"] = "not queryable!"
        self.assertClientError(lambda: self.cp.create_pipeline(pipeline=declaration("joblist", [
            {"name": "Source", "actions": [source_action()]}, {"name": "Build", "actions": [job]}])),
            "InvalidActionDeclarationException", 400)
        self.cp.delete_custom_action_type(category="Build", provider="Lister", version="1")

    def test_queryable_property_rules(self):
        two = custom_type("TwoQ", configurationProperties=[
            {"name": "A", "required": True, "key": True, "secret": False, "queryable": True},
            {"name": "B", "required": True, "key": False, "secret": False, "queryable": True}])
        self.assertClientError(lambda: self.cp.create_custom_action_type(**two),
                               "ValidationException", 400)
        optional = custom_type("OptQ", configurationProperties=[
            {"name": "A", "required": False, "key": True, "secret": False, "queryable": True}])
        self.assertClientError(lambda: self.cp.create_custom_action_type(**optional),
                               "ValidationException", 400)
        secret = custom_type("SecQ", configurationProperties=[
            {"name": "A", "required": True, "key": True, "secret": True, "queryable": True}])
        self.assertClientError(lambda: self.cp.create_custom_action_type(**secret),
                               "ValidationException", 400)
        self.assertEqual(self.cp.list_action_types(actionOwnerFilter="Custom")["actionTypes"], [])

    def test_owner_and_region_filters(self):
        west = self.client("codepipeline", region="us-west-2")
        west.create_custom_action_type(**custom_type("WestOnly"))
        here = self.cp.list_action_types()["actionTypes"]
        self.assertNotIn("WestOnly", [t["id"]["provider"] for t in here])
        there = self.cp.list_action_types(regionFilter="us-west-2")["actionTypes"]
        self.assertIn("WestOnly", [t["id"]["provider"] for t in there])
        self.assertIn(("Build", "AWS", "CodeBuild"),
                      [(t["id"]["category"], t["id"]["owner"], t["id"]["provider"]) for t in there])
        for owner in ("AWS", "ThirdParty", "Custom"):
            got = self.cp.list_action_types(actionOwnerFilter=owner, regionFilter="us-west-2")
            self.assertTrue(got["actionTypes"])
            self.assertEqual({t["id"]["owner"] for t in got["actionTypes"]}, {owner})
        self.assertClientError(lambda: self.cp.list_action_types(nextToken="bogus"),
                               "InvalidNextTokenException", 400)
        west.delete_custom_action_type(category="Build", provider="WestOnly", version="1")

    def test_existing_custom_action_type_cannot_be_created_twice(self):
        self.cp.create_custom_action_type(**custom_type("Twice"))
        self.assertClientError(lambda: self.cp.create_custom_action_type(**custom_type("Twice")),
                               "ActionTypeAlreadyExistsException", 400)
        self.cp.delete_custom_action_type(category="Build", provider="Twice", version="1")

    def test_get_action_type_and_update_action_type(self):
        got = self.cp.get_action_type(category="Source", owner="AWS", provider="CodeCommit",
                                      version="1")["actionType"]
        self.assertEqual(got["id"]["provider"], "CodeCommit")
        self.assertEqual(got["outputArtifactDetails"], {"minimumCount": 1, "maximumCount": 1})
        self.assertClientError(lambda: self.cp.get_action_type(
            category="Build", owner="AWS", provider="Nothing", version="1"),
            "ActionTypeNotFoundException", 400)
        decl = self.cp.get_action_type(category="Source", owner="ThirdParty", provider="GitHub",
                                       version="1")["actionType"]
        decl["description"] = "GitHub (updated)"
        self.aws("codepipeline", "update-action-type", "--cli-input-json",
                 json.dumps({"actionType": decl}))
        _, out, _ = self.aws("codepipeline", "get-action-type", "--category", "Source", "--owner",
                             "ThirdParty", "--provider", "GitHub", "--action-version", "1")
        again = out["actionType"]
        self.assertEqual(again["description"], "GitHub (updated)")
        missing = dict(decl, id=dict(decl["id"], provider="NotThere"))
        self.assertClientError(lambda: self.cp.update_action_type(actionType=missing),
                               "ActionTypeNotFoundException", 400)


class Webhooks(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        create_artifact_bucket(cls.server)

    def setUp(self):
        self.cp = self.client("codepipeline")
        self.cp.create_pipeline(pipeline=declaration("hooked"))

    def tearDown(self):
        for w in self.cp.list_webhooks()["webhooks"]:
            self.cp.delete_webhook(name=w["definition"]["name"])
        self.cp.delete_pipeline(name="hooked")

    def test_cli_put_list_register_delete(self):
        _, out, _ = self.aws("codepipeline", "put-webhook", "--cli-input-json",
                             json.dumps({"webhook": webhook()}))
        url = out["webhook"]["url"]
        self.assertEqual(url, "%s/webhooks/us-east-1/%s/hook" % (self.server.endpoint, ACCOUNT))
        self.assertEqual(out["webhook"]["arn"], ARN + "webhook:hook")
        self.aws("codepipeline", "register-webhook-with-third-party", "--webhook-name", "hook")
        self.aws("codepipeline", "deregister-webhook-with-third-party", "--webhook-name", "hook")
        # Updating keeps the URL stable.
        out2 = self.cp.put_webhook(webhook=webhook(filters=[{"jsonPath": "$.ref"}]))["webhook"]
        self.assertEqual(out2["url"], url)
        _, lst, _ = self.aws("codepipeline", "list-webhooks")
        self.assertEqual([w["definition"]["name"] for w in lst["webhooks"]], ["hook"])
        self.assertEqual(lst["webhooks"][0]["definition"]["filters"], [{"jsonPath": "$.ref"}])
        self.aws("codepipeline", "delete-webhook", "--name", "hook")
        self.aws("codepipeline", "delete-webhook", "--name", "hook")
        self.assertEqual(self.cp.list_webhooks()["webhooks"], [])

    def test_list_webhooks_pages_with_its_own_casing(self):
        for i in range(7):
            self.cp.put_webhook(webhook=webhook("w%d" % i))
        first = self.cp.list_webhooks(MaxResults=3)
        self.assertEqual(len(first["webhooks"]), 3)
        self.assertIn("NextToken", first)
        pages = list(self.cp.get_paginator("list_webhooks").paginate(
            PaginationConfig={"PageSize": 3}))
        self.assertEqual([len(p["webhooks"]) for p in pages], [3, 3, 1])
        self.assertEqual([w["definition"]["name"] for p in pages for w in p["webhooks"]],
                         ["w%d" % i for i in range(7)])

    def test_errors(self):
        self.assertClientError(lambda: self.cp.put_webhook(webhook=webhook(pipeline="nope")),
                               "PipelineNotFoundException", 400)
        # AWS's wording (boltops-tools/pipedream#7): the target must be a first-stage action.
        self.assertClientError(lambda: self.cp.put_webhook(webhook=webhook(action="Build")),
                               "ValidationException", 400,
                               "Action with name Build was not found in the first stage of the "
                               "pipeline")
        self.assertClientError(lambda: self.cp.put_webhook(
            webhook=webhook(filters=[{"jsonPath": "ref"}])),
            "InvalidWebhookFilterPatternException", 400)
        self.assertClientError(lambda: self.cp.put_webhook(
            webhook=webhook(authenticationConfiguration={})),
            "InvalidWebhookAuthenticationParametersException", 400)
        self.assertClientError(lambda: self.cp.put_webhook(
            webhook=webhook(authentication="IP",
                            authenticationConfiguration={"AllowedIPRange": "not-a-cidr"})),
            "InvalidWebhookAuthenticationParametersException", 400)
        self.cp.put_webhook(webhook=webhook(
            "ip", authentication="IP", authenticationConfiguration={"AllowedIPRange": "10.0.0.0/8"}))
        self.assertClientError(
            lambda: self.cp.register_webhook_with_third_party(webhookName="nope"),
            "WebhookNotFoundException", 400)
        self.assertClientError(
            lambda: self.cp.deregister_webhook_with_third_party(webhookName="nope"),
            "WebhookNotFoundException", 400)


if __name__ == "__main__":
    unittest.main()
