/* The built-in action type catalogue (AWS-owned providers and the GitHub v1 third-party source). */
#include "providers/codepipeline/catalogue.h"

#include <string.h>

#define P(n, req, k, sec, q, d)                                                                    \
    {                                                                                              \
        n, req, k, sec, q, d                                                                       \
    }
#define END                                                                                        \
    {                                                                                              \
        NULL, 0, 0, 0, 0, NULL                                                                     \
    }

static const struct cp_config_prop s3_source[] = {
    P("S3Bucket", 1, 1, 0, 0, "The S3 Bucket"),
    P("S3ObjectKey", 1, 1, 0, 0, "The Amazon S3 object key"),
    P("PollForSourceChanges", 0, 0, 0, 0, "Whether CodePipeline polls the bucket for changes"),
    P("AllowOverrideForS3ObjectKey", 0, 0, 0, 0,
      "Whether a pipeline execution may override S3ObjectKey"),
    END};
static const struct cp_config_prop codecommit_source[] = {
    P("RepositoryName", 1, 1, 0, 0, "The name of the CodeCommit repository"),
    P("BranchName", 1, 1, 0, 0, "The branch to take the source from"),
    P("PollForSourceChanges", 0, 0, 0, 0, "Whether CodePipeline polls the repository for changes"),
    P("OutputArtifactFormat", 0, 0, 0, 0, "CODE_ZIP (default) or CODEBUILD_CLONE_REF"), END};
static const struct cp_config_prop ecr_source[] = {
    P("RepositoryName", 1, 1, 0, 0, "The name of the ECR repository"),
    P("ImageTag", 0, 0, 0, 0, "The image tag to track (latest by default)"), END};
static const struct cp_config_prop connection_source[] = {
    P("ConnectionArn", 1, 1, 0, 0, "The ARN of the connection"),
    P("FullRepositoryId", 1, 1, 0, 0, "The owner and name of the repository"),
    P("BranchName", 1, 1, 0, 0, "The branch to take the source from"),
    P("OutputArtifactFormat", 0, 0, 0, 0, "CODE_ZIP (default) or CODEBUILD_CLONE_REF"),
    P("DetectChanges", 0, 0, 0, 0, "Whether a push starts the pipeline"),
    END};
static const struct cp_config_prop github_source[] = {
    P("Owner", 1, 1, 0, 0, "The repository owner (username or organization)"),
    P("Repo", 1, 1, 0, 0, "The name of the repository"),
    P("Branch", 1, 1, 0, 0, "The tracked branch"),
    P("OAuthToken", 1, 0, 1, 0, "The OAuth2 token"),
    P("PollForSourceChanges", 0, 0, 0, 0, "Whether CodePipeline polls GitHub for changes"),
    END};
static const struct cp_config_prop codebuild[] = {
    P("ProjectName", 1, 1, 0, 0, "The name of the CodeBuild project"),
    P("PrimarySource", 0, 0, 0, 0, "The input artifact holding the buildspec"),
    P("EnvironmentVariables", 0, 0, 0, 0, "A JSON array of environment variables"),
    P("BatchEnabled", 0, 0, 0, 0, "Whether to run a batch build"),
    P("CombineArtifacts", 0, 0, 0, 0, "Whether to combine the artifacts of a batch build"),
    END};
static const struct cp_config_prop s3_deploy[] = {
    P("BucketName", 1, 1, 0, 0, "The name of the S3 bucket to deploy to"),
    P("Extract", 1, 0, 0, 0, "Whether to unzip the artifact before upload"),
    P("ObjectKey", 0, 0, 0, 0, "The object key (required when Extract is false)"),
    P("KMSEncryptionKeyARN", 0, 0, 0, 0, "The KMS key that encrypts the objects"),
    P("CannedACL", 0, 0, 0, 0, "The canned ACL of the uploaded objects"),
    P("CacheControl", 0, 0, 0, 0, "The Cache-Control header of the uploaded objects"),
    END};
static const struct cp_config_prop codedeploy[] = {
    P("ApplicationName", 1, 1, 0, 0, "The deployment application name"),
    P("DeploymentGroupName", 1, 1, 0, 0, "The deployment group name"), END};
static const struct cp_config_prop cloudformation[] = {
    P("ActionMode", 1, 0, 0, 0, "CREATE_UPDATE, DELETE_ONLY, REPLACE_ON_FAILURE, ..."),
    P("StackName", 1, 1, 0, 0, "The name of the stack"),
    P("Capabilities", 0, 0, 0, 0, "CAPABILITY_IAM, CAPABILITY_NAMED_IAM, ..."),
    P("ChangeSetName", 0, 0, 0, 0, "The name of the change set"),
    P("OutputFileName", 0, 0, 0, 0, "The file that receives the stack outputs"),
    P("ParameterOverrides", 0, 0, 0, 0, "A JSON object of parameter values"),
    P("RoleArn", 0, 0, 0, 0, "The role CloudFormation assumes"),
    P("TemplateConfiguration", 0, 0, 0, 0, "The template configuration file"),
    P("TemplatePath", 0, 0, 0, 0, "The template file (ArtifactName::Path)"),
    END};
static const struct cp_config_prop ecs[] = {
    P("ClusterName", 1, 1, 0, 0, "The name of the ECS cluster"),
    P("ServiceName", 1, 1, 0, 0, "The name of the ECS service"),
    P("FileName", 0, 0, 0, 0, "The image definitions file"),
    P("DeploymentTimeout", 0, 0, 0, 0, "The deployment timeout in minutes"), END};
static const struct cp_config_prop beanstalk[] = {
    P("ApplicationName", 1, 1, 0, 0, "The Elastic Beanstalk Application name"),
    P("EnvironmentName", 1, 1, 0, 0, "The Elastic Beanstalk Environment name"), END};
static const struct cp_config_prop manual[] = {
    P("NotificationArn", 0, 0, 0, 0, "The SNS topic notified of the approval"),
    P("CustomData", 0, 0, 0, 0, "Comments shown to the reviewer"),
    P("ExternalEntityLink", 0, 0, 0, 0, "A URL for the reviewer"), END};
static const struct cp_config_prop lambda[] = {
    P("FunctionName", 1, 1, 0, 0, "The name of the Lambda function"),
    P("UserParameters", 0, 0, 0, 0, "A string passed to the function"), END};
static const struct cp_config_prop stepfunctions[] = {
    P("StateMachineArn", 1, 1, 0, 0, "The ARN of the state machine"),
    P("ExecutionNamePrefix", 0, 0, 0, 0, "The prefix of the execution name"),
    P("InputType", 0, 0, 0, 0, "Literal or FilePath"),
    P("Input", 0, 0, 0, 0, "The input of the execution"), END};
static const struct cp_config_prop devicefarm[] = {
    P("ProjectId", 1, 1, 0, 0, "The Device Farm project"),
    P("DevicePoolArn", 1, 0, 0, 0, "The device pool"),
    P("AppType", 1, 0, 0, 0, "The application type"),
    P("App", 0, 0, 0, 0, "The application file"),
    P("TestType", 1, 0, 0, 0, "The test type"),
    P("Test", 0, 0, 0, 0, "The test file"),
    END};

static const struct cp_config_prop commands[] = {END};

/* Descriptions, settings and flags of the S3 source, CodeDeploy, Elastic Beanstalk and GitHub
 * entries are AWS's own, from the API reference's ListActionTypes sample response (where every
 * built-in property has queryable false); the others follow the same style. */
#define CONSOLE "https://console.aws.amazon.com"
const struct cp_action_spec cp_catalogue[] = {
    {"Source", "AWS", "S3", "1", 0, 0, 1, 1, s3_source, CONSOLE "/s3/home?#", NULL, NULL, NULL},
    {"Source", "AWS", "CodeCommit", "1", 0, 0, 1, 1, codecommit_source,
     CONSOLE "/codecommit/home#/repository/{Config:RepositoryName}/browse/{Config:BranchName}/--/",
     CONSOLE "/codecommit/home#/repository/{Config:RepositoryName}/commit/{ExternalExecutionId}",
     NULL, NULL},
    {"Source", "AWS", "ECR", "1", 0, 0, 1, 1, ecr_source, CONSOLE "/ecr/repositories/", NULL, NULL,
     NULL},
    {"Source", "AWS", "CodeStarSourceConnection", "1", 0, 0, 1, 1, connection_source, NULL, NULL,
     NULL, NULL},
    {"Source", "ThirdParty", "GitHub", "1", 0, 0, 1, 1, github_source,
     "https://github.com/{Config:Owner}/{Config:Repo}/tree/{Config:Branch}", NULL,
     "https://github.com/{Config:Owner}/{Config:Repo}/commit/{RevisionId}", NULL},
    {"Build", "AWS", "CodeBuild", "1", 1, 5, 0, 5, codebuild,
     CONSOLE "/codebuild/home#/projects/{Config:ProjectName}/view",
     CONSOLE "/codebuild/home#/builds/{ExternalExecutionId}/view/new", NULL, NULL},
    {"Test", "AWS", "CodeBuild", "1", 1, 5, 0, 5, codebuild,
     CONSOLE "/codebuild/home#/projects/{Config:ProjectName}/view",
     CONSOLE "/codebuild/home#/builds/{ExternalExecutionId}/view/new", NULL, NULL},
    {"Test", "AWS", "DeviceFarm", "1", 1, 1, 0, 0, devicefarm, NULL, NULL, NULL, NULL},
    {"Deploy", "AWS", "S3", "1", 1, 1, 0, 0, s3_deploy, CONSOLE "/s3/home?#", NULL, NULL, NULL},
    {"Deploy", "AWS", "CodeDeploy", "1", 1, 1, 0, 0, codedeploy,
     CONSOLE "/codedeploy/home?#/applications/{Config:ApplicationName}/deployment-groups/"
             "{Config:DeploymentGroupName}",
     CONSOLE "/codedeploy/home?#/deployments/{ExternalExecutionId}", NULL, NULL},
    {"Deploy", "AWS", "CloudFormation", "1", 0, 10, 0, 1, cloudformation,
     CONSOLE "/cloudformation/home#/stacks?filter=active", NULL, NULL, NULL},
    {"Deploy", "AWS", "ECS", "1", 1, 1, 0, 0, ecs, CONSOLE "/ecs/home#/clusters", NULL, NULL, NULL},
    {"Deploy", "AWS", "ElasticBeanstalk", "1", 1, 1, 0, 0, beanstalk,
     CONSOLE "/elasticbeanstalk/r/application/{Config:ApplicationName}",
     CONSOLE "/elasticbeanstalk/r/application/{Config:ApplicationName}", NULL, NULL},
    {"Approval", "AWS", "Manual", "1", 0, 0, 0, 0, manual, NULL, NULL, NULL, NULL},
    {"Invoke", "AWS", "Lambda", "1", 0, 5, 0, 5, lambda,
     CONSOLE "/lambda/home#/functions/{Config:FunctionName}", NULL, NULL, NULL},
    {"Invoke", "AWS", "StepFunctions", "1", 0, 1, 0, 1, stepfunctions,
     CONSOLE "/states/home#/statemachines", NULL, NULL, NULL},
    {"Compute", "AWS", "Commands", "1", 1, 10, 0, 1, commands, NULL, NULL, NULL, NULL},
    {NULL, NULL, NULL, NULL, 0, 0, 0, 0, NULL, NULL, NULL, NULL, NULL},
};

const struct cp_action_spec *cp_catalogue_find(const char *category, const char *owner,
                                               const char *provider, const char *version)
{
    for (const struct cp_action_spec *s = cp_catalogue; s->category; s++)
        if (!strcmp(s->category, category) && !strcmp(s->owner, owner) &&
            !strcmp(s->provider, provider) && !strcmp(s->version, version))
            return s;
    return NULL;
}

int cp_catalogue_has_provider(const char *owner, const char *provider)
{
    for (const struct cp_action_spec *s = cp_catalogue; s->category; s++)
        if (!strcmp(s->owner, owner) && !strcmp(s->provider, provider)) return 1;
    return 0;
}
