/* The codebuild provider's interface to the server and to the other providers. */
#ifndef CB_CODEBUILD_H
#define CB_CODEBUILD_H

#include <stddef.h>
#include <stdint.h>

#include "persistence/store.h"
#include "protocol/service.h"
#include "providers/runtime/errors.h"

/* The codebuild service: its JSON 1.1 operation table and model. */
extern const struct proto_service cb_service;

/* Opens the log of build id ("<project>:<uuid>") for GET /_codepipeline-local/codebuild/logs/<id>:
 * returns 0 with *fd_out (the caller closes it) and its current *size, or -1 when there is none. */
int cb_serve_log(store *st, const char *id, int *fd_out, uint64_t *size);

/* ---- In-process interface (the pipeline engine's CodeBuild and Commands actions) ----
 * No HTTP: the engine calls these directly. Every function acts for account in region (the
 * pipeline's), opens its own transactions and must not be called inside one. Any thread may
 * call them, a build listener included. Strings passed in are copied; nothing is kept. */

/* Return codes (the CB_E_BASE range of errors.h); 0 is success. */
#define CB_ENOTIMPL   (CB_E_BASE - 1) /* builds are not implemented in this version */
#define CB_ENOPROJECT (CB_E_BASE - 2) /* no such project */
#define CB_ENOBUILD   (CB_E_BASE - 3) /* no such build */
#define CB_EINVAL     (CB_E_BASE - 4) /* a bad argument (the reason is in err) */
#define CB_ESTATE     (CB_E_BASE - 5) /* the build has already completed (stop) */
#define CB_EIO        (CB_E_BASE - 6) /* store or disk failure */

#define CB_BUILD_ID_MAX 300 /* "<project>:<uuid>" + NUL (project names are up to 255) */

/* An S3 object: a source zip to read, or where an output zip goes. */
struct cb_s3_location {
    const char *bucket;
    const char *key;
    const char *version_id; /* the version to read; NULL: the current one (ignored for outputs) */
};

/* An input artifact: the primary goes into CODEBUILD_SRC_DIR and a secondary into
 * CODEBUILD_SRC_DIR_<name>; the buildspec is read from the primary. */
struct cb_input {
    const char *name;               /* the artifact name ("SourceArtifact") */
    struct cb_s3_location location; /* a zip, as the engine stores artifacts */
};

/* An output artifact the engine wants: the buildspec's primary artifacts go to the first,
 * secondary-artifacts to the others by matching their identifier with name. */
struct cb_output {
    const char *name;               /* the artifact name ("BuildArtifact") */
    struct cb_s3_location location; /* where to write the zip (bucket and key; the engine's
                                        artifact store layout) */
};

/* An environment variable override: type "PLAINTEXT" (NULL means it), "PARAMETER_STORE" or
 * "SECRETS_MANAGER" (recorded; the build fails clearly, as they are not simulated). */
struct cb_env_var {
    const char *name;
    const char *value;
    const char *type;
};

/* What cb_start_build starts. Zero or NULL fields take the project's settings. */
struct cb_start {
    const char *account; /* required */
    const char *region;  /* required */
    const char *project; /* required: an existing project of account/region */
    const char
        *initiator; /* CODEBUILD_INITIATOR and the build's initiator: "codepipeline/<name>" */
    const struct cb_input *primary_source; /* NULL: the project's own source */
    const struct cb_input *secondary_sources;
    size_t n_secondary_sources;
    const char *source_version;   /* the source's revision (a commit id), for
                                     CODEBUILD_RESOLVED_SOURCE_VERSION; NULL: none */
    const struct cb_env_var *env; /* added to and overriding the project's variables */
    size_t n_env;
    const char *buildspec_override;  /* inline YAML, or a path in the primary source */
    const struct cb_output *outputs; /* NULL: the project's artifacts setting */
    size_t n_outputs;
    int timeout_minutes;           /* 0: the project's timeoutInMinutes */
    const char *idempotency_token; /* NULL: none */
};

/* Starts a build: records it QUEUED and hands it to the build workers, which run it as StartBuild
 * would. Writes its id ("<project>:<uuid>") into build_id. Returns 0, CB_ENOPROJECT, CB_EINVAL
 * (with a one-line reason in err, AWS's wording where AWS has one), CB_EIO or CB_ENOTIMPL. The
 * build is durable when this returns: its completion reaches the build listeners even across a
 * restart (see cb_build_listener). */
int cb_start_build(store *st, const struct cb_start *req, char build_id[CB_BUILD_ID_MAX], char *err,
                   size_t errlen);

/* Asks build_id to stop, as StopBuild does: a queued build ends STOPPED at once; a running one's
 * process group is killed and it ends STOPPED soon after (the listeners hear it). Returns 0,
 * CB_ENOBUILD, CB_ESTATE (already complete), CB_EIO or CB_ENOTIMPL. */
int cb_stop_build(store *st, const char *account, const char *region, const char *build_id);

/* A build's status, as BatchGetBuilds spells it. */
enum cb_status {
    CB_STATUS_IN_PROGRESS, /* QUEUED builds included: see current_phase */
    CB_STATUS_SUCCEEDED,
    CB_STATUS_FAILED,
    CB_STATUS_FAULT,
    CB_STATUS_TIMED_OUT,
    CB_STATUS_STOPPED,
};
/* Returns "IN_PROGRESS", "SUCCEEDED", ... (static). */
const char *cb_status_name(enum cb_status s);

/* One phase, as in BatchGetBuilds' phases (status NULL while the phase runs). */
struct cb_phase {
    char *type;    /* "SUBMITTED", "QUEUED", "PROVISIONING", "DOWNLOAD_SOURCE", "INSTALL", ... */
    char *status;  /* "SUCCEEDED", "FAILED", ...; NULL: in progress */
    char *message; /* the phase context's message; NULL: none */
    char *status_code; /* the phase context's statusCode ("COMMAND_EXECUTION_ERROR"); NULL */
    double start, end; /* epoch seconds; end 0 while running */
};

struct cb_var {
    char *name;
    char *value;
};

/* A build as the engine reads it. Every pointer is malloc'd and owned by the struct: release with
 * cb_build_free. */
struct cb_build {
    char *id;
    char *arn;
    enum cb_status status;
    int complete;        /* buildComplete */
    char *current_phase; /* "QUEUED", "BUILD", "COMPLETED", ... */
    double start_time, end_time;
    struct cb_phase *phases; /* in order */
    size_t n_phases;
    struct cb_var *exported; /* the buildspec's exported-variables, once the build completed */
    size_t n_exported;
    struct cb_output *outputs; /* the zips written, in the order asked (strings owned here) */
    size_t n_outputs;
    char *resolved_source_version; /* NULL: none */
    char *log_group;               /* "/aws/codebuild/<project>" */
    char *log_stream;              /* "<uuid>" */
    char *log_url;                 /* where this server serves the whole log (deepLink) */
    char *failure;                 /* for a failed build: the failing phase and its message */
};

/* Reads build_id into *out (zeroed first). Returns 0, CB_ENOBUILD, CB_EIO or CB_ENOTIMPL. */
int cb_get_build(store *st, const char *account, const char *region, const char *build_id,
                 struct cb_build *out);
/* Frees what cb_get_build put in b (not b itself); safe on a zeroed struct. */
void cb_build_free(struct cb_build *b);

/* ---- Completion ---- */

/* A build reached a final status. Valid only during the call. */
struct cb_build_done {
    const char *account;
    const char *region;
    const char *project;
    const char *build_id;
    enum cb_status status; /* never CB_STATUS_IN_PROGRESS */
};
/* Called once per build end, on the CodeBuild worker thread that ran it (or, for a build that a
 * restart interrupted, on the thread running codebuild's start), after the final state is
 * committed and with no transaction held. Keep it short: record or enqueue the follow-up work
 * (rt_queue_add) rather than doing it here. It may call cb_get_build. Notifications are not
 * durable: one that ended while no listener was registered (before the engine's start) is not
 * repeated, so a listener's owner reads cb_get_build for the builds it waits on at its start. */
typedef void (*cb_build_listener)(void *ctx, const struct cb_build_done *ev);
/* Registers fn with ctx. Returns a handle (> 0) for cb_remove_build_listener, or RT_EFULL. */
int cb_add_build_listener(cb_build_listener fn, void *ctx);
/* Unregisters the listener of handle. Returns 0 or RT_ENOITEM. */
int cb_remove_build_listener(int handle);

#endif
