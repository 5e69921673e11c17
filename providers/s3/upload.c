/* Streaming uploads: PutObject and UploadPart bodies go straight to a blob, hashed on the fly. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "protocol/authfail.h"
#include "sigv4/sigv4.h"
#include "providers/s3/internal.h"
#include "sigv4/encode.h"

#define S3_MAX_PUT_SIZE (5ull << 30)

/* The largest single upload: S3's 5 GiB, or less when CPL_S3_MAX_PUT_SIZE (bytes) says so, which
 * lets the tests reach the limit cheaply. */
static uint64_t max_put_size(void)
{
    const char *e = getenv("CPL_S3_MAX_PUT_SIZE");
    uint64_t v = 0;
    if (e && s3_parse_uint(e, S3_MAX_PUT_SIZE, &v) == 0 && v > 0) return v;
    return S3_MAX_PUT_SIZE;
}

struct upload_state {
    store_blob_writer *w;
    struct s3_hasher h;
    int hasher_ready;
    int want_sha;
    char expected_sha[65];
    struct sigv4_auth fake_auth; /* --auth off: the payload mode alone, for the decoder */
    struct sigv4_chunked *chunked;
    enum s3_cksum ck;
    const char *ck_expected; /* header value, or NULL (trailer or none) */
    int ck_trailer;
    uint64_t max_size; /* a body without aws-chunked framing stops here */
    uint64_t received;
};

static void state_free(struct upload_state *st)
{
    if (!st) return;
    store_blob_discard(st->w);
    st->w = NULL;
    if (st->hasher_ready) s3_hasher_free(&st->h);
    st->hasher_ready = 0;
    sigv4_chunked_free(st->chunked);
    st->chunked = NULL;
}

void s3_upload_cleanup(struct proto_req *req)
{
    if (req->sink != &s3_upload_sink) return;
    state_free(req->sink_state);
}

static int emit(void *ctx, const char *data, size_t len)
{
    struct upload_state *st = ctx;
    s3_hasher_update(&st->h, data, len);
    if (store_blob_write(st->w, data, len) != 0) return -ERR_S3_INTERNAL_ERROR;
    return 0;
}

static int sink_write(struct proto_req *req, const char *data, size_t len)
{
    struct upload_state *st = req->sink_state;
    if (!st->chunked) {
        /* An HTTP-chunked body declares no length (a Content-Length beside it does not count):
         * bound what reaches the disk. */
        if (len > st->max_size - st->received) {
            s3_err_extra(req, "MaxSizeAllowed",
                         proto_arena_printf(req->arena, "%llu", (unsigned long long)st->max_size));
            return proto_error(req, ERR_S3_ENTITY_TOO_LARGE,
                               "Your proposed upload exceeds the maximum allowed size");
        }
        st->received += len;
        int rc = emit(st, data, len);
        if (rc < 0)
            proto_error(req, ERR_S3_INTERNAL_ERROR,
                        "We encountered an internal error. Please try again.");
        return rc;
    }
    struct sigv4_failure fail;
    int rc = sigv4_chunked_feed(st->chunked, data, len, emit, st, &fail);
    if (rc < 0) {
        /* emit's own errors and the decoder's internal ones answer as S3's InternalError */
        if (fail.kind == SIGV4_OK || fail.kind == SIGV4_F_INTERNAL || !fail.message)
            rc = proto_error(req, ERR_S3_INTERNAL_ERROR,
                             "We encountered an internal error. Please try again.");
        else
            rc = proto_auth_error(req, &fail);
    }
    sigv4_failure_free(&fail);
    return rc;
}

static void sink_abort(struct proto_req *req)
{
    state_free(req->sink_state);
}

const struct proto_body_sink s3_upload_sink = {.write = sink_write, .abort = sink_abort};

static int is_hex64(const char *s)
{
    if (!s || strlen(s) != 64) return 0;
    for (int i = 0; i < 64; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
              (s[i] >= 'A' && s[i] <= 'F')))
            return 0;
    return 1;
}

/* Picks the flexible checksum of the request: a header value, a trailer, or the SDK's algorithm. */
static int pick_checksum(struct proto_req *req, struct upload_state *st)
{
    int found = 0;
    for (int c = S3_CK_CRC32; c <= S3_CK__LAST; c++) {
        const char *v = proto_req_header(req, s3_cksum_header((enum s3_cksum)c));
        if (!v) continue;
        if (found++)
            return proto_error(req, ERR_S3_INVALID_REQUEST,
                               "Expecting a single x-amz-checksum- header. Multiple checksum Types "
                               "are not allowed.");
        st->ck = (enum s3_cksum)c;
        st->ck_expected = v;
    }
    const char *trailer = proto_req_header(req, "x-amz-trailer");
    if (!found && trailer) {
        while (*trailer == ' ')
            trailer++;
        if (strncasecmp(trailer, "x-amz-checksum-", 15) == 0) {
            st->ck = s3_cksum_from_name(trailer + 15);
            if (st->ck == S3_CK_NONE)
                return proto_error(
                    req, ERR_S3_INVALID_REQUEST,
                    "The value specified in the x-amz-trailer header is not supported");
            st->ck_trailer = 1;
            found = 1;
        }
    }
    if (!found) {
        const char *algo = proto_req_header(req, "x-amz-sdk-checksum-algorithm");
        if (algo) {
            st->ck = s3_cksum_from_name(algo);
            if (st->ck == S3_CK_NONE)
                return proto_error(req, ERR_S3_INVALID_REQUEST,
                                   "Checksum algorithm provided is unsupported. Please try again "
                                   "with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, "
                                   "SHA256]");
        }
    }
    return 0;
}

int s3_upload_begin(struct proto_req *req)
{
    struct upload_state *st = proto_arena_alloc(req->arena, sizeof(*st));
    const struct sigv4_auth *auth = req->auth;
    const char *sha = proto_req_header(req, "x-amz-content-sha256");
    int rc = pick_checksum(req, st);
    if (rc) return rc;

    uint64_t max = max_put_size();
    st->max_size = max;
    enum sigv4_payload mode = SIGV4_PAYLOAD_UNSIGNED;
    if (auth) {
        mode = auth->payload;
        if (mode == SIGV4_PAYLOAD_HASH) {
            st->want_sha = 1;
            memcpy(st->expected_sha, auth->payload_hash, sizeof(st->expected_sha));
        }
    } else if (sha) {
        /* --auth off: still honour the payload framing the client chose */
        if (is_hex64(sha)) {
            st->want_sha = 1;
            for (int i = 0; i < 64; i++)
                st->expected_sha[i] = (char)(sha[i] | 0x20);
        } else if (strncmp(sha, "STREAMING-", 10) == 0) {
            mode = SIGV4_PAYLOAD_STREAMING_UNSIGNED_TRAILER;
            st->fake_auth.payload = mode;
            auth = &st->fake_auth;
        }
    }

    const char *cl = proto_req_header(req, "content-length");
    const char *te = proto_req_header(req, "transfer-encoding");
    if (!cl && !te)
        return proto_error(req, ERR_S3_MISSING_CONTENT_LENGTH,
                           "You must provide the Content-Length HTTP header.");
    if (mode >= SIGV4_PAYLOAD_STREAMING_SIGNED) {
        const char *dl = proto_req_header(req, "x-amz-decoded-content-length");
        uint64_t n = 0;
        if (!dl || !*dl || strspn(dl, "0123456789") != strlen(dl))
            return proto_error(req, ERR_S3_MISSING_CONTENT_LENGTH,
                               "You must provide the Content-Length HTTP header.");
        if (s3_parse_uint(dl, max, &n)) {
            cl = dl; /* the proposed size is the decoded length */
            goto too_large;
        }
        st->chunked = sigv4_chunked_new(auth, n, proto_req_header(req, "x-amz-trailer"));
        if (!st->chunked) goto internal;
    } else if (cl) {
        char *end = NULL;
        unsigned long long n = strtoull(cl, &end, 10);
        if (*end) return proto_error(req, ERR_S3_INVALID_ARGUMENT, "Invalid Content-Length");
        if (n > max) goto too_large;
    }
    if (s3_hasher_init(&st->h, st->want_sha, st->ck)) goto internal;
    st->hasher_ready = 1;
    if (store_blob_create(req->store, &st->w) != 0) {
        state_free(st);
        goto internal;
    }
    req->sink = &s3_upload_sink;
    req->sink_state = st;
    return 0;
too_large:
    s3_err_extra(req, "ProposedSize", cl ? cl : "");
    s3_err_extra(req, "MaxSizeAllowed",
                 proto_arena_printf(req->arena, "%llu", (unsigned long long)max));
    return proto_error(req, ERR_S3_ENTITY_TOO_LARGE,
                       "Your proposed upload exceeds the maximum allowed size");
internal:
    sigv4_chunked_free(st->chunked);
    st->chunked = NULL;
    return proto_error(req, ERR_S3_INTERNAL_ERROR,
                       "We encountered an internal error. Please try again.");
}

int s3_upload_finish(struct proto_req *req, struct s3_upload_result *res)
{
    struct upload_state *st = req->sink_state;
    int rc = 0;
    char sha_hex[65], ck_b64[S3_CK_B64_MAX];
    unsigned char md5_raw[16];
    memset(res, 0, sizeof(*res));
    if (req->sink != &s3_upload_sink || !st || !st->w)
        return proto_error(req, ERR_S3_INTERNAL_ERROR,
                           "We encountered an internal error. Please try again.");

    const char *expected_ck = st->ck_expected;
    if (st->chunked) {
        struct sigv4_failure fail;
        if (sigv4_chunked_finish(st->chunked, &fail) < 0) {
            rc = proto_auth_error(req, &fail);
            sigv4_failure_free(&fail);
            goto out;
        }
        if (st->ck_trailer) {
            expected_ck = sigv4_chunked_trailer(st->chunked, s3_cksum_header(st->ck));
            if (expected_ck) expected_ck = proto_arena_strdup(req->arena, expected_ck);
        }
    }
    s3_hasher_final(&st->h, res->md5_hex, md5_raw, sha_hex, ck_b64, NULL, NULL);
    s3_hasher_free(&st->h);
    st->hasher_ready = 0;

    if (st->want_sha && strcmp(sha_hex, st->expected_sha) != 0) {
        s3_err_extra(req, "ClientComputedContentSHA256", st->expected_sha);
        s3_err_extra(req, "S3ComputedContentSHA256", sha_hex);
        rc = proto_error(req, ERR_S3_CONTENT_SHA256_MISMATCH,
                         "The provided 'x-amz-content-sha256' header does not match what was "
                         "computed.");
        goto out;
    }
    const char *cmd5 = proto_req_header(req, "content-md5");
    if (cmd5) {
        unsigned char want[16];
        if (s3_base64_decode(cmd5, want, sizeof(want)) != 16) {
            rc = proto_error(req, ERR_S3_INVALID_DIGEST,
                             "The Content-MD5 you specified was invalid.");
            goto out;
        }
        if (memcmp(want, md5_raw, 16) != 0) {
            char calc[32];
            sigv4_base64(md5_raw, 16, calc);
            s3_err_extra(req, "ExpectedDigest", cmd5);
            s3_err_extra(req, "CalculatedDigest", calc);
            rc = proto_error(req, ERR_S3_BAD_DIGEST,
                             "The Content-MD5 you specified did not match what we received.");
            goto out;
        }
    }
    if (st->ck != S3_CK_NONE && expected_ck) {
        unsigned char tmp[64];
        int n = s3_base64_decode(expected_ck, tmp, sizeof(tmp));
        int want_len = s3_cksum_len(st->ck);
        if (n != want_len) {
            rc = proto_error(req, ERR_S3_INVALID_REQUEST, "Value for %s header is invalid.",
                             s3_cksum_header(st->ck));
            goto out;
        }
        if (strcmp(expected_ck, ck_b64) != 0) {
            rc = proto_error(req, ERR_S3_BAD_DIGEST,
                             "The %s you specified did not match the calculated checksum.",
                             s3_cksum_name(st->ck));
            goto out;
        }
    } else if (st->ck_trailer && !expected_ck) {
        rc = proto_error(req, ERR_S3_INCOMPLETE_BODY, "The request body terminated unexpectedly");
        goto out;
    }
    res->size = store_blob_size(st->w);
    res->ck = st->ck;
    memcpy(res->ck_b64, ck_b64, sizeof(ck_b64));
    res->blob = st->w;
    st->w = NULL;
out:
    state_free(st);
    return rc;
}
