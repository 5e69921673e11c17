/* Bucket and object configuration sub-resources this emulator does not model (ACLs, policy,
 * CORS, lifecycle, encryption...): answered as a fresh AWS bucket would, so that tools which read
 * them all (Terraform's aws_s3_bucket) work. Writes of ACLs are accepted and ignored. */
#include <string.h>

#include "providers/s3/internal.h"

/* A sub-resource whose GET answers "not configured" with an error. */
static const struct {
    const char *sub;
    enum proto_err err;
    const char *message;
} missing[] = {
    {"policy", ERR_S3_NO_SUCH_BUCKET_POLICY, "The bucket policy does not exist"},
    {"cors", ERR_S3_NO_SUCH_CORS, "The CORS configuration does not exist"},
    {"lifecycle", ERR_S3_NO_SUCH_LIFECYCLE, "The lifecycle configuration does not exist"},
    {"website", ERR_S3_NO_SUCH_WEBSITE,
     "The specified bucket does not have a website configuration"},
    {"publicAccessBlock", ERR_S3_NO_SUCH_PUBLIC_ACCESS_BLOCK,
     "The public access block configuration was not found"},
    {"ownershipControls", ERR_S3_OWNERSHIP_CONTROLS_NOT_FOUND,
     "The bucket ownership controls were not found"},
    {"object-lock", ERR_S3_OBJECT_LOCK_CONFIG_NOT_FOUND,
     "Object Lock configuration does not exist for this bucket"},
    {"replication", ERR_S3_REPLICATION_CONFIG_NOT_FOUND,
     "The replication configuration was not found"},
};

/* A sub-resource whose GET answers a fixed document (root element and its contents). */
static const struct {
    const char *sub, *root, *inner;
} fixed[] = {
    {"encryption", "ServerSideEncryptionConfiguration",
     "<Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm>"
     "</ApplyServerSideEncryptionByDefault><BucketKeyEnabled>false</BucketKeyEnabled></Rule>"},
    {"notification", "NotificationConfiguration", ""},
    {"logging", "BucketLoggingStatus", ""},
    {"accelerate", "AccelerateConfiguration", ""},
    {"requestPayment", "RequestPaymentConfiguration", "<Payer>BucketOwner</Payer>"},
};

static void acl_document(struct proto_req *req)
{
    s3_xml_begin(req, "AccessControlPolicy");
    proto_sb_puts(&req->body, "<Owner>");
    s3_xml_elem(&req->body, "ID", S3_OWNER_ID);
    s3_xml_elem(&req->body, "DisplayName", "codepipeline-local");
    proto_sb_puts(&req->body, "</Owner><AccessControlList><Grant>"
                              "<Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
                              "xsi:type=\"CanonicalUser\">");
    s3_xml_elem(&req->body, "ID", S3_OWNER_ID);
    s3_xml_elem(&req->body, "DisplayName", "codepipeline-local");
    proto_sb_puts(&req->body, "</Grantee><Permission>FULL_CONTROL</Permission></Grant>"
                              "</AccessControlList>");
    s3_xml_end(req, "AccessControlPolicy");
}

/* Checks the bucket (and the key, for object ACLs). */
static int check_target(struct proto_req *req, const struct s3_target *tg)
{
    store_txn *t = NULL;
    struct s3_bucket b;
    struct s3_obj o;
    if (store_txn_begin(req->store, 0, &t)) return s3_store_error(req, STORE_ERROR);
    int rc = s3_bucket_check(req, t, tg->bucket, &b);
    if (!rc && tg->key) {
        int r = s3_current_load(t, req->arena, tg->bucket, tg->key, tg->key_len, &o);
        if (r == STORE_NOTFOUND) {
            s3_err_extra(req, "Key", tg->key);
            rc = proto_error(req, ERR_S3_NO_SUCH_KEY, "The specified key does not exist.");
        } else if (r) {
            rc = s3_store_error(req, r);
        }
    }
    store_txn_abort(t);
    return rc;
}

int s3_get_config(struct proto_req *req, const struct s3_target *tg)
{
    int rc = check_target(req, tg);
    if (rc) return rc;
    if (proto_req_query(req, "acl")) {
        acl_document(req);
        return 0;
    }
    for (size_t i = 0; i < sizeof(missing) / sizeof(missing[0]); i++)
        if (proto_req_query(req, missing[i].sub)) {
            s3_err_extra(req, "BucketName", tg->bucket);
            return proto_error(req, missing[i].err, "%s", missing[i].message);
        }
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        if (proto_req_query(req, fixed[i].sub)) {
            s3_xml_begin(req, fixed[i].root);
            proto_sb_puts(&req->body, fixed[i].inner);
            s3_xml_end(req, fixed[i].root);
            return 0;
        }
    return proto_error(req, ERR_S3_NOT_IMPLEMENTED,
                       "A header you provided implies functionality that is not implemented");
}

int s3_put_acl(struct proto_req *req, const struct s3_target *tg)
{
    return check_target(req, tg);
}

int s3_is_config_sub(struct proto_req *req, int object)
{
    if (proto_req_query(req, "acl")) return 1;
    if (object) return 0;
    for (size_t i = 0; i < sizeof(missing) / sizeof(missing[0]); i++)
        if (proto_req_query(req, missing[i].sub)) return 1;
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        if (proto_req_query(req, fixed[i].sub)) return 1;
    return 0;
}
