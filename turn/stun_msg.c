/* STUN message decoding and typed readers (RFC 8489 5, 6, 14; RFC 8656
 * 18; RFC 6062 6.2), RFC 7983 demultiplexing and ChannelData headers
 * (RFC 8656 12). Every length is checked before the bytes are read. */
#include <assert.h>
#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>

#include "stun_msg.h"
#include "stun_priv.h"

#define STUN_USERNAME_MAX 512 /* RFC 8489 14.3: fewer than 513 bytes */
#define STUN_TEXT_MAX 763     /* REALM, NONCE, SOFTWARE, reason phrases */

/* Where the attribute walk stands relative to the trailing attributes. */
enum walk_state {
    WALK_BODY,
    WALK_AFTER_MI,    /* only MI-SHA256 and FINGERPRINT still count */
    WALK_AFTER_MI256, /* only FINGERPRINT still counts */
    WALK_AFTER_FP,    /* nothing may follow */
};

enum stun_pkt_kind stun_classify(const uint8_t *buf, size_t len, bool rfc5766_channels)
{
    if (len == 0) {
        return STUN_PKT_OTHER;
    }
    if (buf[0] <= 3) {
        return STUN_PKT_STUN;
    }
    if (buf[0] >= 64 && buf[0] <= 79) {
        return STUN_PKT_CHANNEL_DATA;
    }
    if (rfc5766_channels && buf[0] >= 80 && buf[0] <= 127) {
        return STUN_PKT_CHANNEL_DATA;
    }
    return STUN_PKT_OTHER;
}

/* 1 if len is a valid size for a known attribute type, 0 if not, -1 when
 * the type is not one this codec knows. */
static int attr_size_ok(uint16_t type, size_t len)
{
    switch (type) {
    case STUN_ATTR_MAPPED_ADDRESS:
    case STUN_ATTR_XOR_PEER_ADDRESS:
    case STUN_ATTR_XOR_RELAYED_ADDRESS:
    case STUN_ATTR_XOR_MAPPED_ADDRESS:
    case STUN_ATTR_ALTERNATE_SERVER:
    case STUN_ATTR_RESPONSE_ORIGIN:
    case STUN_ATTR_OTHER_ADDRESS:
        return len == 8 || len == 20;
    case STUN_ATTR_USERNAME:
        return len <= STUN_USERNAME_MAX;
    case STUN_ATTR_REALM:
    case STUN_ATTR_NONCE:
    case STUN_ATTR_SOFTWARE:
        return len <= STUN_TEXT_MAX;
    case STUN_ATTR_ERROR_CODE:
    case STUN_ATTR_ADDRESS_ERROR_CODE:
        return len >= 4 && len <= 4 + STUN_TEXT_MAX;
    case STUN_ATTR_UNKNOWN_ATTRIBUTES:
        return len % 2 == 0;
    case STUN_ATTR_CHANNEL_NUMBER:
    case STUN_ATTR_LIFETIME:
    case STUN_ATTR_REQUESTED_ADDRESS_FAMILY:
    case STUN_ATTR_REQUESTED_TRANSPORT:
    case STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY:
    case STUN_ATTR_PRIORITY:
    case STUN_ATTR_CONNECTION_ID:
    case STUN_ATTR_FINGERPRINT:
        return len == 4;
    case STUN_ATTR_EVEN_PORT:
        return len == 1;
    case STUN_ATTR_DONT_FRAGMENT:
    case STUN_ATTR_USE_CANDIDATE:
        return len == 0;
    case STUN_ATTR_RESERVATION_TOKEN:
    case STUN_ATTR_ICMP:
    case STUN_ATTR_ICE_CONTROLLED:
    case STUN_ATTR_ICE_CONTROLLING:
        return len == 8;
    case STUN_ATTR_MESSAGE_INTEGRITY:
        return len == STUN_MI_LEN;
    case STUN_ATTR_MESSAGE_INTEGRITY_SHA256:
        return len >= STUN_MI256_MIN && len <= STUN_MI256_MAX && len % 4 == 0;
    case STUN_ATTR_USERHASH:
        return len == 32;
    case STUN_ATTR_PASSWORD_ALGORITHM:
        return len >= 4;
    case STUN_ATTR_PASSWORD_ALGORITHMS:
        return len % 4 == 0;
    case STUN_ATTR_DATA:
    case STUN_ATTR_ALTERNATE_DOMAIN:
        return 1;
    default:
        return -1;
    }
}

/* Header checks in wire order, so garbage on a stream fails as early as
 * possible instead of waiting for more bytes. */
static int decode_header(struct stun_msg *msg, const uint8_t *buf, size_t len)
{
    size_t body;
    uint16_t type;

    if (len >= 1 && (buf[0] & 0xC0) != 0) {
        return -EBADMSG;
    }
    if (len >= 4 && (stun_rd16(buf + 2) & 3) != 0) {
        return -EBADMSG;
    }
    if (len >= 8 && stun_rd32(buf + 4) != STUN_MAGIC_COOKIE) {
        return -EBADMSG;
    }
    if (len < STUN_HEADER_LEN) {
        return -EAGAIN;
    }
    body = stun_rd16(buf + 2);
    /* Keeps every attribute offset within struct stun_attr's uint16_t. */
    if (body > UINT16_MAX - STUN_HEADER_LEN) {
        return -EBADMSG;
    }
    if (len < STUN_HEADER_LEN + body) {
        return -EAGAIN;
    }
    type = stun_rd16(buf);
    msg->buf = buf;
    msg->len = STUN_HEADER_LEN + body;
    msg->method = (uint16_t)((type & 0x000F) | ((type & 0x00E0) >> 1) | ((type & 0x3E00) >> 2));
    msg->cls = (uint8_t)(((type >> 4) & 1) | ((type >> 7) & 2));
    memcpy(msg->tid, buf + 8, STUN_TID_LEN);
    msg->n_attrs = 0;
    msg->n_unknown = 0;
    return 0;
}

static void note_unknown(struct stun_msg *msg, uint16_t type)
{
    for (unsigned i = 0; i < msg->n_unknown; i++) {
        if (msg->unknown[i] == type) {
            return;
        }
    }
    /* Past the limit the 420 answer lists the first ones only. */
    if (msg->n_unknown < STUN_MAX_UNKNOWN) {
        msg->unknown[msg->n_unknown++] = type;
    }
}

static bool fingerprint_ok(const struct stun_msg *msg, size_t value_off)
{
    uint32_t crc = stun_crc32(msg->buf, value_off - 4) ^ STUN_FINGERPRINT_XOR;

    return crc == stun_rd32(msg->buf + value_off);
}

/* Records one attribute whose TLV is known to lie within the message. */
static int take_attr(struct stun_msg *msg, uint16_t type, uint16_t len, size_t off,
                     enum walk_state *state)
{
    int size_ok;

    /* RFC 8489 9: what follows an integrity attribute is ignored,
     * except MI-SHA256 after MI, and FINGERPRINT. */
    if (*state == WALK_AFTER_MI && type != STUN_ATTR_MESSAGE_INTEGRITY_SHA256 &&
        type != STUN_ATTR_FINGERPRINT) {
        return 0;
    }
    if (*state == WALK_AFTER_MI256 && type != STUN_ATTR_FINGERPRINT) {
        return 0;
    }
    size_ok = attr_size_ok(type, len);
    if (size_ok < 0) {
        /* RFC 8489 6.3: unknown comprehension-optional ones are ignored. */
        if (type < 0x8000) {
            note_unknown(msg, type);
        }
        return 0;
    }
    if (size_ok == 0 || msg->n_attrs == STUN_MAX_ATTRS) {
        return -EBADMSG;
    }
    msg->attrs[msg->n_attrs++] = (struct stun_attr){.type = type, .len = len, .off = (uint16_t)off};
    if (type == STUN_ATTR_MESSAGE_INTEGRITY) {
        *state = WALK_AFTER_MI;
    } else if (type == STUN_ATTR_MESSAGE_INTEGRITY_SHA256) {
        *state = WALK_AFTER_MI256;
    } else if (type == STUN_ATTR_FINGERPRINT) {
        *state = WALK_AFTER_FP;
        if (!fingerprint_ok(msg, off)) {
            return -EBADMSG;
        }
    }
    return 0;
}

/*  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |         Type                  |            Length             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                Value (padded to 4 bytes) ....
 */
static int decode_attrs(struct stun_msg *msg)
{
    enum walk_state state = WALK_BODY;
    size_t pos = STUN_HEADER_LEN;

    while (pos < msg->len) {
        size_t room = msg->len - pos;
        uint16_t type;
        uint16_t len;
        int err;

        if (room < 4) {
            return -EBADMSG;
        }
        type = stun_rd16(msg->buf + pos);
        len = stun_rd16(msg->buf + pos + 2);
        if (((size_t)len + 3) / 4 * 4 > room - 4 || state == WALK_AFTER_FP) {
            return -EBADMSG;
        }
        err = take_attr(msg, type, len, pos + 4, &state);
        if (err != 0) {
            return err;
        }
        pos += 4 + ((size_t)len + 3) / 4 * 4;
    }
    return 0;
}

int stun_msg_decode(struct stun_msg *msg, const uint8_t *buf, size_t len)
{
    int err;

    assert(msg != NULL);
    assert(buf != NULL || len == 0);
    err = decode_header(msg, buf, len);
    if (err != 0) {
        return err;
    }
    return decode_attrs(msg);
}

const struct stun_attr *stun_msg_find(const struct stun_msg *msg, uint16_t type)
{
    for (unsigned i = 0; i < msg->n_attrs; i++) {
        if (msg->attrs[i].type == type) {
            return &msg->attrs[i];
        }
    }
    return NULL;
}

/* The value of the first attribute of this type when it has exactly len
 * bytes. Returns 0, -ENOENT or -EBADMSG. */
static int find_fixed(const struct stun_msg *msg, uint16_t type, uint16_t len,
                      const uint8_t **value)
{
    const struct stun_attr *attr = stun_msg_find(msg, type);

    if (attr == NULL) {
        return -ENOENT;
    }
    if (attr->len != len) {
        return -EBADMSG;
    }
    *value = stun_attr_value(msg, attr);
    return 0;
}

int stun_msg_get_u32(const struct stun_msg *msg, uint16_t type, uint32_t *out)
{
    const uint8_t *v;
    int err = find_fixed(msg, type, 4, &v);

    if (err == 0) {
        *out = stun_rd32(v);
    }
    return err;
}

/* Family, port and address; with xor, masked by cookie and transaction ID
 * (RFC 8489 14.2), which are the 16 bytes from offset 4 of the message.
 *  0                   1                   2                   3
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |0 0 0 0 0 0 0 0|    Family     |         (X-)Port              |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                 (X-)Address (32 bits or 128 bits)             |
 */
static int read_addr(const struct stun_msg *msg, const struct stun_attr *attr, bool xor,
                     union turn_addr *out)
{
    const uint8_t *v = stun_attr_value(msg, attr);
    const uint8_t *mask = msg->buf + 4;
    uint8_t ip[16];
    uint16_t port;
    size_t n;

    if (attr->len == 8 && v[1] == 0x01) {
        n = 4;
    } else if (attr->len == 20 && v[1] == 0x02) {
        n = 16;
    } else {
        return -EBADMSG;
    }
    port = stun_rd16(v + 2);
    for (size_t i = 0; i < n; i++) {
        ip[i] = (uint8_t)(v[4 + i] ^ (xor? mask[i] : 0));
    }
    if (xor) {
        port ^= (uint16_t)(STUN_MAGIC_COOKIE >> 16);
    }
    memset(out, 0, sizeof(*out));
    if (n == 4) {
        out->in4.sin_family = AF_INET;
        out->in4.sin_port = htons(port);
        memcpy(&out->in4.sin_addr, ip, 4);
    } else {
        out->in6.sin6_family = AF_INET6;
        out->in6.sin6_port = htons(port);
        memcpy(&out->in6.sin6_addr, ip, 16);
    }
    return 0;
}

int stun_attr_get_xaddr(const struct stun_msg *msg, const struct stun_attr *attr,
                        union turn_addr *out)
{
    return read_addr(msg, attr, true, out);
}

int stun_msg_get_xaddr(const struct stun_msg *msg, uint16_t type, union turn_addr *out)
{
    const struct stun_attr *attr = stun_msg_find(msg, type);

    return attr ? read_addr(msg, attr, true, out) : -ENOENT;
}

int stun_msg_get_addr(const struct stun_msg *msg, uint16_t type, union turn_addr *out)
{
    const struct stun_attr *attr = stun_msg_find(msg, type);

    return attr ? read_addr(msg, attr, false, out) : -ENOENT;
}

int stun_msg_get_channel(const struct stun_msg *msg, uint16_t *out)
{
    const uint8_t *v;
    int err = find_fixed(msg, STUN_ATTR_CHANNEL_NUMBER, 4, &v);

    if (err == 0) {
        *out = stun_rd16(v);
    }
    return err;
}

int stun_msg_get_transport(const struct stun_msg *msg, uint8_t *out)
{
    const uint8_t *v;
    int err = find_fixed(msg, STUN_ATTR_REQUESTED_TRANSPORT, 4, &v);

    if (err == 0) {
        *out = v[0];
    }
    return err;
}

int stun_msg_get_family(const struct stun_msg *msg, uint16_t type, uint8_t *out)
{
    const uint8_t *v;
    int err = find_fixed(msg, type, 4, &v);

    if (err == 0) {
        *out = v[0];
    }
    return err;
}

/*  0                   1                   2                   3
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |           Reserved, should be 0         |Class|     Number    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |      Reason Phrase (variable)                                ..
 */
int stun_msg_get_error(const struct stun_msg *msg, int *code, const char **reason,
                       size_t *reason_len)
{
    const struct stun_attr *attr = stun_msg_find(msg, STUN_ATTR_ERROR_CODE);
    const uint8_t *v;
    int cls;

    if (attr == NULL) {
        return -ENOENT;
    }
    v = stun_attr_value(msg, attr);
    if (attr->len < 4 || (v[2] & 7) < 3 || (v[2] & 7) > 6 || v[3] > 99) {
        return -EBADMSG;
    }
    cls = v[2] & 7;
    *code = cls * 100 + v[3];
    *reason = (const char *)v + 4;
    *reason_len = attr->len - 4u;
    return 0;
}

int stun_msg_get_even_port(const struct stun_msg *msg, bool *reserve)
{
    const uint8_t *v;
    int err = find_fixed(msg, STUN_ATTR_EVEN_PORT, 1, &v);

    if (err == 0) {
        *reserve = (v[0] & 0x80) != 0;
    }
    return err;
}

int stun_msg_check_integrity(const struct stun_msg *msg, uint16_t attr_type, const uint8_t *key,
                             size_t key_len)
{
    const struct stun_attr *attr;
    uint8_t mac[STUN_MI256_MAX];
    int err;

    assert(attr_type == STUN_ATTR_MESSAGE_INTEGRITY ||
           attr_type == STUN_ATTR_MESSAGE_INTEGRITY_SHA256);
    attr = stun_msg_find(msg, attr_type);
    if (attr == NULL) {
        return -ENOENT;
    }
    if (attr_size_ok(attr_type, attr->len) != 1) {
        return -EACCES;
    }
    /* The length field as if the message ended right after this attribute
     * (its length is a multiple of 4, so no padding). */
    err = stun_hmac(attr_type, key, key_len, msg->buf, attr->off - 4u,
                    (uint16_t)(attr->off + attr->len - STUN_HEADER_LEN), mac);
    if (err == 0 && CRYPTO_memcmp(mac, stun_attr_value(msg, attr), attr->len) != 0) {
        err = -EACCES;
    }
    OPENSSL_cleanse(mac, sizeof(mac));
    return err;
}

/*  0                   1                   2                   3
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |         Channel Number        |            Length             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                    Application Data                          ...
 */
int turn_channel_decode(const uint8_t *buf, size_t len, bool stream, uint16_t *channel,
                        uint16_t *payload_len, size_t *frame_len)
{
    uint16_t number;
    uint16_t plen;
    size_t frame;

    if (len >= 1 && (buf[0] < 0x40 || buf[0] > 0x7F)) {
        return -EBADMSG;
    }
    if (len < TURN_CHANNEL_HEADER_LEN) {
        return stream ? -EAGAIN : -EBADMSG;
    }
    number = stun_rd16(buf);
    plen = stun_rd16(buf + 2);
    frame = TURN_CHANNEL_HEADER_LEN + (size_t)plen;
    /* RFC 8656 12.5: over a stream the frame is padded to 4 bytes; over UDP
     * the padding is optional and trailing bytes are ignored. */
    if (stream) {
        frame = (frame + 3) / 4 * 4;
        if (len < frame) {
            return -EAGAIN;
        }
    } else if (len < frame) {
        return -EBADMSG;
    }
    *channel = number;
    *payload_len = plen;
    *frame_len = frame;
    return 0;
}
