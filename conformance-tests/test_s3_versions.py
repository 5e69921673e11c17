"""S3 object versions: versioned puts, GetObject by versionId, delete markers, ListObjectVersions
with pagination, suspended versioning and the "null" version."""
import unittest

from harness import ServerTestCase


class S3VersionsTest(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.s3 = cls.client(cls, "s3")

    def make_bucket(self, name):
        self.s3.create_bucket(Bucket=name)
        self.s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})

    def test_versions_and_delete_markers(self):
        self.make_bucket("ver1")
        v1 = self.s3.put_object(Bucket="ver1", Key="k", Body=b"one")["VersionId"]
        v2 = self.s3.put_object(Bucket="ver1", Key="k", Body=b"two")["VersionId"]
        self.assertNotEqual(v1, v2)
        self.assertNotEqual(v1, "null")
        g = self.s3.get_object(Bucket="ver1", Key="k")
        self.assertEqual((g["Body"].read(), g["VersionId"]), (b"two", v2))
        self.assertEqual(self.s3.get_object(Bucket="ver1", Key="k", VersionId=v1)["Body"].read(), b"one")
        self.assertEqual(self.s3.head_object(Bucket="ver1", Key="k", VersionId=v1)["ContentLength"], 3)

        d = self.s3.delete_object(Bucket="ver1", Key="k")
        self.assertTrue(d["DeleteMarker"])
        marker = d["VersionId"]
        err = self.assertClientError(lambda: self.s3.get_object(Bucket="ver1", Key="k"), "NoSuchKey", 404)
        self.assertEqual(err["ResponseMetadata"]["HTTPHeaders"].get("x-amz-delete-marker"), "true")
        self.assertEqual(self.s3.get_object(Bucket="ver1", Key="k", VersionId=v2)["Body"].read(), b"two")
        self.assertClientError(lambda: self.s3.get_object(Bucket="ver1", Key="k", VersionId=marker),
                               "MethodNotAllowed", 405)
        self.assertNotIn("Contents", self.s3.list_objects_v2(Bucket="ver1"))

        lv = self.s3.list_object_versions(Bucket="ver1")
        self.assertEqual([(v["VersionId"], v["IsLatest"]) for v in lv["Versions"]], [(v2, False), (v1, False)])
        self.assertEqual([(m["VersionId"], m["IsLatest"]) for m in lv["DeleteMarkers"]], [(marker, True)])

        # removing the marker brings v2 back
        r = self.s3.delete_object(Bucket="ver1", Key="k", VersionId=marker)
        self.assertTrue(r["DeleteMarker"])
        self.assertEqual(self.s3.get_object(Bucket="ver1", Key="k")["Body"].read(), b"two")
        # deleting the current version permanently makes v1 current
        self.s3.delete_object(Bucket="ver1", Key="k", VersionId=v2)
        self.assertEqual(self.s3.get_object(Bucket="ver1", Key="k")["Body"].read(), b"one")
        err = self.assertClientError(lambda: self.s3.get_object(Bucket="ver1", Key="k", VersionId=v2),
                                     "NoSuchVersion", 404, "The specified version does not exist.")
        self.assertEqual(err["Error"]["VersionId"], v2)

    def test_bucket_with_versions_is_not_empty(self):
        self.make_bucket("ver2")
        self.s3.put_object(Bucket="ver2", Key="k", Body=b"x")
        self.s3.delete_object(Bucket="ver2", Key="k")
        self.assertClientError(lambda: self.s3.delete_bucket(Bucket="ver2"), "BucketNotEmpty", 409)
        lv = self.s3.list_object_versions(Bucket="ver2")
        objs = [{"Key": v["Key"], "VersionId": v["VersionId"]} for v in lv.get("Versions", []) + lv.get("DeleteMarkers", [])]
        r = self.s3.delete_objects(Bucket="ver2", Delete={"Objects": objs})
        self.assertEqual(len(r["Deleted"]), 2)
        self.s3.delete_bucket(Bucket="ver2")

    def test_list_versions_pagination_and_prefix(self):
        self.make_bucket("ver3")
        ids = {}
        for k in ("a/1", "a/2", "b/1"):
            ids[k] = [self.s3.put_object(Bucket="ver3", Key=k, Body=k.encode() + b"%d" % i)["VersionId"]
                      for i in range(3)]
        got = []
        for page in self.s3.get_paginator("list_object_versions").paginate(
                Bucket="ver3", PaginationConfig={"PageSize": 2}):
            got += [(v["Key"], v["VersionId"], v["IsLatest"]) for v in page.get("Versions", [])]
        want = [(k, vid, i == 0) for k in ("a/1", "a/2", "b/1") for i, vid in enumerate(reversed(ids[k]))]
        self.assertEqual(got, want)
        r = self.s3.list_object_versions(Bucket="ver3", Delimiter="/")
        self.assertEqual([p["Prefix"] for p in r["CommonPrefixes"]], ["a/", "b/"])
        self.assertNotIn("Versions", r)
        r = self.s3.list_object_versions(Bucket="ver3", Prefix="b/")
        self.assertEqual([v["VersionId"] for v in r["Versions"]], list(reversed(ids["b/1"])))

    def test_pagination_with_delete_markers_matches_one_page(self):
        self.make_bucket("ver6")
        for k in ("a", "b", "c"):
            self.s3.put_object(Bucket="ver6", Key=k, Body=b"1")
            self.s3.delete_object(Bucket="ver6", Key=k)
            self.s3.put_object(Bucket="ver6", Key=k, Body=b"2")

        def entries(page):
            items = [(v["Key"], v["VersionId"], v["IsLatest"], "v") for v in page.get("Versions", [])]
            items += [(m["Key"], m["VersionId"], m["IsLatest"], "m") for m in page.get("DeleteMarkers", [])]
            return items
        whole = entries(self.s3.list_object_versions(Bucket="ver6"))
        self.assertEqual(len(whole), 9)
        paged = []
        for page in self.s3.get_paginator("list_object_versions").paginate(
                Bucket="ver6", PaginationConfig={"PageSize": 1}):
            paged += entries(page)
        self.assertEqual(sorted(paged), sorted(whole))
        self.assertEqual(sum(1 for e in whole if e[2]), 3)

    def test_suspended_versioning_uses_null(self):
        self.make_bucket("ver4")
        v1 = self.s3.put_object(Bucket="ver4", Key="k", Body=b"kept")["VersionId"]
        self.s3.put_bucket_versioning(Bucket="ver4", VersioningConfiguration={"Status": "Suspended"})
        self.s3.put_object(Bucket="ver4", Key="k", Body=b"null-1")
        self.s3.put_object(Bucket="ver4", Key="k", Body=b"null-2")
        lv = self.s3.list_object_versions(Bucket="ver4")["Versions"]
        self.assertEqual([v["VersionId"] for v in lv], ["null", v1])
        self.assertEqual(self.s3.get_object(Bucket="ver4", Key="k", VersionId="null")["Body"].read(), b"null-2")
        self.assertEqual(self.s3.get_object(Bucket="ver4", Key="k", VersionId=v1)["Body"].read(), b"kept")

    def test_unversioned_objects_have_null_version(self):
        self.s3.create_bucket(Bucket="ver5")
        r = self.s3.put_object(Bucket="ver5", Key="k", Body=b"x")
        self.assertNotIn("VersionId", r)
        self.s3.put_object(Bucket="ver5", Key="k", Body=b"y")
        lv = self.s3.list_object_versions(Bucket="ver5")["Versions"]
        self.assertEqual([(v["VersionId"], v["IsLatest"]) for v in lv], [("null", True)])
        self.assertEqual(self.s3.get_object(Bucket="ver5", Key="k", VersionId="null")["Body"].read(), b"y")


if __name__ == "__main__":
    unittest.main()
