/* Custom actions: the action becomes a job that a job worker polls for (jobs.c); this builds the
 * job's data as AWS hands it over (configuration, pipeline context, artifact locations). */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "protocol/ids.h"
#include "providers/codepipeline/actions/actions.h"

static struct json_object *location(const char *name, const char *bucket, const char *key)
{
    struct json_object *a = json_object_new_object(), *loc = json_object_new_object(),
                       *s3 = json_object_new_object();
    json_object_object_add(a, "name", json_object_new_string(name));
    json_object_object_add(s3, "bucketName", json_object_new_string(bucket));
    json_object_object_add(s3, "objectKey", json_object_new_string(key));
    json_object_object_add(loc, "type", json_object_new_string("S3"));
    json_object_object_add(loc, "s3Location", s3);
    json_object_object_add(a, "location", loc);
    return a;
}

int cp_act_job(struct cp_action_ctx *ac, struct cp_action_result *r)
{
    struct json_object *d = json_object_new_object(), *v, *tid;
    json_object_object_get_ex(ac->decl, "actionTypeId", &tid);
    json_object_object_add(d, "actionTypeId", json_object_get(tid));
    struct json_object *cfg = json_object_new_object();
    json_object_object_add(cfg, "configuration",
                           ac->config ? json_object_get(ac->config) : json_object_new_object());
    json_object_object_add(d, "actionConfiguration", cfg);
    struct json_object *pc = json_object_new_object(), *stg = json_object_new_object(),
                       *act = json_object_new_object();
    json_object_object_add(pc, "pipelineName", json_object_new_string(ac->pipeline));
    json_object_object_add(stg, "name", json_object_new_string(ac->stage));
    json_object_object_add(pc, "stage", stg);
    json_object_object_add(act, "name", json_object_new_string(ac->action));
    json_object_object_add(act, "actionExecutionId",
                           json_object_new_string(ac->action_execution_id));
    json_object_object_add(pc, "action", act);
    char arn[512];
    snprintf(arn, sizeof arn, "arn:aws:codepipeline:%s:%s:%s", ac->region, ac->account,
             ac->pipeline);
    json_object_object_add(pc, "pipelineArn", json_object_new_string(arn));
    json_object_object_add(pc, "pipelineExecutionId", json_object_new_string(ac->execution_id));
    json_object_object_add(d, "pipelineContext", pc);
    struct json_object *ins = json_object_new_array();
    for (size_t i = 0; ac->inputs && i < json_object_array_length(ac->inputs); i++) {
        struct json_object *a = json_object_array_get_idx(ac->inputs, i), *n, *loc, *b, *k;
        json_object_object_get_ex(a, "name", &n);
        json_object_object_get_ex(a, "s3location", &loc);
        json_object_object_get_ex(loc, "bucket", &b);
        json_object_object_get_ex(loc, "key", &k);
        json_object_array_add(ins, location(json_object_get_string(n), json_object_get_string(b),
                                            json_object_get_string(k)));
    }
    json_object_object_add(d, "inputArtifacts", ins);
    struct json_object *outs = json_object_new_array();
    for (size_t i = 0; ac->outputs && i < json_object_array_length(ac->outputs); i++) {
        struct json_object *n;
        json_object_object_get_ex(json_object_array_get_idx(ac->outputs, i), "name", &n);
        char rnd[8], key[64];
        proto_random_alnum(rnd, 7);
        snprintf(key, sizeof key, "%.20s/%.10s/%s", ac->pipeline, json_object_get_string(n), rnd);
        json_object_array_add(outs, location(json_object_get_string(n), ac->bucket, key));
    }
    json_object_object_add(d, "outputArtifacts", outs);
    /* The action's timeout, or the 24 hours AWS gives custom actions. */
    double timeout = 24 * 3600.0;
    if (json_object_object_get_ex(ac->decl, "timeoutInMinutes", &v))
        timeout = json_object_get_int(v) * 60.0;
    json_object_object_add(d, "_timeout", json_object_new_double(timeout));
    /* the role whose credentials the job's artifactCredentials are (jobs.c takes it out) */
    struct json_object *in = NULL, *role = NULL;
    if (json_object_object_get_ex(ac->entry, "input", &in))
        json_object_object_get_ex(in, "roleArn", &role);
    if (!role) json_object_object_get_ex(ac->entry, "_role", &role);
    if (role) json_object_object_add(d, "_role", json_object_get(role));
    r->state = d;
    return CP_ACT_JOB;
}
