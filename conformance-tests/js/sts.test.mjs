// STS through the AWS SDK for JavaScript v3 (awsQuery): the caller's identity, AssumeRole, and
// calls signed with the temporary credentials (with their session token), as infrastructure tools
// make them. Skipped while the server answers that STS or IAM is not emulated.
import { test } from "node:test";
import assert from "node:assert/strict";
import { STSClient, GetCallerIdentityCommand, AssumeRoleCommand, GetSessionTokenCommand }
  from "@aws-sdk/client-sts";
import { IAMClient, CreateRoleCommand, DeleteRoleCommand, GetRoleCommand } from "@aws-sdk/client-iam";
import { CloudWatchLogsClient, CreateLogGroupCommand, DescribeLogGroupsCommand,
         DeleteLogGroupCommand } from "@aws-sdk/client-cloudwatch-logs";
import { CodePipelineClient, ListPipelinesCommand } from "@aws-sdk/client-codepipeline";
import { ACCOUNT, config, rejectsWith, skipUnlessServed } from "./common.mjs";

const sts = new STSClient(config());
const iam = new IAMClient(config());
const skip = await skipUnlessServed("STS", () => sts.send(new GetCallerIdentityCommand({})));
const skipAssume = skip ||
  await skipUnlessServed("IAM", () => iam.send(new GetRoleCommand({ RoleName: "probe" })));

const trust = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "sts:AssumeRole",
  Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` } }] };

/** The temporary credentials of credentials (an STS Credentials member) as the SDK takes them. */
function temporary(c) {
  return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey,
           sessionToken: c.SessionToken };
}

test("GetCallerIdentity names the account of the key", { skip }, async () => {
  const me = await sts.send(new GetCallerIdentityCommand({}));
  assert.equal(me.Account, ACCOUNT);
  assert.equal(me.Arn, `arn:aws:iam::${ACCOUNT}:root`);
  assert.ok(me.UserId);
  assert.match(me.$metadata.requestId, /\S/);
  const other = new STSClient(config({ accessKeyId: "AKIAIOSFODNN7EXAMPLE",
                                       secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" }));
  assert.equal((await other.send(new GetCallerIdentityCommand({}))).Account, ACCOUNT);
});

test("AssumeRole gives credentials that sign calls with their session token", { skip: skipAssume },
     async (t) => {
  const role = "js-sdk-assumed";
  const created = await iam.send(new CreateRoleCommand({
    RoleName: role, AssumeRolePolicyDocument: JSON.stringify(trust) }));
  t.after(() => iam.send(new DeleteRoleCommand({ RoleName: role })).catch(() => {}));

  const before = Date.now();
  const out = await sts.send(new AssumeRoleCommand({ RoleArn: created.Role.Arn,
                                                     RoleSessionName: "js-session",
                                                     DurationSeconds: 900 }));
  const c = out.Credentials;
  assert.match(c.AccessKeyId, /^ASIA[A-Z0-9]{16}$/);
  assert.ok(c.SecretAccessKey && c.SessionToken);
  assert.ok(c.Expiration instanceof Date, "Expiration parsed as a Date");
  // 900 s from now, give or take a loaded machine.
  assert.ok(Math.abs(c.Expiration.getTime() - (before + 900000)) < 120000, c.Expiration.toISOString());
  assert.equal(out.AssumedRoleUser.Arn, `arn:aws:sts::${ACCOUNT}:assumed-role/${role}/js-session`);

  const creds = temporary(c);
  const who = await new STSClient(config(creds)).send(new GetCallerIdentityCommand({}));
  assert.equal(who.Account, ACCOUNT);
  assert.equal(who.Arn, `arn:aws:sts::${ACCOUNT}:assumed-role/${role}/js-session`);

  // Another service, on another protocol (JSON 1.1), with the same temporary credentials.
  const logs = new CloudWatchLogsClient(config(creds));
  await logs.send(new CreateLogGroupCommand({ logGroupName: "/js-sdk/assumed" }));
  t.after(() => logs.send(new DeleteLogGroupCommand({ logGroupName: "/js-sdk/assumed" }))
    .catch(() => {}));
  const groups = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: "/js-sdk/assumed" }));
  assert.deepEqual(groups.logGroups.map((g) => g.logGroupName), ["/js-sdk/assumed"]);

  const pipelines = await new CodePipelineClient(config(creds)).send(new ListPipelinesCommand({}));
  assert.ok(Array.isArray(pipelines.pipelines));

  // Session credentials cannot get a session token.
  await rejectsWith(new STSClient(config(creds)).send(new GetSessionTokenCommand({})),
                    "AccessDenied", 403);

  // The temporary key with a token that is not its own, or with none, is refused.
  const forged = { ...creds, sessionToken: creds.sessionToken.slice(0, -4) + "AAAA" };
  await rejectsWith(new STSClient(config(forged)).send(new GetCallerIdentityCommand({})),
                    "InvalidClientTokenId", 403);
  await rejectsWith(new CloudWatchLogsClient(config(forged)).send(new DescribeLogGroupsCommand({})),
                    "UnrecognizedClientException", 400);
  const bare = { accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey };
  await rejectsWith(new STSClient(config(bare)).send(new GetCallerIdentityCommand({})),
                    "InvalidClientTokenId", 403);
});

test("GetSessionToken gives credentials for the caller's own account", { skip }, async () => {
  const out = await sts.send(new GetSessionTokenCommand({ DurationSeconds: 900 }));
  assert.match(out.Credentials.AccessKeyId, /^ASIA/);
  const who = await new STSClient(config(temporary(out.Credentials)))
    .send(new GetCallerIdentityCommand({}));
  assert.equal(who.Account, ACCOUNT);
});

test("STS errors reach the SDK as its named exceptions", { skip }, async () => {
  // Below the model's 900-second minimum.
  await rejectsWith(sts.send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${ACCOUNT}:role/x`,
                                                     RoleSessionName: "s", DurationSeconds: 60 })),
                    "ValidationError", 400);
  const unknown = new STSClient(config({ accessKeyId: "AKIAJSSDKUNKNOWNKEY0", secretAccessKey: "x" }));
  await rejectsWith(unknown.send(new GetCallerIdentityCommand({})), "InvalidClientTokenId", 403,
                    "The security token included in the request is invalid.");
  const wrong = new STSClient(config({ accessKeyId: "test", secretAccessKey: "wrong" }));
  await rejectsWith(wrong.send(new GetCallerIdentityCommand({})), "SignatureDoesNotMatch", 403);
});
