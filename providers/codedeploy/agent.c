/* The deployment agent: runs a deployment's lifecycle events host by host on simulated instances
 * (directories under the data dir acting as each host's root), as the CodeDeploy agent does. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <json-c/json.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "protocol/arena.h"
#include "protocol/ids.h"
#include "providers/codedeploy/appspec.h"
#include "providers/codedeploy/cd_internal.h"
#include "providers/codedeploy/internal.h"
#include "providers/runtime/extract.h"
#include "providers/runtime/queue.h"
#include "providers/runtime/runner.h"
#include "providers/s3/s3.h"

#define TAIL_MAX 4096

/* snprintf that leaves an empty string rather than a cut one: a cut path could name another
 * file, an empty one names none. */
static void fmt(char *buf, size_t cap, const char *f, ...) __attribute__((format(printf, 3, 4)));
static void fmt(char *buf, size_t cap, const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    int n = vsnprintf(buf, cap, f, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= cap) buf[0] = '\0';
}

/* ---- Running deployments, so that StopDeployment and shutdown can reach their hooks ---- */

struct running {
    int stop;        /* 1: StopDeployment, 2: the server is shutting down */
    rt_proc **procs; /* per instance running at once: its hook running now, or NULL */
    size_t nprocs;
};

/* Guards every running's stop and procs (rt_stop must not meet rt_free). */
static pthread_mutex_t run_mu = PTHREAD_MUTEX_INITIALIZER;

static int run_stopping(struct running *r)
{
    pthread_mutex_lock(&run_mu);
    int s = r->stop;
    pthread_mutex_unlock(&run_mu);
    return s;
}

/* The queue the deployments run on, set by codedeploy's start. */
static rt_queue *agent_queue;
static store *agent_store;
/* --build-sandbox: 1 runs hooks under bubblewrap, as builds are. Set before the workers start. */
static int agent_sandbox;

/* rt_task_on_stop: a StopDeployment (cancel) or the server's shutdown; kills the hook. */
static void on_task_stop(void *ctx, int reason)
{
    struct running *r = ctx;
    pthread_mutex_lock(&run_mu);
    r->stop = reason == RT_STOP_SHUTDOWN ? 2 : 1;
    for (size_t i = 0; i < r->nprocs; i++)
        if (r->procs[i]) rt_stop(r->procs[i]);
    pthread_mutex_unlock(&run_mu);
}

int cd_agent_stop(store *st, const char *account, const char *region, const char *id)
{
    (void)st;
    (void)account;
    (void)region;
    if (!agent_queue) return 0;
    return rt_queue_cancel(agent_queue, CD_QUEUE_KIND, id) == RT_CANCEL_RUNNING;
}

/* ---- Paths ---- */

int cd_instance_root(store *st, const char *account, const char *region, const char *instance,
                     char *buf, size_t cap)
{
    fmt(buf, cap, "%s/codedeploy/instances/%s/%s/%s", store_dir(st), account, region, instance);
    return buf[0] ? 0 : -1;
}

/* mkdir -p of path (absolute). Returns 0 or -1. */
static int mkdirs(const char *path)
{
    char tmp[PATH_MAX];
    fmt(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST) return -1;
            *p = '/';
        }
    return mkdir(tmp, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

/* Returns 1 when path resolves (following links) inside root_real. */
static int inside(const char *root_real, const char *path)
{
    char real[PATH_MAX];
    if (!realpath(path, real)) return 0;
    size_t n = strlen(root_real);
    return strncmp(real, root_real, n) == 0 && (real[n] == '/' || real[n] == '\0');
}

static char *slurp(const char *path, size_t max, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = malloc(max + 1);
    size_t n = buf ? fread(buf, 1, max, f) : 0;
    fclose(f);
    if (!buf) return NULL;
    buf[n] = '\0';
    if (len) *len = n;
    return buf;
}

static int write_file(const char *path, const char *data, size_t len)
{
    char tmp[PATH_MAX + 8];
    fmt(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) return -1;
    int ok = fwrite(data, 1, len, f) == len;
    ok &= fclose(f) == 0;
    return ok && rename(tmp, path) == 0 ? 0 : -1;
}

/* ---- One deployment's context ---- */

struct dctx {
    store *st;
    struct running *run;
    char account[16], region[64], id[16];
    char *app, *group, *group_id;
    struct json_object *rec; /* the deployment record as loaded at start */
    struct json_object *rev; /* borrowed from rec */
    int ignore_stop_failures;
    const char *feb;       /* the deployment's fileExistsBehavior, or NULL for the appspec's */
    char bundle[PATH_MAX]; /* the revision's bytes: /proc/self/fd/<bundle_fd>, or a copy */
    int bundle_fd;         /* the S3 object's blob, open; -1 when bundle is a copy or missing */
    int bundle_copy;       /* 1: bundle is a file of ours, removed at the end */
    char bundle_err[512];
    /* the instances of a batch run on their own threads: mu guards the counters and orders
     * save_progress, so a later count is never overwritten by an earlier one */
    pthread_mutex_t mu;
    unsigned pending, in_progress, succeeded, failed, skipped;
    int dirty; /* the counters changed since the last save_progress */
};

/* The diagnostics of one lifecycle event. */
struct diag {
    const char *code; /* "Success", "ScriptMissing", "ScriptFailed", "ScriptTimedOut", ... */
    char script[512];
    char message[1024];
    char tail[TAIL_MAX + 1];
};

static void diag_set(struct diag *d, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void diag_set(struct diag *d, const char *code, const char *fmt, ...)
{
    va_list ap;
    d->code = code;
    va_start(ap, fmt);
    vsnprintf(d->message, sizeof d->message, fmt, ap);
    va_end(ap);
}

/* Writes the overview counters and target into LMDB in one transaction. Returns 1 when a stop
 * was asked through the record (StopDeployment from any process), else 0. */
static int save_progress(struct dctx *c, struct json_object *target)
{
    store_txn *t = NULL;
    struct json_object *rec = NULL, *ov;
    int stop = 0;
    pthread_mutex_lock(&c->mu);
    if (store_txn_begin(c->st, 1, &t)) {
        pthread_mutex_unlock(&c->mu);
        return 0;
    }
    if (cd_deployment_load(t, c->account, c->region, c->id, &rec) == 0) {
        stop = cd_bool(rec, "_stopRequested");
        if (json_object_object_get_ex(rec, "deploymentOverview", &ov)) {
            json_object_object_add(ov, "Pending", json_object_new_int((int)c->pending));
            json_object_object_add(ov, "InProgress", json_object_new_int((int)c->in_progress));
            json_object_object_add(ov, "Succeeded", json_object_new_int((int)c->succeeded));
            json_object_object_add(ov, "Failed", json_object_new_int((int)c->failed));
            json_object_object_add(ov, "Skipped", json_object_new_int((int)c->skipped));
        }
        cd_deployment_save(t, c->account, c->region, rec);
    }
    c->dirty = 0;
    if (target) {
        json_object_object_add(target, "lastUpdatedAt", cd_time(proto_now()));
        cd_target_save(t, c->account, c->region, c->id, target);
    }
    store_txn_commit(t);
    pthread_mutex_unlock(&c->mu);
    json_object_put(rec);
    return stop;
}

static struct json_object *event_at(struct json_object *target, int e)
{
    struct json_object *events;
    json_object_object_get_ex(target, "lifecycleEvents", &events);
    return json_object_array_get_idx(events, (size_t)e);
}

static void event_end(struct json_object *ev, const char *status, const struct diag *d)
{
    json_object_object_add(ev, "status", json_object_new_string(status));
    json_object_object_add(ev, "endTime", cd_time(proto_now()));
    if (!d) return;
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "errorCode", json_object_new_string(d->code));
    json_object_object_add(o, "scriptName", json_object_new_string(d->script));
    json_object_object_add(o, "message", json_object_new_string(d->message));
    json_object_object_add(o, "logTail", json_object_new_string(d->tail));
    json_object_object_add(ev, "diagnostics", o);
}

/* ---- Hooks ---- */

struct out_ctx {
    char tail[TAIL_MAX];
    size_t len; /* bytes in tail (a sliding window of the last TAIL_MAX) */
    int bol[3]; /* at the beginning of a line, per stream */
    FILE *log;
};

static void tail_put(struct out_ctx *o, const char *s, size_t n)
{
    if (n >= TAIL_MAX) {
        memcpy(o->tail, s + n - TAIL_MAX, TAIL_MAX);
        o->len = TAIL_MAX;
        return;
    }
    if (o->len + n > TAIL_MAX) {
        size_t drop = o->len + n - TAIL_MAX;
        memmove(o->tail, o->tail + drop, o->len - drop);
        o->len -= drop;
    }
    memcpy(o->tail + o->len, s, n);
    o->len += n;
}

/* Output as the agent shows it in logTail: each line prefixed with its stream. */
static int out_sink(void *ctx, enum rt_stream stream, const char *data, size_t len)
{
    struct out_ctx *o = ctx;
    const char *tag = stream == RT_STDERR ? "[stderr]" : "[stdout]";
    while (len > 0) {
        if (o->bol[stream]) {
            tail_put(o, tag, strlen(tag));
            if (o->log) fputs(tag, o->log);
            o->bol[stream] = 0;
        }
        const char *nl = memchr(data, '\n', len);
        size_t n = nl ? (size_t)(nl - data) + 1 : len;
        tail_put(o, data, n);
        if (o->log) fwrite(data, 1, n, o->log);
        if (nl) o->bol[stream] = 1;
        data += n;
        len -= n;
    }
    return 0;
}

/* Runs the scripts of event e from spec (the revision unpacked at archive) on the instance at
 * root. Returns 1 when all succeeded, 0 with d filled otherwise. */
static int run_hooks(struct dctx *c, size_t slot, struct json_object *target, const char *root,
                     const char *instance, int e, const struct cd_appspec *spec,
                     const char *archive, const char *logs, struct diag *d)
{
    char path[PATH_MAX], archive_real[PATH_MAX], logpath[PATH_MAX];
    if (spec->n_hooks[e] == 0) return 1;
    /* The event's start is made durable only here, before a script that may take a while:
     * events that run no script end within milliseconds, and a crash would lose only their
     * InProgress detail (the restart settles the instance either way). One commit per script
     * event instead of one per event is most of a small deployment's cost. */
    if (save_progress(c, target) || run_stopping(c->run)) {
        pthread_mutex_lock(&run_mu);
        if (!c->run->stop) c->run->stop = 1;
        pthread_mutex_unlock(&run_mu);
        diag_set(d, "UnknownError", "The deployment was stopped");
        return 0;
    }
    if (!realpath(archive, archive_real)) {
        diag_set(d, "UnknownError", "The revision directory %s is missing", archive);
        return 0;
    }
    fmt(logpath, sizeof logpath, "%s/scripts.log", logs);
    mkdirs(logs);
    for (size_t i = 0; i < spec->n_hooks[e]; i++) {
        const struct cd_hook *h = &spec->hooks[e][i];
        const char *runas = h->runas ? h->runas : "root";
        struct stat sb;
        fmt(d->script, sizeof d->script, "%s", h->location);
        fmt(path, sizeof path, "%s/%s", archive, h->location);
        if (lstat(path, &sb) != 0 || !inside(archive_real, path)) {
            diag_set(d, "ScriptMissing", "Script does not exist at specified location: %s", path);
            return 0;
        }
        if (stat(path, &sb) == 0 && !(sb.st_mode & S_IXUSR))
            chmod(path, sb.st_mode | S_IXUSR | S_IXGRP | S_IXOTH); /* as the agent does */
        struct out_ctx o = {.bol = {0, 1, 1}};
        o.log = fopen(logpath, "a");
        if (o.log)
            fprintf(o.log,
                    "LifecycleEvent - %s\nScript - %s\n(runas %s recorded: the script runs "
                    "as the server's user%s)\n",
                    cd_event_name((enum cd_event)e), h->location, runas,
                    agent_sandbox ? ", under bubblewrap" : "");
        const char *home = getenv("HOME"), *pathenv = getenv("PATH");
        struct json_object *s3 = NULL;
        json_object_object_get_ex(c->rev, "s3Location", &s3);
        const char *env[24];
        int n = 0;
        proto_arena *a = proto_arena_new();
        env[n++] = proto_arena_printf(a, "PATH=%s", pathenv ? pathenv : "/usr/bin:/bin");
        env[n++] = proto_arena_printf(a, "HOME=%s", home ? home : "/");
        env[n++] = proto_arena_printf(a, "LIFECYCLE_EVENT=%s", cd_event_name((enum cd_event)e));
        env[n++] = proto_arena_printf(a, "DEPLOYMENT_ID=%s", c->id);
        env[n++] = proto_arena_printf(a, "APPLICATION_NAME=%s", c->app);
        env[n++] = proto_arena_printf(a, "DEPLOYMENT_GROUP_NAME=%s", c->group);
        env[n++] = proto_arena_printf(a, "DEPLOYMENT_GROUP_ID=%s", c->group_id);
        env[n++] = proto_arena_printf(a, "BUNDLE_COMMIT=%s", "");
        env[n++] = proto_arena_printf(a, "BUNDLE_BUCKET=%s",
                                      cd_str(s3, "bucket") ? cd_str(s3, "bucket") : "");
        env[n++] =
            proto_arena_printf(a, "BUNDLE_KEY=%s", cd_str(s3, "key") ? cd_str(s3, "key") : "");
        env[n++] = proto_arena_printf(a, "BUNDLE_VERSION=%s",
                                      cd_str(s3, "version") ? cd_str(s3, "version") : "");
        env[n++] =
            proto_arena_printf(a, "BUNDLE_ETAG=%s", cd_str(s3, "eTag") ? cd_str(s3, "eTag") : "");
        env[n++] = proto_arena_printf(a, "CODEDEPLOY_INSTANCE_ROOT=%s", root);
        env[n++] = proto_arena_printf(a, "CODEDEPLOY_INSTANCE_ID=%s", instance);
        env[n] = NULL;
        const char *argv[] = {path, NULL};
        /* bubblewrap, as builds: everything read-only but the instance root (which holds the
         * deployment's archive and logs); a private /tmp; the network and the user stay */
        const char *bwrap_argv[] = {
            "bwrap", "--ro-bind",         "/",    "/",      "--dev", "/dev", "--proc",
            "/proc", "--tmpfs",           "/tmp", "--bind", root,    root,   "--chdir",
            root,    "--die-with-parent", "--",   path,     NULL};
        struct rt_cmd cmd = {
            .file = agent_sandbox ? NULL : path,
            .argv = agent_sandbox ? bwrap_argv : argv,
            .envp = env,
            .cwd = root,
            .out = {RT_OUT_SINK, -1},
            .err = {RT_OUT_SINK, -1},
            .sink = out_sink,
            .sink_ctx = &o,
            .timeout = h->timeout,
            .grace = 2,
        };
        struct rt_result res = {0};
        rt_proc *p = NULL;
        int rc = rt_start(&cmd, &p, &res);
        if (rc == 0) {
            pthread_mutex_lock(&run_mu);
            c->run->procs[slot] = p;
            if (c->run->stop) rt_stop(p);
            pthread_mutex_unlock(&run_mu);
            rt_wait(p, &res);
            pthread_mutex_lock(&run_mu);
            c->run->procs[slot] = NULL;
            pthread_mutex_unlock(&run_mu);
            rt_free(p);
        }
        proto_arena_free(a);
        if (o.log) fclose(o.log);
        memcpy(d->tail, o.tail, o.len);
        d->tail[o.len] = '\0';
        if (rc != 0) {
            diag_set(d, "ScriptFailed",
                     "Script at specified location: %s run as user %s could not be started: %s",
                     h->location, runas, strerror(res.error));
            return 0;
        }
        if (res.end == RT_END_TIMED_OUT) {
            diag_set(d, "ScriptTimedOut",
                     "Script at specified location: %s failed to complete in %d seconds",
                     h->location, h->timeout);
            return 0;
        }
        if (res.end == RT_END_STOPPED) {
            if (run_stopping(c->run) == 2)
                diag_set(d, "ScriptFailed",
                         "Script at specified location: %s was interrupted by a shutdown of "
                         "codepipeline-local",
                         h->location);
            else
                diag_set(d, "ScriptFailed",
                         "Script at specified location: %s was stopped: the deployment was "
                         "stopped",
                         h->location);
            return 0;
        }
        if (res.end != RT_END_EXITED || res.exit_code != 0) {
            if (res.end == RT_END_EXITED)
                diag_set(d, "ScriptFailed",
                         "Script at specified location: %s run as user %s failed with exit code "
                         "%d",
                         h->location, runas, res.exit_code);
            else
                diag_set(d, "ScriptFailed",
                         "Script at specified location: %s run as user %s was killed by signal "
                         "%d",
                         h->location, runas, res.signal);
            return 0;
        }
    }
    d->script[0] = '\0';
    return 1;
}

/* ---- Install: files and permissions ---- */

struct install {
    const char *root_real;
    const char *feb;
    FILE *cleanup; /* the new cleanup list */
    struct diag *d;
};

static int copy_file(const char *src, const char *dst, mode_t mode)
{
    int in = open(src, O_RDONLY | O_CLOEXEC), out = -1, rc = -1;
    char buf[65536];
    ssize_t n;
    if (in < 0) return -1;
    out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode & 07777);
    if (out < 0) goto out;
    while ((n = read(in, buf, sizeof buf)) > 0)
        if (write(out, buf, (size_t)n) != n) goto out;
    if (n < 0) goto out;
    fchmod(out, mode & 07777);
    rc = 0;
out:
    if (in >= 0) close(in);
    if (out >= 0 && close(out) != 0) rc = -1;
    return rc;
}

/* Installs src (a file, link or directory of the revision) as dst (its path on the instance,
 * rel its instance-relative form). Returns 0 or -1 with ins->d set. */
static int install_one(struct install *ins, const char *src, const char *dst, const char *rel)
{
    struct stat sb, db;
    if (lstat(src, &sb) != 0) {
        diag_set(ins->d, "UnknownError", "The source %s is missing from the revision", src);
        return -1;
    }
    if (S_ISDIR(sb.st_mode)) {
        if (mkdirs(dst) != 0 || !inside(ins->root_real, dst)) {
            diag_set(ins->d, "UnknownError",
                     "The directory /%s cannot be created inside the "
                     "instance",
                     rel);
            return -1;
        }
        DIR *dir = opendir(src);
        if (!dir) return -1;
        struct dirent *de;
        int rc = 0;
        while (!rc && (de = readdir(dir))) {
            if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
            char s[PATH_MAX], t[PATH_MAX], r[PATH_MAX];
            fmt(s, sizeof s, "%s/%s", src, de->d_name);
            fmt(t, sizeof t, "%s/%s", dst, de->d_name);
            fmt(r, sizeof r, "%s%s%s", rel, *rel ? "/" : "", de->d_name);
            rc = install_one(ins, s, t, r);
        }
        closedir(dir);
        return rc;
    }
    char parent[PATH_MAX];
    fmt(parent, sizeof parent, "%s", dst);
    char *slash = strrchr(parent, '/');
    if (slash) *slash = '\0';
    if (mkdirs(parent) != 0 || !inside(ins->root_real, parent)) {
        diag_set(ins->d, "UnknownError", "The file /%s would be written outside the instance", rel);
        return -1;
    }
    if (lstat(dst, &db) == 0) {
        if (!strcmp(ins->feb, "RETAIN")) return 0;
        if (strcmp(ins->feb, "OVERWRITE") != 0) {
            diag_set(ins->d, "UnknownError",
                     "The deployment failed because a specified file already exists at this "
                     "location: /%s",
                     rel);
            return -1;
        }
        if (S_ISDIR(db.st_mode) || unlink(dst) != 0) {
            diag_set(ins->d, "UnknownError", "The file /%s cannot be replaced", rel);
            return -1;
        }
    }
    if (S_ISLNK(sb.st_mode)) {
        char target[PATH_MAX];
        ssize_t n = readlink(src, target, sizeof target - 1);
        if (n < 0) return -1;
        target[n] = '\0';
        if (symlink(target, dst) != 0) return -1;
        /* a link may only point inside the instance (a dangling one is refused as well) */
        if (target[0] == '/' || !inside(ins->root_real, dst)) {
            unlink(dst);
            diag_set(ins->d, "UnknownError", "The link /%s points outside the instance", rel);
            return -1;
        }
    } else if (copy_file(src, dst, sb.st_mode) != 0) {
        diag_set(ins->d, "UnknownError", "The file /%s cannot be written: %s", rel,
                 strerror(errno));
        return -1;
    }
    if (ins->cleanup) fprintf(ins->cleanup, "%s\n", rel);
    return 0;
}

static void apply_mode(const char *path, const struct cd_permission *p, int top)
{
    struct stat sb;
    if (lstat(path, &sb) != 0 || S_ISLNK(sb.st_mode)) return;
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    int match = !strcmp(p->pattern, "**") || fnmatch(p->pattern, base, 0) == 0;
    if (S_ISDIR(sb.st_mode)) {
        if (!top && match && p->dirs && p->mode) chmod(path, p->mode);
        DIR *dir = opendir(path);
        if (!dir) return;
        struct dirent *de;
        while ((de = readdir(dir))) {
            if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
            char child[PATH_MAX];
            fmt(child, sizeof child, "%s/%s", path, de->d_name);
            apply_mode(child, p, 0);
        }
        closedir(dir);
    } else if ((top || match) && p->files && p->mode) {
        chmod(path, p->mode);
    }
}

/* Removes what the previous deployment of the group installed (its cleanup list). */
static void cleanup_previous(const char *root, const char *list_path)
{
    char *list = slurp(list_path, 16 * 1024 * 1024, NULL);
    if (!list) return;
    char *save = NULL;
    for (char *line = strtok_r(list, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char p[PATH_MAX];
        if (strstr(line, "..")) continue;
        fmt(p, sizeof p, "%s/%s", root, line);
        unlink(p);
    }
    free(list);
}

static int do_install(struct dctx *c, const char *root, const char *archive, const char *agent,
                      const struct cd_appspec *spec, struct diag *d)
{
    char root_real[PATH_MAX], list[PATH_MAX], newlist[PATH_MAX + 8], logpath[PATH_MAX];
    if (!realpath(root, root_real)) return -1;
    fmt(list, sizeof list, "%s/deployment-instructions/%s-cleanup", agent, c->group_id);
    fmt(newlist, sizeof newlist, "%s.new", list);
    fmt(logpath, sizeof logpath, "%s/%s/%s/logs/scripts.log", agent, c->group_id, c->id);
    cleanup_previous(root, list);
    const char *feb = c->feb ? c->feb : spec->file_exists_behavior;
    struct install ins = {root_real, feb ? feb : "DISALLOW", fopen(newlist, "w"), d};
    int rc = 0;
    for (size_t i = 0; i < spec->n_files && !rc; i++) {
        char src[PATH_MAX], dst[PATH_MAX];
        fmt(src, sizeof src, "%s%s%s", archive, *spec->files[i].source ? "/" : "",
            spec->files[i].source);
        struct stat sb;
        if (lstat(src, &sb) != 0) {
            diag_set(d, "UnknownError",
                     "The source %s named in the AppSpec file is missing "
                     "from the revision",
                     spec->files[i].source);
            rc = -1;
            break;
        }
        const char *dest = spec->files[i].destination;
        if (S_ISDIR(sb.st_mode)) {
            fmt(dst, sizeof dst, "%s/%s", root, dest);
            rc = install_one(&ins, src, dst, dest);
        } else {
            /* a file goes into the destination directory, under its own name */
            const char *base = strrchr(src, '/');
            base = base ? base + 1 : src;
            char rel[PATH_MAX];
            fmt(rel, sizeof rel, "%s%s%s", dest, *dest ? "/" : "", base);
            fmt(dst, sizeof dst, "%s/%s", root, rel);
            rc = install_one(&ins, src, dst, rel);
        }
    }
    if (ins.cleanup) fclose(ins.cleanup);
    if (rc) return -1;
    rename(newlist, list);
    FILE *log = fopen(logpath, "a");
    for (size_t i = 0; i < spec->n_perms; i++) {
        char obj[PATH_MAX];
        fmt(obj, sizeof obj, "%s/%s", root, spec->perms[i].object);
        if (!inside(root_real, obj)) continue;
        apply_mode(obj, &spec->perms[i], 1);
        if (log && (spec->perms[i].owner || spec->perms[i].group))
            fprintf(log, "Permissions - /%s owner %s group %s recorded (not applied)\n",
                    spec->perms[i].object, spec->perms[i].owner ? spec->perms[i].owner : "-",
                    spec->perms[i].group ? spec->perms[i].group : "-");
    }
    if (log) fclose(log);
    return 0;
}

/* Reads and parses <archive>/appspec.yml (or .yaml). Returns 0, or -1 with d set. */
static int load_appspec(const char *archive, struct cd_appspec *spec, struct diag *d)
{
    char path[PATH_MAX], err[512];
    size_t len;
    fmt(path, sizeof path, "%s/appspec.yml", archive);
    char *text = slurp(path, 1024 * 1024, &len);
    if (!text) {
        fmt(path, sizeof path, "%s/appspec.yaml", archive);
        text = slurp(path, 1024 * 1024, &len);
    }
    if (!text) {
        diag_set(d, "UnknownError",
                 "The CodeDeploy agent did not find an AppSpec file within the unpacked revision "
                 "directory at revision-relative path \"appspec.yml\". The revision was unpacked "
                 "to directory \"%s\", and the AppSpec file was expected but not found at path "
                 "\"%s/appspec.yml\".",
                 archive, archive);
        return -1;
    }
    int rc = cd_appspec_parse(text, len, spec, err, sizeof err);
    free(text);
    if (rc) diag_set(d, "UnknownError", "%s", err);
    return rc;
}

/* ---- One instance ---- */

static void skip_rest(struct json_object *target, int from)
{
    for (int e = from; e < CD_EV__COUNT; e++) {
        struct json_object *ev = event_at(target, e);
        json_object_object_add(ev, "status", json_object_new_string("Skipped"));
        json_object_object_add(ev, "endTime", cd_time(proto_now()));
    }
}

/* Runs the lifecycle on one instance. Returns 1 when it succeeded. */
static int run_instance(struct dctx *c, size_t slot, struct json_object *target)
{
    const char *instance = cd_str(target, "targetId");
    char root[PATH_MAX], agent[PATH_MAX], archive[PATH_MAX], logs[PATH_MAX], last[PATH_MAX],
        prev_archive[PATH_MAX] = "";
    struct cd_appspec spec = {0}, prev = {0};
    int have_spec = 0, ok = 1, e;
    struct diag d;
    cd_instance_root(c->st, c->account, c->region, instance, root, sizeof root);
    fmt(agent, sizeof agent, "%s/opt/codedeploy-agent/deployment-root", root);
    fmt(archive, sizeof archive, "%s/%s/%s/deployment-archive", agent, c->group_id, c->id);
    fmt(logs, sizeof logs, "%s/%s/%s/logs", agent, c->group_id, c->id);
    fmt(last, sizeof last, "%s/deployment-instructions/%s_last_successful_install", agent,
        c->group_id);
    mkdirs(root);
    mkdirs(archive);
    mkdirs(logs);
    {
        char instr[PATH_MAX];
        fmt(instr, sizeof instr, "%s/deployment-instructions", agent);
        mkdirs(instr);
    }
    char *prev_dir = slurp(last, PATH_MAX - 1, NULL);
    if (prev_dir) {
        prev_dir[strcspn(prev_dir, "\n")] = '\0';
        fmt(prev_archive, sizeof prev_archive, "%s/deployment-archive", prev_dir);
        free(prev_dir);
    }
    pthread_mutex_lock(&c->mu);
    c->pending--;
    c->in_progress++;
    c->dirty = 1;
    pthread_mutex_unlock(&c->mu);
    json_object_object_add(target, "status", json_object_new_string("InProgress"));
    save_progress(c, target);
    for (e = 0; e < CD_EV__COUNT && ok; e++) {
        struct json_object *ev = event_at(target, e);
        memset(&d, 0, sizeof d);
        d.code = "Success";
        fmt(d.message, sizeof d.message, "Succeeded");
        json_object_object_add(ev, "status", json_object_new_string("InProgress"));
        json_object_object_add(ev, "startTime", cd_time(proto_now()));
        if (run_stopping(c->run)) {
            pthread_mutex_lock(&run_mu);
            if (!c->run->stop) c->run->stop = 1;
            pthread_mutex_unlock(&run_mu);
            diag_set(&d, "UnknownError", "The deployment was stopped");
            ok = 0;
            break;
        }
        switch ((enum cd_event)e) {
        case CD_EV_APPLICATION_STOP:
            if (prev_archive[0] && access(prev_archive, F_OK) == 0) {
                struct diag pd = {0};
                if (load_appspec(prev_archive, &prev, &pd) == 0) {
                    ok = run_hooks(c, slot, target, root, instance, e, &prev, prev_archive, logs,
                                   &d);
                    if (!ok && c->ignore_stop_failures) {
                        ok = 1;
                        fmt(d.message, sizeof d.message,
                            "The script failed and the failure was ignored "
                            "(ignoreApplicationStopFailures)");
                    }
                }
            }
            break;
        case CD_EV_DOWNLOAD_BUNDLE: {
            char err[512];
            if (c->bundle_err[0]) {
                diag_set(&d, "UnknownError", "%s", c->bundle_err);
                ok = 0;
            } else if (rt_extract_file(c->bundle, archive, NULL, err, sizeof err) != 0) {
                diag_set(&d, "UnknownError", "The revision bundle cannot be unpacked: %s", err);
                ok = 0;
            }
            break;
        }
        case CD_EV_BEFORE_INSTALL:
            if (load_appspec(archive, &spec, &d) != 0)
                ok = 0;
            else {
                have_spec = 1;
                ok = run_hooks(c, slot, target, root, instance, e, &spec, archive, logs, &d);
            }
            break;
        case CD_EV_INSTALL:
            ok = do_install(c, root, archive, agent, &spec, &d) == 0;
            break;
        default:
            ok = run_hooks(c, slot, target, root, instance, e, &spec, archive, logs, &d);
            break;
        }
        if (ok && d.code && strcmp(d.code, "Success") != 0) d.code = "Success";
        event_end(ev, ok ? "Succeeded" : "Failed", &d);
        if (!ok) break;
    }
    if (!ok) {
        if (e < CD_EV__COUNT) {
            struct json_object *ev = event_at(target, e);
            if (strcmp(cd_str(ev, "status"), "Failed") != 0) event_end(ev, "Failed", &d);
        }
        skip_rest(target, e + 1);
    }
    (void)have_spec;
    cd_appspec_free(&spec);
    cd_appspec_free(&prev);
    if (ok) {
        char dir[PATH_MAX];
        fmt(dir, sizeof dir, "%s/%s/%s", agent, c->group_id, c->id);
        write_file(last, dir, strlen(dir));
    }
    pthread_mutex_lock(&c->mu);
    c->in_progress--;
    if (ok)
        c->succeeded++;
    else
        c->failed++;
    c->dirty = 1;
    pthread_mutex_unlock(&c->mu);
    json_object_object_add(target, "status", json_object_new_string(ok ? "Succeeded" : "Failed"));
    save_progress(c, target);
    return ok;
}

/* ---- The deployment ---- */

static void fetch_bundle(struct dctx *c)
{
    struct json_object *s3 = NULL;
    struct s3_object_info info;
    int fd = -1, out = -1;
    json_object_object_get_ex(c->rev, "s3Location", &s3);
    const char *bucket = cd_str(s3, "bucket"), *key = cd_str(s3, "key"),
               *version = cd_str(s3, "version"), *etag = cd_str(s3, "eTag");
    char dir[PATH_MAX];
    if (!bucket || !key) {
        fmt(c->bundle_err, sizeof c->bundle_err, "The revision has no S3 location");
        return;
    }
    int r = s3_get_object_fd(c->st, c->account, bucket, key, version, &info, &fd);
    if (r != 0) {
        fmt(c->bundle_err, sizeof c->bundle_err,
            r == S3_ENOBUCKET ? "The specified bucket does not exist: s3://%s/%s"
                              : "The specified key does not exist: s3://%s/%s",
            bucket, key);
        return;
    }
    if (etag) {
        char want[64], have[64];
        fmt(want, sizeof want, "%s", etag[0] == '"' ? etag + 1 : etag);
        want[strcspn(want, "\"")] = '\0';
        fmt(have, sizeof have, "%s", info.etag[0] == '"' ? info.etag + 1 : info.etag);
        have[strcspn(have, "\"")] = '\0';
        if (strcmp(want, have) != 0) {
            fmt(c->bundle_err, sizeof c->bundle_err,
                "The object s3://%s/%s has eTag %s, not the eTag %s of the revision", bucket, key,
                have, want);
            close(fd);
            return;
        }
    }
    /* Each instance unpacks straight from the object's blob, through a path of its own open
     * file (the extractor reads by path, twice, and instances read at once): no copy, and the
     * bytes stay the version checked above even if the key is overwritten meanwhile. */
    fmt(c->bundle, sizeof c->bundle, "/proc/self/fd/%d", fd);
    if (c->bundle[0] && access(c->bundle, R_OK) == 0) {
        c->bundle_fd = fd;
        return;
    }
    fmt(dir, sizeof dir, "%s/codedeploy/bundles", store_dir(c->st));
    mkdirs(dir);
    fmt(c->bundle, sizeof c->bundle, "%s/%s-%s-%s", dir, c->account, c->region, c->id);
    c->bundle_copy = 1;
    out = open(c->bundle, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    char buf[65536];
    ssize_t n;
    while (out >= 0 && (n = read(fd, buf, sizeof buf)) > 0)
        if (write(out, buf, (size_t)n) != n) break;
    close(fd);
    if (out < 0 || close(out) != 0)
        fmt(c->bundle_err, sizeof c->bundle_err, "The revision could not be downloaded");
}

static const char *health_message =
    "The overall deployment failed because too many individual instances failed deployment, too "
    "few healthy instances are available for deployment, or some instances in your deployment "
    "group are experiencing problems.";

/* Records the end of the deployment and clears the group's active deployment. rollback: set to
 * 1 when an automatic rollback should follow. */
static void finish(store *st, const char *account, const char *region, const char *id,
                   const char *status, const char *code, const char *message, int *rollback)
{
    store_txn *t = NULL;
    struct json_object *rec = NULL, *grp = NULL;
    char key[CD_KEY_MAX];
    *rollback = 0;
    if (store_txn_begin(st, 1, &t)) return;
    if (cd_deployment_load(t, account, region, id, &rec)) goto out;
    const char *cur = cd_str(rec, "status");
    if (!strcmp(cur, "Succeeded") || !strcmp(cur, "Failed") || !strcmp(cur, "Stopped")) goto out;
    double now = proto_now();
    json_object_object_add(rec, "status", json_object_new_string(status));
    json_object_object_add(rec, "completeTime", cd_time(now));
    if (!json_object_object_get_ex(rec, "startTime", NULL))
        json_object_object_add(rec, "startTime", cd_time(now));
    if (code) {
        struct json_object *ei = json_object_new_object();
        json_object_object_add(ei, "code", json_object_new_string(code));
        json_object_object_add(ei, "message", json_object_new_string(message));
        json_object_object_add(rec, "errorInformation", ei);
    }
    const char *app = cd_str(rec, "applicationName"), *group = cd_str(rec, "deploymentGroupName");
    int kl = cd_key(key, account, region, CD_K_GROUP, app, group);
    if (cd_rec_get(t, STORE_DB_CD_APPLICATIONS, key, kl, &grp) == 0) {
        struct json_object *la = json_object_new_object(), *ct;
        json_object_object_add(la, "deploymentId", json_object_new_string(id));
        json_object_object_add(la, "status", json_object_new_string(status));
        json_object_object_add(la, "endTime", cd_time(now));
        if (json_object_object_get_ex(rec, "createTime", &ct))
            json_object_object_add(la, "createTime", json_object_get(ct));
        json_object_object_add(grp, "lastAttemptedDeployment", json_object_get(la));
        if (!strcmp(status, "Succeeded")) {
            struct json_object *rev;
            json_object_object_add(grp, "lastSuccessfulDeployment", json_object_get(la));
            if (json_object_object_get_ex(rec, "revision", &rev))
                json_object_object_add(grp, "targetRevision", json_object_get(rev));
        }
        json_object_put(la);
        cd_rec_put(t, STORE_DB_CD_APPLICATIONS, key, kl, grp);
    }
    /* automatic rollback: the deployment's (or the group's) configuration, or a stop that asked */
    struct json_object *arc = NULL, *events = NULL;
    json_object_object_get_ex(rec, "autoRollbackConfiguration", &arc);
    if (arc) json_object_object_get_ex(arc, "events", &events);
    const char *want = !strcmp(status, "Failed")    ? "DEPLOYMENT_FAILURE"
                       : !strcmp(status, "Stopped") ? "DEPLOYMENT_STOP_ON_REQUEST"
                                                    : NULL;
    if (want && cd_bool(arc, "enabled"))
        for (size_t i = 0; events && i < json_object_array_length(events); i++)
            if (!strcmp(json_object_get_string(json_object_array_get_idx(events, i)), want))
                *rollback = 1;
    if (!strcmp(status, "Stopped") && cd_bool(rec, "_stopRollback")) *rollback = 1;
    if (json_object_object_get_ex(rec, "rollbackInfo", NULL)) *rollback = 0; /* no chains */
    cd_deployment_save(t, account, region, rec);
    int akl = cd_active_key(key, account, region, app, group);
    const void *v;
    size_t vl;
    if (store_get(t, STORE_DB_CD_DEPLOYMENTS, key, (size_t)akl, &v, &vl) == 0 && vl == strlen(id) &&
        memcmp(v, id, vl) == 0)
        store_del(t, STORE_DB_CD_DEPLOYMENTS, key, (size_t)akl);
    int committed = store_txn_commit(t) == 0;
    t = NULL;
    if (committed) {
        /* after the commit, with no transaction held, as codedeploy.h promises */
        struct cd_deployment_done ev = {account,
                                        region,
                                        app,
                                        group,
                                        id,
                                        !strcmp(status, "Succeeded") ? CD_STATUS_SUCCEEDED
                                        : !strcmp(status, "Stopped") ? CD_STATUS_STOPPED
                                                                     : CD_STATUS_FAILED};
        cd_notify_deployment_done(&ev);
    }
out:
    store_txn_abort(t);
    json_object_put(rec);
    json_object_put(grp);
}

/* Starts the automatic rollback of id: the group's last successful revision, deployed again. */
static void rollback(store *st, const char *account, const char *region, const char *id)
{
    store_txn *t = NULL;
    struct json_object *rec = NULL, *grp = NULL, *rev = NULL, *ri;
    char key[CD_KEY_MAX], rid[16] = "";
    const char *msg = NULL;
    struct proto_req req;
    memset(&req, 0, sizeof req);
    req.arena = proto_arena_new();
    req.store = st;
    req.caller.account_id = account;
    req.caller.region = region;
    if (store_txn_begin(st, 0, &t)) goto out;
    if (cd_deployment_load(t, account, region, id, &rec)) goto out;
    int kl = cd_key(key, account, region, CD_K_GROUP, cd_str(rec, "applicationName"),
                    cd_str(rec, "deploymentGroupName"));
    if (cd_rec_get(t, STORE_DB_CD_APPLICATIONS, key, kl, &grp) == 0)
        json_object_object_get_ex(grp, "targetRevision", &rev);
    store_txn_abort(t);
    t = NULL;
    if (!rev) {
        msg = "Automatic rollback was not performed: the deployment group has no last "
              "successful revision to roll back to";
    } else {
        req.input = json_object_new_object();
        json_object_object_add(req.input, "applicationName",
                               json_object_new_string(cd_str(rec, "applicationName")));
        json_object_object_add(req.input, "deploymentGroupName",
                               json_object_new_string(cd_str(rec, "deploymentGroupName")));
        json_object_object_add(req.input, "revision", json_object_get(rev));
        json_object_object_add(req.input, "deploymentConfigName",
                               json_object_new_string(cd_str(rec, "deploymentConfigName")));
        json_object_object_add(req.input, "fileExistsBehavior",
                               json_object_new_string("OVERWRITE"));
        json_object_object_add(req.input, "ignoreApplicationStopFailures",
                               json_object_new_boolean(1));
        if (cd_create(&req, "codeDeployRollback", id, NULL, rid) != 0) {
            msg = proto_arena_printf(req.arena, "Automatic rollback could not start: %s",
                                     req.err_message ? req.err_message : "error");
            rid[0] = '\0';
        } else {
            msg = proto_arena_printf(req.arena,
                                     "Automatic rollback to the last successful revision started "
                                     "as deployment %s",
                                     rid);
        }
    }
    if (store_txn_begin(st, 1, &t)) goto out;
    json_object_put(rec);
    rec = NULL;
    if (cd_deployment_load(t, account, region, id, &rec) == 0) {
        ri = json_object_new_object();
        if (rid[0]) json_object_object_add(ri, "rollbackDeploymentId", json_object_new_string(rid));
        json_object_object_add(ri, "rollbackMessage", json_object_new_string(msg));
        json_object_object_add(rec, "rollbackInfo", ri);
        cd_deployment_save(t, account, region, rec);
        store_txn_commit(t);
        t = NULL;
    }
out:
    store_txn_abort(t);
    json_object_put(rec);
    json_object_put(grp);
    json_object_put(req.input);
    proto_arena_free(req.arena);
}

/* Marks the not-yet-run targets Skipped. */
static void skip_targets(struct dctx *c, struct json_object *targets, size_t from)
{
    for (size_t i = from; i < json_object_array_length(targets); i++) {
        struct json_object *tg = json_object_array_get_idx(targets, i);
        if (strcmp(cd_str(tg, "status"), "Pending") != 0) continue;
        json_object_object_add(tg, "status", json_object_new_string("Skipped"));
        skip_rest(tg, 0);
        c->pending--;
        c->skipped++;
        c->dirty = 1;
        save_progress(c, tg);
    }
}

struct inst_run {
    struct dctx *c;
    size_t slot;
    struct json_object *target;
};

static void *inst_thread(void *arg)
{
    struct inst_run *r = arg;
    run_instance(r->c, r->slot, r->target);
    return NULL;
}

/* Runs the lifecycle on the b targets from first at once, each on its own thread as the agent
 * on each host would (one inline when b is 1, or when a thread cannot be had). */
static void run_batch(struct dctx *c, struct json_object *targets, size_t first, size_t b)
{
    struct inst_run *runs = calloc(b, sizeof *runs);
    pthread_t *th = calloc(b, sizeof *th);
    int *started = calloc(b, sizeof *started);
    for (size_t k = 0; k < b; k++) {
        struct inst_run one = {c, k, json_object_array_get_idx(targets, first + k)};
        if (!runs || !th || !started) { /* no memory for threads: one after another */
            inst_thread(&one);
            continue;
        }
        runs[k] = one;
        started[k] = b > 1 && pthread_create(&th[k], NULL, inst_thread, &runs[k]) == 0;
        if (!started[k]) inst_thread(&runs[k]);
    }
    for (size_t k = 0; started && k < b; k++)
        if (started[k]) pthread_join(th[k], NULL);
    free(runs);
    free(th);
    free(started);
}

/* Runs deployment c->id to its end. Returns 1 when a shutdown interrupted it (left InProgress,
 * for the next start's settle), else 0. */
static int run_deployment(struct dctx *c)
{
    store_txn *t = NULL;
    struct json_object *insts = NULL, *cfg = NULL, *targets = json_object_new_array(), *mhh;
    const char *status = "Failed", *code = NULL, *message = NULL;
    char msgbuf[512];
    int do_rollback = 0, left = 0;
    if (store_txn_begin(c->st, 1, &t)) goto done;
    if (cd_deployment_load(t, c->account, c->region, c->id, &c->rec)) goto done;
    const char *st = cd_str(c->rec, "status");
    if (strcmp(st, "Created") && strcmp(st, "Queued") && strcmp(st, "InProgress")) goto done;
    json_object_object_add(c->rec, "status", json_object_new_string("InProgress"));
    json_object_object_add(c->rec, "startTime", cd_time(proto_now()));
    cd_deployment_save(t, c->account, c->region, c->rec);
    json_object_object_get_ex(c->rec, "_instances", &insts);
    for (size_t i = 0; insts && i < json_object_array_length(insts); i++) {
        struct json_object *tg = NULL;
        char key[CD_KEY_MAX];
        int kl = cd_key(key, c->account, c->region, CD_K_TARGET, c->id,
                        cd_str(json_object_array_get_idx(insts, i), "id"));
        if (cd_rec_get(t, STORE_DB_CD_DEPLOYMENTS, key, kl, &tg) == 0)
            json_object_array_add(targets, tg);
    }
    store_txn_commit(t);
    t = NULL;
    c->app = strdup(cd_str(c->rec, "applicationName"));
    c->group = strdup(cd_str(c->rec, "deploymentGroupName"));
    c->group_id = strdup(cd_str(c->rec, "_groupId") ? cd_str(c->rec, "_groupId") : "");
    json_object_object_get_ex(c->rec, "revision", &c->rev);
    json_object_object_get_ex(c->rec, "_config", &cfg);
    c->ignore_stop_failures = cd_bool(c->rec, "ignoreApplicationStopFailures");
    c->feb = cd_str(c->rec, "fileExistsBehavior");
    size_t n = json_object_array_length(targets);
    c->pending = (unsigned)n;
    c->dirty = 1;
    const char *platform = cd_str(c->rec, "computePlatform");
    if (platform && strcmp(platform, "Server") != 0) {
        code = "INTERNAL_ERROR";
        fmt(msgbuf, sizeof msgbuf,
            "codepipeline-local simulates only the Server compute platform: %s deployments "
            "are accepted but not run",
            platform);
        message = msgbuf;
        goto end;
    }
    if (n == 0) {
        code = "NO_INSTANCES";
        message = "The deployment failed because no instances were found for your deployment "
                  "group. Check your deployment group settings to make sure the tags for your "
                  "EC2 instances or Auto Scaling groups correctly identify the instances you "
                  "want to deploy to, and then try again.";
        goto end;
    }
    /* minimum healthy hosts: how many may be taken at once, and how many must succeed */
    const char *type = "MOST_CONCURRENCY";
    int value = 1;
    if (cfg && json_object_object_get_ex(cfg, "minimumHealthyHosts", &mhh)) {
        if (cd_str(mhh, "type")) type = cd_str(mhh, "type");
        value = json_object_get_int(json_object_object_get(mhh, "value"));
    }
    size_t healthy, batch;
    if (!strcmp(type, "HOST_COUNT"))
        healthy = (size_t)value;
    else if (!strcmp(type, "FLEET_PERCENT"))
        healthy = (n * (size_t)value + 99) / 100; /* rounded up, as AWS does */
    else
        healthy = n > 1 ? n - 1 : 0; /* OneAtATime: all but one stay healthy */
    if (healthy >= n && strcmp(type, "MOST_CONCURRENCY") != 0) {
        code = "HEALTH_CONSTRAINTS_INVALID";
        fmt(msgbuf, sizeof msgbuf,
            "The deployment failed because the minimum number of healthy instances (%zu) "
            "is not less than the number of instances in the deployment group (%zu).",
            healthy, n);
        message = msgbuf;
        skip_targets(c, targets, 0);
        goto end;
    }
    batch = n - healthy;
    if (batch < 1) batch = 1;
    fetch_bundle(c);
    rt_proc **procs = calloc(batch, sizeof *procs);
    if (!procs) {
        code = "INTERNAL_ERROR";
        message = "out of memory";
        goto end;
    }
    pthread_mutex_lock(&run_mu);
    c->run->procs = procs;
    c->run->nprocs = batch;
    pthread_mutex_unlock(&run_mu);
    size_t i = 0;
    while (i < n && !run_stopping(c->run)) {
        size_t b = n - i < batch ? n - i : batch;
        /* take b more offline only if enough stay healthy */
        if (n - c->failed < healthy + b) break;
        run_batch(c, targets, i, b);
        i += b;
    }
    pthread_mutex_lock(&run_mu);
    c->run->procs = NULL;
    c->run->nprocs = 0;
    pthread_mutex_unlock(&run_mu);
    free(procs);
    if (run_stopping(c->run) == 2) {
        left = 1; /* the server is going down: the next start settles it */
        save_progress(c, NULL);
        goto done;
    }
    skip_targets(c, targets, 0);
    if (run_stopping(c->run)) {
        status = "Stopped";
        code = "MANUAL_STOP";
        message = "The deployment was stopped by the user.";
    } else if (c->succeeded >= (healthy > 0 ? healthy : 1) && c->succeeded + c->failed == n) {
        status = "Succeeded";
    } else {
        code = "HEALTH_CONSTRAINTS";
        message = health_message;
    }
end:
    if (c->dirty) save_progress(c, NULL);
    finish(c->st, c->account, c->region, c->id, status, code, message, &do_rollback);
    if (do_rollback) rollback(c->st, c->account, c->region, c->id);
done:
    store_txn_abort(t);
    if (c->bundle_copy) unlink(c->bundle);
    if (c->bundle_fd >= 0) close(c->bundle_fd);
    json_object_put(targets);
    return left;
}

/* The queue's run of one deployment item. */
static int run_item(void *ctx, const struct rt_item *item, rt_task *task)
{
    struct dctx *c = calloc(1, sizeof *c);
    struct running run = {0, NULL, 0};
    if (!c) return RT_TASK_REQUEUE;
    c->bundle_fd = -1;
    pthread_mutex_init(&c->mu, NULL);
    c->st = ctx;
    c->run = &run;
    fmt(c->account, sizeof c->account, "%s", item->account);
    fmt(c->region, sizeof c->region, "%s", item->region);
    fmt(c->id, sizeof c->id, "%s", item->id);
    rt_task_on_stop(task, on_task_stop, &run);
    int left = run_deployment(c);
    rt_task_on_stop(task, NULL, NULL);
    json_object_put(c->rec);
    free(c->app);
    free(c->group);
    free(c->group_id);
    pthread_mutex_destroy(&c->mu);
    free(c);
    return left ? RT_TASK_LEAVE : RT_TASK_DONE;
}

static const char *restart_message =
    "The deployment was interrupted by a restart of codepipeline-local: the lifecycle event "
    "running on the instance died with the server.";

/* The queue's settle: a deployment left running by a previous process. */
static int settle_item(void *ctx, const struct rt_item *item)
{
    cd_agent_settle(ctx, item->account, item->region, item->id, restart_message);
    return RT_SETTLE_DONE;
}

int cd_agent_register(store *st, struct rt_queue *q, int sandbox, char *err, size_t errlen)
{
    agent_sandbox = sandbox;
    if (!q) {
        fmt(err, errlen, "no work queue");
        return -1;
    }
    agent_queue = q;
    agent_store = st;
    /* deployments to different groups run side by side; one group has one at a time */
    struct rt_kind kind = {CD_QUEUE_KIND, run_item, settle_item, st, 4};
    int rc = rt_queue_register(q, &kind);
    if (rc) {
        fmt(err, errlen, "cannot register the deployment workers (%d)", rc);
        agent_queue = NULL;
        return -1;
    }
    return 0;
}

void cd_agent_unregister(void)
{
    agent_queue = NULL;
    agent_store = NULL;
}

int cd_agent_enqueue_in(store_txn *t, const char *account, const char *region, const char *id)
{
    if (!agent_queue) return -1;
    struct rt_item_spec spec = {CD_QUEUE_KIND, id, account, region, id, strlen(id), 0};
    return rt_queue_add_in(agent_queue, t, &spec) == 0 ? 0 : -1;
}

void cd_agent_kick(const char *id)
{
    if (agent_queue) rt_queue_kick(agent_queue, CD_QUEUE_KIND, id);
}

struct settle_ctx {
    store_txn *t;
    const char *account, *region, *id, *message;
    unsigned skipped, failed;
};

static int settle_target(void *ctx, const char *key, size_t klen, struct json_object *tg)
{
    (void)key;
    (void)klen;
    struct settle_ctx *s = ctx;
    const char *st = cd_str(tg, "status");
    if (!strcmp(st, "Pending")) {
        json_object_object_add(tg, "status", json_object_new_string("Skipped"));
        skip_rest(tg, 0);
        s->skipped++;
    } else if (!strcmp(st, "InProgress")) {
        struct diag d = {.code = "UnknownError"};
        fmt(d.message, sizeof d.message, "%s", s->message);
        json_object_object_add(tg, "status", json_object_new_string("Failed"));
        for (int e = 0; e < CD_EV__COUNT; e++) {
            struct json_object *ev = event_at(tg, e);
            const char *es = cd_str(ev, "status");
            if (!strcmp(es, "InProgress"))
                event_end(ev, "Failed", &d);
            else if (!strcmp(es, "Pending")) {
                json_object_object_add(ev, "status", json_object_new_string("Skipped"));
            }
        }
        s->failed++;
    } else {
        return 0;
    }
    cd_target_save(s->t, s->account, s->region, s->id, tg);
    return 0;
}

static int collect_copy(void *ctx, const char *key, size_t klen, struct json_object *rec)
{
    (void)key;
    (void)klen;
    json_object_array_add(ctx, json_object_get(rec));
    return 0;
}

void cd_agent_settle(store *st, const char *account, const char *region, const char *id,
                     const char *message)
{
    store_txn *t = NULL;
    struct json_object *rec = NULL;
    char prefix[CD_KEY_MAX];
    int do_rollback = 0, stop = 0;
    if (store_txn_begin(st, 1, &t)) return;
    if (cd_deployment_load(t, account, region, id, &rec)) {
        store_txn_abort(t);
        return;
    }
    stop = cd_bool(rec, "_stopRequested");
    rt_queue_remove_in(t, CD_QUEUE_KIND, id); /* a queued one that StopDeployment ends */
    struct settle_ctx s = {t, account, region, id, message, 0, 0};
    int plen = cd_key(prefix, account, region, CD_K_TARGET, id, "");
    /* collect first, then write: the cursor must not see its own writes */
    struct json_object *all = json_object_new_array();
    cd_rec_each(t, STORE_DB_CD_DEPLOYMENTS, prefix, plen, collect_copy, all);
    for (size_t i = 0; i < json_object_array_length(all); i++)
        settle_target(&s, NULL, 0, json_object_array_get_idx(all, i));
    json_object_put(all);
    struct json_object *ov;
    if (json_object_object_get_ex(rec, "deploymentOverview", &ov)) {
        json_object_object_add(ov, "Pending", json_object_new_int(0));
        json_object_object_add(ov, "InProgress", json_object_new_int(0));
        int sk = json_object_get_int(json_object_object_get(ov, "Skipped"));
        int fa = json_object_get_int(json_object_object_get(ov, "Failed"));
        json_object_object_add(ov, "Skipped", json_object_new_int(sk + (int)s.skipped));
        json_object_object_add(ov, "Failed", json_object_new_int(fa + (int)s.failed));
        cd_deployment_save(t, account, region, rec);
    }
    store_txn_commit(t);
    finish(st, account, region, id, stop ? "Stopped" : "Failed",
           stop ? "MANUAL_STOP" : "AGENT_ISSUE",
           stop ? "The deployment was stopped by the user." : message, &do_rollback);
    if (do_rollback) rollback(st, account, region, id);
    json_object_put(rec);
}
