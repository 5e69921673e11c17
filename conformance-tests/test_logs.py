"""CloudWatch Logs through the AWS CLI and boto3: groups, streams, events, tokens, filters,
retention, tags, and following a log the way `aws logs tail --follow` does."""
import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
import unittest
import uuid

from harness import ACCOUNT, REGION, ServerTestCase


def now_ms():
    return int(time.time() * 1000)


class LogsTest(ServerTestCase):
    def setUp(self):
        self.logs = self.client("logs")

    def group(self, name, streams=()):
        self.logs.create_log_group(logGroupName=name)
        self.addCleanup(lambda: self.logs.delete_log_group(logGroupName=name))
        for s in streams:
            self.logs.create_log_stream(logGroupName=name, logStreamName=s)

    def put(self, group, stream, messages, start=None, step=1):
        t = now_ms() - 60000 if start is None else start
        events = [{"timestamp": t + i * step, "message": m} for i, m in enumerate(messages)]
        return self.logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)

    # ---- groups ----
    def test_create_and_describe_log_group_through_the_cli(self):
        self.aws("logs", "create-log-group", "--log-group-name", "my-logs")
        self.addCleanup(lambda: self.aws("logs", "delete-log-group", "--log-group-name", "my-logs"))
        _, out, _ = self.aws("logs", "describe-log-groups", "--log-group-name-prefix", "my-logs")
        self.assertEqual(len(out["logGroups"]), 1)
        g = out["logGroups"][0]
        self.assertEqual(g["logGroupName"], "my-logs")
        self.assertEqual(g["arn"], "arn:aws:logs:%s:%s:log-group:my-logs:*" % (REGION, ACCOUNT))
        self.assertEqual(g["logGroupArn"], "arn:aws:logs:%s:%s:log-group:my-logs" % (REGION, ACCOUNT))
        self.assertEqual(g["storedBytes"], 0)
        self.assertEqual(g["metricFilterCount"], 0)
        self.assertNotIn("retentionInDays", g)
        self.assertLess(abs(g["creationTime"] - now_ms()), 600000)

    def test_create_existing_group_is_resource_already_exists(self):
        self.group("dup-group")
        self.assertClientError(lambda: self.logs.create_log_group(logGroupName="dup-group"),
                               "ResourceAlreadyExistsException", 400,
                               "The specified log group already exists")

    def test_bad_group_name_is_invalid_parameter_with_the_model_message(self):
        err = self.assertClientError(lambda: self.logs.create_log_group(logGroupName="a:b"),
                                     "InvalidParameterException", 400)
        self.assertIn("Value 'a:b' at 'logGroupName' failed to satisfy constraint: Member must "
                      "satisfy regular expression pattern", err["Error"]["Message"])

    def test_missing_group_is_resource_not_found(self):
        for call in (lambda: self.logs.delete_log_group(logGroupName="nope"),
                     lambda: self.logs.create_log_stream(logGroupName="nope", logStreamName="s"),
                     lambda: self.logs.describe_log_streams(logGroupName="nope"),
                     lambda: self.logs.put_retention_policy(logGroupName="nope", retentionInDays=1),
                     lambda: self.logs.get_log_events(logGroupName="nope", logStreamName="s"),
                     lambda: self.logs.filter_log_events(logGroupName="nope")):
            self.assertClientError(call, "ResourceNotFoundException", 400,
                                   "The specified log group does not exist.")

    def test_describe_log_groups_prefix_pattern_and_pages(self):
        names = ["/pg/a%02d" % i for i in range(7)] + ["/other/X-Svc"]
        for n in names:
            self.group(n)
        got, token, pages = [], None, 0
        while True:
            kw = {"logGroupNamePrefix": "/pg/", "limit": 3}
            if token:
                kw["nextToken"] = token
            out = self.logs.describe_log_groups(**kw)
            got += [g["logGroupName"] for g in out["logGroups"]]
            pages += 1
            token = out.get("nextToken")
            if not token:
                break
        self.assertEqual(got, sorted(names[:7]))
        self.assertEqual(pages, 3)
        out = self.logs.describe_log_groups(logGroupNamePattern="x-svc")
        self.assertEqual([g["logGroupName"] for g in out["logGroups"]], ["/other/X-Svc"])
        self.assertClientError(
            lambda: self.logs.describe_log_groups(logGroupNamePrefix="/pg", logGroupNamePattern="a"),
            "InvalidParameterException", 400)
        # The CLI's paginator walks every page.
        _, out, _ = self.aws("logs", "describe-log-groups", "--log-group-name-prefix", "/pg/",
                             "--page-size", "2")
        self.assertEqual([g["logGroupName"] for g in out["logGroups"]], sorted(names[:7]))

    # ---- streams ----
    def test_describe_log_streams_orders_and_pages(self):
        self.group("streams-g", ["s-b", "s-a", "s-c", "t-1"])
        base = now_ms() - 50000
        self.put("streams-g", "s-c", ["x"], start=base)
        self.put("streams-g", "s-a", ["x"], start=base + 1000)
        self.put("streams-g", "s-b", ["x"], start=base + 2000)
        out = self.logs.describe_log_streams(logGroupName="streams-g")
        self.assertEqual([s["logStreamName"] for s in out["logStreams"]],
                         ["s-a", "s-b", "s-c", "t-1"])
        s = out["logStreams"][0]
        self.assertEqual(s["arn"], "arn:aws:logs:%s:%s:log-group:streams-g:log-stream:s-a"
                         % (REGION, ACCOUNT))
        self.assertEqual(s["firstEventTimestamp"], base + 1000)
        self.assertEqual(s["lastEventTimestamp"], base + 1000)
        self.assertIn("lastIngestionTime", s)
        self.assertEqual(s["storedBytes"], 0)
        out = self.logs.describe_log_streams(logGroupName="streams-g", logStreamNamePrefix="s-",
                                             descending=True)
        self.assertEqual([s["logStreamName"] for s in out["logStreams"]], ["s-c", "s-b", "s-a"])
        out = self.logs.describe_log_streams(logGroupName="streams-g", orderBy="LastEventTime",
                                             descending=True, limit=2)
        self.assertEqual([s["logStreamName"] for s in out["logStreams"]], ["s-b", "s-a"])
        out = self.logs.describe_log_streams(logGroupName="streams-g", orderBy="LastEventTime",
                                             descending=True, limit=2, nextToken=out["nextToken"])
        self.assertEqual([s["logStreamName"] for s in out["logStreams"]], ["s-c", "t-1"])
        self.assertNotIn("nextToken", out)
        self.assertClientError(
            lambda: self.logs.describe_log_streams(logGroupName="streams-g", orderBy="LastEventTime",
                                                   logStreamNamePrefix="s"),
            "InvalidParameterException", 400,
            "Cannot order by LastEventTime with a logStreamNamePrefix.")
        self.assertClientError(
            lambda: self.logs.create_log_stream(logGroupName="streams-g", logStreamName="s-a"),
            "ResourceAlreadyExistsException", 400, "The specified log stream already exists")

    def test_delete_log_stream_removes_its_events(self):
        self.group("del-s", ["a", "b"])
        self.put("del-s", "a", ["one"])
        self.put("del-s", "b", ["two"])
        self.logs.delete_log_stream(logGroupName="del-s", logStreamName="a")
        self.assertClientError(lambda: self.logs.get_log_events(logGroupName="del-s",
                                                                logStreamName="a"),
                               "ResourceNotFoundException", 400,
                               "The specified log stream does not exist.")
        self.assertClientError(lambda: self.logs.delete_log_stream(logGroupName="del-s",
                                                                   logStreamName="a"),
                               "ResourceNotFoundException", 400,
                               "The specified log stream does not exist.")
        self.logs.create_log_stream(logGroupName="del-s", logStreamName="a")
        self.assertEqual(self.logs.get_log_events(logGroupName="del-s", logStreamName="a")["events"],
                         [])
        msgs = [e["message"] for e in self.logs.filter_log_events(logGroupName="del-s")["events"]]
        self.assertEqual(msgs, ["two"])

    def test_delete_log_group_removes_everything(self):
        self.logs.create_log_group(logGroupName="gone")
        self.logs.create_log_stream(logGroupName="gone", logStreamName="s")
        self.put("gone", "s", ["x"])
        self.logs.delete_log_group(logGroupName="gone")
        self.logs.create_log_group(logGroupName="gone")
        self.addCleanup(lambda: self.logs.delete_log_group(logGroupName="gone"))
        self.assertEqual(self.logs.describe_log_streams(logGroupName="gone")["logStreams"], [])
        self.assertEqual(self.logs.filter_log_events(logGroupName="gone")["events"], [])

    def test_stream_name_with_a_nul_is_invalid_parameter(self):
        self.group("nul-g", ["a"])
        self.assertClientError(lambda: self.logs.put_log_events(
            logGroupName="nul-g", logStreamName="a\x00b",
            logEvents=[{"timestamp": now_ms(), "message": "x"}]), "InvalidParameterException", 400)
        self.assertEqual(self.logs.get_log_events(logGroupName="nul-g", logStreamName="a")["events"],
                         [])

    # ---- put / get ----
    def test_put_log_events_through_the_cli_and_get_them_back(self):
        self.aws("logs", "create-log-group", "--log-group-name", "cli-g")
        self.addCleanup(lambda: self.aws("logs", "delete-log-group", "--log-group-name", "cli-g"))
        self.aws("logs", "create-log-stream", "--log-group-name", "cli-g", "--log-stream-name", "s")
        t = now_ms() - 1000
        events = json.dumps([{"timestamp": t, "message": "Example Event 1"},
                             {"timestamp": t + 2, "message": "Example Event 2"}])
        _, out, _ = self.aws("logs", "put-log-events", "--log-group-name", "cli-g",
                             "--log-stream-name", "s", "--log-events", events)
        self.assertRegex(out["nextSequenceToken"], r"^\d{56}$")
        # Sequence tokens are accepted and ignored, even stale ones, as AWS does today.
        _, out2, _ = self.aws("logs", "put-log-events", "--log-group-name", "cli-g",
                              "--log-stream-name", "s", "--sequence-token", "123",
                              "--log-events", json.dumps([{"timestamp": t + 3, "message": "3"}]))
        self.assertNotIn("rejectedLogEventsInfo", out2)
        _, out, _ = self.aws("logs", "get-log-events", "--log-group-name", "cli-g",
                             "--log-stream-name", "s")
        self.assertEqual([e["message"] for e in out["events"]],
                         ["Example Event 1", "Example Event 2", "3"])
        self.assertEqual(out["events"][0]["timestamp"], t)
        self.assertIn("ingestionTime", out["events"][0])
        self.assertRegex(out["nextForwardToken"], r"^f/\d{56}$")
        self.assertRegex(out["nextBackwardToken"], r"^b/\d{56}$")

    def test_put_log_events_reports_rejected_events(self):
        self.group("rej", ["s"])
        now = now_ms()
        events = [{"timestamp": now - 15 * 86400000, "message": "too old"},
                  {"timestamp": now - 1000, "message": "ok"},
                  {"timestamp": now + 3 * 3600000, "message": "too new"}]
        # The batch spans more than 24 hours: refused whole.
        self.assertClientError(lambda: self.logs.put_log_events(
            logGroupName="rej", logStreamName="s", logEvents=events), "InvalidParameterException",
            400, "The batch of log events in a single PutLogEvents request cannot span more than "
            "24 hours.")
        old = [{"timestamp": now - 14 * 86400000 - 7200000, "message": "too old"},
               {"timestamp": now - 14 * 86400000 - 7100000, "message": "old too"},
               {"timestamp": now - 14 * 86400000 + 3600000, "message": "ok"}]
        out = self.logs.put_log_events(logGroupName="rej", logStreamName="s", logEvents=old)
        self.assertEqual(out["rejectedLogEventsInfo"], {"tooOldLogEventEndIndex": 2})
        out = self.logs.put_log_events(logGroupName="rej", logStreamName="s",
                                       logEvents=events[1:])
        self.assertEqual(out["rejectedLogEventsInfo"], {"tooNewLogEventStartIndex": 1})
        msgs = [e["message"] for e in self.logs.get_log_events(logGroupName="rej",
                                                               logStreamName="s")["events"]]
        self.assertEqual(msgs, ["ok", "ok"])
        self.assertClientError(lambda: self.logs.put_log_events(
            logGroupName="rej", logStreamName="s",
            logEvents=[{"timestamp": now, "message": "b"}, {"timestamp": now - 5, "message": "a"}]),
            "InvalidParameterException", 400,
            "Log events in a single PutLogEvents request must be in chronological order.")
        self.assertClientError(lambda: self.logs.put_log_events(
            logGroupName="rej", logStreamName="nope", logEvents=events[1:2]),
            "ResourceNotFoundException", 400, "The specified log stream does not exist.")
        big = [{"timestamp": now, "message": "x" * 200000}] * 6
        err = self.assertClientError(lambda: self.logs.put_log_events(
            logGroupName="rej", logStreamName="s", logEvents=big), "InvalidParameterException", 400)
        self.assertIn("Upload too large", err["Error"]["Message"])

    def test_get_log_events_tokens_walk_forward_and_backward(self):
        self.group("tok", ["s"])
        start = now_ms() - 100000
        self.put("tok", "s", ["m%d" % i for i in range(10)], start=start, step=10)
        # From the tail (the default): the newest events, in time order.
        out = self.logs.get_log_events(logGroupName="tok", logStreamName="s", limit=3)
        self.assertEqual([e["message"] for e in out["events"]], ["m7", "m8", "m9"])
        back = self.logs.get_log_events(logGroupName="tok", logStreamName="s", limit=3,
                                        nextToken=out["nextBackwardToken"])
        self.assertEqual([e["message"] for e in back["events"]], ["m4", "m5", "m6"])
        # At the end, the forward token comes back unchanged (how clients know to stop).
        fwd = self.logs.get_log_events(logGroupName="tok", logStreamName="s",
                                       nextToken=out["nextForwardToken"])
        self.assertEqual(fwd["events"], [])
        self.assertEqual(fwd["nextForwardToken"], out["nextForwardToken"])
        # From the head, page by page.
        msgs, token = [], None
        for _ in range(10):
            kw = {"logGroupName": "tok", "logStreamName": "s", "limit": 4, "startFromHead": True}
            if token:
                kw["nextToken"] = token
            page = self.logs.get_log_events(**kw)
            if page["nextForwardToken"] == token:
                break
            msgs += [e["message"] for e in page["events"]]
            token = page["nextForwardToken"]
        self.assertEqual(msgs, ["m%d" % i for i in range(10)])
        # A time window: startTime inclusive, endTime exclusive.
        out = self.logs.get_log_events(logGroupName="tok", logStreamName="s", startFromHead=True,
                                       startTime=start + 20, endTime=start + 50)
        self.assertEqual([e["message"] for e in out["events"]], ["m2", "m3", "m4"])
        # New events show up behind a saved forward token.
        self.put("tok", "s", ["later"], start=start + 500)
        fwd = self.logs.get_log_events(logGroupName="tok", logStreamName="s",
                                       nextToken=out["nextForwardToken"])
        self.assertIn("later", [e["message"] for e in fwd["events"]])
        self.assertClientError(lambda: self.logs.get_log_events(
            logGroupName="tok", logStreamName="s", nextToken="f/garbage"),
            "InvalidParameterException", 400)

    # ---- filter ----
    def test_filter_log_events_patterns_streams_and_pages(self):
        self.group("flt", ["web-1", "web-2", "db-1"])
        t = now_ms() - 100000
        self.put("flt", "web-1", ["GET /index 200", "ERROR disk full", "GET /x 404"], start=t,
                 step=10)
        self.put("flt", "web-2", ["ERROR timeout on db", "WARN slow"], start=t + 1, step=10)
        self.put("flt", "db-1", ["ERROR Exiting now", "connection reset"], start=t + 2, step=10)
        f = lambda **kw: [(e["logStreamName"], e["message"]) for e in
                          self.logs.filter_log_events(logGroupName="flt", **kw)["events"]]
        self.assertEqual(len(f()), 7)
        self.assertEqual([m for _, m in f(filterPattern="ERROR")],
                         ["ERROR timeout on db", "ERROR Exiting now", "ERROR disk full"])
        self.assertEqual([m for _, m in f(filterPattern="ERROR db")], ["ERROR timeout on db"])
        self.assertEqual([m for _, m in f(filterPattern='"disk full"')], ["ERROR disk full"])
        self.assertEqual([m for _, m in f(filterPattern="?WARN ?404")], ["WARN slow", "GET /x 404"])
        self.assertEqual([m for _, m in f(filterPattern="ERROR -Exiting")],
                         ["ERROR timeout on db", "ERROR disk full"])
        self.assertEqual({s for s, _ in f(logStreamNamePrefix="web-")}, {"web-1", "web-2"})
        self.assertEqual({s for s, _ in f(logStreamNames=["db-1"])}, {"db-1"})
        self.assertEqual([m for _, m in f(startTime=t + 1, endTime=t + 10)],
                         ["ERROR timeout on db", "ERROR Exiting now"])
        out = self.logs.filter_log_events(logGroupName="flt", logStreamNames=["db-1"])
        self.assertEqual(out["searchedLogStreams"],
                         [{"logStreamName": "db-1", "searchedCompletely": True}])
        ids = {e["eventId"] for e in self.logs.filter_log_events(logGroupName="flt")["events"]}
        self.assertEqual(len(ids), 7)
        # Pages of 2 give every event once, in time order.
        got, token = [], None
        while True:
            kw = {"logGroupName": "flt", "limit": 2}
            if token:
                kw["nextToken"] = token
            out = self.logs.filter_log_events(**kw)
            got += [e["message"] for e in out["events"]]
            token = out.get("nextToken")
            if not token:
                break
        self.assertEqual(got, [m for _, m in f()])
        self.assertClientError(lambda: self.logs.filter_log_events(
            logGroupName="flt", logStreamNames=["a"], logStreamNamePrefix="a"),
            "InvalidParameterException", 400)
        self.assertClientError(lambda: self.logs.filter_log_events(
            logGroupName="flt", filterPattern='"unterminated'), "InvalidParameterException", 400)
        # The CLI's paginator over filter-log-events.
        _, out, _ = self.aws("logs", "filter-log-events", "--log-group-name", "flt",
                             "--filter-pattern", "ERROR", "--page-size", "1")
        self.assertEqual(len(out["events"]), 3)

    # ---- retention ----
    def test_retention_hides_and_purges_old_events(self):
        self.group("ret", ["s"])
        now = now_ms()
        self.put("ret", "s", ["old"], start=now - 3 * 86400000)
        self.put("ret", "s", ["new"], start=now - 1000)
        self.assertClientError(lambda: self.logs.put_retention_policy(logGroupName="ret",
                                                                      retentionInDays=2),
                               "InvalidParameterException", 400)
        self.aws("logs", "put-retention-policy", "--log-group-name", "ret",
                 "--retention-in-days", "1")
        g = self.logs.describe_log_groups(logGroupNamePrefix="ret")["logGroups"][0]
        self.assertEqual(g["retentionInDays"], 1)
        msgs = [e["message"] for e in self.logs.get_log_events(logGroupName="ret",
                                                               logStreamName="s")["events"]]
        self.assertEqual(msgs, ["new"])
        out = self.logs.put_log_events(logGroupName="ret", logStreamName="s", logEvents=[
            {"timestamp": now - 86400000 - 1000, "message": "expired"},
            {"timestamp": now - 2000, "message": "fresh"}])
        self.assertEqual(out["rejectedLogEventsInfo"], {"expiredLogEventEndIndex": 1})
        # Purged, not just hidden: removing the policy does not bring the old event back.
        self.aws("logs", "delete-retention-policy", "--log-group-name", "ret")
        g = self.logs.describe_log_groups(logGroupNamePrefix="ret")["logGroups"][0]
        self.assertNotIn("retentionInDays", g)
        msgs = [e["message"] for e in self.logs.filter_log_events(logGroupName="ret")["events"]]
        self.assertEqual(sorted(msgs), ["fresh", "new"])

    # ---- tags ----
    def test_tags_by_group_name_and_by_arn(self):
        self.logs.create_log_group(logGroupName="tagged", tags={"team": "a"})
        self.addCleanup(lambda: self.logs.delete_log_group(logGroupName="tagged"))
        self.assertEqual(self.logs.list_tags_log_group(logGroupName="tagged")["tags"], {"team": "a"})
        self.logs.tag_log_group(logGroupName="tagged", tags={"env": "dev"})
        self.logs.untag_log_group(logGroupName="tagged", tags=["team"])
        self.assertEqual(self.logs.list_tags_log_group(logGroupName="tagged")["tags"],
                         {"env": "dev"})
        arn = self.logs.describe_log_groups(logGroupNamePrefix="tagged")["logGroups"][0]["logGroupArn"]
        self.logs.tag_resource(resourceArn=arn, tags={"k": "v"})
        self.assertEqual(self.logs.list_tags_for_resource(resourceArn=arn)["tags"],
                         {"env": "dev", "k": "v"})
        self.logs.untag_resource(resourceArn=arn, tagKeys=["env"])
        _, out, _ = self.aws("logs", "list-tags-for-resource", "--resource-arn", arn)
        self.assertEqual(out["tags"], {"k": "v"})
        missing = "arn:aws:logs:%s:%s:log-group:nope" % (REGION, ACCOUNT)
        self.assertClientError(lambda: self.logs.list_tags_for_resource(resourceArn=missing),
                               "ResourceNotFoundException", 400)
        self.assertClientError(lambda: self.logs.tag_resource(
            resourceArn=arn, tags={"t%d" % i: "v" for i in range(50)}), "TooManyTagsException", 400)

    def test_groups_are_per_account(self):
        self.group("mine")
        self.assertEqual([g["logGroupName"] for g in
                          self.logs.describe_log_groups(logGroupNamePrefix="mine")["logGroups"]],
                         ["mine"])
        other = self.client("logs", access_key="AKIAIOSFODNN7EXAMPLE",
                            secret_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", region="eu-west-1")
        self.assertEqual(other.describe_log_groups(logGroupNamePrefix="mine")["logGroups"], [])

    def test_events_survive_a_restart(self):
        self.group("durable", ["s"])
        self.put("durable", "s", ["kept"])
        self.server.restart()
        self.logs = self.client("logs")
        msgs = [e["message"] for e in self.logs.get_log_events(logGroupName="durable",
                                                               logStreamName="s")["events"]]
        self.assertEqual(msgs, ["kept"])

    # ---- following, as `aws logs tail --follow` does ----
    def test_follow_sees_events_written_while_polling(self):
        """aws CLI v2's `logs tail --follow` polls FilterLogEvents with startTime at the newest
        timestamp seen and drops eventIds it already printed; v1 (installed here) has no `tail`,
        so this follows the same algorithm with boto3."""
        self.group("follow", ["s"])
        stop = threading.Event()
        writer_logs = self.client("logs")

        def writer():
            for i in range(20):
                writer_logs.put_log_events(logGroupName="follow", logStreamName="s", logEvents=[
                    {"timestamp": now_ms(), "message": "line %d" % i}])
                if stop.wait(0.05):
                    return

        th = threading.Thread(target=writer)
        th.start()
        seen, printed, start = set(), [], now_ms() - 1000
        deadline = time.time() + 60
        while len(printed) < 20 and time.time() < deadline:
            for page in self.logs.get_paginator("filter_log_events").paginate(
                    logGroupName="follow", startTime=start, interleaved=True):
                for e in page["events"]:
                    if e["eventId"] in seen:
                        continue
                    seen.add(e["eventId"])
                    printed.append(e["message"])
                    start = max(start, e["timestamp"])
            time.sleep(0.1)
        stop.set()
        th.join()
        self.assertEqual(sorted(printed, key=lambda m: int(m.split()[1])),
                         ["line %d" % i for i in range(20)])

    def test_aws_logs_tail_without_follow(self):
        aws = cli_v2(self)
        self.group("tail-g", ["s"])
        self.put("tail-g", "s", ["hello tail", "second tail line"])
        p = subprocess.run([aws, "--endpoint-url", self.server.endpoint, "logs", "tail", "tail-g",
                            "--since", "1h", "--format", "short"],
                           env=self.env(), capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = p.stdout.splitlines()
        self.assertEqual([ln.split(" ", 1)[1] for ln in lines],
                         ["hello tail", "second tail line"], p.stdout)
        p = subprocess.run([aws, "--endpoint-url", self.server.endpoint, "logs", "tail",
                            "no-such-group"], env=self.env(), capture_output=True, text=True,
                           timeout=120)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("ResourceNotFoundException", p.stderr)


# Debian's awscli package is the CLI v2, which has `logs tail`; the `aws` first on the PATH may be
# v1, which has not.
AWS_V2 = "/usr/bin/aws"


def cli_v2(test):
    """Returns the path of an AWS CLI v2, or skips test."""
    try:
        p = subprocess.run([AWS_V2, "--version"], capture_output=True, text=True, timeout=60)
    except OSError:
        test.skipTest("no AWS CLI v2 at %s (Debian's awscli package): `aws logs tail` untested"
                      % AWS_V2)
    if not p.stdout.startswith("aws-cli/2."):
        test.skipTest("%s is not the AWS CLI v2 (%s): `aws logs tail` untested"
                      % (AWS_V2, p.stdout.strip()))
    return AWS_V2


ENV = {"type": "LINUX_CONTAINER", "image": "aws/codebuild/standard:7.0",
       "computeType": "BUILD_GENERAL1_SMALL"}
ROLE = "arn:aws:iam::%s:role/cb" % ACCOUNT


class CodeBuildLogs(ServerTestCase):
    """A build's output in CloudWatch Logs, as CodeBuild writes it: one event per line."""
    server_args = ("--max-builds", "2")

    def setUp(self):
        self.cb = self.client("codebuild")
        self.logs = self.client("logs")

    def start(self, buildspec, **project):
        from botocore.exceptions import ClientError
        name = "lg-" + uuid.uuid4().hex[:10]
        args = dict(name=name, source={"type": "NO_SOURCE", "buildspec": buildspec},
                    artifacts={"type": "NO_ARTIFACTS"}, environment=ENV, serviceRole=ROLE)
        args.update(project)
        try:
            self.cb.create_project(**args)
            return name, self.cb.start_build(projectName=name)["build"]
        except ClientError as e:
            if e.response["Error"]["Code"] == "NotImplementedException":
                self.skipTest("CodeBuild builds are not implemented in this build of the server")
            raise

    def wait(self, build_id, deadline=120):
        end = time.time() + deadline
        while time.time() < end:
            b = self.cb.batch_get_builds(ids=[build_id])["builds"][0]
            if b["buildComplete"]:
                return b
            time.sleep(0.1)
        self.fail("build %s did not complete" % build_id)

    def test_build_output_is_read_with_get_and_filter_log_events(self):
        name, b = self.start("version: 0.2\nphases:\n  build:\n    commands:\n"
                             "      - echo first-line; echo second-line\n      - echo 'ERROR boom'\n")
        b = self.wait(b["id"])
        self.assertEqual(b["buildStatus"], "SUCCEEDED")
        group, stream = "/aws/codebuild/" + name, b["id"].split(":")[1]
        self.assertEqual(b["logs"]["groupName"], group)
        self.assertEqual(b["logs"]["streamName"], stream)
        self.assertEqual(b["logs"]["cloudWatchLogsArn"],
                         "arn:aws:logs:%s:%s:log-group:%s:log-stream:%s"
                         % (REGION, ACCOUNT, group, stream))
        _, out, _ = self.aws("logs", "get-log-events", "--log-group-name", group,
                             "--log-stream-name", stream, "--start-from-head")
        msgs = [e["message"] for e in out["events"]]
        self.assertIn("first-line", msgs)
        self.assertIn("second-line", msgs)
        self.assertLess(msgs.index("first-line"), msgs.index("second-line"))
        self.assertTrue(any(m.startswith("[Container]") for m in msgs), msgs)
        ts = [e["timestamp"] for e in out["events"]]
        self.assertEqual(ts, sorted(ts))
        self.assertLess(abs(ts[-1] - now_ms()), 600000)
        _, out, _ = self.aws("logs", "filter-log-events", "--log-group-name", group,
                             "--filter-pattern", '"ERROR boom" -Running')
        self.assertEqual([e["message"] for e in out["events"]], ["ERROR boom"])
        self.assertEqual(out["events"][0]["logStreamName"], stream)

    def test_a_running_build_is_followed_as_logs_tail_does(self):
        cmd = "for i in 1 2 3 4 5 6; do echo tick-$i; sleep 1; done"
        name, b = self.start("version: 0.2\nphases:\n  build:\n    commands:\n      - " + cmd + "\n")
        group = "/aws/codebuild/" + name
        seen, printed, start, while_running = set(), [], now_ms() - 60000, []
        deadline = time.time() + 120
        while time.time() < deadline:
            running = not self.cb.batch_get_builds(ids=[b["id"]])["builds"][0]["buildComplete"]
            try:
                pages = list(self.logs.get_paginator("filter_log_events").paginate(
                    logGroupName=group, startTime=start))
            except self.logs.exceptions.ResourceNotFoundException:
                pages = []  # the group appears with the build's first line
            for page in pages:
                for e in page["events"]:
                    if e["eventId"] not in seen:
                        seen.add(e["eventId"])
                        printed.append(e["message"])
                        start = max(start, e["timestamp"])
                        if running:
                            while_running.append(e["message"])
            if not running:
                break
            time.sleep(0.2)
        self.assertEqual([m for m in printed if m.startswith("tick-")],
                         ["tick-%d" % i for i in range(1, 7)])
        self.assertTrue([m for m in while_running if m.startswith("tick-")],
                        "no line was seen before the build ended: %s" % printed)

    def test_aws_logs_tail_follow_prints_a_running_builds_lines(self):
        aws = cli_v2(self)
        flag = os.path.join(tempfile.mkdtemp(prefix="cpl-tail-"), "go")
        self.addCleanup(shutil.rmtree, os.path.dirname(flag), True)
        # the build prints five lines, then waits for the test to have seen them
        name, b = self.start(
            "version: 0.2\nphases:\n  build:\n    commands:\n"
            "      - for i in 1 2 3 4 5; do echo tick-$i; sleep 1; done\n"
            "      - for i in $(seq 600); do [ -e %s ] && break; sleep 0.5; done\n"
            "      - echo after-the-wait\n" % flag)
        group = "/aws/codebuild/" + name

        def group_exists():
            return self.logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
        deadline = time.time() + 120
        while not group_exists() and time.time() < deadline:
            time.sleep(0.2)  # tail ends at once on a group that does not exist yet
        env = self.env()
        env["PYTHONUNBUFFERED"] = "1"  # a pipe, not a terminal: print each line as it comes
        tail = subprocess.Popen([aws, "--endpoint-url", self.server.endpoint, "logs", "tail",
                                 group, "--follow", "--format", "short"], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        lines = queue.Queue()

        def reader():
            for ln in tail.stdout:
                lines.put(ln.rstrip("\n"))
        th = threading.Thread(target=reader, daemon=True)
        th.start()

        def kill():
            tail.kill()
            tail.wait()
            th.join(30)
            tail.stdout.close()
            tail.stderr.close()
        self.addCleanup(kill)
        got = []

        def wait_line(text):
            # tail polls every 5 s: a generous wait for each line
            end = time.time() + 120
            while time.time() < end:
                if any(text in ln for ln in got):
                    return
                try:
                    got.append(lines.get(timeout=1))
                except queue.Empty:
                    if tail.poll() is not None:
                        self.fail("aws logs tail ended (%d): %s" % (tail.returncode,
                                                                     tail.stderr.read()))
            self.fail("%r never came from aws logs tail --follow: %s" % (text, got))
        for i in range(1, 6):
            wait_line("tick-%d" % i)
        # the build cannot end before the flag: the lines came while it ran
        self.assertFalse(self.cb.batch_get_builds(ids=[b["id"]])["builds"][0]["buildComplete"])
        open(flag, "w").close()
        wait_line("after-the-wait")
        self.assertEqual(self.wait(b["id"])["buildStatus"], "SUCCEEDED")
        ticks = [m for m in (ln.split(" ", 1)[1] for ln in got) if m.startswith("tick-")]
        self.assertEqual(ticks, ["tick-%d" % i for i in range(1, 6)])  # each once, in order
        self.assertIsNone(tail.poll())  # still following

    def test_logs_config_names_the_group_and_stream_prefix_or_disables(self):
        spec = "version: 0.2\nphases:\n  build:\n    commands:\n      - echo configured\n"
        name, b = self.start(spec, logsConfig={"cloudWatchLogs": {
            "status": "ENABLED", "groupName": "custom-builds", "streamName": "ci"}})
        self.addCleanup(lambda: self.logs.delete_log_group(logGroupName="custom-builds"))
        b = self.wait(b["id"])
        stream = "ci/" + b["id"].split(":")[1]
        self.assertEqual((b["logs"]["groupName"], b["logs"]["streamName"]), ("custom-builds", stream))
        msgs = [e["message"] for e in self.logs.get_log_events(
            logGroupName="custom-builds", logStreamName=stream, startFromHead=True)["events"]]
        self.assertIn("configured", msgs)
        name, b = self.start(spec, logsConfig={"cloudWatchLogs": {"status": "DISABLED"}})
        b = self.wait(b["id"])
        self.assertEqual(b["buildStatus"], "SUCCEEDED")
        self.assertNotIn("groupName", b["logs"])
        self.assertEqual(self.logs.describe_log_groups(
            logGroupNamePrefix="/aws/codebuild/" + name)["logGroups"], [])


if __name__ == "__main__":
    unittest.main()
