/* CodeCommit's in-process API, which the pipeline engine calls: branch heads, source variables,
 * CODE_ZIP export into the blob store, and head-move listeners. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "providers/codecommit/codecommit.h"
#include "providers/codecommit/internal.h"
#include "providers/runtime/listeners.h"

static struct rt_listeners head_listeners = RT_LISTENERS_INIT;

int cc_add_head_listener(cc_head_listener fn, void *ctx)
{
    return rt_listeners_add(&head_listeners, (rt_listener_any)fn, ctx);
}

int cc_remove_head_listener(int handle)
{
    return rt_listeners_remove(&head_listeners, handle);
}

static void call_head_listener(rt_listener_any fn, void *ctx, const void *ev)
{
    ((cc_head_listener)fn)(ctx, ev);
}

void cc_notify_head(const char *account, const char *region, const char *repo, const char *branch,
                    const git_oid *old_id, const git_oid *new_id)
{
    char old_hex[GIT_OID_HEXSZ + 1], new_hex[GIT_OID_HEXSZ + 1];
    struct cc_head_event ev = {account, region, repo, branch, NULL, NULL};
    if (old_id) ev.old_id = git_oid_tostr(old_hex, sizeof old_hex, old_id);
    if (new_id) ev.new_id = git_oid_tostr(new_hex, sizeof new_hex, new_id);
    rt_listeners_notify(&head_listeners, call_head_listener, &ev);
}

/* Opens repo of (account, region) into r. Returns 0, CC_ENOREPO or CC_EIO. */
static int open_repo(store *s, const char *account, const char *region, const char *repo,
                     struct cc_repo *r)
{
    cc_git_init();
    int rc = cc_repo_lookup(s, account, region, repo, r);
    if (rc) return rc == STORE_NOTFOUND ? CC_ENOREPO : CC_EIO;
    if (git_repository_open_bare(&r->git, r->path) != 0) {
        r->git = NULL;
        return CC_EIO;
    }
    return 0;
}

/* Looks commit id up in r into *c. Returns 0, CC_ENOCOMMIT or CC_EIO. */
static int lookup_commit(struct cc_repo *r, const git_oid *id, git_commit **c)
{
    int grc = git_commit_lookup(c, r->git, id);
    if (grc == GIT_ENOTFOUND) return CC_ENOCOMMIT;
    return grc ? CC_EIO : 0;
}

int cc_branch_head(store *s, const char *account, const char *region, const char *repo,
                   const char *branch, char commit_id[41])
{
    struct cc_repo r = {0};
    char refname[512];
    git_oid id;
    cc_git_init(); /* the branch check asks libgit2 */
    if (!branch || !cc_branch_name_valid(branch)) return CC_EINVAL;
    int rc = cc_repo_lookup(s, account, region, repo, &r);
    if (rc) {
        rc = rc == STORE_NOTFOUND ? CC_ENOREPO : CC_EIO;
        goto out;
    }
    rc = CC_EIO;
    if (git_repository_open_bare(&r.git, r.path) != 0) {
        r.git = NULL;
        goto out;
    }
    snprintf(refname, sizeof refname, "refs/heads/%s", branch);
    int grc = git_reference_name_to_id(&id, r.git, refname);
    if (grc == GIT_ENOTFOUND) rc = CC_ENOBRANCH;
    if (grc) goto out;
    git_oid_tostr(commit_id, 41, &id);
    rc = 0;
out:
    cc_repo_close(&r);
    return rc;
}

static void iso_date(char out[32], git_time_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int cc_source_vars_get(store *s, const char *account, const char *region, const char *repo,
                       const char *branch, const char *commit_id, struct cc_source_vars *vars)
{
    struct cc_repo r;
    git_commit *c = NULL;
    git_oid id;
    int rc;
    memset(vars, 0, sizeof *vars);
    memset(&r, 0, sizeof r);
    if (!commit_id || !cc_is_full_id(commit_id) || git_oid_fromstr(&id, commit_id) != 0)
        return CC_EINVAL;
    if ((rc = open_repo(s, account, region, repo, &r)) != 0) goto out;
    if ((rc = lookup_commit(&r, &id, &c)) != 0) goto out;
    git_oid_tostr(vars->commit_id, sizeof vars->commit_id, &id);
    const char *msg = git_commit_message(c);
    vars->commit_message = strdup(msg ? msg : "");
    iso_date(vars->author_date, git_commit_author(c)->when.time);
    iso_date(vars->committer_date, git_commit_committer(c)->when.time);
    vars->branch_name = strdup(branch ? branch : "");
    vars->repository_name = strdup(repo);
    if (!vars->commit_message || !vars->branch_name || !vars->repository_name) {
        cc_source_vars_free(vars);
        rc = CC_EIO;
        goto out;
    }
    rc = 0;
out:
    git_commit_free(c);
    cc_repo_close(&r);
    return rc;
}

void cc_source_vars_free(struct cc_source_vars *vars)
{
    free(vars->commit_message);
    free(vars->branch_name);
    free(vars->repository_name);
    vars->commit_message = vars->branch_name = vars->repository_name = NULL;
}

static int blob_write(void *ctx, const void *data, size_t len)
{
    return store_blob_write(ctx, data, len) == 0 ? 0 : -1;
}

int cc_git_export_zip(store *s, const char *git_dir, const char *commit_id, store_blob_writer **out,
                      char *err, size_t errlen)
{
    git_repository *repo = NULL;
    git_commit *c = NULL;
    store_blob_writer *w = NULL;
    git_oid id;
    int rc;
    *out = NULL;
    cc_git_init();
    if (!commit_id || !cc_is_full_id(commit_id) || git_oid_fromstr(&id, commit_id) != 0) {
        snprintf(err, errlen, "invalid commit id");
        return CC_EINVAL;
    }
    int grc = git_repository_open_bare(&repo, git_dir);
    if (grc != 0) {
        repo = NULL;
        rc = grc == GIT_ENOTFOUND ? CC_ENOREPO : CC_EIO;
        snprintf(err, errlen,
                 rc == CC_ENOREPO ? "the repository does not exist"
                                  : "the repository cannot be opened");
        goto out;
    }
    grc = git_commit_lookup(&c, repo, &id);
    if (grc != 0) {
        rc = grc == GIT_ENOTFOUND ? CC_ENOCOMMIT : CC_EIO;
        snprintf(err, errlen,
                 rc == CC_ENOCOMMIT ? "commit %s does not exist" : "commit %s cannot be read",
                 commit_id);
        goto out;
    }
    rc = CC_EIO;
    if (store_blob_create(s, &w) != 0) {
        snprintf(err, errlen, "cannot create a blob");
        goto out;
    }
    if (cc_zip_tree(repo, c, blob_write, w, err, errlen) != 0) goto out;
    *out = w;
    w = NULL;
    rc = 0;
out:
    store_blob_discard(w);
    git_commit_free(c);
    git_repository_free(repo);
    return rc;
}

int cc_export_zip(store *s, const char *account, const char *region, const char *repo,
                  const char *commit_id, store_blob_writer **out, char *err, size_t errlen)
{
    struct cc_repo r;
    *out = NULL;
    int rc = cc_repo_lookup(s, account, region, repo, &r);
    if (rc) {
        snprintf(err, errlen,
                 rc == STORE_NOTFOUND ? "repository %s does not exist"
                                      : "repository %s cannot be read",
                 repo);
        return rc == STORE_NOTFOUND ? CC_ENOREPO : CC_EIO;
    }
    rc = cc_git_export_zip(s, r.path, commit_id, out, err, errlen);
    if (rc == 0) return 0;
    /* Name the repository, as before the shared piece existed. */
    char why[256];
    snprintf(why, sizeof why, "%s", err);
    snprintf(err, errlen, "%s in %s", why, repo);
    return rc;
}

int cc_checkout(store *s, const char *account, const char *region, const char *repo,
                const char *commit, const char *dir, char commit_id[41], char *err, size_t errlen)
{
    struct cc_repo r;
    git_commit *c = NULL;
    git_tree *tree = NULL;
    int rc;
    memset(&r, 0, sizeof r);
    if ((rc = open_repo(s, account, region, repo, &r)) != 0) {
        if (rc == CC_ENOREPO)
            snprintf(err, errlen, "repository %s does not exist", repo);
        else
            snprintf(err, errlen, "repository %s cannot be opened", repo);
        goto out;
    }
    rc = CC_ENOCOMMIT;
    if (!commit || (!cc_is_full_id(commit) && !cc_branch_name_valid(commit)) ||
        cc_resolve_commit(&r, commit, &c) != 0) {
        snprintf(err, errlen, "commit %s does not exist in %s", commit ? commit : "", repo);
        goto out;
    }
    rc = CC_EIO;
    if (git_commit_tree(&tree, c) != 0) {
        snprintf(err, errlen, "cannot read the tree of %s", commit);
        goto out;
    }
    git_checkout_options opts;
    git_checkout_options_init(&opts, GIT_CHECKOUT_OPTIONS_VERSION);
    opts.checkout_strategy = GIT_CHECKOUT_FORCE | GIT_CHECKOUT_DONT_UPDATE_INDEX;
    opts.target_directory = dir;
    opts.disable_filters = 1;
    if (git_checkout_tree(r.git, (const git_object *)tree, &opts) != 0) {
        const git_error *ge = git_error_last();
        snprintf(err, errlen, "checkout: %s", ge && ge->message ? ge->message : "failed");
        goto out;
    }
    if (commit_id) git_oid_tostr(commit_id, 41, git_commit_id(c));
    rc = 0;
out:
    git_tree_free(tree);
    git_commit_free(c);
    cc_repo_close(&r);
    return rc;
}

int cc_repo_git_dir(store *s, const char *account, const char *region, const char *repo, char *buf,
                    size_t buflen)
{
    struct cc_repo r;
    int rc = cc_repo_lookup(s, account, region, repo, &r);
    if (rc) return rc == STORE_NOTFOUND ? CC_ENOREPO : CC_EIO;
    if (!r.path[0]) return CC_EIO;
    int n = snprintf(buf, buflen, "%s", r.path);
    return n < 0 || (size_t)n >= buflen ? CC_ERANGE : 0;
}
