/* Unit tests of a stage's onFailure result (FAIL, RETRY, ROLLBACK) and of stage rollback: the
 * rules on their own, then the state machine driven by hand (no workers). */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "providers/codepipeline/cp_internal.h"
#include "providers/codepipeline/engine.h"
#include "providers/codepipeline/rollback.h"

#define ACCT   "000000000000"
#define REGION "us-east-1"

static struct json_object *J(const char *s)
{
    struct json_object *o = json_tokener_parse(s);
    cr_assert_not_null(o, "bad JSON in test: %s", s);
    return o;
}

static const char *S(struct json_object *o, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    struct json_object *v = o;
    for (char *save = NULL, *k = strtok_r(buf, ".", &save); k && v;
         k = strtok_r(NULL, ".", &save)) {
        if (json_object_is_type(v, json_type_array))
            v = json_object_array_get_idx(v, (size_t)atoi(k));
        else if (!json_object_object_get_ex(v, k, &v))
            v = NULL;
    }
    return v ? json_object_get_string(v) : "";
}

/* ---- the rules -------------------------------------------------------------------------------*/

Test(cp_on_failure, fail_is_the_default_and_retry_is_allowed_once)
{
    const char *mode = NULL;
    struct json_object *plain = J("{\"name\":\"B\"}"), *st = J("{\"name\":\"B\"}");
    cr_assert_eq(cp_on_failure_result(plain, st, NULL, "STANDARD", CP_MODE_SUPERSEDED, &mode),
                 CP_ONFAIL_FAIL);
    struct json_object *retry = J("{\"onFailure\":{\"result\":\"RETRY\"}}");
    cr_assert_eq(cp_on_failure_result(retry, st, NULL, "STANDARD", CP_MODE_SUPERSEDED, &mode),
                 CP_ONFAIL_RETRY);
    cr_assert_str_eq(mode, "FAILED_ACTIONS");
    cp_retry_count(st, 1);
    cr_assert_str_eq(S(st, "retryStageMetadata.autoStageRetryAttempt"), "1");
    cr_assert_str_eq(S(st, "retryStageMetadata.latestRetryTrigger"), "AutomatedStageRetry");
    cr_assert_eq(cp_on_failure_result(retry, st, NULL, "STANDARD", CP_MODE_SUPERSEDED, &mode),
                 CP_ONFAIL_FAIL, "one automatic attempt only");
    cp_retry_count(st, 0);
    cr_assert_str_eq(S(st, "retryStageMetadata.manualStageRetryAttempt"), "1");
    cr_assert_str_eq(S(st, "retryStageMetadata.latestRetryTrigger"), "ManualStageRetry");
    cr_assert_str_eq(S(st, "retryStageMetadata.autoStageRetryAttempt"), "1");
    json_object_put(plain);
    json_object_put(st);
    json_object_put(retry);
}

Test(cp_on_failure, retry_takes_its_retry_mode)
{
    const char *mode = NULL;
    struct json_object *sd = J("{\"onFailure\":{\"result\":\"RETRY\",\"retryConfiguration\":{"
                               "\"retryMode\":\"ALL_ACTIONS\"}}}");
    struct json_object *st = J("{}");
    cr_assert_eq(cp_on_failure_result(sd, st, NULL, "ROLLBACK", CP_MODE_PARALLEL, &mode),
                 CP_ONFAIL_RETRY);
    cr_assert_str_eq(mode, "ALL_ACTIONS");
    json_object_put(sd);
    json_object_put(st);
}

Test(cp_on_failure, rollback_applies_to_standard_executions_outside_parallel_mode)
{
    struct json_object *sd = J("{\"onFailure\":{\"result\":\"ROLLBACK\"}}"), *st = J("{}");
    cr_assert_eq(cp_on_failure_result(sd, st, NULL, "STANDARD", CP_MODE_QUEUED, NULL),
                 CP_ONFAIL_ROLLBACK);
    cr_assert_eq(cp_on_failure_result(sd, st, NULL, "ROLLBACK", CP_MODE_QUEUED, NULL),
                 CP_ONFAIL_FAIL);
    cr_assert_eq(cp_on_failure_result(sd, st, NULL, "STANDARD", CP_MODE_PARALLEL, NULL),
                 CP_ONFAIL_FAIL);
    json_object_put(sd);
    json_object_put(st);
}

Test(cp_on_failure, the_met_conditions_own_result_comes_before_on_failure_result)
{
    const char *mode = NULL;
    struct json_object *sd = J("{\"onFailure\":{\"result\":\"RETRY\",\"retryConfiguration\":{"
                               "\"retryMode\":\"ALL_ACTIONS\"}}}");
    struct json_object *bare = J("{\"onFailure\":{}}"), *st = J("{}");
    cr_assert_eq(cp_on_failure_result(sd, st, "ROLLBACK", "STANDARD", CP_MODE_QUEUED, &mode),
                 CP_ONFAIL_ROLLBACK);
    cr_assert_eq(cp_on_failure_result(sd, st, "FAIL", "STANDARD", CP_MODE_QUEUED, &mode),
                 CP_ONFAIL_FAIL);
    cr_assert_eq(cp_on_failure_result(bare, st, "RETRY", "STANDARD", CP_MODE_QUEUED, &mode),
                 CP_ONFAIL_RETRY);
    cr_assert_str_eq(mode, "FAILED_ACTIONS");
    cr_assert_eq(cp_on_failure_result(sd, st, "RETRY", "STANDARD", CP_MODE_QUEUED, &mode),
                 CP_ONFAIL_RETRY);
    cr_assert_str_eq(mode, "ALL_ACTIONS", "the retryMode is onFailure's");
    /* the rules of ROLLBACK hold for a condition's result too */
    cr_assert_eq(cp_on_failure_result(bare, st, "ROLLBACK", "ROLLBACK", CP_MODE_QUEUED, NULL),
                 CP_ONFAIL_FAIL);
    cr_assert_eq(cp_on_failure_result(bare, st, "ROLLBACK", "STANDARD", CP_MODE_PARALLEL, NULL),
                 CP_ONFAIL_FAIL);
    json_object_put(sd);
    json_object_put(bare);
    json_object_put(st);
}

Test(cp_rollback, a_target_must_be_a_standard_execution_that_succeeded_in_the_stage)
{
    struct json_object *ok =
        J("{\"executionType\":\"STANDARD\",\"pipelineVersion\":2,"
          "\"_stages\":[{\"status\":\"Succeeded\"},{\"status\":\"Succeeded\"}]}");
    struct json_object *failed =
        J("{\"pipelineVersion\":2,"
          "\"_stages\":[{\"status\":\"Succeeded\"},{\"status\":\"Failed\"}]}");
    struct json_object *rb = J("{\"executionType\":\"ROLLBACK\",\"pipelineVersion\":2,"
                               "\"_stages\":[{},{\"status\":\"Succeeded\"}]}");
    cr_assert_eq(cp_rollback_target_check(ok, 1, 2), CP_RB_OK);
    cr_assert_eq(cp_rollback_target_check(ok, 1, 3), CP_RB_OUTDATED);
    cr_assert_eq(cp_rollback_target_check(ok, 5, 2), CP_RB_NOT_SUCCEEDED);
    cr_assert_eq(cp_rollback_target_check(failed, 1, 2), CP_RB_NOT_SUCCEEDED);
    cr_assert_eq(cp_rollback_target_check(rb, 1, 2), CP_RB_ROLLBACK_TYPE);
    json_object_put(ok);
    json_object_put(failed);
    json_object_put(rb);
}

Test(cp_rollback, a_rollback_inherits_the_targets_artifacts_variables_and_revisions)
{
    struct json_object *target =
        J("{\"pipelineExecutionId\":\"t-1\",\"_art\":{\"Src\":{\"bucket\":\"b\",\"key\":\"k1\"}},"
          "\"_vars\":{\"SourceVariables\":{\"CommitId\":\"c1\"}},"
          "\"variables\":[{\"name\":\"Env\",\"resolvedValue\":\"old\"}],"
          "\"artifactRevisions\":[{\"revisionId\":\"c1\"}],\"sourceRevisions\":[{\"revisionId\":"
          "\"c1\"}]}");
    struct json_object *e = J("{\"executionType\":\"STANDARD\",\"_art\":{},\"_vars\":{},"
                              "\"variables\":[{\"name\":\"Env\",\"resolvedValue\":\"new\"}],"
                              "\"_stage\":0}");
    cp_rollback_seed(e, target, 2);
    cr_assert(cp_is_rollback(e));
    cr_assert_str_eq(S(e, "executionType"), "ROLLBACK");
    cr_assert_str_eq(S(e, "rollbackMetadata.rollbackTargetPipelineExecutionId"), "t-1");
    cr_assert_str_eq(S(e, "_art.Src.key"), "k1");
    cr_assert_str_eq(S(e, "_vars.SourceVariables.CommitId"), "c1");
    cr_assert_str_eq(S(e, "_stage"), "2");
    cr_assert_str_eq(json_object_to_json_string(json_object_object_get(e, "variables")),
                     json_object_to_json_string(json_object_object_get(target, "variables")));
    /* a copy, not a shared object: later changes to one leave the other alone */
    json_object_object_add(json_object_object_get(e, "_art"), "X", json_object_new_object());
    cr_assert_null(json_object_object_get(json_object_object_get(target, "_art"), "X"));
    json_object_put(e);
    json_object_put(target);
}

/* ---- the state machine ---------------------------------------------------------------------- */

static char tdir[128];
static store *st;
static rt_queue *q;

static void setup(void)
{
    snprintf(tdir, sizeof tdir, "/tmp/cp-rollback-XXXXXX");
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

/* Stores pipeline "p" (current and version 1) with declaration decl and mode. */
static void put_pipeline(const char *decl, unsigned mode)
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
    int kl = store_key(key, sizeof key, ACCT, REGION, "p");
    int vl = cp_version_key(vkey, sizeof vkey, ACCT, REGION, "p", 1);
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

#define ACTION(n)                                                                                  \
    "{\"name\":\"" n "\",\"runOrder\":1,\"actionTypeId\":{\"category\":\"Approval\","              \
    "\"owner\":\"AWS\",\"provider\":\"Manual\",\"version\":\"1\"}}"
#define DECL(type, stages)                                                                         \
    "{\"name\":\"p\",\"version\":1,\"pipelineType\":\"" type "\","                                 \
    "\"artifactStore\":{\"type\":\"S3\",\"location\":\"b\"},\"stages\":[" stages "]}"
#define STAGE(n, acts, extra) "{\"name\":\"" n "\",\"actions\":[" acts "]" extra "}"
#define ON_FAILURE(r)         ",\"onFailure\":{\"result\":\"" r "\"}"

/* Starts an execution of "p" with V2 variable overrides vars (JSON, or NULL). */
static unsigned start_with(const char *vars)
{
    store_txn *t;
    struct json_object *v = vars ? J(vars) : NULL;
    struct cp_start s = {"StartPipelineExecution", "me", v, NULL, NULL, NULL};
    char id[37];
    cr_assert_eq(store_txn_begin(st, 1, &t), 0);
    cr_assert_eq(cp_exec_start_in(t, ACCT, REGION, "p", &s, id, NULL), 0);
    unsigned seq = cp_exec_seq(t, ACCT, REGION, "p", id);
    cr_assert_eq(store_txn_commit(t), 0);
    json_object_put(v);
    return seq;
}

static unsigned start(void)
{
    return start_with(NULL);
}

/* Execution seq of "p" as stored (caller puts). */
static struct json_object *load(unsigned seq)
{
    store_txn *t;
    cr_assert_eq(store_txn_begin(st, 0, &t), 0);
    struct json_object *e = cp_exec_load(t, ACCT, REGION, "p", seq);
    store_txn_abort(t);
    cr_assert_not_null(e, "no execution %u", seq);
    return e;
}

/* The status of action of stage si of execution seq ("" when it has not run). */
static char *action_status(unsigned seq, int si, const char *action)
{
    struct json_object *e = load(seq), *stages, *acts, *a, *v = NULL;
    json_object_object_get_ex(e, "_stages", &stages);
    json_object_object_get_ex(json_object_array_get_idx(stages, (size_t)si), "actions", &acts);
    if (json_object_object_get_ex(acts, action, &a)) json_object_object_get_ex(a, "status", &v);
    char *s = strdup(v ? json_object_get_string(v) : "");
    json_object_put(e);
    return s;
}

#define ASSERT_ACTION(seq, si, action, want)                                                       \
    do {                                                                                           \
        char *s_ = action_status(seq, si, action);                                                 \
        cr_assert_str_eq(s_, want, "%d/%s of execution %u", si, action, (unsigned)(seq));          \
        free(s_);                                                                                  \
    } while (0)

#define ASSERT_EXEC(seq, path, want)                                                               \
    do {                                                                                           \
        struct json_object *e_ = load(seq);                                                        \
        cr_assert_str_eq(S(e_, path), want, "%s of execution %u", path, (unsigned)(seq));          \
        json_object_put(e_);                                                                       \
    } while (0)

/* Ends action (stage si) of execution seq with status and runs the machine, as a finished
 * action run does. An artifact location names the execution that made it. */
static void finish(unsigned seq, int si, const char *action, const char *status)
{
    store_txn *t;
    cr_assert_eq(store_txn_begin(st, 1, &t), 0);
    struct json_object *e = cp_exec_load(t, ACCT, REGION, "p", seq), *stages, *acts, *a;
    json_object_object_get_ex(e, "_stages", &stages);
    json_object_object_get_ex(json_object_array_get_idx(stages, (size_t)si), "actions", &acts);
    cr_assert(json_object_object_get_ex(acts, action, &a), "%s not started", action);
    json_object_object_add(a, "status", json_object_new_string(status));
    if (si == 0) {
        char k[32];
        snprintf(k, sizeof k, "made-by-%u", seq);
        struct json_object *loc = json_object_new_object();
        json_object_object_add(loc, "key", json_object_new_string(k));
        json_object_object_add(json_object_object_get(e, "_art"), "Src", loc);
    }
    char key[256], suf[16];
    snprintf(suf, sizeof suf, "X%010u", seq);
    int kl = cp_exec_key(key, sizeof key, ACCT, REGION, "p", suf);
    cr_assert_eq(cp_json_store(t, STORE_DB_CP_EXECUTIONS, key, (size_t)kl, e), 0);
    json_object_put(e);
    cr_assert_eq(cp_advance_in(t, ACCT, REGION, "p", NULL), 0);
    cr_assert_eq(store_txn_commit(t), 0);
}

static const char *exec_id(unsigned seq, char buf[37])
{
    struct json_object *e = load(seq);
    snprintf(buf, 37, "%s", S(e, "pipelineExecutionId"));
    json_object_put(e);
    return buf;
}

static int rollback(const char *stage, const char *target, char id[37], const char **why)
{
    store_txn *t;
    cr_assert_eq(store_txn_begin(st, 1, &t), 0);
    int rc = cp_exec_rollback_in(t, ACCT, REGION, "p", stage, target, "me", NULL, id, why, NULL);
    if (rc)
        store_txn_abort(t);
    else
        cr_assert_eq(store_txn_commit(t), 0);
    return rc;
}

TestSuite(cp_rollback_engine, .init = setup, .fini = teardown);

Test(cp_rollback_engine, on_failure_retry_runs_the_failed_actions_once_more)
{
    put_pipeline(DECL("V2", STAGE("Source", ACTION("S"), "") "," STAGE(
                                "Build", ACTION("B1") "," ACTION("B2"), ON_FAILURE("RETRY"))),
                 CP_MODE_SUPERSEDED);
    unsigned a = start();
    finish(a, 0, "S", "Succeeded");
    finish(a, 1, "B1", "Succeeded");
    finish(a, 1, "B2", "Failed");
    ASSERT_EXEC(a, "status", "InProgress");
    ASSERT_ACTION(a, 1, "B1", "Succeeded"); /* FAILED_ACTIONS by default */
    ASSERT_ACTION(a, 1, "B2", "InProgress");
    ASSERT_EXEC(a, "_stages.1.retryStageMetadata.autoStageRetryAttempt", "1");
    ASSERT_EXEC(a, "_stages.1.retryStageMetadata.latestRetryTrigger", "AutomatedStageRetry");
    finish(a, 1, "B2", "Failed"); /* the one automatic attempt is spent */
    ASSERT_EXEC(a, "status", "Failed");
    ASSERT_EXEC(a, "_stages.1.status", "Failed");
}

Test(cp_rollback_engine, on_failure_retry_that_passes_lets_the_execution_succeed)
{
    put_pipeline(DECL("V2", STAGE("Source", ACTION("S"), "") "," STAGE("Build", ACTION("B"),
                                                                       ON_FAILURE("RETRY"))),
                 CP_MODE_QUEUED);
    unsigned a = start();
    finish(a, 0, "S", "Succeeded");
    finish(a, 1, "B", "Failed");
    ASSERT_ACTION(a, 1, "B", "InProgress");
    finish(a, 1, "B", "Succeeded");
    ASSERT_EXEC(a, "status", "Succeeded");
}

Test(cp_rollback_engine, on_failure_rollback_reruns_the_stage_with_the_last_good_artifacts)
{
    put_pipeline(DECL("V2", STAGE("Source", ACTION("S"), "") "," STAGE("Deploy", ACTION("D"),
                                                                       ON_FAILURE("ROLLBACK"))),
                 CP_MODE_SUPERSEDED);
    unsigned a = start();
    finish(a, 0, "S", "Succeeded");
    finish(a, 1, "D", "Succeeded");
    ASSERT_EXEC(a, "status", "Succeeded");
    unsigned b = start();
    finish(b, 0, "S", "Succeeded");
    finish(b, 1, "D", "Failed");
    ASSERT_EXEC(b, "status", "Failed");
    unsigned c = b + 1;
    char aid[37], bid[37];
    ASSERT_EXEC(c, "executionType", "ROLLBACK");
    ASSERT_EXEC(c, "rollbackMetadata.rollbackTargetPipelineExecutionId", exec_id(a, aid));
    ASSERT_EXEC(c, "trigger.triggerType", "AutomatedRollback");
    ASSERT_EXEC(c, "trigger.triggerDetail", exec_id(b, bid));
    ASSERT_EXEC(c, "_art.Src.key", "made-by-1");
    ASSERT_ACTION(c, 0, "S", ""); /* the source stage does not run again */
    ASSERT_ACTION(c, 1, "D", "InProgress");
    finish(c, 1, "D", "Succeeded");
    ASSERT_EXEC(c, "status", "Succeeded");
}

Test(cp_rollback_engine, on_failure_rollback_without_a_good_execution_just_fails)
{
    put_pipeline(DECL("V2", STAGE("Source", ACTION("S"), "") "," STAGE("Deploy", ACTION("D"),
                                                                       ON_FAILURE("ROLLBACK"))),
                 CP_MODE_SUPERSEDED);
    unsigned a = start();
    finish(a, 0, "S", "Succeeded");
    finish(a, 1, "D", "Failed");
    ASSERT_EXEC(a, "status", "Failed");
    store_txn *t;
    cr_assert_eq(store_txn_begin(st, 0, &t), 0);
    cr_assert_null(cp_exec_load(t, ACCT, REGION, "p", a + 1), "no rollback was started");
    store_txn_abort(t);
}

Test(cp_rollback_engine, a_failed_rollback_does_not_roll_back_again)
{
    put_pipeline(DECL("V2", STAGE("Source", ACTION("S"), "") "," STAGE("Deploy", ACTION("D"),
                                                                       ON_FAILURE("ROLLBACK"))),
                 CP_MODE_SUPERSEDED);
    unsigned a = start();
    finish(a, 0, "S", "Succeeded");
    finish(a, 1, "D", "Succeeded");
    unsigned b = start();
    finish(b, 0, "S", "Succeeded");
    finish(b, 1, "D", "Failed");
    finish(b + 1, 1, "D", "Failed");
    ASSERT_EXEC(b + 1, "status", "Failed");
    store_txn *t;
    cr_assert_eq(store_txn_begin(st, 0, &t), 0);
    cr_assert_null(cp_exec_load(t, ACCT, REGION, "p", b + 2));
    store_txn_abort(t);
}

Test(cp_rollback_engine, rollback_stage_runs_the_stage_with_the_targets_artifacts)
{
    put_pipeline(DECL("V2", STAGE("Source", ACTION("S"), "") "," STAGE(
                                "Deploy", ACTION("D"), "") "," STAGE("Test", ACTION("T"), "")),
                 CP_MODE_SUPERSEDED);
    unsigned a = start();
    finish(a, 0, "S", "Succeeded");
    finish(a, 1, "D", "Succeeded");
    finish(a, 2, "T", "Succeeded");
    unsigned b = start();
    finish(b, 0, "S", "Succeeded");
    finish(b, 1, "D", "Succeeded");
    finish(b, 2, "T", "Succeeded");
    char aid[37], id[37];
    const char *why = NULL;
    cr_assert_eq(rollback("Deploy", exec_id(a, aid), id, &why), 0);
    unsigned c = b + 1;
    ASSERT_EXEC(c, "pipelineExecutionId", id);
    ASSERT_EXEC(c, "executionType", "ROLLBACK");
    ASSERT_EXEC(c, "trigger.triggerType", "ManualRollback");
    ASSERT_EXEC(c, "_art.Src.key", "made-by-1");
    ASSERT_ACTION(c, 1, "D", "InProgress");
    /* the stage is busy now */
    cr_assert_eq(rollback("Deploy", aid, id, &why), CP_ENOROLLBACK);
    cr_assert_str_eq(why, "the stage is in progress");
    finish(c, 1, "D", "Succeeded");
    ASSERT_EXEC(c, "status", "Succeeded");
    ASSERT_ACTION(c, 2, "T", ""); /* only the rolled back stage runs */
    /* a rollback is no target */
    char cid[37];
    cr_assert_eq(rollback("Deploy", exec_id(c, cid), id, &why), CP_ENOROLLBACK);
    cr_assert_str_eq(why, "the target execution is a rollback execution");
}

Test(cp_rollback_engine, rollback_stage_errors)
{
    put_pipeline(DECL("V2", STAGE("Source", ACTION("S"), "") "," STAGE("Deploy", ACTION("D"), "")),
                 CP_MODE_SUPERSEDED);
    unsigned a = start();
    finish(a, 0, "S", "Succeeded");
    finish(a, 1, "D", "Failed");
    char aid[37], id[37];
    const char *why = NULL;
    exec_id(a, aid);
    cr_assert_eq(rollback("Nope", aid, id, &why), CP_ENOSTAGE);
    cr_assert_eq(rollback("Deploy", "00000000-0000-0000-0000-000000000000", id, &why),
                 CP_ENOEXECUTION);
    cr_assert_eq(rollback("Source", aid, id, &why), CP_ENOROLLBACK);
    cr_assert_str_eq(why, "a source stage cannot be rolled back");
    cr_assert_eq(rollback("Deploy", aid, id, &why), CP_ENOROLLBACK);
    cr_assert_str_eq(why, "the target execution did not succeed in the stage");
    store_txn *t;
    cr_assert_eq(store_txn_begin(st, 1, &t), 0);
    cr_assert_eq(
        cp_exec_rollback_in(t, ACCT, REGION, "none", "Deploy", aid, "me", NULL, id, &why, NULL),
        CP_ENOPIPELINE);
    store_txn_abort(t);
}

Test(cp_rollback_engine, rollback_stage_needs_a_v2_pipeline)
{
    put_pipeline(DECL("V1", STAGE("Source", ACTION("S"), "") "," STAGE("Deploy", ACTION("D"), "")),
                 CP_MODE_SUPERSEDED);
    unsigned a = start();
    finish(a, 0, "S", "Succeeded");
    finish(a, 1, "D", "Succeeded");
    char aid[37], id[37];
    const char *why = NULL;
    cr_assert_eq(rollback("Deploy", exec_id(a, aid), id, &why), CP_ENOROLLBACK);
    cr_assert_str_eq(why, "stage rollback is only available for pipelines of type V2");
}

/* ---- conditions whose result is ROLLBACK ------------------------------------------------------
 */

/* A VariableCheck rule met while pipeline variable Env is "good" (its default). */
#define ENV_GOOD                                                                                   \
    "{\"name\":\"V\",\"ruleTypeId\":{\"category\":\"Rule\",\"owner\":\"AWS\",\"provider\":"        \
    "\"VariableCheck\",\"version\":\"1\"},\"configuration\":{\"Variable\":\"#{variables.Env}\","   \
    "\"Operator\":\"EQ\",\"Value\":\"good\"}}"
#define COND(kind, result, rule)                                                                   \
    ",\"" kind "\":{\"conditions\":[{\"result\":\"" result "\",\"rules\":[" rule "]}]}"
#define DECL_ENV(stages)                                                                           \
    "{\"name\":\"p\",\"version\":1,\"pipelineType\":\"V2\",\"artifactStore\":{\"type\":\"S3\","    \
    "\"location\":\"b\"},\"variables\":[{\"name\":\"Env\",\"defaultValue\":\"good\"}],"            \
    "\"stages\":[" stages "]}"
#define ENV_BAD "[{\"name\":\"Env\",\"value\":\"bad\"}]"

static void assert_no_execution(unsigned seq)
{
    store_txn *t;
    cr_assert_eq(store_txn_begin(st, 0, &t), 0);
    struct json_object *e = cp_exec_load(t, ACCT, REGION, "p", seq);
    store_txn_abort(t);
    cr_assert_null(e, "execution %u exists", seq);
}

Test(cp_rollback_engine, an_unmet_on_success_rollback_condition_rolls_the_stage_back)
{
    put_pipeline(DECL_ENV(STAGE("Source", ACTION("S"), "") "," STAGE(
                     "Deploy", ACTION("D"), COND("onSuccess", "ROLLBACK", ENV_GOOD))),
                 CP_MODE_SUPERSEDED);
    unsigned a = start();
    finish(a, 0, "S", "Succeeded");
    finish(a, 1, "D", "Succeeded");
    ASSERT_EXEC(a, "status", "Succeeded");
    unsigned b = start_with(ENV_BAD);
    finish(b, 0, "S", "Succeeded");
    finish(b, 1, "D", "Succeeded");
    ASSERT_EXEC(b, "status", "Failed");
    ASSERT_EXEC(b, "_stages.1._condResult", "ROLLBACK");
    unsigned c = b + 1;
    char aid[37], bid[37];
    ASSERT_EXEC(c, "executionType", "ROLLBACK");
    ASSERT_EXEC(c, "rollbackMetadata.rollbackTargetPipelineExecutionId", exec_id(a, aid));
    ASSERT_EXEC(c, "trigger.triggerType", "AutomatedRollback");
    ASSERT_EXEC(c, "trigger.triggerDetail", exec_id(b, bid));
    ASSERT_EXEC(c, "_art.Src.key", "made-by-1");
    ASSERT_ACTION(c, 1, "D", "InProgress");
    /* the rollback runs with the target's variables: its own onSuccess condition is met */
    finish(c, 1, "D", "Succeeded");
    ASSERT_EXEC(c, "status", "Succeeded");
}

Test(cp_rollback_engine, an_unmet_on_success_rollback_condition_follows_the_rollback_rules)
{
    /* no earlier good execution: the stage just fails */
    put_pipeline(DECL_ENV(STAGE("Source", ACTION("S"), "") "," STAGE(
                     "Deploy", ACTION("D"), COND("onSuccess", "ROLLBACK", ENV_GOOD))),
                 CP_MODE_SUPERSEDED);
    unsigned a = start_with(ENV_BAD);
    finish(a, 0, "S", "Succeeded");
    finish(a, 1, "D", "Succeeded");
    ASSERT_EXEC(a, "status", "Failed");
    assert_no_execution(a + 1);
    /* PARALLEL mode has no rollback */
    put_pipeline(DECL_ENV(STAGE("Source", ACTION("S"), "") "," STAGE(
                     "Deploy", ACTION("D"), COND("onSuccess", "ROLLBACK", ENV_GOOD))),
                 CP_MODE_PARALLEL);
    unsigned b = start();
    finish(b, 0, "S", "Succeeded");
    finish(b, 1, "D", "Succeeded");
    ASSERT_EXEC(b, "status", "Succeeded");
    unsigned c = start_with(ENV_BAD);
    finish(c, 0, "S", "Succeeded");
    finish(c, 1, "D", "Succeeded");
    ASSERT_EXEC(c, "status", "Failed");
    ASSERT_EXEC(c, "_stages.1._condResult", "ROLLBACK");
    assert_no_execution(c + 1);
}

Test(cp_rollback_engine, a_rollback_run_failing_its_on_success_condition_is_not_rolled_back)
{
    /* The rule passes for execution a only (the declaration is rewritten in place, same
     * version, once a's id is known): b fails it and rolls back to a, and so does the rollback. */
    const char *fmt = DECL_ENV(STAGE("Source", ACTION("S"), "") "," STAGE(
        "Deploy", ACTION("D"),
        COND("onSuccess", "ROLLBACK",
             "{\"name\":\"V\",\"ruleTypeId\":{\"category\":\"Rule\",\"owner\":\"AWS\","
             "\"provider\":\"VariableCheck\",\"version\":\"1\"},\"configuration\":{"
             "\"Variable\":\"#{codepipeline.PipelineExecutionId}\",\"Operator\":\"EQ\","
             "\"Value\":\"%s\"}}")));
    char decl[4096], aid[37];
    snprintf(decl, sizeof decl, fmt, "none");
    put_pipeline(decl, CP_MODE_SUPERSEDED);
    unsigned a = start();
    snprintf(decl, sizeof decl, fmt, exec_id(a, aid));
    put_pipeline(decl, CP_MODE_SUPERSEDED);
    finish(a, 0, "S", "Succeeded");
    finish(a, 1, "D", "Succeeded");
    ASSERT_EXEC(a, "status", "Succeeded");
    unsigned b = start();
    finish(b, 0, "S", "Succeeded");
    finish(b, 1, "D", "Succeeded");
    ASSERT_EXEC(b, "status", "Failed");
    ASSERT_EXEC(b + 1, "executionType", "ROLLBACK");
    finish(b + 1, 1, "D", "Succeeded");
    ASSERT_EXEC(b + 1, "status", "Failed");
    ASSERT_EXEC(b + 1, "_stages.1._condResult", "ROLLBACK");
    assert_no_execution(b + 2);
}

Test(cp_rollback_engine, a_met_on_failure_condition_engages_its_own_rollback_result)
{
    /* no onFailure.result: the condition's result is the one declared */
    put_pipeline(DECL_ENV(STAGE("Source", ACTION("S"), "") "," STAGE(
                     "Deploy", ACTION("D"), COND("onFailure", "ROLLBACK", ENV_GOOD))),
                 CP_MODE_QUEUED);
    unsigned a = start();
    finish(a, 0, "S", "Succeeded");
    finish(a, 1, "D", "Succeeded");
    unsigned b = start();
    finish(b, 0, "S", "Succeeded");
    finish(b, 1, "D", "Failed");
    ASSERT_EXEC(b, "status", "Failed");
    char aid[37];
    ASSERT_EXEC(b + 1, "executionType", "ROLLBACK");
    ASSERT_EXEC(b + 1, "rollbackMetadata.rollbackTargetPipelineExecutionId", exec_id(a, aid));
    ASSERT_ACTION(b + 1, 1, "D", "InProgress");
    /* an unmet condition engages nothing */
    finish(b + 1, 1, "D", "Succeeded");
    unsigned c = start_with(ENV_BAD);
    finish(c, 0, "S", "Succeeded");
    finish(c, 1, "D", "Failed");
    ASSERT_EXEC(c, "status", "Failed");
    assert_no_execution(c + 1);
}

Test(cp_rollback_engine, a_met_on_failure_condition_engages_its_own_retry_result)
{
    put_pipeline(DECL_ENV(STAGE("Source", ACTION("S"), "") "," STAGE(
                     "Build", ACTION("B"), COND("onFailure", "RETRY", ENV_GOOD))),
                 CP_MODE_QUEUED);
    unsigned a = start();
    finish(a, 0, "S", "Succeeded");
    finish(a, 1, "B", "Failed");
    ASSERT_EXEC(a, "status", "InProgress");
    ASSERT_ACTION(a, 1, "B", "InProgress");
    ASSERT_EXEC(a, "_stages.1.retryStageMetadata.autoStageRetryAttempt", "1");
    finish(a, 1, "B", "Succeeded");
    ASSERT_EXEC(a, "status", "Succeeded");
}
