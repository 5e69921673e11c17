/* Helpers the action providers share. */
#include <json-c/json.h>
#include <string.h>

#include "protocol/ids.h"
#include "providers/codepipeline/actions/actions.h"
#include "providers/codepipeline/engine.h"

const char *cp_cfg(struct cp_action_ctx *ac, const char *key)
{
    struct json_object *v;
    return ac->config && json_object_object_get_ex(ac->config, key, &v) ? json_object_get_string(v)
                                                                        : NULL;
}

const char *cp_override(struct cp_action_ctx *ac, const char *type)
{
    struct json_object *t, *v;
    if (!ac->override || !json_object_object_get_ex(ac->override, "revisionType", &t) ||
        strcmp(json_object_get_string(t), type) ||
        !json_object_object_get_ex(ac->override, "revisionValue", &v))
        return NULL;
    return json_object_get_string(v);
}

double cp_poll_at(double started)
{
    double now = proto_now(), d = (now - started) / 10;
    if (d < 0.05) d = 0.05;
    if (d > 2) d = 2;
    return now + d;
}

double cp_poll_external(const char *external, const char *aeid, double started)
{
    return cp_wake_on(external, aeid) ? proto_now() : cp_poll_at(started);
}
