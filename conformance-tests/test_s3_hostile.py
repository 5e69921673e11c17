"""Hostile S3 input: path-like keys, NUL, 1024/1025-byte and unicode keys are stored and listed
verbatim and never reach the filesystem outside the blob store; out-of-range numbers in max-keys,
partNumber, markers, Range and x-amz-decoded-content-length get S3's errors, not crashes."""
import base64
import hashlib
import http.client
import os
import re
import shutil
import tempfile
import time
import unittest
import urllib.parse
import xml.etree.ElementTree as ET

from harness import Server, ServerTestCase

NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"
HUGE = "99999999999999999999"


def signed(server, method, path, body=b"", extra=None, payload=None):
    """One SigV4-signed request sent exactly as given (payload: a literal x-amz-content-sha256
    to sign instead of the body's hash); returns (status, headers, body)."""
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    host = "127.0.0.1:%d" % server.port
    r = AWSRequest(method=method, url="http://%s%s" % (host, path), data=body)
    for k, v in (extra or {}).items():
        r.headers[k] = v
    auth = S3SigV4Auth(Credentials("test", "test"), "s3", "us-east-1")
    if payload:
        auth.payload = lambda request: payload
    auth.add_auth(r)
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        conn.request(method, path, body=body, headers=dict(r.headers.items()))
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def error_code(body):
    root = ET.fromstring(body)
    return root.findtext("Code"), root.findtext("Message")


class S3HostileKeysTest(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        # the data dir sits alone inside a fresh directory, so any escape from it would show
        cls.root = tempfile.mkdtemp(prefix="cpl-hostile-")
        cls.server = Server(data_dir=os.path.join(cls.root, "data"))
        os.mkdir(cls.server.data_dir)
        cls.server.start()
        cls.s3 = cls.client(cls, "s3")
        cls.s3.create_bucket(Bucket="hostile")

    @classmethod
    def tearDownClass(cls):
        try:
            cls.server.cleanup()
        finally:
            shutil.rmtree(cls.root, ignore_errors=True)

    def assert_only_store_files(self):
        self.assertEqual(os.listdir(self.root), ["data"])
        for dirpath, _, files in os.walk(self.server.data_dir):
            rel = os.path.relpath(dirpath, self.server.data_dir)
            for f in files:
                path = os.path.normpath(os.path.join(rel, f))
                ok = (path in ("LOCK", "db/data.mdb", "db/lock.mdb")
                      or re.match(r"^blobs/[0-9a-f]{2}/[0-9a-f]{32}$", path))
                self.assertTrue(ok, path)

    def test_path_like_keys_are_opaque_and_stay_in_the_store(self):
        self.s3.create_bucket(Bucket="hostile-paths")
        keys = ["../../etc/passwd", "a/../../b", "/leading", "%2e%2e/x", "..", ".", "./../x",
                "..\\..\\win", "ünï/cödé", "✓/鍵/ключ", "tab\there", "ctl\x01\x1f"]
        for k in keys:
            self.s3.put_object(Bucket="hostile-paths", Key=k, Body=k.encode())
        # the raw URI forms: %2e%2e and %2f decode to dots and slashes inside the key
        raw = {"/hostile-paths/%2e%2e/raw1": "../raw1", "/hostile-paths/..%2f..%2fraw2": "../../raw2",
               "/hostile-paths/%2E%2E%2F%2E%2E%2Fraw3": "../../raw3", "/hostile-paths//raw4": "/raw4"}
        for path, key in raw.items():
            st, _, body = signed(self.server, "PUT", path, body=key.encode())
            self.assertEqual(st, 200, body)
        allkeys = keys + list(raw.values())
        for k in allkeys:
            self.assertEqual(self.s3.get_object(Bucket="hostile-paths", Key=k)["Body"].read(), k.encode(), k)
        listed = [o["Key"] for o in self.s3.list_objects_v2(Bucket="hostile-paths")["Contents"]]
        self.assertEqual(listed, sorted(allkeys, key=lambda s: s.encode()))
        listed = [o["Key"] for o in self.s3.list_objects(Bucket="hostile-paths")["Contents"]]
        self.assertEqual(listed, sorted(allkeys, key=lambda s: s.encode()))
        # without encoding-type the XML carries the UTF-8 key itself
        st, _, body = signed(self.server, "GET", "/hostile-paths?list-type=2&prefix=%E2%9C%93")
        self.assertEqual(ET.fromstring(body).findtext(NS + "Contents/" + NS + "Key"), "✓/鍵/ключ")
        self.assert_only_store_files()

    def test_nul_in_a_key_is_rejected_and_stores_nothing(self):
        st, _, body = signed(self.server, "PUT", "/hostile/nul%00key", body=b"x")
        self.assertEqual(st, 400)
        self.assertEqual(error_code(body)[0], "InvalidArgument")
        st, _, _ = signed(self.server, "GET", "/hostile/nul")
        self.assertEqual(st, 404)
        r = self.s3.list_objects_v2(Bucket="hostile", Prefix="nul")
        self.assertEqual(r["KeyCount"], 0)

    def test_keys_that_are_not_utf8_are_invalid_uris(self):
        for method, path in (("PUT", "/hostile/bad%FFkey"), ("GET", "/hostile/%AE%8A-"),
                             ("DELETE", "/hostile/%C0%AF"), ("PUT", "/bad%FFbucket/k"),
                             ("GET", "/hostile/%ED%A0%80?tagging")):
            st, _, body = signed(self.server, method, path, body=b"x" if method == "PUT" else b"")
            self.assertEqual(st, 400, path)
            self.assertEqual(error_code(body), ("InvalidURI", "Couldn't parse the specified URI."), path)
        st, _, _ = signed(self.server, "HEAD", "/hostile/%FF")
        self.assertEqual(st, 400)
        st, _, body = signed(self.server, "PUT", "/hostile/copy-dst",
                             extra={"x-amz-copy-source": "hostile/%FF"})
        self.assertEqual((st, error_code(body)[0]), (400, "InvalidArgument"))
        # an XML body that is not UTF-8 is not well-formed
        doc = b"<Delete><Object><Key>k\xff</Key></Object></Delete>"
        st, _, body = signed(self.server, "POST", "/hostile?delete", body=doc,
                             extra={"Content-MD5": base64.b64encode(hashlib.md5(doc).digest()).decode()})
        self.assertEqual((st, error_code(body)[0]), (400, "MalformedXML"))
        r = self.s3.list_objects_v2(Bucket="hostile", Prefix="bad")
        self.assertEqual(r["KeyCount"], 0)

    def test_copy_sources_that_are_not_utf8_are_invalid_arguments(self):
        # UploadPartCopy parses x-amz-copy-source as CopyObject does, and neither echoes bytes
        # that XML cannot carry into an error document
        up = self.s3.create_multipart_upload(Bucket="hostile", Key="part-dst")["UploadId"]
        part = "/hostile/part-dst?partNumber=1&uploadId=" + up
        for path in ("/hostile/copy-dst", part):
            for src in ("hostile/%FF", "hostile/nul%00key", "bad%FFbucket/k", "/bad%C0%AFb/k"):
                st, _, body = signed(self.server, "PUT", path, extra={"x-amz-copy-source": src})
                self.assertEqual((st, error_code(body)[0]), (400, "InvalidArgument"), (path, src))
        self.assertEqual(self.s3.list_parts(Bucket="hostile", Key="part-dst", UploadId=up).get("Parts", []), [])
        self.s3.abort_multipart_upload(Bucket="hostile", Key="part-dst", UploadId=up)

    def test_query_parameters_that_are_not_utf8_are_invalid_uris(self):
        # listings and errors echo these parameters: bytes that are not UTF-8 would make their XML
        # unreadable, so they are refused as keys are
        self.s3.put_object(Bucket="hostile", Key="q", Body=b"q")
        for method, path in (("GET", "/hostile?list-type=2&prefix=%FF"),
                             ("GET", "/hostile?list-type=2&start-after=%C0%AF"),
                             ("GET", "/hostile?list-type=2&delimiter=%FF"),
                             ("GET", "/hostile?marker=%FF"),
                             ("GET", "/hostile?versions&key-marker=%FF&version-id-marker=%FF"),
                             ("GET", "/hostile?uploads&prefix=%ED%A0%80"),
                             ("GET", "/hostile/q?versionId=%FF"),
                             ("GET", "/hostile/q?uploadId=%FF"),
                             ("DELETE", "/hostile/q?uploadId=%FF"),
                             ("GET", "/hostile/q?tagging&versionId=%FE"),
                             ("GET", "/?prefix=%FF")):
            st, _, body = signed(self.server, method, path)
            self.assertEqual(st, 400, path)
            self.assertEqual(error_code(body), ("InvalidURI", "Couldn't parse the specified URI."), path)
        # UTF-8 parameters still work
        self.s3.put_object(Bucket="hostile", Key="é-q", Body=b"q")
        r = self.s3.list_objects_v2(Bucket="hostile", Prefix="é-", StartAfter="é-")
        self.assertEqual([o["Key"] for o in r["Contents"]], ["é-q"])

    def test_key_length_limit_counts_bytes(self):
        k1024 = "k/" + "a" * 1022
        self.s3.put_object(Bucket="hostile", Key=k1024, Body=b"1024")
        self.assertEqual(self.s3.get_object(Bucket="hostile", Key=k1024)["Body"].read(), b"1024")
        r = self.s3.list_objects_v2(Bucket="hostile", Prefix="k/")
        self.assertEqual([o["Key"] for o in r["Contents"]], [k1024])
        err = self.assertClientError(lambda: self.s3.put_object(Bucket="hostile", Key=k1024 + "b", Body=b"x"),
                                     "KeyTooLongError", 400, "Your key is too long")
        self.assertEqual(err["Error"].get("Size"), "1025")
        self.assertClientError(lambda: self.s3.head_object(Bucket="hostile", Key="x" * 5000),
                               "400", 400)
        multi = "é" * 512  # 1024 bytes of UTF-8
        self.s3.put_object(Bucket="hostile", Key=multi, Body=b"m")
        self.assertEqual(self.s3.get_object(Bucket="hostile", Key=multi)["Body"].read(), b"m")
        self.assertClientError(lambda: self.s3.put_object(Bucket="hostile", Key=multi + "é", Body=b"x"),
                               "KeyTooLongError", 400)
        self.assertClientError(
            lambda: self.s3.create_multipart_upload(Bucket="hostile", Key="m" * 1025), "KeyTooLongError", 400)
        self.assert_only_store_files()


class S3HugeNumbersTest(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.s3 = cls.client(cls, "s3")
        cls.s3.create_bucket(Bucket="nums")
        cls.s3.put_object(Bucket="nums", Key="obj", Body=b"0123456789")
        cls.uid = cls.s3.create_multipart_upload(Bucket="nums", Key="mp")["UploadId"]

    def expect(self, method, path, status, code, message=None, **kw):
        st, hdrs, body = signed(self.server, method, path, **kw)
        self.assertEqual(st, status, body)
        if method != "HEAD":
            c, m = error_code(body)
            self.assertEqual(c, code, body)
            if message is not None:
                self.assertEqual(m, message)
        return body

    def test_listing_limits(self):
        for q in ("max-keys=" + HUGE, "max-keys=2147483648", "max-keys=-1", "max-keys=1e3",
                  "max-keys=", "list-type=2&max-keys=" + HUGE):
            body = self.expect("GET", "/nums?" + q, 400, "InvalidArgument")
            self.assertIn(b"<ArgumentName>max-keys</ArgumentName>", body)
        for v in (HUGE, "0", "%2B5", "10001"):
            self.expect("GET", "/?max-buckets=" + v, 400, "InvalidArgument",
                        "Argument max-buckets must be an integer between 1 and 10000.")
        r = self.s3.list_objects_v2(Bucket="nums", MaxKeys=2147483647)
        self.assertEqual(r["MaxKeys"], 1000)
        self.expect("GET", "/nums?versions&max-keys=" + HUGE, 400, "InvalidArgument")
        body = self.expect("GET", "/nums?uploads&max-uploads=" + HUGE, 400, "InvalidArgument",
                           "Provided max-uploads not an integer or within integer range")
        self.assertIn(b"<ArgumentValue>%s</ArgumentValue>" % HUGE.encode(), body)
        self.expect("GET", "/nums?uploads&encoding-type=base64", 400, "InvalidArgument",
                    "Invalid Encoding Method specified in Request")
        q = "uploadId=%s&" % self.uid
        self.expect("GET", "/nums/mp?%smax-parts=%s" % (q, HUGE), 400, "InvalidArgument",
                    "Provided max-parts not an integer or within integer range")
        self.expect("GET", "/nums/mp?%spart-number-marker=%s" % (q, HUGE), 400, "InvalidArgument",
                    "Provided part-number-marker not an integer or within integer range")
        self.expect("GET", "/nums?list-type=2&continuation-token=" + urllib.parse.quote("A" * 4000),
                    400, "InvalidArgument", "The continuation token provided is incorrect")

    def test_part_numbers(self):
        msg = "Part number must be an integer between 1 and 10000, inclusive"
        for pn in (HUGE, "10001", "0", "-1", "4294967297", "+1", ""):
            self.expect("PUT", "/nums/mp?partNumber=%s&uploadId=%s" % (urllib.parse.quote(pn), self.uid),
                        400, "InvalidArgument", msg, body=b"x")
            self.expect("GET", "/nums/obj?partNumber=" + urllib.parse.quote(pn), 400, "InvalidArgument", msg)
        body = ("<CompleteMultipartUpload><Part><PartNumber>%s</PartNumber><ETag>x</ETag></Part>"
                "</CompleteMultipartUpload>" % HUGE).encode()
        self.expect("POST", "/nums/mp?uploadId=" + self.uid, 400, "InvalidArgument", msg, body=body)
        self.expect("GET", "/nums/obj?partNumber=2", 416, "InvalidPartNumber")
        uid = self.s3.create_multipart_upload(Bucket="nums", Key="mp-size")["UploadId"]
        etag = self.s3.upload_part(Bucket="nums", Key="mp-size", UploadId=uid, PartNumber=1, Body=b"x")["ETag"]
        doc = ("<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>%s</ETag></Part>"
               "</CompleteMultipartUpload>" % etag).encode()
        for size in ("abc", HUGE, "-1"):
            self.expect("POST", "/nums/mp-size?uploadId=" + uid, 400, "InvalidRequest", body=doc,
                        extra={"x-amz-mp-object-size": size})
        st, _, body = signed(self.server, "POST", "/nums/mp-size?uploadId=" + uid, body=doc,
                             extra={"x-amz-mp-object-size": "1"})
        self.assertEqual(st, 200, body)

    def test_copy_source_ranges(self):
        msg = "Range specified is not valid for source object of size: 10"
        path = "/nums/mp?partNumber=1&uploadId=" + self.uid
        for r in ("bytes=%s-%s" % (HUGE, HUGE), "bytes=0-" + HUGE, "bytes=-5-9", "bytes=0-9 ",
                  "bytes=5-2", "bytes=0-10", "bytes= 0-1", "bytes=+0-1", "bytes=0-", "bytes=-1", "0-1"):
            self.expect("PUT", path, 400, "InvalidArgument", msg,
                        extra={"x-amz-copy-source": "nums/obj", "x-amz-copy-source-range": r})
        st, _, body = signed(self.server, "PUT", path, extra={"x-amz-copy-source": "nums/obj",
                                                               "x-amz-copy-source-range": "bytes=2-4"})
        self.assertEqual(st, 200, body)
        parts = self.s3.list_parts(Bucket="nums", Key="mp", UploadId=self.uid)["Parts"]
        self.assertEqual([(p["PartNumber"], p["Size"]) for p in parts], [(1, 3)])

    def test_ranges(self):
        body = self.expect("GET", "/nums/obj", 416, "InvalidRange", "The requested range is not satisfiable",
                           extra={"Range": "bytes=%s-" % HUGE})
        self.assertIn(b"<ActualObjectSize>10</ActualObjectSize>", body)
        st, hdrs, data = signed(self.server, "GET", "/nums/obj", extra={"Range": "bytes=2-" + HUGE})
        self.assertEqual((st, data, hdrs["content-range"]), (206, b"23456789", "bytes 2-9/10"))
        st, hdrs, data = signed(self.server, "GET", "/nums/obj", extra={"Range": "bytes=-" + HUGE})
        self.assertEqual((st, data), (206, b"0123456789"))
        st, _, data = signed(self.server, "GET", "/nums/obj", extra={"Range": "bytes=%s-%s" % (HUGE, HUGE + "9")})
        self.assertEqual(st, 416)

    def test_decoded_content_length(self):
        for dl in (HUGE, "5368709121"):
            body = self.expect("PUT", "/nums/chunked", 400, "EntityTooLarge",
                               "Your proposed upload exceeds the maximum allowed size",
                               body=b"1\r\nx\r\n0\r\n\r\n", payload="STREAMING-UNSIGNED-PAYLOAD-TRAILER",
                               extra={"Content-Encoding": "aws-chunked",
                                      "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
                                      "x-amz-decoded-content-length": dl})
            self.assertIn(b"<ProposedSize>%s</ProposedSize>" % dl.encode(), body)
        for dl in ("-1", "12abc", ""):
            self.expect("PUT", "/nums/chunked", 411, "MissingContentLength",
                        body=b"1\r\nx\r\n0\r\n\r\n", payload="STREAMING-UNSIGNED-PAYLOAD-TRAILER",
                        extra={"Content-Encoding": "aws-chunked",
                               "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
                               "x-amz-decoded-content-length": dl})
        self.assertClientError(lambda: self.s3.head_object(Bucket="nums", Key="chunked"), "404", 404)
        # the server is still answering
        self.assertEqual(self.s3.get_object(Bucket="nums", Key="obj")["Body"].read(), b"0123456789")



class S3StreamedBodyLimitTest(ServerTestCase):
    """A body sent with Transfer-Encoding: chunked declares no length: the upload stops at the
    size limit (lowered here with CPL_S3_MAX_PUT_SIZE) instead of filling the disk."""

    @classmethod
    def setUpClass(cls):
        os.environ["CPL_S3_MAX_PUT_SIZE"] = str(1 << 20)
        try:
            super().setUpClass()
        finally:
            del os.environ["CPL_S3_MAX_PUT_SIZE"]
        cls.s3 = cls.client(cls, "s3")
        cls.s3.create_bucket(Bucket="streamed")

    def put_chunked(self, key, chunks, length=None):
        """PUT with an HTTP-chunked body (no Content-Length unless given), UNSIGNED-PAYLOAD."""
        from botocore.auth import S3SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials
        path = "/streamed/" + key
        r = AWSRequest(method="PUT", url="http://127.0.0.1:%d%s" % (self.server.port, path))
        r.headers["Transfer-Encoding"] = "chunked"
        auth = S3SigV4Auth(Credentials("test", "test"), "s3", "us-east-1")
        auth.payload = lambda request: "UNSIGNED-PAYLOAD"
        auth.add_auth(r)
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=60)
        try:
            conn.putrequest("PUT", path, skip_accept_encoding=True)
            for k, v in r.headers.items():
                conn.putheader(k, v)
            if length is not None:
                conn.putheader("Content-Length", str(length))
            conn.endheaders()
            try:
                for c in chunks:
                    conn.send(b"%x\r\n%s\r\n" % (len(c), c))
                conn.send(b"0\r\n\r\n")
            except OSError:
                pass  # the server may answer and close before the end
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()

    def blob_files(self, tmp=False):
        """Committed blob files, or (tmp) the uploads still being written."""
        found = []
        for dirpath, _, files in os.walk(os.path.join(self.server.data_dir, "blobs")):
            if (os.path.basename(dirpath) == "tmp") == tmp:
                found += files
        return found

    def test_a_chunked_body_within_the_limit_is_stored(self):
        st, body = self.put_chunked("small", [b"a" * 1000, b"b" * 24])
        self.assertEqual(st, 200, body)
        self.assertEqual(self.s3.get_object(Bucket="streamed", Key="small")["Body"].read(),
                         b"a" * 1000 + b"b" * 24)

    def test_a_chunked_body_over_the_limit_is_entity_too_large(self):
        before = len(self.blob_files())
        chunk = b"x" * 65536
        for length in (None, 10):  # a Content-Length beside chunked framing does not count
            st, body = self.put_chunked("big", [chunk] * 40, length=length)
            self.assertEqual(st, 400, body)
            self.assertEqual(error_code(body), ("EntityTooLarge",
                                                "Your proposed upload exceeds the maximum allowed size"))
            self.assertClientError(lambda: self.s3.head_object(Bucket="streamed", Key="big"), "404", 404)
        self.assertEqual(len(self.blob_files()), before)
        # the refused upload's temp file goes when the request ends, just after the answer
        deadline = time.time() + 30
        while self.blob_files(tmp=True) and time.time() < deadline:
            time.sleep(0.02)
        self.assertEqual(self.blob_files(tmp=True), [])


if __name__ == "__main__":
    unittest.main()
