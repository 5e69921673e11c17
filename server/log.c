/* Leveled logging to stderr, one line per event with a UTC timestamp. */
#include "server/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static enum srv_log_level current_level = SRV_LOG_INFO;
static const char *const level_names[] = {"error", "warn", "info", "debug"};

int srv_log_parse_level(const char *s)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(s, level_names[i]) == 0) return i;
    return -1;
}

void srv_log_set_level(enum srv_log_level level)
{
    current_level = level;
}

int srv_log_enabled(enum srv_log_level level)
{
    return level <= current_level;
}

/* Writes the timestamp and level into line; returns their length. */
static size_t log_prefix(char *line, size_t cap, enum srv_log_level level)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    size_t n = strftime(line, cap, "%Y-%m-%dT%H:%M:%S", &tm);
    int k =
        snprintf(line + n, cap - n, ".%03dZ %-5s ", (int)(tv.tv_usec / 1000), level_names[level]);
    return k > 0 ? n + (size_t)k : n;
}

/* Ends the line and writes it with one write(2): no stdio lock, and lines of concurrent requests
 * never interleave (stderr may be a pipe or an O_APPEND file). */
static void log_write(char *line, size_t cap, size_t n)
{
    if (n > cap - 1) n = cap - 1;
    line[n++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, n);
    (void)w; /* nowhere to report a failed log write */
}

void srv_log(enum srv_log_level level, const char *fmt, ...)
{
    if (!srv_log_enabled(level)) return;
    char line[2048];
    size_t n = log_prefix(line, sizeof(line), level);
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
    va_end(ap);
    if (k > 0) n += (size_t)k;
    log_write(line, sizeof(line), n);
}

/* Appends s to line as it is (our own text). */
static size_t put_raw(char *line, size_t cap, size_t n, const char *s)
{
    while (*s && n < cap - 1)
        line[n++] = *s++;
    return n;
}

/* Appends at most max bytes of s to line, printable ASCII only (a path is the client's bytes). */
static size_t put_clean(char *line, size_t cap, size_t n, const char *s, size_t max)
{
    for (size_t i = 0; s && s[i] && i < max && n < cap - 1; i++)
        line[n++] = (s[i] > 0x20 && s[i] < 0x7f) ? s[i] : '?';
    return n;
}

/* Appends the shape of an S3 path ("/", "/{bucket}", "/{bucket}/{key}"; "/{key}" for a
 * virtual-host request) and the sub-resources named in the query. */
static size_t put_s3_shape(char *line, size_t cap, size_t n, const struct srv_log_request *r)
{
    static const char *const subresources[] = {"versioning", "tagging",    "location", "versions",
                                               "uploads",    "list-type",  "delete",   "uploadId",
                                               "attributes", "partNumber", "versionId"};
    const char *host = r->host ? r->host : "";
    size_t hl = strcspn(host, ":");
    int vhost = hl > 10 && strncasecmp(host + hl - 10, ".localhost", 10) == 0;
    const char *path = r->path && *r->path == '/' ? r->path + 1 : "";
    const char *slash = strchr(path, '/');
    const char *shape = !*path ? "/" : vhost ? "/{key}" : slash ? "/{bucket}/{key}" : "/{bucket}";
    if (vhost && !*path) shape = "/ (bucket)";
    n = put_raw(line, cap, n, shape);
    char sep = '?';
    for (const char *q = r->query; q && *q;) {
        size_t len = strcspn(q, "=&");
        for (size_t i = 0; i < sizeof(subresources) / sizeof(*subresources); i++) {
            if (strlen(subresources[i]) != len || strncmp(q, subresources[i], len) != 0) continue;
            if (n < cap - 1) line[n++] = sep;
            n = put_raw(line, cap, n, subresources[i]);
            sep = '&';
        }
        q += strcspn(q, "&");
        if (*q) q++;
    }
    return n;
}

void srv_log_request(const struct srv_log_request *r)
{
    if (!srv_log_enabled(SRV_LOG_INFO)) return;
    char line[512];
    size_t cap = sizeof(line);
    size_t n = log_prefix(line, cap, SRV_LOG_INFO);
    n = put_clean(line, cap, n, r->method ? r->method : "-", 16);
    n = put_raw(line, cap, n, " ");
    const char *op = r->operation && *r->operation ? r->operation : NULL;
    if (!op && r->target) op = strchr(r->target, '.') ? strchr(r->target, '.') + 1 : r->target;
    if (r->s3) {
        n = put_raw(line, cap, n, "s3 ");
        n = put_s3_shape(line, cap, n, r);
    } else if (op) {
        n = put_clean(line, cap, n, r->service ? r->service : "unknown", 32);
        n = put_raw(line, cap, n, ".");
        n = put_clean(line, cap, n, op, 64);
    } else {
        if (r->service) {
            n = put_clean(line, cap, n, r->service, 32);
            n = put_raw(line, cap, n, " ");
        }
        n = put_clean(line, cap, n, r->path ? r->path : "/", 120);
    }
    char status[16] = "-";
    if (r->status) snprintf(status, sizeof(status), "%d", r->status);
    int k = snprintf(line + n, cap - n, " %s %.1fms%s%s%s", status, r->ms, r->error ? " " : "",
                     r->error ? r->error : "",
                     r->aborted ? " (connection closed before the answer was sent)" : "");
    if (k > 0) n += (size_t)k < cap - n ? (size_t)k : cap - n - 1;
    log_write(line, cap, n);
}
