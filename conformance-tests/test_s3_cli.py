"""The AWS CLI's S3 commands against the server: mb, cp (small and multipart), cp to stdout, ls,
sync, presign + curl, rb --force, and s3api errors."""
import hashlib
import os
import shutil
import subprocess
import tempfile
import unittest

from harness import ServerTestCase


class S3CliTest(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tmp = tempfile.mkdtemp(prefix="cpl-s3-cli-")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)
        super().tearDownClass()

    def cli(self, *args, config=None, check=True):
        env = self.env()
        if config:
            path = os.path.join(self.tmp, "config")
            with open(path, "w") as f:
                f.write(config)
            env["AWS_CONFIG_FILE"] = path
        p = subprocess.run(["aws", "--endpoint-url", self.server.endpoint] + list(args), env=env,
                           capture_output=True, timeout=120)
        if check and p.returncode != 0:
            self.fail("aws %s failed: %s" % (" ".join(args), p.stderr.decode()))
        return p

    def test_round_trip(self):
        self.assertIn(b"make_bucket: cli-bucket", self.cli("s3", "mb", "s3://cli-bucket").stdout)
        small = os.path.join(self.tmp, "small.txt")
        with open(small, "wb") as f:
            f.write(b"small file\n")
        big = os.path.join(self.tmp, "big.bin")
        data = os.urandom(20 * 1024 * 1024 + 7)
        with open(big, "wb") as f:
            f.write(data)
        self.cli("s3", "cp", small, "s3://cli-bucket/small.txt")
        self.cli("s3", "cp", big, "s3://cli-bucket/dir/big.bin")
        self.assertEqual(self.cli("s3", "cp", "s3://cli-bucket/small.txt", "-").stdout, b"small file\n")
        out = self.cli("s3", "cp", "s3://cli-bucket/dir/big.bin", "-").stdout
        self.assertEqual(hashlib.md5(out).hexdigest(), hashlib.md5(data).hexdigest())
        etag = self.aws("s3api", "head-object", "--bucket", "cli-bucket", "--key", "dir/big.bin")[1]["ETag"]
        self.assertTrue(etag.endswith('-3"'), etag)  # 8 MiB parts
        # S3 to S3: CopyObject for small objects, UploadPartCopy above the threshold
        self.cli("s3", "cp", "s3://cli-bucket/dir/big.bin", "s3://cli-bucket/copy/big.bin")
        self.cli("s3", "cp", "s3://cli-bucket/small.txt", "s3://cli-bucket/copy/small.txt")
        s3 = self.client("s3")
        got = s3.get_object(Bucket="cli-bucket", Key="copy/big.bin")["Body"].read()
        self.assertEqual(hashlib.md5(got).hexdigest(), hashlib.md5(data).hexdigest())
        self.cli("s3", "mv", "s3://cli-bucket/copy/small.txt", "s3://cli-bucket/moved.txt")
        self.assertEqual(s3.get_object(Bucket="cli-bucket", Key="moved.txt")["Body"].read(), b"small file\n")
        self.cli("s3", "rm", "s3://cli-bucket/copy/", "--recursive")
        self.cli("s3", "rm", "s3://cli-bucket/moved.txt")

        src = os.path.join(self.tmp, "tree")
        os.makedirs(os.path.join(src, "sub"))
        for rel in ("one.txt", "sub/two.txt"):
            with open(os.path.join(src, rel), "w") as f:
                f.write(rel)
        out = self.cli("s3", "sync", src, "s3://cli-bucket/p/").stdout.decode()
        self.assertIn("upload:", out)
        # a second sync has nothing to do
        self.assertEqual(self.cli("s3", "sync", src, "s3://cli-bucket/p/").stdout.strip(), b"")

        listing = self.cli("s3", "ls", "s3://cli-bucket/", "--recursive").stdout.decode()
        keys = sorted(line.split()[-1] for line in listing.splitlines())
        self.assertEqual(keys, ["dir/big.bin", "p/one.txt", "p/sub/two.txt", "small.txt"])
        top = self.cli("s3", "ls", "s3://cli-bucket/").stdout.decode()
        self.assertIn("PRE dir/", top)
        self.assertIn("PRE p/", top)
        self.assertIn("small.txt", top)

        # the CLI's default presigned URL (SigV2 query auth with CLI v1) and a SigV4 one
        url = self.cli("s3", "presign", "s3://cli-bucket/p/one.txt").stdout.decode().strip()
        got = subprocess.run(["curl", "-sf", url], capture_output=True, timeout=30)
        self.assertEqual((got.returncode, got.stdout), (0, b"one.txt"))
        url = self.cli("s3", "presign", "s3://cli-bucket/p/one.txt",
                       config="[default]\ns3 =\n    signature_version = s3v4\n").stdout.decode().strip()
        self.assertIn("X-Amz-Signature=", url)
        got = subprocess.run(["curl", "-sf", url], capture_output=True, timeout=30)
        self.assertEqual((got.returncode, got.stdout), (0, b"one.txt"))

        out = self.cli("s3", "rb", "s3://cli-bucket", "--force").stdout.decode()
        self.assertIn("remove_bucket: cli-bucket", out)
        self.assertNotIn("cli-bucket", self.cli("s3", "ls").stdout.decode())

    def test_s3api_errors(self):
        rc, _, err = self.aws("s3api", "get-object", "--bucket", "no-such-bucket-here", "--key", "k",
                              os.path.join(self.tmp, "out"), check=False)
        self.assertNotEqual(rc, 0)
        self.assertIn("NoSuchBucket", err)
        self.aws("s3api", "create-bucket", "--bucket", "cli-errors")
        rc, _, err = self.aws("s3api", "create-bucket", "--bucket", "cli-errors", check=False)
        self.assertIn("BucketAlreadyOwnedByYou", err)
        rc, _, err = self.aws("s3api", "get-object", "--bucket", "cli-errors", "--key", "nope",
                              os.path.join(self.tmp, "out"), check=False)
        self.assertIn("NoSuchKey", err)
        rc, out, _ = self.aws("s3api", "list-objects-v2", "--bucket", "cli-errors")
        self.assertEqual(rc, 0)


if __name__ == "__main__":
    unittest.main()
