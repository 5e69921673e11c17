/* SigV4 canonical request, string to sign and signing-key derivation with a bounded cache. */
#include "sigv4/canonical.h"
#include "sigv4/digest.h"
#include "sigv4/encode.h"

#include <ctype.h>
#include <strings.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

static const char HEXU[] = "0123456789ABCDEF";

static int is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

void sigv4_uri_encode(struct sigv4_sb *sb, const char *s, size_t n, int keep_slash)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (is_unreserved(c) || (keep_slash && c == '/')) {
            sigv4_sb_putc(sb, (char)c);
        } else {
            char e[3] = {'%', HEXU[c >> 4], HEXU[c & 15]};
            sigv4_sb_append(sb, e, 3);
        }
    }
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

char *sigv4_uri_decode(const char *s, size_t n)
{
    char *out = malloc(n + 1);
    if (!out) abort();
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            out[o++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    return out;
}

void sigv4_normalize_path(struct sigv4_sb *sb, const char *path)
{
    size_t len = strlen(path), start = sb->len;
    if (len == 0) {
        sigv4_sb_putc(sb, '/');
        return;
    }
    /* Segments kept so far, as (offset, length) into path. */
    size_t cap = len / 2 + 2, n = 0;
    size_t *off = malloc(cap * sizeof *off), *sl = malloc(cap * sizeof *sl);
    if (!off || !sl) abort();
    size_t i = 0;
    while (i <= len) {
        size_t j = i;
        while (j < len && path[j] != '/')
            j++;
        size_t segl = j - i;
        if (segl == 0 || (segl == 1 && path[i] == '.')) {
            /* skip */
        } else if (segl == 2 && path[i] == '.' && path[i + 1] == '.') {
            if (n) n--;
        } else {
            off[n] = i;
            sl[n] = segl;
            n++;
        }
        i = j + 1;
    }
    if (path[0] == '/') sigv4_sb_putc(sb, '/');
    for (size_t k = 0; k < n; k++) {
        if (k) sigv4_sb_putc(sb, '/');
        sigv4_sb_append(sb, path + off[k], sl[k]);
    }
    if (path[len - 1] == '/' && n) sigv4_sb_putc(sb, '/');
    if (sb->len == start) sigv4_sb_putc(sb, '/');
    free(off);
    free(sl);
}

void sigv4_canonical_uri(struct sigv4_sb *sb, const char *path, enum sigv4_path_mode mode)
{
    if (!path || !*path) {
        sigv4_sb_putc(sb, '/');
        return;
    }
    if (mode == SIGV4_PATH_RAW) {
        sigv4_sb_puts(sb, path);
        return;
    }
    if (mode == SIGV4_PATH_ENCODE) {
        sigv4_uri_encode(sb, path, strlen(path), 1);
        return;
    }
    struct sigv4_sb norm = SIGV4_SB_INIT;
    sigv4_normalize_path(&norm, path);
    sigv4_uri_encode(sb, norm.buf, norm.len, 1);
    sigv4_sb_free(&norm);
}

/* Appends the percent-encoded form of a decoded string of n bytes to a fresh malloc'd string. */
static char *encode_dup(const char *s, size_t n)
{
    struct sigv4_sb sb = SIGV4_SB_INIT;
    sigv4_uri_encode(&sb, s, n, 0);
    char *r = sb.buf ? sb.buf : strdup("");
    if (!r) abort();
    return r;
}

size_t sigv4_query_parse(const char *query, struct sigv4_qparam **out)
{
    *out = NULL;
    if (!query || !*query) return 0;
    size_t cap = 1;
    for (const char *p = query; *p; p++)
        if (*p == '&') cap++;
    struct sigv4_qparam *ps = calloc(cap, sizeof *ps);
    if (!ps) abort();
    size_t n = 0;
    const char *p = query;
    while (*p) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        if (len) {
            const char *eq = memchr(p, '=', len);
            size_t kl = eq ? (size_t)(eq - p) : len;
            const char *v = eq ? eq + 1 : p + len;
            size_t vl = eq ? len - kl - 1 : 0;
            /* decoded lengths: decode gives a NUL-terminated copy; %00 truncates strlen, so
             * re-encode from the raw span's decoded length computed here. */
            struct sigv4_qparam *q = &ps[n++];
            q->key = sigv4_uri_decode(p, kl);
            q->value = sigv4_uri_decode(v, vl);
            size_t dkl = 0, dvl = 0;
            for (size_t i = 0; i < kl; i++, dkl++)
                if (p[i] == '%' && i + 2 < kl && hexval(p[i + 1]) >= 0 && hexval(p[i + 2]) >= 0)
                    i += 2;
            for (size_t i = 0; i < vl; i++, dvl++)
                if (v[i] == '%' && i + 2 < vl && hexval(v[i + 1]) >= 0 && hexval(v[i + 2]) >= 0)
                    i += 2;
            q->ekey = encode_dup(q->key, dkl);
            q->evalue = encode_dup(q->value, dvl);
        }
        if (!amp) break;
        p = amp + 1;
    }
    *out = ps;
    return n;
}

void sigv4_qparams_free(struct sigv4_qparam *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(p[i].key);
        free(p[i].value);
        free(p[i].ekey);
        free(p[i].evalue);
    }
    free(p);
}

static int qparam_cmp(const void *a, const void *b)
{
    const struct sigv4_qparam *x = a, *y = b;
    int c = strcmp(x->ekey, y->ekey);
    return c ? c : strcmp(x->evalue, y->evalue);
}

void sigv4_canonical_query(struct sigv4_sb *sb, const char *query, int flags)
{
    struct sigv4_qparam *ps;
    size_t n = sigv4_query_parse(query, &ps);
    if (n > 1) qsort(ps, n, sizeof *ps, qparam_cmp);
    int first = 1;
    for (size_t i = 0; i < n; i++) {
        if ((flags & SIGV4_Q_NO_SIGNATURE) && strcmp(ps[i].key, "X-Amz-Signature") == 0) continue;
        if ((flags & SIGV4_Q_NO_TOKEN) && strcmp(ps[i].key, "X-Amz-Security-Token") == 0) continue;
        if (!first) sigv4_sb_putc(sb, '&');
        first = 0;
        sigv4_sb_puts(sb, ps[i].ekey);
        sigv4_sb_putc(sb, '=');
        sigv4_sb_puts(sb, ps[i].evalue);
    }
    sigv4_qparams_free(ps, n);
}

/* Appends value trimmed, with internal whitespace runs folded to one space. */
static void put_folded(struct sigv4_sb *sb, const char *v)
{
    /* Each run of non-space bytes goes in with one append: a byte at a time was half the cost
     * of the canonical request. */
    int first = 1;
    for (;;) {
        while (*v && isspace((unsigned char)*v))
            v++;
        const char *run = v;
        while (*v && !isspace((unsigned char)*v))
            v++;
        if (v == run) break;
        if (!first) sigv4_sb_putc(sb, ' ');
        sigv4_sb_append(sb, run, (size_t)(v - run));
        first = 0;
    }
}

void sigv4_canonical_headers(struct sigv4_sb *sb, const struct sigv4_header *h, size_t n,
                             const char *signed_headers)
{
    const char *p = signed_headers ? signed_headers : "";
    while (*p) {
        const char *semi = strchr(p, ';');
        size_t len = semi ? (size_t)(semi - p) : strlen(p);
        if (len) {
            size_t at = sb->len;
            sigv4_sb_append(sb, p, len);
            for (size_t i = at; i < at + len; i++)
                sb->buf[i] = (char)tolower((unsigned char)sb->buf[i]);
            sigv4_sb_putc(sb, ':');
            int seen = 0;
            for (size_t i = 0; i < n; i++) {
                if (strlen(h[i].name) != len || strncasecmp(h[i].name, p, len) != 0) continue;
                if (seen++) sigv4_sb_putc(sb, ',');
                put_folded(sb, h[i].value ? h[i].value : "");
            }
            sigv4_sb_putc(sb, '\n');
        }
        if (!semi) break;
        p = semi + 1;
    }
}

void sigv4_canonical_request(struct sigv4_sb *sb, const char *method, const char *path,
                             enum sigv4_path_mode mode, const char *query, int qflags,
                             const struct sigv4_header *h, size_t n, const char *signed_headers,
                             const char *payload_hash)
{
    sigv4_sb_puts(sb, method ? method : "");
    sigv4_sb_putc(sb, '\n');
    sigv4_canonical_uri(sb, path, mode);
    sigv4_sb_putc(sb, '\n');
    sigv4_canonical_query(sb, query, qflags);
    sigv4_sb_putc(sb, '\n');
    sigv4_canonical_headers(sb, h, n, signed_headers);
    sigv4_sb_putc(sb, '\n');
    sigv4_sb_puts(sb, signed_headers ? signed_headers : "");
    sigv4_sb_putc(sb, '\n');
    sigv4_sb_puts(sb, payload_hash ? payload_hash : "");
}

void sigv4_sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char md[32];
    sigv4_sha256(data, len, md);
    sigv4_hex(md, 32, out);
}

void sigv4_string_to_sign(struct sigv4_sb *sb, const char *amz_date, const char *scope,
                          const char *creq, size_t creq_len)
{
    char h[65];
    sigv4_sha256_hex(creq, creq_len, h);
    sigv4_sb_puts(sb, "AWS4-HMAC-SHA256\n");
    sigv4_sb_puts(sb, amz_date);
    sigv4_sb_putc(sb, '\n');
    sigv4_sb_puts(sb, scope);
    sigv4_sb_putc(sb, '\n');
    sigv4_sb_append(sb, h, 64);
}

static void hmac(const void *key, size_t klen, const void *data, size_t len, unsigned char out[32])
{
    sigv4_hmac_sha256(key, klen, data, len, out);
}

void sigv4_hmac_hex(const unsigned char key[32], const void *data, size_t len, char out[65])
{
    unsigned char md[32];
    hmac(key, 32, data, len, md);
    sigv4_hex(md, 32, out);
}

void sigv4_signature(const char *secret, const char *date8, const char *region, const char *service,
                     const void *sts, size_t len, char out[65])
{
    unsigned char key[32];
    sigv4_signing_key(secret, date8, region, service, key);
    sigv4_hmac_hex(key, sts, len, out);
    OPENSSL_cleanse(key, sizeof key);
}

/* The signing-key cache: direct-mapped, fixed size, so memory stays bounded. */
#define KEY_CACHE_SLOTS 128
struct key_slot {
    int used;
    unsigned char id[32]; /* SHA-256 of secret NUL date NUL region NUL service */
    unsigned char key[32];
};
static struct key_slot key_cache[KEY_CACHE_SLOTS];
static pthread_mutex_t key_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long key_derivations;

unsigned long sigv4_key_derivations(void)
{
    pthread_mutex_lock(&key_lock);
    unsigned long n = key_derivations;
    pthread_mutex_unlock(&key_lock);
    return n;
}

void sigv4_signing_key(const char *secret, const char *date8, const char *region,
                       const char *service, unsigned char key[32])
{
    unsigned char id[32];
    const void *parts[4] = {secret, date8, region, service};
    size_t lens[4] = {strlen(secret) + 1, strlen(date8) + 1, strlen(region) + 1,
                      strlen(service) + 1};
    sigv4_sha256_parts(4, parts, lens, id);
    size_t slot = ((size_t)id[0] | (size_t)id[1] << 8) % KEY_CACHE_SLOTS;

    pthread_mutex_lock(&key_lock);
    if (key_cache[slot].used && memcmp(key_cache[slot].id, id, 32) == 0) {
        memcpy(key, key_cache[slot].key, 32);
        pthread_mutex_unlock(&key_lock);
        return;
    }
    pthread_mutex_unlock(&key_lock);

    size_t sl = strlen(secret);
    char *k0 = malloc(sl + 5);
    if (!k0) abort();
    memcpy(k0, "AWS4", 4);
    memcpy(k0 + 4, secret, sl + 1);
    unsigned char k[32];
    hmac(k0, sl + 4, date8, strlen(date8), k);
    OPENSSL_cleanse(k0, sl + 4);
    free(k0);
    hmac(k, 32, region, strlen(region), k);
    hmac(k, 32, service, strlen(service), k);
    hmac(k, 32, "aws4_request", 12, k);
    memcpy(key, k, 32);

    pthread_mutex_lock(&key_lock);
    key_derivations++;
    key_cache[slot].used = 1;
    memcpy(key_cache[slot].id, id, 32);
    memcpy(key_cache[slot].key, k, 32);
    pthread_mutex_unlock(&key_lock);
}

int sigv4_parse_amz_date(const char *s, time_t *t)
{
    if (!s || strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z') return -1;
    for (int i = 0; i < 15; i++)
        if (i != 8 && !isdigit((unsigned char)s[i])) return -1;
    int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    int mo = (s[4] - '0') * 10 + (s[5] - '0'), d = (s[6] - '0') * 10 + (s[7] - '0');
    int h = (s[9] - '0') * 10 + (s[10] - '0'), mi = (s[11] - '0') * 10 + (s[12] - '0');
    int sec = (s[13] - '0') * 10 + (s[14] - '0');
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] + (mo == 2 && leap) || h > 23 || mi > 59 ||
        sec > 60)
        return -1;
    /* days from civil (Howard Hinnant), without timegm's timezone lock */
    long long yy = mo <= 2 ? y - 1 : y;
    long long era = (yy >= 0 ? yy : yy - 399) / 400, yoe = yy - era * 400;
    long long doy = (153 * (mo > 2 ? mo - 3 : mo + 9) + 2) / 5 + d - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    long long days = era * 146097 + doe - 719468;
    *t = (time_t)(days * 86400 + h * 3600 + mi * 60 + sec);
    return 0;
}

/* Civil date of t (UTC) by Howard Hinnant's days-from-civil inverse: no locale, no tz lock, as
 * this runs on every signed request. */
void sigv4_utc_fields(time_t t, int f[6])
{
    long long secs = (long long)t, days = secs / 86400, rem = secs % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    long long z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
    long long doe = z - era * 146097;
    long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
    long long d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
    f[0] = (int)(yoe + era * 400 + (m <= 2));
    f[1] = (int)m;
    f[2] = (int)d;
    f[3] = (int)(rem / 3600);
    f[4] = (int)(rem / 60 % 60);
    f[5] = (int)(rem % 60);
}

static char *put_digits(char *p, int v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return p + width;
}

void sigv4_format_amz_date(time_t t, char out[17])
{
    int f[6];
    sigv4_utc_fields(t, f);
    if (f[0] < 0 || f[0] > 9999) f[0] = 0;
    char *p = put_digits(out, f[0], 4);
    p = put_digits(p, f[1], 2);
    p = put_digits(p, f[2], 2);
    *p++ = 'T';
    p = put_digits(p, f[3], 2);
    p = put_digits(p, f[4], 2);
    p = put_digits(p, f[5], 2);
    *p++ = 'Z';
    *p = '\0';
}

/* ---- helpers shared by the SigV4 and SigV2 verifiers ---- */

void sigv4_failure_init(struct sigv4_failure *f)
{
    f->kind = SIGV4_OK;
    f->presigned = 0;
    f->message = NULL;
    f->n_details = 0;
}

void sigv4_failure_free(struct sigv4_failure *f)
{
    free(f->message);
    for (size_t i = 0; i < f->n_details && i < SIGV4_MAX_DETAILS; i++)
        free(f->details[i].value);
    memset(f, 0, sizeof *f);
}

int sigv4_fail(struct sigv4_failure *f, enum sigv4_fail_kind k, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *m = NULL;
    if (vasprintf(&m, fmt, ap) < 0) m = NULL;
    va_end(ap);
    free(f->message);
    f->message = m;
    f->kind = k;
    return -1;
}

void sigv4_fail_detail(struct sigv4_failure *f, const char *name, const char *v, size_t n, int hex)
{
    if (f->n_details >= SIGV4_MAX_DETAILS) return;
    struct sigv4_detail *d = &f->details[f->n_details++];
    d->name = name;
    d->value = NULL;
    d->len = 0;
    d->hex = hex;
    if (!v) return;
    d->value = malloc(n + 1);
    if (!d->value) abort();
    if (n) memcpy(d->value, v, n);
    d->value[n] = '\0';
    d->len = n;
}

const char *sigv4_header(const struct sigv4_input *in, const char *name)
{
    for (size_t i = 0; i < in->n_headers; i++)
        if (in->headers[i].name && strcasecmp(in->headers[i].name, name) == 0)
            return in->headers[i].value ? in->headers[i].value : "";
    return NULL;
}

const struct sigv4_qparam *sigv4_param(const struct sigv4_qparam *p, size_t n, const char *key,
                                       int nocase)
{
    for (size_t i = 0; i < n; i++)
        if (nocase ? strcasecmp(p[i].key, key) == 0 : strcmp(p[i].key, key) == 0) return &p[i];
    return NULL;
}

void sigv4_iso_time(time_t t, char out[21])
{
    char b[17];
    sigv4_format_amz_date(t, b); /* 20150830T123600Z -> 2015-08-30T12:36:00Z */
    memcpy(out, b, 4);
    out[4] = '-';
    memcpy(out + 5, b + 4, 2);
    out[7] = '-';
    memcpy(out + 8, b + 6, 5);
    out[13] = ':';
    memcpy(out + 14, b + 11, 2);
    out[16] = ':';
    memcpy(out + 17, b + 13, 3);
    out[20] = '\0';
}

void sigv4_copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap) n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}
