/* The codepipeline provider's interface to the server and to the other providers. */
#ifndef CP_CODEPIPELINE_H
#define CP_CODEPIPELINE_H

#include "persistence/store.h"
#include "protocol/service.h"

/* The codepipeline service: its JSON 1.1 operation table and model. */
extern const struct proto_service cp_service;

/* The URLs PutWebhook hands out, POST http://<host>/webhooks/<region>/<account>/<name>:
 * PROTO_RAW_HTTP, unsigned; the call is judged against the webhook's authentication and filters
 * (webhook_call.h) and, when it passes, starts the target pipeline through the starter. */
extern const struct proto_service cp_webhook_http_service;

/* Starts an execution of pipeline for a webhook call (trigger type Webhook, detail the webhook's
 * ARN) and writes its id. Returns 0, or a negative code of the CP_E_BASE range. */
typedef int (*cp_webhook_starter)(store *s, const char *account, const char *region,
                                  const char *pipeline, const char *webhook_arn, char id[37]);
/* Sets the function that starts executions for webhook calls (the engine sets it in its start;
 * NULL unsets it). Until one is set, a call that passes answers 503 and starts nothing. */
void cp_webhook_set_starter(cp_webhook_starter fn);

#endif
