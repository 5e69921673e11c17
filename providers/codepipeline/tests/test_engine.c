/* Unit tests of the execution state machine (driven by hand, no workers) and of variable
 * resolution. */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "providers/codepipeline/cp_internal.h"
#include "providers/codepipeline/engine.h"

#define ACCT   "000000000000"
#define REGION "us-east-1"

static char tdir[128];
static store *st;
static rt_queue *q;

static void setup(void)
{
    snprintf(tdir, sizeof tdir, "/tmp/cp-engine-XXXXXX");
    cr_assert_not_null(mkdtemp(tdir));
    struct store_options o = {.dir = tdir, .no_sync = 1, .map_size = 64u << 20};
    char err[256];
    cr_assert_eq(store_open(&o, &st, err, sizeof err), 0, "%s", err);
    q = rt_queue_new(st);
    cp_engine_attach(st, q);
}

static void teardown(void)
{
    rt_queue_free(q);
    store_close(st);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tdir);
    cr_assert_eq(system(cmd), 0);
}

/* Stores a pipeline record (current and version 1) with declaration decl and mode. */
static void put_pipeline(const char *name, const char *decl, unsigned mode)
{
    char body[8192];
    int off = (int)strlen("{\"pipeline\":");
    int n = snprintf(body, sizeof body, "{\"pipeline\":%s,\"metadata\":{}}", decl);
    struct cp_pipe_hdr h = {CP_PIPE_REC_MAGIC,
                            1,
                            1,
                            1,
                            (uint32_t)n,
                            (uint32_t)off,
                            (uint32_t)strlen(decl),
                            CP_TYPE_V2,
                            (uint8_t)mode,
                            {0, 0}};
    char *rec = malloc(sizeof h + (size_t)n);
    memcpy(rec, &h, sizeof h);
    memcpy(rec + sizeof h, body, (size_t)n);
    char key[256], vkey[256];
    int kl = store_key(key, sizeof key, ACCT, REGION, name);
    int vl = cp_version_key(vkey, sizeof vkey, ACCT, REGION, name, 1);
    store_txn *t;
    cr_assert_eq(store_txn_begin(st, 1, &t), 0);
    cr_assert_eq(store_put(t, STORE_DB_CP_PIPELINES, key, (size_t)kl, rec, sizeof h + (size_t)n),
                 0);
    cr_assert_eq(
        store_put(t, STORE_DB_CP_PIPELINE_VERSIONS, vkey, (size_t)vl, rec, sizeof h + (size_t)n),
        0);
    cr_assert_eq(store_txn_commit(t), 0);
    free(rec);
}

#define ACTION(n, ro)                                                                              \
    "{\"name\":\"" n "\",\"runOrder\":" #ro ",\"actionTypeId\":{\"category\":\"Approval\","        \
    "\"owner\":\"AWS\",\"provider\":\"Manual\",\"version\":\"1\"}}"
#define DECL(stages)                                                                               \
    "{\"name\":\"p\",\"version\":1,\"artifactStore\":{\"type\":\"S3\",\"location\":\"b\"},"        \
    "\"stages\":[" stages "]}"
#define STAGE(n, acts) "{\"name\":\"" n "\",\"actions\":[" acts "]}"

static unsigned start(const char *name)
{
    store_txn *t;
    struct cp_kicks k = {0};
    struct cp_start s = {"StartPipelineExecution", "me", NULL, NULL, NULL, NULL};
    char id[37];
    cr_assert_eq(store_txn_begin(st, 1, &t), 0);
    cr_assert_eq(cp_exec_start_in(t, ACCT, REGION, name, &s, id, &k), 0);
    unsigned seq = cp_exec_seq(t, ACCT, REGION, name, id);
    cr_assert_eq(store_txn_commit(t), 0);
    return seq;
}

/* Returns member path of execution seq as a malloc'ed string ("" for none): "status", or
 * "<stage index>/<action>" for an action's status. */
static char *status_of(const char *name, unsigned seq, const char *what)
{
    store_txn *t;
    cr_assert_eq(store_txn_begin(st, 0, &t), 0);
    struct json_object *e = cp_exec_load(t, ACCT, REGION, name, seq), *v = NULL;
    store_txn_abort(t);
    cr_assert_not_null(e);
    const char *slash = strchr(what, '/');
    if (!slash) {
        json_object_object_get_ex(e, what, &v);
    } else {
        struct json_object *stages, *acts, *a;
        json_object_object_get_ex(e, "_stages", &stages);
        json_object_object_get_ex(json_object_array_get_idx(stages, (size_t)atoi(what)), "actions",
                                  &acts);
        if (json_object_object_get_ex(acts, slash + 1, &a))
            json_object_object_get_ex(a, "status", &v);
    }
    char *s = strdup(v ? json_object_get_string(v) : "");
    json_object_put(e);
    return s;
}

#define ASSERT_STATUS(name, seq, what, want)                                                       \
    do {                                                                                           \
        char *s_ = status_of(name, seq, what);                                                     \
        cr_assert_str_eq(s_, want, "%s of execution %u", what, seq);                               \
        free(s_);                                                                                  \
    } while (0)

/* Ends action (stage si) of execution seq with status and runs the machine, as a finished
 * action run does. */
static void finish(const char *name, unsigned seq, int si, const char *action, const char *status)
{
    store_txn *t;
    cr_assert_eq(store_txn_begin(st, 1, &t), 0);
    struct json_object *e = cp_exec_load(t, ACCT, REGION, name, seq), *stages, *acts, *a;
    json_object_object_get_ex(e, "_stages", &stages);
    json_object_object_get_ex(json_object_array_get_idx(stages, (size_t)si), "actions", &acts);
    cr_assert(json_object_object_get_ex(acts, action, &a), "%s not started", action);
    json_object_object_add(a, "status", json_object_new_string(status));
    char key[256], suf[16];
    snprintf(suf, sizeof suf, "X%010u", seq);
    int kl = cp_exec_key(key, sizeof key, ACCT, REGION, name, suf);
    cr_assert_eq(cp_json_store(t, STORE_DB_CP_EXECUTIONS, key, (size_t)kl, e), 0);
    json_object_put(e);
    cr_assert_eq(cp_advance_in(t, ACCT, REGION, name, NULL), 0);
    cr_assert_eq(store_txn_commit(t), 0);
}

TestSuite(cp_engine, .init = setup, .fini = teardown);

Test(cp_engine, runorder_groups_run_in_sequence_and_equal_runorders_together)
{
    put_pipeline("p",
                 DECL(STAGE("Source", ACTION("S", 1)) "," STAGE(
                     "Build", ACTION("B1", 1) "," ACTION("B2", 1) "," ACTION("B3", 2))),
                 CP_MODE_SUPERSEDED);
    unsigned e = start("p");
    ASSERT_STATUS("p", e, "0/S", "InProgress");
    ASSERT_STATUS("p", e, "1/B1", "");
    finish("p", e, 0, "S", "Succeeded");
    ASSERT_STATUS("p", e, "1/B1", "InProgress");
    ASSERT_STATUS("p", e, "1/B2", "InProgress");
    ASSERT_STATUS("p", e, "1/B3", "");
    finish("p", e, 1, "B1", "Succeeded");
    ASSERT_STATUS("p", e, "1/B3", "");
    finish("p", e, 1, "B2", "Succeeded");
    ASSERT_STATUS("p", e, "1/B3", "InProgress");
    ASSERT_STATUS("p", e, "status", "InProgress");
    finish("p", e, 1, "B3", "Succeeded");
    ASSERT_STATUS("p", e, "status", "Succeeded");
}

Test(cp_engine, a_failed_action_fails_the_stage_and_execution_and_frees_the_stage)
{
    put_pipeline("p", DECL(STAGE("Source", ACTION("S", 1)) "," STAGE("Build", ACTION("B", 1))),
                 CP_MODE_SUPERSEDED);
    unsigned a = start("p");
    unsigned b = start("p"); /* waits for the Source stage */
    ASSERT_STATUS("p", b, "0/S", "");
    finish("p", a, 0, "S", "Failed");
    ASSERT_STATUS("p", a, "status", "Failed");
    ASSERT_STATUS("p", a, "1/B", "");
    ASSERT_STATUS("p", b, "0/S", "InProgress");
}

Test(cp_engine, superseded_mode_replaces_an_older_waiting_execution)
{
    put_pipeline("p", DECL(STAGE("Source", ACTION("S", 1)) "," STAGE("Build", ACTION("B", 1))),
                 CP_MODE_SUPERSEDED);
    unsigned a = start("p"), b = start("p"), c = start("p");
    ASSERT_STATUS("p", b, "status", "Superseded");
    ASSERT_STATUS("p", c, "status", "InProgress");
    finish("p", a, 0, "S", "Succeeded");
    ASSERT_STATUS("p", c, "0/S", "InProgress");
    ASSERT_STATUS("p", a, "1/B", "InProgress");
    finish("p", c, 0, "S", "Succeeded"); /* waits for Build, held by a */
    ASSERT_STATUS("p", c, "1/B", "");
    finish("p", a, 1, "B", "Succeeded");
    ASSERT_STATUS("p", a, "status", "Succeeded");
    ASSERT_STATUS("p", c, "1/B", "InProgress");
}

Test(cp_engine, queued_mode_runs_waiting_executions_in_order)
{
    put_pipeline("p", DECL(STAGE("Source", ACTION("S", 1)) "," STAGE("Build", ACTION("B", 1))),
                 CP_MODE_QUEUED);
    unsigned a = start("p"), b = start("p"), c = start("p");
    ASSERT_STATUS("p", b, "status", "InProgress");
    ASSERT_STATUS("p", c, "status", "InProgress");
    finish("p", a, 0, "S", "Succeeded");
    ASSERT_STATUS("p", b, "0/S", "InProgress");
    ASSERT_STATUS("p", c, "0/S", "");
    finish("p", b, 0, "S", "Succeeded");
    ASSERT_STATUS("p", c, "0/S", "InProgress");
}

Test(cp_engine, parallel_mode_takes_no_locks)
{
    put_pipeline("p", DECL(STAGE("Source", ACTION("S", 1)) "," STAGE("Build", ACTION("B", 1))),
                 CP_MODE_PARALLEL);
    unsigned a = start("p"), b = start("p");
    ASSERT_STATUS("p", a, "0/S", "InProgress");
    ASSERT_STATUS("p", b, "0/S", "InProgress");
    finish("p", b, 0, "S", "Succeeded");
    ASSERT_STATUS("p", b, "1/B", "InProgress");
    ASSERT_STATUS("p", a, "1/B", "");
}

Test(cp_engine, an_update_fails_executions_once_their_running_actions_end)
{
    put_pipeline("p", DECL(STAGE("Source", ACTION("S", 1)) "," STAGE("Build", ACTION("B", 1))),
                 CP_MODE_QUEUED);
    unsigned a = start("p"), b = start("p");
    store_txn *t;
    cr_assert_eq(store_txn_begin(st, 1, &t), 0);
    cr_assert_eq(cp_exec_pipeline_updated_in(t, ACCT, REGION, "p"), 0);
    cr_assert_eq(store_txn_commit(t), 0);
    ASSERT_STATUS("p", a, "status", "InProgress"); /* its action still runs */
    ASSERT_STATUS("p", b, "status", "Failed");     /* it was waiting */
    finish("p", a, 0, "S", "Succeeded");
    ASSERT_STATUS("p", a, "status", "Failed");
    ASSERT_STATUS("p", a, "1/B", "");
}

Test(cp_engine, a_request_token_starts_once)
{
    put_pipeline("p", DECL(STAGE("Source", ACTION("S", 1)) "," STAGE("Build", ACTION("B", 1))),
                 CP_MODE_SUPERSEDED);
    store_txn *t;
    struct cp_start s = {"StartPipelineExecution", "me", NULL, NULL, "tok", NULL};
    char id1[37], id2[37];
    cr_assert_eq(store_txn_begin(st, 1, &t), 0);
    cr_assert_eq(cp_exec_start_in(t, ACCT, REGION, "p", &s, id1, NULL), 0);
    cr_assert_eq(cp_exec_start_in(t, ACCT, REGION, "p", &s, id2, NULL), 1);
    cr_assert_str_eq(id1, id2);
    cr_assert_eq(cp_exec_start_in(t, ACCT, REGION, "nope", &s, id2, NULL), CP_ENOPIPELINE);
    store_txn_abort(t);
}

static char *resolve(const char *s, char *bad)
{
    struct json_object *vars = json_tokener_parse(
        "{\"codepipeline\":{\"PipelineExecutionId\":\"e-1\"},\"Src\":{\"CommitId\":\"abc\"},"
        "\"variables\":{\"Env\":\"dev\"}}");
    char *out = cp_vars_resolve(s, vars, bad, 256);
    json_object_put(vars);
    return out;
}

Test(cp_vars, resolves_namespaces_pipeline_variables_and_the_execution_id)
{
    char bad[256];
    char *s = resolve("#{Src.CommitId}-#{variables.Env}/#{codepipeline.PipelineExecutionId}", bad);
    cr_assert_str_eq(s, "abc-dev/e-1");
    free(s);
    s = resolve("no refs, #{ unterminated", bad);
    cr_assert_str_eq(s, "no refs, #{ unterminated");
    free(s);
}

Test(cp_vars, an_unknown_reference_is_reported)
{
    char bad[256];
    cr_assert_null(resolve("x #{Src.Nope} y", bad));
    cr_assert_str_eq(bad, "#{Src.Nope}");
    cr_assert_null(resolve("#{Other.CommitId}", bad));
    cr_assert_str_eq(bad, "#{Other.CommitId}");
    cr_assert_null(resolve("#{nodot}", bad));
    cr_assert_str_eq(bad, "#{nodot}");
}

/* ---- stage conditions ---------------------------------------------------------------------- */

#define VCHECK(value)                                                                              \
    "{\"name\":\"V\",\"ruleTypeId\":{\"category\":\"Rule\",\"owner\":\"AWS\",\"provider\":"        \
    "\"VariableCheck\",\"version\":\"1\"},\"configuration\":{\"Variable\":"                        \
    "\"#{codepipeline.PipelineExecutionId}\",\"Operator\":\"MATCHES\",\"Value\":\"" value "\"}}"
#define COND_STAGE(n, acts, cond) "{\"name\":\"" n "\",\"actions\":[" acts "]," cond "}"
#define COND(kind, result, rule)                                                                   \
    "\"" kind "\":{\"conditions\":[{\"result\":\"" result "\",\"rules\":[" rule "]}]}"

static int override(const char *name, unsigned seq, const char *stage, const char *type)
{
    char *id = status_of(name, seq, "pipelineExecutionId");
    store_txn *t;
    struct cp_abandoned ab = {0};
    cr_assert_eq(store_txn_begin(st, 1, &t), 0);
    int rc = cp_cond_override_in(t, ACCT, REGION, name, stage, id, type, &ab, NULL);
    if (rc)
        store_txn_abort(t);
    else
        cr_assert_eq(store_txn_commit(t), 0);
    free(id);
    return rc;
}

Test(cp_engine, an_unmet_entry_condition_fails_the_stage_before_its_actions_until_overridden)
{
    put_pipeline("p",
                 DECL(STAGE("Source", ACTION("S", 1)) "," COND_STAGE(
                     "Build", ACTION("B", 1), COND("beforeEntry", "FAIL", VCHECK("nope")))),
                 CP_MODE_SUPERSEDED);
    unsigned e = start("p");
    finish("p", e, 0, "S", "Succeeded");
    ASSERT_STATUS("p", e, "status", "Failed");
    ASSERT_STATUS("p", e, "1/B", "");
    cr_assert_eq(override("p", e, "Build", "ON_SUCCESS"), CP_ENOTOVERRIDABLE);
    cr_assert_eq(override("p", e, "Nope", "BEFORE_ENTRY"), CP_ENOSTAGE);
    cr_assert_eq(override("p", e, "Build", "BEFORE_ENTRY"), 0);
    ASSERT_STATUS("p", e, "status", "InProgress");
    ASSERT_STATUS("p", e, "1/B", "InProgress");
    finish("p", e, 1, "B", "Succeeded");
    ASSERT_STATUS("p", e, "status", "Succeeded");
    cr_assert_eq(override("p", e, "Build", "BEFORE_ENTRY"), CP_ENOTOVERRIDABLE);
}

Test(cp_engine, a_met_entry_condition_lets_the_actions_start)
{
    put_pipeline("p",
                 DECL(STAGE("Source", ACTION("S", 1)) "," COND_STAGE(
                     "Build", ACTION("B", 1), COND("beforeEntry", "FAIL", VCHECK("[0-9a-f-]+")))),
                 CP_MODE_SUPERSEDED);
    unsigned e = start("p");
    finish("p", e, 0, "S", "Succeeded");
    ASSERT_STATUS("p", e, "1/B", "InProgress");
}

Test(cp_engine, a_skip_result_skips_the_stage)
{
    put_pipeline(
        "p",
        DECL(STAGE("Source", ACTION("S", 1)) "," COND_STAGE(
            "Build", ACTION("B", 1),
            COND("beforeEntry", "SKIP", VCHECK("nope"))) "," STAGE("Ship", ACTION("X", 1))),
        CP_MODE_SUPERSEDED);
    unsigned e = start("p");
    finish("p", e, 0, "S", "Succeeded");
    ASSERT_STATUS("p", e, "1/B", "");
    ASSERT_STATUS("p", e, "2/X", "InProgress");
}

Test(cp_engine, an_unmet_success_condition_fails_the_stage_after_its_actions)
{
    put_pipeline("p",
                 DECL(STAGE("Source", ACTION("S", 1)) "," COND_STAGE(
                     "Build", ACTION("B", 1), COND("onSuccess", "ROLLBACK", VCHECK("nope")))),
                 CP_MODE_SUPERSEDED);
    unsigned e = start("p");
    finish("p", e, 0, "S", "Succeeded");
    finish("p", e, 1, "B", "Succeeded");
    ASSERT_STATUS("p", e, "status", "Failed");
}

Test(cp_engine, a_commands_rule_holds_the_stage_until_it_ends)
{
    put_pipeline(
        "p",
        DECL(STAGE("Source", ACTION("S", 1)) "," COND_STAGE(
            "Build", ACTION("B", 1),
            COND("beforeEntry", "FAIL",
                 "{\"name\":\"C\",\"ruleTypeId\":{\"category\":\"Rule\",\"owner\":\"AWS\","
                 "\"provider\":\"Commands\",\"version\":\"1\"},\"commands\":[\"true\"]}"))),
        CP_MODE_SUPERSEDED);
    unsigned e = start("p");
    finish("p", e, 0, "S", "Succeeded");
    /* The rule is queued (no worker runs here): the stage waits, its actions not started. */
    ASSERT_STATUS("p", e, "status", "InProgress");
    ASSERT_STATUS("p", e, "1/B", "");
    cr_assert_eq(override("p", e, "Build", "BEFORE_ENTRY"), 0);
    ASSERT_STATUS("p", e, "1/B", "InProgress");
}
