"""CodeBuild builds that really run: phases, failures, exported variables, sources, artifacts,
stop, timeout and the concurrency limit, through boto3 and the AWS CLI."""
import io
import os
import time
import unittest
import urllib.request
import uuid
import zipfile

from harness import ACCOUNT, REGION, ServerTestCase

ENV = {"type": "LINUX_CONTAINER", "image": "aws/codebuild/standard:7.0",
       "computeType": "BUILD_GENERAL1_SMALL"}
ROLE = "arn:aws:iam::%s:role/cb" % ACCOUNT
ALL_PHASES = ["SUBMITTED", "QUEUED", "PROVISIONING", "DOWNLOAD_SOURCE", "INSTALL", "PRE_BUILD",
              "BUILD", "POST_BUILD", "UPLOAD_ARTIFACTS", "FINALIZING", "COMPLETED"]


def spec(phases, extra=""):
    return "version: 0.2\n" + extra + "phases:\n" + phases


class BuildCase(ServerTestCase):
    server_args = ("--max-builds", "4")

    def setUp(self):
        self.cb = self.client("codebuild")
        self.s3 = self.client("s3")

    def project(self, buildspec=None, **kw):
        name = "p-" + uuid.uuid4().hex[:10]
        args = dict(name=name, source={"type": "NO_SOURCE", "buildspec": buildspec or "x"},
                    artifacts={"type": "NO_ARTIFACTS"}, environment=ENV, serviceRole=ROLE)
        args.update(kw)
        self.cb.create_project(**args)
        return name

    def wait(self, build_id, deadline=120):
        end = time.time() + deadline
        while time.time() < end:
            b = self.cb.batch_get_builds(ids=[build_id])["builds"][0]
            if b["buildComplete"]:
                return b
            time.sleep(0.1)
        self.fail("build %s did not complete: %s" % (build_id, b))

    def run_spec(self, buildspec, **kw):
        name = self.project(buildspec)
        b = self.cb.start_build(projectName=name, **kw)["build"]
        return self.wait(b["id"])

    def log(self, b):
        with urllib.request.urlopen(b["logs"]["deepLink"]) as r:
            return r.read().decode()

    def phases(self, b):
        return {p["phaseType"]: p for p in b["phases"]}


class Builds(BuildCase):
    def test_a_passing_build_runs_every_phase(self):
        name = self.project(spec("  build:\n    commands:\n      - echo hello-build\n"))
        started = self.cb.start_build(projectName=name)["build"]
        self.assertRegex(started["id"], "^%s:[0-9a-f-]{36}$" % name)
        self.assertEqual(started["buildNumber"], 1)
        self.assertEqual(started["buildStatus"], "IN_PROGRESS")
        self.assertFalse(started["buildComplete"])
        b = self.wait(started["id"])
        self.assertEqual(b["buildStatus"], "SUCCEEDED")
        self.assertEqual(b["currentPhase"], "COMPLETED")
        self.assertEqual([p["phaseType"] for p in b["phases"]], ALL_PHASES)
        for p in b["phases"][:-1]:
            self.assertEqual(p["phaseStatus"], "SUCCEEDED", p)
            self.assertIn("durationInSeconds", p)
            self.assertGreaterEqual(p["endTime"], p["startTime"])
        self.assertEqual(b["arn"], "arn:aws:codebuild:%s:%s:build/%s" % (REGION, ACCOUNT, b["id"]))
        self.assertEqual(b["logs"]["groupName"], "/aws/codebuild/" + name)
        self.assertEqual(b["logs"]["streamName"], b["id"].split(":")[1])
        self.assertIn("hello-build", self.log(b))
        again = self.cb.start_build(projectName=name)["build"]
        self.assertEqual(again["buildNumber"], 2)
        self.wait(again["id"])

    def test_a_failing_command_fails_build_and_post_build_finally_still_runs(self):
        b = self.run_spec(spec("  build:\n    commands:\n      - echo before\n      - exit 3\n"
                               "      - echo never\n"
                               "  post_build:\n    commands:\n      - echo post=$CODEBUILD_BUILD_SUCCEEDING\n"
                               "    finally:\n      - echo finally-ran\n"))
        self.assertEqual(b["buildStatus"], "FAILED")
        ph = self.phases(b)
        self.assertEqual(ph["BUILD"]["phaseStatus"], "FAILED")
        self.assertEqual(ph["BUILD"]["contexts"][0]["statusCode"], "COMMAND_EXECUTION_ERROR")
        self.assertIn("exit status 3", ph["BUILD"]["contexts"][0]["message"])
        self.assertEqual(ph["POST_BUILD"]["phaseStatus"], "SUCCEEDED")
        log = self.log(b)
        self.assertIn("post=0", log)
        self.assertIn("finally-ran", log)
        self.assertNotIn("\nnever", log)

    def test_an_install_failure_skips_to_finalizing(self):
        b = self.run_spec(spec("  install:\n    commands:\n      - false\n"
                               "  build:\n    commands:\n      - echo no\n"))
        self.assertEqual(b["buildStatus"], "FAILED")
        types = [p["phaseType"] for p in b["phases"]]
        self.assertNotIn("BUILD", types)
        self.assertNotIn("UPLOAD_ARTIFACTS", types)
        self.assertEqual(types[-2:], ["FINALIZING", "COMPLETED"])

    def test_on_failure_continue_goes_on_and_the_build_fails(self):
        b = self.run_spec(spec("  pre_build:\n    on-failure: CONTINUE\n    commands:\n      - false\n"
                               "  build:\n    commands:\n      - echo build-ran\n"))
        ph = self.phases(b)
        self.assertEqual(ph["PRE_BUILD"]["phaseStatus"], "FAILED")
        self.assertEqual(ph["BUILD"]["phaseStatus"], "SUCCEEDED")
        self.assertIn("build-ran", self.log(b))
        self.assertEqual(b["buildStatus"], "FAILED")

    def test_one_shell_session_keeps_cd_and_export(self):
        b = self.run_spec(spec("  install:\n    commands:\n      - mkdir -p sub && cd sub\n"
                               "      - export KEPT=yes\n"
                               "  build:\n    commands:\n      - echo \"pwd=$(basename $PWD) kept=$KEPT\"\n"))
        self.assertEqual(b["buildStatus"], "SUCCEEDED")
        self.assertIn("pwd=sub kept=yes", self.log(b))

    def test_exported_variables_and_codebuild_variables(self):
        b = self.run_spec(spec("  build:\n    commands:\n      - export OUT=\"id=$CODEBUILD_BUILD_ID n=$CODEBUILD_BUILD_NUMBER\"\n"
                               "      - echo region=$AWS_REGION src=$CODEBUILD_SRC_DIR var=$FROM_SPEC over=$OVER\n",
                               "env:\n  variables:\n    FROM_SPEC: spec\n  exported-variables:\n    - OUT\n    - MISSING\n"),
                          environmentVariablesOverride=[{"name": "OVER", "value": "o"}])
        self.assertEqual(b["buildStatus"], "SUCCEEDED")
        ev = {e["name"]: e["value"] for e in b["exportedEnvironmentVariables"]}
        self.assertEqual(ev["OUT"], "id=%s n=1" % b["id"])
        self.assertEqual(ev["MISSING"], "")
        log = self.log(b)
        self.assertIn("region=us-east-1", log)
        self.assertIn("var=spec over=o", log)
        self.assertIn("/codebuild/work/", log)

    def test_a_buildspec_that_is_not_yaml_is_yaml_file_error(self):
        for bad in ("version: 0.2\nphases: [unclosed\n", "version: 0.2\nenv: {}\n"):
            b = self.run_spec(bad)
            self.assertEqual(b["buildStatus"], "FAILED")
            ds = self.phases(b)["DOWNLOAD_SOURCE"]
            self.assertEqual(ds["phaseStatus"], "FAILED")
            self.assertEqual(ds["contexts"][0]["statusCode"], "YAML_FILE_ERROR")

    def test_buildspec_override_and_timeout_override(self):
        name = self.project(spec("  build:\n    commands:\n      - echo original\n"))
        b = self.cb.start_build(projectName=name, timeoutInMinutesOverride=7,
                                buildspecOverride=spec("  build:\n    commands:\n      - echo overridden\n"))["build"]
        self.assertEqual(b["timeoutInMinutes"], 7)
        b = self.wait(b["id"])
        self.assertIn("overridden", self.log(b))

    def test_idempotency_token_gives_the_same_build(self):
        name = self.project(spec("  build:\n    commands:\n      - true\n"))
        a = self.cb.start_build(projectName=name, idempotencyToken="tok-1")["build"]
        b = self.cb.start_build(projectName=name, idempotencyToken="tok-1")["build"]
        self.assertEqual(a["id"], b["id"])
        self.wait(a["id"])

    def test_start_build_of_a_missing_project_is_resource_not_found(self):
        self.assertClientError(lambda: self.cb.start_build(projectName="nope"),
                               "ResourceNotFoundException", 400)

    def test_stop_build_ends_a_sleep_within_seconds_and_leaves_no_process(self):
        marker = "600.%d" % (os.getpid() % 1000 + 1000)
        name = self.project(spec("  build:\n    commands:\n      - sleep %s\n" % marker))
        b = self.cb.start_build(projectName=name)["build"]
        end = time.time() + 60
        while time.time() < end and "sleep " + marker not in self.procs():
            time.sleep(0.1)
        self.assertIn("sleep " + marker, self.procs())
        t0 = time.time()
        stopped = self.cb.stop_build(id=b["id"])["build"]
        self.assertEqual(stopped["id"], b["id"])
        b = self.wait(b["id"], 30)
        self.assertLess(time.time() - t0, 20)
        self.assertEqual(b["buildStatus"], "STOPPED")
        self.assertEqual(self.phases(b)["BUILD"]["phaseStatus"], "STOPPED")
        self.assertNotIn("sleep " + marker, self.procs())

    def procs(self):
        out = []
        for pid in os.listdir("/proc"):
            if pid.isdigit():
                try:
                    with open("/proc/%s/cmdline" % pid, "rb") as f:
                        out.append(f.read().replace(b"\0", b" ").decode(errors="replace"))
                except OSError:
                    pass
        return "\n".join(out)

    def test_list_builds_and_for_project_newest_first_and_batch_delete(self):
        name = self.project(spec("  build:\n    commands:\n      - true\n"))
        ids = [self.cb.start_build(projectName=name)["build"]["id"] for _ in range(3)]
        for i in ids:
            self.wait(i)
        self.assertEqual(self.cb.list_builds_for_project(projectName=name)["ids"], ids[::-1])
        self.assertEqual(self.cb.list_builds_for_project(projectName=name, sortOrder="ASCENDING")["ids"], ids)
        all_ids = self.cb.list_builds()["ids"]
        for i in ids:
            self.assertIn(i, all_ids)
        r = self.cb.batch_delete_builds(ids=[ids[0], name + ":00000000-0000-0000-0000-000000000000"])
        self.assertEqual(r["buildsDeleted"], [ids[0]])
        self.assertEqual(r["buildsNotDeleted"][0]["statusCode"], "BUILD_NOT_FOUND")
        self.assertEqual(self.cb.batch_get_builds(ids=[ids[0]])["buildsNotFound"], [ids[0]])
        self.assertClientError(lambda: self.cb.list_builds_for_project(projectName="nope"),
                               "ResourceNotFoundException", 400)

    def test_retry_build_runs_the_same_build_again(self):
        name = self.project(spec("  build:\n    commands:\n      - echo $OVER\n"))
        a = self.cb.start_build(projectName=name, environmentVariablesOverride=[{"name": "OVER", "value": "again"}])["build"]
        self.wait(a["id"])
        r = self.cb.retry_build(id=a["id"])["build"]
        self.assertNotEqual(r["id"], a["id"])
        self.assertEqual(r["buildNumber"], 2)
        self.assertIn("again", self.log(self.wait(r["id"])))

    def test_cli_start_and_batch_get(self):
        name = self.project(spec("  build:\n    commands:\n      - echo cli\n"))
        _, out, _ = self.aws("codebuild", "start-build", "--project-name", name)
        b = self.wait(out["build"]["id"])
        _, got, _ = self.aws("codebuild", "batch-get-builds", "--ids", b["id"])
        self.assertEqual(got["builds"][0]["buildStatus"], "SUCCEEDED")


class Reports(BuildCase):
    JUNIT = ('<?xml version="1.0"?><testsuites><testsuite name="suite1">'
             '<testcase classname="pkg.A" name="passes" time="0.5"/>'
             '<testcase classname="pkg.A" name="breaks" time="0.25">'
             '<failure message="expected 1 got 2">trace</failure></testcase>'
             '</testsuite></testsuites>')

    def test_a_junit_report_with_one_failure_reads_back_through_describe_test_cases(self):
        buildspec = spec("  build:\n    commands:\n      - mkdir -p reports && printf '%%s' '%s' > reports/t.xml\n"
                         % self.JUNIT,
                         "reports:\n  unit:\n    files:\n      - '**/*.xml'\n    base-directory: reports\n"
                         "  cov:\n    files: ['x']\n    file-format: CLOVERXML\n")
        name = self.project(buildspec)
        b = self.wait(self.cb.start_build(projectName=name)["build"]["id"])
        self.assertEqual(b["buildStatus"], "SUCCEEDED")  # a failing test does not fail the build
        self.assertEqual(len(b["reportArns"]), 1)
        arn = b["reportArns"][0]
        group_arn = "arn:aws:codebuild:%s:%s:report-group/%s-unit" % (REGION, ACCOUNT, name)
        self.assertEqual(arn, "%s:%s" % (group_arn.replace("report-group/", "report/"),
                                         b["id"].split(":")[1]))
        self.assertIn("CLOVERXML", self.log(b))
        self.assertIn(group_arn, self.cb.list_report_groups()["reportGroups"])
        g = self.cb.batch_get_report_groups(reportGroupArns=[group_arn])["reportGroups"][0]
        self.assertEqual((g["name"], g["type"]), (name + "-unit", "TEST"))
        self.assertEqual(self.cb.list_reports_for_report_group(reportGroupArn=group_arn)["reports"], [arn])
        self.assertIn(arn, self.cb.list_reports()["reports"])
        r = self.cb.batch_get_reports(reportArns=[arn])["reports"][0]
        self.assertEqual(r["status"], "FAILED")
        self.assertEqual(r["testSummary"]["total"], 2)
        self.assertEqual(r["testSummary"]["statusCounts"], {"SUCCEEDED": 1, "FAILED": 1})
        self.assertEqual(r["testSummary"]["durationInNanoSeconds"], 750000000)
        cases = self.cb.describe_test_cases(reportArn=arn)["testCases"]
        self.assertEqual(sorted(c["name"] for c in cases), ["breaks", "passes"])
        failed = self.cb.describe_test_cases(reportArn=arn, filter={"status": "FAILED"})["testCases"]
        self.assertEqual(len(failed), 1)
        self.assertEqual(failed[0]["prefix"], "pkg.A")
        self.assertEqual(failed[0]["message"], "expected 1 got 2")
        self.assertEqual(failed[0]["testSuiteName"], "suite1")
        self.assertClientError(lambda: self.cb.describe_test_cases(reportArn=arn + "x"),
                               "ResourceNotFoundException", 400)


class Sources(BuildCase):
    def setUp(self):
        super().setUp()
        self.bucket = "src-" + uuid.uuid4().hex[:10]
        self.s3.create_bucket(Bucket=self.bucket)

    def zip_bytes(self, files, raw_names=()):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            for n, data in files.items():
                z.writestr(n, data)
            for n in raw_names:
                z.writestr(zipfile.ZipInfo(n), b"x")
        return buf.getvalue()

    def test_s3_zip_source_with_its_own_buildspec_and_s3_artifacts_file_by_file(self):
        buildspec = spec("  build:\n    commands:\n      - mkdir -p out/deep && cp app.txt out/deep/a.txt && echo b > out/b.txt\n",
                         "artifacts:\n  files:\n    - '**/*'\n  base-directory: out\n  discard-paths: yes\n")
        self.s3.put_object(Bucket=self.bucket, Key="src.zip",
                           Body=self.zip_bytes({"buildspec.yml": buildspec, "app.txt": "app"}))
        name = self.project(source={"type": "S3", "location": self.bucket + "/src.zip"},
                            artifacts={"type": "S3", "location": self.bucket, "path": "arts",
                                       "namespaceType": "BUILD_ID", "name": "bundle"})
        b = self.cb.start_build(projectName=name)["build"]
        uid = b["id"].split(":")[1]
        self.assertEqual(b["artifacts"]["location"],
                         "arn:aws:s3:::%s/arts/%s/bundle" % (self.bucket, uid))
        b = self.wait(b["id"])
        self.assertEqual(b["buildStatus"], "SUCCEEDED", b["phases"])
        keys = sorted(o["Key"] for o in self.s3.list_objects_v2(Bucket=self.bucket, Prefix="arts/")["Contents"])
        self.assertEqual(keys, ["arts/%s/bundle/a.txt" % uid, "arts/%s/bundle/b.txt" % uid])
        body = self.s3.get_object(Bucket=self.bucket, Key="arts/%s/bundle/a.txt" % uid)["Body"].read()
        self.assertEqual(body, b"app")

    def test_zip_artifacts_keep_paths_under_base_directory(self):
        buildspec = spec("  build:\n    commands:\n      - mkdir -p dist/x && echo 1 > dist/x/one && echo 2 > dist/two && echo s > skip.me\n",
                         "artifacts:\n  files:\n    - '**/*'\n  base-directory: dist\n  exclude-paths:\n    - 'two'\n")
        name = self.project(buildspec, artifacts={"type": "S3", "location": self.bucket,
                                                  "packaging": "ZIP", "name": "out.zip"})
        b = self.wait(self.cb.start_build(projectName=name)["build"]["id"])
        self.assertEqual(b["buildStatus"], "SUCCEEDED", b["phases"])
        data = self.s3.get_object(Bucket=self.bucket, Key="out.zip")["Body"].read()
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            self.assertEqual(sorted(z.namelist()), ["x/one"])
            self.assertEqual(z.read("x/one"), b"1\n")

    def test_s3_folder_source(self):
        self.s3.put_object(Bucket=self.bucket, Key="folder/buildspec.yml",
                           Body=spec("  build:\n    commands:\n      - cat sub/f.txt\n"))
        self.s3.put_object(Bucket=self.bucket, Key="folder/sub/f.txt", Body=b"from-folder")
        name = self.project(source={"type": "S3", "location": self.bucket + "/folder/"})
        b = self.wait(self.cb.start_build(projectName=name)["build"]["id"])
        self.assertEqual(b["buildStatus"], "SUCCEEDED", b["phases"])
        self.assertIn("from-folder", self.log(b))

    def test_a_source_zip_with_dotdot_entries_is_refused(self):
        self.s3.put_object(Bucket=self.bucket, Key="evil.zip",
                           Body=self.zip_bytes({"buildspec.yml": spec("  build:\n    commands:\n      - true\n")},
                                               raw_names=["../../escaped.txt"]))
        name = self.project(source={"type": "S3", "location": self.bucket + "/evil.zip"})
        b = self.wait(self.cb.start_build(projectName=name)["build"]["id"])
        self.assertEqual(b["buildStatus"], "FAILED")
        self.assertEqual(self.phases(b)["DOWNLOAD_SOURCE"]["phaseStatus"], "FAILED")
        self.assertFalse(os.path.exists(os.path.join(self.server.data_dir, "codebuild", "escaped.txt")))

    def test_an_artifact_base_directory_outside_the_source_is_refused(self):
        buildspec = spec("  build:\n    commands:\n      - true\n",
                         "artifacts:\n  files:\n    - '**/*'\n  base-directory: ../..\n")
        name = self.project(buildspec, artifacts={"type": "S3", "location": self.bucket})
        b = self.wait(self.cb.start_build(projectName=name)["build"]["id"])
        self.assertEqual(b["buildStatus"], "FAILED")
        self.assertEqual(self.phases(b)["UPLOAD_ARTIFACTS"]["phaseStatus"], "FAILED")
        self.assertNotIn("Contents", self.s3.list_objects_v2(Bucket=self.bucket))

    def test_codecommit_source_at_a_branch(self):
        cc = self.client("codecommit")
        repo = "r-" + uuid.uuid4().hex[:8]
        cc.create_repository(repositoryName=repo)
        c = cc.put_file(repositoryName=repo, branchName="main", filePath="buildspec.yml",
                        fileContent=spec("  build:\n    commands:\n      - echo commit=$CODEBUILD_RESOLVED_SOURCE_VERSION\n").encode())
        name = self.project(source={"type": "CODECOMMIT",
                                    "location": "https://git-codecommit.%s.amazonaws.com/v1/repos/%s" % (REGION, repo)})
        b = self.wait(self.cb.start_build(projectName=name, sourceVersion="main")["build"]["id"])
        self.assertEqual(b["buildStatus"], "SUCCEEDED", b["phases"])
        self.assertEqual(b["resolvedSourceVersion"], c["commitId"])
        self.assertIn("commit=" + c["commitId"], self.log(b))

    def test_secondary_sources_in_their_own_dirs_and_secondary_artifacts_to_s3(self):
        self.s3.put_object(Bucket=self.bucket, Key="z.zip", Body=self.zip_bytes({"a.txt": "from-zip"}))
        self.s3.put_object(Bucket=self.bucket, Key="fold/sub/f.txt", Body=b"from-folder")
        cc = self.client("codecommit")
        repo = "r-" + uuid.uuid4().hex[:8]
        cc.create_repository(repositoryName=repo)
        c1 = cc.put_file(repositoryName=repo, branchName="main", filePath="c.txt", fileContent=b"one")
        cc.create_branch(repositoryName=repo, branchName="rel", commitId=c1["commitId"])
        cc.put_file(repositoryName=repo, branchName="main", filePath="c.txt", fileContent=b"two",
                    parentCommitId=c1["commitId"])
        buildspec = spec(
            "  build:\n    commands:\n"
            "      - mkdir out && cp $CODEBUILD_SRC_DIR_zipsrc/a.txt $CODEBUILD_SRC_DIR_foldsrc/sub/f.txt out/\n"
            "      - cp $CODEBUILD_SRC_DIR_ccsrc/c.txt out/\n"
            "      - echo dirs=$CODEBUILD_SRC_DIR_zipsrc,$CODEBUILD_SRC_DIR_foldsrc\n",
            "artifacts:\n  files:\n    - none\n  secondary-artifacts:\n    second:\n"
            "      files:\n        - '**/*'\n      base-directory: out\n")
        name = self.project(
            buildspec,
            secondarySources=[
                {"type": "S3", "location": self.bucket + "/z.zip", "sourceIdentifier": "zipsrc"},
                {"type": "S3", "location": self.bucket + "/fold/", "sourceIdentifier": "foldsrc"},
                {"type": "CODECOMMIT", "sourceIdentifier": "ccsrc",
                 "location": "https://git-codecommit.%s.amazonaws.com/v1/repos/%s" % (REGION, repo)}],
            secondaryArtifacts=[{"type": "S3", "location": self.bucket, "path": "sec",
                                 "name": "second", "artifactIdentifier": "second"}])
        b = self.cb.start_build(projectName=name, secondarySourcesVersionOverride=[
            {"sourceIdentifier": "ccsrc", "sourceVersion": "rel"}])["build"]
        self.assertEqual(b["secondarySourceVersions"],
                         [{"sourceIdentifier": "ccsrc", "sourceVersion": "rel"}])
        self.assertEqual(b["secondaryArtifacts"][0]["artifactIdentifier"], "second")
        b = self.wait(b["id"])
        self.assertEqual(b["buildStatus"], "SUCCEEDED", b["phases"])
        log = self.log(b)
        dirs = log.split("dirs=")[-1].split()[0].split(",")
        self.assertEqual(len(set(dirs)), 2)
        for d in dirs:
            self.assertNotEqual(d, "")
        got = {k: self.s3.get_object(Bucket=self.bucket, Key="sec/second/" + k)["Body"].read()
               for k in ("a.txt", "f.txt", "c.txt")}
        self.assertEqual(got, {"a.txt": b"from-zip", "f.txt": b"from-folder", "c.txt": b"one"})


class Concurrency(BuildCase):
    def test_twenty_builds_with_max_builds_4_queue_and_all_finish(self):
        name = self.project(spec("  build:\n    commands:\n      - sleep 0.5\n"))
        ids = [self.cb.start_build(projectName=name)["build"]["id"] for _ in range(20)]
        most = 0
        end = time.time() + 180
        while time.time() < end:
            builds = self.cb.batch_get_builds(ids=ids)["builds"]
            running = sum(1 for b in builds if b["currentPhase"] not in ("QUEUED", "COMPLETED"))
            most = max(most, running)
            if all(b["buildComplete"] for b in builds):
                break
            time.sleep(0.05)
        self.assertTrue(all(b["buildStatus"] == "SUCCEEDED" for b in builds))
        self.assertLessEqual(most, 4)
        self.assertGreater(most, 0)


class Restart(BuildCase):
    server_args = ("--max-builds", "1")

    def procs(self):
        return Builds.procs(self)

    def test_a_kill_9_fails_the_running_build_kills_its_shell_and_starts_the_queued_one(self):
        marker = "600.%d" % (os.getpid() % 1000 + 2000)
        slow = self.project(spec("  build:\n    commands:\n      - sleep %s\n" % marker))
        quick = self.project(spec("  build:\n    commands:\n      - echo after-restart\n"))
        a = self.cb.start_build(projectName=slow)["build"]["id"]
        end = time.time() + 60
        while time.time() < end and "sleep " + marker not in self.procs():
            time.sleep(0.1)
        b = self.cb.start_build(projectName=quick)["build"]["id"]
        self.assertEqual(self.cb.batch_get_builds(ids=[b])["builds"][0]["currentPhase"], "QUEUED")
        self.server.kill9()
        self.server.start()
        got = self.cb.batch_get_builds(ids=[a])["builds"][0]
        self.assertEqual(got["buildStatus"], "FAILED")
        self.assertTrue(got["buildComplete"])
        build = {p["phaseType"]: p for p in got["phases"]}["BUILD"]
        self.assertEqual(build["phaseStatus"], "FAILED")
        self.assertIn("codepipeline-local restarted", build["contexts"][0]["message"])
        end = time.time() + 30
        while time.time() < end and "sleep " + marker in self.procs():
            time.sleep(0.1)
        self.assertNotIn("sleep " + marker, self.procs())
        done = self.wait(b)
        self.assertEqual(done["buildStatus"], "SUCCEEDED")
        self.assertIn("after-restart", self.log(done))

    def test_a_graceful_stop_records_the_running_build_as_interrupted(self):
        marker = "600.%d" % (os.getpid() % 1000 + 3000)
        name = self.project(spec("  build:\n    commands:\n      - sleep %s\n" % marker))
        a = self.cb.start_build(projectName=name)["build"]["id"]
        end = time.time() + 60
        while time.time() < end and "sleep " + marker not in self.procs():
            time.sleep(0.1)
        self.assertEqual(self.server.stop(), 0, self.server.read_log())
        self.assertNotIn("sleep " + marker, self.procs())
        self.server.start()
        got = self.cb.batch_get_builds(ids=[a])["builds"][0]
        self.assertEqual(got["buildStatus"], "FAILED")
        self.assertIn("shut down", {p["phaseType"]: p for p in got["phases"]}["BUILD"]["contexts"][0]["message"])


@unittest.skipUnless(__import__("shutil").which("bwrap"), "bubblewrap (bwrap) is not installed")
class Sandbox(BuildCase):
    server_args = ("--build-sandbox", "bwrap")

    def test_a_sandboxed_build_writes_only_its_own_directory(self):
        # beside this file: a real directory the server's user may write, read-only in the
        # sandbox (/tmp would be the sandbox's own empty tmpfs)
        outside = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                               ".cpl-sandbox-probe-%d" % os.getpid())
        b = self.run_spec(spec("  build:\n    commands:\n      - echo ok > inside.txt && cat inside.txt\n"
                               "      - if touch %s 2>/dev/null; then echo escaped; else echo contained; fi\n"
                               % outside))
        self.assertEqual(b["buildStatus"], "SUCCEEDED", b["phases"])
        log = self.log(b)
        self.assertIn("contained", log)
        self.assertFalse(os.path.exists(outside))


class Symlinks(BuildCase):
    def test_symlinks_in_a_zip_artifact_are_stored_as_links_never_followed(self):
        s3 = self.client("s3")
        bucket = "links-" + uuid.uuid4().hex[:8]
        s3.create_bucket(Bucket=bucket)
        buildspec = spec("  build:\n    commands:\n      - mkdir out && ln -s /etc/passwd out/pw && echo f > out/f\n",
                         "artifacts:\n  files: ['**/*']\n  base-directory: out\n")
        name = self.project(buildspec, artifacts={"type": "S3", "location": bucket,
                                                  "packaging": "ZIP", "name": "a.zip"})
        b = self.wait(self.cb.start_build(projectName=name)["build"]["id"])
        self.assertEqual(b["buildStatus"], "SUCCEEDED", b["phases"])
        data = s3.get_object(Bucket=bucket, Key="a.zip")["Body"].read()
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            info = z.getinfo("pw")
            self.assertEqual((info.external_attr >> 16) & 0o170000, 0o120000)  # a link
            self.assertEqual(z.read("pw"), b"/etc/passwd")


class Timeouts(BuildCase):
    """Timeouts for real, with CPL_CODEBUILD_SECONDS_PER_MINUTE=1 so that the smallest limits AWS
    accepts (5 minutes) pass in 5 s."""
    server_args = ("--max-builds", "1")

    @classmethod
    def setUpClass(cls):
        os.environ["CPL_CODEBUILD_SECONDS_PER_MINUTE"] = "1"
        try:
            super().setUpClass()
        finally:
            del os.environ["CPL_CODEBUILD_SECONDS_PER_MINUTE"]

    def procs(self):
        return Builds.procs(self)

    def test_the_timeout_ends_a_sleep_600_and_leaves_no_process(self):
        marker = "600.%d" % (os.getpid() % 1000 + 3000)
        name = self.project(spec("  build:\n    commands:\n      - sleep %s\n" % marker))
        b = self.cb.start_build(projectName=name, timeoutInMinutesOverride=5)["build"]
        end = time.time() + 60
        while time.time() < end and "sleep " + marker not in self.procs():
            time.sleep(0.1)
        self.assertIn("sleep " + marker, self.procs())
        b = self.wait(b["id"], 120)
        self.assertEqual(b["buildStatus"], "TIMED_OUT")
        build = self.phases(b)["BUILD"]
        self.assertEqual(build["phaseStatus"], "TIMED_OUT")
        self.assertEqual(build["contexts"][0]["statusCode"], "BUILD_TIMED_OUT")
        self.assertIn("timed out", build["contexts"][0]["message"])
        self.assertNotIn("sleep " + marker, self.procs())

    def test_a_build_waiting_past_its_queued_timeout_ends_timed_out_in_queued(self):
        marker = "600.%d" % (os.getpid() % 1000 + 4000)
        slow = self.project(spec("  build:\n    commands:\n      - sleep %s\n" % marker),
                            timeoutInMinutes=480)
        blocker = self.cb.start_build(projectName=slow)["build"]["id"]
        try:
            end = time.time() + 60
            while time.time() < end and "sleep " + marker not in self.procs():
                time.sleep(0.1)
            name = self.project(spec("  build:\n    commands:\n      - true\n"))
            b = self.cb.start_build(projectName=name, queuedTimeoutInMinutesOverride=5)["build"]
            self.assertEqual(b["queuedTimeoutInMinutes"], 5)
            b = self.wait(b["id"], 120)
            self.assertEqual(b["buildStatus"], "TIMED_OUT")
            self.assertEqual([p["phaseType"] for p in b["phases"]],
                             ["SUBMITTED", "QUEUED", "COMPLETED"])
            self.assertEqual(self.phases(b)["QUEUED"]["phaseStatus"], "TIMED_OUT")
            # it timed out while waiting: the build ahead of it still runs
            self.assertFalse(self.cb.batch_get_builds(ids=[blocker])["builds"][0]["buildComplete"])
        finally:
            self.cb.stop_build(id=blocker)
            self.wait(blocker, 60)

    def test_an_idempotency_token_reused_with_other_parameters_is_invalid_input(self):
        name = self.project(spec("  build:\n    commands:\n      - true\n"))
        a = self.cb.start_build(projectName=name, idempotencyToken="tok-m",
                                environmentVariablesOverride=[{"name": "A", "value": "1"}])["build"]
        again = self.cb.start_build(projectName=name, idempotencyToken="tok-m",
                                    environmentVariablesOverride=[{"name": "A", "value": "1"}])["build"]
        self.assertEqual(again["id"], a["id"])
        self.assertClientError(
            lambda: self.cb.start_build(projectName=name, idempotencyToken="tok-m",
                                        environmentVariablesOverride=[{"name": "A", "value": "2"}]),
            "InvalidInputException", 400)
        self.wait(a["id"])

    def test_an_idempotency_token_expires_after_5_minutes(self):
        name = self.project(spec("  build:\n    commands:\n      - true\n"))
        a = self.cb.start_build(projectName=name, idempotencyToken="tok-e")["build"]
        self.wait(a["id"])
        time.sleep(5.5)  # 5 "minutes" with CPL_CODEBUILD_SECONDS_PER_MINUTE=1
        b = self.cb.start_build(projectName=name, idempotencyToken="tok-e")["build"]
        # the new use is kept: a repeat right away gives the second build
        self.assertEqual(self.cb.start_build(projectName=name, idempotencyToken="tok-e")["build"]["id"],
                         b["id"])
        self.assertNotEqual(b["id"], a["id"])
        self.wait(b["id"])


class CallerAccount(BuildCase):
    """A build runs with temporary credentials of its project's service role, in the account that
    started it."""
    credentials = (("AKIDACCOUNTB0000001", "secret-of-account-b", "111111111111"),)

    def test_a_build_started_by_account_b_sees_account_b_buckets(self):
        cb = self.client("codebuild", "AKIDACCOUNTB0000001", "secret-of-account-b")
        s3 = self.client("s3", "AKIDACCOUNTB0000001", "secret-of-account-b")
        mine = "b-only-" + uuid.uuid4().hex[:8]
        s3.create_bucket(Bucket=mine)
        self.s3.create_bucket(Bucket="a-only-" + mine)
        name = "p-" + uuid.uuid4().hex[:10]
        cb.create_project(name=name, source={"type": "NO_SOURCE", "buildspec": spec(
                              "  build:\n    commands:\n      - echo key=$AWS_ACCESS_KEY_ID\n"
                              "      - test -n \"$AWS_SESSION_TOKEN\"\n"
                              "      - aws sts get-caller-identity --output text"
                              " --query Arn --endpoint-url $AWS_ENDPOINT_URL\n"
                              "      - aws s3 ls\n")},
                          artifacts={"type": "NO_ARTIFACTS"}, environment=ENV,
                          serviceRole="arn:aws:iam::111111111111:role/cb")
        b = cb.start_build(projectName=name)["build"]
        end = time.time() + 120
        while time.time() < end:
            b = cb.batch_get_builds(ids=[b["id"]])["builds"][0]
            if b["buildComplete"]:
                break
            time.sleep(0.1)
        self.assertEqual(b["buildStatus"], "SUCCEEDED", b["phases"])
        log = self.log(b)
        self.assertRegex(log, r"key=ASIA[A-Z2-7]{16}\n")
        self.assertIn("arn:aws:sts::111111111111:assumed-role/cb/AWSCodeBuild-%s\n"
                      % b["id"].split(":")[1], log)
        self.assertIn(mine, log)
        self.assertNotIn("a-only-" + mine, log)


class BuildCredentialsExpire(BuildCase):
    """A build's credentials are refused once they expire (the server's test knob makes every
    credential it issues expire this many seconds after issue)."""
    expiry = 30

    @classmethod
    def setUpClass(cls):
        os.environ["CPL_STS_TEST_EXPIRY_SECONDS"] = str(cls.expiry)
        try:
            super().setUpClass()
        finally:
            del os.environ["CPL_STS_TEST_EXPIRY_SECONDS"]

    def test_the_builds_credentials_work_then_are_refused_after_expiry(self):
        self.s3.create_bucket(Bucket="expiry-" + uuid.uuid4().hex[:8])
        name = self.project(spec(
            "  build:\n    commands:\n"
            "      - aws s3 ls > first.txt && echo first-ok\n"
            "      - for i in $(seq 300); do aws s3 ls > /dev/null 2> err.txt || break;"
            " sleep 0.5; done\n"
            "      - cat err.txt\n"))
        b = self.wait(self.cb.start_build(projectName=name)["build"]["id"], deadline=240)
        self.assertEqual(b["buildStatus"], "SUCCEEDED", b["phases"])
        log = self.log(b)
        self.assertIn("first-ok", log)
        self.assertIn("ExpiredToken", log)


if __name__ == "__main__":
    unittest.main()
