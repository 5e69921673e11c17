"""CodeCommit answers shaped member by member like the outputs in the AWS CLI's own examples
(awscli/examples/codecommit/*.rst) and the botocore model's output shapes."""
import hashlib
import unittest

from harness import ACCOUNT, REGION, ServerTestCase

HEX40 = r"^[0-9a-f]{40}$"
GIT_DATE = r"^\d{9,11} [+-]\d{4}$"  # "1484167798 -0800", as in get-commit.rst


def git_blob(data):
    """The id `git hash-object` gives data."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class CliExamples(ServerTestCase):
    """One repository walked through the examples in order, as a user would."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.repo = "MyDemoRepo"

    def setUp(self):
        self.cc = self.client("codecommit")

    def cli(self, *args):
        return self.aws("codecommit", *args)[1]

    def test_examples_in_order(self):
        # create-repository.rst: every member of RepositoryMetadata but defaultBranch (no branch
        # yet); dates are epoch numbers as the CLI prints them.
        md = self.cli("create-repository", "--repository-name", self.repo,
                      "--repository-description", "My demonstration repository")["repositoryMetadata"]
        self.assertEqual(set(md), {"accountId", "repositoryId", "repositoryName",
                                   "repositoryDescription", "lastModifiedDate", "creationDate",
                                   "cloneUrlHttp", "cloneUrlSsh", "Arn", "kmsKeyId"})
        self.assertEqual(md["accountId"], ACCOUNT)
        self.assertEqual(md["Arn"], "arn:aws:codecommit:%s:%s:%s" % (REGION, ACCOUNT, self.repo))
        self.assertRegex(md["repositoryId"],
                         r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
        for k in ("creationDate", "lastModifiedDate"):
            self.assertIsInstance(md[k], (int, float))
        self.assertTrue(md["cloneUrlHttp"].endswith("/v1/repos/" + self.repo), md)
        self.assertRegex(md["cloneUrlSsh"], r"^ssh://[^/]+/v1/repos/%s$" % self.repo)

        # create-commit.rst: the first commit of an empty repository, no parent.
        first = self.cli("create-commit", "--repository-name", self.repo, "--branch-name", "main",
                         "--put-files",
                         "filePath=readme.md,fileContent='Welcome to our team repository.'")
        self.assertEqual(set(first), {"commitId", "treeId", "filesAdded", "filesUpdated",
                                      "filesDeleted"})
        self.assertEqual(first["filesAdded"][0]["absolutePath"], "readme.md")
        self.assertEqual(set(first["filesAdded"][0]), {"absolutePath", "blobId", "fileMode"})
        self.assertEqual((first["filesUpdated"], first["filesDeleted"]), ([], []))

        # get-repository.rst: defaultBranch appears with the first branch.
        md = self.cli("get-repository", "--repository-name", self.repo)["repositoryMetadata"]
        self.assertEqual(md["defaultBranch"], "main")
        self.assertGreaterEqual(md["lastModifiedDate"], md["creationDate"])

        # create-branch.rst / get-branch: the model's {"branch": {branchName, commitId}}.
        self.assertEqual(self.cli("create-branch", "--repository-name", self.repo, "--branch-name",
                                  "feature-randomizationfeature", "--commit-id",
                                  first["commitId"]), {})
        br = self.cli("get-branch", "--repository-name", self.repo, "--branch-name",
                      "feature-randomizationfeature")
        self.assertEqual(br, {"branch": {"branchName": "feature-randomizationfeature",
                                         "commitId": first["commitId"]}})

        # put-file.rst writes --file-path /solutions/ExampleSolution.py (a leading '/') and AWS
        # answers with the commit: the file lands at solutions/ExampleSolution.py.
        put = self.cli("put-file", "--repository-name", self.repo, "--branch-name",
                       "feature-randomizationfeature", "--file-content", "print('third')\n",
                       "--file-path", "/solutions/ExampleSolution.py", "--parent-commit-id",
                       first["commitId"], "--name", "Maria Garcia", "--email",
                       "maria_garcia@example.com", "--commit-message",
                       "I added a third randomization routine.")
        self.assertEqual(set(put), {"blobId", "commitId", "treeId"})
        got = self.cc.get_file(repositoryName=self.repo, commitSpecifier=put["commitId"],
                               filePath="solutions/ExampleSolution.py")
        self.assertEqual(got["fileContent"], b"print('third')\n")
        self.assertEqual(got["blobId"], put["blobId"])

        # get-commit.rst: the Commit structure, git-style dates, additionalData "".
        commit = self.cli("get-commit", "--repository-name", self.repo, "--commit-id",
                          put["commitId"])["commit"]
        self.assertEqual(set(commit), {"commitId", "treeId", "parents", "message", "author",
                                       "committer", "additionalData"})
        self.assertEqual(commit["additionalData"], "")
        self.assertEqual(commit["parents"], [first["commitId"]])
        self.assertEqual(commit["treeId"], put["treeId"])
        self.assertEqual(commit["message"], "I added a third randomization routine.")
        for who in ("author", "committer"):
            self.assertEqual(set(commit[who]), {"name", "email", "date"})
            self.assertEqual(commit[who]["name"], "Maria Garcia")
            self.assertEqual(commit[who]["email"], "maria_garcia@example.com")
            self.assertRegex(commit[who]["date"], GIT_DATE)

        # batch-get-commits.rst: commits plus an errors list for unknown ids.
        batch = self.cc.batch_get_commits(repositoryName=self.repo,
                                          commitIds=[put["commitId"], "0" * 40])
        self.assertEqual([c["commitId"] for c in batch["commits"]], [put["commitId"]])
        self.assertEqual(batch["errors"][0]["commitId"], "0" * 40)
        self.assertEqual(batch["errors"][0]["errorCode"], "CommitIdDoesNotExistException")

        # get-folder.rst: the root with "" as folderPath; each entry's members.
        folder = self.cli("get-folder", "--repository-name", self.repo, "--commit-specifier",
                          "feature-randomizationfeature", "--folder-path", "")
        self.assertEqual(set(folder), {"commitId", "folderPath", "treeId", "subFolders", "files",
                                       "symbolicLinks", "subModules"})
        self.assertEqual(folder["folderPath"], "")
        self.assertEqual(folder["files"], [{"absolutePath": "readme.md", "relativePath": "readme.md",
                                            "blobId": first["filesAdded"][0]["blobId"],
                                            "fileMode": "NORMAL"}])
        self.assertEqual(len(folder["subFolders"]), 1)
        self.assertEqual(set(folder["subFolders"][0]), {"absolutePath", "relativePath", "treeId"})
        self.assertEqual((folder["symbolicLinks"], folder["subModules"]), ([], []))
        sub = self.cc.get_folder(repositoryName=self.repo, commitSpecifier=put["commitId"],
                                 folderPath="solutions")
        self.assertEqual([(f["absolutePath"], f["relativePath"]) for f in sub["files"]],
                         [("solutions/ExampleSolution.py", "ExampleSolution.py")])

        # get-differences.rst: afterBlob only for an added file, with the git mode string.
        diff = self.cc.get_differences(repositoryName=self.repo,
                                       beforeCommitSpecifier=first["commitId"],
                                       afterCommitSpecifier=put["commitId"])["differences"]
        self.assertEqual(diff, [{"afterBlob": {"path": "solutions/ExampleSolution.py",
                                               "blobId": put["blobId"], "mode": "100644"},
                                 "changeType": "A"}])

        # get-merge-commit.rst: branches that both moved give a merge commit id (parents:
        # destination then source), the same one each time; base is their common ancestor.
        main2 = self.cc.put_file(repositoryName=self.repo, branchName="main",
                                 fileContent=b"main side\n", filePath="main.txt",
                                 parentCommitId=first["commitId"])
        mc = self.cli("get-merge-commit", "--repository-name", self.repo,
                      "--source-commit-specifier", "feature-randomizationfeature",
                      "--destination-commit-specifier", "main")
        self.assertEqual(set(mc), {"sourceCommitId", "destinationCommitId", "baseCommitId",
                                   "mergedCommitId"})
        self.assertEqual((mc["sourceCommitId"], mc["destinationCommitId"], mc["baseCommitId"]),
                         (put["commitId"], main2["commitId"], first["commitId"]))
        self.assertRegex(mc["mergedCommitId"], HEX40)
        merged = self.cc.get_commit(repositoryName=self.repo,
                                    commitId=mc["mergedCommitId"])["commit"]
        self.assertEqual(merged["parents"], [main2["commitId"], put["commitId"]])
        again = self.cc.get_merge_commit(repositoryName=self.repo,
                                         sourceCommitSpecifier="feature-randomizationfeature",
                                         destinationCommitSpecifier="main")
        self.assertEqual(again["mergedCommitId"], mc["mergedCommitId"])
        # The branch heads did not move: the merge commit is unreferenced.
        self.assertEqual(self.cc.get_branch(repositoryName=self.repo,
                                            branchName="main")["branch"]["commitId"],
                         main2["commitId"])
        # A fast-forward has no merge commit.
        ff = self.cc.get_merge_commit(repositoryName=self.repo, sourceCommitSpecifier="main",
                                      destinationCommitSpecifier=first["commitId"])
        self.assertNotIn("mergedCommitId", ff)
        self.assertEqual(ff["baseCommitId"], first["commitId"])

        # delete-file.rst: blobId of the deleted file, the new commit and tree, the path.
        df = self.cli("delete-file", "--repository-name", self.repo, "--branch-name", "main",
                      "--file-path", "readme.md", "--parent-commit-id", main2["commitId"])
        self.assertEqual(set(df), {"blobId", "commitId", "treeId", "filePath"})
        self.assertEqual(df["filePath"], "readme.md")
        self.assertEqual(df["blobId"], first["filesAdded"][0]["blobId"])

        # delete-branch.rst shows "branch", but the model (and so every SDK) reads deletedBranch.
        self.cc.update_default_branch(repositoryName=self.repo,
                                      defaultBranchName="feature-randomizationfeature")
        db = self.cc.delete_branch(repositoryName=self.repo, branchName="main")
        db.pop("ResponseMetadata")
        self.assertEqual(db, {"deletedBranch": {"branchName": "main", "commitId": df["commitId"]}})

        # list-repositories.rst / batch-get-repositories.rst.
        lr = self.cc.list_repositories()["repositories"]
        self.assertTrue(all(set(r) == {"repositoryName", "repositoryId"} for r in lr), lr)
        self.assertIn(self.repo, [r["repositoryName"] for r in lr])
        bg = self.cc.batch_get_repositories(repositoryNames=[self.repo, "MyOtherDemoRepo"])
        self.assertEqual(bg["repositoriesNotFound"], ["MyOtherDemoRepo"])
        self.assertEqual([r["defaultBranch"] for r in bg["repositories"]],
                         ["feature-randomizationfeature"])
        self.assertEqual(bg["errors"], [])

    def test_get_commit_of_an_unknown_id(self):
        # AWS's text, as relayed by Elastic Beanstalk: "Could not retrieve <id>".
        self.cc.create_repository(repositoryName="commits")
        self.cc.put_file(repositoryName="commits", branchName="main", fileContent=b"x",
                         filePath="x")
        missing = "e95846ca5ad9ea9572259975ee1e1305ec6bb64f"
        self.assertClientError(
            lambda: self.cc.get_commit(repositoryName="commits", commitId=missing),
            "CommitIdDoesNotExistException", message="Could not retrieve " + missing)

    def test_write_paths_accept_one_leading_slash(self):
        self.cc.create_repository(repositoryName="slash")
        c1 = self.cc.create_commit(repositoryName="slash", branchName="main",
                                   putFiles=[{"filePath": "/a/b.txt", "fileContent": b"b"}])
        self.assertEqual(c1["filesAdded"][0]["absolutePath"], "a/b.txt")
        d = self.cc.delete_file(repositoryName="slash", branchName="main", filePath="/a/b.txt",
                                parentCommitId=c1["commitId"])
        self.assertEqual(d["filePath"], "a/b.txt")

    def test_differences_of_a_renamed_folder(self):
        # get-differences.rst: --before-path tmp/example-folder --after-path tmp/renamed-folder
        # answers one "M" of blob.txt, paths relative to the two folders.
        self.cc.create_repository(repositoryName="renamed")
        a = self.cc.create_commit(repositoryName="renamed", branchName="main", putFiles=[
            {"filePath": "tmp/example-folder/blob.txt", "fileContent": b"v1"},
            {"filePath": "other.txt", "fileContent": b"o"}])
        b = self.cc.create_commit(
            repositoryName="renamed", branchName="main", parentCommitId=a["commitId"],
            putFiles=[{"filePath": "tmp/renamed-folder/blob.txt", "fileContent": b"v2"},
                      {"filePath": "other.txt", "fileContent": b"o2"}],
            deleteFiles=[{"filePath": "tmp/example-folder/blob.txt"}])
        out = self.aws("codecommit", "get-differences", "--repository-name", "renamed",
                       "--before-commit-specifier", a["commitId"], "--after-commit-specifier",
                       b["commitId"], "--before-path", "tmp/example-folder", "--after-path",
                       "tmp/renamed-folder")[1]
        self.assertEqual(out, {"differences": [{
            "beforeBlob": {"path": "blob.txt", "blobId": git_blob(b"v1"), "mode": "100644"},
            "afterBlob": {"path": "blob.txt", "blobId": git_blob(b"v2"), "mode": "100644"},
            "changeType": "M"}]})
        # One path for both sides keeps full paths and limits the result to that path.
        same = self.cc.get_differences(repositoryName="renamed", beforeCommitSpecifier=a["commitId"],
                                       afterCommitSpecifier=b["commitId"], beforePath="other.txt",
                                       afterPath="other.txt")["differences"]
        self.assertEqual([(d["changeType"], d["afterBlob"]["path"]) for d in same],
                         [("M", "other.txt")])

    def test_merge_options(self):
        # get-merge-options.rst: a destination that is the merge base lists all three options.
        self.cc.create_repository(repositoryName="opts")
        base = self.cc.put_file(repositoryName="opts", branchName="main", fileContent=b"1\n",
                                filePath="readme.md")["commitId"]
        self.cc.create_branch(repositoryName="opts", branchName="bugfix-bug1234", commitId=base)
        fix = self.cc.put_file(repositoryName="opts", branchName="bugfix-bug1234",
                               fileContent=b"fix\n", filePath="readme.md",
                               parentCommitId=base)["commitId"]
        out = self.aws("codecommit", "get-merge-options", "--repository-name", "opts",
                       "--source-commit-specifier", "bugfix-bug1234",
                       "--destination-commit-specifier", "main")[1]
        self.assertEqual(out, {"mergeOptions": ["FAST_FORWARD_MERGE", "SQUASH_MERGE",
                                                "THREE_WAY_MERGE"],
                               "sourceCommitId": fix, "destinationCommitId": base,
                               "baseCommitId": base})
        # Diverged without conflicts: no fast-forward.
        other = self.cc.put_file(repositoryName="opts", branchName="main", fileContent=b"o",
                                 filePath="other.txt", parentCommitId=base)["commitId"]
        out = self.cc.get_merge_options(repositoryName="opts",
                                        sourceCommitSpecifier="bugfix-bug1234",
                                        destinationCommitSpecifier="main")
        self.assertEqual(out["mergeOptions"], ["SQUASH_MERGE", "THREE_WAY_MERGE"])
        self.assertEqual(out["baseCommitId"], base)
        # The same lines changed on both sides: nothing merges automatically.
        self.cc.put_file(repositoryName="opts", branchName="main", fileContent=b"clash\n",
                         filePath="readme.md", parentCommitId=other)
        out = self.cc.get_merge_options(repositoryName="opts",
                                        sourceCommitSpecifier="bugfix-bug1234",
                                        destinationCommitSpecifier="main")
        self.assertEqual(out["mergeOptions"], [])
        self.assertNotIn("mergedCommitId", self.cc.get_merge_commit(
            repositoryName="opts", sourceCommitSpecifier="bugfix-bug1234",
            destinationCommitSpecifier="main"))


class RequiredMembers(ServerTestCase):
    """SDKs that do not check required members locally (JavaScript v3, Java v2) get CodeCommit's
    own *RequiredException, which the model lists for exactly these operations, not a
    ValidationException."""

    def setUp(self):
        self.cc = self.client("codecommit", parameter_validation=False)

    def test_missing_members_get_codecommits_exceptions(self):
        self.cc.create_repository(repositoryName="req")
        head = self.cc.put_file(repositoryName="req", branchName="main", fileContent=b"x",
                                filePath="x")["commitId"]
        cases = [
            (lambda: self.cc.create_repository(), "RepositoryNameRequiredException",
             "A repository name is required, but was not specified."),
            (lambda: self.cc.get_repository(repositoryName=""), "RepositoryNameRequiredException",
             "A repository name is required, but was not specified."),
            (lambda: self.cc.update_repository_name(oldName="req"),
             "RepositoryNameRequiredException", None),
            (lambda: self.cc.batch_get_repositories(repositoryNames=[]),
             "RepositoryNamesRequiredException", None),
            (lambda: self.cc.create_branch(repositoryName="req", commitId=head),
             "BranchNameRequiredException", "A branch name is required, but was not specified."),
            (lambda: self.cc.create_branch(repositoryName="req", branchName="b"),
             "CommitIdRequiredException",
             "A commit ID is required, but no commit ID was specified."),
            (lambda: self.cc.get_commit(repositoryName="req"), "CommitIdRequiredException", None),
            (lambda: self.cc.put_file(repositoryName="req", branchName="main", filePath="y",
                                      parentCommitId=head), "FileContentRequiredException", None),
            (lambda: self.cc.put_file(repositoryName="req", branchName="main", fileContent=b"y",
                                      parentCommitId=head), "PathRequiredException", None),
            (lambda: self.cc.delete_file(repositoryName="req", branchName="main", filePath="x"),
             "ParentCommitIdRequiredException", None),
            (lambda: self.cc.get_folder(repositoryName="req"), "PathRequiredException", None),
            (lambda: self.cc.get_blob(repositoryName="req"), "BlobIdRequiredException",
             "A blob ID is required, but was not specified."),
            (lambda: self.cc.batch_get_commits(repositoryName="req", commitIds=[]),
             "CommitIdsListRequiredException", None),
            (lambda: self.cc.get_differences(repositoryName="req"), "CommitRequiredException",
             "A commit was not specified."),
            (lambda: self.cc.get_merge_commit(repositoryName="req", sourceCommitSpecifier="main"),
             "CommitRequiredException", None),
            (lambda: self.cc.update_default_branch(repositoryName="req"),
             "BranchNameRequiredException", None),
            (lambda: self.cc.tag_resource(tags={"a": "b"}), "ResourceArnRequiredException", None),
            (lambda: self.cc.tag_resource(resourceArn="arn:aws:codecommit:us-east-1:%s:req"
                                          % ACCOUNT), "TagsMapRequiredException",
             "A map of tags is required."),
            (lambda: self.cc.untag_resource(resourceArn="arn:aws:codecommit:us-east-1:%s:req"
                                            % ACCOUNT, tagKeys=[]),
             "TagKeysListRequiredException", None),
        ]
        for call, code, message in cases:
            with self.subTest(code=code):
                self.assertClientError(call, code, message=message)
        # The root folder is "" and stays valid.
        self.assertEqual(self.cc.get_folder(repositoryName="req", folderPath="")["folderPath"], "")


class Quotas(ServerTestCase):
    """Limits from https://docs.aws.amazon.com/codecommit/latest/userguide/limits.html and the API
    reference of CreateCommit."""

    def setUp(self):
        self.cc = self.client("codecommit")

    def test_branch_names_of_40_hex_characters_are_not_allowed(self):
        self.cc.create_repository(repositoryName="hexbranch")
        head = self.cc.put_file(repositoryName="hexbranch", branchName="main", fileContent=b"x",
                                filePath="x")["commitId"]
        for call in (
                lambda: self.cc.create_branch(repositoryName="hexbranch", branchName="a" * 40,
                                              commitId=head),
                lambda: self.cc.put_file(repositoryName="hexbranch", branchName="0123456789" * 4,
                                         fileContent=b"y", filePath="y")):
            self.assertClientError(call, "InvalidBranchNameException",
                                   message="The specified reference name is not valid.")
        # 39 or 41 hex characters are ordinary names.
        self.cc.create_branch(repositoryName="hexbranch", branchName="a" * 41, commitId=head)
        self.assertEqual(self.cc.list_branches(repositoryName="hexbranch")["branches"],
                         ["a" * 41, "main"])

    def test_commit_messages_up_to_256_kb(self):
        self.cc.create_repository(repositoryName="longmsg")
        msg = "m" * (256 * 1024)
        c = self.cc.create_commit(repositoryName="longmsg", branchName="main", commitMessage=msg,
                                  putFiles=[{"filePath": "a", "fileContent": b"a"}])
        got = self.cc.get_commit(repositoryName="longmsg", commitId=c["commitId"])["commit"]
        self.assertEqual(len(got["message"]), len(msg))
        self.assertClientError(
            lambda: self.cc.create_commit(repositoryName="longmsg", branchName="main",
                                          parentCommitId=c["commitId"], commitMessage=msg + "m",
                                          putFiles=[{"filePath": "b", "fileContent": b"b"}]),
            "CommitMessageLengthExceededException")


if __name__ == "__main__":
    unittest.main()
