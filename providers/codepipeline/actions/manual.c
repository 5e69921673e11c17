/* The Manual approval action: waits for PutApprovalResult (or its 7-day expiry). */
#include <stdlib.h>
#include <string.h>

#include "providers/codepipeline/actions/actions.h"

int cp_act_manual(struct cp_action_ctx *ac, struct cp_action_result *r)
{
    const char *link = cp_cfg(ac, "ExternalEntityLink");
    if (link) r->external_url = strdup(link);
    return CP_ACT_APPROVAL;
}
