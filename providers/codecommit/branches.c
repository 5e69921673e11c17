/* Branches: moving heads (with listeners) and CreateBranch, GetBranch, ListBranches, DeleteBranch.
 */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "providers/codecommit/internal.h"

static const char *jstr(struct json_object *o, const char *key)
{
    return cc_json_str(o, key);
}

int cc_branch_move(store *s, struct cc_repo *r, const char *branch, const git_oid *new_id,
                   const git_oid *expected, int allow_any, const char *log_message)
{
    char refname[512];
    git_oid old;
    git_reference *ref = NULL;
    snprintf(refname, sizeof refname, "refs/heads/%s", branch);
    int exists = git_reference_name_to_id(&old, r->git, refname) == 0;
    if (!allow_any) {
        if (!expected && exists) return 1;
        if (expected && (!exists || !git_oid_equal(&old, expected))) return 1;
    }
    int rc = git_reference_create_matching(&ref, r->git, refname, new_id, exists ? 1 : 0,
                                           exists ? &old : NULL, log_message);
    git_reference_free(ref);
    if (rc == GIT_EMODIFIED || rc == GIT_EEXISTS || rc == GIT_ELOCKED) return 1;
    if (rc != 0) return -1;
    cc_repo_note_branch(s, r, branch);
    cc_notify_head(r->account, r->region, r->name, branch, exists ? &old : NULL, new_id);
    return 0;
}

int cc_op_create_branch(struct proto_req *req)
{
    const char *name = jstr(req->input, "repositoryName");
    const char *branch = jstr(req->input, "branchName");
    const char *commit_id = jstr(req->input, "commitId");
    struct cc_repo r;
    git_commit *commit = NULL;
    int rc;
    /* AWS's quotas: "branch names of exactly 40 hexadecimal characters are not allowed"
     * (https://docs.aws.amazon.com/codecommit/latest/userguide/limits.html). */
    if (!cc_branch_name_valid(branch) || cc_is_full_id(branch))
        return proto_error(req, ERR_CC_INVALID_BRANCH_NAME,
                           "The specified reference name is not valid.");
    if (!cc_is_full_id(commit_id))
        return proto_error(req, ERR_CC_INVALID_COMMIT_ID, "The specified commit ID is not valid.");
    if ((rc = cc_repo_open(req, name, &r))) return rc;
    cc_repo_lock(r.id);
    char refname[512];
    git_oid old;
    snprintf(refname, sizeof refname, "refs/heads/%s", branch);
    if (git_reference_name_to_id(&old, r.git, refname) == 0) {
        rc = proto_error(req, ERR_CC_BRANCH_NAME_EXISTS, "Branch %s already exists", branch);
        goto out;
    }
    if (cc_resolve_commit(&r, commit_id, &commit) != 0) {
        rc = proto_error(req, ERR_CC_COMMIT_DOES_NOT_EXIST,
                         "Could not find commit with commit ID %s", commit_id);
        goto out;
    }
    int m = cc_branch_move(req->store, &r, branch, git_commit_id(commit), NULL, 0,
                           "branch: Created by CreateBranch");
    if (m == 1)
        rc = proto_error(req, ERR_CC_BRANCH_NAME_EXISTS, "Branch %s already exists", branch);
    else if (m)
        rc = proto_error(req, ERR_INTERNAL_FAILURE, "could not create the branch");
out:
    cc_repo_unlock(r.id);
    git_commit_free(commit);
    cc_repo_close(&r);
    return rc;
}

int cc_op_get_branch(struct proto_req *req)
{
    const char *name = jstr(req->input, "repositoryName");
    const char *branch = jstr(req->input, "branchName");
    struct cc_repo r;
    git_oid id;
    char refname[512];
    int rc;
    if (!name)
        return proto_error(req, ERR_CC_REPOSITORY_NAME_REQUIRED,
                           "A repository name is required, but was not specified.");
    if (!branch)
        return proto_error(req, ERR_CC_BRANCH_NAME_REQUIRED,
                           "A branch name is required, but was not specified.");
    if (!cc_branch_name_valid(branch))
        return proto_error(req, ERR_CC_INVALID_BRANCH_NAME,
                           "The specified reference name is not valid.");
    if ((rc = cc_repo_open(req, name, &r))) return rc;
    snprintf(refname, sizeof refname, "refs/heads/%s", branch);
    if (git_reference_name_to_id(&id, r.git, refname) != 0) {
        rc = proto_error(req, ERR_CC_BRANCH_DOES_NOT_EXIST, "Branch %s does not exist", branch);
        goto out;
    }
    struct json_object *b = json_object_new_object();
    json_object_object_add(b, "branchName", json_object_new_string(branch));
    json_object_object_add(b, "commitId", json_object_new_string(cc_oid_str(req->arena, &id)));
    req->output = json_object_new_object();
    json_object_object_add(req->output, "branch", b);
out:
    cc_repo_close(&r);
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int cc_op_list_branches(struct proto_req *req)
{
    struct cc_repo r;
    git_branch_iterator *it = NULL;
    git_reference *ref = NULL;
    git_branch_t type;
    long start = cc_token_parse(jstr(req->input, "nextToken"));
    int rc;
    if (start < 0)
        return proto_error(req, ERR_CC_INVALID_CONTINUATION_TOKEN,
                           "The specified continuation token is not valid.");
    if ((rc = cc_repo_open(req, jstr(req->input, "repositoryName"), &r))) return rc;
    size_t n = 0, cap = 32;
    const char **names = malloc(cap * sizeof *names);
    if (!names) abort();
    if (git_branch_iterator_new(&it, r.git, GIT_BRANCH_LOCAL) == 0) {
        while (git_branch_next(&ref, &type, it) == 0) {
            const char *bn = NULL;
            if (git_branch_name(&bn, ref) == 0) {
                if (n == cap) {
                    cap *= 2;
                    names = realloc(names, cap * sizeof *names);
                    if (!names) abort();
                }
                names[n++] = proto_arena_strdup(req->arena, bn);
            }
            git_reference_free(ref);
        }
        git_branch_iterator_free(it);
    }
    qsort(names, n, sizeof *names, cmp_str);
    if ((size_t)start > n) {
        rc = proto_error(req, ERR_CC_INVALID_CONTINUATION_TOKEN,
                         "The specified continuation token is not valid.");
        goto out;
    }
    size_t page = cc_page_size(), i = (size_t)start;
    struct json_object *arr = json_object_new_array();
    for (; i < n && i < (size_t)start + page; i++)
        json_object_array_add(arr, json_object_new_string(names[i]));
    req->output = json_object_new_object();
    json_object_object_add(req->output, "branches", arr);
    if (i < n)
        json_object_object_add(req->output, "nextToken",
                               json_object_new_string(cc_token(req->arena, i)));
out:
    free(names);
    cc_repo_close(&r);
    return rc;
}

int cc_op_delete_branch(struct proto_req *req)
{
    const char *branch = jstr(req->input, "branchName");
    struct cc_repo r;
    int rc;
    if (!cc_branch_name_valid(branch))
        return proto_error(req, ERR_CC_INVALID_BRANCH_NAME,
                           "The specified reference name is not valid.");
    if ((rc = cc_repo_open(req, jstr(req->input, "repositoryName"), &r))) return rc;
    cc_repo_lock(r.id);
    req->output = json_object_new_object();
    git_oid old;
    switch (cc_repo_delete_branch(req->store, &r, branch, &old)) {
    case CC_DEL_OK:
        break;
    case CC_DEL_NO_BRANCH:
        goto out; /* AWS: success, nothing deleted */
    case CC_DEL_DEFAULT:
        rc = proto_error(req, ERR_CC_DEFAULT_BRANCH_CANNOT_BE_DELETED,
                         "The default branch of a repository cannot be deleted.");
        goto out;
    case CC_DEL_NO_REPOSITORY:
        rc = proto_error(req, ERR_CC_REPOSITORY_DOES_NOT_EXIST, "%s does not exist", r.name);
        goto out;
    default:
        rc = proto_error(req, ERR_INTERNAL_FAILURE, "could not delete the branch");
        goto out;
    }
    struct json_object *b = json_object_new_object();
    json_object_object_add(b, "branchName", json_object_new_string(branch));
    json_object_object_add(b, "commitId", json_object_new_string(cc_oid_str(req->arena, &old)));
    json_object_object_add(req->output, "deletedBranch", b);
    cc_notify_head(r.account, r.region, r.name, branch, &old, NULL);
out:
    cc_repo_unlock(r.id);
    cc_repo_close(&r);
    return rc;
}
