/* AWS Signature Version 4 verification (and S3's Signature Version 2): header and presigned-query
 * auth, the credentials store, and aws-chunked payload decoding. Pure functions of their inputs;
 * no server dependency. */
#ifndef SIGV4_H
#define SIGV4_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

typedef struct sigv4_creds sigv4_creds;

/* One HTTP header as the verifier reads it (protocol/'s request carries its headers in this form,
 * so they are handed over as they are). */
struct sigv4_header {
    const char *name; /* lower-case */
    const char *value;
};

/* Why a request's signature (or its aws-chunked body) was refused. Neutral: protocol/ maps a kind
 * to each protocol's error code and HTTP status. */
enum sigv4_fail_kind {
    SIGV4_OK = 0,
    SIGV4_F_MISSING_AUTH,     /* no signature of any kind */
    SIGV4_F_UNSUPPORTED_AUTH, /* an Authorization scheme the verifier does not know, or one of
                               * the right scheme that cannot be split into its parts */
    SIGV4_F_AMBIGUOUS_AUTH,   /* both an Authorization header and presigned parameters */
    SIGV4_F_INCOMPLETE,       /* a part the signature needs (date, presigned parameter) is absent
                               * or unreadable */
    SIGV4_F_MALFORMED,        /* the header or presigned parameters do not parse */
    SIGV4_F_NOT_IMPLEMENTED,  /* a well-formed algorithm or payload mode not supported */
    SIGV4_F_BAD_SCOPE,        /* credential scope: date, region, service or terminator */
    SIGV4_F_EXPIRED,          /* a presigned URL past its expiry, or not yet valid */
    SIGV4_F_SKEWED,           /* request time too far from the server's clock */
    SIGV4_F_MISSING_PAYLOAD_HASH, /* S3 header auth without x-amz-content-sha256 */
    SIGV4_F_BAD_PAYLOAD_HASH,     /* an x-amz-content-sha256 value that is no hash nor mode */
    SIGV4_F_HEADERS_NOT_SIGNED,   /* headers that must be signed were not */
    SIGV4_F_UNKNOWN_KEY,          /* the access key is not in the credentials store */
    SIGV4_F_BAD_TOKEN,            /* a temporary key without its session token, or another */
    SIGV4_F_EXPIRED_TOKEN,        /* a temporary key past its expiry */
    SIGV4_F_SIGNATURE_MISMATCH,   /* the signature (of the request or of a chunk) is wrong */
    SIGV4_F_BAD_CHUNK,            /* an aws-chunked body that does not decode or is cut short */
    SIGV4_F_INTERNAL,             /* the verifier could not do its work */
};

#define SIGV4_MAX_DETAILS 8

/* A named fact about a failure, in the order AWS lists them (S3 sends each as an element of its
 * <Error>: StringToSign, CanonicalRequest, AWSAccessKeyId, RequestTime, ...). */
struct sigv4_detail {
    const char *name; /* static string */
    char *value;      /* malloc'd; NULL for a detail that is a name only */
    size_t len;
    int hex; /* value is raw bytes, to be shown as space-separated lower-hex pairs */
};

/* A refusal: its kind, AWS's message, and details. presigned says which form of auth failed (S3
 * answers the header and the query form with different codes). Filled by the functions below;
 * release with sigv4_failure_free. A zeroed struct is an empty failure. */
struct sigv4_failure {
    enum sigv4_fail_kind kind;
    int presigned;
    char *message; /* malloc'd */
    size_t n_details;
    struct sigv4_detail details[SIGV4_MAX_DETAILS];
};

/* Frees what f holds and leaves it zeroed. */
void sigv4_failure_free(struct sigv4_failure *f);

/* Returns a credentials store holding the two default key pairs of the contract (test/test and
 * AKIAIOSFODNN7EXAMPLE/wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY) bound to default_account. */
sigv4_creds *sigv4_creds_new(const char *default_account);
void sigv4_creds_free(sigv4_creds *c);
/* Adds or replaces a key pair. Returns 0, or -1 when an argument is malformed. */
int sigv4_creds_add(sigv4_creds *c, const char *access_key, const char *secret,
                    const char *account_id);
/* Loads key pairs from a file: one "ACCESS_KEY_ID SECRET_ACCESS_KEY ACCOUNT_ID" per line
 * (whitespace-separated; '#' starts a comment). Returns 0, or -1 with a one-line reason in err. */
int sigv4_creds_load_file(sigv4_creds *c, const char *path, char *err, size_t errlen);
/* Looks up access_key. Returns 1 and points secret and account at store-owned strings, or 0. */
int sigv4_creds_lookup(const sigv4_creds *c, const char *access_key, const char **secret,
                       const char **account_id);

/* Finds a key pair of account_id: the first one added (the default account's is test/test).
 * Returns 1 and points access_key and secret at store-owned strings, or 0. */
int sigv4_creds_of_account(const sigv4_creds *c, const char *account_id, const char **access_key,
                           const char **secret);
/* A temporary key pair (STS credentials), as a resolver returns it. */
struct sigv4_temp_key {
    char secret[129];
    char account_id[13];
    char session_token[1025];
    time_t expiration; /* epoch seconds: refused from this instant on */
};
/* Looks up an access key that is not one of the store's own pairs. Returns 1 and fills out when
 * access_key is a temporary key the resolver knows (expired or not), else 0. Called on request
 * threads concurrently; must not call back into the store it is set on. */
typedef int (*sigv4_temp_resolver)(void *ctx, const char *access_key, struct sigv4_temp_key *out);
/* Sets the resolver consulted after the key pairs (NULL: none). Set before serving requests. */
void sigv4_creds_set_resolver(sigv4_creds *c, sigv4_temp_resolver fn, void *ctx);
/* Asks the resolver for access_key. Returns 1 and fills out, or 0. */
int sigv4_creds_lookup_temp(const sigv4_creds *c, const char *access_key,
                            struct sigv4_temp_key *out);

/* How an S3 payload is sent, from x-amz-content-sha256. */
enum sigv4_payload {
    SIGV4_PAYLOAD_HASH,                       /* hex SHA-256 of the body, to be checked */
    SIGV4_PAYLOAD_UNSIGNED,                   /* UNSIGNED-PAYLOAD */
    SIGV4_PAYLOAD_STREAMING_SIGNED,           /* STREAMING-AWS4-HMAC-SHA256-PAYLOAD */
    SIGV4_PAYLOAD_STREAMING_SIGNED_TRAILER,   /* STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER */
    SIGV4_PAYLOAD_STREAMING_UNSIGNED_TRAILER, /* STREAMING-UNSIGNED-PAYLOAD-TRAILER */
};

/* The outcome of a verified signature: who signed and what the payload must satisfy.
 * For S3 Signature Version 2 (sigv2 = 1): region is EMPTY (SigV2 names none; the caller uses its
 * default region), service is "s3", amz_date the request's Date/x-amz-date (header auth) or the
 * time of verification (presigned), scope and signing_key are empty, signature is the provided
 * base64 signature, and payload is SIGV4_PAYLOAD_UNSIGNED (SigV2 does not sign the body; a
 * Content-MD5 header is for the S3 provider to check). */
struct sigv4_auth {
    char access_key[129];
    char account_id[13];
    char region[64];
    char service[64];
    char amz_date[17];  /* 20150830T123600Z */
    char scope[160];    /* 20150830/us-east-1/s3/aws4_request */
    char signature[65]; /* the seed signature for chunked payloads */
    unsigned char signing_key[32];
    int presigned;
    enum sigv4_payload payload;
    char payload_hash[65]; /* SIGV4_PAYLOAD_HASH: the hex hash the body must have */
    int sigv2;             /* S3 Signature Version 2 (HMAC-SHA1) */
    int temporary;         /* a temporary key (STS), verified with its session token */
};

/* What the verifier needs to know of one request. */
struct sigv4_input {
    const char *method;
    const char *path;                   /* raw path as sent */
    const char *query;                  /* raw query without '?', "" when none */
    const struct sigv4_header *headers; /* arrival order; names lower-case */
    size_t n_headers;
    int is_s3;               /* S3 rules: raw path, x-amz-content-sha256, SigV2, S3's messages */
    const char *body_sha256; /* non-S3: lower-hex SHA-256 of the body */
    time_t now;
    int clock_skew_seconds; /* 300 for the JSON services, 900 for S3 */
    /* Optional (NULL: accept any): the signing name the scope must carry for a JSON service,
     * e.g. "codepipeline"; a mismatch gives "Credential should be scoped to correct service".
     * S3 always expects "s3". */
    const char *expected_service;
    /* Optional (NULL: only "bucket.localhost"): a host name under which "bucket.<name>" Host
     * headers are virtual-host S3 requests, for the SigV2 CanonicalizedResource. */
    const char *s3_vhost_suffix;
    /* Set by sigv4_precheck: every check but the signature itself. */
    int stop_before_signature;
};

/* Verifies in's signature against creds. S3 requests may also use Signature Version 2
 * ("Authorization: AWS AKID:sig", or presigned AWSAccessKeyId/Expires/Signature); the JSON
 * services reject it. Returns 0 and fills out, or -1 and fills fail (caller frees it with
 * sigv4_failure_free) with AWS's message for the service's kind (S3's or the JSON services'
 * according to in->is_s3). A success allocates nothing in fail. */
int sigv4_verify(const sigv4_creds *creds, const struct sigv4_input *in, struct sigv4_auth *out,
                 struct sigv4_failure *fail);

/* Runs sigv4_verify's checks that do not need the body, in its order: presence, form, time,
 * credential scope and access key; not the signature, which covers the body's hash. Returns 0 when
 * they pass (sigv4_verify still decides once the body is in), or -1 with fail as sigv4_verify's. */
int sigv4_precheck(const sigv4_creds *creds, const struct sigv4_input *in,
                   struct sigv4_failure *fail);

/* For the server, when a verified auth->region is not one it serves: fills fail with the
 * SIGV4_F_BAD_SCOPE refusal AWS gives for a credential scoped to the wrong region (for S3 with the
 * expected Region as a detail) and returns -1. Caller frees fail. */
int sigv4_wrong_region(const struct sigv4_input *in, const struct sigv4_auth *auth,
                       const char *expected, struct sigv4_failure *fail);

/* Returns the access key named by the request's Authorization header or X-Amz-Credential query
 * parameter (malloc'd, caller frees), or NULL. Used with --auth off to pick the account, and to
 * route a request by the service of its credential scope (service_out, malloc'd, may be NULL). */
char *sigv4_peek_credential(const struct sigv4_input *in, char **service_out, char **region_out);

/* Incremental aws-chunked decoder with per-chunk signature and trailer checks. */
struct sigv4_chunked;
/* Returns a decoder for auth's payload mode (a STREAMING-* mode), or NULL on out of memory.
 * decoded_length is x-amz-decoded-content-length (UINT64_MAX: not checked); trailer_names the
 * x-amz-trailer header or NULL. Data is emitted as it arrives, before the chunk's signature is
 * checked at the chunk's end: on an error the caller discards everything emitted. */
struct sigv4_chunked *sigv4_chunked_new(const struct sigv4_auth *auth, uint64_t decoded_length,
                                        const char *trailer_names);
/* Feeds raw body bytes; calls emit for each run of decoded payload bytes. Returns 0; -1 with fail
 * filled (caller frees); or emit's own negative return, with fail left empty (kind SIGV4_OK). */
int sigv4_chunked_feed(struct sigv4_chunked *d, const char *data, size_t len,
                       int (*emit)(void *ctx, const char *data, size_t len), void *ctx,
                       struct sigv4_failure *fail);
/* Checks the stream ended properly (final chunk, trailer signature, decoded length). Returns 0, or
 * -1 with fail filled (caller frees). */
int sigv4_chunked_finish(struct sigv4_chunked *d, struct sigv4_failure *fail);
/* Returns the value of trailer name (e.g. "x-amz-checksum-crc32") after finish, or NULL. */
const char *sigv4_chunked_trailer(const struct sigv4_chunked *d, const char *name);
void sigv4_chunked_free(struct sigv4_chunked *d);

/* Lower-hex SHA-256 of data into out (65 bytes). */
void sigv4_sha256_hex(const void *data, size_t len, char out[65]);
/* The SigV4 signature of a string to sign: the lower-hex HMAC-SHA256 of sts (len bytes) under the
 * signing key of secret, date8 ("20150830"), region and service, into out (65 bytes). The key
 * comes from the process-wide bounded cache. */
void sigv4_signature(const char *secret, const char *date8, const char *region, const char *service,
                     const void *sts, size_t len, char out[65]);

#endif
