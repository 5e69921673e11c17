/* The table of services and how a request picks one. */
#ifndef SRV_ROUTES_H
#define SRV_ROUTES_H

#include "protocol/service.h"

enum srv_route {
    SRV_ROUTE_HEALTH,           /* GET /_codepipeline-local/health */
    SRV_ROUTE_JSON,             /* a JSON 1.1 service, by X-Amz-Target */
    SRV_ROUTE_REST,             /* S3 */
    SRV_ROUTE_RAW,              /* git smart HTTP under /v1/repos/ */
    SRV_ROUTE_UNKNOWN_TARGET,   /* a served JSON 1.1 service without a target it knows */
    SRV_ROUTE_QUERY,            /* an awsQuery service row, by credential scope */
    SRV_ROUTE_NOT_SERVED_JSON,  /* a service this server does not emulate: JSON error */
    SRV_ROUTE_NOT_SERVED_QUERY, /* likewise, for an awsQuery service: <ErrorResponse> */
};

/* What routing looks at: strings of the request, each may be NULL when absent. */
struct srv_route_input {
    const char *method;
    const char *path;
    const char *query;         /* without '?' */
    const char *target;        /* X-Amz-Target */
    const char *scope_service; /* the service of the SigV4 credential scope */
    const char *content_type;
};

/* Picks the route of a request. Sets *svc to the service (NULL for health and for a service not
 * served). For the NOT_SERVED routes, *named is the service the request names (its scope's
 * service or target prefix; NULL when it names none), pointing into in's strings. */
enum srv_route srv_route_pick(const struct srv_route_input *in, const struct proto_service **svc,
                              const char **named);
/* Returns the table of all services, NULL-terminated. */
const struct proto_service *const *srv_services(void);

#endif
