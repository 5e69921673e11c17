"""CodeDeploy's resources through `aws deploy` and boto3: applications, revisions, deployment
configs, deployment groups, on-premises instances and tags, with AWS's errors."""
import unittest

from harness import ServerTestCase

ROLE = "arn:aws:iam::123456789012:role/CodeDeployDemoRole"


class Applications(ServerTestCase):
    def test_create_get_list_update_delete(self):
        _, out, _ = self.aws("deploy", "create-application", "--application-name", "WordPress_App")
        app_id = out["applicationId"]
        _, got, _ = self.aws("deploy", "get-application", "--application-name", "WordPress_App")
        app = got["application"]
        self.assertEqual(app["applicationId"], app_id)
        self.assertEqual(app["applicationName"], "WordPress_App")
        self.assertEqual(app["computePlatform"], "Server")
        self.assertFalse(app["linkedToGitHub"])
        self.assertIsInstance(app["createTime"], float)
        _, lst, _ = self.aws("deploy", "list-applications")
        self.assertIn("WordPress_App", lst["applications"])
        self.aws("deploy", "update-application", "--application-name", "WordPress_App",
                 "--new-application-name", "WordPress_App2")
        cd = self.client("codedeploy")
        self.assertEqual(cd.get_application(applicationName="WordPress_App2")["application"]
                         ["applicationId"], app_id)
        self.assertClientError(lambda: cd.get_application(applicationName="WordPress_App"),
                               "ApplicationDoesNotExistException")
        self.aws("deploy", "delete-application", "--application-name", "WordPress_App2")
        self.assertClientError(lambda: cd.get_application(applicationName="WordPress_App2"),
                               "ApplicationDoesNotExistException")

    def test_duplicate_and_batch_errors(self):
        cd = self.client("codedeploy")
        cd.create_application(applicationName="dup", computePlatform="Lambda")
        self.assertClientError(lambda: cd.create_application(applicationName="dup"),
                               "ApplicationAlreadyExistsException")
        info = cd.batch_get_applications(applicationNames=["dup"])["applicationsInfo"]
        self.assertEqual(info[0]["computePlatform"], "Lambda")
        self.assertClientError(lambda: cd.batch_get_applications(applicationNames=["dup", "nope"]),
                               "ApplicationDoesNotExistException")

    def test_revisions_register_get_list(self):
        cd = self.client("codedeploy")
        cd.create_application(applicationName="revs")
        rev = {"revisionType": "S3", "s3Location": {"bucket": "b1", "key": "app.zip",
                                                    "bundleType": "zip"}}
        cd.register_application_revision(applicationName="revs", revision=rev,
                                         description="first")
        got = cd.get_application_revision(applicationName="revs", revision=rev)
        self.assertEqual(got["revision"], rev)
        self.assertEqual(got["revisionInfo"]["description"], "first")
        self.assertEqual(cd.list_application_revisions(applicationName="revs")["revisions"], [rev])
        other = {"revisionType": "S3", "s3Location": {"bucket": "b1", "key": "x.zip",
                                                      "bundleType": "zip"}}
        self.assertClientError(lambda: cd.get_application_revision(applicationName="revs",
                                                                   revision=other),
                               "RevisionDoesNotExistException")
        self.assertClientError(
            lambda: cd.register_application_revision(
                applicationName="revs", revision={"revisionType": "S3", "s3Location": {
                    "bucket": "b1", "bundleType": "zip"}}),
            "InvalidRevisionException")


class Configs(ServerTestCase):
    def test_builtins_and_own_configs(self):
        cd = self.client("codedeploy")
        names = cd.list_deployment_configs()["deploymentConfigsList"]
        for n in ("CodeDeployDefault.OneAtATime", "CodeDeployDefault.HalfAtATime",
                  "CodeDeployDefault.AllAtOnce"):
            self.assertIn(n, names)
        half = cd.get_deployment_config(deploymentConfigName="CodeDeployDefault.HalfAtATime")
        self.assertEqual(half["deploymentConfigInfo"]["minimumHealthyHosts"],
                         {"type": "FLEET_PERCENT", "value": 50})
        _, out, _ = self.aws("deploy", "create-deployment-config", "--deployment-config-name",
                             "ThreeQuartersHealthy", "--minimum-healthy-hosts",
                             "type=FLEET_PERCENT,value=75")
        self.assertIn("deploymentConfigId", out)
        _, got, _ = self.aws("deploy", "get-deployment-config", "--deployment-config-name",
                             "ThreeQuartersHealthy")
        self.assertEqual(got["deploymentConfigInfo"]["minimumHealthyHosts"],
                         {"type": "FLEET_PERCENT", "value": 75})
        self.assertClientError(
            lambda: cd.create_deployment_config(deploymentConfigName="ThreeQuartersHealthy",
                                                minimumHealthyHosts={"type": "HOST_COUNT",
                                                                     "value": 1}),
            "DeploymentConfigAlreadyExistsException")
        self.assertClientError(
            lambda: cd.delete_deployment_config(deploymentConfigName="CodeDeployDefault.AllAtOnce"),
            "InvalidOperationException")
        cd.delete_deployment_config(deploymentConfigName="ThreeQuartersHealthy")
        self.assertClientError(
            lambda: cd.get_deployment_config(deploymentConfigName="ThreeQuartersHealthy"),
            "DeploymentConfigDoesNotExistException")


class Groups(ServerTestCase):
    def test_group_from_the_aws_docs_unchanged(self):
        self.aws("deploy", "create-application", "--application-name", "WordPress_App")
        _, out, _ = self.aws(
            "deploy", "create-deployment-group", "--application-name", "WordPress_App",
            "--auto-scaling-groups", "CodeDeployDemo-ASG",
            "--deployment-config-name", "CodeDeployDefault.OneAtATime",
            "--deployment-group-name", "WordPress_DG",
            "--ec2-tag-filters", "Key=Name,Value=CodeDeployDemo,Type=KEY_AND_VALUE",
            "--service-role-arn", ROLE)
        _, got, _ = self.aws("deploy", "get-deployment-group", "--application-name",
                             "WordPress_App", "--deployment-group-name", "WordPress_DG")
        info = got["deploymentGroupInfo"]
        self.assertEqual(info["deploymentGroupId"], out["deploymentGroupId"])
        self.assertEqual(info["ec2TagFilters"],
                         [{"Key": "Name", "Value": "CodeDeployDemo", "Type": "KEY_AND_VALUE"}])
        self.assertEqual(info["autoScalingGroups"], [{"name": "CodeDeployDemo-ASG"}])
        self.assertEqual(info["serviceRoleArn"], ROLE)
        self.assertEqual(info["deploymentStyle"]["deploymentType"], "IN_PLACE")
        rc, _, err = self.aws("deploy", "create-deployment-group", "--application-name",
                              "WordPress_App", "--deployment-group-name", "WordPress_DG",
                              "--service-role-arn", ROLE, check=False)
        self.assertNotEqual(rc, 0)
        self.assertIn("DeploymentGroupAlreadyExistsException", err)
        _, lst, _ = self.aws("deploy", "list-deployment-groups", "--application-name",
                             "WordPress_App")
        self.assertEqual(lst["deploymentGroups"], ["WordPress_DG"])

    def test_group_errors(self):
        cd = self.client("codedeploy")
        cd.create_application(applicationName="g")
        self.assertClientError(
            lambda: cd.create_deployment_group(applicationName="nope", deploymentGroupName="x",
                                               serviceRoleArn=ROLE),
            "ApplicationDoesNotExistException")
        self.assertClientError(
            lambda: cd.create_deployment_group(
                applicationName="g", deploymentGroupName="x", serviceRoleArn=ROLE,
                ec2TagFilters=[{"Key": "a", "Value": "b", "Type": "KEY_AND_VALUE"}],
                ec2TagSet={"ec2TagSetList": [[{"Key": "a", "Value": "b",
                                               "Type": "KEY_AND_VALUE"}]]}),
            "InvalidEC2TagCombinationException")
        err = self.assertClientError(
            lambda: cd.create_deployment_group(
                applicationName="g", deploymentGroupName="x", serviceRoleArn=ROLE,
                deploymentStyle={"deploymentType": "BLUE_GREEN",
                                 "deploymentOption": "WITH_TRAFFIC_CONTROL"}),
            "InvalidDeploymentStyleException")
        self.assertIn("IN_PLACE", err["Error"]["Message"])
        self.assertClientError(
            lambda: cd.create_deployment_group(applicationName="g", deploymentGroupName="x",
                                               serviceRoleArn=ROLE,
                                               deploymentConfigName="NoSuchConfig"),
            "DeploymentConfigDoesNotExistException")
        self.assertClientError(
            lambda: cd.get_deployment_group(applicationName="g", deploymentGroupName="x"),
            "DeploymentGroupDoesNotExistException")

    def test_update_rename_alarms_rollback_and_batch_get(self):
        cd = self.client("codedeploy")
        cd.create_application(applicationName="u")
        cd.create_deployment_group(applicationName="u", deploymentGroupName="one",
                                   serviceRoleArn=ROLE, tags=[{"Key": "team", "Value": "a"}])
        cd.update_deployment_group(
            applicationName="u", currentDeploymentGroupName="one", newDeploymentGroupName="two",
            alarmConfiguration={"enabled": True, "alarms": [{"name": "cpu"}]},
            autoRollbackConfiguration={"enabled": True, "events": ["DEPLOYMENT_FAILURE"]},
            onPremisesTagSet={"onPremisesTagSetList": [[{"Key": "env", "Value": "dev",
                                                         "Type": "KEY_AND_VALUE"}]]})
        got = cd.batch_get_deployment_groups(applicationName="u",
                                             deploymentGroupNames=["two"])["deploymentGroupsInfo"]
        self.assertEqual(got[0]["alarmConfiguration"]["alarms"], [{"name": "cpu"}])
        self.assertEqual(got[0]["autoRollbackConfiguration"],
                         {"enabled": True, "events": ["DEPLOYMENT_FAILURE"]})
        arn = "arn:aws:codedeploy:us-east-1:000000000000:deploymentgroup:u/two"
        self.assertEqual(cd.list_tags_for_resource(ResourceArn=arn)["Tags"],
                         [{"Key": "team", "Value": "a"}])
        cd.delete_deployment_group(applicationName="u", deploymentGroupName="two")
        self.assertEqual(cd.list_deployment_groups(applicationName="u")["deploymentGroups"], [])


class OnPremises(ServerTestCase):
    def test_register_tag_list_deregister(self):
        cd = self.client("codedeploy")
        self.aws("deploy", "register-on-premises-instance", "--instance-name",
                 "AssetTag12010298EX", "--iam-user-arn",
                 "arn:aws:iam::123456789012:user/CodeDeployUser-OnPrem")
        self.aws("deploy", "add-tags-to-on-premises-instances", "--instance-names",
                 "AssetTag12010298EX", "--tags", "Key=Name,Value=CodeDeployDemo-OnPrem")
        _, got, _ = self.aws("deploy", "get-on-premises-instance", "--instance-name",
                             "AssetTag12010298EX")
        self.assertEqual(got["instanceInfo"]["tags"],
                         [{"Key": "Name", "Value": "CodeDeployDemo-OnPrem"}])
        self.assertClientError(
            lambda: cd.register_on_premises_instance(
                instanceName="AssetTag12010298EX",
                iamUserArn="arn:aws:iam::123456789012:user/x"),
            "InstanceNameAlreadyRegisteredException")
        self.assertClientError(lambda: cd.register_on_premises_instance(instanceName="y"),
                               "IamArnRequiredException")
        names = cd.list_on_premises_instances(
            tagFilters=[{"Key": "Name", "Value": "CodeDeployDemo-OnPrem",
                         "Type": "KEY_AND_VALUE"}])["instanceNames"]
        self.assertEqual(names, ["AssetTag12010298EX"])
        cd.remove_tags_from_on_premises_instances(
            instanceNames=["AssetTag12010298EX"],
            tags=[{"Key": "Name", "Value": "CodeDeployDemo-OnPrem"}])
        infos = cd.batch_get_on_premises_instances(
            instanceNames=["AssetTag12010298EX"])["instanceInfos"]
        self.assertEqual(infos[0]["tags"], [])
        cd.deregister_on_premises_instance(instanceName="AssetTag12010298EX")
        self.assertEqual(cd.list_on_premises_instances(
            registrationStatus="Registered")["instanceNames"], [])
        self.assertClientError(lambda: cd.get_on_premises_instance(instanceName="ghost"),
                               "InstanceNotRegisteredException")


class Tags(ServerTestCase):
    def test_tag_untag_application(self):
        cd = self.client("codedeploy")
        cd.create_application(applicationName="t", tags=[{"Key": "a", "Value": "1"}])
        arn = "arn:aws:codedeploy:us-east-1:000000000000:application:t"
        cd.tag_resource(ResourceArn=arn, Tags=[{"Key": "b", "Value": "2"},
                                               {"Key": "a", "Value": "3"}])
        tags = {t["Key"]: t["Value"] for t in cd.list_tags_for_resource(ResourceArn=arn)["Tags"]}
        self.assertEqual(tags, {"a": "3", "b": "2"})
        cd.untag_resource(ResourceArn=arn, TagKeys=["a"])
        self.assertEqual(cd.list_tags_for_resource(ResourceArn=arn)["Tags"],
                         [{"Key": "b", "Value": "2"}])
        self.assertClientError(
            lambda: cd.list_tags_for_resource(
                ResourceArn="arn:aws:codedeploy:us-east-1:000000000000:application:none"),
            "ApplicationDoesNotExistException")


if __name__ == "__main__":
    unittest.main()
