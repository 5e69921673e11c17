/* Pure helpers of the codecommit provider: paths, file modes, base64, commit specifiers. */
#include "providers/codecommit/internal.h"
#include "sigv4/encode.h"

#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static pthread_once_t git_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t write_mu = PTHREAD_MUTEX_INITIALIZER;

static void git_init_once(void)
{
    git_libgit2_init();
    /* Never read the user's global or system git configuration. */
    git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_GLOBAL, "");
    git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_XDG, "");
    git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_SYSTEM, "");
    git_libgit2_opts(GIT_OPT_ENABLE_STRICT_OBJECT_CREATION, 1);
    /* Objects and refs reach the disk before an API commit is acknowledged, like LMDB records. */
    git_libgit2_opts(GIT_OPT_ENABLE_FSYNC_GITDIR, 1);
}

void cc_git_init(void)
{
    pthread_once(&git_once, git_init_once);
}

void cc_write_lock(void)
{
    pthread_mutex_lock(&write_mu);
}

void cc_write_unlock(void)
{
    pthread_mutex_unlock(&write_mu);
}

#define REPO_LOCKS 64
static pthread_mutex_t repo_mu[REPO_LOCKS] = {[0 ... REPO_LOCKS - 1] = PTHREAD_MUTEX_INITIALIZER};

static pthread_mutex_t *repo_mutex(const char *id)
{
    unsigned h = 2166136261u;
    for (const char *p = id; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    return &repo_mu[h % REPO_LOCKS];
}

void cc_repo_lock(const char *id)
{
    pthread_mutex_lock(repo_mutex(id));
}

void cc_repo_unlock(const char *id)
{
    pthread_mutex_unlock(repo_mutex(id));
}

#define CC_MAX_PATH_COMPONENT 255

int cc_path_normalize(const char *in, size_t len, unsigned flags, char *out, size_t outcap)
{
    if (!in) return -1;
    if (len > CC_MAX_PATH_LEN || len + 1 > outcap) return -1;
    if (len > 0 && in[0] == '/') {
        if (!(flags & CC_PATH_READ)) return -1;
        in++;
        len--;
    }
    if (len > 0 && in[len - 1] == '/') {
        if (!(flags & CC_PATH_READ)) return -1;
        len--;
    }
    if (len == 0) {
        if (!(flags & CC_PATH_ALLOW_ROOT)) return -1;
        out[0] = '\0';
        return 0;
    }
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len) {
            unsigned char c = (unsigned char)in[i];
            if (c < 0x20 || c == 0x7f || c == '\\') return -1;
            if (c != '/') continue;
        }
        size_t n = i - start;
        const char *comp = in + start;
        if (n == 0) return -1;
        /* A name git clients cannot check out: NAME_MAX on every common file system. */
        if (n > CC_MAX_PATH_COMPONENT) return -1;
        if (n == 1 && comp[0] == '.') return -1;
        if (n == 2 && comp[0] == '.' && comp[1] == '.') return -1;
        if (n == 4 && strncasecmp(comp, ".git", 4) == 0) return -1;
        start = i + 1;
    }
    memcpy(out, in, len);
    out[len] = '\0';
    return 0;
}

unsigned cc_mode_from_name(const char *name)
{
    if (!name || strcmp(name, "NORMAL") == 0) return name ? GIT_FILEMODE_BLOB : 0;
    if (strcmp(name, "EXECUTABLE") == 0) return GIT_FILEMODE_BLOB_EXECUTABLE;
    if (strcmp(name, "SYMLINK") == 0) return GIT_FILEMODE_LINK;
    return 0;
}

const char *cc_mode_name(unsigned mode)
{
    switch (mode) {
    case GIT_FILEMODE_BLOB:
        return "NORMAL";
    case GIT_FILEMODE_BLOB_EXECUTABLE:
        return "EXECUTABLE";
    case GIT_FILEMODE_LINK:
        return "SYMLINK";
    default:
        return NULL;
    }
}

unsigned char *cc_b64_decode(const char *s, size_t len, size_t *outlen)
{
    unsigned char *out = malloc(len / 4 * 3 + 3 + 1);
    if (!out) return NULL;
    int64_t n = sigv4_base64_decode(s, len, out, len / 4 * 3 + 3);
    if (n < 0) {
        free(out);
        return NULL;
    }
    out[n] = '\0';
    *outlen = (size_t)n;
    return out;
}

struct json_object *cc_b64_json(const void *data, size_t len)
{
    char *buf = malloc(SIGV4_BASE64_LEN(len) + 1);
    if (!buf) abort();
    size_t o = sigv4_base64(data, len, buf);
    struct json_object *js = json_object_new_string_len(buf, (int)o);
    free(buf);
    return js;
}

char *cc_oid_str(proto_arena *a, const git_oid *id)
{
    char *s = proto_arena_alloc(a, GIT_OID_HEXSZ + 1);
    git_oid_tostr(s, GIT_OID_HEXSZ + 1, id);
    return s;
}

int cc_is_full_id(const char *s)
{
    size_t i = 0;
    for (; s[i]; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return 0;
    }
    return i == GIT_OID_HEXSZ;
}

/* A branch is a loose ref file, which git updates through "<file>.lock": a name component
 * longer than NAME_MAX minus ".lock" cannot be stored (AWS's 256 would fail with ENAMETOOLONG). */
#define CC_MAX_REF_COMPONENT (255 - 5)

int cc_branch_name_valid(const char *name)
{
    int valid = 0;
    if (!name || !*name || strlen(name) > 256) return 0;
    for (const char *p = name; *p;) {
        size_t n = strcspn(p, "/");
        if (n > CC_MAX_REF_COMPONENT) return 0;
        p += n;
        if (*p) p++;
    }
    /* git check-ref-format refuses DEL (and every control character, which libgit2 does check)
     * and the single component "@"; libgit2 1.5 lets both through. An embedded NUL arrives as
     * cc_bad_string, a DEL. */
    for (const char *p = name; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f) return 0;
    if (strcmp(name, "@") == 0) return 0;
    /* Branch rules on top of ref rules: not "HEAD", no leading '-' (git branch refuses both).
     * Unlike the ref check, it allocates, so libgit2 must be initialised (a GetBranch can be
     * the first git call after a restart). */
    cc_git_init();
    if (git_branch_name_is_valid(&valid, name) != 0) return 0;
    return valid;
}

int cc_resolve_commit(struct cc_repo *r, const char *spec, git_commit **out)
{
    git_oid id;
    git_object *obj = NULL;
    *out = NULL;
    if (!spec || !*spec || strlen(spec) > 256) return -1;
    if (cc_is_full_id(spec)) {
        if (git_oid_fromstr(&id, spec) != 0) return -1;
        return git_commit_lookup(out, r->git, &id) == 0 ? 0 : -1;
    }
    static const char *const prefixes[] = {"refs/heads/", "refs/tags/"};
    for (size_t i = 0; i < 2; i++) {
        char ref[512];
        snprintf(ref, sizeof ref, "%s%s", prefixes[i], spec);
        int valid = 0;
        if (git_reference_name_is_valid(&valid, ref) != 0 || !valid) continue;
        if (git_revparse_single(&obj, r->git, ref) == 0) {
            git_object *c = NULL;
            int rc = git_object_peel(&c, obj, GIT_OBJECT_COMMIT);
            git_object_free(obj);
            if (rc == 0) {
                *out = (git_commit *)c;
                return 0;
            }
        }
    }
    if (strcmp(spec, "HEAD") == 0) {
        if (git_revparse_single(&obj, r->git, "HEAD") == 0) {
            git_object *c = NULL;
            int rc = git_object_peel(&c, obj, GIT_OBJECT_COMMIT);
            git_object_free(obj);
            if (rc == 0) {
                *out = (git_commit *)c;
                return 0;
            }
        }
        return -1;
    }
    size_t n = strlen(spec);
    if (n >= 7 && n < GIT_OID_HEXSZ) {
        for (size_t i = 0; i < n; i++) {
            char c = spec[i];
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
                return -1;
        }
        if (git_oid_fromstrn(&id, spec, n) != 0) return -1;
        return git_commit_lookup_prefix(out, r->git, &id, n) == 0 ? 0 : -1;
    }
    return -1;
}

const char cc_bad_string[] = "\x7f";

const char *cc_json_str(struct json_object *o, const char *key)
{
    struct json_object *v;
    if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    const char *s = json_object_get_string(v);
    if (strlen(s) != (size_t)json_object_get_string_len(v)) return cc_bad_string;
    return s;
}
