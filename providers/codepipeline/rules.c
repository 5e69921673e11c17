/* Rules evaluated in place: VariableCheck's operators, and DeploymentWindow's cron expressions
 * read in a time zone of the system's tz database. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "providers/codepipeline/rules.h"

#include <ctype.h>
#include <fcntl.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

int cp_rule_variable_check(const char *variable, const char *op, const char *value, char *err,
                           size_t errlen)
{
    if (!variable) variable = "";
    if (!value) value = "";
    if (!op) op = "";
    if (!strcmp(op, "EQ")) return !strcmp(variable, value);
    if (!strcmp(op, "NE")) return strcmp(variable, value) != 0;
    if (!strcmp(op, "CONTAINS")) return strstr(variable, value) != NULL;
    if (!strcmp(op, "MATCHES")) {
        int ec;
        PCRE2_SIZE eo;
        pcre2_code *re =
            pcre2_compile((PCRE2_SPTR)value, PCRE2_ZERO_TERMINATED,
                          PCRE2_ANCHORED | PCRE2_ENDANCHORED | PCRE2_UTF, &ec, &eo, NULL);
        if (!re) {
            char msg[128];
            pcre2_get_error_message(ec, (PCRE2_UCHAR *)msg, sizeof msg);
            snprintf(err, errlen, "Invalid regular expression %s: %s", value, msg);
            return -1;
        }
        pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
        int rc = md ? pcre2_match(re, (PCRE2_SPTR)variable, strlen(variable), 0, 0, md, NULL) : -1;
        pcre2_match_data_free(md);
        pcre2_code_free(re);
        return rc >= 0;
    }
    snprintf(err, errlen, "Unsupported operator %s: use EQ, NE, CONTAINS or MATCHES", op);
    return -1;
}

/* ---- the rule catalogue (the rule reference of the CodePipeline user guide) ----------------- */

static const struct cp_rule_type RULE_TYPES[] = {
    {"CloudWatchAlarm",
     0,
     0,
     {{"AlarmName", 1, "The name of the CloudWatch alarm to monitor"},
      {"AlarmStates", 0, "The alarm states that fail the rule (ALARM, OK, INSUFFICIENT_DATA)"},
      {"WaitTime", 0, "How long, in minutes, to wait for the alarm state to change"}}},
    {"Commands", 0, 10, {{NULL, 0, NULL}}},
    {"DeploymentWindow",
     0,
     0,
     {{"Cron", 1, "The cron expression that defines the days and times deployments are allowed"},
      {"TimeZone", 0, "The time zone of the deployment window (default UTC)"}}},
    {"LambdaInvoke",
     0,
     1,
     {{"FunctionName", 1, "The name of the Lambda function to invoke"},
      {"UserParameters", 0, "A string passed to the function"}}},
    {"VariableCheck",
     0,
     1,
     {{"Variable", 1, "The pipeline variable to check"},
      {"Value", 1, "The value to check the variable against"},
      {"Operator", 1, "The check to make: EQ, NE, CONTAINS or MATCHES"}}},
};

const struct cp_rule_type *cp_rule_types(size_t *n)
{
    *n = sizeof RULE_TYPES / sizeof RULE_TYPES[0];
    return RULE_TYPES;
}

const struct cp_rule_type *cp_rule_type_find(const char *provider, const char *version)
{
    if (!provider || !version || strcmp(version, "1")) return NULL;
    for (size_t i = 0; i < sizeof RULE_TYPES / sizeof RULE_TYPES[0]; i++)
        if (!strcmp(RULE_TYPES[i].provider, provider)) return &RULE_TYPES[i];
    return NULL;
}

/* ---- cron ----------------------------------------------------------------------------------- */

static const char *const MONTHS[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                     "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
static const char *const DAYS[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

/* Reads a number or a name (names[i] is i + 1) at *p. Returns it, or -1. */
static int read_value(const char **p, const char *const *names, int nnames)
{
    const char *s = *p;
    if (isdigit((unsigned char)*s)) {
        long v = 0;
        while (isdigit((unsigned char)*s) && v < 100000)
            v = v * 10 + (*s++ - '0');
        *p = s;
        return (int)v;
    }
    for (int i = 0; names && i < nnames; i++)
        if (!strncasecmp(s, names[i], 3)) {
            *p = s + 3;
            return i + 1;
        }
    return -1;
}

/* Parses one comma-separated field of plain items (*, a, a-b, with /n) into bits lo..hi. Returns
 * 0 or -1. */
static int parse_plain(const char *f, int lo, int hi, const char *const *names, int nnames,
                       uint64_t *bits)
{
    const char *p = f;
    for (;;) {
        int a, b, step = 1;
        if (*p == '*') {
            a = lo;
            b = hi;
            p++;
        } else {
            if ((a = read_value(&p, names, nnames)) < 0) return -1;
            b = a;
            if (*p == '-') {
                p++;
                if ((b = read_value(&p, names, nnames)) < 0) return -1;
            }
        }
        if (*p == '/') {
            p++;
            if (!isdigit((unsigned char)*p)) return -1;
            step = (int)strtol(p, (char **)&p, 10);
            if (step < 1) return -1;
            if (a == b) b = hi; /* "a/n": from a on */
        }
        if (a < lo || b > hi || a > b) return -1;
        for (int v = a; v <= b; v += step)
            *bits |= 1ull << v;
        if (*p == 0) return 0;
        if (*p++ != ',') return -1;
    }
}

static int parse_dom(const char *f, struct cp_cron *c)
{
    if (!strcmp(f, "?") || !strcmp(f, "*")) {
        c->dom_any = 1;
        return 0;
    }
    if (f[0] == 'L') {
        if (!strcmp(f, "L")) {
            c->dom_last = 1;
            return 0;
        }
        if (f[1] == '-' && isdigit((unsigned char)f[2])) {
            char *end;
            long off = strtol(f + 2, &end, 10);
            if (*end || off > 30) return -1;
            c->dom_last = 1;
            c->dom_last_off = (int)off;
            return 0;
        }
        return -1;
    }
    size_t n = strlen(f);
    if (n >= 2 && f[n - 1] == 'W') {
        char *end;
        long d = strtol(f, &end, 10);
        if (end != f + n - 1 || d < 1 || d > 31) return -1;
        c->dom_weekday = (int)d;
        return 0;
    }
    uint64_t bits = 0;
    if (parse_plain(f, 1, 31, NULL, 0, &bits)) return -1;
    c->dom = (uint32_t)bits;
    return 0;
}

static int parse_dow(const char *f, struct cp_cron *c)
{
    if (!strcmp(f, "?") || !strcmp(f, "*")) {
        c->dow_any = 1;
        return 0;
    }
    if (!strcmp(f, "L")) { /* alone: Saturday */
        c->dow = 1u << 7;
        return 0;
    }
    const char *p = f;
    size_t n = strlen(f);
    if (n >= 2 && f[n - 1] == 'L') {
        int d = read_value(&p, DAYS, 7);
        if (d < 1 || d > 7 || p != f + n - 1) return -1;
        c->dow_last = d;
        return 0;
    }
    if (strchr(f, '#')) {
        int d = read_value(&p, DAYS, 7);
        if (d < 1 || d > 7 || *p != '#') return -1;
        char *end;
        long k = strtol(p + 1, &end, 10);
        if (*end || k < 1 || k > 5) return -1;
        c->dow_nth_day = d;
        c->dow_nth = (int)k;
        return 0;
    }
    uint64_t bits = 0;
    if (parse_plain(f, 1, 7, DAYS, 7, &bits)) return -1;
    c->dow = (uint8_t)bits;
    return 0;
}

static int parse_year(const char *f, struct cp_cron *c)
{
    if (!strcmp(f, "*")) {
        c->year_any = 1;
        return 0;
    }
    const char *p = f;
    for (;;) {
        if (c->nyears == 8) return -1;
        int a = read_value(&p, NULL, 0), b = a, step = 1;
        if (a < 0) return -1;
        if (*p == '-') {
            p++;
            if ((b = read_value(&p, NULL, 0)) < 0) return -1;
        }
        if (*p == '/') {
            p++;
            if (!isdigit((unsigned char)*p)) return -1;
            step = (int)strtol(p, (char **)&p, 10);
            if (step < 1) return -1;
            if (a == b) b = 2199;
        }
        if (a < 1970 || b > 2199 || a > b) return -1;
        c->year_lo[c->nyears] = a;
        c->year_hi[c->nyears] = b;
        c->year_step[c->nyears] = step;
        c->nyears++;
        if (*p == 0) return 0;
        if (*p++ != ',') return -1;
    }
}

int cp_cron_parse(const char *expr, struct cp_cron *c, char *err, size_t errlen)
{
    static const char *const FIELD[] = {"seconds", "minutes",     "hours", "day-of-month",
                                        "month",   "day-of-week", "year"};
    memset(c, 0, sizeof *c);
    char buf[256], *f[8], *save = NULL;
    int n = 0;
    if (!expr || strlen(expr) >= sizeof buf) {
        snprintf(err, errlen, "Invalid cron expression: it must have 6 or 7 fields");
        return -1;
    }
    snprintf(buf, sizeof buf, "%s", expr);
    for (char *tok = strtok_r(buf, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
        if (n == 8) break;
        f[n++] = tok;
    }
    if (n < 6 || n > 7) {
        snprintf(err, errlen, "Invalid cron expression %s: it must have 6 or 7 fields", expr);
        return -1;
    }
    uint64_t mon = 0;
    int bad = -1;
    /* Seconds: AWS's field table allows only '*' (windows are minute-grained). */
    if (strcmp(f[0], "*"))
        bad = 0;
    else if (parse_plain(f[1], 0, 59, NULL, 0, &c->minute))
        bad = 1;
    else if (parse_plain(f[2], 0, 23, NULL, 0, &c->hour))
        bad = 2;
    else if (parse_dom(f[3], c))
        bad = 3;
    else if (parse_plain(f[4], 1, 12, MONTHS, 12, &mon))
        bad = 4;
    else if (parse_dow(f[5], c))
        bad = 5;
    else if (n == 7 && parse_year(f[6], c))
        bad = 6;
    if (bad >= 0) {
        snprintf(err, errlen, "Invalid cron expression %s: bad %s field %s", expr, FIELD[bad],
                 f[bad]);
        return -1;
    }
    c->month = (uint32_t)mon;
    if (n == 6) c->year_any = 1;
    return 0;
}

static int days_in_month(int year, int mon0)
{
    static const int D[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return D[mon0] + (mon0 == 1 && leap);
}

static int dom_match(const struct cp_cron *c, const struct tm *tm)
{
    if (c->dom_any) return 1;
    int last = days_in_month(tm->tm_year + 1900, tm->tm_mon), d = tm->tm_mday;
    if (c->dom_last) return d == last - c->dom_last_off;
    if (c->dom_weekday) {
        int n = c->dom_weekday > last ? last : c->dom_weekday;
        int wd = ((tm->tm_wday + (n - d)) % 7 + 7) % 7; /* weekday of day n */
        int target = n;
        if (wd == 6)
            target = n == 1 ? 3 : n - 1; /* Saturday: Friday, or Monday */
        else if (wd == 0)
            target = n == last ? n - 2 : n + 1; /* Sunday: Monday, or Friday */
        return d == target;
    }
    return (c->dom >> d) & 1;
}

static int dow_match(const struct cp_cron *c, const struct tm *tm)
{
    if (c->dow_any) return 1;
    int wd = tm->tm_wday + 1, last = days_in_month(tm->tm_year + 1900, tm->tm_mon);
    if (c->dow_last) return wd == c->dow_last && tm->tm_mday + 7 > last;
    if (c->dow_nth) return wd == c->dow_nth_day && (tm->tm_mday - 1) / 7 + 1 == c->dow_nth;
    return (c->dow >> wd) & 1;
}

int cp_cron_match(const struct cp_cron *c, const struct tm *tm)
{
    if (!((c->minute >> tm->tm_min) & 1) || !((c->hour >> tm->tm_hour) & 1)) return 0;
    if (!((c->month >> (tm->tm_mon + 1)) & 1)) return 0;
    if (!c->year_any) {
        int y = tm->tm_year + 1900, ok = 0;
        for (int i = 0; i < c->nyears && !ok; i++)
            ok = y >= c->year_lo[i] && y <= c->year_hi[i] &&
                 (y - c->year_lo[i]) % c->year_step[i] == 0;
        if (!ok) return 0;
    }
    return dom_match(c, tm) && dow_match(c, tm);
}

/* ---- time zones ----------------------------------------------------------------------------- */

static int64_t be(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    if (n == 4) return (int32_t)(uint32_t)v;
    return (int64_t)v;
}

/* The UTC offset of zone file bytes b (n bytes) at t. Returns 0 with *off, or -1. Times after the
 * last transition keep its offset: Debian's zone files list transitions up to 2037. */
static int tzif_offset(const unsigned char *b, size_t n, time_t t, long *off)
{
    if (n < 44 || memcmp(b, "TZif", 4)) return -1;
    int tsize = 4;
    const unsigned char *h = b;
    size_t at = 44;
    int64_t isut = be(h + 20, 4), isstd = be(h + 24, 4), leap = be(h + 28, 4),
            timecnt = be(h + 32, 4), typecnt = be(h + 36, 4), charcnt = be(h + 40, 4);
    if (b[4] >= '2') { /* skip the 32-bit block for the 64-bit one */
        at += (size_t)(timecnt * 5 + typecnt * 6 + charcnt + leap * 8 + isstd + isut);
        if (at + 44 > n || memcmp(b + at, "TZif", 4)) return -1;
        h = b + at;
        isut = be(h + 20, 4);
        isstd = be(h + 24, 4);
        leap = be(h + 28, 4);
        timecnt = be(h + 32, 4);
        typecnt = be(h + 36, 4);
        charcnt = be(h + 40, 4);
        at += 44;
        tsize = 8;
    }
    if (typecnt < 1 || timecnt < 0 || at + (size_t)(timecnt * (tsize + 1) + typecnt * 6) > n)
        return -1;
    const unsigned char *times = b + at, *idx = times + timecnt * tsize, *types = idx + timecnt;
    int type = 0;
    for (int64_t i = 0; i < timecnt; i++) {
        if (be(times + i * tsize, tsize) > (int64_t)t) break;
        type = idx[i];
    }
    if (type >= typecnt) return -1;
    *off = (long)be(types + type * 6, 4);
    return 0;
}

int cp_tz_localtime(const char *zoneinfo_dir, const char *tz, time_t t, struct tm *out)
{
    long off = 0;
    if (tz && *tz && strcmp(tz, "UTC") && strcmp(tz, "Etc/UTC")) {
        /* A zone name from the tz database: no absolute paths, no way up. */
        if (tz[0] == '/' || strstr(tz, "..") || strlen(tz) > 64) return -1;
        for (const char *p = tz; *p; p++)
            if (!isalnum((unsigned char)*p) && !strchr("/_+-", *p)) return -1;
        char path[512];
        snprintf(path, sizeof path, "%s/%s", zoneinfo_dir ? zoneinfo_dir : "/usr/share/zoneinfo",
                 tz);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) return -1;
        unsigned char buf[16384];
        ssize_t n = read(fd, buf, sizeof buf);
        close(fd);
        if (n <= 0 || tzif_offset(buf, (size_t)n, t, &off)) return -1;
    }
    time_t local = t + off;
    return gmtime_r(&local, out) ? 0 : -1;
}

int cp_deployment_window_open(const char *cron, const char *tz, time_t now, char *err,
                              size_t errlen)
{
    struct cp_cron c;
    if (cp_cron_parse(cron, &c, err, errlen)) return -1;
    struct tm tm;
    if (cp_tz_localtime(NULL, tz, now, &tm)) {
        snprintf(err, errlen, "Unknown time zone %s", tz ? tz : "");
        return -1;
    }
    return cp_cron_match(&c, &tm);
}
