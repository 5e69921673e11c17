/* The in-process interface for the pipeline engine: heads, tags, commit variables and CODE_ZIP
 * exports of the connections' Git repositories. */
#include <git2.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "providers/codecommit/codecommit.h"
#include "providers/connections/connections.h"

/* Opens the bare repository of full_repo. Returns 0, CONN_EINVAL or CONN_ENOREPO. */
static int open_repo(store *s, const char *account, const char *full_repo, git_repository **out)
{
    char dir[PATH_MAX];
    struct stat st;
    *out = NULL;
    git_libgit2_init(); /* reference-counted: pairs with nothing, as cc_git_init does */
    int rc = conn_repo_dir(s, account, full_repo, dir, sizeof dir);
    if (rc) return rc;
    if (stat(dir, &st) != 0 || git_repository_open_bare(out, dir) != 0) {
        *out = NULL;
        return CONN_ENOREPO;
    }
    return 0;
}

int conn_branch_head(store *s, const char *account, const char *full_repo, const char *branch,
                     char commit_id[41])
{
    git_repository *repo = NULL;
    git_object *obj = NULL;
    char ref[512];
    if (!branch || !*branch ||
        snprintf(ref, sizeof ref, "refs/heads/%s", branch) >= (int)sizeof ref ||
        !git_reference_is_valid_name(ref))
        return CONN_EINVAL;
    int rc = open_repo(s, account, full_repo, &repo);
    if (rc) return rc;
    git_oid id;
    int grc = git_reference_name_to_id(&id, repo, ref);
    if (grc == GIT_ENOTFOUND) {
        rc = CONN_ENOREF;
    } else if (grc || git_object_lookup(&obj, repo, &id, GIT_OBJECT_COMMIT) != 0) {
        rc = CONN_EIO;
    } else {
        git_oid_tostr(commit_id, 41, &id);
    }
    git_object_free(obj);
    git_repository_free(repo);
    return rc;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int conn_tag_list(store *s, const char *account, const char *full_repo, char ***names, size_t *n)
{
    git_repository *repo = NULL;
    git_strarray tags = {0};
    *names = NULL;
    *n = 0;
    int rc = open_repo(s, account, full_repo, &repo);
    if (rc) return rc;
    if (git_tag_list(&tags, repo) != 0) {
        git_repository_free(repo);
        return CONN_EIO;
    }
    if (tags.count) {
        *names = calloc(tags.count, sizeof **names);
        if (!*names) abort();
        for (size_t i = 0; i < tags.count; i++)
            if (!((*names)[i] = strdup(tags.strings[i]))) abort();
        *n = tags.count;
        qsort(*names, *n, sizeof **names, name_cmp);
    }
    git_strarray_dispose(&tags);
    git_repository_free(repo);
    return 0;
}

void conn_names_free(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

static char *dup_or_empty(const char *s)
{
    char *d = strdup(s ? s : "");
    if (!d) abort();
    return d;
}

int conn_source_vars_get(store *s, const char *account, const char *full_repo, const char *branch,
                         const char *connection_arn, const char *commit_id,
                         struct conn_source_vars *vars)
{
    git_repository *repo = NULL;
    git_commit *c = NULL;
    git_oid id;
    memset(vars, 0, sizeof *vars);
    if (!commit_id || strlen(commit_id) != 40 || git_oid_fromstr(&id, commit_id) != 0)
        return CONN_EINVAL;
    int rc = open_repo(s, account, full_repo, &repo);
    if (rc) return rc;
    if (git_commit_lookup(&c, repo, &id) != 0) {
        rc = CONN_EINVAL;
        goto out;
    }
    const git_signature *a = git_commit_author(c);
    git_oid_tostr(vars->commit_id, sizeof vars->commit_id, &id);
    vars->commit_message = dup_or_empty(git_commit_message(c));
    time_t t = (time_t)a->when.time;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(vars->author_date, sizeof vars->author_date, "%Y-%m-%dT%H:%M:%SZ", &tm);
    vars->branch_name = dup_or_empty(branch);
    vars->full_repository_name = dup_or_empty(full_repo);
    vars->connection_arn = dup_or_empty(connection_arn);
    vars->author_display_name = dup_or_empty(a->name);
    vars->author_email = dup_or_empty(a->email);
    vars->author_id = dup_or_empty(a->name);
out:
    git_commit_free(c);
    git_repository_free(repo);
    return rc;
}

void conn_source_vars_free(struct conn_source_vars *vars)
{
    free(vars->commit_message);
    free(vars->branch_name);
    free(vars->full_repository_name);
    free(vars->connection_arn);
    free(vars->author_display_name);
    free(vars->author_email);
    free(vars->author_id);
    memset(vars, 0, sizeof *vars);
}

int conn_export_zip(store *s, const char *account, const char *full_repo, const char *commit_id,
                    store_blob_writer **out, char *err, size_t errlen)
{
    char dir[PATH_MAX];
    *out = NULL;
    if (conn_repo_dir(s, account, full_repo, dir, sizeof dir) != 0) {
        snprintf(err, errlen, "invalid repository id %s", full_repo ? full_repo : "");
        return -1;
    }
    /* one failure kind for this interface: the reason is in err */
    return cc_git_export_zip(s, dir, commit_id, out, err, errlen) == 0 ? 0 : -1;
}
