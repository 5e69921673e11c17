/* A call to a webhook's URL judged against its definition: authentication and filters, as one
 * pure function (unit-tested in tests/test_webhook_call.c). */
#ifndef CP_WEBHOOK_CALL_H
#define CP_WEBHOOK_CALL_H

#include <stddef.h>

struct json_object;

/* What arrived at the webhook URL. */
struct cp_webhook_call {
    const char *body; /* the raw body bytes, signed as they are */
    size_t body_len;
    const char *signature_256; /* X-Hub-Signature-256 ("sha256=<hex>"), or NULL */
    const char *signature_1;   /* X-Hub-Signature ("sha1=<hex>"), or NULL */
    const char *remote_ip;     /* the caller's address ("127.0.0.1", "::1") */
};

enum cp_webhook_verdict {
    CP_WEBHOOK_START = 0,        /* authenticated, and every filter matched */
    CP_WEBHOOK_UNAUTHORIZED = 1, /* signature missing or wrong, or an address outside the range */
    CP_WEBHOOK_NO_MATCH = 2,     /* authenticated, a filter did not match (or the body is not
                                    a JSON document): nothing starts */
};

/* Judges call against definition (the WebhookDefinition: authentication,
 * authenticationConfiguration, filters) and the target action's configuration (for
 * "{Key}" references in matchEquals). GITHUB_HMAC wants an HMAC of the body with SecretToken,
 * SHA-256 or SHA-1 (GitHub's two headers); IP wants remote_ip inside AllowedIPRange;
 * UNAUTHENTICATED takes any call. A filter's jsonPath (the subset $, .name, ['name'], [n], [*],
 * .*) must select a value equal to matchEquals (scalars compared as text), or, without
 * matchEquals, select something. Writes a one-line reason into why (may be NULL). */
enum cp_webhook_verdict cp_webhook_judge(struct json_object *definition,
                                         struct json_object *action_configuration,
                                         const struct cp_webhook_call *call, char *why,
                                         size_t whylen);

/* Returns 1 when ip (IPv4 or IPv6 text) is inside cidr ("10.0.0.0/8", "2001:db8::/32"). */
int cp_ip_in_range(const char *ip, const char *cidr);

#endif
