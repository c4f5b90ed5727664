/* The bearer token of the admin endpoint (RFC 6750 2.1), read from a file
 * and compared in constant time. */
#include "admin/token.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

int admin_token_load(struct admin_token *t, const char *path, char *err, size_t err_len)
{
    char buf[ADMIN_TOKEN_MAX + 2];
    size_t n;
    FILE *f;
    int rc = 0;

    memset(t, 0, sizeof(*t));
    if (!path || !*path) {
        return 0;
    }
    f = fopen(path, "re");
    if (!f) {
        rc = -errno;
        snprintf(err, err_len, "admin-token-file: cannot read '%s': %s", path, strerror(-rc));
        return rc;
    }
    n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    while (n > 0 &&
           (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ' || buf[n - 1] == '\t')) {
        n--;
    }
    if (n == 0 || n > ADMIN_TOKEN_MAX - 1) {
        snprintf(err, err_len, "admin-token-file: '%s' must hold a token of 1 to %d bytes", path,
                 ADMIN_TOKEN_MAX - 1);
        rc = -EINVAL;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        if (buf[i] <= ' ' || buf[i] > '~') {
            snprintf(err, err_len,
                     "admin-token-file: '%s': the token must be printable ASCII without spaces",
                     path);
            rc = -EINVAL;
            goto out;
        }
    }
    memcpy(t->value, buf, n);
    t->len = n;
out:
    explicit_bzero(buf, sizeof(buf));
    return rc;
}

bool admin_token_check(const struct admin_token *t, const char *authorization)
{
    static const char scheme[] = "Bearer ";
    const char *given;
    size_t n;
    uint8_t diff;

    if (t->len == 0) {
        return true;
    }
    if (!authorization || strncasecmp(authorization, scheme, sizeof(scheme) - 1) != 0) {
        return false;
    }
    given = authorization + sizeof(scheme) - 1;
    n = strnlen(given, ADMIN_TOKEN_MAX);
    /* Only the length can show in the timing; every byte of the token is
     * read whatever the given value. */
    diff = n != t->len;
    for (size_t i = 0; i < t->len; i++) {
        diff |= (uint8_t)(t->value[i] ^ (i < n ? given[i] : 0));
    }
    return diff == 0;
}

void admin_token_clear(struct admin_token *t)
{
    explicit_bzero(t, sizeof(*t));
}
