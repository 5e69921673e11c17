/* V2 pipeline triggers on Git pushes: AWS's glob patterns and the push filters, as pure
 * functions over json-c objects (unit-tested in tests/test_trigger_filters.c). */
#ifndef CP_TRIGGER_FILTERS_H
#define CP_TRIGGER_FILTERS_H

#include <stddef.h>

struct json_object;

/* Returns 1 when pattern is a well-formed glob: brackets and braces closed, braces not nested,
 * no trailing backslash; else 0. */
int cp_glob_valid(const char *pattern);

/* Matches s against an AWS trigger glob (the java.nio glob syntax the CodePipeline user guide
 * describes): '*' is any run of characters within a path component, '**' any run across '/',
 * '?' one character other than '/', "[a-z]" / "[!a-z]" one character of a set (not '/'; '*', '?'
 * and '\' are literal inside, '-' is literal first or after '!'), "{a,b}" one of the
 * subpatterns (not nested), '\' escapes the next character. The whole of s must match.
 * Returns 1 on a match, 0 otherwise (a malformed pattern matches nothing). */
int cp_glob_match(const char *pattern, const char *s);

/* One ref a push moved, as the trigger filters see it. */
struct cp_git_push {
    int is_tag;               /* a tag push, else a branch push */
    const char *name;         /* the branch or tag name ("main", "release/1", "v1.0") */
    const char *const *paths; /* the changed file paths */
    size_t n_paths;
};

/* Returns the index of the first push filter of gitConfiguration (the trigger's
 * "gitConfiguration" object) that push satisfies, or -1 when none does (or there are none).
 * A filter with tags takes only tag pushes, one with branches only branch pushes; a list
 * without includes includes everything; an exclude wins over an include; with filePaths, at
 * least one changed path must be included and not excluded. */
int cp_trigger_push_match(struct json_object *git_configuration, const struct cp_git_push *push);

/* Returns the name (pointing into decl) of the first CodeStarSourceConnection source action of
 * the pipeline declaration decl that a push to full_repo ("owner/repo") starts, or NULL. With a
 * trigger naming that action, its push filters decide (so a trigger turns the default change
 * detection off); without one, the default: a branch push to the action's BranchName, unless
 * its DetectChanges is "false". *by_trigger (may be NULL) says which decided. A deletion is not
 * a push that starts anything: call this only for refs created or moved. */
const char *cp_trigger_push_source(struct json_object *decl, const char *full_repo,
                                   const struct cp_git_push *push, int *by_trigger);

/* Checks the filter combinations of a trigger's gitConfiguration as CreatePipeline does:
 * every push filter names tags or branches (not both), filePaths only with branches; every
 * pull-request filter names branches; every criteria object has includes or excludes; every
 * pattern is a well-formed glob. Returns NULL when valid, else the reason (static string). */
const char *cp_trigger_check(struct json_object *git_configuration);

#endif
