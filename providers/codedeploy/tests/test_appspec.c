/* Unit tests of appspec.yml parsing and of the path checks that keep revisions in their roots. */
#include <criterion/criterion.h>
#include <string.h>

#include "providers/codedeploy/appspec.h"

static int parse(const char *text, struct cd_appspec *a, char *err)
{
    return cd_appspec_parse(text, strlen(text), a, err, 512);
}

Test(cd_appspec, parses_files_permissions_and_hooks_in_order)
{
    const char *y = "version: 0.0\n"
                    "os: linux\n"
                    "files:\n"
                    "  - source: /\n"
                    "    destination: /opt/app\n"
                    "  - source: config/app.conf\n"
                    "    destination: /etc/app/\n"
                    "permissions:\n"
                    "  - object: /opt/app/bin\n"
                    "    mode: 750\n"
                    "    owner: app\n"
                    "    group: staff\n"
                    "    type:\n"
                    "      - file\n"
                    "hooks:\n"
                    "  ApplicationStop:\n"
                    "    - location: scripts/stop.sh\n"
                    "      timeout: 30\n"
                    "      runas: root\n"
                    "  AfterInstall:\n"
                    "    - location: /scripts/a.sh\n"
                    "    - location: ./scripts/b.sh\n"
                    "  BeforeBlockTraffic:\n"
                    "    - location: scripts/ignored.sh\n";
    struct cd_appspec a;
    char err[512];
    cr_assert_eq(parse(y, &a, err), 0, "%s", err);
    cr_assert_eq(a.n_files, 2);
    cr_assert_str_eq(a.files[0].source, "");
    cr_assert_str_eq(a.files[0].destination, "opt/app");
    cr_assert_str_eq(a.files[1].destination, "etc/app");
    cr_assert_eq(a.n_perms, 1);
    cr_assert_eq(a.perms[0].mode, 0750);
    cr_assert_str_eq(a.perms[0].owner, "app");
    cr_assert(a.perms[0].files && !a.perms[0].dirs);
    cr_assert_eq(a.n_hooks[CD_EV_APPLICATION_STOP], 1);
    cr_assert_eq(a.hooks[CD_EV_APPLICATION_STOP][0].timeout, 30);
    cr_assert_str_eq(a.hooks[CD_EV_APPLICATION_STOP][0].runas, "root");
    cr_assert_eq(a.n_hooks[CD_EV_AFTER_INSTALL], 2);
    cr_assert_str_eq(a.hooks[CD_EV_AFTER_INSTALL][0].location, "scripts/a.sh");
    cr_assert_str_eq(a.hooks[CD_EV_AFTER_INSTALL][1].location, "scripts/b.sh");
    cr_assert_eq(a.hooks[CD_EV_AFTER_INSTALL][1].timeout, 3600);
    cd_appspec_free(&a);
}

Test(cd_appspec, refuses_a_wrong_version_with_the_agents_words)
{
    struct cd_appspec a;
    char err[512];
    cr_assert_eq(parse("version: 1.0\nos: linux\n", &a, err), -1);
    cr_assert(strstr(err, "invalid version value (1.0)"), "%s", err);
}

Test(cd_appspec, refuses_windows_and_bad_yaml)
{
    struct cd_appspec a;
    char err[512];
    cr_assert_eq(parse("version: 0.0\nos: windows\n", &a, err), -1);
    cr_assert(strstr(err, "only linux"), "%s", err);
    cr_assert_eq(parse("version: 0.0\nos: linux\nfiles: [\n", &a, err), -1);
    cr_assert(strstr(err, "not valid YAML"), "%s", err);
}

Test(cd_appspec, refuses_paths_escaping_the_revision_or_the_instance)
{
    struct cd_appspec a;
    char err[512];
    cr_assert_eq(
        parse("version: 0.0\nos: linux\nfiles:\n  - source: ../x\n    destination: /a\n", &a, err),
        -1);
    cr_assert_eq(parse("version: 0.0\nos: linux\nfiles:\n  - source: x\n    destination: "
                       "/opt/../../etc\n",
                       &a, err),
                 -1);
    cr_assert_eq(
        parse("version: 0.0\nos: linux\nfiles:\n  - source: x\n    destination: rel\n", &a, err),
        -1);
    cr_assert_eq(parse("version: 0.0\nos: linux\nhooks:\n  AfterInstall:\n    - location: "
                       "../../bin/sh\n",
                       &a, err),
                 -1);
    cr_assert(strstr(err, "outside"), "%s", err);
}

Test(cd_appspec, refuses_bad_timeouts_and_agent_events)
{
    struct cd_appspec a;
    char err[512];
    cr_assert_eq(parse("version: 0.0\nos: linux\nhooks:\n  AfterInstall:\n    - location: s.sh\n"
                       "      timeout: 3601\n",
                       &a, err),
                 -1);
    cr_assert_eq(
        parse("version: 0.0\nos: linux\nhooks:\n  Install:\n    - location: s.sh\n", &a, err), -1);
}

Test(cd_appspec, path_inside_normalises)
{
    char o[64];
    cr_assert_eq(cd_path_inside("/opt//app/./x/", o, sizeof o), 9);
    cr_assert_str_eq(o, "opt/app/x");
    cr_assert_eq(cd_path_inside("/", o, sizeof o), 0);
    cr_assert_eq(cd_path_inside("a/../b", o, sizeof o), -1);
}
