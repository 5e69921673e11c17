/* The artifact bucket check of CreatePipeline and UpdatePipeline, through the in-process S3. */
#include "providers/codepipeline/cp_internal.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "providers/codepipeline/structure.h"
#include "providers/s3/s3.h"

/* Checks that bucket is the caller's and lives in region. AWS's wording for a bucket that does
 * not exist, as CreatePipeline answers it (InvalidStructureException, 400):
 * https://github.com/awslabs/aws-deployment-framework/issues/95 and
 * https://github.com/aws-samples/aws-ecs-anywhere-workshop-samples/issues/4
 * Nothing public shows AWS's answer for a bucket of another account or in another region; both
 * get the same message, naming the region where the bucket was expected: to the caller, a bucket
 * it does not own in that region is a bucket that is not there. */
static int check_one(struct store *st, const char *account, const char *region, const char *bucket,
                     struct cp_structure_error *e)
{
    char where[64];
    int rc = s3_bucket_region(st, account, bucket, where, sizeof where);
    if (rc == S3_OK && !strcmp(where, region)) return 0;
    if (rc == S3_OK || rc == S3_ENOBUCKET || rc == S3_EACCESS || rc == S3_EINVAL) {
        e->err = ERR_INVALID_STRUCTURE;
        snprintf(e->message, sizeof e->message,
                 "An error occurred while validating the artifact bucket '%s': No bucket with the "
                 "name %s was found. Choose a valid artifact bucket in '%s', or create a new "
                 "artifact bucket to use in your pipeline.",
                 bucket, bucket, region);
        return -1;
    }
    e->err = ERR_INTERNAL_FAILURE;
    snprintf(e->message, sizeof e->message, "The data store failed");
    return -1;
}

static const char *location_of(struct json_object *entry)
{
    struct json_object *v;
    if (!json_object_object_get_ex(entry, "location", &v) ||
        !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

int cp_artifact_buckets_check(struct store *st, const char *account, const char *region,
                              struct json_object *decl, struct cp_structure_error *e)
{
    struct json_object *one = NULL, *many = NULL;
    json_object_object_get_ex(decl, "artifactStore", &one);
    json_object_object_get_ex(decl, "artifactStores", &many);
    if (one) {
        const char *bucket = location_of(one);
        if (bucket && check_one(st, account, region, bucket, e)) return -1;
    }
    if (many && json_object_is_type(many, json_type_object)) {
        json_object_object_foreach(many, store_region, entry)
        {
            const char *bucket = location_of(entry);
            if (bucket && check_one(st, account, store_region, bucket, e)) return -1;
        }
    }
    return 0;
}
