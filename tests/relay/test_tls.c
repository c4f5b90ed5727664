/* Tests for relay/tls: the TLS store loads a certificate chain and key
 * (errors name the key, the file and the reason), hands out SSL objects
 * that complete a handshake (TLS 1.2 and 1.3, AEAD suites only, ALPN
 * "stun.turn" when offered, no failure when only other protocols are),
 * and a reload swaps the context for new connections only, keeping the
 * old one when the new files do not load. Certificates are made here;
 * handshakes run over an in-memory BIO pair. */
#include <criterion/criterion.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "relay/tls.h"

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/lsan_interface.h>
#endif

static char dir[64];
static char cert1[128], key1[128], cert2[128], key2[128];
static struct tls_store *store;
static SSL_CTX *client_ctx;
static char err[512];

/* Writes a self-signed P-256 certificate with common name cn, and its key. */
static void make_cert(const char *cn, const char *cert_path, const char *key_path)
{
    EVP_PKEY *pkey = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    X509_NAME *name;
    FILE *f;

    cr_assert_not_null(pkey);
    cr_assert_not_null(x);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, pkey);
    name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, name);
    cr_assert_gt(X509_sign(x, pkey, EVP_sha256()), 0);
    cr_assert_not_null(f = fopen(cert_path, "w"));
    cr_assert_eq(PEM_write_X509(f, x), 1);
    fclose(f);
    cr_assert_not_null(f = fopen(key_path, "w"));
    cr_assert_eq(PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL), 1);
    fclose(f);
    X509_free(x);
    EVP_PKEY_free(pkey);
}

static void setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/br-tls-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(cert1, sizeof(cert1), "%s/one.crt", dir);
    snprintf(key1, sizeof(key1), "%s/one.key", dir);
    snprintf(cert2, sizeof(cert2), "%s/two.crt", dir);
    snprintf(key2, sizeof(key2), "%s/two.key", dir);
    make_cert("one", cert1, key1);
    make_cert("two", cert2, key2);
    client_ctx = SSL_CTX_new(TLS_client_method());
    cr_assert_not_null(client_ctx);
    err[0] = '\0';
}

static void teardown(void)
{
    const char *files[] = {cert1, key1, cert2, key2};

    tls_store_free(store);
    store = NULL;
    SSL_CTX_free(client_ctx);
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        unlink(files[i]);
    }
    rmdir(dir);
}

TestSuite(tls, .init = setup, .fini = teardown);

/* Runs the handshake between a new client SSL (set up by the caller
 * through *client) and server over a BIO pair. Returns 1 when both sides
 * finished, 0 when one failed. */
static int handshake(SSL *client, SSL *server)
{
    BIO *bc, *bs;

    cr_assert_eq(BIO_new_bio_pair(&bc, 0, &bs, 0), 1);
    SSL_set_bio(client, bc, bc);
    SSL_set_bio(server, bs, bs);
    SSL_set_connect_state(client);
    SSL_set_accept_state(server);
    for (int round = 0; round < 20; round++) {
        int rc = SSL_do_handshake(client), rs = SSL_do_handshake(server);
        if (rc == 1 && rs == 1) {
            return 1;
        }
        int ec = rc == 1 ? SSL_ERROR_NONE : SSL_get_error(client, rc);
        int es = rs == 1 ? SSL_ERROR_NONE : SSL_get_error(server, rs);
        if ((ec != SSL_ERROR_NONE && ec != SSL_ERROR_WANT_READ && ec != SSL_ERROR_WANT_WRITE) ||
            (es != SSL_ERROR_NONE && es != SSL_ERROR_WANT_READ && es != SSL_ERROR_WANT_WRITE)) {
            ERR_clear_error();
            return 0;
        }
    }
    return 0;
}

/* The common name of the certificate the client was shown. */
static const char *peer_cn(SSL *client, char *buf, size_t len)
{
    X509 *x = SSL_get1_peer_certificate(client);

    cr_assert_not_null(x, "no certificate");
    X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, buf, (int)len);
    X509_free(x);
    return buf;
}

/* Frees the store and checks that nothing leaked: a context a reload
 * replaced must go once its connections have. (Criterion passes a test
 * whatever LeakSanitizer reports at exit, and ignores asserts in .fini.) */
static void free_store_without_leaks(void)
{
    tls_store_free(store);
    store = NULL;
#ifdef __SANITIZE_ADDRESS__
    cr_assert_eq(__lsan_do_recoverable_leak_check(), 0, "memory leaked (report above)");
#endif
}

static void new_store(const char *cert, const char *key)
{
    int rc = tls_store_new(&store, cert, key, err, sizeof(err));
    cr_assert_eq(rc, 0, "%s", err);
}

/* One handshake with a new server SSL; returns the certificate's CN. */
static const char *connect_cn(char *cn, size_t len)
{
    SSL *s = tls_store_new_ssl(store), *c = SSL_new(client_ctx);

    cr_assert_not_null(s);
    cr_assert_not_null(c);
    cr_assert_eq(handshake(c, s), 1, "handshake");
    peer_cn(c, cn, len);
    SSL_free(c);
    SSL_free(s);
    return cn;
}

Test(tls, loads_and_serves_the_certificate)
{
    char cn[64];

    new_store(cert1, key1);
    cr_assert_str_eq(connect_cn(cn, sizeof(cn)), "one");
    free_store_without_leaks();
}

Test(tls, new_ssl_is_tls12_or_later_without_renegotiation_or_compression)
{
    SSL *s;

    new_store(cert1, key1);
    s = tls_store_new_ssl(store);
    cr_assert_not_null(s);
    cr_assert_eq(SSL_get_min_proto_version(s), TLS1_2_VERSION);
    cr_assert(SSL_get_options(s) & SSL_OP_NO_RENEGOTIATION);
    cr_assert(SSL_get_options(s) & SSL_OP_NO_COMPRESSION);
    SSL_free(s);
}

static void expect_prefix(const char *prefix)
{
    cr_assert_eq(strncmp(err, prefix, strlen(prefix)), 0, "error '%s' does not start with '%s'",
                 err, prefix);
}

Test(tls, missing_cert_names_the_key_and_file)
{
    char want[256], missing[160];

    snprintf(missing, sizeof(missing), "%s/nope.crt", dir);
    cr_assert_eq(tls_store_new(&store, missing, key1, err, sizeof(err)), -EINVAL);
    cr_assert_null(store);
    snprintf(want, sizeof(want), "cert: cannot load '%s': ", missing);
    expect_prefix(want);
    cr_assert_gt(strlen(err), strlen(want), "and the reason");
}

Test(tls, unreadable_key_names_the_key_and_file)
{
    char want[256];

    /* a certificate is not a private key */
    cr_assert_eq(tls_store_new(&store, cert1, cert2, err, sizeof(err)), -EINVAL);
    snprintf(want, sizeof(want), "key: cannot load '%s': ", cert2);
    expect_prefix(want);
}

/* OpenSSL checks the pair when it loads the key, so a key of another
 * certificate fails there, with OpenSSL's reason. */
Test(tls, mismatched_key_names_the_key_file_and_why)
{
    char want[256];

    cr_assert_eq(tls_store_new(&store, cert1, key2, err, sizeof(err)), -EINVAL);
    snprintf(want, sizeof(want), "key: cannot load '%s': ", key2);
    expect_prefix(want);
    cr_assert_not_null(strstr(err, "mismatch"), "the reason: %s", err);
}

static const unsigned char alpn_turn[] = {9, 's', 't', 'u', 'n', '.', 't', 'u', 'r', 'n'};
static const unsigned char alpn_h2_turn[] = {2,   'h', '2', 9,   's', 't', 'u',
                                             'n', '.', 't', 'u', 'r', 'n'};
static const unsigned char alpn_h2[] = {2, 'h', '2'};

/* The protocol ALPN settled on when the client offered protos ("" for
 * none). */
static void alpn_outcome(const unsigned char *protos, unsigned len, char *out, size_t out_len)
{
    SSL *s = tls_store_new_ssl(store), *c = SSL_new(client_ctx);
    const unsigned char *sel;
    unsigned sel_len;

    cr_assert_eq(SSL_set_alpn_protos(c, protos, len), 0);
    cr_assert_eq(handshake(c, s), 1, "the handshake succeeds");
    SSL_get0_alpn_selected(c, &sel, &sel_len);
    snprintf(out, out_len, "%.*s", (int)sel_len, sel ? (const char *)sel : "");
    SSL_free(c);
    SSL_free(s);
}

Test(tls, alpn_chooses_stun_turn)
{
    char proto[32];

    new_store(cert1, key1);
    alpn_outcome(alpn_turn, sizeof(alpn_turn), proto, sizeof(proto));
    cr_assert_str_eq(proto, "stun.turn");
    alpn_outcome(alpn_h2_turn, sizeof(alpn_h2_turn), proto, sizeof(proto));
    cr_assert_str_eq(proto, "stun.turn", "among others");
}

Test(tls, alpn_without_stun_turn_proceeds_without_alpn)
{
    char proto[32];

    new_store(cert1, key1);
    alpn_outcome(alpn_h2, sizeof(alpn_h2), proto, sizeof(proto));
    cr_assert_str_eq(proto, "");
}

/* TLS 1.2 offers forward-secret AEAD suites only: a client limited to a
 * CBC suite fails, the same client with GCM succeeds. */
Test(tls, tls12_aead_suites_only)
{
    SSL *s, *c;

    new_store(cert1, key1);
    cr_assert_eq(SSL_CTX_set_max_proto_version(client_ctx, TLS1_2_VERSION), 1);

    cr_assert_eq(SSL_CTX_set_cipher_list(client_ctx, "ECDHE-ECDSA-AES128-SHA"), 1);
    s = tls_store_new_ssl(store);
    c = SSL_new(client_ctx);
    cr_assert_eq(handshake(c, s), 0, "a CBC suite is refused");
    SSL_free(c);
    SSL_free(s);

    cr_assert_eq(SSL_CTX_set_cipher_list(client_ctx, "ECDHE-ECDSA-AES128-GCM-SHA256"), 1);
    s = tls_store_new_ssl(store);
    c = SSL_new(client_ctx);
    cr_assert_eq(handshake(c, s), 1, "an ECDHE AEAD suite is taken");
    cr_assert_eq(SSL_version(c), TLS1_2_VERSION);
    SSL_free(c);
    SSL_free(s);
}

Test(tls, tls13_by_default)
{
    SSL *s, *c;

    new_store(cert1, key1);
    s = tls_store_new_ssl(store);
    c = SSL_new(client_ctx);
    cr_assert_eq(handshake(c, s), 1);
    cr_assert_eq(SSL_version(c), TLS1_3_VERSION);
    SSL_free(c);
    SSL_free(s);
}

/* A reload serves new connections with the new certificate; a server SSL
 * made before it keeps the old context and still completes its
 * handshake (the old context lives as long as its connections). */
Test(tls, reload_swaps_for_new_connections_only)
{
    char cn[64];
    SSL *before, *c;

    new_store(cert1, key1);
    before = tls_store_new_ssl(store);
    cr_assert_not_null(before);
    cr_assert_eq(tls_store_reload(store, cert2, key2, err, sizeof(err)), 0, "%s", err);
    cr_assert_str_eq(connect_cn(cn, sizeof(cn)), "two");

    c = SSL_new(client_ctx);
    cr_assert_eq(handshake(c, before), 1, "a connection accepted before the reload");
    cr_assert_str_eq(peer_cn(c, cn, sizeof(cn)), "one");
    SSL_free(c);
    SSL_free(before);
    free_store_without_leaks();
}

/* A reload that fails keeps the running context and the files loaded
 * last; reloading with NULL reads those files again, so a certificate
 * rotated in place is picked up. */
Test(tls, failed_reload_keeps_the_old_context_and_files)
{
    char cn[64], missing[160], want[256];

    new_store(cert1, key1);
    snprintf(missing, sizeof(missing), "%s/nope.crt", dir);
    cr_assert_eq(tls_store_reload(store, missing, key1, err, sizeof(err)), -EINVAL);
    snprintf(want, sizeof(want), "cert: cannot load '%s': ", missing);
    expect_prefix(want);
    cr_assert_str_eq(connect_cn(cn, sizeof(cn)), "one");

    cr_assert_eq(tls_store_reload(store, cert1, key2, err, sizeof(err)), -EINVAL);
    cr_assert_str_eq(connect_cn(cn, sizeof(cn)), "one", "a mismatched pair is not taken");

    /* rotate in place: the files loaded last (one.*) now hold "three" */
    make_cert("three", cert1, key1);
    cr_assert_str_eq(connect_cn(cn, sizeof(cn)), "one", "nothing is read before the reload");
    cr_assert_eq(tls_store_reload(store, NULL, NULL, err, sizeof(err)), 0, "%s", err);
    cr_assert_str_eq(connect_cn(cn, sizeof(cn)), "three");
    free_store_without_leaks();
}

Test(tls, reload_with_null_after_a_successful_change_reads_the_new_files)
{
    char cn[64];

    new_store(cert1, key1);
    cr_assert_eq(tls_store_reload(store, cert2, key2, err, sizeof(err)), 0, "%s", err);
    make_cert("four", cert2, key2);
    cr_assert_eq(tls_store_reload(store, NULL, NULL, err, sizeof(err)), 0, "%s", err);
    cr_assert_str_eq(connect_cn(cn, sizeof(cn)), "four", "two.* were the files loaded last");
    free_store_without_leaks();
}
