/* The codecommit provider's interface to the server and to the other providers. */
#ifndef CC_CODECOMMIT_H
#define CC_CODECOMMIT_H

#include "protocol/service.h"

/* The codecommit service: its JSON 1.1 operation table and model. */
extern const struct proto_service cc_service;
/* Git smart HTTP under /v1/repos/<name> (PROTO_RAW_HTTP): authenticates itself, runs git http-backend. */
extern const struct proto_service cc_git_service;

#endif
