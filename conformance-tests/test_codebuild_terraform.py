"""Terraform's aws_codebuild_project against the server: apply, an empty second plan, destroy.
Skipped where terraform or the AWS provider's filesystem mirror is absent."""
import glob
import os
import shutil
import subprocess
import tempfile
import unittest

from harness import ServerTestCase

MIRROR = os.environ.get("CPL_TF_MIRROR", "/opt/tf-plugins")
HAVE_TF = shutil.which("terraform") is not None and bool(
    glob.glob(os.path.join(MIRROR, "registry.terraform.io", "hashicorp", "aws", "*")))

MAIN_TF = """
terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}
provider "aws" {
  region                      = "us-east-1"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  endpoints {
    codebuild = "%(endpoint)s"
    s3        = "%(endpoint)s"
  }
}
resource "aws_codebuild_project" "p" {
  name         = "tf-project"
  service_role = "arn:aws:iam::000000000000:role/cb"
  artifacts {
    type = "CODEPIPELINE"
  }
  environment {
    compute_type = "BUILD_GENERAL1_SMALL"
    image        = "aws/codebuild/standard:7.0"
    type         = "LINUX_CONTAINER"
    environment_variable {
      name  = "STAGE"
      value = "test"
    }
  }
  logs_config {
    cloudwatch_logs {
      group_name  = "builds"
      stream_name = "tf"
    }
  }
  source {
    type      = "CODEPIPELINE"
    buildspec = "version: 0.2\\nphases:\\n  build:\\n    commands:\\n      - echo hi\\n"
  }
  tags = { team = "ci" }
}
"""

CLI_CONFIG = """
provider_installation {
  filesystem_mirror {
    path    = "%s"
    include = ["registry.terraform.io/hashicorp/aws"]
  }
  direct {
    exclude = ["registry.terraform.io/hashicorp/aws"]
  }
}
"""


@unittest.skipUnless(HAVE_TF, "terraform or the AWS provider mirror (%s) is absent" % MIRROR)
class TerraformCodeBuildProject(ServerTestCase):
    def tf(self, *args, ok=(0,)):
        p = subprocess.run(["terraform"] + list(args) + ["-input=false", "-no-color"],
                           cwd=self.dir, env=self.tf_env, capture_output=True, text=True,
                           timeout=300)
        self.assertIn(p.returncode, ok, p.stdout[-3000:] + p.stderr[-3000:])
        return p.returncode

    def test_apply_then_an_empty_plan_then_destroy(self):
        self.dir = tempfile.mkdtemp(prefix="cpl-tf-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        with open(os.path.join(self.dir, "main.tf"), "w") as f:
            f.write(MAIN_TF % {"endpoint": self.server.endpoint})
        cli = os.path.join(self.dir, "cli.tfrc")
        with open(cli, "w") as f:
            f.write(CLI_CONFIG % MIRROR)
        self.tf_env = dict(self.env(), TF_CLI_CONFIG_FILE=cli, TF_IN_AUTOMATION="1",
                           CHECKPOINT_DISABLE="1")
        self.tf("init")
        self.tf("apply", "-auto-approve")
        p = self.client("codebuild").batch_get_projects(names=["tf-project"])["projects"][0]
        self.assertEqual(p["environment"]["environmentVariables"],
                         [{"name": "STAGE", "value": "test", "type": "PLAINTEXT"}])
        self.assertEqual(p["logsConfig"]["cloudWatchLogs"],
                         {"status": "ENABLED", "groupName": "builds", "streamName": "tf"})
        self.assertEqual(p["source"]["type"], "CODEPIPELINE")
        self.assertEqual(p["tags"], [{"key": "team", "value": "ci"}])
        self.assertEqual(self.tf("plan", "-detailed-exitcode", ok=(0, 2)), 0,
                         "the second plan is not empty")
        self.tf("destroy", "-auto-approve")
        self.assertEqual(self.client("codebuild").batch_get_projects(
            names=["tf-project"])["projectsNotFound"], ["tf-project"])


if __name__ == "__main__":
    unittest.main()
