/* Buildspec version 0.2, parsed with libyaml: env, phases, artifacts, reports. */
#ifndef CB_BUILDSPEC_H
#define CB_BUILDSPEC_H

#include <stddef.h>

enum cb_phase_kind { CB_INSTALL, CB_PRE_BUILD, CB_BUILD, CB_POST_BUILD, CB_N_PHASES };

struct cb_strs {
    char **v;
    size_t n;
};

struct cb_spec_phase {
    int present;
    int on_failure_continue; /* on-failure: CONTINUE (default ABORT) */
    struct cb_strs commands;
    struct cb_strs finally;
};

struct cb_spec_artifacts {
    int present;
    char *identifier; /* secondary artifacts: the key in secondary-artifacts */
    struct cb_strs files;
    struct cb_strs exclude;
    char *base_directory;
    char *name;
    int discard_paths;
};

struct cb_spec_report {
    char *name;
    char *file_format; /* NULL: JUNITXML */
    struct cb_strs files;
    char *base_directory;
    int discard_paths;
};

/* A parsed buildspec. Everything malloc'd and owned by the struct: free with cb_spec_free. */
struct cb_spec {
    char *shell;                          /* env.shell; NULL: bash */
    struct cb_strs var_names, var_values; /* env.variables, in order */
    struct cb_strs exported;              /* env.exported-variables */
    struct cb_spec_phase phases[CB_N_PHASES];
    struct cb_spec_artifacts artifacts;
    struct cb_spec_artifacts *secondary;
    size_t n_secondary;
    struct cb_spec_report *reports;
    size_t n_reports;
};

/* Parses len bytes of YAML into *out (zeroed first). Returns 0, or -1 with a one-line reason in
 * err (the YAML_FILE_ERROR message: not YAML, no phases, a bad version, a wrong type). */
int cb_spec_parse(const char *yaml, size_t len, struct cb_spec *out, char *err, size_t errlen);
/* Frees what cb_spec_parse put in s (not s itself); safe on a zeroed struct. */
void cb_spec_free(struct cb_spec *s);

/* Returns the phase's buildspec name ("install") and its BatchGetBuilds type ("INSTALL"). */
const char *cb_phase_key(enum cb_phase_kind k);
const char *cb_phase_type(enum cb_phase_kind k);

/* The phase that runs after phase k failed with on-failure ABORT, as CodeBuild's "Build phase
 * transitions" say: INSTALL and PRE_BUILD skip to the end (CB_N_PHASES), BUILD goes on to
 * POST_BUILD, POST_BUILD to the end. */
enum cb_phase_kind cb_phase_after_failure(enum cb_phase_kind k);

/* Returns 1 when path (relative, '/'-separated) matches glob: '*' and '?' within one component,
 * '**' for any number of whole components (also none), [..] classes. */
int cb_glob_match(const char *glob, const char *path);

/* Returns 1 when a relative path stays inside its root: not absolute, no component ".." that
 * climbs above the start. */
int cb_path_is_inside(const char *rel);

#endif
