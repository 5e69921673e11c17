/* Unit tests of judging a webhook call: HMAC, IP ranges, and the JsonPath filters. */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <string.h>

#include "providers/codepipeline/webhook_call.h"

#define BODY "{\"ref\":\"refs/heads/main\",\"commits\":[{\"id\":\"a\"},{\"id\":\"b\"}],\"n\":3}"
/* printf '%s' "$BODY" | openssl dgst -sha256 -hmac s3cret (and -sha1) */
#define SIG256 "sha256=1ef0147dddbae9a3ddc4ccf77680a0d2cfd72b64515d7bb8ae98d0f2ef449749"
#define SIG1   "sha1=891eeb8d66049c9403cabe7b6ec3ef11a77f5d22"

static struct json_object *obj(const char *text)
{
    struct json_object *o = json_tokener_parse(text);
    cr_assert_not_null(o, "%s", text);
    return o;
}

static enum cp_webhook_verdict judge(const char *def, const char *config, const char *s256,
                                     const char *s1, const char *ip)
{
    struct json_object *d = obj(def), *c = obj(config);
    struct cp_webhook_call call = {BODY, strlen(BODY), s256, s1, ip};
    char why[256];
    enum cp_webhook_verdict v = cp_webhook_judge(d, c, &call, why, sizeof why);
    json_object_put(d);
    json_object_put(c);
    return v;
}

#define HMAC_DEF(filters)                                                                          \
    "{\"authentication\":\"GITHUB_HMAC\",\"authenticationConfiguration\":{\"SecretToken\":"        \
    "\"s3cret\"},\"filters\":" filters "}"
#define BRANCH_FILTER "[{\"jsonPath\":\"$.ref\",\"matchEquals\":\"refs/heads/{Branch}\"}]"

Test(cp_webhook_call, a_good_sha256_or_sha1_signature_starts)
{
    cr_assert_eq(judge(HMAC_DEF(BRANCH_FILTER), "{\"Branch\":\"main\"}", SIG256, NULL, "1.2.3.4"),
                 CP_WEBHOOK_START);
    cr_assert_eq(judge(HMAC_DEF(BRANCH_FILTER), "{\"Branch\":\"main\"}", NULL, SIG1, "1.2.3.4"),
                 CP_WEBHOOK_START);
}

Test(cp_webhook_call, a_bad_or_missing_signature_is_unauthorized)
{
    const char *bad = "sha256=0000000000000000000000000000000000000000000000000000000000000000";
    cr_assert_eq(judge(HMAC_DEF(BRANCH_FILTER), "{\"Branch\":\"main\"}", bad, NULL, "1.2.3.4"),
                 CP_WEBHOOK_UNAUTHORIZED);
    cr_assert_eq(judge(HMAC_DEF(BRANCH_FILTER), "{\"Branch\":\"main\"}", NULL, NULL, "1.2.3.4"),
                 CP_WEBHOOK_UNAUTHORIZED);
    cr_assert_eq(judge(HMAC_DEF(BRANCH_FILTER), "{\"Branch\":\"main\"}", "sha256=", NULL, "x"),
                 CP_WEBHOOK_UNAUTHORIZED);
}

Test(cp_webhook_call, a_branch_reference_that_does_not_match_starts_nothing)
{
    cr_assert_eq(judge(HMAC_DEF(BRANCH_FILTER), "{\"Branch\":\"dev\"}", SIG256, NULL, "1.2.3.4"),
                 CP_WEBHOOK_NO_MATCH);
}

#define OPEN_DEF(filters) "{\"authentication\":\"UNAUTHENTICATED\",\"filters\":" filters "}"

Test(cp_webhook_call, json_paths_select_members_indexes_and_wildcards)
{
    cr_assert_eq(judge(OPEN_DEF("[{\"jsonPath\":\"$.commits[1].id\",\"matchEquals\":\"b\"}]"), "{}",
                       NULL, NULL, NULL),
                 CP_WEBHOOK_START);
    cr_assert_eq(judge(OPEN_DEF("[{\"jsonPath\":\"$.commits[*].id\",\"matchEquals\":\"a\"}]"), "{}",
                       NULL, NULL, NULL),
                 CP_WEBHOOK_START);
    cr_assert_eq(judge(OPEN_DEF("[{\"jsonPath\":\"$['ref']\",\"matchEquals\":"
                                "\"refs/heads/main\"}]"),
                       "{}", NULL, NULL, NULL),
                 CP_WEBHOOK_START);
    cr_assert_eq(
        judge(OPEN_DEF("[{\"jsonPath\":\"$.n\",\"matchEquals\":\"3\"}]"), "{}", NULL, NULL, NULL),
        CP_WEBHOOK_START, "a number compares as its text");
    cr_assert_eq(judge(OPEN_DEF("[{\"jsonPath\":\"$.missing\"}]"), "{}", NULL, NULL, NULL),
                 CP_WEBHOOK_NO_MATCH, "without matchEquals the path must select something");
    cr_assert_eq(judge(OPEN_DEF("[{\"jsonPath\":\"$.ref\"}]"), "{}", NULL, NULL, NULL),
                 CP_WEBHOOK_START);
    cr_assert_eq(judge(OPEN_DEF("[{\"jsonPath\":\"$.ref\",\"matchEquals\":\"x\"},"
                                "{\"jsonPath\":\"$.n\"}]"),
                       "{}", NULL, NULL, NULL),
                 CP_WEBHOOK_NO_MATCH, "every filter must match");
    cr_assert_eq(judge(OPEN_DEF("[{\"jsonPath\":\"$..[\"}]"), "{}", NULL, NULL, NULL),
                 CP_WEBHOOK_NO_MATCH);
}

Test(cp_webhook_call, ip_authentication_takes_only_the_range)
{
    const char *def = "{\"authentication\":\"IP\",\"authenticationConfiguration\":"
                      "{\"AllowedIPRange\":\"10.0.0.0/8\"},\"filters\":[]}";
    cr_assert_eq(judge(def, "{}", NULL, NULL, "10.1.2.3"), CP_WEBHOOK_START);
    cr_assert_eq(judge(def, "{}", NULL, NULL, "::ffff:10.1.2.3"), CP_WEBHOOK_START);
    cr_assert_eq(judge(def, "{}", NULL, NULL, "11.1.2.3"), CP_WEBHOOK_UNAUTHORIZED);
    cr_assert(cp_ip_in_range("2001:db8::1", "2001:db8::/32"));
    cr_assert(!cp_ip_in_range("2001:db9::1", "2001:db8::/32"));
    cr_assert(cp_ip_in_range("127.0.0.1", "127.0.0.1/32"));
    cr_assert(!cp_ip_in_range("127.0.0.2", "127.0.0.1/32"));
}

Test(cp_webhook_call, a_body_that_is_not_json_starts_nothing)
{
    struct json_object *d = obj(OPEN_DEF("[]"));
    struct cp_webhook_call call = {"not json", 8, NULL, NULL, NULL};
    cr_assert_eq(cp_webhook_judge(d, NULL, &call, NULL, 0), CP_WEBHOOK_NO_MATCH);
    json_object_put(d);
}
