"""Calls to the URL PutWebhook hands out: GITHUB_HMAC signatures, filters with {Key} references to
the target action's configuration, IP ranges, and what is answered."""
import hashlib
import hmac
import json
import unittest
import urllib.error
import urllib.request

from harness import ServerTestCase
from test_codepipeline_pipelines import create_artifact_bucket, declaration

PUSH = json.dumps({"ref": "refs/heads/main", "after": "0" * 40}).encode()


class WebhookCalls(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        create_artifact_bucket(cls.server)
        cp = cls.client(cls, "codepipeline")
        cp.create_pipeline(pipeline=declaration("hooked"))
        cls.url = cp.put_webhook(webhook={
            "name": "hook", "targetPipeline": "hooked", "targetAction": "Source",
            "filters": [{"jsonPath": "$.ref", "matchEquals": "refs/heads/{BranchName}"}],
            "authentication": "GITHUB_HMAC",
            "authenticationConfiguration": {"SecretToken": "s3cr3t"}})["webhook"]["url"]
        cls.ip_url = cp.put_webhook(webhook={
            "name": "iphook", "targetPipeline": "hooked", "targetAction": "Source",
            "filters": [], "authentication": "IP",
            "authenticationConfiguration": {"AllowedIPRange": "10.0.0.0/8"}})["webhook"]["url"]

    def call(self, url, body, headers=None):
        req = urllib.request.Request(url, data=body, method="POST",
                                     headers=dict({"Content-Type": "application/json"},
                                                  **(headers or {})))
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, json.loads(r.read() or b"{}")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")

    @staticmethod
    def sign(body, secret="s3cr3t"):
        return {"X-Hub-Signature-256":
                "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()}

    def test_a_bad_or_missing_signature_is_refused(self):
        status, out = self.call(self.url, PUSH, self.sign(PUSH, "wrong"))
        self.assertEqual(status, 401, out)
        status, out = self.call(self.url, PUSH)
        self.assertEqual(status, 401, out)
        # Signed over other bytes than those sent.
        status, out = self.call(self.url, PUSH + b" ", self.sign(PUSH))
        self.assertEqual(status, 401, out)

    def test_a_signed_push_to_another_branch_starts_nothing(self):
        body = json.dumps({"ref": "refs/heads/dev"}).encode()
        status, out = self.call(self.url, body, self.sign(body))
        self.assertEqual(status, 200, out)
        self.assertIn("No execution started", out["message"])

    def test_a_signed_matching_push_passes_the_checks(self):
        status, out = self.call(self.url, PUSH, self.sign(PUSH))
        # The engine's starter is registered: the answer carries the execution id.
        self.assertEqual(status, 200, out)
        self.assertRegex(out["pipelineExecutionId"], r"^[0-9a-f-]{36}$")

    def test_an_address_outside_the_range_is_refused(self):
        status, out = self.call(self.ip_url, PUSH)
        self.assertEqual(status, 403, out)
        self.assertIn("127.0.0.1", out["message"])

    def test_an_unknown_webhook_is_not_found(self):
        status, _ = self.call(self.url.replace("/hook", "/nohook"), PUSH, self.sign(PUSH))
        self.assertEqual(status, 404)


if __name__ == "__main__":
    unittest.main()
