"""CodeBuild projects through the AWS CLI and boto3: create, defaults, update, batch get, list, delete."""
import json
import time
import unittest

from harness import ACCOUNT, REGION, ServerTestCase, signed_request

ENV = {"type": "LINUX_CONTAINER", "image": "aws/codebuild/standard:7.0",
       "computeType": "BUILD_GENERAL1_SMALL"}
ROLE = "arn:aws:iam::%s:role/cb" % ACCOUNT
SPEC = "version: 0.2\nphases:\n  build:\n    commands:\n      - echo hi\n"


class CodeBuildProjects(ServerTestCase):
    def setUp(self):
        self.cb = self.client("codebuild")

    def create(self, name, **kw):
        args = dict(name=name, source={"type": "NO_SOURCE", "buildspec": SPEC},
                    artifacts={"type": "NO_ARTIFACTS"}, environment=ENV, serviceRole=ROLE)
        args.update(kw)
        return self.cb.create_project(**args)["project"]

    def test_create_answers_the_defaults_aws_fills_in(self):
        p = self.create("defaults")
        self.assertEqual(p["arn"], "arn:aws:codebuild:%s:%s:project/defaults" % (REGION, ACCOUNT))
        self.assertEqual(p["timeoutInMinutes"], 60)
        self.assertEqual(p["queuedTimeoutInMinutes"], 480)
        self.assertEqual(p["encryptionKey"], "arn:aws:kms:%s:%s:alias/aws/s3" % (REGION, ACCOUNT))
        self.assertEqual(p["badge"], {"badgeEnabled": False})
        self.assertEqual(p["cache"], {"type": "NO_CACHE"})
        self.assertEqual(p["environment"]["imagePullCredentialsType"], "CODEBUILD")
        self.assertFalse(p["environment"]["privilegedMode"])
        self.assertEqual(p["environment"]["environmentVariables"], [])
        self.assertEqual(p["logsConfig"]["cloudWatchLogs"], {"status": "ENABLED"})
        self.assertEqual(p["logsConfig"]["s3Logs"]["status"], "DISABLED")
        self.assertFalse(p["source"]["insecureSsl"])
        self.assertEqual(p["tags"], [])
        self.assertEqual(p["created"], p["lastModified"])

    def test_s3_artifacts_get_name_namespace_and_packaging(self):
        p = self.create("s3art", artifacts={"type": "S3", "location": "bucket"})
        self.assertEqual(p["artifacts"], {"type": "S3", "location": "bucket", "name": "s3art",
                                          "namespaceType": "NONE", "packaging": "NONE",
                                          "encryptionDisabled": False})

    def test_environment_variables_default_to_plaintext(self):
        env = dict(ENV, environmentVariables=[{"name": "A", "value": "1"}])
        p = self.create("envvars", environment=env)
        self.assertEqual(p["environment"]["environmentVariables"],
                         [{"name": "A", "value": "1", "type": "PLAINTEXT"}])

    def test_create_twice_is_resource_already_exists(self):
        self.create("twice")
        self.assertClientError(lambda: self.create("twice"), "ResourceAlreadyExistsException", 400,
                               "Project already exists: arn:aws:codebuild:%s:%s:project/twice"
                               % (REGION, ACCOUNT))

    def test_no_source_without_buildspec_is_invalid_input(self):
        self.assertClientError(lambda: self.create("nospec", source={"type": "NO_SOURCE"}),
                               "InvalidInputException", 400)

    def test_codepipeline_source_needs_codepipeline_artifacts(self):
        self.assertClientError(lambda: self.create("cpmix", source={"type": "CODEPIPELINE"}),
                               "InvalidInputException", 400)
        p = self.create("cpboth", source={"type": "CODEPIPELINE"},
                        artifacts={"type": "CODEPIPELINE"})
        self.assertEqual(p["artifacts"]["type"], "CODEPIPELINE")

    def test_s3_source_without_location_is_invalid_input(self):
        self.assertClientError(lambda: self.create("s3noloc", source={"type": "S3"}),
                               "InvalidInputException", 400)

    def test_timeout_outside_the_model_range_is_a_validation_error(self):
        body = json.dumps({"name": "tmo", "source": {"type": "NO_SOURCE", "buildspec": SPEC},
                           "artifacts": {"type": "NO_ARTIFACTS"}, "environment": ENV,
                           "serviceRole": ROLE, "timeoutInMinutes": 3})
        status, _, resp = signed_request(self.server.endpoint, "CodeBuild_20161006.CreateProject",
                                         body, service="codebuild")
        self.assertEqual(status, 400)
        self.assertEqual(resp["__type"], "ValidationException")

    def test_update_replaces_given_fields_and_keeps_the_rest(self):
        p = self.create("upd", tags=[{"key": "a", "value": "1"}])
        time.sleep(0.01)
        u = self.cb.update_project(name="upd", description="new", timeoutInMinutes=30,
                                   tags=[{"key": "b", "value": "2"}])["project"]
        self.assertEqual(u["description"], "new")
        self.assertEqual(u["timeoutInMinutes"], 30)
        self.assertEqual(u["tags"], [{"key": "b", "value": "2"}])
        self.assertEqual(u["source"], p["source"])
        self.assertEqual(u["created"], p["created"])
        self.assertGreaterEqual(u["lastModified"], p["lastModified"])

    def test_update_of_a_missing_project_is_resource_not_found(self):
        self.assertClientError(lambda: self.cb.update_project(name="ghost", description="x"),
                               "ResourceNotFoundException", 400)

    def test_batch_get_by_name_and_arn_lists_the_missing(self):
        self.create("bg1")
        arn = "arn:aws:codebuild:%s:%s:project/bg1" % (REGION, ACCOUNT)
        r = self.cb.batch_get_projects(names=["bg1", arn, "bgmissing"])
        self.assertEqual([p["name"] for p in r["projects"]], ["bg1", "bg1"])
        self.assertEqual(r["projectsNotFound"], ["bgmissing"])

    def test_list_sorts_and_pages(self):
        names = ["ls-%03d" % i for i in range(105)]
        for n in names:
            self.create(n)
        first = self.cb.list_projects(sortBy="NAME", sortOrder="ASCENDING")
        self.assertEqual(len(first["projects"]), 100)
        second = self.cb.list_projects(sortBy="NAME", sortOrder="ASCENDING",
                                       nextToken=first["nextToken"])
        got = [n for n in first["projects"] + second["projects"] if n.startswith("ls-")]
        self.assertEqual(got, names)
        self.assertNotIn("nextToken", second)
        def every(order):
            out, tok = [], None
            while True:
                kw = {"nextToken": tok} if tok else {}
                r = self.cb.list_projects(sortBy="CREATED_TIME", sortOrder=order, **kw)
                out += r["projects"]
                tok = r.get("nextToken")
                if not tok:
                    return out
        asc = every("ASCENDING")
        self.assertEqual(every("DESCENDING"), asc[::-1])
        self.assertLess(asc.index("ls-000"), asc.index("ls-104"))
        _, out, _ = self.aws("codebuild", "list-projects", "--sort-by", "NAME")
        self.assertIn("ls-000", out["projects"])

    def test_bad_next_token_is_invalid_input(self):
        self.assertClientError(lambda: self.cb.list_projects(nextToken="garbage"),
                               "InvalidInputException", 400)

    def test_delete_removes_and_a_missing_project_is_fine(self):
        self.create("del")
        self.cb.delete_project(name="del")
        self.assertEqual(self.cb.batch_get_projects(names=["del"])["projectsNotFound"], ["del"])
        self.cb.delete_project(name="del")

    def test_projects_survive_a_restart(self):
        self.create("durable")
        self.server.restart()
        self.assertEqual(self.cb.batch_get_projects(names=["durable"])["projects"][0]["name"],
                         "durable")

    def test_batch_builds_fleets_and_webhooks_are_named_as_not_simulated(self):
        self.create("nosim")
        err = self.assertClientError(lambda: self.cb.start_build_batch(projectName="nosim"),
                                     "InvalidInputException", 400)
        self.assertIn("not simulated", err["Error"]["Message"])
        err = self.assertClientError(lambda: self.cb.create_webhook(projectName="nosim"),
                                     "InvalidInputException", 400)
        self.assertIn("Webhooks", err["Error"]["Message"])

    def test_health_says_codebuild_runs(self):
        import json
        import urllib.request
        with urllib.request.urlopen(self.server.endpoint + "/_codepipeline-local/health") as r:
            self.assertEqual(json.load(r)["services"]["codebuild"], "running")


if __name__ == "__main__":
    unittest.main()
