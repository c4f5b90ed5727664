/* Tests for relay/config: defaults, every key type, the file syntax, flags
 * over file, coturn aliases, auth-secret-file, and error lines that name
 * the place and never a secret. */
#include <criterion/criterion.h>
#include <criterion/redirect.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "relay/config.h"
#include "relay/config_parse.h"

#define MAX_FILES 8

static char dir[64];
static char paths[MAX_FILES][128];
static int n_paths;
static struct br_config cfg;
static char *err_text;

static void setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/br-config-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    n_paths = 0;
    err_text = NULL;
}

static void teardown(void)
{
    br_config_release(&cfg);
    free(err_text);
    for (int i = 0; i < n_paths; i++) {
        unlink(paths[i]);
    }
    rmdir(dir);
}

TestSuite(config, .init = setup, .fini = teardown);

/* Writes text to a new file in the test directory; returns its path. */
static const char *write_file(const char *name, const char *text)
{
    cr_assert_lt(n_paths, MAX_FILES);
    char *path = paths[n_paths++];
    snprintf(path, sizeof(paths[0]), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

/* Runs br_config_load on "blindrelay" + args, capturing the error text. */
static int load_argv(const char *const *args)
{
    char *argv[200];
    int argc = 0;
    size_t len;

    argv[argc++] = "blindrelay";
    for (; *args; args++) {
        cr_assert_lt(argc, 199);
        argv[argc++] = (char *)*args;
    }
    argv[argc] = NULL;
    free(err_text);
    err_text = NULL;
    br_config_release(&cfg);
    FILE *err = open_memstream(&err_text, &len);
    cr_assert_not_null(err);
    int rc = br_config_load(&cfg, argc, argv, err);
    fclose(err);
    return rc;
}

#define LOAD(...) load_argv((const char *const[]){__VA_ARGS__, NULL})
#define LOAD_NONE() load_argv((const char *const[]){NULL})

/* Expects success with no error output. */
#define LOAD_OK(...)                                                                               \
    do {                                                                                           \
        int rc_ = LOAD(__VA_ARGS__);                                                               \
        cr_assert_eq(rc_, 0, "rc %d, err: %s", rc_, err_text);                                     \
        cr_assert_str_empty(err_text);                                                             \
    } while (0)

/* Expects -EINVAL and exactly one error line. */
#define LOAD_ERR(line, ...)                                                                        \
    do {                                                                                           \
        int rc_ = LOAD(__VA_ARGS__);                                                               \
        cr_assert_eq(rc_, -EINVAL, "rc %d", rc_);                                                  \
        cr_assert_str_eq(err_text, line "\n");                                                     \
    } while (0)

static const char *fmt(const union turn_addr *a)
{
    static char buf[64];
    return turn_addr_format(a, buf, sizeof(buf));
}

Test(config, defaults)
{
    cr_assert_eq(LOAD_NONE(), 0);
    cr_assert_str_empty(err_text);
    cr_assert_eq(cfg.n_listen, 2);
    cr_assert_str_eq(fmt(&cfg.listen[0]), "0.0.0.0:3478");
    cr_assert_str_eq(fmt(&cfg.listen[1]), "[::]:3478");
    cr_assert_eq(cfg.n_tls_listen, 0);
    cr_assert_eq(cfg.relay_ip4.sa.sa_family, 0);
    cr_assert_eq(cfg.relay_ip6.sa.sa_family, 0);
    cr_assert_eq(cfg.external_ip4.sa.sa_family, 0);
    cr_assert_eq(cfg.external_ip6.sa.sa_family, 0);
    cr_assert_eq(cfg.relay_port_min, 49152);
    cr_assert_eq(cfg.relay_port_max, 65535);
    cr_assert_str_eq(cfg.realm, "blindrelay");
    cr_assert_eq(cfg.secrets.n + cfg.users.n + cfg.allow_peer.n + cfg.deny_peer.n, 0);
    cr_assert_eq(cfg.threads, 0);
    cr_assert_str_eq(fmt(&cfg.admin_listen), "127.0.0.1:9641");
    cr_assert_str_empty(cfg.cert);
    cr_assert_str_empty(cfg.key);
    cr_assert_eq(cfg.default_lifetime, 600);
    cr_assert_eq(cfg.max_lifetime, 3600);
    cr_assert_eq(cfg.nonce_lifetime, 600);
    cr_assert_eq(cfg.total_quota, 0);
    cr_assert(cfg.total_quota_auto, "total-quota defaults to auto (from the fd limit)");
    cr_assert_eq(cfg.user_quota, 10);
    cr_assert_eq(cfg.max_unauth_frame, 4096);
    cr_assert_eq(cfg.max_permissions, 32);
    cr_assert_eq(cfg.max_channels, 64);
    cr_assert(cfg.rfc5766_channels);
}

Test(config, listen_replaces_defaults_and_appends)
{
    LOAD_OK("--listen", "192.0.2.1", "--listen=[2001:db8::1]:5000");
    cr_assert_eq(cfg.n_listen, 2);
    cr_assert_str_eq(fmt(&cfg.listen[0]), "192.0.2.1:3478");
    cr_assert_str_eq(fmt(&cfg.listen[1]), "[2001:db8::1]:5000");
}

Test(config, listen_rejects_bad_values)
{
    LOAD_ERR("blindrelay: --listen: expected ADDR:PORT, got 'x'", "--listen", "x");
    LOAD_ERR("blindrelay: --listen: expected ADDR:PORT, got '1.2.3.4:70000'", "--listen",
             "1.2.3.4:70000");
    LOAD_ERR("blindrelay: --listen: port must be between 1 and 65535", "--listen", "1.2.3.4:0");
    LOAD_ERR("blindrelay: --listen: '1.2.3.4' is given twice", "--listen", "1.2.3.4:3478",
             "--listen", "1.2.3.4");
    LOAD_ERR("blindrelay: --listen: too many addresses (at most 8)", "--listen", "10.0.0.1",
             "--listen", "10.0.0.2", "--listen", "10.0.0.3", "--listen", "10.0.0.4", "--listen",
             "10.0.0.5", "--listen", "10.0.0.6", "--listen", "10.0.0.7", "--listen", "10.0.0.8",
             "--listen", "10.0.0.9");
}

Test(config, tls_listen_needs_cert_and_key)
{
    LOAD_OK("--tls-listen", "0.0.0.0", "--cert", "/etc/c.pem", "--key", "/etc/k.pem");
    cr_assert_eq(cfg.n_tls_listen, 1);
    cr_assert_str_eq(fmt(&cfg.tls_listen[0]), "0.0.0.0:5349");
    cr_assert_str_eq(cfg.cert, "/etc/c.pem");
    cr_assert_str_eq(cfg.key, "/etc/k.pem");
    LOAD_ERR("blindrelay: --tls-listen: needs cert and key", "--tls-listen", "0.0.0.0", "--cert",
             "/etc/c.pem");
}

Test(config, relay_and_external_ip_per_family)
{
    LOAD_OK("--relay-ip", "10.0.0.5", "--relay-ip", "2001:db8::5", "--external-ip",
            "::ffff:198.51.100.7", "--external-ip", "2001:db8::9");
    cr_assert_str_eq(fmt(&cfg.relay_ip4), "10.0.0.5:0");
    cr_assert_str_eq(fmt(&cfg.relay_ip6), "[2001:db8::5]:0");
    /* An IPv4-mapped address is IPv4. */
    cr_assert_str_eq(fmt(&cfg.external_ip4), "198.51.100.7:0");
    cr_assert_str_eq(fmt(&cfg.external_ip6), "[2001:db8::9]:0");
    LOAD_ERR("blindrelay: --external-ip: an IPv4 address is already set (give at most one per "
             "family)",
             "--external-ip", "203.0.113.9", "--external-ip", "::ffff:198.51.100.7");
}

Test(config, ip_rejects_bad_values)
{
    LOAD_ERR("blindrelay: --relay-ip: an IPv4 address is already set (give at most one per "
             "family)",
             "--relay-ip", "10.0.0.5", "--relay-ip", "10.0.0.6");
    LOAD_ERR("blindrelay: --relay-ip: must be a specific address, not a wildcard", "--relay-ip",
             "0.0.0.0");
    LOAD_ERR("blindrelay: --external-ip: must be a specific address, not a wildcard",
             "--external-ip", "::");
    LOAD_ERR("blindrelay: --external-ip: expected an IP address, got '1.2.3.4:5'", "--external-ip",
             "1.2.3.4:5");
    LOAD_ERR("blindrelay: --external-ip: expected an IP address, got 'host.example'",
             "--external-ip", "host.example");
    LOAD_ERR("blindrelay: --external-ip: expected an IP address, got '203.0.113.9/10.0.0.5' "
             "(for coturn's PUBLIC/PRIVATE form, set external-ip=PUBLIC and relay-ip=PRIVATE)",
             "--external-ip", "203.0.113.9/10.0.0.5");
}

Test(config, relay_ports)
{
    LOAD_OK("--relay-ports", "40000-40100");
    cr_assert_eq(cfg.relay_port_min, 40000);
    cr_assert_eq(cfg.relay_port_max, 40100);
    LOAD_OK("--relay-ports", "5000-5000");
    cr_assert_eq(cfg.relay_port_min, 5000);
    LOAD_ERR("blindrelay: --relay-ports: must be between 1024 and 65535", "--relay-ports",
             "1000-2000");
    LOAD_ERR("blindrelay: --relay-ports: must be between 1024 and 65535", "--relay-ports",
             "2000-65536");
    LOAD_ERR("blindrelay: --relay-ports: MIN (5001) must not exceed MAX (5000)", "--relay-ports",
             "5001-5000");
    LOAD_ERR("blindrelay: --relay-ports: expected MIN-MAX, got '5000'", "--relay-ports", "5000");
    LOAD_ERR("blindrelay: --relay-ports: expected MIN-MAX, got '5000-+6000'", "--relay-ports",
             "5000-+6000");
    LOAD_ERR("blindrelay: --relay-ports: expected MIN-MAX, got ' 5000-6000'", "--relay-ports",
             " 5000-6000");
}

Test(config, min_port_max_port)
{
    LOAD_OK("--min-port", "40000");
    cr_assert_eq(cfg.relay_port_min, 40000);
    cr_assert_eq(cfg.relay_port_max, 65535);
    LOAD_OK("--max-port", "50000", "--min-port=49999");
    cr_assert_eq(cfg.relay_port_min, 49999);
    cr_assert_eq(cfg.relay_port_max, 50000);
    LOAD_ERR("blindrelay: --max-port: relay port range 49152-40000 is empty", "--max-port",
             "40000");
    LOAD_ERR("blindrelay: --min-port: must be between 1024 and 65535", "--min-port", "80");
}

Test(config, realm)
{
    LOAD_OK("--realm", "turn.example.org");
    cr_assert_str_eq(cfg.realm, "turn.example.org");
    char long_realm[34];
    memset(long_realm, 'r', 32);
    long_realm[32] = '\0';
    LOAD_OK("--realm", long_realm);
    cr_assert_str_eq(cfg.realm, long_realm);
    long_realm[32] = 'r';
    long_realm[33] = '\0';
#define REALM_LEN_ERR                                                                              \
    "blindrelay: --realm: must be 1 to 32 characters long (the challenge that carries it must "    \
    "stay within 4x of a client's first Allocate)"
    LOAD_ERR(REALM_LEN_ERR, "--realm", long_realm);
    LOAD_ERR(REALM_LEN_ERR, "--realm=");
    LOAD_ERR("blindrelay: --realm: must be printable ASCII without quotes or backslashes",
             "--realm", "\"quoted\"");
    LOAD_ERR("blindrelay: --realm: must be printable ASCII without quotes or backslashes",
             "--realm", "tab\there");
}

Test(config, unsigned_ranges)
{
    LOAD_OK("--threads", "256", "--total-quota", "4294967295", "--user-quota", "10",
            "--max-permissions", "1", "--max-channels", "16384", "--default-lifetime", "60",
            "--max-lifetime", "86400", "--nonce-lifetime", "30");
    cr_assert_eq(cfg.threads, 256);
    cr_assert_eq(cfg.total_quota, 4294967295u);
    cr_assert(!cfg.total_quota_auto);
    cr_assert_eq(cfg.user_quota, 10);
    cr_assert_eq(cfg.max_permissions, 1);
    cr_assert_eq(cfg.max_channels, 16384);
    cr_assert_eq(cfg.default_lifetime, 60);
    cr_assert_eq(cfg.max_lifetime, 86400);
    cr_assert_eq(cfg.nonce_lifetime, 30);
    LOAD_ERR("blindrelay: --threads: must be between 0 and 256", "--threads", "257");
    LOAD_ERR("blindrelay: --threads: expected a number, got '-1'", "--threads=-1");
    LOAD_ERR("blindrelay: --threads: expected a number, got '4x'", "--threads", "4x");
    LOAD_ERR("blindrelay: --total-quota: expected a number, got '4294967296'", "--total-quota",
             "4294967296");
    LOAD_ERR("blindrelay: --default-lifetime: must be between 60 and 86400", "--default-lifetime",
             "59");
    LOAD_OK("--total-quota", "0", "--user-quota", "0");
    cr_assert_eq(cfg.total_quota, 0);
    cr_assert(!cfg.total_quota_auto, "an explicit 0 is unlimited, not auto");
    cr_assert_eq(cfg.user_quota, 0);
    LOAD_OK("--total-quota", "7", "--total-quota", "auto");
    cr_assert(cfg.total_quota_auto);
    cr_assert_eq(cfg.total_quota, 0);
    LOAD_ERR("blindrelay: --user-quota: expected a number, got 'auto'", "--user-quota", "auto");
    LOAD_OK("--max-unauth-frame", "548");
    cr_assert_eq(cfg.max_unauth_frame, 548);
    LOAD_OK("--max-unauth-frame", "65552");
    cr_assert_eq(cfg.max_unauth_frame, 65552);
    LOAD_ERR("blindrelay: --max-unauth-frame: must be between 548 and 65552", "--max-unauth-frame",
             "547");
    LOAD_ERR("blindrelay: --max-unauth-frame: must be between 548 and 65552", "--max-unauth-frame",
             "65553");
    LOAD_ERR("blindrelay: --max-lifetime: must be between 60 and 86400", "--max-lifetime", "86401");
    LOAD_ERR("blindrelay: --nonce-lifetime: must be between 30 and 86400", "--nonce-lifetime",
             "29");
    LOAD_ERR("blindrelay: --max-permissions: must be between 1 and 16384", "--max-permissions",
             "0");
}

Test(config, default_lifetime_not_above_max)
{
    LOAD_ERR("blindrelay: --default-lifetime: default-lifetime (4000) must not exceed "
             "max-lifetime (3600)",
             "--default-lifetime", "4000");
    LOAD_ERR("blindrelay: --max-lifetime: default-lifetime (600) must not exceed max-lifetime "
             "(300)",
             "--max-lifetime", "300");
    LOAD_OK("--default-lifetime", "4000", "--max-lifetime", "7200");
}

Test(config, bool_words_and_bare_flag)
{
    const char *no[] = {"false", "no", "off", "0", "FALSE"};
    const char *yes[] = {"true", "yes", "on", "1", "On"};
    for (size_t i = 0; i < 5; i++) {
        LOAD_OK("--rfc5766-channels", no[i]);
        cr_assert_not(cfg.rfc5766_channels, "%s", no[i]);
        LOAD_OK("--rfc5766-channels", "0", "--rfc5766-channels", yes[i]);
        cr_assert(cfg.rfc5766_channels, "%s", yes[i]);
    }
    LOAD_OK("--rfc5766-channels=off", "--rfc5766-channels", "--threads", "2");
    cr_assert(cfg.rfc5766_channels);
    cr_assert_eq(cfg.threads, 2);
    LOAD_ERR("blindrelay: --rfc5766-channels: expected true/false, yes/no, on/off or 1/0, got "
             "'maybe'",
             "--rfc5766-channels=maybe");
}

Test(config, paths)
{
    char long_path[BR_PATH_MAX + 1];
    memset(long_path, 'p', BR_PATH_MAX);
    long_path[BR_PATH_MAX] = '\0';
    LOAD_ERR("blindrelay: --cert: path too long (at most 1023 bytes)", "--cert", long_path);
    LOAD_ERR("blindrelay: --key: missing value", "--key=");
}

Test(config, admin_listen)
{
    LOAD_OK("--admin-listen", "[::1]");
    cr_assert_str_eq(fmt(&cfg.admin_listen), "[::1]:9641");
    LOAD_OK("--admin-listen", "0.0.0.0:8080");
    cr_assert_str_eq(fmt(&cfg.admin_listen), "0.0.0.0:8080");
    LOAD_OK("--admin-listen=");
    cr_assert_eq(cfg.admin_listen.sa.sa_family, 0);
    LOAD_OK("--admin-listen", "");
    cr_assert_eq(cfg.admin_listen.sa.sa_family, 0);
    LOAD_ERR("blindrelay: --admin-listen: expected ADDR:PORT or \"\" (off), got 'localhost'",
             "--admin-listen", "localhost");
}

Test(config, secrets_and_users)
{
    LOAD_OK("--auth-secret", "s1", "--auth-secret", "s 2", "--user", "alice:pw:with:colons");
    cr_assert_eq(cfg.secrets.n, 2);
    cr_assert_str_eq(cfg.secrets.items[0], "s1");
    cr_assert_str_eq(cfg.secrets.items[1], "s 2");
    cr_assert_eq(cfg.users.n, 1);
    cr_assert_str_eq(cfg.users.items[0], "alice:pw:with:colons");
    LOAD_ERR("blindrelay: --auth-secret: invalid value (empty secret)", "--auth-secret=");
    LOAD_ERR("blindrelay: --user: invalid value (expected NAME:PASSWORD, both non-empty)", "--user",
             ":pw");
    LOAD_ERR("blindrelay: --user: invalid value (a user of that NAME is already given)", "--user",
             "bob:one", "--user", "bob:two");
}

Test(config, secrets_never_in_error_text)
{
    const char *cases[][2] = {
        {"--user", "Xyzzy1PLUGH"},          /* no ':' */
        {"--user", "Xyzzy1PLUGH:"},         /* empty password */
        {"--user", ":Xyzzy1PLUGH"},         /* empty name */
        {"--auth-secretz", "Xyzzy1PLUGH"},  /* unknown key: value not consumed, then stray */
        {"--auth-secret", "--Xyzzy1PLUGH"}, /* looks like a flag: missing value */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cr_assert_eq(LOAD(cases[i][0], cases[i][1]), -EINVAL);
        cr_assert_null(strstr(err_text, "Xyzzy1PLUGH"), "case %zu: %s", i, err_text);
    }
    /* A secret left without its flag is reported by position only. */
    LOAD_ERR("blindrelay: argument 3: unexpected (flags are --KEY VALUE or --KEY=VALUE)",
             "--auth-secret", "s1", "Xyzzy1PLUGH");
    const char *conf = write_file("c.conf", "auth-secret\nuser = Xyzzy1PLUGH\n");
    cr_assert_eq(LOAD("--config", conf), -EINVAL);
    cr_assert_null(strstr(err_text, "Xyzzy1PLUGH"));
    cr_assert_not_null(strstr(err_text, ":1: auth-secret: missing value"), "%s", err_text);
}

Test(config, peer_rules)
{
    LOAD_OK("--allow-peer", "10.0.0.0/8", "--allow-peer", "127.0.0.1", "--deny-peer", "fd00::/8",
            "--deny-peer", "2001:db8::/32");
    cr_assert_eq(cfg.allow_peer.n, 2);
    cr_assert_str_eq(cfg.allow_peer.items[0], "10.0.0.0/8");
    cr_assert_str_eq(cfg.allow_peer.items[1], "127.0.0.1/32");
    cr_assert_str_eq(cfg.deny_peer.items[0], "fd00::/8");
    cr_assert_str_eq(cfg.deny_peer.items[1], "2001:db8::/32");
    LOAD_ERR("blindrelay: --allow-peer: host bits are set in '10.0.0.1/8'; did you mean "
             "10.0.0.0/8?",
             "--allow-peer", "10.0.0.1/8");
    LOAD_ERR("blindrelay: --allow-peer: prefix must be between 0 and 32", "--allow-peer",
             "10.0.0.0/33");
    LOAD_ERR("blindrelay: --deny-peer: expected ADDR/PREFIX, got 'example.com'", "--deny-peer",
             "example.com");
    LOAD_ERR("blindrelay: --deny-peer: expected ADDR/PREFIX, got '10.0.0.0/'", "--deny-peer",
             "10.0.0.0/");
}

Test(config, peer_rules_coturn_ranges)
{
    LOAD_OK("--allowed-peer-ip", "10.0.0.0-10.255.255.255", "--allowed-peer-ip",
            "192.0.2.7-192.0.2.7", "--denied-peer-ip",
            "fe80::-febf:ffff:ffff:ffff:ffff:ffff:"
            "ffff:ffff");
    cr_assert_str_eq(cfg.allow_peer.items[0], "10.0.0.0/8");
    cr_assert_str_eq(cfg.allow_peer.items[1], "192.0.2.7/32");
    cr_assert_str_eq(cfg.deny_peer.items[0], "fe80::/10");
    LOAD_ERR("blindrelay: --allowed-peer-ip: range '10.0.0.1-10.0.0.5' is not one CIDR block; "
             "write it as ADDR/PREFIX rules",
             "--allowed-peer-ip", "10.0.0.1-10.0.0.5");
    LOAD_ERR("blindrelay: --allow-peer: expected ADDR/PREFIX or FIRST-LAST, got '10.0.0.1-::1'",
             "--allow-peer", "10.0.0.1-::1");
}

Test(config, list_cap)
{
    const char *args[2 * (BR_MAX_LIST + 1) + 1];
    char values[BR_MAX_LIST + 1][24];
    for (int i = 0; i <= BR_MAX_LIST; i++) {
        snprintf(values[i], sizeof(values[i]), "192.0.2.%d", i);
        args[2 * i] = "--allow-peer";
        args[2 * i + 1] = values[i];
    }
    args[2 * (BR_MAX_LIST + 1)] = NULL;
    cr_assert_eq(load_argv(args), -EINVAL);
    cr_assert_str_eq(err_text, "blindrelay: --allow-peer: too many values (at most 64)\n");
    args[2 * BR_MAX_LIST] = NULL;
    cr_assert_eq(load_argv(args), 0);
    cr_assert_eq(cfg.allow_peer.n, BR_MAX_LIST);
}

Test(config, flag_syntax_errors)
{
    LOAD_ERR("blindrelay: --realm: missing value", "--realm");
    LOAD_ERR("blindrelay: --realm: missing value", "--realm", "--threads", "2");
    LOAD_ERR("blindrelay: --no-such-key: unknown key", "--no-such-key", "1");
    LOAD_ERR("blindrelay: --listening-port: unknown key; use listen ADDR:PORT",
             "--listening-port=3478");
    LOAD_ERR("blindrelay: argument 1: unexpected (flags are --KEY VALUE or --KEY=VALUE)", "-v");
    LOAD_ERR("blindrelay: --config: missing value", "--config");
    LOAD_ERR("blindrelay: --config: given twice", "--config", "a", "--config", "b");
}

Test(config, file_syntax)
{
    const char *conf = write_file("blindrelay.conf", "# a comment\n"
                                                     "\n"
                                                     "   # indented comment\n"
                                                     "listen=192.0.2.1:3478\n"
                                                     "listen 192.0.2.2\n"
                                                     "  realm   =   example.org  \r\n"
                                                     "threads\t8\n"
                                                     "auth-secret = a secret with # and spaces\n"
                                                     "auth-secret==starts-with-equals\n"
                                                     "rfc5766-channels=no\n"
                                                     "rfc5766-channels\n"
                                                     "admin-listen =\n"
                                                     "stale-nonce\n");
    LOAD_OK("--config", conf);
    cr_assert_eq(cfg.n_listen, 2);
    cr_assert_str_eq(fmt(&cfg.listen[0]), "192.0.2.1:3478");
    cr_assert_str_eq(fmt(&cfg.listen[1]), "192.0.2.2:3478");
    cr_assert_str_eq(cfg.realm, "example.org");
    cr_assert_eq(cfg.threads, 8);
    cr_assert_eq(cfg.secrets.n, 2);
    cr_assert_str_eq(cfg.secrets.items[0], "a secret with # and spaces");
    cr_assert_str_eq(cfg.secrets.items[1], "=starts-with-equals");
    cr_assert(cfg.rfc5766_channels);
    cr_assert_eq(cfg.admin_listen.sa.sa_family, 0);
    cr_assert_eq(cfg.nonce_lifetime, 600);
}

Test(config, file_errors_name_file_and_line)
{
    const char *conf = write_file("bad.conf", "# comment\n"
                                              "realm=example.org\n"
                                              "\n"
                                              "threads = 1000\n");
    char want[256];
    cr_assert_eq(LOAD("--config", conf), -EINVAL);
    snprintf(want, sizeof(want), "blindrelay: %s:4: threads: must be between 0 and 256\n", conf);
    cr_assert_str_eq(err_text, want);

    conf = write_file("unknown.conf", "realm=x\nlistening-port=3478\n");
    cr_assert_eq(LOAD("--config", conf), -EINVAL);
    snprintf(want, sizeof(want),
             "blindrelay: %s:2: listening-port: unknown key; use listen ADDR:PORT\n", conf);
    cr_assert_str_eq(err_text, want);

    conf = write_file("bare.conf", "realm\n");
    cr_assert_eq(LOAD("--config", conf), -EINVAL);
    snprintf(want, sizeof(want), "blindrelay: %s:1: realm: missing value\n", conf);
    cr_assert_str_eq(err_text, want);

    /* Cross-key checks point at the key given last. */
    conf = write_file("life.conf", "max-lifetime=600\n\ndefault-lifetime=900\n");
    cr_assert_eq(LOAD("--config", conf), -EINVAL);
    snprintf(want, sizeof(want),
             "blindrelay: %s:3: default-lifetime: default-lifetime (900) must not exceed "
             "max-lifetime (600)\n",
             conf);
    cr_assert_str_eq(err_text, want);

    LOAD_ERR("blindrelay: --config: cannot read '/nonexistent/x.conf': No such file or directory",
             "--config", "/nonexistent/x.conf");
}

Test(config, flags_override_file)
{
    const char *conf = write_file("o.conf", "threads=4\n"
                                            "listen=192.0.2.1\n"
                                            "listen=192.0.2.2\n"
                                            "auth-secret=file-one\n"
                                            "auth-secret=file-two\n"
                                            "relay-ip=10.0.0.1\n"
                                            "relay-ports=50000-60000\n"
                                            "allow-peer=10.0.0.0/8\n");
    /* Flags before --config still come after the file. */
    LOAD_OK("--threads", "8", "--config", conf, "--listen", "192.0.2.3", "--auth-secret",
            "flag-one", "--relay-ip", "2001:db8::1");
    cr_assert_eq(cfg.threads, 8);
    cr_assert_eq(cfg.n_listen, 1);
    cr_assert_str_eq(fmt(&cfg.listen[0]), "192.0.2.3:3478");
    cr_assert_eq(cfg.secrets.n, 1);
    cr_assert_str_eq(cfg.secrets.items[0], "flag-one");
    cr_assert_eq(cfg.relay_ip4.sa.sa_family, 0);
    cr_assert_str_eq(fmt(&cfg.relay_ip6), "[2001:db8::1]:0");
    cr_assert_eq(cfg.relay_port_min, 50000);
    cr_assert_eq(cfg.allow_peer.n, 1);

    LOAD_ERR("blindrelay: --min-port: relay port range 61000-60000 is empty", "--config", conf,
             "--min-port", "61000");
}

Test(config, coturn_aliases)
{
    const char *conf = write_file("coturn.conf", "static-auth-secret=abc\n"
                                                 "relay-threads=3\n"
                                                 "max-allocate-lifetime=7200\n"
                                                 "stale-nonce=300\n"
                                                 "pkey=/etc/k.pem\n"
                                                 "cert=/etc/c.pem\n"
                                                 "min-port=40000\n"
                                                 "max-port=41000\n"
                                                 "denied-peer-ip=203.0.113.0-203.0.113.255\n");
    LOAD_OK("--config", conf);
    cr_assert_eq(cfg.secrets.n, 1);
    cr_assert_str_eq(cfg.secrets.items[0], "abc");
    cr_assert_eq(cfg.threads, 3);
    cr_assert_eq(cfg.max_lifetime, 7200);
    cr_assert_eq(cfg.nonce_lifetime, 300);
    cr_assert_str_eq(cfg.key, "/etc/k.pem");
    cr_assert_eq(cfg.relay_port_min, 40000);
    cr_assert_eq(cfg.relay_port_max, 41000);
    cr_assert_str_eq(cfg.deny_peer.items[0], "203.0.113.0/24");
    /* An alias and its key fill the same list; errors name what was written. */
    LOAD_OK("--static-auth-secret", "a", "--auth-secret", "b");
    cr_assert_eq(cfg.secrets.n, 2);
    LOAD_ERR("blindrelay: --relay-threads: must be between 0 and 256", "--relay-threads", "999");
    LOAD_OK("--stale-nonce");
    cr_assert_eq(cfg.nonce_lifetime, 600);
}

Test(config, auth_secret_file)
{
    const char *secrets = write_file("secrets", "# rotated 2026-01\n"
                                                "\n"
                                                "  new-secret  \r\n"
                                                "old-secret\n");
    char conf_text[256];
    snprintf(conf_text, sizeof(conf_text), "auth-secret=inline\nauth-secret-file=%s\n", secrets);
    const char *conf = write_file("s.conf", conf_text);
    LOAD_OK("--config", conf);
    cr_assert_eq(cfg.secrets.n, 3);
    cr_assert_str_eq(cfg.secrets.items[0], "inline");
    cr_assert_str_eq(cfg.secrets.items[1], "new-secret");
    cr_assert_str_eq(cfg.secrets.items[2], "old-secret");

    /* The flag replaces the file's secrets, from both keys. */
    LOAD_OK("--config", conf, "--auth-secret-file", secrets);
    cr_assert_eq(cfg.secrets.n, 2);
    cr_assert_str_eq(cfg.secrets.items[0], "new-secret");
}

Test(config, auth_secret_file_errors)
{
    char missing[128], want[512];
    snprintf(missing, sizeof(missing), "%s/missing", dir);
    const char *conf = write_file("m.conf", "realm=r\n");
    FILE *f = fopen(conf, "a");
    fprintf(f, "auth-secret-file = %s\n", missing);
    fclose(f);
    cr_assert_eq(LOAD("--config", conf), -EINVAL);
    snprintf(want, sizeof(want),
             "blindrelay: %s:2: auth-secret-file: cannot read '%s': No such file or directory\n",
             conf, missing);
    cr_assert_str_eq(err_text, want);

    const char *empty = write_file("empty", "# only a comment\n\n");
    cr_assert_eq(LOAD("--auth-secret-file", empty), -EINVAL);
    snprintf(want, sizeof(want), "blindrelay: --auth-secret-file: '%s' holds no secret\n", empty);
    cr_assert_str_eq(err_text, want);

    cr_assert_eq(LOAD("--auth-secret-file", dir), -EINVAL);
    snprintf(want, sizeof(want),
             "blindrelay: --auth-secret-file: cannot read '%s': Is a directory\n", dir);
    cr_assert_str_eq(err_text, want);

    char many[BR_MAX_LIST * 8 + 16] = "";
    for (int i = 0; i <= BR_MAX_LIST; i++) {
        snprintf(many + strlen(many), sizeof(many) - strlen(many), "s%d\n", i);
    }
    const char *big = write_file("big", many);
    LOAD_ERR("blindrelay: --auth-secret-file: too many values (at most 64)", "--auth-secret-file",
             big);
}

Test(config, help, .init = cr_redirect_stdout)
{
    cr_assert_eq(LOAD("--threads", "2", "--help"), 1);
    cr_assert_eq(LOAD("-h"), 1);
    /* "-h" as a value is a value. */
    LOAD_OK("--realm", "-h");

    char *text = NULL;
    size_t len;
    FILE *out = open_memstream(&text, &len);
    br_config_help(out);
    fclose(out);
    const char *expect[] = {"--listen ADDR[:PORT]",
                            "0.0.0.0:3478 [::]:3478",
                            "--tls-listen",
                            "--relay-ip IP",
                            "--external-ip IP",
                            "--relay-ports MIN-MAX",
                            "49152-65535",
                            "--realm TEXT",
                            "--auth-secret SECRET",
                            "--auth-secret-file FILE",
                            "--user NAME:PASSWORD",
                            "--allow-peer",
                            "--deny-peer",
                            "--threads N",
                            "--admin-listen",
                            "127.0.0.1:9641",
                            "--cert FILE",
                            "--key FILE",
                            "--default-lifetime",
                            "--max-lifetime",
                            "--nonce-lifetime",
                            "--total-quota N|auto",
                            "--user-quota N",
                            "--max-unauth-frame N",
                            "--max-permissions",
                            "--max-channels",
                            "--rfc5766-channels [BOOL]",
                            "--min-port",
                            "--max-port",
                            "static-auth-secret = auth-secret"};
    for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++) {
        cr_assert_not_null(strstr(text, expect[i]), "missing %s", expect[i]);
    }
    free(text);
}

Test(config, release_is_idempotent)
{
    LOAD_OK("--auth-secret", "s", "--user", "u:p", "--allow-peer", "10.0.0.0/8");
    br_config_release(&cfg);
    cr_assert_eq(cfg.secrets.n + cfg.users.n + cfg.allow_peer.n, 0);
    cr_assert_null(cfg.secrets.items[0]);
    br_config_release(&cfg);
}

/* ---- reload marks and the reload diff ---- */

/* Loads "blindrelay" + args into c (not the suite's cfg); asserts success. */
static void load_into(struct br_config *c, const char *const *args)
{
    char *argv[32], *text = NULL;
    size_t len;
    int argc = 0;

    argv[argc++] = "blindrelay";
    for (; *args; args++) {
        cr_assert_lt(argc, 31);
        argv[argc++] = (char *)*args;
    }
    argv[argc] = NULL;
    FILE *err = open_memstream(&text, &len);
    int rc = br_config_load(c, argc, argv, err);
    fclose(err);
    cr_assert_eq(rc, 0, "rc %d: %s", rc, text);
    free(text);
}

#define LOAD_INTO(c, ...) load_into(c, (const char *const[]){__VA_ARGS__, NULL})

static bool in_list(const char *name, const char *const *list)
{
    for (; *list; list++) {
        if (strcmp(name, *list) == 0) {
            return true;
        }
    }
    return false;
}

Test(config, every_key_marked_reload_or_restart)
{
    /* keys that bind sockets, size per-worker tables or start threads */
    const char *const restart[] = {"listen",       "tls-listen", "relay-ip", "external-ip",
                                   "relay-ports",  "min-port",   "max-port", "threads",
                                   "admin-listen", "tcp",        NULL};
    /* the eleven the reload used to ignore, and the limits of new things */
    const char *const reload[] = {"max-permissions",
                                  "max-channels",
                                  "max-bps",
                                  "unauth-rate",
                                  "unauth-rate-total",
                                  "rfc5766-channels",
                                  "handshake-timeout",
                                  "idle-timeout",
                                  "stream-buffer",
                                  "admin-token-file",
                                  "cert",
                                  "key",
                                  "total-quota",
                                  "user-quota",
                                  "default-lifetime",
                                  "max-lifetime",
                                  "nonce-lifetime",
                                  "max-connections",
                                  "max-connections-per-ip",
                                  "drain-timeout",
                                  "alternate-server",
                                  "realm",
                                  "auth-secret",
                                  "auth-secret-file",
                                  "user",
                                  "allow-peer",
                                  "deny-peer",
                                  NULL};
    size_t n;
    const struct br_key *keys = br_cfg_keys(&n);

    cr_assert_gt(n, 30);
    for (size_t i = 0; i < n; i++) {
        cr_assert(keys[i].reload == BR_RELOAD_APPLY || keys[i].reload == BR_RELOAD_RESTART,
                  "%s has no reload mark", keys[i].name);
        if (in_list(keys[i].name, restart)) {
            cr_assert_eq(keys[i].reload, BR_RELOAD_RESTART, "%s", keys[i].name);
        }
        if (in_list(keys[i].name, reload)) {
            cr_assert_eq(keys[i].reload, BR_RELOAD_APPLY, "%s", keys[i].name);
        }
        /* keys sharing a field (min-port and relay-ports) must agree */
        for (size_t j = 0; j < i; j++) {
            if (br_cfg_shares_field(&keys[j], &keys[i])) {
                cr_assert_eq(keys[j].reload, keys[i].reload, "%s and %s", keys[j].name,
                             keys[i].name);
            }
        }
    }
}

/* Each line of relay/settings.h is a row of the table, of its kind, applied
 * at a reload, and its default lands in its field. */
Test(config, settings_keys_are_rows)
{
#define SETTING_NAME(kind, field, name, def, min, max, help) name,
    const char *const names[] = {RELAY_SETTINGS_KEYS(SETTING_NAME) NULL};
#undef SETTING_NAME
    size_t n, found = 0;
    const struct br_key *keys = br_cfg_keys(&n);
    char text[16];

    for (size_t i = 0; i < n; i++) {
        if (in_list(keys[i].name, names)) {
            cr_assert_eq(keys[i].reload, BR_RELOAD_APPLY, "%s", keys[i].name);
            cr_assert(keys[i].type == BR_T_UINT || keys[i].type == BR_T_BOOL, "%s", keys[i].name);
            found++;
        }
    }
    cr_assert_eq(found, sizeof(names) / sizeof(names[0]) - 1);
    cr_assert_eq(LOAD_NONE(), 0);
#define SETTING_DEFAULT(kind, field, name, def, min, max, help)                                    \
    snprintf(text, sizeof(text), "%u", (unsigned)cfg.field);                                       \
    cr_assert_str_eq(text,                                                                         \
                     strcmp(def, "true") == 0    ? "1"                                             \
                     : strcmp(def, "false") == 0 ? "0"                                             \
                                                 : def,                                            \
                     "%s", name);
    RELAY_SETTINGS_KEYS(SETTING_DEFAULT)
#undef SETTING_DEFAULT
}

Test(config, print_keys, .init = cr_redirect_stdout)
{
    cr_assert_eq(LOAD("--threads", "2", "--print-keys"), 1);

    char *text = NULL, *save = NULL;
    size_t len, n, lines = 0;
    const struct br_key *keys = br_cfg_keys(&n);
    FILE *out = open_memstream(&text, &len);
    br_config_print_keys(out);
    fclose(out);
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char name[64], def[64], mark[16], form[32], range[32];
        cr_assert_eq(sscanf(line, "%63[^\t]\t%63[^\t]\t%15[^\t]\t%31[^\t]\t%31s", name, def, mark,
                            form, range),
                     5, "%s", line);
        cr_assert_lt(lines, n);
        cr_assert_str_eq(name, keys[lines].name);
        cr_assert_str_eq(mark, keys[lines].reload == BR_RELOAD_APPLY ? "reload" : "restart");
        cr_assert_str_eq(form, br_cfg_metavar(&keys[lines]), "%s", name);
        lines++;
    }
    cr_assert_eq(lines, n);
    free(text);
    text = NULL;
    out = open_memstream(&text, &len);
    br_config_print_keys(out);
    fclose(out);
    cr_assert_not_null(strstr(text, "listen\t0.0.0.0:3478 [::]:3478\trestart\tADDR[:PORT]\t-\n"));
    cr_assert_not_null(strstr(text, "\nmax-permissions\t32\treload\tN\t1-16384\n"));
    cr_assert_not_null(strstr(text, "\nrelay-ports\t49152-65535\trestart\tMIN-MAX\t1024-65535\n"));
    cr_assert_not_null(strstr(text, "\nrfc5766-channels\ttrue\treload\t[BOOL]\t-\n"));
    cr_assert_not_null(strstr(text, "\ntotal-quota\tauto\treload\tN|auto\t0-4294967295\n"));
    cr_assert_not_null(strstr(text, "\ncert\tnone\treload\tFILE\t-\n"));
    free(text);
}

/* A value for k that differs from its default and passes validation. */
static const char *other_value(const struct br_key *k, char *buf, size_t size)
{
    uint32_t def;

    switch (k->type) {
    case BR_T_ADDRS:
        return "127.0.0.9:4000";
    case BR_T_IP:
        return "192.0.2.7";
    case BR_T_PORTS:
        return "50000-50100";
    case BR_T_PORT:
        return strcmp(k->name, "max-port") == 0 ? "60000" : "50000";
    case BR_T_REALM:
        return "other.realm";
    case BR_T_SECRET:
        return "s3cret";
    case BR_T_SECRET_FILE:
        return write_file("reload-secrets", "file-secret\n");
    case BR_T_USER:
        return "u:p";
    case BR_T_CIDR:
        return "198.51.100.0/24";
    case BR_T_UINT:
        if (strcmp(k->def, "auto") == 0) {
            return "5";
        }
        cr_assert_eq(br_cfg_parse_u32(k->def, &def), 0, "%s", k->name);
        snprintf(buf, size, "%u", def < k->max ? def + 1 : def - 1);
        return buf;
    case BR_T_BOOL:
        return strcmp(k->def, "true") == 0 ? "false" : "true";
    case BR_T_PATH:
        return "/nonexistent/file";
    case BR_T_ADMIN:
        return "127.0.0.1:9700";
    }
    return NULL;
}

/* Changing any one key (but tls-listen, which needs cert and key) names
 * exactly that key (or the first key of its field) under its own mark and
 * nothing under the other. */
Test(config, changed_names_each_key_under_its_mark)
{
    struct br_config base, mod;
    size_t n;
    const struct br_key *keys = br_cfg_keys(&n);

    LOAD_INTO(&base, "--threads", "0");
    for (size_t i = 0; i < n; i++) {
        char flag[80], buf[32];
        const char *names[8], *expect = keys[i].name;
        enum br_reload other =
            keys[i].reload == BR_RELOAD_APPLY ? BR_RELOAD_RESTART : BR_RELOAD_APPLY;

        if (strcmp(keys[i].name, "tls-listen") == 0) {
            continue;
        }
        for (size_t j = 0; j < i; j++) {
            if (br_cfg_shares_field(&keys[j], &keys[i])) {
                expect = keys[j].name;
                break;
            }
        }
        snprintf(flag, sizeof(flag), "--%s", keys[i].name);
        LOAD_INTO(&mod, flag, other_value(&keys[i], buf, sizeof(buf)));
        size_t got = br_config_changed(&base, &mod, keys[i].reload, names, 8);
        cr_assert_eq(got, 1, "%s: %zu changed, first %s", keys[i].name, got, got ? names[0] : "-");
        cr_assert_str_eq(names[0], expect);
        cr_assert_eq(br_config_changed(&base, &mod, other, names, 8), 0, "%s: %s", keys[i].name,
                     names[0]);
        br_config_release(&mod);
    }
    br_config_release(&base);
}

Test(config, changed_names_exactly_the_changed_restart_keys)
{
    struct br_config a, b;
    const char *names[16];

    LOAD_INTO(&a, "--listen", "127.0.0.1:3478", "--threads", "2", "--max-permissions", "8",
              "--auth-secret", "one");
    LOAD_INTO(&b, "--listen", "127.0.0.1:3478", "--threads", "2", "--max-permissions", "8",
              "--auth-secret", "one");
    cr_assert_eq(br_config_changed(&a, &b, BR_RELOAD_RESTART, names, 16), 0);
    cr_assert_eq(br_config_changed(&a, &b, BR_RELOAD_APPLY, names, 16), 0);
    br_config_release(&b);

    LOAD_INTO(&b, "--listen", "127.0.0.1:3479", "--threads", "3", "--max-permissions", "4",
              "--auth-secret", "two", "--min-port", "50000", "--tls-listen", "127.0.0.1:5349",
              "--cert", "/c.pem", "--key", "/k.pem", "--idle-timeout", "5");
    cr_assert_eq(br_config_changed(&a, &b, BR_RELOAD_RESTART, names, 16), 4);
    cr_assert_str_eq(names[0], "listen");
    cr_assert_str_eq(names[1], "tls-listen");
    cr_assert_str_eq(names[2], "relay-ports");
    cr_assert_str_eq(names[3], "threads");
    cr_assert_eq(br_config_changed(&a, &b, BR_RELOAD_APPLY, names, 16), 5);
    cr_assert_str_eq(names[0], "auth-secret");
    cr_assert_str_eq(names[1], "cert");
    cr_assert_str_eq(names[2], "key");
    cr_assert_str_eq(names[3], "max-permissions");
    cr_assert_str_eq(names[4], "idle-timeout");
    /* names past max are counted, not written */
    cr_assert_eq(br_config_changed(&a, &b, BR_RELOAD_RESTART, names, 1), 4);
    br_config_release(&a);
    br_config_release(&b);
}
