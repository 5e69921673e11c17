/* The built-in action types AWS offers (owner AWS and ThirdParty): providers, configuration
 * properties and artifact limits. Pure data, shared by structure validation and ListActionTypes. */
#ifndef CP_CATALOGUE_H
#define CP_CATALOGUE_H

#include <stddef.h>

struct cp_config_prop {
    const char *name;
    unsigned char required, key, secret, queryable;
    const char *description;
};

struct cp_action_spec {
    const char *category, *owner, *provider, *version;
    int in_min, in_max, out_min, out_max;
    const struct cp_config_prop *props; /* terminated by a NULL name */
    const char *entity_url, *execution_url, *revision_url, *third_party_url;
};

/* The catalogue, terminated by an entry with a NULL category. Static storage. */
extern const struct cp_action_spec cp_catalogue[];

/* Returns the built-in action type with this id, or NULL. */
const struct cp_action_spec *cp_catalogue_find(const char *category, const char *owner,
                                               const char *provider, const char *version);
/* Returns 1 when some built-in action type has this owner and provider (any category). */
int cp_catalogue_has_provider(const char *owner, const char *provider);

#endif
