/* Request helpers: errors, header and query lookup, response headers. */
#include "protocol/request.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>

int proto_error(struct proto_req *req, enum proto_err e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    req->err = e;
    req->err_message = proto_arena_vprintf(req->arena, fmt, ap);
    va_end(ap);
    return -(int)e;
}

const char *proto_req_header(const struct proto_req *req, const char *name)
{
    for (size_t i = 0; i < req->http.n_headers; i++)
        if (strcasecmp(req->http.headers[i].name, name) == 0) return req->http.headers[i].value;
    return NULL;
}

const char *proto_req_remote_addr(struct proto_req *req)
{
    if (req->http.remote_addr) return req->http.remote_addr;
    char addr[INET6_ADDRSTRLEN] = "";
    const struct sockaddr_storage *ss = &req->http.remote;
    if (ss->ss_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)ss)->sin_addr, addr,
                  sizeof addr);
    else if (ss->ss_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)ss)->sin6_addr, addr,
                  sizeof addr);
    req->http.remote_addr = addr[0] ? proto_arena_strdup(req->arena, addr) : "";
    return req->http.remote_addr;
}

void proto_req_add_header(struct proto_req *req, const char *name, const char *value)
{
    if (req->n_resp_headers == req->cap_resp_headers) {
        size_t cap = req->cap_resp_headers ? req->cap_resp_headers * 2 : 8;
        struct proto_header *h = proto_arena_alloc(req->arena, cap * sizeof(*h));
        if (req->n_resp_headers) memcpy(h, req->resp_headers, req->n_resp_headers * sizeof(*h));
        req->resp_headers = h;
        req->cap_resp_headers = cap;
    }
    req->resp_headers[req->n_resp_headers].name = proto_arena_strdup(req->arena, name);
    req->resp_headers[req->n_resp_headers].value = proto_arena_strdup(req->arena, value);
    req->n_resp_headers++;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Percent-decodes n bytes of s into the arena; '+' stays a literal plus as in SigV4. */
static char *pct_decode(proto_arena *a, const char *s, size_t n)
{
    char *out = proto_arena_alloc(a, n + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int h, l;
        if (s[i] == '%' && i + 2 < n && (h = hexval((unsigned char)s[i + 1])) >= 0 &&
            (l = hexval((unsigned char)s[i + 2])) >= 0) {
            out[o++] = (char)(h * 16 + l);
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    return out;
}

const char *proto_req_query(const struct proto_req *req, const char *name)
{
    const char *q = req->http.query;
    size_t nlen = strlen(name);
    while (q && *q) {
        const char *end = strchr(q, '&');
        size_t len = end ? (size_t)(end - q) : strlen(q);
        const char *eq = memchr(q, '=', len);
        size_t klen = eq ? (size_t)(eq - q) : len;
        char *key = pct_decode(req->arena, q, klen);
        if (strlen(key) == nlen && memcmp(key, name, nlen) == 0) {
            if (!eq) return "";
            return pct_decode(req->arena, eq + 1, len - klen - 1);
        }
        q = end ? end + 1 : NULL;
    }
    return NULL;
}
