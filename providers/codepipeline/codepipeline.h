/* The codepipeline provider's interface to the server and to the other providers. */
#ifndef CP_CODEPIPELINE_H
#define CP_CODEPIPELINE_H

#include "protocol/service.h"

/* The codepipeline service: its JSON 1.1 operation table and model. */
extern const struct proto_service cp_service;

#endif
