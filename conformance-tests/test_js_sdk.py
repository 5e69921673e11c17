"""STS, IAM and CloudWatch Logs through the AWS SDK for JavaScript v3, as infrastructure tools built
on it call them: runs `node --test` in js/ against the real binary and fails on any failing JS test.
The SDK's packages come from js/package-lock.json (`npm ci` when node_modules is missing or does not
match it). The packages run on node 18 (Debian bookworm's) and later. Skipped with a message only
where node or npm is absent."""
import json
import os
import re
import shutil
import subprocess
import sys
import unittest
import urllib.request

from harness import ServerTestCase

JS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "js")


def installed_matches_lock():
    """True when js/node_modules holds every package of js/package-lock.json at its version (npm
    records what it installed in node_modules/.package-lock.json)."""
    try:
        with open(os.path.join(JS, "package-lock.json")) as f:
            want = json.load(f)["packages"]
        with open(os.path.join(JS, "node_modules", ".package-lock.json")) as f:
            have = json.load(f)["packages"]
    except (OSError, ValueError, KeyError):
        return False
    return all(have.get(k, {}).get("version") == v.get("version") for k, v in want.items() if k)


@unittest.skipUnless(shutil.which("node") and shutil.which("npm"),
                     "node and npm are not on the PATH (scripts/install-deps.sh --test installs "
                     "them): the JavaScript SDK test cannot run")
class JavaScriptSdk(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        # The SDK is pinned to 3.967.0, the last release whose packages declare node >= 18, so
        # that Debian bookworm's nodejs (18) runs it as well as node 20 and later.
        if not installed_matches_lock():
            # The lockfile pins every package, so this installs the same tree on every machine,
            # from npm's cache when it has them.
            p = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--prefer-offline"],
                               cwd=JS, capture_output=True, text=True, timeout=600)
            if p.returncode != 0:
                raise AssertionError("npm ci in %s failed (%d):\n%s\n%s"
                                     % (JS, p.returncode, p.stdout, p.stderr))
        super().setUpClass()

    def served(self):
        with urllib.request.urlopen(self.server.endpoint + "/_codepipeline-local/health",
                                    timeout=30) as r:
            return set(json.load(r)["services"])

    def test_sdk_flows(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update({"CPL_ENDPOINT": self.server.endpoint, "AWS_CONFIG_FILE": os.devnull,
                    "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "NO_COLOR": "1"})
        p = subprocess.run(["node", "--test", "--test-reporter=tap"], cwd=JS, env=env,
                           capture_output=True, text=True, timeout=540)
        out = p.stdout + p.stderr
        counts = {k: int(v) for k, v in re.findall(r"^# (tests|pass|fail|cancelled|skipped) (\d+)$",
                                                   out, re.M)}
        skips = re.findall(r"^\s*ok \d+ - (.*# SKIP.*)$", out, re.M)
        for s in skips:
            print("js skipped:", s, file=sys.stderr)
        msg = "node --test exited %d\n%s\nserver log:\n%s" % (p.returncode, out,
                                                               self.server.read_log())
        self.assertEqual(p.returncode, 0, msg)
        self.assertEqual(counts.get("fail"), 0, msg)
        self.assertEqual(counts.get("cancelled"), 0, msg)
        self.assertGreaterEqual(counts.get("pass", 0), 3, msg)
        # A JS test skips only while the server says STS or IAM is not emulated.
        if {"sts", "iam"} <= self.served():
            self.assertEqual(counts.get("skipped"), 0, msg)


if __name__ == "__main__":
    unittest.main()
