/* The connections provider: CodeStar Connections / CodeConnections, and the Git host behind
 * them, with its in-process interface for the pipeline engine. */
#ifndef CONN_CONNECTIONS_H
#define CONN_CONNECTIONS_H

#include <stddef.h>

#include "persistence/store.h"
#include "protocol/service.h"
#include "providers/runtime/errors.h"

/* The two JSON services: the same connections, each created with its own service's ARN. */
extern const struct proto_service conn_codestar_service;
extern const struct proto_service conn_codeconnections_service;

/* Git smart HTTP at /_git/<owner>/<repo>.git: PROTO_RAW_HTTP, authenticated like CodeCommit's
 * git access; a push to a repository that does not exist creates it. */
extern const struct proto_service conn_git_service;

/* ---- The interface for the pipeline engine (in-process, no HTTP). ---- */

/* Return codes (the CONN_E_BASE range of providers/runtime/errors.h). */
#define CONN_ENOREPO (CONN_E_BASE - 1) /* no such repository for the account */
#define CONN_ENOREF  (CONN_E_BASE - 2) /* no such branch or tag */
#define CONN_EINVAL  (CONN_E_BASE - 3) /* a bad argument (repository id, ref or commit id) */
#define CONN_EIO     (CONN_E_BASE - 4) /* store or git failure */

/* Returns 1 when full_repo is "<owner>/<repo>" with each part 1..100 characters of
 * [A-Za-z0-9._-], neither starting with '.' (so never "." or ".."), else 0. */
int conn_repo_id_valid(const char *full_repo);

/* Writes the bare repository directory of full_repo ("owner/repo") of account into buf (it
 * may not exist yet). Returns 0, or CONN_EINVAL (a bad id, or buf too short). */
int conn_repo_dir(store *s, const char *account, const char *full_repo, char *buf, size_t buflen);

/* Returns 0 when connection_arn (either service's form) names a connection of account, CONN_ENOREPO
 * when it names none (or another account's, or is not a connection ARN), or CONN_EIO. */
int conn_connection_exists(store *s, const char *account, const char *connection_arn);

/* Writes the commit id (40 hex + NUL) of refs/heads/<branch> into commit_id. Returns 0,
 * CONN_ENOREPO, CONN_ENOREF, CONN_EINVAL or CONN_EIO. */
int conn_branch_head(store *s, const char *account, const char *full_repo, const char *branch,
                     char commit_id[41]);

/* The tags of full_repo as a malloc'd array of malloc'd names (sorted) in *names and their
 * count in *n; free with conn_names_free. Returns 0, CONN_ENOREPO or CONN_EIO. */
int conn_tag_list(store *s, const char *account, const char *full_repo, char ***names, size_t *n);
/* Frees what conn_tag_list returned. */
void conn_names_free(char **names, size_t n);

/* The variables a CodeStarSourceConnection source action exports. Strings are malloc'd; free
 * with conn_source_vars_free. AuthorDate is ISO 8601 UTC ("2026-11-26T12:00:00Z"). */
struct conn_source_vars {
    char commit_id[41];
    char *commit_message;
    char author_date[32];
    char *branch_name;
    char *full_repository_name;
    char *connection_arn;
    char *author_display_name;
    char *author_email;
    char *author_id; /* the author's name: the local host has no user ids */
};
/* Fills vars for commit_id of full_repo (branch and connection_arn copied as given). Returns 0,
 * CONN_ENOREPO, CONN_EINVAL (no such commit) or CONN_EIO. */
int conn_source_vars_get(store *s, const char *account, const char *full_repo, const char *branch,
                         const char *connection_arn, const char *commit_id,
                         struct conn_source_vars *vars);
/* Frees the strings of vars (not vars itself); safe on a zeroed struct. */
void conn_source_vars_free(struct conn_source_vars *vars);

/* Writes commit_id's tree of full_repo as a CODE_ZIP zip into a new blob of the store (the same
 * zip as a CodeCommit source); *out is the uncommitted writer the caller commits or discards.
 * Returns 0, or -1 with a one-line reason in err. */
int conn_export_zip(store *s, const char *account, const char *full_repo, const char *commit_id,
                    store_blob_writer **out, char *err, size_t errlen);

/* A push moved one ref: created (old_id NULL), moved, or deleted (new_id NULL). Ids are the
 * 40-hex commits the refs point to (annotated tags peeled). paths: the files that differ
 * between old and new (for a created ref, the files its commit changed against its first
 * parent, or all files of a root commit); none for a deletion. */
struct conn_push_event {
    const char *account;
    const char *full_repo; /* "owner/repo" */
    int is_tag;            /* refs/tags/<name>, else refs/heads/<name> */
    const char *name;      /* branch or tag name */
    const char *old_id;
    const char *new_id;
    const char *const *paths;
    size_t n_paths;
};
/* Called on the thread that served the push, after git wrote the refs. Must not block for long
 * nor push. */
typedef void (*conn_push_listener)(void *ctx, const struct conn_push_event *ev);
/* Registers fn with ctx. Returns a handle (> 0) for conn_remove_push_listener, or RT_EFULL. */
int conn_add_push_listener(conn_push_listener fn, void *ctx);
/* Unregisters the listener of handle. Returns 0 or RT_ENOITEM. */
int conn_remove_push_listener(int handle);

#endif
