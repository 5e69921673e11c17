"""Crash safety of S3 writes: kill -9 during a stream of uploads leaves every acknowledged object
intact and nothing partial visible after a restart."""
import hashlib
import os
import threading
import time
import unittest

import boto3
import botocore.config

from harness import Server


def blob_files(data_dir):
    """Committed blob files and leftover temp files under the data dir."""
    root = os.path.join(data_dir, "blobs")
    committed = [f for d in os.listdir(root) if d != "tmp" for f in os.listdir(os.path.join(root, d))]
    return committed, os.listdir(os.path.join(root, "tmp"))


def body_for(key, size):
    seed = hashlib.sha256(key.encode()).digest()
    return (seed * (size // len(seed) + 1))[:size]


class S3CrashTest(unittest.TestCase):
    def s3(self, server):
        return boto3.client("s3", endpoint_url=server.endpoint, aws_access_key_id="test",
                            aws_secret_access_key="test", region_name="us-east-1",
                            config=botocore.config.Config(retries={"max_attempts": 1},
                                                          connect_timeout=10, read_timeout=60))

    def test_kill9_during_uploads(self):
        srv = Server()
        srv.start()
        try:
            s3 = self.s3(srv)
            s3.create_bucket(Bucket="crashy")
            acked = {}
            stop = threading.Event()

            def writer(tid):
                c = self.s3(srv)
                i = 0
                while not stop.is_set():
                    key = "w%d/obj-%04d" % (tid, i)
                    size = (i * 7919 % 2000) * 1024 + 17
                    try:
                        c.put_object(Bucket="crashy", Key=key, Body=body_for(key, size))
                        acked[key] = size
                    except Exception:
                        return
                    i += 1

            threads = [threading.Thread(target=writer, args=(t,)) for t in range(4)]
            for t in threads:
                t.start()
            # Some uploads are acknowledged and more are in flight when the kill comes; on a
            # loaded machine the first acknowledgements can take a while.
            time.sleep(1.5)
            deadline = time.time() + 60
            while len(acked) <= 5 and time.time() < deadline and any(t.is_alive() for t in threads):
                time.sleep(0.05)
            srv.kill9()
            stop.set()
            for t in threads:
                t.join(60)
            self.assertGreater(len(acked), 5)

            srv.start()
            s3 = self.s3(srv)
            listed = {}
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket="crashy"):
                for o in page.get("Contents", []):
                    listed[o["Key"]] = o["Size"]
            for key, size in acked.items():
                self.assertEqual(listed.get(key), size, key)
            for key, size in listed.items():
                body = s3.get_object(Bucket="crashy", Key=key)["Body"].read()
                self.assertEqual(len(body), size, key)
                self.assertEqual(body, body_for(key, size), key)
            # one blob per object: interrupted uploads left no orphan behind after the sweep
            committed, temps = blob_files(srv.data_dir)
            self.assertEqual(len(committed), len(listed))
            self.assertEqual(temps, [])
        finally:
            srv.cleanup()

    def test_multipart_upload_survives_restart(self):
        srv = Server()
        srv.start()
        try:
            s3 = self.s3(srv)
            s3.create_bucket(Bucket="resume")
            uid = s3.create_multipart_upload(Bucket="resume", Key="big")["UploadId"]
            p1 = b"a" * (5 * 1024 * 1024)
            e1 = s3.upload_part(Bucket="resume", Key="big", UploadId=uid, PartNumber=1, Body=p1)["ETag"]
            srv.kill9()
            srv.start()
            s3 = self.s3(srv)
            e2 = s3.upload_part(Bucket="resume", Key="big", UploadId=uid, PartNumber=2, Body=b"end")["ETag"]
            s3.complete_multipart_upload(Bucket="resume", Key="big", UploadId=uid, MultipartUpload={
                "Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]})
            self.assertEqual(s3.get_object(Bucket="resume", Key="big")["Body"].read(), p1 + b"end")
        finally:
            srv.cleanup()

    def test_overwrites_and_deletes_free_their_blobs(self):
        srv = Server()
        srv.start()
        try:
            s3 = self.s3(srv)
            s3.create_bucket(Bucket="reuse")
            for i in range(5):
                s3.put_object(Bucket="reuse", Key="same", Body=b"v%d" % i)
            s3.put_object(Bucket="reuse", Key="gone", Body=b"x")
            s3.delete_object(Bucket="reuse", Key="gone")
            s3.copy_object(Bucket="reuse", Key="copy", CopySource="reuse/same")
            uid = s3.create_multipart_upload(Bucket="reuse", Key="aborted")["UploadId"]
            s3.upload_part(Bucket="reuse", Key="aborted", UploadId=uid, PartNumber=1, Body=b"p")
            s3.abort_multipart_upload(Bucket="reuse", Key="aborted", UploadId=uid)
            self.assertEqual(len(blob_files(srv.data_dir)[0]), 2)  # "same" and "copy"
        finally:
            srv.cleanup()


if __name__ == "__main__":
    unittest.main()
