/* The operation tables of CodeStar Connections and CodeConnections: one set of handlers. */
#include "protocol/model.h"
#include "providers/connections/connections.h"
#include "providers/connections/internal.h"

static const struct proto_operation conn_ops[] = {
#define CONN_OP_ROW(name, fn) {name, fn},
    CONN_OPERATIONS(CONN_OP_ROW)
#undef CONN_OP_ROW
};

const struct proto_service conn_codestar_service = {
    .name = "codestar-connections",
    .target_prefix = "com.amazonaws.codestar.connections.CodeStar_connections_20191201",
    .protocol = PROTO_JSON_1_1,
    .ops = conn_ops,
    .n_ops = sizeof conn_ops / sizeof conn_ops[0],
    .model = &proto_model_codestar_connections,
    .clock_skew_seconds = 300,
    .json_1_0 = 1,
};

const struct proto_service conn_codeconnections_service = {
    .name = "codeconnections",
    .target_prefix = "com.amazonaws.codeconnections.CodeConnections_20231201",
    .protocol = PROTO_JSON_1_1,
    .ops = conn_ops,
    .n_ops = sizeof conn_ops / sizeof conn_ops[0],
    .model = &proto_model_codeconnections,
    .clock_skew_seconds = 300,
    .json_1_0 = 1,
};
