// CloudWatch Logs through the AWS SDK for JavaScript v3 (JSON 1.1): the group, stream and event
// life cycle, paginators, retention, and the errors as the SDK names them.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  CloudWatchLogsClient, CreateLogGroupCommand, CreateLogStreamCommand, PutLogEventsCommand,
  GetLogEventsCommand, FilterLogEventsCommand, DescribeLogGroupsCommand, PutRetentionPolicyCommand,
  DeleteLogGroupCommand, paginateDescribeLogGroups, paginateFilterLogEvents,
} from "@aws-sdk/client-cloudwatch-logs";
import { ACCOUNT, REGION, config, rejectsWith } from "./common.mjs";

const logs = new CloudWatchLogsClient(config());

test("a log group's life: streams, events, get, filter, retention, delete", async (t) => {
  const group = "/js-sdk/app";
  await logs.send(new CreateLogGroupCommand({ logGroupName: group }));
  t.after(() => logs.send(new DeleteLogGroupCommand({ logGroupName: group })).catch(() => {}));
  await logs.send(new CreateLogStreamCommand({ logGroupName: group, logStreamName: "web" }));
  await logs.send(new CreateLogStreamCommand({ logGroupName: group, logStreamName: "db" }));

  const t0 = Date.now() - 60000;
  const put = await logs.send(new PutLogEventsCommand({
    logGroupName: group, logStreamName: "web",
    logEvents: [{ timestamp: t0, message: "GET /index 200" },
                { timestamp: t0 + 10, message: "ERROR disk full" },
                { timestamp: t0 + 20, message: "GET /x 404" }] }));
  assert.match(put.nextSequenceToken, /^\d+$/);
  assert.equal(put.rejectedLogEventsInfo, undefined);
  await logs.send(new PutLogEventsCommand({
    logGroupName: group, logStreamName: "db",
    logEvents: [{ timestamp: t0 + 5, message: "ERROR timeout on db" }] }));

  const got = await logs.send(new GetLogEventsCommand({ logGroupName: group, logStreamName: "web",
                                                        startFromHead: true }));
  assert.deepEqual(got.events.map((e) => [e.timestamp, e.message]),
                   [[t0, "GET /index 200"], [t0 + 10, "ERROR disk full"], [t0 + 20, "GET /x 404"]]);
  assert.equal(typeof got.events[0].ingestionTime, "number");
  assert.match(got.nextForwardToken, /^f\//);
  assert.match(got.nextBackwardToken, /^b\//);
  // At the end of the stream the forward token comes back unchanged: how SDK users stop.
  const end = await logs.send(new GetLogEventsCommand({ logGroupName: group, logStreamName: "web",
                                                        nextToken: got.nextForwardToken }));
  assert.deepEqual(end.events, []);
  assert.equal(end.nextForwardToken, got.nextForwardToken);

  const errors = await logs.send(new FilterLogEventsCommand({ logGroupName: group,
                                                              filterPattern: "ERROR" }));
  assert.deepEqual(errors.events.map((e) => [e.logStreamName, e.message]),
                   [["db", "ERROR timeout on db"], ["web", "ERROR disk full"]]);
  const phrase = await logs.send(new FilterLogEventsCommand({ logGroupName: group,
                                                              filterPattern: '"disk full"' }));
  assert.deepEqual(phrase.events.map((e) => e.message), ["ERROR disk full"]);
  // The SDK's paginator walks pages of one event each and sees every event once, in time order.
  const walked = [];
  for await (const page of paginateFilterLogEvents({ client: logs, pageSize: 1 },
                                                   { logGroupName: group })) {
    walked.push(...page.events.map((e) => e.message));
  }
  assert.deepEqual(walked, ["GET /index 200", "ERROR timeout on db", "ERROR disk full",
                            "GET /x 404"]);

  await logs.send(new PutRetentionPolicyCommand({ logGroupName: group, retentionInDays: 7 }));
  const desc = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: group }));
  assert.equal(desc.logGroups.length, 1);
  assert.equal(desc.logGroups[0].logGroupName, group);
  assert.equal(desc.logGroups[0].retentionInDays, 7);
  assert.equal(desc.logGroups[0].arn, `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${group}:*`);
  assert.equal(typeof desc.logGroups[0].creationTime, "number");

  await logs.send(new DeleteLogGroupCommand({ logGroupName: group }));
  const gone = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: group }));
  assert.deepEqual(gone.logGroups, []);
});

test("DescribeLogGroups pages through the SDK's paginator", async (t) => {
  const names = Array.from({ length: 7 }, (_, i) => `/js-sdk-pages/g${i}`);
  for (const n of names) {
    await logs.send(new CreateLogGroupCommand({ logGroupName: n }));
    t.after(() => logs.send(new DeleteLogGroupCommand({ logGroupName: n })).catch(() => {}));
  }
  const seen = [];
  let pages = 0;
  for await (const page of paginateDescribeLogGroups({ client: logs, pageSize: 3 },
                                                     { logGroupNamePrefix: "/js-sdk-pages/" })) {
    pages++;
    assert.ok(page.logGroups.length <= 3);
    seen.push(...page.logGroups.map((g) => g.logGroupName));
  }
  assert.deepEqual(seen, names);
  assert.equal(pages, 3);
});

test("errors reach the SDK as its named exceptions", async (t) => {
  await rejectsWith(logs.send(new DeleteLogGroupCommand({ logGroupName: "/js-sdk/none" })),
                    "ResourceNotFoundException", 400, "The specified log group does not exist.");
  await rejectsWith(logs.send(new GetLogEventsCommand({ logGroupName: "/js-sdk/none",
                                                        logStreamName: "s" })),
                    "ResourceNotFoundException", 400, "The specified log group does not exist.");
  await logs.send(new CreateLogGroupCommand({ logGroupName: "/js-sdk/dup" }));
  t.after(() => logs.send(new DeleteLogGroupCommand({ logGroupName: "/js-sdk/dup" })).catch(() => {}));
  await rejectsWith(logs.send(new CreateLogGroupCommand({ logGroupName: "/js-sdk/dup" })),
                    "ResourceAlreadyExistsException", 400, "The specified log group already exists");
  await rejectsWith(logs.send(new PutLogEventsCommand({
    logGroupName: "/js-sdk/dup", logStreamName: "none",
    logEvents: [{ timestamp: Date.now(), message: "x" }] })),
                    "ResourceNotFoundException", 400, "The specified log stream does not exist.");
  // 2 days is not one of the retention values AWS allows.
  await rejectsWith(logs.send(new PutRetentionPolicyCommand({ logGroupName: "/js-sdk/dup",
                                                              retentionInDays: 2 })),
                    "InvalidParameterException", 400);
  const bad = await rejectsWith(logs.send(new CreateLogGroupCommand({ logGroupName: "a:b" })),
                                "InvalidParameterException", 400,
                                /Value 'a:b' at 'logGroupName' failed to satisfy constraint/);
  assert.match(bad.$metadata.requestId, /\S/);
});
