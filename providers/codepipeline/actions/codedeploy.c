/* The CodeDeploy action, through codedeploy.h: create the deployment of the input artifact once
 * (its id kept in the action record), then poll it until it ends. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "providers/codedeploy/codedeploy.h"
#include "providers/codepipeline/actions/actions.h"

int cp_act_codedeploy(struct cp_action_ctx *ac, struct cp_action_result *r)
{
    struct json_object *p = NULL, *v;
    if (json_object_object_get_ex(ac->entry, "_p", &p) &&
        json_object_object_get_ex(p, "deploymentId", &v)) {
        const char *id = json_object_get_string(v);
        struct cd_deployment d;
        r->state = json_object_get(p);
        r->external_id = strdup(id);
        int rc = cd_get_deployment(ac->st, ac->account, ac->region, id, &d);
        int st;
        if (rc) {
            st = cp_action_fail(r, "The deployment %s could not be read (%d)", id, rc);
        } else if (d.status == CD_STATUS_SUCCEEDED) {
            r->summary = strdup("Deployment Succeeded");
            st = CP_ACT_SUCCEEDED;
        } else if (d.status == CD_STATUS_FAILED || d.status == CD_STATUS_STOPPED) {
            st =
                cp_action_fail(r, "Deployment %s %s%s%s", id, cd_status_name(d.status),
                               d.error_message ? ": " : "", d.error_message ? d.error_message : "");
        } else {
            r->requeue_at = cp_poll_external(id, ac->action_execution_id, ac->started);
            st = CP_ACT_WAIT;
        }
        cd_deployment_free(&d);
        return st;
    }
    const char *app = cp_cfg(ac, "ApplicationName"), *group = cp_cfg(ac, "DeploymentGroupName");
    if (!app || !group)
        return cp_action_fail(r, "ApplicationName and DeploymentGroupName are required");
    struct json_object *a = ac->inputs ? json_object_array_get_idx(ac->inputs, 0) : NULL,
                       *loc = NULL, *b = NULL, *k = NULL;
    json_object_object_get_ex(a, "s3location", &loc);
    json_object_object_get_ex(loc, "bucket", &b);
    json_object_object_get_ex(loc, "key", &k);
    if (!b || !k) return cp_action_fail(r, "The action has no input artifact");
    struct cd_start s = {
        .account = ac->account,
        .region = ac->region,
        .application = app,
        .deployment_group = group,
        .revision = {json_object_get_string(b), json_object_get_string(k), CD_BUNDLE_ZIP, NULL,
                     NULL},
        .creator = "CodePipeline",
        /* A restart between this create and the engine recording the id re-runs this action:
         * the key makes that second create hand back the first deployment. */
        .idempotency_key = ac->action_execution_id,
    };
    char id[CD_DEPLOYMENT_ID_MAX], err[512] = "";
    int rc = cd_create_deployment(ac->st, &s, id, err, sizeof err);
    if (rc == CD_ENOTIMPL)
        return cp_action_fail(r,
                              "CodeDeploy deployments are not available in this build of "
                              "codepipeline-local: %s",
                              *err ? err : "not implemented");
    if (rc)
        return cp_action_fail(r, "The deployment could not be created: %s", *err ? err : "error");
    r->state = json_object_new_object();
    json_object_object_add(r->state, "deploymentId", json_object_new_string(id));
    r->external_id = strdup(id);
    r->requeue_at = cp_poll_external(id, ac->action_execution_id, ac->started);
    return CP_ACT_WAIT;
}
