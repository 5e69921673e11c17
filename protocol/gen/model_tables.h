/* Layout of the model tables that gen/model_gen.c writes at build time and model.c reads. */
#ifndef PROTO_MODEL_TABLES_H
#define PROTO_MODEL_TABLES_H

#include <stddef.h>
#include <stdint.h>

enum proto_model_type {
    PROTO_T_STRUCTURE,
    PROTO_T_LIST,
    PROTO_T_MAP,
    PROTO_T_STRING,
    PROTO_T_INTEGER,
    PROTO_T_LONG,
    PROTO_T_BOOLEAN,
    PROTO_T_TIMESTAMP,
    PROTO_T_BLOB,
    PROTO_T_DOUBLE,
    PROTO_T_FLOAT,
};

enum proto_model_shape_flags {
    PROTO_SF_MIN = 1 << 0,       /* min is set */
    PROTO_SF_MAX = 1 << 1,       /* max is set */
    PROTO_SF_SENSITIVE = 1 << 2, /* value never echoed in messages */
};

/* One shape. For structures first/count index the service's members; for enum strings they index
 * its enum values. For lists key is the member shape; for maps key and value are the key and value
 * shapes. pattern indexes the service's patterns, -1 when none. */
struct proto_model_shape {
    uint8_t type;
    uint8_t flags;
    int16_t pattern;
    uint16_t key, value;
    uint32_t first;
    uint32_t count;
    int64_t min, max;
};

struct proto_model_member {
    const char *name;
    uint16_t shape;
    uint8_t required;
};

struct proto_model_op {
    const char *name;
    int32_t input; /* shape index, -1 when the operation takes no input */
    const struct proto_model_service *svc;
};

struct proto_model_service {
    const char *name;
    const struct proto_model_shape *shapes;
    uint32_t n_shapes;
    const struct proto_model_member *members;
    const char *const *enums;
    const char *const *patterns;
    uint32_t n_patterns;
    void **compiled; /* n_patterns slots filled by proto_model_init() (pcre2_code *) */
    const struct proto_model_op *ops; /* sorted by name */
    uint32_t n_ops;
};

/* Internal to protocol/ (model.c and its tests). Compiles a model pattern (Java syntax) for
 * whole-value matching; returns the code (free with proto_model_free_pattern) or NULL with err set.
 */
void *proto_model_compile_pattern(const char *java, char *err, size_t errlen);
/* Returns 1 when the n bytes at s match code as a whole (NULL code matches everything), else 0. */
int proto_model_pattern_match(const void *code, const char *s, size_t n);
void proto_model_free_pattern(void *code);

#endif
