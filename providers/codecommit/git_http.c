/* Git smart HTTP at /v1/repos/<name>: basic auth (secret or credential-helper password), then
 * git http-backend as a CGI child; branch moves made by a push reach the head listeners. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "providers/codecommit/codecommit.h"
#include "providers/codecommit/internal.h"
#include "providers/runtime/runner.h"
#include "sigv4/sigv4.h"

#define GIT_HTTP_BACKEND "/usr/lib/git-core/git-http-backend"
#define MAX_PUSH_BYTES   (2ULL * 1024 * 1024 * 1024)
#define MAX_CGI_HEADER   65536
#define HELPER_MAX_AGE   (15 * 60)
#define MAX_REFS         100000

/* Where a request stands between rest_begin and rest_dispatch: the shared transport state
 * first (the body sink casts req->sink_state to it), then CodeCommit's repository. */
struct git_req {
    struct cc_git_http h;
    struct cc_repo repo;
};

/* The regions a credential-helper signature may name (the password does not say which). */
static const char *const regions[] = {
    "us-east-1",      "us-east-2",      "us-west-1",      "us-west-2",      "af-south-1",
    "ap-east-1",      "ap-south-1",     "ap-south-2",     "ap-southeast-1", "ap-southeast-2",
    "ap-southeast-3", "ap-southeast-4", "ap-southeast-5", "ap-northeast-1", "ap-northeast-2",
    "ap-northeast-3", "ca-central-1",   "ca-west-1",      "eu-central-1",   "eu-central-2",
    "eu-west-1",      "eu-west-2",      "eu-west-3",      "eu-south-1",     "eu-south-2",
    "eu-north-1",     "il-central-1",   "me-south-1",     "me-central-1",   "mx-central-1",
    "sa-east-1",      "us-gov-west-1",  "us-gov-east-1",  "cn-north-1",     "cn-northwest-1",
};

static void plain(struct proto_req *req, int status, const char *msg)
{
    req->status = status;
    req->content_type = "text/plain; charset=utf-8";
    proto_sb_reset(&req->body);
    proto_sb_puts(&req->body, msg);
    proto_sb_putc(&req->body, '\n');
}

static int sink_write(struct proto_req *req, const char *data, size_t len)
{
    struct cc_git_http *g = req->sink_state;
    if (g->denied || g->body_fd < 0) return 0; /* drained, never stored */
    if (g->body_len + len > MAX_PUSH_BYTES) {
        g->denied = 1;
        plain(req, 413, "The push is too large.");
        return 0;
    }
    while (len > 0) {
        ssize_t n = write(g->body_fd, data, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            return proto_error(req, ERR_INTERNAL_FAILURE, "could not store the request body");
        }
        data += n;
        len -= (size_t)n;
        g->body_len += (uint64_t)n;
    }
    return 0;
}

static void sink_abort(struct proto_req *req)
{
    cc_git_http_end(req->sink_state);
}

static const struct proto_body_sink git_sink = {sink_write, sink_abort};

void cc_git_http_end(struct cc_git_http *g)
{
    if (g && g->body_fd >= 0) close(g->body_fd);
    if (g) g->body_fd = -1;
}

/* An anonymous temp file under the data dir. Returns an fd or -1. */
static int temp_file(store *s)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/git", store_dir(s));
    mkdir(path, 0755);
#ifdef O_TMPFILE
    int fd = open(path, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0) return fd;
#endif
    snprintf(path, sizeof path, "%s/git/.tmp-XXXXXX", store_dir(s));
    fd = mkostemp(path, O_CLOEXEC);
    if (fd >= 0) unlink(path);
    return fd;
}

/* Decodes the Basic credentials into user and password (arena). Returns 0 or -1. */
static int basic_auth(struct proto_req *req, char **user, char **pass)
{
    const char *h = proto_req_header(req, "authorization");
    if (!h || strncasecmp(h, "Basic ", 6) != 0) return -1;
    h += 6;
    while (*h == ' ')
        h++;
    size_t n = strlen(h), len = 0;
    if (n > 8192) return -1;
    unsigned char *dec = cc_b64_decode(h, n, &len);
    if (!dec) return -1;
    char *colon = memchr(dec, ':', len);
    if (!colon || memchr(dec, '\0', len)) {
        free(dec);
        return -1;
    }
    *user = proto_arena_strndup(req->arena, (char *)dec, (size_t)(colon - (char *)dec));
    *pass = proto_arena_strndup(req->arena, colon + 1, len - (size_t)(colon + 1 - (char *)dec));
    OPENSSL_cleanse(dec, len);
    free(dec);
    return 0;
}

void cc_git_http_deny(struct proto_req *req, struct cc_git_http *g, int status, const char *msg)
{
    g->denied = 1;
    if (status == 401)
        proto_req_add_header(req, "WWW-Authenticate", "Basic realm=\"codepipeline-local\"");
    plain(req, status, msg);
}

int cc_git_http_begin(struct proto_req *req, struct cc_git_http *g, const char *rest)
{
    memset(g, 0, sizeof *g);
    g->body_fd = -1;
    req->sink = &git_sink;
    req->sink_state = g;
    cc_git_init();
    const char *method = req->http.method;
    const char *svcq = proto_req_query(req, "service");
    if (strcmp(method, "GET") == 0 && strcmp(rest, "/info/refs") == 0 && svcq &&
        (strcmp(svcq, "git-upload-pack") == 0 || strcmp(svcq, "git-receive-pack") == 0)) {
        g->rest = rest;
        g->push = strcmp(svcq, "git-receive-pack") == 0;
    } else if (strcmp(method, "POST") == 0 &&
               (strcmp(rest, "/git-upload-pack") == 0 || strcmp(rest, "/git-receive-pack") == 0)) {
        g->rest = rest;
        g->receive_pack = g->push = strcmp(rest, "/git-receive-pack") == 0;
    } else {
        cc_git_http_deny(req, g, 404, "Not found: only git's smart HTTP protocol is served here.");
        return -1;
    }
    return 0;
}

int cc_git_http_auth(struct proto_req *req, struct cc_git_http *g, const char *signed_path)
{
    char *user = NULL, *pass = NULL;
    if (basic_auth(req, &user, &pass) != 0) {
        cc_git_http_deny(req, g, 401, "Authentication required.");
        return -1;
    }
    char *pct = strchr(user, '%'); /* "<access key>%<session token>" */
    if (pct) *pct = '\0';
    const char *secret = NULL, *account = NULL;
    int known = req->creds && sigv4_creds_lookup(req->creds, user, &secret, &account);
    if (!known && !req->auth_off) {
        cc_git_http_deny(req, g, 403, "The access key is not known.");
        return -1;
    }
    if (!known) account = req->caller.account_id;
    const char *region =
        req->caller.region && *req->caller.region ? req->caller.region : "us-east-1";
    int ok = req->auth_off ||
             (strlen(pass) == strlen(secret) && CRYPTO_memcmp(pass, secret, strlen(secret)) == 0);
    g->by_secret = ok;
    if (!ok && strlen(pass) == 80) {
        long now = (long)time(NULL);
        if (cc_verify_helper_password(pass, secret, region, req->http.host, signed_path, now,
                                      HELPER_MAX_AGE))
            ok = 1;
        for (size_t i = 0; !ok && i < sizeof regions / sizeof regions[0]; i++) {
            if (strcmp(regions[i], region) == 0) continue;
            if (cc_verify_helper_password(pass, secret, regions[i], req->http.host, signed_path,
                                          now, HELPER_MAX_AGE)) {
                region = regions[i];
                ok = 1;
            }
        }
    }
    if (!ok) {
        cc_git_http_deny(req, g, 403, "The password is not valid for this access key.");
        return -1;
    }
    req->caller.access_key = user;
    req->caller.account_id = account;
    req->caller.region = region;
    g->access_key = user;
    return 0;
}

int cc_git_http_open_body(struct proto_req *req, struct cc_git_http *g)
{
    if (strcmp(req->http.method, "POST") != 0) return 0;
    g->body_fd = temp_file(req->store);
    if (g->body_fd < 0) {
        cc_git_http_deny(req, g, 500, "Could not store the request body.");
        return -1;
    }
    return 0;
}

static int git_begin(struct proto_req *req)
{
    struct git_req *gr = proto_arena_alloc(req->arena, sizeof *gr);
    struct cc_git_http *g = &gr->h;

    /* /v1/repos/<name><rest> */
    const char *p = req->http.path + strlen("/v1/repos/");
    size_t nl = strcspn(p, "/");
    if (cc_git_http_begin(req, g, p + nl) != 0) return 0;
    char *name = proto_arena_strndup(req->arena, p, nl);
    for (const char *c = name; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '_' || *c == '.' || *c == '-')) {
            cc_git_http_deny(req, g, 404, "Repository not found.");
            return 0;
        }
    if (!*name || nl > 100) {
        cc_git_http_deny(req, g, 404, "Repository not found.");
        return 0;
    }
    if (cc_git_http_auth(req, g, proto_arena_printf(req->arena, "/v1/repos/%s", name)) != 0)
        return 0;
    const char *account = req->caller.account_id, *region = req->caller.region;
    int found = cc_repo_lookup(req->store, account, region, name, &gr->repo) == 0;
    /* Basic auth with the secret names no region: look in the others when the default has no
     * such repository. */
    for (size_t i = 0; !found && g->by_secret && i < sizeof regions / sizeof regions[0]; i++)
        if (strcmp(regions[i], region) != 0 &&
            cc_repo_lookup(req->store, account, regions[i], name, &gr->repo) == 0) {
            found = 1;
            req->caller.region = regions[i];
        }
    if (!found) {
        cc_git_http_deny(req, g, 404, "Repository not found.");
        return 0;
    }
    cc_git_http_open_body(req, g);
    return 0;
}

/* Parses the CGI header block at the start of fd; sets status, type and headers on req and
 * returns the header length, or -1. */
static long parse_cgi(struct proto_req *req, int fd)
{
    char *buf = malloc(MAX_CGI_HEADER + 1);
    if (!buf) return -1;
    ssize_t n = pread(fd, buf, MAX_CGI_HEADER, 0);
    long hdr_len = -1;
    if (n <= 0) goto out;
    buf[n] = '\0';
    char *end = NULL;
    for (ssize_t i = 0; i + 1 < n; i++) {
        if (buf[i] == '\n' && buf[i + 1] == '\n') {
            end = buf + i;
            hdr_len = (long)i + 2;
            break;
        }
        if (i + 3 < n && memcmp(buf + i, "\r\n\r\n", 4) == 0) {
            end = buf + i;
            hdr_len = (long)i + 4;
            break;
        }
    }
    if (!end) goto out;
    *end = '\0';
    req->status = 200;
    for (char *line = buf, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = '\0';
        size_t ll = strlen(line);
        if (ll && line[ll - 1] == '\r') line[--ll] = '\0';
        char *colon = strchr(line, ':');
        if (!colon) continue;
        *colon = '\0';
        char *val = colon + 1;
        while (*val == ' ')
            val++;
        if (strcasecmp(line, "Status") == 0) {
            int st = atoi(val);
            if (st >= 100 && st < 600) req->status = st;
        } else if (strcasecmp(line, "Content-Type") == 0) {
            req->content_type = proto_arena_strdup(req->arena, val);
        } else if (strcasecmp(line, "Content-Length") != 0) {
            proto_req_add_header(req, line, val);
        }
    }
out:
    free(buf);
    return hdr_len;
}

/* Replaces a gzip-encoded body file with its decoded bytes (git's own inflate can hang on a
 * corrupt body). Returns the new fd (the old one is closed) or -1 when the body is not gzip. */
static int gunzip_body(store *s, int fd, uint64_t *len)
{
    struct archive *a = archive_read_new();
    struct archive_entry *e;
    int out = -1, ok = 0;
    char *buf = malloc(65536);
    uint64_t total = 0;
    if (!a || !buf || lseek(fd, 0, SEEK_SET) < 0) goto out;
    archive_read_support_filter_gzip(a);
    archive_read_support_format_raw(a);
    if (archive_read_open_fd(a, fd, 65536) != ARCHIVE_OK ||
        archive_read_next_header(a, &e) != ARCHIVE_OK ||
        archive_filter_code(a, 0) != ARCHIVE_FILTER_GZIP)
        goto out;
    if ((out = temp_file(s)) < 0) goto out;
    for (;;) {
        la_ssize_t n = archive_read_data(a, buf, 65536);
        if (n < 0) goto out;
        if (n == 0) break;
        total += (uint64_t)n;
        if (total > MAX_PUSH_BYTES || write(out, buf, (size_t)n) != n) goto out;
    }
    ok = 1;
out:
    if (a) archive_read_free(a);
    free(buf);
    if (!ok) {
        if (out >= 0) close(out);
        return -1;
    }
    close(fd);
    *len = total;
    return out;
}

/* Copies the backend's output into the response file as it arrives. Returns 0, or 1 (stop the
 * backend) when the file cannot be written. */
static int to_file(void *ctx, enum rt_stream st, const char *data, size_t len)
{
    int fd = *(int *)ctx;
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return 1;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

int cc_git_http_serve(struct proto_req *req, struct cc_git_http *g, const char *project_root,
                      const char *path_info, void (*ran)(void *ctx), void *ctx)
{
    const char *envp[32];
    int out_fd = -1, in_fd = -1;

    /* A body the server buffered instead of sinking. */
    if (g->body_fd < 0 && req->http.body && req->http.body_len) {
        g->body_fd = temp_file(req->store);
        if (g->body_fd < 0 ||
            write(g->body_fd, req->http.body, req->http.body_len) != (ssize_t)req->http.body_len) {
            plain(req, 500, "Could not store the request body.");
            goto out;
        }
        g->body_len = req->http.body_len;
    }
    const char *ce = proto_req_header(req, "content-encoding");
    if (g->body_fd >= 0 && ce && (strcasecmp(ce, "gzip") == 0 || strcasecmp(ce, "x-gzip") == 0)) {
        int dec = gunzip_body(req->store, g->body_fd, &g->body_len);
        if (dec < 0) {
            plain(req, 400, "The request body is not valid gzip.");
            goto out;
        }
        g->body_fd = dec;
        ce = NULL;
    } else if (ce && *ce && strcasecmp(ce, "identity") != 0) {
        plain(req, 415, "Unsupported Content-Encoding.");
        goto out;
    }
    in_fd = g->body_fd >= 0 ? g->body_fd : open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (in_fd < 0 || lseek(in_fd, 0, SEEK_SET) < 0) {
        plain(req, 500, "Could not read the request body.");
        goto out;
    }
    out_fd = temp_file(req->store);
    if (out_fd < 0) {
        plain(req, 500, "Could not create a temporary file.");
        goto out;
    }
    const char *ct = proto_req_header(req, "content-type");
    const char *gp = proto_req_header(req, "git-protocol");
    size_t ne = 0;
    envp[ne++] = proto_arena_printf(req->arena, "GIT_PROJECT_ROOT=%s", project_root);
    envp[ne++] = "GIT_HTTP_EXPORT_ALL=1";
    envp[ne++] = proto_arena_printf(req->arena, "PATH_INFO=%s%s", path_info, g->rest);
    envp[ne++] = proto_arena_printf(req->arena, "REQUEST_METHOD=%s", req->http.method);
    envp[ne++] = proto_arena_printf(req->arena, "QUERY_STRING=%s", req->http.query);
    envp[ne++] = proto_arena_printf(req->arena, "REMOTE_USER=%s", g->access_key);
    envp[ne++] = "REMOTE_ADDR=127.0.0.1";
    envp[ne++] = "GATEWAY_INTERFACE=CGI/1.1";
    envp[ne++] = "PATH=/usr/bin:/bin";
    envp[ne++] = "GIT_CONFIG_NOSYSTEM=1";
    envp[ne++] = "GIT_CONFIG_GLOBAL=/dev/null";
    envp[ne++] = proto_arena_printf(req->arena, "HOME=%s", store_dir(req->store));
    envp[ne++] = proto_arena_printf(req->arena, "GIT_COMMITTER_NAME=%s", g->access_key);
    envp[ne++] = "GIT_COMMITTER_EMAIL=codecommit@localhost";
    if (g->body_fd >= 0)
        envp[ne++] =
            proto_arena_printf(req->arena, "CONTENT_LENGTH=%llu", (unsigned long long)g->body_len);
    if (ct) envp[ne++] = proto_arena_printf(req->arena, "CONTENT_TYPE=%s", ct);
    if (gp && strlen(gp) < 256) envp[ne++] = proto_arena_printf(req->arena, "GIT_PROTOCOL=%s", gp);
    envp[ne] = NULL;
    for (size_t i = 0; i < ne; i++)
        if (strchr(envp[i], '\n')) {
            plain(req, 400, "Bad request header.");
            goto out;
        }

    /* A backend that writes nothing for a minute (plus a second per MiB pushed, for git's
     * checks of a big pack) is stuck; nothing runs longer than an hour. */
    uint64_t idle = 60 + g->body_len / (1024 * 1024);
    const char *argv[] = {"git-http-backend", NULL};
    struct rt_cmd cmd = {
        .file = GIT_HTTP_BACKEND,
        .argv = argv,
        .envp = envp,
        .in = {.kind = RT_IN_FD, .fd = in_fd},
        .out = {.kind = RT_OUT_SINK},
        .err = {.kind = RT_OUT_NULL},
        .sink = to_file,
        .sink_ctx = &out_fd,
        .idle = idle > 3600 ? 3600.0 : (double)idle,
        .timeout = 3600,
    };
    struct rt_result res;
    if (rt_run(&cmd, &res) != 0) {
        plain(req, 500, "Could not start git http-backend.");
        goto out;
    }
    if (ran) ran(ctx);
    /* Only the sink stops it: the response could not be stored (refs moved are settled). */
    if (res.end == RT_END_STOPPED) {
        plain(req, 500, "Could not store the response of git http-backend.");
        goto out;
    }

    struct stat st;
    long hdr = parse_cgi(req, out_fd);
    if (hdr < 0 || fstat(out_fd, &st) != 0) {
        plain(req, 500, "git http-backend failed.");
        goto out;
    }
    req->resp_fd = out_fd;
    req->resp_fd_offset = (uint64_t)hdr;
    req->resp_fd_len = (uint64_t)st.st_size - (uint64_t)hdr;
    out_fd = -1;
out:
    if (out_fd >= 0) close(out_fd);
    if (in_fd >= 0 && in_fd != g->body_fd) close(in_fd);
    cc_git_http_end(g);
    return 0;
}

struct settle_ctx {
    store *s;
    struct cc_repo *repo;
    const struct cc_heads *before;
};

static void settle(void *ctx)
{
    struct settle_ctx *c = ctx;
    cc_push_settle(c->s, c->repo, c->before);
}

static int git_dispatch(struct proto_req *req)
{
    struct git_req *gr = req->sink_state;
    char root[PATH_MAX];
    int locked = 0;
    struct cc_heads before;
    memset(&before, 0, sizeof before);
    if (!gr || gr->h.denied) goto out;
    snprintf(root, sizeof root, "%s/git/%s/%s", store_dir(req->store), gr->repo.account,
             gr->repo.region);
    if (gr->h.receive_pack) {
        cc_repo_lock(gr->repo.id);
        locked = 1;
        cc_heads_read(gr->repo.path, &before);
    }
    struct settle_ctx sc = {req->store, &gr->repo, &before};
    cc_git_http_serve(req, &gr->h, root, proto_arena_printf(req->arena, "/%s.git", gr->repo.id),
                      gr->h.receive_pack ? settle : NULL, &sc);
out:
    if (locked) cc_repo_unlock(gr->repo.id);
    cc_heads_free(&before);
    if (gr) {
        cc_git_http_end(&gr->h);
        cc_repo_close(&gr->repo);
    }
    return 0;
}

const struct proto_service cc_git_service = {
    .name = "codecommit-git",
    .target_prefix = NULL,
    .protocol = PROTO_RAW_HTTP,
    .ops = NULL,
    .n_ops = 0,
    .model = NULL,
    .clock_skew_seconds = 0,
    .rest_dispatch = git_dispatch,
    .rest_begin = git_begin,
};
