/* The execution state machine: execution records, stage locks and execution modes, and the
 * transitions, each one write transaction. */
#include "providers/codepipeline/engine.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/ids.h"
#include "providers/codepipeline/conditions.h"
#include "providers/codepipeline/cp_internal.h"
#include "providers/codepipeline/rollback.h"
#include "providers/codepipeline/cp_json.h"

#define KEY_MAX    512
#define MAX_ACTIVE 256 /* executions of one pipeline the state machine looks at in one pass */

int cp_exec_key(char *buf, size_t buflen, const char *account, const char *region,
                const char *pipeline, const char *suffix)
{
    int n = store_key(buf, buflen, account, region, pipeline);
    if (n < 0) return -1;
    int m = snprintf(buf + n, buflen - (size_t)n, "#%s", suffix);
    if (m < 0 || (size_t)m >= buflen - (size_t)n) return -1;
    return n + m;
}

struct json_object *cp_json_load(store_txn *t, enum store_db db, const char *key, size_t klen)
{
    const void *val;
    size_t vlen;
    if (store_get(t, db, key, klen, &val, &vlen)) return NULL;
    struct json_tokener *tok = json_tokener_new();
    struct json_object *o = json_tokener_parse_ex(tok, val, (int)vlen);
    json_tokener_free(tok);
    return o;
}

int cp_json_store(store_txn *t, enum store_db db, const char *key, size_t klen,
                  struct json_object *o)
{
    size_t n;
    const char *s = json_object_to_json_string_length(
        o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
    return store_put(t, db, key, klen, s, n);
}

static int seq_suffix(char *buf, size_t n, unsigned seq)
{
    return snprintf(buf, n, "X%010u", seq);
}

struct json_object *cp_exec_load(store_txn *t, const char *account, const char *region,
                                 const char *pipeline, unsigned seq)
{
    char key[KEY_MAX], suf[16];
    seq_suffix(suf, sizeof suf, seq);
    int kl = cp_exec_key(key, sizeof key, account, region, pipeline, suf);
    return kl < 0 ? NULL : cp_json_load(t, STORE_DB_CP_EXECUTIONS, key, (size_t)kl);
}

static int exec_store(store_txn *t, const char *account, const char *region, const char *pipeline,
                      struct json_object *e)
{
    char key[KEY_MAX], suf[16];
    seq_suffix(suf, sizeof suf, (unsigned)jgeti(e, "_seq", 0));
    int kl = cp_exec_key(key, sizeof key, account, region, pipeline, suf);
    if (kl < 0) return STORE_ERROR;
    return cp_json_store(t, STORE_DB_CP_EXECUTIONS, key, (size_t)kl, e);
}

unsigned cp_exec_seq(store_txn *t, const char *account, const char *region, const char *pipeline,
                     const char *id)
{
    char key[KEY_MAX], suf[64];
    snprintf(suf, sizeof suf, "I%.40s", id);
    int kl = cp_exec_key(key, sizeof key, account, region, pipeline, suf);
    const void *val;
    size_t vlen;
    if (kl < 0 || store_get(t, STORE_DB_CP_EXECUTIONS, key, (size_t)kl, &val, &vlen)) return 0;
    char num[16];
    if (vlen >= sizeof num) return 0;
    memcpy(num, val, vlen);
    num[vlen] = 0;
    return (unsigned)strtoul(num, NULL, 10);
}

struct json_object *cp_decl_load(store_txn *t, const char *account, const char *region,
                                 const char *pipeline, unsigned version)
{
    struct cp_pipe_hdr h;
    const char *decl;
    const void *val;
    size_t vlen;
    char key[KEY_MAX];
    int rc;
    if (!version) {
        rc = cp_pipeline_read(t, account, region, pipeline, &h, &decl);
    } else {
        int kl = cp_version_key(key, sizeof key, account, region, pipeline, version);
        if (kl < 0) return NULL;
        rc = store_get(t, STORE_DB_CP_PIPELINE_VERSIONS, key, (size_t)kl, &val, &vlen);
        if (!rc) rc = cp_pipe_rec_parse(val, vlen, &h, &decl) ? STORE_ERROR : 0;
    }
    if (rc) return NULL;
    struct json_tokener *tok = json_tokener_new();
    struct json_object *o = json_tokener_parse_ex(tok, decl, (int)h.decl_len);
    json_tokener_free(tok);
    return o;
}

void cp_kicks_run(struct cp_kicks *k)
{
    rt_queue *q = cp_engine_queue();
    if (!q) return;
    for (size_t i = 0; i < k->n; i++) {
        if (k->k[i].cancel)
            rt_queue_cancel(q, k->k[i].kind, k->k[i].id);
        else
            rt_queue_kick(q, k->k[i].kind, k->k[i].id);
    }
    k->n = 0;
}

/* ---- the state machine ---------------------------------------------------------------------- */

struct run {
    unsigned seq;
    struct json_object *e;    /* owned */
    struct json_object *decl; /* borrowed from the version cache */
    int dirty;
};

struct machine {
    store_txn *t;
    const char *account, *region, *pipeline;
    struct json_object *state; /* owned */
    unsigned mode;
    struct run runs[MAX_ACTIVE];
    size_t n;
    struct {
        unsigned version;
        struct json_object *decl;
    } decls[16];
    size_t ndecls;
    struct cp_kicks *kicks;
    double now;
};

static struct json_object *machine_decl(struct machine *m, unsigned version)
{
    for (size_t i = 0; i < m->ndecls; i++)
        if (m->decls[i].version == version) return m->decls[i].decl;
    struct json_object *d = cp_decl_load(m->t, m->account, m->region, m->pipeline, version);
    if (!d) return NULL;
    if (m->ndecls == sizeof m->decls / sizeof m->decls[0]) { /* borrowed by runs: keep all */
        json_object_put(d);
        return NULL;
    }
    m->decls[m->ndecls].version = version;
    m->decls[m->ndecls].decl = d;
    m->ndecls++;
    return d;
}

static int terminal(const char *status)
{
    return status && strcmp(status, "InProgress") && strcmp(status, "Stopping");
}

static struct json_object *stage_decl(struct json_object *decl, int i)
{
    struct json_object *stages = jget(decl, "stages");
    if (!stages || i < 0 || (size_t)i >= json_object_array_length(stages)) return NULL;
    return json_object_array_get_idx(stages, (size_t)i);
}

static int n_stages(struct json_object *decl)
{
    struct json_object *stages = jget(decl, "stages");
    return stages ? (int)json_object_array_length(stages) : 0;
}

/* The index of stage in decl (NULL: none), or -1. */
static int stage_index(struct json_object *decl, const char *stage)
{
    for (int i = 0; decl && i < n_stages(decl); i++)
        if (!strcmp(jgets(stage_decl(decl, i), "name") ?: "", stage)) return i;
    return -1;
}

static struct json_object *exec_stage(struct json_object *e, int i)
{
    return json_object_array_get_idx(jget(e, "_stages"), (size_t)i);
}

struct json_object *cp_exec_vars(struct json_object *e)
{
    struct json_object *vars = json_object_new_object(), *cp = json_object_new_object();
    jsets(cp, "PipelineExecutionId", jgets(e, "pipelineExecutionId"));
    jset(vars, "codepipeline", cp);
    struct json_object *pv = json_object_new_object(), *list = jget(e, "variables");
    for (size_t i = 0; list && i < json_object_array_length(list); i++) {
        struct json_object *v = json_object_array_get_idx(list, i);
        jsets(pv, jgets(v, "name"), jgets(v, "resolvedValue"));
    }
    jset(vars, "variables", pv);
    json_object_object_foreach(jobj(e, "_vars"), ns, val)
    {
        jset(vars, ns, json_object_get(val));
    }
    return vars;
}

static const char *artifact_bucket(struct json_object *decl, const char *region)
{
    struct json_object *as = jget(decl, "artifactStore");
    if (as) return jgets(as, "location");
    json_object_object_foreach(jget(decl, "artifactStores"), r, store_)
    {
        if (!strcmp(r, region)) return jgets(store_, "location");
    }
    return NULL;
}
struct json_object *cp_exec_input(struct json_object *decl, const char *type_key,
                                  struct json_object *vars, struct json_object *art,
                                  const char *region, char *bad, size_t badlen, int *unresolved)
{
    struct json_object *in = json_object_new_object(), *cfg = jget(decl, "configuration");
    if (cfg && !json_object_is_type(cfg, json_type_object)) cfg = NULL;
    jset(in, type_key, json_object_get(jget(decl, type_key)));
    jset(in, "configuration", cfg ? json_object_get(cfg) : json_object_new_object());
    struct json_object *res = json_object_new_object();
    if (cfg) {
        json_object_object_foreach(cfg, k, v)
        {
            char *s = cp_vars_resolve(json_object_get_string(v), vars, bad, badlen);
            if (!s) {
                *unresolved = 1;
                break;
            }
            jsets(res, k, s);
            free(s);
        }
    }
    jset(in, "resolvedConfiguration", res);
    if (jgets(decl, "roleArn")) jsets(in, "roleArn", jgets(decl, "roleArn"));
    jsets(in, "region", jgets(decl, "region") ? jgets(decl, "region") : region);
    struct json_object *ins = json_object_new_array(), *decl_in = jget(decl, "inputArtifacts");
    for (size_t i = 0; decl_in && i < json_object_array_length(decl_in); i++) {
        const char *an = jgets(json_object_array_get_idx(decl_in, i), "name");
        struct json_object *a = json_object_new_object();
        jsets(a, "name", an);
        struct json_object *loc = an ? jget(art, an) : NULL;
        jset(a, "s3location", loc ? json_object_get(loc) : json_object_new_object());
        json_object_array_add(ins, a);
    }
    jset(in, "inputArtifacts", ins);
    return in;
}

/* Creates the action execution of action (index ai of stage si) in e and queues it, or fails it
 * at once when its configuration cannot be resolved. */
static int start_action(struct machine *m, struct run *r, int si, struct json_object *act)
{
    struct json_object *e = r->e;
    const char *stage = jgets(stage_decl(r->decl, si), "name");
    const char *name = jgets(act, "name");
    char aeid[37];
    proto_uuid(aeid);
    struct json_object *en = json_object_new_object();
    jsets(en, "pipelineExecutionId", jgets(e, "pipelineExecutionId"));
    jsets(en, "actionExecutionId", aeid);
    jset(en, "pipelineVersion", json_object_new_int(jgeti(e, "pipelineVersion", 1)));
    jsets(en, "stageName", stage);
    jsets(en, "actionName", name);
    if (jgets(r->decl, "roleArn")) jsets(en, "_role", jgets(r->decl, "roleArn"));
    jset(en, "startTime", json_object_new_double(m->now));
    jset(en, "lastUpdateTime", json_object_new_double(m->now));
    struct json_object *vars = cp_exec_vars(e);
    char bad[256] = "";
    int unresolved = 0;
    struct json_object *in = cp_exec_input(act, "actionTypeId", vars, jobj(e, "_art"), m->region,
                                           bad, sizeof bad, &unresolved);
    json_object_put(vars);
    const char *aregion = jgets(in, "region");
    if (jgets(act, "namespace")) jsets(in, "namespace", jgets(act, "namespace"));
    jset(en, "input", in);
    struct json_object *out = json_object_new_object();
    jset(out, "outputArtifacts", json_object_new_array());
    jset(out, "executionResult", json_object_new_object());
    jset(out, "outputVariables", json_object_new_object());
    jset(en, "output", out);
    jsets(en, "_bucket", artifact_bucket(r->decl, aregion));
    jset(jobj(exec_stage(e, si), "actions"), name, en);
    char lk[256];
    snprintf(lk, sizeof lk, "%s/%s", stage, name);
    jset(jobj(m->state, "actionLatest"), lk, json_object_new_int((int)r->seq));
    r->dirty = 1;
    if (unresolved) {
        jsets(en, "status", "Failed");
        struct json_object *ed = json_object_new_object();
        jsets(ed, "code", "JobFailed");
        /* AWS's wording (aws-samples/ecs-blue-green-deployment-with-codedeploy#4), then which
         * reference it was. */
        char msg[600];
        snprintf(msg, sizeof msg,
                 "An action in this pipeline failed because one or more variables could not be "
                 "resolved: Action name=%s. Unresolved reference: %s",
                 name, bad);
        jsets(ed, "message", msg);
        jset(jget(out, "executionResult"), "errorDetails", ed);
        jsets(en, "_summary", msg);
        return 0;
    }
    jsets(en, "status", "InProgress");
    char payload[KEY_MAX];
    int pl = snprintf(payload, sizeof payload, "%s\n%s\n%s\n%u\n%d\n%s", m->account, m->region,
                      m->pipeline, r->seq, si, name);
    if (pl < 0 || (size_t)pl >= sizeof payload) return STORE_ERROR;
    struct rt_item_spec spec = {CP_KIND_ACTION, aeid,       m->account, m->region,
                                payload,        (size_t)pl, 0};
    int rc = rt_queue_add_in(cp_engine_queue(), m->t, &spec);
    if (rc < 0) return rc;
    cp_kicks_add(m->kicks, CP_KIND_ACTION, aeid);
    return 0;
}

/* Starts the actions of runOrder group of stage si. Returns 0 or a store error code. */
static int start_group(struct machine *m, struct run *r, int si, int group)
{
    struct json_object *acts = jget(stage_decl(r->decl, si), "actions");
    jset(exec_stage(r->e, si), "_group", json_object_new_int(group));
    for (size_t i = 0; acts && i < json_object_array_length(acts); i++) {
        struct json_object *a = json_object_array_get_idx(acts, i);
        if (jgeti(a, "runOrder", 1) != group) continue;
        int rc = start_action(m, r, si, a);
        if (rc) return rc;
    }
    return 0;
}

/* The lowest runOrder of stage si above after (0: the first group); 0 when there is none. */
static int next_group(struct json_object *decl, int si, int after)
{
    struct json_object *acts = jget(stage_decl(decl, si), "actions");
    int best = 0;
    for (size_t i = 0; acts && i < json_object_array_length(acts); i++) {
        int ro = jgeti(json_object_array_get_idx(acts, i), "runOrder", 1);
        if (ro > after && (!best || ro < best)) best = ro;
    }
    return best;
}

static void set_stage_latest(struct machine *m, struct run *r, const char *stage,
                             const char *status)
{
    struct json_object *sl = json_object_new_object();
    jset(sl, "seq", json_object_new_int((int)r->seq));
    jsets(sl, "status", status);
    jset(jobj(m->state, "stageLatest"), stage, sl);
}

static void release_lock(struct machine *m, struct run *r, const char *stage)
{
    struct json_object *locks = jobj(m->state, "locks");
    if (jgeti(locks, stage, 0) == (int)r->seq) json_object_object_del(locks, stage);
}

static void exec_end(struct machine *m, struct run *r, const char *status, const char *summary)
{
    jsets(r->e, "status", status);
    if (summary) jsets(r->e, "statusSummary", summary);
    jset(r->e, "lastUpdateTime", json_object_new_double(m->now));
    r->dirty = 1;
}

/* Starts the actions of stage si that its entry (or retry) runs. */
static int start_stage_actions(struct machine *m, struct run *r, int si)
{
    struct json_object *st = exec_stage(r->e, si);
    const char *retry = jgets(st, "_retry");
    if (retry && !strcmp(retry, "FAILED_ACTIONS")) {
        /* Only the actions of the group that did not succeed run again; later groups follow. */
        int group = jgeti(st, "_group", 1);
        struct json_object *acts = jget(stage_decl(r->decl, si), "actions");
        json_object_object_del(st, "_retry");
        for (size_t i = 0; acts && i < json_object_array_length(acts); i++) {
            struct json_object *a = json_object_array_get_idx(acts, i);
            if (jgeti(a, "runOrder", 1) != group) continue;
            struct json_object *en = jget(jget(st, "actions"), jgets(a, "name") ?: "");
            if (en && !strcmp(jgets(en, "status") ?: "", "Succeeded")) continue;
            int rc = start_action(m, r, si, a);
            if (rc) return rc;
        }
        return 0;
    }
    if (retry) { /* ALL_ACTIONS: the stage from its first action */
        json_object_object_del(st, "_retry");
        jset(st, "actions", json_object_new_object());
    }
    return start_group(m, r, si, next_group(r->decl, si, 0));
}

/* Enters stage si: takes its lock (unless PARALLEL) and starts its first group, or first checks
 * its beforeEntry condition (step() goes on once the check ends). */
static int enter_stage(struct machine *m, struct run *r, int si)
{
    struct json_object *sd = stage_decl(r->decl, si);
    const char *stage = jgets(sd, "name");
    if (m->mode != CP_MODE_PARALLEL)
        jset(jobj(m->state, "locks"), stage, json_object_new_int((int)r->seq));
    jset(r->e, "_waiting", json_object_new_boolean(0));
    struct json_object *st = exec_stage(r->e, si);
    jsets(st, "status", "InProgress");
    set_stage_latest(m, r, stage, "InProgress");
    r->dirty = 1;
    if (cp_cond_enter(st, sd)) {
        jset(st, "_entry", json_object_new_boolean(1));
        return 0;
    }
    return start_stage_actions(m, r, si);
}

/* Checks condition kind of r's stage si (conditions.c). Returns an enum cp_cond_verdict or a
 * negative store error code; marks r dirty when the check changed the record. */
static int cond_check(struct machine *m, struct run *r, int si, enum cp_cond_kind kind,
                      const char **result, int *changed)
{
    struct cp_cond_env env = {m->t, m->account, m->region, m->pipeline, r->seq,
                              r->e, r->decl,    m->kicks,  m->now};
    *changed = 0;
    int v = cp_cond_check(&env, si, kind, result, changed);
    if (*changed) r->dirty = 1;
    return v;
}

/* The onFailure gate of stage si, for the stage's onFailure result (FAIL, RETRY, ROLLBACK):
 * CP_COND_NONE (no onFailure conditions: the result engages as declared), CP_COND_MET (the
 * conditions are met: the result engages, the condition's own result when it declares one,
 * set in *result), CP_COND_UNMET (a rule failed: the result does not engage; the stage just
 * fails), CP_COND_PENDING (rules still run: step() comes back), or a negative store error code.
 * *changed says whether the record changed. */
static int on_failure_gate(struct machine *m, struct run *r, int si, const char **result,
                           int *changed)
{
    return cond_check(m, r, si, CP_COND_ON_FAILURE, result, changed);
}

/* Moves r from stage si (ended as status: "Succeeded" or "Skipped") to the next one. */
static int stage_passed(struct machine *m, struct run *r, int si, const char *status)
{
    const char *stage = jgets(stage_decl(r->decl, si), "name");
    jsets(exec_stage(r->e, si), "status", status);
    set_stage_latest(m, r, stage, status);
    release_lock(m, r, stage);
    r->dirty = 1;
    if (si + 1 >= n_stages(r->decl) || cp_is_rollback(r->e)) { /* a rollback runs one stage */
        exec_end(m, r, "Succeeded", NULL);
        return 1;
    }
    jset(r->e, "_stage", json_object_new_int(si + 1));
    jset(r->e, "_waiting", json_object_new_boolean(1));
    jset(r->e, "lastUpdateTime", json_object_new_double(m->now));
    return 1;
}

/* Ends r in stage si as failed by a condition of kind whose summary is in the stage record. */
static int cond_failed(struct machine *m, struct run *r, int si, enum cp_cond_kind kind,
                       const char *result)
{
    struct json_object *st = exec_stage(r->e, si);
    const char *stage = jgets(stage_decl(r->decl, si), "name");
    jsets(st, "status", "Failed");
    if (result) jsets(st, "_condResult", result);
    set_stage_latest(m, r, stage, "Failed");
    release_lock(m, r, stage);
    char summary[400];
    snprintf(summary, sizeof summary, "Stage %s failed: its %s condition was not met",
             stage ? stage : "", kind == CP_COND_BEFORE_ENTRY ? "beforeEntry" : "onSuccess");
    exec_end(m, r, "Failed", summary);
    return 1;
}

static int apply_on_failure(struct machine *m, struct run *r, int si, const char *cond_result);
static int rollback_auto(struct machine *m, struct run *r, int si);

/* Moves r on as far as its actions allow. Returns 1 when something changed, 0 when not, or a
 * negative store error code. */
static int step(struct machine *m, struct run *r)
{
    struct json_object *e = r->e;
    if (terminal(jgets(e, "status"))) return 0;
    if (jget(e, "_waiting") && json_object_get_boolean(jget(e, "_waiting"))) {
        if (!strcmp(jgets(e, "status"), "Stopping")) {
            exec_end(m, r, "Stopped", jgets(e, "statusSummary"));
            return 1;
        }
        if (jget(e, "_updated")) {
            exec_end(m, r, "Failed", "The pipeline was updated while this execution was waiting");
            return 1;
        }
        return 0;
    }
    int si = jgeti(e, "_stage", 0);
    struct json_object *sd = stage_decl(r->decl, si), *st = exec_stage(e, si);
    const char *stage = jgets(sd, "name");
    const char *cres = NULL;
    int cch = 0;
    if (jget(st, "_entry") && !strcmp(jgets(e, "status"), "InProgress") && !jget(e, "_updated")) {
        int v = cond_check(m, r, si, CP_COND_BEFORE_ENTRY, &cres, &cch);
        if (v < 0) return v;
        if (v == CP_COND_PENDING) return cch;
        json_object_object_del(st, "_entry");
        r->dirty = 1;
        if (v == CP_COND_UNMET && cres && !strcmp(cres, "SKIP"))
            return stage_passed(m, r, si, "Skipped");
        if (v == CP_COND_UNMET) return cond_failed(m, r, si, CP_COND_BEFORE_ENTRY, cres);
        int rc = start_stage_actions(m, r, si);
        return rc < 0 ? rc : 1;
    }
    json_object_object_del(st, "_entry"); /* stopping or updated: the stage ends below */
    int group = jgeti(st, "_group", 1), running = 0, failed = 0;
    struct json_object *acts = jobj(st, "actions");
    json_object_object_foreach(acts, an, en)
    {
        (void)an;
        const char *s = jgets(en, "status");
        if (!strcmp(s, "InProgress")) running = 1;
        if (!strcmp(s, "Failed")) failed = 1;
    }
    if (running) return 0;
    int updated = jget(e, "_updated") != NULL;
    if (updated && !failed) {
        jsets(st, "status", "Failed");
        set_stage_latest(m, r, stage, "Failed");
        release_lock(m, r, stage);
        exec_end(m, r, "Failed", "The pipeline was updated while this execution was running");
        return 1;
    }
    if (failed && !updated && !strcmp(jgets(e, "status"), "InProgress")) {
        /* The onFailure conditions gate the onFailure result: it engages when the stage has
         * none or they are met; a failed rule leaves the stage just failed. */
        int gate = on_failure_gate(m, r, si, &cres, &cch);
        if (gate < 0) return gate;
        if (gate == CP_COND_PENDING) return cch;
        if (gate != CP_COND_UNMET) {
            int rc = apply_on_failure(m, r, si, gate == CP_COND_MET ? cres : NULL);
            if (rc) return rc;
        }
    }
    if (failed || !strcmp(jgets(e, "status"), "Stopping")) {
        const char *end = failed ? "Failed" : "Stopped";
        cp_cond_abandon(st, m->now, NULL, NULL);
        jsets(st, "status", end);
        set_stage_latest(m, r, stage, end);
        release_lock(m, r, stage);
        char summary[300];
        snprintf(summary, sizeof summary, "Stage %s failed", stage ? stage : "");
        exec_end(m, r, end, failed ? NULL : jgets(e, "statusSummary"));
        (void)summary;
        return 1;
    }
    int ng = next_group(r->decl, si, group);
    if (ng) {
        int rc = start_group(m, r, si, ng);
        r->dirty = 1;
        return rc < 0 ? rc : 1;
    }
    if (strcmp(jgets(e, "status"), "Stopping")) {
        int v = cond_check(m, r, si, CP_COND_ON_SUCCESS, &cres, &cch);
        if (v < 0) return v;
        if (v == CP_COND_PENDING) return cch;
        /* An unmet onSuccess condition engages its result: the stage fails here, with the
         * result noted in "_condResult", and ROLLBACK rolls it back as an onFailure ROLLBACK
         * would (same rules: not a rollback, not in PARALLEL mode, only to a good execution). */
        if (v == CP_COND_UNMET) {
            int rb = cres && !strcmp(cres, "ROLLBACK") &&
                     cp_auto_rollback_allowed(jgets(e, "executionType"), m->mode);
            int rc = cond_failed(m, r, si, CP_COND_ON_SUCCESS, cres);
            if (rb) {
                int rrc = rollback_auto(m, r, si);
                if (rrc < 0) return rrc;
            }
            return rc;
        }
    }
    return stage_passed(m, r, si, "Succeeded");
}

static const char *nz_stage(struct machine *m, struct run *r)
{
    (void)m;
    const char *s = jgets(stage_decl(r->decl, jgeti(r->e, "_stage", 0)), "name");
    return s ? s : "";
}

static int is_waiting(struct run *r)
{
    struct json_object *w = jget(r->e, "_waiting");
    return w && json_object_get_boolean(w) && !terminal(jgets(r->e, "status")) &&
           strcmp(jgets(r->e, "status"), "Stopping");
}

static int transition_closed(struct machine *m, struct json_object *decl, int si);

/* Lets waiting executions into their next stage. Returns 1 when one moved, 0, or < 0. */
static int admit(struct machine *m)
{
    int changed = 0;
    for (size_t i = 0; i < m->n; i++) {
        struct run *r = &m->runs[i];
        if (!is_waiting(r)) continue;
        int si = jgeti(r->e, "_stage", 0);
        const char *stage = jgets(stage_decl(r->decl, si), "name");
        if (!stage) {
            exec_end(m, r, "Failed", "The pipeline structure changed under the execution");
            changed = 1;
            continue;
        }
        /* A newer execution waiting for the same stage supersedes this one (SUPERSEDED). */
        if (m->mode == CP_MODE_SUPERSEDED) {
            int newer = 0;
            for (size_t j = i + 1; j < m->n && !newer; j++)
                if (is_waiting(&m->runs[j]) && !strcmp(nz_stage(m, &m->runs[j]), stage)) newer = 1;
            if (newer) {
                exec_end(m, r, "Superseded", NULL);
                changed = 1;
                continue;
            }
        }
        if (transition_closed(m, r->decl, si)) continue;
        if (m->mode != CP_MODE_PARALLEL && jget(jobj(m->state, "locks"), stage)) continue;
        int rc = enter_stage(m, r, si);
        if (rc < 0) return rc;
        changed = 1;
    }
    return changed;
}

static void machine_free(struct machine *m)
{
    for (size_t i = 0; i < m->n; i++)
        json_object_put(m->runs[i].e);
    for (size_t i = 0; i < m->ndecls; i++)
        json_object_put(m->decls[i].decl);
    json_object_put(m->state);
}

static int state_key(char *key, size_t n, const char *account, const char *region,
                     const char *pipeline)
{
    return cp_exec_key(key, n, account, region, pipeline, "S");
}

/* Loads the active executions of the state into m (in sequence order). */
static int machine_load(struct machine *m)
{
    struct json_object *active = jget(m->state, "active");
    for (size_t i = 0; active && i < json_object_array_length(active) && m->n < MAX_ACTIVE; i++) {
        unsigned seq = (unsigned)json_object_get_int(json_object_array_get_idx(active, i));
        struct json_object *e = cp_exec_load(m->t, m->account, m->region, m->pipeline, seq);
        if (!e) continue;
        struct json_object *decl = machine_decl(m, (unsigned)jgeti(e, "pipelineVersion", 1));
        if (!decl) {
            json_object_put(e);
            continue;
        }
        m->runs[m->n++] = (struct run){seq, e, decl, 0};
    }
    return 0;
}

/* Runs the machine over m's loaded executions and writes what changed. */
static int machine_run(struct machine *m)
{
    int rc = 0;
    for (int pass = 0; pass < 1000; pass++) {
        int changed = 0;
        for (size_t i = 0; i < m->n; i++) {
            rc = step(m, &m->runs[i]);
            if (rc < 0) return rc;
            changed |= rc;
        }
        rc = admit(m);
        if (rc < 0) return rc;
        changed |= rc;
        if (!changed) break;
    }
    struct json_object *active = json_object_new_array();
    for (size_t i = 0; i < m->n; i++) {
        struct run *r = &m->runs[i];
        if (r->dirty && (rc = exec_store(m->t, m->account, m->region, m->pipeline, r->e)))
            return rc;
        if (!terminal(jgets(r->e, "status")))
            json_object_array_add(active, json_object_new_int((int)r->seq));
    }
    jset(m->state, "active", active);
    char key[KEY_MAX];
    int kl = state_key(key, sizeof key, m->account, m->region, m->pipeline);
    if (kl < 0) return STORE_ERROR;
    return cp_json_store(m->t, STORE_DB_CP_EXECUTIONS, key, (size_t)kl, m->state);
}

static int machine_open(struct machine *m, store_txn *t, const char *account, const char *region,
                        const char *pipeline, struct cp_kicks *kicks)
{
    memset(m, 0, sizeof *m);
    m->t = t;
    m->account = account;
    m->region = region;
    m->pipeline = pipeline;
    m->kicks = kicks;
    m->now = proto_now();
    struct cp_pipe_hdr h;
    const char *decl;
    int rc = cp_pipeline_read(t, account, region, pipeline, &h, &decl);
    if (rc) return rc == STORE_NOTFOUND ? CP_ENOPIPELINE : rc;
    m->mode = h.mode;
    char key[KEY_MAX];
    int kl = state_key(key, sizeof key, account, region, pipeline);
    if (kl < 0) return CP_ENOPIPELINE;
    m->state = cp_json_load(t, STORE_DB_CP_EXECUTIONS, key, (size_t)kl);
    if (!m->state) {
        m->state = json_object_new_object();
        jset(m->state, "next", json_object_new_int(1));
    }
    return 0;
}

int cp_advance_in(store_txn *t, const char *account, const char *region, const char *pipeline,
                  struct cp_kicks *kicks)
{
    struct machine m;
    int rc = machine_open(&m, t, account, region, pipeline, kicks);
    if (rc == CP_ENOPIPELINE) return 0; /* deleted: nothing runs on */
    if (!rc) rc = machine_load(&m);
    if (!rc) rc = machine_run(&m);
    machine_free(&m);
    return rc;
}

/* The V2 variables of an execution: each declared one with its override or its default. */
static struct json_object *exec_variables(struct json_object *decl, struct json_object *over)
{
    struct json_object *out = json_object_new_array(), *vars = jget(decl, "variables");
    for (size_t i = 0; vars && i < json_object_array_length(vars); i++) {
        struct json_object *v = json_object_array_get_idx(vars, i);
        const char *name = jgets(v, "name"), *value = jgets(v, "defaultValue");
        for (size_t j = 0; over && j < json_object_array_length(over); j++) {
            struct json_object *o = json_object_array_get_idx(over, j);
            if (name && jgets(o, "name") && !strcmp(jgets(o, "name"), name))
                value = jgets(o, "value");
        }
        struct json_object *rv = json_object_new_object();
        jsets(rv, "name", name);
        jsets(rv, "resolvedValue", value ? value : "");
        json_object_array_add(out, rv);
    }
    return out;
}

/* Creates a new execution of decl (the current declaration) as s says, waiting to enter the
 * first stage, and adds it to m as the newest run. Writes its id. Returns 0, CP_ECONFLICT when m
 * holds as many runs as it can, or a store error code. */
static int exec_new(struct machine *m, struct json_object *decl, const struct cp_start *s,
                    char id[37], struct run **out)
{
    if (m->n == MAX_ACTIVE) return CP_ECONFLICT;
    unsigned seq = (unsigned)jgeti(m->state, "next", 1);
    jset(m->state, "next", json_object_new_int((int)seq + 1));
    proto_uuid(id);
    if (s->request_token) jsets(jobj(m->state, "tokens"), s->request_token, id);
    struct json_object *e = json_object_new_object();
    jsets(e, "pipelineName", m->pipeline);
    jset(e, "pipelineVersion", json_object_new_int(jgeti(decl, "version", 1)));
    jsets(e, "pipelineExecutionId", id);
    jsets(e, "status", "InProgress");
    jset(e, "startTime", json_object_new_double(m->now));
    jset(e, "lastUpdateTime", json_object_new_double(m->now));
    struct json_object *trig = json_object_new_object();
    jsets(trig, "triggerType", s->trigger_type);
    jsets(trig, "triggerDetail", s->trigger_detail ? s->trigger_detail : "");
    jset(e, "trigger", trig);
    jsets(e, "executionMode", cp_mode_name(m->mode));
    jsets(e, "executionType", "STANDARD");
    jsets(e, "pipelineType", jgets(decl, "pipelineType") ? jgets(decl, "pipelineType") : "V1");
    jset(e, "variables", exec_variables(decl, s->variables));
    jset(e, "artifactRevisions", json_object_new_array());
    jset(e, "sourceRevisions", json_object_new_array());
    struct json_object *ovr = json_object_new_object();
    for (size_t i = 0; s->source_revisions && i < json_object_array_length(s->source_revisions);
         i++) {
        struct json_object *o = json_object_array_get_idx(s->source_revisions, i);
        if (jgets(o, "actionName")) jset(ovr, jgets(o, "actionName"), json_object_get(o));
    }
    jset(e, "_ovr", ovr);
    jset(e, "_seq", json_object_new_int((int)seq));
    jset(e, "_stage", json_object_new_int(0));
    jset(e, "_waiting", json_object_new_boolean(1));
    struct json_object *stages = json_object_new_array();
    for (int i = 0; i < n_stages(decl); i++) {
        struct json_object *st = json_object_new_object();
        jsets(st, "name", jgets(stage_decl(decl, i), "name"));
        jset(st, "actions", json_object_new_object());
        json_object_array_add(stages, st);
    }
    jset(e, "_stages", stages);
    jset(e, "_vars", json_object_new_object());
    char ep[320];
    if (s->endpoint)
        snprintf(ep, sizeof ep, "%s", s->endpoint);
    else
        cp_engine_endpoint(ep, sizeof ep);
    jsets(e, "_endpoint", ep);
    jset(e, "_art", json_object_new_object());
    char key[KEY_MAX], suf[64];
    snprintf(suf, sizeof suf, "I%s", id);
    int kl = cp_exec_key(key, sizeof key, m->account, m->region, m->pipeline, suf);
    char num[16];
    int nl = snprintf(num, sizeof num, "%u", seq), rc = 0;
    if (kl < 0 ||
        (rc = store_put(m->t, STORE_DB_CP_EXECUTIONS, key, (size_t)kl, num, (size_t)nl))) {
        json_object_put(e);
        return rc ? rc : STORE_ERROR;
    }
    m->runs[m->n] =
        (struct run){seq, e, machine_decl(m, (unsigned)jgeti(e, "pipelineVersion", 1)), 1};
    *out = &m->runs[m->n++];
    return 0;
}

int cp_exec_start_in(store_txn *t, const char *account, const char *region, const char *pipeline,
                     const struct cp_start *s, char id[37], struct cp_kicks *kicks)
{
    struct machine m;
    struct run *r = NULL;
    int rc = machine_open(&m, t, account, region, pipeline, kicks);
    if (rc) goto out;
    if (s->request_token) {
        const char *prev = jgets(jget(m.state, "tokens"), s->request_token);
        if (prev) {
            snprintf(id, 37, "%s", prev);
            rc = 1;
            goto out;
        }
    }
    struct json_object *decl = machine_decl(&m, 0);
    if (!decl) {
        rc = CP_ENOPIPELINE;
        goto out;
    }
    if ((rc = machine_load(&m))) goto out;
    if (m.n == MAX_ACTIVE) { /* too many running: the oldest is let go of by this pass */
        json_object_put(m.runs[0].e);
        memmove(m.runs, m.runs + 1, sizeof m.runs[0] * (m.n - 1));
        m.n--;
    }
    if ((rc = exec_new(&m, decl, s, id, &r))) goto out;
    rc = machine_run(&m);
out:
    machine_free(&m);
    return rc;
}

int cp_exec_pipeline_updated_in(store_txn *t, const char *account, const char *region,
                                const char *pipeline)
{
    struct machine m;
    int rc = machine_open(&m, t, account, region, pipeline, NULL);
    if (rc == CP_ENOPIPELINE) return 0;
    if (!rc) rc = machine_load(&m);
    for (size_t i = 0; !rc && i < m.n; i++) {
        jset(m.runs[i].e, "_updated", json_object_new_boolean(1));
        m.runs[i].dirty = 1;
    }
    if (!rc) rc = machine_run(&m);
    machine_free(&m);
    return rc;
}

int cp_exec_delete_all_in(store_txn *t, const char *account, const char *region,
                          const char *pipeline)
{
    char prefix[KEY_MAX];
    int pl = cp_exec_key(prefix, sizeof prefix, account, region, pipeline, "");
    if (pl < 0) return 0;
    store_cursor *c = NULL;
    int rc = store_cursor_open(t, STORE_DB_CP_EXECUTIONS, &c);
    if (rc) return rc;
    char **keys = NULL;
    size_t n = 0;
    for (int r = store_cursor_seek(c, prefix, (size_t)pl); r == 0; r = store_cursor_next(c)) {
        const void *k, *val;
        size_t kl, vl;
        store_cursor_get(c, &k, &kl, &val, &vl);
        if (kl < (size_t)pl || memcmp(k, prefix, (size_t)pl)) break;
        char **nk = realloc(keys, (n + 1) * sizeof *keys);
        if (!nk) break;
        keys = nk;
        keys[n] = strndup(k, kl);
        if (keys[n]) n++;
    }
    store_cursor_close(c);
    for (size_t i = 0; i < n; i++) {
        int r = store_del(t, STORE_DB_CP_EXECUTIONS, keys[i], strlen(keys[i]));
        if (r && r != STORE_NOTFOUND && !rc) rc = r;
        free(keys[i]);
    }
    free(keys);
    return rc;
}

/* ---- control: stop, transitions, retry ------------------------------------------------------ */

/* Loads execution seq into m as a run, in sequence order, when it is not loaded already.
 * Returns the run, or NULL. */
static struct run *machine_add(struct machine *m, unsigned seq)
{
    for (size_t i = 0; i < m->n; i++)
        if (m->runs[i].seq == seq) return &m->runs[i];
    if (m->n == MAX_ACTIVE) return NULL;
    struct json_object *e = cp_exec_load(m->t, m->account, m->region, m->pipeline, seq);
    struct json_object *decl = e ? machine_decl(m, (unsigned)jgeti(e, "pipelineVersion", 1)) : NULL;
    if (!decl) {
        json_object_put(e);
        return NULL;
    }
    size_t at = m->n;
    while (at > 0 && m->runs[at - 1].seq > seq)
        at--;
    memmove(m->runs + at + 1, m->runs + at, sizeof m->runs[0] * (m->n - at));
    m->runs[at] = (struct run){seq, e, decl, 0};
    m->n++;
    return &m->runs[at];
}

static void abandoned_add(struct cp_abandoned *ab, const char *aeid, const char *kind,
                          const char *ext)
{
    if (!ab || ab->n == sizeof ab->a / sizeof ab->a[0]) return;
    snprintf(ab->a[ab->n].aeid, sizeof ab->a[ab->n].aeid, "%s", aeid ? aeid : "");
    snprintf(ab->a[ab->n].kind, sizeof ab->a[ab->n].kind, "%s", kind ? kind : "");
    snprintf(ab->a[ab->n].external, sizeof ab->a[ab->n].external, "%s", ext ? ext : "");
    ab->n++;
}

/* Notes a rule whose queue item (a Commands rule's process) must be cancelled. */
static void note_rule(void *ctx, const char *rule_execution_id)
{
    abandoned_add(ctx, rule_execution_id, "rule", NULL);
}

/* Marks the actions in progress of r's current stage Abandoned, noting what to kill in ab. */
static void abandon_actions(struct machine *m, struct run *r, struct cp_abandoned *ab)
{
    if (jget(r->e, "_waiting") && json_object_get_boolean(jget(r->e, "_waiting"))) return;
    struct json_object *st = exec_stage(r->e, jgeti(r->e, "_stage", 0));
    cp_cond_abandon(st, m->now, note_rule, ab);
    json_object_object_foreach(jobj(st, "actions"), an, en)
    {
        (void)an;
        if (strcmp(jgets(en, "status") ?: "", "InProgress")) continue;
        jsets(en, "status", "Abandoned");
        jset(en, "lastUpdateTime", json_object_new_double(m->now));
        struct json_object *p = jget(en, "_p");
        if (jgets(p, "buildId"))
            abandoned_add(ab, jgets(en, "actionExecutionId"), "build", jgets(p, "buildId"));
        else if (jgets(p, "deploymentId"))
            abandoned_add(ab, jgets(en, "actionExecutionId"), "deployment",
                          jgets(p, "deploymentId"));
        else
            abandoned_add(ab, jgets(en, "actionExecutionId"), "", NULL);
    }
    r->dirty = 1;
}

int cp_exec_stop_in(store_txn *t, const char *account, const char *region, const char *pipeline,
                    const char *id, int abandon, const char *reason, struct cp_abandoned *ab,
                    struct cp_kicks *kicks)
{
    struct machine m;
    int rc = machine_open(&m, t, account, region, pipeline, kicks);
    if (rc) goto out;
    unsigned seq = cp_exec_seq(t, account, region, pipeline, id);
    if ((rc = machine_load(&m))) goto out;
    struct run *r = NULL;
    for (size_t i = 0; seq && i < m.n; i++)
        if (m.runs[i].seq == seq) r = &m.runs[i];
    if (!r || terminal(jgets(r->e, "status"))) {
        rc = CP_ENOTSTOPPABLE;
        goto out;
    }
    int stopping = !strcmp(jgets(r->e, "status"), "Stopping");
    if (stopping && (!abandon || jget(r->e, "_abandon"))) {
        rc = CP_EDUPSTOP;
        goto out;
    }
    jsets(r->e, "status", "Stopping");
    if (reason && *reason) jsets(r->e, "statusSummary", reason);
    jset(r->e, "lastUpdateTime", json_object_new_double(m.now));
    r->dirty = 1;
    if (abandon) {
        jset(r->e, "_abandon", json_object_new_boolean(1));
        abandon_actions(&m, r, ab);
    }
    rc = machine_run(&m);
out:
    machine_free(&m);
    return rc;
}

int cp_transition_set_in(store_txn *t, const char *account, const char *region,
                         const char *pipeline, const char *stage, const char *type, int enabled,
                         const char *reason, const char *by, struct cp_kicks *kicks)
{
    struct machine m;
    int rc = machine_open(&m, t, account, region, pipeline, kicks);
    if (rc) goto out;
    struct json_object *decl = machine_decl(&m, 0);
    int found = stage_index(decl, stage) >= 0;
    if (!found) {
        rc = CP_ENOSTAGE;
        goto out;
    }
    struct json_object *ts = jobj(jobj(m.state, "transitions"), stage);
    struct json_object *tr = json_object_new_object();
    jset(tr, "enabled", json_object_new_boolean(enabled));
    if (!enabled) jsets(tr, "disabledReason", reason);
    jsets(tr, "lastChangedBy", by);
    jset(tr, "lastChangedAt", json_object_new_double(m.now));
    jset(ts, !strcmp(type, "Outbound") ? "outbound" : "inbound", tr);
    if ((rc = machine_load(&m))) goto out;
    rc = machine_run(&m);
out:
    machine_free(&m);
    return rc;
}

struct json_object *cp_transition_state(struct json_object *state, const char *stage,
                                        const char *type)
{
    return jget(jget(jget(state, "transitions"), stage), type);
}

/* Whether a disabled transition holds executions out of stage si (its own inbound one, or the
 * outbound one of the stage before). */
static int transition_closed(struct machine *m, struct json_object *decl, int si)
{
    if (si <= 0) return 0;
    struct json_object *in =
        cp_transition_state(m->state, jgets(stage_decl(decl, si), "name") ?: "", "inbound");
    struct json_object *out =
        cp_transition_state(m->state, jgets(stage_decl(decl, si - 1), "name") ?: "", "outbound");
    return (in && !json_object_get_boolean(jget(in, "enabled"))) ||
           (out && !json_object_get_boolean(jget(out, "enabled")));
}

int cp_exec_retry_in(store_txn *t, const char *account, const char *region, const char *pipeline,
                     const char *stage, const char *id, const char *mode, struct cp_kicks *kicks)
{
    struct machine m;
    int rc = machine_open(&m, t, account, region, pipeline, kicks);
    if (rc) goto out;
    struct json_object *decl = machine_decl(&m, 0);
    int si = stage_index(decl, stage);
    if (si < 0) {
        rc = CP_ENOSTAGE;
        goto out;
    }
    if ((rc = machine_load(&m))) goto out;
    unsigned seq = cp_exec_seq(t, account, region, pipeline, id);
    struct run *r = seq ? machine_add(&m, seq) : NULL;
    if (!r) {
        rc = CP_ENOTRETRYABLE;
        goto out;
    }
    const char *status = jgets(r->e, "status");
    if (!terminal(status)) {
        rc = CP_ECONFLICT;
        goto out;
    }
    struct json_object *sl = jget(jget(m.state, "stageLatest"), stage);
    if (!sl || (unsigned)jgeti(sl, "seq", 0) != seq) {
        rc = CP_ENOTLATEST;
        goto out;
    }
    struct json_object *st = exec_stage(r->e, si);
    const char *ss = jgets(st, "status") ?: "";
    if (jgeti(r->e, "_stage", 0) != si || (strcmp(ss, "Failed") && strcmp(ss, "Stopped")) ||
        jgeti(r->e, "pipelineVersion", 1) != jgeti(decl, "version", 1)) {
        rc = CP_ENOTRETRYABLE;
        goto out;
    }
    jsets(r->e, "status", "InProgress");
    json_object_object_del(r->e, "statusSummary");
    json_object_object_del(r->e, "_abandon");
    jset(r->e, "lastUpdateTime", json_object_new_double(m.now));
    jset(r->e, "_waiting", json_object_new_boolean(1));
    jsets(st, "_retry", mode);
    cp_retry_count(st, 0);
    r->dirty = 1;
    rc = machine_run(&m);
out:
    machine_free(&m);
    return rc;
}

/* ---- onFailure and rollback ----------------------------------------------------------------- */

#define ROLLBACK_SCAN 1000 /* earlier executions an automatic rollback looks through */

/* Execution seq as m sees it: its loaded run's record (*owned 0), or the stored one (*owned 1,
 * caller puts). NULL when there is none. */
static struct json_object *exec_peek(struct machine *m, unsigned seq, int *owned)
{
    *owned = 0;
    for (size_t i = 0; i < m->n; i++)
        if (m->runs[i].seq == seq) return m->runs[i].e;
    *owned = 1;
    return cp_exec_load(m->t, m->account, m->region, m->pipeline, seq);
}

/* Adds to m a ROLLBACK execution of stage si to target, waiting to enter the stage. Returns 0,
 * CP_ECONFLICT when m is full, or a store error code. */
static int rollback_start(struct machine *m, int si, struct json_object *target,
                          const char *trigger, const char *detail, const char *endpoint,
                          char id[37])
{
    struct json_object *decl = machine_decl(m, 0);
    if (!decl) return CP_ENOPIPELINE;
    struct cp_start s = {.trigger_type = trigger, .trigger_detail = detail, .endpoint = endpoint};
    struct run *nr = NULL;
    int rc = exec_new(m, decl, &s, id, &nr);
    if (!rc) cp_rollback_seed(nr->e, target, si);
    return rc;
}

/* The automatic rollback of failed stage si of r: to the latest earlier execution that succeeded
 * in the stage in the current pipeline version. None found (AWS rolls back "only after there is
 * a successful pipeline execution in the pipeline stage") leaves the failure alone. Returns 0 or
 * a store error code. */
static int rollback_auto(struct machine *m, struct run *r, int si)
{
    struct json_object *cur = machine_decl(m, 0);
    int version = jgeti(cur, "version", 1), rc = 0;
    for (unsigned seq = r->seq - 1; seq >= 1 && r->seq - seq <= ROLLBACK_SCAN; seq--) {
        int owned;
        struct json_object *target = exec_peek(m, seq, &owned);
        if (!target) continue;
        if (cp_rollback_target_check(target, si, version) == CP_RB_OK) {
            char id[37];
            rc = rollback_start(m, si, target, "AutomatedRollback",
                                jgets(r->e, "pipelineExecutionId"), jgets(r->e, "_endpoint"), id);
            if (rc == CP_ECONFLICT) rc = 0; /* no room this pass: the stage just fails */
            if (owned) json_object_put(target);
            break;
        }
        if (owned) json_object_put(target);
    }
    return rc;
}

/* The stage's onFailure result, applied to failed stage si of r: cond_result (the result of
 * its met onFailure condition, or NULL) or else onFailure.result. RETRY runs the stage again at
 * once (while automatic attempts remain), counted in its retryStageMetadata; ROLLBACK starts a
 * rollback execution of the stage, and the stage fails as with FAIL. The one place a failed
 * stage's onFailure result applies (a gate on onFailure conditions goes in front of it).
 * Returns 1 when the stage runs again, 0 when it fails as usual, or a store error code. */
static int apply_on_failure(struct machine *m, struct run *r, int si, const char *cond_result)
{
    struct json_object *st = exec_stage(r->e, si);
    const char *retry_mode = NULL;
    switch (cp_on_failure_result(stage_decl(r->decl, si), st, cond_result,
                                 jgets(r->e, "executionType"), m->mode, &retry_mode)) {
    case CP_ONFAIL_RETRY: {
        cp_retry_count(st, 1);
        jsets(st, "_retry", retry_mode);
        r->dirty = 1;
        int rc = enter_stage(m, r, si);
        return rc < 0 ? rc : 1;
    }
    case CP_ONFAIL_ROLLBACK:
        return rollback_auto(m, r, si);
    default:
        return 0;
    }
}

int cp_exec_rollback_in(store_txn *t, const char *account, const char *region, const char *pipeline,
                        const char *stage, const char *target_id, const char *caller,
                        const char *endpoint, char id[37], const char **why, struct cp_kicks *kicks)
{
    struct machine m;
    struct json_object *target = NULL;
    int owned = 0;
    int rc = machine_open(&m, t, account, region, pipeline, kicks);
    if (rc) goto out;
    struct json_object *decl = machine_decl(&m, 0);
    if (!decl) {
        rc = CP_ENOPIPELINE;
        goto out;
    }
    int si = stage_index(decl, stage);
    rc = CP_ENOROLLBACK;
    if (strcmp(jgets(decl, "pipelineType") ?: "V1", "V2")) {
        *why = "stage rollback is only available for pipelines of type V2";
        goto out;
    }
    if (si < 0) {
        rc = CP_ENOSTAGE;
        goto out;
    }
    if (si == 0) {
        *why = "a source stage cannot be rolled back";
        goto out;
    }
    if (m.mode == CP_MODE_PARALLEL) {
        *why = "stage rollback is not available in PARALLEL execution mode";
        goto out;
    }
    if ((rc = machine_load(&m))) goto out;
    unsigned seq = cp_exec_seq(t, account, region, pipeline, target_id);
    target = seq ? exec_peek(&m, seq, &owned) : NULL;
    if (!target) {
        rc = CP_ENOEXECUTION;
        goto out;
    }
    rc = CP_ENOROLLBACK;
    switch (cp_rollback_target_check(target, si, jgeti(decl, "version", 1))) {
    case CP_RB_ROLLBACK_TYPE:
        *why = "the target execution is a rollback execution";
        goto out;
    case CP_RB_NOT_SUCCEEDED:
        *why = "the target execution did not succeed in the stage";
        goto out;
    case CP_RB_OUTDATED:
        rc = CP_EOUTDATED;
        goto out;
    case CP_RB_OK:
        break;
    }
    if (jget(jobj(m.state, "locks"), stage)) {
        *why = "the stage is in progress";
        goto out;
    }
    rc = rollback_start(&m, si, target, "ManualRollback", caller, endpoint, id);
    if (rc == CP_ECONFLICT) {
        *why = "too many executions of the pipeline are in progress";
        rc = CP_ENOROLLBACK;
    }
    if (!rc) rc = machine_run(&m);
out:
    if (owned) json_object_put(target);
    machine_free(&m);
    return rc;
}

int cp_cond_override_in(store_txn *t, const char *account, const char *region, const char *pipeline,
                        const char *stage, const char *id, const char *type,
                        struct cp_abandoned *ab, struct cp_kicks *kicks)
{
    struct machine m;
    int rc = machine_open(&m, t, account, region, pipeline, kicks);
    if (rc) goto out;
    struct json_object *decl = machine_decl(&m, 0);
    int si = stage_index(decl, stage);
    if (si < 0) {
        rc = CP_ENOSTAGE;
        goto out;
    }
    if ((rc = machine_load(&m))) goto out;
    enum cp_cond_kind kind =
        !strcmp(type, "ON_SUCCESS") ? CP_COND_ON_SUCCESS : CP_COND_BEFORE_ENTRY;
    unsigned seq = cp_exec_seq(t, account, region, pipeline, id);
    struct run *r = seq ? machine_add(&m, seq) : NULL;
    struct json_object *st = r ? exec_stage(r->e, si) : NULL;
    const char *cs = st ? cp_cond_status(st, kind) : NULL;
    if (!cs) {
        rc = CP_ENOTOVERRIDABLE;
        goto out;
    }
    struct json_object *sl = jget(jget(m.state, "stageLatest"), stage);
    if (!sl || (unsigned)jgeti(sl, "seq", 0) != seq) {
        rc = CP_ENOTLATEST;
        goto out;
    }
    if (!strcmp(cs, "InProgress")) {
        /* Rules still run: the condition reads as met from now on. */
        cp_cond_override(st, kind, m.now, note_rule, ab);
        r->dirty = 1;
        rc = machine_run(&m);
        goto out;
    }
    /* An entry condition that failed its stage: the execution enters the stage after all. */
    if (kind != CP_COND_BEFORE_ENTRY || strcmp(cs, "Failed") || jgeti(r->e, "_stage", 0) != si ||
        strcmp(jgets(r->e, "status") ?: "", "Failed") ||
        jgeti(r->e, "pipelineVersion", 1) != jgeti(decl, "version", 1)) {
        rc = CP_ENOTOVERRIDABLE;
        goto out;
    }
    struct json_object *lock = jget(jget(m.state, "locks"), stage);
    if (m.mode != CP_MODE_PARALLEL && lock && (unsigned)json_object_get_int(lock) != seq) {
        rc = CP_ECONFLICT;
        goto out;
    }
    cp_cond_override(st, kind, m.now, NULL, NULL);
    jsets(r->e, "status", "InProgress");
    json_object_object_del(r->e, "statusSummary");
    jset(r->e, "lastUpdateTime", json_object_new_double(m.now));
    jset(r->e, "_waiting", json_object_new_boolean(1));
    r->dirty = 1;
    rc = machine_run(&m);
out:
    machine_free(&m);
    return rc;
}
