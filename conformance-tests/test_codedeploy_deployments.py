"""CodeDeploy deployments that really run: bundles from S3 unpacked on simulated instances,
appspec hooks in AWS's order, deployment configs, failures, stop, rollback and the waiter."""
import glob
import io
import os
import tarfile
import time
import unittest
import zipfile

from harness import ServerTestCase

ROLE = "arn:aws:iam::123456789012:role/CodeDeployDemoRole"
FINAL = ("Succeeded", "Failed", "Stopped")

HOOK = ('#!/bin/sh\n'
        'echo "$LIFECYCLE_EVENT $DEPLOYMENT_ID $APPLICATION_NAME $DEPLOYMENT_GROUP_NAME" '
        '>> "$CODEDEPLOY_INSTANCE_ROOT/hooks.log"\n'
        'echo "ran $LIFECYCLE_EVENT"\n')


def appspec(hooks, files=(("web", "/opt/app"),), extra=""):
    lines = ["version: 0.0", "os: linux", "files:"]
    for src, dst in files:
        lines += ["  - source: %s" % src, "    destination: %s" % dst]
    lines.append("hooks:")
    for event, script, timeout in hooks:
        lines += ["  %s:" % event, "    - location: %s" % script]
        if timeout:
            lines.append("      timeout: %d" % timeout)
    return "\n".join(lines) + "\n" + extra


def bundle(files, kind="zip"):
    """files: {path: (content, mode)} -> bytes of a zip, tar or tgz."""
    buf = io.BytesIO()
    if kind == "zip":
        with zipfile.ZipFile(buf, "w") as z:
            for path, (content, mode) in files.items():
                info = zipfile.ZipInfo(path)
                info.external_attr = (0o100000 | mode) << 16
                z.writestr(info, content)
    else:
        with tarfile.open(fileobj=buf, mode="w:gz" if kind == "tgz" else "w") as t:
            for path, (content, mode) in files.items():
                data = content.encode()
                info = tarfile.TarInfo(path)
                info.size = len(data)
                info.mode = mode
                t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


class DeployCase(ServerTestCase):
    bucket = "cd-bundles"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.cd_ = None

    def setUp(self):
        self.cd = self.client("codedeploy")
        self.s3 = self.client("s3")
        try:
            self.s3.create_bucket(Bucket=self.bucket)
        except self.s3.exceptions.BucketAlreadyOwnedByYou:
            pass

    def put(self, key, files, kind="zip"):
        r = self.s3.put_object(Bucket=self.bucket, Key=key, Body=bundle(files, kind))
        return r["ETag"].strip('"')

    def group(self, app, group, instances=1, **kw):
        try:
            self.cd.create_application(applicationName=app)
        except self.cd.exceptions.ApplicationAlreadyExistsException:
            pass
        self.cd.create_deployment_group(
            applicationName=app, deploymentGroupName=group, serviceRoleArn=ROLE,
            ec2TagFilters=[{"Key": "Name", "Value": group, "Type": "KEY_AND_VALUE"}],
            tags=[{"Key": "codepipeline-local:instances", "Value": str(instances)}], **kw)

    def deploy(self, app, group, key, kind="zip", **kw):
        return self.cd.create_deployment(
            applicationName=app, deploymentGroupName=group,
            revision={"revisionType": "S3", "s3Location": {"bucket": self.bucket, "key": key,
                                                           "bundleType": kind}},
            **kw)["deploymentId"]

    def wait(self, did, deadline=120):
        end = time.time() + deadline
        while time.time() < end:
            info = self.cd.get_deployment(deploymentId=did)["deploymentInfo"]
            if info["status"] in FINAL:
                return info
            time.sleep(0.1)
        self.fail("deployment %s did not end" % did)

    def targets(self, did):
        ids = self.cd.list_deployment_targets(deploymentId=did)["targetIds"]
        got = self.cd.batch_get_deployment_targets(deploymentId=did, targetIds=ids)
        return {t["instanceTarget"]["targetId"]: t["instanceTarget"]
                for t in got["deploymentTargets"]}

    def root(self, instance):
        paths = glob.glob(os.path.join(self.server.data_dir, "codedeploy", "instances", "*", "*",
                                       instance))
        self.assertEqual(len(paths), 1, paths)
        return paths[0]

    def read(self, instance, rel):
        with open(os.path.join(self.root(instance), rel)) as f:
            return f.read()


HOOKS = [("ApplicationStop", "scripts/hook.sh", 0), ("BeforeInstall", "scripts/hook.sh", 0),
         ("AfterInstall", "scripts/hook.sh", 0), ("ApplicationStart", "scripts/hook.sh", 0),
         ("ValidateService", "scripts/hook.sh", 30)]


def app_files(version, start="scripts/hook.sh", extra_files=None):
    files = {
        "appspec.yml": (appspec([h if h[0] != "ApplicationStart" else (h[0], start, 0)
                                 for h in HOOKS]), 0o644),
        "scripts/hook.sh": (HOOK, 0o755),
        "scripts/fail.sh": ("#!/bin/sh\necho about to fail\necho broken >&2\nexit 3\n", 0o755),
        "web/index.html": ("<p>%s</p>" % version, 0o644),
        "web/bin/run.sh": ("#!/bin/sh\necho %s\n" % version, 0o755),
    }
    files.update(extra_files or {})
    return files


class Deployments(DeployCase):
    def test_one_at_a_time_to_three_instances(self):
        self.group("web", "three", instances=3)
        self.put("v1.zip", app_files("v1"))
        did = self.deploy("web", "three", "v1.zip",
                          deploymentConfigName="CodeDeployDefault.OneAtATime")
        rc, _, err = self.aws("deploy", "wait", "deployment-successful", "--deployment-id", did,
                              check=False)
        self.assertEqual(rc, 0, err)
        info = self.cd.get_deployment(deploymentId=did)["deploymentInfo"]
        self.assertEqual(info["status"], "Succeeded")
        self.assertEqual(info["deploymentOverview"]["Succeeded"], 3)
        targets = self.targets(did)
        self.assertEqual(len(targets), 3)
        for iid, t in targets.items():
            self.assertRegex(iid, r"^i-[0-9a-f]{17}$")
            self.assertEqual(t["status"], "Succeeded")
            names = [e["lifecycleEventName"] for e in t["lifecycleEvents"]]
            self.assertEqual(names, ["ApplicationStop", "DownloadBundle", "BeforeInstall",
                                     "Install", "AfterInstall", "ApplicationStart",
                                     "ValidateService"])
            self.assertEqual(self.read(iid, "opt/app/index.html"), "<p>v1</p>")
            st = os.stat(os.path.join(self.root(iid), "opt/app/bin/run.sh"))
            self.assertEqual(st.st_mode & 0o777, 0o755)
            # no previous revision: ApplicationStop has nothing to run
            self.assertEqual(self.read(iid, "hooks.log").split("\n")[:-1], [
                "%s %s web three" % (e, did)
                for e in ("BeforeInstall", "AfterInstall", "ApplicationStart",
                          "ValidateService")])
            start = t["lifecycleEvents"][5]
            self.assertIn("[stdout]ran ApplicationStart", start["diagnostics"]["logTail"])
        # one at a time: each instance started after the previous one ended
        spans = sorted((t["lifecycleEvents"][0]["startTime"], t["lifecycleEvents"][6]["endTime"])
                       for t in targets.values())
        for (s1, e1), (s2, e2) in zip(spans, spans[1:]):
            self.assertLessEqual(e1, s2)
        # the same group again: ApplicationStop runs the previous revision's script
        self.put("v2.tgz", app_files("v2"), kind="tgz")
        did2 = self.deploy("web", "three", "v2.tgz", kind="tgz")
        self.assertEqual(self.wait(did2)["status"], "Succeeded")
        iid = sorted(targets)[0]
        self.assertEqual(self.read(iid, "opt/app/index.html"), "<p>v2</p>")
        self.assertIn("ApplicationStop %s web three" % did2, self.read(iid, "hooks.log"))
        instances = self.cd.list_deployment_instances(deploymentId=did2)["instancesList"]
        self.assertEqual(sorted(instances), sorted(targets))
        summary = self.cd.get_deployment_instance(deploymentId=did2, instanceId=iid)
        self.assertEqual(summary["instanceSummary"]["status"], "Succeeded")

    def test_failing_application_start_stops_at_the_first_host(self):
        self.group("web", "failing", instances=3)
        self.put("bad.zip", app_files("bad", start="scripts/fail.sh"))
        did = self.deploy("web", "failing", "bad.zip")
        info = self.wait(did)
        self.assertEqual(info["status"], "Failed")
        self.assertEqual(info["errorInformation"]["code"], "HEALTH_CONSTRAINTS")
        self.assertEqual(info["deploymentOverview"]["Failed"], 1)
        self.assertEqual(info["deploymentOverview"]["Skipped"], 2)
        rc, _, err = self.aws("deploy", "wait", "deployment-successful", "--deployment-id", did,
                              check=False)
        self.assertNotEqual(rc, 0)
        failed = [t for t in self.targets(did).values() if t["status"] == "Failed"]
        self.assertEqual(len(failed), 1)
        events = {e["lifecycleEventName"]: e for e in failed[0]["lifecycleEvents"]}
        start = events["ApplicationStart"]
        self.assertEqual(start["status"], "Failed")
        self.assertEqual(start["diagnostics"]["errorCode"], "ScriptFailed")
        self.assertEqual(start["diagnostics"]["scriptName"], "scripts/fail.sh")
        self.assertIn("failed with exit code 3", start["diagnostics"]["message"])
        self.assertIn("[stdout]about to fail", start["diagnostics"]["logTail"])
        self.assertIn("[stderr]broken", start["diagnostics"]["logTail"])
        self.assertEqual(events["ValidateService"]["status"], "Skipped")

    def test_automatic_rollback_to_the_last_good_revision(self):
        self.group("web", "rb", instances=2,
                   autoRollbackConfiguration={"enabled": True, "events": ["DEPLOYMENT_FAILURE"]})
        self.put("good.zip", app_files("good"))
        good = self.deploy("web", "rb", "good.zip")
        self.assertEqual(self.wait(good)["status"], "Succeeded")
        self.put("broken.zip", app_files("broken", start="scripts/fail.sh"))
        bad = self.deploy("web", "rb", "broken.zip")
        info = self.wait(bad)
        self.assertEqual(info["status"], "Failed")
        end = time.time() + 60
        while "rollbackDeploymentId" not in info.get("rollbackInfo", {}) and time.time() < end:
            time.sleep(0.1)
            info = self.cd.get_deployment(deploymentId=bad)["deploymentInfo"]
        rb = info["rollbackInfo"]["rollbackDeploymentId"]
        rinfo = self.wait(rb)
        self.assertEqual(rinfo["status"], "Succeeded")
        self.assertEqual(rinfo["creator"], "codeDeployRollback")
        self.assertEqual(rinfo["rollbackInfo"]["rollbackTriggeringDeploymentId"], bad)
        self.assertEqual(rinfo["revision"]["s3Location"]["key"], "good.zip")
        for iid in self.targets(rb):
            self.assertEqual(self.read(iid, "opt/app/index.html"), "<p>good</p>")

    def test_stop_deployment_kills_the_running_hook(self):
        self.group("web", "stop", instances=2)
        files = app_files("slow", start="scripts/slow.sh")
        files["scripts/slow.sh"] = ("#!/bin/sh\necho started > \"$CODEDEPLOY_INSTANCE_ROOT/slow\"\n"
                                    "sleep 120\n", 0o755)
        self.put("slow.zip", files)
        did = self.deploy("web", "stop", "slow.zip")
        end = time.time() + 60
        started = False
        while time.time() < end and not started:
            started = bool(glob.glob(os.path.join(self.server.data_dir, "codedeploy", "instances",
                                                  "*", "*", "*", "slow")))
            time.sleep(0.1)
        self.assertTrue(started)
        t0 = time.time()
        _, out, _ = self.aws("deploy", "stop-deployment", "--deployment-id", did)
        self.assertIn(out["status"], ("Pending", "Succeeded"))
        info = self.wait(did, deadline=60)
        self.assertLess(time.time() - t0, 60)
        self.assertEqual(info["status"], "Stopped")
        self.assertClientError(lambda: self.cd.stop_deployment(deploymentId=did),
                               "DeploymentAlreadyCompletedException")

    def test_one_deployment_at_a_time_per_group_and_errors(self):
        self.group("web", "busy")
        files = app_files("busy", start="scripts/slow.sh")
        files["scripts/slow.sh"] = ("#!/bin/sh\nsleep 120\n", 0o755)
        self.put("busy.zip", files)
        did = self.deploy("web", "busy", "busy.zip")
        self.assertClientError(lambda: self.deploy("web", "busy", "busy.zip"),
                               "DeploymentLimitExceededException")
        self.cd.stop_deployment(deploymentId=did)
        self.wait(did)
        self.assertClientError(lambda: self.cd.get_deployment(deploymentId="d-NOTTHERE"),
                               "DeploymentDoesNotExistException")
        self.assertClientError(lambda: self.deploy("web", "nogroup", "busy.zip"),
                               "DeploymentGroupDoesNotExistException")
        self.assertClientError(lambda: self.deploy("nope", "busy", "busy.zip"),
                               "ApplicationDoesNotExistException")

    def test_etag_and_missing_bundle_fail_the_download(self):
        self.group("web", "etag")
        etag = self.put("e.zip", app_files("e"))
        rc, out, err = self.aws(
            "deploy", "create-deployment", "--application-name", "web",
            "--deployment-group-name", "etag", "--description", "My demo deployment",
            "--s3-location", "bucket=%s,bundleType=zip,eTag=%s,key=e.zip" % (self.bucket, etag))
        self.assertEqual(self.wait(out["deploymentId"])["status"], "Succeeded")
        did = self.cd.create_deployment(
            applicationName="web", deploymentGroupName="etag",
            revision={"revisionType": "S3", "s3Location": {
                "bucket": self.bucket, "key": "e.zip", "bundleType": "zip",
                "eTag": "dd56cfdEXAMPLE8e768f9d77fEXAMPLE"}})["deploymentId"]
        self.assertEqual(self.wait(did)["status"], "Failed")
        t = list(self.targets(did).values())[0]
        download = t["lifecycleEvents"][1]
        self.assertEqual(download["status"], "Failed")
        self.assertIn("eTag", download["diagnostics"]["message"])

    def test_revisions_escaping_the_instance_write_nothing_outside(self):
        self.group("web", "escape")
        outside = os.path.join(self.server.data_dir, "escaped")
        spec = appspec([], files=(("web", "/opt/app/../../../../../../escaped"),))
        self.put("esc.zip", {"appspec.yml": (spec, 0o644), "web/x": ("x", 0o644)})
        did = self.deploy("web", "escape", "esc.zip")
        self.assertEqual(self.wait(did)["status"], "Failed")
        t = list(self.targets(did).values())[0]
        before = {e["lifecycleEventName"]: e for e in t["lifecycleEvents"]}["BeforeInstall"]
        self.assertEqual(before["status"], "Failed")
        self.assertIn("outside", before["diagnostics"]["message"])
        self.assertFalse(os.path.exists(outside))
        # an archive entry with ../ is refused before anything is unpacked
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tf:
            for name, data in (("appspec.yml", appspec([])), ("../../../../escaped2", "x")):
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data.encode()))
        self.s3.put_object(Bucket=self.bucket, Key="dots.tar", Body=buf.getvalue())
        did = self.deploy("web", "escape", "dots.tar", kind="tar")
        self.assertEqual(self.wait(did)["status"], "Failed")
        t = list(self.targets(did).values())[0]
        self.assertEqual(t["lifecycleEvents"][1]["status"], "Failed")
        self.assertFalse(glob.glob(os.path.join(self.server.data_dir, "**", "escaped2"),
                                   recursive=True))

    def test_bad_appspec_version_fails_with_the_agents_message(self):
        self.group("web", "badspec")
        self.put("v.zip", {"appspec.yml": ("version: 1.0\nos: linux\n", 0o644)})
        did = self.deploy("web", "badspec", "v.zip")
        self.assertEqual(self.wait(did)["status"], "Failed")
        t = list(self.targets(did).values())[0]
        self.assertIn("invalid version value (1.0)",
                      t["lifecycleEvents"][2]["diagnostics"]["message"])

    def test_on_premises_group_without_matching_instances(self):
        self.cd.create_application(applicationName="onprem")
        self.cd.create_deployment_group(
            applicationName="onprem", deploymentGroupName="none", serviceRoleArn=ROLE,
            onPremisesInstanceTagFilters=[{"Key": "Name", "Value": "nothing",
                                           "Type": "KEY_AND_VALUE"}])
        self.put("o.zip", app_files("o"))
        did = self.deploy("onprem", "none", "o.zip")
        info = self.wait(did)
        self.assertEqual(info["status"], "Failed")
        self.assertEqual(info["errorInformation"]["code"], "NO_INSTANCES")
        # a registered, tagged instance is deployed to under its own name
        self.cd.register_on_premises_instance(instanceName="rack-1",
                                              iamUserArn="arn:aws:iam::123:user/rack")
        self.cd.add_tags_to_on_premises_instances(instanceNames=["rack-1"],
                                                  tags=[{"Key": "Name", "Value": "nothing"}])
        did = self.deploy("onprem", "none", "o.zip")
        self.assertEqual(self.wait(did)["status"], "Succeeded")
        self.assertEqual(self.read("rack-1", "opt/app/index.html"), "<p>o</p>")

    def test_lambda_deployments_fail_with_a_clear_message(self):
        self.cd.create_application(applicationName="fn", computePlatform="Lambda")
        self.cd.create_deployment_group(applicationName="fn", deploymentGroupName="g",
                                        serviceRoleArn=ROLE,
                                        deploymentConfigName="CodeDeployDefault.LambdaAllAtOnce")
        did = self.cd.create_deployment(
            applicationName="fn", deploymentGroupName="g",
            revision={"revisionType": "AppSpecContent",
                      "appSpecContent": {"content": "version: 0.0"}})["deploymentId"]
        info = self.wait(did)
        self.assertEqual(info["status"], "Failed")
        self.assertIn("only the Server compute platform", info["errorInformation"]["message"])

    def test_list_deployments_filters_and_pages(self):
        self.group("web", "listing")
        self.put("l.zip", app_files("l"))
        ids = []
        for _ in range(3):
            ids.append(self.deploy("web", "listing", "l.zip"))
            self.wait(ids[-1])
        got = self.cd.list_deployments(applicationName="web", deploymentGroupName="listing",
                                       includeOnlyStatuses=["Succeeded"])["deployments"]
        self.assertEqual(sorted(got), sorted(ids))
        self.assertEqual(got[0], ids[-1])  # newest first
        batch = self.cd.batch_get_deployments(deploymentIds=ids)["deploymentsInfo"]
        self.assertEqual(sorted(d["deploymentId"] for d in batch), sorted(ids))
        self.assertClientError(
            lambda: self.cd.list_deployments(applicationName="web",
                                             deploymentGroupName="nosuch"),
            "DeploymentGroupDoesNotExistException")

    def test_file_exists_behavior(self):
        self.group("web", "feb")
        self.put("f1.zip", app_files("f1"))
        first = self.deploy("web", "feb", "f1.zip")
        self.assertEqual(self.wait(first)["status"], "Succeeded")
        iid = list(self.targets(first))[0]
        # a file the revision did not install: DISALLOW fails, OVERWRITE replaces, RETAIN keeps
        stray = os.path.join(self.root(iid), "opt/app/extra.txt")
        files = app_files("f2", extra_files={"web/extra.txt": ("from the revision", 0o644)})
        self.put("f2.zip", files)
        with open(stray, "w") as f:
            f.write("already here")
        did = self.deploy("web", "feb", "f2.zip")
        self.assertEqual(self.wait(did)["status"], "Failed")
        install = self.targets(did)[iid]["lifecycleEvents"][3]
        self.assertEqual(install["status"], "Failed")
        self.assertIn("already exists at this location: /opt/app/extra.txt",
                      install["diagnostics"]["message"])
        did = self.deploy("web", "feb", "f2.zip", fileExistsBehavior="RETAIN")
        self.assertEqual(self.wait(did)["status"], "Succeeded")
        self.assertEqual(self.read(iid, "opt/app/extra.txt"), "already here")
        self.assertEqual(self.read(iid, "opt/app/index.html"), "<p>f2</p>")
        did = self.deploy("web", "feb", "f2.zip", fileExistsBehavior="OVERWRITE")
        self.assertEqual(self.wait(did)["status"], "Succeeded")
        self.assertEqual(self.read(iid, "opt/app/extra.txt"), "from the revision")

    def test_ignore_application_stop_failures(self):
        self.group("web", "stopfail")
        files = app_files("s1")
        files["appspec.yml"] = (appspec([("ApplicationStop", "scripts/fail.sh", 0)]), 0o644)
        self.put("s1.zip", files)
        self.assertEqual(self.wait(self.deploy("web", "stopfail", "s1.zip"))["status"],
                         "Succeeded")
        self.put("s2.zip", app_files("s2"))
        did = self.deploy("web", "stopfail", "s2.zip")
        self.assertEqual(self.wait(did)["status"], "Failed")
        stop = list(self.targets(did).values())[0]["lifecycleEvents"][0]
        self.assertEqual(stop["status"], "Failed")
        self.assertEqual(stop["diagnostics"]["scriptName"], "scripts/fail.sh")
        did = self.deploy("web", "stopfail", "s2.zip", ignoreApplicationStopFailures=True)
        self.assertEqual(self.wait(did)["status"], "Succeeded")

    def test_object_version_is_honoured(self):
        self.group("web", "versions")
        self.s3.create_bucket(Bucket="cd-versioned")
        self.s3.put_bucket_versioning(Bucket="cd-versioned",
                                      VersioningConfiguration={"Status": "Enabled"})
        v1 = self.s3.put_object(Bucket="cd-versioned", Key="app.zip",
                                Body=bundle(app_files("one")))["VersionId"]
        self.s3.put_object(Bucket="cd-versioned", Key="app.zip", Body=bundle(app_files("two")))
        did = self.cd.create_deployment(
            applicationName="web", deploymentGroupName="versions",
            revision={"revisionType": "S3", "s3Location": {
                "bucket": "cd-versioned", "key": "app.zip", "bundleType": "zip",
                "version": v1}})["deploymentId"]
        self.assertEqual(self.wait(did)["status"], "Succeeded")
        iid = list(self.targets(did))[0]
        self.assertEqual(self.read(iid, "opt/app/index.html"), "<p>one</p>")

    def test_minimum_healthy_hosts_larger_than_the_fleet(self):
        self.cd.create_deployment_config(deploymentConfigName="TwoHealthy",
                                         minimumHealthyHosts={"type": "HOST_COUNT", "value": 2})
        self.group("web", "small", instances=2, deploymentConfigName="TwoHealthy")
        self.put("h.zip", app_files("h"))
        info = self.wait(self.deploy("web", "small", "h.zip"))
        self.assertEqual(info["status"], "Failed")
        self.assertEqual(info["errorInformation"]["code"], "HEALTH_CONSTRAINTS_INVALID")
        self.group("web", "halves", instances=4,
                   deploymentConfigName="CodeDeployDefault.HalfAtATime")
        did = self.deploy("web", "halves", "h.zip")
        self.assertEqual(self.wait(did)["status"], "Succeeded")
        self.assertEqual(len(self.targets(did)), 4)


# Each instance's hook notes its start, waits (up to a minute) until `want` instances of the
# deployment have started, then notes its end: one after another, the first would time out.
MEET = ('#!/bin/sh\n'
        'r="$CODEDEPLOY_INSTANCE_ROOT"\n'
        'date +%%s.%%N > "$r/start-$DEPLOYMENT_ID"\n'
        'i=0\n'
        'while [ $i -lt 600 ]; do\n'
        '  n=$(ls "$r"/../*/start-"$DEPLOYMENT_ID" 2>/dev/null | wc -l)\n'
        '  [ "$n" -ge %d ] && break\n'
        '  i=$((i + 1)); sleep 0.1\n'
        'done\n'
        'date +%%s.%%N > "$r/end-$DEPLOYMENT_ID"\n'
        '[ "$n" -ge %d ]\n')


class Batches(DeployCase):
    def times(self, did):
        got = {}
        for t in self.targets(did):
            got[t] = tuple(float(self.read(t, "%s-%s" % (k, did))) for k in ("start", "end"))
        return got

    def test_all_at_once_runs_the_instances_in_parallel(self):
        self.group("web", "together", instances=2,
                   deploymentConfigName="CodeDeployDefault.AllAtOnce")
        self.put("meet.zip", app_files("m", start="scripts/meet.sh",
                                       extra_files={"scripts/meet.sh": (MEET % (2, 2), 0o755)}))
        did = self.deploy("web", "together", "meet.zip")
        info = self.wait(did, deadline=240)
        self.assertEqual(info["status"], "Succeeded", self.targets(did))
        (s1, e1), (s2, e2) = self.times(did).values()
        self.assertLess(max(s1, s2), min(e1, e2))  # both were running at once

    def test_one_at_a_time_runs_host_by_host(self):
        self.group("web", "byone", instances=2,
                   deploymentConfigName="CodeDeployDefault.OneAtATime")
        self.put("solo.zip", app_files("s", start="scripts/meet.sh",
                                       extra_files={"scripts/meet.sh": (MEET % (1, 1), 0o755)}))
        did = self.deploy("web", "byone", "solo.zip")
        self.assertEqual(self.wait(did)["status"], "Succeeded")
        (s1, e1), (s2, e2) = sorted(self.times(did).values())
        self.assertLessEqual(e1, s2)

    def test_the_bundle_is_unpacked_from_the_object_without_a_copy(self):
        self.group("web", "nocopy")
        gate = os.path.join(self.server.data_dir, "gate-%d" % os.getpid())
        hold = ("#!/bin/sh\ntouch \"$CODEDEPLOY_INSTANCE_ROOT/holding\"\n"
                "i=0; while [ ! -e %s ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i+1)); done\n" % gate)
        self.put("nocopy.zip", app_files("n", start="scripts/hold.sh",
                                         extra_files={"scripts/hold.sh": (hold, 0o755)}))
        did = self.deploy("web", "nocopy", "nocopy.zip")
        end = time.time() + 60
        pattern = os.path.join(self.server.data_dir, "codedeploy", "instances", "*", "*", "*",
                               "holding")
        while time.time() < end and not glob.glob(pattern):
            time.sleep(0.1)
        try:
            self.assertTrue(glob.glob(pattern), "the hook did not start")
            copies = glob.glob(os.path.join(self.server.data_dir, "codedeploy", "bundles", "*"))
            self.assertEqual(copies, [])
        finally:
            open(gate, "w").close()
        self.assertEqual(self.wait(did)["status"], "Succeeded")

    def test_half_at_a_time_fails_when_a_batch_leaves_too_few_healthy(self):
        # 4 hosts, 2 must stay healthy: the first batch of 2 fails together, the rest is skipped
        self.group("web", "halffail", instances=4,
                   deploymentConfigName="CodeDeployDefault.HalfAtATime")
        self.put("hf.zip", app_files("hf", start="scripts/fail.sh"))
        info = self.wait(self.deploy("web", "halffail", "hf.zip"))
        self.assertEqual(info["status"], "Failed")
        self.assertEqual(info["errorInformation"]["code"], "HEALTH_CONSTRAINTS")
        self.assertEqual(info["deploymentOverview"]["Failed"], 2)
        self.assertEqual(info["deploymentOverview"]["Skipped"], 2)


def bwrap_usable():
    import shutil
    import subprocess
    if not shutil.which("bwrap"):
        return False
    return subprocess.run(["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
                           "true"], capture_output=True).returncode == 0


@unittest.skipUnless(bwrap_usable(), "bubblewrap (bwrap) is not installed or cannot create "
                     "namespaces here")
class Sandbox(DeployCase):
    server_args = ("--build-sandbox", "bwrap")

    def test_sandboxed_hooks_write_only_inside_the_instance(self):
        # beside this file: a real directory the server's user may write, read-only in the
        # sandbox (/tmp would be the sandbox's own empty tmpfs)
        outside = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                               ".cpl-cd-sandbox-probe-%d" % os.getpid())
        self.group("web", "boxed")
        files = app_files("b", start="scripts/escape.sh", extra_files={
            "scripts/escape.sh": ("#!/bin/sh\ntouch %s\n" % outside, 0o755),
            "scripts/inside.sh": ("#!/bin/sh\necho in > \"$CODEDEPLOY_INSTANCE_ROOT/inside.txt\"\n",
                                  0o755)})
        self.put("escape.zip", files)
        did = self.deploy("web", "boxed", "escape.zip")
        info = self.wait(did)
        try:
            self.assertFalse(os.path.exists(outside))
        finally:
            if os.path.exists(outside):
                os.unlink(outside)
        self.assertEqual(info["status"], "Failed")
        (target,) = self.targets(did).values()
        events = {e["lifecycleEventName"]: e for e in target["lifecycleEvents"]}
        self.assertEqual(events["ApplicationStart"]["diagnostics"]["errorCode"], "ScriptFailed")
        self.put("inside.zip", app_files("b2", start="scripts/inside.sh", extra_files={
            "scripts/inside.sh": files["scripts/inside.sh"]}))
        did = self.deploy("web", "boxed", "inside.zip")
        self.assertEqual(self.wait(did)["status"], "Succeeded", self.targets(did))
        (instance,) = self.targets(did)
        self.assertEqual(self.read(instance, "inside.txt"), "in\n")
        self.assertEqual(self.read(instance, "opt/app/index.html"), "<p>b2</p>")


class Restart(DeployCase):
    def test_a_deployment_whose_hook_died_with_the_server_fails_saying_so(self):
        self.group("web", "restart")
        files = app_files("r", start="scripts/slow.sh")
        files["scripts/slow.sh"] = ("#!/bin/sh\necho $$ > \"$CODEDEPLOY_INSTANCE_ROOT/slow\"\n"
                                    "exec sleep 120\n", 0o755)
        self.put("r.zip", files)
        did = self.deploy("web", "restart", "r.zip")
        end = time.time() + 60
        while time.time() < end and not glob.glob(os.path.join(
                self.server.data_dir, "codedeploy", "instances", "*", "*", "*", "slow")):
            time.sleep(0.1)
        self.server.kill9()
        # the hook outlived the killed server (nothing was left to stop it): end it here
        for path in glob.glob(os.path.join(self.server.data_dir, "codedeploy", "instances", "*",
                                           "*", "*", "slow")):
            with open(path) as f:
                pid = f.read().strip()
            if pid:
                try:
                    os.kill(int(pid), 9)
                except OSError:
                    pass
        self.server.start()
        self.cd = self.client("codedeploy")
        info = self.wait(did, deadline=30)
        self.assertEqual(info["status"], "Failed")
        self.assertIn("interrupted by a restart of codepipeline-local",
                      info["errorInformation"]["message"])
        # the group takes a new deployment afterwards
        self.put("ok.zip", app_files("ok"))
        self.assertEqual(self.wait(self.deploy("web", "restart", "ok.zip"))["status"],
                         "Succeeded")


if __name__ == "__main__":
    unittest.main()
