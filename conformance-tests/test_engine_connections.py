"""Pipelines fed by the Git host behind connections: V2 push triggers started by `git push`, and
webhook calls signed with GITHUB_HMAC."""
import hashlib
import hmac
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request

from harness import ServerTestCase
from engine_util import approval, approval_token, pipeline, s3_deploy, setup_buckets, wait_execution, wait_for


def conn_source(arn, repo, branch="main", **cfg):
    c = {"ConnectionArn": arn, "FullRepositoryId": repo, "BranchName": branch,
         "OutputArtifactFormat": "CODE_ZIP"}
    c.update(cfg)
    return {"name": "Source", "namespace": "SourceVariables",
            "actionTypeId": {"category": "Source", "owner": "AWS",
                             "provider": "CodeStarSourceConnection", "version": "1"},
            "configuration": c, "outputArtifacts": [{"name": "SourceArtifact"}]}


class ConnectionPipelines(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tmp = tempfile.mkdtemp(prefix="cpl-engconn-")
        cls.cp = cls.client(cls, "codepipeline")
        setup_buckets(cls.client(cls, "s3"))
        cls.conn = cls.client(cls, "codestar-connections").create_connection(
            ProviderType="GitHub", ConnectionName="local")["ConnectionArn"]

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)
        super().tearDownClass()

    def git(self, *args, cwd=None):
        env = self.env()
        env.update({"HOME": self.tmp, "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0",
                    "GIT_AUTHOR_NAME": "Dev", "GIT_AUTHOR_EMAIL": "dev@example.com",
                    "GIT_COMMITTER_NAME": "Dev", "GIT_COMMITTER_EMAIL": "dev@example.com"})
        p = subprocess.run(["git", "-c", "init.defaultBranch=main"] + list(args), cwd=cwd,
                           env=env, capture_output=True, text=True, timeout=60)
        if p.returncode != 0:
            self.fail("git %s failed (%d): %s" % (" ".join(args), p.returncode, p.stderr))
        return p.stdout.strip()

    def url(self, full):
        return "http://test:test@%s/_git/%s.git" % (self.server.endpoint.split("://")[1], full)

    def commit(self, d, path, text, message):
        os.makedirs(d, exist_ok=True)
        if not os.path.isdir(os.path.join(d, ".git")):
            self.git("init", "-q", cwd=d)
        with open(os.path.join(d, path), "w") as f:
            f.write(text)
        self.git("add", "-A", cwd=d)
        self.git("commit", "-q", "-m", message, cwd=d)
        return self.git("rev-parse", "HEAD", cwd=d)

    def executions(self, name):
        return self.cp.list_pipeline_executions(pipelineName=name)["pipelineExecutionSummaries"]

    def test_a_tag_push_matching_the_trigger_starts_it_and_an_excluded_push_does_not(self):
        repo = "acme/tagged"
        trigger = {"providerType": "CodeStarSourceConnection",
                   "gitConfiguration": {"sourceActionName": "Source", "push": [
                       {"tags": {"includes": ["v*"], "excludes": ["*-rc"]}}]}}
        self.cp.create_pipeline(pipeline=pipeline(
            "tagged", [("Source", [conn_source(self.conn, repo)]),
                       ("Deploy", [s3_deploy(ObjectKey="tagged")])],
            pipelineType="V2", executionMode="QUEUED", triggers=[trigger]))
        d = os.path.join(self.tmp, "tagged")
        # The excluded pushes first: a branch push (the trigger turns branch detection off) and
        # a tag its excludes refuse; then the tag that matches.
        self.commit(d, "app.txt", "one\n", "first")
        self.git("push", "-q", self.url(repo), "main", cwd=d)
        self.git("tag", "v0.9-rc", cwd=d)
        self.git("push", "-q", self.url(repo), "v0.9-rc", cwd=d)
        want = self.commit(d, "app.txt", "two\n", "release one")
        self.git("tag", "v1.0", cwd=d)
        self.git("push", "-q", self.url(repo), "v1.0", cwd=d)
        # CreatePipeline's own run (which fails: nothing was pushed yet) is not a push's.

        def pushed():
            return [e for e in self.executions("tagged")
                    if e["trigger"]["triggerType"] != "CreatePipeline"]
        ex = wait_for(pushed, 60, "the tag push's execution")
        done = wait_execution(self.cp, "tagged", ex[0]["pipelineExecutionId"])
        self.assertEqual(done["status"], "Succeeded", done)
        self.assertEqual(done["trigger"], {"triggerType": "WebhookV2", "triggerDetail": self.conn})
        self.assertEqual(done["artifactRevisions"][0]["revisionId"], want)
        ex = pushed()
        self.assertEqual(len(ex), 1, ex)
        self.assertEqual(ex[0]["sourceRevisions"][0]["revisionId"], want)
        vars_ = {}
        for a in self.cp.list_action_executions(
                pipelineName="tagged", filter={"pipelineExecutionId": done["pipelineExecutionId"]}
        )["actionExecutionDetails"]:
            if a["actionName"] == "Source":
                vars_ = a["output"]["outputVariables"]
        self.assertEqual(vars_["CommitId"], want)
        self.assertEqual(vars_["CommitMessage"].strip(), "release one")
        self.assertEqual(vars_["FullRepositoryName"], repo)
        self.assertEqual(vars_["ConnectionArn"], self.conn)
        self.assertEqual(vars_["AuthorEmail"], "dev@example.com")

    def test_without_triggers_a_push_to_the_branch_starts_it_and_others_do_not(self):
        repo = "acme/plain"
        self.cp.create_pipeline(pipeline=pipeline(
            "plain", [("Source", [conn_source(self.conn, repo,
                                              OutputArtifactFormat="CODEBUILD_CLONE_REF")]),
                      ("Gate", [approval()])],
            pipelineType="V2", executionMode="QUEUED"))
        d = os.path.join(self.tmp, "plain")
        self.commit(d, "app.txt", "dev\n", "on dev")
        self.git("push", "-q", self.url(repo), "HEAD:refs/heads/dev", cwd=d)
        want = self.commit(d, "app.txt", "main\n", "on main")
        self.git("push", "-q", self.url(repo), "main", cwd=d)

        def pushed():
            return [e for e in self.executions("plain")
                    if e["trigger"]["triggerType"] != "CreatePipeline"]
        ex = wait_for(pushed, 60, "the branch push's execution")
        eid = ex[0]["pipelineExecutionId"]
        approval_token(self.cp, "plain", "Gate", "Approve", eid)
        self.assertEqual(ex[0]["trigger"]["triggerType"], "WebhookV2")
        self.assertEqual(len(pushed()), 1, pushed())
        # The clone reference names a URL of the local Git host that clones that commit.
        acts = {a["actionName"]: a for a in self.cp.list_action_executions(
            pipelineName="plain", filter={"pipelineExecutionId": eid})["actionExecutionDetails"]}
        loc = acts["Source"]["output"]["outputArtifacts"][0]["s3location"]
        ref = json.loads(self.client("s3").get_object(Bucket=loc["bucket"], Key=loc["key"])
                         ["Body"].read())
        self.assertEqual(ref["CommitId"], want)
        url = ref["CloneUrl"].replace("://", "://test:test@", 1)
        c = os.path.join(self.tmp, "plain-clone")
        self.git("clone", "-q", url, c)
        self.assertEqual(self.git("rev-parse", ref["CommitId"] + "^{commit}", cwd=c), want)

    def test_a_missing_connection_fails_the_source_action(self):
        gone = self.conn.rsplit("/", 1)[0] + "/00000000-0000-0000-0000-000000000000"
        self.cp.create_pipeline(pipeline=pipeline(
            "noconn", [("Source", [conn_source(gone, "acme/none")]),
                       ("Deploy", [s3_deploy(ObjectKey="noconn")])]))
        ex = wait_for(lambda: self.executions("noconn"), 60, "the first execution")
        done = wait_execution(self.cp, "noconn", ex[-1]["pipelineExecutionId"])
        self.assertEqual(done["status"], "Failed")
        acts = self.cp.list_action_executions(pipelineName="noconn")["actionExecutionDetails"]
        self.assertIn("connection %s does not exist" % gone, json.dumps(acts[0], default=str), acts[0])

    def call(self, url, body, headers):
        req = urllib.request.Request(url, data=body, method="POST", headers=dict(
            {"Content-Type": "application/json"}, **headers))
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, json.loads(r.read() or b"{}")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")

    def test_a_signed_webhook_call_starts_the_pipeline_and_a_badly_signed_one_does_not(self):
        repo = "acme/hooked"
        d = os.path.join(self.tmp, "hooked")
        want = self.commit(d, "app.txt", "hook\n", "hooked")
        self.git("push", "-q", self.url(repo), "main", cwd=d)
        # DetectChanges false: only the webhook starts it (the first run is CreatePipeline's).
        self.cp.create_pipeline(pipeline=pipeline(
            "hooked", [("Source", [conn_source(self.conn, repo, DetectChanges="false")]),
                       ("Deploy", [s3_deploy(ObjectKey="hooked")])]))
        first = wait_for(lambda: self.executions("hooked"), 60, "the first execution")
        wait_execution(self.cp, "hooked", first[0]["pipelineExecutionId"])
        hook = self.cp.put_webhook(webhook={
            "name": "hooked-hook", "targetPipeline": "hooked", "targetAction": "Source",
            "filters": [{"jsonPath": "$.ref", "matchEquals": "refs/heads/{BranchName}"}],
            "authentication": "GITHUB_HMAC",
            "authenticationConfiguration": {"SecretToken": "s3cr3t"}})["webhook"]
        body = json.dumps({"ref": "refs/heads/main"}).encode()

        def sign(secret):
            return {"X-Hub-Signature-256":
                    "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()}
        status, out = self.call(hook["url"], body, sign("wrong"))
        self.assertEqual(status, 401, out)
        status, out = self.call(hook["url"], body, sign("s3cr3t"))
        self.assertEqual(status, 200, out)
        done = wait_execution(self.cp, "hooked", out["pipelineExecutionId"])
        self.assertEqual(done["status"], "Succeeded", done)
        self.assertEqual(done["trigger"], {"triggerType": "Webhook", "triggerDetail": hook["arn"]})
        self.assertEqual(done["artifactRevisions"][0]["revisionId"], want)
        ex = self.executions("hooked")
        self.assertEqual(len(ex), 2, ex)  # CreatePipeline's and the good call's, not the bad one
        hooks = {h["definition"]["name"]: h for h in self.cp.list_webhooks()["webhooks"]}
        self.assertIn("lastTriggered", hooks["hooked-hook"])
        self.assertLess(abs(hooks["hooked-hook"]["lastTriggered"].timestamp() - time.time()), 300)


if __name__ == "__main__":
    unittest.main()
