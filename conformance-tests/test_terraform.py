"""Terraform (the hashicorp/aws provider from a filesystem mirror) against the server: the whole
CodePipeline tutorial in one configuration. IAM roles for the pipeline, the build, the deployment
and the deployment's instances, with trust policies, inline policies, a customer managed policy,
AWS managed policy attachments and an instance profile; the versioned artifact bucket with tags,
a public access block and default encryption; the CodeCommit repository; the build's log group
with retention and tags; the CodeBuild project logging to it (variables, logs_config, CODEPIPELINE
source and artifacts, tags); the CodeDeploy application, a custom deployment config and the
deployment group (EC2 tag set, auto rollback); and a V2 pipeline Source (CodeCommit) -> Build
(CodeBuild) -> Approval -> Deploy (CodeDeploy, then S3); and a second V2 pipeline building from
a GitHub repository through a CodeStar connection, with a push trigger.

The provider's endpoints point at the server and no skip_* flag but skip_metadata_api_check is
set, so it validates its credentials with STS GetCallerIdentity and learns its account as it does
against AWS. apply succeeds; a second plan shows no change (-detailed-exitcode 0: every attribute
read back matches what was written, defaults included); an apply of rev=2 updates something in
every kind of resource in place; destroy leaves nothing (checked with boto3).

One configuration and one provider process for the whole test: terraform's own cost (starting
the 700 MB provider, loading its schema) is most of the time, so the tutorial's resources share
it rather than each service having its own Terraform test. Skipped with a message where
terraform or the provider mirror is absent. CPL_TF_LOG=DEBUG (with CPL_TF_LOG_DIR) keeps
terraform's and the provider's logs; CPL_TF_REATTACH=0 lets terraform start the provider itself."""
import glob
import os
import re
import select
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import unittest

from harness import ServerTestCase

ROLE_ARN = "arn:aws:iam::000000000000:role/%s"

MAIN_TF = r'''terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = "5.100.0" }
  }
}

variable "endpoint" { type = string }

# 1 on the first apply; 2 changes something in every kind of resource, applied as updates
variable "rev" {
  type    = number
  default = 1
}

locals {
  second           = var.rev > 1
  pipeline_actions = ["s3:GetObject", "s3:PutObject", "codecommit:GetBranch", "codebuild:StartBuild"]
}

provider "aws" {
  region                  = "us-east-1"
  access_key              = "test"
  secret_key              = "test"
  skip_metadata_api_check = true
  s3_use_path_style       = true
  endpoints {
    sts            = var.endpoint
    iam            = var.endpoint
    s3             = var.endpoint
    codecommit     = var.endpoint
    codebuild      = var.endpoint
    codedeploy     = var.endpoint
    codepipeline   = var.endpoint
    cloudwatchlogs = var.endpoint
    # the connection's API takes the Smithy SDKs' short X-Amz-Target here
    codestarconnections = var.endpoint
  }
}

data "aws_caller_identity" "me" {}

# --- IAM: one role per service, each trusting only its service ---

resource "aws_iam_role" "pipeline" {
  name = "tf-pipeline-role"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "codepipeline.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
  tags = { team = "ci" }
}

resource "aws_iam_role_policy" "pipeline" {
  name = "pipeline-access"
  role = aws_iam_role.pipeline.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = slice(local.pipeline_actions, 0, local.second ? 4 : 3)
      Resource = "*"
    }]
  })
}

resource "aws_iam_role_policy_attachment" "pipeline" {
  role       = aws_iam_role.pipeline.name
  policy_arn = "arn:aws:iam::aws:policy/AWSCodePipeline_FullAccess"
}

resource "aws_iam_role" "build" {
  name        = "tf-codebuild-role"
  description = local.second ? "CodeBuild service role, rev 2" : "CodeBuild service role"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "codebuild.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_policy" "build_logs" {
  name        = "tf-codebuild-logs"
  description = "Lets the build write its log group and read and write artifacts"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect   = "Allow"
        Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
        Resource = "${aws_cloudwatch_log_group.build.arn}:*"
      },
      {
        Effect   = "Allow"
        Action   = ["s3:GetObject", "s3:PutObject"]
        Resource = "${aws_s3_bucket.artifacts.arn}/*"
      },
    ]
  })
}

resource "aws_iam_role_policy_attachment" "build_logs" {
  role       = aws_iam_role.build.name
  policy_arn = aws_iam_policy.build_logs.arn
}

resource "aws_iam_role" "deploy" {
  name = "tf-codedeploy-role"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "codedeploy.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_role_policy_attachment" "deploy" {
  role       = aws_iam_role.deploy.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AWSCodeDeployRole"
}

resource "aws_iam_role" "instance" {
  name = "tf-codedeploy-instance-role"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "ec2.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_role_policy_attachment" "instance" {
  role       = aws_iam_role.instance.name
  policy_arn = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
}

resource "aws_iam_instance_profile" "instance" {
  name = "tf-codedeploy-instance-profile"
  role = aws_iam_role.instance.name
}

# --- storage and source ---

resource "aws_s3_bucket" "artifacts" {
  bucket = "tf-pipeline-artifacts"
  tags   = { team = "ci", rev = tostring(var.rev) }
}

resource "aws_s3_bucket_public_access_block" "artifacts" {
  bucket                  = aws_s3_bucket.artifacts.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_versioning" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_codecommit_repository" "app" {
  repository_name = "tf-app"
  description     = "The tutorial's application"
  tags            = { team = "ci" }
}

# --- build ---

resource "aws_cloudwatch_log_group" "build" {
  name              = "/aws/codebuild/tf-build"
  retention_in_days = local.second ? 14 : 7
  tags              = { team = "ci", rev = tostring(var.rev) }
}

resource "aws_codebuild_project" "build" {
  name         = "tf-build"
  service_role = aws_iam_role.build.arn
  artifacts {
    type = "CODEPIPELINE"
  }
  environment {
    compute_type = "BUILD_GENERAL1_SMALL"
    image        = "aws/codebuild/standard:7.0"
    type         = "LINUX_CONTAINER"
    environment_variable {
      name  = "STAGE"
      value = local.second ? "prod" : "test"
    }
  }
  logs_config {
    cloudwatch_logs {
      group_name  = aws_cloudwatch_log_group.build.name
      stream_name = "tf"
    }
  }
  source {
    type      = "CODEPIPELINE"
    buildspec = "version: 0.2\nphases:\n  build:\n    commands:\n      - echo hi\n"
  }
  tags       = { team = "ci" }
  depends_on = [aws_iam_role_policy_attachment.build_logs]
}

# --- deploy ---

resource "aws_codedeploy_app" "app" {
  name             = "tf-app"
  compute_platform = "Server"
  tags             = { team = "platform" }
}

resource "aws_codedeploy_deployment_config" "cfg" {
  deployment_config_name = "tf-config"
  minimum_healthy_hosts {
    type  = "HOST_COUNT"
    value = 1
  }
}

resource "aws_codedeploy_deployment_group" "dg" {
  app_name               = aws_codedeploy_app.app.name
  deployment_group_name  = "tf-dg"
  service_role_arn       = aws_iam_role.deploy.arn
  deployment_config_name = aws_codedeploy_deployment_config.cfg.id
  ec2_tag_set {
    ec2_tag_filter {
      key   = "Name"
      type  = "KEY_AND_VALUE"
      value = "web"
    }
  }
  auto_rollback_configuration {
    enabled = true
    events  = local.second ? ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_REQUEST"] : ["DEPLOYMENT_FAILURE"]
  }
  tags       = { team = "platform" }
  depends_on = [aws_iam_role_policy_attachment.deploy]
}

# --- the pipeline ---

resource "aws_codepipeline" "demo" {
  name           = "tf-demo"
  role_arn       = aws_iam_role.pipeline.arn
  pipeline_type  = "V2"
  execution_mode = "QUEUED"
  variable {
    name          = "Release"
    default_value = "dev"
    description   = "Release channel"
  }
  artifact_store {
    location = aws_s3_bucket.artifacts.bucket
    type     = "S3"
  }
  stage {
    name = "Source"
    action {
      name             = "Source"
      category         = "Source"
      owner            = "AWS"
      provider         = "CodeCommit"
      version          = "1"
      output_artifacts = ["src"]
      configuration = {
        RepositoryName = aws_codecommit_repository.app.repository_name
        BranchName     = "main"
      }
    }
  }
  stage {
    name = "Build"
    action {
      name             = "Build"
      category         = "Build"
      owner            = "AWS"
      provider         = "CodeBuild"
      version          = "1"
      input_artifacts  = ["src"]
      output_artifacts = ["built"]
      configuration = {
        ProjectName = aws_codebuild_project.build.name
      }
    }
  }
  stage {
    name = "Approve"
    action {
      name     = "Approve"
      category = "Approval"
      owner    = "AWS"
      provider = "Manual"
      version  = "1"
      configuration = {
        CustomData = local.second ? "Ship rev 2?" : "Ship it?"
      }
    }
  }
  stage {
    name = "Deploy"
    action {
      name            = "Deploy"
      category        = "Deploy"
      owner           = "AWS"
      provider        = "CodeDeploy"
      version         = "1"
      input_artifacts = ["built"]
      configuration = {
        ApplicationName     = aws_codedeploy_app.app.name
        DeploymentGroupName = aws_codedeploy_deployment_group.dg.deployment_group_name
      }
    }
    action {
      name            = "Publish"
      category        = "Deploy"
      owner           = "AWS"
      provider        = "S3"
      version         = "1"
      run_order       = 2
      input_artifacts = ["src"]
      configuration = {
        BucketName = aws_s3_bucket.artifacts.bucket
        Extract    = "true"
      }
    }
    # stage conditions and the onFailure result read back as written
    before_entry {
      condition {
        result = "FAIL"
        rule {
          name = "IsRelease"
          rule_type_id {
            category = "Rule"
            owner    = "AWS"
            provider = "VariableCheck"
            version  = "1"
          }
          configuration = {
            Variable = "#{variables.Release}"
            Value    = local.second ? "prod" : "dev"
            Operator = "EQ"
          }
        }
      }
    }
    on_failure {
      result = "ROLLBACK"
    }
  }
  tags       = { team = "ci", rev = tostring(var.rev) }
  depends_on = [aws_iam_role_policy.pipeline, aws_iam_role_policy_attachment.pipeline]
}

# the same build from a GitHub repository through a connection, started by a V2 trigger
resource "aws_codestarconnections_connection" "github" {
  name          = "tf-github"
  provider_type = "GitHub"
}

resource "aws_codepipeline" "github" {
  name          = "tf-github"
  role_arn      = aws_iam_role.pipeline.arn
  pipeline_type = "V2"
  artifact_store {
    location = aws_s3_bucket.artifacts.bucket
    type     = "S3"
  }
  trigger {
    provider_type = "CodeStarSourceConnection"
    git_configuration {
      source_action_name = "Source"
      push {
        branches {
          includes = ["main"]
        }
        file_paths {
          includes = ["src/**"]
        }
      }
    }
  }
  stage {
    name = "Source"
    action {
      name             = "Source"
      category         = "Source"
      owner            = "AWS"
      provider         = "CodeStarSourceConnection"
      version          = "1"
      output_artifacts = ["src"]
      configuration = {
        ConnectionArn    = aws_codestarconnections_connection.github.arn
        FullRepositoryId = "org/app"
        BranchName       = "main"
      }
    }
  }
  stage {
    name = "Build"
    action {
      name            = "Build"
      category        = "Build"
      owner           = "AWS"
      provider        = "CodeBuild"
      version         = "1"
      input_artifacts = ["src"]
      configuration = {
        ProjectName = aws_codebuild_project.build.name
      }
    }
  }
  depends_on = [aws_iam_role_policy.pipeline, aws_iam_role_policy_attachment.pipeline]
}

output "account" { value = data.aws_caller_identity.me.account_id }
'''


def provider_mirror():
    """The filesystem mirror's root (the directory holding registry.terraform.io), or None.
    CPL_TF_MIRROR names it; a named mirror without the provider skips the test."""
    env = os.environ.get("CPL_TF_MIRROR")
    roots = [env] if env else ["/opt/tf-plugins", os.path.expanduser("~/.terraform.d/plugins"),
                               "/usr/share/terraform/plugins", "/usr/local/share/terraform/plugins"]
    for root in roots:
        if glob.glob(os.path.join(root, "registry.terraform.io/hashicorp/aws/*/*/"
                                        "terraform-provider-aws_*")):
            return root
    return None


def provider_binary(mirror):
    found = sorted(glob.glob(os.path.join(mirror, "registry.terraform.io/hashicorp/aws/5.100.0/"
                                                  "*/terraform-provider-aws_*")))
    return found[0] if found else None


def die_with_parent():
    """Runs in the child before exec: a provider in debug mode serves until stopped, so it is
    killed when this test's process dies without stopping it (a ctest timeout)."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class DebugProvider:
    """The AWS provider started once in its debug mode, which serves until stopped and prints the
    TF_REATTACH_PROVIDERS value that makes terraform talk to it instead of starting its own.
    terraform otherwise starts the 700 MB provider three to five times per command (schema,
    validate, plan, apply), 8-17 s each on a loaded 2-core machine: twelve starts were most of this
    test's time."""

    def __init__(self, binary, env, log_path, timeout=300.0):
        self.log = open(log_path, "ab")
        self.proc = subprocess.Popen([binary, "-debug"], env=env, stdout=subprocess.PIPE,
                                     stderr=self.log, preexec_fn=die_with_parent)
        self.reattach = None
        deadline = time.monotonic() + timeout
        buf = b""
        while self.reattach is None and time.monotonic() < deadline:
            ready, _, _ = select.select([self.proc.stdout], [], [], 1.0)
            if not ready:
                if self.proc.poll() is not None:
                    break
                continue
            chunk = os.read(self.proc.stdout.fileno(), 65536)
            if not chunk:
                break
            buf += chunk
            m = re.search(rb"TF_REATTACH_PROVIDERS='([^']+)'", buf)
            if m:
                self.reattach = m.group(1).decode()
        # nothing else is read from stdout: drain it so that the provider never blocks on it
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.log.close()


@unittest.skipUnless(shutil.which("terraform"), "terraform is not on the PATH")
@unittest.skipUnless(provider_mirror(), "no hashicorp/aws provider in a filesystem mirror "
                                        "(set CPL_TF_MIRROR to its root)")
class Terraform(ServerTestCase):
    def clean_env(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TF_"))}
        env.update({"TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1"})
        if os.environ.get("CPL_TF_LOG"):  # e.g. DEBUG: logs kept in CPL_TF_LOG_DIR
            env["TF_LOG"] = os.environ["CPL_TF_LOG"]
        return env

    def terraform(self, *args, ok=(0,)):
        env = self.clean_env()
        env.update({"TF_CLI_CONFIG_FILE": os.path.join(self.dir, "cli.tfrc"),
                    "TF_VAR_endpoint": self.server.endpoint})
        if self.provider and self.provider.reattach and args[0] != "init":
            env["TF_REATTACH_PROVIDERS"] = self.provider.reattach
        if "TF_LOG" in env:
            env["TF_LOG_PATH"] = os.path.join(self.log_dir, "tf-%s.log" % args[0])
        start = time.monotonic()
        p = subprocess.run(["terraform"] + list(args) + ["-no-color"], cwd=self.dir, env=env,
                           capture_output=True, text=True, timeout=600)
        print("terraform %s: %.1fs" % (args[0], time.monotonic() - start), flush=True)
        self.assertIn(p.returncode, ok, "terraform %s (%d):\n%s\n%s\nserver log:\n%s" % (
            " ".join(args), p.returncode, p.stdout[-6000:], p.stderr[-4000:],
            self.server.read_log()))
        return p

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="cpl-tf-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.log_dir = os.environ.get("CPL_TF_LOG_DIR", self.dir)
        mirror = provider_mirror()
        with open(os.path.join(self.dir, "cli.tfrc"), "w") as f:
            f.write('provider_installation {\n'
                    '  filesystem_mirror {\n    path = "%s"\n'
                    '    include = ["registry.terraform.io/hashicorp/aws"]\n  }\n'
                    '  direct {\n    exclude = ["registry.terraform.io/hashicorp/aws"]\n  }\n}\n'
                    % mirror)
        with open(os.path.join(self.dir, "main.tf"), "w") as f:
            f.write(MAIN_TF)
        self.provider = None
        binary = provider_binary(mirror)
        if binary and os.environ.get("CPL_TF_REATTACH", "1") != "0":
            self.provider = DebugProvider(binary, self.clean_env(),
                                          os.path.join(self.log_dir, "tf-provider.log"))
            self.addCleanup(self.provider.stop)
            if not self.provider.reattach:
                print("the provider did not start in debug mode: terraform starts its own",
                      flush=True)

    def check_applied(self):
        iam = self.client("iam")
        self.assertEqual(iam.get_role(RoleName="tf-pipeline-role")["Role"]["Arn"],
                         ROLE_ARN % "tf-pipeline-role")
        self.assertEqual(
            [p["PolicyArn"] for p in iam.list_attached_role_policies(
                RoleName="tf-codedeploy-role")["AttachedPolicies"]],
            ["arn:aws:iam::aws:policy/service-role/AWSCodeDeployRole"])
        self.assertEqual([r["RoleName"] for r in iam.get_instance_profile(
            InstanceProfileName="tf-codedeploy-instance-profile")["InstanceProfile"]["Roles"]],
            ["tf-codedeploy-instance-role"])
        self.assertEqual(
            [p["PolicyName"] for p in iam.list_attached_role_policies(
                RoleName="tf-codebuild-role")["AttachedPolicies"]], ["tf-codebuild-logs"])

        self.assertEqual(self.client("s3").get_bucket_versioning(
            Bucket="tf-pipeline-artifacts")["Status"], "Enabled")

        logs = self.client("logs")
        group = logs.describe_log_groups(logGroupNamePrefix="/aws/codebuild/tf-build")[
            "logGroups"][0]
        self.assertEqual(group["retentionInDays"], 7)
        self.assertEqual(logs.list_tags_for_resource(
            resourceArn=group["logGroupArn"])["tags"], {"team": "ci", "rev": "1"})

        p = self.client("codebuild").batch_get_projects(names=["tf-build"])["projects"][0]
        self.assertEqual(p["serviceRole"], ROLE_ARN % "tf-codebuild-role")
        self.assertEqual(p["environment"]["environmentVariables"],
                         [{"name": "STAGE", "value": "test", "type": "PLAINTEXT"}])
        self.assertEqual(p["logsConfig"]["cloudWatchLogs"],
                         {"status": "ENABLED", "groupName": "/aws/codebuild/tf-build",
                          "streamName": "tf"})
        self.assertEqual(p["source"]["type"], "CODEPIPELINE")
        self.assertEqual(p["tags"], [{"key": "team", "value": "ci"}])

        cd = self.client("codedeploy")
        dg = cd.get_deployment_group(applicationName="tf-app",
                                     deploymentGroupName="tf-dg")["deploymentGroupInfo"]
        self.assertEqual(dg["serviceRoleArn"], ROLE_ARN % "tf-codedeploy-role")
        self.assertEqual(dg["deploymentConfigName"], "tf-config")
        self.assertEqual(dg["autoRollbackConfiguration"],
                         {"enabled": True, "events": ["DEPLOYMENT_FAILURE"]})
        self.assertEqual(dg["ec2TagSet"]["ec2TagSetList"][0][0]["Value"], "web")

        pipeline = self.client("codepipeline").get_pipeline(name="tf-demo")["pipeline"]
        self.assertEqual(pipeline["roleArn"], ROLE_ARN % "tf-pipeline-role")
        self.assertEqual([s["name"] for s in pipeline["stages"]],
                         ["Source", "Build", "Approve", "Deploy"])
        self.assertEqual((pipeline["pipelineType"], pipeline["executionMode"]), ("V2", "QUEUED"))
        github = self.client("codepipeline").get_pipeline(name="tf-github")["pipeline"]
        self.assertEqual(github["triggers"][0]["gitConfiguration"]["push"][0]["branches"],
                         {"includes": ["main"]})

    def check_updated(self):
        """What the rev 2 apply changed, read with boto3."""
        iam = self.client("iam")
        self.assertEqual(iam.get_role(RoleName="tf-codebuild-role")["Role"]["Description"],
                         "CodeBuild service role, rev 2")
        self.assertIn("codebuild:StartBuild", iam.get_role_policy(
            RoleName="tf-pipeline-role", PolicyName="pipeline-access")[
            "PolicyDocument"]["Statement"][0]["Action"])
        self.assertIn({"Key": "rev", "Value": "2"}, self.client("s3").get_bucket_tagging(
            Bucket="tf-pipeline-artifacts")["TagSet"])
        logs = self.client("logs")
        group = logs.describe_log_groups(logGroupNamePrefix="/aws/codebuild/tf-build")[
            "logGroups"][0]
        self.assertEqual(group["retentionInDays"], 14)
        self.assertEqual(logs.list_tags_for_resource(resourceArn=group["logGroupArn"])["tags"],
                         {"team": "ci", "rev": "2"})
        p = self.client("codebuild").batch_get_projects(names=["tf-build"])["projects"][0]
        self.assertEqual(p["environment"]["environmentVariables"],
                         [{"name": "STAGE", "value": "prod", "type": "PLAINTEXT"}])
        dg = self.client("codedeploy").get_deployment_group(
            applicationName="tf-app", deploymentGroupName="tf-dg")["deploymentGroupInfo"]
        self.assertEqual(sorted(dg["autoRollbackConfiguration"]["events"]),
                         ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_REQUEST"])
        cp = self.client("codepipeline")
        pipeline = cp.get_pipeline(name="tf-demo")
        self.assertEqual(pipeline["pipeline"]["stages"][2]["actions"][0]["configuration"],
                         {"CustomData": "Ship rev 2?"})
        self.assertEqual(pipeline["pipeline"]["version"], 2)
        self.assertIn({"key": "rev", "value": "2"}, cp.list_tags_for_resource(
            resourceArn=pipeline["metadata"]["pipelineArn"])["tags"])

    def check_nothing_left(self):
        iam = self.client("iam")
        self.assertEqual(iam.list_roles()["Roles"], [])
        self.assertEqual(iam.list_policies(Scope="Local")["Policies"], [])
        self.assertEqual(iam.list_instance_profiles()["InstanceProfiles"], [])
        self.assertEqual(self.client("s3").list_buckets()["Buckets"], [])
        self.assertEqual(self.client("codecommit").list_repositories()["repositories"], [])
        self.assertEqual(self.client("codebuild").list_projects()["projects"], [])
        self.assertEqual(self.client("logs").describe_log_groups()["logGroups"], [])
        cd = self.client("codedeploy")
        self.assertEqual(cd.list_applications()["applications"], [])
        self.assertNotIn("tf-config", cd.list_deployment_configs()["deploymentConfigsList"])
        self.assertEqual(self.client("codepipeline").list_pipelines()["pipelines"], [])
        self.assertEqual(self.client("codestar-connections").list_connections()["Connections"],
                         [])

    def test_tutorial_apply_plan_without_changes_update_destroy(self):
        self.terraform("init", "-input=false")
        self.terraform("apply", "-auto-approve", "-input=false")
        self.check_applied()
        p = self.terraform("plan", "-detailed-exitcode", "-input=false", ok=(0, 2))
        self.assertEqual(p.returncode, 0, "the second plan wants changes:\n" + p.stdout[-6000:])
        # updates of every kind of resource, in place (a replacement would show as a plan to
        # destroy: its apply output says so)
        p = self.terraform("apply", "-auto-approve", "-input=false", "-var", "rev=2")
        self.assertIn(" 0 added, ", p.stdout)
        self.assertIn(" 0 destroyed", p.stdout)
        self.check_updated()
        # the apply above has just read everything back: destroy needs no refresh of its own
        self.terraform("destroy", "-auto-approve", "-input=false", "-refresh=false", "-var",
                       "rev=2")
        self.check_nothing_left()


if __name__ == "__main__":
    unittest.main()
