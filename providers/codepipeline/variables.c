/* Variable references in action configurations: #{namespace.name}, resolved just before an action
 * starts. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/strbuf.h"
#include "providers/codepipeline/engine.h"

char *cp_vars_resolve(const char *s, struct json_object *vars, char *bad, size_t badlen)
{
    struct proto_sb sb = PROTO_SB_INIT;
    const char *p = s ? s : "";
    for (;;) {
        const char *open = strstr(p, "#{");
        if (!open) break;
        const char *close = strchr(open + 2, '}');
        if (!close) break; /* not a reference: kept as written */
        proto_sb_append(&sb, p, (size_t)(open - p));
        const char *ref = open + 2;
        size_t rlen = (size_t)(close - ref);
        const char *dot = memchr(ref, '.', rlen);
        struct json_object *ns = NULL, *v = NULL;
        if (dot && dot > ref && dot + 1 < close) {
            char nsname[256], name[256];
            size_t nl = (size_t)(dot - ref), vl = (size_t)(close - dot - 1);
            if (nl < sizeof nsname && vl < sizeof name) {
                memcpy(nsname, ref, nl);
                nsname[nl] = 0;
                memcpy(name, dot + 1, vl);
                name[vl] = 0;
                if (json_object_object_get_ex(vars, nsname, &ns))
                    json_object_object_get_ex(ns, name, &v);
            }
        }
        if (!v) {
            snprintf(bad, badlen, "%.*s", (int)(close - open + 1), open);
            proto_sb_free(&sb);
            return NULL;
        }
        proto_sb_puts(&sb, json_object_get_string(v));
        p = close + 1;
    }
    proto_sb_puts(&sb, p);
    char *out = strdup(proto_sb_str(&sb));
    proto_sb_free(&sb);
    if (!out) abort();
    return out;
}
