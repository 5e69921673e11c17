/* Shared internals of the codepipeline provider: handlers, the pipeline record format, helpers. */
#ifndef CP_INTERNAL_H
#define CP_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "persistence/store.h"
#include "protocol/request.h"

struct json_object;

/* Handlers (one per operation of the table in service.c). */
int cp_op_create_pipeline(struct proto_req *req);
int cp_op_get_pipeline(struct proto_req *req);
int cp_op_update_pipeline(struct proto_req *req);
int cp_op_delete_pipeline(struct proto_req *req);
int cp_op_list_pipelines(struct proto_req *req);
int cp_op_tag_resource(struct proto_req *req);
int cp_op_untag_resource(struct proto_req *req);
int cp_op_list_tags_for_resource(struct proto_req *req);
int cp_op_list_action_types(struct proto_req *req);
int cp_op_get_action_type(struct proto_req *req);
int cp_op_create_custom_action_type(struct proto_req *req);
int cp_op_delete_custom_action_type(struct proto_req *req);
int cp_op_update_action_type(struct proto_req *req);
int cp_op_put_webhook(struct proto_req *req);
int cp_op_list_webhooks(struct proto_req *req);
int cp_op_delete_webhook(struct proto_req *req);
int cp_op_register_webhook(struct proto_req *req);
int cp_op_deregister_webhook(struct proto_req *req);
int cp_op_start_pipeline_execution(struct proto_req *req);
int cp_op_get_pipeline_state(struct proto_req *req);
int cp_op_get_pipeline_execution(struct proto_req *req);
int cp_op_list_pipeline_executions(struct proto_req *req);
int cp_op_list_action_executions(struct proto_req *req);
/* ListDeployActionExecutionTargets (deploy_targets.c). */
int cp_op_list_deploy_action_execution_targets(struct proto_req *req);
int cp_op_put_approval_result(struct proto_req *req);
int cp_op_poll_for_jobs(struct proto_req *req);
int cp_op_acknowledge_job(struct proto_req *req);
int cp_op_get_job_details(struct proto_req *req);
int cp_op_put_job_success_result(struct proto_req *req);
int cp_op_put_job_failure_result(struct proto_req *req);
int cp_op_put_action_revision(struct proto_req *req);
int cp_op_stop_pipeline_execution(struct proto_req *req);
int cp_op_disable_stage_transition(struct proto_req *req);
int cp_op_enable_stage_transition(struct proto_req *req);
int cp_op_retry_stage_execution(struct proto_req *req);
int cp_op_rollback_stage(struct proto_req *req);
int cp_op_poll_for_third_party_jobs(struct proto_req *req);
int cp_op_acknowledge_third_party_job(struct proto_req *req);
int cp_op_get_third_party_job_details(struct proto_req *req);
int cp_op_put_third_party_job_success_result(struct proto_req *req);
int cp_op_put_third_party_job_failure_result(struct proto_req *req);
int cp_op_override_stage_condition(struct proto_req *req);
int cp_op_list_rule_executions(struct proto_req *req);
int cp_op_list_rule_types(struct proto_req *req);

/* Every execution of pipeline, newest first (at most a scan's worth). Returns a new array
 * (caller puts). */
struct json_object *cp_exec_all(store_txn *t, const char *account, const char *region,
                                const char *pipeline);

/* A stored pipeline (STORE_DB_CP_PIPELINES, and each version in STORE_DB_CP_PIPELINE_VERSIONS):
 * this header, then body_len bytes holding the whole GetPipeline response for that version,
 * {"pipeline":<normalised declaration>,"metadata":{...}}, so a read is one copy. The declaration
 * is decl_len bytes at decl_off within the body. Read it with cp_pipe_rec_parse (values in LMDB
 * are not aligned). */
#define CP_PIPE_REC_MAGIC 0x32505043u /* "CPP2" */
struct cp_pipe_hdr {
    uint32_t magic;
    uint32_t version;
    double created;
    double updated;
    uint32_t body_len;
    uint32_t decl_off;
    uint32_t decl_len;
    uint8_t type; /* enum cp_pipeline_type */
    uint8_t mode; /* enum cp_exec_mode */
    uint8_t pad[2];
};

enum cp_pipeline_type { CP_TYPE_V1 = 1, CP_TYPE_V2 = 2 };
enum cp_exec_mode { CP_MODE_SUPERSEDED = 0, CP_MODE_QUEUED = 1, CP_MODE_PARALLEL = 2 };

/* Copies the header of a stored record into *h and points *decl at its declaration JSON
 * (h->decl_len bytes inside val). Returns 0, or -1 when val is not a pipeline record. */
int cp_pipe_rec_parse(const void *val, size_t vlen, struct cp_pipe_hdr *h, const char **decl);
/* Returns the GetPipeline body of a record that cp_pipe_rec_parse accepted (h->body_len bytes). */
const char *cp_pipe_rec_body(const void *val);
/* Returns "V1"/"V2" and "SUPERSEDED"/"QUEUED"/"PARALLEL" (static strings). */
const char *cp_type_name(unsigned type);
const char *cp_mode_name(unsigned mode);

/* Builds the versions-DB key "<account>/<region>/<name>#<version as 10 digits>" into buf.
 * Returns its length or -1. version 0 gives the prefix "<account>/<region>/<name>#". */
int cp_version_key(char *buf, size_t buflen, const char *account, const char *region,
                   const char *name, uint32_t version);

/* Reads the current record of pipeline name in t. Returns 0 with *h and *decl (the declaration,
 * h->decl_len bytes, valid until the txn ends), STORE_NOTFOUND, or STORE_ERROR. */
int cp_pipeline_read(store_txn *t, const char *account, const char *region, const char *name,
                     struct cp_pipe_hdr *h, const char **decl);

/* Returns "http://<host the client reached>" (arena-owned), noting it for the engine, or NULL
 * when the request has no host. */
const char *cp_request_endpoint(struct proto_req *req);

/* Maps a store return code to the request's error (InternalFailure) and returns it. */
int cp_store_error(struct proto_req *req, int rc);

/* Appends a timestamp in epoch seconds with milliseconds ("1795696645.617"), without printf. */
void cp_sb_time(struct proto_sb *sb, double t);
/* Appends v in decimal. */
void cp_sb_uint(struct proto_sb *sb, uint64_t v);

/* Encodes s as an opaque pagination token into the arena; decodes one back (NULL when the token
 * is not one of ours). */
char *cp_token_encode(proto_arena *a, const char *s, size_t n);
char *cp_token_decode(proto_arena *a, const char *token);

/* Tags (tags.c). Tag lists are JSON arrays of {key,value}; the store keeps them per resource ARN.
 */
/* Validates a TagList from the input against the tags the resource has (existing, may be NULL):
 * returns 0 or the proto_error (InvalidTagsException for an "aws:" key or a duplicate,
 * TooManyTagsException when the merged set exceeds 50). */
int cp_tags_check(struct proto_req *req, struct json_object *tags, struct json_object *existing);
/* Stores tags for arn (merging into the existing ones) in t. Returns 0 or a store error code. */
int cp_tags_put(store_txn *t, const char *arn, struct json_object *tags);
/* Deletes every tag of arn in t. Returns 0 or STORE_ERROR. */
int cp_tags_delete_all(store_txn *t, const char *arn);
/* Returns the tags of arn as a new json-c array (caller puts), empty when none. */
struct json_object *cp_tags_get(store_txn *t, const char *arn);

/* ARNs (arena-owned). */
char *cp_pipeline_arn(proto_arena *a, const char *region, const char *account, const char *name);
char *cp_webhook_arn(proto_arena *a, const char *region, const char *account, const char *name);
char *cp_action_type_arn(proto_arena *a, const char *region, const char *account,
                         const char *category, const char *provider, const char *version);

/* Custom action types (action_types.c): returns the stored ActionType JSON (id, settings,
 * actionConfigurationProperties, inputArtifactDetails, outputArtifactDetails) of an active custom
 * action type of the caller as a new reference (caller puts), or NULL when there is none. */
struct json_object *cp_custom_action_get(store_txn *t, const char *account, const char *region,
                                         const char *category, const char *provider,
                                         const char *version);

/* Webhooks (webhooks.c). A webhook's URL is http://<public
 * host>/webhooks/<region>/<account>/<name>, fixed when it is first created. */
/* Returns the stored webhook as a new reference (caller puts): {"definition", "url", "arn",
 * "registered", and "lastTriggered" once fired}, or NULL when there is none. */
struct json_object *cp_webhook_load(store_txn *t, const char *account, const char *region,
                                    const char *name);
/* Returns 1 when a webhook named name exists for the caller, 0 otherwise. */
int cp_webhook_exists(store_txn *t, const char *account, const char *region, const char *name);
/* Records at (epoch seconds) as the lastTriggered of the webhook named name, in t (a write
 * txn). Returns 0, STORE_NOTFOUND when there is no such webhook, or a store error code. */
int cp_webhook_triggered(store_txn *t, const char *account, const char *region, const char *name,
                         double at);

/* Artifact buckets (artifact_buckets.c). Checks, through the in-process S3 and so outside any
 * transaction, that the bucket of artifactStore exists for account in region (the pipeline's) and
 * that the bucket of each artifactStores entry exists for account in that entry's region. decl is
 * a declaration that passed cp_structure_validate. Returns 0, or -1 with the error and AWS's
 * message in *e (InvalidStructureException; InternalFailure when the store fails). */
struct cp_structure_error;
int cp_artifact_buckets_check(store *st, const char *account, const char *region,
                              struct json_object *decl, struct cp_structure_error *e);

/* Serialises o (compact, no slash escaping) into a malloc'ed string the caller frees. */
char *cp_json_dup(struct json_object *o, size_t *len);
/* Copies a queue item's payload of n newline-separated fields into buf (cap bytes) and points
 * fields[0..n-1] into it (the last field takes the rest). Returns 0, or -1 when it is too long or
 * has fewer fields. */
int cp_payload_fields(char *buf, size_t cap, const void *payload, size_t len, char **fields, int n);

#endif
