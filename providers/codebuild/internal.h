/* Declarations shared by the codebuild provider's files: handlers, record formats, helpers. */
#ifndef CB_INTERNAL_H
#define CB_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "persistence/store.h"
#include "protocol/request.h"
#include "providers/codebuild/codebuild.h"

struct json_object;

/* Handlers (one per operation of the table in service.c). */
int cb_op_create_project(struct proto_req *req);
int cb_op_update_project(struct proto_req *req);
int cb_op_batch_get_projects(struct proto_req *req);
int cb_op_list_projects(struct proto_req *req);
int cb_op_delete_project(struct proto_req *req);
int cb_op_start_build(struct proto_req *req);
int cb_op_batch_get_builds(struct proto_req *req);
int cb_op_list_builds(struct proto_req *req);
int cb_op_list_builds_for_project(struct proto_req *req);
int cb_op_stop_build(struct proto_req *req);
int cb_op_retry_build(struct proto_req *req);
int cb_op_batch_delete_builds(struct proto_req *req);
int cb_op_not_simulated(struct proto_req *req);
int cb_op_list_report_groups(struct proto_req *req);
int cb_op_batch_get_report_groups(struct proto_req *req);
int cb_op_list_reports(struct proto_req *req);
int cb_op_list_reports_for_report_group(struct proto_req *req);
int cb_op_batch_get_reports(struct proto_req *req);
int cb_op_describe_test_cases(struct proto_req *req);

/* A stored project (STORE_DB_CB_PROJECTS, key "<account>/<region>/<name>"): this header, then the
 * Project JSON exactly as BatchGetProjects returns it. Read with cb_proj_parse (LMDB values are
 * not aligned). */
#define CB_PROJ_MAGIC 0x31504243u /* "CBP1" */
struct cb_proj_hdr {
    uint32_t magic;
    uint32_t json_len;
    double created;
    double modified;
    uint64_t last_build_number; /* the buildNumber of the latest build started */
};

/* Copies the header of a stored project into *h and points *json at its Project JSON (h->json_len
 * bytes inside val). Returns 0, or -1 when val is not a project record. */
int cb_proj_parse(const void *val, size_t vlen, struct cb_proj_hdr *h, const char **json);
/* Builds a record from h and the Project JSON o into a malloc'ed buffer (caller frees); sets
 * h->json_len and *len. */
char *cb_proj_make(struct cb_proj_hdr *h, struct json_object *o, size_t *len);
/* Reads project name of account/region in t: returns 0 with *h and *project (a new json-c
 * reference the caller puts; project may be NULL to skip the parse), STORE_NOTFOUND or
 * STORE_ERROR. */
int cb_project_read(store_txn *t, const char *account, const char *region, const char *name,
                    struct cb_proj_hdr *h, struct json_object **project);

/* Returns the project name of a name or project ARN of account/region (arena-owned), or NULL
 * when arn names another account, region or resource type. */
const char *cb_project_name_of(proto_arena *a, const char *account, const char *region,
                               const char *name_or_arn);

/* Calls every build listener with ev (see cb_build_listener for when). */
void cb_notify_build_done(const struct cb_build_done *ev);

/* Returns the status named s ("SUCCEEDED", ...); unknown names are CB_STATUS_FAULT. */
enum cb_status cb_status_parse(const char *s);

/* Maps a store return code to the request's error (InternalFailure) and returns it. */
int cb_store_error(struct proto_req *req, int rc);

/* Returns a json-c double that serialises with milliseconds ("1795696645.617"). */
struct json_object *cb_json_time(double t);

/* Serialises o (compact, no slash escaping) into a malloc'ed string the caller frees. */
char *cb_json_dup(struct json_object *o, size_t *len);

/* Parses len bytes of JSON; returns a new reference or NULL. */
struct json_object *cb_json_parse(const char *s, size_t len);

/* Returns the string member key of o, or NULL when absent or not a string. */
const char *cb_json_str(struct json_object *o, const char *key);

/* Returns how many seconds count as one minute of CodeBuild's limits (timeouts, the idempotency
 * token's life): 60, or fewer when CPL_CODEBUILD_SECONDS_PER_MINUTE says so, so that tests can
 * reach a timeout of 5 "minutes" in 5 s. It never lengthens a limit. */
double cb_minute_seconds(void);

/* Answers a BatchGet: for each string of the input list member `input`, find either points *json
 * at the stored JSON to return (*len bytes, valid until t ends) and returns 0, or returns non-zero;
 * the body becomes {"<output>":[found...],"<output>NotFound":[given...]} in input order. Returns 0
 * or the request's error. One loop for the four BatchGet operations, whose records differ. */
int cb_batch_get(struct proto_req *req, const char *input, const char *output,
                 int (*find)(struct proto_req *req, store_txn *t, const char *given,
                             const char **json, size_t *len));

/* Opaque pagination tokens: encodes s into the arena; decodes one back (NULL when not ours). */
char *cb_token_encode(proto_arena *a, const char *s);
char *cb_token_decode(proto_arena *a, const char *token);
/* Reads the request's nextToken into *offset (0 when there is none). Returns 0, or
 * InvalidInputException "Invalid next token" when the token is not one this provider gave. */
int cb_page_offset(struct proto_req *req, size_t *offset);
/* Answers one page of a List operation: {"<member>":[names...],"nextToken":...} with at most
 * page names from offset of the n sorted entries (each size bytes, whose first member is its
 * char * name), taken from the end when reverse; nextToken only when more follow. */
void cb_answer_page(struct proto_req *req, const char *member, const void *entries, size_t size,
                    size_t n, size_t offset, size_t page, int reverse);

#endif
