/*
 * fuzz_compact.c - the compact message of inner type 0x06
 * (src/core/sc_compact.c, docs/PROTOCOL.md 10.4), checked against the XML
 * stanza it stands for.
 *
 * Input: the content of a compact record. Oracles:
 *   - sc_compact_parse answers SC_OK or SC_ERR_DECODE_ERROR, nothing else;
 *   - what it accepts obeys the limits of PROTOCOL.md 10.1 (id, text);
 *   - the encoding is canonical: writing the parsed message gives the input
 *     back byte for byte, so each message has exactly one compact form;
 *   - the compact form carries the same message as the XML stanza: the
 *     parsed message written as XML (sc_stanza_write) and parsed back by
 *     expat (sc_xml_parse, sc_stanza_parse) has the same type, id, ts and
 *     text, and the XML writer accepts every message the compact reader
 *     does (and so the XML reader would accept it from a peer);
 *   - for a refused input, the fields read from it without checks (kind,
 *     id, ts, text) are either refused by sc_compact_write (SC_ERR_ARG,
 *     nothing appended) or written as something the reader accepts: the
 *     writer never produces what a peer would refuse.
 */
#include "fuzz_common.h"

static void check_via_xml(const sc_stanza *st)
{
    sc_buf x;
    sc_xml_doc *doc = NULL;
    sc_stanza back;
    sc_buf_init(&x, 0);
    FZ_CHECK(sc_stanza_write(&x, st) == SC_OK);
    /* Escaping can make the XML form longer than a document may be (4.2); only the
     * compact form carries such a text (10.4). */
    if (x.len <= SC_XML_MAX_DOC) {
        FZ_CHECK(sc_xml_parse(x.data, x.len, &doc) == SC_OK);
        FZ_CHECK(sc_stanza_parse(sc_xml_root(doc), &back) == SC_OK);
        FZ_CHECK(back.type == st->type && strcmp(back.id, st->id) == 0 && back.ts == st->ts);
        if (st->type == SC_STANZA_MSG) {
            FZ_CHECK(back.text_len == st->text_len);
            FZ_CHECK(st->text_len == 0 || memcmp(back.text, st->text, st->text_len) == 0);
        }
        sc_xml_free(doc);
    }
    sc_buf_dispose(&x);
}

/* The input read without any checks, as a careless writer's fields would be. */
static void check_refused(const uint8_t *data, size_t size)
{
    char id[256];
    sc_stanza st;
    sc_buf w;
    if (size < SC_COMPACT_FIXED) return;
    size_t idlen = data[1] < size - SC_COMPACT_FIXED ? data[1] : size - SC_COMPACT_FIXED;
    memset(&st, 0, sizeof st);
    st.type = data[0] == SC_COMPACT_MSG       ? SC_STANZA_MSG
              : data[0] == SC_COMPACT_RECEIPT ? SC_STANZA_RECEIPT
                                              : SC_STANZA_PING;
    memcpy(id, data + SC_COMPACT_FIXED, idlen);
    id[idlen] = '\0';
    st.id = id;
    st.text = (const char *)data + SC_COMPACT_FIXED + idlen;
    st.text_len = size - SC_COMPACT_FIXED - idlen;
    sc_buf_init(&w, 0);
    int rc = sc_compact_write(&w, &st);
    /* Accepted fields were valid after all: then they must round-trip through the reader. */
    if (rc == SC_OK) {
        char id2[SC_STANZA_ID_MAX + 1];
        sc_stanza back;
        FZ_CHECK(sc_compact_parse(w.data, w.len, id2, &back) == SC_OK && back.type == st.type);
    } else {
        FZ_CHECK(rc == SC_ERR_ARG && w.len == 0);
    }
    sc_buf_dispose(&w);
}

static void write_seeds(const char *dir)
{
    static const struct {
        const char *name;
        const char *p;
        size_t n;
    } seeds[] = {
        {"msg", "\1\2\0\0\1\x9b\x76\xda\xab\xe8m1Hello Bob!", 22},
        {"msg_empty", "\1\1\0\0\0\0\0\0\0\0e", 11},
        {"msg_utf8", "\1\1\0\0\0\0\0\0\0\7aline1\r\nline2\t\xe2\x98\xba \xf0\x9f\x98\x80 <&>", 36},
        {"receipt", "\2\2\xff\xff\xff\xff\xff\xff\xff\xffm1", 12},
        {"unknown_kind",
         "\x09"
         "future",
         7},
        {"bad_short", "\1\1\0\0\0", 5},
        {"bad_idlen0", "\1\0\0\0\0\0\0\0\0\0x", 11},
        {"bad_id_char", "\1\1\0\0\0\0\0\0\0\0/x", 12},
        {"bad_receipt_text", "\2\1\0\0\0\0\0\0\0\0rx", 12},
        {"bad_control", "\1\1\0\0\0\0\0\0\0\0a1234567\x1b", 19},
        {"bad_fffe", "\1\1\0\0\0\0\0\0\0\0a\xef\xbf\xbe", 14},
        {"bad_surrogate", "\1\1\0\0\0\0\0\0\0\0a\xed\xb0\x80", 14},
        {"bad_overlong", "\1\1\0\0\0\0\0\0\0\0a\xe0\x80\xaf", 14},
        {"bad_truncated_utf8", "\1\1\0\0\0\0\0\0\0\0aabcdefgh\xe2\x98", 21},
    };
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++)
        fz_seed_bytes(dir, seeds[i].name, -1, seeds[i].p, seeds[i].n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *seeds = fz_seeds_dir();
    if (seeds) write_seeds(seeds);
    char id[SC_STANZA_ID_MAX + 1];
    sc_stanza st;
    int rc = sc_compact_parse(data, size, id, &st);
    FZ_CHECK(rc == SC_OK || rc == SC_ERR_DECODE_ERROR);
    if (rc != SC_OK) {
        check_refused(data, size);
        return 0;
    }
    if (st.type == 0) return 0; /* an unknown kind, ignored */
    FZ_CHECK(st.type == SC_STANZA_MSG || st.type == SC_STANZA_RECEIPT);
    FZ_CHECK(sc_stanza_valid_id(st.id, strlen(st.id)));
    FZ_CHECK(st.type == SC_STANZA_MSG || st.text_len == 0);
    FZ_CHECK(st.text_len <= SC_STANZA_TEXT_MAX);
    sc_buf w;
    sc_buf_init(&w, 0);
    FZ_CHECK(sc_compact_write(&w, &st) == SC_OK);
    FZ_CHECK(w.len == size && memcmp(w.data, data, size) == 0);
    FZ_CHECK(w.len == sc_compact_len(&st));
    sc_buf_dispose(&w);
    check_via_xml(&st);
    return 0;
}
