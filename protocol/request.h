/* The request context every handler receives: the HTTP input, the caller, the response being built.
 */
#ifndef PROTO_REQUEST_H
#define PROTO_REQUEST_H

#include <stdint.h>
#include <stddef.h>
#include <sys/socket.h>

#include "protocol/arena.h"
#include "protocol/errors.h"
#include "protocol/strbuf.h"
#include "sigv4/sigv4.h"

struct json_object;
struct proto_service;
struct proto_body_sink;
struct sigv4_auth;
struct store;
struct sigv4_creds;

/* A response header. (Request headers are sigv4's struct sigv4_header, which the verifier reads.)
 */
struct proto_header {
    const char *name;
    const char *value;
};

struct proto_http {
    const char *method;
    const char *path;                   /* raw path as sent, still %-encoded, without the query */
    const char *query;                  /* raw query string without '?', "" when none */
    const char *host;                   /* Host header, "" when none */
    const struct sigv4_header *headers; /* in arrival order; names lower-case */
    size_t n_headers;
    const char *body; /* buffered body (NUL-terminated); NULL when the body went to a sink */
    size_t body_len;
    /* The peer (ss_family 0 when unknown), as text through proto_req_remote_addr: only webhooks
     * read it, and inet_ntop on every request cost more than 1% of a GetPipeline. */
    struct sockaddr_storage remote;
    const char *remote_addr; /* set by the first proto_req_remote_addr */
};

/* Who is calling, as established by sigv4/ (or by the access key alone with --auth off). */
struct proto_caller {
    const char *access_key;
    const char *account_id; /* 12 digits */
    const char *region;
};

struct proto_req {
    proto_arena *arena; /* freed when the request completes */
    char request_id[37];
    struct proto_http http;
    struct proto_caller caller;
    const struct sigv4_auth *auth; /* the verified signature, NULL with --auth off */
    const struct proto_service *service;
    const char *operation;           /* JSON services: the operation name from X-Amz-Target */
    struct json_object *input;       /* JSON services: the validated input; owned by the request */
    struct store *store;             /* the process's store */
    const struct sigv4_creds *creds; /* the credentials store (for git's basic auth) */
    const char *public_host; /* host:port clients use to reach the server (for URLs we return) */
    int auth_off; /* --auth off: signatures and passwords are not checked, the key picks the account
                   */

    /* Response. JSON services: set output (owned by the request) or write body directly;
     * neither gives "{}". REST: status, headers, content_type and body or a file range. */
    int status;
    const char *content_type;
    struct json_object *output;
    struct proto_sb body;
    struct proto_header *resp_headers; /* arena-owned */
    size_t n_resp_headers, cap_resp_headers;
    int resp_fd; /* >= 0: send this file's range as the body; the server closes it */
    uint64_t resp_fd_offset, resp_fd_len;

    /* Error, set by proto_error(). err_extra holds extra XML elements for S3's <Error>. */
    enum proto_err err;
    const char *err_message;
    struct proto_sb err_extra;

    /* REST: a streaming body sink chosen by the service's rest_begin. */
    const struct proto_body_sink *sink;
    void *sink_state;
};

/* Sets the request's error and returns -e, so handlers can `return proto_error(...)`.
 * The message is formatted into the request's arena. */
int proto_error(struct proto_req *req, enum proto_err e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Returns the value of the first request header named name (case-insensitive), or NULL. */
const char *proto_req_header(const struct proto_req *req, const char *name);
/* Returns the peer's address as text ("127.0.0.1", "::1"), "" when unknown; formatted into the
 * arena on the first call. */
const char *proto_req_remote_addr(struct proto_req *req);
/* Adds a response header; name and value are copied into the arena. */
void proto_req_add_header(struct proto_req *req, const char *name, const char *value);
/* Returns the decoded value of query parameter name (arena-owned), "" for a key without '=',
 * or NULL when absent. */
const char *proto_req_query(const struct proto_req *req, const char *name);

#endif
