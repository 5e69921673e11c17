/* Which provider runs which action type; a type that is not simulated fails its action. */
#include <string.h>

#include "providers/codepipeline/actions/actions.h"

static int not_simulated(struct cp_action_ctx *ac, struct cp_action_result *r)
{
    if (ac->owner && !strcmp(ac->owner, "Custom"))
        return cp_action_fail(r,
                              "Custom action %s/%s is run by job workers, which codepipeline-local "
                              "does not simulate yet",
                              ac->category, ac->provider);
    return cp_action_fail(r,
                          "The action provider %s (owner %s, category %s) is not simulated by "
                          "codepipeline-local",
                          ac->provider, ac->owner, ac->category);
}

cp_action_run_fn cp_action_provider(const char *owner, const char *category, const char *provider)
{
    /* Custom and partner (ThirdParty) actions are both run by job workers. */
    if (!strcmp(owner, "Custom") || !strcmp(owner, "ThirdParty")) return cp_act_job;
    if (strcmp(owner, "AWS")) return not_simulated;
    if (!strcmp(category, "Source") && !strcmp(provider, "S3")) return cp_act_s3_source;
    if (!strcmp(category, "Source") && !strcmp(provider, "CodeCommit"))
        return cp_act_codecommit_source;
    if (!strcmp(category, "Source") && !strcmp(provider, "CodeStarSourceConnection"))
        return cp_act_connection_source;
    if (!strcmp(category, "Deploy") && !strcmp(provider, "S3")) return cp_act_s3_deploy;
    if (!strcmp(category, "Approval") && !strcmp(provider, "Manual")) return cp_act_manual;
    if ((!strcmp(category, "Build") || !strcmp(category, "Test")) && !strcmp(provider, "CodeBuild"))
        return cp_act_codebuild;
    if (!strcmp(category, "Deploy") && !strcmp(provider, "CodeDeploy")) return cp_act_codedeploy;
    if (!strcmp(category, "Compute") && !strcmp(provider, "Commands")) return cp_act_commands;
    return not_simulated;
}
