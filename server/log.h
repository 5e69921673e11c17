/* Leveled logging to stderr, one line per event. */
#ifndef SRV_LOG_H
#define SRV_LOG_H

enum srv_log_level { SRV_LOG_ERROR, SRV_LOG_WARN, SRV_LOG_INFO, SRV_LOG_DEBUG };

/* Parses "error|warn|info|debug"; returns the level or -1. */
int srv_log_parse_level(const char *s);
void srv_log_set_level(enum srv_log_level level);
/* Returns 1 when messages at level are printed. */
int srv_log_enabled(enum srv_log_level level);
void srv_log(enum srv_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
