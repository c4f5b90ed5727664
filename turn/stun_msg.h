/* STUN message codec: RFC 8489 framing and attributes, RFC 8656 TURN
 * attributes, RFC 7983 demultiplexing. Decoding borrows the caller's bytes;
 * building writes into a caller-owned buffer. No allocation, no I/O. */
#ifndef TURN_STUN_MSG_H
#define TURN_STUN_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define STUN_HEADER_LEN 20
#define STUN_MAGIC_COOKIE 0x2112A442u
#define STUN_TID_LEN 12
#define STUN_MAX_ATTRS 40
#define STUN_MAX_UNKNOWN 8
#define STUN_FINGERPRINT_XOR 0x5354554Eu

enum stun_method {
    STUN_BINDING = 0x001,
    TURN_ALLOCATE = 0x003,
    TURN_REFRESH = 0x004,
    TURN_SEND = 0x006,
    TURN_DATA = 0x007,
    TURN_CREATE_PERMISSION = 0x008,
    TURN_CHANNEL_BIND = 0x009,
    TURN_CONNECT = 0x00a,
    TURN_CONNECTION_BIND = 0x00b,
    TURN_CONNECTION_ATTEMPT = 0x00c,
};

enum stun_class {
    STUN_REQUEST = 0,
    STUN_INDICATION = 1,
    STUN_SUCCESS = 2,
    STUN_ERROR = 3,
};

enum stun_attr_type {
    /* comprehension-required (0x0000-0x7FFF) */
    STUN_ATTR_MAPPED_ADDRESS = 0x0001,
    STUN_ATTR_USERNAME = 0x0006,
    STUN_ATTR_MESSAGE_INTEGRITY = 0x0008,
    STUN_ATTR_ERROR_CODE = 0x0009,
    STUN_ATTR_UNKNOWN_ATTRIBUTES = 0x000A,
    STUN_ATTR_CHANNEL_NUMBER = 0x000C,
    STUN_ATTR_LIFETIME = 0x000D,
    STUN_ATTR_XOR_PEER_ADDRESS = 0x0012,
    STUN_ATTR_DATA = 0x0013,
    STUN_ATTR_REALM = 0x0014,
    STUN_ATTR_NONCE = 0x0015,
    STUN_ATTR_XOR_RELAYED_ADDRESS = 0x0016,
    STUN_ATTR_REQUESTED_ADDRESS_FAMILY = 0x0017,
    STUN_ATTR_EVEN_PORT = 0x0018,
    STUN_ATTR_REQUESTED_TRANSPORT = 0x0019,
    STUN_ATTR_DONT_FRAGMENT = 0x001A,
    STUN_ATTR_MESSAGE_INTEGRITY_SHA256 = 0x001C,
    STUN_ATTR_PASSWORD_ALGORITHM = 0x001D,
    STUN_ATTR_USERHASH = 0x001E,
    STUN_ATTR_XOR_MAPPED_ADDRESS = 0x0020,
    STUN_ATTR_RESERVATION_TOKEN = 0x0022,
    STUN_ATTR_PRIORITY = 0x0024,      /* ICE (RFC 8445), in Binding requests */
    STUN_ATTR_USE_CANDIDATE = 0x0025, /* ICE (RFC 8445) */
    STUN_ATTR_CONNECTION_ID = 0x002A, /* TURN over TCP (RFC 6062) */
    /* comprehension-optional (0x8000-0xFFFF) */
    STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY = 0x8000,
    STUN_ATTR_ADDRESS_ERROR_CODE = 0x8001,
    STUN_ATTR_PASSWORD_ALGORITHMS = 0x8002,
    STUN_ATTR_ALTERNATE_DOMAIN = 0x8003,
    STUN_ATTR_ICMP = 0x8004,
    STUN_ATTR_SOFTWARE = 0x8022,
    STUN_ATTR_ALTERNATE_SERVER = 0x8023,
    STUN_ATTR_FINGERPRINT = 0x8028,
    STUN_ATTR_ICE_CONTROLLED = 0x8029,
    STUN_ATTR_ICE_CONTROLLING = 0x802A,
    STUN_ATTR_RESPONSE_ORIGIN = 0x802B,
    STUN_ATTR_OTHER_ADDRESS = 0x802C,
};

/* Password algorithms of RFC 8489 section 18.5. */
enum stun_pw_alg {
    STUN_PW_MD5 = 0x0001,
    STUN_PW_SHA256 = 0x0002,
};

/* What the first bytes of a datagram or stream frame are (RFC 7983). */
enum stun_pkt_kind {
    STUN_PKT_STUN,         /* first byte 0-3 */
    STUN_PKT_CHANNEL_DATA, /* first byte 64-79, or 64-127 with the RFC 5766 range */
    STUN_PKT_OTHER,
};

/* Classifies by the first byte only; len 0 is OTHER. */
enum stun_pkt_kind stun_classify(const uint8_t *buf, size_t len, bool rfc5766_channels);

/* One attribute of a decoded message: the value is msg->buf[off .. off+len). */
struct stun_attr {
    uint16_t type;
    uint16_t len;
    uint16_t off;
};

/* A decoded message. Borrows buf: the bytes must outlive it. */
struct stun_msg {
    const uint8_t *buf;
    size_t len; /* 20 + header length field */
    uint16_t method;
    uint8_t cls; /* enum stun_class */
    uint8_t tid[STUN_TID_LEN];
    unsigned n_attrs;
    struct stun_attr attrs[STUN_MAX_ATTRS];
    /* comprehension-required types this codec does not know (RFC 8489 6.3.1) */
    unsigned n_unknown;
    uint16_t unknown[STUN_MAX_UNKNOWN];
};

/* Decodes one STUN message from buf (len may exceed the message: a stream
 * carries several back to back; msg->len tells where this one ends).
 * Checks: first two bits zero, magic cookie, length a multiple of 4 that fits,
 * every attribute's length within the message, padding present, nothing but
 * FINGERPRINT after MESSAGE-INTEGRITY(-SHA256), nothing after FINGERPRINT,
 * FINGERPRINT value correct when present, fixed-size attributes of the
 * right size. Returns 0 or -EBADMSG; also -EAGAIN when buf holds fewer bytes
 * than the header announces (a partial frame on a stream). Messages longer
 * than 65535 bytes in all are -EBADMSG (offsets are 16-bit); the builder
 * refuses them too. */
int stun_msg_decode(struct stun_msg *msg, const uint8_t *buf, size_t len);

/* First attribute of this type, or NULL. Attributes after
 * MESSAGE-INTEGRITY are not returned except FINGERPRINT (RFC 8489 9). */
const struct stun_attr *stun_msg_find(const struct stun_msg *msg, uint16_t type);

/* Value bytes of an attribute. */
static inline const uint8_t *stun_attr_value(const struct stun_msg *msg,
                                             const struct stun_attr *attr)
{
    return msg->buf + attr->off;
}

/* Typed readers. Return 0 or -EBADMSG if the value is malformed; -ENOENT when
 * the attribute is absent. */
int stun_msg_get_u32(const struct stun_msg *msg, uint16_t type, uint32_t *out);
/* XOR-MAPPED/PEER/RELAYED-ADDRESS. */
int stun_msg_get_xaddr(const struct stun_msg *msg, uint16_t type, union turn_addr *out);
/* Decodes the XOR address held in one attribute (for repeated XOR-PEER-ADDRESS). */
int stun_attr_get_xaddr(const struct stun_msg *msg, const struct stun_attr *attr,
                        union turn_addr *out);
/* MAPPED-ADDRESS, ALTERNATE-SERVER, RESPONSE-ORIGIN, OTHER-ADDRESS. */
int stun_msg_get_addr(const struct stun_msg *msg, uint16_t type, union turn_addr *out);
/* CHANNEL-NUMBER: the 16-bit number. */
int stun_msg_get_channel(const struct stun_msg *msg, uint16_t *out);
/* REQUESTED-TRANSPORT: the protocol number (17 UDP, 6 TCP). */
int stun_msg_get_transport(const struct stun_msg *msg, uint8_t *out);
/* REQUESTED-ADDRESS-FAMILY / ADDITIONAL-ADDRESS-FAMILY: 0x01 IPv4, 0x02 IPv6.
 * Any other family byte is returned as is: the caller answers 440. */
int stun_msg_get_family(const struct stun_msg *msg, uint16_t type, uint8_t *out);
/* ERROR-CODE: code (300-699) and reason (borrowed, not terminated). */
int stun_msg_get_error(const struct stun_msg *msg, int *code, const char **reason,
                       size_t *reason_len);
/* EVEN-PORT: the R bit. */
int stun_msg_get_even_port(const struct stun_msg *msg, bool *reserve);

/* Checks MESSAGE-INTEGRITY (HMAC-SHA1) or MESSAGE-INTEGRITY-SHA256
 * (attr_type says which) with key. Returns 0, -ENOENT when the attribute is
 * absent, -EACCES when it does not match (-EIO if OpenSSL fails).
 * Constant-time comparison. */
int stun_msg_check_integrity(const struct stun_msg *msg, uint16_t attr_type, const uint8_t *key,
                             size_t key_len);

/* Builder: writes a message into buf. Errors are sticky: after the first
 * overflow every call is a no-op and stun_build_finish returns -ENOBUFS. */
struct stun_builder {
    uint8_t *buf;
    size_t cap;
    size_t len;
    int err;
};

void stun_build_start(struct stun_builder *b, uint8_t *buf, size_t cap, uint16_t method,
                      uint8_t cls, const uint8_t tid[STUN_TID_LEN]);
/* Appends an attribute with value bytes (padding added). */
void stun_build_attr(struct stun_builder *b, uint16_t type, const void *value, size_t len);
void stun_build_u32(struct stun_builder *b, uint16_t type, uint32_t value);
/* XOR-*-ADDRESS from a socket address. */
void stun_build_xaddr(struct stun_builder *b, uint16_t type, const union turn_addr *addr);
/* MAPPED-ADDRESS style (not XORed). */
void stun_build_addr(struct stun_builder *b, uint16_t type, const union turn_addr *addr);
/* ERROR-CODE with code and the RFC's reason phrase for it. */
void stun_build_error(struct stun_builder *b, int code);
/* ERROR-CODE with code and this reason phrase ("" for none). */
void stun_build_error_reason(struct stun_builder *b, int code, const char *reason);
/* UNKNOWN-ATTRIBUTES listing types. */
void stun_build_unknown(struct stun_builder *b, const uint16_t *types, unsigned n);
/* CHANNEL-NUMBER (number, RFFU zero). */
void stun_build_channel(struct stun_builder *b, uint16_t channel);
/* MESSAGE-INTEGRITY (attr_type STUN_ATTR_MESSAGE_INTEGRITY, HMAC-SHA1) or
 * MESSAGE-INTEGRITY-SHA256 over the message so far. */
void stun_build_integrity(struct stun_builder *b, uint16_t attr_type, const uint8_t *key,
                          size_t key_len);
void stun_build_fingerprint(struct stun_builder *b);
/* Returns the message length, or -ENOBUFS (or -EIO if the HMAC failed). */
int stun_build_finish(struct stun_builder *b);

/* Standard reason phrase for a STUN/TURN error code ("" when unknown). */
const char *stun_reason(int code);

/* ChannelData (RFC 8656 12.4): 4-byte header, channel number and length. */
#define TURN_CHANNEL_HEADER_LEN 4
#define TURN_CHANNEL_MIN 0x4000
#define TURN_CHANNEL_MAX 0x4FFF
#define TURN_CHANNEL_MAX_RFC5766 0x7FFF

/* Parses a ChannelData header. On a datagram the payload must fit in len
 * (trailing padding allowed); on a stream the frame is padded to 4 bytes.
 * Sets *frame_len to header + payload (+ padding when stream). Returns 0,
 * -EAGAIN (stream, partial frame) or -EBADMSG. */
int turn_channel_decode(const uint8_t *buf, size_t len, bool stream, uint16_t *channel,
                        uint16_t *payload_len, size_t *frame_len);

static inline void turn_channel_header(uint8_t hdr[4], uint16_t channel, uint16_t payload_len)
{
    hdr[0] = (uint8_t)(channel >> 8);
    hdr[1] = (uint8_t)channel;
    hdr[2] = (uint8_t)(payload_len >> 8);
    hdr[3] = (uint8_t)payload_len;
}

#endif
