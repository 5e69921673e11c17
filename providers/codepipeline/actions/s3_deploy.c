/* The S3 deploy action: the input artifact to a bucket, unzipped (Extract true) or as one
 * object. CannedACL, CacheControl and KMSEncryptionKeyARN are recorded in the resolved
 * configuration; this S3 has no ACLs or KMS to apply them to. */
#include <fcntl.h>
#include <ftw.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "protocol/ids.h"
#include "providers/codepipeline/actions/actions.h"
#include "providers/s3/s3.h"

/* ObjectKey with {datetime} and {uuid} replaced, into out. */
static void expand_key(const char *in, char *out, size_t n)
{
    size_t o = 0;
    while (*in && o + 1 < n) {
        if (!strncmp(in, "{datetime}", 10)) {
            char dt[32];
            time_t now = time(NULL);
            struct tm tm;
            gmtime_r(&now, &tm);
            strftime(dt, sizeof dt, "%Y-%m-%d_%H-%M-%S", &tm);
            o += (size_t)snprintf(out + o, n - o, "%s", dt);
            in += 10;
        } else if (!strncmp(in, "{uuid}", 6)) {
            char u[37];
            proto_uuid(u);
            o += (size_t)snprintf(out + o, n - o, "%s", u);
            in += 6;
        } else {
            out[o++] = *in++;
        }
        if (o >= n) o = n - 1;
    }
    out[o] = 0;
}

/* The walk of an extracted tree (nftw has no context argument). */
static __thread struct {
    struct cp_action_ctx *ac;
    const char *bucket, *prefix;
    size_t rootlen;
    int failed, count;
} walk;

static int put_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    if (flag != FTW_F) return 0;
    char key[2048];
    const char *rel = path + walk.rootlen + 1;
    snprintf(key, sizeof key, "%s%s%s", walk.prefix, *walk.prefix ? "/" : "", rel);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 ||
        s3_put_object_fd(walk.ac->st, walk.ac->account, walk.bucket, key, fd, NULL, NULL)) {
        walk.failed = 1;
        if (fd >= 0) close(fd);
        return 1;
    }
    close(fd);
    walk.count++;
    return 0;
}

int cp_act_s3_deploy(struct cp_action_ctx *ac, struct cp_action_result *r)
{
    const char *bucket = cp_cfg(ac, "BucketName"), *extract = cp_cfg(ac, "Extract");
    const char *okey = cp_cfg(ac, "ObjectKey");
    if (!bucket) return cp_action_fail(r, "BucketName is required");
    if (s3_bucket_exists(ac->st, ac->account, bucket, NULL))
        return cp_action_fail(r, "The bucket %s does not exist or is not accessible", bucket);
    int fd = cp_artifact_open(ac, NULL, r);
    if (fd < 0) return CP_ACT_FAILED;
    char key[1024], summary[1200];
    if (!extract || strcasecmp(extract, "true")) {
        if (!okey || !*okey) {
            close(fd);
            return cp_action_fail(r, "ObjectKey is required when Extract is false");
        }
        expand_key(okey, key, sizeof key);
        int rc = s3_put_object_fd(ac->st, ac->account, bucket, key, fd, NULL, NULL);
        close(fd);
        if (rc) return cp_action_fail(r, "Could not write %s to bucket %s", key, bucket);
        snprintf(summary, sizeof summary, "Deployed s3://%s/%s", bucket, key);
        r->summary = strdup(summary);
        return CP_ACT_SUCCEEDED;
    }
    char dir[512], err[512];
    if (cp_tmpdir(dir, sizeof dir)) {
        close(fd);
        return cp_action_fail(r, "Could not make a working directory");
    }
    int rc = cp_zip_extract_fd(fd, dir, err, sizeof err);
    close(fd);
    if (rc) {
        cp_rmtree(dir);
        return cp_action_fail(r, "Could not extract the input artifact: %s", err);
    }
    if (okey)
        expand_key(okey, key, sizeof key);
    else
        key[0] = 0;
    walk.ac = ac;
    walk.bucket = bucket;
    walk.prefix = key;
    walk.rootlen = strlen(dir);
    walk.failed = 0;
    walk.count = 0;
    nftw(dir, put_one, 16, FTW_PHYS);
    cp_rmtree(dir);
    if (walk.failed) return cp_action_fail(r, "Could not write the extracted files to %s", bucket);
    snprintf(summary, sizeof summary, "Deployed %d objects to s3://%s/%s", walk.count, bucket, key);
    r->summary = strdup(summary);
    return CP_ACT_SUCCEEDED;
}
