/* The hand-rolled UTC formatting agrees with gmtime/strftime. */
#include <criterion/criterion.h>
#include <string.h>
#include <time.h>

#include "sigv4/canonical.h"

Test(sigv4_dates, amz_date_matches_strftime_across_centuries_and_leap_days)
{
    for (long long t = 0; t < 4102444800LL; t += 86399 * 7 + 3601) {
        struct tm tm;
        time_t tt = (time_t)t;
        gmtime_r(&tt, &tm);
        char want[17], got[17];
        strftime(want, sizeof(want), "%Y%m%dT%H%M%SZ", &tm);
        sigv4_format_amz_date(tt, got);
        cr_assert_str_eq(got, want, "t=%lld", t);
    }
    char got[17];
    sigv4_format_amz_date((time_t)951782400, got); /* 2000-02-29 */
    cr_assert_str_eq(got, "20000229T000000Z");
}

Test(sigv4_dates, parse_and_format_round_trip)
{
    time_t t;
    cr_assert_eq(sigv4_parse_amz_date("20150830T123600Z", &t), 0);
    char out[17];
    sigv4_format_amz_date(t, out);
    cr_assert_str_eq(out, "20150830T123600Z");
}

Test(sigv4_dates, parse_matches_timegm_and_rejects_impossible_dates)
{
    for (long long t = 0; t < 4102444800LL; t += 86399 * 5 + 61) {
        char s[17];
        sigv4_format_amz_date((time_t)t, s);
        time_t back;
        cr_assert_eq(sigv4_parse_amz_date(s, &back), 0, "%s", s);
        cr_assert_eq((long long)back, t, "%s", s);
    }
    time_t t;
    cr_assert_eq(sigv4_parse_amz_date("20240229T000000Z", &t), 0);
    cr_assert_eq(sigv4_parse_amz_date("20230229T000000Z", &t), -1);
    cr_assert_eq(sigv4_parse_amz_date("19000229T000000Z", &t), -1);
    cr_assert_eq(sigv4_parse_amz_date("20000229T000000Z", &t), 0);
    cr_assert_eq(sigv4_parse_amz_date("20240431T000000Z", &t), -1);
    cr_assert_eq(sigv4_parse_amz_date("20241301T000000Z", &t), -1);
    cr_assert_eq(sigv4_parse_amz_date("20240101T240000Z", &t), -1);
    cr_assert_eq(sigv4_parse_amz_date("2024010IT000000Z", &t), -1);
}
