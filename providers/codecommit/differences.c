/* Comparing and merging commits: GetDifferences, MergeBranchesByFastForward, GetMergeCommit,
 * GetMergeOptions. */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "providers/codecommit/internal.h"

static const char *jstr(struct json_object *o, const char *key)
{
    return cc_json_str(o, key);
}

/* Resolves a required commit specifier into *out or sets AWS's error. */
static int need_commit(struct proto_req *req, struct cc_repo *r, const char *spec, git_commit **out)
{
    if (!spec || !*spec)
        return proto_error(req, ERR_CC_COMMIT_REQUIRED, "A commit was not specified.");
    if (cc_resolve_commit(r, spec, out) == 0) return 0;
    return proto_error(req, ERR_CC_COMMIT_DOES_NOT_EXIST,
                       "Could not find commit with commit specifier %s", spec);
}

/* Checks that path (normalised, "" for the root) exists in commit's tree. */
static int path_exists(git_commit *commit, const char *path)
{
    git_tree *tree = NULL;
    git_tree_entry *e = NULL;
    if (!path[0]) return 1;
    if (!commit || git_commit_tree(&tree, commit) != 0) return 0;
    int ok = git_tree_entry_bypath(&e, tree, path) == 0;
    git_tree_entry_free(e);
    git_tree_free(tree);
    return ok;
}

/* Loads the folder path of tree (NULL tree or "" path: *out = NULL or the tree itself).
 * Returns 0 (with *out NULL when the path is absent), or -1 when path names a non-folder. */
static int subtree(git_repository *repo, git_tree *tree, const char *path, git_tree **out)
{
    git_tree_entry *e = NULL;
    *out = NULL;
    if (!tree) return 0;
    if (!path[0]) return git_tree_dup(out, tree);
    if (git_tree_entry_bypath(&e, tree, path) != 0) return 0;
    int rc = -1;
    if (git_tree_entry_type(e) == GIT_OBJECT_TREE)
        rc = git_tree_lookup(out, repo, git_tree_entry_id(e)) == 0 ? 0 : -1;
    git_tree_entry_free(e);
    return rc;
}

static struct json_object *blob_meta(const git_diff_file *f, proto_arena *a)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "blobId", json_object_new_string(cc_oid_str(a, &f->id)));
    json_object_object_add(o, "path", json_object_new_string(f->path));
    json_object_object_add(o, "mode",
                           json_object_new_string(proto_arena_printf(a, "%06o", f->mode)));
    return o;
}

int cc_op_get_differences(struct proto_req *req)
{
    struct cc_repo r;
    git_commit *before = NULL, *after = NULL;
    git_tree *bt = NULL, *at = NULL;
    git_diff *diff = NULL;
    struct json_object *mr = NULL;
    char bpath[CC_MAX_PATH_LEN + 1] = "", apath[CC_MAX_PATH_LEN + 1] = "";
    const char *bp = jstr(req->input, "beforePath"), *ap = jstr(req->input, "afterPath");
    long max = 100;
    int rc;
    long start = cc_token_parse(jstr(req->input, "NextToken"));
    if (start < 0)
        return proto_error(req, ERR_CC_INVALID_CONTINUATION_TOKEN,
                           "The specified continuation token is not valid.");
    if (json_object_object_get_ex(req->input, "MaxResults", &mr)) {
        max = (long)json_object_get_int64(mr);
        if (max < 1 || max > 1000)
            return proto_error(req, ERR_CC_INVALID_MAX_RESULTS,
                               "The specified number of maximum results is not valid.");
    }
    if ((bp && cc_path_normalize(bp, strlen(bp), CC_PATH_READ | CC_PATH_ALLOW_ROOT, bpath,
                                 sizeof bpath) != 0) ||
        (ap && cc_path_normalize(ap, strlen(ap), CC_PATH_READ | CC_PATH_ALLOW_ROOT, apath,
                                 sizeof apath) != 0))
        return proto_error(req, ERR_CC_INVALID_PATH, "The specified path is not valid.");
    if ((rc = cc_repo_open(req, jstr(req->input, "repositoryName"), &r))) return rc;
    if ((rc = need_commit(req, &r, jstr(req->input, "afterCommitSpecifier"), &after))) goto out;
    const char *bs = jstr(req->input, "beforeCommitSpecifier");
    if (bs && (rc = need_commit(req, &r, bs, &before))) goto out;
    if ((bp && !path_exists(before, bpath) && !path_exists(after, bpath)) ||
        (ap && !path_exists(after, apath) && !path_exists(before, apath))) {
        rc = proto_error(req, ERR_CC_PATH_DOES_NOT_EXIST, "The specified path does not exist.");
        goto out;
    }
    if ((before && git_commit_tree(&bt, before) != 0) || git_commit_tree(&at, after) != 0) {
        rc = proto_error(req, ERR_INTERNAL_FAILURE, "could not read the trees");
        goto out;
    }
    git_diff_options opts;
    git_diff_options_init(&opts, GIT_DIFF_OPTIONS_VERSION);
    char *specs[2];
    size_t nspec = 0;
    /* A folder named differently before and after ("the previous name of a directory or
     * folder", AWS's beforePath documentation): the two folders are compared with each other,
     * paths relative to them, as in AWS's get-differences example, where --before-path
     * tmp/example-folder and --after-path tmp/renamed-folder give one "M" of blob.txt
     * (awscli/examples/codecommit/get-differences.rst). */
    git_tree *bsub = NULL, *asub = NULL;
    if (bp && ap && strcmp(bpath, apath) != 0 && subtree(r.git, bt, bpath, &bsub) == 0 &&
        subtree(r.git, at, apath, &asub) == 0) {
        git_tree_free(bt);
        git_tree_free(at);
        bt = bsub;
        at = asub;
    } else {
        git_tree_free(bsub);
        git_tree_free(asub);
        if (bpath[0]) specs[nspec++] = bpath;
        if (apath[0] && strcmp(apath, bpath) != 0) specs[nspec++] = apath;
    }
    opts.pathspec.strings = specs;
    opts.pathspec.count = nspec;
    opts.flags |= GIT_DIFF_DISABLE_PATHSPEC_MATCH; /* paths are literal, not patterns */
    if (git_diff_tree_to_tree(&diff, r.git, bt, at, &opts) != 0) {
        rc = proto_error(req, ERR_INTERNAL_FAILURE, "could not compare the commits");
        goto out;
    }
    size_t n = git_diff_num_deltas(diff), i = (size_t)start;
    if (i > n) {
        rc = proto_error(req, ERR_CC_INVALID_CONTINUATION_TOKEN,
                         "The specified continuation token is not valid.");
        goto out;
    }
    struct json_object *arr = json_object_new_array();
    for (; i < n && i < (size_t)start + (size_t)max; i++) {
        const git_diff_delta *d = git_diff_get_delta(diff, i);
        struct json_object *o = json_object_new_object();
        const char *ct = "M";
        if (d->status == GIT_DELTA_ADDED)
            ct = "A";
        else if (d->status == GIT_DELTA_DELETED)
            ct = "D";
        if (d->status != GIT_DELTA_ADDED)
            json_object_object_add(o, "beforeBlob", blob_meta(&d->old_file, req->arena));
        if (d->status != GIT_DELTA_DELETED)
            json_object_object_add(o, "afterBlob", blob_meta(&d->new_file, req->arena));
        json_object_object_add(o, "changeType", json_object_new_string(ct));
        json_object_array_add(arr, o);
    }
    req->output = json_object_new_object();
    json_object_object_add(req->output, "differences", arr);
    if (i < n)
        json_object_object_add(req->output, "NextToken",
                               json_object_new_string(cc_token(req->arena, i)));
out:
    git_diff_free(diff);
    git_tree_free(bt);
    git_tree_free(at);
    git_commit_free(before);
    git_commit_free(after);
    cc_repo_close(&r);
    return rc;
}

int cc_op_merge_branches_by_fast_forward(struct proto_req *req)
{
    struct cc_repo r;
    git_commit *src = NULL, *dst = NULL;
    const char *dspec = jstr(req->input, "destinationCommitSpecifier");
    const char *target = jstr(req->input, "targetBranch");
    char refname[512];
    git_oid head;
    int rc;
    if (!target) target = dspec;
    if ((rc = cc_repo_open(req, jstr(req->input, "repositoryName"), &r))) return rc;
    cc_repo_lock(r.id);
    if ((rc = need_commit(req, &r, jstr(req->input, "sourceCommitSpecifier"), &src))) goto out;
    if ((rc = need_commit(req, &r, dspec, &dst))) goto out;
    if (!cc_branch_name_valid(target)) {
        rc = proto_error(req, ERR_CC_INVALID_TARGET_BRANCH,
                         "The specified target branch is not valid.");
        goto out;
    }
    snprintf(refname, sizeof refname, "refs/heads/%s", target);
    if (git_reference_name_to_id(&head, r.git, refname) != 0) {
        rc = proto_error(req, ERR_CC_BRANCH_DOES_NOT_EXIST, "Branch %s does not exist", target);
        goto out;
    }
    const git_oid *sid = git_commit_id(src);
    if (git_oid_equal(sid, &head) || git_graph_descendant_of(r.git, &head, sid) == 1) {
        /* Already contains the source: nothing to move. */
        git_commit_free(src);
        src = NULL;
        if (git_commit_lookup(&src, r.git, &head) != 0) {
            rc = proto_error(req, ERR_INTERNAL_FAILURE, "could not read the branch head");
            goto out;
        }
    } else if (!git_oid_equal(git_commit_id(dst), &head) &&
               git_graph_descendant_of(r.git, git_commit_id(dst), &head) != 1) {
        rc = proto_error(req, ERR_CC_INVALID_TARGET_BRANCH,
                         "The specified target branch is not valid.");
        goto out;
    } else if (git_graph_descendant_of(r.git, sid, &head) != 1) {
        rc = proto_error(req, ERR_CC_MANUAL_MERGE_REQUIRED,
                         "The pull request cannot be merged automatically into the destination "
                         "branch. You must manually merge the branches and resolve any conflicts.");
        goto out;
    } else {
        int m = cc_branch_move(req->store, &r, target, sid, &head, 0, "merge: fast-forward");
        if (m == 1) {
            rc = proto_error(req, ERR_CC_CONCURRENT_REFERENCE_UPDATE,
                             "The merge cannot be completed because the target branch has been "
                             "modified. Another user might have modified the target branch while "
                             "the merge was in progress. Wait a few minutes, and then try again.");
            goto out;
        }
        if (m) {
            rc = proto_error(req, ERR_INTERNAL_FAILURE, "could not move the branch");
            goto out;
        }
    }
    req->output = json_object_new_object();
    json_object_object_add(req->output, "commitId",
                           json_object_new_string(cc_oid_str(req->arena, git_commit_id(src))));
    json_object_object_add(req->output, "treeId",
                           json_object_new_string(cc_oid_str(req->arena, git_commit_tree_id(src))));
out:
    cc_repo_unlock(r.id);
    git_commit_free(src);
    git_commit_free(dst);
    cc_repo_close(&r);
    return rc;
}

/* Writes the unreferenced commit that a three-way merge of src into dst gives (parents dst, src)
 * into *out. Its author and time are derived from the two commits, so the same pair always
 * gives the same id. Returns 0, 1 when the merge has conflicts, or -1 on error. */
static int merge_commit(git_repository *repo, const git_commit *dst, const git_commit *src,
                        git_oid *out)
{
    git_index *idx = NULL;
    git_tree *tree = NULL;
    git_signature *sig = NULL;
    git_oid tree_id;
    int rc = -1;
    if (git_merge_commits(&idx, repo, dst, src, NULL) != 0) goto out;
    if (git_index_has_conflicts(idx)) {
        rc = 1;
        goto out;
    }
    if (git_index_write_tree_to(&tree_id, idx, repo) != 0 ||
        git_tree_lookup(&tree, repo, &tree_id) != 0)
        goto out;
    git_time_t when =
        git_commit_time(src) > git_commit_time(dst) ? git_commit_time(src) : git_commit_time(dst);
    if (git_signature_new(&sig, "AWS CodeCommit", "codecommit@localhost", when, 0) != 0) goto out;
    const git_commit *parents[2] = {dst, src};
    char msg[128];
    snprintf(msg, sizeof msg, "Merge %.40s into %.40s\n", git_oid_tostr_s(git_commit_id(src)),
             git_oid_tostr_s(git_commit_id(dst)));
    if (git_commit_create(out, repo, NULL, sig, sig, NULL, msg, tree, 2, parents) != 0) goto out;
    rc = 0;
out:
    git_signature_free(sig);
    git_tree_free(tree);
    git_index_free(idx);
    return rc;
}

/* Adds sourceCommitId, destinationCommitId and, when the two commits have a merge base,
 * baseCommitId to req->output, as GetMergeCommit and GetMergeOptions answer them. Returns 1 with
 * the base in *base, or 0 when there is none. */
static int add_merge_ids(struct proto_req *req, git_repository *git, const git_commit *src,
                         const git_commit *dst, git_oid *base)
{
    json_object_object_add(req->output, "sourceCommitId",
                           json_object_new_string(cc_oid_str(req->arena, git_commit_id(src))));
    json_object_object_add(req->output, "destinationCommitId",
                           json_object_new_string(cc_oid_str(req->arena, git_commit_id(dst))));
    if (git_merge_base(base, git, git_commit_id(src), git_commit_id(dst)) != 0) return 0;
    json_object_object_add(req->output, "baseCommitId",
                           json_object_new_string(cc_oid_str(req->arena, base)));
    return 1;
}

int cc_op_get_merge_commit(struct proto_req *req)
{
    struct cc_repo r;
    git_commit *src = NULL, *dst = NULL;
    git_oid base;
    int rc;
    if ((rc = cc_repo_open(req, jstr(req->input, "repositoryName"), &r))) return rc;
    if ((rc = need_commit(req, &r, jstr(req->input, "sourceCommitSpecifier"), &src))) goto out;
    if ((rc = need_commit(req, &r, jstr(req->input, "destinationCommitSpecifier"), &dst))) goto out;
    req->output = json_object_new_object();
    if (add_merge_ids(req, r.git, src, dst, &base)) {
        /* AWS's get-merge-commit example answers a merge commit id when neither side contains
         * the other (awscli/examples/codecommit/get-merge-commit.rst); a fast-forward has none,
         * as the model's mergedCommitId documentation says. */
        git_oid merged;
        if (!git_oid_equal(&base, git_commit_id(src)) &&
            !git_oid_equal(&base, git_commit_id(dst)) &&
            merge_commit(r.git, dst, src, &merged) == 0)
            json_object_object_add(req->output, "mergedCommitId",
                                   json_object_new_string(cc_oid_str(req->arena, &merged)));
    }
out:
    git_commit_free(src);
    git_commit_free(dst);
    cc_repo_close(&r);
    return rc;
}

/* Returns 1 when a three-way merge of src into dst has no conflicts, 0 otherwise. */
static int merges_cleanly(git_repository *repo, const git_commit *dst, const git_commit *src)
{
    git_index *idx = NULL;
    int ok = git_merge_commits(&idx, repo, dst, src, NULL) == 0 && !git_index_has_conflicts(idx);
    git_index_free(idx);
    return ok;
}

int cc_op_get_merge_options(struct proto_req *req)
{
    struct cc_repo r;
    git_commit *src = NULL, *dst = NULL;
    git_oid base;
    int rc;
    if ((rc = cc_repo_open(req, jstr(req->input, "repositoryName"), &r))) return rc;
    if ((rc = need_commit(req, &r, jstr(req->input, "sourceCommitSpecifier"), &src))) goto out;
    if ((rc = need_commit(req, &r, jstr(req->input, "destinationCommitSpecifier"), &dst))) goto out;
    struct json_object *opts = json_object_new_array();
    req->output = json_object_new_object();
    json_object_object_add(req->output, "mergeOptions", opts);
    if (add_merge_ids(req, r.git, src, dst, &base)) {
        /* AWS's get-merge-options example: a destination that is the merge base (so a
         * fast-forward is possible) lists all three options. */
        if (git_oid_equal(&base, git_commit_id(dst)))
            json_object_array_add(opts, json_object_new_string("FAST_FORWARD_MERGE"));
    }
    if (merges_cleanly(r.git, dst, src)) {
        json_object_array_add(opts, json_object_new_string("SQUASH_MERGE"));
        json_object_array_add(opts, json_object_new_string("THREE_WAY_MERGE"));
    }
out:
    git_commit_free(src);
    git_commit_free(dst);
    cc_repo_close(&r);
    return rc;
}
