"""S3 listings through boto3: ListObjects V1 and V2 with prefix, delimiter, max-keys, continuation
tokens, start-after, markers, URL encoding, and the paginators."""
import unittest

from harness import ServerTestCase

KEYS = ["a.txt", "b/1.txt", "b/2.txt", "b/c/3.txt", "b/c/4.txt", "d/5.txt", "e+f g.txt",
        "pct%41.txt", "z/", "zz"]


class S3ListingTest(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.s3 = cls.client(cls, "s3")
        cls.s3.create_bucket(Bucket="lst")
        for k in KEYS:
            cls.s3.put_object(Bucket="lst", Key=k, Body=k.encode())
        cls.s3.create_bucket(Bucket="many")
        for i in range(25):
            cls.s3.put_object(Bucket="many", Key="k%03d" % i, Body=b"x")

    def test_v2_all_sorted(self):
        r = self.s3.list_objects_v2(Bucket="lst")
        self.assertEqual([o["Key"] for o in r["Contents"]], sorted(KEYS))
        self.assertEqual(r["KeyCount"], len(KEYS))
        self.assertFalse(r["IsTruncated"])
        o = r["Contents"][0]
        self.assertEqual((o["Size"], o["StorageClass"]), (5, "STANDARD"))

    def test_v2_prefix_and_delimiter(self):
        r = self.s3.list_objects_v2(Bucket="lst", Delimiter="/")
        self.assertEqual([o["Key"] for o in r["Contents"]], ["a.txt", "e+f g.txt", "pct%41.txt", "zz"])
        self.assertEqual([p["Prefix"] for p in r["CommonPrefixes"]], ["b/", "d/", "z/"])
        self.assertEqual(r["KeyCount"], 7)
        r = self.s3.list_objects_v2(Bucket="lst", Prefix="b/", Delimiter="/")
        self.assertEqual([o["Key"] for o in r["Contents"]], ["b/1.txt", "b/2.txt"])
        self.assertEqual([p["Prefix"] for p in r["CommonPrefixes"]], ["b/c/"])
        r = self.s3.list_objects_v2(Bucket="lst", Prefix="b/c/")
        self.assertEqual([o["Key"] for o in r["Contents"]], ["b/c/3.txt", "b/c/4.txt"])
        r = self.s3.list_objects_v2(Bucket="lst", Prefix="nothing")
        self.assertNotIn("Contents", r)
        self.assertEqual(r["KeyCount"], 0)

    def test_v2_max_keys_and_continuation(self):
        seen, token, pages = [], None, 0
        while True:
            kw = {"ContinuationToken": token} if token else {}
            r = self.s3.list_objects_v2(Bucket="lst", MaxKeys=3, Delimiter="/", **kw)
            pages += 1
            seen += [o["Key"] for o in r.get("Contents", [])] + [p["Prefix"] for p in r.get("CommonPrefixes", [])]
            self.assertLessEqual(r["KeyCount"], 3)
            if not r["IsTruncated"]:
                break
            token = r["NextContinuationToken"]
        self.assertEqual(sorted(seen), sorted(["a.txt", "e+f g.txt", "pct%41.txt", "zz", "b/", "d/", "z/"]))
        self.assertEqual(pages, 3)
        self.assertClientError(lambda: self.s3.list_objects_v2(Bucket="lst", ContinuationToken="garbage!"),
                               "InvalidArgument", 400)

    def test_v2_start_after(self):
        r = self.s3.list_objects_v2(Bucket="lst", StartAfter="b/c/4.txt")
        self.assertEqual([o["Key"] for o in r["Contents"]], ["d/5.txt", "e+f g.txt", "pct%41.txt", "z/", "zz"])
        self.assertEqual(r["StartAfter"], "b/c/4.txt")

    def test_url_encoding_round_trips_odd_keys(self):
        # botocore asks for encoding-type=url and decodes what comes back
        r = self.s3.list_objects_v2(Bucket="lst", Prefix="e+f")
        self.assertEqual([o["Key"] for o in r["Contents"]], ["e+f g.txt"])
        r = self.s3.list_objects(Bucket="lst", Prefix="pct")
        self.assertEqual([o["Key"] for o in r["Contents"]], ["pct%41.txt"])

    def test_explicit_encoding_type_is_left_encoded(self):
        # when the caller asks for encoding-type=url itself, botocore leaves the keys encoded
        r = self.s3.list_objects_v2(Bucket="lst", Prefix="e+f", EncodingType="url")
        self.assertEqual(r["EncodingType"], "url")
        self.assertEqual(r["Contents"][0]["Key"], "e%2Bf%20g.txt")

    def test_v1_markers(self):
        r = self.s3.list_objects(Bucket="many", MaxKeys=10)
        self.assertTrue(r["IsTruncated"])
        self.assertEqual(len(r["Contents"]), 10)
        # without a delimiter S3 sends no NextMarker: clients resume after the last Key
        self.assertNotIn("NextMarker", r)
        self.assertEqual(r["Contents"][-1]["Key"], "k009")
        r = self.s3.list_objects(Bucket="many", Marker="k009", MaxKeys=100)
        self.assertEqual(r["Contents"][0]["Key"], "k010")
        self.assertEqual(len(r["Contents"]), 15)
        self.assertFalse(r["IsTruncated"])
        self.assertIn("Owner", r["Contents"][0])

    def test_paginators(self):
        keys = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket="many", PaginationConfig={"PageSize": 7}):
            keys += [o["Key"] for o in page["Contents"]]
        self.assertEqual(keys, ["k%03d" % i for i in range(25)])
        keys = []
        for page in self.s3.get_paginator("list_objects").paginate(Bucket="many", PaginationConfig={"PageSize": 4}):
            keys += [o["Key"] for o in page["Contents"]]
        self.assertEqual(keys, ["k%03d" % i for i in range(25)])

    def test_bad_max_keys(self):
        err = self.assertClientError(
            lambda: self.s3.list_objects_v2(Bucket="lst", MaxKeys=-1), "InvalidArgument", 400)
        self.assertEqual(err["Error"]["ArgumentName"], "max-keys")

    def test_listing_unknown_bucket(self):
        self.assertClientError(lambda: self.s3.list_objects_v2(Bucket="absent-bucket"), "NoSuchBucket", 404)



class S3LongKeyListingTest(ServerTestCase):
    """Keys over 400 bytes that share their first 400 bytes (stored under a digest of the rest)
    are listed in key order and paginate without losing or repeating any."""

    P = "long/" + "x" * 395  # 400 bytes
    SUFFIXES = list("jihgfedcba") + ["d/1", "d/2", "k/1", "e0"]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.s3 = cls.client(cls, "s3")
        cls.s3.create_bucket(Bucket="longkeys")
        cls.s3.put_bucket_versioning(Bucket="longkeys", VersioningConfiguration={"Status": "Enabled"})
        for s in cls.SUFFIXES:
            cls.s3.put_object(Bucket="longkeys", Key=cls.P + s, Body=b"1")
        cls.s3.put_object(Bucket="longkeys", Key=cls.P + "c", Body=b"2")  # two versions of c
        cls.s3.put_object(Bucket="longkeys", Key="short", Body=b"s")

    def expected(self, after=""):
        keys = sorted([self.P + s for s in self.SUFFIXES] + ["short"], key=lambda k: k.encode())
        return [k for k in keys if k.encode() > after.encode()]

    def test_list_objects_v2_order_and_pages(self):
        r = self.s3.list_objects_v2(Bucket="longkeys")
        self.assertEqual([o["Key"] for o in r["Contents"]], self.expected())
        got = []
        kw = {"Bucket": "longkeys", "MaxKeys": 3}
        while True:
            r = self.s3.list_objects_v2(**kw)
            got += [o["Key"] for o in r.get("Contents", [])]
            if not r["IsTruncated"]:
                break
            kw["ContinuationToken"] = r["NextContinuationToken"]
        self.assertEqual(got, self.expected())
        r = self.s3.list_objects_v2(Bucket="longkeys", StartAfter=self.P + "e")
        self.assertEqual([o["Key"] for o in r["Contents"]], self.expected(self.P + "e"))
        r = self.s3.list_objects_v2(Bucket="longkeys", Prefix=self.P + "e")
        self.assertEqual([o["Key"] for o in r["Contents"]], [self.P + "e", self.P + "e0"])

    def test_list_objects_v1_pages(self):
        got = []
        kw = {"Bucket": "longkeys", "MaxKeys": 4}
        while True:
            r = self.s3.list_objects(**kw)
            got += [o["Key"] for o in r.get("Contents", [])]
            if not r["IsTruncated"]:
                break
            kw["Marker"] = r["Contents"][-1]["Key"]
        self.assertEqual(got, self.expected())

    def test_delimiter_after_byte_400(self):
        r = self.s3.list_objects_v2(Bucket="longkeys", Prefix=self.P, Delimiter="/")
        self.assertEqual([p["Prefix"] for p in r["CommonPrefixes"]], [self.P + "d/", self.P + "k/"])
        self.assertEqual([o["Key"] for o in r["Contents"]],
                         [self.P + s for s in ["a", "b", "c", "d", "e", "e0", "f", "g", "h", "i", "j"]])
        got = []
        kw = {"Bucket": "longkeys", "Prefix": self.P, "Delimiter": "/", "MaxKeys": 2}
        while True:
            r = self.s3.list_objects_v2(**kw)
            got += [o["Key"] for o in r.get("Contents", [])] + [p["Prefix"] for p in r.get("CommonPrefixes", [])]
            if not r["IsTruncated"]:
                break
            kw["ContinuationToken"] = r["NextContinuationToken"]
        self.assertEqual(sorted(got, key=lambda k: k.encode()),
                         [self.P + s for s in ["a", "b", "c", "d", "d/", "e", "e0", "f", "g", "h", "i", "j",
                                               "k/"]])
        self.assertEqual(len(got), 13)

    def test_versions_order_and_pages(self):
        r = self.s3.list_object_versions(Bucket="longkeys")
        keys = [v["Key"] for v in r["Versions"]]
        want = []
        for k in self.expected():
            want += [k, k] if k == self.P + "c" else [k]
        self.assertEqual(keys, want)
        c = [v for v in r["Versions"] if v["Key"] == self.P + "c"]
        self.assertEqual([v["IsLatest"] for v in c], [True, False])
        got = []
        kw = {"Bucket": "longkeys", "MaxKeys": 3}
        while True:
            r = self.s3.list_object_versions(**kw)
            got += [(v["Key"], v["VersionId"]) for v in r.get("Versions", [])]
            if not r["IsTruncated"]:
                break
            kw["KeyMarker"] = r["NextKeyMarker"]
            kw["VersionIdMarker"] = r["NextVersionIdMarker"]
        self.assertEqual([k for k, _ in got], want)
        self.assertEqual(len(set(got)), len(got))


if __name__ == "__main__":
    unittest.main()
