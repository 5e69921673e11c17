/* The build records and the build runner shared by builds.c and run.c. */
#ifndef CB_RUN_H
#define CB_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "providers/codebuild/internal.h"

/* A stored build (STORE_DB_CB_BUILDS, key "<account>/<region>/<project>:<uuid>"): this header,
 * the Build JSON as BatchGetBuilds returns it, then the run spec JSON (the effective source,
 * artifacts and environment the runner uses). */
#define CB_BUILD_MAGIC 0x31424243u /* "CBB1" */
struct cb_build_hdr {
    uint32_t magic;
    uint32_t build_len;
    uint32_t spec_len;
    uint32_t pad;
    double start;
};

/* Parses a stored build: *build (h->build_len bytes) and *spec (h->spec_len; spec may be NULL).
 * Returns 0 or -1 when val is not a build record. */
int cb_build_parse(const void *val, size_t vlen, struct cb_build_hdr *h, const char **build,
                   const char **spec);
/* Builds the key of build id into buf. Returns its length or -1. */
int cb_build_key(char *buf, size_t len, const char *account, const char *region, const char *id);
/* Loads build id in t: *build and *spec (spec may be NULL) are new references the caller puts.
 * Returns 0, STORE_NOTFOUND or STORE_ERROR. */
int cb_build_load(store_txn *t, const char *account, const char *region, const char *id,
                  double *start, struct json_object **build, struct json_object **spec);
/* Writes build id in t (a write txn). Returns 0 or a store error. */
int cb_build_save(store_txn *t, const char *account, const char *region, const char *id,
                  double start, struct json_object *build, struct json_object *spec);

/* Ends a BuildPhase object: status, end, duration, and a context (code/message may be NULL). */
void cb_phase_end(struct json_object *p, double end, const char *status, const char *code,
                  const char *message);

/* What a new build is made of (StartBuild, RetryBuild, the engine). NULL/0: the project's. */
struct cb_new_build {
    const char *account, *region, *project;
    const char *initiator;
    const char *endpoint; /* "http://host:port" clients reach (deepLink, AWS_ENDPOINT_URL);
                             NULL: the server's endpoint */
    const char *buildspec;
    const char *source_version;
    struct json_object *artifacts;           /* ProjectArtifacts override */
    struct json_object *secondary_sources;   /* ProjectSource list override */
    struct json_object *secondary_versions;  /* ProjectSourceVersion list override */
    struct json_object *secondary_artifacts; /* ProjectArtifacts list override */
    struct json_object *env;                 /* EnvironmentVariable list override */
    struct json_object *host_env;            /* extra runner data (engine inputs), may be NULL */
    int timeout, queued_timeout;
    const char *idempotency_token;
    /* the key pair the build's AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY hold: one of the caller's
     * account, so `aws s3 ls` in the build sees that account; NULL: test/test */
    const char *access_key, *secret_key;
};

/* Records a new QUEUED build of nb->project and hands it to the runner. Writes its id into id_out
 * (CB_BUILD_ID_MAX bytes) and, when build_out is not NULL, the new Build JSON (caller puts).
 * Returns 0, STORE_NOTFOUND (no project), a store error, or a runner error with err set. */
int cb_create_build(store *st, proto_arena *a, const struct cb_new_build *nb, char *id_out,
                    struct json_object **build_out, char *err, size_t errlen);

/* Adds the queue item of the new build id in t (the txn that writes the build), and hands it to
 * the workers once t is committed (cb_run_kick), with a timer that ends it TIMED_OUT if it still
 * waits QUEUED at queued_deadline (epoch seconds). Returns 0 or an RT_E* / store code. */
int cb_run_enqueue_in(store_txn *t, const char *account, const char *region, const char *id,
                      double queued_deadline);
void cb_run_kick(const char *id);
/* Returns 1 once the service started and builds can be queued, else 0 (a harness that runs
 * handlers without starting the services). */
int cb_run_ready(void);
/* Asks build id to stop: a queued one ends STOPPED at once, a running one's process group is
 * killed and it ends STOPPED soon after. Returns 0 (also for a build already complete),
 * STORE_NOTFOUND or STORE_ERROR. */
int cb_run_stop(store *st, const char *account, const char *region, const char *id);
/* Takes the settings of the server (kept, not copied: endpoint_url is read at use). */
void cb_run_configure(const struct proto_service_config *cfg);
/* Registers the build kind with the queue of the configuration: settles the builds a previous
 * process was running (FAILED, with a phase context saying codepipeline-local restarted, and
 * what their shells left running killed) and starts the queued ones. Returns 0 or an RT_E*. */
int cb_run_register(store *st);
/* Points *access_key and *secret at a key pair of account from the server's credentials store
 * (store-owned, valid while the server runs), or leaves them NULL when it has none. */
void cb_run_account_key(const char *account, const char **access_key, const char **secret);
/* Returns the URL clients and builds reach this server at ("http://127.0.0.1:4566"). */
const char *cb_run_endpoint(void);

/* Removes the log and working directory of a deleted build. */
void cb_run_remove_files(store *st, const char *id);

/* Parses len bytes of JUnit XML and appends a TestCase object per <testcase> to cases (a json-c
 * array). No DTD or entity is accepted. Returns 0, or -1 when the XML does not parse. */
int cb_junit_parse(const char *xml, size_t len, const char *report_arn, const char *raw_path,
                   struct json_object *cases);

/* Records a report of build_id for report_name of project from files (relative to root): the
 * group "<project>-<report name>" is created on first use. Writes the report ARN into arn_out.
 * Returns 0 (err set when some files did not parse) or a store error. */
int cb_report_ingest(store *st, const char *account, const char *region, const char *project,
                     const char *build_id, const char *report_name, const char *root,
                     const char *const *files, size_t n_files, char *arn_out, size_t arn_len,
                     char *err, size_t errlen);

#endif
