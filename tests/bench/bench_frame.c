/* blindrelay-bench: ChannelData framing (RFC 8656 12.4, 12.5) and the
 * splitting of a TURN-over-TCP byte stream into STUN messages and
 * ChannelData frames (RFC 8656 11.5: padded to 4 bytes on streams). */
#include "bench.h"

#include <string.h>

#include "turn/stun_msg.h"

size_t bc_frame_channel(uint8_t *frame, uint16_t channel, size_t payload_len, bool stream)
{
    size_t len = TURN_CHANNEL_HEADER_LEN + payload_len;

    turn_channel_header(frame, channel, (uint16_t)payload_len);
    if (stream) {
        size_t padded = (len + 3u) & ~(size_t)3u;

        memset(frame + len, 0, padded - len);
        len = padded;
    }
    return len;
}

long bc_frame_next(const uint8_t *buf, size_t len, enum bc_frame_kind *kind, size_t *payload_len)
{
    size_t body;

    if (len < 4) {
        return 0;
    }
    body = (size_t)buf[2] << 8 | buf[3];
    if (buf[0] < 0x04) {
        /* STUN: 20-byte header, length field counts the attributes */
        if (body % 4 != 0) {
            *kind = BC_FRAME_BAD;
            return -1;
        }
        *kind = BC_FRAME_STUN;
        *payload_len = STUN_HEADER_LEN + body;
        return len < STUN_HEADER_LEN + body ? 0 : (long)(STUN_HEADER_LEN + body);
    }
    if (buf[0] >= 0x40 && buf[0] < 0x80) {
        size_t frame = (TURN_CHANNEL_HEADER_LEN + body + 3u) & ~(size_t)3u;

        *kind = BC_FRAME_CHANNEL;
        *payload_len = body;
        return len < frame ? 0 : (long)frame;
    }
    *kind = BC_FRAME_BAD;
    return -1;
}
