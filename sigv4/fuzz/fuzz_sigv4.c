/* libFuzzer target: the Authorization header / credential parsers, presigned queries, aws-chunked
 * decoding. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sigv4/canonical.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static sigv4_creds *creds;

static int sink(void *ctx, const char *d, size_t n)
{
    (void)d;
    *(size_t *)ctx += n;
    return 0;
}

static void verify_both(struct sigv4_input *in)
{
    for (int s3 = 0; s3 < 2; s3++) {
        struct sigv4_auth out;
        struct sigv4_failure fail = {0};
        in->is_s3 = s3;
        in->clock_skew_seconds = s3 ? 900 : 300;
        int rc = sigv4_verify(creds, in, &out, &fail);
        if (rc == 0 && (fail.message || fail.kind != SIGV4_OK || fail.n_details)) abort();
        if (rc != 0 && (!fail.message || fail.kind == SIGV4_OK)) abort();
        sigv4_failure_free(&fail);
    }
    char *svc = NULL, *region = NULL;
    free(sigv4_peek_credential(in, &svc, &region));
    free(svc);
    free(region);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!creds) creds = sigv4_creds_new("000000000000");
    if (size < 1) return 0;
    uint8_t sel = data[0];
    data++;
    size--;
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';
    if ((sel & 3) == 0 || (sel & 3) == 1) {
        /* Authorization header (0) or the query string (1) */
        struct sigv4_header h[] = {
            {"host", "localhost:4566"},
            {"x-amz-date", (sel & 4) ? "20250101T120000Z" : "garbage"},
            {"x-amz-content-sha256", (sel & 8) ? "UNSIGNED-PAYLOAD" : s},
            {"authorization", s},
        };
        struct sigv4_input in = {
            .method = "GET",
            .path = (sel & 16) ? s : "/b/k",
            .query = (sel & 3) == 1 ? s : "",
            .headers = h,
            .n_headers = (sel & 3) == 1 ? 3 : 4,
            .body_sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            .now = 1735732800,
        };
        verify_both(&in);
        struct sigv4_sb sb = SIGV4_SB_INIT;
        sigv4_canonical_uri(&sb, s, SIGV4_PATH_NORMALIZE);
        sigv4_canonical_query(&sb, s, SIGV4_Q_NO_SIGNATURE);
        sigv4_canonical_headers(&sb, h, 4, s);
        sigv4_sb_free(&sb);
    } else {
        /* aws-chunked body, fed in pieces whose sizes come from the selector */
        static const enum sigv4_payload modes[] = {
            SIGV4_PAYLOAD_STREAMING_SIGNED, SIGV4_PAYLOAD_STREAMING_SIGNED_TRAILER,
            SIGV4_PAYLOAD_STREAMING_UNSIGNED_TRAILER, SIGV4_PAYLOAD_STREAMING_UNSIGNED_TRAILER};
        struct sigv4_auth a;
        memset(&a, 0, sizeof a);
        memcpy(a.amz_date, "20250101T120000Z", 17);
        memcpy(a.scope, "20250101/us-east-1/s3/aws4_request", 35);
        memset(a.signature, '0', 64);
        a.payload = modes[(sel >> 2) & 3];
        struct sigv4_chunked *d =
            sigv4_chunked_new(&a, (sel & 0x10) ? UINT64_MAX : 64, "x-amz-checksum-crc32");
        size_t step = 1 + (sel >> 5) * 7, total = 0;
        struct sigv4_failure fail = {0};
        int rc = 0;
        for (size_t i = 0; i < size && rc == 0; i += step)
            rc = sigv4_chunked_feed(d, s + i, size - i < step ? size - i : step, sink, &total,
                                    &fail);
        if (rc == 0) rc = sigv4_chunked_finish(d, &fail);
        if (rc == 0) sigv4_chunked_trailer(d, "x-amz-checksum-crc32");
        if (rc != 0 && (!fail.message || fail.kind == SIGV4_OK)) abort();
        sigv4_failure_free(&fail);
        sigv4_chunked_free(d);
    }
    free(s);
    return 0;
}
