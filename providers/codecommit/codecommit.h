/* The codecommit provider's interface to the server and to the other providers. */
#ifndef CC_CODECOMMIT_H
#define CC_CODECOMMIT_H

#include <stdint.h>

#include "persistence/store.h"
#include "protocol/service.h"
#include "providers/runtime/errors.h"

/* The codecommit service: its JSON 1.1 operation table and model. */
extern const struct proto_service cc_service;

/* Git smart HTTP at /v1/repos/<name>: PROTO_RAW_HTTP, authenticated by the handler (HTTP basic
 * auth with the access key id and either its secret or the password of
 * `aws codecommit credential-helper`), served by git http-backend. */
extern const struct proto_service cc_git_service;

/* ---- Git smart HTTP, shared with the connections' Git host (providers/connections/). ---- */

/* One git request between rest_begin and rest_dispatch. Keep it in the arena; the body sink
 * that cc_git_http_begin installs takes req->sink_state as this struct, so a caller's own
 * state must start with it. */
struct cc_git_http {
    int denied;  /* the answer is already set (401/403/404/413/500) */
    int body_fd; /* the request body, or -1 */
    uint64_t body_len;
    const char *rest; /* "/info/refs", "/git-upload-pack", "/git-receive-pack" */
    int receive_pack; /* POST git-receive-pack: the request that moves refs */
    int push;         /* receive_pack, or its info/refs advertisement */
    int by_secret;    /* authenticated with the secret itself (no region named) */
    const char *access_key;
};
/* Starts a request whose path continues with rest (after the repository part): accepts only
 * git's smart HTTP (info/refs?service=, git-upload-pack, git-receive-pack) and installs the
 * body sink. Returns 0, or -1 with a 404 answer set (g->denied). */
int cc_git_http_begin(struct proto_req *req, struct cc_git_http *g, const char *rest);
/* Checks HTTP basic auth as CodeCommit does: the access key with its secret, or with the
 * password `aws codecommit credential-helper` signs over signed_path ("/v1/repos/demo"). Sets
 * req->caller (access key, account, region). Returns 0, or -1 with a 401/403 answer set. */
int cc_git_http_auth(struct proto_req *req, struct cc_git_http *g, const char *signed_path);
/* For a POST: opens the temp file the body is sunk into. Returns 0, or -1 with a 500 set. */
int cc_git_http_open_body(struct proto_req *req, struct cc_git_http *g);
/* Sets a plain-text answer of status and marks g denied. */
void cc_git_http_deny(struct proto_req *req, struct cc_git_http *g, int status, const char *msg);
/* Runs git http-backend through the process runner for the repository at
 * project_root + path_info ("/<dir>.git"), then ran(ctx) when it ran (refs may have moved),
 * and sets the answer from its output (or a plain error). Closes the body. Returns 0. */
int cc_git_http_serve(struct proto_req *req, struct cc_git_http *g, const char *project_root,
                      const char *path_info, void (*ran)(void *ctx), void *ctx);
/* Closes g's body file; safe twice. */
void cc_git_http_end(struct cc_git_http *g);

/* ---- The interface for the pipeline engine (in-process, no HTTP). ---- */

/* Return codes of the functions below that document them (the CC_E_BASE range of errors.h). */
#define CC_ENOREPO   (CC_E_BASE - 1) /* no such repository in (account, region) */
#define CC_ENOBRANCH (CC_E_BASE - 2) /* no such branch */
#define CC_EINVAL    (CC_E_BASE - 3) /* bad argument (an invalid branch name) */
#define CC_EIO       (CC_E_BASE - 4) /* store, git or memory failure */
#define CC_ENOCOMMIT (CC_E_BASE - 5) /* no such commit (or branch, tag) in the repository */
#define CC_ERANGE    (CC_E_BASE - 6) /* the caller's buffer is too short */

/* Writes the commit id (40 hex + NUL) of refs/heads/<branch> of repository repo in
 * (account, region) into commit_id. Returns 0, CC_ENOREPO, CC_ENOBRANCH, CC_EINVAL (a branch
 * name git refuses) or CC_EIO. */
int cc_branch_head(store *s, const char *account, const char *region, const char *repo,
                   const char *branch, char commit_id[41]);

/* The variables a CodeCommit source action exports. Strings are malloc'd; free with
 * cc_source_vars_free. Dates are ISO 8601 UTC ("2026-11-26T12:00:00Z"). */
struct cc_source_vars {
    char commit_id[41];
    char *commit_message;
    char author_date[32];
    char committer_date[32];
    char *branch_name;
    char *repository_name;
};
/* Fills vars for commit_id of repo (branch is copied as given). Returns 0, CC_EINVAL (not a
 * full commit id), CC_ENOREPO, CC_ENOCOMMIT or CC_EIO; vars is zeroed on failure. */
int cc_source_vars_get(store *s, const char *account, const char *region, const char *repo,
                       const char *branch, const char *commit_id, struct cc_source_vars *vars);
/* Frees the strings of vars (not vars itself); safe on a zeroed struct. */
void cc_source_vars_free(struct cc_source_vars *vars);

/* Writes commit_id's tree of repo as a zip (CODE_ZIP: paths relative to the root, unix modes
 * kept, symlinks as symlinks) into a new blob of the store; *out is the uncommitted writer,
 * which the caller commits into its own transaction with store_blob_commit (or discards).
 * Returns 0, or CC_EINVAL (not a full commit id), CC_ENOREPO, CC_ENOCOMMIT or CC_EIO, with a
 * one-line reason in err. */
int cc_export_zip(store *s, const char *account, const char *region, const char *repo,
                  const char *commit_id, store_blob_writer **out, char *err, size_t errlen);

/* cc_export_zip for the bare repository at git_dir (shared with the connections' Git host).
 * Returns 0, or CC_EINVAL, CC_ENOREPO (no repository at git_dir), CC_ENOCOMMIT or CC_EIO, with a
 * one-line reason in err. */
int cc_git_export_zip(store *s, const char *git_dir, const char *commit_id, store_blob_writer **out,
                      char *err, size_t errlen);

/* Writes the tree of commit (a full commit id, or a branch name) of repo into dir (created if
 * missing; files, executables and symlinks as in the commit; submodules left empty) and its
 * commit id into commit_id when not NULL. Returns 0, or CC_ENOREPO, CC_ENOCOMMIT (also for a
 * name that is no valid branch or id) or CC_EIO, with a one-line reason in err. */
int cc_checkout(store *s, const char *account, const char *region, const char *repo,
                const char *commit, const char *dir, char commit_id[41], char *err, size_t errlen);

/* Writes the path of repo's bare git repository into buf (for `git clone` of a full clone,
 * CODEBUILD_CLONE_REF). Returns 0, CC_ENOREPO, CC_EIO or CC_ERANGE (buf is too short). */
int cc_repo_git_dir(store *s, const char *account, const char *region, const char *repo, char *buf,
                    size_t buflen);

/* A branch head moved: created (old_id NULL), moved, or deleted (new_id NULL). Ids are 40 hex. */
struct cc_head_event {
    const char *account;
    const char *region;
    const char *repository;
    const char *branch;
    const char *old_id;
    const char *new_id;
};
/* Called on the thread that moved the head (an API request or the end of a push), after the
 * move is durable. Must not block for long; must not call back into codecommit writes. */
typedef void (*cc_head_listener)(void *ctx, const struct cc_head_event *ev);
/* Registers fn with ctx (up to RT_LISTENERS_MAX listeners), from a provider's start or any
 * thread. Returns a handle (> 0) for cc_remove_head_listener, or RT_EFULL. */
int cc_add_head_listener(cc_head_listener fn, void *ctx);
/* Unregisters the listener of handle (see rt_listeners_remove for a call in flight). Returns 0
 * or RT_ENOITEM. */
int cc_remove_head_listener(int handle);

#endif
