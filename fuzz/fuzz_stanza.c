/*
 * fuzz_stanza.c - application stanzas (src/core/sc_stanza_codec.c) in both
 * directions.
 *
 * Input starting with a control byte other than TAB, LF and CR (no XML
 * document can start with one): writer mode. The byte's low four bits are
 * the stanza type (0 and 12..15 unknown), the rest fills the fields (id,
 * ts, name, size, offset, sha256, typing state, reason, text), as an
 * application would pass them to sc_session_send_stanza. sc_stanza_write must refuse
 * a bad stanza with SC_ERR_ARG and nothing else, and whatever it accepts
 * must parse back to the same fields: the peer would otherwise answer our
 * stanza with decode_error and end the session.
 *
 * Any other input: parser mode. sc_xml_parse then sc_stanza_parse; a parsed
 * stanza obeys the limits of PROTOCOL.md 10.1, and re-written with
 * sc_stanza_write it parses back to the same fields, and writing that gives
 * the same bytes again.
 */
#include "fuzz_common.h"

/* The fields the stanza's type carries are equal. */
static void check_equal(const sc_stanza *a, const sc_stanza *b)
{
    FZ_CHECK(a->type == b->type);
    if (a->type == SC_STANZA_TYPING) /* no id (PROTOCOL.md 10.2) */
        FZ_CHECK(b->id == NULL);
    else
        FZ_CHECK(strcmp(a->id, b->id) == 0);
    switch (a->type) {
    case SC_STANZA_MSG:
        FZ_CHECK(a->ts == b->ts && a->text_len == b->text_len);
        FZ_CHECK(a->text_len == 0 || memcmp(a->text, b->text, a->text_len) == 0);
        break;
    case SC_STANZA_RECEIPT:
    case SC_STANZA_READ:
        FZ_CHECK(a->ts == b->ts);
        break;
    case SC_STANZA_TYPING:
        FZ_CHECK(a->typing == b->typing);
        break;
    case SC_STANZA_FILE_REJECT:
    case SC_STANZA_MSG_REJECT:
        FZ_CHECK((a->reason == NULL) == (b->reason == NULL));
        FZ_CHECK(a->reason == NULL || strcmp(a->reason, b->reason) == 0);
        break;
    case SC_STANZA_FILE_OFFER:
        FZ_CHECK(strcmp(a->name, b->name) == 0 && a->size == b->size);
        FZ_CHECK(memcmp(a->sha256, b->sha256, 32) == 0);
        break;
    case SC_STANZA_FILE_ACCEPT:
        FZ_CHECK(a->offset == b->offset);
        break;
    case SC_STANZA_FILE_DONE:
        FZ_CHECK(memcmp(a->sha256, b->sha256, 32) == 0);
        break;
    default:
        break;
    }
}

/* What a parsed stanza may contain (PROTOCOL.md 10.1). */
static void check_limits(const sc_stanza *st)
{
    FZ_CHECK(st->type >= SC_STANZA_MSG && st->type <= SC_STANZA_MSG_REJECT);
    if (st->type == SC_STANZA_TYPING) {
        FZ_CHECK(st->id == NULL && (st->typing == SC_TYPING_ON || st->typing == SC_TYPING_OFF));
        return;
    }
    FZ_CHECK(st->id != NULL && sc_stanza_valid_id(st->id, strlen(st->id)));
    if ((st->type == SC_STANZA_FILE_REJECT || st->type == SC_STANZA_MSG_REJECT) &&
        st->reason != NULL) {
        size_t n = strlen(st->reason);
        FZ_CHECK(n <= SC_STANZA_REASON_MAX && sc_stanza_valid_text(st->reason, n));
        for (size_t i = 0; i < n; i++)
            FZ_CHECK((unsigned char)st->reason[i] >= 0x20 && st->reason[i] != 0x7f);
    }
    if (st->type == SC_STANZA_MSG) FZ_CHECK(st->text != NULL && st->text_len <= SC_STANZA_TEXT_MAX);
    if (st->type == SC_STANZA_FILE_OFFER) {
        size_t n = strlen(st->name);
        FZ_CHECK(n > 0 && n <= SC_STANZA_NAME_MAX && strchr(st->name, '/') == NULL &&
                 strchr(st->name, '\\') == NULL && strcmp(st->name, ".") != 0 &&
                 strcmp(st->name, "..") != 0);
    }
}

/*
 * st was written to w: parse it back and compare. Escaping may make a
 * document larger than the profile allows; only then may the parse fail.
 */
static void check_reparse(const sc_buf *w, const sc_stanza *st)
{
    sc_xml_doc *doc = NULL;
    sc_stanza back;
    if (w->len > SC_XML_MAX_DOC) return;
    FZ_CHECK(sc_xml_parse(w->data, w->len, &doc) == SC_OK);
    FZ_CHECK(sc_stanza_parse(sc_xml_root(doc), &back) == SC_OK);
    check_equal(st, &back);
    /* And the writer is a function of the fields: the same bytes again. */
    sc_buf again;
    sc_buf_init(&again, 0);
    FZ_CHECK(sc_stanza_write(&again, &back) == SC_OK);
    FZ_CHECK(again.len == w->len && memcmp(again.data, w->data, w->len) == 0);
    sc_buf_dispose(&again);
    sc_xml_free(doc);
}

static void parser_mode(const uint8_t *data, size_t size)
{
    sc_xml_doc *doc = NULL;
    sc_stanza st;
    if (sc_xml_parse(data, size, &doc) != SC_OK) return;
    int rc = sc_stanza_parse(sc_xml_root(doc), &st);
    FZ_CHECK(rc == SC_OK || rc == SC_ERR_DECODE_ERROR);
    if (rc == SC_OK && st.type != 0) {
        sc_buf w;
        check_limits(&st);
        sc_buf_init(&w, 0);
        /* Whatever we accept from a peer we can also say. */
        FZ_CHECK(sc_stanza_write(&w, &st) == SC_OK);
        check_reparse(&w, &st);
        sc_buf_dispose(&w);
    }
    sc_xml_free(doc);
}

/* A NUL-terminated string of up to max bytes, led by a u16 length. */
static void take_str(fz_in *in, char *out, size_t max)
{
    size_t n;
    const uint8_t *p = fz_bytes(in, fz_u16(in) % (max + 1), &n);
    memcpy(out, p, n);
    out[n] = '\0';
}

static void writer_mode(const uint8_t *data, size_t size)
{
    fz_in in = {data + 1, size - 1};
    char id[SC_STANZA_ID_MAX + 8], name[SC_STANZA_NAME_MAX + 8], reason[SC_STANZA_REASON_MAX + 8];
    sc_stanza st;
    size_t n;
    memset(&st, 0, sizeof st);
    st.type = (sc_stanza_type)(data[0] & 0x0f);
    take_str(&in, id, SC_STANZA_ID_MAX + 4);
    st.id = id;
    st.ts = fz_u64(&in);
    take_str(&in, name, SC_STANZA_NAME_MAX + 4);
    st.name = name;
    st.size = fz_u64(&in);
    st.offset = fz_u64(&in);
    const uint8_t *sha = fz_bytes(&in, 32, &n);
    memcpy(st.sha256, sha, n);
    st.typing = (sc_typing_state)(fz_u8(&in) % 3); /* 2 is no state */
    uint8_t has_reason = fz_u8(&in);
    take_str(&in, reason, SC_STANZA_REASON_MAX + 4);
    st.reason = has_reason & 1 ? reason : NULL;
    st.text = (const char *)fz_bytes(&in, in.len, &st.text_len); /* the rest */

    sc_buf w;
    sc_buf_init(&w, 0);
    int rc = sc_stanza_write(&w, &st);
    /* A stanza the caller got wrong is SC_ERR_ARG: the one refusal the session API passes on
     * without failing the session. */
    FZ_CHECK(rc == SC_OK || rc == SC_ERR_ARG);
    if (st.type < SC_STANZA_MSG || st.type > SC_STANZA_MSG_REJECT ||
        (st.type != SC_STANZA_TYPING && !sc_stanza_valid_id(id, strlen(id))) ||
        (st.type == SC_STANZA_TYPING && st.typing != SC_TYPING_ON && st.typing != SC_TYPING_OFF))
        FZ_CHECK(rc == SC_ERR_ARG);
    /* A refusal writes nothing, so the session's buffer is left as it was. */
    if (rc == SC_ERR_ARG) FZ_CHECK(w.len == 0);
    if (rc == SC_OK) check_reparse(&w, &st);
    sc_buf_dispose(&w);
}

/*
 * Writer-mode seed: type, id, ts, name, size, offset, sha256, typing state, reason (absent when
 * NULL), text (as writer_mode reads them).
 */
static void writer_seed_full(const char *dir, const char *file, uint8_t type, const char *id,
                             const char *name, uint8_t typing, const char *reason, const char *text)
{
    sc_buf b;
    fz_seed_begin(&b, type);
    sc_buf_put_u16(&b, (uint16_t)strlen(id));
    sc_buf_put_str(&b, id);
    sc_buf_put_u64(&b, FZ_NOW_MS);
    sc_buf_put_u16(&b, (uint16_t)strlen(name));
    sc_buf_put_str(&b, name);
    sc_buf_put_u64(&b, 4096);
    sc_buf_put_u64(&b, 17);
    for (int k = 0; k < 32; k++)
        sc_buf_put_u8(&b, (uint8_t)(k * 9));
    sc_buf_put_u8(&b, typing);
    sc_buf_put_u8(&b, reason != NULL);
    sc_buf_put_u16(&b, reason ? (uint16_t)strlen(reason) : 0);
    if (reason) sc_buf_put_str(&b, reason);
    sc_buf_put_str(&b, text);
    fz_seed(dir, file, &b);
}

static void writer_seed(const char *dir, const char *file, uint8_t type, const char *id,
                        const char *name, const char *text)
{
    writer_seed_full(dir, file, type, id, name, 0, NULL, text);
}

static void write_seeds(const char *dir)
{
    static const char *const xml[][2] = {
        {"msg.xml", FZ_ST_MSG},
        {"ping.xml", FZ_ST_PING},
        {"file_offer.xml", FZ_ST_OFFER},
        {"file_accept.xml", FZ_ST_ACCEPT},
        {"file_done.xml", FZ_ST_DONE},
        {"msg_charrefs.xml",
         "<msg id=\"a.b_c-9\" ts=\"0\">line1&#13;&#10;line2\ttab &#x263A; &quot;q&apos;</msg>"},
        {"msg_empty.xml", "<msg id=\"e\" ts=\"18446744073709551615\"/>"},
        {"unknown_root.xml", "<presence id=\"x\" show=\"away\"/>"},
        {"bad_ts_overflow.xml", "<msg id=\"m\" ts=\"18446744073709551616\">x</msg>"},
        {"bad_ts_leading_zero.xml", "<receipt id=\"m\" ts=\"007\"/>"},
        {"bad_id.xml", "<ping id=\"has space\"/>"},
        {"bad_sha_upper.xml",
         "<file-done id=\"f\" sha256=\"E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B"
         "7852B855\"/>"},
        {"bad_name_dotdot.xml",
         "<file-offer id=\"f\" name=\"..\" size=\"1\" sha256=\"" FZ_SHA_EMPTY "\"/>"},
        {"offer_name_attr_ws.xml",
         "<file-offer id=\"f\" name=\"a&#9;b&#10;c\" size=\"1\" sha256=\"" FZ_SHA_EMPTY "\"/>"},
        /* The stanzas the user agent added (PROTOCOL.md 10.2). */
        {"typing.xml", FZ_ST_TYPING},
        {"typing_off_with_id.xml", "<typing id=\"any thing\" state=\"off\"/>"},
        {"read.xml", FZ_ST_READ},
        {"file_reject.xml", FZ_ST_REJECT},
        {"file_reject_no_reason.xml", "<file-reject id=\"f1\" x=\"y\"/>"},
        {"file_reject_escapes.xml",
         "<file-reject id=\"f1\" reason=\"&lt;&amp;&gt;&quot;&apos; &#x263A;\"/>"},
        {"device.xml", FZ_ST_DEVICE},
        {"msg_reject.xml", "<msg-reject id=\"m1\" reason=\"not stored: too much &amp; more\"/>"},
        {"msg_reject_no_reason.xml", "<msg-reject id=\"m1\"/>"},
        {"bad_msg_reject_reason_cr.xml", "<msg-reject id=\"m1\" reason=\"a&#13;b\"/>"},
        {"bad_typing_state.xml", "<typing state=\"On\"/>"},
        {"bad_typing_no_state.xml", "<typing/>"},
        {"bad_read_no_ts.xml", "<read id=\"m1\"/>"},
        {"bad_reject_reason_lf.xml", "<file-reject id=\"f1\" reason=\"a&#10;b\"/>"},
        {"bad_device_id.xml", "<device id=\"my phone\"/>"},
        {"bad_device_text.xml", "<device id=\"p\">x</device>"},
    };
    for (size_t i = 0; i < sizeof xml / sizeof xml[0]; i++)
        fz_seed_bytes(dir, xml[i][0], -1, xml[i][1], strlen(xml[i][1]));
    writer_seed(dir, "w_msg", SC_STANZA_MSG, "m1", "", "hello & <world>\r\n");
    writer_seed(dir, "w_receipt", SC_STANZA_RECEIPT, "m1", "", "");
    writer_seed(dir, "w_offer", SC_STANZA_FILE_OFFER, "f1", "report \"final\".pdf", "");
    writer_seed(dir, "w_bad_type", 0, "x", "", "");
    writer_seed(dir, "w_bad_id", SC_STANZA_MSG, "a/b", "", "t");
    writer_seed(dir, "w_offer_bad_name", SC_STANZA_FILE_OFFER, "f1", "../etc", "");
    writer_seed_full(dir, "w_typing_on", SC_STANZA_TYPING, "", "", SC_TYPING_ON, NULL, "");
    writer_seed_full(dir, "w_typing_bad_state", SC_STANZA_TYPING, "x", "", 2, NULL, "");
    writer_seed(dir, "w_read", 0x10 | SC_STANZA_READ, "m1", "", "");
    writer_seed(dir, "w_device", SC_STANZA_DEVICE, "laptop-1", "", "");
    writer_seed_full(dir, "w_reject", SC_STANZA_FILE_REJECT, "f1", "", 0, "too \"big\" <&>", "");
    writer_seed_full(dir, "w_reject_no_reason", SC_STANZA_FILE_REJECT, "f1", "", 0, NULL, "");
    writer_seed_full(dir, "w_reject_bad_reason", SC_STANZA_FILE_REJECT, "f1", "", 0, "a\tb", "");
    writer_seed(dir, "w_bad_type_13", 0x1d, "x", "", "");
    writer_seed_full(dir, "w_msg_reject", SC_STANZA_MSG_REJECT, "m1", "", 0, "too much", "");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *seeds = fz_seeds_dir();
    if (seeds) write_seeds(seeds);
    /* TAB, LF and CR may start an XML document (whitespace before the root element). */
    if (size > 0 && data[0] < 0x20 && data[0] != '\t' && data[0] != '\n' && data[0] != '\r')
        writer_mode(data, size);
    else
        parser_mode(data, size);
    return 0;
}
