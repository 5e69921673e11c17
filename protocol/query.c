/* awsQuery (STS, IAM): form bodies decoded into the model's input structure, XML answers, and the
 * <ErrorResponse> document, as botocore's query serializer and parser expect them. */
#include "protocol/query.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "protocol/errors.h"
#include "protocol/gen/model_tables.h"
#include "protocol/json.h"
#include "protocol/model.h"
#include "protocol/service.h"
#include "protocol/utf8.h"

#define QUERY_MAX_INDEX 1000 /* highest list index accepted ("Tags.member.1000") */

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decodes n bytes of form encoding into arena memory. Returns the string (its length in *len), or
 * NULL for a malformed escape or bytes that are not UTF-8. */
static char *form_decode(proto_arena *a, const char *s, size_t n, size_t *len)
{
    char *out = proto_arena_alloc(a, n + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '+') {
            out[o++] = ' ';
        } else if (s[i] == '%') {
            if (i + 2 >= n) return NULL;
            int h = hexval(s[i + 1]), l = hexval(s[i + 2]);
            if (h < 0 || l < 0) return NULL;
            out[o++] = (char)(h * 16 + l);
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    if (proto_utf8_check(out, o) != o) return NULL;
    *len = o;
    return out;
}

int proto_query_parse(proto_arena *a, const char *s, size_t n, struct proto_query_param **out)
{
    size_t cap = 1;
    for (size_t i = 0; i < n; i++)
        if (s[i] == '&') cap++;
    struct proto_query_param *ps = proto_arena_alloc(a, cap * sizeof(*ps));
    int count = 0;
    size_t start = 0;
    while (start <= n) {
        const char *amp = memchr(s + start, '&', n - start);
        size_t end = amp ? (size_t)(amp - s) : n;
        if (end > start) {
            const char *eq = memchr(s + start, '=', end - start);
            size_t name_end = eq ? (size_t)(eq - s) : end;
            size_t nlen, vlen = 0;
            char *name = form_decode(a, s + start, name_end - start, &nlen);
            char *value =
                eq ? form_decode(a, eq + 1, end - name_end - 1, &vlen) : proto_arena_strdup(a, "");
            if (!name || !value || strlen(name) != nlen) return -1;
            ps[count].name = name;
            ps[count].value = value;
            ps[count].value_len = vlen;
            count++;
        }
        if (!amp) break;
        start = end + 1;
    }
    *out = ps;
    return count;
}

/* ---- building the input from the flattened names ------------------------------------------- */

static const struct proto_model_member *find_member(const struct proto_model_service *svc,
                                                    const struct proto_model_shape *sh,
                                                    const char *name, size_t n)
{
    for (uint32_t i = 0; i < sh->count; i++) {
        const struct proto_model_member *m = &svc->members[sh->first + i];
        if (strlen(m->name) == n && memcmp(m->name, name, n) == 0) return m;
    }
    return NULL;
}

/* The value of a scalar parameter in its model type, or NULL (req's error set) when it has none. */
static struct json_object *scalar(struct proto_req *req, const struct proto_model_shape *sh,
                                  const struct proto_query_param *p)
{
    const char *v = p->value;
    switch (sh->type) {
    case PROTO_T_INTEGER:
    case PROTO_T_LONG: {
        char *end;
        errno = 0;
        long long x = strtoll(v, &end, 10);
        if (!*v || *end || errno ||
            (sh->type == PROTO_T_INTEGER && (x > 2147483647LL || x < -2147483648LL)))
            break;
        return json_object_new_int64(x);
    }
    case PROTO_T_DOUBLE:
    case PROTO_T_FLOAT: {
        char *end;
        double x = strtod(v, &end);
        if (!*v || *end) break;
        return json_object_new_double(x);
    }
    case PROTO_T_BOOLEAN:
        if (strcasecmp(v, "true") == 0) return json_object_new_boolean(1);
        if (strcasecmp(v, "false") == 0) return json_object_new_boolean(0);
        break;
    default:
        return json_object_new_string_len(v, (int)p->value_len);
    }
    proto_error(req, ERR_QUERY_INVALID_PARAMETER_VALUE,
                "Value (%.256s) for parameter %.256s is invalid.", v, p->name);
    return NULL;
}

/* Returns the container (object or array) for shape sh at slot (key of an object, or index of an
 * array) of parent, creating it; NULL when the slot holds something else. */
static struct json_object *container(struct json_object *parent, const char *key, int idx,
                                     const struct proto_model_shape *sh)
{
    json_type want = sh->type == PROTO_T_LIST ? json_type_array : json_type_object;
    struct json_object *c = NULL;
    if (key)
        json_object_object_get_ex(parent, key, &c);
    else
        c = json_object_array_get_idx(parent, (size_t)idx);
    if (c) return json_object_is_type(c, want) ? c : NULL;
    c = want == json_type_array ? json_object_new_array() : json_object_new_object();
    if (key)
        json_object_object_add(parent, key, c);
    else
        json_object_array_put_idx(parent, (size_t)idx, c);
    return c;
}

/* Places one parameter into root. With dry set, only finds whether the name leads to a value
 * the model has, creating nothing: returns 1 when it does, 0 when the name is to be ignored.
 * Otherwise returns 0 (placed) or a negative proto_err. */
static int place(struct proto_req *req, const struct proto_model_service *svc, uint32_t si,
                 struct json_object *cur, const struct proto_query_param *p, int dry)
{
    const char *seg = p->name;
    for (;;) {
        const struct proto_model_shape *sh = &svc->shapes[si];
        const char *dot = strchr(seg, '.');
        size_t n = dot ? (size_t)(dot - seg) : strlen(seg);
        const char *key = NULL;
        int idx = -1;
        uint32_t child;
        if (sh->type == PROTO_T_STRUCTURE) {
            const struct proto_model_member *m = find_member(svc, sh, seg, n);
            if (!m) return 0; /* unknown: ignored */
            key = m->name;
            child = m->shape;
        } else if (sh->type == PROTO_T_LIST) {
            if (n != 6 || memcmp(seg, "member", 6) != 0 || !dot) return 0;
            seg = dot + 1;
            dot = strchr(seg, '.');
            n = dot ? (size_t)(dot - seg) : strlen(seg);
            long v = 0;
            for (size_t i = 0; i < n && v <= QUERY_MAX_INDEX; i++) {
                if (seg[i] < '0' || seg[i] > '9') return 0;
                v = v * 10 + (seg[i] - '0');
            }
            if (n == 0) return 0;
            if (dry) v = 1; /* the real pass reports a bad index */
            if (v < 1 || v > QUERY_MAX_INDEX)
                return proto_error(req, ERR_QUERY_INVALID_PARAMETER_VALUE,
                                   "Value (%.*s) for parameter %.256s is invalid. List indexes "
                                   "run from 1 to %d.",
                                   (int)n, seg, p->name, QUERY_MAX_INDEX);
            idx = (int)v - 1;
            child = sh->key;
        } else {
            return 0; /* maps and scalars take no further names */
        }
        const struct proto_model_shape *csh = &svc->shapes[child];
        if (!dot) {
            struct json_object *val;
            if (csh->type == PROTO_T_LIST) {
                if (p->value_len) return 0; /* "Tags=" is an empty list; nothing else is */
                if (dry) return 1;
                val = json_object_new_array();
            } else if (csh->type == PROTO_T_STRUCTURE || csh->type == PROTO_T_MAP) {
                return 0;
            } else if (dry) {
                return 1;
            } else if (!(val = scalar(req, csh, p))) {
                return -(int)req->err;
            }
            if (key)
                json_object_object_add(cur, key, val);
            else
                json_object_array_put_idx(cur, (size_t)idx, val);
            return 0;
        }
        if (csh->type != PROTO_T_STRUCTURE && csh->type != PROTO_T_LIST) return 0;
        if (!dry && !(cur = container(cur, key, idx, csh))) return 0;
        si = child;
        seg = dot + 1;
    }
}

/* Drops the holes that sparse list indexes left ("member.1" and "member.3" make two items). */
static void compact(struct json_object *o)
{
    if (json_object_is_type(o, json_type_object)) {
        json_object_object_foreach(o, k, v)
        {
            (void)k;
            compact(v);
        }
    } else if (json_object_is_type(o, json_type_array)) {
        for (size_t i = json_object_array_length(o); i-- > 0;) {
            struct json_object *v = json_object_array_get_idx(o, i);
            if (!v)
                json_object_array_del_idx(o, i, 1);
            else
                compact(v);
        }
    }
}

int proto_query_build_input(struct proto_req *req, const struct proto_model_op *op,
                            const struct proto_query_param *ps, int n, struct json_object **out)
{
    struct json_object *root = json_object_new_object();
    *out = NULL;
    if (!op || op->input < 0) {
        *out = root;
        return 0;
    }
    for (int i = 0; i < n; i++) {
        if (strcmp(ps[i].name, "Action") == 0 || strcmp(ps[i].name, "Version") == 0) continue;
        /* A dry walk first, so that a name the model does not have leaves no empty container
         * behind (a "Tags.item.1" must not turn into "Tags": []). */
        if (place(req, op->svc, (uint32_t)op->input, NULL, &ps[i], 1) != 1) continue;
        int rc = place(req, op->svc, (uint32_t)op->input, root, &ps[i], 0);
        if (rc < 0) {
            json_object_put(root);
            return rc;
        }
    }
    compact(root);
    *out = root;
    return 0;
}

/* ---- answers -------------------------------------------------------------------------------- */

void proto_query_xml_value(struct proto_sb *sb, struct json_object *value)
{
    switch (json_object_get_type(value)) {
    case json_type_object: {
        json_object_object_foreach(value, k, v)
        {
            if (!v) continue;
            proto_sb_printf(sb, "<%s>", k);
            proto_query_xml_value(sb, v);
            proto_sb_printf(sb, "</%s>", k);
        }
        break;
    }
    case json_type_array:
        for (size_t i = 0; i < json_object_array_length(value); i++) {
            proto_sb_puts(sb, "<member>");
            proto_query_xml_value(sb, json_object_array_get_idx(value, i));
            proto_sb_puts(sb, "</member>");
        }
        break;
    case json_type_boolean:
        proto_sb_puts(sb, json_object_get_boolean(value) ? "true" : "false");
        break;
    case json_type_int:
        proto_sb_printf(sb, "%lld", (long long)json_object_get_int64(value));
        break;
    case json_type_double:
        proto_sb_printf(sb, "%.17g", json_object_get_double(value));
        break;
    case json_type_string:
        proto_sb_xml_escape(sb, json_object_get_string(value),
                            (size_t)json_object_get_string_len(value));
        break;
    case json_type_null:
        break;
    }
}

static const struct proto_query_param *find_param(const struct proto_query_param *ps, int n,
                                                  const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(ps[i].name, name) == 0) return &ps[i];
    return NULL;
}

int proto_query_dispatch(struct proto_req *req)
{
    const struct proto_service *svc = req->service;
    const char *src = req->http.body ? req->http.body : "";
    size_t len = req->http.body ? req->http.body_len : 0;
    if (strcmp(req->http.method, "POST") != 0 || len == 0) {
        src = req->http.query ? req->http.query : "";
        len = strlen(src);
    }
    struct proto_query_param *ps = NULL;
    int n = proto_query_parse(req->arena, src, len, &ps);
    if (n < 0)
        return proto_error(req, ERR_QUERY_MALFORMED,
                           "The request body is not a well-formed form (application/"
                           "x-www-form-urlencoded) document of UTF-8 text.");
    const struct proto_query_param *action = find_param(ps, n, "Action");
    const struct proto_query_param *version = find_param(ps, n, "Version");
    if (!action || !*action->value)
        return proto_error(req, ERR_QUERY_MISSING_ACTION, "Missing Action");
    req->operation = action->value;
    if (!version || !*version->value)
        return proto_error(req, ERR_QUERY_MISSING_PARAMETER,
                           "The request must contain the parameter Version");
    const struct proto_model_op *model_op = proto_model_find_op(svc->model, action->value);
    const struct proto_operation *op = proto_service_find_op(svc, action->value);
    if (strcmp(version->value, svc->api_version) != 0 || (!model_op && !op))
        return proto_error(req, ERR_QUERY_INVALID_ACTION,
                           "Could not find operation %.128s for version %.64s", action->value,
                           version->value);
    struct json_object *input = NULL;
    int rc = proto_query_build_input(req, model_op, ps, n, &input);
    if (rc < 0) return rc;
    json_object_put(req->input);
    req->input = input;
    if (model_op && (rc = proto_model_validate(req, model_op, input)) < 0) return rc;
    if (!op)
        return proto_error(req, ERR_NOT_IMPLEMENTED,
                           "Operation %s of %s is not implemented by codepipeline-local yet.",
                           action->value, svc->name);
    rc = op->handler(req);
    if (rc < 0) {
        if (!req->err)
            return proto_error(req, ERR_INTERNAL_FAILURE,
                               "The request processing has failed because of an unknown error, "
                               "exception or failure.");
        return rc;
    }
    req->content_type = "text/xml";
    req->status = 200;
    proto_sb_reset(&req->body);
    proto_sb_printf(&req->body, "<%sResponse xmlns=\"https://%s.amazonaws.com/doc/%s/\">", op->name,
                    svc->name, svc->api_version);
    /* An empty <XResult> for operations with nothing to say: the CLI looks for it. */
    proto_sb_printf(&req->body, "<%sResult>", op->name);
    if (req->output) proto_query_xml_value(&req->body, req->output);
    proto_sb_printf(&req->body, "</%sResult>", op->name);
    proto_sb_printf(&req->body,
                    "<ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></%sResponse>",
                    req->request_id, op->name);
    return 0;
}

/* ---- errors --------------------------------------------------------------------------------- */

/* The awsQuery form of an error that sigv4/ or the validator names as the JSON services do. */
static enum proto_err query_err(enum proto_err e)
{
    switch (e) {
    case ERR_UNRECOGNIZED_CLIENT:
        return ERR_QUERY_INVALID_CLIENT_TOKEN_ID;
    case ERR_EXPIRED_TOKEN:
        return ERR_QUERY_EXPIRED_TOKEN;
    case ERR_INVALID_SIGNATURE:
        return ERR_QUERY_SIGNATURE_DOES_NOT_MATCH;
    case ERR_INCOMPLETE_SIGNATURE:
        return ERR_QUERY_INCOMPLETE_SIGNATURE;
    case ERR_MISSING_AUTH_TOKEN:
        return ERR_QUERY_MISSING_AUTH_TOKEN;
    case ERR_VALIDATION:
        return ERR_QUERY_VALIDATION;
    case ERR_SERIALIZATION:
        return ERR_QUERY_INVALID_PARAMETER_VALUE;
    default:
        return e;
    }
}

void proto_query_error_finish(struct proto_req *req)
{
    req->err = query_err(req->err);
    proto_xml_error_begin(req, "text/xml",
                          proto_err_status(req->err) >= 500
                              ? "<ErrorResponse><Error><Type>Receiver</Type>"
                              : "<ErrorResponse><Error><Type>Sender</Type>");
    proto_sb_puts(&req->body, "</Error><RequestId>");
    proto_sb_puts(&req->body, req->request_id);
    proto_sb_puts(&req->body, "</RequestId></ErrorResponse>");
}
