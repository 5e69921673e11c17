"""Terraform's AWS provider against CodeDeploy: aws_codedeploy_app, aws_codedeploy_deployment_group
(ec2_tag_set, auto_rollback_configuration) and aws_codedeploy_deployment_config apply, show an
empty second plan and destroy. Skipped where terraform or the provider mirror is absent."""
import glob
import os
import shutil
import subprocess
import tempfile
import unittest

from harness import ServerTestCase

MIRROR_GLOB = "/opt/tf-plugins/registry.terraform.io/hashicorp/aws/*/*/terraform-provider-aws_*"

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
    codedeploy = "%(endpoint)s"
  }
}
resource "aws_codedeploy_app" "app" {
  name             = "tf-app"
  compute_platform = "Server"
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
  service_role_arn       = "arn:aws:iam::000000000000:role/codedeploy"
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
    events  = ["DEPLOYMENT_FAILURE"]
  }
  tags = { team = "platform" }
}
"""


def mirror_root():
    found = glob.glob(MIRROR_GLOB)
    if not found:
        return None
    # <root>/registry.terraform.io/hashicorp/aws/<version>/<platform>/<binary>
    return found[0].split("/registry.terraform.io/")[0]


@unittest.skipUnless(shutil.which("terraform"), "terraform is not installed here")
@unittest.skipUnless(mirror_root(), "no filesystem mirror of the AWS provider here")
class Terraform(ServerTestCase):
    def tf(self, *args, expect=(0,)):
        p = subprocess.run(["terraform"] + list(args) + ["-input=false", "-no-color"],
                           cwd=self.dir, env=self.tf_env, capture_output=True, text=True,
                           timeout=600)
        self.assertIn(p.returncode, expect, p.stdout[-3000:] + p.stderr[-3000:])
        return p

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="cpl-tf-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        with open(os.path.join(self.dir, "cli.tfrc"), "w") as f:
            f.write('provider_installation {\n'
                    '  filesystem_mirror {\n    path = "%s"\n'
                    '    include = ["registry.terraform.io/hashicorp/aws"]\n  }\n'
                    '  direct {\n    exclude = ["registry.terraform.io/hashicorp/aws"]\n  }\n}\n'
                    % mirror_root())
        with open(os.path.join(self.dir, "main.tf"), "w") as f:
            f.write(MAIN_TF % {"endpoint": self.server.endpoint})
        self.tf_env = self.env()
        self.tf_env.update({"TF_CLI_CONFIG_FILE": os.path.join(self.dir, "cli.tfrc"),
                            "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1",
                            "TF_DATA_DIR": os.path.join(self.dir, ".terraform")})

    def test_apply_empty_plan_destroy(self):
        self.tf("init")
        self.tf("apply", "-auto-approve")
        cd = self.client("codedeploy")
        group = cd.get_deployment_group(applicationName="tf-app",
                                        deploymentGroupName="tf-dg")["deploymentGroupInfo"]
        self.assertEqual(group["deploymentConfigName"], "tf-config")
        self.assertEqual(group["autoRollbackConfiguration"],
                         {"enabled": True, "events": ["DEPLOYMENT_FAILURE"]})
        self.assertEqual(group["ec2TagSet"]["ec2TagSetList"][0][0]["Value"], "web")
        # detailed-exitcode: 0 when there is nothing to change, 2 when there is
        self.tf("plan", "-detailed-exitcode")
        self.tf("destroy", "-auto-approve")
        self.assertEqual(cd.list_applications()["applications"], [])
        self.assertNotIn("tf-config", cd.list_deployment_configs()["deploymentConfigsList"])


if __name__ == "__main__":
    unittest.main()
