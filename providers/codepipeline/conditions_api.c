/* Stage-condition operations: OverrideStageCondition, ListRuleExecutions and ListRuleTypes (the
 * built-in rule catalogue), with AWS's errors. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "providers/codepipeline/conditions.h"
#include "providers/codepipeline/cp_internal.h"
#include "providers/codepipeline/rules.h"
#include "providers/codepipeline/cp_json.h"

#define LIST_MAX 100

static const char *in_str(struct proto_req *req, const char *k)
{
    const char *s = jgets(req->input, k);
    return s ? s : "";
}

static int no_pipeline(struct proto_req *req, const char *name)
{
    return proto_error(req, ERR_PIPELINE_NOT_FOUND,
                       "Account '%s' does not have a pipeline with name '%s'",
                       req->caller.account_id, name);
}

int cp_op_override_stage_condition(struct proto_req *req)
{
    const char *acct = req->caller.account_id, *region = req->caller.region;
    const char *name = in_str(req, "pipelineName"), *stage = in_str(req, "stageName");
    const char *id = in_str(req, "pipelineExecutionId"), *type = in_str(req, "conditionType");
    /* An override may start the stage's actions: that needs the running engine. */
    if (!cp_engine_queue())
        return proto_error(req, ERR_SERVICE_UNAVAILABLE, "The execution engine is not running");
    struct cp_kicks kicks = {0};
    static __thread struct cp_abandoned ab;
    ab.n = 0;
    store_txn *t = NULL;
    int rc = store_txn_begin(req->store, 1, &t);
    if (rc) return cp_store_error(req, rc);
    rc = cp_cond_override_in(t, acct, region, name, stage, id, type, &ab, &kicks);
    if (rc) {
        store_txn_abort(t);
        switch (rc) {
        case CP_ENOPIPELINE:
            return no_pipeline(req, name);
        case CP_ENOSTAGE:
            return proto_error(req, ERR_STAGE_NOT_FOUND, "Stage %s not found in the pipeline %s",
                               stage, name);
        case CP_ENOTOVERRIDABLE:
            return proto_error(req, ERR_CONDITION_NOT_OVERRIDABLE,
                               "The %s condition of stage %s cannot be overridden for pipeline "
                               "execution %s: it is not in progress, and it did not fail the "
                               "stage",
                               type, stage, id);
        case CP_ENOTLATEST:
            return proto_error(req, ERR_NOT_LATEST_PIPELINE_EXECUTION,
                               "Pipeline execution %s is not the latest execution in stage %s", id,
                               stage);
        case CP_ECONFLICT:
            return proto_error(req, ERR_CP_CONFLICT,
                               "Stage %s is in use by another pipeline execution", stage);
        default:
            return cp_store_error(req, rc);
        }
    }
    if ((rc = store_txn_commit(t))) return cp_store_error(req, rc);
    cp_kicks_run(&kicks);
    cp_abandoned_kill(acct, region, &ab);
    req->output = json_object_new_object();
    return 0;
}

static int by_start_desc(const void *a, const void *b)
{
    struct json_object *x = *(struct json_object *const *)a, *y = *(struct json_object *const *)b;
    double tx = json_object_get_double(jget(x, "startTime")),
           ty = json_object_get_double(jget(y, "startTime"));
    return tx < ty ? 1 : tx > ty ? -1 : 0;
}

int cp_op_list_rule_executions(struct proto_req *req)
{
    const char *acct = req->caller.account_id, *region = req->caller.region;
    const char *name = in_str(req, "pipelineName");
    struct json_object *filter = jget(req->input, "filter"), *mv = jget(req->input, "maxResults");
    const char *want = jgets(filter, "pipelineExecutionId");
    if (!want) want = jgets(jget(filter, "latestInPipelineExecution"), "pipelineExecutionId");
    int max = mv ? json_object_get_int(mv) : LIST_MAX;
    if (max < 1 || max > 100) max = LIST_MAX;
    long off = 0;
    const char *tok = jgets(req->input, "nextToken");
    if (tok) {
        const char *s = cp_token_decode(req->arena, tok);
        char *end = NULL;
        off = s && *s ? strtol(s, &end, 10) : -1;
        if (off < 0 || (end && *end))
            return proto_error(req, ERR_INVALID_NEXT_TOKEN, "Invalid nextToken");
    }
    store_txn *t = NULL;
    int rc = store_txn_begin(req->store, 0, &t);
    if (rc) return cp_store_error(req, rc);
    struct cp_pipe_hdr h;
    const char *decl;
    if ((rc = cp_pipeline_read(t, acct, region, name, &h, &decl))) {
        store_txn_abort(t);
        return rc == STORE_NOTFOUND ? no_pipeline(req, name) : cp_store_error(req, rc);
    }
    struct json_object *execs;
    if (want) {
        unsigned seq = cp_exec_seq(t, acct, region, name, want);
        struct json_object *e = seq ? cp_exec_load(t, acct, region, name, seq) : NULL;
        if (!e) {
            store_txn_abort(t);
            return proto_error(req, ERR_PIPELINE_EXECUTION_NOT_FOUND,
                               "Pipeline Execution with id: '%s' does not exist for pipeline "
                               "with name: '%s'",
                               want, name);
        }
        execs = json_object_new_array();
        json_object_array_add(execs, e);
    } else {
        execs = cp_exec_all(t, acct, region, name);
    }
    store_txn_abort(t);
    struct json_object *all = json_object_new_array();
    for (size_t i = 0; i < json_object_array_length(execs); i++)
        cp_cond_rule_executions(json_object_array_get_idx(execs, i), all);
    size_t n = json_object_array_length(all);
    struct json_object **list = malloc((n ? n : 1) * sizeof *list);
    for (size_t i = 0; list && i < n; i++)
        list[i] = json_object_array_get_idx(all, i);
    if (list) qsort(list, n, sizeof *list, by_start_desc);
    req->output = json_object_new_object();
    struct json_object *out = json_object_new_array();
    json_object_object_add(req->output, "ruleExecutionDetails", out);
    for (size_t i = (size_t)off; list && i < n; i++) {
        if ((int)json_object_array_length(out) == max) {
            char buf[24];
            int bl = snprintf(buf, sizeof buf, "%ld", off + max);
            json_object_object_add(
                req->output, "nextToken",
                json_object_new_string(cp_token_encode(req->arena, buf, (size_t)bl)));
            break;
        }
        json_object_array_add(out, json_object_get(list[i]));
    }
    free(list);
    json_object_put(all);
    json_object_put(execs);
    return 0;
}

int cp_op_list_rule_types(struct proto_req *req)
{
    const char *owner = jgets(req->input, "ruleOwnerFilter");
    req->output = json_object_new_object();
    struct json_object *out = json_object_new_array();
    json_object_object_add(req->output, "ruleTypes", out);
    /* Every built-in rule is owned by AWS and offered in every region. */
    if (owner && strcmp(owner, "AWS")) return 0;
    size_t n = 0;
    const struct cp_rule_type *types = cp_rule_types(&n);
    for (size_t i = 0; i < n; i++) {
        const struct cp_rule_type *rt = &types[i];
        struct json_object *o = json_object_new_object(), *id = json_object_new_object();
        json_object_object_add(id, "category", json_object_new_string("Rule"));
        json_object_object_add(id, "owner", json_object_new_string("AWS"));
        json_object_object_add(id, "provider", json_object_new_string(rt->provider));
        json_object_object_add(id, "version", json_object_new_string("1"));
        json_object_object_add(o, "id", id);
        json_object_object_add(o, "settings", json_object_new_object());
        struct json_object *props = json_object_new_array();
        for (int p = 0; p < 4 && rt->props[p].name; p++) {
            struct json_object *pr = json_object_new_object();
            json_object_object_add(pr, "name", json_object_new_string(rt->props[p].name));
            json_object_object_add(pr, "required", json_object_new_boolean(rt->props[p].required));
            json_object_object_add(pr, "key", json_object_new_boolean(1));
            json_object_object_add(pr, "secret", json_object_new_boolean(0));
            json_object_object_add(pr, "queryable", json_object_new_boolean(0));
            json_object_object_add(pr, "description",
                                   json_object_new_string(rt->props[p].description));
            json_object_object_add(pr, "type", json_object_new_string("String"));
            json_object_array_add(props, pr);
        }
        json_object_object_add(o, "ruleConfigurationProperties", props);
        struct json_object *ad = json_object_new_object();
        json_object_object_add(ad, "minimumCount", json_object_new_int(rt->min_in));
        json_object_object_add(ad, "maximumCount", json_object_new_int(rt->max_in));
        json_object_object_add(o, "inputArtifactDetails", ad);
        json_object_array_add(out, o);
    }
    return 0;
}
