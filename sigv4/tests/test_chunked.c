/* The aws-chunked decoder: framing, signatures, trailers, length checks and bounds. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sigv4/canonical.h"
#include "sigv4/tests/helpers.h"

#define EMPTY "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static struct sigv4_auth make_auth(enum sigv4_payload mode)
{
    struct sigv4_auth a;
    memset(&a, 0, sizeof a);
    snprintf(a.amz_date, sizeof a.amz_date, "20250101T120000Z");
    snprintf(a.scope, sizeof a.scope, "20250101/us-east-1/s3/aws4_request");
    snprintf(a.signature, sizeof a.signature, "%064d", 7);
    sigv4_signing_key("test", "20250101", "us-east-1", "s3", a.signing_key);
    a.payload = mode;
    return a;
}

/* Appends one signed chunk and advances prev. */
static void signed_chunk(struct sigv4_sb *sb, const struct sigv4_auth *a, char prev[65],
                         const char *data, size_t n)
{
    char h[65], sts[512], sig[65];
    sigv4_sha256_hex(data, n, h);
    int l = snprintf(sts, sizeof sts, "AWS4-HMAC-SHA256-PAYLOAD\n%s\n%s\n%s\n%s\n%s", a->amz_date,
                     a->scope, prev, EMPTY, h);
    sigv4_hmac_hex(a->signing_key, sts, (size_t)l, sig);
    sigv4_sb_printf(sb, "%zx;chunk-signature=%s\r\n", n, sig);
    sigv4_sb_append(sb, data, n);
    if (n) sigv4_sb_puts(sb, "\r\n");
    memcpy(prev, sig, 65);
}

struct collect {
    struct sigv4_sb out;
};

static int collect_emit(void *ctx, const char *d, size_t n)
{
    sigv4_sb_append(&((struct collect *)ctx)->out, d, n);
    return 0;
}

/* Decodes body in pieces of step bytes. Returns SIGV4_OK, or the kind of the first failure (all of
 * it in *fail). */
static enum sigv4_fail_kind decode(const struct sigv4_auth *a, uint64_t len, const char *body,
                                   size_t n, size_t step, struct collect *c,
                                   struct sigv4_failure *fail, struct sigv4_chunked **keep)
{
    struct sigv4_chunked *d = sigv4_chunked_new(a, len, NULL);
    cr_assert(d);
    sigv4_failure_free(fail);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i += step)
        rc = sigv4_chunked_feed(d, body + i, n - i < step ? n - i : step, collect_emit, c, fail);
    if (rc == 0) rc = sigv4_chunked_finish(d, fail);
    if (keep)
        *keep = d;
    else
        sigv4_chunked_free(d);
    cr_assert_eq(rc == 0, fail->kind == SIGV4_OK);
    return fail->kind;
}

Test(sigv4_chunked, signed_chunks_decode_at_any_split)
{
    struct sigv4_auth a = make_auth(SIGV4_PAYLOAD_STREAMING_SIGNED);
    char prev[65];
    memcpy(prev, a.signature, 65);
    struct sigv4_sb body = SIGV4_SB_INIT;
    signed_chunk(&body, &a, prev, "hello ", 6);
    signed_chunk(&body, &a, prev, "world", 5);
    signed_chunk(&body, &a, prev, "", 0);
    sigv4_sb_puts(&body, "\r\n");
    size_t steps[] = {1, 2, 3, 7, 64, 100000};
    for (size_t s = 0; s < sizeof steps / sizeof steps[0]; s++) {
        struct collect c = {SIGV4_SB_INIT};
        struct sigv4_failure fail = {0};
        cr_expect_eq(decode(&a, 11, body.buf, body.len, steps[s], &c, &fail, NULL), 0,
                     "step %zu: %s", steps[s], fail.message);
        cr_expect_str_eq(sigv4_sb_str(&c.out), "hello world");
        sigv4_failure_free(&fail);
        sigv4_sb_free(&c.out);
    }
    sigv4_sb_free(&body);
}

Test(sigv4_chunked, tampered_data_or_signature_is_rejected)
{
    struct sigv4_auth a = make_auth(SIGV4_PAYLOAD_STREAMING_SIGNED);
    char prev[65];
    memcpy(prev, a.signature, 65);
    struct sigv4_sb body = SIGV4_SB_INIT;
    signed_chunk(&body, &a, prev, "hello", 5);
    signed_chunk(&body, &a, prev, "", 0);
    sigv4_sb_puts(&body, "\r\n");
    char *data = strstr(body.buf, "hello");
    data[0] = 'j';
    struct collect c = {SIGV4_SB_INIT};
    struct sigv4_failure fail = {0};
    cr_expect_eq(decode(&a, 5, body.buf, body.len, 1, &c, &fail, NULL), SIGV4_F_SIGNATURE_MISMATCH);
    cr_expect_str_eq(
        fail.message,
        "The request signature we calculated does not match the signature you provided. Check "
        "your key and signing method.");
    data[0] = 'h';
    /* chunks out of order: the chain from the seed breaks */
    struct sigv4_auth other = a;
    snprintf(other.signature, sizeof other.signature, "%064d", 8);
    cr_expect_eq(decode(&other, 5, body.buf, body.len, 4096, &c, &fail, NULL),
                 SIGV4_F_SIGNATURE_MISMATCH);
    /* missing signature on a signed stream */
    const char *nosig = "5\r\nhello\r\n0\r\n\r\n";
    cr_expect_eq(decode(&a, 5, nosig, strlen(nosig), 4096, &c, &fail, NULL),
                 SIGV4_F_SIGNATURE_MISMATCH);
    sigv4_failure_free(&fail);
    sigv4_sb_free(&c.out);
    sigv4_sb_free(&body);
}

Test(sigv4_chunked, decoded_length_and_truncation)
{
    struct sigv4_auth a = make_auth(SIGV4_PAYLOAD_STREAMING_SIGNED);
    char prev[65];
    memcpy(prev, a.signature, 65);
    struct sigv4_sb body = SIGV4_SB_INIT;
    signed_chunk(&body, &a, prev, "hello", 5);
    signed_chunk(&body, &a, prev, "", 0);
    sigv4_sb_puts(&body, "\r\n");
    struct collect c = {SIGV4_SB_INIT};
    struct sigv4_failure fail = {0};
    cr_expect_eq(decode(&a, 6, body.buf, body.len, 4096, &c, &fail, NULL), SIGV4_F_BAD_CHUNK);
    cr_expect_eq(decode(&a, 4, body.buf, body.len, 4096, &c, &fail, NULL), SIGV4_F_BAD_CHUNK);
    cr_expect_eq(decode(&a, 5, body.buf, body.len - 40, 4096, &c, &fail, NULL), SIGV4_F_BAD_CHUNK);
    cr_expect_str_eq(
        fail.message,
        "You did not provide the number of bytes specified by the Content-Length HTTP header");
    /* data after the end */
    sigv4_sb_puts(&body, "x");
    cr_expect_eq(decode(&a, 5, body.buf, body.len, 4096, &c, &fail, NULL), SIGV4_F_BAD_CHUNK);
    sigv4_failure_free(&fail);
    sigv4_sb_free(&c.out);
    sigv4_sb_free(&body);
}

Test(sigv4_chunked, unsigned_trailer_values_are_returned)
{
    struct sigv4_auth a = make_auth(SIGV4_PAYLOAD_STREAMING_UNSIGNED_TRAILER);
    const char *body = "5\r\nhello\r\n3\r\nabc\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n";
    struct collect c = {SIGV4_SB_INIT};
    struct sigv4_failure fail = {0};
    struct sigv4_chunked *d = NULL;
    cr_assert_eq(decode(&a, 8, body, strlen(body), 1, &c, &fail, &d), 0, "%s", fail.message);
    cr_expect_str_eq(sigv4_sb_str(&c.out), "helloabc");
    cr_expect_str_eq(sigv4_chunked_trailer(d, "x-amz-checksum-crc32"), "AAAAAA==");
    cr_expect_null(sigv4_chunked_trailer(d, "x-amz-checksum-crc64nvme"));
    sigv4_chunked_free(d);
    /* a stream that ends right after the trailers (no final empty line) is accepted */
    const char *body2 = "0\r\nx-amz-checksum-crc32:AAAAAA==\r\n";
    cr_expect_eq(decode(&a, 0, body2, strlen(body2), 3, &c, &fail, NULL), 0, "%s", fail.message);
    sigv4_failure_free(&fail);
    sigv4_sb_free(&c.out);
}

Test(sigv4_chunked, header_lines_are_bounded)
{
    struct sigv4_auth a = make_auth(SIGV4_PAYLOAD_STREAMING_UNSIGNED_TRAILER);
    struct sigv4_chunked *d = sigv4_chunked_new(&a, UINT64_MAX, NULL);
    char junk[1024];
    memset(junk, 'f', sizeof junk);
    struct sigv4_failure fail = {0};
    int rc = 0;
    for (int i = 0; i < 8 && rc == 0; i++)
        rc = sigv4_chunked_feed(d, junk, sizeof junk, NULL, NULL, &fail);
    cr_expect_eq(rc, -1);
    cr_expect_eq(fail.kind, SIGV4_F_BAD_CHUNK);
    cr_expect_str_eq(fail.message, "aws-chunked header line too long");
    sigv4_failure_free(&fail);
    /* errors are sticky */
    cr_expect_eq(sigv4_chunked_feed(d, "\r\n", 2, NULL, NULL, &fail), -1);
    cr_expect_eq(fail.kind, SIGV4_F_BAD_CHUNK);
    sigv4_failure_free(&fail);
    sigv4_chunked_free(d);
    /* an over-long hex size */
    d = sigv4_chunked_new(&a, UINT64_MAX, NULL);
    cr_expect_eq(sigv4_chunked_feed(d, "11111111111111111\r\n", 19, NULL, NULL, &fail), -1);
    cr_expect_eq(fail.kind, SIGV4_F_BAD_CHUNK);
    sigv4_chunked_free(d);
    sigv4_failure_free(&fail);
}

static int failing_emit(void *ctx, const char *d, size_t n)
{
    (void)ctx;
    (void)d;
    (void)n;
    return -7;
}

Test(sigv4_chunked, emit_errors_are_passed_through)
{
    struct sigv4_auth a = make_auth(SIGV4_PAYLOAD_STREAMING_UNSIGNED_TRAILER);
    struct sigv4_chunked *d = sigv4_chunked_new(&a, UINT64_MAX, NULL);
    struct sigv4_failure fail = {0};
    cr_expect_eq(sigv4_chunked_feed(d, "2\r\nab\r\n", 7, failing_emit, NULL, &fail), -7);
    cr_expect_eq(fail.kind, SIGV4_OK, "emit's error is emit's, not a refusal of the body");
    cr_expect_null(fail.message);
    sigv4_chunked_free(d);
    sigv4_failure_free(&fail);
}
