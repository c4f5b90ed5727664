/* turnclient: the client side of TURN (RFC 8656) with long-term credentials
 * (RFC 8489 9.2), shared by br-testclient, blindrelay-bench and the operator
 * tools: TURN REST credential minting, requests with MESSAGE-INTEGRITY(-SHA256)
 * and FINGERPRINT built with turn/'s codec, the answer to a challenge, and
 * matching responses. Sans-I/O: no sockets, no libevent, no libsrtp2.
 * Stream framing and ChannelData headers are turn/frame.h. */
#ifndef TURNCLIENT_H
#define TURNCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "turn/addr.h"
#include "turn/auth.h"
#include "turn/stun_msg.h"

#define TCL_STR 256
#define TCL_NONCE_MAX 128

/* One user's credentials and what the server's challenges taught about
 * them: shared by every 5-tuple of that user. Value struct; clear it with
 * tcl_cred_clear. */
struct tcl_cred {
    char user[TCL_STR];
    char password[TCL_STR];
    char realm[TCL_STR]; /* "" until a challenge brings one */
    bool sha256;         /* PASSWORD-ALGORITHM SHA256 and MESSAGE-INTEGRITY-SHA256 */
    uint8_t key[TURN_AUTH_MAX_KEY];
    size_t key_len;      /* 0 until a challenge brings a realm */
    uint8_t pw_algs[64]; /* the server's PASSWORD-ALGORITHMS, echoed (RFC 8489 9.2.5) */
    size_t pw_algs_len;
};

/* The server's nonce for one 5-tuple. */
struct tcl_nonce {
    uint8_t len; /* 0: not challenged yet, requests go without credentials */
    char val[TCL_NONCE_MAX];
};

/* A request and its attributes besides the credentials. */
struct tcl_req {
    const uint8_t *tid; /* STUN_TID_LEN bytes: the same on a retransmission */
    uint16_t method;
    int transport; /* REQUESTED-TRANSPORT protocol (17 UDP), -1 to omit */
    bool has_lifetime;
    uint32_t lifetime;
    const union turn_addr *peer; /* XOR-PEER-ADDRESS, or NULL */
    uint16_t channel;            /* CHANNEL-NUMBER when nonzero */
};

/* --- tcl_cred.c --- */

/* A static user. Returns 0 or -EINVAL when a string does not fit. */
int tcl_cred_static(struct tcl_cred *c, const char *user, const char *password, bool sha256);
/* TURN REST credentials (the scheme of draft-uberti-behave-turn-rest):
 * username "<expiry>:<id>", password base64(HMAC-SHA1(secret, username)).
 * expiry: unix time. Returns 0 or -EINVAL when the username does not fit. */
int tcl_cred_rest(struct tcl_cred *c, const char *secret, const char *id, long long expiry,
                  bool sha256);
/* Cleanses the password and the key. */
void tcl_cred_clear(struct tcl_cred *c);
/* Learns from a 401 or 438 (RFC 8489 9.2.5): its NONCE into n, its REALM
 * and PASSWORD-ALGORITHMS into c, and derives the key when the realm is new.
 * Returns 0, -EPROTO when the challenge is unusable (no NONCE, an empty one
 * or one too long, no REALM and none known), or -ENOTSUP when SHA-256 is wanted but
 * not offered. */
int tcl_cred_challenge(struct tcl_cred *c, struct tcl_nonce *n, const struct stun_msg *m);
/* Whether an error response asks to send the request again with (fresh)
 * credentials: a 401 to one sent without them, a 438 (stale nonce) to one
 * sent with them. Callers bound how often they answer a 438. */
bool tcl_cred_retry(int code, bool sent_with_credentials);
/* Checks that an authenticated response proves it knows the key (RFC 8489
 * 9.2.5): a success must carry MESSAGE-INTEGRITY(-SHA256), and any that is
 * present must verify; 400, 401 and 438 are not checked. code: the
 * response's (0 success). Returns 0, -EPROTO for a success without one, or
 * -EACCES when it does not verify. */
int tcl_cred_verify(const struct tcl_cred *c, const struct stun_msg *m, int code);

/* --- tcl_msg.c --- */

/* Random bytes from the kernel's CSPRNG. Returns 0 or -EIO. */
int tcl_random(void *buf, size_t len);
/* Builds req into buf: its attributes; then, when cred has a key and nonce
 * a value, USERNAME, REALM, NONCE (with PASSWORD-ALGORITHMS and
 * PASSWORD-ALGORITHM for SHA-256) and MESSAGE-INTEGRITY(-SHA256); then
 * FINGERPRINT. cred and nonce may be NULL. Returns the length, -ENOBUFS or
 * -EIO. */
int tcl_req_build(const struct tcl_req *req, const struct tcl_cred *cred,
                  const struct tcl_nonce *nonce, uint8_t *buf, size_t cap);
/* Builds a Send indication (RFC 8656 11) to peer carrying data, with a
 * fresh transaction ID. Returns the length, -ENOBUFS or -EIO. */
int tcl_send_build(uint8_t *buf, size_t cap, const union turn_addr *peer, const uint8_t *data,
                   size_t len);
/* Decodes buf as the response to the request with transaction ID tid.
 * Returns 0 with m filled (it borrows buf) and *code 0 for a success or the
 * ERROR-CODE; -ENOMSG when buf is something else (not STUN, undecodable,
 * another transaction, not a response); -EBADMSG for an error response
 * without a valid ERROR-CODE. */
int tcl_resp_parse(struct stun_msg *m, const uint8_t *buf, size_t len, const uint8_t *tid,
                   int *code);

#endif
