"""Terraform (the hashicorp/aws provider from a filesystem mirror) against the server: IAM role,
inline policy and managed policy attachment, an S3 bucket, a CodeCommit repository and a
CodePipeline pipeline using the role. The provider's endpoints point at the server and no skip_*
flag but skip_metadata_api_check is set, so it validates its credentials with STS
GetCallerIdentity as it does against AWS. apply succeeds, a second plan shows no change
(-detailed-exitcode 0: every attribute read back matches what was written), destroy leaves
nothing. Skipped with a message where terraform or the provider mirror is absent."""
import glob
import os
import shutil
import subprocess
import tempfile
import unittest

from harness import ServerTestCase

MAIN_TF = r'''terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = "5.100.0" }
  }
}

variable "endpoint" { type = string }

provider "aws" {
  region                   = "us-east-1"
  access_key               = "test"
  secret_key               = "test"
  skip_metadata_api_check  = true
  s3_use_path_style        = true
  endpoints {
    sts          = var.endpoint
    iam          = var.endpoint
    s3           = var.endpoint
    codecommit   = var.endpoint
    codepipeline = var.endpoint
  }
}

data "aws_caller_identity" "me" {}

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
      Action   = ["s3:GetObject", "s3:PutObject", "codecommit:GetBranch"]
      Resource = "*"
    }]
  })
}

resource "aws_iam_role_policy_attachment" "pipeline" {
  role       = aws_iam_role.pipeline.name
  policy_arn = "arn:aws:iam::aws:policy/AWSCodePipeline_FullAccess"
}

resource "aws_s3_bucket" "artifacts" {
  bucket = "tf-pipeline-artifacts"
}

resource "aws_codecommit_repository" "app" {
  repository_name = "tf-app"
}

resource "aws_codepipeline" "demo" {
  name     = "tf-demo"
  role_arn = aws_iam_role.pipeline.arn
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
    name = "Deploy"
    action {
      name            = "Deploy"
      category        = "Deploy"
      owner           = "AWS"
      provider        = "S3"
      version         = "1"
      input_artifacts = ["src"]
      configuration = {
        BucketName = aws_s3_bucket.artifacts.bucket
        Extract    = "true"
      }
    }
  }
  depends_on = [aws_iam_role_policy.pipeline, aws_iam_role_policy_attachment.pipeline]
}

output "account" { value = data.aws_caller_identity.me.account_id }
'''


def provider_mirror():
    """The filesystem mirror's root (the directory holding registry.terraform.io), or None."""
    env = os.environ.get("CPL_TF_MIRROR")
    if env:
        return env
    for root in ("/opt/tf-plugins", os.path.expanduser("~/.terraform.d/plugins"),
                 "/usr/share/terraform/plugins", "/usr/local/share/terraform/plugins"):
        if glob.glob(os.path.join(root, "registry.terraform.io/hashicorp/aws/*/*/"
                                        "terraform-provider-aws_*")):
            return root
    return None


@unittest.skipUnless(shutil.which("terraform"), "terraform is not on the PATH")
@unittest.skipUnless(provider_mirror(), "no hashicorp/aws provider in a filesystem mirror "
                                        "(set CPL_TF_MIRROR to its root)")
class Terraform(ServerTestCase):
    def terraform(self, *args, ok=(0,)):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TF_"))}
        env.update({"TF_CLI_CONFIG_FILE": os.path.join(self.dir, "cli.tfrc"),
                    "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1",
                    "TF_VAR_endpoint": self.server.endpoint})
        p = subprocess.run(["terraform"] + list(args) + ["-no-color"], cwd=self.dir, env=env,
                           capture_output=True, text=True, timeout=600)
        self.assertIn(p.returncode, ok, "terraform %s (%d):\n%s\n%s\nserver log:\n%s" % (
            " ".join(args), p.returncode, p.stdout[-6000:], p.stderr[-4000:],
            self.server.read_log()))
        return p

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="cpl-tf-")
        with open(os.path.join(self.dir, "cli.tfrc"), "w") as f:
            f.write('provider_installation {\n  filesystem_mirror {\n    path = "%s"\n  }\n}\n'
                    % provider_mirror())
        with open(os.path.join(self.dir, "main.tf"), "w") as f:
            f.write(MAIN_TF)

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def test_apply_plan_without_changes_destroy(self):
        self.terraform("init", "-input=false")
        self.terraform("apply", "-auto-approve", "-input=false")
        self.assertEqual(self.client("iam").get_role(RoleName="tf-pipeline-role")["Role"]["Arn"],
                         "arn:aws:iam::000000000000:role/tf-pipeline-role")
        self.assertEqual(self.client("codepipeline").get_pipeline(name="tf-demo")["pipeline"][
            "roleArn"], "arn:aws:iam::000000000000:role/tf-pipeline-role")
        p = self.terraform("plan", "-detailed-exitcode", "-input=false", ok=(0, 2))
        self.assertEqual(p.returncode, 0, "the second plan wants changes:\n" + p.stdout[-6000:])
        self.terraform("destroy", "-auto-approve", "-input=false")
        self.assertEqual(self.client("iam").list_roles()["Roles"], [])
        self.assertEqual(self.client("s3").list_buckets()["Buckets"], [])
        self.assertEqual(self.client("codecommit").list_repositories()["repositories"], [])
        self.assertEqual(self.client("codepipeline").list_pipelines()["pipelines"], [])


if __name__ == "__main__":
    unittest.main()
