/* The S3 source action: the object of a versioned bucket, passed on as it is. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "providers/codepipeline/actions/actions.h"
#include "providers/s3/s3.h"

int cp_act_s3_source(struct cp_action_ctx *ac, struct cp_action_result *r)
{
    const char *bucket = cp_cfg(ac, "S3Bucket"), *key = cp_cfg(ac, "S3ObjectKey");
    const char *version = cp_override(ac, "S3_OBJECT_VERSION_ID");
    const char *okey = cp_override(ac, "S3_OBJECT_KEY");
    if (okey) key = okey;
    if (!bucket || !key) return cp_action_fail(r, "S3Bucket and S3ObjectKey are required");
    int versioned = 0;
    int rc = s3_bucket_exists(ac->st, ac->account, bucket, &versioned);
    if (rc) return cp_action_fail(r, "The bucket %s does not exist or is not accessible", bucket);
    if (!versioned)
        return cp_action_fail(r, "The bucket %s must have versioning enabled to be a source",
                              bucket);
    struct s3_object_info info;
    int fd = -1;
    rc = s3_get_object_fd(ac->st, ac->account, bucket, key, version, &info, &fd);
    if (rc)
        return cp_action_fail(r, "The object with key '%s' does not exist in bucket '%s'", key,
                              bucket);
    const char *out = "SourceArtifact";
    struct json_object *o0 = ac->outputs ? json_object_array_get_idx(ac->outputs, 0) : NULL, *n;
    if (o0 && json_object_object_get_ex(o0, "name", &n)) out = json_object_get_string(n);
    rc = cp_artifact_put_fd(ac, out, fd, r);
    close(fd);
    if (rc) return CP_ACT_FAILED;
    char etag[48];
    size_t el = strlen(info.etag);
    snprintf(etag, sizeof etag, "%.*s", el >= 2 ? (int)el - 2 : 0, info.etag + (el >= 2));
    r->variables = json_object_new_object();
    json_object_object_add(r->variables, "VersionId", json_object_new_string(info.version_id));
    json_object_object_add(r->variables, "ETag", json_object_new_string(etag));
    r->revision = json_object_new_object();
    json_object_object_add(r->revision, "revisionId", json_object_new_string(info.version_id));
    json_object_object_add(r->revision, "revisionChangeIdentifier", json_object_new_string(etag));
    json_object_object_add(r->revision, "created", json_object_new_double(info.last_modified));
    r->external_id = strdup(info.version_id);
    char summary[256];
    snprintf(summary, sizeof summary, "Amazon S3 version id: %s", info.version_id);
    r->summary = strdup(summary);
    return CP_ACT_SUCCEEDED;
}
