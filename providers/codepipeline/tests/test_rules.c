/* Unit tests of the rules evaluated in place: VariableCheck's operators, DeploymentWindow's cron
 * expressions, and local times from the tz database, at fixed instants. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <time.h>

#include "providers/codepipeline/rules.h"

/* Epoch seconds of a UTC date and time. */
static time_t utc(int y, int mo, int d, int h, int mi)
{
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    return timegm(&tm);
}

static int window(const char *cron, const char *tz, time_t t)
{
    char err[256] = "";
    int r = cp_deployment_window_open(cron, tz, t, err, sizeof err);
    cr_assert_geq(r, 0, "%s in %s: %s", cron, tz ? tz : "UTC", err);
    return r;
}

#define IN(cron, tz, t)  cr_assert(window(cron, tz, t), "%s should be open", cron)
#define OUT(cron, tz, t) cr_assert(!window(cron, tz, t), "%s should be closed", cron)

Test(cp_variable_check, compares_with_each_operator)
{
    char err[256];
    cr_assert_eq(cp_rule_variable_check("prod", "EQ", "prod", err, sizeof err), 1);
    cr_assert_eq(cp_rule_variable_check("dev", "EQ", "prod", err, sizeof err), 0);
    cr_assert_eq(cp_rule_variable_check("dev", "NE", "prod", err, sizeof err), 1);
    cr_assert_eq(cp_rule_variable_check("prod", "NE", "prod", err, sizeof err), 0);
    cr_assert_eq(cp_rule_variable_check("fix: update deps", "CONTAINS", "update", err, sizeof err),
                 1);
    cr_assert_eq(cp_rule_variable_check("fix", "CONTAINS", "update", err, sizeof err), 0);
}

Test(cp_variable_check, matches_takes_the_whole_value_like_java)
{
    char err[256];
    cr_assert_eq(cp_rule_variable_check("v1.2.3", "MATCHES", "v[0-9.]+", err, sizeof err), 1);
    cr_assert_eq(cp_rule_variable_check("xv1.2", "MATCHES", "v[0-9.]+", err, sizeof err), 0);
    cr_assert_eq(cp_rule_variable_check("v1.2-rc", "MATCHES", "v[0-9.]+", err, sizeof err), 0);
}

Test(cp_variable_check, rejects_unknown_operators_and_bad_expressions)
{
    char err[256] = "";
    cr_assert_eq(cp_rule_variable_check("1", "GREATER_THAN", "0", err, sizeof err), -1);
    cr_assert(strstr(err, "Unsupported operator GREATER_THAN"), "%s", err);
    cr_assert_eq(cp_rule_variable_check("a", "MATCHES", "(", err, sizeof err), -1);
    cr_assert(strstr(err, "Invalid regular expression"), "%s", err);
}

Test(cp_cron, rejects_expressions_that_are_not_six_or_seven_valid_fields)
{
    struct cp_cron c;
    char err[256];
    cr_assert_eq(cp_cron_parse("0 9 * * *", &c, err, sizeof err), -1);
    cr_assert_eq(cp_cron_parse("0 * * * * ?", &c, err, sizeof err), -1);
    cr_assert(strstr(err, "seconds"), "%s", err);
    cr_assert_eq(cp_cron_parse("* 60 * * * ?", &c, err, sizeof err), -1);
    cr_assert(strstr(err, "minutes"), "%s", err);
    cr_assert_eq(cp_cron_parse("* * 24 * * ?", &c, err, sizeof err), -1);
    cr_assert_eq(cp_cron_parse("* * * * FOO ?", &c, err, sizeof err), -1);
    cr_assert_eq(cp_cron_parse("* * * ? * 8", &c, err, sizeof err), -1);
    cr_assert_eq(cp_cron_parse("* * * ? * * 1969", &c, err, sizeof err), -1);
    cr_assert_eq(cp_cron_parse("* * 9-17 ? * MON-FRI *", &c, err, sizeof err), 0);
}

Test(cp_deployment_window, business_hours_on_weekdays)
{
    const char *cron = "* * 9-17 ? * MON-FRI *";
    IN(cron, NULL, utc(2026, 3, 6, 10, 30));  /* Friday */
    IN(cron, NULL, utc(2026, 3, 6, 17, 59));  /* the last minute of hour 17 */
    OUT(cron, NULL, utc(2026, 3, 6, 18, 0));  /* Friday evening */
    OUT(cron, NULL, utc(2026, 3, 7, 10, 30)); /* Saturday */
    OUT(cron, NULL, utc(2026, 3, 6, 8, 59));
}

Test(cp_deployment_window, minute_steps_ranges_and_lists)
{
    IN("* */15 * * * ?", "UTC", utc(2026, 3, 6, 10, 30));
    OUT("* */15 * * * ?", "UTC", utc(2026, 3, 6, 10, 31));
    IN("* 5/20 * * * ?", "UTC", utc(2026, 3, 6, 10, 45));
    OUT("* 5/20 * * * ?", "UTC", utc(2026, 3, 6, 10, 40));
    IN("* 0-10,50 3 * * ?", "UTC", utc(2026, 3, 6, 3, 50));
    OUT("* 0-10,50 3 * * ?", "UTC", utc(2026, 3, 6, 3, 49));
    IN("* * * * jan-mar ?", "UTC", utc(2026, 2, 1, 0, 0));
    OUT("* * * * JAN-MAR ?", "UTC", utc(2026, 4, 1, 0, 0));
    OUT("* * * ? * * 2027", "UTC", utc(2026, 4, 1, 0, 0));
    IN("* * * ? * * 2025-2030/1", "UTC", utc(2026, 4, 1, 0, 0));
}

Test(cp_deployment_window, last_days_and_nearest_weekdays)
{
    IN("* * * L * ?", NULL, utc(2026, 2, 28, 12, 0)); /* not a leap year */
    OUT("* * * L * ?", NULL, utc(2026, 2, 27, 12, 0));
    IN("* * * L * ?", NULL, utc(2028, 2, 29, 12, 0));
    IN("* * * L-2 * ?", NULL, utc(2026, 3, 29, 12, 0));
    IN("* * * 15W * ?", NULL, utc(2026, 8, 14, 12, 0)); /* the 15th is a Saturday */
    OUT("* * * 15W * ?", NULL, utc(2026, 8, 15, 12, 0));
    IN("* * * 1W * ?", NULL, utc(2026, 8, 3, 12, 0));   /* Saturday the 1st: Monday the 3rd */
    IN("* * * 31W * ?", NULL, utc(2026, 5, 29, 12, 0)); /* Sunday the 31st: Friday the 29th */
}

Test(cp_deployment_window, last_and_nth_weekdays_of_the_month)
{
    IN("* * * ? * 6L", NULL, utc(2026, 3, 27, 12, 0)); /* the last Friday */
    OUT("* * * ? * 6L", NULL, utc(2026, 3, 20, 12, 0));
    IN("* * * ? * 2#1", NULL, utc(2026, 3, 2, 12, 0)); /* the first Monday */
    OUT("* * * ? * MON#1", NULL, utc(2026, 3, 9, 12, 0));
    IN("* * * ? * L", NULL, utc(2026, 3, 7, 12, 0)); /* alone: Saturday */
}

Test(cp_deployment_window, reads_the_window_in_its_time_zone)
{
    const char *cron = "* * 9-17 ? * MON-FRI *";
    /* New York in winter is UTC-5: 14:00 UTC is 09:00 there, 13:30 UTC 08:30. */
    IN(cron, "America/New_York", utc(2026, 1, 15, 14, 0));
    OUT(cron, "America/New_York", utc(2026, 1, 15, 13, 30));
    /* In summer UTC-4: 13:30 UTC is 09:30. */
    IN(cron, "America/New_York", utc(2026, 7, 15, 13, 30));
    /* Tokyo, UTC+9: Friday 20:00 UTC is Saturday 05:00. */
    OUT("* * * ? * FRI *", "Asia/Tokyo", utc(2026, 3, 6, 20, 0));
    IN("* * * ? * SAT *", "Asia/Tokyo", utc(2026, 3, 6, 20, 0));
}

Test(cp_tz, refuses_unknown_zones_and_paths_outside_the_database)
{
    struct tm tm;
    cr_assert_eq(cp_tz_localtime(NULL, "Mars/Olympus", 0, &tm), -1);
    cr_assert_eq(cp_tz_localtime(NULL, "../../etc/passwd", 0, &tm), -1);
    cr_assert_eq(cp_tz_localtime(NULL, "/etc/localtime", 0, &tm), -1);
    cr_assert_eq(cp_tz_localtime(NULL, "UTC", 0, &tm), 0);
    cr_assert_eq(tm.tm_year, 70);
    char err[128];
    cr_assert_eq(cp_deployment_window_open("* * * * * ?", "Nowhere/Land", 0, err, sizeof err), -1);
    cr_assert(strstr(err, "Unknown time zone Nowhere/Land"), "%s", err);
}
