/* The error catalogue: enum, AWS code and HTTP status of every error the emulator returns. */
#ifndef PROTO_ERRORS_H
#define PROTO_ERRORS_H

enum proto_err {
    ERR_NONE = 0,
#define PROTO_ERR(name, code, status) name,
#include "protocol/errors.def"
#undef PROTO_ERR
    ERR__COUNT
};

/* Returns the AWS error code of e ("PipelineNotFoundException"); a static string. */
const char *proto_err_code(enum proto_err e);
/* Returns the HTTP status of e. */
int proto_err_status(enum proto_err e);

#endif
