"""CodeCommit over git's smart HTTP with the git CLI: clone, push, pull, auth, and the API agreeing."""
import os
import shutil
import subprocess
import tempfile
import unittest
import urllib.error
import urllib.request
import base64

from harness import ServerTestCase


class GitHelpers:
    """A scratch HOME and git driven against the server (mixed into ServerTestCase)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tmp = tempfile.mkdtemp(prefix="cpl-git-")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)
        super().tearDownClass()

    def setUp(self):
        self.cc = self.client("codecommit")

    def git_env(self, **extra):
        env = self.env()
        env.update({"HOME": self.tmp, "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0",
                    "GIT_AUTHOR_NAME": "Dev", "GIT_AUTHOR_EMAIL": "dev@example.com",
                    "GIT_COMMITTER_NAME": "Dev", "GIT_COMMITTER_EMAIL": "dev@example.com",
                    "GIT_ASKPASS": "", "SSH_ASKPASS": ""})
        env.update(extra)
        return env

    def git(self, *args, cwd=None, check=True, **extra):
        p = subprocess.run(["git", "-c", "init.defaultBranch=main", "-c", "protocol.version=2"] +
                           list(args), cwd=cwd, env=self.git_env(**extra), capture_output=True,
                           text=True, timeout=60)
        if check and p.returncode != 0:
            self.fail("git %s failed (%d): %s" % (" ".join(args), p.returncode, p.stderr))
        return p

    def url(self, repo, user="test", password="test"):
        host = self.server.endpoint.split("://")[1]
        if user is None:
            return "http://%s/v1/repos/%s" % (host, repo)
        return "http://%s:%s@%s/v1/repos/%s" % (user, password, host, repo)

    def workdir(self, name):
        d = os.path.join(self.tmp, name)
        shutil.rmtree(d, ignore_errors=True)
        return d


class GitHttp(GitHelpers, ServerTestCase):
    def test_clone_commit_push_then_the_api_sees_the_commit(self):
        md = self.cc.create_repository(repositoryName="app")["repositoryMetadata"]
        self.assertEqual(md["cloneUrlHttp"], self.url("app", user=None))
        wd = self.workdir("app")
        self.git("clone", self.url("app"), wd)
        with open(os.path.join(wd, "hello.txt"), "w") as f:
            f.write("hello from git\n")
        with open(os.path.join(wd, "run.sh"), "w") as f:
            f.write("#!/bin/sh\n")
        os.chmod(os.path.join(wd, "run.sh"), 0o755)
        self.git("add", ".", cwd=wd)
        self.git("commit", "-m", "from git", cwd=wd)
        self.git("push", "origin", "HEAD:main", cwd=wd)
        head = self.git("rev-parse", "HEAD", cwd=wd).stdout.strip()
        tree = self.git("rev-parse", "HEAD^{tree}", cwd=wd).stdout.strip()
        blob = self.git("hash-object", "hello.txt", cwd=wd).stdout.strip()
        _, out, _ = self.aws("codecommit", "get-branch", "--repository-name", "app",
                             "--branch-name", "main")
        self.assertEqual(out["branch"]["commitId"], head)
        commit = self.cc.get_commit(repositoryName="app", commitId=head)["commit"]
        self.assertEqual(commit["treeId"], tree)
        self.assertEqual(commit["message"], "from git\n")
        self.assertEqual(commit["author"]["email"], "dev@example.com")
        f = self.cc.get_file(repositoryName="app", filePath="hello.txt")
        self.assertEqual(f["blobId"], blob)
        self.assertEqual(f["fileContent"], b"hello from git\n")
        self.assertEqual(self.cc.get_file(repositoryName="app", filePath="run.sh")["fileMode"],
                         "EXECUTABLE")
        self.assertEqual(self.cc.get_repository(repositoryName="app")["repositoryMetadata"]["defaultBranch"],
                         "main")

        # put-file through the API, then git pull sees it.
        put = self.cc.put_file(repositoryName="app", branchName="main", fileContent=b"api\n",
                               filePath="api/file.txt", parentCommitId=head, fileMode="EXECUTABLE")
        self.git("pull", "origin", "main", cwd=wd)
        self.assertEqual(self.git("rev-parse", "HEAD", cwd=wd).stdout.strip(), put["commitId"])
        with open(os.path.join(wd, "api", "file.txt")) as f:
            self.assertEqual(f.read(), "api\n")
        self.assertTrue(os.access(os.path.join(wd, "api", "file.txt"), os.X_OK))

        # A second branch pushed and then deleted by git.
        self.git("push", "origin", "HEAD:refs/heads/feature", cwd=wd)
        self.assertEqual(self.cc.list_branches(repositoryName="app")["branches"], ["feature", "main"])
        self.git("push", "origin", ":feature", cwd=wd)
        self.assertEqual(self.cc.list_branches(repositoryName="app")["branches"], ["main"])

    def test_first_push_of_master_becomes_the_default_branch(self):
        self.cc.create_repository(repositoryName="legacy")
        wd = self.workdir("legacy")
        os.makedirs(wd)
        self.git("init", "-q", "-b", "master", wd)
        with open(os.path.join(wd, "a"), "w") as f:
            f.write("a")
        self.git("add", "a", cwd=wd)
        self.git("commit", "-m", "a", cwd=wd)
        self.git("push", self.url("legacy"), "master", cwd=wd)
        md = self.cc.get_repository(repositoryName="legacy")["repositoryMetadata"]
        self.assertEqual(md["defaultBranch"], "master")
        clone = self.workdir("legacy-clone")
        self.git("clone", self.url("legacy"), clone)
        self.assertEqual(self.git("rev-parse", "--abbrev-ref", "HEAD", cwd=clone).stdout.strip(),
                         "master")

    def test_credential_helper(self):
        self.cc.create_repository(repositoryName="helper")
        wd = self.workdir("helper")
        # The configuration AWS documents; --ignore-host-check because the host is not amazonaws.com.
        helper = ["-c", "credential.helper=", "-c",
                  "credential.helper=!aws codecommit credential-helper --ignore-host-check $@",
                  "-c", "credential.UseHttpPath=true"]
        self.git(*helper, "clone", self.url("helper", user=None), wd)
        with open(os.path.join(wd, "f"), "w") as f:
            f.write("f")
        self.git("add", "f", cwd=wd)
        self.git("commit", "-m", "via helper", cwd=wd)
        self.git(*helper, "push", "origin", "HEAD:main", cwd=wd)
        head = self.git("rev-parse", "HEAD", cwd=wd).stdout.strip()
        self.assertEqual(self.cc.get_branch(repositoryName="helper", branchName="main")["branch"]["commitId"],
                         head)
        # The same helper run with a wrong secret is refused.
        with open(os.path.join(wd, "f"), "w") as f:
            f.write("g")
        self.git("commit", "-am", "should not land", cwd=wd)
        p = self.git(*helper, "push", "origin", "HEAD:main", cwd=wd, check=False,
                     AWS_SECRET_ACCESS_KEY="wrong")
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("403", p.stderr)
        self.assertEqual(self.cc.get_branch(repositoryName="helper", branchName="main")["branch"]["commitId"],
                         head)

    def test_pushed_submodules_and_symlinks_show_in_get_folder(self):
        self.cc.create_repository(repositoryName="mods")
        wd = self.workdir("mods")
        self.git("init", "-q", wd)
        with open(os.path.join(wd, "a"), "w") as f:
            f.write("a")
        os.symlink("a", os.path.join(wd, "link"))
        self.git("add", "a", "link", cwd=wd)
        sub = "1234567890abcdef1234567890abcdef12345678"
        self.git("update-index", "--add", "--cacheinfo", "160000,%s,libs/sub" % sub, cwd=wd)
        self.git("commit", "-m", "with a submodule", cwd=wd)
        self.git("push", self.url("mods"), "HEAD:main", cwd=wd)
        head = self.git("rev-parse", "HEAD", cwd=wd).stdout.strip()
        libs = self.cc.get_folder(repositoryName="mods", folderPath="libs")
        self.assertEqual(libs["subModules"],
                         [{"commitId": sub, "absolutePath": "libs/sub", "relativePath": "sub"}])
        root = self.cc.get_folder(repositoryName="mods", folderPath="")
        self.assertEqual([(l["absolutePath"], l["fileMode"]) for l in root["symbolicLinks"]],
                         [("link", "SYMLINK")])
        self.assertEqual(self.cc.get_file(repositoryName="mods", filePath="link")["fileContent"], b"a")
        self.assertClientError(
            lambda: self.cc.put_file(repositoryName="mods", branchName="main", fileContent=b"x",
                                     filePath="libs/sub/x", parentCommitId=head),
            "FilePathConflictsWithSubmodulePathException")
        self.assertClientError(lambda: self.cc.get_file(repositoryName="mods", filePath="libs/sub"),
                               "FileDoesNotExistException")

    def test_repositories_of_other_regions(self):
        eu = self.client("codecommit", region="eu-west-1")
        eu.create_repository(repositoryName="eu-app")
        head = eu.put_file(repositoryName="eu-app", branchName="main", fileContent=b"eu\n",
                           filePath="eu.txt")["commitId"]
        self.assertClientError(lambda: self.cc.get_repository(repositoryName="eu-app"),
                               "RepositoryDoesNotExistException")
        # Basic auth names no region: the repository is found in the region that has it.
        wd = self.workdir("eu-basic")
        self.git("clone", self.url("eu-app"), wd)
        self.assertEqual(self.git("rev-parse", "HEAD", cwd=wd).stdout.strip(), head)
        # The credential helper signs for its configured region.
        wd = self.workdir("eu-helper")
        self.git("-c", "credential.helper=", "-c",
                 "credential.helper=!aws codecommit credential-helper --ignore-host-check $@",
                 "-c", "credential.UseHttpPath=true", "clone", self.url("eu-app", user=None), wd,
                 AWS_DEFAULT_REGION="eu-west-1")
        with open(os.path.join(wd, "eu.txt")) as f:
            self.assertEqual(f.read(), "eu\n")

    def test_documented_helper_with_an_amazonaws_host_name(self):
        # Exactly AWS's documented helper (no --ignore-host-check), with the CodeCommit host name
        # resolved to this server by curl.
        self.cc.create_repository(repositoryName="documented")
        port = self.server.port
        host = "git-codecommit.us-east-1.amazonaws.com"
        wd = self.workdir("documented")
        self.git("-c", "credential.helper=", "-c",
                 "credential.helper=!aws codecommit credential-helper $@",
                 "-c", "credential.UseHttpPath=true",
                 "-c", "http.curloptResolve=%s:%d:127.0.0.1" % (host, port),
                 "clone", "http://%s:%d/v1/repos/documented" % (host, port), wd)
        with open(os.path.join(wd, "d"), "w") as f:
            f.write("d")
        self.git("add", "d", cwd=wd)
        self.git("commit", "-m", "d", cwd=wd)
        self.git("-c", "credential.helper=", "-c",
                 "credential.helper=!aws codecommit credential-helper $@",
                 "-c", "credential.UseHttpPath=true",
                 "-c", "http.curloptResolve=%s:%d:127.0.0.1" % (host, port),
                 "push", "origin", "HEAD:main", cwd=wd)
        self.assertEqual(
            self.cc.get_branch(repositoryName="documented", branchName="main")["branch"]["commitId"],
            self.git("rev-parse", "HEAD", cwd=wd).stdout.strip())

    def test_wrong_password_or_user_is_refused_and_nothing_is_written(self):
        self.cc.create_repository(repositoryName="locked")
        head = self.cc.put_file(repositoryName="locked", branchName="main", fileContent=b"x",
                                filePath="x")["commitId"]
        wd = self.workdir("locked")
        self.git("clone", self.url("locked"), wd)
        with open(os.path.join(wd, "y"), "w") as f:
            f.write("y")
        self.git("add", "y", cwd=wd)
        self.git("commit", "-m", "y", cwd=wd)
        for user, password in [("test", "wrong"), ("nobody", "test")]:
            p = self.git("push", self.url("locked", user, password), "HEAD:main", cwd=wd,
                         check=False)
            self.assertNotEqual(p.returncode, 0)
            self.assertIn("403", p.stderr)
        self.assertEqual(self.cc.get_branch(repositoryName="locked", branchName="main")["branch"]["commitId"],
                         head)
        # Without credentials: 401 with a Basic challenge.
        with self.assertRaises(urllib.error.HTTPError) as cm:
            urllib.request.urlopen(self.url("locked", user=None) +
                                   "/info/refs?service=git-receive-pack", timeout=60)
        self.assertEqual(cm.exception.code, 401)
        self.assertIn("Basic", cm.exception.headers["WWW-Authenticate"])
        # Authenticated, but a repository that does not exist: 404.
        req = urllib.request.Request(self.url("nowhere", user=None) +
                                     "/info/refs?service=git-upload-pack")
        req.add_header("Authorization", "Basic " + base64.b64encode(b"test:test").decode())
        with self.assertRaises(urllib.error.HTTPError) as cm:
            urllib.request.urlopen(req, timeout=60)
        self.assertEqual(cm.exception.code, 404)
        # A corrupt gzip body is refused at once (git's own inflate would hang on it).
        req = urllib.request.Request(self.url("locked", user=None) + "/git-upload-pack",
                                     data=b"\x1f\x8b\x08\x00garbage" * 100, method="POST")
        req.add_header("Authorization", "Basic " + base64.b64encode(b"test:test").decode())
        req.add_header("Content-Type", "application/x-git-upload-pack-request")
        req.add_header("Content-Encoding", "gzip")
        with self.assertRaises(urllib.error.HTTPError) as cm:
            urllib.request.urlopen(req, timeout=60)
        self.assertEqual(cm.exception.code, 400)


class GitAuthOff(GitHelpers, ServerTestCase):
    """With --auth off the password is not checked and the access key still picks the account."""
    server_args = ("--auth", "off")

    def test_any_password_clones_and_pushes(self):
        self.cc.create_repository(repositoryName="open")
        wd = self.workdir("open")
        self.git("clone", self.url("open", password="not-the-secret"), wd)
        with open(os.path.join(wd, "a.txt"), "w") as f:
            f.write("a\n")
        self.git("add", ".", cwd=wd)
        self.git("commit", "-m", "a", cwd=wd)
        self.git("push", "origin", "HEAD:main", cwd=wd)
        head = self.git("rev-parse", "HEAD", cwd=wd).stdout.strip()
        self.assertEqual(self.cc.get_branch(repositoryName="open", branchName="main")["branch"]["commitId"], head)


if __name__ == "__main__":
    unittest.main()
