/* Routing a request to its service; the services are the rows of protocol/services.def. */
#include "server/routes.h"

#include <string.h>
#include <strings.h>

#include "providers/codecommit/codecommit.h"     /* cc_git_service: git smart HTTP */
#include "providers/codepipeline/codepipeline.h" /* cp_webhook_http_service: webhook URLs */
#include "providers/connections/connections.h"   /* conn_git_service: the Git host */
#include "providers/s3/s3.h"                     /* s3_service: the REST fallback */

#define PROTO_SERVICE(name, provider) extern const struct proto_service provider;
#include "protocol/services.def"
#undef PROTO_SERVICE

/* In services.def's (dependency) order: the server starts each service after those it calls
 * and stops them in reverse. */
static const struct proto_service *const services[] = {
#define PROTO_SERVICE(name, provider) &provider,
#include "protocol/services.def"
#undef PROTO_SERVICE
    NULL,
};

const struct proto_service *const *srv_services(void)
{
    return services;
}

static int has_prefix(const char *s, const char *prefix)
{
    return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

static const struct proto_service *find_by_name(const char *name)
{
    for (int i = 0; name && services[i]; i++)
        if (strcmp(services[i]->name, name) == 0) return services[i];
    return NULL;
}

/* Signing names of services that speak awsQuery (or answer errors in its <ErrorResponse>, as
 * Route 53 and CloudFront do): a request for one of them that this server does not serve gets
 * its error in that form, whatever its method or body. */
static const char *const query_names[] = {
    "sts",
    "iam",
    "cloudformation",
    "sns",
    "sqs",
    "ec2",
    "elasticloadbalancing",
    "autoscaling",
    "rds",
    "ses",
    "monitoring",
    "elasticache",
    "redshift",
    "elasticbeanstalk",
    "route53",
    "cloudfront",
};

static int is_query_name(const char *name)
{
    for (size_t i = 0; name && i < sizeof(query_names) / sizeof(query_names[0]); i++)
        if (strcmp(query_names[i], name) == 0) return 1;
    return 0;
}

/* An awsQuery call: a form-encoded POST to "/", or "/" with an Action query parameter. */
static int looks_like_query(const struct srv_route_input *in)
{
    if (!in->path || strcmp(in->path, "/") != 0) return 0;
    if (in->method && strcmp(in->method, "POST") == 0 && in->content_type &&
        strncasecmp(in->content_type, "application/x-www-form-urlencoded", 33) == 0)
        return 1;
    const char *q = in->query;
    return q && (has_prefix(q, "Action=") || strstr(q, "&Action="));
}

/* Returns 1 when p is "<region>/<12 digits>/<name>" (name without '/'). */
static int is_webhook_path(const char *p)
{
    size_t rl = strcspn(p, "/");
    if (!rl || p[rl] != '/') return 0;
    p += rl + 1;
    for (int i = 0; i < 12; i++)
        if (p[i] < '0' || p[i] > '9') return 0;
    return p[12] == '/' && p[13] && !strchr(p + 13, '/');
}

enum srv_route srv_route_pick(const struct srv_route_input *in, const struct proto_service **svc,
                              const char **named)
{
    *svc = NULL;
    *named = NULL;
    const char *path = in->path ? in->path : "/";
    const char *scope = in->scope_service;
    if (has_prefix(path, "/_codepipeline-local/")) return SRV_ROUTE_HEALTH;
    if (has_prefix(path, "/v1/repos/")) {
        *svc = &cc_git_service;
        return SRV_ROUTE_RAW;
    }
    /* A webhook URL of PutWebhook: an unsigned POST of /webhooks/<region>/<account>/<name>
     * without a query. As S3 it would be a POST to an object key, which S3 only takes with
     * ?uploads, ?uploadId=, ?restore or ?select, so no S3 request looks like this. */
    if (in->method && strcmp(in->method, "POST") == 0 && has_prefix(path, "/webhooks/") &&
        (!in->query || !*in->query) && !in->target && is_webhook_path(path + 10)) {
        *svc = &cp_webhook_http_service;
        return SRV_ROUTE_RAW;
    }
    /* The connections' Git host: "_git" is no valid bucket name, so no S3 path takes it. */
    if (has_prefix(path, "/_git/")) {
        *svc = &conn_git_service;
        return SRV_ROUTE_RAW;
    }
    const struct proto_service *by_scope = find_by_name(scope);
    if (in->target) {
        /* A prefix may hold dots itself ("com.amazonaws.codeconnections.CodeConnections_20231201"):
         * the operation is what follows the service's whole prefix and one dot. The SDKs built
         * on the Smithy models (Go v2, which Terraform uses, and JavaScript v3) send only the
         * service's shape name, the prefix's last part ("CodeConnections_20231201.X"), and
         * AWS takes both. */
        for (int i = 0; services[i]; i++) {
            const char *p = services[i]->target_prefix;
            if (!p) continue;
            const char *shape = strrchr(p, '.');
            shape = shape ? shape + 1 : p;
            size_t plen = strlen(p), slen = strlen(shape);
            if ((strncmp(in->target, p, plen) == 0 && in->target[plen] == '.') ||
                (strncmp(in->target, shape, slen) == 0 && in->target[slen] == '.')) {
                *svc = services[i];
                return SRV_ROUTE_JSON;
            }
        }
        if (by_scope && by_scope->protocol == PROTO_JSON_1_1) {
            *svc = by_scope; /* a served service, an operation it does not have */
            return SRV_ROUTE_UNKNOWN_TARGET;
        }
        *named = scope ? scope : in->target;
        return SRV_ROUTE_NOT_SERVED_JSON;
    }
    if (by_scope) {
        switch (by_scope->protocol) {
        case PROTO_JSON_1_1:
            /* A POST to "/" is a JSON call missing its target; anything else is an S3 request
             * signed for the wrong service, which S3 answers. */
            if (in->method && strcmp(in->method, "POST") == 0 && strcmp(path, "/") == 0) {
                *svc = by_scope;
                return SRV_ROUTE_UNKNOWN_TARGET;
            }
            break;
        case PROTO_AWS_QUERY:
            *svc = by_scope;
            return SRV_ROUTE_QUERY;
        case PROTO_REST_XML:
        case PROTO_RAW_HTTP:
            break;
        }
    } else if (scope) {
        *named = scope;
        int json =
            in->content_type && strncasecmp(in->content_type, "application/x-amz-json", 22) == 0;
        if (!json && (is_query_name(scope) || looks_like_query(in)))
            return SRV_ROUTE_NOT_SERVED_QUERY;
        return SRV_ROUTE_NOT_SERVED_JSON;
    } else if (looks_like_query(in)) {
        return SRV_ROUTE_NOT_SERVED_QUERY; /* unsigned: it names no service */
    }
    *svc = &s3_service;
    return SRV_ROUTE_REST;
}
