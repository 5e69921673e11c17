/* Unit tests of the artifact bucket check, through the in-process S3 on a real temporary store. */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "persistence/store.h"
#include "providers/codepipeline/cp_internal.h"
#include "providers/codepipeline/structure.h"
#include "providers/s3/s3.h"

#define ME    "000000000000"
#define OTHER "111111111111"

static store *st;
static char dir[64];

static void setup(void)
{
    char err[256];
    snprintf(dir, sizeof dir, "/tmp/cpl-cp-buckets-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    struct store_options o = {.dir = dir, .no_sync = 1};
    cr_assert_eq(store_open(&o, &st, err, sizeof err), 0, "%s", err);
    cr_assert_eq(s3_create_bucket_local(st, ME, "us-east-1", "mine-east"), S3_OK);
    cr_assert_eq(s3_create_bucket_local(st, ME, "eu-west-1", "mine-west"), S3_OK);
    cr_assert_eq(s3_create_bucket_local(st, OTHER, "us-east-1", "theirs-east"), S3_OK);
}

static void teardown(void)
{
    store_close(st);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd)) {
    }
}

TestSuite(cp_artifact_buckets, .init = setup, .fini = teardown);

/* Runs the check on the declaration text for ME in us-east-1; returns its result. */
static int check(const char *text, struct cp_structure_error *e)
{
    struct json_object *decl = json_tokener_parse(text);
    cr_assert_not_null(decl, "test JSON does not parse: %s", text);
    memset(e, 0, sizeof *e);
    int rc = cp_artifact_buckets_check(st, ME, "us-east-1", decl, e);
    json_object_put(decl);
    return rc;
}

static void assert_missing(const struct cp_structure_error *e, const char *bucket,
                           const char *region)
{
    char want[512];
    snprintf(
        want, sizeof want,
        "An error occurred while validating the artifact bucket '%s': No bucket with the name "
        "%s was found. Choose a valid artifact bucket in '%s', or create a new artifact bucket "
        "to use in your pipeline.",
        bucket, bucket, region);
    cr_assert_eq(e->err, ERR_INVALID_STRUCTURE);
    cr_assert_str_eq(e->message, want);
}

Test(cp_artifact_buckets, accepts_own_bucket_in_pipeline_region)
{
    struct cp_structure_error e;
    cr_assert_eq(check("{\"artifactStore\":{\"type\":\"S3\",\"location\":\"mine-east\"}}", &e), 0,
                 "%s", e.message);
}

Test(cp_artifact_buckets, rejects_missing_bucket_with_aws_message)
{
    struct cp_structure_error e;
    cr_assert_eq(check("{\"artifactStore\":{\"type\":\"S3\",\"location\":\"nowhere\"}}", &e), -1);
    assert_missing(&e, "nowhere", "us-east-1");
}

Test(cp_artifact_buckets, rejects_bucket_of_another_account_as_not_found)
{
    struct cp_structure_error e;
    cr_assert_eq(check("{\"artifactStore\":{\"type\":\"S3\",\"location\":\"theirs-east\"}}", &e),
                 -1);
    assert_missing(&e, "theirs-east", "us-east-1");
}

Test(cp_artifact_buckets, rejects_own_bucket_in_another_region_naming_the_expected_one)
{
    struct cp_structure_error e;
    cr_assert_eq(check("{\"artifactStore\":{\"type\":\"S3\",\"location\":\"mine-west\"}}", &e), -1);
    assert_missing(&e, "mine-west", "us-east-1");
}

Test(cp_artifact_buckets, checks_each_artifact_stores_region)
{
    struct cp_structure_error e;
    cr_assert_eq(
        check("{\"artifactStores\":{\"us-east-1\":{\"type\":\"S3\",\"location\":"
              "\"mine-east\"},\"eu-west-1\":{\"type\":\"S3\",\"location\":\"mine-west\"}}}",
              &e),
        0, "%s", e.message);
    cr_assert_eq(check("{\"artifactStores\":{\"us-east-1\":{\"type\":\"S3\",\"location\":"
                       "\"mine-east\"},\"eu-west-1\":{\"type\":\"S3\",\"location\":\"gone\"}}}",
                       &e),
                 -1);
    assert_missing(&e, "gone", "eu-west-1");
    /* Swapped: each bucket sits in the other entry's region; the first entry fails. */
    cr_assert_eq(
        check("{\"artifactStores\":{\"us-east-1\":{\"type\":\"S3\",\"location\":"
              "\"mine-west\"},\"eu-west-1\":{\"type\":\"S3\",\"location\":\"mine-east\"}}}",
              &e),
        -1);
    assert_missing(&e, "mine-west", "us-east-1");
}

Test(cp_artifact_buckets, another_account_sees_its_own_buckets_only)
{
    struct cp_structure_error e;
    struct json_object *decl =
        json_tokener_parse("{\"artifactStore\":{\"type\":\"S3\",\"location\":\"theirs-east\"}}");
    cr_assert_eq(cp_artifact_buckets_check(st, OTHER, "us-east-1", decl, &e), 0, "%s", e.message);
    json_object_put(decl);
    decl = json_tokener_parse("{\"artifactStore\":{\"type\":\"S3\",\"location\":\"mine-east\"}}");
    cr_assert_eq(cp_artifact_buckets_check(st, OTHER, "us-east-1", decl, &e), -1);
    json_object_put(decl);
    assert_missing(&e, "mine-east", "us-east-1");
}
