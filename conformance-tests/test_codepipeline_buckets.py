"""CodePipeline refuses an artifact store bucket that does not exist, as AWS does: CreatePipeline and
UpdatePipeline, artifactStore and each region of artifactStores, another account's bucket and a
bucket in another region, with AWS's exception, status and message."""
import json
import os
import tempfile
import unittest

from harness import ServerTestCase
from test_codepipeline_pipelines import (OTHER_ACCOUNT, OTHER_KEY, OTHER_SECRET, build_action,
                                         create_artifact_bucket, declaration, source_action)


def missing(bucket, region="us-east-1"):
    """AWS's message for an artifact bucket that is not there, as CreatePipeline answers it
    (awslabs/aws-deployment-framework#95, aws-samples/aws-ecs-anywhere-workshop-samples#4)."""
    return ("An error occurred while validating the artifact bucket '%s': No bucket with the name "
            "%s was found. Choose a valid artifact bucket in '%s', or create a new artifact "
            "bucket to use in your pipeline." % (bucket, bucket, region))


def store(bucket):
    return {"type": "S3", "location": bucket}


class ArtifactBuckets(ServerTestCase):
    credentials = [(OTHER_KEY, OTHER_SECRET, OTHER_ACCOUNT)]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        create_artifact_bucket(cls.server)

    def setUp(self):
        self.cp = self.client("codepipeline")

    def tearDown(self):
        for p in self.cp.list_pipelines()["pipelines"]:
            self.cp.delete_pipeline(name=p["name"])

    def rejects_create(self, decl, message, cp=None):
        cp = cp or self.cp
        self.assertClientError(lambda: cp.create_pipeline(pipeline=decl),
                               "InvalidStructureException", 400, message)
        self.assertClientError(lambda: cp.get_pipeline(name=decl["name"]),
                               "PipelineNotFoundException", 400)

    def test_cli_create_pipeline_with_a_missing_bucket(self):
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump({"pipeline": declaration("nobucket", artifactStore=store("no-such-bucket"))},
                      f)
        try:
            rc, _, err = self.aws("codepipeline", "create-pipeline", "--cli-input-json",
                                  "file://" + f.name, check=False)
        finally:
            os.unlink(f.name)
        self.assertNotEqual(rc, 0)
        err = err.strip()
        self.assertTrue(err.startswith("An error occurred (InvalidStructureException) when "
                                       "calling the CreatePipeline operation"), err)
        self.assertTrue(err.endswith(": " + missing("no-such-bucket")), err)
        self.assertEqual(self.cp.list_pipelines()["pipelines"], [])

    def test_missing_bucket_is_invalid_structure(self):
        self.rejects_create(declaration("nobucket", artifactStore=store("no-such-bucket")),
                            missing("no-such-bucket"))
        # A bucket that existed once and was deleted is missing too.
        create_artifact_bucket(self.server, "short-lived")
        self.client("s3").delete_bucket(Bucket="short-lived")
        self.rejects_create(declaration("deleted", artifactStore=store("short-lived")),
                            missing("short-lived"))

    def test_bucket_of_another_account_is_not_accepted(self):
        create_artifact_bucket(self.server, "their-artifacts", access_key=OTHER_KEY,
                               secret_key=OTHER_SECRET)
        self.rejects_create(declaration("theirs", artifactStore=store("their-artifacts")),
                            missing("their-artifacts"))
        # The owner can use it, and cannot use ours.
        other = self.client("codepipeline", access_key=OTHER_KEY, secret_key=OTHER_SECRET)
        role = "arn:aws:iam::%s:role/x" % OTHER_ACCOUNT
        other.create_pipeline(pipeline=declaration("theirs", roleArn=role,
                                                   artifactStore=store("their-artifacts")))
        self.rejects_create(declaration("ours", roleArn=role), missing("artifact-bucket"),
                            cp=other)
        other.delete_pipeline(name="theirs")

    def test_bucket_in_another_region_is_not_accepted(self):
        create_artifact_bucket(self.server, "west-only", region="us-west-2")
        self.rejects_create(declaration("elsewhere", artifactStore=store("west-only")),
                            missing("west-only", "us-east-1"))
        west = self.client("codepipeline", region="us-west-2")
        west.create_pipeline(pipeline=declaration("here", artifactStore=store("west-only")))
        west.delete_pipeline(name="here")

    def test_update_pipeline_checks_the_bucket(self):
        self.cp.create_pipeline(pipeline=declaration("moving"))
        self.assertClientError(
            lambda: self.cp.update_pipeline(
                pipeline=declaration("moving", artifactStore=store("not-yet"))),
            "InvalidStructureException", 400, missing("not-yet"))
        got = self.cp.get_pipeline(name="moving")["pipeline"]
        self.assertEqual(got["version"], 1)
        self.assertEqual(got["artifactStore"]["location"], "artifact-bucket")
        create_artifact_bucket(self.server, "not-yet")
        out = self.cp.update_pipeline(pipeline=declaration("moving", artifactStore=store("not-yet")))
        self.assertEqual(out["pipeline"]["version"], 2)
        self.assertEqual(out["pipeline"]["artifactStore"]["location"], "not-yet")

    def test_each_region_of_artifact_stores_is_checked(self):
        stages = [{"name": "Source", "actions": [source_action()]},
                  {"name": "Build", "actions": [build_action(region="eu-west-1")]}]

        def cross(name, east, west):
            d = declaration(name, stages,
                            artifactStores={"us-east-1": store(east), "eu-west-1": store(west)})
            del d["artifactStore"]
            return d

        create_artifact_bucket(self.server, "eu-artifacts", region="eu-west-1")
        self.rejects_create(cross("cross", "artifact-bucket", "eu-missing"),
                            missing("eu-missing", "eu-west-1"))
        self.rejects_create(cross("cross", "east-missing", "eu-artifacts"),
                            missing("east-missing", "us-east-1"))
        # The pipeline region's bucket named for eu-west-1: it exists, in the wrong region.
        self.rejects_create(cross("cross", "artifact-bucket", "artifact-bucket"),
                            missing("artifact-bucket", "eu-west-1"))
        out = self.cp.create_pipeline(
            pipeline=cross("cross", "artifact-bucket", "eu-artifacts"))["pipeline"]
        self.assertEqual(out["artifactStores"]["eu-west-1"]["location"], "eu-artifacts")
        self.assertClientError(
            lambda: self.cp.update_pipeline(
                pipeline=cross("cross", "artifact-bucket", "eu-gone")),
            "InvalidStructureException", 400, missing("eu-gone", "eu-west-1"))
        self.assertEqual(self.cp.get_pipeline(name="cross")["pipeline"]["version"], 1)

    def test_structure_errors_come_before_the_bucket_check(self):
        d = declaration("backwards", [{"name": "Build", "actions": [build_action()]},
                                      {"name": "Source", "actions": [source_action()]}],
                        artifactStore=store("no-such-bucket"))
        self.rejects_create(d, "Pipeline should start with a stage that only contains source "
                               "actions")


if __name__ == "__main__":
    unittest.main()
