/* Unit tests of codebuild.h's contract: codes, listeners, and a build the engine starts with
 * pipeline input and output artifacts, heard through the completion listener. */
#include <archive.h>
#include <archive_entry.h>
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "protocol/ids.h"
#include "providers/codebuild/run.h"
#include "providers/runtime/queue.h"
#include "providers/s3/s3.h"
#include "sigv4/sigv4.h"

#define ACCT   "000000000000"
#define REGION "us-east-1"

static int heard;
static char heard_id[64];

static void on_done(void *ctx, const struct cb_build_done *ev)
{
    heard += *(int *)ctx;
    strncpy(heard_id, ev->build_id, sizeof heard_id - 1);
}

Test(cb_contract, bad_arguments_and_unknown_names_answer_codes_of_the_codebuild_range)
{
    char id[CB_BUILD_ID_MAX] = "x", err[128] = "";
    struct cb_start req = {.account = ACCT, .region = REGION};
    cr_assert_eq(cb_start_build(NULL, &req, id, err, sizeof err), CB_EINVAL);
    cr_assert_str_eq(id, "");
    cr_assert(CB_ENOTIMPL <= CB_E_BASE && CB_EIO > CD_E_BASE);
    struct cb_build b;
    cr_assert_eq(cb_get_build(NULL, ACCT, REGION, "p:1", &b), CB_ENOBUILD);
    cb_build_free(&b);
    cr_assert_eq(cb_stop_build(NULL, ACCT, REGION, "p:1"), CB_ENOBUILD);
    cr_assert_str_eq(cb_status_name(CB_STATUS_TIMED_OUT), "TIMED_OUT");
    cr_assert_eq(cb_status_parse("STOPPED"), CB_STATUS_STOPPED);
}

Test(cb_contract, build_listeners_hear_completions_until_removed)
{
    int one = 1;
    heard = 0;
    int h = cb_add_build_listener(on_done, &one);
    cr_assert_gt(h, 0);
    struct cb_build_done ev = {ACCT, REGION, "p", "p:1", CB_STATUS_SUCCEEDED};
    cb_notify_build_done(&ev);
    cr_assert_eq(heard, 1);
    cr_assert_str_eq(heard_id, "p:1");
    cr_assert_eq(cb_remove_build_listener(h), 0);
    cb_notify_build_done(&ev);
    cr_assert_eq(heard, 1);
    cr_assert_eq(cb_remove_build_listener(h), RT_ENOITEM);
}

/* ---- an engine build ---- */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static char done_id[CB_BUILD_ID_MAX];
static enum cb_status done_status;

static void on_engine_done(void *ctx, const struct cb_build_done *ev)
{
    (void)ctx;
    pthread_mutex_lock(&mu);
    snprintf(done_id, sizeof done_id, "%s", ev->build_id);
    done_status = ev->status;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

static store *open_store(char *dir)
{
    strcpy(dir, "/tmp/cb-contract-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    struct store_options o = {.dir = dir, .no_sync = 1};
    store *st;
    char err[256];
    cr_assert_eq(store_open(&o, &st, err, sizeof err), 0, "%s", err);
    return st;
}

/* Stores a CODEPIPELINE project named name directly (as CreateProject would). */
static void put_project(store *st, const char *name)
{
    struct json_object *p = json_tokener_parse(
        "{\"source\":{\"type\":\"CODEPIPELINE\"},\"artifacts\":{\"type\":\"CODEPIPELINE\"},"
        "\"environment\":{\"type\":\"LINUX_CONTAINER\",\"image\":\"i\",\"computeType\":\"c\","
        "\"environmentVariables\":[]},\"timeoutInMinutes\":60,\"queuedTimeoutInMinutes\":480}");
    json_object_object_add(p, "name", json_object_new_string(name));
    struct cb_proj_hdr h = {0};
    h.created = h.modified = proto_now();
    size_t len;
    char *rec = cb_proj_make(&h, p, &len);
    char key[300];
    store_key(key, sizeof key, ACCT, REGION, name);
    store_txn *t;
    cr_assert_eq(store_txn_begin(st, 1, &t), 0);
    cr_assert_eq(store_put(t, STORE_DB_CB_PROJECTS, key, strlen(key), rec, len), 0);
    cr_assert_eq(store_txn_commit(t), 0);
    free(rec);
    json_object_put(p);
}

/* A zip of one file, in memory. */
static size_t zip_one(const char *name, const char *data, char *out, size_t cap)
{
    struct archive *w = archive_write_new();
    size_t used = 0;
    archive_write_set_format_zip(w);
    archive_write_open_memory(w, out, cap, &used);
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, name);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, (la_int64_t)strlen(data));
    archive_write_header(w, e);
    archive_write_data(w, data, strlen(data));
    archive_entry_free(e);
    archive_write_close(w);
    archive_write_free(w);
    return used;
}

Test(cb_contract, an_engine_build_reads_its_inputs_writes_its_output_zip_and_is_heard)
{
    char dir[64], err[256] = "", id[CB_BUILD_ID_MAX];
    store *st = open_store(dir);
    rt_queue *q = rt_queue_new(st);
    static struct proto_service_config cfg;
    cfg.queue = q;
    cfg.max_builds = 2;
    /* the account's key pair is what a build falls back on; it gets temporary credentials */
    sigv4_creds *creds = sigv4_creds_new("999999999999");
    cr_assert_eq(sigv4_creds_add(creds, "ENGINEKEY", "engine-secret", ACCT), 0);
    cfg.creds = creds;
    cr_assert_eq(cb_service.start(st, &cfg, err, sizeof err), 0, "%s", err);
    put_project(st, "pp");
    cr_assert_eq(s3_create_bucket_local(st, ACCT, REGION, "art"), S3_OK);
    static char zip[4096];
    size_t zl = zip_one(
        "buildspec.yml",
        "version: 0.2\nenv:\n  exported-variables: [OUT, KEY]\nphases:\n  build:\n"
        "    commands:\n      - export OUT=\"$(cat $CODEBUILD_SRC_DIR_Extra/x.txt)\"\n"
        "      - export KEY=\"$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY:$AWS_SESSION_TOKEN\"\n"
        "      - echo \"$VAR\" > built.txt\nartifacts:\n  files: [built.txt]\n",
        zip, sizeof zip);
    cr_assert_eq(s3_put_object_mem(st, ACCT, "art", "in/src.zip", zip, zl, NULL, NULL), S3_OK);
    zl = zip_one("x.txt", "extra-content", zip, sizeof zip);
    cr_assert_eq(s3_put_object_mem(st, ACCT, "art", "in/extra.zip", zip, zl, NULL, NULL), S3_OK);

    int h = cb_add_build_listener(on_engine_done, NULL);
    struct cb_input primary = {"SourceArtifact", {"art", "in/src.zip", NULL}};
    struct cb_input extra = {"Extra", {"art", "in/extra.zip", NULL}};
    struct cb_output out = {"BuildArtifact", {"art", "out/build.zip", NULL}};
    struct cb_env_var var = {"VAR", "from-engine", NULL};
    struct cb_start req = {.account = ACCT,
                           .region = REGION,
                           .project = "pp",
                           .initiator = "codepipeline/pipe",
                           .primary_source = &primary,
                           .secondary_sources = &extra,
                           .n_secondary_sources = 1,
                           .env = &var,
                           .n_env = 1,
                           .outputs = &out,
                           .n_outputs = 1};
    cr_assert_eq(cb_start_build(st, &req, id, err, sizeof err), 0, "%s", err);
    cr_assert_eq(strncmp(id, "pp:", 3), 0);

    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 60;
    pthread_mutex_lock(&mu);
    while (strcmp(done_id, id) && pthread_cond_timedwait(&cv, &mu, &ts) == 0) {
    }
    int heard_it = !strcmp(done_id, id);
    pthread_mutex_unlock(&mu);
    cr_assert(heard_it, "no completion heard for %s", id);

    struct cb_build b;
    cr_assert_eq(cb_get_build(st, ACCT, REGION, id, &b), 0);
    cr_assert_eq(b.status, CB_STATUS_SUCCEEDED, "%s", b.failure ? b.failure : "");
    cr_assert_eq(done_status, CB_STATUS_SUCCEEDED);
    cr_assert(b.complete);
    cr_assert_str_eq(b.current_phase, "COMPLETED");
    cr_assert_eq(b.n_exported, 2);
    cr_assert_str_eq(b.exported[0].value, "extra-content");
    /* temporary credentials of the pipeline's account, stored where sigv4/ resolves them */
    const char *key = b.exported[1].value;
    cr_assert_eq(strncmp(key, "ASIA", 4), 0, "%s", key);
    cr_assert_eq(key[20], ':', "%s", key);
    cr_assert_eq(key[61], ':', "%s", key);
    cr_assert(strlen(key) > 100, "%s", key);
    store_txn *t = NULL;
    const void *v;
    size_t vl;
    cr_assert_eq(store_txn_begin(st, 0, &t), 0);
    cr_assert_eq(store_get(t, STORE_DB_STS_CREDS, key, 20, &v, &vl), 0);
    char rec[1024];
    snprintf(rec, sizeof rec, "%.*s", (int)vl, (const char *)v);
    store_txn_abort(t);
    char want[64];
    snprintf(want, sizeof want, "\"account\":\"%s\"", ACCT);
    cr_assert(strstr(rec, want), "%s", rec);
    cr_assert(strstr(rec, "arn:aws:iam::" ACCT ":root"), "%s", rec); /* the project has no role */
    cr_assert_eq(b.n_outputs, 1);
    cr_assert_str_eq(b.outputs[0].location.key, "out/build.zip");
    cr_assert_str_eq(b.log_group, "/aws/codebuild/pp");
    cb_build_free(&b);
    struct s3_object_info oi;
    cr_assert_eq(s3_stat_object(st, ACCT, "art", "out/build.zip", NULL, &oi), S3_OK);
    cr_assert_eq(cb_stop_build(st, ACCT, REGION, id), CB_ESTATE);

    char missing[CB_BUILD_ID_MAX];
    req.project = "nope";
    cr_assert_eq(cb_start_build(st, &req, missing, err, sizeof err), CB_ENOPROJECT);
    cb_remove_build_listener(h);
    cr_assert_eq(rt_queue_stop(q, 30), 0);
    cb_service.stop(proto_now() + 30);
    rt_queue_free(q);
    sigv4_creds_free(creds);
    store_close(st);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}
