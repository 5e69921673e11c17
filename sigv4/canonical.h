/* Internal SigV4 building blocks (canonical request, signing key, auth parsing), exposed for tests.
 */
#ifndef SIGV4_CANONICAL_H
#define SIGV4_CANONICAL_H

#include <stddef.h>
#include <time.h>

#include "sigv4/sb.h"
#include "sigv4/sigv4.h"

/* How the canonical URI is derived from the wire path. */
enum sigv4_path_mode {
    SIGV4_PATH_NORMALIZE, /* non-S3: remove dot segments, collapse '//', then URI-encode */
    SIGV4_PATH_ENCODE,    /* URI-encode without normalising */
    SIGV4_PATH_RAW,       /* S3: the wire path as sent */
};

/* One query parameter: the percent-decoded and the canonically re-encoded forms (malloc'd). */
struct sigv4_qparam {
    char *key, *value;   /* decoded (NUL-terminated; may contain NULs from %00) */
    char *ekey, *evalue; /* re-encoded */
};

/* Appends s URI-encoded (unreserved kept, '/' kept when keep_slash, %XX upper-case). */
void sigv4_uri_encode(struct sigv4_sb *sb, const char *s, size_t n, int keep_slash);
/* Percent-decodes s ('+' stays literal; invalid escapes are kept). Returns malloc'd string. */
char *sigv4_uri_decode(const char *s, size_t n);
/* Appends path with RFC 3986 dot segments removed and empty segments collapsed. */
void sigv4_normalize_path(struct sigv4_sb *sb, const char *path);
/* Appends the canonical URI of path according to mode. */
void sigv4_canonical_uri(struct sigv4_sb *sb, const char *path, enum sigv4_path_mode mode);
/* Parses a raw query into *out (malloc'd array, free with sigv4_qparams_free). Returns the count.
 */
size_t sigv4_query_parse(const char *query, struct sigv4_qparam **out);
void sigv4_qparams_free(struct sigv4_qparam *p, size_t n);
/* Flags of sigv4_canonical_query: parameters left out of the canonical query string. */
#define SIGV4_Q_NO_SIGNATURE 1 /* X-Amz-Signature (presigned URLs) */
#define SIGV4_Q_NO_TOKEN     2 /* X-Amz-Security-Token added after signing */
/* Appends the canonical query string, leaving out the parameters named by flags. */
void sigv4_canonical_query(struct sigv4_sb *sb, const char *query, int flags);
/* Appends the canonical header lines ("name:value\n") for each name in signed_headers
 * (';'-separated). */
void sigv4_canonical_headers(struct sigv4_sb *sb, const struct sigv4_header *h, size_t n,
                             const char *signed_headers);
/* Appends the whole canonical request (qflags as for sigv4_canonical_query). */
void sigv4_canonical_request(struct sigv4_sb *sb, const char *method, const char *path,
                             enum sigv4_path_mode mode, const char *query, int qflags,
                             const struct sigv4_header *h, size_t n, const char *signed_headers,
                             const char *payload_hash);
/* Appends the string to sign for creq. */
void sigv4_string_to_sign(struct sigv4_sb *sb, const char *amz_date, const char *scope,
                          const char *creq, size_t creq_len);
/* Derives the signing key into key (uses and fills the process-wide bounded cache). */
void sigv4_signing_key(const char *secret, const char *date8, const char *region,
                       const char *service, unsigned char key[32]);
/* Lower-hex HMAC-SHA256 of data under key into out (65 bytes). */
void sigv4_hmac_hex(const unsigned char key[32], const void *data, size_t len, char out[65]);
/* Parses "20150830T123600Z" into *t. Returns 0, or -1 when malformed. */
int sigv4_parse_amz_date(const char *s, time_t *t);
/* Formats t as "20150830T123600Z" into out (17 bytes). */
void sigv4_format_amz_date(time_t t, char out[17]);
/* Splits t (UTC) into year, month (1-12), day, hour, minute, second. */
void sigv4_utc_fields(time_t t, int f[6]);

/* sigv4_verify with an explicit path mode (tests replay the suite's unnormalised cases). */
int sigv4_verify_mode(const sigv4_creds *creds, const struct sigv4_input *in,
                      enum sigv4_path_mode mode, struct sigv4_auth *out,
                      struct sigv4_failure *fail);

/* S3 Signature Version 2 verification of a request whose Authorization header (authz) starts with
 * "AWS ", or (authz NULL) whose query carries AWSAccessKeyId/Signature. As sigv4_verify. */
int sigv4_verify_v2(const sigv4_creds *creds, const struct sigv4_input *in, const char *authz,
                    struct sigv4_auth *out, struct sigv4_failure *fail);
/* Appends the SigV2 CanonicalizedResource of in: "/bucket" for virtual-host requests, the path
 * as sent (with bucket_slash, a bare path-style "/bucket" gets S3's trailing '/'), then the signed
 * sub-resources sorted ("?uploads", "?partNumber=1&uploadId=x"). */
void sigv4_v2_resource(struct sigv4_sb *sb, const struct sigv4_input *in, int bucket_slash);
/* Base64 HMAC-SHA1 of data under secret into out (29 bytes). */
void sigv4_v2_sign(const char *secret, const char *data, size_t len, char out[29]);

/* Test hooks into the signing-key cache: number of derivations performed so far. */
unsigned long sigv4_key_derivations(void);

/* Empties f without freeing (for a caller-provided struct of unknown contents). */
void sigv4_failure_init(struct sigv4_failure *f);
/* Sets f's kind and formatted message (replacing any previous message; details are kept, so they
 * may be added before or after) and returns -1. */
int sigv4_fail(struct sigv4_failure *f, enum sigv4_fail_kind k, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Appends a detail to f: v (n bytes, copied; NULL for a name alone), shown as hex pairs when hex.
 * Details beyond SIGV4_MAX_DETAILS are dropped. */
void sigv4_fail_detail(struct sigv4_failure *f, const char *name, const char *v, size_t n, int hex);
/* Returns the first header named name (case-insensitive; "" for a NULL value), or NULL. */
const char *sigv4_header(const struct sigv4_input *in, const char *name);
/* Returns the query parameter named key (case-insensitive when nocase), or NULL. */
const struct sigv4_qparam *sigv4_param(const struct sigv4_qparam *p, size_t n, const char *key,
                                       int nocase);
/* Formats t as ISO 8601 UTC without fractions ("2015-08-30T12:36:00Z") into out (21 bytes). */
void sigv4_iso_time(time_t t, char out[21]);

/* Copies src into dst (cap bytes), truncating, always NUL-terminated. */
void sigv4_copy_str(char *dst, size_t cap, const char *src);

#endif
