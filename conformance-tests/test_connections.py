"""CodeStar Connections and CodeConnections through boto3 and the AWS CLI, and the Git host at
/_git/<owner>/<repo>.git driven with the git CLI."""
import json
import os
import shutil
import subprocess
import tempfile
import unittest
import urllib.error
import urllib.request

from harness import ACCOUNT, ServerTestCase, signed_request


class Connections(ServerTestCase):
    def test_a_connection_is_available_at_once_with_its_provider(self):
        cs = self.client("codestar-connections")
        arn = cs.create_connection(ConnectionName="gh", ProviderType="GitHub")["ConnectionArn"]
        self.assertRegex(arn, r"^arn:aws:codestar-connections:us-east-1:%s:connection/"
                              r"[0-9a-f-]{36}$" % ACCOUNT)
        conn = cs.get_connection(ConnectionArn=arn)["Connection"]
        self.assertEqual(conn, {"ConnectionName": "gh", "ConnectionArn": arn,
                                "ProviderType": "GitHub", "OwnerAccountId": ACCOUNT,
                                "ConnectionStatus": "AVAILABLE"})

    def test_both_apis_see_the_same_connections_and_keep_each_arn(self):
        cs, cc = self.client("codestar-connections"), self.client("codeconnections")
        old = cs.create_connection(ConnectionName="old", ProviderType="Bitbucket")["ConnectionArn"]
        new = cc.create_connection(ConnectionName="new", ProviderType="GitLab")["ConnectionArn"]
        self.assertTrue(new.startswith("arn:aws:codeconnections:us-east-1:"), new)
        self.assertEqual(cc.get_connection(ConnectionArn=old)["Connection"]["ConnectionArn"], old)
        self.assertEqual(cs.get_connection(ConnectionArn=new)["Connection"]["ConnectionArn"], new)
        # Either ARN form names the same connection.
        other = new.replace("arn:aws:codeconnections:", "arn:aws:codestar-connections:")
        self.assertEqual(cs.get_connection(ConnectionArn=other)["Connection"]["ConnectionName"],
                         "new")
        arns = {c["ConnectionArn"] for c in cs.list_connections()["Connections"]}
        self.assertTrue({old, new} <= arns)

    def test_list_filters_by_provider_and_pages(self):
        cc = self.client("codeconnections")
        made = [cc.create_connection(ConnectionName="p%d" % i,
                                     ProviderType="GitHubEnterpriseServer")["ConnectionArn"]
                for i in range(5)]
        seen, token = [], None
        while True:
            kw = {"ProviderTypeFilter": "GitHubEnterpriseServer", "MaxResults": 2}
            if token:
                kw["NextToken"] = token
            page = cc.list_connections(**kw)
            self.assertLessEqual(len(page["Connections"]), 2)
            seen += [c["ConnectionArn"] for c in page["Connections"]]
            token = page.get("NextToken")
            if not token:
                break
        self.assertEqual(sorted(seen), sorted(made))
        for c in cc.list_connections(ProviderTypeFilter="GitLab")["Connections"]:
            self.assertEqual(c["ProviderType"], "GitLab")

    def test_delete_then_the_connection_is_gone(self):
        cs = self.client("codestar-connections")
        arn = cs.create_connection(ConnectionName="gone", ProviderType="GitHub")["ConnectionArn"]
        cs.delete_connection(ConnectionArn=arn)
        self.assertClientError(lambda: cs.get_connection(ConnectionArn=arn),
                               "ResourceNotFoundException")
        self.assertClientError(lambda: cs.delete_connection(ConnectionArn=arn),
                               "ResourceNotFoundException")

    def test_tags_add_replace_and_remove(self):
        cs = self.client("codestar-connections")
        arn = cs.create_connection(ConnectionName="t", ProviderType="GitHub",
                                   Tags=[{"Key": "team", "Value": "a"}])["ConnectionArn"]
        cs.tag_resource(ResourceArn=arn, Tags=[{"Key": "team", "Value": "b"},
                                               {"Key": "env", "Value": "dev"}])
        tags = cs.list_tags_for_resource(ResourceArn=arn)["Tags"]
        self.assertEqual(sorted((t["Key"], t["Value"]) for t in tags),
                         [("env", "dev"), ("team", "b")])
        cs.untag_resource(ResourceArn=arn, TagKeys=["team"])
        self.assertEqual(cs.list_tags_for_resource(ResourceArn=arn)["Tags"],
                         [{"Key": "env", "Value": "dev"}])
        missing = arn[:-4] + "ffff"
        self.assertClientError(lambda: cs.list_tags_for_resource(ResourceArn=missing),
                               "ResourceNotFoundException")

    def test_model_checks_and_a_host_that_does_not_exist(self):
        cs = self.client("codestar-connections")
        self.assertClientError(
            lambda: cs.create_connection(ConnectionName="x" * 33, ProviderType="GitHub"),
            "ValidationException")
        host = "arn:aws:codestar-connections:us-east-1:%s:host/h-1" % ACCOUNT
        self.assertClientError(lambda: cs.create_connection(ConnectionName="h", HostArn=host),
                               "ResourceNotFoundException")

    def test_answers_are_json_1_0_as_the_models_say(self):
        cs = self.client("codestar-connections")
        meta = cs.list_connections()["ResponseMetadata"]
        self.assertEqual(meta["HTTPHeaders"]["content-type"], "application/x-amz-json-1.0")

    def test_the_smithy_sdks_target_of_both_services(self):
        # Go v2 (Terraform) and JavaScript v3 send the service's shape name alone, not botocore's
        # whole prefix
        status, _, out = signed_request(
            self.server.endpoint, "CodeStar_connections_20191201.CreateConnection",
            json.dumps({"ConnectionName": "smithy-one", "ProviderType": "GitHub"}),
            service="codestar-connections",
            headers={"Content-Type": "application/x-amz-json-1.0"})
        self.assertEqual(status, 200, out)
        arn = out["ConnectionArn"]
        status, _, out = signed_request(
            self.server.endpoint, "CodeConnections_20231201.GetConnection",
            json.dumps({"ConnectionArn": arn}), service="codeconnections",
            headers={"Content-Type": "application/x-amz-json-1.0"})
        self.assertEqual(status, 200, out)
        self.assertEqual(out["Connection"]["ConnectionName"], "smithy-one")

    def test_the_cli_of_both_services(self):
        _, out, _ = self.aws("codeconnections", "create-connection", "--connection-name", "cli",
                             "--provider-type", "GitHub")
        arn = out["ConnectionArn"]
        _, out, _ = self.aws("codestar-connections", "get-connection", "--connection-arn", arn)
        self.assertEqual(out["Connection"]["ConnectionStatus"], "AVAILABLE")
        _, out, _ = self.aws("codeconnections", "list-connections", "--provider-type-filter",
                             "GitHub")
        self.assertIn(arn, [c["ConnectionArn"] for c in out["Connections"]])


class GitHost(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tmp = tempfile.mkdtemp(prefix="cpl-gitconn-")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)
        super().tearDownClass()

    def git(self, *args, cwd=None, check=True):
        env = self.env()
        env.update({"HOME": self.tmp, "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0",
                    "GIT_AUTHOR_NAME": "Dev", "GIT_AUTHOR_EMAIL": "dev@example.com",
                    "GIT_COMMITTER_NAME": "Dev", "GIT_COMMITTER_EMAIL": "dev@example.com",
                    "GIT_ASKPASS": "", "SSH_ASKPASS": ""})
        p = subprocess.run(["git", "-c", "init.defaultBranch=main"] + list(args), cwd=cwd,
                           env=env, capture_output=True, text=True, timeout=60)
        if check and p.returncode != 0:
            self.fail("git %s failed (%d): %s" % (" ".join(args), p.returncode, p.stderr))
        return p

    def url(self, full, user="test", password="test"):
        host = self.server.endpoint.split("://")[1]
        auth = "" if user is None else "%s:%s@" % (user, password)
        return "http://%s%s/_git/%s.git" % (auth, host, full)

    def workdir(self, name):
        d = os.path.join(self.tmp, name)
        shutil.rmtree(d, ignore_errors=True)
        return d

    def commit_files(self, d, files, message):
        os.makedirs(d, exist_ok=True)
        if not os.path.isdir(os.path.join(d, ".git")):
            self.git("init", "-q", cwd=d)
        for path, text in files.items():
            os.makedirs(os.path.dirname(os.path.join(d, path)) or d, exist_ok=True)
            with open(os.path.join(d, path), "w") as f:
                f.write(text)
        self.git("add", "-A", cwd=d)
        self.git("commit", "-q", "-m", message, cwd=d)

    def test_a_first_push_creates_the_repository_and_it_clones_back(self):
        d = self.workdir("src")
        self.commit_files(d, {"README.md": "hello\n", "src/app.py": "print(1)\n"}, "first")
        self.git("push", "-q", self.url("acme/app"), "main", cwd=d)
        self.git("tag", "v1.0", cwd=d)
        self.git("push", "-q", self.url("acme/app"), "v1.0", cwd=d)
        c = self.workdir("clone")
        self.git("clone", "-q", self.url("acme/app"), c)
        with open(os.path.join(c, "src", "app.py")) as f:
            self.assertEqual(f.read(), "print(1)\n")
        self.assertEqual(self.git("rev-parse", "--abbrev-ref", "HEAD", cwd=c).stdout.strip(),
                         "main")
        tags = self.git("ls-remote", "--tags", self.url("acme/app")).stdout
        self.assertIn("refs/tags/v1.0", tags)
        # Without the .git suffix the URL names the same repository.
        self.assertIn("refs/heads/main", self.git("ls-remote", self.url("acme/app")[:-4]).stdout)

    def test_auth_is_required_and_checked(self):
        d = self.workdir("auth")
        self.commit_files(d, {"a.txt": "a\n"}, "a")
        p = self.git("push", "-q", self.url("acme/private", user=None), "main", cwd=d, check=False)
        self.assertNotEqual(p.returncode, 0)
        p = self.git("push", "-q", self.url("acme/private", password="wrong"), "main", cwd=d,
                     check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("403", p.stderr)
        # Nothing was created by the refused pushes.
        p = self.git("ls-remote", self.url("acme/private"), check=False)
        self.assertNotEqual(p.returncode, 0)
        req = urllib.request.Request(self.server.endpoint +
                                     "/_git/acme/private.git/info/refs?service=git-upload-pack")
        with self.assertRaises(urllib.error.HTTPError) as cm:
            urllib.request.urlopen(req, timeout=30)
        self.assertEqual(cm.exception.code, 401)
        self.assertIn("Basic", cm.exception.headers.get("WWW-Authenticate", ""))

    def test_a_clone_of_a_repository_never_pushed_is_not_found(self):
        p = self.git("clone", "-q", self.url("acme/never"), self.workdir("never"), check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("not found", p.stderr)

    def test_names_outside_owner_and_repo_are_refused(self):
        import base64
        auth = "Basic " + base64.b64encode(b"test:test").decode()
        for path in ["/_git/acme/.hidden.git", "/_git/.x/app.git", "/_git/acme/a%2F..%2Fb.git",
                     "/_git/acme.git", "/_git/acme/app/extra.git", "/_git/a%20b/app.git"]:
            req = urllib.request.Request(self.server.endpoint + path +
                                         "/info/refs?service=git-receive-pack",
                                         headers={"Authorization": auth})
            with self.assertRaises(urllib.error.HTTPError, msg=path) as cm:
                urllib.request.urlopen(req, timeout=30)
            self.assertEqual(cm.exception.code, 404, path)
        root = os.path.join(self.server.data_dir, "gitconn")
        made = []
        for base, dirs, _ in os.walk(root):
            made += [os.path.join(base, x) for x in dirs if x.endswith(".git")]
        for m in made:
            rel = os.path.relpath(m, root).split(os.sep)
            self.assertEqual(len(rel), 3, m)  # <account>/<owner>/<repo>.git
            self.assertNotIn("..", rel)


if __name__ == "__main__":
    unittest.main()
