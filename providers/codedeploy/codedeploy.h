/* The codedeploy provider's interface to the server and to the other providers. */
#ifndef CD_CODEDEPLOY_H
#define CD_CODEDEPLOY_H

#include <stddef.h>

#include "persistence/store.h"
#include "protocol/service.h"
#include "providers/runtime/errors.h"

/* The codedeploy service: its JSON 1.1 operation table and model. */
extern const struct proto_service cd_service;

/* ---- In-process interface (the pipeline engine's CodeDeploy action) ----
 * No HTTP: the engine calls these directly. Every function acts for account in region, opens its
 * own transactions and must not be called inside one. Any thread may call them, a deployment
 * listener included. Strings passed in are copied; nothing is kept. */

/* Return codes (the CD_E_BASE range of errors.h); 0 is success. */
#define CD_ENOTIMPL      (CD_E_BASE - 1) /* deployments are not implemented in this version */
#define CD_ENOAPP        (CD_E_BASE - 2) /* no such application */
#define CD_ENOGROUP      (CD_E_BASE - 3) /* no such deployment group */
#define CD_ENODEPLOYMENT (CD_E_BASE - 4) /* no such deployment */
#define CD_EINVAL        (CD_E_BASE - 5) /* a bad argument or revision (the reason is in err) */
#define CD_ESTATE                                                                                  \
    (CD_E_BASE - 6)            /* the deployment has already completed (stop), or the              \
                                  group has one in progress (start) */
#define CD_EIO (CD_E_BASE - 7) /* store or disk failure */

#define CD_DEPLOYMENT_ID_MAX 32 /* "d-" + 9 characters, with room to spare */

enum cd_bundle_type {
    CD_BUNDLE_ZIP,
    CD_BUNDLE_TAR,
    CD_BUNDLE_TGZ,
};

/* An S3 revision, as CreateDeployment's s3Location. */
struct cd_s3_revision {
    const char *bucket;
    const char *key;
    enum cd_bundle_type bundle_type;
    const char *version; /* the object version; NULL: the current one */
    const char *etag;    /* checked against the object when not NULL (unquoted) */
};

/* What cd_create_deployment starts. NULL fields take the group's settings. */
struct cd_start {
    const char *account;          /* required */
    const char *region;           /* required */
    const char *application;      /* required */
    const char *deployment_group; /* required */
    struct cd_s3_revision revision;
    const char *deployment_config; /* NULL: the group's (CodeDeployDefault.OneAtATime) */
    const char *description;
    const char *file_exists_behavior; /* "DISALLOW" (NULL), "OVERWRITE" or "RETAIN" */
    int ignore_application_stop_failures;
    const char *creator; /* the deployment's creator ("user"; the engine says "CodePipeline") */
    /* NULL, or a key naming this request: a create with a key that an earlier create of the
     * account and region stored returns that deployment instead of making a second one, so a
     * caller that died before recording the id may simply ask again. */
    const char *idempotency_key;
};

/* Creates a deployment, records it Created and hands it to the deployment workers, which run it
 * as CreateDeployment would. Writes its id ("d-XXXXXXXXX") into deployment_id. Returns 0,
 * CD_ENOAPP, CD_ENOGROUP, CD_EINVAL (with a one-line reason in err, AWS's wording and error code
 * name where AWS has one: "RevisionDoesNotExistException: ..."), CD_ESTATE, CD_EIO or
 * CD_ENOTIMPL. Durable when this returns: its completion reaches the listeners even across a
 * restart (see cd_deployment_listener). With req->idempotency_key already used, writes the id of
 * the deployment created under it and returns 0, whatever that deployment's state. */
int cd_create_deployment(store *st, const struct cd_start *req,
                         char deployment_id[CD_DEPLOYMENT_ID_MAX], char *err, size_t errlen);

/* Asks deployment_id to stop, as StopDeployment does (auto_rollback: roll back to the last good
 * revision afterwards when the group allows). The hook running is killed; the deployment ends
 * Stopped and the listeners hear it. Returns 0, CD_ENODEPLOYMENT, CD_ESTATE, CD_EIO or
 * CD_ENOTIMPL. */
int cd_stop_deployment(store *st, const char *account, const char *region,
                       const char *deployment_id, int auto_rollback);

/* A deployment's status, as GetDeployment spells it. */
enum cd_status {
    CD_STATUS_CREATED,
    CD_STATUS_QUEUED,
    CD_STATUS_IN_PROGRESS,
    CD_STATUS_SUCCEEDED,
    CD_STATUS_FAILED,
    CD_STATUS_STOPPED,
};
/* Returns "Created", "Queued", "InProgress", ... (static). */
const char *cd_status_name(enum cd_status s);

/* A deployment as the engine reads it. Every pointer is malloc'd and owned by the struct: release
 * with cd_deployment_free. */
struct cd_deployment {
    char *id;
    char *application;
    char *deployment_group;
    enum cd_status status;
    char *error_code;    /* errorInformation.code ("HEALTH_CONSTRAINTS", ...); NULL: none */
    char *error_message; /* errorInformation.message; NULL: none */
    double create_time, start_time, complete_time;             /* epoch seconds; 0: not yet */
    unsigned pending, in_progress, succeeded, failed, skipped; /* deploymentOverview */
    char *rollback_deployment_id; /* the automatic rollback it started; NULL: none */
};

/* Reads deployment_id into *out (zeroed first). Returns 0, CD_ENODEPLOYMENT, CD_EIO or
 * CD_ENOTIMPL. */
int cd_get_deployment(store *st, const char *account, const char *region, const char *deployment_id,
                      struct cd_deployment *out);
/* Frees what cd_get_deployment put in d (not d itself); safe on a zeroed struct. */
void cd_deployment_free(struct cd_deployment *d);

/* One lifecycle event of a deployment target, as InstanceTarget.lifecycleEvents has it. */
struct cd_target_event {
    char *name;                  /* "ApplicationStop", "DownloadBundle", ... */
    char *status;                /* "Pending", "InProgress", "Succeeded", "Failed", "Skipped" */
    double start_time, end_time; /* epoch seconds; 0: not yet */
    char *message;               /* diagnostics.message; NULL: none */
};
/* One target (an instance) of a deployment, as GetDeploymentTarget's instanceTarget. */
struct cd_target {
    char *id;     /* the instance id */
    char *arn;    /* the instance ARN */
    char *type;   /* "EC2" or "OnPremises" */
    char *status; /* "Pending", "InProgress", "Succeeded", "Failed", "Skipped", ... */
    double last_updated_at;
    size_t n_events;
    struct cd_target_event *events;
};
/* Reads every target of deployment_id, as ListDeploymentTargets with BatchGetDeploymentTargets
 * would, in instance id order. *out is a malloc'd array of *n targets (NULL when none), owned by
 * the caller: release with cd_targets_free. Returns 0, CD_ENODEPLOYMENT, CD_EINVAL or CD_EIO. */
int cd_list_deployment_targets(store *st, const char *account, const char *region,
                               const char *deployment_id, struct cd_target **out, size_t *n);
/* Frees the n targets of t (from cd_list_deployment_targets) and t itself; safe on NULL. */
void cd_targets_free(struct cd_target *t, size_t n);

/* ---- Completion ---- */

/* A deployment reached a final status. Valid only during the call. */
struct cd_deployment_done {
    const char *account;
    const char *region;
    const char *application;
    const char *deployment_group;
    const char *deployment_id;
    enum cd_status status; /* Succeeded, Failed or Stopped */
};
/* Called once per deployment end, on the CodeDeploy worker thread that ran it (or, for one that a
 * restart interrupted, on the thread running codedeploy's start), after the final state is
 * committed and with no transaction held. Keep it short: record or enqueue the follow-up work
 * (rt_queue_add). It may call cd_get_deployment. Notifications are not durable: a listener's
 * owner reads cd_get_deployment for the deployments it waits on at its start. */
typedef void (*cd_deployment_listener)(void *ctx, const struct cd_deployment_done *ev);
/* Registers fn with ctx. Returns a handle (> 0) for cd_remove_deployment_listener, or RT_EFULL. */
int cd_add_deployment_listener(cd_deployment_listener fn, void *ctx);
/* Unregisters the listener of handle. Returns 0 or RT_ENOITEM. */
int cd_remove_deployment_listener(int handle);

#endif
