"""A newcomer's first run: the README's examples pasted as written, the per-request log at the
default level, --port 0, and what the Docker build context leaves out."""
import fnmatch
import os
import re
import subprocess
import sys
import tempfile
import time
import unittest

from harness import BINARY, ServerTestCase

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def readme_blocks():
    """Returns the README's indented code blocks, each as text without the indent."""
    blocks, cur = [], []
    with open(os.path.join(ROOT, "README.md")) as f:
        for line in f:
            if line.startswith("    "):
                cur.append(line[4:])
            elif cur:
                blocks.append("".join(cur))
                cur = []
    if cur:
        blocks.append("".join(cur))
    return blocks


def kind(block):
    """What a README block is: "shell" (pasted into bash), "python", or "other" (not replayed:
    the two scripts, the flag synopsis, JavaScript, the benchmarks)."""
    first = block.lstrip().split("\n", 1)[0]
    if first.startswith("import boto3"):
        return "python"
    if first.startswith(("./scripts/", "codepipeline-local ", "import {", "python3 conformance-tests",
                         "bash conformance-tests")):
        return "other"
    return "shell"


class ReadmeExamples(ServerTestCase):
    """Every shell and Python example of the README, in order, in one fresh shell: no AWS
    configuration, an empty home directory, the server's port in place of 4566."""

    def test_every_example_works_when_pasted_as_written(self):
        blocks = readme_blocks()
        shell = [b for b in blocks if kind(b) == "shell"]
        python = [b for b in blocks if kind(b) == "python"]
        self.assertGreaterEqual(len(shell), 6)
        self.assertEqual(len(python), 1)
        port = str(self.server.port)
        home = tempfile.mkdtemp(prefix="cpl-readme-")
        env = {"HOME": home, "PATH": os.environ["PATH"], "GIT_CONFIG_NOSYSTEM": "1",
               "LANG": os.environ.get("LANG", "C.UTF-8")}
        for k in ("PYENV_ROOT", "PYENV_VERSION"):  # the aws of this machine may be a pyenv shim
            if k in os.environ:
                env[k] = os.environ[k]
        # The README's server is ./scripts/run.sh's, whose data dir is ./data in the checkout.
        script = "set -euo pipefail\n" + "\n".join(
            b.replace("4566", port).replace("./data/", self.server.data_dir + "/") for b in shell)
        p = subprocess.run(["bash", "-c", script], cwd=home, env=env, capture_output=True,
                           text=True, timeout=600)
        self.assertEqual(p.returncode, 0, "stdout:\n%s\nstderr:\n%s" % (p.stdout, p.stderr))
        # the presigned URL and both virtual-host requests answered the object
        self.assertEqual(p.stdout.splitlines().count("hello"), 3, p.stdout)
        self.assertNotIn("Unknown options", p.stderr)
        # the CodeDeploy example's file, as the deployment wrote it into the instance root
        self.assertRegex(p.stdout, r"codedeploy/instances/.*/opt/app/index\.html")
        for d in ("app", "app-via-helper"):
            self.assertTrue(os.path.isdir(os.path.join(home, d, ".git")), d)
        got = self.client("codepipeline").get_pipeline(name="demo")["pipeline"]
        self.assertEqual([s["name"] for s in got["stages"]], ["Source", "Approve"])
        # The connection pipeline ran as the README says: once for create-pipeline, once for the
        # tag push (V2 trigger), once for the signed webhook call (which answered its id).
        self.assertRegex(p.stdout, r'"pipelineExecutionId": ?"[0-9a-f-]{36}"')
        cp = self.client("codepipeline")

        def triggers():
            got = sorted(e["trigger"]["triggerType"] for e in cp.list_pipeline_executions(
                pipelineName="demo-git")["pipelineExecutionSummaries"])
            return got if got == ["CreatePipeline", "Webhook", "WebhookV2"] else None
        deadline = time.time() + 60
        while not triggers() and time.time() < deadline:
            time.sleep(0.1)
        self.assertEqual(triggers(), ["CreatePipeline", "Webhook", "WebhookV2"])
        p = subprocess.run([sys.executable, "-c", python[0].replace("4566", port)], cwd=home,
                           env=env, capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("'name': 'demo'", p.stdout)

    def test_no_example_names_an_invalid_bucket(self):
        text = "\n".join(readme_blocks())
        names = re.findall(r"s3://([^/\s\"']+)", text)
        self.assertTrue(names)
        for name in names:
            self.assertRegex(name, r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")

    def test_the_credential_helper_is_set_for_the_emulator_only_and_passes_the_flag_to_get_only(self):
        lines = [l for b in readme_blocks() for l in b.splitlines() if "credential" in l and
                 l.startswith("git config")]
        self.assertTrue(lines)
        for l in lines:
            self.assertRegex(l, r"^git config --global credential\.http://localhost:4566\.")
        helper = [l for l in lines if ".helper " in l]
        self.assertEqual(len(helper), 1)
        self.assertIn('[ "$1" = get ]', helper[0])


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


class DockerContext(unittest.TestCase):
    """`COPY . .` must not bring a host build tree (its CMake cache names host paths and the
    configure in the image refuses it), the data dir or git metadata into the image."""

    def test_build_dirs_data_and_git_are_ignored(self):
        path = os.path.join(ROOT, ".dockerignore")
        self.assertTrue(os.path.exists(path), "no .dockerignore")
        with open(path) as f:
            patterns = [l.strip().rstrip("/") for l in f if l.strip() and not l.startswith("#")]
        for name in ("build", "build-run", "build-asan", "build-fuzz", "data", ".git"):
            self.assertTrue(any(fnmatch.fnmatchcase(name, p) for p in patterns), name)
        for name in ("server", "scripts", "protocol", "CMakeLists.txt"):
            self.assertFalse(any(fnmatch.fnmatchcase(name, p) for p in patterns), name)


if __name__ == "__main__":
    unittest.main()
