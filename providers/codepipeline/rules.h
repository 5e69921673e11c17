/* Stage-condition rules that are evaluated in place: VariableCheck's operators and
 * DeploymentWindow's cron windows in a time zone, as pure functions (unit-tested). */
#ifndef CP_RULES_H
#define CP_RULES_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* The built-in rule types (the rule reference of the CodePipeline user guide). */
struct cp_rule_prop {
    const char *name;
    int required;
    const char *description;
};
struct cp_rule_type {
    const char *provider; /* category Rule, owner AWS, version 1 */
    int min_in, max_in;   /* input artifacts */
    struct cp_rule_prop props[4];
};
/* Returns the catalogue (static) and its length in *n. */
const struct cp_rule_type *cp_rule_types(size_t *n);
/* Returns the rule type of provider at version, or NULL when there is none. */
const struct cp_rule_type *cp_rule_type_find(const char *provider, const char *version);

/* VariableCheck: compares the resolved variable with value by op (EQ, NE, CONTAINS, MATCHES: a
 * regular expression matched against the whole variable, as Java's matches() does). Returns 1
 * when the check passes, 0 when not, -1 for an unknown operator or a bad expression (a reason
 * in err). */
int cp_rule_variable_check(const char *variable, const char *op, const char *value, char *err,
                           size_t errlen);

/* A parsed DeploymentWindow cron expression: seconds minutes hours day-of-month month
 * day-of-week [year], EventBridge style (day-of-week 1-7 = SUN-SAT, '?' in one of the day
 * fields, L, W and # as AWS documents them). */
struct cp_cron {
    uint64_t minute, hour; /* bit per value */
    uint32_t dom, month;   /* dom bits 1..31, month bits 1..12 */
    uint8_t dow;           /* bits 1..7 (1 = Sunday) */
    int dom_any, dow_any;  /* '*' or '?' */
    int dom_last;          /* 'L' / 'L-n': last day minus dom_last_off */
    int dom_last_off;
    int dom_weekday;          /* 'nW': the weekday nearest to day n (0: none) */
    int dow_last;             /* 'nL': the last weekday n of the month (0: none) */
    int dow_nth_day, dow_nth; /* 'n#k': the k-th weekday n of the month (0: none) */
    int year_any;
    int year_lo[8], year_hi[8], year_step[8];
    int nyears;
};

/* Parses expr into c. Returns 0, or -1 with a reason in err. */
int cp_cron_parse(const char *expr, struct cp_cron *c, char *err, size_t errlen);
/* Whether the broken-down local time tm (tm_wday, tm_mday, tm_mon, tm_year, tm_hour, tm_min
 * set) is inside c. */
int cp_cron_match(const struct cp_cron *c, const struct tm *tm);

/* Converts t to the local time of IANA zone tz ("UTC" or NULL/"": UTC) from the system's tz
 * database (zoneinfo_dir; NULL: /usr/share/zoneinfo). Returns 0, or -1 when the zone is
 * unknown. */
int cp_tz_localtime(const char *zoneinfo_dir, const char *tz, time_t t, struct tm *out);

/* DeploymentWindow: whether now is inside the window of cron in zone tz. Returns 1 inside, 0
 * outside, -1 for a bad expression or an unknown zone (a reason in err). */
int cp_deployment_window_open(const char *cron, const char *tz, time_t now, char *err,
                              size_t errlen);

#endif
