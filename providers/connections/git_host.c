/* The Git host behind connections: smart HTTP at /_git/<owner>/<repo>.git through CodeCommit's
 * transport, repositories created by their first push, ref moves reported to push listeners. */
#include <errno.h>
#include <git2.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "providers/codecommit/codecommit.h"
#include "providers/connections/connections.h"
#include "providers/connections/internal.h"
#include "providers/runtime/listeners.h"

#define PREFIX    "/_git/"
#define MAX_REFS  100000
#define MAX_PATHS 10000 /* changed paths reported per ref move */

/* Serialises creation and pushes: a push's before/after comparison must see only its own ref
 * moves, and two first pushes must not both initialise a repository. */
static pthread_mutex_t push_mu = PTHREAD_MUTEX_INITIALIZER;
static struct rt_listeners push_listeners = RT_LISTENERS_INIT;

struct host_req {
    struct cc_git_http h; /* first: the body sink takes req->sink_state as it */
    char full[256];       /* "owner/repo" */
    char dir[PATH_MAX];   /* the bare repository */
};

static int name_ok(const char *s, size_t n)
{
    if (n == 0 || n > 100 || s[0] == '.') return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-'))
            return 0;
    }
    /* "<repo>.git" is the URL form of "<repo>": one name, one repository. */
    return !(n >= 4 && memcmp(s + n - 4, ".git", 4) == 0);
}

int conn_repo_id_valid(const char *full_repo)
{
    const char *slash = full_repo ? strchr(full_repo, '/') : NULL;
    if (!slash) return 0;
    return name_ok(full_repo, (size_t)(slash - full_repo)) && name_ok(slash + 1, strlen(slash + 1));
}

int conn_repo_dir(store *s, const char *account, const char *full_repo, char *buf, size_t buflen)
{
    if (!conn_repo_id_valid(full_repo) || !account || strlen(account) != 12) return CONN_EINVAL;
    int n = snprintf(buf, buflen, "%s/gitconn/%s/%s.git", store_dir(s), account, full_repo);
    return n < 0 || (size_t)n >= buflen ? CONN_EINVAL : 0;
}

int conn_add_push_listener(conn_push_listener fn, void *ctx)
{
    return rt_listeners_add(&push_listeners, (rt_listener_any)fn, ctx);
}

int conn_remove_push_listener(int handle)
{
    return rt_listeners_remove(&push_listeners, handle);
}

static void call_push_listener(rt_listener_any fn, void *ctx, const void *ev)
{
    ((conn_push_listener)fn)(ctx, ev);
}

/* ---- ref snapshots ---- */

void conn_refs_free(struct conn_refs *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->names[i]);
    free(r->names);
    free(r->ids);
    memset(r, 0, sizeof *r);
}

static const git_oid *refs_find(const struct conn_refs *r, const char *name)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->names[i], name) == 0) return &r->ids[i];
    return NULL;
}

int conn_refs_read(const char *dir, struct conn_refs *r)
{
    git_repository *repo = NULL;
    git_reference_iterator *it = NULL;
    git_reference *ref = NULL;
    memset(r, 0, sizeof *r);
    if (git_repository_open_bare(&repo, dir) != 0) return -1;
    if (git_reference_iterator_new(&it, repo) == 0) {
        while (r->n < MAX_REFS && git_reference_next(&ref, it) == 0) {
            const char *name = git_reference_name(ref);
            git_object *obj = NULL;
            if ((!strncmp(name, "refs/heads/", 11) || !strncmp(name, "refs/tags/", 10)) &&
                git_reference_peel(&obj, ref, GIT_OBJECT_COMMIT) == 0) {
                if (r->n == r->cap) {
                    r->cap = r->cap ? r->cap * 2 : 16;
                    r->names = realloc(r->names, r->cap * sizeof *r->names);
                    r->ids = realloc(r->ids, r->cap * sizeof *r->ids);
                    if (!r->names || !r->ids) abort();
                }
                r->names[r->n] = strdup(name);
                if (!r->names[r->n]) abort();
                r->ids[r->n++] = *git_object_id(obj);
            }
            git_object_free(obj);
            git_reference_free(ref);
        }
        git_reference_iterator_free(it);
    }
    git_repository_free(repo);
    return 0;
}

/* ---- changed paths ---- */

struct paths {
    size_t n, cap;
    char **v;
};

static int add_path(const git_diff_delta *d, float progress, void *ctx)
{
    (void)progress;
    struct paths *p = ctx;
    const char *files[2] = {d->old_file.path, d->new_file.path};
    for (int i = 0; i < 2 && p->n < MAX_PATHS; i++) {
        if (!files[i] || (i == 1 && files[0] && !strcmp(files[0], files[1]))) continue;
        if (p->n == p->cap) {
            p->cap = p->cap ? p->cap * 2 : 16;
            p->v = realloc(p->v, p->cap * sizeof *p->v);
            if (!p->v) abort();
        }
        p->v[p->n] = strdup(files[i]);
        if (!p->v[p->n]) abort();
        p->n++;
    }
    return 0;
}

/* The files that differ between old (NULL: new's first parent, or nothing for a root commit)
 * and new. */
static void changed_paths(git_repository *repo, const git_oid *old, const git_oid *new_id,
                          struct paths *out)
{
    git_commit *nc = NULL, *oc = NULL;
    git_tree *nt = NULL, *ot = NULL;
    git_diff *diff = NULL;
    if (git_commit_lookup(&nc, repo, new_id) != 0 || git_commit_tree(&nt, nc) != 0) goto out;
    if (old) {
        if (git_commit_lookup(&oc, repo, old) == 0) git_commit_tree(&ot, oc);
    } else if (git_commit_parentcount(nc) > 0 && git_commit_parent(&oc, nc, 0) == 0) {
        git_commit_tree(&ot, oc);
    }
    if (git_diff_tree_to_tree(&diff, repo, ot, nt, NULL) == 0)
        git_diff_foreach(diff, add_path, NULL, NULL, NULL, out);
out:
    git_diff_free(diff);
    git_tree_free(nt);
    git_tree_free(ot);
    git_commit_free(nc);
    git_commit_free(oc);
}

static void notify(const char *account, const char *full, git_repository *repo, const char *ref,
                   const git_oid *old, const git_oid *new_id)
{
    char oh[GIT_OID_HEXSZ + 1], nh[GIT_OID_HEXSZ + 1];
    struct paths p = {0};
    int tag = strncmp(ref, "refs/tags/", 10) == 0;
    if (new_id && repo) changed_paths(repo, old, new_id, &p);
    struct conn_push_event ev = {
        .account = account,
        .full_repo = full,
        .is_tag = tag,
        .name = ref + (tag ? 10 : 11),
        .old_id = old ? git_oid_tostr(oh, sizeof oh, old) : NULL,
        .new_id = new_id ? git_oid_tostr(nh, sizeof nh, new_id) : NULL,
        .paths = (const char *const *)p.v,
        .n_paths = p.n,
    };
    rt_listeners_notify(&push_listeners, call_push_listener, &ev);
    for (size_t i = 0; i < p.n; i++)
        free(p.v[i]);
    free(p.v);
}

void conn_push_settle(const char *account, const char *full, const char *dir,
                      const struct conn_refs *before)
{
    struct conn_refs after;
    git_repository *repo = NULL;
    if (conn_refs_read(dir, &after) != 0) return;
    if (git_repository_open_bare(&repo, dir) != 0) repo = NULL;
    if (repo && git_repository_head_unborn(repo) == 1) {
        const char *pick = refs_find(&after, "refs/heads/main")     ? "refs/heads/main"
                           : refs_find(&after, "refs/heads/master") ? "refs/heads/master"
                                                                    : NULL;
        for (size_t i = 0; !pick && i < after.n; i++)
            if (!strncmp(after.names[i], "refs/heads/", 11)) pick = after.names[i];
        if (pick) git_repository_set_head(repo, pick);
    }
    if (rt_listeners_count(&push_listeners) > 0) {
        for (size_t i = 0; i < after.n; i++) {
            const git_oid *old = refs_find(before, after.names[i]);
            if (!old || !git_oid_equal(old, &after.ids[i]))
                notify(account, full, repo, after.names[i], old, &after.ids[i]);
        }
        for (size_t i = 0; i < before->n; i++)
            if (!refs_find(&after, before->names[i]))
                notify(account, full, repo, before->names[i], &before->ids[i], NULL);
    }
    git_repository_free(repo);
    conn_refs_free(&after);
}

/* ---- the HTTP service ---- */

static int mkdirs(const char *path)
{
    char buf[PATH_MAX];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    return 0;
}

static int host_begin(struct proto_req *req)
{
    struct host_req *hr = proto_arena_alloc(req->arena, sizeof *hr);
    struct cc_git_http *g = &hr->h;
    /* /_git/<owner>/<repo>[.git]<rest> */
    const char *p = req->http.path + strlen(PREFIX);
    size_t ol = strcspn(p, "/");
    const char *r = p[ol] == '/' ? p + ol + 1 : p + ol;
    size_t rl = strcspn(r, "/");
    const char *rest = r + rl;
    if (cc_git_http_begin(req, g, rest) != 0) return 0;
    size_t name_len = rl >= 4 && memcmp(r + rl - 4, ".git", 4) == 0 ? rl - 4 : rl;
    if (p[ol] != '/' || ol + 1 + name_len >= sizeof hr->full) {
        cc_git_http_deny(req, g, 404, "Repository not found.");
        return 0;
    }
    snprintf(hr->full, sizeof hr->full, "%.*s/%.*s", (int)ol, p, (int)name_len, r);
    if (!conn_repo_id_valid(hr->full)) {
        cc_git_http_deny(req, g, 404, "Repository not found.");
        return 0;
    }
    /* The credential helper signs the URL's path as the client wrote it. */
    const char *signed_path =
        proto_arena_strndup(req->arena, req->http.path, (size_t)(rest - req->http.path));
    if (cc_git_http_auth(req, g, signed_path) != 0) return 0;
    if (conn_repo_dir(req->store, req->caller.account_id, hr->full, hr->dir, sizeof hr->dir)) {
        cc_git_http_deny(req, g, 404, "Repository not found.");
        return 0;
    }
    struct stat st;
    int exists = stat(hr->dir, &st) == 0;
    if (!exists && g->push) {
        /* First push: a new bare repository, as a Git host creates one on demand. */
        git_repository *repo = NULL;
        pthread_mutex_lock(&push_mu);
        if (stat(hr->dir, &st) != 0 && mkdirs(hr->dir) == 0 &&
            git_repository_init(&repo, hr->dir, 1) == 0) {
            git_config *cfg = NULL;
            if (git_repository_config(&cfg, repo) == 0) {
                git_config_set_bool(cfg, "http.receivepack", 1);
                git_config_free(cfg);
            }
        }
        exists = stat(hr->dir, &st) == 0;
        git_repository_free(repo);
        pthread_mutex_unlock(&push_mu);
        if (!exists) {
            cc_git_http_deny(req, g, 500, "Could not create the repository.");
            return 0;
        }
    }
    if (!exists) {
        cc_git_http_deny(req, g, 404, "Repository not found.");
        return 0;
    }
    cc_git_http_open_body(req, g);
    return 0;
}

struct settle_ctx {
    const char *account, *full, *dir;
    const struct conn_refs *before;
};

static void ran(void *ctx)
{
    struct settle_ctx *c = ctx;
    conn_push_settle(c->account, c->full, c->dir, c->before);
}

static int host_dispatch(struct proto_req *req)
{
    struct host_req *hr = req->sink_state;
    struct conn_refs before = {0};
    int locked = 0;
    if (!hr || hr->h.denied) goto out;
    if (hr->h.receive_pack) {
        pthread_mutex_lock(&push_mu);
        locked = 1;
        conn_refs_read(hr->dir, &before);
    }
    char root[PATH_MAX];
    snprintf(root, sizeof root, "%s/gitconn/%s", store_dir(req->store), req->caller.account_id);
    struct settle_ctx sc = {req->caller.account_id, hr->full, hr->dir, &before};
    cc_git_http_serve(req, &hr->h, root, proto_arena_printf(req->arena, "/%s.git", hr->full),
                      hr->h.receive_pack ? ran : NULL, &sc);
out:
    if (locked) pthread_mutex_unlock(&push_mu);
    conn_refs_free(&before);
    if (hr) cc_git_http_end(&hr->h);
    return 0;
}

const struct proto_service conn_git_service = {
    .name = "connections-git",
    .protocol = PROTO_RAW_HTTP,
    .rest_dispatch = host_dispatch,
    .rest_begin = host_begin,
};
