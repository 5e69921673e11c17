/* Small json-c accessors shared by the CodePipeline files: a missing member, or one of another
 * type, reads as NULL (or the default), never as a crash. */
#ifndef CP_JSON_H
#define CP_JSON_H

#include <json-c/json.h>

/* The member k of object o, or NULL (o NULL or not an object, or k absent). Borrowed. */
static inline struct json_object *jget(struct json_object *o, const char *k)
{
    struct json_object *v = NULL;
    if (!o || !json_object_is_type(o, json_type_object)) return NULL;
    return json_object_object_get_ex(o, k, &v) ? v : NULL;
}

/* The string member k of o, or NULL when absent or not a string. Borrowed. */
static inline const char *jgets(struct json_object *o, const char *k)
{
    struct json_object *v = jget(o, k);
    return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

/* jgets, with "" for NULL. */
static inline const char *jgets_or_empty(struct json_object *o, const char *k)
{
    const char *s = jgets(o, k);
    return s ? s : "";
}

/* The member k of o as an int, or dflt when absent. */
static inline int jgeti(struct json_object *o, const char *k, int dflt)
{
    struct json_object *v = jget(o, k);
    return v ? json_object_get_int(v) : dflt;
}

/* Sets member k of o to v (taking the reference). */
static inline void jset(struct json_object *o, const char *k, struct json_object *v)
{
    json_object_object_add(o, k, v);
}

/* Sets member k of o to the string s ("" for NULL). */
static inline void jsets(struct json_object *o, const char *k, const char *s)
{
    json_object_object_add(o, k, json_object_new_string(s ? s : ""));
}

/* The object member k of o, made (empty) when absent or not an object. Borrowed. */
static inline struct json_object *jobj(struct json_object *o, const char *k)
{
    struct json_object *v = jget(o, k);
    if (!v || !json_object_is_type(v, json_type_object)) {
        v = json_object_new_object();
        jset(o, k, v);
    }
    return v;
}

#endif
