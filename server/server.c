/* libmicrohttpd glue: collects each request, authenticates it, routes it to a provider and sends
 * the answer. One path for every service; the protocol codecs shape bodies and errors. */
#include "server/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <json-c/json.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <sys/resource.h>
#include <unistd.h>

#include "persistence/store.h"
#include "protocol/authfail.h"
#include "protocol/ids.h"
#include "protocol/json.h"
#include "protocol/model.h"
#include "protocol/query.h"
#include "protocol/service.h"
#include "providers/runtime/queue.h"
#include "server/health.h"
#include "server/log.h"
#include "server/routes.h"
#include "sigv4/sigv4.h"

struct srv {
    struct srv_options opts;
    struct MHD_Daemon *daemon;
    store *store;
    sigv4_creds *creds;
    unsigned port;
    char listen_host[300]; /* host:port, for URLs when a request has no Host header */
    int inflight;          /* requests whose headers are in and that have not completed (atomic) */
    int draining;          /* srv_stop is waiting for them: answers close their connection */
    struct proto_service_config cfg; /* what the providers' start got; lives until they stop */
    rt_queue *queue;                 /* the work queue the providers share */
    int n_started;                   /* services whose start succeeded, in table order */
};

/* One request in flight: the protocol view plus what the server needs to finish it. */
struct srv_request {
    struct proto_req req;
    srv *srv;
    const char *raw_uri;
    enum srv_route route;
    int started;      /* headers processed (counted in srv->inflight until completed) */
    int responded;    /* a response was queued */
    int dispatched;   /* the handler ran (the sink is settled) */
    int body_error;   /* an error was set while the body arrived; drain and answer it */
    uint64_t drained; /* bytes discarded since */
    struct proto_sb body;
    struct sigv4_auth auth;
    double t0; /* monotonic seconds at the request line (for the log) */
};

static const char *header_or_empty(const struct proto_req *req, const char *name)
{
    const char *v = proto_req_header(req, name);
    return v ? v : "";
}

/* ---- collecting the request ---------------------------------------------------------------- */

struct header_collect {
    struct proto_req *req;
    struct sigv4_header *headers;
    size_t n, cap;
};

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    struct header_collect *hc = cls;
    if (hc->n == hc->cap) {
        size_t cap = hc->cap ? hc->cap * 2 : 32;
        struct sigv4_header *h = proto_arena_alloc(hc->req->arena, cap * sizeof(*h));
        if (hc->n) memcpy(h, hc->headers, hc->n * sizeof(*h));
        hc->headers = h;
        hc->cap = cap;
    }
    char *name = proto_arena_strdup(hc->req->arena, key);
    for (char *p = name; *p; p++)
        if (*p >= 'A' && *p <= 'Z') *p = (char)(*p - 'A' + 'a');
    hc->headers[hc->n].name = name;
    hc->headers[hc->n].value = proto_arena_strdup(hc->req->arena, value ? value : "");
    hc->n++;
    return MHD_YES;
}

static void collect_request(struct srv_request *r, struct MHD_Connection *conn, const char *method)
{
    struct proto_req *req = &r->req;
    struct header_collect hc = {.req = req};
    MHD_get_connection_values(conn, MHD_HEADER_KIND, collect_header, &hc);
    req->http.headers = hc.headers;
    req->http.n_headers = hc.n;
    req->http.method = proto_arena_strdup(req->arena, method);
    const char *uri = r->raw_uri ? r->raw_uri : "/";
    const char *q = strchr(uri, '?');
    if (q) {
        req->http.path = proto_arena_strndup(req->arena, uri, (size_t)(q - uri));
        req->http.query = proto_arena_strdup(req->arena, q + 1);
    } else {
        req->http.path = proto_arena_strdup(req->arena, uri);
        req->http.query = "";
    }
    req->http.host = header_or_empty(req, "host");
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    req->http.remote.ss_family = AF_UNSPEC;
    req->http.remote_addr = NULL;
    if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET)
        memcpy(&req->http.remote, ci->client_addr, sizeof(struct sockaddr_in));
    else if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET6)
        memcpy(&req->http.remote, ci->client_addr, sizeof(struct sockaddr_in6));
    /* URLs we hand out use the address the client reached us by. */
    const char *host = req->http.host;
    int sane = *host && strlen(host) < 256 && !strpbrk(host, " \t/\\@?#");
    req->public_host = sane ? host : r->srv->listen_host;
}

/* ---- authentication ------------------------------------------------------------------------ */

static void fill_sigv4_input(struct srv_request *r, struct sigv4_input *in, const char *body_sha)
{
    struct proto_req *req = &r->req;
    memset(in, 0, sizeof(*in));
    in->method = req->http.method;
    in->path = req->http.path;
    in->query = req->http.query;
    in->headers = req->http.headers;
    in->n_headers = req->http.n_headers;
    in->is_s3 = req->service && req->service->protocol == PROTO_REST_XML;
    in->body_sha256 = body_sha;
    in->now = time(NULL);
    in->clock_skew_seconds = req->service ? req->service->clock_skew_seconds : 300;
    in->s3_vhost_suffix = r->srv->opts.host; /* <bucket>.<host> for SigV2's resource */
}

/* Establishes the caller: verifies the signature (or, with --auth off, just reads the access key).
 * Returns 0 or a negative proto_err set on the request. */
/* A region names directories (git repositories) and keys: only [a-z0-9-], 1 to 32 characters,
 * as every AWS region is. */
static int region_is_valid(const char *region)
{
    size_t n = strlen(region);
    if (n < 1 || n > 32) return 0;
    for (size_t i = 0; i < n; i++)
        if (!((region[i] >= 'a' && region[i] <= 'z') || (region[i] >= '0' && region[i] <= '9') ||
              region[i] == '-'))
            return 0;
    return 1;
}

static int authenticate(struct srv_request *r, const char *body_sha)
{
    struct proto_req *req = &r->req;
    srv *s = r->srv;
    struct sigv4_input in;
    fill_sigv4_input(r, &in, body_sha);
    if (s->opts.auth_off) {
        char *svc = NULL, *region = NULL;
        char *akid = sigv4_peek_credential(&in, &svc, &region);
        const char *secret, *account = NULL;
        struct sigv4_temp_key tk;
        if (akid && !sigv4_creds_lookup(s->creds, akid, &secret, &account) &&
            sigv4_creds_lookup_temp(s->creds, akid, &tk))
            account = tk.account_id;
        if (!akid || !account) account = s->opts.account_id;
        req->caller.access_key = proto_arena_strdup(req->arena, akid ? akid : "");
        req->caller.account_id = proto_arena_strdup(req->arena, account);
        req->caller.region = proto_arena_strdup(
            req->arena, region && region_is_valid(region) ? region : s->opts.region);
        free(akid);
        free(svc);
        free(region);
        return 0;
    }
    struct sigv4_failure fail;
    if (sigv4_verify(s->creds, &in, &r->auth, &fail) < 0) {
        int rc = proto_auth_error(req, &fail);
        sigv4_failure_free(&fail);
        return rc;
    }
    if (req->service && strcmp(r->auth.service, req->service->name) != 0) {
        if (in.is_s3)
            return proto_error(req, ERR_S3_AUTH_HEADER_MALFORMED,
                               "The authorization header is malformed; incorrect service \"%s\". "
                               "This endpoint belongs to \"s3\".",
                               r->auth.service);
        return proto_error(req, ERR_INVALID_SIGNATURE,
                           "Credential should be scoped to correct service: '%s'. ",
                           req->service->name);
    }
    if (r->auth.region[0] && !region_is_valid(r->auth.region)) {
        if (in.is_s3) {
            proto_sb_printf(&req->err_extra, "<Region>%s</Region>", s->opts.region);
            return proto_error(req, ERR_S3_AUTH_HEADER_MALFORMED,
                               "The authorization header is malformed; the region '%s' is wrong; "
                               "expecting '%s'",
                               r->auth.region, s->opts.region);
        }
        return proto_error(req, ERR_INVALID_SIGNATURE,
                           "Credential should be scoped to a valid region, not '%s'. ",
                           r->auth.region);
    }
    req->auth = &r->auth;
    req->caller.access_key = r->auth.access_key;
    req->caller.account_id = r->auth.account_id;
    req->caller.region = r->auth.region[0] ? r->auth.region : s->opts.region; /* SigV2: none */
    return 0;
}

/* ---- dispatch ------------------------------------------------------------------------------ */

static void dispatch_json(struct srv_request *r)
{
    struct proto_req *req = &r->req;
    const char *target = proto_req_header(req, "x-amz-target");
    /* The route matched the service's whole prefix and a dot (prefixes may hold dots). */
    const char *pfx = req->service ? req->service->target_prefix : NULL;
    const char *dot = target && pfx && strncmp(target, pfx, strlen(pfx)) == 0
                          ? target + strlen(pfx)
                          : (target ? strchr(target, '.') : NULL);
    req->operation = dot && *dot == '.' ? proto_arena_strdup(req->arena, dot + 1) : "";

    /* As AWS does, the signature is checked before the body is parsed: a caller that is not
     * authenticated gets the auth error, and no parser work, whatever its body holds. */
    char body_sha[65];
    sigv4_sha256_hex(req->http.body ? req->http.body : "", req->http.body_len, body_sha);
    if (authenticate(r, body_sha) < 0) return;
    proto_json_dispatch(req);
}

static void dispatch_rest(struct srv_request *r)
{
    struct proto_req *req = &r->req;
    /* A buffered body signed by its hash is checked here; a sunk body by its sink. */
    if (!req->sink && req->auth && req->auth->payload == SIGV4_PAYLOAD_HASH) {
        char sha[65];
        sigv4_sha256_hex(req->http.body ? req->http.body : "", req->http.body_len, sha);
        if (strcmp(sha, req->auth->payload_hash) != 0) {
            proto_sb_printf(&req->err_extra,
                            "<ClientComputedContentSHA256>%s</ClientComputedContentSHA256>"
                            "<S3ComputedContentSHA256>%s</S3ComputedContentSHA256>",
                            req->auth->payload_hash, sha);
            proto_error(req, ERR_S3_CONTENT_SHA256_MISMATCH,
                        "The provided 'x-amz-content-sha256' header does not match what was "
                        "computed.");
            return;
        }
    }
    r->dispatched = 1;
    int rc = req->service->rest_dispatch(req);
    if (rc < 0 && !req->err)
        proto_error(req, ERR_S3_INTERNAL_ERROR,
                    "We encountered an internal error. Please try again.");
}

/* An awsQuery service: authenticated once its body is in, then the service's own dispatcher
 * decodes the form and answers. */
static void dispatch_query(struct srv_request *r)
{
    struct proto_req *req = &r->req;
    char body_sha[65];
    sigv4_sha256_hex(req->http.body ? req->http.body : "", req->http.body_len, body_sha);
    if (authenticate(r, body_sha) < 0) return;
    r->dispatched = 1;
    int rc = proto_query_dispatch(req);
    if (rc < 0 && !req->err)
        proto_error(req, ERR_INTERNAL_FAILURE,
                    "The request processing has failed because of an unknown error, exception "
                    "or failure.");
}

/* ---- responses ----------------------------------------------------------------------------- */

static void finish_body(struct srv_request *r)
{
    struct proto_req *req = &r->req;
    switch (r->route) {
    case SRV_ROUTE_JSON:
    case SRV_ROUTE_UNKNOWN_TARGET:
    case SRV_ROUTE_NOT_SERVED_JSON:
        proto_json_finish(req);
        break;
    case SRV_ROUTE_QUERY:
    case SRV_ROUTE_NOT_SERVED_QUERY:
        if (req->err)
            proto_query_error_finish(req);
        else if (!req->status)
            req->status = 200;
        break;
    case SRV_ROUTE_REST:
        proto_xml_finish(req);
        break;
    case SRV_ROUTE_RAW:
        if (req->err) {
            req->status = proto_err_status(req->err);
            req->content_type = "text/plain";
            proto_sb_reset(&req->body);
            proto_sb_printf(&req->body, "%s\n", req->err_message ? req->err_message : "error");
        } else if (!req->status) {
            req->status = 200;
        }
        break;
    case SRV_ROUTE_HEALTH:
        break;
    }
}

static enum MHD_Result send_response(struct srv_request *r, struct MHD_Connection *conn)
{
    struct proto_req *req = &r->req;
    finish_body(r);
    struct MHD_Response *resp;
    if (req->resp_fd >= 0) {
        resp = MHD_create_response_from_fd_at_offset64(req->resp_fd_len, req->resp_fd,
                                                       req->resp_fd_offset);
        if (resp) req->resp_fd = -1; /* MHD closes it; otherwise on_completed does */
    } else {
        size_t len = req->body.len;
        char *buf = req->body.buf;
        req->body.buf = NULL;
        req->body.len = req->body.cap = 0;
        resp = MHD_create_response_from_buffer(
            len, buf ? buf : (char *)"", buf ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
        if (!resp) free(buf);
    }
    if (!resp) return MHD_NO;
    if (req->content_type)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, req->content_type);
    if (r->route == SRV_ROUTE_REST) {
        MHD_add_response_header(resp, "x-amz-request-id", req->request_id);
        MHD_add_response_header(resp, "x-amz-id-2", req->request_id);
    } else {
        MHD_add_response_header(resp, "x-amzn-RequestId", req->request_id);
    }
    for (size_t i = 0; i < req->n_resp_headers; i++)
        MHD_add_response_header(resp, req->resp_headers[i].name, req->resp_headers[i].value);
    /* Shutting down: no further request on this connection. */
    if (__atomic_load_n(&r->srv->draining, __ATOMIC_ACQUIRE))
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)req->status, resp);
    MHD_destroy_response(resp);
    r->responded = 1;
    return ret;
}

/* ---- the libmicrohttpd callbacks ----------------------------------------------------------- */

/* Returns monotonic seconds with microseconds (proto_now is wall-clock milliseconds). */
static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    srv *s = cls;
    struct srv_request *r = calloc(1, sizeof(*r));
    if (!r) return NULL;
    r->srv = s;
    r->t0 = mono_now();
    r->req.arena = proto_arena_new();
    r->req.resp_fd = -1;
    r->req.store = s->store;
    r->req.creds = s->creds;
    r->req.auth_off = s->opts.auth_off;
    /* Until authentication says otherwise (git's basic auth names no region). */
    r->req.caller.region = s->opts.region;
    if (s->opts.auth_off) r->req.caller.account_id = s->opts.account_id;
    proto_uuid(r->req.request_id);
    r->raw_uri = proto_arena_strdup(r->req.arena, uri ? uri : "/");
    return r;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct srv_request *r = *con_cls;
    if (!r) return;
    struct proto_req *req = &r->req;
    if (r->started && srv_log_enabled(SRV_LOG_INFO)) { /* one line per request a client sent */
        struct srv_log_request lr = {.method = req->http.method,
                                     .service = req->service ? req->service->name : NULL,
                                     .operation = req->operation,
                                     .target = proto_req_header(req, "x-amz-target"),
                                     .s3 = r->route == SRV_ROUTE_REST,
                                     .path = req->http.path,
                                     .query = req->http.query,
                                     .host = req->http.host,
                                     .status = r->responded ? req->status : 0,
                                     .error = req->err ? proto_err_code(req->err) : NULL,
                                     .ms = (mono_now() - r->t0) * 1000.0,
                                     .aborted = toe != MHD_REQUEST_TERMINATED_COMPLETED_OK};
        srv_log_request(&lr);
    }
    if (r->started) __atomic_sub_fetch(&r->srv->inflight, 1, __ATOMIC_RELEASE);
    if (req->sink && !r->dispatched && req->sink->abort) req->sink->abort(req);
    if (req->resp_fd >= 0) close(req->resp_fd);
    json_object_put(req->input);
    json_object_put(req->output);
    proto_sb_free(&req->body);
    proto_sb_free(&req->err_extra);
    proto_sb_free(&r->body);
    proto_arena_free(req->arena);
    free(r);
    *con_cls = NULL;
}

/* Returns the declared Content-Length, or -1 when absent or unparsable. */
static long long declared_length(const struct proto_req *req)
{
    const char *cl = proto_req_header(req, "content-length");
    if (!cl || !*cl) return -1;
    char *end;
    long long n = strtoll(cl, &end, 10);
    return (*end || n < 0) ? -1 : n;
}

/* After an error set before the body: the body will be discarded, never kept. Returns 1 to answer
 * at once (the client waits for 100-continue, or the body is far beyond reason), 0 to drain the
 * body first so the client can read the answer. */
static int refuse_body(struct srv_request *r)
{
    struct proto_req *req = &r->req;
    const char *expect = proto_req_header(req, "expect");
    r->body_error = 1;
    if (expect && strcasecmp(expect, "100-continue") == 0) return 1;
    return declared_length(req) > (long long)r->srv->opts.max_body * 16;
}

/* Sets the too-large error. Returns as refuse_body. */
static int set_too_large(struct srv_request *r)
{
    struct proto_req *req = &r->req;
    if (r->route == SRV_ROUTE_REST)
        proto_error(req, ERR_S3_MAX_MESSAGE_LENGTH_EXCEEDED, "Your request was too big.");
    else
        proto_error(req, ERR_REQUEST_TOO_LARGE,
                    "Request body of more than %zu bytes is not accepted.", r->srv->opts.max_body);
    return refuse_body(r);
}

/* Bodies up to this size are buffered before any check, as a connection's own buffers are;
 * the full verification after the body gives the same answers in the same order. */
#define SRV_PRECHECK_ABOVE (16 * 1024)

/* Checks what of a call's signature can be checked before its body: presence, form, time and
 * access key (the signature itself covers the body's hash). A caller that fails gets its answer
 * without the server ever holding its body. Returns 0, or as refuse_body. */
static int precheck_auth(struct srv_request *r)
{
    struct proto_req *req = &r->req;
    if (r->srv->opts.auth_off) return 0;
    long long declared = declared_length(req);
    if (declared >= 0 && declared <= SRV_PRECHECK_ABOVE) return 0;
    struct sigv4_input in;
    fill_sigv4_input(r, &in, NULL);
    struct sigv4_failure fail;
    if (sigv4_precheck(r->srv->creds, &in, &fail) == 0) return 0;
    proto_auth_error(req, &fail);
    sigv4_failure_free(&fail);
    return refuse_body(r);
}

/* Sets the error for a request naming a service this server does not emulate: the service, and
 * what is served instead. */
static void not_served(struct srv_request *r, const char *named, enum proto_err err)
{
    struct proto_req *req = &r->req;
    struct proto_sb list = PROTO_SB_INIT;
    const struct proto_service *const *svcs = srv_services();
    for (int i = 0; svcs[i]; i++)
        proto_sb_printf(&list, "%s%s", i ? (svcs[i + 1] ? ", " : " and ") : "", svcs[i]->name);
    /* The name is echoed: only a signing name's characters, or a target's prefix. */
    size_t n = named ? strcspn(named, ".") : 0;
    for (size_t i = 0; i < n; i++) {
        char c = named[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_') ||
            n > 64)
            n = 0;
    }
    if (n)
        proto_error(req, err,
                    "Service '%.*s' is not emulated by codepipeline-local, which serves %s.",
                    (int)n, named, proto_sb_str(&list));
    else
        proto_error(req, err,
                    "This service is not emulated by codepipeline-local, which serves %s.",
                    proto_sb_str(&list));
    proto_sb_free(&list);
}

/* First call for a request: headers are in, the body is not. Returns 1 to answer at once. */
static int begin_request(struct srv_request *r, struct MHD_Connection *conn, const char *method)
{
    struct proto_req *req = &r->req;
    collect_request(r, conn, method);

    const char *target = proto_req_header(req, "x-amz-target");
    char *scope_svc = NULL;
    struct srv_route_input ri = {.method = req->http.method,
                                 .path = req->http.path,
                                 .query = req->http.query,
                                 .target = target,
                                 .content_type = proto_req_header(req, "content-type")};
    const char *named = NULL;
    r->route = srv_route_pick(&ri, &req->service, &named);
    /* The scope's service decides only when the target does not (most JSON calls skip this). */
    if (r->route != SRV_ROUTE_JSON && r->route != SRV_ROUTE_HEALTH && r->route != SRV_ROUTE_RAW) {
        struct sigv4_input in;
        fill_sigv4_input(r, &in, NULL);
        free(sigv4_peek_credential(&in, &scope_svc, NULL));
        ri.scope_service = scope_svc;
        if (scope_svc) r->route = srv_route_pick(&ri, &req->service, &named);
    }
    switch (r->route) {
    case SRV_ROUTE_NOT_SERVED_JSON:
        not_served(r, named, ERR_UNKNOWN_OPERATION);
        break;
    case SRV_ROUTE_NOT_SERVED_QUERY:
        not_served(r, named, ERR_QUERY_INVALID_ACTION);
        break;
    default:
        break;
    }
    free(scope_svc);

    switch (r->route) {
    case SRV_ROUTE_HEALTH:
        srv_health(req, r->srv->store, srv_services());
        return 1;
    case SRV_ROUTE_UNKNOWN_TARGET:
        proto_error(req, ERR_UNKNOWN_OPERATION, "%s%s",
                    target ? "Unrecognized operation: " : "Missing X-Amz-Target header",
                    target ? target : "");
        return 1;
    case SRV_ROUTE_NOT_SERVED_JSON:
    case SRV_ROUTE_NOT_SERVED_QUERY:
        return refuse_body(r);
    case SRV_ROUTE_JSON:
    case SRV_ROUTE_QUERY:
        if (declared_length(req) > (long long)r->srv->opts.max_body) return set_too_large(r);
        return precheck_auth(r);
    case SRV_ROUTE_REST:
        /* S3 verifies the signature before the body so that uploads can stream. */
        if (authenticate(r, NULL) < 0) return 1;
        /* fall through */
    case SRV_ROUTE_RAW:
        if (req->service->rest_begin && req->service->rest_begin(req) < 0) {
            r->dispatched = 1; /* rest_begin failed: nothing to abort */
            return 1;
        }
        if (!req->sink && declared_length(req) > (long long)r->srv->opts.max_body)
            return set_too_large(r);
        return 0;
    }
    return 0;
}

static void take_body(struct srv_request *r, const char *data, size_t len)
{
    struct proto_req *req = &r->req;
    if (r->body_error) { /* draining after an error */
        r->drained += len;
        return;
    }
    if (req->sink) {
        if (req->sink->write(req, data, len) < 0) {
            if (!req->err)
                proto_error(req, ERR_S3_INTERNAL_ERROR,
                            "We encountered an internal error. Please try again.");
            r->body_error = 1;
        }
        return;
    }
    if (r->body.len + len > r->srv->opts.max_body) {
        set_too_large(r);
        proto_sb_free(&r->body);
        return;
    }
    proto_sb_append(&r->body, data, len);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct srv_request *r = *con_cls;
    if (!r) return MHD_NO;
    if (r->responded) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (!r->started) {
        r->started = 1;
        __atomic_add_fetch(&r->srv->inflight, 1, __ATOMIC_ACQUIRE);
        if (begin_request(r, conn, method)) return send_response(r, conn);
        return MHD_YES;
    }
    if (*upload_data_size) {
        take_body(r, upload_data, *upload_data_size);
        *upload_data_size = 0;
        /* A body with no declared end (chunked) could be drained for ever: past 16 times the
         * limit, close the connection (libmicrohttpd cannot answer in the middle of a body). */
        if (r->body_error && r->drained > (uint64_t)r->srv->opts.max_body * 16) return MHD_NO;
        return MHD_YES;
    }
    /* The whole body is in. */
    struct proto_req *req = &r->req;
    if (!r->body_error) {
        req->http.body = r->body.buf ? r->body.buf : "";
        req->http.body_len = r->body.len;
        if (r->route == SRV_ROUTE_JSON)
            dispatch_json(r);
        else if (r->route == SRV_ROUTE_QUERY)
            dispatch_query(r);
        else
            dispatch_rest(r);
    }
    return send_response(r, conn);
}

/* ---- start and stop ------------------------------------------------------------------------ */

static int resolve_listen(const char *host, unsigned port, struct sockaddr_storage *ss, char *err,
                          size_t errlen)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    char portstr[8];
    snprintf(portstr, sizeof(portstr), "%u", port);
    int rc = getaddrinfo(host, portstr, &hints, &res);
    if (rc != 0 || !res) {
        snprintf(err, errlen, "cannot resolve --host '%s': %s", host, gai_strerror(rc));
        return -1;
    }
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    return 0;
}

/* Opens the listening socket: SO_REUSEADDR, so that a restart does not wait out TIME_WAIT, and not
 * SO_REUSEPORT (libmicrohttpd's LISTENING_ADDRESS_REUSE), with which a second server on a busy
 * port would start and the kernel would split clients between two data dirs. Returns the socket,
 * or -1 with a one-line reason in err. */
static int open_listener(const struct sockaddr_storage *ss, const char *host, unsigned port,
                         char *err, size_t errlen)
{
    socklen_t len =
        ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        snprintf(err, errlen, "cannot listen on %s:%u: %s", host, port, strerror(errno));
        return -1;
    }
    int on = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    if (ss->ss_family == AF_INET6) (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
    if (bind(fd, (const struct sockaddr *)ss, len) != 0 || listen(fd, SOMAXCONN) != 0) {
        int e = errno;
        snprintf(err, errlen, "cannot listen on %s:%u: %s%s", host, port, strerror(e),
                 e == EADDRINUSE ? " (another process holds the port; pick another with --port)"
                                 : "");
        close(fd);
        return -1;
    }
    return fd;
}

/* Returns the port fd is bound to (the one the kernel picked for --port 0), or 0. */
static unsigned bound_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0) return 0;
    if (ss.ss_family == AF_INET6) return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

/* Raises the open-file limit to its hard maximum and returns how many connections the server may
 * hold: each can carry a socket plus an upload's temp file or a git child's pipes. */
static unsigned connection_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return 500;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0) getrlimit(RLIMIT_NOFILE, &rl);
    }
    rlim_t n = rl.rlim_cur / 4;
    if (n > 16384) n = 16384;
    return n < 64 ? 64 : (unsigned)n;
}

/* Creates the work queue and calls every service's start in table order, so that listeners,
 * workers and the settling of unfinished work are in place before the first request. Returns 0,
 * or -1 with a reason in err. */
static int start_services(srv *s, char *err, size_t errlen)
{
    const struct srv_options *opts = &s->opts;
    s->queue = rt_queue_new(s->store);
    if (!s->queue) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    s->cfg = (struct proto_service_config){.data_dir = opts->data_dir,
                                           .host = opts->host,
                                           .port = opts->port,
                                           .region = opts->region,
                                           .account_id = opts->account_id,
                                           .log_level = opts->log_level,
                                           .max_builds = opts->max_builds,
                                           .build_sandbox = opts->build_sandbox,
                                           .queue = s->queue,
                                           .creds = s->creds};
    if (strchr(opts->host, ':'))
        snprintf(s->cfg.endpoint_url, sizeof(s->cfg.endpoint_url), "http://[%s]:%u", opts->host,
                 opts->port);
    else
        snprintf(s->cfg.endpoint_url, sizeof(s->cfg.endpoint_url), "http://%s:%u", opts->host,
                 opts->port);
    const struct proto_service *const *svcs = srv_services();
    for (; svcs[s->n_started]; s->n_started++) {
        const struct proto_service *svc = svcs[s->n_started];
        char why[256] = "";
        if (svc->start && svc->start(s->store, &s->cfg, why, sizeof(why)) < 0) {
            snprintf(err, errlen, "cannot start %s: %s", svc->name, why);
            return -1;
        }
    }
    return 0;
}

/* Stops the work queue within the grace, then every started service in reverse table order.
 * Returns how many runs of the queue did not end (0: the queue and store may be freed). */
static int stop_services(srv *s)
{
    int left = 0;
    if (s->queue) {
        left = rt_queue_stop(s->queue, s->opts.shutdown_grace);
        if (left)
            srv_log(SRV_LOG_WARN,
                    "%d background run(s) did not end within %u s; they are settled at the next "
                    "start",
                    left, s->opts.shutdown_grace);
    }
    const struct proto_service *const *svcs = srv_services();
    double deadline = proto_now() + s->opts.shutdown_grace;
    while (s->n_started > 0) {
        const struct proto_service *svc = svcs[--s->n_started];
        if (svc->stop) svc->stop(deadline);
    }
    if (!left) rt_queue_free(s->queue);
    s->queue = NULL;
    return left;
}

int srv_start(const struct srv_options *opts, srv **out, char *err, size_t errlen)
{
    srv *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    s->opts = *opts;
    srv_log_set_level((enum srv_log_level)opts->log_level);

    if (proto_model_init() < 0) {
        snprintf(err, errlen, "cannot compile the AWS model patterns");
        goto fail;
    }
    s->creds = sigv4_creds_new(opts->account_id);
    if (!s->creds) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (opts->credentials && sigv4_creds_load_file(s->creds, opts->credentials, err, errlen) < 0)
        goto fail;

    struct store_options so = {
        .dir = opts->data_dir, .map_size = opts->map_size, .no_sync = opts->no_sync};
    if (store_open(&so, &s->store, err, errlen) < 0) goto fail;

    if (start_services(s, err, errlen) < 0) goto fail;

    struct sockaddr_storage ss;
    if (resolve_listen(opts->host, opts->port, &ss, err, errlen) < 0) goto fail;
    int lfd = open_listener(&ss, opts->host, opts->port, err, errlen);
    if (lfd < 0) goto fail;
    s->port = bound_port(lfd);

    /* poll, not epoll: in epoll mode libmicrohttpd (0.9.75) misses a client's close that arrives
     * together with a request's headers, and keeps that connection (and an upload's temp file
     * and descriptors) until the idle timeout. ITC: MHD_quiesce_daemon needs it (srv_stop). */
    unsigned flags = MHD_USE_POLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG | MHD_USE_ITC;
    if (ss.ss_family == AF_INET6) flags |= MHD_USE_IPv6;
    s->daemon = MHD_start_daemon(flags, (uint16_t)s->port, NULL, NULL, on_request, s,
                                 MHD_OPTION_LISTEN_SOCKET, lfd, MHD_OPTION_THREAD_POOL_SIZE,
                                 opts->threads, MHD_OPTION_URI_LOG_CALLBACK, on_uri, s,
                                 MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                                 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120, /* idle seconds */
                                 MHD_OPTION_CONNECTION_LIMIT, connection_limit(), MHD_OPTION_END);
    if (!s->daemon) { /* lfd: libmicrohttpd may have closed it; exiting anyway */
        snprintf(err, errlen, "cannot serve on %s:%u", opts->host, s->port);
        goto fail;
    }
    if (strchr(opts->host, ':'))
        snprintf(s->listen_host, sizeof(s->listen_host), "[%s]:%u", opts->host, s->port);
    else
        snprintf(s->listen_host, sizeof(s->listen_host), "%s:%u", opts->host, s->port);
    s->cfg.port = s->port;
    snprintf(s->cfg.endpoint_url, sizeof(s->cfg.endpoint_url), "http://%s", s->listen_host);
    *out = s;
    return 0;
fail:
    srv_stop(s);
    return -1;
}

unsigned srv_port(const srv *s)
{
    return s->port;
}

/* Stops accepting and waits, up to --shutdown-grace seconds, for the requests in flight to be
 * answered (an upload still arriving, a large download being sent, a handler still running). */
static void drain(srv *s)
{
    MHD_socket lfd = MHD_quiesce_daemon(s->daemon);
    /* The listener stays open until MHD_stop_daemon (a worker may still hold it), but refuses
     * connections from now on instead of leaving them in the backlog. */
    if (lfd != MHD_INVALID_SOCKET) shutdown(lfd, SHUT_RDWR);
    __atomic_store_n(&s->draining, 1, __ATOMIC_RELEASE);
    double deadline = proto_now() + s->opts.shutdown_grace;
    while (__atomic_load_n(&s->inflight, __ATOMIC_ACQUIRE) > 0 && proto_now() < deadline)
        usleep(10 * 1000);
    MHD_stop_daemon(s->daemon);
    s->daemon = NULL;
    if (lfd != MHD_INVALID_SOCKET) close(lfd);
}

void srv_stop(srv *s)
{
    if (!s) return;
    if (s->daemon) drain(s);
    /* Runs that outlived the grace still use the store: the process is about to exit, and
     * LMDB keeps every committed transaction without a close. */
    if (stop_services(s) == 0) store_close(s->store);
    sigv4_creds_free(s->creds);
    free(s);
}
