/* Unit tests of the buildspec parser, the phase rules after a failure, globs and path checks. */
#include <criterion/criterion.h>
#include <string.h>

#include "providers/codebuild/buildspec.h"

static int parse(const char *y, struct cb_spec *s, char *err)
{
    return cb_spec_parse(y, strlen(y), s, err, 256);
}

Test(cb_buildspec, reads_env_phases_finally_and_on_failure)
{
    struct cb_spec s;
    char err[256];
    const char *y = "version: 0.2\n"
                    "env:\n  shell: bash\n  variables:\n    A: '1'\n    B: two\n"
                    "  exported-variables:\n    - A\n"
                    "phases:\n"
                    "  install:\n    on-failure: CONTINUE\n    commands:\n      - echo i\n"
                    "  build:\n    commands:\n      - make\n      - make test\n"
                    "    finally:\n      - echo done\n";
    cr_assert_eq(parse(y, &s, err), 0, "%s", err);
    cr_assert_str_eq(s.shell, "bash");
    cr_assert_eq(s.var_names.n, 2);
    cr_assert_str_eq(s.var_names.v[1], "B");
    cr_assert_str_eq(s.var_values.v[1], "two");
    cr_assert_eq(s.exported.n, 1);
    cr_assert(s.phases[CB_INSTALL].present);
    cr_assert(s.phases[CB_INSTALL].on_failure_continue);
    cr_assert_not(s.phases[CB_PRE_BUILD].present);
    cr_assert_eq(s.phases[CB_BUILD].commands.n, 2);
    cr_assert_str_eq(s.phases[CB_BUILD].commands.v[1], "make test");
    cr_assert_str_eq(s.phases[CB_BUILD].finally.v[0], "echo done");
    cr_assert_not(s.phases[CB_BUILD].on_failure_continue);
    cb_spec_free(&s);
}

Test(cb_buildspec, reads_artifacts_secondary_artifacts_and_reports)
{
    struct cb_spec s;
    char err[256];
    const char *y = "version: 0.2\nphases:\n  build:\n    commands: [true]\n"
                    "artifacts:\n  files:\n    - '**/*'\n  base-directory: dist\n"
                    "  discard-paths: yes\n  exclude-paths: ['*.tmp']\n  name: out\n"
                    "  secondary-artifacts:\n    second:\n      files: [a.txt]\n"
                    "reports:\n  unit:\n    files: ['**/*.xml']\n    base-directory: r\n"
                    "    file-format: JUNITXML\n";
    cr_assert_eq(parse(y, &s, err), 0, "%s", err);
    cr_assert(s.artifacts.present);
    cr_assert_str_eq(s.artifacts.files.v[0], "**/*");
    cr_assert_str_eq(s.artifacts.base_directory, "dist");
    cr_assert(s.artifacts.discard_paths);
    cr_assert_str_eq(s.artifacts.exclude.v[0], "*.tmp");
    cr_assert_str_eq(s.artifacts.name, "out");
    cr_assert_eq(s.n_secondary, 1);
    cr_assert_str_eq(s.secondary[0].identifier, "second");
    cr_assert_eq(s.n_reports, 1);
    cr_assert_str_eq(s.reports[0].name, "unit");
    cr_assert_str_eq(s.reports[0].file_format, "JUNITXML");
    cb_spec_free(&s);
}

Test(cb_buildspec, refuses_what_codebuild_calls_a_yaml_file_error)
{
    static const char *const bad[] = {
        "version: 0.2\nphases: [unclosed\n",                        /* not YAML */
        "- a\n- b\n",                                               /* not a mapping */
        "phases:\n  build:\n    commands: [x]\n",                   /* no version */
        "version: 9.9\nphases:\n  build:\n    commands: [x]\n",     /* unknown version */
        "version: 0.2\nenv: {}\n",                                  /* no phases */
        "version: 0.2\nphases:\n  build:\n    on-failure: RETRY\n", /* bad on-failure */
        "version: 0.2\nphases:\n  build:\n    commands: {a: b}\n",  /* commands not a list */
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        struct cb_spec s;
        char err[256] = "";
        cr_assert_eq(parse(bad[i], &s, err), -1, "accepted #%zu", i);
        cr_assert_neq(err[0], 0, "no reason for #%zu", i);
        cb_spec_free(&s);
    }
}

Test(cb_phases, install_and_pre_build_failures_skip_to_the_end_build_goes_to_post_build)
{
    cr_assert_eq(cb_phase_after_failure(CB_INSTALL), CB_N_PHASES);
    cr_assert_eq(cb_phase_after_failure(CB_PRE_BUILD), CB_N_PHASES);
    cr_assert_eq(cb_phase_after_failure(CB_BUILD), CB_POST_BUILD);
    cr_assert_eq(cb_phase_after_failure(CB_POST_BUILD), CB_N_PHASES);
    cr_assert_str_eq(cb_phase_type(CB_PRE_BUILD), "PRE_BUILD");
    cr_assert_str_eq(cb_phase_key(CB_POST_BUILD), "post_build");
}

Test(cb_glob, double_star_spans_any_number_of_directories)
{
    cr_assert(cb_glob_match("**/*", "a"));
    cr_assert(cb_glob_match("**/*", "a/b/c.txt"));
    cr_assert(cb_glob_match("**/*.xml", "r/deep/t.xml"));
    cr_assert(cb_glob_match("**/*.xml", "t.xml"));
    cr_assert_not(cb_glob_match("**/*.xml", "t.txt"));
    cr_assert(cb_glob_match("src/**/main.c", "src/main.c"));
    cr_assert(cb_glob_match("src/**/main.c", "src/a/b/main.c"));
    cr_assert_not(cb_glob_match("src/**/main.c", "lib/main.c"));
    cr_assert(cb_glob_match("dist/**", "dist/x/y"));
}

Test(cb_glob, single_star_stays_within_one_component)
{
    cr_assert(cb_glob_match("*.txt", "a.txt"));
    cr_assert_not(cb_glob_match("*.txt", "d/a.txt"));
    cr_assert(cb_glob_match("./d/?.txt", "d/a.txt"));
    cr_assert(cb_glob_match("d/[ab].txt", "d/b.txt"));
    cr_assert_not(cb_glob_match("d/[ab].txt", "d/c.txt"));
}

Test(cb_paths, refuses_absolute_paths_and_climbs_out_of_the_root)
{
    cr_assert(cb_path_is_inside("a/b"));
    cr_assert(cb_path_is_inside("a/../b"));
    cr_assert(cb_path_is_inside("./a"));
    cr_assert(cb_path_is_inside("a/b/../../c"));
    cr_assert_not(cb_path_is_inside("/etc/passwd"));
    cr_assert_not(cb_path_is_inside(".."));
    cr_assert_not(cb_path_is_inside("../x"));
    cr_assert_not(cb_path_is_inside("a/../../x"));
    cr_assert_not(cb_path_is_inside(NULL));
}
