/* The CodeStarSourceConnection source action: a commit of a repository on the local Git host
 * behind a connection, as a CODE_ZIP or as a CODEBUILD_CLONE_REF reference a build clones. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "providers/codepipeline/actions/actions.h"
#include "providers/connections/connections.h"

static const char *out_name(struct cp_action_ctx *ac)
{
    struct json_object *o0 = ac->outputs ? json_object_array_get_idx(ac->outputs, 0) : NULL, *n;
    return o0 && json_object_object_get_ex(o0, "name", &n) ? json_object_get_string(n)
                                                           : "SourceArtifact";
}

/* Puts the bytes s as the artifact. Returns 0 or -1. */
static int put_text(struct cp_action_ctx *ac, const char *s, struct cp_action_result *r)
{
    int fds[2], rc = -1;
    if (pipe(fds)) return -1;
    size_t n = strlen(s);
    ssize_t w = write(fds[1], s, n);
    close(fds[1]);
    if (w == (ssize_t)n && !cp_artifact_put_fd(ac, out_name(ac), fds[0], r)) rc = 0;
    close(fds[0]);
    return rc;
}

/* Puts the blob of writer w (uncommitted) as the artifact, then drops the blob. */
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

static void var(struct json_object *o, const char *k, const char *v)
{
    json_object_object_add(o, k, json_object_new_string(v ? v : ""));
}

int cp_act_connection_source(struct cp_action_ctx *ac, struct cp_action_result *r)
{
    const char *repo = cp_cfg(ac, "FullRepositoryId"), *branch = cp_cfg(ac, "BranchName");
    const char *conn = cp_cfg(ac, "ConnectionArn"), *format = cp_cfg(ac, "OutputArtifactFormat");
    if (!repo || !branch || !conn)
        return cp_action_fail(r, "FullRepositoryId, BranchName and ConnectionArn are required");
    int rc = conn_connection_exists(ac->st, ac->account, conn);
    if (rc == CONN_ENOREPO)
        return cp_action_fail(r, "The connection %s does not exist in account %s", conn,
                              ac->account);
    if (rc) return cp_action_fail(r, "The data store failed");
    char commit[41];
    const char *want = cp_override(ac, "COMMIT_ID");
    if (want) {
        snprintf(commit, sizeof commit, "%s", want);
    } else {
        rc = conn_branch_head(ac->st, ac->account, repo, branch, commit);
        if (rc == CONN_ENOREPO)
            return cp_action_fail(r, "The repository %s does not exist: push to it first", repo);
        if (rc)
            return cp_action_fail(r, "The branch %s of repository %s does not exist", branch, repo);
    }
    struct conn_source_vars v = {0};
    if (conn_source_vars_get(ac->st, ac->account, repo, branch, conn, commit, &v))
        return cp_action_fail(r, "The commit %s does not exist in repository %s", commit, repo);
    int st = 0;
    if (format && !strcmp(format, "CODEBUILD_CLONE_REF")) {
        /* What a build needs to clone the repository itself from the local Git host. */
        struct json_object *ref = json_object_new_object();
        char url[700];
        snprintf(url, sizeof url, "%s/_git/%s.git", ac->endpoint_url, repo);
        var(ref, "CloneUrl", url);
        var(ref, "FullRepositoryId", repo);
        var(ref, "BranchName", branch);
        var(ref, "CommitId", v.commit_id);
        var(ref, "ConnectionArn", conn);
        st = put_text(ac, json_object_to_json_string_ext(ref, JSON_C_TO_STRING_PLAIN), r);
        json_object_put(ref);
        if (st) st = cp_action_fail(r, "Could not write the clone reference");
    } else {
        store_blob_writer *w = NULL;
        char err[512];
        if (conn_export_zip(ac->st, ac->account, repo, v.commit_id, &w, err, sizeof err))
            st = cp_action_fail(r, "Could not export commit %s: %s", v.commit_id, err);
        else
            st = put_blob(ac, w, r);
    }
    if (st) {
        conn_source_vars_free(&v);
        return st;
    }
    const char *msg = v.commit_message ? v.commit_message : "";
    r->variables = json_object_new_object();
    var(r->variables, "CommitId", v.commit_id);
    var(r->variables, "CommitMessage", msg);
    var(r->variables, "AuthorDate", v.author_date);
    var(r->variables, "BranchName", v.branch_name ? v.branch_name : branch);
    var(r->variables, "FullRepositoryName", v.full_repository_name ? v.full_repository_name : repo);
    var(r->variables, "ConnectionArn", v.connection_arn ? v.connection_arn : conn);
    var(r->variables, "AuthorDisplayName", v.author_display_name);
    var(r->variables, "AuthorEmail", v.author_email);
    var(r->variables, "AuthorId", v.author_id);
    r->revision = json_object_new_object();
    var(r->revision, "revisionId", v.commit_id);
    var(r->revision, "revisionSummary", msg);
    char url[700];
    snprintf(url, sizeof url, "%s/_git/%s.git", ac->endpoint_url, repo);
    var(r->revision, "revisionUrl", url);
    r->external_id = strdup(v.commit_id);
    r->external_url = strdup(url);
    r->summary = strdup(msg);
    conn_source_vars_free(&v);
    return CP_ACT_SUCCEEDED;
}
