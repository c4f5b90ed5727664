/* TLS for TURN over TLS (RFC 8656 3.1, RFC 7443 ALPN "stun.turn"): one
 * server context built from the certificate chain and key files, shared by
 * all workers, replaced whole on reload so that established connections
 * keep the context they started with. */
#ifndef RELAY_TLS_H
#define RELAY_TLS_H

#include <stddef.h>

#include <openssl/ssl.h>

struct tls_store;

/* Loads cert (PEM chain) and key (PEM). On failure returns a negative
 * errno and writes the reason (naming the key and file) into err. */
int tls_store_new(struct tls_store **out, const char *cert, const char *key, char *err,
                  size_t err_len);
void tls_store_free(struct tls_store *store);

/* Builds a new context from cert and key (NULL: the files loaded last) and
 * swaps it in for new connections; the files become the ones loaded last.
 * On failure the old context and files stay and err says why. */
int tls_store_reload(struct tls_store *store, const char *cert, const char *key, char *err,
                     size_t err_len);

/* A new server-side SSL object from the current context, or NULL. */
SSL *tls_store_new_ssl(struct tls_store *store);

#endif
