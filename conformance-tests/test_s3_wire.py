"""S3 response shapes as botocore parses them, checked against the AWS CLI's documented outputs:
V1 markers, echoed parameters, owners, checksums in version listings, multipart Location, version
ids and delete-marker headers."""
import atexit
import http.client
import os
import re
import tempfile
import unittest
import xml.etree.ElementTree as ET

from harness import ServerTestCase

NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"
# AWS sends whole seconds (.000Z); milliseconds are kept here so that `aws s3 sync` right after a
# write does not see the object as older than the file (test_s3_cli relies on that)
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def signed(server, method, path, body=b"", extra=None, host=None):
    """One SigV4-signed request sent exactly as given (to Host host when given, for virtual-host
    addressing); returns (status, headers, body)."""
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    host = host or "127.0.0.1:%d" % server.port
    r = AWSRequest(method=method, url="http://%s%s" % (host, path), data=body)
    for k, v in (extra or {}).items():
        r.headers[k] = v
    S3SigV4Auth(Credentials("test", "test"), "s3", "us-east-1").add_auth(r)
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        headers = dict(r.headers.items())
        headers["Host"] = host
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


class S3WireShapeTest(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.s3 = cls.client(cls, "s3")
        cls.s3.create_bucket(Bucket="wire")
        for k in ["doc1.rtf", "doc2.rtf", "dir/a", "dir/b", "dir2/x"]:
            cls.s3.put_object(Bucket="wire", Key=k, Body=k.encode())

    def xml(self, path):
        st, _, body = signed(self.server, "GET", path)
        self.assertEqual(st, 200, body)
        return ET.fromstring(body)

    def test_v1_next_marker_only_with_a_delimiter(self):
        r = self.s3.list_objects(Bucket="wire", MaxKeys=2)
        self.assertTrue(r["IsTruncated"])
        self.assertNotIn("NextMarker", r)
        self.assertEqual([o["Key"] for o in r["Contents"]], ["dir/a", "dir/b"])
        self.assertEqual((r["Marker"], r["Prefix"]), ("", ""))
        r = self.s3.list_objects(Bucket="wire", MaxKeys=2, Delimiter="/")
        self.assertTrue(r["IsTruncated"])
        self.assertEqual(r["NextMarker"], "dir2/")  # the last entry is a common prefix
        self.assertEqual([p["Prefix"] for p in r["CommonPrefixes"]], ["dir/", "dir2/"])
        r = self.s3.list_objects(Bucket="wire", Delimiter="/", Marker=r["NextMarker"])
        self.assertFalse(r["IsTruncated"])
        self.assertNotIn("NextMarker", r)
        self.assertEqual(r["Marker"], "dir2/")
        self.assertEqual([o["Key"] for o in r["Contents"]], ["doc1.rtf", "doc2.rtf"])
        r = self.s3.list_objects(Bucket="wire", Prefix="doc", MaxKeys=1)
        self.assertEqual(r["Prefix"], "doc")
        self.assertNotIn("NextMarker", r)

    def test_v1_raw_xml_echoes_prefix_and_marker_without_encoding_type(self):
        root = self.xml("/wire")
        self.assertEqual(root.tag, NS + "ListBucketResult")
        self.assertEqual(root.find(NS + "Prefix").text, None)  # present and empty
        self.assertIsNotNone(root.find(NS + "Marker"))
        self.assertIsNone(root.find(NS + "EncodingType"))
        c = root.find(NS + "Contents")
        self.assertRegex(c.find(NS + "LastModified").text, ISO)
        self.assertRegex(c.find(NS + "ETag").text, r'^"[0-9a-f]{32}"$')
        self.assertEqual(c.find(NS + "StorageClass").text, "STANDARD")
        self.assertIsNotNone(c.find(NS + "Owner/" + NS + "ID"))
        root = self.xml("/wire?list-type=2&max-keys=1&start-after=dir%2Fa")
        self.assertEqual(root.find(NS + "KeyCount").text, "1")
        self.assertEqual(root.find(NS + "StartAfter").text, "dir/a")
        self.assertIsNone(root.find(NS + "Contents/" + NS + "Owner"))
        self.assertIsNone(root.find(NS + "EncodingType"))

    def test_listing_times_agree_with_head(self):
        listed = {o["Key"]: o["LastModified"] for o in self.s3.list_objects_v2(Bucket="wire")["Contents"]}
        for k, when in listed.items():
            self.assertEqual(self.s3.head_object(Bucket="wire", Key=k)["LastModified"],
                             when.replace(microsecond=0), k)

    def test_max_keys_zero_is_an_empty_complete_page(self):
        r = self.s3.list_objects_v2(Bucket="wire", MaxKeys=0)
        self.assertEqual((r["KeyCount"], r["IsTruncated"], r["MaxKeys"]), (0, False, 0))
        self.assertNotIn("NextContinuationToken", r)
        self.assertNotIn("Contents", r)
        r = self.s3.list_objects(Bucket="wire", MaxKeys=0, Delimiter="/")
        self.assertFalse(r["IsTruncated"])
        self.assertNotIn("NextMarker", r)
        r = self.s3.list_object_versions(Bucket="wire", MaxKeys=0)
        self.assertFalse(r["IsTruncated"])
        self.assertNotIn("NextKeyMarker", r)
        self.s3.create_multipart_upload(Bucket="wire", Key="zero-uploads")
        r = self.s3.list_multipart_uploads(Bucket="wire", MaxUploads=0)
        self.assertFalse(r["IsTruncated"])
        self.assertNotIn("Uploads", r)

    def test_v2_echoes_token_and_counts_prefixes(self):
        r = self.s3.list_objects_v2(Bucket="wire", MaxKeys=1, Delimiter="/")
        tok = r["NextContinuationToken"]
        r = self.s3.list_objects_v2(Bucket="wire", MaxKeys=10, Delimiter="/", ContinuationToken=tok,
                                    FetchOwner=True)
        self.assertEqual(r["ContinuationToken"], tok)
        self.assertEqual(r["KeyCount"], 3)  # dir2/ + two keys
        self.assertIn("Owner", r["Contents"][0])

    def test_versions_carry_checksums_null_ids_and_markers(self):
        self.s3.create_bucket(Bucket="wire-v")
        self.s3.put_object(Bucket="wire-v", Key="index.html", Body=b"old", ChecksumAlgorithm="SHA256")
        h = self.s3.head_object(Bucket="wire-v", Key="index.html")
        self.assertNotIn("VersionId", h)  # never-versioned bucket: no x-amz-version-id
        self.s3.put_bucket_versioning(Bucket="wire-v", VersioningConfiguration={"Status": "Enabled"})
        self.assertEqual(self.s3.head_object(Bucket="wire-v", Key="index.html")["VersionId"], "null")
        v2 = self.s3.put_object(Bucket="wire-v", Key="index.html", Body=b"new")["VersionId"]
        d = self.s3.delete_object(Bucket="wire-v", Key="index.html")
        self.assertTrue(d["DeleteMarker"])
        st, hdrs, _ = signed(self.server, "GET", "/wire-v/index.html")
        self.assertEqual(st, 404)
        self.assertEqual(hdrs.get("x-amz-delete-marker"), "true")
        self.assertEqual(hdrs.get("x-amz-version-id"), d["VersionId"])
        lv = self.s3.list_object_versions(Bucket="wire-v")
        vs = {v["VersionId"]: v for v in lv["Versions"]}
        self.assertEqual(set(vs), {"null", v2})
        self.assertEqual(vs["null"]["ChecksumAlgorithm"], ["SHA256"])
        self.assertEqual(vs["null"]["ChecksumType"], "FULL_OBJECT")
        self.assertEqual(vs[v2]["ChecksumAlgorithm"], ["CRC32"])  # boto3's default
        self.assertFalse(vs["null"]["IsLatest"] or vs[v2]["IsLatest"])
        self.assertEqual(vs[v2]["StorageClass"], "STANDARD")
        self.assertIn("ID", vs[v2]["Owner"])
        dm = lv["DeleteMarkers"][0]
        self.assertEqual((dm["VersionId"], dm["IsLatest"]), (d["VersionId"], True))
        self.assertIn("Owner", dm)
        self.assertNotIn("ETag", dm)
        root = self.xml("/wire-v?versions")
        self.assertRegex(root.find(NS + "Version/" + NS + "LastModified").text, ISO)
        self.assertEqual(root.find(NS + "Version/" + NS + "ChecksumAlgorithm").text in ("SHA256", "CRC32"), True)

    def test_multipart_location_owner_and_initiator(self):
        s3 = self.s3
        s3.create_bucket(Bucket="wire-m")
        uid = s3.create_multipart_upload(Bucket="wire-m", Key="multipart/01")["UploadId"]
        p = s3.upload_part(Bucket="wire-m", Key="multipart/01", UploadId=uid, PartNumber=1, Body=b"x")
        lp = s3.list_parts(Bucket="wire-m", Key="multipart/01", UploadId=uid)
        self.assertIn("ID", lp["Owner"])
        self.assertIn("ID", lp["Initiator"])
        self.assertEqual(lp["StorageClass"], "STANDARD")
        self.assertEqual(lp["Parts"][0]["ETag"], p["ETag"])
        lu = s3.list_multipart_uploads(Bucket="wire-m")
        u = [x for x in lu["Uploads"] if x["UploadId"] == uid][0]
        self.assertIn("ID", u["Owner"])
        self.assertIn("ID", u["Initiator"])
        c = s3.complete_multipart_upload(Bucket="wire-m", Key="multipart/01", UploadId=uid,
                                         MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": p["ETag"]}]})
        self.assertEqual(c["Location"], "http://127.0.0.1:%d/wire-m/multipart%%2F01" % self.server.port)
        # addressed as a virtual host, the Location names the bucket once
        uid = s3.create_multipart_upload(Bucket="wire-m", Key="v/02")["UploadId"]
        p = s3.upload_part(Bucket="wire-m", Key="v/02", UploadId=uid, PartNumber=1, Body=b"y")
        body = ("<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>%s</ETag></Part>"
                "</CompleteMultipartUpload>" % p["ETag"]).encode()
        vhost = "wire-m.localhost:%d" % self.server.port
        status, _, out = signed(self.server, "POST", "/v/02?uploadId=" + uid, body, host=vhost)
        self.assertEqual(status, 200, out)
        self.assertEqual(ET.fromstring(out).findtext(NS + "Location"), "http://%s/v%%2F02" % vhost)
        self.assertRegex(c["ETag"], r'^"[0-9a-f]{32}-1"$')
        self.assertNotIn("VersionId", c)

    def test_copy_object_result(self):
        self.s3.create_bucket(Bucket="wire-c")
        r = self.s3.copy_object(Bucket="wire-c", Key="copy.rtf", CopySource={"Bucket": "wire", "Key": "doc1.rtf"})
        self.assertRegex(r["CopyObjectResult"]["ETag"], r'^"[0-9a-f]{32}"$')
        self.assertIn("LastModified", r["CopyObjectResult"])
        self.assertNotIn("VersionId", r)
        self.assertNotIn("CopySourceVersionId", r)


_CREDS = tempfile.NamedTemporaryFile("w", prefix="cpl-s3-wire-creds-", suffix=".txt", delete=False)
_CREDS.write("OWNERKEY ownersecret 222222222222\n")
_CREDS.close()
atexit.register(os.unlink, _CREDS.name)


class S3OwnerIdTest(ServerTestCase):
    server_args = ("--credentials", _CREDS.name)

    def test_each_account_has_its_own_canonical_owner(self):
        mine, other = self.client("s3"), self.client("s3", access_key="OWNERKEY", secret_key="ownersecret")
        mine.create_bucket(Bucket="owned-by-default")
        other.create_bucket(Bucket="owned-by-other")
        a = mine.list_buckets()["Owner"]["ID"]
        b = other.list_buckets()["Owner"]["ID"]
        self.assertRegex(a, r"^[0-9a-f]{64}$")
        self.assertRegex(b, r"^[0-9a-f]{64}$")
        self.assertNotEqual(a, b)
        other.put_object(Bucket="owned-by-other", Key="k", Body=b"x")
        self.assertEqual(other.list_objects(Bucket="owned-by-other")["Contents"][0]["Owner"]["ID"], b)
        self.assertEqual(other.list_objects_v2(Bucket="owned-by-other", FetchOwner=True)["Contents"][0]["Owner"]["ID"], b)
        self.assertEqual(other.list_object_versions(Bucket="owned-by-other")["Versions"][0]["Owner"]["ID"], b)
        self.assertEqual(other.get_bucket_acl(Bucket="owned-by-other")["Owner"]["ID"], b)
        uid = other.create_multipart_upload(Bucket="owned-by-other", Key="mp")["UploadId"]
        lp = other.list_parts(Bucket="owned-by-other", Key="mp", UploadId=uid)
        self.assertEqual((lp["Owner"]["ID"], lp["Initiator"]["ID"]), (b, b))
        up = other.list_multipart_uploads(Bucket="owned-by-other")["Uploads"][0]
        self.assertEqual((up["Owner"]["ID"], up["Initiator"]["ID"]), (b, b))
        self.assertEqual(mine.get_bucket_acl(Bucket="owned-by-default")["Owner"]["ID"], a)


if __name__ == "__main__":
    unittest.main()
