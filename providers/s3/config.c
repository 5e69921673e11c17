/* Bucket configuration sub-resources the emulator stores but does not act on (policy, CORS,
 * lifecycle, encryption, public access block...): PUT keeps the document, GET returns it or what a
 * fresh AWS bucket answers, DELETE forgets it; so tools that read and write them all (Terraform's
 * aws_s3_bucket) work. ACLs are always the owner's FULL_CONTROL; ACL writes are accepted. */
#include <json-c/json.h>
#include <string.h>

#include "providers/s3/internal.h"

#define MALFORMED_POLICY "Policies must be valid JSON and the first byte must be '{'"
#define POLICY_MAX       (20 * 1024) /* S3's documented bucket policy limit */
#define POLICY_DEPTH     32

/* The lifecycle's TransitionDefaultMinimumObjectSize, kept beside its document: a header on the
 * wire, not part of the XML. */
#define LIFECYCLE_MIN_SIZE "lifecycle.minsize"
#define MIN_SIZE_HEADER    "x-amz-transition-default-minimum-object-size"
#define MIN_SIZE_DEFAULT   "all_storage_classes_128K"
#define MIN_SIZE_BY_CLASS  "varies_by_storage_class"

static const struct cfg {
    const char *sub;
    const char *root;      /* the XML root a PUT body must have; NULL for JSON (policy) */
    enum proto_err absent; /* GET without a stored document; ERR_NONE: answer `deflt` */
    const char *message;
    const char *deflt; /* the default document's contents (inside <root>) */
    int deletable;
} cfgs[] = {
    {"policy", NULL, ERR_S3_NO_SUCH_BUCKET_POLICY, "The bucket policy does not exist", NULL, 1},
    {"cors", "CORSConfiguration", ERR_S3_NO_SUCH_CORS, "The CORS configuration does not exist",
     NULL, 1},
    {"lifecycle", "LifecycleConfiguration", ERR_S3_NO_SUCH_LIFECYCLE,
     "The lifecycle configuration does not exist", NULL, 1},
    {"website", "WebsiteConfiguration", ERR_S3_NO_SUCH_WEBSITE,
     "The specified bucket does not have a website configuration", NULL, 1},
    {"publicAccessBlock", "PublicAccessBlockConfiguration", ERR_S3_NO_SUCH_PUBLIC_ACCESS_BLOCK,
     "The public access block configuration was not found", NULL, 1},
    {"ownershipControls", "OwnershipControls", ERR_S3_OWNERSHIP_CONTROLS_NOT_FOUND,
     "The bucket ownership controls were not found", NULL, 1},
    {"object-lock", "ObjectLockConfiguration", ERR_S3_OBJECT_LOCK_CONFIG_NOT_FOUND,
     "Object Lock configuration does not exist for this bucket", NULL, 0},
    {"replication", "ReplicationConfiguration", ERR_S3_REPLICATION_CONFIG_NOT_FOUND,
     "The replication configuration was not found", NULL, 1},
    {"encryption", "ServerSideEncryptionConfiguration", ERR_NONE, NULL,
     "<Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm>"
     "</ApplyServerSideEncryptionByDefault><BucketKeyEnabled>false</BucketKeyEnabled></Rule>",
     1},
    {"notification", "NotificationConfiguration", ERR_NONE, NULL, "", 0},
    {"logging", "BucketLoggingStatus", ERR_NONE, NULL, "", 0},
    {"accelerate", "AccelerateConfiguration", ERR_NONE, NULL, "", 0},
    {"requestPayment", "RequestPaymentConfiguration", ERR_NONE, NULL, "<Payer>BucketOwner</Payer>",
     0},
};

static const struct cfg *find_cfg(struct proto_req *req)
{
    for (size_t i = 0; i < sizeof(cfgs) / sizeof(cfgs[0]); i++)
        if (proto_req_query(req, cfgs[i].sub)) return &cfgs[i];
    return NULL;
}

int s3_is_config_sub(struct proto_req *req, int object)
{
    if (proto_req_query(req, "acl")) return 1;
    return !object && find_cfg(req) != NULL;
}

static void acl_document(struct proto_req *req, const char *account)
{
    char owner_id[65];
    s3_owner_id(owner_id, account);
    s3_xml_begin(req, "AccessControlPolicy");
    proto_sb_puts(&req->body, "<Owner>");
    s3_xml_elem(&req->body, "ID", owner_id);
    s3_xml_elem(&req->body, "DisplayName", "codepipeline-local");
    proto_sb_puts(&req->body, "</Owner><AccessControlList><Grant>"
                              "<Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
                              "xsi:type=\"CanonicalUser\">");
    s3_xml_elem(&req->body, "ID", owner_id);
    s3_xml_elem(&req->body, "DisplayName", "codepipeline-local");
    proto_sb_puts(&req->body, "</Grantee><Permission>FULL_CONTROL</Permission></Grant>"
                              "</AccessControlList>");
    s3_xml_end(req, "AccessControlPolicy");
}

/* Checks the bucket (and the key, for object ACLs); b may be NULL. */
static int check_target(struct proto_req *req, const struct s3_target *tg, struct s3_bucket *b)
{
    store_txn *t = NULL;
    struct s3_bucket tmp;
    struct s3_obj o;
    if (!b) b = &tmp;
    if (store_txn_begin(req->store, 0, &t)) return s3_store_error(req, STORE_ERROR);
    int rc = s3_bucket_check(req, t, tg->bucket, b);
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

/* Returns the stored document for sub, or NULL. */
static const char *stored(const struct s3_bucket *b, const char *sub)
{
    size_t pos = 0;
    const char *n, *v;
    while (s3_pairs_next(b->configs, b->configs_len, &pos, &n, &v))
        if (strcmp(n, sub) == 0) return v;
    return NULL;
}

int s3_get_config(struct proto_req *req, const struct s3_target *tg)
{
    struct s3_bucket b;
    int rc = check_target(req, tg, &b);
    if (rc) return rc;
    if (proto_req_query(req, "acl")) {
        acl_document(req, b.account);
        return 0;
    }
    const struct cfg *c = find_cfg(req);
    const char *doc = stored(&b, c->sub);
    if (doc && strcmp(c->sub, "lifecycle") == 0) {
        /* AWS always answers it; a document stored before it was kept has the default */
        const char *size = stored(&b, LIFECYCLE_MIN_SIZE);
        proto_req_add_header(req, MIN_SIZE_HEADER, size ? size : MIN_SIZE_DEFAULT);
    }
    if (doc) {
        req->content_type = c->root ? "application/xml" : "application/json";
        proto_sb_puts(&req->body, doc);
        return 0;
    }
    if (c->absent != ERR_NONE) {
        s3_err_extra(req, "BucketName", tg->bucket);
        return proto_error(req, c->absent, "%s", c->message);
    }
    s3_xml_begin(req, c->root);
    proto_sb_puts(&req->body, c->deflt);
    s3_xml_end(req, c->root);
    return 0;
}

/* Replaces (docs[i] != NULL) or removes the stored documents of subs[0..n) in the bucket record,
 * in one transaction. */
static int store_configs(struct proto_req *req, const struct s3_target *tg, const char *const *subs,
                         const char *const *docs, size_t n)
{
    store_txn *t = NULL;
    struct s3_bucket b;
    struct proto_sb sb = PROTO_SB_INIT;
    if (store_txn_begin(req->store, 1, &t)) return s3_store_error(req, STORE_ERROR);
    int rc = s3_bucket_check(req, t, tg->bucket, &b);
    if (rc) goto out;
    size_t pos = 0;
    const char *name, *v;
    while (s3_pairs_next(b.configs, b.configs_len, &pos, &name, &v)) {
        size_t i = 0;
        while (i < n && strcmp(name, subs[i]) != 0)
            i++;
        if (i < n) continue;
        proto_sb_append(&sb, name, strlen(name) + 1);
        proto_sb_append(&sb, v, strlen(v) + 1);
    }
    for (size_t i = 0; i < n; i++) {
        if (!docs[i]) continue;
        proto_sb_append(&sb, subs[i], strlen(subs[i]) + 1);
        proto_sb_append(&sb, docs[i], strlen(docs[i]) + 1);
    }
    b.configs = sb.buf;
    b.configs_len = sb.len;
    if ((rc = s3_bucket_save(t, &b))) {
        rc = s3_store_error(req, rc);
        goto out;
    }
    rc = s3_commit(req, &t);
out:
    store_txn_abort(t);
    proto_sb_free(&sb);
    return rc;
}

/* Checks a PutBucketPolicy document: UTF-8 JSON whose first byte is '{' and that is one object
 * and nothing after it, as AWS answers MalformedPolicy otherwise; and at most 20 KB. AWS counts
 * the limit on the document with its insignificant whitespace taken out, so a pretty-printed
 * policy is measured compact (json-c's plain serialisation, which keeps '/' and non-ASCII as is).
 * The statements' grammar is not checked. Returns 0 or the answered error. */
static int check_policy(struct proto_req *req, const char *body, size_t len)
{
    struct json_tokener *tok = NULL;
    struct json_object *doc = NULL;
    int rc = 0;
    if (len == 0 || body[0] != '{' || memchr(body, '\0', len) || !s3_utf8_valid(body, len) ||
        len > INT32_MAX) {
        rc = proto_error(req, ERR_S3_MALFORMED_POLICY, MALFORMED_POLICY);
        goto out;
    }
    tok = json_tokener_new_ex(POLICY_DEPTH);
    if (!tok) {
        rc = s3_store_error(req, STORE_ERROR);
        goto out;
    }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    doc = json_tokener_parse_ex(tok, body, (int)len);
    size_t used = json_tokener_get_parse_end(tok);
    while (used < len &&
           (body[used] == ' ' || body[used] == '\t' || body[used] == '\r' || body[used] == '\n'))
        used++;
    if (!doc || json_tokener_get_error(tok) != json_tokener_success || used != len ||
        !json_object_is_type(doc, json_type_object)) {
        rc = proto_error(req, ERR_S3_MALFORMED_POLICY, MALFORMED_POLICY);
        goto out;
    }
    size_t compact = 0;
    const char *plain = json_object_to_json_string_length(
        doc, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &compact);
    if (!plain || compact > POLICY_MAX)
        rc = proto_error(req, ERR_S3_POLICY_TOO_LARGE,
                         "Policy exceeds the maximum allowed document size.");
out:
    json_object_put(doc);
    if (tok) json_tokener_free(tok);
    return rc;
}

int s3_put_config(struct proto_req *req, const struct s3_target *tg)
{
    if (proto_req_query(req, "acl")) return check_target(req, tg, NULL);
    const struct cfg *c = find_cfg(req);
    int rc = s3_check_buffered_body(req, 1);
    if (rc) return rc;
    const char *body = req->http.body ? req->http.body : "";
    size_t len = req->http.body_len;
    if (!c->root && (rc = check_policy(req, body, len))) return rc;
    if (len == 0 || len > 64 * 1024 || memchr(body, '\0', len))
        return proto_error(req, ERR_S3_MALFORMED_XML, S3_MALFORMED_XML);
    if (c->root) {
        struct s3_xml_node *root = s3_xml_parse(req->arena, body, len);
        if (!root || strcmp(root->name, c->root) != 0)
            return proto_error(req, ERR_S3_MALFORMED_XML, S3_MALFORMED_XML);
    }
    const char *subs[2] = {c->sub, LIFECYCLE_MIN_SIZE};
    const char *docs[2] = {proto_arena_strndup(req->arena, body, len), NULL};
    size_t n = 1;
    if (strcmp(c->sub, "lifecycle") == 0) {
        /* Terraform waits until a read gives back the value it wrote, header included */
        const char *size = proto_req_header(req, MIN_SIZE_HEADER);
        if (!size) size = MIN_SIZE_DEFAULT;
        if (strcmp(size, MIN_SIZE_DEFAULT) != 0 && strcmp(size, MIN_SIZE_BY_CLASS) != 0) {
            s3_err_extra(req, "ArgumentName", MIN_SIZE_HEADER);
            s3_err_extra(req, "ArgumentValue", size);
            return proto_error(req, ERR_S3_INVALID_ARGUMENT,
                               "Invalid value for " MIN_SIZE_HEADER ": must be " MIN_SIZE_DEFAULT
                               " or " MIN_SIZE_BY_CLASS);
        }
        docs[1] = size;
        n = 2;
    }
    rc = store_configs(req, tg, subs, docs, n);
    if (!rc && n == 2) proto_req_add_header(req, MIN_SIZE_HEADER, docs[1]);
    if (!rc && !c->root) req->status = 204;
    return rc;
}

int s3_delete_config(struct proto_req *req, const struct s3_target *tg)
{
    const struct cfg *c = find_cfg(req);
    if (!c || !c->deletable)
        return proto_error(req, ERR_S3_NOT_IMPLEMENTED,
                           "A header you provided implies functionality that is not implemented");
    const char *subs[2] = {c->sub, LIFECYCLE_MIN_SIZE};
    const char *docs[2] = {NULL, NULL};
    int rc = store_configs(req, tg, subs, docs, strcmp(c->sub, "lifecycle") == 0 ? 2 : 1);
    if (!rc) req->status = 204;
    return rc;
}
