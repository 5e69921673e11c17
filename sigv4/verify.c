/* SigV4 verification of header and presigned-query auth, with AWS's errors in AWS's check order. */
#include "sigv4/canonical.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define MAX_EXPIRES  604800

static const char SIG_MISMATCH_JSON[] =
    "The request signature we calculated does not match the signature you provided. Check your AWS "
    "Secret Access Key and signing method. Consult the service documentation for details.";
static const char SIG_MISMATCH_S3[] =
    "The request signature we calculated does not match the signature "
    "you provided. Check your key and signing method.";
static const char S3_MALFORMED[] =
    "The authorization header is malformed; the authorization header "
    "requires three components: Credential, SignedHeaders, and Signature.";
static const char S3_BAD_SHA256[] =
    "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, "
    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, "
    "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER or "
    "a "
    "valid sha256 value.";
static const char S3_QUERY_MISSING[] =
    "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, "
    "X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.";
static const char S3_NO_DATE[] = "AWS authentication requires a valid Date or x-amz-date header";

/* Whether name (case-insensitive) is listed in the ';'-separated signed header list. */
static int is_signed(const char *list, const char *name)
{
    size_t nl = strlen(name);
    const char *p = list;
    while (*p) {
        const char *semi = strchr(p, ';');
        size_t len = semi ? (size_t)(semi - p) : strlen(p);
        if (len == nl && strncasecmp(p, name, nl) == 0) return 1;
        if (!semi) break;
        p = semi + 1;
    }
    return 0;
}

static int valid_region(const char *r)
{
    size_t n = strlen(r);
    if (n == 0 || n >= 64) return 0;
    for (size_t i = 0; i < n; i++)
        if (!(islower((unsigned char)r[i]) || isdigit((unsigned char)r[i]) || r[i] == '-'))
            return 0;
    return 1;
}

/* The parts of an auth, header or query form, before any check of their values. */
struct auth_parts {
    int presigned;
    const char *authz; /* header form: the Authorization value */
    char *algorithm;
    char *credential;
    char *signed_headers;
    char *signature;
    char *date;           /* X-Amz-Date (raw) or the Date header converted */
    const char *date_raw; /* as sent, for messages */
    char *expires;        /* presigned: X-Amz-Expires or NULL */
    char *cred_parts[5];  /* split credential */
};

static void parts_free(struct auth_parts *a)
{
    free(a->algorithm);
    free(a->credential);
    free(a->signed_headers);
    free(a->signature);
    free(a->date);
    free(a->expires);
    for (int i = 0; i < 5; i++)
        free(a->cred_parts[i]);
}

/* Splits credential into exactly 5 '/'-separated elements. Returns 0 or -1. */
static int split_credential(const char *cred, char *parts[5])
{
    int n = 0;
    const char *p = cred;
    for (;;) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        if (n == 5) return -1;
        parts[n] = strndup(p, len);
        if (!parts[n]) abort();
        n++;
        if (!slash) break;
        p = slash + 1;
    }
    return n == 5 ? 0 : -1;
}

/* Splits a->credential into a->cred_parts: returns 0, or -1 with the refusal of a Credential that
 * is not five slash-delimited parts, in header and query auth alike (S3's message opens with
 * s3_where, the part of the request it came from). */
static int check_credential(const struct sigv4_input *in, struct auth_parts *a,
                            struct sigv4_failure *fail, const char *s3_where)
{
    if (!split_credential(a->credential, a->cred_parts)) return 0;
    if (in->is_s3)
        return sigv4_fail(fail, SIGV4_F_MALFORMED,
                          "%s; the Credential is mal-formed; "
                          "expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".",
                          s3_where);
    return sigv4_fail(fail, SIGV4_F_MALFORMED,
                      "Credential must have exactly 5 slash-delimited elements, e.g. "
                      "keyid/date/region/service/term, got '%s'",
                      a->credential);
}

/* Converts an RFC 1123 Date header into basic ISO format. Returns 0 or -1. */
static int date_header_to_amz(const char *v, char out[17])
{
    struct tm tm = {0};
    const char *end = strptime(v, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (!end || *end) return -1;
    time_t t = timegm(&tm);
    if (t == (time_t)-1) return -1;
    sigv4_format_amz_date(t, out);
    return 0;
}

static int parse_header_auth(const struct sigv4_input *in, const char *authz, struct auth_parts *a,
                             struct sigv4_failure *fail)
{
    const char *p = authz;
    while (*p == ' ' || *p == '\t')
        p++;
    if (strncmp(p, "AWS4-", 5) != 0) {
        if (!in->is_s3)
            return sigv4_fail(fail, SIGV4_F_UNSUPPORTED_AUTH,
                              "Request is missing Authentication Token");
        sigv4_fail_detail(fail, "ArgumentName", "Authorization", 13, 0);
        sigv4_fail_detail(fail, "ArgumentValue", authz, strlen(authz), 0);
        return sigv4_fail(fail, SIGV4_F_UNSUPPORTED_AUTH, "Unsupported Authorization Type");
    }
    const char *q = p;
    while (*q && *q != ' ' && *q != '\t' && *q != ',')
        q++;
    a->algorithm = strndup(p, (size_t)(q - p));
    if (!a->algorithm) abort();
    p = q;
    /* key=value tokens separated by ',' and/or whitespace */
    while (*p) {
        while (*p == ',' || *p == ' ' || *p == '\t')
            p++;
        if (!*p) break;
        q = p;
        while (*q && *q != ',' && *q != ' ' && *q != '\t')
            q++;
        size_t len = (size_t)(q - p);
        const char *eq = memchr(p, '=', len);
        if (!eq) {
            if (in->is_s3) return sigv4_fail(fail, SIGV4_F_MALFORMED, "%s", S3_MALFORMED);
            return sigv4_fail(
                fail, SIGV4_F_MALFORMED,
                "'%.*s' not a valid key=value pair (missing equal-sign) in Authorization "
                "header: '%s'.",
                (int)len, p, authz);
        }
        size_t kl = (size_t)(eq - p);
        char **slot = NULL;
        if (kl == 10 && strncmp(p, "Credential", 10) == 0)
            slot = &a->credential;
        else if (kl == 13 && strncmp(p, "SignedHeaders", 13) == 0)
            slot = &a->signed_headers;
        else if (kl == 9 && strncmp(p, "Signature", 9) == 0)
            slot = &a->signature;
        if (slot && !*slot) {
            *slot = strndup(eq + 1, len - kl - 1);
            if (!*slot) abort();
        }
        p = q;
    }
    const char *xdate = sigv4_header(in, "x-amz-date");
    const char *hdate = sigv4_header(in, "date");
    if (!a->credential || !a->signature || !a->signed_headers || (!xdate && !hdate)) {
        if (in->is_s3) {
            if (a->credential && a->signature && a->signed_headers)
                return sigv4_fail(fail, SIGV4_F_INCOMPLETE, "%s", S3_NO_DATE);
            return sigv4_fail(fail, SIGV4_F_MALFORMED, "%s", S3_MALFORMED);
        }
        return sigv4_fail(
            fail, SIGV4_F_INCOMPLETE, "%s%s%s%sAuthorization=%s",
            a->credential ? "" : "Authorization header requires 'Credential' parameter. ",
            a->signature ? "" : "Authorization header requires 'Signature' parameter. ",
            a->signed_headers ? "" : "Authorization header requires 'SignedHeaders' parameter. ",
            (xdate || hdate) ? ""
                             : "Authorization header requires existence of either a "
                               "'X-Amz-Date' or a 'Date' header. ",
            authz);
    }
    if (check_credential(in, a, fail, "The authorization header is malformed")) return -1;
    time_t t;
    if (xdate) {
        a->date_raw = xdate;
        if (sigv4_parse_amz_date(xdate, &t) == 0) a->date = strdup(xdate);
    } else {
        a->date_raw = hdate;
        char buf[17];
        if (date_header_to_amz(hdate, buf) == 0) a->date = strdup(buf);
    }
    if (!a->date) {
        if (in->is_s3) return sigv4_fail(fail, SIGV4_F_INCOMPLETE, "%s", S3_NO_DATE);
        return sigv4_fail(fail, SIGV4_F_INCOMPLETE,
                          "Date must be in ISO-8601 'basic format'. Got '%s'. See "
                          "http://en.wikipedia.org/wiki/ISO_8601",
                          a->date_raw);
    }
    return 0;
}

static char *dup_param(const struct sigv4_qparam *p)
{
    if (!p) return NULL;
    char *s = strdup(p->value);
    if (!s) abort();
    return s;
}

static int parse_query_auth(const struct sigv4_input *in, const struct sigv4_qparam *ps, size_t n,
                            struct auth_parts *a, struct sigv4_failure *fail)
{
    a->presigned = 1;
    a->algorithm = dup_param(sigv4_param(ps, n, "X-Amz-Algorithm", 0));
    a->credential = dup_param(sigv4_param(ps, n, "X-Amz-Credential", 0));
    a->signature = dup_param(sigv4_param(ps, n, "X-Amz-Signature", 0));
    a->signed_headers = dup_param(sigv4_param(ps, n, "X-Amz-SignedHeaders", 0));
    a->date = dup_param(sigv4_param(ps, n, "X-Amz-Date", 0));
    a->expires = dup_param(sigv4_param(ps, n, "X-Amz-Expires", 0));
    a->date_raw = a->date;
    if (!a->algorithm || !a->credential || !a->signature || !a->signed_headers || !a->date ||
        (in->is_s3 && !a->expires)) {
        if (in->is_s3) return sigv4_fail(fail, SIGV4_F_INCOMPLETE, "%s", S3_QUERY_MISSING);
        return sigv4_fail(
            fail, SIGV4_F_INCOMPLETE, "%s%s%s%s%sRe-examine the query-string parameters.",
            a->algorithm ? "" : "AWS query-string parameters must include 'X-Amz-Algorithm'. ",
            a->credential ? "" : "AWS query-string parameters must include 'X-Amz-Credential'. ",
            a->signature ? "" : "AWS query-string parameters must include 'X-Amz-Signature'. ",
            a->signed_headers ? ""
                              : "AWS query-string parameters must include 'X-Amz-SignedHeaders'. ",
            a->date ? "" : "AWS query-string parameters must include 'X-Amz-Date'. ");
    }
    if (strcmp(a->algorithm, "AWS4-HMAC-SHA256") != 0) {
        if (in->is_s3)
            return sigv4_fail(fail, SIGV4_F_MALFORMED,
                              "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"");
        return sigv4_fail(fail, SIGV4_F_MALFORMED,
                          "Unsupported AWS 'algorithm': '%s' (only AWS4-HMAC-SHA256 for now). ",
                          a->algorithm);
    }
    if (check_credential(in, a, fail, "Error parsing the X-Amz-Credential parameter")) return -1;
    time_t t;
    if (sigv4_parse_amz_date(a->date, &t)) {
        if (in->is_s3)
            return sigv4_fail(
                fail, SIGV4_F_MALFORMED,
                "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"");
        return sigv4_fail(fail, SIGV4_F_MALFORMED,
                          "Date must be in ISO-8601 'basic format'. Got '%s'. See "
                          "http://en.wikipedia.org/wiki/ISO_8601",
                          a->date);
    }
    if (a->expires) {
        const char *s = a->expires;
        int neg = (*s == '-');
        if (neg) s++;
        int ok = *s != '\0' && strlen(s) <= 18;
        for (const char *c = s; ok && *c; c++)
            if (!isdigit((unsigned char)*c)) ok = 0;
        if (!ok) return sigv4_fail(fail, SIGV4_F_MALFORMED, "X-Amz-Expires should be a number");
        if (neg && strtoll(s, NULL, 10) != 0)
            return sigv4_fail(fail, SIGV4_F_MALFORMED, "X-Amz-Expires must be non-negative");
        if (strtoll(s, NULL, 10) > MAX_EXPIRES)
            return sigv4_fail(
                fail, SIGV4_F_MALFORMED,
                "X-Amz-Expires must be less than a week (in seconds); that is, the given "
                "X-Amz-Expires must be less than 604800 seconds");
    }
    return 0;
}

/* S3 rejects requests carrying x-amz-* headers of these families that were not signed. */
static int check_s3_unsigned(const struct sigv4_input *in, const char *signed_headers,
                             struct sigv4_failure *fail)
{
    struct sigv4_sb names = SIGV4_SB_INIT;
    int host = sigv4_header(in, "host") != NULL;
    if (host && !is_signed(signed_headers, "host")) sigv4_sb_puts(&names, "host");
    for (size_t i = 0; i < in->n_headers; i++) {
        const char *nm = in->headers[i].name;
        if (!nm) continue;
        if (strncasecmp(nm, "x-amz-meta-", 11) && strcasecmp(nm, "x-amz-acl") &&
            strncasecmp(nm, "x-amz-grant-", 12) && strncasecmp(nm, "x-amz-copy-", 11))
            continue;
        if (is_signed(signed_headers, nm)) continue;
        if (names.len) sigv4_sb_putc(&names, ',');
        sigv4_sb_puts(&names, nm);
    }
    int rc = 0;
    if (names.len) {
        sigv4_fail_detail(fail, "HeadersNotSigned", names.buf, names.len, 0);
        rc = sigv4_fail(fail, SIGV4_F_HEADERS_NOT_SIGNED,
                        "There were headers present in the request which were not signed");
    }
    sigv4_sb_free(&names);
    return rc;
}

static int is_hex64(const char *s)
{
    if (strlen(s) != 64) return 0;
    for (int i = 0; i < 64; i++)
        if (!isxdigit((unsigned char)s[i])) return 0;
    return 1;
}

/* Classifies an S3 payload-hash value. Returns 0 or a negative error. */
static int classify_payload(const char *v, struct sigv4_auth *out, struct sigv4_failure *fail)
{
    if (is_hex64(v)) {
        out->payload = SIGV4_PAYLOAD_HASH;
        for (int i = 0; i < 64; i++)
            out->payload_hash[i] = (char)tolower((unsigned char)v[i]);
        out->payload_hash[64] = '\0';
        return 0;
    }
    if (strcmp(v, "UNSIGNED-PAYLOAD") == 0)
        out->payload = SIGV4_PAYLOAD_UNSIGNED;
    else if (strcmp(v, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD") == 0)
        out->payload = SIGV4_PAYLOAD_STREAMING_SIGNED;
    else if (strcmp(v, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER") == 0)
        out->payload = SIGV4_PAYLOAD_STREAMING_SIGNED_TRAILER;
    else if (strcmp(v, "STREAMING-UNSIGNED-PAYLOAD-TRAILER") == 0)
        out->payload = SIGV4_PAYLOAD_STREAMING_UNSIGNED_TRAILER;
    else if (strcmp(v, "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD") == 0 ||
             strcmp(v, "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER") == 0) {
        sigv4_fail_detail(fail, "Header", "x-amz-content-sha256", 20, 0);
        return sigv4_fail(fail, SIGV4_F_NOT_IMPLEMENTED,
                          "A header you provided implies functionality that is not implemented");
    } else {
        sigv4_fail_detail(fail, "ArgumentName", "x-amz-content-sha256", 20, 0);
        sigv4_fail_detail(fail, "ArgumentValue", v, strlen(v), 0);
        return sigv4_fail(fail, SIGV4_F_BAD_PAYLOAD_HASH, "%s", S3_BAD_SHA256);
    }
    return 0;
}

int sigv4_verify_mode(const sigv4_creds *creds, const struct sigv4_input *in,
                      enum sigv4_path_mode mode, struct sigv4_auth *out, struct sigv4_failure *fail)
{
    int rc = 0;
    struct sigv4_temp_key *tk = NULL; /* a temporary key's secret and token, when one signed */
    struct auth_parts a;
    memset(&a, 0, sizeof a);
    struct sigv4_qparam *ps = NULL;
    size_t nps = 0;
    struct sigv4_sb creq = SIGV4_SB_INIT, sts = SIGV4_SB_INIT;
    sigv4_failure_init(fail);
    memset(out, 0, sizeof *out);
    const int s3 = in->is_s3;

    nps = sigv4_query_parse(in->query, &ps);
    const char *authz = sigv4_header(in, "authorization");
    const struct sigv4_qparam *qalg = sigv4_param(ps, nps, "X-Amz-Algorithm", 0);

    /* SigV2 (S3 only): "Authorization: AWS AKID:sig" or AWSAccessKeyId/Signature in the query */
    int v2_header = 0;
    if (authz) {
        const char *p = authz;
        while (*p == ' ' || *p == '\t')
            p++;
        /* Compared by hand: gcc -O2 misjudges strncmp on this pointer (-Wstring-compare). */
        v2_header = p[0] == 'A' && p[1] == 'W' && p[2] == 'S' && p[3] == ' ';
    }
    int v2_query =
        sigv4_param(ps, nps, "AWSAccessKeyId", 0) || sigv4_param(ps, nps, "Signature", 0);

    /* 1. auth presence */
    if (authz && (qalg || (s3 && v2_query))) {
        if (s3) {
            sigv4_fail_detail(fail, "ArgumentName", "Authorization", 13, 0);
            rc = sigv4_fail(
                fail, SIGV4_F_AMBIGUOUS_AUTH,
                "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, "
                "Signature query string parameter or the Authorization header should be specified");
        } else {
            rc = sigv4_fail(
                fail, SIGV4_F_AMBIGUOUS_AUTH,
                "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP "
                "header.");
        }
        goto out;
    }
    if (s3 && ((authz && v2_header) || (!authz && !qalg && v2_query))) {
        rc = sigv4_verify_v2(creds, in, authz, out, fail);
        goto out;
    }
    if (!authz && !qalg) {
        if (s3)
            rc = sigv4_fail(fail, SIGV4_F_MISSING_AUTH, "Access Denied");
        else
            rc = sigv4_fail(fail, SIGV4_F_MISSING_AUTH, "Request is missing Authentication Token");
        goto out;
    }

    /* 2. syntax and date format */
    a.authz = authz;
    fail->presigned = authz == NULL;
    rc = authz ? parse_header_auth(in, authz, &a, fail) : parse_query_auth(in, ps, nps, &a, fail);
    if (rc) goto out;
    time_t t_req;
    sigv4_parse_amz_date(a.date, &t_req);
    char now_s[17], edge_s[17], now_iso[21];
    sigv4_format_amz_date(in->now, now_s);
    sigv4_iso_time(in->now, now_iso);

    /* 3. time: skew for header auth, X-Amz-Date + X-Amz-Expires for presigned URLs */
    long skew = in->clock_skew_seconds > 0 ? in->clock_skew_seconds : 300;
    if (a.presigned && a.expires) {
        long long exp = strtoll(a.expires, NULL, 10);
        if ((long long)in->now > (long long)t_req + exp) {
            if (s3) {
                char exp_iso[21];
                sigv4_iso_time((time_t)((long long)t_req + exp), exp_iso);
                char exp_s[24];
                int n = snprintf(exp_s, sizeof exp_s, "%lld", exp);
                sigv4_fail_detail(fail, "X-Amz-Expires", exp_s, (size_t)n, 0);
                sigv4_fail_detail(fail, "Expires", exp_iso, strlen(exp_iso), 0);
                sigv4_fail_detail(fail, "ServerTime", now_iso, strlen(now_iso), 0);
                rc = sigv4_fail(fail, SIGV4_F_EXPIRED, "Request has expired");
            } else {
                sigv4_format_amz_date((time_t)((long long)in->now - exp), edge_s);
                rc = sigv4_fail(fail, SIGV4_F_EXPIRED,
                                "Signature expired: %s is now earlier than %s (%s - %lld min.)",
                                a.date, edge_s, now_s, exp / 60);
            }
            goto out;
        }
        if ((long long)t_req > (long long)in->now + skew) {
            if (s3) {
                rc = sigv4_fail(fail, SIGV4_F_EXPIRED, "Request is not yet valid");
            } else {
                sigv4_format_amz_date(in->now + skew, edge_s);
                rc = sigv4_fail(
                    fail, SIGV4_F_EXPIRED,
                    "Signature not yet current: %s is still later than %s (%s + %ld min.)", a.date,
                    edge_s, now_s, skew / 60);
            }
            goto out;
        }
    } else if ((long long)t_req < (long long)in->now - skew ||
               (long long)t_req > (long long)in->now + skew) {
        int past = (long long)t_req < (long long)in->now - skew;
        if (s3) {
            char ms[24];
            int n = snprintf(ms, sizeof ms, "%ld", skew * 1000);
            sigv4_fail_detail(fail, "RequestTime", a.date_raw, strlen(a.date_raw), 0);
            sigv4_fail_detail(fail, "ServerTime", now_iso, strlen(now_iso), 0);
            sigv4_fail_detail(fail, "MaxAllowedSkewMilliseconds", ms, (size_t)n, 0);
            rc = sigv4_fail(
                fail, SIGV4_F_SKEWED,
                "The difference between the request time and the current time is too large.");
        } else if (past) {
            sigv4_format_amz_date(in->now - skew, edge_s);
            rc = sigv4_fail(fail, SIGV4_F_SKEWED,
                            "Signature expired: %s is now earlier than %s (%s - %ld min.)", a.date,
                            edge_s, now_s, skew / 60);
        } else {
            sigv4_format_amz_date(in->now + skew, edge_s);
            rc = sigv4_fail(fail, SIGV4_F_SKEWED,
                            "Signature not yet current: %s is still later than %s (%s + %ld min.)",
                            a.date, edge_s, now_s, skew / 60);
        }
        goto out;
    }

    /* 4. S3's payload-hash header (header auth requires it) */
    const char *payload = NULL;
    if (s3) {
        if (a.presigned) {
            const struct sigv4_qparam *qh = sigv4_param(ps, nps, "X-Amz-Content-Sha256", 1);
            payload = qh ? qh->value : "UNSIGNED-PAYLOAD";
        } else {
            payload = sigv4_header(in, "x-amz-content-sha256");
            if (!payload) {
                rc = sigv4_fail(fail, SIGV4_F_MISSING_PAYLOAD_HASH,
                                "Missing required header for this request: x-amz-content-sha256");
                goto out;
            }
        }
        rc = classify_payload(payload, out, fail);
        if (rc) goto out;
    } else {
        payload = in->body_sha256 ? in->body_sha256 : sigv4_header(in, "x-amz-content-sha256");
        if (!payload) payload = EMPTY_SHA256;
        out->payload = SIGV4_PAYLOAD_HASH;
        sigv4_copy_str(out->payload_hash, sizeof out->payload_hash, payload);
    }

    /* 5. host signed */
    if (s3) {
        rc = check_s3_unsigned(in, a.signed_headers, fail);
        if (rc) goto out;
    } else if (!is_signed(a.signed_headers, "host")) {
        rc = sigv4_fail(fail, SIGV4_F_HEADERS_NOT_SIGNED,
                        "'Host' must be a 'SignedHeader' in the AWS Authorization.");
        goto out;
    }

    /* 6. algorithm (header form; the query form checked it while parsing) */
    if (!a.presigned && strcmp(a.algorithm, "AWS4-HMAC-SHA256") != 0) {
        if (s3 && strncmp(a.algorithm, "AWS4-ECDSA-", 11) == 0)
            rc = sigv4_fail(fail, SIGV4_F_NOT_IMPLEMENTED,
                            "A header you provided implies functionality that is not implemented");
        else if (s3)
            rc = sigv4_fail(fail, SIGV4_F_MALFORMED, "%s", S3_MALFORMED);
        else
            rc = sigv4_fail(fail, SIGV4_F_MALFORMED,
                            "Unsupported AWS 'algorithm': '%s' (only AWS4-HMAC-SHA256 for now). ",
                            a.algorithm);
        goto out;
    }

    /* 7. credential scope */
    char *const *cp = a.cred_parts;
    const char *s3_prefix = a.presigned ? "Error parsing the X-Amz-Credential parameter; "
                                        : "The authorization header is malformed; ";
    if (strlen(cp[1]) != 8 || strncmp(cp[1], a.date, 8) != 0) {
        if (s3)
            rc = sigv4_fail(fail, SIGV4_F_BAD_SCOPE,
                            "%sInvalid credential date. Date is not the same as X-Amz-Date.",
                            s3_prefix);
        else
            rc = sigv4_fail(
                fail, SIGV4_F_BAD_SCOPE,
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
                "from HTTP: '%s' != '%.8s', from '%s'.",
                cp[1], a.date, a.date);
        goto out;
    }
    const char *want_svc = s3 ? "s3" : in->expected_service;
    int bad_region = !valid_region(cp[2]);
    int bad_svc = want_svc && strcmp(cp[3], want_svc) != 0;
    int bad_term = strcmp(cp[4], "aws4_request") != 0;
    if (!bad_svc && (cp[3][0] == '\0' || strlen(cp[3]) >= sizeof out->service)) bad_svc = 1;
    if (bad_region || bad_svc || bad_term) {
        if (s3) {
            if (bad_region)
                rc = sigv4_fail(fail, SIGV4_F_BAD_SCOPE,
                                "%sthe region '%s' is wrong; expecting a valid region", s3_prefix,
                                cp[2]);
            else if (bad_svc)
                rc = sigv4_fail(fail, SIGV4_F_BAD_SCOPE,
                                "%sincorrect service \"%s\". This endpoint belongs to \"s3\".",
                                s3_prefix, cp[3]);
            else
                rc = sigv4_fail(fail, SIGV4_F_BAD_SCOPE,
                                "%sincorrect terminal \"%s\". This endpoint uses \"aws4_request\".",
                                s3_prefix, cp[4]);
        } else {
            rc = sigv4_fail(
                fail, SIGV4_F_BAD_SCOPE, "%s%s%s%s%s%s%s%s%s",
                bad_region ? "Credential should be scoped to a valid region, not '" : "",
                bad_region ? cp[2] : "", bad_region ? "'. " : "",
                bad_svc ? "Credential should be scoped to correct service: '" : "",
                bad_svc ? (want_svc ? want_svc : cp[3]) : "", bad_svc ? "'. " : "",
                bad_term
                    ? "Credential should be scoped with a valid terminator: 'aws4_request', not '"
                    : "",
                bad_term ? cp[4] : "", bad_term ? "'. " : "");
        }
        goto out;
    }

    /* 8. access key; a temporary one (checked after the key pairs, so their lookups cost
     * nothing more) also needs its session token, unexpired */
    const char *secret = NULL, *account = NULL;
    int known = strlen(cp[0]) < sizeof out->access_key &&
                sigv4_creds_lookup(creds, cp[0], &secret, &account);
    if (!known && strlen(cp[0]) < sizeof out->access_key && (tk = malloc(sizeof *tk)) &&
        sigv4_creds_lookup_temp(creds, cp[0], tk)) {
        known = 1;
        secret = tk->secret;
        account = tk->account_id;
    }
    if (!known) {
        if (s3) {
            sigv4_fail_detail(fail, "AWSAccessKeyId", cp[0], strlen(cp[0]), 0);
            rc = sigv4_fail(fail, SIGV4_F_UNKNOWN_KEY,
                            "The AWS Access Key Id you provided does not exist in our records.");
        } else {
            rc = sigv4_fail(fail, SIGV4_F_UNKNOWN_KEY,
                            "The security token included in the request is invalid.");
        }
        goto out;
    }

    if (tk) {
        const char *token = sigv4_header(in, "x-amz-security-token");
        const struct sigv4_qparam *qt = sigv4_param(ps, nps, "X-Amz-Security-Token", 0);
        char *qtok = !token && qt ? dup_param(qt) : NULL;
        if (qtok) token = qtok;
        int same = token && strcmp(token, tk->session_token) == 0;
        free(qtok);
        if (!same) {
            rc = sigv4_fail(fail, SIGV4_F_BAD_TOKEN, "%s",
                            s3 ? "The provided token is malformed or otherwise invalid."
                               : "The security token included in the request is invalid.");
            goto out;
        }
        if (in->now >= tk->expiration) {
            rc = sigv4_fail(fail, SIGV4_F_EXPIRED_TOKEN, "%s",
                            s3 ? "The provided token has expired."
                               : "The security token included in the request is expired");
            goto out;
        }
    }

    if (in->stop_before_signature) goto out; /* rc is 0 */

    /* 9. signature */
    char scope[160];
    snprintf(scope, sizeof scope, "%s/%s/%s/aws4_request", cp[1], cp[2], cp[3]);
    unsigned char key[32];
    sigv4_signing_key(secret, cp[1], cp[2], cp[3], key);
    char sig[65];
    int matched = 0;
    /* A presigned URL may carry an X-Amz-Security-Token appended after signing: when the
     * signature does not match with it, try once without it. */
    int tries = (a.presigned && sigv4_param(ps, nps, "X-Amz-Security-Token", 0)) ? 2 : 1;
    for (int t = 0; t < tries && !matched; t++) {
        int qflags = a.presigned ? SIGV4_Q_NO_SIGNATURE | (t ? SIGV4_Q_NO_TOKEN : 0) : 0;
        sigv4_sb_reset(&creq);
        sigv4_sb_reset(&sts);
        sigv4_canonical_request(&creq, in->method, in->path, mode, in->query, qflags, in->headers,
                                in->n_headers, a.signed_headers, payload);
        sigv4_string_to_sign(&sts, a.date, scope, sigv4_sb_str(&creq), creq.len);
        sigv4_hmac_hex(key, sts.buf, sts.len, sig);
        matched = strlen(a.signature) == 64 && CRYPTO_memcmp(sig, a.signature, 64) == 0;
    }
    if (!matched) {
        if (tries == 2) { /* report the canonical forms that include the token */
            sigv4_sb_reset(&creq);
            sigv4_sb_reset(&sts);
            sigv4_canonical_request(&creq, in->method, in->path, mode, in->query,
                                    SIGV4_Q_NO_SIGNATURE, in->headers, in->n_headers,
                                    a.signed_headers, payload);
            sigv4_string_to_sign(&sts, a.date, scope, sigv4_sb_str(&creq), creq.len);
        }
        if (s3) {
            const char *sb = sigv4_sb_str(&sts), *cb = sigv4_sb_str(&creq);
            sigv4_fail_detail(fail, "AWSAccessKeyId", cp[0], strlen(cp[0]), 0);
            sigv4_fail_detail(fail, "StringToSign", sb, sts.len, 0);
            sigv4_fail_detail(fail, "SignatureProvided", a.signature, strlen(a.signature), 0);
            sigv4_fail_detail(fail, "StringToSignBytes", sb, sts.len, 1);
            sigv4_fail_detail(fail, "CanonicalRequest", cb, creq.len, 0);
            sigv4_fail_detail(fail, "CanonicalRequestBytes", cb, creq.len, 1);
            rc = sigv4_fail(fail, SIGV4_F_SIGNATURE_MISMATCH, "%s", SIG_MISMATCH_S3);
        } else {
            rc = sigv4_fail(
                fail, SIGV4_F_SIGNATURE_MISMATCH,
                "%s\n\nThe Canonical String for this request should have been\n'%s'\n\nThe "
                "String-to-Sign should have been\n'%s'\n",
                SIG_MISMATCH_JSON, sigv4_sb_str(&creq), sigv4_sb_str(&sts));
        }
        goto out;
    }

    sigv4_copy_str(out->access_key, sizeof out->access_key, cp[0]);
    sigv4_copy_str(out->account_id, sizeof out->account_id, account);
    sigv4_copy_str(out->region, sizeof out->region, cp[2]);
    sigv4_copy_str(out->service, sizeof out->service, cp[3]);
    sigv4_copy_str(out->amz_date, sizeof out->amz_date, a.date);
    sigv4_copy_str(out->scope, sizeof out->scope, scope);
    memcpy(out->signature, sig, 65);
    memcpy(out->signing_key, key, 32);
    out->presigned = a.presigned;
    out->temporary = tk != NULL;
    OPENSSL_cleanse(key, sizeof key);
    rc = 0;
out:
    if (rc && !fail->message) fail->message = strdup("out of memory");
    if (rc) memset(out, 0, sizeof *out);
    if (tk) OPENSSL_cleanse(tk, sizeof *tk);
    free(tk);
    parts_free(&a);
    sigv4_qparams_free(ps, nps);
    sigv4_sb_free(&creq);
    sigv4_sb_free(&sts);
    return rc;
}

int sigv4_verify(const sigv4_creds *creds, const struct sigv4_input *in, struct sigv4_auth *out,
                 struct sigv4_failure *fail)
{
    return sigv4_verify_mode(creds, in, in->is_s3 ? SIGV4_PATH_RAW : SIGV4_PATH_NORMALIZE, out,
                             fail);
}

int sigv4_precheck(const sigv4_creds *creds, const struct sigv4_input *in,
                   struct sigv4_failure *fail)
{
    struct sigv4_input pre = *in;
    pre.stop_before_signature = 1;
    struct sigv4_auth scratch;
    int rc = sigv4_verify(creds, &pre, &scratch, fail);
    OPENSSL_cleanse(&scratch, sizeof scratch);
    return rc;
}

int sigv4_wrong_region(const struct sigv4_input *in, const struct sigv4_auth *auth,
                       const char *expected, struct sigv4_failure *fail)
{
    sigv4_failure_init(fail);
    fail->presigned = auth->presigned;
    if (!in->is_s3)
        return sigv4_fail(fail, SIGV4_F_BAD_SCOPE,
                          "Credential should be scoped to a valid region, not '%s'. ",
                          auth->region);
    sigv4_fail_detail(fail, "Region", expected, strlen(expected), 0);
    if (auth->presigned)
        return sigv4_fail(fail, SIGV4_F_BAD_SCOPE,
                          "Error parsing the X-Amz-Credential parameter; the region '%s' is wrong; "
                          "expecting '%s'",
                          auth->region, expected);
    return sigv4_fail(
        fail, SIGV4_F_BAD_SCOPE,
        "The authorization header is malformed; the region '%s' is wrong; expecting '%s'",
        auth->region, expected);
}

char *sigv4_peek_credential(const struct sigv4_input *in, char **service_out, char **region_out)
{
    char *ak = NULL, *parts[5] = {0};
    char *cred = NULL;
    if (service_out) *service_out = NULL;
    if (region_out) *region_out = NULL;
    const char *authz = sigv4_header(in, "authorization");
    if (authz) {
        const char *p = authz;
        while (*p == ' ' || *p == '\t')
            p++;
        if (strncmp(p, "AWS ", 4) == 0) {
            p += 4;
            while (*p == ' ')
                p++;
            const char *colon = strchr(p, ':');
            if (colon && colon > p) ak = strndup(p, (size_t)(colon - p));
            return ak;
        }
        const char *c = strstr(p, "Credential=");
        if (c) {
            c += 11;
            size_t len = strcspn(c, ", \t");
            cred = strndup(c, len);
        }
    } else {
        struct sigv4_qparam *ps;
        size_t n = sigv4_query_parse(in->query, &ps);
        const struct sigv4_qparam *q = sigv4_param(ps, n, "X-Amz-Credential", 0);
        if (q)
            cred = strdup(q->value);
        else if ((q = sigv4_param(ps, n, "AWSAccessKeyId", 0)) && q->value[0])
            ak = strdup(q->value);
        sigv4_qparams_free(ps, n);
        if (ak) return ak;
    }
    if (!cred) return NULL;
    /* keyid/date/region/service/term; only the first four are needed */
    int np = 0;
    const char *p = cred;
    while (np < 5) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        parts[np++] = strndup(p, len);
        if (!slash) break;
        p = slash + 1;
    }
    if (parts[0] && parts[0][0]) {
        ak = parts[0];
        parts[0] = NULL;
        if (np >= 4) {
            if (region_out) {
                *region_out = parts[2];
                parts[2] = NULL;
            }
            if (service_out) {
                *service_out = parts[3];
                parts[3] = NULL;
            }
        }
    }
    for (int i = 0; i < 5; i++)
        free(parts[i]);
    free(cred);
    return ak;
}
