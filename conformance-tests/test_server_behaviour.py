"""Server behaviour at its edges: one server per port, services this server does not emulate, S3's
bucket region and service scope, and memory held for callers that are not authenticated."""
import re
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.parse
import xml.etree.ElementTree as ET

from harness import BINARY, ServerTestCase, Server, raw_request, signed_request


def s3_signed(endpoint, method, path, region, service="s3", body=b"", headers=None):
    """Sends one S3 request signed by botocore's S3 signer for region and service; returns
    (status, headers, body)."""
    import botocore.auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    req = AWSRequest(method=method, url=endpoint + path, data=body, headers=dict(headers or {}))
    botocore.auth.S3SigV4Auth(Credentials("test", "test"), service, region).add_auth(req)
    hdrs = {k: v for k, v in req.headers.items() if k.lower() != "content-length"}
    return raw_request(endpoint, method, path, body, hdrs)


def query_signed(endpoint, service, params, region="us-east-1"):
    """Sends one awsQuery request (form-encoded POST /) signed for service."""
    import botocore.auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    body = urllib.parse.urlencode(params).encode()
    req = AWSRequest(method="POST", url=endpoint + "/", data=body,
                     headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    botocore.auth.SigV4Auth(Credentials("test", "test"), service, region).add_auth(req)
    hdrs = {k: v for k, v in req.headers.items() if k.lower() != "content-length"}
    return raw_request(endpoint, "POST", "/", body, hdrs)


def read_response(s):
    """Reads one HTTP response (headers and a Content-Length body) from socket s, then closes it."""
    data = bytearray()
    while True:
        got = s.recv(65536)
        if not got:
            break
        data += got
        head, sep, body = bytes(data).partition(b"\r\n\r\n")
        m = re.search(rb"(?i)content-length: *(\d+)", head)
        if sep and m and len(body) >= int(m.group(1)):
            break
    s.close()
    return bytes(data)


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class OnePort(unittest.TestCase):
    def test_second_server_on_a_port_in_use_exits_with_one_line(self):
        s = Server()
        other = tempfile.mkdtemp(prefix="cpl-data-")
        try:
            s.start()
            p = subprocess.Popen([BINARY, "--host", "127.0.0.1", "--port", str(s.port),
                                  "--data-dir", other], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
            try:
                out, err = p.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.communicate()
                self.fail("a second server started on port %d, which another one holds" % s.port)
            self.assertNotEqual(p.returncode, 0)
            self.assertEqual(len(err.strip().splitlines()), 1, err)
            self.assertIn("in use", err)
            self.assertIn(str(s.port), err)
        finally:
            s.cleanup()
            subprocess.run(["rm", "-rf", other])

    def test_port_held_by_another_program_is_refused(self):
        with socket.socket() as held:
            held.bind(("127.0.0.1", 0))
            held.listen(1)
            port = held.getsockname()[1]
            with tempfile.TemporaryDirectory() as d:
                p = subprocess.run([BINARY, "--host", "127.0.0.1", "--port", str(port),
                                    "--data-dir", d], capture_output=True, text=True, timeout=30)
            self.assertNotEqual(p.returncode, 0)
            self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
            self.assertIn("in use", p.stderr)

    def test_port_zero_picks_a_free_port_and_prints_it(self):
        with tempfile.TemporaryDirectory() as d:
            p = subprocess.Popen([BINARY, "--host", "127.0.0.1", "--port", "0", "--data-dir", d],
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            try:
                line = p.stdout.readline()
                m = re.search(r"127\.0\.0\.1:(\d+)", line)
                self.assertIsNotNone(m, line)
                port = int(m.group(1))
                self.assertNotEqual(port, 0)
                status, _, body = raw_request("http://127.0.0.1:%d" % port, "GET",
                                              "/_codepipeline-local/health")
                self.assertEqual(status, 200, body)
            finally:
                p.terminate()
                p.communicate(timeout=30)


class UnknownServices(ServerTestCase):
    def assertNamed(self, stderr, service):
        self.assertIn("'%s'" % service, stderr)
        self.assertIn("not emulated by codepipeline-local", stderr)

    def test_cli_sns_list_topics_names_the_service(self):
        rc, _, err = self.aws("sns", "list-topics", check=False)
        self.assertNotEqual(rc, 0)
        self.assertIn("(InvalidAction)", err)
        self.assertNamed(err, "sns")

    def test_cli_elasticbeanstalk_and_cloudformation_name_the_service(self):
        for args, svc in ((("elasticbeanstalk", "describe-applications"), "elasticbeanstalk"),
                          (("cloudformation", "list-stacks"), "cloudformation")):
            rc, _, err = self.aws(*args, check=False)
            self.assertNotEqual(rc, 0, args)
            self.assertNamed(err, svc)

    def test_aws_query_request_gets_an_error_response_document(self):
        status, hdrs, body = query_signed(self.server.endpoint, "sns",
                                          {"Action": "ListTopics", "Version": "2010-03-31"})
        self.assertEqual(status, 400, body)
        self.assertTrue(hdrs["content-type"].startswith("text/xml"), hdrs)
        root = ET.fromstring(body)
        strip = re.compile(r"\{[^}]*\}")
        self.assertEqual(strip.sub("", root.tag), "ErrorResponse")
        flat = {strip.sub("", e.tag): (e.text or "") for e in root.iter()}
        self.assertEqual(flat["Type"], "Sender")
        self.assertEqual(flat["Code"], "InvalidAction")
        self.assertIn("'sns'", flat["Message"])
        self.assertRegex(flat["RequestId"], r"^[0-9a-f-]{36}$")

    def test_unsigned_form_post_with_an_action_is_aws_query(self):
        status, hdrs, body = raw_request(
            self.server.endpoint, "POST", "/", b"Action=ListUsers&Version=2010-05-08",
            {"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(status, 400, body)
        self.assertIn(b"<ErrorResponse", body)
        self.assertIn(b"<Code>InvalidAction</Code>", body)

    def test_json_service_not_emulated_is_unknown_operation_naming_it(self):
        rc, _, err = self.aws("secretsmanager", "list-secrets", check=False)
        self.assertNotEqual(rc, 0)
        self.assertIn("(UnknownOperationException)", err)
        self.assertNamed(err, "secretsmanager")
        status, _, body = signed_request(self.server.endpoint, "DynamoDB_20120810.ListTables", "{}",
                                         service="dynamodb")
        self.assertEqual(status, 400)
        self.assertEqual(body["__type"], "UnknownOperationException")
        self.assertIn("'dynamodb'", body["message"])

    def test_rest_json_service_not_emulated_names_it(self):
        rc, _, err = self.aws("lambda", "list-functions", check=False)
        self.assertNotEqual(rc, 0)
        self.assertNamed(err, "lambda")

    def test_health_lists_what_is_served_and_what_is_not(self):
        status, _, body = raw_request(self.server.endpoint, "GET", "/_codepipeline-local/health")
        self.assertEqual(status, 200)
        self.assertEqual(set(body["services"]),
                         {"codepipeline", "codecommit", "codebuild", "codedeploy", "s3", "logs",
                          "codestar-connections", "codeconnections", "sts", "iam"})
        self.assertIn("not emulated", body["otherServices"])
        # no emulated service is named among those that are not
        named = set(re.findall(r"[\w-]+", body["otherServices"].partition("(")[2]))
        self.assertEqual(named & set(body["services"]), set(), body["otherServices"])


class S3Scope(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        tc = cls()
        tc.server = cls.server
        tc.client("s3", region="eu-west-1").create_bucket(
            Bucket="euro-bucket", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        tc.client("s3").create_bucket(Bucket="home-bucket")

    def test_request_signed_for_another_region_names_the_bucket_region(self):
        status, hdrs, body = s3_signed(self.server.endpoint, "GET", "/euro-bucket?list-type=2",
                                       "us-east-1")
        self.assertEqual(status, 400, body)
        root = ET.fromstring(body)
        self.assertEqual(root.findtext("Code"), "AuthorizationHeaderMalformed")
        self.assertEqual(root.findtext("Message"),
                         "The authorization header is malformed; the region 'us-east-1' is wrong; "
                         "expecting 'eu-west-1'")
        self.assertEqual(root.findtext("Region"), "eu-west-1")
        self.assertEqual(hdrs.get("x-amz-bucket-region"), "eu-west-1")

    def test_object_write_signed_for_another_region_is_refused(self):
        status, _, body = s3_signed(self.server.endpoint, "PUT", "/euro-bucket/k", "us-east-1",
                                    body=b"data")
        self.assertEqual(status, 400, body)
        self.assertEqual(ET.fromstring(body).findtext("Code"), "AuthorizationHeaderMalformed")
        status, _, body = s3_signed(self.server.endpoint, "GET", "/euro-bucket/k", "eu-west-1")
        self.assertEqual(status, 404, body)  # the refused write stored nothing

    def test_cli_configured_for_another_region_follows_the_bucket_region(self):
        rc, out, err = self.aws("s3api", "list-objects-v2", "--bucket", "euro-bucket",
                                region="us-east-1")
        self.assertEqual(rc, 0, err)

    def test_request_signed_for_the_bucket_region_is_served(self):
        status, _, body = s3_signed(self.server.endpoint, "GET", "/euro-bucket?list-type=2",
                                    "eu-west-1")
        self.assertEqual(status, 200, body)

    def test_location_and_list_buckets_answer_from_any_region(self):
        status, _, body = s3_signed(self.server.endpoint, "GET", "/euro-bucket?location",
                                    "us-east-1")
        self.assertEqual(status, 200, body)
        self.assertIn(b"eu-west-1", body)
        status, _, body = s3_signed(self.server.endpoint, "GET", "/", "us-west-2")
        self.assertEqual(status, 200, body)
        self.assertIn(b"euro-bucket", body)

    def test_presigned_url_for_another_region_is_a_query_parameters_error(self):
        s3 = self.client("s3", region="us-east-1", signature_version="s3v4")
        url = s3.generate_presigned_url("get_object", Params={"Bucket": "euro-bucket", "Key": "k"},
                                        ExpiresIn=300)
        u = urllib.parse.urlparse(url)
        status, _, body = raw_request(self.server.endpoint, "GET", u.path + "?" + u.query)
        self.assertEqual(status, 400, body)
        root = ET.fromstring(body)
        self.assertEqual(root.findtext("Code"), "AuthorizationQueryParametersError")
        self.assertEqual(root.findtext("Message"),
                         "Error parsing the X-Amz-Credential parameter; the region 'us-east-1' is "
                         "wrong; expecting 'eu-west-1'")
        self.assertEqual(root.findtext("Region"), "eu-west-1")

    def test_s3_request_scoped_to_another_service_is_malformed_authorization(self):
        for svc in ("codepipeline", "codebuild"):
            status, _, body = s3_signed(self.server.endpoint, "GET", "/home-bucket?list-type=2",
                                        "us-east-1", service=svc)
            self.assertEqual(status, 400, body)
            root = ET.fromstring(body)
            self.assertEqual(root.findtext("Code"), "AuthorizationHeaderMalformed")
            self.assertEqual(root.findtext("Message"),
                             'The authorization header is malformed; incorrect service "%s". '
                             'This endpoint belongs to "s3".' % svc)


class MemoryBeforeAuth(ServerTestCase):
    server_args = ("--max-body", "32")

    def send_all_but_last(self, headers, n):
        """Opens a connection, sends headers and all but the last byte of an n-byte body."""
        s = socket.create_connection(("127.0.0.1", self.server.port), timeout=120)
        head = "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %d\r\n" % n
        head += "".join("%s: %s\r\n" % kv for kv in headers.items()) + "\r\n"
        s.sendall(head.encode())
        chunk = b" " * (1 << 20)
        left = n - 1
        try:
            while left:
                k = min(left, len(chunk))
                s.sendall(chunk[:k])
                left -= k
        except OSError:
            pass  # the server answered and closed early: also fine
        return s

    def finish(self, s):
        try:
            s.sendall(b" ")
        except OSError:
            pass
        return read_response(s)

    def test_unauthenticated_large_bodies_are_not_buffered(self):
        base = {"X-Amz-Target": "CodePipeline_20150709.ListPipelines",
                "Content-Type": "application/x-amz-json-1.1"}
        now = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        stale = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() - 3600))
        cred = "Credential=%s/" + now[:8] + "/us-east-1/codepipeline/aws4_request"

        def authz(key, date):
            return dict(base, **{
                "X-Amz-Date": date,
                "Authorization": ("AWS4-HMAC-SHA256 " + (cred % key).replace(now[:8], date[:8]) +
                                  ", SignedHeaders=host;x-amz-date, Signature=" + "0" * 64)})
        cases = [
            (base, b"MissingAuthenticationTokenException"),
            (dict(base, Authorization="Bearer nothing"), b"MissingAuthenticationTokenException"),
            (dict(base, Authorization="AWS4-HMAC-SHA256 Credential=x"),
             b"IncompleteSignatureException"),
            (authz("NOSUCHKEY", now), b"UnrecognizedClientException"),
            (authz("test", stale), b"InvalidSignatureException"),
            (base, b"MissingAuthenticationTokenException"),
        ]
        pid = self.server.proc.pid
        before = rss_kib(pid)
        n = 30 << 20
        socks = [None] * len(cases)

        def send(i):
            socks[i] = self.send_all_but_last(cases[i][0], n)
        threads = [threading.Thread(target=send, args=(i,)) for i in range(len(cases))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(300)
        peak = rss_kib(pid)
        answers = [self.finish(s) for s in socks]
        for (hdrs, code), answer in zip(cases, answers):
            self.assertIn(b" 400 ", answer.split(b"\r\n")[0], (hdrs, answer[:300]))
            self.assertIn(code, answer, (hdrs, answer[:600]))
        # Buffered, the bodies would take 180 MiB; drained, they take almost nothing.
        self.assertLess(peak - before, 64 << 10, (before, peak))

    def test_answer_comes_before_the_body_for_a_client_that_waits(self):
        s = socket.create_connection(("127.0.0.1", self.server.port), timeout=60)
        s.sendall(b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000000\r\n"
                  b"X-Amz-Target: CodePipeline_20150709.ListPipelines\r\n"
                  b"Expect: 100-continue\r\n\r\n")
        data = read_response(s)
        self.assertTrue(data.startswith(b"HTTP/1.1 400"), data[:200])
        self.assertIn(b"MissingAuthenticationTokenException", data)


if __name__ == "__main__":
    unittest.main()
