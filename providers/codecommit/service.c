/* The codecommit operation table, and the checks CodeCommit makes before the model's. */
#include "providers/codecommit/codecommit.h"

#include <json-c/json.h>
#include <string.h>

#include "protocol/model.h"
#include "providers/codecommit/internal.h"

/* Sorted by name, as the model lists them. */
static const struct proto_operation cc_ops[] = {
#define CC_OP_ROW(name, fn) {name, fn},
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
    /* Over the model's 100 characters: CodeCommit's own exception too (these words are ours). */
    if (len > 100)
        return proto_error(req, ERR_CC_INVALID_REPOSITORY_NAME,
                           "The repository name is not valid. Repository names are limited to "
                           "100 characters.");
    const char *s = json_object_get_string(v);
    /* "." and ".." fit the model's pattern but name no directory a git client can clone into
     * (git refuses them as a clone target); the words are ours. */
    if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
        return proto_error(req, ERR_CC_INVALID_REPOSITORY_NAME,
                           "The repository name is not valid. Repository names cannot be '.' "
                           "or '..'.");
    if (len == 0 || name_chars_valid(s, len)) return 0;
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

/* A member the model marks required, and the exception CodeCommit names its absence with. The
 * model lists these exceptions for the very operations whose members it marks required (for
 * example RepositoryNameRequiredException for CreateRepository): they are reachable only because
 * CodeCommit checks before the model's constraints, as InvalidRepositoryNameException shows. */
struct required {
    const char *ops; /* " Op1 Op2 " */
    const char *member;
    unsigned empty_is_missing : 1; /* "" (or []) counts as absent: names with a 1-char minimum */
    int err;
    const char *message;
};

#define REPO_OPS                                                                                   \
    " BatchGetCommits CreateBranch CreateCommit CreateRepository DeleteBranch DeleteFile "         \
    "DeleteRepository GetBlob GetCommit GetDifferences GetFile GetFolder GetMergeCommit "          \
    "GetMergeOptions GetRepository ListBranches MergeBranchesByFastForward PutFile "               \
    "UpdateDefaultBranch UpdateRepositoryDescription "

static const struct required required_members[] = {
    {REPO_OPS, "repositoryName", 1, ERR_CC_REPOSITORY_NAME_REQUIRED,
     "A repository name is required, but was not specified."},
    {" UpdateRepositoryName ", "oldName", 1, ERR_CC_REPOSITORY_NAME_REQUIRED,
     "A repository name is required, but was not specified."},
    {" UpdateRepositoryName ", "newName", 1, ERR_CC_REPOSITORY_NAME_REQUIRED,
     "A repository name is required, but was not specified."},
    {" BatchGetRepositories ", "repositoryNames", 1, ERR_CC_REPOSITORY_NAMES_REQUIRED,
     "At least one repository name object is required, but was not specified."},
    {" CreateBranch DeleteBranch PutFile DeleteFile CreateCommit ", "branchName", 1,
     ERR_CC_BRANCH_NAME_REQUIRED, "A branch name is required, but was not specified."},
    {" UpdateDefaultBranch ", "defaultBranchName", 1, ERR_CC_BRANCH_NAME_REQUIRED,
     "A branch name is required, but was not specified."},
    /* AWS's text, quoted in renovatebot/renovate#19293 (GetCommentsForPullRequest). */
    {" CreateBranch GetCommit ", "commitId", 0, ERR_CC_COMMIT_ID_REQUIRED,
     "A commit ID is required, but no commit ID was specified."},
    {" PutFile DeleteFile GetFile ", "filePath", 0, ERR_CC_PATH_REQUIRED,
     "The folder path is required, but was not specified."},
    {" GetFolder ", "folderPath", 0, ERR_CC_PATH_REQUIRED,
     "The folder path is required, but was not specified."},
    {" PutFile ", "fileContent", 0, ERR_CC_FILE_CONTENT_REQUIRED,
     "The file cannot be added because it is empty. Empty files cannot be added to the "
     "repository with this API."},
    {" DeleteFile ", "parentCommitId", 0, ERR_CC_PARENT_COMMIT_ID_REQUIRED,
     "A parent commit ID is required. To view the full commit ID of a branch in a repository, "
     "use GetBranch or a Git command."},
    {" GetBlob ", "blobId", 0, ERR_CC_BLOB_ID_REQUIRED,
     "A blob ID is required, but was not specified."},
    {" BatchGetCommits ", "commitIds", 1, ERR_CC_COMMIT_IDS_LIST_REQUIRED,
     "A list of commit IDs is required, but was either not specified or the list was empty."},
    {" GetDifferences ", "afterCommitSpecifier", 0, ERR_CC_COMMIT_REQUIRED,
     "A commit was not specified."},
    {" GetMergeCommit GetMergeOptions MergeBranchesByFastForward ", "sourceCommitSpecifier", 0,
     ERR_CC_COMMIT_REQUIRED, "A commit was not specified."},
    {" GetMergeCommit GetMergeOptions MergeBranchesByFastForward ", "destinationCommitSpecifier", 0,
     ERR_CC_COMMIT_REQUIRED, "A commit was not specified."},
    {" TagResource UntagResource ListTagsForResource ", "resourceArn", 1,
     ERR_CC_RESOURCE_ARN_REQUIRED,
     "A valid Amazon Resource Name (ARN) for an CodeCommit resource is required. For a list of "
     "valid resources in CodeCommit, see CodeCommit Resources and Operations in the CodeCommit "
     "User Guide."},
    {" TagResource ", "tags", 0, ERR_CC_TAGS_MAP_REQUIRED, "A map of tags is required."},
    {" UntagResource ", "tagKeys", 1, ERR_CC_TAG_KEYS_LIST_REQUIRED,
     "A list of tag keys is required. The list cannot be empty or null."},
};

/* Returns 1 when op is one of the space-separated names of ops. */
static int op_listed(const char *ops, const char *op)
{
    size_t n = strlen(op);
    if (n == 0 || ops[0] != ' ') return 0;
    for (const char *p = strstr(ops, op); p; p = strstr(p + 1, op))
        if (p[-1] == ' ' && p[n] == ' ') return 1;
    return 0;
}

/* Returns 1 when member of input is absent or null (or, with empty_is_missing, "" or []). */
static int missing(struct json_object *input, const char *member, int empty_is_missing)
{
    struct json_object *v;
    if (!json_object_object_get_ex(input, member, &v) || !v) return 1;
    if (!empty_is_missing) return 0;
    if (json_object_is_type(v, json_type_string)) return json_object_get_string_len(v) == 0;
    if (json_object_is_type(v, json_type_array)) return json_object_array_length(v) == 0;
    return 0;
}

/* The checks CodeCommit makes itself, before the model's constraints. */
static int cc_prevalidate(struct proto_req *req)
{
    static const char *const names[] = {"repositoryName", "oldName", "newName"};
    struct json_object *v;
    int rc;
    if (!req->input || !json_object_is_type(req->input, json_type_object)) return 0;
    for (size_t i = 0; i < sizeof required_members / sizeof required_members[0]; i++) {
        const struct required *m = &required_members[i];
        if (op_listed(m->ops, req->operation) &&
            missing(req->input, m->member, m->empty_is_missing))
            return proto_error(req, m->err, "%s", m->message);
    }
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
