/* Unit tests of the V2 trigger glob matcher, push filter evaluation and filter checks. */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdio.h>

#include "providers/codepipeline/trigger_filters.h"

#define M(p, s)  cr_assert(cp_glob_match(p, s), "'%s' should match '%s'", p, s)
#define NM(p, s) cr_assert(!cp_glob_match(p, s), "'%s' should not match '%s'", p, s)

Test(cp_glob, a_star_stays_within_one_path_component)
{
    M("feature/*", "feature/login");
    NM("feature/*", "feature/login/v2");
    M("*.java", "Main.java");
    NM("*.java", "src/Main.java");
    M("*", "");
    M("release-*", "release-");
}

Test(cp_glob, a_double_star_crosses_directories)
{
    M("feature/**", "feature/login/v2");
    M("**", "a/b/c.txt");
    M("**/README.md", "docs/README.md");
    M("common/**/*.js", "common/lib/x/y.js");
    NM("common/**/*.js", "common/lib/y.ts");
    M("projectA/**", "projectA/src/main.c");
    NM("projectA/**", "projectB/src/main.c");
}

Test(cp_glob, a_question_mark_is_one_character_but_not_a_slash)
{
    M("foo.?", "foo.c");
    NM("foo.?", "foo.cc");
    NM("a?b", "a/b");
    M("v?.?", "v1.2");
}

Test(cp_glob, brackets_take_sets_ranges_and_negation)
{
    M("v[0-9]", "v7");
    NM("v[0-9]", "vx");
    M("[abc]x", "bx");
    M("[!a-c]x", "dx");
    NM("[!a-c]x", "ax");
    M("[-a]", "-");  /* '-' first is literal */
    M("[!-a]", "b"); /* '-' after '!' is literal */
    NM("[!-a]", "-");
    M("[*?]", "*"); /* '*' and '?' are literal inside brackets */
    NM("[*?]", "x");
    NM("a[/]b", "a/b"); /* never a slash */
}

Test(cp_glob, braces_offer_alternatives)
{
    M("*.{java,class}", "Main.class");
    M("*.{java,class}", "Main.java");
    NM("*.{java,class}", "Main.c");
    M("{main,release/**}", "release/2024/q1");
    M("{a,b}-{c,d}", "b-d");
    M("{,x}y", "y");
}

Test(cp_glob, a_backslash_escapes)
{
    M("\\*", "*");
    NM("\\*", "a");
    M("a\\{b", "a{b");
    M("\\[x]", "[x]");
}

Test(cp_glob, the_whole_name_must_match_and_exact_names_match_themselves)
{
    M("main", "main");
    NM("main", "mainline");
    NM("main", "xmain");
    M("release-v1.0", "release-v1.0");
}

Test(cp_glob, malformed_patterns_are_refused_and_match_nothing)
{
    cr_assert(!cp_glob_valid("[abc"));
    cr_assert(!cp_glob_valid("{a,b"));
    cr_assert(!cp_glob_valid("a}"));
    cr_assert(!cp_glob_valid("{a,{b,c}}"));
    cr_assert(!cp_glob_valid("abc\\"));
    cr_assert(cp_glob_valid("feature/**"));
    NM("[abc", "[abc");
}

static struct json_object *cfg(const char *text)
{
    struct json_object *o = json_tokener_parse(text);
    cr_assert_not_null(o, "%s", text);
    return o;
}

static int push(struct json_object *c, int is_tag, const char *name, const char *const *paths,
                size_t n)
{
    struct cp_git_push p = {is_tag, name, paths, n};
    return cp_trigger_push_match(c, &p);
}

Test(cp_trigger, a_tag_filter_takes_matching_tags_and_no_branch_push)
{
    struct json_object *c = cfg("{\"sourceActionName\":\"S\",\"push\":[{\"tags\":{\"includes\":"
                                "[\"release-*\"],\"excludes\":[\"release-beta*\"]}}]}");
    cr_assert_eq(push(c, 1, "release-1.0", NULL, 0), 0);
    cr_assert_eq(push(c, 1, "release-beta2", NULL, 0), -1, "an exclude wins over an include");
    cr_assert_eq(push(c, 1, "v1", NULL, 0), -1);
    cr_assert_eq(push(c, 0, "release-1.0", NULL, 0), -1, "a branch named like the tag");
    json_object_put(c);
}

Test(cp_trigger, a_branch_filter_with_file_paths_needs_one_changed_path_in)
{
    struct json_object *c =
        cfg("{\"sourceActionName\":\"S\",\"push\":[{\"branches\":{\"includes\":[\"main\","
            "\"feature/**\"],\"excludes\":[\"feature/wip\"]},\"filePaths\":{\"includes\":"
            "[\"src/**\"],\"excludes\":[\"**/README.md\"]}}]}");
    const char *in[] = {"docs/x.md", "src/app/main.c"};
    const char *readme[] = {"src/README.md"};
    const char *out[] = {"docs/x.md"};
    cr_assert_eq(push(c, 0, "main", in, 2), 0);
    cr_assert_eq(push(c, 0, "feature/a/b", in, 2), 0);
    cr_assert_eq(push(c, 0, "feature/wip", in, 2), -1, "an excluded branch");
    cr_assert_eq(push(c, 0, "develop", in, 2), -1, "a branch not included");
    cr_assert_eq(push(c, 0, "main", readme, 1), -1, "the only path is excluded");
    cr_assert_eq(push(c, 0, "main", out, 1), -1, "no path is included");
    cr_assert_eq(push(c, 0, "main", NULL, 0), -1, "no changed path at all");
    cr_assert_eq(push(c, 1, "main", in, 2), -1, "a tag push");
    json_object_put(c);
}

Test(cp_trigger, excludes_alone_include_everything_else_and_filters_are_alternatives)
{
    struct json_object *c =
        cfg("{\"sourceActionName\":\"S\",\"push\":[{\"branches\":{\"excludes\":[\"main\"]}},"
            "{\"tags\":{\"includes\":[\"v*\"]}}]}");
    cr_assert_eq(push(c, 0, "dev", NULL, 0), 0);
    cr_assert_eq(push(c, 0, "main", NULL, 0), -1);
    cr_assert_eq(push(c, 1, "v2", NULL, 0), 1, "the second filter");
    json_object_put(c);
    c = cfg("{\"sourceActionName\":\"S\",\"pullRequest\":[{\"branches\":{\"includes\":[\"*\"]}}]}");
    cr_assert_eq(push(c, 0, "main", NULL, 0), -1, "pull-request filters take no push");
    json_object_put(c);
}

static const char *check(const char *text)
{
    struct json_object *c = cfg(text);
    const char *why = cp_trigger_check(c);
    json_object_put(c);
    return why;
}

#define COMBINATION                                                                                \
    "The trigger configuration for the source action is not valid. Make sure to choose valid "     \
    "filter combinations."

Test(cp_trigger, check_refuses_the_combinations_aws_refuses)
{
    cr_assert_null(check("{\"push\":[{\"tags\":{\"includes\":[\"v*\"]}}]}"));
    cr_assert_null(check("{\"push\":[{\"branches\":{\"includes\":[\"main\"]},\"filePaths\":"
                         "{\"excludes\":[\"docs/**\"]}}]}"));
    cr_assert_null(check("{\"pullRequest\":[{\"events\":[\"OPEN\"],\"branches\":{\"includes\":"
                         "[\"main\"]}}]}"));
    cr_assert_str_eq(check("{\"push\":[{\"tags\":{\"includes\":[\"v*\"]},\"branches\":"
                           "{\"includes\":[\"dev\"]}}]}"),
                     COMBINATION);
    cr_assert_str_eq(check("{\"push\":[{\"tags\":{\"includes\":[\"v*\"]},\"filePaths\":"
                           "{\"includes\":[\"a\"]}}]}"),
                     COMBINATION);
    cr_assert_str_eq(check("{\"push\":[{\"filePaths\":{\"includes\":[\"a\"]}}]}"), COMBINATION);
    cr_assert_str_eq(check("{\"push\":[{}]}"), COMBINATION);
    cr_assert_str_eq(check("{\"push\":[{\"branches\":{}}]}"), COMBINATION);
    cr_assert_str_eq(check("{\"pullRequest\":[{\"events\":[\"OPEN\"]}]}"), COMBINATION);
    cr_assert_not_null(check("{\"push\":[{\"branches\":{\"includes\":[\"[main\"]}}]}"));
}

#define CONN_ACTION(name, repo, extra)                                                             \
    "{\"name\":\"" name "\",\"actionTypeId\":{\"category\":\"Source\",\"owner\":\"AWS\","          \
    "\"provider\":\"CodeStarSourceConnection\",\"version\":\"1\"},\"configuration\":{"             \
    "\"ConnectionArn\":\"arn:aws:codeconnections:us-east-1:000000000000:connection/c\","           \
    "\"FullRepositoryId\":\"" repo "\",\"BranchName\":\"main\"" extra "}}"

static const char *source_for(const char *decl_text, int is_tag, const char *name, int *by)
{
    static char got[64];
    struct json_object *d = cfg(decl_text);
    struct cp_git_push p = {is_tag, name, NULL, 0};
    const char *a = cp_trigger_push_source(d, "acme/app", &p, by);
    snprintf(got, sizeof got, "%s", a ? a : "(none)");
    json_object_put(d);
    return got;
}

Test(cp_trigger, without_a_trigger_a_push_to_the_branch_starts_unless_detection_is_off)
{
    int by = -1;
    const char *d = "{\"stages\":[{\"actions\":[" CONN_ACTION(
        "Other", "acme/other", "") "," CONN_ACTION("Src", "acme/app", "") "]}]}";
    cr_assert_str_eq(source_for(d, 0, "main", &by), "Src");
    cr_assert_eq(by, 0);
    cr_assert_str_eq(source_for(d, 0, "dev", &by), "(none)");
    cr_assert_str_eq(source_for(d, 1, "main", &by), "(none)", "a tag named like the branch");
    cr_assert_str_eq(source_for("{\"stages\":[{\"actions\":[" CONN_ACTION(
                                    "Src", "acme/app", ",\"DetectChanges\":\"false\"") "]}]}",
                                0, "main", &by),
                     "(none)");
}

Test(cp_trigger, a_trigger_on_the_action_replaces_default_change_detection)
{
    int by = -1;
    const char *d =
        "{\"triggers\":[{\"providerType\":\"CodeStarSourceConnection\",\"gitConfiguration\":{"
        "\"sourceActionName\":\"Src\",\"push\":[{\"tags\":{\"includes\":[\"v*\"]}}]}}],"
        "\"stages\":[{\"actions\":[" CONN_ACTION("Src", "acme/app", "") "]}]}";
    cr_assert_str_eq(source_for(d, 1, "v1.2", &by), "Src");
    cr_assert_eq(by, 1);
    cr_assert_str_eq(source_for(d, 0, "main", &by), "(none)",
                     "the action's own branch no longer starts it");
    cr_assert_str_eq(source_for(d, 1, "beta", &by), "(none)");
}
