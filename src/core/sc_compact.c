/*
 * sc_compact.c - the compact message (docs/PROTOCOL.md 10.4).
 *
 * Layout of the content of an inner-type-0x06 record:
 *
 *   kind u8 | idlen u8 | ts u64 (big-endian) | id (idlen bytes) | text
 *
 * The fixed fields come first so that a reader finds every field at a
 * known place; the text runs to the end of the record. The rules for each
 * field are those of the XML stanza (10.1), so a message converts between
 * the two forms without loss.
 */
#include "sc_compact.h"

#include <string.h>
#include "sixchat/error.h"
#include "sc_stanza_codec.h"

int sc_compact_carries(const sc_stanza *st)
{
    return st->type == SC_STANZA_MSG || st->type == SC_STANZA_RECEIPT;
}

size_t sc_compact_len(const sc_stanza *st)
{
    size_t n = SC_COMPACT_FIXED + (st->id ? strlen(st->id) : 0);
    return st->type == SC_STANZA_MSG ? n + st->text_len : n;
}

int sc_compact_write(sc_buf *b, const sc_stanza *st)
{
    size_t idlen = st->id ? strlen(st->id) : 0;
    int msg = st->type == SC_STANZA_MSG;
    if (!sc_compact_carries(st) || !sc_stanza_valid_id(st->id, idlen)) return SC_ERR_ARG;
    if (msg && (st->text_len > SC_STANZA_TEXT_MAX || (st->text == NULL && st->text_len) ||
                !sc_stanza_valid_text(st->text, st->text_len)))
        return SC_ERR_ARG;
    uint8_t fixed[SC_COMPACT_FIXED];
    fixed[0] = msg ? SC_COMPACT_MSG : SC_COMPACT_RECEIPT;
    fixed[1] = (uint8_t)idlen;
    for (int i = 0; i < 8; i++)
        fixed[2 + i] = (uint8_t)(st->ts >> (56 - 8 * i));
    sc_buf_put(b, fixed, sizeof fixed);
    sc_buf_put(b, st->id, idlen);
    if (msg) sc_buf_put(b, st->text, st->text_len);
    return sc_buf_ok(b) ? SC_OK : SC_ERR_NOMEM;
}

int sc_compact_parse(const uint8_t *p, size_t len, char id[SC_STANZA_ID_MAX + 1], sc_stanza *st)
{
    memset(st, 0, sizeof *st);
    if (len < 1) return SC_ERR_DECODE_ERROR;
    /* Unknown kinds are for later versions: skipped whole, like unknown stanzas (10.3). */
    if (p[0] != SC_COMPACT_MSG && p[0] != SC_COMPACT_RECEIPT) return SC_OK;
    if (len < SC_COMPACT_FIXED) return SC_ERR_DECODE_ERROR;
    size_t idlen = p[1];
    if (len - SC_COMPACT_FIXED < idlen ||
        !sc_stanza_valid_id((const char *)p + SC_COMPACT_FIXED, idlen))
        return SC_ERR_DECODE_ERROR;
    const char *text = (const char *)p + SC_COMPACT_FIXED + idlen;
    size_t text_len = len - SC_COMPACT_FIXED - idlen;
    if (p[0] == SC_COMPACT_RECEIPT) {
        if (text_len != 0) return SC_ERR_DECODE_ERROR; /* a receipt has no text */
        st->type = SC_STANZA_RECEIPT;
    } else {
        if (text_len > SC_STANZA_TEXT_MAX || !sc_stanza_valid_text(text, text_len))
            return SC_ERR_DECODE_ERROR;
        st->type = SC_STANZA_MSG;
        st->text = text;
        st->text_len = text_len;
    }
    for (int i = 0; i < 8; i++)
        st->ts = st->ts << 8 | p[2 + i];
    memcpy(id, p + SC_COMPACT_FIXED, idlen);
    id[idlen] = '\0';
    st->id = id;
    return SC_OK;
}
