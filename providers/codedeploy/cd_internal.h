/* Internals shared by the codedeploy provider's files: record keys, JSON records, paging, the
 * operation list and the deployment agent. */
#ifndef CD_CD_INTERNAL_H
#define CD_CD_INTERNAL_H

#include <stddef.h>

#include "persistence/store.h"
#include "protocol/request.h"

struct rt_queue;

struct json_object;

#define CD_KEY_MAX 1024

/* Record kinds, each a key prefix "<account>/<region>/<kind>/..." in one of the two databases.
 * Names are joined with CD_SEP, a byte every name check refuses, so prefixes never collide. */
#define CD_SEP       "\x1f"
#define CD_K_APP     "app"    /* STORE_DB_CD_APPLICATIONS: app/<name> -> ApplicationInfo */
#define CD_K_REV     "rev"    /* rev/<app>\x1f<revision id> -> {revisionLocation, ...Info} */
#define CD_K_CONFIG  "cfg"    /* cfg/<name> -> DeploymentConfigInfo */
#define CD_K_GROUP   "dg"     /* dg/<app>\x1f<group> -> DeploymentGroupInfo */
#define CD_K_ONPREM  "onprem" /* onprem/<name> -> InstanceInfo */
#define CD_K_TAGS    "tags"   /* tags/<arn> -> [ {Key, Value} ] */
#define CD_K_DEPLOY  "d"      /* STORE_DB_CD_DEPLOYMENTS: d/<id> -> DeploymentInfo (+ "_" keys) */
#define CD_K_TARGET  "t"      /* t/<id>\x1f<instance> -> InstanceTarget */
#define CD_K_IDEM    "idem"   /* idem/<idempotency key> -> deployment id (bytes) */
#define CD_MAX_BATCH 100

/* Builds "<account>/<region>/<kind>/<a>[\x1f<b>]" into buf (CD_KEY_MAX). Returns its length, or
 * -1 when it does not fit. */
int cd_key(char *buf, const char *account, const char *region, const char *kind, const char *a,
           const char *b);
/* Reads the JSON record at key; *out is a new reference (caller puts). Returns 0,
 * STORE_NOTFOUND or STORE_ERROR. */
int cd_rec_get(store_txn *t, enum store_db db, const char *key, int klen, struct json_object **out);
/* Writes rec at key. Returns 0, STORE_FULL or STORE_ERROR. */
int cd_rec_put(store_txn *t, enum store_db db, const char *key, int klen, struct json_object *rec);
/* Calls fn for every record whose key starts with prefix, in key order, until fn returns
 * non-zero (which is returned). rec is borrowed (valid during the call). Returns 0, fn's value,
 * or STORE_ERROR. */
int cd_rec_each(store_txn *t, enum store_db db, const char *prefix, int plen,
                int (*fn)(void *ctx, const char *key, size_t klen, struct json_object *rec),
                void *ctx);

/* Shortcuts on the request's caller. */
#define CD_ACCT(req)   ((req)->caller.account_id)
#define CD_REGION(req) ((req)->caller.region)

/* Returns the string member key of o, or NULL when absent or not a string. */
const char *cd_str(struct json_object *o, const char *key);
/* Returns the boolean member key of o (0 when absent). */
int cd_bool(struct json_object *o, const char *key);
/* Returns a json double printed with millisecond precision (new reference). */
struct json_object *cd_time(double t);
/* Returns 1 when name is usable in a key (no CD_SEP or other control byte). */
int cd_name_ok(const char *name);

/* Checks a required name member: absent or empty gives required_err, a name with control bytes
 * or longer than 100 gives invalid_err. Returns 0 with *out, or a negative proto_err on req. */
int cd_need_name(struct proto_req *req, const char *member, enum proto_err required_err,
                 enum proto_err invalid_err, const char *what, const char **out);

/* Paging: an opaque token for an offset. */
char *cd_token(proto_arena *a, size_t offset);
/* Returns the offset of token (0 for NULL), or -1 when it is not ours. */
long cd_token_parse(const char *token);

/* Loads the application name of the caller into *app (new reference, may be NULL). Returns 0 or
 * ApplicationDoesNotExistException on req. */
int cd_app_load(struct proto_req *req, store_txn *t, const char *name, struct json_object **app);

/* ARNs. */
char *cd_arn_app(proto_arena *a, const char *account, const char *region, const char *app);
char *cd_arn_group(proto_arena *a, const char *account, const char *region, const char *app,
                   const char *group);
char *cd_arn_config(proto_arena *a, const char *account, const char *region, const char *name);
/* Deletes the tags of arn in t (absent is fine). */
void cd_tags_delete(store_txn *t, const char *account, const char *region, const char *arn);
/* Writes tags (a json array of {Key, Value}, borrowed) for arn in t. Returns 0 or STORE_*. */
int cd_tags_put(store_txn *t, const char *account, const char *region, const char *arn,
                struct json_object *tags);

/* Deployment configs: fills a borrowed-by-caller DeploymentConfigInfo for name (built-in or
 * stored; *out new reference). Returns 0 or STORE_NOTFOUND / STORE_ERROR. */
int cd_config_lookup(store_txn *t, const char *account, const char *region, const char *name,
                     struct json_object **out);

/* Loads deployment group (app, group) of the caller; *out new reference. Returns 0 or
 * DeploymentGroupDoesNotExistException (or InternalFailure) on req. */
int cd_group_load(struct proto_req *req, store_txn *t, const char *app, const char *group,
                  struct json_object **out);
/* Returns 1 when tags ([{Key, Value}]) match the filters (any of them) or, when filters is empty,
 * every tag group of set's set_member list (any filter of each). */
int cd_tags_match(struct json_object *filters, struct json_object *set, const char *set_member,
                  struct json_object *tags);
/* The instances group deploys to, in order: [{"id", "arn", "type": "EC2"|"OnPremises"}] (*out new
 * reference). Returns 0 or STORE_ERROR. */
int cd_group_instances(store_txn *t, const char *account, const char *region,
                       struct json_object *group, struct json_object **out);
/* Records revision rev of app as registered (description) or used by deployment group used, in
 * t. Returns 0 or a negative proto_err on req (InvalidRevisionException, ...). */
int cd_revision_note(struct proto_req *req, store_txn *t, const char *app, struct json_object *rev,
                     const char *description, const char *used);

/* ---- Deployments (deployments.c) ---- */

/* Returns a copy of rec without its private "_" members (new reference). */
struct json_object *cd_public(struct json_object *rec);
/* Reads / writes deployment id (the DeploymentInfo with private "_" members). 0 or STORE_*. */
int cd_deployment_load(store_txn *t, const char *account, const char *region, const char *id,
                       struct json_object **out);
int cd_deployment_save(store_txn *t, const char *account, const char *region,
                       struct json_object *rec);
/* Writes a deployment's InstanceTarget record. 0 or STORE_*. */
int cd_target_save(store_txn *t, const char *account, const char *region, const char *id,
                   struct json_object *target);
/* Builds the key naming the active deployment of a group. Returns its length or -1. */
int cd_active_key(char *key, const char *account, const char *region, const char *app,
                  const char *group);
/* Creates a deployment from req->input (CreateDeployment's members) by creator, recording
 * rollback_of as the deployment it rolls back (NULL: none), and starts it. Writes its id.
 * Returns 0 or a negative proto_err on req. */
int cd_create(struct proto_req *req, const char *creator, const char *rollback_of, const char *idem,
              char id[16]);

/* ---- The deployment agent (agent.c) ---- */

/* Ends deployment id, found unfinished with no worker running it, as Stopped (when a stop was
 * asked) or Failed with message; its running targets end Failed and its pending ones Skipped.
 * Idempotent. */
void cd_agent_settle(store *st, const char *account, const char *region, const char *id,
                     const char *message);

#define CD_QUEUE_KIND "codedeploy.deployment"

/* Registers the deployment workers on queue q over st (codedeploy's start), which settles the
 * deployments a restart interrupted; sandbox 1 runs hooks under bubblewrap (--build-sandbox).
 * Returns 0 or -1 with a reason in err. */
int cd_agent_register(store *st, struct rt_queue *q, int sandbox, char *err, size_t errlen);
/* Forgets the queue (codedeploy's stop, after the queue stopped). */
void cd_agent_unregister(void);
/* Queues deployment id in t, the write txn that records it. Returns 0 or -1 (no queue). */
int cd_agent_enqueue_in(store_txn *t, const char *account, const char *region, const char *id);
/* Hands the committed deployment id to the workers. */
void cd_agent_kick(const char *id);
/* Asks deployment id to stop (its hook is killed). Returns 1 when a worker has it, 0 when none
 * has (the caller settles it with cd_agent_settle). */
int cd_agent_stop(store *st, const char *account, const char *region, const char *id);
/* Directory of the simulated instance (created on demand) into buf. Returns 0 or -1. */
int cd_instance_root(store *st, const char *account, const char *region, const char *instance,
                     char *buf, size_t cap);

/* The operations: X(AWS name, handler). */
#define CD_OPERATIONS(X)                                                                           \
    X("AddTagsToOnPremisesInstances", cd_op_add_tags_onprem)                                       \
    X("BatchGetApplicationRevisions", cd_op_batch_get_revisions)                                   \
    X("BatchGetApplications", cd_op_batch_get_applications)                                        \
    X("BatchGetDeploymentGroups", cd_op_batch_get_groups)                                          \
    X("BatchGetDeploymentInstances", cd_op_batch_get_deployment_instances)                         \
    X("BatchGetDeploymentTargets", cd_op_batch_get_deployment_targets)                             \
    X("BatchGetDeployments", cd_op_batch_get_deployments)                                          \
    X("BatchGetOnPremisesInstances", cd_op_batch_get_onprem)                                       \
    X("CreateApplication", cd_op_create_application)                                               \
    X("CreateDeployment", cd_op_create_deployment)                                                 \
    X("CreateDeploymentConfig", cd_op_create_config)                                               \
    X("CreateDeploymentGroup", cd_op_create_group)                                                 \
    X("DeleteApplication", cd_op_delete_application)                                               \
    X("DeleteDeploymentConfig", cd_op_delete_config)                                               \
    X("DeleteDeploymentGroup", cd_op_delete_group)                                                 \
    X("DeregisterOnPremisesInstance", cd_op_deregister_onprem)                                     \
    X("GetApplication", cd_op_get_application)                                                     \
    X("GetApplicationRevision", cd_op_get_revision)                                                \
    X("GetDeployment", cd_op_get_deployment)                                                       \
    X("GetDeploymentConfig", cd_op_get_config)                                                     \
    X("GetDeploymentGroup", cd_op_get_group)                                                       \
    X("GetDeploymentInstance", cd_op_get_deployment_instance)                                      \
    X("GetDeploymentTarget", cd_op_get_deployment_target)                                          \
    X("GetOnPremisesInstance", cd_op_get_onprem)                                                   \
    X("ListApplicationRevisions", cd_op_list_revisions)                                            \
    X("ListApplications", cd_op_list_applications)                                                 \
    X("ListDeploymentConfigs", cd_op_list_configs)                                                 \
    X("ListDeploymentGroups", cd_op_list_groups)                                                   \
    X("ListDeploymentInstances", cd_op_list_deployment_instances)                                  \
    X("ListDeploymentTargets", cd_op_list_deployment_targets)                                      \
    X("ListDeployments", cd_op_list_deployments)                                                   \
    X("ListOnPremisesInstances", cd_op_list_onprem)                                                \
    X("ListTagsForResource", cd_op_list_tags_for_resource)                                         \
    X("RegisterApplicationRevision", cd_op_register_revision)                                      \
    X("RegisterOnPremisesInstance", cd_op_register_onprem)                                         \
    X("RemoveTagsFromOnPremisesInstances", cd_op_remove_tags_onprem)                               \
    X("StopDeployment", cd_op_stop_deployment)                                                     \
    X("TagResource", cd_op_tag_resource)                                                           \
    X("UntagResource", cd_op_untag_resource)                                                       \
    X("UpdateApplication", cd_op_update_application)                                               \
    X("UpdateDeploymentGroup", cd_op_update_group)

/* Each handler: returns 0 or a negative proto_err set on req; output owned by req. */
#define CD_DECLARE_OP(name, fn) int fn(struct proto_req *req);
CD_OPERATIONS(CD_DECLARE_OP)
#undef CD_DECLARE_OP

#endif
