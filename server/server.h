/* The HTTP server: libmicrohttpd glue, routing, authentication and dispatch to the providers. */
#ifndef SRV_SERVER_H
#define SRV_SERVER_H

#include <stddef.h>

#include "server/options.h"

typedef struct srv srv;

/* Opens the store under opts->data_dir, loads the credentials and starts listening. Returns 0 and
 * *out, or -1 with a one-line reason in err. opts is copied; its strings must outlive the server.
 */
int srv_start(const struct srv_options *opts, srv **out, char *err, size_t errlen);
/* Returns the port the server listens on (useful when opts->port was 0). */
unsigned srv_port(const srv *s);
/* Stops accepting, waits (up to a few seconds) for requests in flight to be answered, closes the
 * store and frees s. NULL is a no-op. */
void srv_stop(srv *s);

#endif
