/* Request ids, UUIDs and AWS timestamp formats. */
#ifndef PROTO_IDS_H
#define PROTO_IDS_H

#include <time.h>

/* Writes a random RFC 4122 version-4 UUID, lower-case, NUL-terminated, into out. */
void proto_uuid(char out[37]);
/* Writes n random characters from [a-zA-Z0-9] into out and a NUL (out has n+1 bytes). */
void proto_random_alnum(char *out, int n);
/* Returns the current time as epoch seconds with millisecond precision. */
double proto_now(void);
/* Writes t as an RFC 1123 date ("Thu, 26 Nov 2026 12:00:00 GMT") into out. */
void proto_http_date(char out[32], time_t t);
/* Writes t as ISO 8601 UTC with milliseconds ("2026-11-26T12:00:00.000Z") into out. */
void proto_iso8601(char out[32], double t);

#endif
