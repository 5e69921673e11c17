"""Starts the real codepipeline-local binary on a free port and drives it with the AWS CLI and boto3."""
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.request

import boto3
import botocore.config

BINARY = os.environ.get("CPL_BINARY") or os.path.join(
    os.path.dirname(__file__), "..", "build", "codepipeline-local")
ACCESS_KEY = "test"
SECRET_KEY = "test"
REGION = "us-east-1"
ACCOUNT = "000000000000"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One server process with its own data dir; restartable on the same dir and port."""

    def __init__(self, extra_args=(), data_dir=None, credentials=()):
        """credentials: extra (access key, secret, account id) triples, passed with --credentials."""
        self.port = free_port()
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="cpl-data-")
        self.own_dir = data_dir is None
        self.extra_args = list(extra_args)
        self.creds_path = None
        if credentials:
            fd, self.creds_path = tempfile.mkstemp(prefix="cpl-creds-", suffix=".txt")
            with os.fdopen(fd, "w") as f:
                f.writelines("%s %s %s\n" % c for c in credentials)
            self.extra_args += ["--credentials", self.creds_path]
        self.proc = None
        self.log_path = os.path.join(tempfile.gettempdir(), "cpl-%d.log" % self.port)

    @property
    def endpoint(self):
        return "http://127.0.0.1:%d" % self.port

    def start(self, timeout=60.0):
        args = [BINARY, "--host", "127.0.0.1", "--port", str(self.port),
                "--data-dir", self.data_dir] + self.extra_args
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("server exited with %d: %s" % (self.proc.returncode, self.read_log()))
            try:
                with urllib.request.urlopen(self.endpoint + "/_codepipeline-local/health", timeout=5) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("server did not answer within %.0fs" % timeout)

    def read_log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")[-4000:]
        except OSError:
            return ""

    def stop(self, sig=signal.SIGTERM, timeout=60.0):
        if not self.proc:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        rc = self.proc.returncode
        self.proc = None
        self.log.close()
        return rc

    def kill9(self):
        return self.stop(signal.SIGKILL)

    def restart(self):
        self.stop()
        self.start()

    def cleanup(self):
        """Stops the server and removes its data; raises if it did not exit cleanly (under ASan
        that is how a leak or memory error in the server fails the test)."""
        rc = self.stop()
        log = self.read_log()
        if self.own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)
        for path in (self.log_path, self.creds_path):
            try:
                if path:
                    os.unlink(path)
            except OSError:
                pass
        if rc not in (None, 0):
            raise AssertionError("server exited with %d:\n%s" % (rc, log))


class ServerTestCase(unittest.TestCase):
    """A test case with one server for the whole class (self.server), plus CLI and boto3 helpers."""

    server_args = ()
    credentials = ()  # extra (access key, secret, account id) triples

    @classmethod
    def setUpClass(cls):
        cls.server = Server(cls.server_args, credentials=cls.credentials)
        cls.server.start()

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def env(self, access_key=ACCESS_KEY, secret_key=SECRET_KEY, region=REGION):
        env = dict(os.environ)
        for k in list(env):
            if k.startswith("AWS_"):
                del env[k]
        env.update({
            "AWS_ACCESS_KEY_ID": access_key,
            "AWS_SECRET_ACCESS_KEY": secret_key,
            "AWS_DEFAULT_REGION": region,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_MAX_ATTEMPTS": "1",
            "AWS_RETRY_MODE": "standard",
            "AWS_PAGER": "",
        })
        return env

    def aws(self, *args, check=True, access_key=ACCESS_KEY, secret_key=SECRET_KEY, region=REGION,
            input=None):
        """Runs the AWS CLI against the server; returns (returncode, parsed JSON or text, stderr)."""
        cmd = ["aws", "--endpoint-url", self.server.endpoint, "--output", "json"] + list(args)
        p = subprocess.run(cmd, env=self.env(access_key, secret_key, region), capture_output=True,
                           text=True, input=input, timeout=120)
        if check and p.returncode != 0:
            self.fail("%s failed (%d): %s" % (" ".join(args), p.returncode, p.stderr))
        out = p.stdout
        try:
            out = json.loads(out) if out.strip() else {}
        except ValueError:
            pass
        return p.returncode, out, p.stderr

    def client(self, service, access_key=ACCESS_KEY, secret_key=SECRET_KEY, region=REGION, **cfg):
        return boto3.client(
            service, endpoint_url=self.server.endpoint, aws_access_key_id=access_key,
            aws_secret_access_key=secret_key, region_name=region,
            config=botocore.config.Config(retries={"max_attempts": 1, "mode": "standard"}, **cfg))

    def assertClientError(self, call, code, status=400, message=None):
        """Asserts that call() raises botocore's ClientError with code, HTTP status and message."""
        from botocore.exceptions import ClientError
        with self.assertRaises(ClientError) as cm:
            call()
        err = cm.exception.response
        self.assertEqual(err["Error"]["Code"], code, err)
        self.assertEqual(err["ResponseMetadata"]["HTTPStatusCode"], status, err)
        if message is not None:
            self.assertEqual(err["Error"]["Message"], message, err)
        return err


def signed_request(endpoint, target, body, access_key=ACCESS_KEY, secret_key=SECRET_KEY,
                   region=REGION, service=None, when=None, after_sign=None, headers=None):
    """Sends one SigV4-signed JSON 1.1 request with botocore's signer, optionally signed at another
    time (when: a datetime) or altered after signing (after_sign(AWSRequest)). Returns
    (status, headers, parsed JSON body or raw bytes)."""
    from unittest import mock
    import botocore.auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    if service is None:
        service = {"CodePipeline_20150709": "codepipeline", "CodeCommit_20150413": "codecommit",
                   "CodeBuild_20161006": "codebuild",
                   "CodeDeploy_20141006": "codedeploy"}.get(target.split(".")[0], "codepipeline")
    data = body if isinstance(body, bytes) else body.encode()
    hdrs = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": target}
    hdrs.update(headers or {})
    req = AWSRequest(method="POST", url=endpoint + "/", data=data, headers=hdrs)
    signer = botocore.auth.SigV4Auth(Credentials(access_key, secret_key), service, region)
    if when is not None:
        with mock.patch.object(botocore.auth, "get_current_datetime", return_value=when):
            signer.add_auth(req)
    else:
        signer.add_auth(req)
    if after_sign:
        after_sign(req)
    hdrs = {k: v for k, v in req.headers.items() if k.lower() != "content-length"}
    return raw_request(endpoint, "POST", "/", req.data, hdrs)


def raw_request(endpoint, method, path, body=b"", headers=None):
    """Sends one HTTP request as given; returns (status, headers, parsed JSON body or raw bytes)."""
    import http.client
    import urllib.parse
    u = urllib.parse.urlparse(endpoint)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    if isinstance(body, str):
        body = body.encode()
    conn.request(method, path, body=body, headers=headers or {})
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    try:
        parsed = json.loads(data) if data else {}
    except ValueError:
        parsed = data
    return resp.status, {k.lower(): v for k, v in resp.getheaders()}, parsed
