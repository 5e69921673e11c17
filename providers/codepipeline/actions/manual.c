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
        /* Test knob (README): CPL_PIPELINE_SECONDS_PER_MINUTE shortens the minutes. */
        const char *k = getenv("CPL_PIPELINE_SECONDS_PER_MINUTE");
        double minute = k && atof(k) > 0 ? atof(k) : 60.0;
        r->state = json_object_new_object();
        json_object_object_add(r->state, "_minutes", json_object_new_int(json_object_get_int(v)));
        json_object_object_add(r->state, "_timeout",
                               json_object_new_double(json_object_get_int(v) * minute));
    }
    return CP_ACT_APPROVAL;
}
