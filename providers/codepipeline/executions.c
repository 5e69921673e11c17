/* Execution operations: StartPipelineExecution, GetPipelineState, GetPipelineExecution,
 * ListPipelineExecutions, ListActionExecutions, PutApprovalResult. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "providers/codepipeline/catalogue.h"
#include "providers/codepipeline/conditions.h"
#include "providers/codepipeline/cp_internal.h"
#include "providers/codepipeline/engine.h"
#include "providers/codepipeline/cp_json.h"

#define KEY_MAX  512
#define LIST_MAX 100
#define SCAN_MAX 10000 /* executions one listing looks at */

static const char *in_str(struct proto_req *req, const char *k)
{
    const char *s = jgets(req->input, k);
    return s ? s : "";
}

/* Copies member k of from into to, when present. */
static void copy(struct json_object *to, struct json_object *from, const char *k)
{
    struct json_object *v = jget(from, k);
    if (v) json_object_object_add(to, k, json_object_get(v));
}

static int not_found(struct proto_req *req, const char *name)
{
    return proto_error(req, ERR_PIPELINE_NOT_FOUND,
                       "Account '%s' does not have a pipeline with name '%s'",
                       req->caller.account_id, name);
}

static int engine_error(struct proto_req *req, int rc, const char *name)
{
    if (rc == CP_ENOPIPELINE) return not_found(req, name);
    return cp_store_error(req, rc);
}

static char *caller_arn(struct proto_req *req)
{
    return proto_arena_printf(req->arena, "arn:aws:iam::%s:root", req->caller.account_id);
}

int cp_op_start_pipeline_execution(struct proto_req *req)
{
    const char *acct = req->caller.account_id, *region = req->caller.region;
    const char *name = in_str(req, "name");
    struct cp_start s = {
        .trigger_type = "StartPipelineExecution",
        .trigger_detail = caller_arn(req),
        .variables = jget(req->input, "variables"),
        .source_revisions = jget(req->input, "sourceRevisions"),
        .request_token = jgets(req->input, "clientRequestToken"),
        .endpoint = cp_request_endpoint(req),
    };
    if (!cp_engine_queue())
        return proto_error(req, ERR_SERVICE_UNAVAILABLE, "The execution engine is not running");
    struct cp_kicks kicks = {0};
    store_txn *t = NULL;
    char id[37];
    int rc = store_txn_begin(req->store, 1, &t);
    if (rc) return cp_store_error(req, rc);
    /* Variables must be declared by the pipeline (V2). */
    struct json_object *vars = s.variables;
    if (vars && json_object_array_length(vars)) {
        struct json_object *decl = cp_decl_load(t, acct, region, name, 0);
        if (!decl) {
            store_txn_abort(t);
            return not_found(req, name);
        }
        struct json_object *dv = jget(decl, "variables");
        for (size_t i = 0; i < json_object_array_length(vars); i++) {
            const char *vn = jgets(json_object_array_get_idx(vars, i), "name");
            int found = 0;
            for (size_t j = 0; dv && j < json_object_array_length(dv); j++)
                if (vn && !strcmp(vn, jgets(json_object_array_get_idx(dv, j), "name") ?: ""))
                    found = 1;
            if (!found) {
                json_object_put(decl);
                store_txn_abort(t);
                return proto_error(req, ERR_VALIDATION,
                                   "Variable '%s' is not declared in the pipeline", vn ? vn : "");
            }
        }
        json_object_put(decl);
    }
    rc = cp_exec_start_in(t, acct, region, name, &s, id, &kicks);
    if (rc < 0) {
        store_txn_abort(t);
        return engine_error(req, rc, name);
    }
    if ((rc = store_txn_commit(t))) return cp_store_error(req, rc);
    cp_kicks_run(&kicks);
    req->output = json_object_new_object();
    json_object_object_add(req->output, "pipelineExecutionId", json_object_new_string(id));
    return 0;
}

/* The PipelineExecution of e. */
static struct json_object *execution_out(struct json_object *e)
{
    struct json_object *o = json_object_new_object();
    const char *keys[] = {"pipelineName",
                          "pipelineVersion",
                          "pipelineExecutionId",
                          "status",
                          "statusSummary",
                          "artifactRevisions",
                          "trigger",
                          "executionMode",
                          "executionType",
                          "rollbackMetadata",
                          NULL};
    for (int i = 0; keys[i]; i++)
        copy(o, e, keys[i]);
    if (jgets(e, "pipelineType") && !strcmp(jgets(e, "pipelineType"), "V2"))
        copy(o, e, "variables");
    return o;
}

int cp_op_get_pipeline_execution(struct proto_req *req)
{
    const char *acct = req->caller.account_id, *region = req->caller.region;
    const char *name = in_str(req, "pipelineName"), *id = in_str(req, "pipelineExecutionId");
    store_txn *t = NULL;
    int rc = store_txn_begin(req->store, 0, &t);
    if (rc) return cp_store_error(req, rc);
    struct cp_pipe_hdr h;
    const char *decl;
    if ((rc = cp_pipeline_read(t, acct, region, name, &h, &decl))) {
        store_txn_abort(t);
        return rc == STORE_NOTFOUND ? not_found(req, name) : cp_store_error(req, rc);
    }
    unsigned seq = cp_exec_seq(t, acct, region, name, id);
    struct json_object *e = seq ? cp_exec_load(t, acct, region, name, seq) : NULL;
    store_txn_abort(t);
    if (!e)
        return proto_error(req, ERR_PIPELINE_EXECUTION_NOT_FOUND,
                           "Pipeline Execution with id: '%s' does not exist for pipeline with "
                           "name: '%s'",
                           id, name);
    req->output = json_object_new_object();
    json_object_object_add(req->output, "pipelineExecution", execution_out(e));
    json_object_put(e);
    return 0;
}

/* Every execution of pipeline, newest first (at most SCAN_MAX). Returns a new array. */
struct json_object *cp_exec_all(store_txn *t, const char *acct, const char *region,
                                const char *name)
{
    struct json_object *list = json_object_new_array();
    char prefix[KEY_MAX];
    int pl = cp_exec_key(prefix, sizeof prefix, acct, region, name, "X");
    store_cursor *c = NULL;
    if (pl < 0 || store_cursor_open(t, STORE_DB_CP_EXECUTIONS, &c)) return list;
    for (int r = store_cursor_seek(c, prefix, (size_t)pl); r == 0; r = store_cursor_next(c)) {
        const void *k, *val;
        size_t kl, vl;
        store_cursor_get(c, &k, &kl, &val, &vl);
        if (kl < (size_t)pl || memcmp(k, prefix, (size_t)pl)) break;
        struct json_tokener *tok = json_tokener_new();
        struct json_object *e = json_tokener_parse_ex(tok, val, (int)vl);
        json_tokener_free(tok);
        if (e) json_object_array_add(list, e);
        if (json_object_array_length(list) >= SCAN_MAX) break;
    }
    store_cursor_close(c);
    /* keys ascend by sequence: reverse */
    size_t n = json_object_array_length(list);
    struct json_object *rev = json_object_new_array_ext((int)n);
    for (size_t i = n; i-- > 0;)
        json_object_array_add(rev, json_object_get(json_object_array_get_idx(list, i)));
    json_object_put(list);
    return rev;
}

static int read_max(struct proto_req *req)
{
    struct json_object *v = jget(req->input, "maxResults");
    int max = v ? json_object_get_int(v) : LIST_MAX;
    return max < 1 || max > 1000 ? LIST_MAX : max;
}

/* Decodes nextToken into an offset; -1 for a bad token, 0 when none. */
static long read_offset(struct proto_req *req)
{
    const char *tok = jgets(req->input, "nextToken");
    if (!tok) return 0;
    const char *s = cp_token_decode(req->arena, tok);
    if (!s || !*s) return -1;
    char *end;
    long off = strtol(s, &end, 10);
    return *end || off < 0 ? -1 : off;
}

static void add_token(struct proto_req *req, long off)
{
    char buf[24];
    int n = snprintf(buf, sizeof buf, "%ld", off);
    json_object_object_add(req->output, "nextToken",
                           json_object_new_string(cp_token_encode(req->arena, buf, (size_t)n)));
}

static int stage_succeeded(struct json_object *e, const char *stage)
{
    struct json_object *st = jget(e, "_stages");
    for (size_t i = 0; st && i < json_object_array_length(st); i++) {
        struct json_object *s = json_object_array_get_idx(st, i);
        if (!strcmp(jgets(s, "name") ?: "", stage))
            return jgets(s, "status") && !strcmp(jgets(s, "status"), "Succeeded");
    }
    return 0;
}

int cp_op_list_pipeline_executions(struct proto_req *req)
{
    const char *acct = req->caller.account_id, *region = req->caller.region;
    const char *name = in_str(req, "pipelineName");
    int max = read_max(req);
    long off = read_offset(req);
    if (off < 0) return proto_error(req, ERR_INVALID_NEXT_TOKEN, "Invalid nextToken");
    const char *in_stage = jgets(jget(jget(req->input, "filter"), "succeededInStage"), "stageName");
    store_txn *t = NULL;
    int rc = store_txn_begin(req->store, 0, &t);
    if (rc) return cp_store_error(req, rc);
    struct cp_pipe_hdr h;
    const char *decl;
    if ((rc = cp_pipeline_read(t, acct, region, name, &h, &decl))) {
        store_txn_abort(t);
        return rc == STORE_NOTFOUND ? not_found(req, name) : cp_store_error(req, rc);
    }
    struct json_object *all = cp_exec_all(t, acct, region, name);
    store_txn_abort(t);
    req->output = json_object_new_object();
    struct json_object *out = json_object_new_array();
    json_object_object_add(req->output, "pipelineExecutionSummaries", out);
    long seen = 0;
    for (size_t i = 0; i < json_object_array_length(all); i++) {
        struct json_object *e = json_object_array_get_idx(all, i);
        if (in_stage && !stage_succeeded(e, in_stage)) continue;
        if (seen++ < off) continue;
        if ((int)json_object_array_length(out) == max) {
            add_token(req, off + max);
            break;
        }
        struct json_object *s = json_object_new_object();
        const char *keys[] = {"pipelineExecutionId",
                              "status",
                              "statusSummary",
                              "startTime",
                              "lastUpdateTime",
                              "sourceRevisions",
                              "trigger",
                              "executionMode",
                              "executionType",
                              "rollbackMetadata",
                              NULL};
        for (int k = 0; keys[k]; k++)
            copy(s, e, keys[k]);
        json_object_array_add(out, s);
    }
    json_object_put(all);
    return 0;
}

/* An action execution without the engine's own members. */
static struct json_object *action_out(struct json_object *en)
{
    struct json_object *o = json_object_new_object();
    json_object_object_foreach(en, k, v)
    {
        if (k[0] != '_') json_object_object_add(o, k, json_object_get(v));
    }
    return o;
}

static int by_start_desc(const void *a, const void *b)
{
    struct json_object *x = *(struct json_object *const *)a, *y = *(struct json_object *const *)b;
    double tx = json_object_get_double(jget(x, "startTime")),
           ty = json_object_get_double(jget(y, "startTime"));
    return tx < ty ? 1 : tx > ty ? -1 : 0;
}

int cp_op_list_action_executions(struct proto_req *req)
{
    const char *acct = req->caller.account_id, *region = req->caller.region;
    const char *name = in_str(req, "pipelineName");
    struct json_object *filter = jget(req->input, "filter");
    const char *want = jgets(filter, "pipelineExecutionId");
    if (!want) want = jgets(jget(filter, "latestInPipelineExecution"), "pipelineExecutionId");
    int max = read_max(req);
    long off = read_offset(req);
    if (off < 0) return proto_error(req, ERR_INVALID_NEXT_TOKEN, "Invalid nextToken");
    store_txn *t = NULL;
    int rc = store_txn_begin(req->store, 0, &t);
    if (rc) return cp_store_error(req, rc);
    struct cp_pipe_hdr h;
    const char *decl;
    if ((rc = cp_pipeline_read(t, acct, region, name, &h, &decl))) {
        store_txn_abort(t);
        return rc == STORE_NOTFOUND ? not_found(req, name) : cp_store_error(req, rc);
    }
    struct json_object *execs;
    if (want) {
        execs = json_object_new_array();
        unsigned seq = cp_exec_seq(t, acct, region, name, want);
        struct json_object *e = seq ? cp_exec_load(t, acct, region, name, seq) : NULL;
        if (!e) {
            store_txn_abort(t);
            json_object_put(execs);
            return proto_error(req, ERR_PIPELINE_EXECUTION_NOT_FOUND,
                               "Pipeline Execution with id: '%s' does not exist for pipeline "
                               "with name: '%s'",
                               want, name);
        }
        json_object_array_add(execs, e);
    } else {
        execs = cp_exec_all(t, acct, region, name);
    }
    store_txn_abort(t);
    size_t n = 0, cap = 64;
    struct json_object **list = malloc(cap * sizeof *list);
    for (size_t i = 0; i < json_object_array_length(execs); i++) {
        struct json_object *st = jget(json_object_array_get_idx(execs, i), "_stages");
        for (size_t s = 0; st && s < json_object_array_length(st); s++) {
            json_object_object_foreach(jget(json_object_array_get_idx(st, s), "actions"), an, en)
            {
                (void)an;
                if (n == cap) list = realloc(list, (cap *= 2) * sizeof *list);
                list[n++] = en;
            }
        }
    }
    qsort(list, n, sizeof *list, by_start_desc);
    req->output = json_object_new_object();
    struct json_object *out = json_object_new_array();
    json_object_object_add(req->output, "actionExecutionDetails", out);
    for (size_t i = (size_t)off; i < n; i++) {
        if ((int)json_object_array_length(out) == max) {
            add_token(req, off + max);
            break;
        }
        json_object_array_add(out, action_out(list[i]));
    }
    free(list);
    json_object_put(execs);
    return 0;
}

/* Fills {Config:Name} in a catalogue URL template from the action's configuration. */
static char *fill_url(proto_arena *a, const char *tpl, struct json_object *cfg)
{
    struct proto_sb sb = PROTO_SB_INIT;
    for (const char *p = tpl; *p;) {
        if (!strncmp(p, "{Config:", 8)) {
            const char *end = strchr(p, '}');
            if (end) {
                char k[128];
                snprintf(k, sizeof k, "%.*s", (int)(end - p - 8), p + 8);
                const char *v = jgets(cfg, k);
                proto_sb_puts(&sb, v ? v : "");
                p = end + 1;
                continue;
            }
        }
        proto_sb_putc(&sb, *p++);
    }
    char *s = proto_arena_strdup(a, proto_sb_str(&sb));
    proto_sb_free(&sb);
    return s;
}

/* The ExecutionType of e (STANDARD for records from before rollbacks). */
static const char *exec_type(struct json_object *e)
{
    const char *t = jgets(e, "executionType");
    return t ? t : "STANDARD";
}

/* The latestExecution of an ActionState from an action execution. */
static struct json_object *action_latest(struct json_object *en)
{
    struct json_object *l = json_object_new_object(),
                       *er = jget(jget(en, "output"), "executionResult");
    copy(l, en, "actionExecutionId");
    copy(l, en, "status");
    if (jget(en, "_summary"))
        json_object_object_add(l, "summary", json_object_get(jget(en, "_summary")));
    struct json_object *lc = jget(en, "_lastStatusChange");
    json_object_object_add(l, "lastStatusChange", json_object_get(lc ? lc : jget(en, "startTime")));
    if (jgets(en, "_token") && !strcmp(jgets(en, "status"), "InProgress"))
        json_object_object_add(l, "token", json_object_get(jget(en, "_token")));
    if (jget(en, "_percent") && !strcmp(jgets(en, "status"), "InProgress"))
        json_object_object_add(l, "percentComplete", json_object_get(jget(en, "_percent")));
    copy(l, er, "externalExecutionId");
    copy(l, er, "externalExecutionUrl");
    copy(l, er, "errorDetails");
    copy(l, en, "updatedBy");
    if (jget(l, "updatedBy")) {
        json_object_object_add(l, "lastUpdatedBy", json_object_get(jget(l, "updatedBy")));
        json_object_object_del(l, "updatedBy");
    }
    return l;
}

int cp_op_get_pipeline_state(struct proto_req *req)
{
    const char *acct = req->caller.account_id, *region = req->caller.region;
    const char *name = in_str(req, "name");
    store_txn *t = NULL;
    int rc = store_txn_begin(req->store, 0, &t);
    if (rc) return cp_store_error(req, rc);
    struct cp_pipe_hdr h;
    const char *d;
    if ((rc = cp_pipeline_read(t, acct, region, name, &h, &d))) {
        store_txn_abort(t);
        return rc == STORE_NOTFOUND ? not_found(req, name) : cp_store_error(req, rc);
    }
    struct json_object *decl = cp_decl_load(t, acct, region, name, 0);
    char key[KEY_MAX];
    int kl = cp_exec_key(key, sizeof key, acct, region, name, "S");
    struct json_object *state =
        kl < 0 ? NULL : cp_json_load(t, STORE_DB_CP_EXECUTIONS, key, (size_t)kl);
    /* The executions the answer reads, each loaded once. */
    struct {
        unsigned seq;
        struct json_object *e;
    } cache[64];
    size_t nc = 0;
#define LOAD_EXEC(seq_, out_)                                                                      \
    do {                                                                                           \
        out_ = NULL;                                                                               \
        for (size_t ci = 0; ci < nc; ci++)                                                         \
            if (cache[ci].seq == (seq_)) out_ = cache[ci].e;                                       \
        if (!out_ && nc < 64) {                                                                    \
            out_ = cp_exec_load(t, acct, region, name, (seq_));                                    \
            if (out_) cache[nc++] = (typeof(cache[0])){(seq_), out_};                              \
        }                                                                                          \
    } while (0)
    req->output = json_object_new_object();
    json_object_object_add(req->output, "pipelineName", json_object_new_string(name));
    json_object_object_add(req->output, "pipelineVersion", json_object_new_int((int)h.version));
    struct json_object *stages = json_object_new_array(), *ds = jget(decl, "stages");
    struct json_object *active = jget(state, "active");
    for (size_t i = 0; ds && i < json_object_array_length(ds); i++) {
        struct json_object *sd = json_object_array_get_idx(ds, i), *ss = json_object_new_object();
        const char *stage = jgets(sd, "name");
        json_object_object_add(ss, "stageName", json_object_new_string(stage));
        /* Executions waiting to enter the stage. */
        struct json_object *inbound = json_object_new_array();
        for (size_t a = 0; active && a < json_object_array_length(active); a++) {
            unsigned seq = (unsigned)json_object_get_int(json_object_array_get_idx(active, a));
            struct json_object *e;
            LOAD_EXEC(seq, e);
            if (!e || !json_object_get_boolean(jget(e, "_waiting"))) continue;
            struct json_object *es = json_object_array_get_idx(
                jget(e, "_stages"), (size_t)json_object_get_int(jget(e, "_stage")));
            if (strcmp(jgets(es, "name") ?: "", stage) || i == 0) continue;
            struct json_object *ie = json_object_new_object();
            copy(ie, e, "pipelineExecutionId");
            copy(ie, e, "status");
            json_object_object_add(ie, "type", json_object_new_string(exec_type(e)));
            json_object_array_add(inbound, ie);
        }
        if (json_object_array_length(inbound)) {
            json_object_object_add(ss, "inboundExecution",
                                   json_object_get(json_object_array_get_idx(
                                       inbound, json_object_array_length(inbound) - 1)));
            json_object_object_add(ss, "inboundExecutions", inbound);
        } else {
            json_object_put(inbound);
        }
        if (i > 0) {
            struct json_object *its = json_object_new_object(),
                               *tr = cp_transition_state(state, stage, "inbound");
            json_object_object_add(
                its, "enabled",
                json_object_new_boolean(!tr || json_object_get_boolean(jget(tr, "enabled"))));
            copy(its, tr, "lastChangedBy");
            copy(its, tr, "lastChangedAt");
            copy(its, tr, "disabledReason");
            json_object_object_add(ss, "inboundTransitionState", its);
        }
        struct json_object *acts = json_object_new_array(), *da = jget(sd, "actions");
        for (size_t a = 0; da && a < json_object_array_length(da); a++) {
            struct json_object *ad = json_object_array_get_idx(da, a),
                               *as = json_object_new_object();
            const char *an = jgets(ad, "name");
            json_object_object_add(as, "actionName", json_object_new_string(an));
            struct json_object *tid = jget(ad, "actionTypeId");
            const struct cp_action_spec *spec =
                cp_catalogue_find(jgets(tid, "category") ?: "", jgets(tid, "owner") ?: "",
                                  jgets(tid, "provider") ?: "", jgets(tid, "version") ?: "");
            char lk[256];
            snprintf(lk, sizeof lk, "%s/%s", stage, an);
            struct json_object *seqv = jget(jget(state, "actionLatest"), lk);
            struct json_object *e = NULL, *en = NULL;
            if (seqv) LOAD_EXEC((unsigned)json_object_get_int(seqv), e);
            if (e) {
                struct json_object *es = json_object_array_get_idx(jget(e, "_stages"), i);
                en = jget(jget(es, "actions"), an);
            }
            if (en && jget(en, "_revision")) {
                struct json_object *rev = jget(en, "_revision"), *cr = json_object_new_object();
                copy(cr, rev, "revisionId");
                if (jget(rev, "revisionChangeIdentifier"))
                    json_object_object_add(cr, "revisionChangeId",
                                           json_object_get(jget(rev, "revisionChangeIdentifier")));
                copy(cr, rev, "created");
                json_object_object_add(as, "currentRevision", cr);
            }
            if (en) json_object_object_add(as, "latestExecution", action_latest(en));
            const char *eurl = spec ? spec->entity_url : NULL;
            struct json_object *custom = NULL;
            if (!spec && !strcmp(jgets(tid, "owner") ?: "", "Custom")) {
                custom =
                    cp_custom_action_get(t, acct, region, jgets(tid, "category") ?: "",
                                         jgets(tid, "provider") ?: "", jgets(tid, "version") ?: "");
                eurl = jgets(jget(custom, "settings"), "entityUrlTemplate");
            }
            if (eurl)
                json_object_object_add(
                    as, "entityUrl",
                    json_object_new_string(fill_url(req->arena, eurl, jget(ad, "configuration"))));
            json_object_put(custom);
            json_object_array_add(acts, as);
        }
        json_object_object_add(ss, "actionStates", acts);
        struct json_object *sl = jget(jget(state, "stageLatest"), stage);
        if (sl) {
            struct json_object *e, *le = json_object_new_object();
            LOAD_EXEC((unsigned)json_object_get_int(jget(sl, "seq")), e);
            copy(le, e, "pipelineExecutionId");
            copy(le, sl, "status");
            json_object_object_add(le, "type", json_object_new_string(exec_type(e)));
            json_object_object_add(ss, "latestExecution", le);
            /* automatic and manual retries of the stage in that execution */
            struct json_object *les = jget(e, "_stages");
            if (les && i < json_object_array_length(les))
                copy(ss, json_object_array_get_idx(les, i), "retryStageMetadata");
            /* The conditions of the latest execution in the stage. */
            static const char *const COND_STATE[] = {
                "beforeEntryConditionState", "onSuccessConditionState", "onFailureConditionState"};
            struct json_object *es = json_object_array_get_idx(jget(e, "_stages"), i);
            for (int k = 0; es && k < 3; k++) {
                struct json_object *cs = cp_cond_state_out(es, (enum cp_cond_kind)k);
                if (cs) json_object_object_add(ss, COND_STATE[k], cs);
            }
        }
        json_object_array_add(stages, ss);
    }
#undef LOAD_EXEC
    store_txn_abort(t);
    json_object_object_add(req->output, "stageStates", stages);
    json_object_object_add(req->output, "created", json_object_new_double(h.created));
    json_object_object_add(req->output, "updated", json_object_new_double(h.updated));
    for (size_t i = 0; i < nc; i++)
        json_object_put(cache[i].e);
    json_object_put(state);
    json_object_put(decl);
    return 0;
}

int cp_op_put_approval_result(struct proto_req *req)
{
    const char *acct = req->caller.account_id, *region = req->caller.region;
    const char *name = in_str(req, "pipelineName"), *stage = in_str(req, "stageName");
    const char *action = in_str(req, "actionName"), *token = in_str(req, "token");
    struct json_object *result = jget(req->input, "result");
    const char *status = jgets(result, "status") ?: "", *summary = jgets(result, "summary");
    struct cp_kicks kicks = {0};
    store_txn *t = NULL;
    int rc = store_txn_begin(req->store, 1, &t);
    if (rc) return cp_store_error(req, rc);
    struct json_object *decl = cp_decl_load(t, acct, region, name, 0);
    if (!decl) {
        rc = not_found(req, name);
        goto out;
    }
    struct json_object *ds = jget(decl, "stages"), *sd = NULL, *ad = NULL;
    for (size_t i = 0; ds && i < json_object_array_length(ds); i++)
        if (!strcmp(jgets(json_object_array_get_idx(ds, i), "name") ?: "", stage))
            sd = json_object_array_get_idx(ds, i);
    if (!sd) {
        rc = proto_error(req, ERR_STAGE_NOT_FOUND, "Stage %s not found in the pipeline %s", stage,
                         name);
        goto out;
    }
    struct json_object *da = jget(sd, "actions");
    for (size_t i = 0; da && i < json_object_array_length(da); i++)
        if (!strcmp(jgets(json_object_array_get_idx(da, i), "name") ?: "", action))
            ad = json_object_array_get_idx(da, i);
    if (!ad) {
        rc = proto_error(req, ERR_ACTION_NOT_FOUND,
                         "Action %s not found in the stage %s of the pipeline %s", action, stage,
                         name);
        goto out;
    }
    double at = 0;
    rc = cp_approval_answer_in(t, acct, region, name, stage, action, token, status, summary,
                               caller_arn(req), &at, &kicks);
    if (rc == CP_ENOTOKEN) {
        rc = proto_error(req, ERR_INVALID_APPROVAL_TOKEN,
                         "The token %s is not valid for the approval action %s", token, action);
        goto out;
    }
    if (rc == CP_EDONE) {
        rc = proto_error(req, ERR_APPROVAL_ALREADY_COMPLETED,
                         "The approval action %s has already been completed", action);
        goto out;
    }
    if (rc) {
        rc = cp_store_error(req, rc);
        goto out;
    }
    rc = store_txn_commit(t);
    t = NULL;
    if (rc) {
        rc = cp_store_error(req, rc);
        goto out;
    }
    cp_kicks_run(&kicks);
    req->output = json_object_new_object();
    json_object_object_add(req->output, "approvedAt", json_object_new_double(at));
out:
    json_object_put(decl);
    store_txn_abort(t);
    return rc;
}
