/* Private to admin/: the optional bearer token that /metrics asks for. */
#ifndef ADMIN_TOKEN_H
#define ADMIN_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

#define ADMIN_TOKEN_MAX 256

struct admin_token {
    char value[ADMIN_TOKEN_MAX];
    size_t len; /* 0: no token, every request passes */
};

/* Reads the token from path (NULL or "": none): the file's content with
 * trailing whitespace removed, printable ASCII without spaces. Returns 0, or
 * a negative errno with a reason naming admin-token-file in err. */
int admin_token_load(struct admin_token *t, const char *path, char *err, size_t err_len);

/* True when there is no token, or authorization is "Bearer <token>"
 * (the scheme in any case). Constant time in the token's bytes. */
bool admin_token_check(const struct admin_token *t, const char *authorization);

/* Wipes the token. */
void admin_token_clear(struct admin_token *t);

#endif
