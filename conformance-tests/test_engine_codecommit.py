"""Engine scenarios with a CodeCommit source: the commit zipped as CODE_ZIP with its source
variables, a push starting the pipeline, the approval in between, and CODEBUILD_CLONE_REF."""
import io
import json
import unittest
import zipfile

import engine_util as U
from harness import ServerTestCase


def cc_source(repo, branch="main", poll=None, fmt=None):
    cfg = {"RepositoryName": repo, "BranchName": branch}
    if poll is not None:
        cfg["PollForSourceChanges"] = poll
    if fmt:
        cfg["OutputArtifactFormat"] = fmt
    return {"name": "Source", "actionTypeId": {"category": "Source", "owner": "AWS",
                                               "provider": "CodeCommit", "version": "1"},
            "configuration": cfg, "outputArtifacts": [{"name": "SourceArtifact"}],
            "namespace": "SourceVariables"}


class CodeCommitPipelineTest(ServerTestCase):
    def setUp(self):
        self.s3 = self.client("s3")
        self.cp = self.client("codepipeline")
        self.cc = self.client("codecommit")
        U.setup_buckets(self.s3)

    def repo(self, name):
        self.cc.create_repository(repositoryName=name)
        return self.cc.put_file(repositoryName=name, branchName="main", fileContent=b"v1",
                                filePath="app/index.html", commitMessage="first commit")["commitId"]

    def test_commit_to_approval_to_deploy(self):
        commit = self.repo("engine-repo")
        name = "cc-chain"
        self.cp.create_pipeline(pipeline=U.pipeline(name, [
            ("Source", [cc_source("engine-repo", poll="false")]),
            ("Gate", [U.approval(CustomData="commit #{SourceVariables.CommitId}")]),
            ("Deploy", [U.s3_deploy(ObjectKey="cc")])]))
        first = U.first_execution(self.cp, name)
        token = U.approval_token(self.cp, name, "Gate", "Approve", first)
        acts = {a["actionName"]: a for a in self.cp.list_action_executions(
            pipelineName=name, filter={"pipelineExecutionId": first})["actionExecutionDetails"]}
        vars_ = acts["Source"]["output"]["outputVariables"]
        self.assertEqual(vars_["CommitId"], commit)
        self.assertEqual(vars_["CommitMessage"], "first commit")
        self.assertEqual(vars_["BranchName"], "main")
        self.assertEqual(vars_["RepositoryName"], "engine-repo")
        self.assertIn("AuthorDate", vars_)
        self.assertIn("CommitterDate", vars_)
        self.assertEqual(acts["Approve"]["input"]["resolvedConfiguration"]["CustomData"],
                         "commit " + commit)
        loc = acts["Source"]["output"]["outputArtifacts"][0]["s3location"]
        z = zipfile.ZipFile(io.BytesIO(self.s3.get_object(Bucket=loc["bucket"], Key=loc["key"])
                                       ["Body"].read()))
        self.assertEqual(z.read("app/index.html"), b"v1")
        self.cp.put_approval_result(pipelineName=name, stageName="Gate", actionName="Approve",
                                    result={"summary": "ok", "status": "Approved"}, token=token)
        e = U.wait_execution(self.cp, name, first)
        self.assertEqual(e["status"], "Succeeded")
        self.assertEqual(e["artifactRevisions"][0]["revisionId"], commit)
        self.assertEqual(e["artifactRevisions"][0]["revisionSummary"], "first commit")
        self.assertEqual(self.s3.get_object(Bucket="engine-dst", Key="cc/app/index.html")
                         ["Body"].read(), b"v1")
        # A new commit starts the pipeline (as the EventBridge rule would).
        second_commit = self.cc.put_file(repositoryName="engine-repo", branchName="main",
                                         fileContent=b"v2", filePath="app/index.html",
                                         parentCommitId=commit,
                                         commitMessage="second")["commitId"]
        def started():
            s = self.cp.list_pipeline_executions(pipelineName=name)["pipelineExecutionSummaries"]
            return len(s) >= 2 and s[0]
        s = U.wait_for(started, what="a run started by the commit")
        self.assertEqual(len(self.cp.list_pipeline_executions(pipelineName=name)
                             ["pipelineExecutionSummaries"]), 2,
                         "the commit made before the pipeline started a run")
        self.assertEqual(s["trigger"]["triggerType"], "CloudWatchEvent")
        token = U.approval_token(self.cp, name, "Gate", "Approve", s["pipelineExecutionId"])
        e = self.cp.get_pipeline_execution(pipelineName=name,
                                           pipelineExecutionId=s["pipelineExecutionId"])
        self.assertEqual(e["pipelineExecution"]["artifactRevisions"][0]["revisionId"],
                         second_commit)
        self.cp.put_approval_result(pipelineName=name, stageName="Gate", actionName="Approve",
                                    result={"summary": "no", "status": "Rejected"}, token=token)
        e = U.wait_execution(self.cp, name, s["pipelineExecutionId"])
        self.assertEqual(e["status"], "Failed")

    def test_polling_source_is_started_by_a_commit_with_its_trigger(self):
        commit = self.repo("engine-poll")
        name = "cc-poll"
        self.cp.create_pipeline(pipeline=U.pipeline(name, [
            ("Source", [cc_source("engine-poll")]), ("Deploy", [U.s3_deploy(ObjectKey="poll")])]))
        U.wait_execution(self.cp, name, U.first_execution(self.cp, name))
        self.cc.put_file(repositoryName="engine-poll", branchName="main", fileContent=b"v2",
                         filePath="b.txt", parentCommitId=commit)
        s = U.wait_for(lambda: [x for x in self.cp.list_pipeline_executions(pipelineName=name)
                                ["pipelineExecutionSummaries"]
                                if x["trigger"]["triggerType"] == "PollForSourceChanges"],
                       what="a polled run")
        self.assertEqual(U.wait_execution(self.cp, name, s[0]["pipelineExecutionId"])["status"],
                         "Succeeded")

    def test_clone_ref_hands_on_a_clone_url(self):
        commit = self.repo("engine-clone")
        name = "cc-clone"
        run = U.commands(commands=["cat * > /dev/null"])
        self.cp.create_pipeline(pipeline=U.pipeline(name, [
            ("Source", [cc_source("engine-clone", fmt="CODEBUILD_CLONE_REF")]),
            ("Gate", [U.approval()])]))
        eid = U.first_execution(self.cp, name)
        U.approval_token(self.cp, name, "Gate", "Approve", eid)
        acts = {a["actionName"]: a for a in self.cp.list_action_executions(
            pipelineName=name, filter={"pipelineExecutionId": eid})["actionExecutionDetails"]}
        loc = acts["Source"]["output"]["outputArtifacts"][0]["s3location"]
        ref = json.loads(self.s3.get_object(Bucket=loc["bucket"], Key=loc["key"])["Body"].read())
        self.assertEqual(ref["CommitId"], commit)
        self.assertTrue(ref["CloneUrl"].endswith("/v1/repos/engine-clone"))
        del run

    def test_source_revision_override_picks_the_commit(self):
        first = self.repo("engine-ovr")
        self.cc.put_file(repositoryName="engine-ovr", branchName="main", fileContent=b"v2",
                         filePath="app/index.html", parentCommitId=first)
        name = "cc-ovr"
        self.cp.create_pipeline(pipeline=U.pipeline(name, [
            ("Source", [cc_source("engine-ovr", poll="false")]),
            ("Deploy", [U.s3_deploy(ObjectKey="ovr")])], pipelineType="V2"))
        U.wait_execution(self.cp, name, U.first_execution(self.cp, name))
        eid = self.cp.start_pipeline_execution(name=name, sourceRevisions=[
            {"actionName": "Source", "revisionType": "COMMIT_ID", "revisionValue": first}])[
            "pipelineExecutionId"]
        e = U.wait_execution(self.cp, name, eid)
        self.assertEqual(e["status"], "Succeeded")
        self.assertEqual(e["artifactRevisions"][0]["revisionId"], first)
        self.assertEqual(self.s3.get_object(Bucket="engine-dst", Key="ovr/app/index.html")
                         ["Body"].read(), b"v1")


if __name__ == "__main__":
    unittest.main()
