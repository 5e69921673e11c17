/* V2 trigger filters: the glob matcher and the push filter evaluation (pure functions). */
#include "providers/codepipeline/trigger_filters.h"

#include <json-c/json.h>
#include <string.h>
#include <strings.h>
#include "providers/codepipeline/cp_json.h"

#define MAX_ALTS 64 /* brace alternatives tried per pattern: patterns are at most 255 bytes */

/* Returns the end of the bracket expression starting at p ('['), pointing past ']', or NULL. */
static const char *bracket_end(const char *p)
{
    const char *q = p + 1;
    if (*q == '!') q++;
    if (*q == ']') q++; /* a leading ']' is a member */
    while (*q && *q != ']')
        q++;
    return *q ? q + 1 : NULL;
}

/* Returns 1 when c is in the bracket expression [p, end). */
static int bracket_has(const char *p, const char *end, char c)
{
    const char *q = p + 1, *last = end - 1; /* last: the closing ']' */
    int neg = 0, in = 0;
    if (*q == '!') {
        neg = 1;
        q++;
    }
    for (int first = 1; q < last; first = 0) {
        char lo = *q;
        if (q + 2 < last && q[1] == '-' && !(first && lo == '-')) {
            char hi = q[2];
            if ((unsigned char)c >= (unsigned char)lo && (unsigned char)c <= (unsigned char)hi)
                in = 1;
            q += 3;
        } else {
            if (c == lo) in = 1;
            q++;
        }
    }
    return neg ? !in : in;
}

int cp_glob_valid(const char *p)
{
    int depth = 0;
    if (!p) return 0;
    for (; *p; p++) {
        if (*p == '\\') {
            if (!p[1]) return 0;
            p++;
        } else if (*p == '[') {
            const char *e = bracket_end(p);
            if (!e) return 0;
            p = e - 1;
        } else if (*p == '{') {
            if (depth++) return 0; /* groups do not nest */
        } else if (*p == '}') {
            if (!depth--) return 0;
        }
    }
    return depth == 0;
}

/* Matches s against p (no braces left) from p to pend. */
static int match(const char *p, const char *pend, const char *s)
{
    while (p < pend) {
        char c = *p;
        if (c == '*') {
            int deep = p + 1 < pend && p[1] == '*';
            p += deep ? 2 : 1;
            for (const char *t = s;; t++) {
                if (match(p, pend, t)) return 1;
                if (!*t || (!deep && *t == '/')) return 0;
            }
        }
        if (!*s) return 0;
        if (c == '?') {
            if (*s == '/') return 0;
            p++;
        } else if (c == '[') {
            const char *e = bracket_end(p);
            if (!e || *s == '/' || !bracket_has(p, e, *s)) return 0;
            p = e;
        } else {
            if (c == '\\') c = *++p;
            if (c != *s) return 0;
            p++;
        }
        s++;
    }
    return *s == '\0';
}

/* Expands the first brace group of pattern into each alternative and matches s; recursion
 * handles the groups after it. */
static int match_braces(const char *pat, const char *s, int *budget)
{
    const char *open = NULL;
    for (const char *p = pat; *p; p++) {
        if (*p == '\\' && p[1]) {
            p++;
        } else if (*p == '[') {
            const char *e = bracket_end(p);
            if (!e) return 0;
            p = e - 1;
        } else if (*p == '{') {
            open = p;
            break;
        }
    }
    if (!open) return match(pat, pat + strlen(pat), s);
    const char *close = open + 1;
    while (*close && *close != '}') {
        if (*close == '\\' && close[1]) close++;
        close++;
    }
    if (!*close) return 0;
    char buf[1024];
    size_t head = (size_t)(open - pat), tail = strlen(close + 1);
    for (const char *alt = open + 1; alt <= close;) {
        const char *end = alt;
        while (end < close && *end != ',') {
            if (*end == '\\' && end + 1 < close) end++;
            end++;
        }
        size_t al = (size_t)(end - alt);
        if (--*budget < 0 || head + al + tail >= sizeof buf) return 0;
        memcpy(buf, pat, head);
        memcpy(buf + head, alt, al);
        memcpy(buf + head + al, close + 1, tail + 1);
        if (match_braces(buf, s, budget)) return 1;
        alt = end + 1;
    }
    return 0;
}

int cp_glob_match(const char *pattern, const char *s)
{
    int budget = MAX_ALTS;
    if (!pattern || !s || !cp_glob_valid(pattern)) return 0;
    return match_braces(pattern, s, &budget);
}

static size_t alen(struct json_object *a)
{
    return a && json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
}

static int any_match(struct json_object *patterns, const char *s)
{
    for (size_t i = 0; i < alen(patterns); i++)
        if (cp_glob_match(json_object_get_string(json_object_array_get_idx(patterns, i)), s))
            return 1;
    return 0;
}

/* Returns 1 when s passes criteria {includes, excludes} (absent criteria: everything). */
static int passes(struct json_object *criteria, const char *s)
{
    struct json_object *inc = jget(criteria, "includes"), *exc = jget(criteria, "excludes");
    if (any_match(exc, s)) return 0;
    return alen(inc) == 0 || any_match(inc, s);
}

int cp_trigger_push_match(struct json_object *git_configuration, const struct cp_git_push *push)
{
    struct json_object *filters = jget(git_configuration, "push");
    if (!push || !push->name) return -1;
    for (size_t i = 0; i < alen(filters); i++) {
        struct json_object *f = json_object_array_get_idx(filters, i);
        struct json_object *tags = jget(f, "tags"), *branches = jget(f, "branches");
        struct json_object *paths = jget(f, "filePaths");
        if (push->is_tag) {
            if (!tags || !passes(tags, push->name)) continue;
            return (int)i;
        }
        if (tags || (!branches && !paths) || (branches && !passes(branches, push->name))) continue;
        int path_ok = !paths;
        for (size_t k = 0; !path_ok && k < push->n_paths; k++)
            path_ok = passes(paths, push->paths[k]);
        if (path_ok) return (int)i;
    }
    return -1;
}

const char *cp_trigger_push_source(struct json_object *decl, const char *full_repo,
                                   const struct cp_git_push *push, int *by_trigger)
{
    struct json_object *stages = jget(decl, "stages"), *triggers = jget(decl, "triggers");
    struct json_object *first =
        alen(stages) ? jget(json_object_array_get_idx(stages, 0), "actions") : NULL;
    if (!push || !push->name || !full_repo) return NULL;
    for (size_t a = 0; a < alen(first); a++) {
        struct json_object *act = json_object_array_get_idx(first, a);
        struct json_object *cfg = jget(act, "configuration");
        const char *name = jgets(act, "name"),
                   *provider = jgets(jget(act, "actionTypeId"), "provider");
        const char *repo = jgets(cfg, "FullRepositoryId");
        if (!name || !provider || strcmp(provider, "CodeStarSourceConnection") || !repo ||
            strcmp(repo, full_repo))
            continue;
        struct json_object *git = NULL;
        for (size_t t = 0; !git && t < alen(triggers); t++) {
            struct json_object *g =
                jget(json_object_array_get_idx(triggers, t), "gitConfiguration");
            const char *src = jgets(g, "sourceActionName");
            if (src && !strcmp(src, name)) git = g;
        }
        if (by_trigger) *by_trigger = git != NULL;
        if (git) {
            if (cp_trigger_push_match(git, push) >= 0) return name;
            continue;
        }
        const char *branch = jgets(cfg, "BranchName"), *detect = jgets(cfg, "DetectChanges");
        if (!push->is_tag && branch && !strcmp(branch, push->name) &&
            !(detect && !strcasecmp(detect, "false")))
            return name;
    }
    return NULL;
}

static const char COMBINATION[] = "The trigger configuration for the source action is not valid. "
                                  "Make sure to choose valid filter combinations.";

/* Checks one criteria object (NULL is fine): includes or excludes, well-formed globs. */
static const char *check_criteria(struct json_object *c)
{
    struct json_object *inc = jget(c, "includes"), *exc = jget(c, "excludes");
    if (!c) return NULL;
    if (!alen(inc) && !alen(exc)) return COMBINATION;
    for (size_t i = 0; i < alen(inc) + alen(exc); i++) {
        struct json_object *v = i < alen(inc) ? json_object_array_get_idx(inc, i)
                                              : json_object_array_get_idx(exc, i - alen(inc));
        if (!cp_glob_valid(json_object_get_string(v)))
            return "The trigger configuration for the source action is not valid. A filter "
                   "pattern is not a valid glob expression.";
    }
    return NULL;
}

const char *cp_trigger_check(struct json_object *git_configuration)
{
    struct json_object *push = jget(git_configuration, "push");
    struct json_object *pr = jget(git_configuration, "pullRequest");
    const char *why;
    for (size_t i = 0; i < alen(push); i++) {
        struct json_object *f = json_object_array_get_idx(push, i);
        struct json_object *tags = jget(f, "tags"), *branches = jget(f, "branches");
        struct json_object *paths = jget(f, "filePaths");
        /* Tags with branches or file paths is the combination AWS refuses
         * (hashicorp/terraform-provider-aws#43105); file paths ride on branches. */
        if ((tags && (branches || paths)) || (!tags && !branches)) return COMBINATION;
        if ((why = check_criteria(tags)) || (why = check_criteria(branches)) ||
            (why = check_criteria(paths)))
            return why;
    }
    for (size_t i = 0; i < alen(pr); i++) {
        struct json_object *f = json_object_array_get_idx(pr, i);
        struct json_object *branches = jget(f, "branches");
        if (!branches) return COMBINATION;
        if ((why = check_criteria(branches)) || (why = check_criteria(jget(f, "filePaths"))))
            return why;
    }
    return NULL;
}
