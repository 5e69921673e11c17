"""The whole request path: flags, health, SigV4 failures, protocol errors, validation, limits,
shutdown and persistence, driven with the AWS CLI, boto3 and raw HTTP."""
import datetime
import json
import os
import signal
import subprocess
import tempfile
import unittest

from harness import (ACCOUNT, BINARY, Server, ServerTestCase, raw_request, signed_request)

LIST = "CodePipeline_20150709.ListPipelines"


class SignedCalls(ServerTestCase):
    def test_cli_list_pipelines_answers_empty_list(self):
        rc, out, err = self.aws("codepipeline", "list-pipelines")
        self.assertEqual(out, {"pipelines": []})

    def test_aws_endpoint_url_environment_variable_is_honoured(self):
        env = self.env()
        env["AWS_ENDPOINT_URL"] = self.server.endpoint
        p = subprocess.run(["aws", "codepipeline", "list-pipelines", "--output", "json"], env=env,
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(json.loads(p.stdout), {"pipelines": []})

    def test_boto3_call_carries_request_id_and_date(self):
        out = self.client("codepipeline").list_pipelines()
        meta = out["ResponseMetadata"]
        self.assertEqual(meta["HTTPStatusCode"], 200)
        self.assertRegex(meta["RequestId"], r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
        self.assertIn("date", meta["HTTPHeaders"])
        self.assertEqual(meta["HTTPHeaders"]["content-type"], "application/x-amz-json-1.1")

    def test_second_default_key_pair_works(self):
        c = self.client("codepipeline", access_key="AKIAIOSFODNN7EXAMPLE",
                        secret_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
        self.assertEqual(c.list_pipelines()["pipelines"], [])

    def test_wrong_secret_is_invalid_signature(self):
        c = self.client("codepipeline", secret_key="wrong")
        err = self.assertClientError(c.list_pipelines, "InvalidSignatureException", 400)
        self.assertTrue(err["Error"]["Message"].startswith(
            "The request signature we calculated does not match the signature you provided."))

    def test_cli_wrong_secret_fails_with_invalid_signature(self):
        rc, out, err = self.aws("codepipeline", "list-pipelines", check=False, secret_key="nope")
        self.assertNotEqual(rc, 0)
        self.assertIn("InvalidSignatureException", err)

    def test_unknown_access_key_is_unrecognized_client(self):
        c = self.client("codepipeline", access_key="AKIANOSUCHKEY0000000")
        self.assertClientError(c.list_pipelines, "UnrecognizedClientException", 400,
                               "The security token included in the request is invalid.")

    def test_missing_authorization_is_missing_authentication_token(self):
        status, hdrs, body = raw_request(self.server.endpoint, "POST", "/", b"{}", {
            "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": LIST})
        self.assertEqual(status, 400)
        self.assertEqual(body["__type"], "MissingAuthenticationTokenException")
        self.assertIn("x-amzn-requestid", hdrs)

    def test_stale_date_is_signature_expired(self):
        when = datetime.datetime.utcnow() - datetime.timedelta(minutes=20)
        status, _, body = signed_request(self.server.endpoint, LIST, "{}", when=when)
        self.assertEqual(status, 400)
        self.assertEqual(body["__type"], "InvalidSignatureException")
        self.assertRegex(body["message"], r"^Signature expired: \d{8}T\d{6}Z is now earlier than "
                                          r"\d{8}T\d{6}Z \(\d{8}T\d{6}Z - 5 min\.\)$")

    def test_future_date_is_signature_not_yet_current(self):
        when = datetime.datetime.utcnow() + datetime.timedelta(minutes=20)
        status, _, body = signed_request(self.server.endpoint, LIST, "{}", when=when)
        self.assertEqual(status, 400)
        self.assertEqual(body["__type"], "InvalidSignatureException")
        self.assertTrue(body["message"].startswith("Signature not yet current: "), body)

    def test_body_altered_after_signing_is_invalid_signature(self):
        def tamper(req):
            req.data = b'{"maxResults": 5}'
        status, _, body = signed_request(self.server.endpoint, LIST, "{}", after_sign=tamper)
        self.assertEqual(status, 400)
        self.assertEqual(body["__type"], "InvalidSignatureException")

    def test_unknown_target_is_unknown_operation(self):
        status, _, body = signed_request(self.server.endpoint, "CodePipeline_20150709.NoSuchThing", "{}")
        self.assertEqual(status, 400)
        self.assertEqual(body["__type"], "UnknownOperationException")

    def test_unknown_target_prefix_is_unknown_operation(self):
        status, _, body = signed_request(self.server.endpoint, "Nope_20990101.ListPipelines", "{}")
        self.assertEqual(status, 400)
        self.assertEqual(body["__type"], "UnknownOperationException")

    def test_malformed_json_is_serialization_exception(self):
        for bad in ('{"name": ', "[1,2]", '{"a":1} trailing', "\x00\x01"):
            status, _, body = signed_request(self.server.endpoint, LIST, bad)
            self.assertEqual(status, 400, bad)
            self.assertEqual(body["__type"], "SerializationException", bad)

    def test_authentication_comes_before_parsing_the_body(self):
        # AWS checks the signature before it reads the body: a caller that is not authenticated
        # learns nothing about its JSON.
        status, _, body = raw_request(self.server.endpoint, "POST", "/", b'{"name": ', {
            "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": LIST})
        self.assertEqual(status, 400)
        self.assertEqual(body["__type"], "MissingAuthenticationTokenException")
        status, _, body = signed_request(self.server.endpoint, LIST, '{"name": ', secret_key="wrong")
        self.assertEqual(status, 400)
        self.assertEqual(body["__type"], "InvalidSignatureException")

    def test_empty_body_counts_as_empty_object(self):
        status, _, body = signed_request(self.server.endpoint, LIST, "")
        self.assertEqual(status, 200, body)
        self.assertEqual(body, {"pipelines": []})

    def test_validation_error_carries_aws_message(self):
        c = self.client("codepipeline", parameter_validation=False)
        err = self.assertClientError(lambda: c.get_pipeline(name="bad name!"), "ValidationException", 400)
        self.assertEqual(err["Error"]["Message"],
                         "1 validation error detected: Value 'bad name!' at 'name' failed to satisfy "
                         "constraint: Member must satisfy regular expression pattern: [A-Za-z0-9.@\\-_]+")

    def test_two_validation_errors_are_counted_and_joined(self):
        c = self.client("codepipeline", parameter_validation=False)
        err = self.assertClientError(lambda: c.list_pipelines(maxResults=0, nextToken=""),
                                     "ValidationException", 400)
        msg = err["Error"]["Message"]
        self.assertTrue(msg.startswith("2 validation errors detected: "), msg)
        self.assertIn("Value '0' at 'maxResults' failed to satisfy constraint: Member must have value "
                      "greater than or equal to 1", msg)
        self.assertIn("; ", msg)

    def test_region_that_is_not_a_region_name_is_refused(self):
        for region in ("..", "us_east_1", "US-EAST-1", "a" * 33):
            status, _, body = signed_request(self.server.endpoint, LIST, "{}", region=region)
            self.assertEqual(status, 400, region)
            self.assertEqual(body["__type"], "InvalidSignatureException", region)
            self.assertEqual(body["message"],
                             "Credential should be scoped to a valid region, not '%s'. " % region)

    def test_s3_region_that_is_not_a_region_name_is_refused(self):
        s3 = self.client("s3", region="US-EAST-1")
        err = self.assertClientError(s3.list_buckets, "AuthorizationHeaderMalformed", 400)
        self.assertIn("the region 'US-EAST-1' is wrong", err["Error"]["Message"])

    def test_health_reports_version_and_services(self):
        status, hdrs, body = raw_request(self.server.endpoint, "GET", "/_codepipeline-local/health")
        self.assertEqual(status, 200)
        self.assertEqual(body["status"], "running")
        self.assertRegex(body["version"], r"^\d+\.\d+\.\d+$")
        for svc in ("codepipeline", "codecommit", "codebuild", "codedeploy", "s3"):
            self.assertIn(svc, body["services"])


class BodyLimit(ServerTestCase):
    server_args = ("--max-body", "1")

    def test_body_over_the_limit_gets_413_with_aws_error(self):
        big = json.dumps({"nextToken": "x" * (1 << 20)})
        status, _, body = signed_request(self.server.endpoint, LIST, big)
        self.assertEqual(status, 413)
        self.assertEqual(body["__type"], "RequestEntityTooLargeException")


class AuthOff(ServerTestCase):
    server_args = ("--auth", "off")

    def test_any_signature_is_accepted(self):
        c = self.client("codepipeline", secret_key="whatever")
        self.assertEqual(c.list_pipelines()["pipelines"], [])

    def test_a_region_that_is_not_a_region_name_falls_back_to_the_default(self):
        status, _, body = signed_request(self.server.endpoint, "CodeCommit_20150413.CreateRepository",
                                         '{"repositoryName": "fallback"}', region="..")
        self.assertEqual(status, 200, body)
        self.assertEqual(body["repositoryMetadata"]["Arn"],
                         "arn:aws:codecommit:us-east-1:000000000000:fallback")
        self.assertEqual(sorted(os.listdir(os.path.join(self.server.data_dir, "git", ACCOUNT))),
                         ["us-east-1"])


class Lifecycle(unittest.TestCase):
    def run_binary(self, *args):
        return subprocess.run([BINARY] + list(args), capture_output=True, text=True, timeout=30)

    def test_help_documents_every_flag(self):
        p = self.run_binary("--help")
        self.assertEqual(p.returncode, 0)
        for flag in ("--host", "--port", "--data-dir", "--region", "--account-id", "--credentials",
                     "--auth", "--log-level"):
            self.assertIn(flag, p.stdout)

    def test_bad_flag_exits_nonzero_with_one_line(self):
        p = self.run_binary("--no-such-flag")
        self.assertNotEqual(p.returncode, 0)
        self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)

    def test_bad_flag_values_exit_nonzero(self):
        for args in (("--port", "70000"), ("--auth", "maybe"), ("--account-id", "12"),
                     ("--log-level", "loud"), ("--port",)):
            p = self.run_binary(*args)
            self.assertNotEqual(p.returncode, 0, args)
            self.assertEqual(len(p.stderr.strip().splitlines()), 1, (args, p.stderr))

    def test_unusable_data_dir_exits_nonzero_with_one_line(self):
        with tempfile.NamedTemporaryFile() as f:
            p = self.run_binary("--port", "0", "--data-dir", f.name)
            self.assertNotEqual(p.returncode, 0)
            self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)

    def test_sigterm_and_sigint_shut_down_cleanly(self):
        for sig in (signal.SIGTERM, signal.SIGINT):
            s = Server()
            try:
                s.start()
                self.assertEqual(s.stop(sig), 0, s.read_log())
                self.assertIn("stopped", s.read_log())
            finally:
                s.cleanup()

    def test_second_server_on_the_same_data_dir_is_refused(self):
        s = Server()
        try:
            s.start()
            p = self.run_binary("--port", "0", "--data-dir", s.data_dir)
            self.assertNotEqual(p.returncode, 0)
            self.assertIn("in use", p.stderr)
        finally:
            s.cleanup()

    def test_credentials_file_binds_keys_to_accounts(self):
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
            f.write("# extra keys\nAKIAOTHERACCOUNT0001 othersecret 111111111111\n")
        s = Server(["--credentials", f.name])
        try:
            s.start()
            tc = ServerTestCase()
            tc.server = s
            other = tc.client("codepipeline", access_key="AKIAOTHERACCOUNT0001", secret_key="othersecret")
            self.assertEqual(other.list_pipelines()["pipelines"], [])
            bad = tc.client("codepipeline", access_key="AKIAOTHERACCOUNT0001", secret_key="test")
            from botocore.exceptions import ClientError
            with self.assertRaises(ClientError) as cm:
                bad.list_pipelines()
            self.assertEqual(cm.exception.response["Error"]["Code"], "InvalidSignatureException")
        finally:
            s.cleanup()
            os.unlink(f.name)

    def test_malformed_credentials_file_exits_nonzero(self):
        with tempfile.NamedTemporaryFile("w", delete=False) as f:
            f.write("onlyonefield\n")
        try:
            p = self.run_binary("--port", "0", "--data-dir", tempfile.mkdtemp(), "--credentials", f.name)
            self.assertNotEqual(p.returncode, 0)
            self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
        finally:
            os.unlink(f.name)


PIPELINE = {
    "name": "persisted",
    "roleArn": "arn:aws:iam::%s:role/cp" % ACCOUNT,
    "artifactStore": {"type": "S3", "location": "artifacts"},
    "stages": [
        {"name": "Source", "actions": [{
            "name": "Src", "actionTypeId": {"category": "Source", "owner": "AWS", "provider": "S3", "version": "1"},
            "configuration": {"S3Bucket": "b", "S3ObjectKey": "k.zip"},
            "outputArtifacts": [{"name": "Out"}]}]},
        {"name": "Deploy", "actions": [{
            "name": "Dep", "actionTypeId": {"category": "Deploy", "owner": "AWS", "provider": "S3", "version": "1"},
            "configuration": {"BucketName": "d", "Extract": "true"},
            "inputArtifacts": [{"name": "Out"}]}]},
    ],
}


class Persistence(ServerTestCase):
    def test_acknowledged_write_survives_kill_9(self):
        self.client("s3").create_bucket(Bucket=PIPELINE["artifactStore"]["location"])
        c = self.client("codepipeline")
        c.create_pipeline(pipeline=PIPELINE)
        self.server.kill9()
        self.server.start()
        c = self.client("codepipeline")
        names = [p["name"] for p in c.list_pipelines()["pipelines"]]
        self.assertEqual(names, ["persisted"])
        self.assertEqual(c.get_pipeline(name="persisted")["pipeline"]["stages"][0]["name"], "Source")


if __name__ == "__main__":
    unittest.main()
