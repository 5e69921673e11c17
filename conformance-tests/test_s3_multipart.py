"""S3 multipart uploads: boto3's upload_file/download_file (20 MiB, verified by MD5), the low-level
calls (create, upload part, copy part, list parts, list uploads, complete, abort) and their errors."""
import base64
import hashlib
import os
import shutil
import tempfile
import unittest
import zlib

from boto3.s3.transfer import TransferConfig

from harness import ServerTestCase

MIB = 1024 * 1024


def _expect_put(server, path, size, body=b""):
    """Sends a signed PUT of size bytes with Expect: 100-continue, headers only; returns the open
    socket and the first bytes the server answers before any of the body is sent. The signature
    covers body (the caller sends it later, if at all)."""
    import socket
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    r = AWSRequest(method="PUT", url=server.endpoint + path, data=body)
    S3SigV4Auth(Credentials("test", "test"), "s3", "us-east-1").add_auth(r)
    head = "PUT %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n" % (path, server.port) + "".join(
        "%s: %s\r\n" % (k, v) for k, v in r.headers.items() if k.lower() != "content-length") + \
        "Content-Length: %d\r\nExpect: 100-continue\r\n\r\n" % size
    s = socket.create_connection(("127.0.0.1", server.port), timeout=60)
    s.sendall(head.encode())
    first = b""
    while b"\r\n\r\n" not in first:
        chunk = s.recv(65536)
        if not chunk:
            break
        first += chunk
    return s, first


class S3MultipartTest(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.s3 = cls.client(cls, "s3")
        cls.s3.create_bucket(Bucket="mpu")
        cls.tmp = tempfile.mkdtemp(prefix="cpl-s3-mp-")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)
        super().tearDownClass()

    def test_upload_file_20mib_and_download_file(self):
        src = os.path.join(self.tmp, "big.bin")
        data = os.urandom(20 * MIB + 12345)
        with open(src, "wb") as f:
            f.write(data)
        cfg = TransferConfig(multipart_threshold=8 * MIB, multipart_chunksize=8 * MIB)
        self.s3.upload_file(src, "mpu", "big/object.bin", Config=cfg)
        h = self.s3.head_object(Bucket="mpu", Key="big/object.bin")
        self.assertEqual(h["ContentLength"], len(data))
        self.assertTrue(h["ETag"].endswith('-3"'), h["ETag"])
        parts = [data[i:i + 8 * MIB] for i in range(0, len(data), 8 * MIB)]
        want = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest() + "-3"
        self.assertEqual(h["ETag"], '"%s"' % want)
        dst = os.path.join(self.tmp, "back.bin")
        self.s3.download_file("mpu", "big/object.bin", dst, Config=cfg)
        with open(dst, "rb") as f:
            self.assertEqual(hashlib.md5(f.read()).hexdigest(), hashlib.md5(data).hexdigest())
        # nothing left behind
        self.assertNotIn("Uploads", self.s3.list_multipart_uploads(Bucket="mpu", Prefix="big/"))

    def test_low_level_multipart_with_composite_crc32(self):
        key = "low/level"
        c = self.s3.create_multipart_upload(Bucket="mpu", Key=key, ContentType="application/x-test",
                                            Metadata={"m": "v"}, ChecksumAlgorithm="CRC32")
        uid = c["UploadId"]
        p1 = os.urandom(5 * MIB)
        p2 = b"tail"
        r1 = self.s3.upload_part(Bucket="mpu", Key=key, UploadId=uid, PartNumber=1, Body=p1,
                                 ChecksumAlgorithm="CRC32")
        r2 = self.s3.upload_part(Bucket="mpu", Key=key, UploadId=uid, PartNumber=2, Body=p2,
                                 ChecksumAlgorithm="CRC32")
        self.assertEqual(r1["ETag"], '"%s"' % hashlib.md5(p1).hexdigest())
        crc = [base64.b64encode(zlib.crc32(p).to_bytes(4, "big")).decode() for p in (p1, p2)]
        self.assertEqual(r1["ChecksumCRC32"], crc[0])
        lp = self.s3.list_parts(Bucket="mpu", Key=key, UploadId=uid)
        self.assertEqual([(p["PartNumber"], p["Size"]) for p in lp["Parts"]], [(1, 5 * MIB), (2, 4)])
        lp = self.s3.list_parts(Bucket="mpu", Key=key, UploadId=uid, MaxParts=1)
        self.assertTrue(lp["IsTruncated"])
        self.assertEqual(lp["NextPartNumberMarker"], 1)
        lp = self.s3.list_parts(Bucket="mpu", Key=key, UploadId=uid, PartNumberMarker=1)
        self.assertEqual([p["PartNumber"] for p in lp["Parts"]], [2])
        ups = self.s3.list_multipart_uploads(Bucket="mpu")["Uploads"]
        self.assertIn((key, uid), [(u["Key"], u["UploadId"]) for u in ups])
        done = self.s3.complete_multipart_upload(
            Bucket="mpu", Key=key, UploadId=uid,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": r1["ETag"], "ChecksumCRC32": crc[0]},
                                       {"PartNumber": 2, "ETag": r2["ETag"], "ChecksumCRC32": crc[1]}]})
        want = hashlib.md5(hashlib.md5(p1).digest() + hashlib.md5(p2).digest()).hexdigest() + "-2"
        self.assertEqual(done["ETag"], '"%s"' % want)
        composite = base64.b64encode(zlib.crc32(b"".join(
            base64.b64decode(x) for x in crc)).to_bytes(4, "big")).decode() + "-2"
        self.assertEqual(done["ChecksumCRC32"], composite)
        g = self.s3.get_object(Bucket="mpu", Key=key, ChecksumMode="ENABLED")
        self.assertEqual(g["Body"].read(), p1 + p2)
        self.assertEqual((g["ContentType"], g["Metadata"]), ("application/x-test", {"m": "v"}))
        self.assertClientError(lambda: self.s3.list_parts(Bucket="mpu", Key=key, UploadId=uid),
                               "NoSuchUpload", 404)

    def test_full_object_crc64nvme(self):
        from test_s3_objects import _crc
        c = self.client("s3", request_checksum_calculation="when_required")
        key = "full/object"
        uid = c.create_multipart_upload(Bucket="mpu", Key=key, ChecksumAlgorithm="CRC64NVME",
                                        ChecksumType="FULL_OBJECT")["UploadId"]
        p1, p2 = os.urandom(5 * MIB), os.urandom(1000)
        e1 = c.upload_part(Bucket="mpu", Key=key, UploadId=uid, PartNumber=1, Body=p1)["ETag"]
        e2 = c.upload_part(Bucket="mpu", Key=key, UploadId=uid, PartNumber=2, Body=p2)["ETag"]
        full = _crc(p1 + p2, 0x9A6C9329AC4BC9B5, 64)
        parts = {"Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]}
        self.assertClientError(lambda: c.complete_multipart_upload(
            Bucket="mpu", Key=key, UploadId=uid, MultipartUpload=parts,
            ChecksumCRC64NVME=_crc(b"wrong", 0x9A6C9329AC4BC9B5, 64)), "BadDigest", 400)
        done = c.complete_multipart_upload(Bucket="mpu", Key=key, UploadId=uid, MultipartUpload=parts,
                                           ChecksumCRC64NVME=full, ChecksumType="FULL_OBJECT")
        self.assertEqual(done["ChecksumCRC64NVME"], full)
        self.assertEqual(done["ChecksumType"], "FULL_OBJECT")
        h = c.head_object(Bucket="mpu", Key=key, ChecksumMode="ENABLED")
        self.assertEqual(h["ChecksumCRC64NVME"], full)

    def test_get_by_part_number(self):
        key = "parts/get"
        uid = self.s3.create_multipart_upload(Bucket="mpu", Key=key)["UploadId"]
        p1, p2 = os.urandom(5 * MIB), os.urandom(3000)
        e1 = self.s3.upload_part(Bucket="mpu", Key=key, UploadId=uid, PartNumber=1, Body=p1)["ETag"]
        e2 = self.s3.upload_part(Bucket="mpu", Key=key, UploadId=uid, PartNumber=2, Body=p2)["ETag"]
        self.s3.complete_multipart_upload(Bucket="mpu", Key=key, UploadId=uid, MultipartUpload={
            "Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]})
        g = self.s3.get_object(Bucket="mpu", Key=key, PartNumber=2)
        self.assertEqual(g["Body"].read(), p2)
        self.assertEqual(g["PartsCount"], 2)
        self.assertEqual(g["ContentRange"], "bytes %d-%d/%d" % (len(p1), len(p1) + len(p2) - 1, len(p1) + len(p2)))
        h = self.s3.head_object(Bucket="mpu", Key=key, PartNumber=1)
        self.assertEqual((h["ContentLength"], h["PartsCount"]), (len(p1), 2))
        self.assertClientError(lambda: self.s3.get_object(Bucket="mpu", Key=key, PartNumber=3),
                               "InvalidPartNumber", 416, "The requested partnumber is not satisfiable")
        self.s3.put_object(Bucket="mpu", Key="parts/plain", Body=b"plain")
        self.assertEqual(self.s3.get_object(Bucket="mpu", Key="parts/plain", PartNumber=1)["Body"].read(), b"plain")
        self.assertClientError(lambda: self.s3.get_object(Bucket="mpu", Key="parts/plain", PartNumber=2),
                               "InvalidPartNumber", 416)

    def test_upload_part_copy(self):
        src = os.urandom(6 * MIB)
        self.s3.put_object(Bucket="mpu", Key="copy/src", Body=src)
        uid = self.s3.create_multipart_upload(Bucket="mpu", Key="copy/dst")["UploadId"]
        a = self.s3.upload_part_copy(Bucket="mpu", Key="copy/dst", UploadId=uid, PartNumber=1,
                                     CopySource={"Bucket": "mpu", "Key": "copy/src"},
                                     CopySourceRange="bytes=0-%d" % (5 * MIB - 1))
        b = self.s3.upload_part_copy(Bucket="mpu", Key="copy/dst", UploadId=uid, PartNumber=2,
                                     CopySource={"Bucket": "mpu", "Key": "copy/src"},
                                     CopySourceRange="bytes=%d-%d" % (5 * MIB, 6 * MIB - 1))
        self.assertEqual(a["CopyPartResult"]["ETag"], '"%s"' % hashlib.md5(src[:5 * MIB]).hexdigest())
        self.s3.complete_multipart_upload(Bucket="mpu", Key="copy/dst", UploadId=uid, MultipartUpload={
            "Parts": [{"PartNumber": 1, "ETag": a["CopyPartResult"]["ETag"]},
                      {"PartNumber": 2, "ETag": b["CopyPartResult"]["ETag"]}]})
        self.assertEqual(self.s3.get_object(Bucket="mpu", Key="copy/dst")["Body"].read(), src)
        self.assertClientError(lambda: self.s3.upload_part_copy(
            Bucket="mpu", Key="copy/dst2", UploadId="nope", PartNumber=1,
            CopySource="mpu/copy/src"), "NoSuchUpload", 404)

    def test_errors(self):
        key = "err/key"
        uid = self.s3.create_multipart_upload(Bucket="mpu", Key=key)["UploadId"]
        r1 = self.s3.upload_part(Bucket="mpu", Key=key, UploadId=uid, PartNumber=1, Body=b"small")
        r2 = self.s3.upload_part(Bucket="mpu", Key=key, UploadId=uid, PartNumber=2, Body=b"small")
        err = self.assertClientError(lambda: self.s3.complete_multipart_upload(
            Bucket="mpu", Key=key, UploadId=uid, MultipartUpload={"Parts": [
                {"PartNumber": 1, "ETag": r1["ETag"]}, {"PartNumber": 2, "ETag": r2["ETag"]}]}),
            "EntityTooSmall", 400, "Your proposed upload is smaller than the minimum allowed size")
        self.assertEqual(err["Error"]["MinSizeAllowed"], "5242880")
        self.assertClientError(lambda: self.s3.complete_multipart_upload(
            Bucket="mpu", Key=key, UploadId=uid, MultipartUpload={"Parts": [
                {"PartNumber": 1, "ETag": '"00000000000000000000000000000000"'}]}),
            "InvalidPart", 400)
        self.assertClientError(lambda: self.s3.complete_multipart_upload(
            Bucket="mpu", Key=key, UploadId=uid, MultipartUpload={"Parts": [
                {"PartNumber": 3, "ETag": r1["ETag"]}]}), "InvalidPart", 400)
        self.assertClientError(lambda: self.s3.complete_multipart_upload(
            Bucket="mpu", Key=key, UploadId=uid, MultipartUpload={"Parts": [
                {"PartNumber": 2, "ETag": r2["ETag"]}, {"PartNumber": 1, "ETag": r1["ETag"]}]}),
            "InvalidPartOrder", 400,
            "The list of parts was not in ascending order. Parts must be ordered by part number.")
        self.assertClientError(lambda: self.s3.upload_part(
            Bucket="mpu", Key=key, UploadId=uid, PartNumber=10001, Body=b"x"), "InvalidArgument", 400,
            "Part number must be an integer between 1 and 10000, inclusive")
        # a single small part is fine: the last part has no minimum
        done = self.s3.complete_multipart_upload(Bucket="mpu", Key=key, UploadId=uid, MultipartUpload={
            "Parts": [{"PartNumber": 1, "ETag": r1["ETag"]}]})
        self.assertTrue(done["ETag"].endswith('-1"'))
        self.assertEqual(self.s3.get_object(Bucket="mpu", Key=key)["Body"].read(), b"small")
        err = self.assertClientError(lambda: self.s3.upload_part(
            Bucket="mpu", Key=key, UploadId=uid, PartNumber=3, Body=b"x"), "NoSuchUpload", 404)
        self.assertEqual(err["Error"]["UploadId"], uid)

    def test_part_for_a_missing_upload_is_refused_before_the_body(self):
        # 64 MiB announced, nothing sent: the answer must come from the headers alone
        s, first = _expect_put(self.server, "/mpu/early/key?partNumber=1&uploadId=nope", 64 * MIB)
        try:
            s.settimeout(60)
            while b"</Error>" not in first:
                chunk = s.recv(65536)
                if not chunk:
                    break
                first += chunk
        finally:
            s.close()
        self.assertTrue(first.startswith(b"HTTP/1.1 404"), first[:200])
        self.assertIn(b"<Code>NoSuchUpload</Code>", first)
        self.assertIn(b"<UploadId>nope</UploadId>", first)
        # a bucket that does not exist: NoSuchBucket, also before the body
        s, first = _expect_put(self.server, "/no-such-mpu-bucket/k?partNumber=1&uploadId=nope", 64 * MIB)
        s.close()
        self.assertTrue(first.startswith(b"HTTP/1.1 404"), first[:200])
        s, first = _expect_put(self.server, "/no-such-put-bucket/k", 64 * MIB)
        s.close()
        self.assertTrue(first.startswith(b"HTTP/1.1 404"), first[:200])
        # an upload of another key is not this key's upload
        uid = self.s3.create_multipart_upload(Bucket="mpu", Key="early/other")["UploadId"]
        s, first = _expect_put(self.server, "/mpu/early/key?partNumber=1&uploadId=" + uid, 1 * MIB)
        s.close()
        self.assertTrue(first.startswith(b"HTTP/1.1 404"), first[:200])
        self.s3.abort_multipart_upload(Bucket="mpu", Key="early/other", UploadId=uid)

    def test_upload_aborted_while_the_part_streams_loses_the_part(self):
        # the early check is a snapshot: the commit re-checks inside its write transaction
        key = "early/aborted"
        uid = self.s3.create_multipart_upload(Bucket="mpu", Key=key)["UploadId"]
        body = b"p" * 100000
        s, first = _expect_put(self.server, "/mpu/%s?partNumber=1&uploadId=%s" % (key, uid), len(body), body)
        try:
            self.assertTrue(first.startswith(b"HTTP/1.1 100"), first[:200])
            self.s3.abort_multipart_upload(Bucket="mpu", Key=key, UploadId=uid)
            s.sendall(body)
            rest = b""
            while b"</Error>" not in rest:
                chunk = s.recv(65536)
                if not chunk:
                    break
                rest += chunk
        finally:
            s.close()
        self.assertTrue(rest.startswith(b"HTTP/1.1 404"), rest)
        self.assertIn(b"<Code>NoSuchUpload</Code>", rest)
        self.assertEqual(self.s3.list_multipart_uploads(Bucket="mpu", Prefix=key).get("Uploads", []), [])

    def test_complete_honours_if_none_match_and_if_match(self):
        # the model's CompleteMultipartUploadRequest carries If-None-Match ("only if the object key
        # name does not already exist ... Otherwise 412") and If-Match, as PutObject does
        key = "cond/key"

        def upload(body):
            uid = self.s3.create_multipart_upload(Bucket="mpu", Key=key)["UploadId"]
            etag = self.s3.upload_part(Bucket="mpu", Key=key, UploadId=uid, PartNumber=1, Body=body)["ETag"]
            return uid, {"Parts": [{"PartNumber": 1, "ETag": etag}]}

        uid, parts = upload(b"first")
        self.s3.complete_multipart_upload(Bucket="mpu", Key=key, UploadId=uid, MultipartUpload=parts,
                                          IfNoneMatch="*")  # nothing there yet
        current = self.s3.head_object(Bucket="mpu", Key=key)["ETag"]
        uid, parts = upload(b"second")
        err = self.assertClientError(lambda: self.s3.complete_multipart_upload(
            Bucket="mpu", Key=key, UploadId=uid, MultipartUpload=parts, IfNoneMatch="*"),
            "PreconditionFailed", 412, "At least one of the pre-conditions you specified did not hold")
        self.assertEqual(err["Error"]["Condition"], "If-None-Match")
        self.assertClientError(lambda: self.s3.complete_multipart_upload(
            Bucket="mpu", Key=key, UploadId=uid, MultipartUpload=parts, IfMatch='"0123456789abcdef0123456789abcdef"'),
            "PreconditionFailed", 412)
        self.assertEqual(self.s3.get_object(Bucket="mpu", Key=key)["Body"].read(), b"first")
        # the upload is still there: it completes when the condition holds
        self.s3.complete_multipart_upload(Bucket="mpu", Key=key, UploadId=uid, MultipartUpload=parts,
                                          IfMatch=current)
        self.assertEqual(self.s3.get_object(Bucket="mpu", Key=key)["Body"].read(), b"second")
        # If-Match on a key that does not exist
        uid = self.s3.create_multipart_upload(Bucket="mpu", Key="cond/none")["UploadId"]
        etag = self.s3.upload_part(Bucket="mpu", Key="cond/none", UploadId=uid, PartNumber=1, Body=b"x")["ETag"]
        self.assertClientError(lambda: self.s3.complete_multipart_upload(
            Bucket="mpu", Key="cond/none", UploadId=uid,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]}, IfMatch=current),
            "NoSuchKey", 404)
        self.s3.abort_multipart_upload(Bucket="mpu", Key="cond/none", UploadId=uid)

    def test_racing_conditional_completes_let_one_win(self):
        import threading
        from botocore.exceptions import ClientError
        key = "race/key"
        jobs = []
        for i in range(4):
            uid = self.s3.create_multipart_upload(Bucket="mpu", Key=key)["UploadId"]
            etag = self.s3.upload_part(Bucket="mpu", Key=key, UploadId=uid, PartNumber=1,
                                       Body=b"%d" % i * 1000)["ETag"]
            jobs.append((uid, etag))
        results = []
        clients = [self.client("s3") for _ in jobs]

        def complete(c, uid, etag):
            try:
                c.complete_multipart_upload(Bucket="mpu", Key=key, UploadId=uid, IfNoneMatch="*",
                                            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
                results.append("ok")
            except ClientError as e:
                results.append(e.response["Error"]["Code"])

        threads = [threading.Thread(target=complete, args=(c, u, e)) for c, (u, e) in zip(clients, jobs)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(sorted(results), ["PreconditionFailed"] * 3 + ["ok"])
        versions = self.s3.list_object_versions(Bucket="mpu", Prefix=key).get("Versions", [])
        self.assertEqual(len(versions), 1)

    def test_abort(self):
        uid = self.s3.create_multipart_upload(Bucket="mpu", Key="abort/me")["UploadId"]
        self.s3.upload_part(Bucket="mpu", Key="abort/me", UploadId=uid, PartNumber=1, Body=b"x" * 1000)
        r = self.s3.abort_multipart_upload(Bucket="mpu", Key="abort/me", UploadId=uid)
        self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 204)
        self.assertClientError(lambda: self.s3.abort_multipart_upload(Bucket="mpu", Key="abort/me", UploadId=uid),
                               "NoSuchUpload", 404)
        self.assertClientError(lambda: self.s3.head_object(Bucket="mpu", Key="abort/me"), "404", 404)

    def test_list_uploads_prefix_and_pagination(self):
        ids = [self.s3.create_multipart_upload(Bucket="mpu", Key="lu/%d" % i)["UploadId"] for i in range(3)]
        r = self.s3.list_multipart_uploads(Bucket="mpu", Prefix="lu/", MaxUploads=2)
        self.assertTrue(r["IsTruncated"])
        self.assertEqual([u["Key"] for u in r["Uploads"]], ["lu/0", "lu/1"])
        r = self.s3.list_multipart_uploads(Bucket="mpu", Prefix="lu/", KeyMarker=r["NextKeyMarker"],
                                           UploadIdMarker=r["NextUploadIdMarker"])
        self.assertEqual([u["Key"] for u in r["Uploads"]], ["lu/2"])
        for i, uid in enumerate(ids):
            self.s3.abort_multipart_upload(Bucket="mpu", Key="lu/%d" % i, UploadId=uid)


if __name__ == "__main__":
    unittest.main()
