/* Stage conditions: rule executions kept in the stage record of the execution ("_cond"), checked
 * by the state machine, with the Commands rule run by the durable queue like an action. */
#include "providers/codepipeline/conditions.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "protocol/ids.h"
#include "providers/codepipeline/actions/actions.h"
#include "providers/codepipeline/cp_internal.h"
#include "providers/codepipeline/rules.h"
#include "providers/codepipeline/cp_json.h"

#define KEY_MAX     512
#define INTERRUPTED "The rule was interrupted by a restart of codepipeline-local"

static const char *const KIND_NAME[] = {"BEFORE_ENTRY", "ON_SUCCESS", "ON_FAILURE"};
static const char *const KIND_DECL[] = {"beforeEntry", "onSuccess", "onFailure"};

static int streq(const char *a, const char *b)
{
    return a && b && !strcmp(a, b);
}

static struct json_object *stage_decl(struct json_object *decl, int si)
{
    return json_object_array_get_idx(jget(decl, "stages"), (size_t)si);
}

/* The declared condition of kind in stage declaration sd, or NULL. */
static struct json_object *decl_condition(struct json_object *sd, enum cp_cond_kind kind)
{
    struct json_object *conds = jget(jget(sd, KIND_DECL[kind]), "conditions");
    if (!conds || !json_object_is_type(conds, json_type_array) || !json_object_array_length(conds))
        return NULL;
    return json_object_array_get_idx(conds, 0);
}

static struct json_object *cond_rec(struct json_object *st, enum cp_cond_kind kind)
{
    return jget(jget(st, "_cond"), KIND_NAME[kind]);
}

const char *cp_cond_status(struct json_object *st, enum cp_cond_kind kind)
{
    return jgets(cond_rec(st, kind), "status");
}

/* Ends rule execution r with status and a summary (and an error on failure). */
static void rule_end(struct json_object *r, const char *status, const char *summary, double now)
{
    jsets(r, "status", status);
    jset(r, "lastUpdateTime", json_object_new_double(now));
    struct json_object *er = jget(jget(r, "output"), "executionResult");
    if (summary && *summary) jsets(er, "externalExecutionSummary", summary);
    if (!strcmp(status, "Failed")) {
        struct json_object *ed = json_object_new_object();
        jsets(ed, "code", "JobFailed");
        jsets(ed, "message", summary && *summary ? summary : "The rule failed");
        jset(er, "errorDetails", ed);
    }
}

/* The AWS service each rule that is not simulated would need. */
static const char *needs(const char *provider)
{
    if (streq(provider, "CloudWatchAlarm")) return "Amazon CloudWatch alarms";
    if (streq(provider, "LambdaInvoke")) return "AWS Lambda";
    return "an AWS service";
}

/* Evaluates a rule that ends at once. Sets r's status; returns 0, or 1 when it must be queued. */
static int rule_eval(struct json_object *r, const char *provider, struct json_object *cfg,
                     double now)
{
    char msg[1200], err[512] = "";
    if (streq(provider, "Commands")) return 1;
    if (streq(provider, "VariableCheck")) {
        const char *var = jgets(cfg, "Variable"), *op = jgets(cfg, "Operator"),
                   *val = jgets(cfg, "Value");
        int ok = cp_rule_variable_check(var, op, val, err, sizeof err);
        if (ok < 0)
            rule_end(r, "Failed", err, now);
        else {
            snprintf(msg, sizeof msg, "Variable check %s: '%.400s' %s '%.400s'",
                     ok ? "passed" : "failed", var ? var : "", op ? op : "", val ? val : "");
            rule_end(r, ok ? "Succeeded" : "Failed", msg, now);
        }
        return 0;
    }
    if (streq(provider, "DeploymentWindow")) {
        const char *cron = jgets(cfg, "Cron"), *tz = jgets(cfg, "TimeZone");
        int open = cp_deployment_window_open(cron, tz, (time_t)now, err, sizeof err);
        if (open < 0)
            rule_end(r, "Failed", err, now);
        else {
            snprintf(msg, sizeof msg, "The current time is %s the deployment window %.200s (%s)",
                     open ? "inside" : "outside", cron ? cron : "", tz && *tz ? tz : "UTC");
            rule_end(r, open ? "Succeeded" : "Failed", msg, now);
        }
        return 0;
    }
    snprintf(msg, sizeof msg,
             "The rule provider %s is not simulated by codepipeline-local: it needs %s, which "
             "codepipeline-local does not run",
             provider ? provider : "", needs(provider));
    rule_end(r, "Failed", msg, now);
    return 0;
}

/* Creates the rule execution of rule declaration rd (index ri) in c and evaluates or queues it.
 * Returns 0 or a negative store error code. */
static int rule_start(struct cp_cond_env *env, int si, enum cp_cond_kind kind, int ri,
                      struct json_object *rd, struct json_object *c, struct json_object *vars)
{
    struct json_object *e = env->e, *sd = stage_decl(env->decl, si);
    char id[37];
    proto_uuid(id);
    struct json_object *r = json_object_new_object();
    jsets(r, "pipelineExecutionId", jgets(e, "pipelineExecutionId"));
    jsets(r, "ruleExecutionId", id);
    jset(r, "pipelineVersion", json_object_get(jget(e, "pipelineVersion")));
    jsets(r, "stageName", jgets(sd, "name"));
    jsets(r, "ruleName", jgets(rd, "name"));
    jset(r, "startTime", json_object_new_double(env->now));
    jset(r, "lastUpdateTime", json_object_new_double(env->now));
    jsets(r, "status", "InProgress");
    char bad[256] = "";
    int unresolved = 0;
    struct json_object *in = cp_exec_input(rd, "ruleTypeId", vars, jget(e, "_art"), env->region,
                                           bad, sizeof bad, &unresolved);
    jset(r, "input", in);
    struct json_object *out = json_object_new_object();
    jset(out, "executionResult", json_object_new_object());
    jset(r, "output", out);
    json_object_array_add(jget(c, "rules"), r);
    const char *provider = jgets(jget(rd, "ruleTypeId"), "provider");
    if (unresolved) {
        char msg[600];
        snprintf(msg, sizeof msg,
                 "A rule in this pipeline failed because one or more variables could not be "
                 "resolved: Rule name=%s. Unresolved reference: %s",
                 jgets(rd, "name") ? jgets(rd, "name") : "", bad);
        rule_end(r, "Failed", msg, env->now);
        return 0;
    }
    if (!rule_eval(r, provider, jget(in, "resolvedConfiguration"), env->now)) return 0;
    char payload[KEY_MAX];
    int pl = snprintf(payload, sizeof payload, "%s\n%s\n%s\n%u\n%d\n%d\n%d", env->account,
                      env->region, env->pipeline, env->seq, si, (int)kind, ri);
    if (pl < 0 || (size_t)pl >= sizeof payload) return STORE_ERROR;
    struct rt_item_spec spec = {CP_KIND_RULE, id, env->account, env->region, payload,
                                (size_t)pl,   0};
    int rc = rt_queue_add_in(cp_engine_queue(), env->t, &spec);
    if (rc < 0) return rc;
    cp_kicks_add(env->kicks, CP_KIND_RULE, id);
    return 0;
}

/* Sets condition c to status with summary at now. */
static void cond_end(struct json_object *c, const char *status, const char *summary, double now)
{
    jsets(c, "status", status);
    if (summary) jsets(c, "summary", summary);
    jset(c, "lastStatusChange", json_object_new_double(now));
}

static void abandon_rules(struct json_object *c, double now, cp_cond_rule_fn fn, void *ctx);

/* A cp_cond_rule_fn: ctx is the transaction's kicks. */
static void cancel_rule(void *ctx, const char *rule_execution_id)
{
    cp_kicks_cancel(ctx, CP_KIND_RULE, rule_execution_id);
}

int cp_cond_check(struct cp_cond_env *env, int si, enum cp_cond_kind kind, const char **result,
                  int *changed)
{
    struct json_object *sd = stage_decl(env->decl, si), *dc = decl_condition(sd, kind);
    struct json_object *st = json_object_array_get_idx(jget(env->e, "_stages"), (size_t)si);
    *result = jgets(dc, "result");
    if (!dc || !st) return CP_COND_NONE;
    struct json_object *all = jget(st, "_cond");
    if (!all) {
        all = json_object_new_object();
        jset(st, "_cond", all);
    }
    struct json_object *c = jget(all, KIND_NAME[kind]);
    if (!c) {
        c = json_object_new_object();
        jset(all, KIND_NAME[kind], c);
        if (*result) jsets(c, "result", *result);
        jset(c, "rules", json_object_new_array());
        cond_end(c, "InProgress", NULL, env->now);
        *changed = 1;
        struct json_object *rules = jget(dc, "rules"), *vars = cp_exec_vars(env->e);
        int rc = 0;
        for (size_t i = 0; !rc && rules && i < json_object_array_length(rules); i++)
            rc = rule_start(env, si, kind, (int)i, json_object_array_get_idx(rules, i), c, vars);
        json_object_put(vars);
        if (rc) return rc;
    }
    const char *status = jgets(c, "status");
    if (streq(status, "Succeeded") || streq(status, "Overridden")) return CP_COND_MET;
    if (!streq(status, "InProgress")) return CP_COND_UNMET;
    /* One failed rule fails the condition; the others still running are abandoned. */
    struct json_object *rules = jget(c, "rules"), *failed = NULL;
    int running = 0;
    for (size_t i = 0; rules && i < json_object_array_length(rules); i++) {
        struct json_object *r = json_object_array_get_idx(rules, i);
        if (streq(jgets(r, "status"), "InProgress")) running = 1;
        if (!failed && streq(jgets(r, "status"), "Failed")) failed = r;
    }
    if (failed) {
        char summary[1400];
        snprintf(summary, sizeof summary, "Rule %s failed: %.1200s",
                 jgets(failed, "ruleName") ? jgets(failed, "ruleName") : "",
                 jgets(jget(jget(failed, "output"), "executionResult"), "externalExecutionSummary")
                     ?: "");
        /* A Commands rule still running is stopped once this commits. */
        abandon_rules(c, env->now, cancel_rule, env->kicks);
        cond_end(c, "Failed", summary, env->now);
        *changed = 1;
        return CP_COND_UNMET;
    }
    if (running) return CP_COND_PENDING;
    cond_end(c, "Succeeded", "All rules succeeded", env->now);
    *changed = 1;
    return CP_COND_MET;
}

int cp_cond_enter(struct json_object *st, struct json_object *sd)
{
    struct json_object *all = jget(st, "_cond"), *be = jget(all, KIND_NAME[CP_COND_BEFORE_ENTRY]);
    int keep = be && jget(be, "_keep");
    if (keep) {
        json_object_get(be);
        json_object_object_del(be, "_keep");
    }
    json_object_object_del(st, "_cond");
    if (keep) {
        all = json_object_new_object();
        jset(all, KIND_NAME[CP_COND_BEFORE_ENTRY], be);
        jset(st, "_cond", all);
        return 0;
    }
    return decl_condition(sd, CP_COND_BEFORE_ENTRY) != NULL;
}

/* Abandons the running rules of condition c, passing each to fn. */
static void abandon_rules(struct json_object *c, double now, cp_cond_rule_fn fn, void *ctx)
{
    struct json_object *rules = jget(c, "rules");
    for (size_t i = 0; rules && i < json_object_array_length(rules); i++) {
        struct json_object *r = json_object_array_get_idx(rules, i);
        if (!streq(jgets(r, "status"), "InProgress")) continue;
        rule_end(r, "Abandoned", NULL, now);
        if (fn) fn(ctx, jgets(r, "ruleExecutionId"));
    }
}

void cp_cond_override(struct json_object *st, enum cp_cond_kind kind, double now,
                      cp_cond_rule_fn fn, void *ctx)
{
    struct json_object *c = cond_rec(st, kind);
    if (!c) return;
    abandon_rules(c, now, fn, ctx);
    cond_end(c, "Overridden", "The condition was overridden", now);
    jset(c, "_keep", json_object_new_boolean(1));
}

void cp_cond_abandon(struct json_object *st, double now, cp_cond_rule_fn fn, void *ctx)
{
    for (int k = 0; k < 3; k++) {
        struct json_object *c = cond_rec(st, (enum cp_cond_kind)k);
        if (!streq(jgets(c, "status"), "InProgress")) continue;
        abandon_rules(c, now, fn, ctx);
        cond_end(c, "Abandoned", "The pipeline execution was stopped", now);
    }
}

/* ---- what reads show ------------------------------------------------------------------------ */

static void copy(struct json_object *to, struct json_object *from, const char *k)
{
    struct json_object *v = jget(from, k);
    if (v) jset(to, k, json_object_get(v));
}

struct json_object *cp_cond_state_out(struct json_object *st, enum cp_cond_kind kind)
{
    struct json_object *c = cond_rec(st, kind);
    if (!c) return NULL;
    struct json_object *out = json_object_new_object(), *le = json_object_new_object();
    copy(le, c, "status");
    copy(le, c, "summary");
    jset(out, "latestExecution", le);
    struct json_object *cs = json_object_new_object(), *cle = json_object_new_object();
    copy(cle, c, "status");
    copy(cle, c, "summary");
    copy(cle, c, "lastStatusChange");
    jset(cs, "latestExecution", cle);
    struct json_object *rs = json_object_new_array(), *rules = jget(c, "rules");
    for (size_t i = 0; rules && i < json_object_array_length(rules); i++) {
        struct json_object *r = json_object_array_get_idx(rules, i);
        struct json_object *o = json_object_new_object(), *rl = json_object_new_object();
        copy(o, r, "ruleName");
        copy(rl, r, "ruleExecutionId");
        copy(rl, r, "status");
        struct json_object *er = jget(jget(r, "output"), "executionResult");
        if (jget(er, "externalExecutionSummary"))
            jset(rl, "summary", json_object_get(jget(er, "externalExecutionSummary")));
        if (jget(r, "lastUpdateTime"))
            jset(rl, "lastStatusChange", json_object_get(jget(r, "lastUpdateTime")));
        copy(rl, er, "externalExecutionId");
        copy(rl, er, "externalExecutionUrl");
        copy(rl, er, "errorDetails");
        jset(o, "latestExecution", rl);
        json_object_array_add(rs, o);
    }
    jset(cs, "ruleStates", rs);
    struct json_object *list = json_object_new_array();
    json_object_array_add(list, cs);
    jset(out, "conditionStates", list);
    return out;
}

void cp_cond_rule_executions(struct json_object *e, struct json_object *list)
{
    struct json_object *stages = jget(e, "_stages");
    for (size_t s = 0; stages && s < json_object_array_length(stages); s++) {
        struct json_object *all = jget(json_object_array_get_idx(stages, s), "_cond");
        for (int k = 0; k < 3; k++) {
            struct json_object *rules = jget(jget(all, KIND_NAME[k]), "rules");
            for (size_t i = 0; rules && i < json_object_array_length(rules); i++) {
                struct json_object *r = json_object_array_get_idx(rules, i);
                struct json_object *o = json_object_new_object();
                json_object_object_foreach(r, key, v)
                {
                    if (key[0] != '_') jset(o, key, json_object_get(v));
                }
                json_object_array_add(list, o);
            }
        }
    }
}

/* ---- the Commands rule on the queue --------------------------------------------------------- */

/* A rule item's payload: "<account>\n<region>\n<pipeline>\n<seq>\n<stage>\n<kind>\n<rule>". */
struct ref {
    char buf[KEY_MAX];
    const char *account, *region, *pipeline;
    unsigned seq;
    int stage, kind, rule;
};

static int ref_parse(struct ref *r, const void *payload, size_t len)
{
    char *f[7];
    if (cp_payload_fields(r->buf, sizeof r->buf, payload, len, f, 7)) return -1;
    r->account = f[0];
    r->region = f[1];
    r->pipeline = f[2];
    r->seq = (unsigned)strtoul(f[3], NULL, 10);
    r->stage = atoi(f[4]);
    r->kind = atoi(f[5]);
    r->rule = atoi(f[6]);
    return r->kind < 0 || r->kind > 2 ? -1 : 0;
}

/* The rule execution an item runs in execution e, or NULL. */
static struct json_object *ref_rule(struct json_object *e, const struct ref *r)
{
    struct json_object *st = json_object_array_get_idx(jget(e, "_stages"), (size_t)r->stage);
    struct json_object *rules = jget(cond_rec(st, (enum cp_cond_kind)r->kind), "rules");
    return rules ? json_object_array_get_idx(rules, (size_t)r->rule) : NULL;
}

/* Records the end of rule item id in a transaction of its own and runs the state machine. */
static int rule_record(const struct ref *r, const char *id, int ok, const char *summary)
{
    struct cp_kicks kicks = {0};
    store_txn *t = NULL;
    int rc = store_txn_begin(cp_engine_store(), 1, &t);
    if (rc) return rc;
    struct json_object *e = cp_exec_load(t, r->account, r->region, r->pipeline, r->seq);
    struct json_object *rule = e ? ref_rule(e, r) : NULL;
    if (rule && streq(jgets(rule, "ruleExecutionId"), id) &&
        streq(jgets(rule, "status"), "InProgress")) {
        rule_end(rule, ok ? "Succeeded" : "Failed", summary, proto_now());
        char key[KEY_MAX], suf[16];
        snprintf(suf, sizeof suf, "X%010u", r->seq);
        int kl = cp_exec_key(key, sizeof key, r->account, r->region, r->pipeline, suf);
        rc = kl < 0 ? STORE_ERROR : cp_json_store(t, STORE_DB_CP_EXECUTIONS, key, (size_t)kl, e);
        if (!rc) rc = cp_advance_in(t, r->account, r->region, r->pipeline, &kicks);
    }
    json_object_put(e);
    if (rc) {
        store_txn_abort(t);
        return rc;
    }
    rc = store_txn_commit(t);
    if (!rc) cp_kicks_run(&kicks);
    return rc;
}

int cp_rule_run(void *ctx, const struct rt_item *item, rt_task *task)
{
    (void)ctx;
    struct ref r;
    if (ref_parse(&r, item->payload, item->payload_len)) return RT_TASK_DONE;
    store_txn *t = NULL;
    if (store_txn_begin(cp_engine_store(), 0, &t)) return RT_TASK_REQUEUE;
    struct json_object *e = cp_exec_load(t, r.account, r.region, r.pipeline, r.seq);
    struct json_object *decl =
        e ? cp_decl_load(t, r.account, r.region, r.pipeline,
                         (unsigned)json_object_get_int(jget(e, "pipelineVersion")))
          : NULL;
    store_txn_abort(t);
    struct json_object *rule = e ? ref_rule(e, &r) : NULL;
    struct json_object *dc = decl_condition(stage_decl(decl, r.stage), (enum cp_cond_kind)r.kind);
    struct json_object *rd = json_object_array_get_idx(jget(dc, "rules"), (size_t)r.rule);
    int ret = RT_TASK_DONE;
    struct cp_action_result res = {0};
    if (!rule || !rd || !streq(jgets(rule, "ruleExecutionId"), item->id) ||
        !streq(jgets(rule, "status"), "InProgress"))
        goto out;
    char endpoint[320];
    if (jgets(e, "_endpoint"))
        snprintf(endpoint, sizeof endpoint, "%s", jgets(e, "_endpoint"));
    else
        cp_engine_endpoint(endpoint, sizeof endpoint);
    struct json_object *in = jget(rule, "input"), *tid = jget(rd, "ruleTypeId");
    struct cp_action_ctx ac = {
        .st = cp_engine_store(),
        .task = task,
        .account = r.account,
        .region = jgets(in, "region") ? jgets(in, "region") : r.region,
        .pipeline = r.pipeline,
        .execution_id = jgets(e, "pipelineExecutionId"),
        .stage = jgets(rule, "stageName"),
        .action = jgets(rule, "ruleName"),
        .action_execution_id = item->id,
        .provider = jgets(tid, "provider"),
        .category = "Rule",
        .owner = "AWS",
        .decl = rd,
        .config = jget(in, "resolvedConfiguration"),
        .inputs = jget(in, "inputArtifacts"),
        .outputs = NULL,
        .entry = rule,
        .bucket = "",
        .endpoint_url = endpoint,
        .started = json_object_get_double(jget(rule, "startTime")),
    };
    int st = cp_act_commands(&ac, &res);
    if (rt_task_stop_reason(task) == RT_STOP_SHUTDOWN) {
        ret = RT_TASK_LEAVE; /* settled at the next start */
        goto out;
    }
    int ok = st == CP_ACT_SUCCEEDED;
    const char *summary = ok ? "The commands succeeded" : res.error_message;
    if (rule_record(&r, item->id, ok, summary)) {
        ret = RT_TASK_REQUEUE;
        rt_task_requeue_at(task, proto_now() + 1);
    }
out:
    cp_action_result_free(&res);
    json_object_put(decl);
    json_object_put(e);
    return ret;
}

int cp_rule_settle(void *ctx, const struct rt_item *item)
{
    (void)ctx;
    struct ref r;
    if (ref_parse(&r, item->payload, item->payload_len)) return RT_SETTLE_DONE;
    /* The commands were a child of the dead server: the rule fails, as an action would. */
    return rule_record(&r, item->id, 0, INTERRUPTED) ? RT_SETTLE_REQUEUE : RT_SETTLE_DONE;
}
