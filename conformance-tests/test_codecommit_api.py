"""CodeCommit's JSON API through the AWS CLI and boto3: repositories, branches, commits, files."""
import base64
import hashlib
import os
import subprocess
import time
import unittest

from harness import ACCOUNT, REGION, ServerTestCase


def git_blob_id(data):
    """The id `git hash-object` gives data."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class Repositories(ServerTestCase):

    def setUp(self):
        self.cc = self.client("codecommit")

    def test_create_repository_with_the_cli_returns_aws_metadata(self):
        _, out, _ = self.aws("codecommit", "create-repository", "--repository-name", "cli-repo",
                             "--repository-description", "My demonstration repository")
        md = out["repositoryMetadata"]
        self.assertEqual(md["repositoryName"], "cli-repo")
        self.assertEqual(md["accountId"], ACCOUNT)
        self.assertEqual(md["Arn"], "arn:aws:codecommit:%s:%s:cli-repo" % (REGION, ACCOUNT))
        self.assertEqual(md["cloneUrlHttp"], "%s/v1/repos/cli-repo" % self.server.endpoint)
        self.assertEqual(md["repositoryDescription"], "My demonstration repository")
        self.assertRegex(md["repositoryId"], r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$")
        self.assertIsInstance(md["creationDate"], (int, float))
        self.assertNotIn("defaultBranch", md)

    def test_duplicate_name_is_refused(self):
        self.cc.create_repository(repositoryName="dup")
        self.assertClientError(lambda: self.cc.create_repository(repositoryName="dup"),
                               "RepositoryNameExistsException",
                               message="Repository named dup already exists")

    def test_names_ending_in_git_are_invalid(self):
        self.assertClientError(lambda: self.cc.create_repository(repositoryName="x.git"),
                               "InvalidRepositoryNameException")

    def test_bad_name_pattern_is_codecommits_own_error(self):
        # AWS answers InvalidRepositoryNameException with this text (quoted by Elastic Beanstalk),
        # not the ValidationException of the model's [\w\.-]+ pattern; for every operation.
        msg = "Repository names are restricted to alphanumeric characters, plus '.', '_', and '-'"
        self.assertClientError(lambda: self.cc.create_repository(repositoryName="a b"),
                               "InvalidRepositoryNameException", message=msg)
        self.assertClientError(lambda: self.cc.get_repository(repositoryName="a/b"),
                               "InvalidRepositoryNameException", message=msg)
        self.assertClientError(lambda: self.cc.update_repository_name(oldName="x", newName="y z"),
                               "InvalidRepositoryNameException", message=msg)
        # Over 100 characters: the same exception rather than the model's ValidationException.
        self.assertClientError(lambda: self.cc.create_repository(repositoryName="x" * 101),
                               "InvalidRepositoryNameException")
        self.cc.create_repository(repositoryName="x" * 100)

    def test_get_missing_repository(self):
        self.assertClientError(lambda: self.cc.get_repository(repositoryName="nope"),
                               "RepositoryDoesNotExistException", message="nope does not exist")

    def test_update_name_description_and_batch_get(self):
        self.cc.create_repository(repositoryName="old-name")
        self.cc.update_repository_description(repositoryName="old-name", repositoryDescription="d2")
        self.cc.update_repository_name(oldName="old-name", newName="new-name")
        self.assertClientError(lambda: self.cc.get_repository(repositoryName="old-name"),
                               "RepositoryDoesNotExistException")
        md = self.cc.get_repository(repositoryName="new-name")["repositoryMetadata"]
        self.assertEqual(md["repositoryDescription"], "d2")
        self.assertTrue(md["Arn"].endswith(":new-name"))
        self.cc.create_repository(repositoryName="other-name")
        self.assertClientError(
            lambda: self.cc.update_repository_name(oldName="new-name", newName="other-name"),
            "RepositoryNameExistsException")
        out = self.cc.batch_get_repositories(repositoryNames=["new-name", "missing-one"])
        self.assertEqual([r["repositoryName"] for r in out["repositories"]], ["new-name"])
        self.assertEqual(out["repositoriesNotFound"], ["missing-one"])

    def test_delete_returns_the_id_once(self):
        rid = self.cc.create_repository(repositoryName="gone")["repositoryMetadata"]["repositoryId"]
        self.assertEqual(self.cc.delete_repository(repositoryName="gone")["repositoryId"], rid)
        self.assertNotIn("repositoryId", self.cc.delete_repository(repositoryName="gone"))
        self.assertClientError(lambda: self.cc.get_repository(repositoryName="gone"),
                               "RepositoryDoesNotExistException")

    def test_tags(self):
        arn = self.cc.create_repository(repositoryName="tagged", tags={"a": "1"})[
            "repositoryMetadata"]["Arn"]
        self.cc.tag_resource(resourceArn=arn, tags={"b": "2"})
        self.assertEqual(self.cc.list_tags_for_resource(resourceArn=arn)["tags"], {"a": "1", "b": "2"})
        self.cc.untag_resource(resourceArn=arn, tagKeys=["a"])
        self.assertEqual(self.cc.list_tags_for_resource(resourceArn=arn)["tags"], {"b": "2"})
        self.assertClientError(lambda: self.cc.tag_resource(resourceArn=arn, tags={"aws:x": "1"}),
                               "InvalidSystemTagUsageException")
        self.assertClientError(lambda: self.cc.list_tags_for_resource(resourceArn="arn:nope"),
                               "InvalidResourceArnException")
        self.assertClientError(
            lambda: self.cc.list_tags_for_resource(
                resourceArn="arn:aws:codecommit:%s:%s:none" % (REGION, ACCOUNT)),
            "RepositoryDoesNotExistException")
        many = {"k%d" % i: "v" for i in range(50)}
        self.assertClientError(lambda: self.cc.tag_resource(resourceArn=arn, tags=many),
                               "TooManyTagsException")


class Listing(ServerTestCase):
    """Sorting and pagination, with a page size of 2 so that pages are cheap to reach."""

    @classmethod
    def setUpClass(cls):
        os.environ["CPL_CODECOMMIT_PAGE_SIZE"] = "2"
        try:
            super().setUpClass()
        finally:
            del os.environ["CPL_CODECOMMIT_PAGE_SIZE"]
        cc = cls.client(cls, "codecommit")
        for name in ["bravo", "alpha", "delta", "charlie", "echo"]:
            cc.create_repository(repositoryName=name)

    def setUp(self):
        self.cc = self.client("codecommit")

    def test_list_repositories_pages_in_name_order(self):
        names = []
        pages = 0
        for page in self.cc.get_paginator("list_repositories").paginate():
            pages += 1
            names += [r["repositoryName"] for r in page["repositories"]]
        self.assertEqual(names, ["alpha", "bravo", "charlie", "delta", "echo"])
        self.assertEqual(pages, 3)

    def test_descending_and_by_last_modified(self):
        _, out, _ = self.aws("codecommit", "list-repositories", "--order", "descending",
                             "--sort-by", "repositoryName")
        self.assertEqual([r["repositoryName"] for r in out["repositories"]],
                         ["echo", "delta", "charlie", "bravo", "alpha"])
        time.sleep(0.01)
        self.cc.update_repository_description(repositoryName="alpha", repositoryDescription="x")
        names = []
        for page in self.cc.get_paginator("list_repositories").paginate(
                sortBy="lastModifiedDate", order="ascending"):
            names += [r["repositoryName"] for r in page["repositories"]]
        self.assertEqual(len(names), 5)
        self.assertEqual(names[-1], "alpha")
        page = self.cc.list_repositories(sortBy="lastModifiedDate", order="descending")
        self.assertEqual(page["repositories"][0]["repositoryName"], "alpha")

    def test_bad_token_and_bad_enum(self):
        self.assertClientError(lambda: self.cc.list_repositories(nextToken="garbage"),
                               "InvalidContinuationTokenException")
        self.assertClientError(lambda: self.cc.list_repositories(sortBy="size"),
                               "ValidationException")


class Commits(ServerTestCase):

    def setUp(self):
        self.cc = self.client("codecommit")

    def new_repo(self, name):
        self.cc.create_repository(repositoryName=name)
        return name

    def test_put_file_creates_the_first_branch_and_the_default_branch(self):
        repo = self.new_repo("put1")
        _, out, _ = self.aws("codecommit", "put-file", "--repository-name", repo, "--branch-name",
                             "main", "--file-content", "hello", "--file-path", "README.md",
                             "--name", "Mary Major", "--email", "mary_major@example.com",
                             "--commit-message", "first")
        self.assertEqual(out["blobId"], git_blob_id(b"hello"))
        branch = self.cc.get_branch(repositoryName=repo, branchName="main")["branch"]
        self.assertEqual(branch["commitId"], out["commitId"])
        md = self.cc.get_repository(repositoryName=repo)["repositoryMetadata"]
        self.assertEqual(md["defaultBranch"], "main")
        commit = self.cc.get_commit(repositoryName=repo, commitId=out["commitId"])["commit"]
        self.assertEqual(commit["treeId"], out["treeId"])
        self.assertEqual(commit["parents"], [])
        self.assertEqual(commit["message"], "first")
        self.assertEqual(commit["author"]["name"], "Mary Major")
        self.assertEqual(commit["author"]["email"], "mary_major@example.com")
        self.assertRegex(commit["author"]["date"], r"^\d+ [+-]\d{4}$")
        f = self.cc.get_file(repositoryName=repo, filePath="README.md")
        self.assertEqual(f["fileContent"], b"hello")
        self.assertEqual(f["fileMode"], "NORMAL")
        self.assertEqual(f["fileSize"], 5)
        self.assertEqual(f["commitId"], out["commitId"])

    def test_parent_commit_rules(self):
        repo = self.new_repo("put2")
        first = self.cc.put_file(repositoryName=repo, branchName="main", fileContent=b"1",
                                 filePath="a.txt")["commitId"]
        self.assertClientError(
            lambda: self.cc.put_file(repositoryName=repo, branchName="main", fileContent=b"2",
                                     filePath="a.txt"),
            "ParentCommitIdRequiredException")
        second = self.cc.put_file(repositoryName=repo, branchName="main", fileContent=b"2",
                                  filePath="a.txt", parentCommitId=first)["commitId"]
        self.assertClientError(
            lambda: self.cc.put_file(repositoryName=repo, branchName="main", fileContent=b"3",
                                     filePath="a.txt", parentCommitId=first),
            "ParentCommitIdOutdatedException")
        self.assertClientError(
            lambda: self.cc.put_file(repositoryName=repo, branchName="main", fileContent=b"3",
                                     filePath="a.txt", parentCommitId="0" * 40),
            "ParentCommitDoesNotExistException")
        self.assertClientError(
            lambda: self.cc.put_file(repositoryName=repo, branchName="main", fileContent=b"3",
                                     filePath="a.txt", parentCommitId="xyz"),
            "InvalidParentCommitIdException")
        self.assertClientError(
            lambda: self.cc.put_file(repositoryName=repo, branchName="main", fileContent=b"2",
                                     filePath="a.txt", parentCommitId=second),
            "SameFileContentException")
        self.assertClientError(
            lambda: self.cc.put_file(repositoryName=repo, branchName="main", fileContent=b"",
                                     filePath="b.txt", parentCommitId=second),
            "FileContentRequiredException")
        self.assertEqual(self.cc.get_branch(repositoryName=repo, branchName="main")["branch"]["commitId"],
                         second)

    def test_bad_paths_change_nothing(self):
        repo = self.new_repo("paths")
        head = self.cc.put_file(repositoryName=repo, branchName="main", fileContent=b"1",
                                filePath="a.txt")["commitId"]
        for bad in ["../x", "//abs.txt", "a/../../b", "dir/", ".git/config", "a//b", "/"]:
            self.assertClientError(
                lambda: self.cc.put_file(repositoryName=repo, branchName="main", fileContent=b"2",
                                         filePath=bad, parentCommitId=head),
                "InvalidPathException")
        self.assertClientError(
            lambda: self.cc.put_file(repositoryName=repo, branchName="main", fileContent=b"2",
                                     filePath="a.txt/b", parentCommitId=head),
            "DirectoryNameConflictsWithFileNameException")
        self.assertEqual(self.cc.get_branch(repositoryName=repo, branchName="main")["branch"]["commitId"],
                         head)

    def test_file_size_limits(self):
        repo = self.new_repo("big")
        # One file over 6 MiB: AWS's documented FileContentSizeLimitExceededException, not the
        # ValidationException of the model's blob maximum; exactly 6 MiB is accepted.
        too_big = ("The file cannot be added because it is too large. The maximum file size is 6 MB, "
                   "and the combined file content change size is 7 MB. Consider making these "
                   "changes using a Git client.")
        self.assertClientError(
            lambda: self.cc.put_file(repositoryName=repo, branchName="main",
                                     fileContent=b"x" * (6 * 1024 * 1024 + 1), filePath="big.bin"),
            "FileContentSizeLimitExceededException", message=too_big)
        self.assertClientError(
            lambda: self.cc.create_commit(repositoryName=repo, branchName="main", putFiles=[
                {"filePath": "big.bin", "fileContent": b"x" * (6 * 1024 * 1024 + 1)}]),
            "FileContentSizeLimitExceededException", message=too_big)
        self.assertEqual(self.cc.list_branches(repositoryName=repo)["branches"], [])
        edge = self.cc.put_file(repositoryName=repo, branchName="edge",
                                fileContent=b"e" * (6 * 1024 * 1024), filePath="edge.bin")
        self.assertEqual(edge["blobId"], git_blob_id(b"e" * (6 * 1024 * 1024)))
        # Files under 6 MiB each but over 7 MiB together exceed the combined limit.
        chunk = b"y" * (3 * 1024 * 1024 + 600 * 1024)
        self.assertClientError(
            lambda: self.cc.create_commit(repositoryName=repo, branchName="main", putFiles=[
                {"filePath": "a.bin", "fileContent": chunk},
                {"filePath": "b.bin", "fileContent": chunk}]),
            "FileContentSizeLimitExceededException")
        self.assertEqual(self.cc.list_branches(repositoryName=repo)["branches"], ["edge"])

    def test_modes_and_get_folder(self):
        repo = self.new_repo("modes")
        out = self.cc.create_commit(repositoryName=repo, branchName="main", authorName="A",
                                    email="a@example.com", commitMessage="tree", putFiles=[
                                        {"filePath": "README.md", "fileContent": b"r"},
                                        {"filePath": "bin/run.sh", "fileContent": b"#!/bin/sh\n",
                                         "fileMode": "EXECUTABLE"},
                                        {"filePath": "bin/link", "fileContent": b"run.sh",
                                         "fileMode": "SYMLINK"},
                                    ])
        self.assertEqual(sorted(f["absolutePath"] for f in out["filesAdded"]),
                         ["README.md", "bin/link", "bin/run.sh"])
        self.assertEqual(out["filesUpdated"], [])
        root = self.cc.get_folder(repositoryName=repo, folderPath="/")
        self.assertEqual([f["absolutePath"] for f in root["files"]], ["README.md"])
        self.assertEqual([(f["absolutePath"], f["relativePath"]) for f in root["subFolders"]],
                         [("bin", "bin")])
        self.assertEqual(root["treeId"], out["treeId"])
        binf = self.cc.get_folder(repositoryName=repo, folderPath="bin", commitSpecifier="main")
        self.assertEqual([(f["absolutePath"], f["fileMode"]) for f in binf["files"]],
                         [("bin/run.sh", "EXECUTABLE")])
        self.assertEqual([(f["absolutePath"], f["fileMode"]) for f in binf["symbolicLinks"]],
                         [("bin/link", "SYMLINK")])
        self.assertEqual(binf["subModules"], [])
        self.assertClientError(lambda: self.cc.get_folder(repositoryName=repo, folderPath="nope"),
                               "FolderDoesNotExistException")
        self.assertClientError(lambda: self.cc.get_file(repositoryName=repo, filePath="bin"),
                               "FileDoesNotExistException")
        self.assertClientError(
            lambda: self.cc.get_file(repositoryName=repo, filePath="README.md",
                                     commitSpecifier="no-such-branch"),
            "CommitDoesNotExistException")
        blob = self.cc.get_blob(repositoryName=repo, blobId=binf["files"][0]["blobId"])
        self.assertEqual(blob["content"], b"#!/bin/sh\n")
        self.assertClientError(lambda: self.cc.get_blob(repositoryName=repo, blobId="1" * 40),
                               "BlobIdDoesNotExistException")
        self.assertClientError(lambda: self.cc.get_blob(repositoryName=repo, blobId="zz"),
                               "InvalidBlobIdException")

    def test_create_commit_puts_deletes_modes_and_conflicts(self):
        repo = self.new_repo("cc")
        c1 = self.cc.create_commit(repositoryName=repo, branchName="main", putFiles=[
            {"filePath": "a.txt", "fileContent": b"a"}, {"filePath": "d/b.txt", "fileContent": b"b"}])
        head = c1["commitId"]
        for kwargs, code in [
            ({"putFiles": [{"filePath": "a.txt", "fileContent": b"x"}],
              "deleteFiles": [{"filePath": "a.txt"}]}, "SamePathRequestException"),
            ({"putFiles": [{"filePath": "x", "fileContent": b"x"},
                           {"filePath": "x/y", "fileContent": b"y"}]}, "PutFileEntryConflictException"),
            ({"deleteFiles": [{"filePath": "missing.txt"}]}, "FileDoesNotExistException"),
            ({"putFiles": [{"filePath": "d", "fileContent": b"x"}]},
             "FileNameConflictsWithDirectoryNameException"),
            ({"putFiles": [{"filePath": "a.txt", "fileContent": b"a"}]}, "SameFileContentException"),
            ({"setFileModes": [{"filePath": "a.txt", "fileMode": "NORMAL"}]}, "NoChangeException"),
            ({}, "FileEntryRequiredException"),
            ({"putFiles": [{"filePath": "n.txt"}]}, "SourceFileOrContentRequiredException"),
        ]:
            self.assertClientError(
                lambda: self.cc.create_commit(repositoryName=repo, branchName="main",
                                              parentCommitId=head, **kwargs), code)
        self.assertEqual(self.cc.get_branch(repositoryName=repo, branchName="main")["branch"]["commitId"],
                         head)
        c2 = self.cc.create_commit(
            repositoryName=repo, branchName="main", parentCommitId=head,
            putFiles=[{"filePath": "a.txt", "fileContent": b"a2"},
                      {"filePath": "moved.txt", "sourceFile": {"filePath": "d/b.txt", "isMove": True}}],
            keepEmptyFolders=True)
        self.assertEqual([f["absolutePath"] for f in c2["filesUpdated"]], ["a.txt"])
        self.assertEqual([f["absolutePath"] for f in c2["filesAdded"]], ["moved.txt"])
        self.assertEqual([f["absolutePath"] for f in c2["filesDeleted"]], ["d/b.txt"])
        self.assertEqual(self.cc.get_file(repositoryName=repo, filePath="moved.txt")["fileContent"], b"b")
        folder = self.cc.get_folder(repositoryName=repo, folderPath="d")
        self.assertEqual([f["relativePath"] for f in folder["files"]], [".gitkeep"])
        c3 = self.cc.create_commit(repositoryName=repo, branchName="main",
                                   parentCommitId=c2["commitId"],
                                   setFileModes=[{"filePath": "a.txt", "fileMode": "EXECUTABLE"}],
                                   deleteFiles=[{"filePath": "moved.txt"}])
        self.assertEqual([(f["absolutePath"], f["fileMode"]) for f in c3["filesUpdated"]],
                         [("a.txt", "EXECUTABLE")])
        df = self.cc.delete_file(repositoryName=repo, branchName="main", filePath="a.txt",
                                 parentCommitId=c3["commitId"])
        self.assertEqual(df["filePath"], "a.txt")
        self.assertEqual(df["blobId"], git_blob_id(b"a2"))
        commits = self.cc.batch_get_commits(repositoryName=repo,
                                            commitIds=[c1["commitId"], df["commitId"], "0" * 40])
        self.assertEqual([c["commitId"] for c in commits["commits"]], [c1["commitId"], df["commitId"]])
        self.assertEqual(commits["commits"][1]["parents"], [c3["commitId"]])
        self.assertEqual([e["commitId"] for e in commits["errors"]], ["0" * 40])
        self.assertClientError(lambda: self.cc.get_commit(repositoryName=repo, commitId="0" * 40),
                               "CommitIdDoesNotExistException")

    def test_differences_with_paths_and_pages(self):
        repo = self.new_repo("diffs")
        c1 = self.cc.create_commit(repositoryName=repo, branchName="main", putFiles=[
            {"filePath": "a.txt", "fileContent": b"a"}, {"filePath": "src/b.txt", "fileContent": b"b"},
            {"filePath": "src/c.txt", "fileContent": b"c"}])["commitId"]
        c2 = self.cc.create_commit(repositoryName=repo, branchName="main", parentCommitId=c1,
                                   putFiles=[{"filePath": "src/b.txt", "fileContent": b"b2"},
                                             {"filePath": "new.txt", "fileContent": b"n"}],
                                   deleteFiles=[{"filePath": "src/c.txt"}])["commitId"]
        _, out, _ = self.aws("codecommit", "get-differences", "--repository-name", repo,
                             "--before-commit-specifier", c1, "--after-commit-specifier", c2)
        changes = {(d.get("afterBlob") or d["beforeBlob"])["path"]: d for d in out["differences"]}
        self.assertEqual({p: d["changeType"] for p, d in changes.items()},
                         {"src/b.txt": "M", "new.txt": "A", "src/c.txt": "D"})
        self.assertEqual(changes["src/b.txt"]["afterBlob"]["blobId"], git_blob_id(b"b2"))
        self.assertEqual(changes["src/b.txt"]["afterBlob"]["mode"], "100644")
        only_src = self.cc.get_differences(repositoryName=repo, beforeCommitSpecifier=c1,
                                           afterCommitSpecifier=c2, beforePath="src", afterPath="src")
        self.assertEqual(len(only_src["differences"]), 2)
        page1 = self.cc.get_differences(repositoryName=repo, beforeCommitSpecifier=c1,
                                        afterCommitSpecifier="main", MaxResults=2)
        self.assertEqual(len(page1["differences"]), 2)
        page2 = self.cc.get_differences(repositoryName=repo, beforeCommitSpecifier=c1,
                                        afterCommitSpecifier="main", MaxResults=2,
                                        NextToken=page1["NextToken"])
        self.assertEqual(len(page2["differences"]), 1)
        self.assertNotIn("NextToken", page2)
        everything = self.cc.get_differences(repositoryName=repo, afterCommitSpecifier=c1)
        self.assertEqual(len(everything["differences"]), 3)
        self.assertClientError(
            lambda: self.cc.get_differences(repositoryName=repo, afterCommitSpecifier=c2,
                                            afterPath="nowhere"),
            "PathDoesNotExistException")

    def test_branches_and_fast_forward_merge(self):
        repo = self.new_repo("branches")
        c1 = self.cc.put_file(repositoryName=repo, branchName="main", fileContent=b"1",
                              filePath="f")["commitId"]
        self.cc.create_branch(repositoryName=repo, branchName="feature", commitId=c1)
        self.assertClientError(
            lambda: self.cc.create_branch(repositoryName=repo, branchName="feature", commitId=c1),
            "BranchNameExistsException")
        self.assertClientError(
            lambda: self.cc.create_branch(repositoryName=repo, branchName="x", commitId="1" * 40),
            "CommitDoesNotExistException")
        c2 = self.cc.put_file(repositoryName=repo, branchName="feature", fileContent=b"2",
                              filePath="f", parentCommitId=c1)["commitId"]
        self.assertEqual(self.cc.list_branches(repositoryName=repo)["branches"], ["feature", "main"])
        base = self.cc.get_merge_commit(repositoryName=repo, sourceCommitSpecifier="feature",
                                        destinationCommitSpecifier="main")
        self.assertEqual(base["baseCommitId"], c1)
        out = self.cc.merge_branches_by_fast_forward(repositoryName=repo,
                                                     sourceCommitSpecifier="feature",
                                                     destinationCommitSpecifier="main")
        self.assertEqual(out["commitId"], c2)
        self.assertEqual(self.cc.get_branch(repositoryName=repo, branchName="main")["branch"]["commitId"], c2)
        c3 = self.cc.put_file(repositoryName=repo, branchName="main", fileContent=b"3",
                              filePath="f", parentCommitId=c2)["commitId"]
        self.cc.put_file(repositoryName=repo, branchName="feature", fileContent=b"4",
                         filePath="g", parentCommitId=c2)
        self.assertClientError(
            lambda: self.cc.merge_branches_by_fast_forward(
                repositoryName=repo, sourceCommitSpecifier="feature",
                destinationCommitSpecifier="main"),
            "ManualMergeRequiredException")
        self.assertEqual(self.cc.get_branch(repositoryName=repo, branchName="main")["branch"]["commitId"], c3)
        self.assertClientError(lambda: self.cc.delete_branch(repositoryName=repo, branchName="main"),
                               "DefaultBranchCannotBeDeletedException")
        self.cc.update_default_branch(repositoryName=repo, defaultBranchName="feature")
        self.assertEqual(self.cc.get_repository(repositoryName=repo)["repositoryMetadata"]["defaultBranch"],
                         "feature")
        deleted = self.cc.delete_branch(repositoryName=repo, branchName="main")["deletedBranch"]
        self.assertEqual(deleted, {"branchName": "main", "commitId": c3})
        self.assertClientError(lambda: self.cc.get_branch(repositoryName=repo, branchName="main"),
                               "BranchDoesNotExistException")
        self.assertClientError(
            lambda: self.cc.update_default_branch(repositoryName=repo, defaultBranchName="main"),
            "BranchDoesNotExistException")

    def test_repositories_and_commits_survive_a_restart(self):
        repo = self.new_repo("durable")
        head = self.cc.put_file(repositoryName=repo, branchName="main", fileContent=b"keep",
                                filePath="k")["commitId"]
        self.server.restart()
        cc = self.client("codecommit")
        self.assertEqual(cc.get_branch(repositoryName=repo, branchName="main")["branch"]["commitId"], head)
        self.assertEqual(cc.get_file(repositoryName=repo, filePath="k")["fileContent"], b"keep")
        self.assertEqual(cc.get_repository(repositoryName=repo)["repositoryMetadata"]["defaultBranch"],
                         "main")

    def test_optional_members_that_aws_requires(self):
        repo = self.new_repo("required")
        self.assertClientError(lambda: self.cc.get_branch(branchName="main"),
                               "RepositoryNameRequiredException")
        self.assertClientError(lambda: self.cc.get_branch(repositoryName=repo),
                               "BranchNameRequiredException")
        self.assertClientError(lambda: self.cc.get_branch(repositoryName=repo, branchName="a..b"),
                               "InvalidBranchNameException")
        self.assertClientError(
            lambda: self.cc.batch_get_commits(repositoryName=repo, commitIds=["0" * 40] * 101),
            "CommitIdsLimitExceededException")
        self.assertClientError(lambda: self.cc.get_file(repositoryName=repo, filePath="x"),
                               "CommitDoesNotExistException")

    def test_racing_commits_on_one_parent_let_exactly_one_win(self):
        import concurrent.futures
        from botocore.exceptions import ClientError
        repo = self.new_repo("race")
        head = self.cc.put_file(repositoryName=repo, branchName="main", fileContent=b"0",
                                filePath="f")["commitId"]

        def attempt(i):
            cc = self.client("codecommit")
            try:
                return cc.put_file(repositoryName=repo, branchName="main", fileContent=b"%d" % i,
                                   filePath="f", parentCommitId=head)["commitId"]
            except ClientError as e:
                return e.response["Error"]["Code"]

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            results = list(pool.map(attempt, range(1, 9)))
        winners = [r for r in results if len(r) == 40]
        self.assertEqual(len(winners), 1, results)
        self.assertEqual(sorted(set(results) - set(winners)), ["ParentCommitIdOutdatedException"])
        self.assertEqual(self.cc.get_branch(repositoryName=repo, branchName="main")["branch"]["commitId"],
                         winners[0])

    def test_ids_match_git(self):
        repo = self.new_repo("gitids")
        data = b"some bytes\n\x00\x01"
        out = self.cc.put_file(repositoryName=repo, branchName="main", fileContent=data,
                               filePath="bin.dat")
        p = subprocess.run(["git", "hash-object", "--stdin"], input=data, capture_output=True,
                           check=True)
        self.assertEqual(out["blobId"], p.stdout.decode().strip())


if __name__ == "__main__":
    unittest.main()
