/* Leveled logging to stderr, one line per event with a UTC timestamp. */
#include "server/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static enum srv_log_level current_level = SRV_LOG_INFO;
static const char *const level_names[] = {"error", "warn", "info", "debug"};

int srv_log_parse_level(const char *s)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(s, level_names[i]) == 0) return i;
    return -1;
}

void srv_log_set_level(enum srv_log_level level)
{
    current_level = level;
}

int srv_log_enabled(enum srv_log_level level)
{
    return level <= current_level;
}

void srv_log(enum srv_log_level level, const char *fmt, ...)
{
    if (!srv_log_enabled(level)) return;
    char line[2048];
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    int n = (int)strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
    n += snprintf(line + n, sizeof(line) - (size_t)n, ".%03dZ %-5s ", (int)(tv.tv_usec / 1000),
                  level_names[level]);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s\n", line);
}
