/* The CodeCommit source action: the branch head (or the triggering or overriding commit) as a
 * CODE_ZIP, or as a CODEBUILD_CLONE_REF reference that a build clones. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "providers/codecommit/codecommit.h"
#include "providers/codepipeline/actions/actions.h"

static const char *out_name(struct cp_action_ctx *ac)
{
    struct json_object *o0 = ac->outputs ? json_object_array_get_idx(ac->outputs, 0) : NULL, *n;
    return o0 && json_object_object_get_ex(o0, "name", &n) ? json_object_get_string(n)
                                                           : "SourceArtifact";
}

/* Puts the blob of writer w (uncommitted) as the artifact. */
static int put_blob(struct cp_action_ctx *ac, store_blob_writer *w, struct cp_action_result *r)
{
    store_txn *t = NULL;
    char id[STORE_BLOB_ID_LEN + 1];
    if (store_txn_begin(ac->st, 1, &t)) {
        store_blob_discard(w);
        return cp_action_fail(r, "The data store failed");
    }
    if (store_blob_commit(t, w, id) || store_txn_commit(t)) {
        store_txn_abort(t);
        return cp_action_fail(r, "The data store failed");
    }
    int fd = store_blob_open(ac->st, id);
    int rc = fd < 0 ? -1 : cp_artifact_put_fd(ac, out_name(ac), fd, r);
    if (fd >= 0) close(fd);
    if (!store_txn_begin(ac->st, 1, &t)) {
        store_blob_delete(t, id);
        if (store_txn_commit(t)) store_txn_abort(t);
    }
    if (fd < 0) return cp_action_fail(r, "The source zip could not be read back");
    return rc ? CP_ACT_FAILED : 0;
}

int cp_act_codecommit_source(struct cp_action_ctx *ac, struct cp_action_result *r)
{
    const char *repo = cp_cfg(ac, "RepositoryName"), *branch = cp_cfg(ac, "BranchName");
    const char *format = cp_cfg(ac, "OutputArtifactFormat");
    if (!repo || !branch) return cp_action_fail(r, "RepositoryName and BranchName are required");
    char commit[41];
    const char *want = cp_override(ac, "COMMIT_ID");
    if (want) {
        snprintf(commit, sizeof commit, "%s", want);
    } else {
        int rc = cc_branch_head(ac->st, ac->account, ac->region, repo, branch, commit);
        if (rc == CC_ENOREPO) return cp_action_fail(r, "The repository %s does not exist", repo);
        if (rc == CC_EIO)
            return cp_action_fail(r, "The branch %s of repository %s could not be read", branch,
                                  repo);
        if (rc)
            return cp_action_fail(r, "The branch %s of repository %s does not exist", branch, repo);
    }
    struct cc_source_vars v = {0};
    int vrc = cc_source_vars_get(ac->st, ac->account, ac->region, repo, branch, commit, &v);
    if (vrc == CC_ENOREPO) return cp_action_fail(r, "The repository %s does not exist", repo);
    if (vrc == CC_EIO)
        return cp_action_fail(r, "The commit %s of repository %s could not be read", commit, repo);
    if (vrc)
        return cp_action_fail(r, "The commit %s does not exist in repository %s", commit, repo);
    int st;
    if (format && !strcmp(format, "CODEBUILD_CLONE_REF")) {
        /* A reference the CodeBuild action resolves into a full clone. */
        struct json_object *ref = json_object_new_object();
        char url[600];
        snprintf(url, sizeof url, "%s/v1/repos/%s", ac->endpoint_url, repo);
        json_object_object_add(ref, "CloneUrl", json_object_new_string(url));
        json_object_object_add(ref, "RepositoryName", json_object_new_string(repo));
        json_object_object_add(ref, "BranchName", json_object_new_string(branch));
        json_object_object_add(ref, "CommitId", json_object_new_string(commit));
        const char *s = json_object_to_json_string_ext(ref, JSON_C_TO_STRING_PLAIN);
        int fds[2];
        st = CP_ACT_FAILED;
        if (!pipe(fds)) {
            ssize_t w = write(fds[1], s, strlen(s));
            close(fds[1]);
            if (w == (ssize_t)strlen(s) && !cp_artifact_put_fd(ac, out_name(ac), fds[0], r)) st = 0;
            close(fds[0]);
        }
        json_object_put(ref);
        if (st) {
            cc_source_vars_free(&v);
            return cp_action_fail(r, "Could not write the clone reference");
        }
    } else {
        store_blob_writer *w = NULL;
        char err[512];
        if (cc_export_zip(ac->st, ac->account, ac->region, repo, commit, &w, err, sizeof err)) {
            cc_source_vars_free(&v);
            return cp_action_fail(r, "Could not export commit %s: %s", commit, err);
        }
        if ((st = put_blob(ac, w, r))) {
            cc_source_vars_free(&v);
            return st;
        }
    }
    r->variables = json_object_new_object();
    json_object_object_add(r->variables, "CommitId", json_object_new_string(v.commit_id));
    json_object_object_add(r->variables, "CommitMessage",
                           json_object_new_string(v.commit_message ? v.commit_message : ""));
    json_object_object_add(r->variables, "AuthorDate", json_object_new_string(v.author_date));
    json_object_object_add(r->variables, "CommitterDate", json_object_new_string(v.committer_date));
    json_object_object_add(r->variables, "BranchName", json_object_new_string(branch));
    json_object_object_add(r->variables, "RepositoryName", json_object_new_string(repo));
    r->revision = json_object_new_object();
    json_object_object_add(r->revision, "revisionId", json_object_new_string(v.commit_id));
    json_object_object_add(r->revision, "revisionSummary",
                           json_object_new_string(v.commit_message ? v.commit_message : ""));
    char url[700];
    snprintf(url, sizeof url,
             "https://%s.console.aws.amazon.com/codecommit/home#/repository/%s/commit/%s",
             ac->region, repo, v.commit_id);
    json_object_object_add(r->revision, "revisionUrl", json_object_new_string(url));
    r->external_id = strdup(v.commit_id);
    r->external_url = strdup(url);
    r->summary = strdup(v.commit_message ? v.commit_message : "");
    cc_source_vars_free(&v);
    return CP_ACT_SUCCEEDED;
}
