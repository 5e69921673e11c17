/* Reading trees through the API: GetFile, GetBlob, GetFolder. */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "providers/codecommit/internal.h"

static const char *jstr(struct json_object *o, const char *key)
{
    return cc_json_str(o, key);
}

/* Resolves the request's commitSpecifier (default: the default branch) into *out. */
int cc_commit_from_spec(struct proto_req *req, struct cc_repo *r, const char *spec,
                        git_commit **out)
{
    const char *s = spec ? spec : (r->default_branch[0] ? r->default_branch : "HEAD");
    if (cc_resolve_commit(r, s, out) == 0) return 0;
    if (!spec && !r->default_branch[0])
        return proto_error(req, ERR_CC_COMMIT_DOES_NOT_EXIST,
                           "The repository %s is empty: it has no commits.", r->name);
    return proto_error(req, ERR_CC_COMMIT_DOES_NOT_EXIST,
                       "Could not find commit with commit specifier %s", s);
}

int cc_op_get_file(struct proto_req *req)
{
    const char *path_in = jstr(req->input, "filePath");
    struct cc_repo r;
    git_commit *commit = NULL;
    git_tree *tree = NULL;
    git_tree_entry *entry = NULL;
    git_blob *blob = NULL;
    char path[CC_MAX_PATH_LEN + 1];
    int rc;
    if (!path_in || !*path_in)
        return proto_error(req, ERR_CC_PATH_REQUIRED,
                           "The folder path is required, but was not specified.");
    if (cc_path_normalize(path_in, strlen(path_in), CC_PATH_READ, path, sizeof path) != 0)
        return proto_error(req, ERR_CC_INVALID_PATH, "The specified path %s is not valid.",
                           path_in);
    if ((rc = cc_repo_open(req, jstr(req->input, "repositoryName"), &r))) return rc;
    if ((rc = cc_commit_from_spec(req, &r, jstr(req->input, "commitSpecifier"), &commit))) goto out;
    if (git_commit_tree(&tree, commit) != 0 || git_tree_entry_bypath(&entry, tree, path) != 0 ||
        git_tree_entry_type(entry) != GIT_OBJECT_BLOB) {
        rc = proto_error(req, ERR_CC_FILE_DOES_NOT_EXIST, "The specified file %s does not exist.",
                         path_in);
        goto out;
    }
    if (git_blob_lookup(&blob, r.git, git_tree_entry_id(entry)) != 0) {
        rc = proto_error(req, ERR_INTERNAL_FAILURE, "could not read the blob");
        goto out;
    }
    git_object_size_t size = git_blob_rawsize(blob);
    if (size > CC_MAX_FILE_SIZE) {
        rc = proto_error(req, ERR_CC_FILE_TOO_LARGE,
                         "The specified file exceeds the file size limit for AWS CodeCommit. For "
                         "more information about limits in AWS CodeCommit, see Quotas in the AWS "
                         "CodeCommit User Guide.");
        goto out;
    }
    const char *mode = cc_mode_name(git_tree_entry_filemode(entry));
    req->output = json_object_new_object();
    json_object_object_add(req->output, "commitId",
                           json_object_new_string(cc_oid_str(req->arena, git_commit_id(commit))));
    json_object_object_add(
        req->output, "blobId",
        json_object_new_string(cc_oid_str(req->arena, git_tree_entry_id(entry))));
    json_object_object_add(req->output, "filePath", json_object_new_string(path));
    json_object_object_add(req->output, "fileMode", json_object_new_string(mode ? mode : "NORMAL"));
    json_object_object_add(req->output, "fileSize", json_object_new_int64((int64_t)size));
    json_object_object_add(req->output, "fileContent",
                           cc_b64_json(git_blob_rawcontent(blob), (size_t)size));
out:
    git_blob_free(blob);
    git_tree_entry_free(entry);
    git_tree_free(tree);
    git_commit_free(commit);
    cc_repo_close(&r);
    return rc;
}

int cc_op_get_blob(struct proto_req *req)
{
    const char *id = jstr(req->input, "blobId");
    struct cc_repo r;
    git_blob *blob = NULL;
    git_oid oid;
    int rc;
    if ((rc = cc_repo_open(req, jstr(req->input, "repositoryName"), &r))) return rc;
    if (!cc_is_full_id(id) || git_oid_fromstr(&oid, id) != 0) {
        rc = proto_error(req, ERR_CC_INVALID_BLOB_ID, "The specified blob is not valid.");
        goto out;
    }
    if (git_blob_lookup(&blob, r.git, &oid) != 0) {
        rc = proto_error(req, ERR_CC_BLOB_ID_DOES_NOT_EXIST,
                         "The specified blob does not exist: %s", id);
        goto out;
    }
    git_object_size_t size = git_blob_rawsize(blob);
    if (size > CC_MAX_FILE_SIZE) {
        rc = proto_error(req, ERR_CC_FILE_TOO_LARGE,
                         "The specified file exceeds the file size limit for AWS CodeCommit.");
        goto out;
    }
    req->output = json_object_new_object();
    json_object_object_add(req->output, "content",
                           cc_b64_json(git_blob_rawcontent(blob), (size_t)size));
out:
    git_blob_free(blob);
    cc_repo_close(&r);
    return rc;
}

int cc_op_get_folder(struct proto_req *req)
{
    const char *path_in = jstr(req->input, "folderPath");
    struct cc_repo r;
    git_commit *commit = NULL;
    git_tree *root = NULL, *tree = NULL;
    git_tree_entry *entry = NULL;
    char path[CC_MAX_PATH_LEN + 1];
    int rc;
    if (!path_in)
        return proto_error(req, ERR_CC_PATH_REQUIRED,
                           "The folder path is required, but was not specified.");
    if (cc_path_normalize(path_in, strlen(path_in), CC_PATH_READ | CC_PATH_ALLOW_ROOT, path,
                          sizeof path) != 0)
        return proto_error(req, ERR_CC_INVALID_PATH, "The specified path %s is not valid.",
                           path_in);
    if ((rc = cc_repo_open(req, jstr(req->input, "repositoryName"), &r))) return rc;
    if ((rc = cc_commit_from_spec(req, &r, jstr(req->input, "commitSpecifier"), &commit))) goto out;
    if (git_commit_tree(&root, commit) != 0) {
        rc = proto_error(req, ERR_INTERNAL_FAILURE, "could not read the tree");
        goto out;
    }
    if (!path[0]) {
        tree = root;
        root = NULL;
    } else if (git_tree_entry_bypath(&entry, root, path) != 0 ||
               git_tree_entry_type(entry) != GIT_OBJECT_TREE ||
               git_tree_lookup(&tree, r.git, git_tree_entry_id(entry)) != 0) {
        rc = proto_error(req, ERR_CC_FOLDER_DOES_NOT_EXIST,
                         "The specified folder %s does not exist.", path_in);
        goto out;
    }
    struct json_object *files = json_object_new_array(), *folders = json_object_new_array();
    struct json_object *links = json_object_new_array(), *mods = json_object_new_array();
    size_t n = git_tree_entrycount(tree);
    for (size_t i = 0; i < n; i++) {
        const git_tree_entry *e = git_tree_entry_byindex(tree, i);
        const char *name = git_tree_entry_name(e);
        unsigned mode = git_tree_entry_filemode(e);
        struct json_object *o = json_object_new_object();
        char *abs = path[0] ? proto_arena_printf(req->arena, "%s/%s", path, name)
                            : proto_arena_strdup(req->arena, name);
        const char *idkey = mode == GIT_FILEMODE_TREE     ? "treeId"
                            : mode == GIT_FILEMODE_COMMIT ? "commitId"
                                                          : "blobId";
        json_object_object_add(
            o, idkey, json_object_new_string(cc_oid_str(req->arena, git_tree_entry_id(e))));
        json_object_object_add(o, "absolutePath", json_object_new_string(abs));
        json_object_object_add(o, "relativePath", json_object_new_string(name));
        if (mode == GIT_FILEMODE_TREE) {
            json_object_array_add(folders, o);
        } else if (mode == GIT_FILEMODE_COMMIT) {
            json_object_array_add(mods, o);
        } else {
            const char *mn = cc_mode_name(mode);
            json_object_object_add(o, "fileMode", json_object_new_string(mn ? mn : "NORMAL"));
            json_object_array_add(mode == GIT_FILEMODE_LINK ? links : files, o);
        }
    }
    req->output = json_object_new_object();
    json_object_object_add(req->output, "commitId",
                           json_object_new_string(cc_oid_str(req->arena, git_commit_id(commit))));
    json_object_object_add(req->output, "folderPath", json_object_new_string(path_in));
    json_object_object_add(req->output, "treeId",
                           json_object_new_string(cc_oid_str(req->arena, git_tree_id(tree))));
    json_object_object_add(req->output, "subFolders", folders);
    json_object_object_add(req->output, "files", files);
    json_object_object_add(req->output, "symbolicLinks", links);
    json_object_object_add(req->output, "subModules", mods);
out:
    git_tree_entry_free(entry);
    git_tree_free(tree);
    git_tree_free(root);
    git_commit_free(commit);
    cc_repo_close(&r);
    return rc;
}
