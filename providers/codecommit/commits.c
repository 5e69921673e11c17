/* Commits made through the API (PutFile, DeleteFile, CreateCommit) and commit reads
 * (GetCommit, BatchGetCommits). Trees are built in an in-memory libgit2 index. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "providers/codecommit/internal.h"

static const char *jstr(struct json_object *o, const char *key)
{
    return cc_json_str(o, key);
}

static int jbool(struct json_object *o, const char *key)
{
    struct json_object *v;
    return o && json_object_object_get_ex(o, key, &v) && json_object_get_boolean(v);
}

enum change_kind { CH_PUT, CH_DELETE, CH_MODE };

struct change {
    enum change_kind kind;
    char path[CC_MAX_PATH_LEN + 1];
    unsigned mode;       /* CH_PUT, CH_MODE: git mode; 0 for a put keeps the old mode or NORMAL */
    unsigned char *data; /* CH_PUT with content (malloc'd) */
    size_t len;
    int has_data;
    char source[CC_MAX_PATH_LEN + 1]; /* CH_PUT from a source file */
    int is_move;
};

/* A commit request after parsing: its author, message, branch and changes. */
struct commit_req {
    const char *branch;
    const char *parent; /* parentCommitId or NULL */
    const char *name, *email, *message;
    int keep_empty_folders;
    struct change *changes;
    size_t n;
    /* results */
    git_oid commit_id, tree_id;
    struct json_object *added, *updated, *deleted; /* CreateCommit's lists */
    git_oid last_blob;                             /* the blob of the last put or delete */
};

static void free_changes(struct commit_req *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->changes[i].data);
    free(c->changes);
    json_object_put(c->added);
    json_object_put(c->updated);
    json_object_put(c->deleted);
}

static int path_error(struct proto_req *req, const char *path)
{
    if (!path || !*path)
        return proto_error(req, ERR_CC_PATH_REQUIRED,
                           "The folder path is required, but was not specified.");
    return proto_error(req, ERR_CC_INVALID_PATH, "The specified path %s is not valid.", path);
}

/* Checks name, email and message against AWS's limits. */
static int check_identity(struct proto_req *req, struct commit_req *c)
{
    if (c->name && strlen(c->name) > CC_MAX_NAME_LEN)
        return proto_error(req, ERR_CC_NAME_LENGTH_EXCEEDED,
                           "The user name is not valid because it has exceeded the character "
                           "limit for author names.");
    if (c->email && (strlen(c->email) > 320 || strpbrk(c->email, "<>\n") ||
                     (*c->email && !strchr(c->email, '@'))))
        return proto_error(req, ERR_CC_INVALID_EMAIL,
                           "The specified email address either contains "
                           "one or more characters that are not allowed, "
                           "or it exceeds the maximum number of "
                           "characters allowed for an email address.");
    if (c->name && strpbrk(c->name, "<>\n"))
        return proto_error(req, ERR_CC_NAME_LENGTH_EXCEEDED, "The user name is not valid.");
    if (c->message && strlen(c->message) > CC_MAX_MESSAGE_LEN)
        return proto_error(req, ERR_CC_COMMIT_MESSAGE_LENGTH_EXCEEDED,
                           "The commit message is too long. Provide a shorter string.");
    return 0;
}

/* Decodes a base64 fileContent member into ch. Returns 0 or a proto_err. */
static int decode_content(struct proto_req *req, struct json_object *v, struct change *ch)
{
    const char *s = json_object_get_string(v);
    size_t len = (size_t)json_object_get_string_len(v);
    if (len / 4 * 3 > CC_MAX_FILE_SIZE + 3)
        return proto_error(req, ERR_CC_FILE_CONTENT_SIZE_LIMIT_EXCEEDED,
                           "The file cannot be added because it is too large. The maximum file "
                           "size is 6 MB, and the combined file content change size is 7 MB. "
                           "Consider making these changes using a Git client.");
    ch->data = cc_b64_decode(s, len, &ch->len);
    if (!ch->data)
        return proto_error(req, ERR_SERIALIZATION, "Base64 encoded fileContent is not valid");
    if (ch->len > CC_MAX_FILE_SIZE)
        return proto_error(req, ERR_CC_FILE_CONTENT_SIZE_LIMIT_EXCEEDED,
                           "The file cannot be added because it is too large. The maximum file "
                           "size is 6 MB, and the combined file content change size is 7 MB. "
                           "Consider making these changes using a Git client.");
    ch->has_data = 1;
    return 0;
}

static int is_prefix_dir(const char *dir, const char *path)
{
    size_t n = strlen(dir);
    return strncmp(dir, path, n) == 0 && path[n] == '/';
}

/* Checks the changes of one request against each other. */
static int check_request_conflicts(struct proto_req *req, struct commit_req *c)
{
    for (size_t i = 0; i < c->n; i++) {
        for (size_t j = i + 1; j < c->n; j++) {
            const char *a = c->changes[i].path, *b = c->changes[j].path;
            if (strcmp(a, b) == 0)
                return proto_error(req, ERR_CC_SAME_PATH_REQUEST,
                                   "The commit cannot be created because one or more changes in "
                                   "this commit duplicate actions in the same file path. The "
                                   "duplicated path is %s.",
                                   a);
            if (c->changes[i].kind == CH_PUT && c->changes[j].kind == CH_PUT &&
                (is_prefix_dir(a, b) || is_prefix_dir(b, a)))
                return proto_error(req, ERR_CC_PUT_FILE_ENTRY_CONFLICT,
                                   "The commit cannot be created because one or more files "
                                   "specified in the commit reference both a file and a folder: "
                                   "%s and %s.",
                                   a, b);
        }
    }
    return 0;
}

static struct json_object *file_meta(const char *path, const git_oid *blob, unsigned mode,
                                     proto_arena *a)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "absolutePath", json_object_new_string(path));
    json_object_object_add(o, "blobId", json_object_new_string(cc_oid_str(a, blob)));
    const char *mn = cc_mode_name(mode);
    json_object_object_add(o, "fileMode", json_object_new_string(mn ? mn : "NORMAL"));
    return o;
}

/* Does the index hold any entry under dir/ ? */
static int index_has_dir(git_index *idx, const char *dir)
{
    size_t pos;
    char prefix[CC_MAX_PATH_LEN + 2];
    snprintf(prefix, sizeof prefix, "%s/", dir);
    return git_index_find_prefix(&pos, idx, prefix) == 0;
}

/* Adds a put to the index after checking it against the tree's files and folders. */
static int apply_put(struct proto_req *req, struct cc_repo *r, git_index *idx, struct change *ch,
                     struct commit_req *c, size_t *total)
{
    const git_index_entry *old = git_index_get_bypath(idx, ch->path, 0);
    git_oid blob;
    unsigned mode = ch->mode;
    if (old && old->mode == GIT_FILEMODE_COMMIT)
        return proto_error(req, ERR_CC_FILE_PATH_CONFLICTS_WITH_SUBMODULE_PATH,
                           "The commit cannot be created because a specified file path has the "
                           "same name as a submodule path: %s",
                           ch->path);
    if (!old && index_has_dir(idx, ch->path))
        return proto_error(req, ERR_CC_FILE_NAME_CONFLICTS_WITH_DIRECTORY_NAME,
                           "A file cannot be added to the repository because the specified file "
                           "name has the same name as a directory in this repository: %s",
                           ch->path);
    char anc[CC_MAX_PATH_LEN + 1];
    snprintf(anc, sizeof anc, "%s", ch->path);
    for (char *p = strchr(anc, '/'); p; p = strchr(p + 1, '/')) {
        *p = '\0';
        const git_index_entry *e = git_index_get_bypath(idx, anc, 0);
        *p = '/';
        if (!e) continue;
        if (e->mode == GIT_FILEMODE_COMMIT)
            return proto_error(req, ERR_CC_FILE_PATH_CONFLICTS_WITH_SUBMODULE_PATH,
                               "The commit cannot be created because a specified file path has "
                               "the same name as a submodule path: %s",
                               ch->path);
        return proto_error(req, ERR_CC_DIRECTORY_NAME_CONFLICTS_WITH_FILE_NAME,
                           "A file cannot be added to the repository because the specified path "
                           "name has the same name as a file that already exists in this "
                           "repository: %s",
                           ch->path);
    }
    if (ch->has_data) {
        if (git_blob_create_from_buffer(&blob, r->git, ch->data, ch->len) != 0)
            return proto_error(req, ERR_INTERNAL_FAILURE, "could not write the blob");
        *total += ch->len;
    } else {
        /* Copy or move from a source file of the parent tree. */
        const git_index_entry *src = git_index_get_bypath(idx, ch->source, 0);
        if (!src || src->mode == GIT_FILEMODE_COMMIT)
            return proto_error(req, ERR_CC_FILE_DOES_NOT_EXIST,
                               "The specified file %s does not exist.", ch->source);
        blob = src->id;
        if (!mode) mode = src->mode;
        if (ch->is_move) {
            json_object_array_add(c->deleted,
                                  file_meta(ch->source, &src->id, src->mode, req->arena));
            git_index_remove(idx, ch->source, 0);
        }
        old = git_index_get_bypath(idx, ch->path, 0);
    }
    if (*total > CC_MAX_COMMIT_SIZE)
        return proto_error(req, ERR_CC_FILE_CONTENT_SIZE_LIMIT_EXCEEDED,
                           "The file cannot be added because it is too large. The maximum file "
                           "size is 6 MB, and the combined file content change size is 7 MB. "
                           "Consider making these changes using a Git client.");
    if (!mode) mode = old ? old->mode : GIT_FILEMODE_BLOB;
    if (old && git_oid_equal(&old->id, &blob) && old->mode == mode)
        return proto_error(req, ERR_CC_SAME_FILE_CONTENT,
                           "The file could not be added because the provided file content is the "
                           "same as the existing file content: %s",
                           ch->path);
    json_object_array_add(old ? c->updated : c->added,
                          file_meta(ch->path, &blob, mode, req->arena));
    git_index_entry e;
    memset(&e, 0, sizeof e);
    e.path = ch->path;
    e.mode = mode;
    e.id = blob;
    c->last_blob = blob;
    if (git_index_add(idx, &e) != 0)
        return proto_error(req, ERR_INTERNAL_FAILURE, "could not add %s", ch->path);
    return 0;
}

#define EMAIL_PLACEHOLDER "cc-no-email.invalid"

/* Writes a commit object (no ref update); with no_email the signatures carry "<>". */
static int write_commit(git_repository *repo, git_oid *out, const git_signature *sig,
                        const char *message, const git_tree *tree, size_t nparents,
                        const git_commit **parents, int no_email)
{
    git_buf buf = GIT_BUF_INIT;
    int rc = git_commit_create_buffer(&buf, repo, sig, sig, NULL, message, tree, nparents, parents);
    if (rc != 0) return rc;
    if (no_email) {
        const char *needle = " <" EMAIL_PLACEHOLDER "> ";
        size_t nl = strlen(needle);
        char *p;
        while ((p = strstr(buf.ptr, needle)) != NULL) {
            memcpy(p, " <> ", 4);
            memmove(p + 4, p + nl, strlen(p + nl) + 1);
        }
    }
    rc = git_commit_create_with_signature(out, repo, buf.ptr, NULL, NULL);
    git_buf_dispose(&buf);
    return rc;
}

/* Makes the commit: checks the branch and parent, applies the changes, writes the commit and
 * moves the branch. Returns 0 or a proto_err. */
static int make_commit(struct proto_req *req, struct cc_repo *r, struct commit_req *c,
                       int is_put_file)
{
    git_index *idx = NULL;
    git_commit *parent = NULL;
    git_tree *tree = NULL;
    git_signature *sig = NULL;
    git_oid head;
    char refname[512];
    int rc = 0;
    size_t total = 0;

    c->added = json_object_new_array();
    c->updated = json_object_new_array();
    c->deleted = json_object_new_array();
    /* A commit may create its branch: no 40-hex names, as CreateBranch (AWS's quotas page). */
    if (!cc_branch_name_valid(c->branch) || cc_is_full_id(c->branch))
        return proto_error(req, ERR_CC_INVALID_BRANCH_NAME,
                           "The specified reference name is not valid.");
    if ((rc = check_identity(req, c))) return rc;
    if ((rc = check_request_conflicts(req, c))) return rc;
    if (c->parent && !cc_is_full_id(c->parent))
        return proto_error(req, ERR_CC_INVALID_PARENT_COMMIT_ID,
                           "The parent commit ID is not valid. The commit ID cannot be empty, and "
                           "must match the head commit ID for the branch of the repository where "
                           "you want to add or update a file.");

    snprintf(refname, sizeof refname, "refs/heads/%s", c->branch);
    char tagref[512];
    snprintf(tagref, sizeof tagref, "refs/tags/%s", c->branch);
    git_oid tag;
    if (git_reference_name_to_id(&tag, r->git, tagref) == 0)
        return proto_error(req, ERR_CC_BRANCH_NAME_IS_TAG_NAME,
                           "The specified branch name is not valid because it is a tag name.");
    int has_head = git_reference_name_to_id(&head, r->git, refname) == 0;
    if (c->parent) {
        git_oid pid;
        git_oid_fromstr(&pid, c->parent);
        if (git_commit_lookup(&parent, r->git, &pid) != 0) {
            rc = proto_error(req, ERR_CC_PARENT_COMMIT_DOES_NOT_EXIST,
                             "The parent commit ID is not valid because it does not exist.");
            goto out;
        }
    }
    if (has_head) {
        if (!c->parent) {
            rc = proto_error(req, ERR_CC_PARENT_COMMIT_ID_REQUIRED,
                             "A parent commit ID is required. To view the full commit ID of a "
                             "branch in a repository, use GetBranch or a Git command.");
            goto out;
        }
        if (!git_oid_equal(git_commit_id(parent), &head)) {
            rc = proto_error(req, ERR_CC_PARENT_COMMIT_ID_OUTDATED,
                             "The parent commit ID is not the current tip of the specified "
                             "branch. To view the full commit ID of the current head of the "
                             "branch, use GetBranch.");
            goto out;
        }
    } else if (!parent) {
        /* A new branch without a parent: only in a repository without branches. */
        git_branch_iterator *it = NULL;
        git_reference *ref = NULL;
        git_branch_t type;
        int any = 0;
        if (git_branch_iterator_new(&it, r->git, GIT_BRANCH_LOCAL) == 0) {
            if (git_branch_next(&ref, &type, it) == 0) any = 1;
            git_reference_free(ref);
            git_branch_iterator_free(it);
        }
        if (any) {
            rc = proto_error(req, ERR_CC_PARENT_COMMIT_ID_REQUIRED,
                             "A parent commit ID is required. To view the full commit ID of a "
                             "branch in a repository, use GetBranch or a Git command.");
            goto out;
        }
    }

    if (git_index_new(&idx) != 0) {
        rc = proto_error(req, ERR_INTERNAL_FAILURE, "could not create an index");
        goto out;
    }
    if (parent) {
        if (git_commit_tree(&tree, parent) != 0 || git_index_read_tree(idx, tree) != 0) {
            rc = proto_error(req, ERR_INTERNAL_FAILURE, "could not read the parent tree");
            goto out;
        }
    }
    /* Deletions and mode changes first, so a file can be replaced by a folder in one commit. */
    for (size_t i = 0; i < c->n; i++) {
        struct change *ch = &c->changes[i];
        if (ch->kind == CH_PUT) continue;
        const git_index_entry *e = git_index_get_bypath(idx, ch->path, 0);
        if (!e || e->mode == GIT_FILEMODE_COMMIT) {
            rc = proto_error(req, ERR_CC_FILE_DOES_NOT_EXIST,
                             "The specified file %s does not exist.", ch->path);
            goto out;
        }
        if (ch->kind == CH_DELETE) {
            json_object_array_add(c->deleted, file_meta(ch->path, &e->id, e->mode, req->arena));
            c->last_blob = e->id;
            git_index_remove(idx, ch->path, 0);
        } else {
            git_index_entry ne = *e;
            if (ne.mode == ch->mode) continue;
            ne.mode = ch->mode;
            json_object_array_add(c->updated, file_meta(ch->path, &ne.id, ne.mode, req->arena));
            if (git_index_add(idx, &ne) != 0) {
                rc = proto_error(req, ERR_INTERNAL_FAILURE, "could not change the mode");
                goto out;
            }
        }
    }
    for (size_t i = 0; i < c->n; i++) {
        if (c->changes[i].kind != CH_PUT) continue;
        if ((rc = apply_put(req, r, idx, &c->changes[i], c, &total))) goto out;
    }
    if (c->keep_empty_folders) {
        for (size_t i = 0; i < c->n; i++) {
            struct change *ch = &c->changes[i];
            if (ch->kind != CH_DELETE && !(ch->kind == CH_PUT && ch->is_move)) continue;
            char dir[CC_MAX_PATH_LEN + 1];
            snprintf(dir, sizeof dir, "%s", ch->kind == CH_DELETE ? ch->path : ch->source);
            char *slash = strrchr(dir, '/');
            if (!slash) continue;
            *slash = '\0';
            if (index_has_dir(idx, dir)) continue;
            git_index_entry e;
            char keep[CC_MAX_PATH_LEN + 16];
            snprintf(keep, sizeof keep, "%s/.gitkeep", dir);
            memset(&e, 0, sizeof e);
            e.path = keep;
            e.mode = GIT_FILEMODE_BLOB;
            if (git_blob_create_from_buffer(&e.id, r->git, "", 0) != 0 ||
                git_index_add(idx, &e) != 0) {
                rc = proto_error(req, ERR_INTERNAL_FAILURE, "could not keep folder %s", dir);
                goto out;
            }
        }
    }
    if (git_index_write_tree_to(&c->tree_id, idx, r->git) != 0) {
        rc = proto_error(req, ERR_INTERNAL_FAILURE, "could not write the tree");
        goto out;
    }
    if (tree && git_oid_equal(&c->tree_id, git_tree_id(tree))) {
        if (is_put_file)
            rc = proto_error(req, ERR_CC_SAME_FILE_CONTENT,
                             "The file could not be added because the provided file content is "
                             "the same as the existing file content.");
        else
            rc = proto_error(req, ERR_CC_NO_CHANGE,
                             "The commit cannot be created because no changes will be made to "
                             "the repository as a result of this commit. A commit must contain "
                             "at least one change.");
        goto out;
    }
    git_tree_free(tree);
    tree = NULL;
    if (git_tree_lookup(&tree, r->git, &c->tree_id) != 0) {
        rc = proto_error(req, ERR_INTERNAL_FAILURE, "could not read the new tree");
        goto out;
    }
    const char *name = c->name && *c->name      ? c->name
                       : req->caller.access_key ? req->caller.access_key
                                                : "AWS CodeCommit";
    /* libgit2 refuses an empty email, git does not: sign with a placeholder, then drop it. */
    int no_email = !c->email || !*c->email;
    if (git_signature_now(&sig, name, no_email ? EMAIL_PLACEHOLDER : c->email) != 0) {
        rc = proto_error(req, ERR_CC_NAME_LENGTH_EXCEEDED, "The user name is not valid.");
        goto out;
    }
    const git_commit *parents[1] = {parent};
    if (write_commit(r->git, &c->commit_id, sig, c->message ? c->message : "", tree, parent ? 1 : 0,
                     parents, no_email) != 0) {
        rc = proto_error(req, ERR_INTERNAL_FAILURE, "could not create the commit");
        goto out;
    }
    int m = cc_branch_move(req->store, r, c->branch, &c->commit_id, has_head ? &head : NULL, 0,
                           "commit: created through the API");
    if (m == 1)
        rc = proto_error(req, ERR_CC_PARENT_COMMIT_ID_OUTDATED,
                         "The parent commit ID is not the current tip of the specified branch. "
                         "To view the full commit ID of the current head of the branch, use "
                         "GetBranch.");
    else if (m)
        rc = proto_error(req, ERR_INTERNAL_FAILURE, "could not move the branch");
out:
    git_signature_free(sig);
    git_tree_free(tree);
    git_commit_free(parent);
    git_index_free(idx);
    return rc;
}

/* Parses and checks a write path into ch->path. One leading '/' is accepted and dropped, as
 * AWS does: the CLI's put-file example writes --file-path /solutions/ExampleSolution.py
 * (awscli/examples/codecommit/put-file.rst) and AWS answers with the commit. */
static int take_path(struct proto_req *req, const char *path, char *out)
{
    if (!path || !*path) return path_error(req, path);
    const char *p = path[0] == '/' ? path + 1 : path;
    if (cc_path_normalize(p, strlen(p), 0, out, CC_MAX_PATH_LEN + 1) != 0)
        return path_error(req, path);
    return 0;
}

/* PutFile and DeleteFile: fills c from the input's branch, parent, author and message with one
 * change of the given kind, and returns that change. Free with free_changes. */
static struct change *one_change_request(struct proto_req *req, struct commit_req *c,
                                         enum change_kind kind)
{
    memset(c, 0, sizeof *c);
    c->branch = jstr(req->input, "branchName");
    c->parent = jstr(req->input, "parentCommitId");
    c->name = jstr(req->input, "name");
    c->email = jstr(req->input, "email");
    c->message = jstr(req->input, "commitMessage");
    c->changes = calloc(1, sizeof *c->changes);
    if (!c->changes) abort();
    c->n = 1;
    c->changes[0].kind = kind;
    return &c->changes[0];
}

/* PutFile and DeleteFile: opens the repository, makes the commit under the repository's lock and
 * answers commitId, blobId and treeId. make_commit_flag is make_commit's last argument. Returns 0
 * or a negative proto_err; r is closed by the caller. */
static int commit_one_file(struct proto_req *req, struct cc_repo *r, struct commit_req *c,
                           int make_commit_flag)
{
    int rc = cc_repo_open(req, jstr(req->input, "repositoryName"), r);
    if (rc) return rc;
    cc_repo_lock(r->id);
    rc = make_commit(req, r, c, make_commit_flag);
    cc_repo_unlock(r->id);
    if (rc) return rc;
    req->output = json_object_new_object();
    json_object_object_add(req->output, "commitId",
                           json_object_new_string(cc_oid_str(req->arena, &c->commit_id)));
    json_object_object_add(req->output, "blobId",
                           json_object_new_string(cc_oid_str(req->arena, &c->last_blob)));
    json_object_object_add(req->output, "treeId",
                           json_object_new_string(cc_oid_str(req->arena, &c->tree_id)));
    return 0;
}

int cc_op_put_file(struct proto_req *req)
{
    struct commit_req c;
    struct cc_repo r;
    struct json_object *content = NULL;
    int rc;
    memset(&r, 0, sizeof r);
    struct change *ch = one_change_request(req, &c, CH_PUT);
    const char *mode = jstr(req->input, "fileMode");
    ch->mode = mode ? cc_mode_from_name(mode) : GIT_FILEMODE_BLOB;
    if (!ch->mode) {
        rc = proto_error(req, ERR_CC_INVALID_FILE_MODE,
                         "The specified file mode permission is not valid.");
        goto out;
    }
    if ((rc = take_path(req, jstr(req->input, "filePath"), ch->path))) goto out;
    json_object_object_get_ex(req->input, "fileContent", &content);
    if ((rc = decode_content(req, content, ch))) goto out;
    if (ch->len == 0) {
        rc = proto_error(req, ERR_CC_FILE_CONTENT_REQUIRED,
                         "The file cannot be added because it is empty. Empty files cannot be "
                         "added to the repository with this API.");
        goto out;
    }
    if (!c.message) c.message = proto_arena_printf(req->arena, "Added %s\n", ch->path);
    rc = commit_one_file(req, &r, &c, 1);
out:
    cc_repo_close(&r);
    free_changes(&c);
    return rc;
}

int cc_op_delete_file(struct proto_req *req)
{
    struct commit_req c;
    struct cc_repo r;
    int rc;
    memset(&r, 0, sizeof r);
    one_change_request(req, &c, CH_DELETE);
    c.keep_empty_folders = jbool(req->input, "keepEmptyFolders");
    if ((rc = take_path(req, jstr(req->input, "filePath"), c.changes[0].path))) goto out;
    if (!c.message) c.message = proto_arena_printf(req->arena, "Deleted %s\n", c.changes[0].path);
    if ((rc = commit_one_file(req, &r, &c, 0))) goto out;
    json_object_object_add(req->output, "filePath", json_object_new_string(c.changes[0].path));
out:
    cc_repo_close(&r);
    free_changes(&c);
    return rc;
}

int cc_op_create_commit(struct proto_req *req)
{
    struct commit_req c;
    struct cc_repo r;
    struct json_object *puts = NULL, *dels = NULL, *modes = NULL;
    int rc = 0;
    memset(&c, 0, sizeof c);
    memset(&r, 0, sizeof r);
    c.branch = jstr(req->input, "branchName");
    c.parent = jstr(req->input, "parentCommitId");
    c.name = jstr(req->input, "authorName");
    c.email = jstr(req->input, "email");
    c.message = jstr(req->input, "commitMessage");
    c.keep_empty_folders = jbool(req->input, "keepEmptyFolders");
    json_object_object_get_ex(req->input, "putFiles", &puts);
    json_object_object_get_ex(req->input, "deleteFiles", &dels);
    json_object_object_get_ex(req->input, "setFileModes", &modes);
    size_t np = puts ? json_object_array_length(puts) : 0;
    size_t nd = dels ? json_object_array_length(dels) : 0;
    size_t nm = modes ? json_object_array_length(modes) : 0;
    if (np + nd + nm == 0)
        return proto_error(req, ERR_CC_FILE_ENTRY_REQUIRED,
                           "The commit cannot be created because no files have been specified as "
                           "added, updated, or changed (PutFile or DeleteFile) for the commit.");
    if (np + nd + nm > CC_MAX_FILE_ENTRIES)
        return proto_error(req, ERR_CC_MAXIMUM_FILE_ENTRIES_EXCEEDED,
                           "The number of specified files to change as part of this commit "
                           "exceeds the maximum number of files that can be changed in a single "
                           "commit. Consider using a Git client for these changes.");
    c.changes = calloc(np + nd + nm, sizeof *c.changes);
    if (!c.changes) abort();
    size_t total_len = 0;
    for (size_t i = 0; i < np; i++) {
        struct json_object *e = json_object_array_get_idx(puts, i), *content = NULL, *src = NULL;
        struct change *ch = &c.changes[c.n++];
        ch->kind = CH_PUT;
        if ((rc = take_path(req, jstr(e, "filePath"), ch->path))) goto out;
        const char *mode = jstr(e, "fileMode");
        ch->mode = mode ? cc_mode_from_name(mode) : 0;
        if (mode && !ch->mode) {
            rc = proto_error(req, ERR_CC_INVALID_FILE_MODE,
                             "The specified file mode permission is not valid.");
            goto out;
        }
        int has_content = json_object_object_get_ex(e, "fileContent", &content) && content;
        int has_src = json_object_object_get_ex(e, "sourceFile", &src) && src;
        if (has_content && has_src) {
            rc = proto_error(req, ERR_CC_FILE_CONTENT_AND_SOURCE_FILE_SPECIFIED,
                             "The commit cannot be created because both a source file and file "
                             "content have been specified for the same file. You cannot provide "
                             "both. Either specify a source file or provide the file content "
                             "directly.");
            goto out;
        }
        if (!has_content && !has_src) {
            rc = proto_error(req, ERR_CC_SOURCE_FILE_OR_CONTENT_REQUIRED,
                             "The commit cannot be created because no source files or file "
                             "content have been specified for the commit.");
            goto out;
        }
        if (has_content) {
            if ((rc = decode_content(req, content, ch))) goto out;
            total_len += ch->len;
            if (total_len > CC_MAX_COMMIT_SIZE) {
                rc = proto_error(req, ERR_CC_FILE_CONTENT_SIZE_LIMIT_EXCEEDED,
                                 "The file cannot be added because it is too large. The maximum "
                                 "file size is 6 MB, and the combined file content change size "
                                 "is 7 MB. Consider making these changes using a Git client.");
                goto out;
            }
        } else {
            if ((rc = take_path(req, jstr(src, "filePath"), ch->source))) goto out;
            ch->is_move = jbool(src, "isMove");
            if (strcmp(ch->source, ch->path) == 0) {
                rc = proto_error(req, ERR_CC_SAME_PATH_REQUEST,
                                 "The commit cannot be created because one or more changes in "
                                 "this commit duplicate actions in the same file path. The "
                                 "duplicated path is %s.",
                                 ch->path);
                goto out;
            }
        }
    }
    for (size_t i = 0; i < nd; i++) {
        struct change *ch = &c.changes[c.n++];
        ch->kind = CH_DELETE;
        if ((rc = take_path(req, jstr(json_object_array_get_idx(dels, i), "filePath"), ch->path)))
            goto out;
    }
    for (size_t i = 0; i < nm; i++) {
        struct json_object *e = json_object_array_get_idx(modes, i);
        struct change *ch = &c.changes[c.n++];
        ch->kind = CH_MODE;
        if ((rc = take_path(req, jstr(e, "filePath"), ch->path))) goto out;
        ch->mode = cc_mode_from_name(jstr(e, "fileMode"));
        if (!ch->mode) {
            rc =
                proto_error(req, ERR_CC_FILE_MODE_REQUIRED,
                            "The commit cannot be created because no file mode has been specified. "
                            "A file mode is required to update mode permissions for a file.");
            goto out;
        }
    }
    /* A move's source counts as a deletion of that path for conflict checks. */
    for (size_t i = 0; i < c.n; i++) {
        if (c.changes[i].kind != CH_PUT || !c.changes[i].is_move) continue;
        for (size_t j = 0; j < c.n; j++)
            if (strcmp(c.changes[j].path, c.changes[i].source) == 0) {
                rc = proto_error(req, ERR_CC_SAME_PATH_REQUEST,
                                 "The commit cannot be created because one or more changes in "
                                 "this commit duplicate actions in the same file path. The "
                                 "duplicated path is %s.",
                                 c.changes[i].source);
                goto out;
            }
    }
    if ((rc = cc_repo_open(req, jstr(req->input, "repositoryName"), &r))) goto out;
    cc_repo_lock(r.id);
    rc = make_commit(req, &r, &c, 0);
    cc_repo_unlock(r.id);
    if (rc) goto out;
    req->output = json_object_new_object();
    json_object_object_add(req->output, "commitId",
                           json_object_new_string(cc_oid_str(req->arena, &c.commit_id)));
    json_object_object_add(req->output, "treeId",
                           json_object_new_string(cc_oid_str(req->arena, &c.tree_id)));
    json_object_object_add(req->output, "filesAdded", json_object_get(c.added));
    json_object_object_add(req->output, "filesUpdated", json_object_get(c.updated));
    json_object_object_add(req->output, "filesDeleted", json_object_get(c.deleted));
out:
    cc_repo_close(&r);
    free_changes(&c);
    return rc;
}

static struct json_object *user_info(const git_signature *s, proto_arena *a)
{
    struct json_object *o = json_object_new_object();
    int off = s->when.offset;
    char sign = off < 0 ? '-' : '+';
    if (off < 0) off = -off;
    json_object_object_add(o, "name", json_object_new_string(s->name ? s->name : ""));
    json_object_object_add(o, "email", json_object_new_string(s->email ? s->email : ""));
    json_object_object_add(
        o, "date",
        json_object_new_string(proto_arena_printf(a, "%lld %c%02d%02d", (long long)s->when.time,
                                                  sign, off / 60, off % 60)));
    return o;
}

/* Returns the Commit structure of AWS for commit (new object). */
struct json_object *cc_commit_json(const git_commit *commit, proto_arena *a)
{
    struct json_object *o = json_object_new_object(), *parents = json_object_new_array();
    json_object_object_add(o, "commitId",
                           json_object_new_string(cc_oid_str(a, git_commit_id(commit))));
    json_object_object_add(o, "treeId",
                           json_object_new_string(cc_oid_str(a, git_commit_tree_id(commit))));
    for (unsigned i = 0; i < git_commit_parentcount(commit); i++)
        json_object_array_add(
            parents, json_object_new_string(cc_oid_str(a, git_commit_parent_id(commit, i))));
    json_object_object_add(o, "parents", parents);
    const char *msg = git_commit_message(commit);
    json_object_object_add(o, "message", json_object_new_string(msg ? msg : ""));
    json_object_object_add(o, "author", user_info(git_commit_author(commit), a));
    json_object_object_add(o, "committer", user_info(git_commit_committer(commit), a));
    json_object_object_add(o, "additionalData", json_object_new_string(""));
    return o;
}

int cc_op_get_commit(struct proto_req *req)
{
    const char *id = jstr(req->input, "commitId");
    struct cc_repo r;
    git_commit *commit = NULL;
    git_oid oid;
    int rc;
    if ((rc = cc_repo_open(req, jstr(req->input, "repositoryName"), &r))) return rc;
    if (!cc_is_full_id(id)) {
        rc = proto_error(req, ERR_CC_INVALID_COMMIT_ID, "The specified commit ID is not valid.");
        goto out;
    }
    git_oid_fromstr(&oid, id);
    if (git_commit_lookup(&commit, r.git, &oid) != 0) {
        /* AWS's wording, as Elastic Beanstalk relays it: "Could not retrieve e95846ca...
         * (Service: AWSCodeCommit; Status Code: 400; Error Code: CommitIdDoesNotExistException"
         * (https://github.com/search?q=%22Could+not+retrieve%22+CommitIdDoesNotExistException). */
        rc = proto_error(req, ERR_CC_COMMIT_ID_DOES_NOT_EXIST, "Could not retrieve %s", id);
        goto out;
    }
    req->output = json_object_new_object();
    json_object_object_add(req->output, "commit", cc_commit_json(commit, req->arena));
out:
    git_commit_free(commit);
    cc_repo_close(&r);
    return rc;
}

int cc_op_batch_get_commits(struct proto_req *req)
{
    struct json_object *ids = NULL;
    struct cc_repo r;
    int rc;
    json_object_object_get_ex(req->input, "commitIds", &ids);
    size_t n = ids ? json_object_array_length(ids) : 0;
    if (n == 0)
        return proto_error(req, ERR_CC_COMMIT_IDS_LIST_REQUIRED,
                           "A list of commit IDs is required, but was either not specified or the "
                           "list was empty.");
    if (n > 100)
        return proto_error(req, ERR_CC_COMMIT_IDS_LIMIT_EXCEEDED,
                           "The maximum number of allowed commit IDs in a batch request is 100. "
                           "Verify that your batch requests contains no more than 100 commit IDs, "
                           "and then try again.");
    if ((rc = cc_repo_open(req, jstr(req->input, "repositoryName"), &r))) return rc;
    struct json_object *commits = json_object_new_array(), *errors = json_object_new_array();
    for (size_t i = 0; i < n; i++) {
        const char *id = json_object_get_string(json_object_array_get_idx(ids, i));
        git_commit *commit = NULL;
        git_oid oid;
        if (id && cc_is_full_id(id) && git_oid_fromstr(&oid, id) == 0 &&
            git_commit_lookup(&commit, r.git, &oid) == 0) {
            json_object_array_add(commits, cc_commit_json(commit, req->arena));
            git_commit_free(commit);
            continue;
        }
        struct json_object *e = json_object_new_object();
        json_object_object_add(e, "commitId", json_object_new_string(id ? id : ""));
        int valid = id && cc_is_full_id(id);
        json_object_object_add(e, "errorCode",
                               json_object_new_string(valid ? "CommitIdDoesNotExistException"
                                                            : "InvalidCommitIdException"));
        json_object_object_add(
            e, "errorMessage",
            json_object_new_string(valid ? "The specified commit ID does not exist."
                                         : "The specified commit ID is not valid."));
        json_object_array_add(errors, e);
    }
    req->output = json_object_new_object();
    json_object_object_add(req->output, "commits", commits);
    json_object_object_add(req->output, "errors", errors);
    cc_repo_close(&r);
    return 0;
}
