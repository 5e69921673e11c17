// IAM through the AWS SDK for JavaScript v3 (awsQuery): a service role's life as infrastructure
// tools create and destroy it, and IAM's errors as the SDK names them. Skipped while the server
// answers that IAM is not emulated.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  IAMClient, CreateRoleCommand, GetRoleCommand, PutRolePolicyCommand, GetRolePolicyCommand,
  ListRolePoliciesCommand, AttachRolePolicyCommand, ListAttachedRolePoliciesCommand,
  DetachRolePolicyCommand, DeleteRolePolicyCommand, DeleteRoleCommand, TagRoleCommand,
  ListRoleTagsCommand,
} from "@aws-sdk/client-iam";
import { ACCOUNT, config, rejectsWith, skipUnlessServed } from "./common.mjs";

const iam = new IAMClient(config());
const skip = await skipUnlessServed("IAM", () => iam.send(new GetRoleCommand({ RoleName: "probe" })));

const trust = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "sts:AssumeRole",
  Principal: { Service: "codepipeline.amazonaws.com" } }] };
const inline = { Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Action: ["s3:GetObject", "s3:PutObject"], Resource: "*" }] };
const managed = "arn:aws:iam::aws:policy/AWSCodePipeline_FullAccess";

test("a role's life: create, inline and managed policies, read back, delete", { skip }, async (t) => {
  const name = "js-sdk-pipeline-role";
  const created = await iam.send(new CreateRoleCommand({
    RoleName: name, Path: "/service-role/", AssumeRolePolicyDocument: JSON.stringify(trust),
    Description: "made by the JavaScript SDK test", Tags: [{ Key: "team", Value: "js" }] }));
  t.after(() => iam.send(new DeleteRoleCommand({ RoleName: name })).catch(() => {}));
  assert.equal(created.Role.RoleName, name);
  assert.equal(created.Role.Arn, `arn:aws:iam::${ACCOUNT}:role/service-role/${name}`);
  assert.match(created.Role.RoleId, /^AROA[A-Z0-9]{17}$/);
  assert.ok(created.Role.CreateDate instanceof Date, "CreateDate parsed as a Date");

  await iam.send(new PutRolePolicyCommand({ RoleName: name, PolicyName: "artifacts",
                                            PolicyDocument: JSON.stringify(inline) }));
  await iam.send(new AttachRolePolicyCommand({ RoleName: name, PolicyArn: managed }));

  const got = await iam.send(new GetRoleCommand({ RoleName: name }));
  assert.equal(got.Role.Arn, created.Role.Arn);
  assert.equal(got.Role.RoleId, created.Role.RoleId);
  assert.equal(got.Role.Path, "/service-role/");
  assert.equal(got.Role.Description, "made by the JavaScript SDK test");
  // IAM sends policy documents URL-encoded and the SDK hands them over as they came.
  assert.deepEqual(JSON.parse(decodeURIComponent(got.Role.AssumeRolePolicyDocument)), trust);
  const pol = await iam.send(new GetRolePolicyCommand({ RoleName: name, PolicyName: "artifacts" }));
  assert.deepEqual(JSON.parse(decodeURIComponent(pol.PolicyDocument)), inline);
  const names = await iam.send(new ListRolePoliciesCommand({ RoleName: name }));
  assert.deepEqual(names.PolicyNames, ["artifacts"]);
  const att = await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: name }));
  assert.deepEqual(att.AttachedPolicies,
                   [{ PolicyName: "AWSCodePipeline_FullAccess", PolicyArn: managed }]);
  assert.equal(att.IsTruncated, false);

  await iam.send(new TagRoleCommand({ RoleName: name, Tags: [{ Key: "env", Value: "dev" }] }));
  const tags = await iam.send(new ListRoleTagsCommand({ RoleName: name }));
  assert.deepEqual(tags.Tags, [{ Key: "team", Value: "js" }, { Key: "env", Value: "dev" }]);

  // A role with policies cannot be deleted: tools detach and delete them first.
  await rejectsWith(iam.send(new DeleteRoleCommand({ RoleName: name })),
                    "DeleteConflictException", 409);
  await iam.send(new DeleteRolePolicyCommand({ RoleName: name, PolicyName: "artifacts" }));
  await iam.send(new DetachRolePolicyCommand({ RoleName: name, PolicyArn: managed }));
  await iam.send(new DeleteRoleCommand({ RoleName: name }));
  await rejectsWith(iam.send(new GetRoleCommand({ RoleName: name })), "NoSuchEntityException",
                    404, `The role with name ${name} cannot be found.`);
});

test("IAM errors reach the SDK as its named exceptions", { skip }, async (t) => {
  const name = "js-sdk-errors-role";
  await rejectsWith(iam.send(new GetRoleCommand({ RoleName: "js-sdk-none" })),
                    "NoSuchEntityException", 404, "The role with name js-sdk-none cannot be found.");
  await rejectsWith(iam.send(new DeleteRoleCommand({ RoleName: "js-sdk-none" })),
                    "NoSuchEntityException", 404);
  await rejectsWith(iam.send(new CreateRoleCommand({ RoleName: name,
                                                     AssumeRolePolicyDocument: "{not json" })),
                    "MalformedPolicyDocumentException", 400);
  await iam.send(new CreateRoleCommand({ RoleName: name,
                                         AssumeRolePolicyDocument: JSON.stringify(trust) }));
  t.after(() => iam.send(new DeleteRoleCommand({ RoleName: name })).catch(() => {}));
  await rejectsWith(iam.send(new CreateRoleCommand({ RoleName: name,
                                                     AssumeRolePolicyDocument: JSON.stringify(trust) })),
                    "EntityAlreadyExistsException", 409);
  await rejectsWith(iam.send(new AttachRolePolicyCommand({
    RoleName: name, PolicyArn: "arn:aws:iam::aws:policy/JsSdkNoSuchPolicy" })),
                    "NoSuchEntityException", 404);
  await rejectsWith(iam.send(new DeleteRolePolicyCommand({ RoleName: name, PolicyName: "none" })),
                    "NoSuchEntityException", 404);
  // The model's constraints, checked by the server, come back as ValidationError.
  const bad = await rejectsWith(iam.send(new GetRoleCommand({ RoleName: "bad name!" })),
                                "ValidationError", 400);
  assert.match(bad.$metadata.requestId, /\S/);
});
