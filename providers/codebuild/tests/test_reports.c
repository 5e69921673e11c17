/* Unit tests of the JUnit XML reader behind CodeBuild's test reports. */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <string.h>

#include "providers/codebuild/run.h"

static int parse(const char *xml, struct json_object *cases)
{
    return cb_junit_parse(xml, strlen(xml), "arn:r", "t.xml", cases);
}

Test(cb_junit, reads_cases_with_their_status_suite_and_duration)
{
    struct json_object *cases = json_object_new_array();
    cr_assert_eq(parse("<testsuite name='s'><testcase classname='c' name='ok' time='1.5'/>"
                       "<testcase name='bad'><error>boom</error></testcase>"
                       "<testcase name='skip'><skipped/></testcase></testsuite>",
                       cases),
                 0);
    cr_assert_eq(json_object_array_length(cases), 3);
    struct json_object *ok = json_object_array_get_idx(cases, 0);
    cr_assert_str_eq(cb_json_str(ok, "status"), "SUCCEEDED");
    cr_assert_str_eq(cb_json_str(ok, "testSuiteName"), "s");
    cr_assert_str_eq(cb_json_str(ok, "prefix"), "c");
    struct json_object *d;
    json_object_object_get_ex(ok, "durationInNanoSeconds", &d);
    cr_assert_eq(json_object_get_int64(d), 1500000000);
    struct json_object *bad = json_object_array_get_idx(cases, 1);
    cr_assert_str_eq(cb_json_str(bad, "status"), "ERROR");
    cr_assert_str_eq(cb_json_str(bad, "message"), "boom");
    cr_assert_str_eq(cb_json_str(json_object_array_get_idx(cases, 2), "status"), "SKIPPED");
    json_object_put(cases);
}

Test(cb_junit, refuses_a_dtd_so_no_entity_ever_expands)
{
    struct json_object *cases = json_object_new_array();
    const char *laughs = "<?xml version='1.0'?><!DOCTYPE l [<!ENTITY a 'aaaaaaaaaa'>"
                         "<!ENTITY b '&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;'>]>"
                         "<testsuite><testcase name='&b;'/></testsuite>";
    cr_assert_eq(parse(laughs, cases), -1);
    cr_assert_eq(json_object_array_length(cases), 0);
    json_object_put(cases);
}

Test(cb_junit, refuses_what_is_not_xml)
{
    struct json_object *cases = json_object_new_array();
    cr_assert_eq(parse("<testsuite><testcase>", cases), -1);
    cr_assert_eq(parse("not xml", cases), -1);
    json_object_put(cases);
}
