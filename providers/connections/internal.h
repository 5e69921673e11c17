/* Internals shared by the connections provider's files. */
#ifndef CONN_INTERNAL_H
#define CONN_INTERNAL_H

#include <git2.h>
#include <stddef.h>

#include "protocol/request.h"

#define CONN_KEY_MAX 256

/* Splits a connection ARN of either service ("arn:aws:codestar-connections:<region>:<account>:
 * connection/<uuid>" or "arn:aws:codeconnections:...") into region, account and uuid (copied,
 * NUL-terminated). Returns 0, or -1 when arn is not a connection ARN. */
int conn_arn_parse(const char *arn, char region[64], char account[13], char uuid[64]);

/* A snapshot of a repository's branches and tags (malloc'd; free with conn_refs_free). */
struct conn_refs {
    size_t n, cap;
    char **names; /* "refs/heads/main", "refs/tags/v1" */
    git_oid *ids; /* the commits they point to (annotated tags peeled) */
};
/* Reads the branches and tags of the bare repository at dir. Returns 0 or -1. */
int conn_refs_read(const char *dir, struct conn_refs *r);
void conn_refs_free(struct conn_refs *r);
/* After a push into the bare repository dir of full ("owner/repo") of account: points an unborn
 * HEAD at main, else master, else the first branch (so clones check out what was pushed), and
 * reports every ref created, moved or deleted since before to the push listeners. */
void conn_push_settle(const char *account, const char *full, const char *dir,
                      const struct conn_refs *before);

/* The operations, shared by both services' tables: X(AWS name, handler). */
#define CONN_OPERATIONS(X)                                                                         \
    X("CreateConnection", conn_op_create_connection)                                               \
    X("DeleteConnection", conn_op_delete_connection)                                               \
    X("GetConnection", conn_op_get_connection)                                                     \
    X("ListConnections", conn_op_list_connections)                                                 \
    X("ListTagsForResource", conn_op_list_tags_for_resource)                                       \
    X("TagResource", conn_op_tag_resource)                                                         \
    X("UntagResource", conn_op_untag_resource)

/* Each handler: returns 0 or a negative proto_err set on req; output owned by req. */
#define CONN_DECLARE_OP(name, fn) int fn(struct proto_req *req);
CONN_OPERATIONS(CONN_DECLARE_OP)
#undef CONN_DECLARE_OP

#endif
