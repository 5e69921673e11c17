/* appspec.yml (version 0.0, os linux) for the EC2/on-premises platform, parsed with libyaml, and
 * the path checks that keep a revision inside its instance root. */
#ifndef CD_APPSPEC_H
#define CD_APPSPEC_H

#include <stddef.h>

/* The in-place lifecycle events, in the order the agent runs them. */
enum cd_event {
    CD_EV_APPLICATION_STOP,
    CD_EV_DOWNLOAD_BUNDLE,
    CD_EV_BEFORE_INSTALL,
    CD_EV_INSTALL,
    CD_EV_AFTER_INSTALL,
    CD_EV_APPLICATION_START,
    CD_EV_VALIDATE_SERVICE,
    CD_EV__COUNT
};
/* Returns the event's AWS name ("ApplicationStop", ...; static). */
const char *cd_event_name(enum cd_event e);

#define CD_HOOK_TIMEOUT_MAX 3600 /* seconds; also the default */

struct cd_hook {
    char *location; /* normalised, relative to the revision's root */
    int timeout;    /* seconds */
    char *runas;    /* NULL: the agent's user (recorded only) */
};

struct cd_file {
    char *source;      /* normalised, relative to the revision's root; "" for the whole revision */
    char *destination; /* normalised, relative to the instance root (no leading '/') */
};

struct cd_permission {
    char *object;        /* normalised, relative to the instance root */
    char *pattern;       /* "**" (default) or a glob of names */
    char *except;        /* unused beyond recording; NULL */
    char *owner, *group; /* recorded only */
    unsigned mode;       /* octal mode; 0: none given */
    int files, dirs;     /* the "type" list: which kinds mode applies to (both when absent) */
};

struct cd_appspec {
    struct cd_file *files;
    size_t n_files;
    struct cd_permission *perms;
    size_t n_perms;
    struct cd_hook *hooks[CD_EV__COUNT];
    size_t n_hooks[CD_EV__COUNT];
    char
        *file_exists_behavior; /* the appspec's own setting (DISALLOW, OVERWRITE, RETAIN) or NULL */
};

/* Parses the len bytes of an appspec. Returns 0 and fills *out (free with cd_appspec_free), or
 * -1 with the agent's kind of message in err (the YAML error, a wrong version or os, a path
 * escaping the revision or the instance root, a bad timeout). */
int cd_appspec_parse(const char *text, size_t len, struct cd_appspec *out, char *err,
                     size_t errlen);
/* Frees what cd_appspec_parse put in a (not a itself); safe on a zeroed struct. */
void cd_appspec_free(struct cd_appspec *a);

/* Normalises an appspec path: a leading '/' is allowed (absolute destinations, or sources written
 * from the revision's root); "." and empty components are dropped. Writes the relative result into
 * out. Returns its length (0: the root), or -1 when a ".." component, a control byte or a path
 * longer than cap appears. */
int cd_path_inside(const char *in, char *out, size_t cap);

#endif
