/* The error catalogue's lookup tables, generated from errors.def. */
#include "protocol/errors.h"

static const struct {
    const char *code;
    int status;
} err_table[ERR__COUNT] = {
    [ERR_NONE] = {"", 200},
#define PROTO_ERR(name, c, s) [name] = {c, s},
#include "protocol/errors.def"
#undef PROTO_ERR
};

const char *proto_err_code(enum proto_err e)
{
    if (e <= ERR_NONE || e >= ERR__COUNT) return "InternalFailure";
    return err_table[e].code;
}

int proto_err_status(enum proto_err e)
{
    if (e <= ERR_NONE || e >= ERR__COUNT) return 500;
    return err_table[e].status;
}
