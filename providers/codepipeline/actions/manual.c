/* The Manual approval action: waits for PutApprovalResult (or its expiry: 7 days, or the
 * action's timeoutInMinutes). */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "providers/codepipeline/actions/actions.h"

int cp_act_manual(struct cp_action_ctx *ac, struct cp_action_result *r)
{
    const char *link = cp_cfg(ac, "ExternalEntityLink");
    if (link) r->external_url = strdup(link);
    struct json_object *v;
    if (json_object_object_get_ex(ac->decl, "timeoutInMinutes", &v)) {
        r->state = json_object_new_object();
        json_object_object_add(r->state, "_minutes", json_object_new_int(json_object_get_int(v)));
    }
    return CP_ACT_APPROVAL;
}
