/* Leveled logging to stderr, one line per event. */
#ifndef SRV_LOG_H
#define SRV_LOG_H

enum srv_log_level { SRV_LOG_ERROR, SRV_LOG_WARN, SRV_LOG_INFO, SRV_LOG_DEBUG };

/* Parses "error|warn|info|debug"; returns the level or -1. */
int srv_log_parse_level(const char *s);
void srv_log_set_level(enum srv_log_level level);
/* Returns 1 when messages at level are printed. */
int srv_log_enabled(enum srv_log_level level);
/* Prints one line with a UTC timestamp and the level, in one write(2) (lines of concurrent
 * threads never interleave). */
void srv_log(enum srv_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* What the per-request line says; every string may be NULL. */
struct srv_log_request {
    const char *method;
    const char *service;   /* the service that was picked */
    const char *operation; /* JSON services: the operation */
    const char *target;    /* X-Amz-Target, when no operation was decoded */
    int s3;                /* S3 REST: the path's shape is logged, not the bucket and key */
    const char *path;      /* raw path, without the query */
    const char *query;     /* raw query */
    const char *host;      /* Host header */
    int status;            /* 0: no answer was sent */
    const char *error;     /* AWS error code of the answer */
    double ms;             /* from the request line to the end of the answer */
    int aborted;           /* the connection ended before the answer was sent in full */
};

/* Logs one line at info for a completed request, e.g.
 * "POST codepipeline.ListPipelines 200 0.4ms" or "PUT s3 /{bucket}/{key}?tagging 200 1.2ms". */
void srv_log_request(const struct srv_log_request *r);

#endif
