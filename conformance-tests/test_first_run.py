"""A newcomer's first run: the per-request log at the default level, and --port 0."""
import os
import re
import subprocess
import tempfile
import time
import unittest

from harness import BINARY, ServerTestCase

class RequestLog(ServerTestCase):
    """At the default log level each request gets one line: method, service.operation (S3: the
    path's shape), status, milliseconds, and the error code of an error."""

    def wait_for_line(self, pattern):
        deadline = time.time() + 30  # the line is written when the connection is done with it
        while time.time() < deadline:
            for line in self.server.read_log().splitlines():
                if re.search(pattern, line):
                    return line
            time.sleep(0.05)
        self.fail("no log line matches %r:\n%s" % (pattern, self.server.read_log()))

    def test_json_operations_are_logged_with_status_and_time(self):
        cp = self.client("codepipeline")
        cp.list_pipelines()
        self.wait_for_line(r" info  POST codepipeline\.ListPipelines 200 \d+\.\dms$")
        self.assertClientError(lambda: cp.get_pipeline(name="nope"), "PipelineNotFoundException")
        self.wait_for_line(r" info  POST codepipeline\.GetPipeline 400 \d+\.\dms "
                           r"PipelineNotFoundException$")

    def test_s3_requests_are_logged_by_the_shape_of_their_path(self):
        s3 = self.client("s3")
        s3.create_bucket(Bucket="logged-bucket")
        s3.put_object(Bucket="logged-bucket", Key="secret/key.txt", Body=b"x")
        s3.put_object_tagging(Bucket="logged-bucket", Key="secret/key.txt",
                              Tagging={"TagSet": [{"Key": "a", "Value": "b"}]})
        self.wait_for_line(r" info  PUT s3 /\{bucket\} 200 \d+\.\dms$")
        self.wait_for_line(r" info  PUT s3 /\{bucket\}/\{key\} 200 \d+\.\dms$")
        self.wait_for_line(r" info  PUT s3 /\{bucket\}/\{key\}\?tagging 200 \d+\.\dms$")
        self.assertNotIn("secret/key.txt", self.server.read_log())


class PortZero(unittest.TestCase):
    def test_port_0_listens_on_a_free_port_and_names_it(self):
        data = tempfile.mkdtemp(prefix="cpl-data-")
        proc = subprocess.Popen([BINARY, "--port", "0", "--data-dir", data],
                                stderr=subprocess.PIPE, text=True)
        try:
            first = proc.stderr.readline()  # the server writes it once it listens
            m = re.search(r"listening on 127\.0\.0\.1:(\d+), ", first)
            self.assertTrue(m, first)
            port = int(m.group(1))
            self.assertNotEqual(port, 0)
            import urllib.request
            with urllib.request.urlopen("http://127.0.0.1:%d/_codepipeline-local/health" % port,
                                        timeout=60) as r:
                self.assertEqual(r.status, 200)
        finally:
            proc.terminate()
            proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 0)


if __name__ == "__main__":
    unittest.main()
