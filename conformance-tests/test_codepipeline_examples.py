"""CodePipeline definition operations replayed from the AWS CLI's own examples
(awscli/examples/codepipeline/*.rst): every response is compared member by member with the output
the example shows, and checked strictly against the botocore model's output shape (no member the
model lacks, every required member present, each value of the model's type, timestamps as epoch
seconds)."""
import json
import os
import re
import tempfile
import unittest

import botocore.session

from harness import ACCOUNT, ServerTestCase
from test_codepipeline_pipelines import create_artifact_bucket

MODEL = botocore.session.get_session().get_service_model("codepipeline")

# create-pipeline.rst / update-pipeline.rst: MySecondPipeline.json (update: bucket2).
EXAMPLE_PIPELINE = {
    "roleArn": "arn:aws:iam::111111111111:role/AWS-CodePipeline-Service",
    "stages": [
        {"name": "Source", "actions": [{
            "inputArtifacts": [], "name": "Source",
            "actionTypeId": {"category": "Source", "owner": "AWS", "version": "1",
                             "provider": "S3"},
            "outputArtifacts": [{"name": "MyApp"}],
            "configuration": {"S3Bucket": "awscodepipeline-demo-bucket",
                              "S3ObjectKey": "aws-codepipeline-s3-aws-codedeploy_linux.zip"},
            "runOrder": 1}]},
        {"name": "Beta", "actions": [{
            "inputArtifacts": [{"name": "MyApp"}], "name": "CodePipelineDemoFleet",
            "actionTypeId": {"category": "Deploy", "owner": "AWS", "version": "1",
                             "provider": "CodeDeploy"},
            "outputArtifacts": [],
            "configuration": {"ApplicationName": "CodePipelineDemoApplication",
                              "DeploymentGroupName": "CodePipelineDemoFleet"},
            "runOrder": 1}]}],
    # The example's "codepipeline-us-east-1-11EXAMPLE11" in lower case: the bucket must exist,
    # and S3 bucket names have no capitals.
    "artifactStore": {"type": "S3", "location": "codepipeline-us-east-1-11example11"},
    "name": "MySecondPipeline",
    "version": 1}

# put-webhook.rst: webhook_json.json, pointed at the example pipeline.
EXAMPLE_WEBHOOK = {
    "name": "my-webhook", "targetPipeline": "MySecondPipeline", "targetAction": "Source",
    "filters": [{"jsonPath": "$.ref", "matchEquals": "refs/heads/{Branch}"}],
    "authentication": "GITHUB_HMAC", "authenticationConfiguration": {"SecretToken": "secret"}}

EPOCH_MS = re.compile(r"^\d{10}(\.\d{1,3})?$")


def shape_errors(shape, value, path="", errors=None):
    """Returns the ways value departs from the botocore shape (an empty list when it conforms)."""
    errors = [] if errors is None else errors
    t = shape.type_name
    if t == "structure":
        if not isinstance(value, dict):
            errors.append("%s: %r is not an object" % (path, value))
            return errors
        for k, v in value.items():
            if k not in shape.members:
                errors.append("%s: member %s is not in %s" % (path, k, shape.name))
            else:
                shape_errors(shape.members[k], v, path + "." + k, errors)
        for r in shape.required_members:
            if r not in value:
                errors.append("%s: required member %s is missing" % (path, r))
    elif t == "list":
        if not isinstance(value, list):
            errors.append("%s: %r is not a list" % (path, value))
            return errors
        for i, v in enumerate(value):
            shape_errors(shape.member, v, "%s[%d]" % (path, i), errors)
    elif t == "map":
        if not isinstance(value, dict):
            errors.append("%s: %r is not a map" % (path, value))
            return errors
        for k, v in value.items():
            shape_errors(shape.value, v, "%s{%s}" % (path, k), errors)
    elif t == "string":
        if not isinstance(value, str):
            errors.append("%s: %r is not a string" % (path, value))
        elif shape.enum and value not in shape.enum:
            errors.append("%s: %r is not one of %s" % (path, value, shape.enum))
    elif t in ("integer", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            errors.append("%s: %r is not an integer" % (path, value))
    elif t == "boolean":
        if not isinstance(value, bool):
            errors.append("%s: %r is not a boolean" % (path, value))
    elif t == "timestamp":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or \
                not EPOCH_MS.match(repr(value)):
            errors.append("%s: %r is not epoch seconds" % (path, value))
    return errors


# The API reference's ListActionTypes sample response (AWS-owned and third-party entries). The
# sample predates some properties (PollForSourceChanges...): those it lists must match exactly.
API_REFERENCE_ACTION_TYPES = [
    {"id": {"category": "Source", "owner": "AWS", "version": "1", "provider": "S3"},
     "inputArtifactDetails": {"maximumCount": 0, "minimumCount": 0},
     "outputArtifactDetails": {"maximumCount": 1, "minimumCount": 1},
     "actionConfigurationProperties": [
         {"description": "The S3 Bucket", "required": True, "secret": False, "key": True,
          "queryable": False, "name": "S3Bucket"},
         {"description": "The Amazon S3 object key", "required": True, "secret": False,
          "key": True, "queryable": False, "name": "S3ObjectKey"}],
     "settings": {"entityUrlTemplate": "https://console.aws.amazon.com/s3/home?#"}},
    {"id": {"category": "Deploy", "owner": "AWS", "version": "1", "provider": "ElasticBeanstalk"},
     "inputArtifactDetails": {"maximumCount": 1, "minimumCount": 1},
     "outputArtifactDetails": {"maximumCount": 0, "minimumCount": 0},
     "actionConfigurationProperties": [
         {"description": "The Elastic Beanstalk Application name", "required": True,
          "secret": False, "key": True, "queryable": False, "name": "ApplicationName"},
         {"description": "The Elastic Beanstalk Environment name", "required": True,
          "secret": False, "key": True, "queryable": False, "name": "EnvironmentName"}],
     "settings": {
         "entityUrlTemplate": "https://console.aws.amazon.com/elasticbeanstalk/r/application/"
                              "{Config:ApplicationName}",
         "executionUrlTemplate": "https://console.aws.amazon.com/elasticbeanstalk/r/application/"
                                 "{Config:ApplicationName}"}},
    {"id": {"category": "Deploy", "owner": "AWS", "version": "1", "provider": "CodeDeploy"},
     "inputArtifactDetails": {"maximumCount": 1, "minimumCount": 1},
     "outputArtifactDetails": {"maximumCount": 0, "minimumCount": 0},
     "actionConfigurationProperties": [
         {"description": "The deployment application name", "required": True, "secret": False,
          "key": True, "queryable": False, "name": "ApplicationName"},
         {"description": "The deployment group name", "required": True, "secret": False,
          "key": True, "queryable": False, "name": "DeploymentGroupName"}],
     "settings": {
         "entityUrlTemplate": "https://console.aws.amazon.com/codedeploy/home?#/applications/"
                              "{Config:ApplicationName}/deployment-groups/"
                              "{Config:DeploymentGroupName}",
         "executionUrlTemplate": "https://console.aws.amazon.com/codedeploy/home?#/deployments/"
                                 "{ExternalExecutionId}"}},
    {"id": {"category": "Source", "owner": "ThirdParty", "version": "1", "provider": "GitHub"},
     "inputArtifactDetails": {"maximumCount": 0, "minimumCount": 0},
     "outputArtifactDetails": {"maximumCount": 1, "minimumCount": 1},
     "actionConfigurationProperties": [
         {"description": "The repository owner (username or organization)", "required": True,
          "secret": False, "key": True, "queryable": False, "name": "Owner"},
         {"description": "The name of the repository", "required": True, "secret": False,
          "key": True, "queryable": False, "name": "Repo"},
         {"description": "The tracked branch", "required": True, "secret": False, "key": True,
          "queryable": False, "name": "Branch"},
         {"description": "The OAuth2 token", "required": True, "secret": True, "key": False,
          "queryable": False, "name": "OAuthToken"}],
     "settings": {
         "entityUrlTemplate": "https://github.com/{Config:Owner}/{Config:Repo}/tree/"
                              "{Config:Branch}",
         "revisionUrlTemplate": "https://github.com/{Config:Owner}/{Config:Repo}/commit/"
                                "{RevisionId}"}},
]


class CliExamples(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        create_artifact_bucket(cls.server, EXAMPLE_PIPELINE["artifactStore"]["location"])

    def setUp(self):
        self.cp = self.client("codepipeline")
        self.tmp = tempfile.mkdtemp(prefix="cpl-examples-")

    def tearDown(self):
        for p in self.cp.list_pipelines()["pipelines"]:
            self.cp.delete_pipeline(name=p["name"])
        for w in self.cp.list_webhooks()["webhooks"]:
            self.cp.delete_webhook(name=w["definition"]["name"])
        for name in os.listdir(self.tmp):
            os.unlink(os.path.join(self.tmp, name))
        os.rmdir(self.tmp)

    def cli(self, operation, *args, body=None):
        """Runs `aws codepipeline <operation>` (with --cli-input-json file://... when body is
        given) and checks the output against the model's output shape; returns the output."""
        if body is not None:
            path = os.path.join(self.tmp, operation + ".json")
            with open(path, "w") as f:
                json.dump(body, f)
            args = args + ("--cli-input-json", "file://" + path)
        _, out, _ = self.aws("codepipeline", operation, *args)
        op = "".join(w.capitalize() for w in operation.split("-"))
        shape = MODEL.operation_model(op).output_shape
        if shape is None:
            self.assertEqual(out, {}, operation)
        else:
            self.assertEqual(shape_errors(shape, out, op), [], out)
        return out

    def assert_declaration(self, got, sent, version):
        """The declaration AWS returns: what was sent, version set, V1 defaults filled in."""
        want = json.loads(json.dumps(sent))
        want.update(version=version, executionMode="SUPERSEDED", pipelineType="V1")
        self.assertEqual(got, want)

    def test_pipeline_examples(self):
        # create-pipeline.rst: "This command returns the structure of the pipeline."
        out = self.cli("create-pipeline", body={"pipeline": EXAMPLE_PIPELINE})
        self.assertEqual(set(out), {"pipeline"})
        self.assert_declaration(out["pipeline"], EXAMPLE_PIPELINE, 1)
        # get-pipeline.rst: {"pipeline": ...}, and (newer AWS) metadata with ARN and times.
        got = self.cli("get-pipeline", "--name", "MySecondPipeline")
        self.assertEqual(set(got), {"pipeline", "metadata"})
        self.assertEqual(got["pipeline"], out["pipeline"])
        self.assertEqual(set(got["metadata"]), {"pipelineArn", "created", "updated"})
        self.assertEqual(got["metadata"]["pipelineArn"],
                         "arn:aws:codepipeline:us-east-1:%s:MySecondPipeline" % ACCOUNT)
        self.assertEqual(got["metadata"]["created"], got["metadata"]["updated"])
        # update-pipeline.rst: the output is the declaration with the version moved on.
        upd = json.loads(json.dumps(EXAMPLE_PIPELINE))
        upd["stages"][0]["actions"][0]["configuration"]["S3Bucket"] = \
            "awscodepipeline-demo-bucket2"
        out2 = self.cli("update-pipeline", body={"pipeline": upd})
        self.assertEqual(set(out2), {"pipeline"})
        self.assert_declaration(out2["pipeline"], upd, 2)
        got1 = self.cli("get-pipeline", "--name", "MySecondPipeline", "--pipeline-version", "1")
        self.assert_declaration(got1["pipeline"], EXAMPLE_PIPELINE, 1)
        # The example's input still says "version": 1 and its output says 3: the version a
        # declaration carries is ignored, every update moves it on by one.
        out3 = self.cli("update-pipeline", body={"pipeline": upd})
        self.assert_declaration(out3["pipeline"], upd, 3)
        # list-pipelines.rst: name, version, created, updated (epoch seconds with milliseconds),
        # plus pipelineType and executionMode in today's model.
        lst = self.cli("list-pipelines")
        self.assertEqual(set(lst), {"pipelines"})
        (summary,) = lst["pipelines"]
        self.assertEqual(set(summary), {"name", "version", "pipelineType", "executionMode",
                                        "created", "updated"})
        self.assertEqual((summary["name"], summary["version"]), ("MySecondPipeline", 3))
        self.assertGreaterEqual(summary["updated"], summary["created"])
        # delete-pipeline.rst: "Output: None."
        self.cli("delete-pipeline", "--name", "MySecondPipeline")
        self.assertEqual(self.cp.list_pipelines()["pipelines"], [])

    def test_action_type_examples(self):
        # list-action-types.rst without a filter: every entry has id, settings, properties and
        # artifact details; properties carry name/required/key/secret/queryable.
        out = self.cli("list-action-types")
        self.assertTrue(out["actionTypes"])
        for t in out["actionTypes"]:
            self.assertEqual(set(t), {"id", "settings", "actionConfigurationProperties",
                                      "inputArtifactDetails", "outputArtifactDetails"}, t)
            self.assertEqual(set(t["id"]), {"category", "owner", "provider", "version"})
            for d in ("inputArtifactDetails", "outputArtifactDetails"):
                self.assertEqual(set(t[d]), {"minimumCount", "maximumCount"})
                self.assertLessEqual(t[d]["minimumCount"], t[d]["maximumCount"])
            for p in t["actionConfigurationProperties"]:
                # ...and, as in the API reference's CreateCustomActionType sample, no "type".
                self.assertLessEqual({"name", "required", "key", "secret", "queryable"}, set(p))
                self.assertLessEqual(set(p), {"name", "required", "key", "secret", "queryable",
                                              "description"})
        # The entries the API reference's sample response shows, as it shows them.
        by_id = {json.dumps(t["id"], sort_keys=True): t for t in out["actionTypes"]}
        for want in API_REFERENCE_ACTION_TYPES:
            got = by_id[json.dumps(want["id"], sort_keys=True)]
            for k in ("inputArtifactDetails", "outputArtifactDetails", "settings"):
                self.assertEqual(got[k], want[k], want["id"])
            props = {p["name"]: p for p in got["actionConfigurationProperties"]}
            for p in want["actionConfigurationProperties"]:
                self.assertEqual(props[p["name"]], p, want["id"])
        # Built-in properties are never queryable (only custom job workers query).
        for t in out["actionTypes"]:
            if t["id"]["owner"] != "Custom":
                self.assertFalse(any(p["queryable"] for p in t["actionConfigurationProperties"]))
        # delete-custom-action-type.rst: "Output: None."
        self.cp.create_custom_action_type(
            category="Build", provider="MyJenkinsProviderName", version="1",
            inputArtifactDetails={"minimumCount": 0, "maximumCount": 5},
            outputArtifactDetails={"minimumCount": 0, "maximumCount": 5})
        self.cli("delete-custom-action-type", body={
            "category": "Build", "version": "1", "provider": "MyJenkinsProviderName"})
        self.assertEqual(self.cli("list-action-types", "--action-owner-filter", "Custom"),
                         {"actionTypes": []})

    def test_webhook_and_tag_examples(self):
        self.cp.create_pipeline(pipeline=EXAMPLE_PIPELINE)
        # put-webhook.rst: url, definition and arn (tags, in today's model, inside the item).
        out = self.cli("put-webhook", "--region", "us-east-1", body={
            "webhook": EXAMPLE_WEBHOOK, "tags": [{"key": "Project", "value": "ProjectA"}]})
        item = out["webhook"]
        self.assertEqual(item["definition"], EXAMPLE_WEBHOOK)
        self.assertEqual(item["arn"], "arn:aws:codepipeline:us-east-1:%s:webhook:my-webhook"
                         % ACCOUNT)
        self.assertTrue(item["url"].startswith("http"))
        self.assertEqual(item["tags"], [{"key": "Project", "value": "ProjectA"}])
        # list-webhooks.rst: the same item.
        lst = self.cli("list-webhooks")
        self.assertEqual(lst["webhooks"], [item])
        # tag-resource.rst / list-tags-for-resource.rst / untag-resource.rst on the pipeline.
        arn = "arn:aws:codepipeline:us-east-1:%s:MySecondPipeline" % ACCOUNT
        self.cli("tag-resource", "--resource-arn", arn, "--tags", "key=Project,value=ProjectA",
                 "key=IscontainerBased,value=true")
        tags = self.cli("list-tags-for-resource", "--resource-arn", arn)["tags"]
        self.assertEqual(sorted((t["key"], t["value"]) for t in tags),
                         [("IscontainerBased", "true"), ("Project", "ProjectA")])
        self.cli("untag-resource", "--resource-arn", arn, "--tag-keys", "Project",
                 "IscontainerBased")
        self.assertEqual(self.cli("list-tags-for-resource", "--resource-arn", arn),
                         {"tags": []})
        # register/deregister-webhook-with-third-party.rst and delete-webhook.rst: no output.
        self.cli("register-webhook-with-third-party", "--webhook-name", "my-webhook")
        self.cli("deregister-webhook-with-third-party", "--webhook-name", "my-webhook")
        self.cli("delete-webhook", "--name", "my-webhook")
        self.assertEqual(self.cp.list_webhooks()["webhooks"], [])

    def test_v2_declaration_and_action_type_declaration_match_the_model(self):
        v2 = json.loads(json.dumps(EXAMPLE_PIPELINE))
        v2.update(name="V2Example", pipelineType="V2", executionMode="PARALLEL",
                  variables=[{"name": "Env", "defaultValue": "dev", "description": "d"}])
        v2["stages"][1]["onFailure"] = {"result": "ROLLBACK"}
        del v2["version"]
        self.cp.create_pipeline(pipeline=v2)
        got = self.cli("get-pipeline", "--name", "V2Example")
        self.assertEqual((got["pipeline"]["pipelineType"], got["pipeline"]["executionMode"]),
                         ("V2", "PARALLEL"))
        self.assertEqual(got["pipeline"]["variables"], v2["variables"])
        for owner, provider in (("AWS", "CodeBuild"), ("ThirdParty", "GitHub")):
            category = "Build" if provider == "CodeBuild" else "Source"
            self.cli("get-action-type", "--category", category, "--owner", owner,
                     "--provider", provider, "--action-version", "1")


if __name__ == "__main__":
    unittest.main()
