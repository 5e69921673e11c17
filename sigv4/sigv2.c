/* S3 Signature Version 2 (HMAC-SHA1): "Authorization: AWS AKID:sig" and presigned Expires URLs. */
#include "sigv4/canonical.h"
#include "sigv4/encode.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define V2_MAX_BUCKET 255

/* The sub-resources S3 includes in the CanonicalizedResource (botocore's HmacV1Auth list). */
static const char *const V2_SUBRESOURCES[] = {
    "accelerate",
    "acl",
    "analytics",
    "cors",
    "defaultObjectAcl",
    "delete",
    "inventory",
    "lifecycle",
    "location",
    "logging",
    "metrics",
    "notification",
    "object-lock",
    "partNumber",
    "policy",
    "replication",
    "requestPayment",
    "response-cache-control",
    "response-content-disposition",
    "response-content-encoding",
    "response-content-language",
    "response-content-type",
    "response-expires",
    "restore",
    "select",
    "select-type",
    "storageClass",
    "tagging",
    "torrent",
    "uploadId",
    "uploads",
    "versionId",
    "versioning",
    "versions",
    "website",
};

static const char V2_SIG_MISMATCH[] = "The request signature we calculated does not match the "
                                      "signature you provided. Check your key and signing method.";
static const char V2_NO_DATE[] = "AWS authentication requires a valid Date or x-amz-date header";
static const char V2_QUERY_MISSING[] =
    "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters";

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Appends s with leading and trailing whitespace removed (Python's str.strip()). */
static void put_stripped(struct sigv4_sb *sb, const char *s)
{
    size_t n = strlen(s);
    while (n && is_space(*s)) {
        s++;
        n--;
    }
    while (n && is_space(s[n - 1]))
        n--;
    sigv4_sb_append(sb, s, n);
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Appends s percent-decoded as Python's unquote does ('+' literal, bad escapes kept). */
static void put_unquoted(struct sigv4_sb *sb, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            sigv4_sb_putc(sb, (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2])));
            i += 2;
        } else {
            sigv4_sb_putc(sb, s[i]);
        }
    }
}

static int is_subresource(const char *k, size_t n)
{
    for (size_t i = 0; i < sizeof V2_SUBRESOURCES / sizeof *V2_SUBRESOURCES; i++)
        if (strlen(V2_SUBRESOURCES[i]) == n && memcmp(V2_SUBRESOURCES[i], k, n) == 0) return 1;
    return 0;
}

/* Returns the length of the bucket named by a virtual-host Host header ("b.localhost:4566", or
 * "b." + vhost_suffix), or 0 for path-style requests. */
static size_t vhost_bucket(const struct sigv4_input *in, const char **bucket)
{
    const char *host = sigv4_header(in, "host");
    if (!host || host[0] == '[') return 0;
    size_t hl = strlen(host);
    const char *colon = strrchr(host, ':');
    if (colon) hl = (size_t)(colon - host);
    size_t bl = 0;
    if (hl > 10 && strncasecmp(host + hl - 10, ".localhost", 10) == 0) bl = hl - 10;
    const char *sfx = in->s3_vhost_suffix;
    size_t sl = sfx ? strlen(sfx) : 0;
    if (!bl && sl && hl > sl + 1 && host[hl - sl - 1] == '.' &&
        strncasecmp(host + hl - sl, sfx, sl) == 0)
        bl = hl - sl - 1;
    if (bl > V2_MAX_BUCKET) return 0;
    *bucket = host;
    return bl;
}

struct subres {
    const char *key, *val; /* raw; val NULL when the parameter has no '=' */
    size_t klen, vlen;
};

static int subres_cmp(const struct subres *a, const struct subres *b)
{
    size_t n = a->klen < b->klen ? a->klen : b->klen;
    int c = memcmp(a->key, b->key, n);
    return c ? c : (a->klen > b->klen) - (a->klen < b->klen);
}

/* Whether in addresses only a bucket, path-style, without the trailing '/' ("/bucket"). */
static int bare_bucket_path(const struct sigv4_input *in)
{
    const char *bucket = NULL;
    const char *p = in->path ? in->path : "";
    return !vhost_bucket(in, &bucket) && p[0] == '/' && p[1] && !strchr(p + 1, '/');
}

void sigv4_v2_resource(struct sigv4_sb *sb, const struct sigv4_input *in, int bucket_slash)
{
    const char *bucket = NULL;
    size_t bl = vhost_bucket(in, &bucket);
    if (bl) {
        sigv4_sb_putc(sb, '/');
        for (size_t i = 0; i < bl; i++)
            sigv4_sb_putc(sb, (char)tolower((unsigned char)bucket[i]));
    }
    sigv4_sb_puts(sb, in->path && *in->path ? in->path : "/");
    if (bucket_slash && bare_bucket_path(in)) sigv4_sb_putc(sb, '/');

    const char *q = in->query ? in->query : "";
    size_t cap = 1;
    for (const char *c = q; *c; c++)
        if (*c == '&') cap++;
    struct subres *v = calloc(cap, sizeof *v);
    if (!v) abort();
    size_t n = 0;
    for (const char *p = q; *p;) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        size_t kl = eq ? (size_t)(eq - p) : len;
        if (is_subresource(p, kl) && n < cap) {
            struct subres s = {p, eq ? eq + 1 : NULL, kl, eq ? len - kl - 1 : 0};
            size_t j = n++; /* stable insertion by key */
            while (j > 0 && subres_cmp(&v[j - 1], &s) > 0) {
                v[j] = v[j - 1];
                j--;
            }
            v[j] = s;
        }
        if (!amp) break;
        p = amp + 1;
    }
    for (size_t i = 0; i < n; i++) {
        sigv4_sb_putc(sb, i ? '&' : '?');
        sigv4_sb_append(sb, v[i].key, v[i].klen);
        if (v[i].val) {
            sigv4_sb_putc(sb, '=');
            put_unquoted(sb, v[i].val, v[i].vlen);
        }
    }
    free(v);
}

struct amz_header {
    const char *name, *value;
    size_t order;
};

static int amz_cmp(const void *x, const void *y)
{
    const struct amz_header *a = x, *b = y;
    int c = strcmp(a->name, b->name);
    if (c) return c;
    return (a->order > b->order) - (a->order < b->order);
}

/* Appends the CanonicalizedAmzHeaders lines: every x-amz-* header (and, for presigned URLs,
 * x-amz-* query parameters not sent as headers), lower-case, sorted, repeated values joined by
 * ',' and each value stripped. Names are lower-case already (the server lower-cases them). */
static void put_amz_headers(struct sigv4_sb *sb, const struct sigv4_input *in,
                            const struct sigv4_qparam *ps, size_t nps, int presigned)
{
    struct amz_header *v = calloc(in->n_headers + nps + 1, sizeof *v);
    if (!v) abort();
    size_t n = 0;
    for (size_t i = 0; i < in->n_headers; i++) {
        const char *nm = in->headers[i].name;
        if (nm && strncasecmp(nm, "x-amz-", 6) == 0) {
            v[n] = (struct amz_header){nm, in->headers[i].value ? in->headers[i].value : "", n};
            n++;
        }
    }
    for (size_t i = 0; presigned && i < nps; i++) {
        if (strncmp(ps[i].key, "x-amz-", 6) != 0 || sigv4_header(in, ps[i].key)) continue;
        v[n] = (struct amz_header){ps[i].key, ps[i].value, n};
        n++;
    }
    qsort(v, n, sizeof *v, amz_cmp);
    for (size_t i = 0; i < n; i++) {
        if (i && strcasecmp(v[i].name, v[i - 1].name) == 0) {
            sigv4_sb_putc(sb, ',');
        } else {
            if (i) sigv4_sb_putc(sb, '\n');
            for (const char *c = v[i].name; *c; c++)
                sigv4_sb_putc(sb, (char)tolower((unsigned char)*c));
            sigv4_sb_putc(sb, ':');
        }
        put_stripped(sb, v[i].value);
    }
    if (n) sigv4_sb_putc(sb, '\n');
    free(v);
}

/* A standard header line's value: the header, or for presigned URLs the query parameter. */
static const char *std_value(const struct sigv4_input *in, const struct sigv4_qparam *ps,
                             size_t nps, int presigned, const char *name)
{
    const char *h = sigv4_header(in, name);
    if (h) return h;
    const struct sigv4_qparam *p = presigned ? sigv4_param(ps, nps, name, 0) : NULL;
    return p ? p->value : "";
}

/* Appends the StringToSign with date_line as its fourth line. */
static void string_to_sign(struct sigv4_sb *sb, const struct sigv4_input *in,
                           const struct sigv4_qparam *ps, size_t nps, int presigned,
                           const char *date_line, int bucket_slash)
{
    for (const char *c = in->method ? in->method : ""; *c; c++)
        sigv4_sb_putc(sb, (char)toupper((unsigned char)*c));
    sigv4_sb_putc(sb, '\n');
    put_stripped(sb, std_value(in, ps, nps, presigned, "content-md5"));
    sigv4_sb_putc(sb, '\n');
    put_stripped(sb, std_value(in, ps, nps, presigned, "content-type"));
    sigv4_sb_putc(sb, '\n');
    put_stripped(sb, date_line);
    sigv4_sb_putc(sb, '\n');
    put_amz_headers(sb, in, ps, nps, presigned);
    sigv4_v2_resource(sb, in, bucket_slash);
}

void sigv4_v2_sign(const char *secret, const char *data, size_t len, char out[29])
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    HMAC(EVP_sha1(), secret, (int)strlen(secret), (const unsigned char *)data, len, mac, &maclen);
    sigv4_base64(mac, maclen, out); /* 20 bytes -> 28 chars + NUL */
    OPENSSL_cleanse(mac, sizeof mac);
}

/* Parses an HTTP date (RFC 1123, RFC 850, asctime, or the SigV4 basic ISO form). Returns 0 or -1.
 */
static int parse_http_date(const char *v, time_t *t)
{
    static const char *const fmts[] = {"%a, %d %b %Y %H:%M:%S GMT", "%a, %d %b %Y %H:%M:%S +0000",
                                       "%A, %d-%b-%y %H:%M:%S GMT", "%a %b %d %H:%M:%S %Y"};
    if (sigv4_parse_amz_date(v, t) == 0) return 0;
    for (size_t i = 0; i < sizeof fmts / sizeof *fmts; i++) {
        struct tm tm = {0};
        const char *end = strptime(v, fmts[i], &tm);
        if (!end || *end) continue;
        *t = timegm(&tm);
        if (*t != (time_t)-1) return 0;
    }
    return -1;
}

/* Splits "AWS AKID:sig" into its two parts (malloc'd). Returns 0 or a negative error. */
static int parse_header(const char *authz, char **akid, char **sig, struct sigv4_failure *fail)
{
    const char *p = authz;
    while (*p == ' ' || *p == '\t')
        p++;
    p += 4; /* "AWS " */
    const char *colon = strchr(p, ':');
    if (strpbrk(p, " \t") || !colon) {
        sigv4_fail_detail(fail, "ArgumentName", "Authorization", 13, 0);
        sigv4_fail_detail(fail, "ArgumentValue", authz, strlen(authz), 0);
        if (strpbrk(p, " \t"))
            return sigv4_fail(
                fail, SIGV4_F_UNSUPPORTED_AUTH,
                "Authorization header is invalid -- one and only one ' ' (space) required");
        return sigv4_fail(
            fail, SIGV4_F_UNSUPPORTED_AUTH,
            "AWS authorization header is invalid.  Expected AwsAccessKeyId:signature");
    }
    *akid = strndup(p, (size_t)(colon - p));
    *sig = strdup(colon + 1);
    if (!*akid || !*sig) abort();
    return 0;
}

int sigv4_verify_v2(const sigv4_creds *creds, const struct sigv4_input *in, const char *authz,
                    struct sigv4_auth *out, struct sigv4_failure *fail)
{
    int rc = 0;
    char *akid = NULL, *sig = NULL;
    struct sigv4_qparam *ps = NULL;
    size_t nps = sigv4_query_parse(in->query ? in->query : "", &ps);
    struct sigv4_sb sts = SIGV4_SB_INIT;
    const int presigned = authz == NULL;
    fail->presigned = presigned;
    char now_iso[21];
    sigv4_iso_time(in->now, now_iso);
    time_t t_req = in->now;
    const char *date_line = "";
    const char *xdate = sigv4_header(in, "x-amz-date");

    /* 1. syntax and time */
    if (presigned) {
        const struct sigv4_qparam *qa = sigv4_param(ps, nps, "AWSAccessKeyId", 0);
        const struct sigv4_qparam *qs = sigv4_param(ps, nps, "Signature", 0);
        const struct sigv4_qparam *qe = sigv4_param(ps, nps, "Expires", 0);
        if (!qa || !qs || !qe) {
            rc = sigv4_fail(fail, SIGV4_F_INCOMPLETE, "%s", V2_QUERY_MISSING);
            goto out;
        }
        const char *e = qe->value;
        int ok = *e && strlen(e) <= 18;
        for (const char *c = e; ok && *c; c++)
            if (!isdigit((unsigned char)*c)) ok = 0;
        if (!ok) {
            rc = sigv4_fail(fail, SIGV4_F_INCOMPLETE,
                            "Invalid date (should be seconds since epoch): %s", e);
            goto out;
        }
        long long exp = strtoll(e, NULL, 10);
        if (exp < (long long)in->now) {
            char exp_iso[21];
            sigv4_iso_time((time_t)exp, exp_iso);
            sigv4_fail_detail(fail, "Expires", exp_iso, strlen(exp_iso), 0);
            sigv4_fail_detail(fail, "ServerTime", now_iso, strlen(now_iso), 0);
            rc = sigv4_fail(fail, SIGV4_F_EXPIRED, "Request has expired");
            goto out;
        }
        akid = strdup(qa->value);
        sig = strdup(qs->value);
        if (!akid || !sig) abort();
        date_line = e;
    } else {
        rc = parse_header(authz, &akid, &sig, fail);
        if (rc) goto out;
        const char *hdate = sigv4_header(in, "date");
        const char *used = xdate ? xdate : hdate;
        if (!used || parse_http_date(used, &t_req)) {
            rc = sigv4_fail(fail, SIGV4_F_INCOMPLETE, "%s", V2_NO_DATE);
            goto out;
        }
        long skew = in->clock_skew_seconds > 0 ? in->clock_skew_seconds : 900;
        if ((long long)t_req < (long long)in->now - skew ||
            (long long)t_req > (long long)in->now + skew) {
            char ms[24];
            int n = snprintf(ms, sizeof ms, "%ld", skew * 1000);
            sigv4_fail_detail(fail, "RequestTime", used, strlen(used), 0);
            sigv4_fail_detail(fail, "ServerTime", now_iso, strlen(now_iso), 0);
            sigv4_fail_detail(fail, "MaxAllowedSkewMilliseconds", ms, (size_t)n, 0);
            rc = sigv4_fail(
                fail, SIGV4_F_SKEWED,
                "The difference between the request time and the current time is too large.");
            goto out;
        }
        date_line = hdate ? hdate : "";
    }

    /* 2. access key */
    const char *secret = NULL, *account = NULL;
    if (strlen(akid) >= sizeof out->access_key ||
        !sigv4_creds_lookup(creds, akid, &secret, &account)) {
        sigv4_fail_detail(fail, "AWSAccessKeyId", akid, strlen(akid), 0);
        rc = sigv4_fail(fail, SIGV4_F_UNKNOWN_KEY,
                        "The AWS Access Key Id you provided does not exist in our records.");
        goto out;
    }

    /* 3. signature. S3's StringToSign has an empty Date line when x-amz-date is sent and ends a
     * bucket's resource with '/' ("/bucket/", as botocore signs it); clients also sign the Date
     * header alongside x-amz-date (botocore) and the bare "/bucket" path: all are accepted, S3's
     * form is the one reported. */
    char want[29];
    int matched = 0;
    const char *s3_date = xdate ? "" : date_line;
    const char *dates[2] = {s3_date, date_line};
    int ndates = (!presigned && strcmp(s3_date, date_line) != 0) ? 2 : 1;
    int nslash = bare_bucket_path(in) ? 2 : 1;
    for (int d = 0; d < ndates && !matched; d++)
        for (int sl = 0; sl < nslash && !matched; sl++) {
            sigv4_sb_reset(&sts);
            string_to_sign(&sts, in, ps, nps, presigned, dates[d], sl == 0);
            sigv4_v2_sign(secret, sts.buf ? sts.buf : "", sts.len, want);
            matched = strlen(sig) == 28 && CRYPTO_memcmp(want, sig, 28) == 0;
        }
    if (!matched && ndates * nslash > 1) { /* report S3's form */
        sigv4_sb_reset(&sts);
        string_to_sign(&sts, in, ps, nps, presigned, s3_date, 1);
    }
    if (!matched) {
        const char *sb = sigv4_sb_str(&sts);
        sigv4_fail_detail(fail, "AWSAccessKeyId", akid, strlen(akid), 0);
        sigv4_fail_detail(fail, "StringToSign", sb, sts.len, 0);
        sigv4_fail_detail(fail, "SignatureProvided", sig, strlen(sig), 0);
        sigv4_fail_detail(fail, "StringToSignBytes", sb, sts.len, 1);
        rc = sigv4_fail(fail, SIGV4_F_SIGNATURE_MISMATCH, "%s", V2_SIG_MISMATCH);
        goto out;
    }

    sigv4_copy_str(out->access_key, sizeof out->access_key, akid);
    sigv4_copy_str(out->account_id, sizeof out->account_id, account);
    out->region[0] = '\0';
    sigv4_copy_str(out->service, sizeof out->service, "s3");
    sigv4_format_amz_date(t_req, out->amz_date);
    sigv4_copy_str(out->signature, sizeof out->signature, sig);
    out->presigned = presigned;
    out->sigv2 = 1;
    out->payload = SIGV4_PAYLOAD_UNSIGNED;
    rc = 0;
out:
    if (rc && !fail->message) fail->message = strdup("out of memory");
    free(akid);
    free(sig);
    sigv4_qparams_free(ps, nps);
    sigv4_sb_free(&sts);
    return rc;
}
