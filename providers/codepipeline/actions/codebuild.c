/* The CodeBuild build and test actions, through codebuild.h: start the build once (its id kept
 * in the action record), then poll it until it completes. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "protocol/ids.h"
#include "providers/codebuild/codebuild.h"
#include "providers/codepipeline/actions/actions.h"

static const char *jstr(struct json_object *o, const char *k)
{
    struct json_object *v;
    return o && json_object_object_get_ex(o, k, &v) ? json_object_get_string(v) : NULL;
}

static int poll_build(struct cp_action_ctx *ac, struct json_object *p, struct cp_action_result *r)
{
    const char *id = jstr(p, "buildId");
    struct cb_build b;
    int rc = cb_get_build(ac->st, ac->account, ac->region, id, &b);
    r->state = json_object_get(p);
    r->external_id = strdup(id);
    if (rc) {
        cb_build_free(&b);
        return cp_action_fail(r, "The build %s could not be read (%d)", id, rc);
    }
    if (b.log_url) r->external_url = strdup(b.log_url);
    if (!b.complete) {
        cb_build_free(&b);
        r->requeue_at = cp_poll_external(id, ac->action_execution_id, ac->started);
        return CP_ACT_WAIT;
    }
    int st;
    if (b.status == CB_STATUS_SUCCEEDED) {
        struct json_object *outs = NULL;
        json_object_object_get_ex(p, "outputs", &outs);
        r->outputs = json_object_get(outs);
        r->variables = json_object_new_object();
        for (size_t i = 0; i < b.n_exported; i++)
            json_object_object_add(
                r->variables, b.exported[i].name,
                json_object_new_string(b.exported[i].value ? b.exported[i].value : ""));
        r->summary = strdup("Build succeeded");
        st = CP_ACT_SUCCEEDED;
    } else {
        st = cp_action_fail(r, "Build %s: %s%s%s", cb_status_name(b.status), id,
                            b.failure ? ": " : "", b.failure ? b.failure : "");
    }
    cb_build_free(&b);
    return st;
}

int cp_act_codebuild(struct cp_action_ctx *ac, struct cp_action_result *r)
{
    struct json_object *p = NULL;
    if (json_object_object_get_ex(ac->entry, "_p", &p) && jstr(p, "buildId"))
        return poll_build(ac, p, r);
    const char *project = cp_cfg(ac, "ProjectName"), *batch = cp_cfg(ac, "BatchEnabled");
    if (batch && !strcasecmp(batch, "true"))
        return cp_action_fail(r, "Batch builds (BatchEnabled true) are not simulated by "
                                 "codepipeline-local; run a single build instead");
    if (!project) return cp_action_fail(r, "ProjectName is required");
    size_t nin = ac->inputs ? json_object_array_length(ac->inputs) : 0;
    const char *primary = cp_cfg(ac, "PrimarySource");
    if (nin > 1 && !primary)
        return cp_action_fail(r, "PrimarySource is required when the action has more than one "
                                 "input artifact");
    struct cb_input *ins = calloc(nin + 1, sizeof *ins);
    size_t nsec = 0;
    struct cb_input prim = {0};
    for (size_t i = 0; i < nin; i++) {
        struct json_object *a = json_object_array_get_idx(ac->inputs, i), *loc = NULL;
        json_object_object_get_ex(a, "s3location", &loc);
        struct cb_input in = {jstr(a, "name"), {jstr(loc, "bucket"), jstr(loc, "key"), NULL}};
        if ((primary && in.name && !strcmp(in.name, primary)) || (!primary && i == 0))
            prim = in;
        else
            ins[nsec++] = in;
    }
    if (primary && !prim.name) {
        free(ins);
        return cp_action_fail(r, "PrimarySource %s is not an input artifact of the action",
                              primary);
    }
    /* Environment variables: a JSON array of {name, value, type}, already resolved. */
    struct json_object *envj = NULL;
    const char *envs = cp_cfg(ac, "EnvironmentVariables");
    if (envs) {
        envj = json_tokener_parse(envs);
        if (!envj || !json_object_is_type(envj, json_type_array)) {
            json_object_put(envj);
            free(ins);
            return cp_action_fail(
                r, "EnvironmentVariables is not a JSON array of {name, value, type}");
        }
    }
    size_t nenv = envj ? json_object_array_length(envj) : 0;
    struct cb_env_var *env = calloc(nenv + 1, sizeof *env);
    for (size_t i = 0; i < nenv; i++) {
        struct json_object *v = json_object_array_get_idx(envj, i);
        env[i] = (struct cb_env_var){jstr(v, "name"), jstr(v, "value"), jstr(v, "type")};
    }
    size_t nout = ac->outputs ? json_object_array_length(ac->outputs) : 0;
    struct cb_output *outs = calloc(nout + 1, sizeof *outs);
    char(*keys)[64] = calloc(nout + 1, sizeof *keys);
    struct json_object *outj = json_object_new_array();
    for (size_t i = 0; i < nout; i++) {
        const char *name = jstr(json_object_array_get_idx(ac->outputs, i), "name");
        char rnd[8];
        proto_random_alnum(rnd, 7);
        snprintf(keys[i], sizeof keys[i], "%.20s/%.10s/%s", ac->pipeline, name, rnd);
        outs[i] = (struct cb_output){name, {ac->bucket, keys[i], NULL}};
        struct json_object *a = json_object_new_object(), *loc = json_object_new_object();
        json_object_object_add(a, "name", json_object_new_string(name));
        json_object_object_add(loc, "bucket", json_object_new_string(ac->bucket));
        json_object_object_add(loc, "key", json_object_new_string(keys[i]));
        json_object_object_add(a, "s3location", loc);
        json_object_array_add(outj, a);
    }
    char initiator[160], bid[CB_BUILD_ID_MAX], err[512] = "";
    snprintf(initiator, sizeof initiator, "codepipeline/%s", ac->pipeline);
    struct cb_start s = {
        .account = ac->account,
        .region = ac->region,
        .project = project,
        .initiator = initiator,
        .primary_source = nin ? &prim : NULL,
        .secondary_sources = ins,
        .n_secondary_sources = nsec,
        .env = env,
        .n_env = nenv,
        .outputs = outs,
        .n_outputs = nout,
        .idempotency_token = ac->action_execution_id,
    };
    int rc = cb_start_build(ac->st, &s, bid, err, sizeof err);
    int st;
    if (rc == CB_ENOTIMPL) {
        st = cp_action_fail(r,
                            "CodeBuild builds are not available in this build of "
                            "codepipeline-local: %s",
                            *err ? err : "not implemented");
    } else if (rc == CB_ENOPROJECT) {
        st = cp_action_fail(r, "Project %s does not exist", project);
    } else if (rc) {
        st = cp_action_fail(r, "The build could not be started: %s", *err ? err : "error");
    } else {
        struct json_object *p2 = json_object_new_object();
        json_object_object_add(p2, "buildId", json_object_new_string(bid));
        json_object_object_add(p2, "outputs", json_object_get(outj));
        r->state = p2;
        r->external_id = strdup(bid);
        r->requeue_at = cp_poll_external(bid, ac->action_execution_id, ac->started);
        st = CP_ACT_WAIT;
    }
    json_object_put(outj);
    json_object_put(envj);
    free(keys);
    free(outs);
    free(env);
    free(ins);
    return st;
}
