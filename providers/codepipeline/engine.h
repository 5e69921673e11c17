/* The execution engine's internal interface: execution records, the state machine, variables,
 * artifacts, and the contract between the engine and its action providers (actions/). */
#ifndef CP_ENGINE_H
#define CP_ENGINE_H

#include <stddef.h>

#include "persistence/store.h"
#include "providers/runtime/queue.h"

struct json_object;
struct proto_service_config;
struct cp_action_result;

/* The engine's return codes (the CP_E_BASE range of errors.h). */
#define CP_ENOPIPELINE (CP_E_BASE - 1) /* no such pipeline */
#define CP_EIO         (CP_E_BASE - 2) /* store failure */
#define CP_ESTOPPED    (CP_E_BASE - 3) /* the engine is not running (before start, after stop) */

/* Queue kinds. */
#define CP_KIND_ACTION      "codepipeline.action"  /* one action execution runs (id: its id) */
#define CP_KIND_EXPIRY      "codepipeline.expiry"  /* an approval's 7-day expiry (id: its token) */
#define CP_KIND_TRIGGER     "codepipeline.trigger" /* a source change to match against pipelines */
#define CP_KIND_JOB_TIMEOUT "codepipeline.jobtimeout" /* a job worker's job times out (id: job) */

/* Records in STORE_DB_CP_EXECUTIONS, keyed under "<account>/<region>/<pipeline>#":
 *   "#S"               the pipeline's run state: next sequence number, active executions, stage
 *                      locks, latest execution per stage and per action, request tokens;
 *   "#X<seq, 10 digits>" one execution (JSON: the PipelineExecution fields plus the engine's
 *                      "_"-prefixed ones, with every stage and action execution inside);
 *   "#I<execution id>" the sequence number of an execution id.
 * STORE_DB_CP_JOBS: "T<token>" an approval token and the action it answers. */

/* Builds "<account>/<region>/<pipeline>#<suffix>" into buf. Returns its length or -1. */
int cp_exec_key(char *buf, size_t buflen, const char *account, const char *region,
                const char *pipeline, const char *suffix);
/* Reads the JSON record at key of db in t. Returns a new object (caller puts), or NULL when
 * missing or unreadable. */
struct json_object *cp_json_load(store_txn *t, enum store_db db, const char *key, size_t klen);
/* Writes o at key of db in t. Returns 0 or a store error code. */
int cp_json_store(store_txn *t, enum store_db db, const char *key, size_t klen,
                  struct json_object *o);
/* Loads execution seq of pipeline. Returns a new object (caller puts) or NULL. */
struct json_object *cp_exec_load(store_txn *t, const char *account, const char *region,
                                 const char *pipeline, unsigned seq);
/* Finds the sequence number of execution id. Returns it (> 0), or 0 when there is none. */
unsigned cp_exec_seq(store_txn *t, const char *account, const char *region, const char *pipeline,
                     const char *id);
/* Loads the declaration of version of pipeline (0: the current one). Returns a new object (caller
 * puts) or NULL. */
struct json_object *cp_decl_load(store_txn *t, const char *account, const char *region,
                                 const char *pipeline, unsigned version);

/* Queue ids to hand to workers once the transaction that queued them commits. */
struct cp_kicks {
    size_t n;
    struct {
        const char *kind;
        char id[64];
        int cancel; /* rt_queue_cancel it instead (a rule abandoned by its condition) */
    } k[64];
    int overflow; /* more than fit: kick everything (rt_queue_kick of each is idempotent) */
};
/* Hands every id of k to its workers (after the commit). */
void cp_kicks_run(struct cp_kicks *k);
/* Notes queue item (kind, id) for cp_kicks_run: delayed items (an approval's expiry, a job's
 * timeout) too, or their workers only learn of them at the next start. kind must be static. */
void cp_kicks_add(struct cp_kicks *k, const char *kind, const char *id);
/* Adds (kind, id) to k to be cancelled (stopped if it runs) once the transaction commits. */
void cp_kicks_cancel(struct cp_kicks *k, const char *kind, const char *id);

/* What starts an execution. */
struct cp_start {
    const char *trigger_type;             /* "StartPipelineExecution", "CreatePipeline", ... */
    const char *trigger_detail;           /* a caller ARN, a rule ARN, ... */
    struct json_object *variables;        /* V2 overrides [{name,value}], or NULL */
    struct json_object *source_revisions; /* [{actionName,revisionType,revisionValue}] or NULL */
    const char *request_token;            /* clientRequestToken, or NULL */
    const char *endpoint; /* "http://host:port" the caller reached (for the children of its
                             actions), or NULL: the last one a request showed */
};
/* Starts an execution of pipeline in t (a write txn) and runs the state machine, queueing the
 * first actions into kicks. Writes its id into id. Returns 0, 1 when request_token was used
 * already (id is that execution's), CP_ENOPIPELINE, or a store error code. */
int cp_exec_start_in(store_txn *t, const char *account, const char *region, const char *pipeline,
                     const struct cp_start *s, char id[37], struct cp_kicks *kicks);
/* Runs the state machine of pipeline in t: finishes groups, stages and executions whose actions
 * ended, lets waiting executions into free stages (superseding as the mode says), starts actions.
 * Returns 0 or a store error code. */
int cp_advance_in(store_txn *t, const char *account, const char *region, const char *pipeline,
                  struct cp_kicks *kicks);

/* Records res as the outcome of action execution aeid (action of stage index stage of execution
 * seq) in t and runs the state machine. A stale aeid (the action was replaced or ended) is
 * ignored. Returns 0 or a store error code. */
int cp_action_record_in(store_txn *t, const char *account, const char *region, const char *pipeline,
                        unsigned seq, int stage, const char *action, const char *aeid,
                        struct cp_action_result *res, struct cp_kicks *kicks);
/* Makes a job for a job worker in t: data is the job's data (without credentials), timeout in
 * seconds; the reference says which action it runs. Writes the job id into job_id. Returns 0 or
 * a store error code. */
int cp_job_create_in(store_txn *t, const char *account, const char *region, const char *pipeline,
                     unsigned seq, int stage, const char *action, const char *aeid,
                     struct json_object *type_id, struct json_object *data, double timeout,
                     char job_id[37]);
/* Names aeid as the action to wake when build or deployment external ends (wakeups.c).
 * Returns 1 when it has ended already (nothing to wait for), else 0. */
int cp_wake_on(const char *external, const char *aeid);
/* Listens for build and deployment ends to wake their actions on q. Returns 0 or -1. */
int cp_wakeups_start(rt_queue *q);
void cp_wakeups_stop(void);

/* The queue run of CP_KIND_JOB_TIMEOUT. */
int cp_job_timeout_run(void *ctx, const struct rt_item *item, rt_task *task);

/* UpdatePipeline, in its txn t: the executions in flight let their running actions finish, then
 * fail with their stage, as AWS does. Returns 0 or a store error code. */
int cp_exec_pipeline_updated_in(store_txn *t, const char *account, const char *region,
                                const char *pipeline);
/* DeletePipeline, in its txn t: removes every execution record of pipeline (queued action items
 * then find nothing and end). Returns 0 or a store error code. */
int cp_exec_delete_all_in(store_txn *t, const char *account, const char *region,
                          const char *pipeline);

/* Control calls' return codes. */
#define CP_ENOTSTOPPABLE (CP_E_BASE - 20) /* no such execution, or it has ended */
#define CP_EDUPSTOP      (CP_E_BASE - 21) /* already stopping (or already abandoning) */
#define CP_ENOSTAGE      (CP_E_BASE - 22) /* no such stage in the current declaration */
#define CP_ENOTRETRYABLE (CP_E_BASE - 23) /* the stage of that execution cannot be retried */
#define CP_ENOTLATEST    (CP_E_BASE - 24) /* a later execution ran in the stage */
#define CP_ECONFLICT     (CP_E_BASE - 25) /* the execution is still running */

/* What an abandon leaves to kill once its transaction commits: each action's queue item, and
 * the build or deployment it started (kind "build", "deployment" or ""). */
struct cp_abandoned {
    size_t n;
    struct {
        char aeid[37];
        char kind[16];
        char external[256];
    } a[64];
};
/* StopPipelineExecution in t: execution id goes Stopping, and Stopped once its actions in
 * progress end; abandon marks them Abandoned at once (noted in ab for the caller to kill after
 * the commit). reason becomes the statusSummary. Returns 0, CP_ENOPIPELINE, CP_ENOTSTOPPABLE,
 * CP_EDUPSTOP or a store error code. */
int cp_exec_stop_in(store_txn *t, const char *account, const char *region, const char *pipeline,
                    const char *id, int abandon, const char *reason, struct cp_abandoned *ab,
                    struct cp_kicks *kicks);
/* Kills what an abandon noted (no txn held). */
void cp_abandoned_kill(const char *account, const char *region, const struct cp_abandoned *ab);
/* Disable/EnableStageTransition in t: type "Inbound" or "Outbound"; by is the caller's ARN.
 * Enabling lets the newest waiting execution in. Returns 0, CP_ENOPIPELINE, CP_ENOSTAGE or a
 * store error code. */
int cp_transition_set_in(store_txn *t, const char *account, const char *region,
                         const char *pipeline, const char *stage, const char *type, int enabled,
                         const char *reason, const char *by, struct cp_kicks *kicks);
/* The stored transition {enabled, disabledReason, lastChangedBy, lastChangedAt} of stage in the
 * run state ("inbound" or "outbound"), or NULL when never changed. Borrowed from state. */
struct json_object *cp_transition_state(struct json_object *state, const char *stage,
                                        const char *type);
/* RetryStageExecution in t: mode "FAILED_ACTIONS" or "ALL_ACTIONS". The execution goes back to
 * InProgress and waits to re-enter stage. Returns 0, CP_ENOPIPELINE, CP_ENOSTAGE,
 * CP_ENOTRETRYABLE, CP_ENOTLATEST, CP_ECONFLICT or a store error code. */
int cp_exec_retry_in(store_txn *t, const char *account, const char *region, const char *pipeline,
                     const char *stage, const char *id, const char *mode, struct cp_kicks *kicks);

/* OverrideStageCondition in t: type "BEFORE_ENTRY" or "ON_SUCCESS". A condition whose rules
 * still run reads as met from now on (its running rules are noted in ab, for the caller to
 * cancel with cp_abandoned_kill after the commit); a beforeEntry condition that failed its stage
 * lets the execution enter the stage after all. Returns 0, CP_ENOPIPELINE, CP_ENOSTAGE,
 * CP_ENOTOVERRIDABLE, CP_ENOTLATEST, CP_ECONFLICT (another execution holds the stage) or a store
 * error code. */
#define CP_ENOTOVERRIDABLE (CP_E_BASE - 40) /* no such condition run, or one that cannot change */
int cp_cond_override_in(store_txn *t, const char *account, const char *region, const char *pipeline,
                        const char *stage, const char *id, const char *type,
                        struct cp_abandoned *ab, struct cp_kicks *kicks);

/* Answers an approval token: status "Approved" or "Rejected". Returns 0 with *approved_at,
 * CP_ENOTOKEN, CP_EDONE (answered or expired), or a store error code. */
#define CP_ENOTOKEN (CP_E_BASE - 10)
#define CP_EDONE    (CP_E_BASE - 11)
int cp_approval_answer_in(store_txn *t, const char *account, const char *region,
                          const char *pipeline, const char *stage, const char *action,
                          const char *token, const char *status, const char *summary,
                          const char *by, double *approved_at, struct cp_kicks *kicks);

/* The variables an action or a rule of execution e can reference: {namespace: {name: value}},
 * with "codepipeline" and "variables" among them. Returns a new reference (caller puts). */
struct json_object *cp_exec_vars(struct json_object *e);
/* Resolves the #{namespace.name} references of s against vars ({namespace: {name: value}}, with
 * "codepipeline" and "variables" among them). Returns a malloc'ed string (caller frees), or NULL
 * with the first unresolvable reference copied into bad (badlen bytes). */
char *cp_vars_resolve(const char *s, struct json_object *vars, char *bad, size_t badlen);
/* The "input" of an action or rule execution record from its declaration decl: the type id under
 * type_key, the configuration and the same with every #{...} resolved in vars, roleArn, region
 * (region when decl names none) and the input artifacts with their S3 locations from art. Returns
 * a new object (caller puts). When a reference does not resolve, sets *unresolved, names it in
 * bad and leaves resolvedConfiguration partial. */
struct json_object *cp_exec_input(struct json_object *decl, const char *type_key,
                                  struct json_object *vars, struct json_object *art,
                                  const char *region, char *bad, size_t badlen, int *unresolved);

/* ---- The engine and its action providers ---- */

/* What a provider's run is given: everything is valid during the call only. */
struct cp_action_ctx {
    store *st;
    rt_task *task; /* for rt_task_sleep / rt_task_stop_reason */
    const char *account, *region;
    const char *pipeline, *execution_id, *stage, *action, *action_execution_id;
    const char *provider, *category, *owner;
    struct json_object *decl;     /* the action's declaration */
    struct json_object *config;   /* the resolved configuration (object of strings) */
    struct json_object *inputs;   /* [{name, s3location{bucket,key}}] */
    struct json_object *outputs;  /* the declared outputArtifacts [{name, files?}] */
    struct json_object *entry;    /* the action execution record as stored (read-only) */
    struct json_object *override; /* this source action's revision override or trigger
                                     revision {revisionType, revisionValue}, or NULL */
    const char *bucket;           /* the artifact bucket for the action's region */
    const char *endpoint_url;     /* this server, for children */
    double started;               /* when the action started */
};

enum cp_action_status {
    CP_ACT_SUCCEEDED = 1,
    CP_ACT_FAILED,
    CP_ACT_WAIT,     /* not done: run again at requeue_at (polling an external build) */
    CP_ACT_APPROVAL, /* waits for PutApprovalResult (a token is made) */
    CP_ACT_JOB,      /* waits for a job worker: state holds the job data (jobs.c makes the job) */
};

/* What a provider's run returns. Strings are malloc'ed, objects owned: cp_action_result_free. */
struct cp_action_result {
    enum cp_action_status status;
    char *summary;
    char *error_code; /* "JobFailed" when NULL on failure */
    char *error_message;
    char *external_id, *external_url;
    struct json_object *outputs;   /* [{name, s3location}] */
    struct json_object *variables; /* {name: value} */
    struct json_object *revision;  /* source: {revisionId, revisionSummary, revisionUrl,
                                      created, revisionChangeIdentifier} */
    struct json_object *state;     /* provider state to keep in the record ("_p") */
    double requeue_at;
    int percent; /* percentComplete to show (job workers); 0: none (stored as given + 1) */
};
void cp_action_result_free(struct cp_action_result *r);
/* Sets r to failed with a printf message. Returns CP_ACT_FAILED. */
int cp_action_fail(struct cp_action_result *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* One provider: its run function. */
typedef int (*cp_action_run_fn)(struct cp_action_ctx *ac, struct cp_action_result *r);
/* Returns the run function of (owner, category, provider), never NULL (a provider that is not
 * simulated fails its action with a message naming it). */
cp_action_run_fn cp_action_provider(const char *owner, const char *category, const char *provider);

/* Artifacts. Writes the bytes of fd into a new object of the artifact bucket under AWS's layout
 * "<pipeline cut to 20>/<artifact cut to 10>/<7 random>", and appends {name, s3location} to
 * r->outputs. Returns 0, or -1 with r failed. */
int cp_artifact_put_fd(struct cp_action_ctx *ac, const char *name, int fd,
                       struct cp_action_result *r);
/* Opens input artifact name (NULL: the first). Returns an fd (caller closes) or -1 with r failed.
 */
int cp_artifact_open(struct cp_action_ctx *ac, const char *name, struct cp_action_result *r);
/* Extracts the zip of fd into dir. Returns 0, or -1 with a reason in err. */
int cp_zip_extract_fd(int fd, const char *dir, char *err, size_t errlen);
/* Zips dir (entries relative to it; the paths matching files, NULL: all) into fd. Returns 0 or -1
 * with a reason in err. */
int cp_zip_dir_fd(const char *dir, struct json_object *files, int fd, char *err, size_t errlen);
/* Makes a fresh temp directory under the data dir's tmp area into buf. Returns 0 or -1. */
int cp_tmpdir(char *buf, size_t buflen);
/* Removes dir and everything under it. */
void cp_rmtree(const char *dir);

/* The engine's lifecycle (service.c calls them). */
int cp_engine_start(store *st, const struct proto_service_config *cfg, char *err, size_t errlen);
void cp_engine_stop(double deadline);
/* Points the engine at st and q without registering workers or listeners: the state machine
 * queues work that nothing runs (unit tests drive it by hand). */
void cp_engine_attach(store *st, rt_queue *q);
/* Notes the endpoint a request reached ("http://<public host>"), for executions that no request
 * starts (change detection). Any thread. */
void cp_engine_note_endpoint(const char *endpoint);
/* Copies the endpoint last noted into buf (the server's configured one before any). */
void cp_engine_endpoint(char *buf, size_t buflen);
/* The store and queue the engine runs on, or NULL before start. */
rt_queue *cp_engine_queue(void);
/* Tells the change-detection cache that pipelines changed. */
void cp_engine_pipelines_changed(void);

#endif
