/* TLS server contexts: TLS 1.2 and 1.3, forward-secret AEAD suites only,
 * ALPN "stun.turn" when the client offers it. */
#include "tls.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

/* TLS 1.2 suites; TLS 1.3 suites are OpenSSL's defaults, all AEAD. */
#define TLS12_CIPHERS "ECDHE+AESGCM:ECDHE+CHACHA20"

struct tls_store {
    pthread_mutex_t lock;
    SSL_CTX *ctx;
    char *cert, *key;
};

static const unsigned char alpn_turn[] = {9, 's', 't', 'u', 'n', '.', 't', 'u', 'r', 'n'};

/* Chooses "stun.turn" when offered; a client offering only other
 * protocols proceeds without ALPN rather than failing. */
static int alpn_cb(SSL *ssl, const unsigned char **out, unsigned char *out_len,
                   const unsigned char *in, unsigned in_len, void *arg)
{
    unsigned char *sel;

    if (SSL_select_next_proto(&sel, out_len, alpn_turn, sizeof(alpn_turn), in, in_len) ==
        OPENSSL_NPN_NEGOTIATED) {
        *out = sel;
        return SSL_TLSEXT_ERR_OK;
    }
    return SSL_TLSEXT_ERR_NOACK;
}

static void openssl_reason(char *buf, size_t len)
{
    unsigned long e = ERR_peek_last_error();

    if (e) {
        ERR_error_string_n(e, buf, len);
    } else {
        snprintf(buf, len, "unknown error");
    }
    ERR_clear_error();
}

static SSL_CTX *build_ctx(const char *cert, const char *key, char *err, size_t err_len)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    char why[256];

    if (!ctx) {
        snprintf(err, err_len, "cert: cannot create a TLS context");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                                 SSL_OP_NO_COMPRESSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_alpn_select_cb(ctx, alpn_cb, NULL);
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
        openssl_reason(why, sizeof(why));
        snprintf(err, err_len, "cert: cannot load '%s': %s", cert, why);
    } else if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
        openssl_reason(why, sizeof(why));
        snprintf(err, err_len, "key: cannot load '%s': %s", key, why);
    } else if (SSL_CTX_check_private_key(ctx) != 1) {
        openssl_reason(why, sizeof(why));
        snprintf(err, err_len, "key: '%s' does not match the certificate '%s': %s", key, cert, why);
    } else {
        return ctx;
    }
    SSL_CTX_free(ctx);
    return NULL;
}

int tls_store_new(struct tls_store **out, const char *cert, const char *key, char *err,
                  size_t err_len)
{
    struct tls_store *s = calloc(1, sizeof(*s));

    if (!s || !(s->cert = strdup(cert)) || !(s->key = strdup(key))) {
        tls_store_free(s);
        snprintf(err, err_len, "cert: out of memory");
        return -ENOMEM;
    }
    pthread_mutex_init(&s->lock, NULL);
    s->ctx = build_ctx(cert, key, err, err_len);
    if (!s->ctx) {
        tls_store_free(s);
        return -EINVAL;
    }
    *out = s;
    return 0;
}

void tls_store_free(struct tls_store *store)
{
    if (!store) {
        return;
    }
    SSL_CTX_free(store->ctx);
    pthread_mutex_destroy(&store->lock);
    free(store->cert);
    free(store->key);
    free(store);
}

int tls_store_reload(struct tls_store *store, const char *cert, const char *key, char *err,
                     size_t err_len)
{
    SSL_CTX *ctx, *old;
    char *new_cert = strdup(cert ? cert : store->cert), *new_key = strdup(key ? key : store->key);

    if (!new_cert || !new_key) {
        free(new_cert);
        free(new_key);
        snprintf(err, err_len, "cert: out of memory");
        return -ENOMEM;
    }
    if (!(ctx = build_ctx(new_cert, new_key, err, err_len))) {
        free(new_cert);
        free(new_key);
        return -EINVAL;
    }
    /* only the reloading thread reads the paths */
    free(store->cert);
    free(store->key);
    store->cert = new_cert;
    store->key = new_key;
    pthread_mutex_lock(&store->lock);
    old = store->ctx;
    store->ctx = ctx;
    pthread_mutex_unlock(&store->lock);
    SSL_CTX_free(old); /* live connections hold their own reference */
    return 0;
}

SSL *tls_store_new_ssl(struct tls_store *store)
{
    SSL *ssl;

    pthread_mutex_lock(&store->lock);
    ssl = SSL_new(store->ctx);
    pthread_mutex_unlock(&store->lock);
    return ssl;
}
