/* Helpers shared by the codepipeline handlers: record parsing, keys, ARNs, tokens, timestamps. */
#include "providers/codepipeline/cp_internal.h"
#include "providers/codepipeline/engine.h"
#include "sigv4/encode.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cp_pipe_rec_parse(const void *val, size_t vlen, struct cp_pipe_hdr *h, const char **decl)
{
    if (vlen < sizeof(*h)) return -1;
    memcpy(h, val, sizeof(*h));
    if (h->magic != CP_PIPE_REC_MAGIC || h->body_len != vlen - sizeof(*h) ||
        h->decl_off > h->body_len || h->decl_len > h->body_len - h->decl_off)
        return -1;
    *decl = (const char *)val + sizeof(*h) + h->decl_off;
    return 0;
}

const char *cp_pipe_rec_body(const void *val)
{
    return (const char *)val + sizeof(struct cp_pipe_hdr);
}

const char *cp_type_name(unsigned type)
{
    return type == CP_TYPE_V2 ? "V2" : "V1";
}

const char *cp_mode_name(unsigned mode)
{
    switch (mode) {
    case CP_MODE_QUEUED:
        return "QUEUED";
    case CP_MODE_PARALLEL:
        return "PARALLEL";
    default:
        return "SUPERSEDED";
    }
}

int cp_version_key(char *buf, size_t buflen, const char *account, const char *region,
                   const char *name, uint32_t version)
{
    int n = store_key(buf, buflen, account, region, name);
    if (n < 0) return -1;
    int m = version ? snprintf(buf + n, buflen - (size_t)n, "#%010u", version)
                    : snprintf(buf + n, buflen - (size_t)n, "#");
    if (m < 0 || (size_t)m >= buflen - (size_t)n) return -1;
    return n + m;
}

int cp_pipeline_read(store_txn *t, const char *account, const char *region, const char *name,
                     struct cp_pipe_hdr *h, const char **decl)
{
    char key[512];
    int klen = store_key(key, sizeof key, account, region, name);
    if (klen < 0) return STORE_NOTFOUND;
    const void *val;
    size_t vlen;
    int rc = store_get(t, STORE_DB_CP_PIPELINES, key, (size_t)klen, &val, &vlen);
    if (rc) return rc;
    return cp_pipe_rec_parse(val, vlen, h, decl) ? STORE_ERROR : 0;
}

const char *cp_request_endpoint(struct proto_req *req)
{
    if (!req->public_host || !*req->public_host) return NULL;
    const char *ep = proto_arena_printf(req->arena, "http://%s", req->public_host);
    cp_engine_note_endpoint(ep);
    return ep;
}

int cp_store_error(struct proto_req *req, int rc)
{
    if (rc == STORE_FULL)
        return proto_error(req, ERR_INTERNAL_FAILURE, "The data store is full (raise --map-size)");
    return proto_error(req, ERR_INTERNAL_FAILURE, "The data store failed");
}

void cp_sb_uint(struct proto_sb *sb, uint64_t v)
{
    char buf[24];
    int i = sizeof buf;
    do {
        buf[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    proto_sb_append(sb, buf + i, sizeof buf - (size_t)i);
}

void cp_sb_time(struct proto_sb *sb, double t)
{
    if (!(t >= 0 && t < 1e15)) t = 0;
    uint64_t ms = (uint64_t)(t * 1000.0 + 0.5);
    char frac[4] = {(char)('0' + ms / 100 % 10), (char)('0' + ms / 10 % 10), (char)('0' + ms % 10),
                    0};
    cp_sb_uint(sb, ms / 1000);
    proto_sb_putc(sb, '.');
    proto_sb_append(sb, frac, 3);
}

char *cp_token_encode(proto_arena *a, const char *s, size_t n)
{
    char *out = proto_arena_alloc(a, 2 * n + 6);
    memcpy(out, "cpl1.", 5);
    sigv4_hex(s, n, out + 5);
    return out;
}

static int hexv(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

char *cp_token_decode(proto_arena *a, const char *token)
{
    size_t n = strlen(token);
    if (n < 7 || strncmp(token, "cpl1.", 5) != 0 || (n - 5) % 2) return NULL;
    size_t m = (n - 5) / 2;
    char *out = proto_arena_alloc(a, m + 1);
    for (size_t i = 0; i < m; i++) {
        int h = hexv(token[5 + 2 * i]), l = hexv(token[5 + 2 * i + 1]);
        if (h < 0 || l < 0) return NULL;
        out[i] = (char)(h * 16 + l);
        if (!out[i]) return NULL;
    }
    return out;
}

char *cp_pipeline_arn(proto_arena *a, const char *region, const char *account, const char *name)
{
    return proto_arena_printf(a, "arn:aws:codepipeline:%s:%s:%s", region, account, name);
}

char *cp_webhook_arn(proto_arena *a, const char *region, const char *account, const char *name)
{
    return proto_arena_printf(a, "arn:aws:codepipeline:%s:%s:webhook:%s", region, account, name);
}

char *cp_action_type_arn(proto_arena *a, const char *region, const char *account,
                         const char *category, const char *provider, const char *version)
{
    return proto_arena_printf(a, "arn:aws:codepipeline:%s:%s:actiontype:Custom/%s/%s/%s", region,
                              account, category, provider, version);
}

char *cp_json_dup(struct json_object *o, size_t *len)
{
    size_t n;
    const char *s = json_object_to_json_string_length(
        o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
    char *out = malloc(n + 1);
    if (!out) abort();
    memcpy(out, s, n + 1);
    if (len) *len = n;
    return out;
}

int cp_payload_fields(char *buf, size_t cap, const void *payload, size_t len, char **fields, int n)
{
    if (len >= cap) return -1;
    memcpy(buf, payload, len);
    buf[len] = 0;
    char *p = buf;
    for (int i = 0; i < n; i++) {
        fields[i] = p;
        if (i == n - 1) break;
        char *nl = strchr(p, '\n');
        if (!nl) return -1;
        *nl = 0;
        p = nl + 1;
    }
    return 0;
}
