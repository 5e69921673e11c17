/* Java regex semantics of the model patterns as compiled by PCRE2: whole-value, ASCII classes, '.'.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "protocol/gen/model_tables.h"

static int matches(const char *pattern, const char *value)
{
    char err[200];
    void *code = proto_model_compile_pattern(pattern, err, sizeof(err));
    cr_assert_not_null(code, "pattern %s: %s", pattern, err);
    int m = proto_model_pattern_match(code, value, strlen(value));
    proto_model_free_pattern(code);
    return m;
}

Test(proto_pattern, matches_the_whole_value_only)
{
    cr_assert(matches("[A-Za-z0-9.@\\-_]+", "my-pipe.1@x_y"));
    cr_assert_not(matches("[A-Za-z0-9.@\\-_]+", "ok name"));
    cr_assert_not(matches("[0-9]{12}", "0000000000001"));
    cr_assert_not(matches("[0-9]{12}", "x000000000000"));
    cr_assert(matches("AWS|ThirdParty", "ThirdParty"));
    cr_assert_not(matches("AWS|ThirdParty", "AWSThirdParty"));
    cr_assert_not(matches("^[a-zA-Z0-9-]+$", "abc\n"));
}

Test(proto_pattern, dot_stops_at_java_line_terminators)
{
    cr_assert(matches(".*", "any thing \xc3\xa9"));
    cr_assert_not(matches(".*", "a\nb"));
    cr_assert_not(matches(".*", "a\rb"));
    cr_assert_not(matches(".*", "a\xe2\x80\xa8"
                                "b")); /* U+2028 */
    cr_assert_not(matches(".*", "a\xc2\x85"
                                "b")); /* U+0085 */
}

Test(proto_pattern, w_is_ascii_and_unicode_properties_work)
{
    cr_assert(matches("[\\w\\.-]+", "a_b.c-9"));
    cr_assert_not(matches("[\\w\\.-]+", "\xc3\xa9"));
    cr_assert(matches("^([\\p{L}\\p{Z}\\p{N}_.:/=@+\\-]*)$", "\xc3\xa9t\xc3\xa9 \xe6\x97\xa5 42"));
    cr_assert_not(matches("^([\\p{L}\\p{Z}\\p{N}_.:/=@+\\-]*)$", "a*b"));
    /* One code point, not bytes: a 2-byte letter is one \p{L}. */
    cr_assert(matches("\\p{L}", "\xc3\xa9"));
    /* Invalid UTF-8 never matches. */
    cr_assert_not(matches(".*", "a\xff"));
}

Test(proto_pattern, java_only_class_names_are_translated)
{
    cr_assert(matches("\\p{IsL}+", "abc\xc3\xa9"));
    cr_assert(matches("\\p{Alpha}+", "abcXYZ"));
    cr_assert_not(matches("\\p{Alpha}+", "\xc3\xa9")); /* Java's \p{Alpha} is ASCII */
    cr_assert(matches("[\\p{Digit}_]+", "12_3"));
    cr_assert_not(matches("[\\p{Digit}_]+", "12a"));
    cr_assert(matches("\\P{Space}+", "a-b"));
    cr_assert_not(matches("\\P{Space}+", "a b"));
    cr_assert(matches("[]a]+", "]a"));
}

Test(proto_pattern, a_bad_pattern_is_reported_not_fatal)
{
    char err[200];
    cr_assert_null(proto_model_compile_pattern("[a-z", err, sizeof(err)));
    cr_assert(strstr(err, "offset") != NULL, "%s", err);
    cr_assert_null(proto_model_compile_pattern("(?<", err, sizeof(err)));
    cr_assert(err[0] != '\0');
    /* A skipped pattern constrains nothing. */
    cr_assert(proto_model_pattern_match(NULL, "anything", 8));
}

Test(proto_pattern, dash_after_a_class_shorthand_is_a_literal_as_in_java)
{
    /* CloudWatch Logs' model has [\w-_]*: \w, '-' and '_' in Java, an error in PCRE2 as is. */
    cr_assert(matches("[\\w-_]*", "a-b_c"));
    cr_assert_not(matches("[\\w-_]*", "a.b"));
    cr_assert(matches("[\\d-]+", "12-3"));
}

Test(proto_pattern, java_unicode_escapes_are_translated)
{
    /* IAM's path pattern and a policy document's character set. */
    const char *path = "(\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)";
    cr_assert(matches(path, "/"));
    cr_assert(matches(path, "/service-role/"));
    cr_assert_not(matches(path, "service-role/"));
    cr_assert_not(matches(path, "/a b/"));
    const char *doc = "[\\u0009\\u000A\\u000D\\u0020-\\u00FF]+";
    cr_assert(matches(doc, "{\"a\": 1}\n"));
    cr_assert_not(matches(doc, "\x01"));
    /* exactly four digits: "\u10000" is U+1000 then '0' */
    cr_assert(matches("[\\u10000]+", "0"));
}
