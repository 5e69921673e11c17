/* The build runner: one worker thread per build, waiting QUEUED for a slot, then the phases in
 * one shell session fed over stdin (so `cd` and `export` hold from one command to the next),
 * sources in, artifacts out, the log written as it is produced. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <json-c/json.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "protocol/ids.h"
#include "sigv4/encode.h"
#include "sigv4/sigv4.h"
#include "providers/codebuild/buildspec.h"
#include "providers/codebuild/run.h"
#include "providers/codecommit/codecommit.h"
#include "providers/logs/logs.h"
#include "providers/runtime/queue.h"
#include "providers/runtime/runner.h"
#include "providers/s3/s3.h"
#include "providers/sts/sts.h"

#define LOG_CAP (8u << 20) /* bytes of a build's log kept */

/* ---- the queue ----------------------------------------------------------------------------
 * Builds are items of the runtime's durable work queue (kind "codebuild.build", id the build's
 * uuid, payload the build id): as many workers as --max-builds take them, so the others wait
 * QUEUED; a restart settles the ones that were running and runs the queued ones. */

#define KIND       "codebuild.build"
#define TIMER_KIND "codebuild.queued-timeout" /* one delayed item per build, see timer_run */

/* What stopped a build; guarded by mu with the build's proc. */
#define STOP_ASKED    1 /* StopBuild */
#define STOP_SHUTDOWN 2 /* the server is shutting down */

struct active {
    rt_proc *proc;
    int stop;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int sandbox;
static const struct proto_service_config *config;
static rt_queue *queue;

void cb_run_configure(const struct proto_service_config *cfg)
{
    pthread_mutex_lock(&mu);
    config = cfg;
    sandbox = cfg ? cfg->build_sandbox : 0;
    queue = cfg ? cfg->queue : NULL;
    pthread_mutex_unlock(&mu);
}

const char *cb_run_endpoint(void)
{
    return config && config->endpoint_url[0] ? config->endpoint_url : "http://localhost:4566";
}

void cb_run_account_key(const char *account, const char **access_key, const char **secret)
{
    pthread_mutex_lock(&mu);
    const struct sigv4_creds *creds = config ? config->creds : NULL;
    pthread_mutex_unlock(&mu);
    *access_key = *secret = NULL;
    if (creds && !sigv4_creds_of_account(creds, account, access_key, secret))
        *access_key = *secret = NULL;
}

static unsigned max_builds(void)
{
    if (config && config->max_builds) return config->max_builds;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)n : 1;
}

/* ---- one build ----------------------------------------------------------------------------- */

struct build {
    store *st;
    char account[16], region[32], id[CB_BUILD_ID_MAX];
    const char *uuid;
    struct active act;
    struct json_object *b, *spec;
    double start;
    char dir[1024], src[1100], logpath[1100];
    int logfd;
    uint64_t logged;
    /* the shell session */
    struct cb_spec bs;
    int in_fd;
    char token[40];
    struct proto_sb pending;
    int k, stage;
    size_t idx;
    int phase_failed, build_failed, phase_open, session_done, last_rc, skip_upload;
    int dirty; /* the in-memory build has changes not committed yet (see flush) */
    char fail_msg[1024];
    struct json_object *cur_phase;
    struct proto_sb exported;
    /* CloudWatch Logs: the log's lines not yet sent (text holds them back to back) */
    const char *cw_group, *cw_stream; /* NULL: DISABLED */
    struct proto_sb cw_text, cw_line;
    struct lg_event *cw_ev;
    size_t cw_n, cw_cap;
};

#define CW_BATCH_EVENTS 1000
#define CW_EVENT_MAX    (256u << 10) /* a longer line is cut into events of this size */

/* Sends the lines gathered so far to the build's log stream in one batch (one transaction). A
 * failure is not the build's: it is logged and the lines are dropped. */
static void cw_flush(struct build *bd)
{
    if (!bd->cw_n) return;
    for (size_t i = 0; i < bd->cw_n; i++) /* offsets became pointers now that text stays put */
        bd->cw_ev[i].message = bd->cw_text.buf + (size_t)(uintptr_t)bd->cw_ev[i].message;
    int rc = lg_put_events(bd->st, bd->account, bd->region, bd->cw_group, bd->cw_stream, bd->cw_ev,
                           bd->cw_n, LG_CREATE);
    if (rc) fprintf(stderr, "codebuild: %s: CloudWatch Logs write failed (%d)\n", bd->id, rc);
    bd->cw_n = 0;
    bd->cw_text.len = 0;
}

/* Ends the current line as one event stamped now. */
static void cw_event(struct build *bd)
{
    if (bd->cw_n == bd->cw_cap) {
        size_t cap = bd->cw_cap ? 2 * bd->cw_cap : 64;
        struct lg_event *ne = realloc(bd->cw_ev, cap * sizeof *ne);
        if (!ne) return;
        bd->cw_ev = ne;
        bd->cw_cap = cap;
    }
    struct lg_event *e = &bd->cw_ev[bd->cw_n++];
    e->timestamp = lg_now_ms();
    e->message = (const char *)(uintptr_t)bd->cw_text.len; /* an offset until the flush */
    e->len = bd->cw_line.len;
    proto_sb_append(&bd->cw_text, bd->cw_line.buf ? bd->cw_line.buf : "", bd->cw_line.len);
    bd->cw_line.len = 0;
    if (bd->cw_n >= CW_BATCH_EVENTS || bd->cw_text.len >= (1u << 20)) cw_flush(bd);
}

/* Splits the log's bytes into lines, one event each (the newline is not part of the message). */
static void cw_feed(struct build *bd, const char *s, size_t n)
{
    if (!bd->cw_group) return;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n') {
            cw_event(bd);
            continue;
        }
        proto_sb_append(&bd->cw_line, s + i, 1);
        if (bd->cw_line.len >= CW_EVENT_MAX) cw_event(bd);
    }
}

static void logf_(struct build *bd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void log_write(struct build *bd, const char *s, size_t n)
{
    if (bd->logfd < 0 || bd->logged >= LOG_CAP) return;
    if (n > LOG_CAP - bd->logged) n = LOG_CAP - bd->logged;
    ssize_t w = write(bd->logfd, s, n);
    if (w > 0) bd->logged += (uint64_t)w;
    cw_feed(bd, s, n);
}

static void logf_(struct build *bd, const char *fmt, ...)
{
    char buf[2048];
    char ts[32];
    proto_iso8601(ts, proto_now());
    int h = snprintf(buf, sizeof buf, "[Container] %.10s %.8s ", ts, ts + 11);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + h, sizeof buf - (size_t)h - 1, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    size_t len = (size_t)h +
                 ((size_t)n < sizeof buf - (size_t)h - 1 ? (size_t)n : sizeof buf - (size_t)h - 2);
    buf[len++] = '\n';
    log_write(bd, buf, len);
}

static struct json_object *get(struct json_object *o, const char *k)
{
    struct json_object *v = NULL;
    if (o) json_object_object_get_ex(o, k, &v);
    return v;
}

/* Commits the in-memory build. */
static void save(struct build *bd)
{
    store_txn *t = NULL;
    bd->dirty = 0;
    if (store_txn_begin(bd->st, 1, &t)) return;
    if (cb_build_save(t, bd->account, bd->region, bd->id, bd->start, bd->b, bd->spec) == 0)
        store_txn_commit(t);
    else
        store_txn_abort(t);
}

/* Phase changes are committed when the build is about to wait (a command, a download, an upload)
 * and at its end, not one by one: each commit is an fsync, and the phases with nothing to run
 * pass in microseconds. A crash loses nothing that matters: the restart fails the build anyway. */
static void flush(struct build *bd)
{
    if (bd->dirty) save(bd);
}

static void phase_start(struct build *bd, const char *type)
{
    struct json_object *p = json_object_new_object();
    json_object_object_add(p, "phaseType", json_object_new_string(type));
    json_object_object_add(p, "startTime", cb_json_time(proto_now()));
    json_object_array_add(get(bd->b, "phases"), p);
    json_object_object_add(bd->b, "currentPhase", json_object_new_string(type));
    bd->cur_phase = p;
    logf_(bd, "Entering phase %s", type);
    bd->dirty = 1;
}

static void phase_end(struct build *bd, const char *status, const char *code, const char *msg)
{
    if (!bd->cur_phase) return;
    cb_phase_end(bd->cur_phase, proto_now(), status, code, msg);
    logf_(bd, "Phase complete: %s State: %s",
          json_object_get_string(get(bd->cur_phase, "phaseType")), status);
    if (msg && *msg) logf_(bd, "Phase context status code: %s Message: %s", code ? code : "", msg);
    bd->cur_phase = NULL;
    bd->dirty = 1;
}

/* Ends the build: the status, FINALIZING was run by the caller, COMPLETED. */
static void finish(struct build *bd, const char *status)
{
    double now = proto_now();
    struct json_object *p = json_object_new_object();
    json_object_object_add(p, "phaseType", json_object_new_string("COMPLETED"));
    json_object_object_add(p, "startTime", cb_json_time(now));
    json_object_array_add(get(bd->b, "phases"), p);
    json_object_object_add(bd->b, "currentPhase", json_object_new_string("COMPLETED"));
    json_object_object_add(bd->b, "buildStatus", json_object_new_string(status));
    json_object_object_add(bd->b, "buildComplete", json_object_new_boolean(1));
    json_object_object_add(bd->b, "endTime", cb_json_time(now));
    logf_(bd, "Build %s", status);
    save(bd);
    struct cb_build_done ev = {bd->account, bd->region, cb_json_str(bd->b, "projectName"), bd->id,
                               cb_status_parse(status)};
    cb_notify_build_done(&ev);
}

/* ---- paths and files ------------------------------------------------------------------------ */

static int mkdirs(const char *path)
{
    char buf[1200];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(buf, 0755) && errno != EEXIST) return -1;
        *p = '/';
    }
    return mkdir(buf, 0755) && errno != EEXIST ? -1 : 0;
}

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
    (void)sb;
    (void)flag;
    (void)f;
    return remove(p);
}

static void rmtree(const char *path)
{
    nftw(path, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

void cb_run_remove_files(store *st, const char *id)
{
    const char *uuid = strchr(id, ':');
    if (!uuid) return;
    char p[1200];
    snprintf(p, sizeof p, "%s/codebuild/work/%s", store_dir(st), uuid + 1);
    rmtree(p);
    snprintf(p, sizeof p, "%s/codebuild/logs/%s.log", store_dir(st), uuid + 1);
    unlink(p);
}

/* Extracts the zip at fd into dir, refusing entries that are absolute or climb out with "..".
 * Symlinks are written as links (never followed: files are created with O_NOFOLLOW semantics by
 * libarchive's secure flags). Returns 0 or -1 with err. */
static int unzip_fd(int fd, const char *dir, char *err, size_t errlen)
{
    struct archive *a = archive_read_new(), *w = archive_write_disk_new();
    struct archive_entry *e;
    int rc = 0;
    archive_read_support_format_zip(a);
    archive_write_disk_set_options(w, ARCHIVE_EXTRACT_SECURE_SYMLINKS |
                                          ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_PERM);
    /* entries' own names are checked with cb_path_is_inside before they are prefixed with dir,
     * which is absolute: hence no ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS */
    if (archive_read_open_fd(a, fd, 65536) != ARCHIVE_OK) {
        snprintf(err, errlen, "source is not a zip archive: %s", archive_error_string(a));
        rc = -1;
        goto out;
    }
    int r;
    while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
        const char *name = archive_entry_pathname(e);
        if (!name || !cb_path_is_inside(name)) {
            snprintf(err, errlen, "source zip has an entry outside its root: %s", name ? name : "");
            rc = -1;
            goto out;
        }
        char full[2400];
        snprintf(full, sizeof full, "%s/%s", dir, name);
        archive_entry_set_pathname(e, full);
        if (archive_write_header(w, e) != ARCHIVE_OK) {
            snprintf(err, errlen, "cannot extract %.600s: %.300s", full, archive_error_string(w));
            rc = -1;
            goto out;
        }
        const void *buf;
        size_t size;
        la_int64_t off;
        while (archive_read_data_block(a, &buf, &size, &off) == ARCHIVE_OK)
            archive_write_data_block(w, buf, size, off);
        archive_write_finish_entry(w);
    }
    if (r != ARCHIVE_EOF) {
        snprintf(err, errlen, "source zip is damaged: %s", archive_error_string(a));
        rc = -1;
    }
out:
    archive_read_free(a);
    archive_write_free(w);
    return rc;
}

struct s3_folder {
    struct build *bd;
    const char *bucket, *prefix, *dir;
    int rc;
    char *err;
    size_t errlen;
};

static int folder_cb(void *ctx, const char *key, const struct s3_object_info *info)
{
    (void)info;
    struct s3_folder *f = ctx;
    const char *rel = key + strlen(f->prefix);
    while (*rel == '/')
        rel++;
    if (!*rel || rel[strlen(rel) - 1] == '/') return 0;
    if (!cb_path_is_inside(rel)) return 0;
    char path[2400], dir[2400];
    snprintf(path, sizeof path, "%s/%s", f->dir, rel);
    snprintf(dir, sizeof dir, "%s", path);
    *strrchr(dir, '/') = 0;
    int fd = -1;
    struct s3_object_info oi;
    if (mkdirs(dir) ||
        s3_get_object_fd(f->bd->st, f->bd->account, f->bucket, key, NULL, &oi, &fd)) {
        snprintf(f->err, f->errlen, "cannot download s3://%s/%s", f->bucket, key);
        f->rc = -1;
        return 1;
    }
    int out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0644);
    char buf[65536];
    ssize_t n;
    while (out >= 0 && (n = read(fd, buf, sizeof buf)) > 0)
        if (write(out, buf, (size_t)n) != n) break;
    if (out >= 0) close(out);
    close(fd);
    return 0;
}

/* Fetches source src (a ProjectSource) at version ver (NULL: the default) into dir. Writes the
 * version it resolved (an S3 object version, a commit id; "" when none) into resolved (64 bytes).
 * Returns 0, or -1 with err. */
static int fetch_one(struct build *bd, struct json_object *src, const char *ver, const char *dir,
                     char *resolved, char *err, size_t errlen)
{
    const char *type = cb_json_str(src, "type"), *loc = cb_json_str(src, "location");
    *resolved = 0;
    if (mkdirs(dir)) {
        snprintf(err, errlen, "cannot create the source directory");
        return -1;
    }
    if (!type || !strcmp(type, "NO_SOURCE")) return 0;
    if (!strcmp(type, "CODEPIPELINE")) {
        snprintf(err, errlen, "a CODEPIPELINE source is only given by a pipeline's build action");
        return -1;
    }
    if (!strcmp(type, "S3")) {
        char bucket[256];
        const char *slash = loc ? strchr(loc, '/') : NULL;
        if (!slash || (size_t)(slash - loc) >= sizeof bucket) {
            snprintf(err, errlen, "invalid S3 source location: %s", loc ? loc : "");
            return -1;
        }
        memcpy(bucket, loc, (size_t)(slash - loc));
        bucket[slash - loc] = 0;
        const char *key = slash + 1;
        if (*key && key[strlen(key) - 1] != '/') {
            struct s3_object_info oi;
            int fd = -1;
            if (s3_get_object_fd(bd->st, bd->account, bucket, key, ver, &oi, &fd)) {
                snprintf(err, errlen, "NoSuchKey: error while downloading source s3://%s/%s",
                         bucket, key);
                return -1;
            }
            snprintf(resolved, 64, "%s", oi.version_id);
            int rc = unzip_fd(fd, dir, err, errlen);
            close(fd);
            return rc;
        }
        struct s3_folder f = {bd, bucket, key, dir, 0, err, errlen};
        int r = s3_list_objects_cb(bd->st, bd->account, bucket, key, folder_cb, &f);
        if (r < 0) {
            snprintf(err, errlen, "cannot list s3://%s/%s", bucket, key);
            return -1;
        }
        return f.rc;
    }
    if (!strcmp(type, "CODECOMMIT")) {
        const char *repo = loc ? strrchr(loc, '/') : NULL;
        repo = repo ? repo + 1 : loc;
        char commit[41] = "";
        char rev[300];
        if (ver && !strncmp(ver, "refs/heads/", 11)) ver += 11;
        if (ver && !strncmp(ver, "refs/tags/", 10)) ver += 10;
        snprintf(rev, sizeof rev, "%s", ver && *ver ? ver : "main");
        int rc = cc_checkout(bd->st, bd->account, bd->region, repo ? repo : "", rev, dir, commit,
                             err, errlen);
        /* no sourceVersion: the default branch is main, or master in older repositories */
        if (rc == CC_ENOCOMMIT && !(ver && *ver))
            rc = cc_checkout(bd->st, bd->account, bd->region, repo ? repo : "", "master", dir,
                             commit, err, errlen);
        if (rc) return -1;
        snprintf(resolved, 64, "%s", commit);
        return 0;
    }
    snprintf(err, errlen, "source type %s is not simulated by codepipeline-local", type);
    return -1;
}

/* Fetches the primary source into bd->src. Returns 0, or -1 with err (and *code). */
static int fetch_source(struct build *bd, char *err, size_t errlen, const char **code)
{
    struct json_object *src = get(bd->spec, "source");
    *code = "CLIENT_ERROR";
    if (mkdirs(bd->src)) {
        snprintf(err, errlen, "cannot create the source directory");
        return -1;
    }
    struct json_object *ins = get(get(bd->spec, "hostEnv"), "inputs");
    if (ins) { /* the pipeline's input artifacts: the primary in src, the others beside it */
        for (size_t i = 0; i < json_object_array_length(ins); i++) {
            struct json_object *in = json_object_array_get_idx(ins, i);
            char dir[1200];
            if (i == 0)
                snprintf(dir, sizeof dir, "%s", bd->src);
            else
                snprintf(dir, sizeof dir, "%s/src%zu", bd->dir, i);
            struct s3_object_info oi;
            int fd = -1;
            if (mkdirs(dir) ||
                s3_get_object_fd(bd->st, bd->account, cb_json_str(in, "bucket"),
                                 cb_json_str(in, "key"), cb_json_str(in, "version"), &oi, &fd)) {
                snprintf(err, errlen, "cannot read input artifact %s from s3://%s/%s",
                         cb_json_str(in, "name"), cb_json_str(in, "bucket"),
                         cb_json_str(in, "key"));
                return -1;
            }
            int rc = unzip_fd(fd, dir, err, errlen);
            close(fd);
            if (rc) return -1;
            json_object_object_add(in, "dir", json_object_new_string(dir));
        }
        return 0;
    }
    char resolved[64];
    if (fetch_one(bd, src, cb_json_str(bd->b, "sourceVersion"), bd->src, resolved, err, errlen))
        return -1;
    if (*resolved)
        json_object_object_add(bd->b, "resolvedSourceVersion", json_object_new_string(resolved));
    /* secondary sources, each in its own directory named in CODEBUILD_SRC_DIR_<sourceIdentifier> */
    struct json_object *ss = get(bd->b, "secondarySources");
    struct json_object *vers = get(bd->b, "secondarySourceVersions");
    for (size_t i = 0; ss && i < json_object_array_length(ss); i++) {
        struct json_object *one = json_object_array_get_idx(ss, i);
        const char *sid = cb_json_str(one, "sourceIdentifier"), *ver = NULL;
        if (!sid || !*sid || strchr(sid, '/') || !cb_path_is_inside(sid)) {
            snprintf(err, errlen, "secondary source %zu has no valid sourceIdentifier", i);
            return -1;
        }
        for (size_t k = 0; vers && k < json_object_array_length(vers); k++) {
            struct json_object *v = json_object_array_get_idx(vers, k);
            const char *vid = cb_json_str(v, "sourceIdentifier");
            if (vid && !strcmp(vid, sid)) ver = cb_json_str(v, "sourceVersion");
        }
        char dir[1300];
        snprintf(dir, sizeof dir, "%s/src_%s", bd->dir, sid);
        if (fetch_one(bd, one, ver, dir, resolved, err, errlen)) return -1;
    }
    return 0;
}

/* ---- the shell session ---------------------------------------------------------------------- */

static char *b64(const char *s, size_t n)
{
    char *o = malloc(SIGV4_BASE64_LEN(n) + 1);
    if (!o) abort();
    sigv4_base64(s, n, o);
    return o;
}

static void send_line(struct build *bd, const char *s)
{
    size_t n = strlen(s), off = 0;
    while (off < n) {
        ssize_t w = write(bd->in_fd, s + off, n - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return;
        off += (size_t)w;
    }
}

/* Writes one command: evaluated in the session (stdin from /dev/null so it cannot eat the
 * script), then a marker with its exit status, its token split so `set -x` cannot forge it. */
static void send_command(struct build *bd, const char *cmd)
{
    flush(bd); /* the phase it runs in shows while it runs */
    logf_(bd, "Running command %s", cmd);
    char *enc = b64(cmd, strlen(cmd));
    struct proto_sb sb = PROTO_SB_INIT;
    proto_sb_printf(&sb,
                    "eval \"$(printf '%%s' '%s' | base64 -d)\" </dev/null; printf '%%s%%s:%%d\\n' "
                    "'%.16s' '%s' \"$?\"\n",
                    enc, bd->token, bd->token + 16);
    send_line(bd, proto_sb_str(&sb));
    proto_sb_free(&sb);
    free(enc);
}

/* Moves the session to its next command, or ends it. Called once at the start and after each
 * command's marker. */
static void next_step(struct build *bd)
{
    for (;;) {
        if (bd->k >= CB_N_PHASES) {
            for (size_t i = 0; i < bd->bs.exported.n; i++) {
                char line[1024];
                const char *n = bd->bs.exported.v[i];
                snprintf(line, sizeof line,
                         "printf '%%s%%s:X:%%s:%%s\\n' '%.16s' '%s' '%s' \"$(printf %%s "
                         "\"${%s-}\" | base64 -w0)\"\n",
                         bd->token, bd->token + 16, n, n);
                send_line(bd, line);
            }
            send_line(bd, "exit 0\n");
            close(bd->in_fd);
            bd->in_fd = -1;
            bd->session_done = 1;
            return;
        }
        struct cb_spec_phase *ph = &bd->bs.phases[bd->k];
        if (!bd->phase_open) {
            bd->phase_open = 1;
            bd->phase_failed = 0;
            bd->stage = 0;
            bd->idx = 0;
            phase_start(bd, cb_phase_type((enum cb_phase_kind)bd->k));
        }
        if (bd->stage == 0) {
            if (bd->idx < ph->commands.n && !bd->phase_failed) {
                send_command(bd, ph->commands.v[bd->idx++]);
                return;
            }
            bd->stage = 1;
            bd->idx = 0;
        }
        if (bd->idx < ph->finally.n) {
            send_command(bd, ph->finally.v[bd->idx++]);
            return;
        }
        bd->phase_open = 0;
        if (bd->phase_failed) {
            phase_end(bd, "FAILED", "COMMAND_EXECUTION_ERROR", bd->fail_msg);
            if (!bd->build_failed) send_line(bd, "export CODEBUILD_BUILD_SUCCEEDING=0\n");
            bd->build_failed = 1;
            /* INSTALL and PRE_BUILD failures skip to FINALIZING ("Build phase transitions") */
            if (!ph->on_failure_continue && (bd->k == CB_INSTALL || bd->k == CB_PRE_BUILD))
                bd->skip_upload = 1;
            bd->k = ph->on_failure_continue
                        ? bd->k + 1
                        : (int)cb_phase_after_failure((enum cb_phase_kind)bd->k);
        } else {
            phase_end(bd, "SUCCEEDED", NULL, NULL);
            bd->k++;
        }
    }
}

static void on_marker(struct build *bd, const char *s)
{
    if (s[0] == 'X' && s[1] == ':') {
        proto_sb_puts(&bd->exported, s + 2);
        proto_sb_putc(&bd->exported, '\n');
        return;
    }
    int rc = atoi(s);
    bd->last_rc = rc;
    if (rc != 0) {
        struct cb_spec_phase *ph = &bd->bs.phases[bd->k];
        const char *cmd = bd->stage == 0 ? ph->commands.v[bd->idx - 1] : ph->finally.v[bd->idx - 1];
        logf_(bd, "Command did not exit successfully %s exit status %d", cmd, rc);
        if (!bd->phase_failed)
            snprintf(bd->fail_msg, sizeof bd->fail_msg,
                     "Error while executing command: %s. Reason: exit status %d", cmd, rc);
        bd->phase_failed = 1;
    }
    if (!bd->session_done) next_step(bd);
}

/* Finds the session's markers in the output; everything else goes to the log. */
static int sink(void *ctx, enum rt_stream stream, const char *data, size_t len)
{
    (void)stream;
    struct build *bd = ctx;
    proto_sb_append(&bd->pending, data, len);
    size_t tl = strlen(bd->token);
    for (;;) {
        char *buf = bd->pending.buf;
        char *nl = memchr(buf, '\n', bd->pending.len);
        if (!nl) {
            if (bd->pending.len > 65536) { /* a long line with no newline: pass it on */
                log_write(bd, buf, bd->pending.len - tl);
                memmove(buf, buf + bd->pending.len - tl, tl);
                bd->pending.len = tl;
            }
            cw_flush(bd); /* one batch per chunk of output, so a follower sees it now */
            return 0;
        }
        size_t linelen = (size_t)(nl - buf) + 1;
        *nl = 0;
        char *m = strstr(buf, bd->token);
        if (m && m[tl] == ':') {
            log_write(bd, buf, (size_t)(m - buf));
            if (m > buf) log_write(bd, "\n", 1);
            char tmp[2048];
            snprintf(tmp, sizeof tmp, "%s", m + tl + 1);
            memmove(buf, buf + linelen, bd->pending.len - linelen);
            bd->pending.len -= linelen;
            on_marker(bd, tmp);
            continue;
        }
        *nl = '\n';
        log_write(bd, buf, linelen);
        memmove(buf, buf + linelen, bd->pending.len - linelen);
        bd->pending.len -= linelen;
    }
}

static void env_add(struct proto_sb *names, char ***envp, size_t *n, const char *k, const char *v)
{
    (void)names;
    char *s;
    if (asprintf(&s, "%s=%s", k, v ? v : "") < 0) abort();
    /* a later value of the same name replaces the earlier one */
    size_t kl = strlen(k);
    for (size_t i = 0; i < *n; i++)
        if (!strncmp((*envp)[i], k, kl) && (*envp)[i][kl] == '=') {
            free((*envp)[i]);
            (*envp)[i] = s;
            return;
        }
    *envp = realloc(*envp, (*n + 2) * sizeof **envp);
    if (!*envp) abort();
    (*envp)[(*n)++] = s;
    (*envp)[*n] = NULL;
}

/* Returns the build's environment (malloc'd array of malloc'd strings). */
static char **make_env(struct build *bd, size_t *count)
{
    char **e = NULL;
    size_t n = 0;
    char buf[64];
    const char *path = getenv("PATH"), *home = getenv("HOME");
    env_add(NULL, &e, &n, "PATH", path ? path : "/usr/local/bin:/usr/bin:/bin");
    env_add(NULL, &e, &n, "HOME", home ? home : "/tmp");
    env_add(NULL, &e, &n, "LANG", "C.UTF-8");
    for (size_t i = 0; i < bd->bs.var_names.n; i++)
        env_add(NULL, &e, &n, bd->bs.var_names.v[i], bd->bs.var_values.v[i]);
    struct json_object *vars = get(get(bd->b, "environment"), "environmentVariables");
    for (size_t i = 0; vars && i < json_object_array_length(vars); i++) {
        struct json_object *v = json_object_array_get_idx(vars, i);
        const char *type = cb_json_str(v, "type");
        if (type && strcmp(type, "PLAINTEXT")) continue;
        env_add(NULL, &e, &n, cb_json_str(v, "name"), cb_json_str(v, "value"));
    }
    env_add(NULL, &e, &n, "CODEBUILD_BUILD_ID", bd->id);
    snprintf(buf, sizeof buf, "%lld", (long long)json_object_get_int64(get(bd->b, "buildNumber")));
    env_add(NULL, &e, &n, "CODEBUILD_BUILD_NUMBER", buf);
    env_add(NULL, &e, &n, "CODEBUILD_BUILD_ARN", cb_json_str(bd->b, "arn"));
    env_add(NULL, &e, &n, "CODEBUILD_SRC_DIR", bd->src);
    struct json_object *ins = get(get(bd->spec, "hostEnv"), "inputs");
    for (size_t i = 1; ins && i < json_object_array_length(ins); i++) {
        struct json_object *in = json_object_array_get_idx(ins, i);
        char name[300];
        snprintf(name, sizeof name, "CODEBUILD_SRC_DIR_%s", cb_json_str(in, "name"));
        env_add(NULL, &e, &n, name, cb_json_str(in, "dir"));
    }
    struct json_object *ss = ins ? NULL : get(bd->b, "secondarySources");
    for (size_t i = 0; ss && i < json_object_array_length(ss); i++) {
        const char *sid = cb_json_str(json_object_array_get_idx(ss, i), "sourceIdentifier");
        char name[300], dir[1300];
        snprintf(name, sizeof name, "CODEBUILD_SRC_DIR_%s", sid ? sid : "");
        snprintf(dir, sizeof dir, "%s/src_%s", bd->dir, sid ? sid : "");
        env_add(NULL, &e, &n, name, dir);
    }
    env_add(NULL, &e, &n, "CODEBUILD_RESOLVED_SOURCE_VERSION",
            cb_json_str(bd->b, "resolvedSourceVersion"));
    env_add(NULL, &e, &n, "CODEBUILD_SOURCE_VERSION", cb_json_str(bd->b, "sourceVersion"));
    env_add(NULL, &e, &n, "CODEBUILD_INITIATOR", cb_json_str(bd->b, "initiator"));
    env_add(NULL, &e, &n, "CODEBUILD_BUILD_SUCCEEDING", "1");
    env_add(NULL, &e, &n, "CODEBUILD_BUILD_IMAGE", cb_json_str(get(bd->b, "environment"), "image"));
    env_add(NULL, &e, &n, "CODEBUILD_LOG_PATH", cb_json_str(get(bd->b, "logs"), "streamName"));
    snprintf(buf, sizeof buf, "%lld", (long long)(bd->start * 1000));
    env_add(NULL, &e, &n, "CODEBUILD_START_TIME", buf);
    env_add(NULL, &e, &n, "AWS_REGION", bd->region);
    env_add(NULL, &e, &n, "AWS_DEFAULT_REGION", bd->region);
    /* AWS hands a build its service role's session through the container credentials endpoint;
     * here they are the environment's AWS_* variables, which every SDK and the CLI read first.
     * They last the build's timeout, and five minutes more for the artifacts' upload after it. */
    struct sts_temp_creds tc;
    char session[80];
    snprintf(session, sizeof session, "AWSCodeBuild-%.60s", bd->uuid);
    long minutes = (long)json_object_get_int(get(bd->b, "timeoutInMinutes"));
    if (minutes <= 0) minutes = 60;
    if (!sts_issue_for_role(bd->st, NULL, bd->account, cb_json_str(bd->b, "serviceRole"), session,
                            minutes * 60 + 300, &tc)) {
        env_add(NULL, &e, &n, "AWS_ACCESS_KEY_ID", tc.access_key);
        env_add(NULL, &e, &n, "AWS_SECRET_ACCESS_KEY", tc.secret);
        env_add(NULL, &e, &n, "AWS_SESSION_TOKEN", tc.token);
    } else { /* the store refused them: the account's key pair the build was started with */
        struct json_object *cred = get(bd->spec, "credentials");
        const char *akid = cb_json_str(cred, "accessKeyId"),
                   *secret = cb_json_str(cred, "secretAccessKey");
        env_add(NULL, &e, &n, "AWS_ACCESS_KEY_ID", akid && secret ? akid : "test");
        env_add(NULL, &e, &n, "AWS_SECRET_ACCESS_KEY", akid && secret ? secret : "test");
    }
    env_add(NULL, &e, &n, "AWS_ENDPOINT_URL", cb_json_str(bd->spec, "endpoint"));
    *count = n;
    return e;
}

/* Runs the phases. Returns the status of the session: "SUCCEEDED", "FAILED", "TIMED_OUT" or
 * "STOPPED". */
static const char *run_phases(struct build *bd)
{
    size_t n_env;
    char **envp = make_env(bd, &n_env);
    const char *shell = bd->bs.shell && !strcmp(bd->bs.shell, "sh") ? "/bin/sh" : "bash";
    const char *argv[] = {shell, "-s", NULL};
    /* bubblewrap: the whole filesystem read-only except the build's directory; the network and
     * the server's user stay, so `aws s3 cp` inside the build still reaches this server */
    const char *bwrap_argv[] = {
        "bwrap", "--ro-bind",         "/",    "/",      "--dev", "/dev",  "--proc",
        "/proc", "--tmpfs",           "/tmp", "--bind", bd->dir, bd->dir, "--chdir",
        bd->src, "--die-with-parent", "--",   shell,    "-s",    NULL};
    pthread_mutex_lock(&mu);
    int use_bwrap = sandbox;
    pthread_mutex_unlock(&mu);
    struct rt_cmd cmd = {0};
    struct rt_result res;
    rt_proc *p = NULL;
    const char *status = "SUCCEEDED";
    /* getrandom, not OpenSSL: OpenSSL keeps per-thread generator state that a build thread
     * would have to release at its exit */
    unsigned char rnd[16];
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
        for (size_t i = 0; i < sizeof rnd; i++)
            rnd[i] = (unsigned char)(rand() ^ (int)i);
    sigv4_hex(rnd, sizeof rnd, bd->token);
    cmd.argv = use_bwrap ? bwrap_argv : argv;
    cmd.envp = (const char *const *)envp;
    cmd.cwd = bd->src;
    cmd.in.kind = RT_IN_PIPE;
    cmd.out.kind = RT_OUT_SINK;
    cmd.err.kind = RT_OUT_MERGE;
    cmd.sink = sink;
    cmd.sink_ctx = bd;
    cmd.timeout = json_object_get_int(get(bd->b, "timeoutInMinutes")) * cb_minute_seconds();
    cmd.grace = 2;
    if (rt_start(&cmd, &p, &res)) {
        phase_start(bd, "INSTALL");
        phase_end(bd, "FAILED", "CLIENT_ERROR", "cannot start the build shell");
        status = "FAILED";
        goto out;
    }
    bd->in_fd = rt_stdin_take(p);
    /* kept so that a start after a crash can kill what this session left running */
    json_object_object_add(bd->spec, "pid", json_object_new_int((int)rt_pid(p)));
    bd->dirty = 1; /* committed before the first command runs (send_command) */
    pthread_mutex_lock(&mu);
    bd->act.proc = p;
    int stop = bd->act.stop;
    pthread_mutex_unlock(&mu);
    if (stop) rt_stop(p);
    /* `exit N` in a command fails that command, as on CodeBuild, instead of ending the
     * session: a function named exit shadows the builtin in bash */
    if (!strcmp(shell, "bash")) send_line(bd, "exit() { return \"${1:-$?}\"; }\n");
    next_step(bd);
    rt_wait(p, &res);
    pthread_mutex_lock(&mu);
    bd->act.proc = NULL;
    pthread_mutex_unlock(&mu);
    rt_free(p);
    if (bd->in_fd >= 0) close(bd->in_fd);
    bd->in_fd = -1;
    if (bd->pending.len) log_write(bd, bd->pending.buf, bd->pending.len);
    pthread_mutex_lock(&mu);
    int shutdown = bd->act.stop == STOP_SHUTDOWN;
    pthread_mutex_unlock(&mu);
    if (res.end == RT_END_STOPPED && shutdown) {
        if (bd->cur_phase)
            phase_end(bd, "FAILED", "BUILD_INTERRUPTED",
                      "Build interrupted: codepipeline-local shut down while it ran");
        status = "FAILED";
        bd->build_failed = 1;
        bd->skip_upload = 1;
    } else if (res.end == RT_END_TIMED_OUT || res.end == RT_END_STOPPED) {
        status = res.end == RT_END_TIMED_OUT ? "TIMED_OUT" : "STOPPED";
        if (bd->cur_phase)
            phase_end(bd, status, res.end == RT_END_TIMED_OUT ? "BUILD_TIMED_OUT" : "BUILD_STOPPED",
                      res.end == RT_END_TIMED_OUT ? "Build timed out" : "Build was stopped");
        bd->build_failed = 1;
    } else if (!bd->session_done) {
        /* the shell ended early: `exit` in a command, or a crash */
        if (bd->cur_phase) {
            char msg[1200];
            snprintf(msg, sizeof msg,
                     "Error while executing command. Reason: the shell exited "
                     "with status %d",
                     res.exit_code);
            phase_end(bd, "FAILED", "COMMAND_EXECUTION_ERROR", msg);
        }
        status = "FAILED";
    } else if (bd->build_failed) {
        status = "FAILED";
    }
out:
    for (size_t i = 0; i < n_env; i++)
        free(envp[i]);
    free(envp);
    return status;
}

/* ---- artifacts ------------------------------------------------------------------------------ */

struct collect {
    const char *root;
    size_t rootlen;
    struct cb_spec_artifacts *a;
    struct cb_strs files;
};

static struct collect *coll_cur;

static int collect_cb(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
    (void)sb;
    (void)f;
    struct collect *c = coll_cur;
    if (flag == FTW_D || flag == FTW_DP) return 0;
    if (strlen(p) <= c->rootlen) return 0;
    const char *rel = p + c->rootlen + 1;
    int hit = 0;
    for (size_t i = 0; i < c->a->files.n && !hit; i++)
        hit = cb_glob_match(c->a->files.v[i], rel);
    for (size_t i = 0; i < c->a->exclude.n && hit; i++)
        if (cb_glob_match(c->a->exclude.v[i], rel)) hit = 0;
    if (hit) {
        c->files.v = realloc(c->files.v, (c->files.n + 1) * sizeof *c->files.v);
        if (!c->files.v) abort();
        c->files.v[c->files.n++] = strdup(rel);
    }
    return 0;
}

static pthread_mutex_t nftw_mu = PTHREAD_MUTEX_INITIALIZER; /* nftw has no context argument */

/* Finds the files of a (globs under its base-directory, minus exclude-paths) into c, with
 * c->root the real path of that directory. Returns 0 or -1 with err for a path that escapes the
 * source directory. Symlinks are listed, never followed (FTW_PHYS). */
static int collect_files(struct build *bd, struct cb_spec_artifacts *a, struct collect *c,
                         char *real_root, char *err, size_t errlen)
{
    if (a->base_directory && !cb_path_is_inside(a->base_directory)) {
        snprintf(err, errlen, "base-directory %s is outside the source directory",
                 a->base_directory);
        return -1;
    }
    for (size_t i = 0; i < a->files.n; i++)
        if (!cb_path_is_inside(a->files.v[i])) {
            snprintf(err, errlen, "artifact path %s is outside the source directory",
                     a->files.v[i]);
            return -1;
        }
    char root[2400];
    snprintf(root, sizeof root, "%s%s%s", bd->src, a->base_directory ? "/" : "",
             a->base_directory ? a->base_directory : "");
    char real_src[PATH_MAX];
    if (!realpath(bd->src, real_src) || !realpath(root, real_root) ||
        strncmp(real_root, real_src, strlen(real_src)) ||
        (real_root[strlen(real_src)] && real_root[strlen(real_src)] != '/')) {
        snprintf(err, errlen, "base-directory %s does not exist in the source directory",
                 a->base_directory ? a->base_directory : "");
        return -1;
    }
    c->root = real_root;
    c->rootlen = strlen(real_root);
    c->a = a;
    pthread_mutex_lock(&nftw_mu);
    coll_cur = c;
    nftw(real_root, collect_cb, 16, FTW_PHYS);
    pthread_mutex_unlock(&nftw_mu);
    return 0;
}

/* Uploads the artifacts. Returns 0 or -1 with err. */
/* Writes the files of a to bucket: one zip at keystr, or each file under keystr/. Returns 0 or
 * -1 with err. */
static int write_artifacts(struct build *bd, struct cb_spec_artifacts *a, const char *bucket,
                           const char *keystr, int zip, char *err, size_t errlen)
{
    char real_root[PATH_MAX];
    struct collect c = {0};
    if (collect_files(bd, a, &c, real_root, err, errlen)) return -1;
    if (!c.files.n) {
        snprintf(err, errlen, "no matching artifact paths found");
        return -1;
    }
    struct proto_sb key = PROTO_SB_INIT;
    proto_sb_puts(&key, keystr);
    int rc = 0;
    if (zip) {
        char tmp[1200];
        snprintf(tmp, sizeof tmp, "%s/artifact.zip", bd->dir);
        struct archive *w = archive_write_new();
        archive_write_set_format_zip(w);
        if (archive_write_open_filename(w, tmp) != ARCHIVE_OK) rc = -1;
        for (size_t i = 0; !rc && i < c.files.n; i++) {
            char full[4800];
            snprintf(full, sizeof full, "%s/%s", real_root, c.files.v[i]);
            struct stat sb;
            if (lstat(full, &sb)) continue;
            const char *entry = c.files.v[i];
            if (a->discard_paths && strrchr(entry, '/')) entry = strrchr(entry, '/') + 1;
            struct archive_entry *e = archive_entry_new();
            archive_entry_set_pathname(e, entry);
            archive_entry_set_mtime(e, sb.st_mtime, 0);
            if (S_ISLNK(sb.st_mode)) {
                char target[PATH_MAX];
                ssize_t tl = readlink(full, target, sizeof target - 1);
                target[tl > 0 ? tl : 0] = 0;
                archive_entry_set_filetype(e, AE_IFLNK);
                archive_entry_set_perm(e, 0777);
                archive_entry_set_symlink(e, target);
                archive_write_header(w, e);
            } else if (S_ISREG(sb.st_mode)) {
                archive_entry_set_filetype(e, AE_IFREG);
                archive_entry_set_perm(e, sb.st_mode & 0777);
                archive_entry_set_size(e, sb.st_size);
                archive_write_header(w, e);
                int fd = open(full, O_RDONLY | O_NOFOLLOW);
                char buf[65536];
                ssize_t n;
                while (fd >= 0 && (n = read(fd, buf, sizeof buf)) > 0)
                    archive_write_data(w, buf, (size_t)n);
                if (fd >= 0) close(fd);
            }
            archive_entry_free(e);
        }
        archive_write_close(w);
        archive_write_free(w);
        int fd = open(tmp, O_RDONLY);
        if (rc || fd < 0 ||
            s3_put_object_fd(bd->st, bd->account, bucket, proto_sb_str(&key), fd, "application/zip",
                             NULL)) {
            snprintf(err, errlen, "cannot upload the artifact to s3://%s/%s", bucket,
                     proto_sb_str(&key));
            rc = -1;
        }
        if (fd >= 0) close(fd);
        unlink(tmp);
    } else {
        for (size_t i = 0; !rc && i < c.files.n; i++) {
            char full[4800];
            snprintf(full, sizeof full, "%s/%s", real_root, c.files.v[i]);
            const char *entry = c.files.v[i];
            if (a->discard_paths && strrchr(entry, '/')) entry = strrchr(entry, '/') + 1;
            char *k;
            if (asprintf(&k, "%s/%s", proto_sb_str(&key), entry) < 0) abort();
            int fd = open(full, O_RDONLY | O_NOFOLLOW);
            if (fd >= 0 && s3_put_object_fd(bd->st, bd->account, bucket, k, fd, NULL, NULL)) {
                snprintf(err, errlen, "cannot upload the artifact to s3://%s/%s", bucket, k);
                rc = -1;
            }
            if (fd >= 0) close(fd);
            free(k);
        }
    }
    for (size_t i = 0; i < c.files.n; i++)
        free(c.files.v[i]);
    free(c.files.v);
    proto_sb_free(&key);
    return rc;
}

/* Uploads the files of a as the S3 ProjectArtifacts art say (location, path, namespaceType, name,
 * packaging, overrideArtifactName). Returns 0 or -1 with err. */
static int upload_s3(struct build *bd, struct json_object *art, struct cb_spec_artifacts *a,
                     char *err, size_t errlen)
{
    const char *bucket = cb_json_str(art, "location");
    const char *path = cb_json_str(art, "path"), *ns = cb_json_str(art, "namespaceType");
    const char *name = cb_json_str(art, "name"), *pack = cb_json_str(art, "packaging");
    struct json_object *ov = get(art, "overrideArtifactName");
    if (ov && json_object_get_boolean(ov) && a->name) name = a->name;
    struct proto_sb key = PROTO_SB_INIT;
    if (path && *path) proto_sb_printf(&key, "%s/", path);
    if (ns && !strcmp(ns, "BUILD_ID")) proto_sb_printf(&key, "%s/", bd->uuid);
    proto_sb_puts(&key, name ? name : "");
    int rc = write_artifacts(bd, a, bucket, proto_sb_str(&key), pack && !strcmp(pack, "ZIP"), err,
                             errlen);
    proto_sb_free(&key);
    return rc;
}

static int upload(struct build *bd, char *err, size_t errlen)
{
    struct json_object *outs = get(get(bd->spec, "hostEnv"), "outputs");
    if (outs) { /* the pipeline's output artifacts: zips, secondary ones by identifier */
        for (size_t i = 0; i < json_object_array_length(outs); i++) {
            struct json_object *o = json_object_array_get_idx(outs, i);
            struct cb_spec_artifacts *a = i == 0 ? &bd->bs.artifacts : NULL;
            for (size_t k = 0; i > 0 && k < bd->bs.n_secondary; k++)
                if (!strcmp(bd->bs.secondary[k].identifier, cb_json_str(o, "name")))
                    a = &bd->bs.secondary[k];
            if (!a || !a->present) {
                snprintf(err, errlen, "no artifacts in the buildspec for output artifact %s",
                         cb_json_str(o, "name"));
                return -1;
            }
            if (write_artifacts(bd, a, cb_json_str(o, "bucket"), cb_json_str(o, "key"), 1, err,
                                errlen))
                return -1;
        }
        return 0;
    }
    struct json_object *art = get(bd->spec, "artifacts");
    const char *type = cb_json_str(art, "type");
    if (type && !strcmp(type, "S3") && bd->bs.artifacts.present &&
        upload_s3(bd, art, &bd->bs.artifacts, err, errlen))
        return -1;
    /* secondary artifacts: the buildspec's secondary-artifacts matched by artifactIdentifier */
    struct json_object *sa = get(bd->spec, "secondaryArtifacts");
    for (size_t i = 0; sa && i < json_object_array_length(sa); i++) {
        struct json_object *one = json_object_array_get_idx(sa, i);
        const char *aid = cb_json_str(one, "artifactIdentifier");
        const char *t2 = cb_json_str(one, "type");
        if (!t2 || strcmp(t2, "S3")) continue;
        struct cb_spec_artifacts *a = NULL;
        for (size_t k = 0; aid && k < bd->bs.n_secondary; k++)
            if (bd->bs.secondary[k].identifier && !strcmp(bd->bs.secondary[k].identifier, aid))
                a = &bd->bs.secondary[k];
        if (!a || !a->present) {
            snprintf(err, errlen, "no secondary-artifacts in the buildspec for identifier %s",
                     aid ? aid : "");
            return -1;
        }
        if (upload_s3(bd, one, a, err, errlen)) return -1;
    }
    return 0;
}

/* Turns the buildspec's reports into report groups and reports (JUNITXML only). */
static void run_reports(struct build *bd)
{
    for (size_t i = 0; i < bd->bs.n_reports; i++) {
        struct cb_spec_report *r = &bd->bs.reports[i];
        char err[512] = "", arn[800], real_root[PATH_MAX];
        if (r->file_format && strcmp(r->file_format, "JUNITXML")) {
            logf_(bd,
                  "Report %s: file format %s is not supported by codepipeline-local; "
                  "only JUNITXML reports are read",
                  r->name, r->file_format);
            continue;
        }
        struct cb_spec_artifacts a = {0};
        a.files = r->files;
        a.base_directory = r->base_directory;
        struct collect c = {0};
        if (collect_files(bd, &a, &c, real_root, err, sizeof err)) {
            logf_(bd, "Report %s: %s", r->name, err);
            continue;
        }
        if (!c.files.n) {
            logf_(bd, "Report %s: no matching report files found", r->name);
        } else if (cb_report_ingest(bd->st, bd->account, bd->region,
                                    cb_json_str(bd->b, "projectName"), bd->id, r->name, real_root,
                                    (const char *const *)c.files.v, c.files.n, arn, sizeof arn, err,
                                    sizeof err) == 0) {
            struct json_object *ra = get(bd->b, "reportArns");
            if (!ra) {
                ra = json_object_new_array();
                json_object_object_add(bd->b, "reportArns", ra);
            }
            json_object_array_add(ra, json_object_new_string(arn));
            if (*err) logf_(bd, "Report %s: %s", r->name, err);
        }
        for (size_t k = 0; k < c.files.n; k++)
            free(c.files.v[k]);
        free(c.files.v);
    }
}

/* ---- the worker ----------------------------------------------------------------------------- */

/* Reads the buildspec: inline YAML, a path in the source, or buildspec.yml. Returns a malloc'd
 * string, or NULL with err. */
static char *read_buildspec(struct build *bd, size_t *len, char *err, size_t errlen)
{
    const char *bs = cb_json_str(get(bd->spec, "source"), "buildspec");
    char path[2400];
    if (bs && *bs && (strchr(bs, '\n') || strstr(bs, "version:"))) {
        *len = strlen(bs);
        return strdup(bs);
    }
    const char *rel = bs && *bs ? bs : "buildspec.yml";
    if (!cb_path_is_inside(rel)) {
        snprintf(err, errlen, "buildspec path %s is outside the source directory", rel);
        return NULL;
    }
    snprintf(path, sizeof path, "%s/%s", bd->src, rel);
    int fd = open(path, O_RDONLY | O_NOFOLLOW);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) || !S_ISREG(sb.st_mode) || sb.st_size > (4 << 20)) {
        if (fd >= 0) close(fd);
        snprintf(err, errlen, "stat %.900s: no such file or directory", path);
        return NULL;
    }
    char *s = malloc((size_t)sb.st_size + 1);
    ssize_t n = s ? read(fd, s, (size_t)sb.st_size) : -1;
    close(fd);
    if (n < 0) {
        free(s);
        snprintf(err, errlen, "cannot read %.900s", path);
        return NULL;
    }
    s[n] = 0;
    *len = (size_t)n;
    return s;
}

/* Whether the build has a source to fetch, or artifacts to upload: only then is its phase worth
 * committing before it starts (see flush). */
static int has_download(struct build *bd)
{
    const char *type = cb_json_str(get(bd->spec, "source"), "type");
    struct json_object *ss = get(bd->b, "secondarySources");
    return (type && strcmp(type, "NO_SOURCE")) || get(get(bd->spec, "hostEnv"), "inputs") ||
           (ss && json_object_array_length(ss));
}

static int has_upload(struct build *bd)
{
    const char *type = cb_json_str(get(bd->spec, "artifacts"), "type");
    return (type && strcmp(type, "NO_ARTIFACTS")) || get(get(bd->spec, "hostEnv"), "outputs") ||
           get(bd->spec, "secondaryArtifacts");
}

static void run_build(struct build *bd)
{
    char err[1024] = "";
    const char *code = NULL;
    const char *status = "FAILED";
    struct json_object *phases = get(bd->b, "phases");
    size_t np = json_object_array_length(phases);
    struct json_object *queued = np ? json_object_array_get_idx(phases, np - 1) : NULL;

    /* a worker took it: how long it waited decides whether it may still run */
    double qdeadline =
        bd->start + json_object_get_int(get(bd->b, "queuedTimeoutInMinutes")) * cb_minute_seconds();
    pthread_mutex_lock(&mu);
    int stop = bd->act.stop, timed_out = proto_now() >= qdeadline;
    pthread_mutex_unlock(&mu);
    if (stop == STOP_SHUTDOWN) return; /* still QUEUED: it runs after the next start */
    if (stop || timed_out) { /* past the deadline, a stop is the queued timer's: TIMED_OUT */
        const char *st = timed_out ? "TIMED_OUT" : "STOPPED";
        if (queued) cb_phase_end(queued, proto_now(), st, NULL, NULL);
        finish(bd, st);
        return;
    }
    if (queued) cb_phase_end(queued, proto_now(), "SUCCEEDED", NULL, NULL);

    char p[1200];
    snprintf(p, sizeof p, "%s/codebuild/logs", store_dir(bd->st));
    mkdirs(p);
    bd->logfd = open(bd->logpath, O_WRONLY | O_CREAT | O_APPEND, 0644);
    phase_start(bd, "PROVISIONING");
    if (mkdirs(bd->dir)) {
        phase_end(bd, "FAILED", "CLIENT_ERROR", "cannot create the build directory");
        goto final;
    }
    struct json_object *vars = get(get(bd->b, "environment"), "environmentVariables");
    for (size_t i = 0; vars && i < json_object_array_length(vars); i++) {
        const char *type = cb_json_str(json_object_array_get_idx(vars, i), "type");
        if (type && strcmp(type, "PLAINTEXT")) {
            snprintf(err, sizeof err,
                     "environment variable %s of type %s cannot be resolved: %s is not simulated "
                     "by codepipeline-local",
                     cb_json_str(json_object_array_get_idx(vars, i), "name"), type,
                     !strcmp(type, "PARAMETER_STORE") ? "Parameter Store" : "Secrets Manager");
            phase_end(bd, "FAILED", "CLIENT_ERROR", err);
            goto final;
        }
    }
    phase_end(bd, "SUCCEEDED", NULL, NULL);

    phase_start(bd, "DOWNLOAD_SOURCE");
    if (has_download(bd)) flush(bd);
    if (fetch_source(bd, err, sizeof err, &code)) {
        phase_end(bd, "FAILED", code, err);
        goto final;
    }
    size_t yl;
    char *yaml = read_buildspec(bd, &yl, err, sizeof err);
    if (!yaml || cb_spec_parse(yaml, yl, &bd->bs, err, sizeof err)) {
        free(yaml);
        phase_end(bd, "FAILED", "YAML_FILE_ERROR", err);
        goto final;
    }
    free(yaml);
    phase_end(bd, "SUCCEEDED", NULL, NULL);

    status = run_phases(bd);
    if (!strcmp(status, "STOPPED") || !strcmp(status, "TIMED_OUT")) goto final_status;
    pthread_mutex_lock(&mu);
    int interrupted = bd->act.stop == STOP_SHUTDOWN;
    pthread_mutex_unlock(&mu);
    if (interrupted) goto final_status;
    if (bd->exported.len) {
        struct json_object *ev = json_object_new_array();
        char *save_ptr = NULL;
        for (char *line = strtok_r(bd->exported.buf, "\n", &save_ptr); line;
             line = strtok_r(NULL, "\n", &save_ptr)) {
            char *colon = strchr(line, ':');
            if (!colon) continue;
            *colon = 0;
            const char *enc = colon + 1;
            size_t el = strlen(enc);
            unsigned char *dec = malloc(el / 4 * 3 + 4);
            if (!dec) abort();
            int64_t dl = sigv4_base64_decode(enc, el, dec, el / 4 * 3 + 4);
            dec[dl > 0 ? dl : 0] = 0;
            struct json_object *e = json_object_new_object();
            json_object_object_add(e, "name", json_object_new_string(line));
            json_object_object_add(e, "value", json_object_new_string((char *)dec));
            json_object_array_add(ev, e);
            free(dec);
        }
        json_object_object_add(bd->b, "exportedEnvironmentVariables", ev);
    }
    run_reports(bd);
    if (!bd->skip_upload) {
        phase_start(bd, "UPLOAD_ARTIFACTS");
        if (has_upload(bd)) flush(bd);
        if (upload(bd, err, sizeof err)) {
            phase_end(bd, "FAILED", "CLIENT_ERROR", err);
            status = "FAILED";
        } else {
            phase_end(bd, "SUCCEEDED", NULL, NULL);
        }
    }
    goto final_status;
final:
    status = "FAILED";
final_status:
    phase_start(bd, "FINALIZING");
    phase_end(bd, "SUCCEEDED", NULL, NULL);
    finish(bd, status);
}

/* Called by the queue when the build is asked to stop (StopBuild, or shutdown). */
static void on_task_stop(void *ctx, int reason)
{
    struct build *bd = ctx;
    pthread_mutex_lock(&mu);
    bd->act.stop = reason == RT_STOP_SHUTDOWN ? STOP_SHUTDOWN : STOP_ASKED;
    if (bd->act.proc) rt_stop(bd->act.proc);
    pthread_mutex_unlock(&mu);
}

/* Runs one build on a queue worker. */
static int kind_run(void *ctx, const struct rt_item *item, rt_task *task)
{
    store *st = ctx;
    struct build *bd = calloc(1, sizeof *bd);
    store_txn *t = NULL;
    if (!bd) return RT_TASK_REQUEUE;
    bd->st = st;
    bd->logfd = -1;
    bd->in_fd = -1;
    snprintf(bd->account, sizeof bd->account, "%s", item->account);
    snprintf(bd->region, sizeof bd->region, "%s", item->region);
    snprintf(bd->id, sizeof bd->id, "%.*s", (int)item->payload_len, (const char *)item->payload);
    const char *colon = strchr(bd->id, ':');
    bd->uuid = colon ? colon + 1 : bd->id;
    snprintf(bd->dir, sizeof bd->dir, "%s/codebuild/work/%s", store_dir(st), bd->uuid);
    snprintf(bd->src, sizeof bd->src, "%s/src", bd->dir);
    snprintf(bd->logpath, sizeof bd->logpath, "%s/codebuild/logs/%s.log", store_dir(st), bd->uuid);
    int rc = store_txn_begin(st, 0, &t);
    if (!rc) rc = cb_build_load(t, bd->account, bd->region, bd->id, &bd->start, &bd->b, &bd->spec);
    store_txn_abort(t);
    if (!rc) {
        bd->cw_group = cb_json_str(get(bd->b, "logs"), "groupName");
        bd->cw_stream = cb_json_str(get(bd->b, "logs"), "streamName");
        if (!bd->cw_stream) bd->cw_group = NULL;
    }
    int result = RT_TASK_DONE; /* a build deleted meanwhile is simply dropped */
    if (!rc && !json_object_get_boolean(get(bd->b, "buildComplete"))) {
        rt_task_on_stop(task, on_task_stop, bd);
        run_build(bd);
        rt_task_on_stop(task, NULL, NULL);
        /* stopped by a shutdown before it left QUEUED: queued again for the next start */
        if (bd->act.stop == STOP_SHUTDOWN && !strcmp(cb_json_str(bd->b, "currentPhase"), "QUEUED"))
            result = RT_TASK_REQUEUE;
    }
    if (bd->cw_line.len) cw_event(bd); /* a last line without its newline */
    cw_flush(bd);
    free(bd->cw_ev);
    proto_sb_free(&bd->cw_text);
    proto_sb_free(&bd->cw_line);
    if (bd->logfd >= 0) close(bd->logfd);
    cb_spec_free(&bd->bs);
    proto_sb_free(&bd->pending);
    proto_sb_free(&bd->exported);
    json_object_put(bd->b);
    json_object_put(bd->spec);
    free(bd);
    return result;
}

/* Kills the process group a crashed server's build left behind, when pid still is that build's
 * shell (its environment names the build: pids are reused). */
static void kill_leftover(int pid, const char *id)
{
    char path[64], want[CB_BUILD_ID_MAX + 32];
    snprintf(path, sizeof path, "/proc/%d/environ", pid);
    snprintf(want, sizeof want, "CODEBUILD_BUILD_ID=%s", id);
    int fd = open(path, O_RDONLY);
    if (fd < 0) return;
    static __thread char buf[1 << 16];
    ssize_t len = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (len <= 0) return;
    buf[len] = 0;
    for (ssize_t i = 0; i < len; i += (ssize_t)strlen(buf + i) + 1)
        if (!strcmp(buf + i, want)) {
            kill(-pid, SIGKILL);
            return;
        }
}

/* Fails a build the previous process was running when it died. */
static void settle_one(store *st, const char *account, const char *region, const char *id)
{
    store_txn *t = NULL;
    struct json_object *b = NULL, *spec = NULL;
    double start;
    if (store_txn_begin(st, 1, &t)) return;
    if (cb_build_load(t, account, region, id, &start, &b, &spec)) goto out;
    struct json_object *pid = get(spec, "pid");
    if (pid) kill_leftover(json_object_get_int(pid), id);
    struct json_object *phases = get(b, "phases");
    double now = proto_now();
    size_t n = json_object_array_length(phases);
    struct json_object *last = n ? json_object_array_get_idx(phases, n - 1) : NULL;
    const char *msg = "Build interrupted: codepipeline-local restarted while the build ran";
    if (last && !get(last, "phaseStatus"))
        cb_phase_end(last, now, "FAILED", "BUILD_INTERRUPTED", msg);
    struct json_object *c = json_object_new_object();
    json_object_object_add(c, "phaseType", json_object_new_string("COMPLETED"));
    json_object_object_add(c, "startTime", cb_json_time(now));
    json_object_array_add(phases, c);
    json_object_object_add(b, "currentPhase", json_object_new_string("COMPLETED"));
    json_object_object_add(b, "buildStatus", json_object_new_string("FAILED"));
    json_object_object_add(b, "buildComplete", json_object_new_boolean(1));
    json_object_object_add(b, "endTime", cb_json_time(now));
    if (cb_build_save(t, account, region, id, start, b, spec)) goto out;
    int rc = store_txn_commit(t);
    t = NULL;
    if (!rc) {
        struct cb_build_done ev = {account, region, cb_json_str(b, "projectName"), id,
                                   CB_STATUS_FAILED};
        cb_notify_build_done(&ev);
    }
out:
    store_txn_abort(t);
    json_object_put(b);
    json_object_put(spec);
}

/* A build the previous process was running when it died: failed as interrupted. */
static int kind_settle(void *ctx, const struct rt_item *item)
{
    char id[CB_BUILD_ID_MAX];
    snprintf(id, sizeof id, "%.*s", (int)item->payload_len, (const char *)item->payload);
    settle_one(ctx, item->account, item->region, id);
    return RT_SETTLE_DONE;
}

/* Ends build id, still waiting QUEUED, with status (STOPPED or TIMED_OUT), and removes its queue
 * item, in one transaction. The caller has taken the item from the workers (rt_queue_cancel
 * answered RT_CANCEL_QUEUED). Returns 0 or a store error. */
static int end_queued(store *st, const char *account, const char *region, const char *id,
                      const char *status)
{
    store_txn *t = NULL;
    struct json_object *b = NULL, *spec = NULL;
    double start;
    const char *uuid = strchr(id, ':');
    int rc, ended = 0;
    if ((rc = store_txn_begin(st, 1, &t))) return rc;
    if ((rc = cb_build_load(t, account, region, id, &start, &b, &spec))) goto out;
    if (!json_object_get_boolean(get(b, "buildComplete"))) {
        double now = proto_now();
        struct json_object *phases = get(b, "phases");
        size_t n = json_object_array_length(phases);
        struct json_object *last = n ? json_object_array_get_idx(phases, n - 1) : NULL;
        if (last && !get(last, "phaseStatus")) cb_phase_end(last, now, status, NULL, NULL);
        struct json_object *c = json_object_new_object();
        json_object_object_add(c, "phaseType", json_object_new_string("COMPLETED"));
        json_object_object_add(c, "startTime", cb_json_time(now));
        json_object_array_add(phases, c);
        json_object_object_add(b, "currentPhase", json_object_new_string("COMPLETED"));
        json_object_object_add(b, "buildStatus", json_object_new_string(status));
        json_object_object_add(b, "buildComplete", json_object_new_boolean(1));
        json_object_object_add(b, "endTime", cb_json_time(now));
        if ((rc = cb_build_save(t, account, region, id, start, b, spec))) goto out;
        ended = 1;
    }
    rt_queue_remove_in(t, KIND, uuid + 1);
    rc = store_txn_commit(t);
    t = NULL;
    if (!rc && ended) {
        struct cb_build_done ev = {account, region, cb_json_str(b, "projectName"), id,
                                   cb_status_parse(status)};
        cb_notify_build_done(&ev);
    }
out:
    store_txn_abort(t);
    json_object_put(b);
    json_object_put(spec);
    return rc;
}

/* The queued-timeout timer of a build (kind TIMER_KIND, due at the build's queued deadline): a
 * build still waiting for a slot ends TIMED_OUT in its QUEUED phase, as CodeBuild reports it; one
 * that has started or ended is left alone. */
static int timer_run(void *ctx, const struct rt_item *item, rt_task *task)
{
    (void)task;
    store *st = ctx;
    char id[CB_BUILD_ID_MAX];
    enum rt_state state;
    snprintf(id, sizeof id, "%.*s", (int)item->payload_len, (const char *)item->payload);
    const char *uuid = strchr(id, ':');
    store_txn *t = NULL;
    if (!uuid || store_txn_begin(st, 0, &t)) return RT_TASK_DONE;
    int rc = rt_queue_state_in(t, KIND, uuid + 1, &state);
    store_txn_abort(t);
    /* only a waiting build: cancelling a running one would stop it */
    if (rc || state != RT_QUEUED) return RT_TASK_DONE;
    if (rt_queue_cancel(queue, KIND, uuid + 1) == RT_CANCEL_QUEUED)
        end_queued(st, item->account, item->region, id, "TIMED_OUT");
    return RT_TASK_DONE;
}

int cb_run_register(store *st)
{
    if (!queue) return RT_EINVAL;
    struct rt_kind timer = {TIMER_KIND, timer_run, NULL, st, 1};
    int rc = rt_queue_register(queue, &timer);
    if (rc) return rc;
    struct rt_kind k = {KIND, kind_run, kind_settle, st, max_builds()};
    return rt_queue_register(queue, &k);
}

int cb_run_enqueue_in(store_txn *t, const char *account, const char *region, const char *id,
                      double queued_deadline)
{
    const char *uuid = strchr(id, ':');
    if (!queue || !uuid) return RT_EINVAL;
    struct rt_item_spec spec = {KIND, uuid + 1, account, region, id, strlen(id), 0};
    int rc = rt_queue_add_in(queue, t, &spec);
    if (rc) return rc;
    struct rt_item_spec timer = {TIMER_KIND, uuid + 1,   account,        region,
                                 id,         strlen(id), queued_deadline};
    return rt_queue_add_in(queue, t, &timer);
}

int cb_run_ready(void)
{
    return queue != NULL;
}

void cb_run_kick(const char *id)
{
    const char *uuid = strchr(id, ':');
    if (!queue || !uuid) return;
    rt_queue_kick(queue, KIND, uuid + 1);
    rt_queue_kick(queue, TIMER_KIND, uuid + 1);
}

int cb_run_stop(store *st, const char *account, const char *region, const char *id)
{
    store_txn *t = NULL;
    struct json_object *b = NULL;
    int rc = store_txn_begin(st, 0, &t);
    if (!rc) rc = cb_build_load(t, account, region, id, NULL, &b, NULL);
    store_txn_abort(t);
    json_object_put(b);
    if (rc) return rc;
    const char *uuid = strchr(id, ':');
    if (!queue || !uuid || rt_queue_cancel(queue, KIND, uuid + 1) != RT_CANCEL_QUEUED) return 0;
    /* still waiting: it ends STOPPED here, with its queue item, in one transaction */
    return end_queued(st, account, region, id, "STOPPED");
}

int cb_serve_log(store *st, const char *id, int *fd_out, uint64_t *size)
{
    const char *uuid = strchr(id, ':');
    if (!uuid || !cb_path_is_inside(uuid + 1) || strchr(uuid + 1, '/')) return -1;
    char p[1200];
    snprintf(p, sizeof p, "%s/codebuild/logs/%s.log", store_dir(st), uuid + 1);
    int fd = open(p, O_RDONLY);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb)) {
        if (fd >= 0) close(fd);
        return -1;
    }
    *fd_out = fd;
    *size = (uint64_t)sb.st_size;
    return 0;
}
