/* Internals shared by the codecommit provider's files: repository records, git helpers, paths. */
#ifndef CC_INTERNAL_H
#define CC_INTERNAL_H

#include <git2.h>
#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

#include "persistence/store.h"
#include "protocol/request.h"

struct json_object;

#define CC_MAX_FILE_SIZE    (6 * 1024 * 1024) /* one file's content (PutFile, CreateCommit) */
#define CC_MAX_COMMIT_SIZE  (7 * 1024 * 1024) /* combined content of one CreateCommit */
#define CC_MAX_PATH_LEN     4096
#define CC_MAX_FILE_ENTRIES 100
#define CC_MAX_TAGS         50
#define CC_MAX_NAME_LEN     1024
/* "Commit messages are limited to 256 KB" (API_CreateCommit). */
#define CC_MAX_MESSAGE_LEN (256 * 1024)

/* A repository's record, as loaded from LMDB, with its bare git repository once opened. */
struct cc_repo {
    char account[13];
    char region[64];
    char name[128];
    char id[40];
    char default_branch[256]; /* "" until the first branch exists */
    char path[PATH_MAX];      /* the bare repository's directory */
    git_repository *git;      /* NULL until cc_repo_open */
};

/* Makes sure libgit2 is initialised (idempotent, thread-safe). */
void cc_git_init(void);

/* Serialises the provider's writes to repository records (create, rename, delete, settings). */
void cc_write_lock(void);
void cc_write_unlock(void);
/* Serialises the moves of one repository's branches (API commits, branch operations, pushes),
 * so that a push's before/after comparison sees only its own moves. id: the repositoryId. */
void cc_repo_lock(const char *id);
void cc_repo_unlock(const char *id);

/* Writes the bare repository directory of repository id into buf. Returns 0, or -1 if too long. */
int cc_repo_dir(store *s, const char *account, const char *region, const char *id, char *buf,
                size_t buflen);
/* Loads repository name of (account, region) into out (git not opened). Returns 0,
 * STORE_NOTFOUND or STORE_ERROR. */
int cc_repo_lookup(store *s, const char *account, const char *region, const char *name,
                   struct cc_repo *out);
/* Loads the caller's repository name and opens its git repository. Returns 0 or a negative
 * proto_err set on req (RepositoryDoesNotExistException). Close with cc_repo_close. */
int cc_repo_open(struct proto_req *req, const char *name, struct cc_repo *out);
/* Frees the git handle of r; safe on a zeroed or closed repo. */
void cc_repo_close(struct cc_repo *r);
/* Records that branch became the first branch of r when it has no default branch yet (then,
 * once the record is stored, pointing the bare repository's HEAD at it), and bumps
 * lastModifiedDate. Returns 0 or -1. */
int cc_repo_note_branch(store *s, struct cc_repo *r, const char *branch);
#define CC_DEL_OK            0
#define CC_DEL_NO_BRANCH     1 /* no such branch: nothing deleted */
#define CC_DEL_DEFAULT       2 /* the stored default branch: not deleted */
#define CC_DEL_NO_REPOSITORY 3 /* r was deleted or renamed since it was opened */
#define CC_DEL_ERROR         (-1)
/* Deletes refs/heads/<branch> of r (opened; caller holds cc_repo_lock) inside a write
 * transaction on r's record, checking the default branch as stored in it; bumps
 * lastModifiedDate. *old gets the deleted head. Returns a CC_DEL_ value. */
int cc_repo_delete_branch(store *s, struct cc_repo *r, const char *branch, git_oid *old);

/* Moves refs/heads/<branch> of r to new_id. expected: the old head it must still have
 * (NULL: must not exist; when allow_any, no check). Calls the head listeners. Returns 0,
 * 1 when the branch moved meanwhile, or -1 on error. */
int cc_branch_move(store *s, struct cc_repo *r, const char *branch, const git_oid *new_id,
                   const git_oid *expected, int allow_any, const char *log_message);
/* Calls every head listener for one branch move (old NULL: created; new NULL: deleted). */
void cc_notify_head(const char *account, const char *region, const char *repo, const char *branch,
                    const git_oid *old_id, const git_oid *new_id);

/* A snapshot of the branch heads of a repository, sorted by name (malloc'd; free with
 * cc_heads_free). */
struct cc_heads {
    size_t n;
    char **names;
    git_oid *ids;
};
/* Reads the branch heads of the bare repository at path. Returns 0 or -1. */
int cc_heads_read(const char *path, struct cc_heads *h);
void cc_heads_free(struct cc_heads *h);
/* After a push into r: compares the heads with before, records the default branch of a first
 * push (main, else master, else the first branch), bumps lastModifiedDate and calls the head
 * listeners for every branch created, moved or deleted. */
void cc_push_settle(store *s, struct cc_repo *r, const struct cc_heads *before);

/* Validates a branch name by git check-ref-format and "git branch" rules (no control character,
 * DEL, "HEAD", leading '-', "..", "@{", ".lock" ...; each component at most 250 bytes, so its ref
 * file and lock file fit NAME_MAX). Returns 1 when valid. */
int cc_branch_name_valid(const char *name);
/* Resolves a commit specifier (full or abbreviated id, branch, tag) to a commit of r.
 * Returns 0 and *out (caller frees with git_commit_free), -1 when it does not exist. */
int cc_resolve_commit(struct cc_repo *r, const char *spec, git_commit **out);
/* Returns 1 when s is a 40-character lower- or upper-case hex id. */
int cc_is_full_id(const char *s);

/* Path checks. flags: CC_PATH_READ accepts one leading '/' and a trailing '/';
 * CC_PATH_ALLOW_ROOT accepts the empty path (the root folder). */
#define CC_PATH_READ       1u
#define CC_PATH_ALLOW_ROOT 2u
/* Normalises the len bytes of in into out (no leading or trailing '/'). Returns 0, or -1 when
 * the path is empty (without ALLOW_ROOT), absolute (without READ), contains '..', '.', '.git',
 * empty components, a component over 255 bytes, NUL or control bytes, or is longer than
 * CC_MAX_PATH_LEN. */
int cc_path_normalize(const char *in, size_t len, unsigned flags, char *out, size_t outcap);

/* AWS's file modes. Returns the git filemode of "NORMAL", "EXECUTABLE", "SYMLINK", or 0. */
unsigned cc_mode_from_name(const char *name);
/* Returns "NORMAL", "EXECUTABLE", "SYMLINK" for a blob mode, NULL otherwise. */
const char *cc_mode_name(unsigned mode);

/* Decodes base64 (standard alphabet, padding optional). Returns a malloc'd buffer (caller frees;
 * NUL-terminated for convenience) and its length in *outlen, or NULL when s is not base64. */
unsigned char *cc_b64_decode(const char *s, size_t len, size_t *outlen);
/* Returns a json string holding the base64 of data (new reference). */
struct json_object *cc_b64_json(const void *data, size_t len);

/* Returns the string member key of o; NULL when absent or not a string. A string holding a NUL
 * byte gives cc_bad_string ("\x7f"), which every path, branch and id check rejects. */
const char *cc_json_str(struct json_object *o, const char *key);
extern const char cc_bad_string[];

/* Writes the hex of id into the arena and returns it. */
char *cc_oid_str(proto_arena *a, const git_oid *id);

/* Writes a zip of commit's tree through write (which returns 0 or -1): every blob with its
 * path and unix mode (symlinks as symlinks, submodules skipped). Returns 0 or -1 with a reason
 * in err. */
int cc_zip_tree(git_repository *repo, const git_commit *commit,
                int (*write)(void *ctx, const void *data, size_t len), void *ctx, char *err,
                size_t errlen);

/* Verifies a password made by `aws codecommit credential-helper`: "<yyyymmddThhmmss>Z<hex sig>"
 * signed with secret over "GIT <path>" for host (port removed) in region, at most max_age
 * seconds old (and at most 300 s in the future) at now. Returns 1 when valid, 0 otherwise. */
int cc_verify_helper_password(const char *password, const char *secret, const char *region,
                              const char *host, const char *path, long now, long max_age);

/* Paging shared by the list operations. */
/* Returns the page size of ListRepositories and ListBranches (1000, or CPL_CODECOMMIT_PAGE_SIZE).
 */
size_t cc_page_size(void);
/* Returns the offset of a continuation token (0 for NULL) or -1 when it is not ours. */
long cc_token_parse(const char *tok);
/* Returns a continuation token for offset, owned by the arena. */
char *cc_token(proto_arena *a, size_t offset);

/* Resolves a commitSpecifier (NULL: the default branch) or sets CommitDoesNotExistException. */
int cc_commit_from_spec(struct proto_req *req, struct cc_repo *r, const char *spec,
                        git_commit **out);
/* Returns AWS's Commit structure for commit (new json reference). */
struct json_object *cc_commit_json(const git_commit *commit, proto_arena *a);

/* The operations: X(AWS name, handler). */
#define CC_OPERATIONS(X)                                                                           \
    X("BatchGetCommits", cc_op_batch_get_commits)                                                  \
    X("BatchGetRepositories", cc_op_batch_get_repositories)                                        \
    X("CreateBranch", cc_op_create_branch)                                                         \
    X("CreateCommit", cc_op_create_commit)                                                         \
    X("CreateRepository", cc_op_create_repository)                                                 \
    X("DeleteBranch", cc_op_delete_branch)                                                         \
    X("DeleteFile", cc_op_delete_file)                                                             \
    X("DeleteRepository", cc_op_delete_repository)                                                 \
    X("GetBlob", cc_op_get_blob)                                                                   \
    X("GetBranch", cc_op_get_branch)                                                               \
    X("GetCommit", cc_op_get_commit)                                                               \
    X("GetDifferences", cc_op_get_differences)                                                     \
    X("GetFile", cc_op_get_file)                                                                   \
    X("GetFolder", cc_op_get_folder)                                                               \
    X("GetMergeCommit", cc_op_get_merge_commit)                                                    \
    X("GetMergeOptions", cc_op_get_merge_options)                                                  \
    X("GetRepository", cc_op_get_repository)                                                       \
    X("ListBranches", cc_op_list_branches)                                                         \
    X("ListRepositories", cc_op_list_repositories)                                                 \
    X("ListTagsForResource", cc_op_list_tags_for_resource)                                         \
    X("MergeBranchesByFastForward", cc_op_merge_branches_by_fast_forward)                          \
    X("PutFile", cc_op_put_file)                                                                   \
    X("TagResource", cc_op_tag_resource)                                                           \
    X("UntagResource", cc_op_untag_resource)                                                       \
    X("UpdateDefaultBranch", cc_op_update_default_branch)                                          \
    X("UpdateRepositoryDescription", cc_op_update_repository_description)                          \
    X("UpdateRepositoryName", cc_op_update_repository_name)

/* Each handler: returns 0 or a negative proto_err set on req; output owned by req. */
#define CC_DECLARE_OP(name, fn) int fn(struct proto_req *req);
CC_OPERATIONS(CC_DECLARE_OP)
#undef CC_DECLARE_OP

#endif
