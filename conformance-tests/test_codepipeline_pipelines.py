"""CodePipeline pipeline declarations through the AWS CLI and boto3: create, get (with versions),
update, list (paginated), delete, defaults, V2 fields, account/region isolation and persistence."""
import copy
import json
import os
import tempfile
import time
import unittest

from botocore.exceptions import ClientError

from harness import ACCESS_KEY, ACCOUNT, REGION, SECRET_KEY, ServerTestCase

ROLE = "arn:aws:iam::%s:role/codepipeline" % ACCOUNT
OTHER_ACCOUNT = "111122223333"
OTHER_KEY, OTHER_SECRET = "AKIAOTHERACCOUNT0001", "other-secret"
ARTIFACT_BUCKET = "artifact-bucket"


def create_artifact_bucket(server, bucket=ARTIFACT_BUCKET, region=REGION, access_key=ACCESS_KEY,
                           secret_key=SECRET_KEY):
    """Creates bucket in region for the key's account on server, as CreatePipeline needs its
    artifact bucket to exist (a bucket the account already owns is kept)."""
    tc = ServerTestCase()
    tc.server = server
    s3 = tc.client("s3", region=region, access_key=access_key, secret_key=secret_key)
    kw = {} if region == "us-east-1" else {
        "CreateBucketConfiguration": {"LocationConstraint": region}}
    try:
        s3.create_bucket(Bucket=bucket, **kw)
    except ClientError as e:
        if e.response["Error"]["Code"] != "BucketAlreadyOwnedByYou":
            raise


def source_action(name="Source", out="SourceOut", **extra):
    a = {"name": name,
         "actionTypeId": {"category": "Source", "owner": "AWS", "provider": "CodeCommit",
                          "version": "1"},
         "configuration": {"RepositoryName": "repo", "BranchName": "main"},
         "outputArtifacts": [{"name": out}]}
    a.update(extra)
    return a


def build_action(name="Build", inp="SourceOut", out=None, **extra):
    a = {"name": name,
         "actionTypeId": {"category": "Build", "owner": "AWS", "provider": "CodeBuild",
                          "version": "1"},
         "configuration": {"ProjectName": "proj"},
         "inputArtifacts": [{"name": inp}]}
    if out:
        a["outputArtifacts"] = [{"name": out}]
    a.update(extra)
    return a


def deploy_action(name="Deploy", inp="BuildOut"):
    return {"name": name,
            "actionTypeId": {"category": "Deploy", "owner": "AWS", "provider": "S3",
                             "version": "1"},
            "configuration": {"BucketName": "site", "Extract": "true"},
            "inputArtifacts": [{"name": inp}]}


def declaration(name="demo", stages=None, **extra):
    d = {"name": name, "roleArn": ROLE,
         "artifactStore": {"type": "S3", "location": ARTIFACT_BUCKET},
         "stages": stages if stages is not None else [
             {"name": "Source", "actions": [source_action()]},
             {"name": "Build", "actions": [build_action(out="BuildOut")]}]}
    d.update(extra)
    return d


def four_stage(name="demo4"):
    return declaration(name, [
        {"name": "Source", "actions": [source_action()]},
        {"name": "Build", "actions": [build_action(out="BuildOut")]},
        {"name": "Test", "actions": [{
            "name": "Test", "actionTypeId": {"category": "Test", "owner": "AWS",
                                             "provider": "CodeBuild", "version": "1"},
            "configuration": {"ProjectName": "tests"}, "inputArtifacts": [{"name": "BuildOut"}]}]},
        {"name": "Deploy", "actions": [deploy_action()]}])


class Pipelines(ServerTestCase):
    credentials = [(OTHER_KEY, OTHER_SECRET, OTHER_ACCOUNT)]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        create_artifact_bucket(cls.server)

    def setUp(self):
        self.cp = self.client("codepipeline")

    def tearDown(self):
        for p in self.cp.get_paginator("list_pipelines").paginate().build_full_result()["pipelines"]:
            self.cp.delete_pipeline(name=p["name"])

    # --- the AWS CLI ---------------------------------------------------------------------------

    def test_cli_create_get_update_list_delete(self):
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump({"pipeline": declaration("cli-demo")}, f)
        try:
            _, out, _ = self.aws("codepipeline", "create-pipeline", "--cli-input-json",
                                 "file://" + f.name)
            self.assertEqual(out["pipeline"]["version"], 1)
            self.assertEqual(out["pipeline"]["name"], "cli-demo")
            _, got, _ = self.aws("codepipeline", "get-pipeline", "--name", "cli-demo")
            self.assertEqual(got["pipeline"], out["pipeline"])
            self.assertEqual(got["metadata"]["pipelineArn"],
                             "arn:aws:codepipeline:us-east-1:%s:cli-demo" % ACCOUNT)
            upd = declaration("cli-demo")
            upd["stages"][1]["actions"][0]["configuration"]["ProjectName"] = "other"
            with open(f.name, "w") as g:
                json.dump({"pipeline": upd}, g)
            _, out2, _ = self.aws("codepipeline", "update-pipeline", "--cli-input-json",
                                  "file://" + f.name)
            self.assertEqual(out2["pipeline"]["version"], 2)
            _, v1, _ = self.aws("codepipeline", "get-pipeline", "--name", "cli-demo",
                                "--pipeline-version", "1")
            self.assertEqual(v1["pipeline"]["version"], 1)
            self.assertEqual(
                v1["pipeline"]["stages"][1]["actions"][0]["configuration"]["ProjectName"], "proj")
            _, lst, _ = self.aws("codepipeline", "list-pipelines")
            self.assertEqual([p["name"] for p in lst["pipelines"]], ["cli-demo"])
            self.assertEqual(lst["pipelines"][0]["version"], 2)
            self.aws("codepipeline", "delete-pipeline", "--name", "cli-demo")
            rc, _, err = self.aws("codepipeline", "get-pipeline", "--name", "cli-demo", check=False)
            self.assertNotEqual(rc, 0)
            self.assertIn("PipelineNotFoundException", err)
        finally:
            os.unlink(f.name)

    # --- boto3 -----------------------------------------------------------------------------------

    def test_defaults_are_filled_as_aws_returns_them(self):
        d = declaration("defaults", [
            {"name": "Source", "actions": [source_action()]},
            {"name": "Approve", "actions": [{
                "name": "Ok", "actionTypeId": {"category": "Approval", "owner": "AWS",
                                               "provider": "Manual", "version": "1"}}]}])
        p = self.cp.create_pipeline(pipeline=d)["pipeline"]
        self.assertEqual(p["pipelineType"], "V1")
        self.assertEqual(p["executionMode"], "SUPERSEDED")
        self.assertEqual(p["version"], 1)
        ok = p["stages"][1]["actions"][0]
        self.assertEqual(ok["runOrder"], 1)
        self.assertEqual(ok["configuration"], {})
        self.assertEqual(ok["inputArtifacts"], [])
        self.assertEqual(ok["outputArtifacts"], [])
        self.assertEqual(self.cp.get_pipeline(name="defaults")["pipeline"], p)

    def test_v2_fields_are_stored_and_returned(self):
        d = declaration("v2", pipelineType="V2", executionMode="QUEUED",
                        variables=[{"name": "Env", "defaultValue": "dev", "description": "stage"}])
        d["stages"][1]["onFailure"] = {"result": "RETRY",
                                       "retryConfiguration": {"retryMode": "FAILED_ACTIONS"}}
        d["stages"][1]["actions"][0]["configuration"]["EnvironmentVariables"] = \
            '[{"name":"ENV","value":"#{variables.Env}"}]'
        self.cp.create_pipeline(pipeline=d)
        p = self.cp.get_pipeline(name="v2")["pipeline"]
        self.assertEqual(p["pipelineType"], "V2")
        self.assertEqual(p["executionMode"], "QUEUED")
        self.assertEqual(p["variables"], d["variables"])
        self.assertEqual(p["stages"][1]["onFailure"], d["stages"][1]["onFailure"])
        s = self.cp.list_pipelines()["pipelines"][0]
        self.assertEqual((s["pipelineType"], s["executionMode"]), ("V2", "QUEUED"))

    def test_v2_parameters_make_the_pipeline_v2(self):
        # The model's PipelineDeclaration.pipelineType: "Including V2 parameters ... will result
        # in the pipeline having the V2 type".
        d = declaration("impliedv2", variables=[{"name": "Env", "defaultValue": "dev"}])
        self.assertEqual(self.cp.create_pipeline(pipeline=d)["pipeline"]["pipelineType"], "V2")
        self.assertEqual(self.cp.list_pipelines()["pipelines"][0]["pipelineType"], "V2")
        self.assertClientError(lambda: self.cp.create_pipeline(pipeline=declaration(
            "saysv1", pipelineType="V1", variables=[{"name": "Env", "defaultValue": "dev"}])),
            "ValidationException", 400)

    def test_metadata_created_stays_and_updated_moves(self):
        self.cp.create_pipeline(pipeline=declaration("meta"))
        m1 = self.cp.get_pipeline(name="meta")["metadata"]
        time.sleep(0.05)
        self.cp.update_pipeline(pipeline=declaration("meta"))
        self.cp.update_pipeline(pipeline=declaration("meta"))
        got = self.cp.get_pipeline(name="meta")
        self.assertEqual(got["pipeline"]["version"], 3)
        self.assertEqual(got["metadata"]["created"], m1["created"])
        self.assertGreater(got["metadata"]["updated"], m1["updated"])
        for v in (1, 2, 3):
            self.assertEqual(self.cp.get_pipeline(name="meta", version=v)["pipeline"]["version"], v)

    def test_only_the_ten_latest_versions_are_kept(self):
        # AWS answers GetPipeline only for "the last 10 revisions" (boto/boto3#3760).
        self.cp.create_pipeline(pipeline=declaration("many"))
        for _ in range(12):
            self.cp.update_pipeline(pipeline=declaration("many"))
        for v in range(4, 14):
            self.assertEqual(self.cp.get_pipeline(name="many", version=v)["pipeline"]["version"],
                             v)
        for v in (1, 3, 14):
            self.assertClientError(lambda: self.cp.get_pipeline(name="many", version=v),
                                   "PipelineVersionNotFoundException", 400)

    def test_duplicate_name_is_pipeline_name_in_use(self):
        self.cp.create_pipeline(pipeline=declaration("dup"))
        self.assertClientError(lambda: self.cp.create_pipeline(pipeline=declaration("dup")),
                               "PipelineNameInUseException", 400)

    def test_get_missing_pipeline_and_version(self):
        self.assertClientError(
            lambda: self.cp.get_pipeline(name="nope"), "PipelineNotFoundException", 400,
            "Account '%s' does not have a pipeline with name 'nope'" % ACCOUNT)
        self.cp.create_pipeline(pipeline=declaration("ver"))
        self.assertClientError(lambda: self.cp.get_pipeline(name="ver", version=7),
                               "PipelineVersionNotFoundException", 400)

    def test_update_cannot_rename_a_pipeline(self):
        self.cp.create_pipeline(pipeline=declaration("fixed"))
        self.assertClientError(lambda: self.cp.update_pipeline(pipeline=declaration("renamed")),
                               "PipelineNotFoundException", 400)
        self.assertEqual(self.cp.get_pipeline(name="fixed")["pipeline"]["version"], 1)

    def test_update_validates_the_structure(self):
        self.cp.create_pipeline(pipeline=declaration("guarded"))
        bad = declaration("guarded", [{"name": "Build", "actions": [build_action()]},
                                      {"name": "Source", "actions": [source_action()]}])
        self.assertClientError(
            lambda: self.cp.update_pipeline(pipeline=bad), "InvalidStructureException", 400,
            "Pipeline should start with a stage that only contains source actions")
        self.assertEqual(self.cp.get_pipeline(name="guarded")["pipeline"]["version"], 1)

    def test_delete_is_idempotent_and_drops_versions(self):
        self.cp.create_pipeline(pipeline=declaration("gone"))
        self.cp.update_pipeline(pipeline=declaration("gone"))
        self.cp.delete_pipeline(name="gone")
        self.cp.delete_pipeline(name="gone")
        self.cp.create_pipeline(pipeline=declaration("gone"))
        self.assertEqual(self.cp.get_pipeline(name="gone")["pipeline"]["version"], 1)
        self.assertClientError(lambda: self.cp.get_pipeline(name="gone", version=2),
                               "PipelineVersionNotFoundException", 400)

    def test_list_is_sorted_and_paginates_with_boto3_paginator(self):
        names = ["p-%02d" % i for i in range(23)]
        for n in reversed(names):
            self.cp.create_pipeline(pipeline=declaration(n))
        pages = list(self.cp.get_paginator("list_pipelines").paginate(
            PaginationConfig={"PageSize": 5}))
        self.assertEqual([len(p["pipelines"]) for p in pages], [5, 5, 5, 5, 3])
        self.assertEqual([s["name"] for p in pages for s in p["pipelines"]], names)
        self.assertNotIn("nextToken", pages[-1])
        s = pages[0]["pipelines"][0]
        self.assertEqual(set(s), {"name", "version", "pipelineType", "executionMode", "created",
                                  "updated"})
        self.assertClientError(lambda: self.cp.list_pipelines(nextToken="garbage"),
                               "InvalidNextTokenException", 400)

    def test_accounts_and_regions_are_isolated(self):
        other = self.client("codepipeline", access_key=OTHER_KEY, secret_key=OTHER_SECRET)
        west = self.client("codepipeline", region="us-west-2")
        # Bucket names are global: the other account and the other region each have their own.
        create_artifact_bucket(self.server, "artifact-bucket-other", access_key=OTHER_KEY,
                               secret_key=OTHER_SECRET)
        create_artifact_bucket(self.server, "artifact-bucket-west", region="us-west-2")
        other_store = {"type": "S3", "location": "artifact-bucket-other"}
        west_store = {"type": "S3", "location": "artifact-bucket-west"}
        self.cp.create_pipeline(pipeline=declaration("shared"))
        other.create_pipeline(pipeline=declaration(
            "shared", roleArn="arn:aws:iam::%s:role/x" % OTHER_ACCOUNT, artifactStore=other_store))
        west.create_pipeline(pipeline=declaration("shared", artifactStore=west_store))
        self.assertEqual(other.get_pipeline(name="shared")["metadata"]["pipelineArn"],
                         "arn:aws:codepipeline:us-east-1:%s:shared" % OTHER_ACCOUNT)
        self.assertEqual(west.get_pipeline(name="shared")["metadata"]["pipelineArn"],
                         "arn:aws:codepipeline:us-west-2:%s:shared" % ACCOUNT)
        other.update_pipeline(pipeline=declaration(
            "shared", roleArn="arn:aws:iam::%s:role/x" % OTHER_ACCOUNT, artifactStore=other_store))
        self.assertEqual(self.cp.get_pipeline(name="shared")["pipeline"]["version"], 1)
        other.delete_pipeline(name="shared")
        west.delete_pipeline(name="shared")
        self.assertEqual([p["name"] for p in self.cp.list_pipelines()["pipelines"]], ["shared"])
        self.assertEqual(west.list_pipelines()["pipelines"], [])


class Persistence(ServerTestCase):
    def test_pipelines_and_versions_survive_a_restart(self):
        create_artifact_bucket(self.server)
        cp = self.client("codepipeline")
        cp.create_pipeline(pipeline=four_stage("kept"))
        upd = four_stage("kept")
        upd["stages"][3]["actions"][0]["configuration"]["BucketName"] = "prod-site"
        cp.update_pipeline(pipeline=upd)
        before = cp.get_pipeline(name="kept")
        self.server.restart()
        cp = self.client("codepipeline")
        after = cp.get_pipeline(name="kept")
        self.assertEqual(after["pipeline"], before["pipeline"])
        self.assertEqual(after["metadata"], before["metadata"])
        v1 = cp.get_pipeline(name="kept", version=1)["pipeline"]
        self.assertEqual(v1["stages"][3]["actions"][0]["configuration"]["BucketName"], "site")
        self.assertEqual([p["name"] for p in cp.list_pipelines()["pipelines"]], ["kept"])


if __name__ == "__main__":
    unittest.main()
