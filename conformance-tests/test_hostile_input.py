"""Hostile input on the wire: JSON nulls, bytes that are not UTF-8, names git refuses. Each answer
must be AWS's error (or success), never a crash, and always valid UTF-8."""
import base64
import json
import os
import subprocess
import unittest

from harness import ACCOUNT, ServerTestCase, signed_request
from test_codecommit_git import GitHelpers
from test_codepipeline_pipelines import create_artifact_bucket, declaration
from test_s3_hostile import error_code, signed

CP = "CodePipeline_20150709."
CC = "CodeCommit_20150413."
ARN = "arn:aws:codepipeline:us-east-1:%s:" % ACCOUNT


class HostileJson(GitHelpers, ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        create_artifact_bucket(cls.server)

    def setUp(self):
        super().setUp()
        self.cp = self.client("codepipeline")

    def call(self, target, body):
        """Sends body (str or bytes) signed; asserts the server lives and answers valid UTF-8."""
        status, _, parsed = signed_request(self.server.endpoint, target, body)
        self.assertIsNone(self.server.proc.poll(), "the server died on %r" % body)
        if isinstance(parsed, bytes):
            parsed.decode("utf-8")  # raises on bytes that are not UTF-8
        return status, parsed

    def assertJsonError(self, target, body, code, message=None, status=400):
        got, parsed = self.call(target, body)
        self.assertEqual((got, parsed.get("__type")), (status, code), parsed)
        if message is not None:
            self.assertEqual(parsed["message"], message)

    def test_a_null_structure_member_counts_as_absent(self):
        status, out = self.call(CP + "ListPipelines", '{"nextToken":null,"maxResults":null}')
        self.assertEqual(status, 200, out)
        self.assertIn("pipelines", out)
        self.assertJsonError(CP + "ListTagsForResource",
                             '{"resourceArn":"%sx","nextToken":null}' % ARN,
                             "ResourceNotFoundException")
        self.assertJsonError(CP + "GetPipeline", '{"name":null}', "ValidationException",
                             "1 validation error detected: Value null at 'name' failed to satisfy "
                             "constraint: Member must not be null")
        status, out = self.call(CC + "ListRepositories", '{"nextToken":null,"order":null}')
        self.assertEqual(status, 200, out)

    def test_a_null_list_member_is_refused(self):
        self.cp.create_pipeline(pipeline=declaration("nulltags"),
                                tags=[{"key": "k", "value": "v"}])
        self.assertJsonError(CP + "UntagResource",
                             '{"resourceArn":"%snulltags","tagKeys":[null]}' % ARN,
                             "ValidationException",
                             "1 validation error detected: Value null at 'tagKeys.1.member' "
                             "failed to satisfy constraint: Member must not be null")
        self.assertEqual(self.cp.list_tags_for_resource(resourceArn=ARN + "nulltags")["tags"],
                         [{"key": "k", "value": "v"}])

        d = declaration("nullout")
        d["stages"][0]["actions"][0]["outputArtifacts"] = [None]
        self.assertJsonError(
            CP + "CreatePipeline", json.dumps({"pipeline": d}), "ValidationException",
            "1 validation error detected: Value null at "
            "'pipeline.stages.1.member.actions.1.member.outputArtifacts.1.member' failed to "
            "satisfy constraint: Member must not be null")
        self.assertJsonError(CP + "GetPipeline", '{"name":"nullout"}', "PipelineNotFoundException")

    def test_a_null_map_value_is_refused_and_not_stored(self):
        self.assertJsonError(CC + "CreateRepository", '{"repositoryName":"nt","tags":{"k":null}}',
                             "ValidationException",
                             "1 validation error detected: Value null at 'tags.k' failed to "
                             "satisfy constraint: Member must not be null")
        self.assertJsonError(CC + "GetRepository", '{"repositoryName":"nt"}',
                             "RepositoryDoesNotExistException")

    def test_invalid_utf8_in_a_json_body_is_a_serialization_error(self):
        for body in (b'{"repositoryName":"u8","repositoryDescription":"caf\xe9"}',
                     b'{"repositoryName":"u8","repositoryDescription":"\xed\xa0\x80"}',
                     b'{"repositoryName":"u8","tags":{"\xff":"v"}}'):
            self.assertJsonError(CC + "CreateRepository", body, "SerializationException")
        self.assertJsonError(CC + "GetRepository", '{"repositoryName":"u8"}',
                             "RepositoryDoesNotExistException")

    def test_null_characters_are_refused_before_any_handler(self):
        cc = self.cc
        cc.create_repository(repositoryName="nul")
        self.assertClientError(lambda: cc.create_branch(repositoryName="nul", branchName="x\x00y",
                                                        commitId="0" * 40),
                               "ValidationException")
        self.assertClientError(lambda: cc.update_repository_description(
            repositoryName="nul", repositoryDescription="one\x00two"), "ValidationException")
        self.assertClientError(lambda: cc.tag_resource(
            resourceArn=cc.get_repository(repositoryName="nul")["repositoryMetadata"]["Arn"],
            tags={"k": "v\x00w"}), "ValidationException")
        self.assertNotIn("repositoryDescription",
                         cc.get_repository(repositoryName="nul")["repositoryMetadata"])

    def test_a_null_character_in_a_map_key_is_refused_not_cut(self):
        cc = self.cc
        arn = cc.create_repository(repositoryName="nulkey")["repositoryMetadata"]["Arn"]
        # json-c would keep the key as "a": a tag "a" would be stored
        self.assertClientError(lambda: cc.tag_resource(resourceArn=arn, tags={"a\x00b": "v"}),
                               "SerializationException")
        self.assertEqual(cc.list_tags_for_resource(resourceArn=arn)["tags"], {})

    def test_branch_names_git_refuses_are_invalid_branch_names(self):
        cc = self.cc
        cc.create_repository(repositoryName="br")
        head = cc.put_file(repositoryName="br", branchName="main", fileContent=b"x",
                           filePath="x.txt")["commitId"]
        # A NUL is refused for every string by the model validation (ValidationException, see
        # test_null_characters_are_refused_before_any_handler); the other control characters reach
        # the branch check.
        for name in ("x\x7fy", "x\x01y", "HEAD", "-x", "@", "a..b", "a@{b", "x.lock",
                     "a/", "a b", "a~b", "a:b"):
            self.assertClientError(lambda: cc.create_branch(repositoryName="br", branchName=name,
                                                            commitId=head),
                                   "InvalidBranchNameException")
            self.assertClientError(lambda: cc.put_file(repositoryName="br", branchName=name,
                                                       fileContent=b"y", filePath="y.txt",
                                                       parentCommitId=head),
                                   "InvalidBranchNameException")
            self.assertClientError(lambda: cc.get_branch(repositoryName="br", branchName=name),
                                   "InvalidBranchNameException")
            self.assertClientError(lambda: cc.delete_branch(repositoryName="br", branchName=name),
                                   "InvalidBranchNameException")
        self.assertEqual(cc.list_branches(repositoryName="br")["branches"], ["main"])
        # git itself still clones the repository without a "bad ref" complaint.
        wd = self.workdir("br")
        p = self.git("clone", self.url("br"), wd)
        self.assertNotIn("bad ref", p.stderr)
        self.assertNotIn("funny ref", p.stderr)

    def test_dot_names_and_long_path_components_are_refused(self):
        for name in (".", ".."):
            self.assertClientError(lambda: self.cc.create_repository(repositoryName=name),
                                   "InvalidRepositoryNameException")
        self.cc.create_repository(repositoryName="longp")
        ok = "d/" + "a" * 255
        self.cc.put_file(repositoryName="longp", branchName="main", fileContent=b"x",
                         filePath=ok)
        head = self.cc.get_branch(repositoryName="longp", branchName="main")["branch"]["commitId"]
        self.assertClientError(lambda: self.cc.put_file(
            repositoryName="longp", branchName="main", fileContent=b"x",
            filePath="d/" + "a" * 256, parentCommitId=head), "InvalidPathException")
        self.assertClientError(lambda: self.cc.create_commit(
            repositoryName="longp", branchName="main", parentCommitId=head,
            putFiles=[{"filePath": "b" * 256, "fileContent": b"x"}]), "InvalidPathException")

    def test_git_data_that_is_not_utf8_is_answered_with_replacement_characters(self):
        self.cc.create_repository(repositoryName="latin1")
        wd = self.workdir("latin1")
        self.git("clone", self.url("latin1"), wd)
        name = "caf\xe9.txt".encode("latin-1")
        with open(os.path.join(wd.encode(), name), "wb") as f:
            f.write(b"x\n")
        self.git("add", ".", cwd=wd)
        # Message and author name in Latin-1, as git writes them with i18n.commitEncoding set.
        latin1_name = b"Jos\xe9".decode("utf-8", "surrogateescape")
        subprocess.run(["git", "-c", "i18n.commitEncoding=latin-1", "commit", "-q", "-F", "-"],
                       cwd=wd, env=self.git_env(GIT_AUTHOR_NAME=latin1_name),
                       input=b"na\xefve message\n", check=True, capture_output=True)
        self.git("push", "origin", "HEAD:main", cwd=wd)
        head = self.git("rev-parse", "HEAD", cwd=wd).stdout.strip()
        status, out = self.call(CC + "GetCommit",
                                json.dumps({"repositoryName": "latin1", "commitId": head}))
        self.assertEqual(status, 200, out)
        self.assertEqual(out["commit"]["message"], "na\ufffdve message\n")
        self.assertEqual(out["commit"]["author"]["name"], "Jos\ufffd")
        status, out = self.call(CC + "GetFolder",
                                json.dumps({"repositoryName": "latin1", "folderPath": "/"}))
        self.assertEqual(status, 200, out)
        self.assertEqual([f["relativePath"] for f in out["files"]], ["caf\ufffd.txt"])
        status, out = self.call(CC + "GetDifferences",
                                json.dumps({"repositoryName": "latin1",
                                            "afterCommitSpecifier": head}))
        self.assertEqual(status, 200, out)
        # boto3 and the CLI read the same answers without a UnicodeDecodeError.
        self.cc.get_commit(repositoryName="latin1", commitId=head)
        self.aws("codecommit", "get-folder", "--repository-name", "latin1", "--folder-path", "/")


class HostileS3Headers(ServerTestCase):
    # Header bytes that are not UTF-8 cannot be signed the way botocore signs (it hashes their
    # UTF-8 form): the signature is not what these tests are about.
    server_args = ("--auth", "off")

    def test_metadata_and_tagging_headers_that_are_not_utf8_are_refused(self):
        s3 = self.client("s3")
        s3.create_bucket(Bucket="hostile-hdr")
        st, _, body = signed(self.server, "PUT", "/hostile-hdr/m", body=b"x",
                             extra={"x-amz-meta-note": "caf\xe9"})
        self.assertEqual((st, error_code(body)[0]), (400, "InvalidArgument"), body)
        body.decode("utf-8")
        for tagging in ("k=%FF", "%C0%AF=v", "k=%ED%A0%80"):
            st, _, body = signed(self.server, "PUT", "/hostile-hdr/t", body=b"x",
                                 extra={"x-amz-tagging": tagging})
            self.assertEqual((st, error_code(body)[0]), (400, "InvalidTag"), tagging)
        self.assertEqual(s3.list_objects_v2(Bucket="hostile-hdr")["KeyCount"], 0)
        s3.put_object(Bucket="hostile-hdr", Key="ok", Body=b"x", Metadata={"note": "plain"},
                      Tagging="k=caf%C3%A9")
        self.assertEqual(s3.get_object_tagging(Bucket="hostile-hdr", Key="ok")["TagSet"],
                         [{"Key": "k", "Value": "caf\u00e9"}])


if __name__ == "__main__":
    unittest.main()
