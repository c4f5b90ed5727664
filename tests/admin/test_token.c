/* Tests for admin/token.c: the bearer token file and its check. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "admin/token.h"

static char path[] = "/tmp/br-test-token.XXXXXX";
static char err[256];

static void write_file(const char *content)
{
    int fd = mkstemp(path);
    FILE *f;

    cr_assert_geq(fd, 0);
    f = fdopen(fd, "w");
    fputs(content, f);
    fclose(f);
}

static void cleanup(void)
{
    unlink(path);
    strcpy(path, "/tmp/br-test-token.XXXXXX");
}

TestSuite(token, .fini = cleanup);

Test(token, none_lets_everything_through)
{
    struct admin_token t;

    cr_assert_eq(admin_token_load(&t, NULL, err, sizeof(err)), 0);
    cr_assert(admin_token_check(&t, NULL));
    cr_assert_eq(admin_token_load(&t, "", err, sizeof(err)), 0);
    cr_assert(admin_token_check(&t, "Bearer anything"));
}

Test(token, checks_the_bearer_value)
{
    struct admin_token t;

    write_file("s3cr3t-Token_value\n");
    cr_assert_eq(admin_token_load(&t, path, err, sizeof(err)), 0, "%s", err);
    cr_assert(admin_token_check(&t, "Bearer s3cr3t-Token_value"));
    cr_assert(admin_token_check(&t, "bearer s3cr3t-Token_value"));
    cr_assert_not(admin_token_check(&t, NULL));
    cr_assert_not(admin_token_check(&t, ""));
    cr_assert_not(admin_token_check(&t, "s3cr3t-Token_value"));
    cr_assert_not(admin_token_check(&t, "Basic s3cr3t-Token_value"));
    cr_assert_not(admin_token_check(&t, "Bearer s3cr3t-Token_valu"));
    cr_assert_not(admin_token_check(&t, "Bearer s3cr3t-Token_valuex"));
    cr_assert_not(admin_token_check(&t, "Bearer s3cr3t-Token_valuE"));
    cr_assert_not(admin_token_check(&t, "Bearer "));
    admin_token_clear(&t);
    cr_assert_eq(t.len, 0);
}

Test(token, bad_files_name_the_key)
{
    struct admin_token t;

    cr_assert_eq(admin_token_load(&t, "/nonexistent/token", err, sizeof(err)), -ENOENT);
    cr_assert(strstr(err, "admin-token-file"));
    write_file("\n\n");
    cr_assert_eq(admin_token_load(&t, path, err, sizeof(err)), -EINVAL);
    cr_assert(strstr(err, "admin-token-file"));
    cleanup();
    write_file("two words\n");
    cr_assert_eq(admin_token_load(&t, path, err, sizeof(err)), -EINVAL);
    cr_assert_null(strstr(err, "two words"), "the token is never printed");
}
