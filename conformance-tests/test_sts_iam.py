"""STS and IAM on awsQuery through the AWS CLI and boto3: caller identity per account, temporary
credentials accepted by every service and refused once expired or with a wrong token, the IAM role
and policy life cycle of the CodePipeline tutorial, awsQuery's errors, and the role trust check of
CreatePipeline."""
import json
import os
import time
import unittest
import urllib.parse

from botocore.exceptions import ClientError

from harness import ACCOUNT, REGION, Server, ServerTestCase, raw_request
from test_codepipeline_pipelines import create_artifact_bucket, declaration

OTHER_ACCOUNT = "111122223333"
OTHER_KEY, OTHER_SECRET = "AKIAOTHERACCOUNT0001", "other-secret"

TRUST_CODEPIPELINE = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "codepipeline.amazonaws.com"},
                   "Action": "sts:AssumeRole"}]}
TRUST_CODEBUILD = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "codebuild.amazonaws.com"},
                   "Action": "sts:AssumeRole"}]}
S3_POLICY = {"Version": "2012-10-17",
             "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
                            "Resource": "*"}]}


class CallerIdentity(ServerTestCase):
    credentials = ((OTHER_KEY, OTHER_SECRET, OTHER_ACCOUNT),)

    def test_each_configured_account_is_its_root_user(self):
        for key, secret, account in (("test", "test", ACCOUNT),
                                     ("AKIAIOSFODNN7EXAMPLE",
                                      "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ACCOUNT),
                                     (OTHER_KEY, OTHER_SECRET, OTHER_ACCOUNT)):
            _, out, _ = self.aws("sts", "get-caller-identity", access_key=key, secret_key=secret)
            self.assertEqual(out, {"UserId": account, "Account": account,
                                   "Arn": "arn:aws:iam::%s:root" % account})

    def test_an_unknown_key_is_an_invalid_client_token_id(self):
        sts = self.client("sts", access_key="AKIANOTKNOWN0000000", secret_key="x")
        self.assertClientError(sts.get_caller_identity, "InvalidClientTokenId", 403,
                               "The security token included in the request is invalid.")

    def test_a_bad_signature_is_signature_does_not_match(self):
        sts = self.client("sts", secret_key="wrong")
        self.assertClientError(sts.get_caller_identity, "SignatureDoesNotMatch", 403)


class QueryProtocolErrors(ServerTestCase):
    """Hand-made awsQuery bodies: the protocol's own errors, never a crash."""

    def post(self, body, service="sts"):
        import botocore.auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials
        req = AWSRequest(method="POST", url=self.server.endpoint + "/", data=body.encode(),
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
        botocore.auth.SigV4Auth(Credentials("test", "test"), service, REGION).add_auth(req)
        hdrs = {k: v for k, v in req.headers.items() if k.lower() != "content-length"}
        status, headers, data = raw_request(self.server.endpoint, "POST", "/", req.data, hdrs)
        return status, data.decode() if isinstance(data, bytes) else json.dumps(data)

    def assertQueryError(self, body, status, code, service="sts"):
        got_status, text = self.post(body, service)
        self.assertEqual(got_status, status, text)
        self.assertIn("<Code>%s</Code>" % code, text)
        self.assertIn("<ErrorResponse>", text)
        import xml.etree.ElementTree as ET
        return ET.fromstring(text).find("Error/Message").text

    def test_unknown_action_is_invalid_action(self):
        text = self.assertQueryError("Action=Nope&Version=2011-06-15", 400, "InvalidAction")
        self.assertIn("Could not find operation Nope for version 2011-06-15", text)

    def test_wrong_version_is_invalid_action(self):
        self.assertQueryError("Action=GetCallerIdentity&Version=2010-05-08", 400, "InvalidAction")

    def test_missing_action_and_version(self):
        self.assertQueryError("Version=2011-06-15", 400, "MissingAction")
        self.assertQueryError("Action=GetCallerIdentity", 400, "MissingParameter")

    def test_malformed_form_is_malformed_query_string(self):
        self.assertQueryError("Action=GetCallerIdentity&Version=2011-06-15&x=%zz", 400,
                              "MalformedQueryString")
        self.assertQueryError("Action=GetCallerIdentity&Version=2011-06-15&x=%ff", 400,
                              "MalformedQueryString")

    def test_wrong_type_is_invalid_parameter_value(self):
        self.assertQueryError(
            "Action=AssumeRole&Version=2011-06-15&RoleArn=arn:aws:iam::000000000000:role/r"
            "&RoleSessionName=s&DurationSeconds=abc", 400, "InvalidParameterValue")
        self.assertQueryError(
            "Action=TagRole&Version=2010-05-08&RoleName=r&Tags.member.0.Key=a", 400,
            "InvalidParameterValue", service="iam")

    def test_model_constraints_are_validation_errors_in_lower_camel_case(self):
        text = self.assertQueryError("Action=AssumeRole&Version=2011-06-15&RoleSessionName=ss",
                                     400, "ValidationError")
        self.assertIn("Value null at 'roleArn' failed to satisfy constraint: Member must not be "
                      "null", text)
        text = self.assertQueryError(
            "Action=AssumeRole&Version=2011-06-15&RoleArn=arn:aws:iam::000000000000:role/r"
            "&RoleSessionName=s&DurationSeconds=899", 400, "ValidationError")
        self.assertIn("at 'durationSeconds'", text)

    def test_list_members_are_decoded_from_flattened_names(self):
        iam = self.client("iam")
        iam.create_role(RoleName="flat", AssumeRolePolicyDocument=json.dumps(TRUST_CODEBUILD))
        status, text = self.post("Action=TagRole&Version=2010-05-08&RoleName=flat"
                                 "&Tags.member.1.Key=a&Tags.member.1.Value=1"
                                 "&Tags.member.3.Key=c&Tags.member.3.Value=3", service="iam")
        self.assertEqual(status, 200, text)
        self.assertEqual(iam.list_role_tags(RoleName="flat")["Tags"],
                         [{"Key": "a", "Value": "1"}, {"Key": "c", "Value": "3"}])


class TemporaryCredentials(ServerTestCase):
    # Issued credentials expire this many seconds after issue whatever DurationSeconds says (AWS's
    # minimum is 900 s): the test knob that lets a test see an expiry.
    expiry = 6

    @classmethod
    def setUpClass(cls):
        os.environ["CPL_STS_TEST_EXPIRY_SECONDS"] = str(cls.expiry)
        try:
            super().setUpClass()
        finally:
            del os.environ["CPL_STS_TEST_EXPIRY_SECONDS"]

    def assume(self, account=OTHER_ACCOUNT, role="deployer", session="s1"):
        sts = self.client("sts")
        out = sts.assume_role(RoleArn="arn:aws:iam::%s:role/%s" % (account, role),
                              RoleSessionName=session, DurationSeconds=900)
        return out

    def temp_client(self, service, creds, token=None):
        import boto3
        import botocore.config
        extra = {"signature_version": "s3v4"} if service == "s3" else {}
        return boto3.client(
            service, endpoint_url=self.server.endpoint, region_name=REGION,
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=token if token is not None else creds["SessionToken"],
            config=botocore.config.Config(retries={"max_attempts": 1, "mode": "standard"},
                                          **extra))

    def test_assume_role_issues_credentials_bound_to_the_roles_account(self):
        out = self.assume()
        c = out["Credentials"]
        self.assertRegex(c["AccessKeyId"], r"^ASIA[A-Z2-7]{16}$")
        self.assertEqual(len(c["SecretAccessKey"]), 40)
        self.assertTrue(c["SessionToken"])
        self.assertEqual(out["AssumedRoleUser"]["Arn"],
                         "arn:aws:sts::%s:assumed-role/deployer/s1" % OTHER_ACCOUNT)
        self.assertRegex(out["AssumedRoleUser"]["AssumedRoleId"], r"^AROA[A-Z0-9]{17}:s1$")
        who = self.temp_client("sts", c).get_caller_identity()
        self.assertEqual(who["Account"], OTHER_ACCOUNT)
        self.assertEqual(who["Arn"], out["AssumedRoleUser"]["Arn"])
        self.assertEqual(who["UserId"], out["AssumedRoleUser"]["AssumedRoleId"])

    def test_every_service_accepts_them_until_they_expire(self):
        c = self.assume()["Credentials"]
        cp = self.temp_client("codepipeline", c)
        s3 = self.temp_client("s3", c)
        cc = self.temp_client("codecommit", c)
        iam = self.temp_client("iam", c)
        s3.create_bucket(Bucket="temp-creds-bucket")
        # the bucket belongs to the role's account: the default account does not see it
        self.assertNotIn("temp-creds-bucket",
                         [b["Name"] for b in self.client("s3").list_buckets()["Buckets"]])
        self.assertEqual(cp.list_pipelines()["pipelines"], [])
        cc.create_repository(repositoryName="temp-creds-repo")
        self.assertEqual(iam.list_roles()["Roles"], [])
        # a presigned URL carries the token in its query
        s3.put_object(Bucket="temp-creds-bucket", Key="k", Body=b"v")
        url = s3.generate_presigned_url("get_object",
                                        Params={"Bucket": "temp-creds-bucket", "Key": "k"})
        self.assertIn("X-Amz-Security-Token", url)
        u = urllib.parse.urlparse(url)
        status, _, body = raw_request(self.server.endpoint, "GET", u.path + "?" + u.query)
        self.assertEqual((status, body), (200, b"v"))
        deadline = time.time() + self.expiry + 30
        while time.time() < deadline:
            try:
                cp.list_pipelines()
            except ClientError:
                break
            time.sleep(0.5)
        self.assertClientError(cp.list_pipelines, "ExpiredTokenException", 400,
                               "The security token included in the request is expired")
        self.assertClientError(lambda: s3.head_bucket(Bucket="temp-creds-bucket"), "400", 400)
        err = self.assertClientError(lambda: s3.list_objects_v2(Bucket="temp-creds-bucket"),
                                     "ExpiredToken", 400)
        self.assertEqual(err["Error"]["Message"], "The provided token has expired.")
        self.assertClientError(self.temp_client("sts", c).get_caller_identity, "ExpiredToken",
                               403)
        status, _, _ = raw_request(self.server.endpoint, "GET", u.path + "?" + u.query)
        self.assertEqual(status, 400)

    def test_a_wrong_or_missing_token_is_refused(self):
        c = self.assume()["Credentials"]
        self.assertClientError(self.temp_client("codepipeline", c, token="nope").list_pipelines,
                               "UnrecognizedClientException", 400,
                               "The security token included in the request is invalid.")
        self.assertClientError(self.temp_client("sts", c, token="").get_caller_identity,
                               "InvalidClientTokenId", 403)
        self.assertClientError(self.temp_client("s3", c, token="nope").list_buckets,
                               "InvalidToken", 400)

    def test_get_session_token_is_the_callers_identity(self):
        c = self.client("sts").get_session_token(DurationSeconds=900)["Credentials"]
        self.assertTrue(c["AccessKeyId"].startswith("ASIA"))
        who = self.temp_client("sts", c).get_caller_identity()
        self.assertEqual(who["Arn"], "arn:aws:iam::%s:root" % ACCOUNT)
        self.assertClientError(self.temp_client("sts", c).get_session_token, "AccessDenied", 403)

    def test_cli_assume_role(self):
        _, out, _ = self.aws("sts", "assume-role", "--role-arn",
                             "arn:aws:iam::%s:role/cli" % ACCOUNT, "--role-session-name", "cli")
        self.assertEqual(out["AssumedRoleUser"]["Arn"],
                         "arn:aws:sts::%s:assumed-role/cli/cli" % ACCOUNT)


class TemporaryCredentialsSurviveRestart(unittest.TestCase):
    def test_restart_keeps_unexpired_credentials(self):
        server = Server()
        server.start()
        try:
            tc = ServerTestCase()
            tc.server = server
            c = tc.client("sts").assume_role(RoleArn="arn:aws:iam::%s:role/r" % ACCOUNT,
                                             RoleSessionName="ss")["Credentials"]
            server.restart()
            import boto3
            sts = boto3.client("sts", endpoint_url=server.endpoint, region_name=REGION,
                               aws_access_key_id=c["AccessKeyId"],
                               aws_secret_access_key=c["SecretAccessKey"],
                               aws_session_token=c["SessionToken"])
            self.assertEqual(sts.get_caller_identity()["Arn"],
                             "arn:aws:sts::%s:assumed-role/r/ss" % ACCOUNT)
        finally:
            server.cleanup()


class IamTutorial(ServerTestCase):
    """The role and policy steps of the CodePipeline and CodeDeploy tutorials, through the CLI."""

    def test_role_and_policy_life_cycle(self, name="CodePipelineServiceRole"):
        _, out, _ = self.aws("iam", "create-role", "--role-name", name,
                             "--assume-role-policy-document", json.dumps(TRUST_CODEPIPELINE))
        role = out["Role"]
        self.assertEqual(role["Arn"], "arn:aws:iam::%s:role/%s" % (ACCOUNT, name))
        self.assertRegex(role["RoleId"], r"^AROA[A-Z0-9]{17}$")
        self.assertEqual(role["AssumeRolePolicyDocument"], TRUST_CODEPIPELINE)
        _, out, _ = self.aws("iam", "get-role", "--role-name", name)
        self.assertEqual(out["Role"]["RoleId"], role["RoleId"])
        self.aws("iam", "put-role-policy", "--role-name", name, "--policy-name", "s3",
                 "--policy-document", json.dumps(S3_POLICY))
        _, out, _ = self.aws("iam", "get-role-policy", "--role-name", name, "--policy-name", "s3")
        self.assertEqual(out["PolicyDocument"], S3_POLICY)
        _, out, _ = self.aws("iam", "list-role-policies", "--role-name", name)
        self.assertEqual(out["PolicyNames"], ["s3"])
        for arn in ("arn:aws:iam::aws:policy/AWSCodePipeline_FullAccess",
                    "arn:aws:iam::aws:policy/service-role/AWSCodeDeployRole"):
            self.aws("iam", "attach-role-policy", "--role-name", name, "--policy-arn", arn)
        _, out, _ = self.aws("iam", "list-attached-role-policies", "--role-name", name)
        self.assertEqual([p["PolicyName"] for p in out["AttachedPolicies"]],
                         ["AWSCodePipeline_FullAccess", "AWSCodeDeployRole"])
        rc, _, err = self.aws("iam", "delete-role", "--role-name", name, check=False)
        self.assertIn("DeleteConflict", err)
        self.aws("iam", "tag-role", "--role-name", name, "--tags", "Key=team,Value=ci")
        _, out, _ = self.aws("iam", "list-role-tags", "--role-name", name)
        self.assertEqual(out["Tags"], [{"Key": "team", "Value": "ci"}])
        self.aws("iam", "untag-role", "--role-name", name, "--tag-keys", "team")
        self.aws("iam", "update-assume-role-policy", "--role-name", name, "--policy-document",
                 json.dumps(TRUST_CODEBUILD))
        self.aws("iam", "update-role", "--role-name", name, "--description", "d")
        _, out, _ = self.aws("iam", "get-role", "--role-name", name)
        self.assertEqual(out["Role"]["Description"], "d")
        self.assertEqual(out["Role"]["AssumeRolePolicyDocument"], TRUST_CODEBUILD)
        for arn in ("arn:aws:iam::aws:policy/AWSCodePipeline_FullAccess",
                    "arn:aws:iam::aws:policy/service-role/AWSCodeDeployRole"):
            self.aws("iam", "detach-role-policy", "--role-name", name, "--policy-arn", arn)
        self.aws("iam", "delete-role-policy", "--role-name", name, "--policy-name", "s3")
        self.aws("iam", "delete-role", "--role-name", name)
        rc, _, err = self.aws("iam", "get-role", "--role-name", name, check=False)
        self.assertIn("NoSuchEntity", err)
        self.assertIn("The role with name %s cannot be found." % name, err)

    def test_malformed_policies_are_refused(self):
        iam = self.client("iam")
        self.assertClientError(lambda: iam.create_role(RoleName="bad",
                                                       AssumeRolePolicyDocument="{nope"),
                               "MalformedPolicyDocument", 400, "This policy contains invalid Json")
        self.assertClientError(
            lambda: iam.create_role(RoleName="bad", AssumeRolePolicyDocument=json.dumps(
                {"Version": "2012-10-17", "Statement": [{"Effect": "Maybe", "Action": "x",
                                                          "Principal": "*"}]})),
            "MalformedPolicyDocument", 400)
        self.assertClientError(lambda: iam.get_role(RoleName="bad"), "NoSuchEntity", 404)

    def test_managed_policies_and_versions(self):
        iam = self.client("iam")
        p = iam.create_policy(PolicyName="pipeline-s3", PolicyDocument=json.dumps(S3_POLICY))
        arn = p["Policy"]["Arn"]
        self.assertEqual(arn, "arn:aws:iam::%s:policy/pipeline-s3" % ACCOUNT)
        self.assertClientError(lambda: iam.create_policy(PolicyName="pipeline-s3",
                                                         PolicyDocument=json.dumps(S3_POLICY)),
                               "EntityAlreadyExists", 409)
        v2 = iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(S3_POLICY),
                                       SetAsDefault=True)["PolicyVersion"]
        self.assertEqual((v2["VersionId"], v2["IsDefaultVersion"]), ("v2", True))
        self.assertEqual(iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"], "v2")
        got = iam.get_policy_version(PolicyArn=arn, VersionId="v1")["PolicyVersion"]
        doc = got["Document"]
        self.assertEqual(doc if isinstance(doc, dict) else json.loads(urllib.parse.unquote(doc)),
                         S3_POLICY)
        self.assertEqual([v["VersionId"] for v in
                          iam.list_policy_versions(PolicyArn=arn)["Versions"]], ["v2", "v1"])
        self.assertClientError(lambda: iam.delete_policy_version(PolicyArn=arn, VersionId="v2"),
                               "DeleteConflict", 409)
        iam.set_default_policy_version(PolicyArn=arn, VersionId="v1")
        iam.delete_policy_version(PolicyArn=arn, VersionId="v2")
        iam.create_role(RoleName="attached", AssumeRolePolicyDocument=json.dumps(TRUST_CODEBUILD))
        iam.attach_role_policy(RoleName="attached", PolicyArn=arn)
        self.assertEqual(iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"], 1)
        self.assertClientError(lambda: iam.delete_policy(PolicyArn=arn), "DeleteConflict", 409)
        self.assertIn(arn, [x["Arn"] for x in iam.list_policies(Scope="Local")["Policies"]])
        self.assertIn("arn:aws:iam::aws:policy/AmazonS3FullAccess",
                      [x["Arn"] for x in iam.list_policies(Scope="AWS")["Policies"]])
        iam.detach_role_policy(RoleName="attached", PolicyArn=arn)
        iam.delete_policy(PolicyArn=arn)
        self.assertClientError(lambda: iam.get_policy(PolicyArn=arn), "NoSuchEntity", 404)
        self.assertClientError(
            lambda: iam.attach_role_policy(RoleName="attached",
                                           PolicyArn="arn:aws:iam::aws:policy/NoSuchPolicy"),
            "NoSuchEntity", 404)

    def test_instance_profiles(self):
        iam = self.client("iam")
        iam.create_role(RoleName="ec2-deploy", AssumeRolePolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                     "Principal": {"Service": "ec2.amazonaws.com"}}]}))
        ip = iam.create_instance_profile(InstanceProfileName="deploy-profile")["InstanceProfile"]
        self.assertRegex(ip["InstanceProfileId"], r"^AIPA[A-Z0-9]{17}$")
        iam.add_role_to_instance_profile(InstanceProfileName="deploy-profile",
                                         RoleName="ec2-deploy")
        got = iam.get_instance_profile(InstanceProfileName="deploy-profile")["InstanceProfile"]
        self.assertEqual([r["RoleName"] for r in got["Roles"]], ["ec2-deploy"])
        self.assertEqual([p["InstanceProfileName"] for p in
                          iam.list_instance_profiles_for_role(RoleName="ec2-deploy")[
                              "InstanceProfiles"]], ["deploy-profile"])
        self.assertClientError(lambda: iam.delete_role(RoleName="ec2-deploy"), "DeleteConflict",
                               409)
        self.assertClientError(
            lambda: iam.delete_instance_profile(InstanceProfileName="deploy-profile"),
            "DeleteConflict", 409)
        iam.remove_role_from_instance_profile(InstanceProfileName="deploy-profile",
                                              RoleName="ec2-deploy")
        iam.delete_instance_profile(InstanceProfileName="deploy-profile")
        iam.delete_role(RoleName="ec2-deploy")
        self.assertEqual(iam.list_instance_profiles()["InstanceProfiles"], [])

    def test_iam_is_per_account(self):
        self.client("iam").create_role(RoleName="mine",
                                       AssumeRolePolicyDocument=json.dumps(TRUST_CODEBUILD))
        self.assertEqual(self.client("iam", region="eu-west-1").get_role(RoleName="mine")[
            "Role"]["RoleName"], "mine")


class RoleTrustCheck(ServerTestCase):
    def setUp(self):
        create_artifact_bucket(self.server)

    def test_create_pipeline_needs_a_role_that_trusts_codepipeline(self):
        iam = self.client("iam")
        cp = self.client("codepipeline")
        iam.create_role(RoleName="build-only",
                        AssumeRolePolicyDocument=json.dumps(TRUST_CODEBUILD))
        iam.create_role(RoleName="pipeline", AssumeRolePolicyDocument=json.dumps(
            TRUST_CODEPIPELINE))
        bad = "arn:aws:iam::%s:role/build-only" % ACCOUNT
        decl = declaration("trust-demo")
        decl["roleArn"] = bad
        self.assertClientError(lambda: cp.create_pipeline(pipeline=decl),
                               "InvalidStructureException", 400,
                               "CodePipeline is not authorized to perform AssumeRole on role %s"
                               % bad)
        decl["roleArn"] = "arn:aws:iam::%s:role/pipeline" % ACCOUNT
        cp.create_pipeline(pipeline=decl)
        decl["roleArn"] = bad
        self.assertClientError(lambda: cp.update_pipeline(pipeline=decl),
                               "InvalidStructureException", 400)
        # a role IAM here has never seen is accepted, as before IAM was emulated
        decl["roleArn"] = "arn:aws:iam::%s:role/never-created" % ACCOUNT
        cp.update_pipeline(pipeline=decl)



class IamPagination(ServerTestCase):
    """Every IAM list pages with Marker, MaxItems and IsTruncated, as boto3's paginators expect."""

    def pages(self, op, key, page_size, **kw):
        it = self.iam.get_paginator(op).paginate(PaginationConfig={"PageSize": page_size}, **kw)
        pages = list(it)
        return pages, [x for p in pages for x in p[key]]

    def setUp(self):
        self.iam = self.client("iam")

    def test_lists_page_with_markers(self):
        doc = json.dumps(TRUST_CODEBUILD)
        names = ["pg-%02d" % i for i in range(7)]
        for n in names:
            self.iam.create_role(RoleName=n, Path="/pg/", AssumeRolePolicyDocument=doc)
        pages, roles = self.pages("list_roles", "Roles", 3, PathPrefix="/pg/")
        self.assertEqual([len(p["Roles"]) for p in pages], [3, 3, 1])
        self.assertEqual([p["IsTruncated"] for p in pages], [True, True, False])
        self.assertTrue(all("Marker" in p for p in pages[:2]) and "Marker" not in pages[2])
        self.assertEqual([r["RoleName"] for r in roles], names)
        # a plain call gives the first page and the marker of the next
        first = self.iam.list_roles(PathPrefix="/pg/", MaxItems=5)
        self.assertEqual(len(first["Roles"]), 5)
        self.assertTrue(first["IsTruncated"])
        rest = self.iam.list_roles(PathPrefix="/pg/", MaxItems=5, Marker=first["Marker"])
        self.assertEqual([r["RoleName"] for r in rest["Roles"]], names[5:])
        self.assertFalse(rest["IsTruncated"])
        self.assertClientError(lambda: self.iam.list_roles(Marker="not-a-marker"),
                               "ValidationError", 400, "Invalid Marker.")

        role = names[0]
        for i in range(5):
            self.iam.put_role_policy(RoleName=role, PolicyName="inline-%d" % i,
                                     PolicyDocument=json.dumps(S3_POLICY))
        pages, got = self.pages("list_role_policies", "PolicyNames", 2, RoleName=role)
        self.assertEqual(len(pages), 3)
        self.assertEqual(sorted(got), ["inline-%d" % i for i in range(5)])

        arns = []
        for i in range(4):
            arns.append(self.iam.create_policy(PolicyName="pg-pol-%d" % i, Path="/pg/",
                                               PolicyDocument=json.dumps(S3_POLICY))
                        ["Policy"]["Arn"])
            self.iam.attach_role_policy(RoleName=role, PolicyArn=arns[-1])
        pages, got = self.pages("list_attached_role_policies", "AttachedPolicies", 3,
                                RoleName=role)
        self.assertEqual(len(pages), 2)
        self.assertEqual([a["PolicyArn"] for a in got], arns)
        pages, got = self.pages("list_policies", "Policies", 3, Scope="Local", PathPrefix="/pg/")
        self.assertEqual([len(p["Policies"]) for p in pages], [3, 1])
        self.assertEqual([p["Arn"] for p in got], arns)
        # AWS's managed policies and this account's together, each listed once
        _, every = self.pages("list_policies", "Policies", 4)
        every = [p["Arn"] for p in every]
        self.assertEqual(len(every), len(set(every)))
        self.assertIn("arn:aws:iam::aws:policy/AWSCodePipeline_FullAccess", every)
        self.assertTrue(set(arns) <= set(every))

        for i in range(3):
            self.iam.create_policy_version(PolicyArn=arns[0], SetAsDefault=True,
                                           PolicyDocument=json.dumps(S3_POLICY))
        pages, got = self.pages("list_policy_versions", "Versions", 3, PolicyArn=arns[0])
        self.assertEqual([len(p["Versions"]) for p in pages], [3, 1])
        self.assertEqual([v["VersionId"] for v in got], ["v4", "v3", "v2", "v1"])

        for i in range(3):
            self.iam.create_instance_profile(InstanceProfileName="pg-ip-%d" % i, Path="/pg/")
            self.iam.add_role_to_instance_profile(InstanceProfileName="pg-ip-%d" % i,
                                                  RoleName=role)
        pages, got = self.pages("list_instance_profiles", "InstanceProfiles", 2,
                                PathPrefix="/pg/")
        self.assertEqual([len(p["InstanceProfiles"]) for p in pages], [2, 1])
        pages, got = self.pages("list_instance_profiles_for_role", "InstanceProfiles", 2,
                                RoleName=role)
        self.assertEqual([len(p["InstanceProfiles"]) for p in pages], [2, 1])
        self.assertEqual([p["InstanceProfileName"] for p in got],
                         ["pg-ip-%d" % i for i in range(3)])

        self.iam.tag_role(RoleName=role, Tags=[{"Key": "k%d" % i, "Value": str(i)}
                                               for i in range(5)])
        first = self.iam.list_role_tags(RoleName=role, MaxItems=4)
        self.assertEqual(len(first["Tags"]), 4)
        self.assertTrue(first["IsTruncated"])
        rest = self.iam.list_role_tags(RoleName=role, MaxItems=4, Marker=first["Marker"])
        self.assertEqual(rest["Tags"], [{"Key": "k4", "Value": "4"}])
        self.assertFalse(rest["IsTruncated"])
        self.assertNotIn("Marker", rest)


if __name__ == "__main__":
    unittest.main()
