/* Helpers shared by the codebuild handlers: records, ARNs, tokens, JSON. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "providers/codebuild/internal.h"
#include "sigv4/encode.h"

int cb_proj_parse(const void *val, size_t vlen, struct cb_proj_hdr *h, const char **json)
{
    if (vlen < sizeof *h) return -1;
    memcpy(h, val, sizeof *h);
    if (h->magic != CB_PROJ_MAGIC || h->json_len != vlen - sizeof *h) return -1;
    *json = (const char *)val + sizeof *h;
    return 0;
}

char *cb_proj_make(struct cb_proj_hdr *h, struct json_object *o, size_t *len)
{
    size_t n;
    const char *s = json_object_to_json_string_length(
        o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
    h->magic = CB_PROJ_MAGIC;
    h->json_len = (uint32_t)n;
    char *rec = malloc(sizeof *h + n);
    if (!rec) abort();
    memcpy(rec, h, sizeof *h);
    memcpy(rec + sizeof *h, s, n);
    *len = sizeof *h + n;
    return rec;
}

int cb_project_read(store_txn *t, const char *account, const char *region, const char *name,
                    struct cb_proj_hdr *h, struct json_object **project)
{
    char key[512];
    const void *val;
    size_t vlen;
    const char *json;
    if (project) *project = NULL;
    if (store_key(key, sizeof key, account, region, name) < 0) return STORE_NOTFOUND;
    int rc = store_get(t, STORE_DB_CB_PROJECTS, key, strlen(key), &val, &vlen);
    if (rc) return rc;
    if (cb_proj_parse(val, vlen, h, &json)) return STORE_ERROR;
    if (project) {
        *project = cb_json_parse(json, h->json_len);
        if (!*project) return STORE_ERROR;
    }
    return 0;
}

const char *cb_project_name_of(proto_arena *a, const char *account, const char *region,
                               const char *name_or_arn)
{
    if (strncmp(name_or_arn, "arn:", 4) != 0) return name_or_arn;
    char *prefix = proto_arena_printf(a, "arn:aws:codebuild:%s:%s:project/", region, account);
    size_t n = strlen(prefix);
    if (strncmp(name_or_arn, prefix, n) != 0 || !name_or_arn[n]) return NULL;
    return name_or_arn + n;
}

int cb_store_error(struct proto_req *req, int rc)
{
    return proto_error(req, ERR_INTERNAL_FAILURE, "store: %s", store_strerror(rc));
}

struct json_object *cb_json_time(double t)
{
    if (!(t >= 0 && t < 1e15)) t = 0;
    unsigned long long ms = (unsigned long long)(t * 1000.0 + 0.5);
    char buf[40];
    snprintf(buf, sizeof buf, "%llu.%03llu", ms / 1000, ms % 1000);
    return json_object_new_double_s((double)ms / 1000.0, buf);
}

char *cb_json_dup(struct json_object *o, size_t *len)
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

const char *cb_json_str(struct json_object *o, const char *key)
{
    struct json_object *v;
    if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

char *cb_token_encode(proto_arena *a, const char *s)
{
    size_t n = strlen(s);
    char *out = proto_arena_alloc(a, 2 * n + 6);
    memcpy(out, "cbt1.", 5);
    sigv4_hex(s, n, out + 5);
    return out;
}

char *cb_token_decode(proto_arena *a, const char *token)
{
    size_t n = strlen(token);
    if (n < 7 || strncmp(token, "cbt1.", 5) != 0 || (n - 5) % 2) return NULL;
    size_t m = (n - 5) / 2;
    char *out = proto_arena_alloc(a, m + 1);
    for (size_t i = 0; i < m; i++) {
        int h = sigv4_hex_value(token[5 + 2 * i]), l = sigv4_hex_value(token[5 + 2 * i + 1]);
        if (h < 0 || l < 0) return NULL;
        out[i] = (char)(h * 16 + l);
        if (!out[i]) return NULL;
    }
    return out;
}
struct json_object *cb_json_parse(const char *s, size_t len)
{
    struct json_tokener *tok = json_tokener_new();
    if (!tok) return NULL;
    struct json_object *o = json_tokener_parse_ex(tok, s, (int)len);
    if (json_tokener_get_error(tok) != json_tokener_success) {
        json_object_put(o);
        o = NULL;
    }
    json_tokener_free(tok);
    return o;
}

double cb_minute_seconds(void)
{
    const char *e = getenv("CPL_CODEBUILD_SECONDS_PER_MINUTE");
    double s = e ? strtod(e, NULL) : 0;
    return s > 0 && s < 60 ? s : 60; /* it may only shorten limits */
}

int cb_batch_get(struct proto_req *req, const char *input, const char *output,
                 int (*find)(struct proto_req *req, store_txn *t, const char *given,
                             const char **json, size_t *len))
{
    struct json_object *given_list = NULL;
    store_txn *t = NULL;
    struct proto_sb missing = PROTO_SB_INIT;
    int rc = 0, nf = 0, nm = 0;
    if (req->input) json_object_object_get_ex(req->input, input, &given_list);
    if ((rc = store_txn_begin(req->store, 0, &t))) goto store_fail;
    proto_sb_reset(&req->body);
    proto_sb_printf(&req->body, "{\"%s\":[", output);
    for (size_t i = 0; i < json_object_array_length(given_list); i++) {
        const char *given = json_object_get_string(json_object_array_get_idx(given_list, i));
        const char *json;
        size_t len;
        if (find(req, t, given, &json, &len) == 0) {
            if (nf++) proto_sb_putc(&req->body, ',');
            proto_sb_append(&req->body, json, len);
        } else {
            if (nm++) proto_sb_putc(&missing, ',');
            proto_sb_json_string(&missing, given, strlen(given));
        }
    }
    proto_sb_printf(&req->body, "],\"%sNotFound\":[", output);
    proto_sb_append(&req->body, missing.buf ? missing.buf : "", missing.len);
    proto_sb_puts(&req->body, "]}");
    goto out;
store_fail:
    rc = cb_store_error(req, rc);
out:
    proto_sb_free(&missing);
    store_txn_abort(t);
    return rc;
}

int cb_page_offset(struct proto_req *req, size_t *offset)
{
    const char *token = cb_json_str(req->input, "nextToken");
    *offset = 0;
    if (!token) return 0;
    const char *s = cb_token_decode(req->arena, token);
    char *end;
    if (!s || (*offset = strtoul(s, &end, 10), *end))
        return proto_error(req, ERR_CB_INVALID_INPUT, "Invalid next token");
    return 0;
}

void cb_answer_page(struct proto_req *req, const char *member, const void *entries, size_t size,
                    size_t n, size_t offset, size_t page, int reverse)
{
    size_t end = offset + page < n ? offset + page : n;
    proto_sb_reset(&req->body);
    proto_sb_printf(&req->body, "{\"%s\":[", member);
    for (size_t i = offset; i < end; i++) {
        /* A struct's address is that of its first member, the name. */
        const char *name = *(char *const *)(const void *)((const char *)entries +
                                                          (reverse ? n - 1 - i : i) * size);
        if (i > offset) proto_sb_putc(&req->body, ',');
        proto_sb_json_string(&req->body, name, strlen(name));
    }
    proto_sb_putc(&req->body, ']');
    if (end < n) {
        char num[32];
        snprintf(num, sizeof num, "%zu", end);
        const char *tok = cb_token_encode(req->arena, num);
        proto_sb_puts(&req->body, ",\"nextToken\":");
        proto_sb_json_string(&req->body, tok, strlen(tok));
    }
    proto_sb_putc(&req->body, '}');
}
