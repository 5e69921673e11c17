/* The codecommit operation table, and the checks CodeCommit makes before the model's. */
#include "providers/codecommit/codecommit.h"

#include <json-c/json.h>
#include <string.h>

#include "protocol/model.h"
#include "providers/codecommit/internal.h"

/* Sorted by name, as the model lists them. */
static const struct proto_operation cc_ops[] = {
#define CC_OP_ROW(name, fn, flags) {name, fn, flags},
    CC_OPERATIONS(CC_OP_ROW)
#undef CC_OP_ROW
};

/* Returns 1 when the len bytes of s all match the model's RepositoryName pattern [\w\.-]
 * (Java's \w: ASCII letters, digits and '_'). */
static int name_chars_valid(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-'))
            return 0;
    }
    return 1;
}

/* Checks one repository-name member of the input (absent, empty and non-string values are left
 * to the model and the handlers). Returns 0 or a negative proto_err set on req. */
static int check_name(struct proto_req *req, const char *member)
{
    struct json_object *v;
    if (!json_object_object_get_ex(req->input, member, &v) ||
        !json_object_is_type(v, json_type_string))
        return 0;
    size_t len = (size_t)json_object_get_string_len(v);
    if (len == 0 || name_chars_valid(json_object_get_string(v), len)) return 0;
    /* AWS's words for a name outside the pattern, as Elastic Beanstalk relays them: "Repository
     * names are restricted to alphanumeric characters, plus '.', '_', and '-' (Service:
     * AWSCodeCommit; Status Code: 400; Error Code: InvalidRepositoryNameException ...)", quoted
     * in public EB deployment notes (code search for that sentence). CodeCommit answers with its
     * own exception, not the ValidationException the model's pattern would give. */
    return proto_error(req, ERR_CC_INVALID_REPOSITORY_NAME,
                       "Repository names are restricted to alphanumeric characters, plus '.', "
                       "'_', and '-'");
}

/* Returns the number of bytes the base64 text of v decodes to (padding and a partial last quad
 * counted as git and AWS count them); the model rejects text that is not base64. */
static size_t b64_len(struct json_object *v)
{
    const char *s = json_object_get_string(v);
    size_t n = (size_t)json_object_get_string_len(v);
    while (n > 0 && s[n - 1] == '=')
        n--;
    return n / 4 * 3 + (n % 4 >= 2 ? n % 4 - 1 : 0);
}

/* Checks one fileContent value against the 6 MB limit of one file. */
static int check_content(struct proto_req *req, struct json_object *v)
{
    if (!v || !json_object_is_type(v, json_type_string) || b64_len(v) <= CC_MAX_FILE_SIZE) return 0;
    /* The model's FileContent max (6291456) would make this a ValidationException; AWS documents
     * FileContentSizeLimitExceededException for PutFile and CreateCommit with this text, and
     * CodeCommit answers its own checks before the model's (see check_name). */
    return proto_error(req, ERR_CC_FILE_CONTENT_SIZE_LIMIT_EXCEEDED,
                       "The file cannot be added because it is too large. The maximum file size "
                       "is 6 MB, and the combined file content change size is 7 MB. Consider "
                       "making these changes using a Git client.");
}

/* The checks CodeCommit makes itself, before the model's constraints. */
static int cc_prevalidate(struct proto_req *req)
{
    static const char *const names[] = {"repositoryName", "oldName", "newName"};
    struct json_object *v;
    int rc;
    if (!req->input || !json_object_is_type(req->input, json_type_object)) return 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if ((rc = check_name(req, names[i]))) return rc;
    if (strcmp(req->operation, "PutFile") == 0 &&
        json_object_object_get_ex(req->input, "fileContent", &v))
        return check_content(req, v);
    if (strcmp(req->operation, "CreateCommit") == 0 &&
        json_object_object_get_ex(req->input, "putFiles", &v) &&
        json_object_is_type(v, json_type_array)) {
        size_t n = json_object_array_length(v);
        for (size_t i = 0; i < n; i++) {
            struct json_object *e = json_object_array_get_idx(v, i), *c;
            if (e && json_object_is_type(e, json_type_object) &&
                json_object_object_get_ex(e, "fileContent", &c) && (rc = check_content(req, c)))
                return rc;
        }
    }
    return 0;
}

const struct proto_service cc_service = {
    .name = "codecommit",
    .target_prefix = "CodeCommit_20150413",
    .protocol = PROTO_JSON_1_1,
    .ops = cc_ops,
    .n_ops = sizeof cc_ops / sizeof cc_ops[0],
    .model = &proto_model_codecommit,
    .clock_skew_seconds = 300,
    .prevalidate = cc_prevalidate,
};
