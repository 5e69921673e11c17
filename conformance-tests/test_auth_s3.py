"""S3 authentication end to end: SigV4 and SigV2 (the AWS CLI v1's default for presign) headers and
presigned URLs, fetched with curl, and S3's XML errors for bad credentials and expiry."""
import os
import subprocess
import tempfile
import time
import unittest
import xml.etree.ElementTree as ET

import botocore.config

from harness import ServerTestCase, raw_request


def curl(url):
    p = subprocess.run(["curl", "-s", "-o", "-", "-w", "\n%{http_code}", url], capture_output=True,
                       timeout=30)
    body, _, code = p.stdout.rpartition(b"\n")
    return int(code), body


def error_code(body):
    return ET.fromstring(body).findtext("Code")


class S3Auth(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        tc = cls()
        tc.server = cls.server
        s3 = tc.client("s3")
        s3.create_bucket(Bucket="auth-bucket")
        cls.payload = os.urandom(4096)
        s3.put_object(Bucket="auth-bucket", Key="dir/obj.bin", Body=cls.payload)

    def test_cli_presign_default_config_then_curl_gets_the_bytes(self):
        rc, out, err = self.aws("s3", "presign", "s3://auth-bucket/dir/obj.bin")
        url = out.strip() if isinstance(out, str) else out
        code, body = curl(url)
        self.assertEqual(code, 200, body)
        self.assertEqual(body, self.payload)

    def test_sigv4_presigned_url_then_curl_gets_the_bytes(self):
        s3 = self.client("s3", signature_version="s3v4")
        url = s3.generate_presigned_url("get_object", Params={"Bucket": "auth-bucket", "Key": "dir/obj.bin"},
                                        ExpiresIn=300)
        self.assertIn("X-Amz-Signature=", url)
        code, body = curl(url)
        self.assertEqual(code, 200, body)
        self.assertEqual(body, self.payload)

    def test_expired_sigv4_presigned_url_is_access_denied(self):
        s3 = self.client("s3", signature_version="s3v4")
        url = s3.generate_presigned_url("get_object", Params={"Bucket": "auth-bucket", "Key": "dir/obj.bin"},
                                        ExpiresIn=1)
        time.sleep(2.1)
        code, body = curl(url)
        self.assertEqual(code, 403)
        root = ET.fromstring(body)
        self.assertEqual(root.findtext("Code"), "AccessDenied")
        self.assertEqual(root.findtext("Message"), "Request has expired")
        self.assertEqual(root.findtext("X-Amz-Expires"), "1")

    def test_expired_sigv2_presigned_url_is_access_denied(self):
        s3 = self.client("s3", signature_version="s3")
        url = s3.generate_presigned_url("get_object", Params={"Bucket": "auth-bucket", "Key": "dir/obj.bin"},
                                        ExpiresIn=1)
        time.sleep(2.1)
        code, body = curl(url)
        self.assertEqual(code, 403)
        self.assertEqual(error_code(body), "AccessDenied")

    def test_tampered_presigned_url_is_signature_does_not_match(self):
        for sv in ("s3v4", "s3"):
            s3 = self.client("s3", signature_version=sv)
            url = s3.generate_presigned_url("get_object", Params={"Bucket": "auth-bucket", "Key": "dir/obj.bin"},
                                            ExpiresIn=300)
            code, body = curl(url.replace("dir/obj.bin", "dir/other.bin"))
            self.assertEqual(code, 403, sv)
            self.assertEqual(error_code(body), "SignatureDoesNotMatch", sv)

    def test_wrong_secret_is_signature_does_not_match_with_details(self):
        for sv in ("s3v4", "s3"):
            s3 = self.client("s3", secret_key="wrong", signature_version=sv)
            err = self.assertClientError(lambda: s3.list_objects_v2(Bucket="auth-bucket"),
                                         "SignatureDoesNotMatch", 403)
            self.assertIn("StringToSign", err["Error"], sv)

    def test_unknown_access_key_is_invalid_access_key_id(self):
        s3 = self.client("s3", access_key="AKIANOSUCHKEY0000000")
        err = self.assertClientError(lambda: s3.list_objects_v2(Bucket="auth-bucket"),
                                     "InvalidAccessKeyId", 403,
                                     "The AWS Access Key Id you provided does not exist in our records.")

    def test_anonymous_request_is_access_denied(self):
        status, _, body = raw_request(self.server.endpoint, "GET", "/auth-bucket/dir/obj.bin")
        self.assertEqual(status, 403)
        self.assertEqual(error_code(body), "AccessDenied")

    def test_body_not_matching_signed_hash_is_rejected(self):
        import botocore.auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials
        req = AWSRequest(method="PUT", url=self.server.endpoint + "/auth-bucket/tampered", data=b"original")
        botocore.auth.S3SigV4Auth(Credentials("test", "test"), "s3", "us-east-1").add_auth(req)
        hdrs = {k: v for k, v in req.headers.items()}
        status, _, body = raw_request(self.server.endpoint, "PUT", "/auth-bucket/tampered", b"modified", hdrs)
        self.assertEqual(status, 400)
        self.assertEqual(error_code(body), "XAmzContentSHA256Mismatch")
        s3 = self.client("s3")
        self.assertClientError(lambda: s3.head_object(Bucket="auth-bucket", Key="tampered"), "404", 404)


if __name__ == "__main__":
    unittest.main()
