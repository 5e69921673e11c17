/* Shared helpers of the sigv4 tests. */
#include "sigv4/tests/helpers.h"

#include <criterion/criterion.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *th_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    struct sigv4_sb sb = SIGV4_SB_INIT;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        sigv4_sb_append(&sb, buf, n);
    fclose(f);
    if (!sb.buf) sigv4_sb_append(&sb, "", 0);
    *len = sb.len;
    return sb.buf;
}

int th_parse_request(const char *raw, size_t n, struct th_request *r)
{
    memset(r, 0, sizeof *r);
    const char *end = raw + n;
    const char *eol = memchr(raw, '\n', n);
    if (!eol) eol = end;
    const char *sp = memchr(raw, ' ', (size_t)(eol - raw));
    if (!sp) return -1;
    const char *http = NULL;
    for (const char *p = sp; p + 6 <= eol; p++)
        if (memcmp(p, " HTTP/", 6) == 0) http = p;
    if (!http) return -1;
    r->method = strndup(raw, (size_t)(sp - raw));
    const char *target = sp + 1;
    const char *q = memchr(target, '?', (size_t)(http - target));
    r->path = strndup(target, (size_t)((q ? q : http) - target));
    r->query = q ? strndup(q + 1, (size_t)(http - q - 1)) : strdup("");
    const char *p = eol < end ? eol + 1 : end;
    while (p < end) {
        const char *le = memchr(p, '\n', (size_t)(end - p));
        if (!le) le = end;
        if (le == p) { /* blank line: the body follows */
            p = le + 1;
            break;
        }
        if ((*p == ' ' || *p == '\t') && r->n_headers) {
            struct sigv4_header *h = &r->headers[r->n_headers - 1];
            char *v = NULL;
            if (asprintf(&v, "%s %.*s", h->value, (int)(le - p), p) < 0) return -1;
            free((char *)h->value);
            h->value = v;
        } else {
            const char *colon = memchr(p, ':', (size_t)(le - p));
            if (!colon || r->n_headers == 64) return -1;
            char *name = strndup(p, (size_t)(colon - p));
            for (char *c = name; *c; c++)
                *c = (char)tolower((unsigned char)*c);
            r->headers[r->n_headers].name = name;
            r->headers[r->n_headers].value = strndup(colon + 1, (size_t)(le - colon - 1));
            r->n_headers++;
        }
        p = le < end ? le + 1 : end;
    }
    if (p > end) p = end;
    r->body_len = (size_t)(end - p);
    r->body = malloc(r->body_len + 1);
    memcpy(r->body, p, r->body_len);
    r->body[r->body_len] = '\0';
    return 0;
}

void th_request_free(struct th_request *r)
{
    free(r->method);
    free(r->path);
    free(r->query);
    for (size_t i = 0; i < r->n_headers; i++) {
        free((char *)r->headers[i].name);
        free((char *)r->headers[i].value);
    }
    free(r->body);
}

static const char *th_header(struct th_request *r, const char *name)
{
    for (size_t i = 0; i < r->n_headers; i++)
        if (strcmp(r->headers[i].name, name) == 0) return r->headers[i].value;
    return NULL;
}

static char *authz_param(const char *authz, const char *key)
{
    const char *p = strstr(authz, key);
    if (!p) return NULL;
    p += strlen(key);
    return strndup(p, strcspn(p, ", "));
}

static char *query_param(const char *query, const char *key)
{
    struct sigv4_qparam *ps;
    size_t n = sigv4_query_parse(query, &ps);
    char *v = NULL;
    for (size_t i = 0; i < n; i++)
        if (strcmp(ps[i].key, key) == 0) v = strdup(ps[i].value);
    sigv4_qparams_free(ps, n);
    return v;
}

char *th_signed_headers(struct th_request *r)
{
    const char *a = th_header(r, "authorization");
    return a ? authz_param(a, "SignedHeaders=") : query_param(r->query, "X-Amz-SignedHeaders");
}

const char *th_provided_signature(struct th_request *r)
{
    const char *a = th_header(r, "authorization");
    char *s = a ? authz_param(a, "Signature=") : query_param(r->query, "X-Amz-Signature");
    snprintf(r->sig, sizeof r->sig, "%s", s ? s : "");
    free(s);
    return r->sig;
}

time_t th_iso_to_time(const char *iso)
{
    struct tm tm = {0};
    strptime(iso, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return timegm(&tm);
}

int th_sink_emit(void *ctx, const char *data, size_t len)
{
    struct th_sink *s = ctx;
    for (size_t i = 0; i < len; i++)
        if (data[i] != 'a') s->non_a++;
    s->total += len;
    return 0;
}

const char *th_sign(const char *secret, const char *date, const char *region, const char *service,
                    const char *method, const char *path, enum sigv4_path_mode mode,
                    const char *query, int qflags, const struct sigv4_header *h, size_t n,
                    const char *signed_headers, const char *payload)
{
    static char sig[65];
    struct sigv4_sb creq = SIGV4_SB_INIT, sts = SIGV4_SB_INIT;
    char scope[160];
    snprintf(scope, sizeof scope, "%.8s/%s/%s/aws4_request", date, region, service);
    sigv4_canonical_request(&creq, method, path, mode, query, qflags, h, n, signed_headers,
                            payload);
    sigv4_string_to_sign(&sts, date, scope, sigv4_sb_str(&creq), creq.len);
    char d8[9];
    snprintf(d8, sizeof d8, "%.8s", date);
    unsigned char key[32];
    sigv4_signing_key(secret, d8, region, service, key);
    sigv4_hmac_hex(key, sts.buf, sts.len, sig);
    sigv4_sb_free(&creq);
    sigv4_sb_free(&sts);
    return sig;
}

void th_details(const struct sigv4_failure *f, struct sigv4_sb *out)
{
    sigv4_sb_reset(out);
    for (size_t i = 0; i < f->n_details; i++) {
        const struct sigv4_detail *d = &f->details[i];
        sigv4_sb_printf(out, "<%s>", d->name);
        for (size_t j = 0; d->value && j < d->len; j++) {
            if (d->hex)
                sigv4_sb_printf(out, j + 1 < d->len ? "%02x " : "%02x", (unsigned char)d->value[j]);
            else
                sigv4_sb_putc(out, d->value[j]);
        }
        sigv4_sb_printf(out, "</%s>", d->name);
    }
}

const char *th_kind_name(enum sigv4_fail_kind kind)
{
    static const char *const names[] = {
        "SIGV4_OK",
        "SIGV4_F_MISSING_AUTH",
        "SIGV4_F_UNSUPPORTED_AUTH",
        "SIGV4_F_AMBIGUOUS_AUTH",
        "SIGV4_F_INCOMPLETE",
        "SIGV4_F_MALFORMED",
        "SIGV4_F_NOT_IMPLEMENTED",
        "SIGV4_F_BAD_SCOPE",
        "SIGV4_F_EXPIRED",
        "SIGV4_F_SKEWED",
        "SIGV4_F_MISSING_PAYLOAD_HASH",
        "SIGV4_F_BAD_PAYLOAD_HASH",
        "SIGV4_F_HEADERS_NOT_SIGNED",
        "SIGV4_F_UNKNOWN_KEY",
        "SIGV4_F_BAD_TOKEN",
        "SIGV4_F_EXPIRED_TOKEN",
        "SIGV4_F_SIGNATURE_MISMATCH",
        "SIGV4_F_BAD_CHUNK",
        "SIGV4_F_INTERNAL",
    };
    return (size_t)kind < sizeof names / sizeof names[0] ? names[kind] : "?";
}

enum sigv4_fail_kind th_verify(const sigv4_creds *creds, struct sigv4_input *in,
                               const struct sigv4_header *h, size_t n, struct sigv4_auth *out,
                               struct sigv4_failure *fail, const char **msg, struct sigv4_sb *extra)
{
    in->headers = h;
    in->n_headers = n;
    sigv4_failure_free(fail);
    int rc = sigv4_verify(creds, in, out, fail);
    *msg = fail->message;
    th_details(fail, extra);
    cr_assert_eq(rc == 0, fail->kind == SIGV4_OK, "returned %d with kind %s", rc,
                 th_kind_name(fail->kind));
    return fail->kind;
}
