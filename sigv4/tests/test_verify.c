/* sigv4_verify failure paths: the kinds, messages and details of refusals for JSON services and S3.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sigv4/canonical.h"
#include "sigv4/tests/helpers.h"

#define DATE        "20250101T120000Z"
#define T0          1735732800 /* 2025-01-01T12:00:00Z */
#define EMPTY       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define JSON_SIGNED "content-type;host;x-amz-date;x-amz-target"

/* A request under construction: headers, query, and the verifier's input and outputs. */
struct treq {
    struct sigv4_header h[16];
    size_t n;
    char authz[1024];
    char query[2048];
    char body_hash[65];
    struct sigv4_input in;
    struct sigv4_auth out;
    struct sigv4_failure fail;
    const char *msg;       /* fail's message */
    struct sigv4_sb extra; /* fail's details, as th_details writes them */
};

static sigv4_creds *creds;

static void setup(void)
{
    creds = sigv4_creds_new("000000000000");
    cr_assert(creds);
}

static void teardown(void)
{
    sigv4_creds_free(creds);
}

static void add(struct treq *r, const char *name, const char *value)
{
    r->h[r->n].name = name;
    r->h[r->n].value = value;
    r->n++;
}

static void set_header(struct treq *r, const char *name, const char *value)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->h[i].name, name) == 0) {
            r->h[i].value = value;
            return;
        }
    add(r, name, value);
}

/* A CodePipeline request signed by (akid, secret) at date. */
static void json_req(struct treq *r, const char *akid, const char *secret, const char *date)
{
    memset(r, 0, sizeof *r);
    add(r, "host", "localhost:4566");
    add(r, "content-type", "application/x-amz-json-1.1");
    add(r, "x-amz-date", date);
    add(r, "x-amz-target", "CodePipeline_20150709.ListPipelines");
    sigv4_sha256_hex("{}", 2, r->body_hash);
    const char *sig = th_sign(secret, date, "us-east-1", "codepipeline", "POST", "/",
                              SIGV4_PATH_NORMALIZE, "", 0, r->h, r->n, JSON_SIGNED, r->body_hash);
    snprintf(r->authz, sizeof r->authz,
             "AWS4-HMAC-SHA256 Credential=%s/%.8s/us-east-1/codepipeline/aws4_request, "
             "SignedHeaders=" JSON_SIGNED ", Signature=%s",
             akid, date, sig);
    add(r, "authorization", r->authz);
    r->in = (struct sigv4_input){.method = "POST",
                                 .path = "/",
                                 .query = "",
                                 .headers = r->h,
                                 .n_headers = r->n,
                                 .is_s3 = 0,
                                 .body_sha256 = r->body_hash,
                                 .now = T0,
                                 .clock_skew_seconds = 300};
}

/* An S3 GET signed with the given x-amz-content-sha256 (NULL: no such header). */
static void s3_req(struct treq *r, const char *akid, const char *secret, const char *sha)
{
    memset(r, 0, sizeof *r);
    add(r, "host", "localhost:4566");
    add(r, "x-amz-date", DATE);
    const char *signed_h = "host;x-amz-date";
    if (sha) {
        add(r, "x-amz-content-sha256", sha);
        signed_h = "host;x-amz-content-sha256;x-amz-date";
    }
    const char *sig =
        th_sign(secret, DATE, "us-east-1", "s3", "GET", "/bucket/a%20b//c", SIGV4_PATH_RAW,
                "list-type=2&prefix=x", 0, r->h, r->n, signed_h, sha ? sha : EMPTY);
    snprintf(r->authz, sizeof r->authz,
             "AWS4-HMAC-SHA256 "
             "Credential=%s/20250101/us-east-1/s3/aws4_request,SignedHeaders=%s,Signature=%s",
             akid, signed_h, sig);
    add(r, "authorization", r->authz);
    r->in = (struct sigv4_input){.method = "GET",
                                 .path = "/bucket/a%20b//c",
                                 .query = "list-type=2&prefix=x",
                                 .headers = r->h,
                                 .n_headers = r->n,
                                 .is_s3 = 1,
                                 .now = T0,
                                 .clock_skew_seconds = 900};
}

/* A presigned S3 GET valid for expires seconds from date. */
static void s3_presigned(struct treq *r, const char *date, const char *expires)
{
    memset(r, 0, sizeof *r);
    add(r, "host", "localhost:4566");
    char base[1024];
    snprintf(base, sizeof base,
             "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=test%%2F%.8s%%2Fus-east-1%%2Fs3%%"
             "2Faws4_request"
             "&X-Amz-Date=%s&X-Amz-Expires=%s&X-Amz-SignedHeaders=host",
             date, date, expires);
    const char *sig = th_sign("test", date, "us-east-1", "s3", "GET", "/bucket/key", SIGV4_PATH_RAW,
                              base, SIGV4_Q_NO_SIGNATURE, r->h, r->n, "host", "UNSIGNED-PAYLOAD");
    snprintf(r->query, sizeof r->query, "%s&X-Amz-Signature=%s", base, sig);
    r->in = (struct sigv4_input){.method = "GET",
                                 .path = "/bucket/key",
                                 .query = r->query,
                                 .headers = r->h,
                                 .n_headers = r->n,
                                 .is_s3 = 1,
                                 .now = T0,
                                 .clock_skew_seconds = 900};
}

/* Returns SIGV4_OK, or the kind of the refusal (its message in r->msg, its details in r->extra). */
static enum sigv4_fail_kind verify(struct treq *r)
{
    return th_verify(creds, &r->in, r->h, r->n, &r->out, &r->fail, &r->msg, &r->extra);
}

static void done(struct treq *r)
{
    sigv4_failure_free(&r->fail);
    sigv4_sb_free(&r->extra);
}

TestSuite(sigv4_verify, .init = setup, .fini = teardown);

Test(sigv4_verify, accepts_signed_json_request)
{
    struct treq r;
    json_req(&r, "test", "test", DATE);
    cr_assert_eq(verify(&r), 0, "%s", r.msg);
    cr_expect_str_eq(r.out.access_key, "test");
    cr_expect_str_eq(r.out.account_id, "000000000000");
    cr_expect_str_eq(r.out.region, "us-east-1");
    cr_expect_str_eq(r.out.service, "codepipeline");
    cr_expect_str_eq(r.out.amz_date, DATE);
    cr_expect_eq(r.out.presigned, 0);
    done(&r);
}

Test(sigv4_verify, accepts_any_region)
{
    struct treq r;
    memset(&r, 0, sizeof r);
    add(&r, "host", "localhost:4566");
    add(&r, "x-amz-date", DATE);
    const char *sig = th_sign("test", DATE, "ap-southeast-7", "codebuild", "POST", "/",
                              SIGV4_PATH_NORMALIZE, "", 0, r.h, r.n, "host;x-amz-date", EMPTY);
    snprintf(r.authz, sizeof r.authz,
             "AWS4-HMAC-SHA256 Credential=test/20250101/ap-southeast-7/codebuild/aws4_request "
             "SignedHeaders=host;x-amz-date Signature=%s",
             sig);
    add(&r, "authorization", r.authz);
    r.in = (struct sigv4_input){.method = "POST",
                                .path = "/",
                                .query = "",
                                .is_s3 = 0,
                                .body_sha256 = EMPTY,
                                .now = T0,
                                .clock_skew_seconds = 300};
    cr_assert_eq(verify(&r), 0, "space-separated auth params: %s", r.msg);
    cr_expect_str_eq(r.out.region, "ap-southeast-7");
    done(&r);
}

Test(sigv4_verify, tampered_header_body_and_secret_are_rejected)
{
    struct treq r;
    json_req(&r, "test", "test", DATE);
    set_header(&r, "x-amz-target", "CodePipeline_20150709.DeletePipeline");
    cr_assert_eq(verify(&r), SIGV4_F_SIGNATURE_MISMATCH);
    cr_expect(
        strncmp(
            r.msg,
            "The request signature we calculated does not match the signature you provided. Check "
            "your AWS Secret Access Key and signing method. Consult the service documentation for "
            "details.\n\nThe Canonical String for this request should have been\n'POST\n/\n\n",
            229) == 0,
        "%s", r.msg);
    cr_expect(strstr(r.msg, "x-amz-target:CodePipeline_20150709.DeletePipeline\n"));
    cr_expect(
        strstr(r.msg, "\n\nThe String-to-Sign should have been\n'AWS4-HMAC-SHA256\n" DATE "\n"));
    done(&r);

    json_req(&r, "test", "test", DATE);
    r.in.body_sha256 = EMPTY;
    cr_expect_eq(verify(&r), SIGV4_F_SIGNATURE_MISMATCH);
    done(&r);

    json_req(&r, "test", "wrong-secret", DATE);
    cr_expect_eq(verify(&r), SIGV4_F_SIGNATURE_MISMATCH);
    done(&r);
}

Test(sigv4_verify, expired_and_future_dates_have_aws_messages)
{
    struct treq r;
    json_req(&r, "test", "test", DATE);
    r.in.now = T0 + 301;
    TH_EXPECT_ERR(&r, SIGV4_F_SKEWED,
                  "Signature expired: 20250101T120000Z is now earlier than 20250101T120001Z "
                  "(20250101T120501Z - 5 "
                  "min.)");
    r.in.now = T0 + 300;
    cr_expect_eq(verify(&r), 0, "the edge of the window is accepted: %s", r.msg);
    r.in.now = T0 - 301;
    TH_EXPECT_ERR(
        &r, SIGV4_F_SKEWED,
        "Signature not yet current: 20250101T120000Z is still later than 20250101T115959Z "
        "(20250101T115459Z "
        "+ 5 min.)");
    done(&r);
}

Test(sigv4_verify, unknown_access_key)
{
    struct treq r;
    json_req(&r, "NOSUCHKEY", "x", DATE);
    TH_EXPECT_ERR(&r, SIGV4_F_UNKNOWN_KEY,
                  "The security token included in the request is invalid.");
    done(&r);
}

Test(sigv4_verify, missing_authentication)
{
    struct treq r;
    json_req(&r, "test", "test", DATE);
    r.n--; /* drop Authorization */
    TH_EXPECT_ERR(&r, SIGV4_F_MISSING_AUTH, "Request is missing Authentication Token");
    set_header(&r, "authorization", "Bearer abc");
    TH_EXPECT_ERR(&r, SIGV4_F_UNSUPPORTED_AUTH, "Request is missing Authentication Token");
    done(&r);
}

Test(sigv4_verify, malformed_authorization_variants)
{
    struct treq r;
    json_req(&r, "test", "test", DATE);
    const char *h1 =
        "AWS4-HMAC-SHA256 Credential=test/20250101/us-east-1/codepipeline/aws4_request";
    set_header(&r, "authorization", h1);
    TH_EXPECT_ERR(
        &r, SIGV4_F_INCOMPLETE,
        "Authorization header requires 'Signature' parameter. Authorization header requires "
        "'SignedHeaders' parameter. Authorization=AWS4-HMAC-SHA256 "
        "Credential=test/20250101/us-east-1/codepipeline/aws4_request");
    const char *h2 =
        "AWS4-HMAC-SHA256 Credential=test/20250101/us-east-1/codepipeline/aws4_request, "
        "SignedHeaders=host, Signature=abc, garbage";
    set_header(&r, "authorization", h2);
    TH_EXPECT_ERR(
        &r, SIGV4_F_MALFORMED,
        "'garbage' not a valid key=value pair (missing equal-sign) in Authorization header: "
        "'AWS4-HMAC-SHA256 Credential=test/20250101/us-east-1/codepipeline/aws4_request, "
        "SignedHeaders=host, Signature=abc, garbage'.");
    set_header(&r, "authorization",
               "AWS4-HMAC-SHA256 Credential=test/20250101/us-east-1/codepipeline, "
               "SignedHeaders=host, Signature=abc");
    TH_EXPECT_ERR(&r, SIGV4_F_MALFORMED,
                  "Credential must have exactly 5 slash-delimited elements, e.g. "
                  "keyid/date/region/service/term, got "
                  "'test/20250101/us-east-1/codepipeline'");
    set_header(&r, "authorization",
               "AWS4-HMAC-SHA512 Credential=test/20250101/us-east-1/codepipeline/aws4_request, "
               "SignedHeaders=host, Signature=abc");
    TH_EXPECT_ERR(
        &r, SIGV4_F_MALFORMED,
        "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA512' (only AWS4-HMAC-SHA256 for now). ");
    set_header(&r, "x-amz-date", "2025-01-01T12:00:00Z");
    set_header(&r, "authorization",
               "AWS4-HMAC-SHA256 Credential=test/20250101/us-east-1/codepipeline/aws4_request, "
               "SignedHeaders=host, Signature=abc");
    TH_EXPECT_ERR(&r, SIGV4_F_INCOMPLETE,
                  "Date must be in ISO-8601 'basic format'. Got '2025-01-01T12:00:00Z'. See "
                  "http://en.wikipedia.org/wiki/ISO_8601");
    done(&r);

    /* no date header at all */
    json_req(&r, "test", "test", DATE);
    r.h[2].name = "x-other";
    set_header(&r, "authorization",
               "AWS4-HMAC-SHA256 Credential=a/b/c/d/e, SignedHeaders=host, Signature=abc");
    TH_EXPECT_ERR(
        &r, SIGV4_F_INCOMPLETE,
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "
        "Authorization=AWS4-HMAC-SHA256 Credential=a/b/c/d/e, SignedHeaders=host, Signature=abc");
    done(&r);
}

Test(sigv4_verify, comma_only_separators_are_accepted)
{
    struct treq r;
    json_req(&r, "test", "test", DATE);
    for (char *p = r.authz; (p = strstr(p, ", "));)
        memmove(p + 1, p + 2, strlen(p + 2) + 1);
    cr_assert_null(strstr(r.authz, ", "));
    cr_expect_eq(verify(&r), 0, "%s", r.msg);
    done(&r);
}

Test(sigv4_verify, host_must_be_signed_and_scope_checked)
{
    struct treq r;
    json_req(&r, "test", "test", DATE);
    set_header(&r, "authorization",
               "AWS4-HMAC-SHA256 Credential=test/20250101/us-east-1/codepipeline/aws4_request, "
               "SignedHeaders=x-amz-date, Signature=abc");
    TH_EXPECT_ERR(&r, SIGV4_F_HEADERS_NOT_SIGNED,
                  "'Host' must be a 'SignedHeader' in the AWS Authorization.");
    set_header(&r, "authorization",
               "AWS4-HMAC-SHA256 Credential=test/20250102/us-east-1/codepipeline/aws4_request, "
               "SignedHeaders=host, Signature=abc");
    TH_EXPECT_ERR(
        &r, SIGV4_F_BAD_SCOPE,
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
        "'20250102' != '20250101', from '20250101T120000Z'.");
    set_header(&r, "authorization",
               "AWS4-HMAC-SHA256 Credential=test/20250101/us-east-1/codepipeline/aws5_request, "
               "SignedHeaders=host, Signature=abc");
    TH_EXPECT_ERR(&r, SIGV4_F_BAD_SCOPE,
                  "Credential should be scoped with a valid terminator: 'aws4_request', not "
                  "'aws5_request'. ");
    set_header(&r, "authorization",
               "AWS4-HMAC-SHA256 Credential=test/20250101/US_EAST/codepipeline/aws4_request, "
               "SignedHeaders=host, Signature=abc");
    TH_EXPECT_ERR(&r, SIGV4_F_BAD_SCOPE,
                  "Credential should be scoped to a valid region, not 'US_EAST'. ");
    done(&r);

    json_req(&r, "test", "test", DATE);
    r.in.expected_service = "codebuild";
    TH_EXPECT_ERR(&r, SIGV4_F_BAD_SCOPE,
                  "Credential should be scoped to correct service: 'codebuild'. ");
    r.in.expected_service = "codepipeline";
    cr_expect_eq(verify(&r), 0, "%s", r.msg);
    done(&r);
}

Test(sigv4_verify, both_auth_forms)
{
    struct treq r;
    json_req(&r, "test", "test", DATE);
    r.in.query = "X-Amz-Algorithm=AWS4-HMAC-SHA256";
    TH_EXPECT_ERR(
        &r, SIGV4_F_AMBIGUOUS_AUTH,
        "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header.");
    done(&r);
    s3_req(&r, "test", "test", EMPTY);
    r.in.query = "X-Amz-Algorithm=AWS4-HMAC-SHA256";
    TH_EXPECT_ERR(&r, SIGV4_F_AMBIGUOUS_AUTH,
                  "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, "
                  "Signature query string "
                  "parameter or the Authorization header should be specified");
    cr_expect_str_eq(sigv4_sb_str(&r.extra), "<ArgumentName>Authorization</ArgumentName>");
    done(&r);
}

Test(sigv4_verify, json_presigned_missing_params)
{
    struct treq r;
    json_req(&r, "test", "test", DATE);
    r.n--;
    r.in.query = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=" DATE;
    TH_EXPECT_ERR(&r, SIGV4_F_INCOMPLETE,
                  "AWS query-string parameters must include 'X-Amz-Credential'. AWS query-string "
                  "parameters must "
                  "include 'X-Amz-Signature'. AWS query-string parameters must include "
                  "'X-Amz-SignedHeaders'. "
                  "Re-examine the query-string parameters.");
    done(&r);
}

Test(sigv4_verify, s3_header_auth_and_payload_modes)
{
    struct treq r;
    s3_req(&r, "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", EMPTY);
    cr_assert_eq(verify(&r), 0, "%s", r.msg);
    cr_expect_eq(r.out.payload, SIGV4_PAYLOAD_HASH);
    cr_expect_str_eq(r.out.payload_hash, EMPTY);
    done(&r);
    struct {
        const char *v;
        enum sigv4_payload p;
    } modes[] = {
        {"UNSIGNED-PAYLOAD", SIGV4_PAYLOAD_UNSIGNED},
        {"STREAMING-AWS4-HMAC-SHA256-PAYLOAD", SIGV4_PAYLOAD_STREAMING_SIGNED},
        {"STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", SIGV4_PAYLOAD_STREAMING_SIGNED_TRAILER},
        {"STREAMING-UNSIGNED-PAYLOAD-TRAILER", SIGV4_PAYLOAD_STREAMING_UNSIGNED_TRAILER},
    };
    for (size_t i = 0; i < 4; i++) {
        s3_req(&r, "test", "test", modes[i].v);
        cr_expect_eq(verify(&r), 0, "%s: %s", modes[i].v, r.msg);
        cr_expect_eq(r.out.payload, modes[i].p, "%s", modes[i].v);
        done(&r);
    }
}

Test(sigv4_verify, s3_content_sha256_errors)
{
    struct treq r;
    s3_req(&r, "test", "test", NULL);
    TH_EXPECT_ERR(&r, SIGV4_F_MISSING_PAYLOAD_HASH,
                  "Missing required header for this request: x-amz-content-sha256");
    done(&r);
    s3_req(&r, "test", "test", "bogus");
    TH_EXPECT_ERR(
        &r, SIGV4_F_BAD_PAYLOAD_HASH,
        "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, "
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, "
        "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD, "
        "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER or a "
        "valid sha256 value.");
    done(&r);
    s3_req(&r, "test", "test", "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD");
    cr_expect_eq(verify(&r), SIGV4_F_NOT_IMPLEMENTED);
    done(&r);
}

Test(sigv4_verify, s3_signature_mismatch_carries_the_canonical_forms)
{
    struct treq r;
    s3_req(&r, "test", "wrong", EMPTY);
    TH_EXPECT_ERR(&r, SIGV4_F_SIGNATURE_MISMATCH,
                  "The request signature we calculated does not match the signature you provided. "
                  "Check your key and "
                  "signing method.");
    const char *x = sigv4_sb_str(&r.extra);
    cr_expect(strncmp(x,
                      "<AWSAccessKeyId>test</AWSAccessKeyId><StringToSign>AWS4-HMAC-SHA256\n" DATE
                      "\n",
                      83) == 0,
              "%s", x);
    cr_expect(strstr(x, "<SignatureProvided>"));
    cr_expect(strstr(x, "<StringToSignBytes>41 57 53 34 2d"));
    cr_expect(strstr(x, "<CanonicalRequest>GET\n/bucket/a%20b//"
                        "c\nlist-type=2&prefix=x\nhost:localhost:4566\n"),
              "%s", x);
    cr_expect(strstr(x, "<CanonicalRequestBytes>47 45 54 0a"));
    done(&r);
}

Test(sigv4_verify, s3_other_failures)
{
    struct treq r;
    s3_req(&r, "NOPE", "x", EMPTY);
    TH_EXPECT_ERR(&r, SIGV4_F_UNKNOWN_KEY,
                  "The AWS Access Key Id you provided does not exist in our records.");
    cr_expect_str_eq(sigv4_sb_str(&r.extra), "<AWSAccessKeyId>NOPE</AWSAccessKeyId>");
    done(&r);

    s3_req(&r, "test", "test", EMPTY);
    r.in.now = T0 + 901;
    TH_EXPECT_ERR(&r, SIGV4_F_SKEWED,
                  "The difference between the request time and the current time is too large.");
    cr_expect_str_eq(
        sigv4_sb_str(&r.extra),
        "<RequestTime>20250101T120000Z</RequestTime><ServerTime>2025-01-01T12:15:01Z</ServerTime>"
        "<MaxAllowedSkewMilliseconds>900000</MaxAllowedSkewMilliseconds>");
    r.in.now = T0;
    /* an S3 SigV2 header is verified as such (test_sigv2.c has its cases) */
    set_header(&r, "authorization", "AWS AKIAIOSFODNN7EXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=");
    TH_EXPECT_ERR(&r, SIGV4_F_SIGNATURE_MISMATCH,
                  "The request signature we calculated does not match the signature you provided. "
                  "Check your key and signing method.");
    set_header(&r, "authorization",
               "AWS4-HMAC-SHA256 Credential=test/20250101/us-east-1/s3/aws4_request");
    TH_EXPECT_ERR(&r, SIGV4_F_MALFORMED,
                  "The authorization header is malformed; the authorization header requires three "
                  "components: "
                  "Credential, SignedHeaders, and Signature.");
    r.n--;
    TH_EXPECT_ERR(&r, SIGV4_F_MISSING_AUTH, "Access Denied");
    done(&r);

    s3_req(&r, "test", "test", EMPTY);
    add(&r, "x-amz-meta-color", "red");
    TH_EXPECT_ERR(&r, SIGV4_F_HEADERS_NOT_SIGNED,
                  "There were headers present in the request which were not signed");
    cr_expect_str_eq(sigv4_sb_str(&r.extra),
                     "<HeadersNotSigned>x-amz-meta-color</HeadersNotSigned>");
    done(&r);
}

Test(sigv4_verify, s3_presigned_urls)
{
    struct treq r;
    s3_presigned(&r, "20241231T120000Z",
                 "604800"); /* a day old, still valid: the skew does not apply */
    cr_assert_eq(verify(&r), 0, "%s", r.msg);
    cr_expect_eq(r.out.presigned, 1);
    cr_expect_eq(r.out.payload, SIGV4_PAYLOAD_UNSIGNED);
    done(&r);

    s3_presigned(&r, DATE, "300");
    r.in.now = T0 + 301;
    TH_EXPECT_ERR(&r, SIGV4_F_EXPIRED, "Request has expired");
    cr_expect_str_eq(sigv4_sb_str(&r.extra),
                     "<X-Amz-Expires>300</X-Amz-Expires><Expires>2025-01-01T12:05:00Z"
                     "</Expires><ServerTime>2025-01-01T12:05:01Z</ServerTime>");
    r.in.now = T0 + 300;
    cr_expect_eq(verify(&r), 0, "%s", r.msg);
    r.in.now = T0 - 3600;
    TH_EXPECT_ERR(&r, SIGV4_F_EXPIRED, "Request is not yet valid");
    done(&r);

    s3_presigned(&r, DATE, "604801");
    TH_EXPECT_ERR(&r, SIGV4_F_MALFORMED,
                  "X-Amz-Expires must be less than a week (in seconds); that is, the given "
                  "X-Amz-Expires must be less "
                  "than 604800 seconds");
    done(&r);
    s3_presigned(&r, DATE, "-5");
    TH_EXPECT_ERR(&r, SIGV4_F_MALFORMED, "X-Amz-Expires must be non-negative");
    done(&r);
    s3_presigned(&r, DATE, "soon");
    TH_EXPECT_ERR(&r, SIGV4_F_MALFORMED, "X-Amz-Expires should be a number");
    done(&r);

    /* tampered query */
    s3_presigned(&r, DATE, "300");
    char *p = strstr(r.query, "X-Amz-Expires=300");
    p[14] = '2';
    cr_expect_eq(verify(&r), SIGV4_F_SIGNATURE_MISMATCH);
    done(&r);

    s3_presigned(&r, DATE, "300");
    r.in.query = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=" DATE;
    TH_EXPECT_ERR(
        &r, SIGV4_F_INCOMPLETE,
        "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, "
        "X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.");
    done(&r);
}

Test(sigv4_verify, signing_key_is_cached)
{
    struct treq r;
    json_req(&r, "test", "test", "20250101T120000Z");
    cr_assert_eq(verify(&r), 0, "%s", r.msg);
    unsigned long before = sigv4_key_derivations();
    for (int i = 0; i < 5; i++)
        cr_assert_eq(verify(&r), 0);
    cr_expect_eq(sigv4_key_derivations(), before);
    done(&r);
}

Test(sigv4_verify, peek_credential)
{
    struct treq r;
    json_req(&r, "test", "test", DATE);
    char *svc = NULL, *region = NULL;
    char *ak = sigv4_peek_credential(&r.in, &svc, &region);
    cr_expect_str_eq(ak, "test");
    cr_expect_str_eq(svc, "codepipeline");
    cr_expect_str_eq(region, "us-east-1");
    free(ak);
    free(svc);
    free(region);
    done(&r);

    s3_presigned(&r, DATE, "300");
    ak = sigv4_peek_credential(&r.in, &svc, NULL);
    cr_expect_str_eq(ak, "test");
    cr_expect_str_eq(svc, "s3");
    free(ak);
    free(svc);
    done(&r);

    memset(&r, 0, sizeof r);
    r.in = (struct sigv4_input){.method = "GET", .path = "/", .query = ""};
    cr_expect_null(sigv4_peek_credential(&r.in, &svc, &region));
    cr_expect_null(svc);
}

Test(sigv4_verify, date_header_instead_of_x_amz_date)
{
    struct treq r;
    memset(&r, 0, sizeof r);
    add(&r, "host", "localhost:4566");
    add(&r, "date", "Wed, 01 Jan 2025 12:00:00 GMT");
    const char *sig = th_sign("test", DATE, "us-east-1", "codecommit", "POST", "/",
                              SIGV4_PATH_NORMALIZE, "", 0, r.h, r.n, "date;host", EMPTY);
    snprintf(r.authz, sizeof r.authz,
             "AWS4-HMAC-SHA256 Credential=test/20250101/us-east-1/codecommit/aws4_request, "
             "SignedHeaders=date;host, "
             "Signature=%s",
             sig);
    add(&r, "authorization", r.authz);
    r.in = (struct sigv4_input){.method = "POST",
                                .path = "/",
                                .query = "",
                                .is_s3 = 0,
                                .body_sha256 = EMPTY,
                                .now = T0 + 10,
                                .clock_skew_seconds = 300};
    cr_assert_eq(verify(&r), 0, "%s", r.msg);
    cr_expect_str_eq(r.out.amz_date, DATE);
    done(&r);
}

Test(sigv4_verify, wrong_region_errors_for_the_server)
{
    struct treq r;
    s3_req(&r, "test", "test", EMPTY);
    cr_assert_eq(verify(&r), 0, "%s", r.msg);
    struct sigv4_auth auth = r.out;
    sigv4_failure_free(&r.fail);
    cr_expect_eq(sigv4_wrong_region(&r.in, &auth, "eu-central-1", &r.fail), -1);
    cr_expect_eq(r.fail.kind, SIGV4_F_BAD_SCOPE);
    cr_expect_eq(r.fail.presigned, 0);
    cr_expect_str_eq(r.fail.message, "The authorization header is malformed; the region "
                                     "'us-east-1' is wrong; expecting 'eu-central-1'");
    th_details(&r.fail, &r.extra);
    cr_expect_str_eq(sigv4_sb_str(&r.extra), "<Region>eu-central-1</Region>");
    sigv4_failure_free(&r.fail);
    r.in.is_s3 = 0;
    cr_expect_eq(sigv4_wrong_region(&r.in, &auth, "eu-central-1", &r.fail), -1);
    cr_expect_eq(r.fail.kind, SIGV4_F_BAD_SCOPE);
    cr_expect_str_eq(r.fail.message,
                     "Credential should be scoped to a valid region, not 'us-east-1'. ");
    cr_expect_eq(r.fail.n_details, 0);
    done(&r);
}

Test(sigv4_verify, s3_presigned_with_content_sha256_in_the_query)
{
    struct treq r;
    memset(&r, 0, sizeof r);
    add(&r, "host", "localhost:4566");
    char base[1024];
    snprintf(base, sizeof base,
             "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Content-Sha256=%s&X-Amz-Credential=test%%"
             "2F20250101%%2Fus-east-1"
             "%%2Fs3%%2Faws4_request&X-Amz-Date=" DATE "&X-Amz-Expires=60&X-Amz-SignedHeaders=host",
             EMPTY);
    const char *sig = th_sign("test", DATE, "us-east-1", "s3", "PUT", "/b/k", SIGV4_PATH_RAW, base,
                              SIGV4_Q_NO_SIGNATURE, r.h, r.n, "host", EMPTY);
    snprintf(r.query, sizeof r.query, "%s&X-Amz-Signature=%s", base, sig);
    r.in = (struct sigv4_input){.method = "PUT",
                                .path = "/b/k",
                                .query = r.query,
                                .is_s3 = 1,
                                .now = T0,
                                .clock_skew_seconds = 900};
    cr_assert_eq(verify(&r), 0, "%s", r.msg);
    cr_expect_eq(r.out.payload, SIGV4_PAYLOAD_HASH);
    cr_expect_str_eq(r.out.payload_hash, EMPTY);
    done(&r);
}

Test(sigv4_verify, json_presigned_expiry)
{
    struct treq r;
    memset(&r, 0, sizeof r);
    add(&r, "host", "localhost:4566");
    const char *base =
        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=test%2F20250101%2Fus-east-1%2F"
        "codepipeline%2Faws4_request&X-Amz-Date=" DATE
        "&X-Amz-Expires=3600&X-Amz-SignedHeaders=host";
    const char *sig =
        th_sign("test", DATE, "us-east-1", "codepipeline", "POST", "/", SIGV4_PATH_NORMALIZE, base,
                SIGV4_Q_NO_SIGNATURE, r.h, r.n, "host", EMPTY);
    snprintf(r.query, sizeof r.query, "%s&X-Amz-Signature=%s", base, sig);
    r.in = (struct sigv4_input){.method = "POST",
                                .path = "/",
                                .query = r.query,
                                .is_s3 = 0,
                                .body_sha256 = EMPTY,
                                .now = T0 + 3600,
                                .clock_skew_seconds = 300};
    cr_assert_eq(verify(&r), 0, "%s", r.msg);
    cr_expect_eq(r.out.presigned, 1);
    r.in.now = T0 + 3601;
    TH_EXPECT_ERR(&r, SIGV4_F_EXPIRED,
                  "Signature expired: 20250101T120000Z is now earlier than 20250101T120001Z "
                  "(20250101T130001Z - 60 min.)");
    done(&r);
}

Test(sigv4_verify, s3_sigv2_presigned_url_is_verified_as_sigv2)
{
    struct treq r;
    memset(&r, 0, sizeof r);
    add(&r, "host", "localhost:4566");
    r.in = (struct sigv4_input){.method = "GET",
                                .path = "/b/k",
                                .query = "AWSAccessKeyId=test&Signature=abc%3D&Expires=1795700516",
                                .is_s3 = 1,
                                .now = T0,
                                .clock_skew_seconds = 900};
    TH_EXPECT_ERR(&r, SIGV4_F_SIGNATURE_MISMATCH,
                  "The request signature we calculated does not match the signature you provided. "
                  "Check your key and signing method.");
    char *ak = sigv4_peek_credential(&r.in, NULL, NULL);
    cr_expect_str_eq(ak, "test");
    free(ak);
    done(&r);
}

/* As verify, with sigv4_precheck. */
static enum sigv4_fail_kind precheck(struct treq *r)
{
    r->in.headers = r->h;
    r->in.n_headers = r->n;
    sigv4_failure_free(&r->fail);
    int rc = sigv4_precheck(creds, &r->in, &r->fail);
    r->msg = r->fail.message;
    th_details(&r->fail, &r->extra);
    cr_assert_eq(rc == 0, r->fail.kind == SIGV4_OK, "returned %d with kind %s", rc,
                 th_kind_name(r->fail.kind));
    return r->fail.kind;
}

Test(sigv4_verify, precheck_refuses_what_needs_no_body_and_leaves_the_signature)
{
    struct treq r;
    json_req(&r, "test", "wrong-secret", DATE);
    r.in.body_sha256 = NULL; /* the body has not arrived */
    cr_expect_eq(precheck(&r), 0, "the signature is left for after the body: %s", r.msg);
    done(&r);

    json_req(&r, "NOSUCHKEY", "x", DATE);
    r.in.body_sha256 = NULL;
    cr_expect_eq(precheck(&r), SIGV4_F_UNKNOWN_KEY);
    cr_expect_str_eq(r.msg, "The security token included in the request is invalid.");
    done(&r);

    json_req(&r, "test", "test", DATE);
    r.in.body_sha256 = NULL;
    r.in.now = T0 + 301;
    cr_expect_eq(precheck(&r), SIGV4_F_SKEWED);
    cr_expect(strncmp(r.msg, "Signature expired: ", 19) == 0, "%s", r.msg);
    done(&r);

    json_req(&r, "test", "test", DATE);
    r.n = 4; /* no authorization */
    cr_expect_eq(precheck(&r), SIGV4_F_MISSING_AUTH);
    set_header(&r, "authorization", "AWS4-HMAC-SHA256 Credential=x");
    cr_expect_eq(precheck(&r), SIGV4_F_INCOMPLETE, "%s", r.msg);
    done(&r);
}

/* A resolver that knows one temporary key, valid until T0 + 100; counts its calls. */
static int resolver_calls;
static int temp_resolver(void *ctx, const char *akid, struct sigv4_temp_key *out)
{
    (void)ctx;
    resolver_calls++;
    if (strcmp(akid, "ASIATEMPORARYKEY0001") != 0) return 0;
    strcpy(out->secret, "temp-secret");
    strcpy(out->account_id, "111122223333");
    strcpy(out->session_token, "the-token");
    out->expiration = T0 + 100;
    return 1;
}

Test(sigv4_verify, temporary_keys_need_their_token_and_expire)
{
    sigv4_creds_set_resolver(creds, temp_resolver, NULL);
    struct treq r;
    json_req(&r, "ASIATEMPORARYKEY0001", "temp-secret", DATE);
    TH_EXPECT_ERR(&r, SIGV4_F_BAD_TOKEN, "The security token included in the request is invalid.");
    add(&r, "x-amz-security-token", "not-the-token");
    TH_EXPECT_ERR(&r, SIGV4_F_BAD_TOKEN, "The security token included in the request is invalid.");
    set_header(&r, "x-amz-security-token", "the-token");
    cr_assert_eq(verify(&r), 0, "%s", r.msg);
    cr_expect_str_eq(r.out.account_id, "111122223333");
    cr_expect_eq(r.out.temporary, 1);
    r.in.now = T0 + 100;
    TH_EXPECT_ERR(&r, SIGV4_F_EXPIRED_TOKEN,
                  "The security token included in the request is expired");
    done(&r);

    s3_req(&r, "ASIATEMPORARYKEY0001", "temp-secret", EMPTY);
    add(&r, "x-amz-security-token", "nope");
    TH_EXPECT_ERR(&r, SIGV4_F_BAD_TOKEN, "The provided token is malformed or otherwise invalid.");
    set_header(&r, "x-amz-security-token", "the-token");
    cr_assert_eq(verify(&r), 0, "%s", r.msg);
    r.in.now = T0 + 101;
    TH_EXPECT_ERR(&r, SIGV4_F_EXPIRED_TOKEN, "The provided token has expired.");
    done(&r);
}

Test(sigv4_verify, long_term_keys_never_reach_the_resolver)
{
    sigv4_creds_set_resolver(creds, temp_resolver, NULL);
    struct treq r;
    json_req(&r, "test", "test", DATE);
    resolver_calls = 0;
    cr_assert_eq(verify(&r), 0, "%s", r.msg);
    cr_expect_eq(r.out.temporary, 0);
    cr_expect_eq(resolver_calls, 0);
    done(&r);
}

/* S3 words a Credential that is not five parts by where it came from: header or query. */
Test(sigv4_verify, s3_names_where_a_malformed_credential_came_from)
{
    struct treq r;
    s3_req(&r, "test", "test", EMPTY);
    set_header(&r, "authorization",
               "AWS4-HMAC-SHA256 Credential=test/20250101/us-east-1/s3,"
               "SignedHeaders=host;x-amz-date,Signature=abc");
    TH_EXPECT_ERR(&r, SIGV4_F_MALFORMED,
                  "The authorization header is malformed; the Credential is mal-formed; "
                  "expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".");
    done(&r);

    memset(&r, 0, sizeof r);
    add(&r, "host", "localhost:4566");
    snprintf(r.query, sizeof r.query, "%s",
             "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=test%2F20250101%2Fus-east-1%2Fs3"
             "&X-Amz-Date=" DATE "&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=abc");
    r.in = (struct sigv4_input){.method = "GET",
                                .path = "/bucket/key",
                                .query = r.query,
                                .is_s3 = 1,
                                .now = T0,
                                .clock_skew_seconds = 900};
    TH_EXPECT_ERR(&r, SIGV4_F_MALFORMED,
                  "Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; "
                  "expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".");
    done(&r);
}
