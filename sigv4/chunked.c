/* Incremental aws-chunked decoder: per-chunk signatures, signed and unsigned trailers, bounded
 * memory. */
#include "sigv4/canonical.h"
#include "sigv4/encode.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define LINE_MAX_LEN 4096 /* a chunk header or trailer line */
#define MAX_TRAILERS 16

enum chunk_state {
    CH_HEADER,   /* reading "<hex>[;chunk-signature=<sig>]\r\n" */
    CH_DATA,     /* chunk data */
    CH_DATA_END, /* the "\r\n" after chunk data */
    CH_TRAILER,  /* trailer lines after the final chunk, up to an empty line */
    CH_END,      /* the empty line after the final chunk (no trailer) */
    CH_DONE,
    CH_FAILED,
};

struct chunk_trailer {
    char *name, *value;
};

struct sigv4_chunked {
    enum sigv4_payload mode;
    int signed_chunks, has_trailer;
    unsigned char key[32];
    char date[17], scope[160], prev[65];
    uint64_t expect_len, total, remaining;
    enum chunk_state st;
    char line[LINE_MAX_LEN + 1];
    size_t line_len;
    char chunk_sig[65];
    EVP_MD_CTX *sha;
    struct chunk_trailer tr[MAX_TRAILERS];
    size_t n_tr;
    char trailer_sig[65];
    int have_trailer_sig;
    enum sigv4_fail_kind err; /* sticky once failed */
    char *err_msg;            /* its message */
};

struct sigv4_chunked *sigv4_chunked_new(const struct sigv4_auth *auth, uint64_t decoded_length,
                                        const char *trailer_names)
{
    (void)trailer_names;
    if (!auth) return NULL;
    struct sigv4_chunked *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    d->mode = auth->payload;
    d->signed_chunks = auth->payload == SIGV4_PAYLOAD_STREAMING_SIGNED ||
                       auth->payload == SIGV4_PAYLOAD_STREAMING_SIGNED_TRAILER;
    d->has_trailer = auth->payload == SIGV4_PAYLOAD_STREAMING_SIGNED_TRAILER ||
                     auth->payload == SIGV4_PAYLOAD_STREAMING_UNSIGNED_TRAILER;
    memcpy(d->key, auth->signing_key, 32);
    snprintf(d->date, sizeof d->date, "%s", auth->amz_date);
    snprintf(d->scope, sizeof d->scope, "%s", auth->scope);
    snprintf(d->prev, sizeof d->prev, "%s", auth->signature);
    d->expect_len = decoded_length;
    d->st = CH_HEADER;
    d->sha = EVP_MD_CTX_new();
    if (!d->sha) {
        free(d);
        return NULL;
    }
    return d;
}

void sigv4_chunked_free(struct sigv4_chunked *d)
{
    if (!d) return;
    for (size_t i = 0; i < d->n_tr; i++) {
        free(d->tr[i].name);
        free(d->tr[i].value);
    }
    EVP_MD_CTX_free(d->sha);
    free(d->err_msg);
    OPENSSL_cleanse(d->key, sizeof d->key);
    free(d);
}

static int set_err(struct sigv4_chunked *d, enum sigv4_fail_kind e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int set_err(struct sigv4_chunked *d, enum sigv4_fail_kind e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    free(d->err_msg);
    if (vasprintf(&d->err_msg, fmt, ap) < 0) d->err_msg = NULL;
    va_end(ap);
    d->err = e;
    d->st = CH_FAILED;
    return -1;
}

/* Fills fail with the decoder's sticky failure. Returns -1. */
static int report(struct sigv4_chunked *d, struct sigv4_failure *fail)
{
    if (fail) {
        sigv4_failure_init(fail);
        sigv4_fail(fail, d->err, "%s", d->err_msg ? d->err_msg : "aws-chunked decoding failed");
    }
    return -1;
}

static const char SIG_MISMATCH[] =
    "The request signature we calculated does not match the signature "
    "you provided. Check your key and signing method.";

/* Verifies the current chunk's signature over the data hashed so far. */
static int verify_chunk(struct sigv4_chunked *d)
{
    unsigned char md[32];
    char hex[65];
    EVP_DigestFinal_ex(d->sha, md, NULL);
    sigv4_hex(md, 32, hex);
    char sts[512];
    int n = snprintf(sts, sizeof sts, "AWS4-HMAC-SHA256-PAYLOAD\n%s\n%s\n%s\n%s\n%s", d->date,
                     d->scope, d->prev, EMPTY_SHA256, hex);
    if (n < 0 || (size_t)n >= sizeof sts)
        return set_err(d, SIGV4_F_SIGNATURE_MISMATCH, "%s", SIG_MISMATCH);
    char sig[65];
    sigv4_hmac_hex(d->key, sts, (size_t)n, sig);
    if (CRYPTO_memcmp(sig, d->chunk_sig, 64) != 0)
        return set_err(d, SIGV4_F_SIGNATURE_MISMATCH, "%s", SIG_MISMATCH);
    memcpy(d->prev, sig, 65);
    return 0;
}

static int is_hex64(const char *s, size_t n)
{
    if (n != 64) return 0;
    for (size_t i = 0; i < 64; i++)
        if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i])) return 0;
    return 1;
}

static int start_chunk_hash(struct sigv4_chunked *d)
{
    if (!d->signed_chunks) return 0;
    if (EVP_DigestInit_ex(d->sha, EVP_sha256(), NULL) != 1)
        return set_err(d, SIGV4_F_INTERNAL, "We encountered an internal error. Please try again.");
    return 0;
}

/* Handles one complete chunk header line (without CRLF). */
static int on_header_line(struct sigv4_chunked *d, const char *l, size_t n)
{
    size_t i = 0;
    uint64_t size = 0;
    while (i < n && isxdigit((unsigned char)l[i])) {
        if (i >= 16) return set_err(d, SIGV4_F_BAD_CHUNK, "Invalid chunk size in aws-chunked body");
        int c = tolower((unsigned char)l[i]);
        size = size * 16 + (uint64_t)(c <= '9' ? c - '0' : c - 'a' + 10);
        i++;
    }
    if (i == 0) return set_err(d, SIGV4_F_BAD_CHUNK, "Invalid chunk size in aws-chunked body");
    int have_sig = 0;
    while (i < n) {
        if (l[i] != ';')
            return set_err(d, SIGV4_F_BAD_CHUNK, "Invalid chunk header in aws-chunked body");
        i++;
        size_t j = i;
        while (j < n && l[j] != ';')
            j++;
        if (j - i > 16 && memcmp(l + i, "chunk-signature=", 16) == 0) {
            if (!is_hex64(l + i + 16, j - i - 16) || have_sig)
                return set_err(d, SIGV4_F_SIGNATURE_MISMATCH, "%s", SIG_MISMATCH);
            memcpy(d->chunk_sig, l + i + 16, 64);
            d->chunk_sig[64] = '\0';
            have_sig = 1;
        }
        i = j;
    }
    if (d->signed_chunks && !have_sig)
        return set_err(d, SIGV4_F_SIGNATURE_MISMATCH, "%s", SIG_MISMATCH);
    if (d->expect_len != UINT64_MAX && size > d->expect_len - d->total)
        return set_err(d, SIGV4_F_BAD_CHUNK,
                       "The decoded body is longer than x-amz-decoded-content-length (%llu bytes)",
                       (unsigned long long)d->expect_len);
    int rc = start_chunk_hash(d);
    if (rc) return rc;
    if (size == 0) {
        if (d->signed_chunks && (rc = verify_chunk(d))) return rc;
        d->st = d->has_trailer ? CH_TRAILER : CH_END;
        return 0;
    }
    d->remaining = size;
    d->st = CH_DATA;
    return 0;
}

static int verify_trailer(struct sigv4_chunked *d)
{
    if (!d->have_trailer_sig) return set_err(d, SIGV4_F_SIGNATURE_MISMATCH, "%s", SIG_MISMATCH);
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    if (!c)
        return set_err(d, SIGV4_F_INTERNAL, "We encountered an internal error. Please try again.");
    EVP_DigestInit_ex(c, EVP_sha256(), NULL);
    for (size_t i = 0; i < d->n_tr; i++) {
        EVP_DigestUpdate(c, d->tr[i].name, strlen(d->tr[i].name));
        EVP_DigestUpdate(c, ":", 1);
        EVP_DigestUpdate(c, d->tr[i].value, strlen(d->tr[i].value));
        EVP_DigestUpdate(c, "\n", 1);
    }
    unsigned char md[32];
    EVP_DigestFinal_ex(c, md, NULL);
    EVP_MD_CTX_free(c);
    char hex[65];
    sigv4_hex(md, 32, hex);
    char sts[512];
    int n = snprintf(sts, sizeof sts, "AWS4-HMAC-SHA256-TRAILER\n%s\n%s\n%s\n%s", d->date, d->scope,
                     d->prev, hex);
    if (n < 0 || (size_t)n >= sizeof sts)
        return set_err(d, SIGV4_F_SIGNATURE_MISMATCH, "%s", SIG_MISMATCH);
    char sig[65];
    sigv4_hmac_hex(d->key, sts, (size_t)n, sig);
    if (CRYPTO_memcmp(sig, d->trailer_sig, 64) != 0)
        return set_err(d, SIGV4_F_SIGNATURE_MISMATCH, "%s", SIG_MISMATCH);
    memcpy(d->prev, sig, 65);
    return 0;
}

static int end_trailers(struct sigv4_chunked *d)
{
    if (d->mode == SIGV4_PAYLOAD_STREAMING_SIGNED_TRAILER) {
        int rc = verify_trailer(d);
        if (rc) return rc;
    }
    d->st = CH_DONE;
    return 0;
}

static int on_trailer_line(struct sigv4_chunked *d, const char *l, size_t n)
{
    if (n == 0) return end_trailers(d);
    const char *colon = memchr(l, ':', n);
    if (!colon || colon == l)
        return set_err(d, SIGV4_F_BAD_CHUNK, "Invalid trailer in aws-chunked body");
    size_t nl = (size_t)(colon - l);
    const char *v = colon + 1, *e = l + n;
    while (v < e && (*v == ' ' || *v == '\t'))
        v++;
    while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    if (nl == 23 && strncasecmp(l, "x-amz-trailer-signature", 23) == 0) {
        if (d->mode != SIGV4_PAYLOAD_STREAMING_SIGNED_TRAILER) return 0;
        if (d->have_trailer_sig || !is_hex64(v, (size_t)(e - v)))
            return set_err(d, SIGV4_F_SIGNATURE_MISMATCH, "%s", SIG_MISMATCH);
        memcpy(d->trailer_sig, v, 64);
        d->trailer_sig[64] = '\0';
        d->have_trailer_sig = 1;
        return 0;
    }
    if (d->have_trailer_sig)
        return set_err(d, SIGV4_F_BAD_CHUNK,
                       "Trailer after x-amz-trailer-signature in aws-chunked body");
    if (d->n_tr == MAX_TRAILERS)
        return set_err(d, SIGV4_F_BAD_CHUNK, "Too many trailers in aws-chunked body");
    char *name = strndup(l, nl), *value = strndup(v, (size_t)(e - v));
    if (!name || !value) {
        free(name);
        free(value);
        return set_err(d, SIGV4_F_INTERNAL, "We encountered an internal error. Please try again.");
    }
    for (char *p = name; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    d->tr[d->n_tr].name = name;
    d->tr[d->n_tr].value = value;
    d->n_tr++;
    return 0;
}

/* Dispatches a complete line (CRLF stripped) for the current state. */
static int on_line(struct sigv4_chunked *d, const char *l, size_t n)
{
    switch (d->st) {
    case CH_HEADER:
        return on_header_line(d, l, n);
    case CH_DATA_END:
        if (n)
            return set_err(d, SIGV4_F_BAD_CHUNK,
                           "Missing CRLF after chunk data in aws-chunked body");
        d->st = CH_HEADER;
        return 0;
    case CH_TRAILER:
        return on_trailer_line(d, l, n);
    case CH_END:
        if (n) return set_err(d, SIGV4_F_BAD_CHUNK, "Unexpected data after the final chunk");
        d->st = CH_DONE;
        return 0;
    default:
        return set_err(d, SIGV4_F_BAD_CHUNK, "Unexpected data after the final chunk");
    }
}

int sigv4_chunked_feed(struct sigv4_chunked *d, const char *data, size_t len,
                       int (*emit)(void *ctx, const char *data, size_t len), void *ctx,
                       struct sigv4_failure *fail)
{
    size_t i = 0;
    int rc;
    if (fail) sigv4_failure_init(fail);
    if (d->st == CH_FAILED) return report(d, fail);
    while (i < len) {
        if (d->st == CH_DONE) {
            set_err(d, SIGV4_F_BAD_CHUNK, "Unexpected data after the final chunk");
            return report(d, fail);
        }
        if (d->st == CH_DATA) {
            size_t take = len - i;
            if (take > d->remaining) take = (size_t)d->remaining;
            if (d->signed_chunks) EVP_DigestUpdate(d->sha, data + i, take);
            d->remaining -= take;
            d->total += take;
            if (emit && (rc = emit(ctx, data + i, take)) < 0) return rc;
            i += take;
            if (d->remaining == 0) {
                if (d->signed_chunks && verify_chunk(d)) return report(d, fail);
                d->st = CH_DATA_END;
            }
            continue;
        }
        /* line-oriented states: accumulate up to '\n' */
        const char *nlp = memchr(data + i, '\n', len - i);
        size_t take = nlp ? (size_t)(nlp - (data + i)) : len - i;
        if (d->line_len + take > LINE_MAX_LEN) {
            set_err(d, SIGV4_F_BAD_CHUNK, "aws-chunked header line too long");
            return report(d, fail);
        }
        memcpy(d->line + d->line_len, data + i, take);
        d->line_len += take;
        i += take;
        if (!nlp) break;
        i++; /* the '\n' */
        size_t n = d->line_len;
        d->line_len = 0;
        if (n == 0 || d->line[n - 1] != '\r') {
            set_err(d, SIGV4_F_BAD_CHUNK, "Malformed line ending in aws-chunked body");
            return report(d, fail);
        }
        n--;
        d->line[n] = '\0';
        if (memchr(d->line, '\0', n)) {
            set_err(d, SIGV4_F_BAD_CHUNK, "Invalid byte in aws-chunked body");
            return report(d, fail);
        }
        if (on_line(d, d->line, n)) return report(d, fail);
    }
    return 0;
}

int sigv4_chunked_finish(struct sigv4_chunked *d, struct sigv4_failure *fail)
{
    if (d->st == CH_FAILED) return report(d, fail);
    /* Lenient about a missing final empty line after the last chunk or the trailers. */
    if (d->line_len == 0) {
        if (d->st == CH_END)
            d->st = CH_DONE;
        else if (d->st == CH_TRAILER && end_trailers(d))
            return report(d, fail);
    }
    if (d->st != CH_DONE) {
        set_err(
            d, SIGV4_F_BAD_CHUNK,
            "You did not provide the number of bytes specified by the Content-Length HTTP header");
        return report(d, fail);
    }
    if (d->expect_len != UINT64_MAX && d->total != d->expect_len) {
        set_err(d, SIGV4_F_BAD_CHUNK,
                "You did not provide the number of bytes specified by the "
                "x-amz-decoded-content-length HTTP header");
        return report(d, fail);
    }
    return 0;
}

const char *sigv4_chunked_trailer(const struct sigv4_chunked *d, const char *name)
{
    if (!d || !name) return NULL;
    for (size_t i = 0; i < d->n_tr; i++)
        if (strcasecmp(d->tr[i].name, name) == 0) return d->tr[i].value;
    return NULL;
}
