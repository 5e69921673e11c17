/* S3 Signature Version 2: requests signed by botocore's HmacV1 signers, and S3's errors. */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sigv4/canonical.h"
#include "sigv4/tests/helpers.h"

#define T0     1735732800 /* 2025-01-01T12:00:00Z */
#define HDATE  "Wed, 01 Jan 2025 12:00:00 GMT"
#define AKID   "AKIAIOSFODNN7EXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define MISMATCH                                                                                   \
    "The request signature we calculated does not match the signature you provided. Check your "   \
    "key and signing method."

static sigv4_creds *creds;
static json_object *vectors;

static void setup(void)
{
    creds = sigv4_creds_new("000000000000");
    cr_assert(creds);
    char *p = NULL;
    cr_assert(getenv("CPL_SOURCE_DIR"));
    cr_assert(asprintf(&p, "%s/sigv4/tests/sigv2-vectors.json", getenv("CPL_SOURCE_DIR")) > 0);
    size_t n;
    char *txt = th_read_file(p, &n);
    cr_assert(txt, "cannot read %s", p);
    vectors = json_tokener_parse(txt);
    cr_assert(vectors);
    free(txt);
    free(p);
}

static void teardown(void)
{
    json_object_put(vectors);
    sigv4_creds_free(creds);
}

TestSuite(sigv4_sigv2, .init = setup, .fini = teardown);

/* One request: its headers and the verifier's input and outputs. */
struct v2req {
    struct sigv4_header h[32];
    size_t n;
    struct sigv4_input in;
    struct sigv4_auth out;
    struct sigv4_failure fail;
    const char *msg;       /* fail's message */
    struct sigv4_sb extra; /* fail's details, as th_details writes them */
    const char *sts;       /* the StringToSign botocore signed */
};

static const char *jstr(json_object *o, const char *k)
{
    return json_object_get_string(json_object_object_get(o, k));
}

/* Loads the vector named name into r (strings owned by the vectors). */
static void load(struct v2req *r, const char *name)
{
    memset(r, 0, sizeof *r);
    json_object *reqs = json_object_object_get(vectors, "requests");
    for (size_t i = 0; i < json_object_array_length(reqs); i++) {
        json_object *v = json_object_array_get_idx(reqs, i);
        if (strcmp(jstr(v, "name"), name) != 0) continue;
        json_object *hs = json_object_object_get(v, "headers");
        r->n = json_object_array_length(hs);
        cr_assert(r->n <= 32);
        for (size_t k = 0; k < r->n; k++) {
            json_object *pair = json_object_array_get_idx(hs, k);
            r->h[k].name = json_object_get_string(json_object_array_get_idx(pair, 0));
            r->h[k].value = json_object_get_string(json_object_array_get_idx(pair, 1));
        }
        r->in = (struct sigv4_input){.method = jstr(v, "method"),
                                     .path = jstr(v, "path"),
                                     .query = jstr(v, "query"),
                                     .is_s3 = 1,
                                     .now = T0,
                                     .clock_skew_seconds = 900};
        r->sts = jstr(v, "string_to_sign");
        return;
    }
    cr_assert_fail("no vector %s", name);
}

static void set_header(struct v2req *r, const char *name, const char *value)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->h[i].name, name) == 0) {
            r->h[i].value = value;
            return;
        }
    r->h[r->n].name = name;
    r->h[r->n].value = value;
    r->n++;
}

/* Returns SIGV4_OK, or the kind of the refusal (its message in r->msg, its details in r->extra). */
static enum sigv4_fail_kind verify(struct v2req *r)
{
    return th_verify(creds, &r->in, r->h, r->n, &r->out, &r->fail, &r->msg, &r->extra);
}

static void done(struct v2req *r)
{
    sigv4_failure_free(&r->fail);
    sigv4_sb_free(&r->extra);
}

Test(sigv4_sigv2, verifies_every_request_signed_by_botocore)
{
    json_object *reqs = json_object_object_get(vectors, "requests");
    cr_assert_eq(json_object_array_length(reqs), 14);
    for (size_t i = 0; i < json_object_array_length(reqs); i++) {
        const char *name = jstr(json_object_array_get_idx(reqs, i), "name");
        struct v2req r;
        load(&r, name);
        int rc = verify(&r);
        cr_expect_eq(rc, 0, "%s: %s %s", name, r.msg ? r.msg : "", sigv4_sb_str(&r.extra));
        if (rc == 0) {
            int presigned = r.in.query && strstr(r.in.query, "AWSAccessKeyId=") != NULL;
            cr_expect_str_eq(r.out.access_key, AKID, "%s", name);
            cr_expect_str_eq(r.out.account_id, "000000000000", "%s", name);
            cr_expect_str_eq(r.out.region, "", "%s: SigV2 names no region", name);
            cr_expect_str_eq(r.out.service, "s3", "%s", name);
            cr_expect_eq(r.out.sigv2, 1, "%s", name);
            cr_expect_eq(r.out.presigned, presigned, "%s", name);
            cr_expect_eq(r.out.payload, SIGV4_PAYLOAD_UNSIGNED, "%s", name);
            cr_expect_eq(strlen(r.out.signature), 28, "%s", name);
        }
        done(&r);
    }
}

Test(sigv4_sigv2, mismatch_reports_the_string_to_sign_botocore_signed)
{
    json_object *reqs = json_object_object_get(vectors, "requests");
    /* Same access key, another secret: S3 reports the StringToSign the client should have signed.
     */
    cr_assert_eq(sigv4_creds_add(creds, AKID, "another-secret", "000000000000"), 0);
    for (size_t i = 0; i < json_object_array_length(reqs); i++) {
        const char *name = jstr(json_object_array_get_idx(reqs, i), "name");
        /* these report S3's form (empty Date line, "/bucket/"): see below */
        if (strcmp(name, "with-x-amz-date") == 0 || strcmp(name, "bucket-no-slash") == 0) continue;
        struct v2req r;
        load(&r, name);
        TH_EXPECT_ERR(&r, SIGV4_F_SIGNATURE_MISMATCH, MISMATCH);
        struct sigv4_sb want = SIGV4_SB_INIT;
        sigv4_sb_puts(&want, "<AWSAccessKeyId>" AKID "</AWSAccessKeyId><StringToSign>");
        sigv4_sb_puts(&want, r.sts);
        sigv4_sb_puts(&want, "</StringToSign><SignatureProvided>");
        cr_expect(strncmp(sigv4_sb_str(&r.extra), sigv4_sb_str(&want), want.len) == 0, "%s: %s",
                  name, sigv4_sb_str(&r.extra));
        cr_expect(strstr(sigv4_sb_str(&r.extra), "</SignatureProvided><StringToSignBytes>"), "%s",
                  name);
        sigv4_sb_free(&want);
        done(&r);
    }
}

Test(sigv4_sigv2, mismatch_error_elements_are_exact)
{
    struct v2req r;
    load(&r, "get-versioning");
    set_header(&r, "authorization", "AWS " AKID ":AAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    TH_EXPECT_ERR(&r, SIGV4_F_SIGNATURE_MISMATCH, MISMATCH);
    cr_expect_str_eq(sigv4_sb_str(&r.extra),
                     "<AWSAccessKeyId>" AKID "</AWSAccessKeyId>"
                     "<StringToSign>GET\n\n\n" HDATE "\n/my-bucket/?versioning</StringToSign>"
                     "<SignatureProvided>AAAAAAAAAAAAAAAAAAAAAAAAAAA=</SignatureProvided>"
                     "<StringToSignBytes>47 45 54 0a 0a 0a 57 65 64 2c 20 30 31 20 4a 61 6e 20 32 "
                     "30 32 35 20 31 32 3a 30 30 3a 30 30 20 47 4d 54 0a 2f 6d 79 2d 62 75 63 6b "
                     "65 74 2f 3f 76 65 72 73 69 6f 6e 69 6e 67</StringToSignBytes>");
    done(&r);

    /* S3's forms are reported when the client signed another accepted form */
    cr_assert_eq(sigv4_creds_add(creds, AKID, "another-secret", "000000000000"), 0);
    load(&r, "bucket-no-slash");
    TH_EXPECT_ERR(&r, SIGV4_F_SIGNATURE_MISMATCH, MISMATCH);
    cr_expect(strstr(sigv4_sb_str(&r.extra),
                     "<StringToSign>PUT\n\n\n" HDATE "\n/my-bucket/?tagging</StringToSign>"),
              "%s", sigv4_sb_str(&r.extra));
    done(&r);
    load(&r, "with-x-amz-date");
    TH_EXPECT_ERR(&r, SIGV4_F_SIGNATURE_MISMATCH, MISMATCH);
    cr_expect(strstr(sigv4_sb_str(&r.extra),
                     "<StringToSign>GET\n\n\n\nx-amz-date:" HDATE "\n/my-bucket/k</StringToSign>"),
              "%s", sigv4_sb_str(&r.extra));
    done(&r);
}

Test(sigv4_sigv2, tampered_requests_are_rejected)
{
    struct v2req r;
    load(&r, "put-meta");
    set_header(&r, "x-amz-meta-color", "red");
    TH_EXPECT_ERR(&r, SIGV4_F_SIGNATURE_MISMATCH, MISMATCH);
    done(&r);

    load(&r, "put-meta");
    set_header(&r, "content-type", "text/html");
    TH_EXPECT_ERR(&r, SIGV4_F_SIGNATURE_MISMATCH, MISMATCH);
    done(&r);

    load(&r, "put-meta");
    set_header(&r, "x-amz-meta-extra", "1"); /* an added x-amz-* header is signed too */
    TH_EXPECT_ERR(&r, SIGV4_F_SIGNATURE_MISMATCH, MISMATCH);
    done(&r);

    load(&r, "upload-part");
    r.in.query = "partNumber=2&uploadId=x";
    TH_EXPECT_ERR(&r, SIGV4_F_SIGNATURE_MISMATCH, MISMATCH);
    done(&r);

    load(&r, "presigned-get");
    r.in.method = "PUT";
    TH_EXPECT_ERR(&r, SIGV4_F_SIGNATURE_MISMATCH, MISMATCH);
    done(&r);

    load(&r, "presigned-get");
    r.in.path = "/my-bucket/dir/other.txt";
    TH_EXPECT_ERR(&r, SIGV4_F_SIGNATURE_MISMATCH, MISMATCH);
    done(&r);

    /* a later Expires than the one signed */
    load(&r, "presigned-get");
    char q[512];
    snprintf(q, sizeof q, "%.*s1735740000", (int)(strlen(r.in.query) - 10), r.in.query);
    r.in.query = q;
    TH_EXPECT_ERR(&r, SIGV4_F_SIGNATURE_MISMATCH, MISMATCH);
    done(&r);

    /* the virtual-host request replayed against another bucket */
    load(&r, "vhost-put");
    set_header(&r, "host", "other-bucket.localhost:4566");
    TH_EXPECT_ERR(&r, SIGV4_F_SIGNATURE_MISMATCH, MISMATCH);
    done(&r);

    /* the session token is signed */
    load(&r, "presigned-token");
    r.in.query = "AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Signature=NDu2xM8XyGQcT60RiKVDCEcmgqk%3D"
                 "&x-amz-security-token=other&Expires=1735736400";
    TH_EXPECT_ERR(&r, SIGV4_F_SIGNATURE_MISMATCH, MISMATCH);
    done(&r);
}

Test(sigv4_sigv2, expired_presigned_url_is_access_denied)
{
    struct v2req r;
    load(&r, "presigned-get");
    r.in.now = 1735736400; /* == Expires: still valid */
    cr_expect_eq(verify(&r), 0, "%s", r.msg ? r.msg : "");
    r.in.now = 1735736401;
    TH_EXPECT_ERR(&r, SIGV4_F_EXPIRED, "Request has expired");
    cr_expect_str_eq(sigv4_sb_str(&r.extra), "<Expires>2025-01-01T13:00:00Z</Expires>"
                                             "<ServerTime>2025-01-01T13:00:01Z</ServerTime>");
    done(&r);
}

Test(sigv4_sigv2, unknown_access_key_is_invalid_access_key_id)
{
    struct v2req r;
    load(&r, "presigned-get");
    r.in.query = "AWSAccessKeyId=NOPE&Signature=eimKDwi6DJKHi0Ch8k9C2saybBY%3D&Expires=1735736400";
    TH_EXPECT_ERR(&r, SIGV4_F_UNKNOWN_KEY,
                  "The AWS Access Key Id you provided does not exist in our records.");
    cr_expect_str_eq(sigv4_sb_str(&r.extra), "<AWSAccessKeyId>NOPE</AWSAccessKeyId>");
    done(&r);

    load(&r, "get-versioning");
    set_header(&r, "authorization", "AWS NOPE:t1VeXWpwlFGAH2BuQbKk6DpZdOg=");
    TH_EXPECT_ERR(&r, SIGV4_F_UNKNOWN_KEY,
                  "The AWS Access Key Id you provided does not exist in our records.");
    cr_expect_str_eq(sigv4_sb_str(&r.extra), "<AWSAccessKeyId>NOPE</AWSAccessKeyId>");
    done(&r);
}

Test(sigv4_sigv2, header_auth_outside_fifteen_minutes_is_too_skewed)
{
    struct v2req r;
    load(&r, "put-meta");
    r.in.now = T0 + 900;
    cr_expect_eq(verify(&r), 0, "%s", r.msg ? r.msg : "");
    r.in.now = T0 - 900;
    cr_expect_eq(verify(&r), 0, "%s", r.msg ? r.msg : "");
    r.in.now = T0 + 901;
    TH_EXPECT_ERR(&r, SIGV4_F_SKEWED,
                  "The difference between the request time and the current time is too large.");
    cr_expect_str_eq(
        sigv4_sb_str(&r.extra),
        "<RequestTime>" HDATE "</RequestTime><ServerTime>2025-01-01T12:15:01Z"
        "</ServerTime><MaxAllowedSkewMilliseconds>900000</MaxAllowedSkewMilliseconds>");
    r.in.now = T0 - 901;
    TH_EXPECT_ERR(&r, SIGV4_F_SKEWED,
                  "The difference between the request time and the current time is too large.");
    done(&r);

    /* x-amz-date, when sent, is the request time (Date is then only signed) */
    load(&r, "with-x-amz-date");
    set_header(&r, "x-amz-date", "Wed, 01 Jan 2025 11:00:00 GMT");
    TH_EXPECT_ERR(&r, SIGV4_F_SKEWED,
                  "The difference between the request time and the current time is too large.");
    done(&r);
}

Test(sigv4_sigv2, x_amz_date_with_empty_date_line_as_s3_documents)
{
    /* S3's documented form: with x-amz-date the Date line of the StringToSign is empty. */
    const char *sts = "GET\n\n\n\nx-amz-date:" HDATE "\n/b/k";
    char sig[29], authz[64];
    sigv4_v2_sign(SECRET, sts, strlen(sts), sig);
    snprintf(authz, sizeof authz, "AWS " AKID ":%s", sig);
    struct v2req r;
    memset(&r, 0, sizeof r);
    set_header(&r, "host", "localhost:4566");
    set_header(&r, "x-amz-date", HDATE);
    set_header(&r, "date", "Thu, 01 Jan 1970 00:00:00 GMT"); /* not the request time */
    set_header(&r, "authorization", authz);
    r.in =
        (struct sigv4_input){.method = "GET", .path = "/b/k", .query = "", .is_s3 = 1, .now = T0};
    cr_expect_eq(verify(&r), 0, "%s %s", r.msg ? r.msg : "", sigv4_sb_str(&r.extra));
    cr_expect_str_eq(r.out.amz_date, "20250101T120000Z");
    done(&r);
}

Test(sigv4_sigv2, malformed_header_and_query_get_s3_errors)
{
    struct v2req r;
    load(&r, "get-versioning");
    set_header(&r, "authorization", "AWS " AKID);
    TH_EXPECT_ERR(&r, SIGV4_F_UNSUPPORTED_AUTH,
                  "AWS authorization header is invalid.  Expected AwsAccessKeyId:signature");
    cr_expect_str_eq(sigv4_sb_str(&r.extra), "<ArgumentName>Authorization</ArgumentName>"
                                             "<ArgumentValue>AWS " AKID "</ArgumentValue>");
    set_header(&r, "authorization", "AWS " AKID ": t1VeXWpwlFGAH2BuQbKk6DpZdOg=");
    TH_EXPECT_ERR(&r, SIGV4_F_UNSUPPORTED_AUTH,
                  "Authorization header is invalid -- one and only one ' ' (space) required");
    done(&r);

    load(&r, "get-versioning");
    r.n = 1; /* host only: no Date */
    set_header(&r, "authorization", "AWS " AKID ":t1VeXWpwlFGAH2BuQbKk6DpZdOg=");
    TH_EXPECT_ERR(&r, SIGV4_F_INCOMPLETE,
                  "AWS authentication requires a valid Date or x-amz-date header");
    set_header(&r, "date", "yesterday");
    TH_EXPECT_ERR(&r, SIGV4_F_INCOMPLETE,
                  "AWS authentication requires a valid Date or x-amz-date header");
    done(&r);

    load(&r, "presigned-get");
    r.in.query = "AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Signature=eimKDwi6DJKHi0Ch8k9C2saybBY%3D";
    TH_EXPECT_ERR(&r, SIGV4_F_INCOMPLETE,
                  "Query-string authentication requires the Signature, Expires and AWSAccessKeyId "
                  "parameters");
    r.in.query = "Signature=x&Expires=1735736400";
    TH_EXPECT_ERR(&r, SIGV4_F_INCOMPLETE,
                  "Query-string authentication requires the Signature, Expires and AWSAccessKeyId "
                  "parameters");
    r.in.query = "AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Signature=x&Expires=soon";
    TH_EXPECT_ERR(&r, SIGV4_F_INCOMPLETE, "Invalid date (should be seconds since epoch): soon");
    r.in.query = "AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Signature=x&Expires=99999999999999999999";
    TH_EXPECT_ERR(&r, SIGV4_F_INCOMPLETE,
                  "Invalid date (should be seconds since epoch): 99999999999999999999");
    done(&r);

    /* header and query auth together */
    load(&r, "presigned-get");
    set_header(&r, "authorization", "AWS " AKID ":eimKDwi6DJKHi0Ch8k9C2saybBY=");
    set_header(&r, "date", HDATE);
    TH_EXPECT_ERR(
        &r, SIGV4_F_AMBIGUOUS_AUTH,
        "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, "
        "Signature query string parameter or the Authorization header should be specified");
    done(&r);
}

Test(sigv4_sigv2, json_services_keep_rejecting_sigv2)
{
    struct v2req r;
    load(&r, "get-versioning");
    r.in.is_s3 = 0;
    r.in.method = "POST";
    r.in.path = "/";
    r.in.query = "";
    TH_EXPECT_ERR(&r, SIGV4_F_UNSUPPORTED_AUTH, "Request is missing Authentication Token");
    done(&r);

    load(&r, "presigned-get");
    r.in.is_s3 = 0;
    TH_EXPECT_ERR(&r, SIGV4_F_MISSING_AUTH, "Request is missing Authentication Token");
    done(&r);
}

static const char *resource(const char *host, const char *path, const char *query,
                            const char *suffix)
{
    static char buf[512];
    struct sigv4_header h[1] = {{"host", host}};
    struct sigv4_input in = {.path = path,
                             .query = query,
                             .headers = h,
                             .n_headers = host ? 1 : 0,
                             .is_s3 = 1,
                             .s3_vhost_suffix = suffix};
    struct sigv4_sb sb = SIGV4_SB_INIT;
    sigv4_v2_resource(&sb, &in, 1);
    snprintf(buf, sizeof buf, "%s", sigv4_sb_str(&sb));
    sigv4_sb_free(&sb);
    return buf;
}

Test(sigv4_sigv2, canonical_resource_follows_s3_addressing_and_subresources)
{
    cr_expect_str_eq(resource("localhost:4566", "/b/k", "", NULL), "/b/k");
    cr_expect_str_eq(resource("localhost:4566", "/bkt", "acl", NULL), "/bkt/?acl");
    cr_expect_str_eq(resource("localhost:4566", "/bkt/", "", NULL), "/bkt/");
    cr_expect_str_eq(resource(NULL, "", "", NULL), "/");
    cr_expect_str_eq(resource("localhost", "/", "", NULL), "/");
    cr_expect_str_eq(resource("B.LocalHost:4566", "/k%20x", "", NULL), "/b/k%20x");
    cr_expect_str_eq(resource("b.localhost", "/", "uploads", NULL), "/b/?uploads");
    cr_expect_str_eq(resource("[::1]:4566", "/b/k", "", NULL), "/b/k");
    cr_expect_str_eq(resource("b.s3.example.test:80", "/k", "", "s3.example.test"), "/b/k");
    /* without the suffix configured the host is not virtual: "/k" is path-style bucket k */
    cr_expect_str_eq(resource("b.s3.example.test", "/k", "", NULL), "/k/");
    cr_expect_str_eq(resource("s3.example.test", "/b/k", "", "s3.example.test"), "/b/k");
    /* sorted by name, stable, values unquoted, "name=" kept, others dropped */
    cr_expect_str_eq(resource("localhost", "/b/k",
                              "uploadId=a%2Fb&prefix=x&partNumber=2&acl&uploads=&tagging", NULL),
                     "/b/k?acl&partNumber=2&tagging&uploadId=a/b&uploads=");
    cr_expect_str_eq(resource("localhost", "/b/k", "versions&versionId=1&versionId=0", NULL),
                     "/b/k?versionId=1&versionId=0&versions");
    cr_expect_str_eq(resource("localhost", "/b/", "delete&&x-id=DeleteObjects&%zz", NULL),
                     "/b/?delete");
    cr_expect_str_eq(resource("localhost", "/b/k", "response-content-disposition=a%3Bb%", NULL),
                     "/b/k?response-content-disposition=a;b%");
}
