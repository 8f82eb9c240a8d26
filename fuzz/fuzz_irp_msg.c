/*
 * fuzz_irp_msg.c - the IRP message codec (src/irp/irp_msg.c, irp_req.c,
 * irp_resp.c, irp_frame.c; docs/IRP.md 3 to 7).
 *
 * Input whose first byte is 0x10 (the DOC frame type; no XML document
 * starts with it): frame-stream mode. The input is a byte stream from a
 * peer; it is fed to the frame reader once whole and once byte by byte,
 * and both must yield the same documents and end in the same state
 * (pending bytes or the same sticky error). Each document then goes
 * through the parsers below.
 *
 * Any other input: one document, parsed as a request, a response and an
 * event (and as what a client reads). The oracles:
 *   - a refusal is one of the statuses the codec defines, with a reason;
 *     an accepted struct obeys every limit of docs/IRP.md 8;
 *   - round trip: what was accepted, written by our writer, parses back
 *     to an equal struct, and writing that gives the same bytes (the
 *     writer may refuse only with SC_ERR_TOO_LARGE, when escaping made the
 *     document longer than a frame can carry);
 *   - a lookup answer's signed bytes (irp_lookup_tbs) are the same for the
 *     parsed and the re-parsed struct, so a signature survives any
 *     spelling;
 *   - irp_server_doc_parse agrees with irp_resp_parse / irp_event_parse.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "irp_frame.h"
#include "irp_msg.h"
#include "sixchat/error.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: fuzz oracle failed: %s\n", __FILE__, __LINE__, #cond);         \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static void check_refusal(int st, const char *err)
{
    CHECK(st == IRP_BAD_REQUEST || st == IRP_TOO_LARGE || st == IRP_INVALID ||
          st == IRP_UNKNOWN_OP || st == IRP_INTERNAL);
    CHECK(err[0] != '\0' && strlen(err) < 128);
}

static void check_binding(const irp_binding *b)
{
    CHECK(b->device != NULL && irp_valid_id(b->device, strlen(b->device)));
    CHECK(b->n_addrs >= 1 && b->n_addrs <= IRP_MAX_ADDRS && b->port != 0);
    for (size_t i = 0; i < b->n_addrs; i++)
        CHECK(b->addrs[i].family == 4 || b->addrs[i].family == 6);
}

static void check_req_limits(const irp_req *r)
{
    CHECK(r->op > IRP_OP_NONE && r->op < IRP_OP_COUNT);
    CHECK(irp_valid_id(r->id, strlen(r->id)));
    CHECK(r->user == NULL || irp_valid_user(r->user));
    CHECK(r->n_addrs <= IRP_MAX_ADDRS && r->n_info <= IRP_MAX_INFO && r->n_allow <= IRP_MAX_ALLOW);
    CHECK(r->csr_len <= IRP_CSR_MAX && r->p12_len <= IRP_P12_MAX);
    CHECK(r->password == NULL || (r->password_len >= 1 && r->password_len <= IRP_PASSWORD_MAX));
    if (r->op == IRP_OP_REGISTER) CHECK(r->n_addrs >= 1 && r->port != 0 && r->has_seq);
    if (r->op == IRP_OP_ENROLL || r->op == IRP_OP_RENEW) CHECK(r->csr != NULL && r->csr_len > 0);
    if (r->op == IRP_OP_PKCS12_PUT) CHECK(r->p12 != NULL && r->p12_len > 0);
    for (size_t i = 0; i < r->n_allow; i++)
        CHECK(irp_valid_user(r->allow[i]));
}

static void check_resp_limits(const irp_resp *r)
{
    CHECK(r->status >= 100 && r->status <= 599);
    CHECK(r->msg != NULL && strlen(r->msg) >= 1 && strlen(r->msg) <= IRP_MSG_MAX);
    CHECK(r->n_bindings <= IRP_MAX_BINDINGS && r->n_certs <= IRP_MAX_CERTS);
    CHECK(r->n_info <= IRP_MAX_INFO && r->n_allow <= IRP_MAX_ALLOW);
    CHECK(r->n_users <= IRP_MAX_USERS && r->n_log <= IRP_MAX_LOG);
    for (size_t i = 0; i < r->n_bindings; i++)
        check_binding(&r->bindings[i]);
    for (size_t i = 0; i < r->n_certs; i++)
        CHECK(r->certs[i].der_len <= IRP_CERT_MAX);
    CHECK(r->p12_len <= IRP_P12_MAX);
    if (r->has_sig) CHECK(r->sig.sig_len >= 1 && r->sig.sig_len <= IRP_SIG_MAX);
}

static void req_mode(sc_xml_parser *xp, const uint8_t *data, size_t size)
{
    irp_req r, back;
    int st = irp_req_parse_with(xp, &r, data, size);
    if (st != 0) {
        check_refusal(st, r.err);
        CHECK(r.id[0] == '\0' || irp_valid_id(r.id, strlen(r.id)));
        irp_req_clear(&r);
        return;
    }
    check_req_limits(&r);
    sc_buf w, again;
    sc_buf_init(&w, 0);
    sc_buf_init(&again, 0);
    int rc = irp_req_write(&w, &r);
    CHECK(rc == SC_OK || rc == SC_ERR_TOO_LARGE);
    if (rc == SC_OK) {
        CHECK(w.len <= IRP_MAX_DOC);
        CHECK(irp_req_parse(&back, w.data, w.len) == 0);
        CHECK(irp_req_equal(&r, &back));
        CHECK(irp_req_write(&again, &back) == SC_OK);
        CHECK(again.len == w.len && memcmp(again.data, w.data, w.len) == 0);
        irp_req_clear(&back);
    }
    sc_buf_dispose(&w);
    sc_buf_dispose(&again);
    irp_req_clear(&r);
}

static void resp_round_trip(const irp_resp *r)
{
    irp_resp back;
    sc_buf w, again, tbs1, tbs2;
    sc_buf_init(&w, 0);
    sc_buf_init(&again, 0);
    sc_buf_init(&tbs1, 0);
    sc_buf_init(&tbs2, 0);
    int rc = irp_resp_write(&w, r);
    CHECK(rc == SC_OK || rc == SC_ERR_TOO_LARGE);
    if (rc == SC_OK) {
        CHECK(w.len <= IRP_MAX_DOC);
        CHECK(irp_resp_parse(&back, w.data, w.len) == 0);
        CHECK(irp_resp_equal(r, &back));
        CHECK(irp_resp_write(&again, &back) == SC_OK);
        CHECK(again.len == w.len && memcmp(again.data, w.data, w.len) == 0);
        int t1 = irp_lookup_tbs(&tbs1, r), t2 = irp_lookup_tbs(&tbs2, &back);
        CHECK(t1 == t2);
        if (t1 == SC_OK)
            CHECK(tbs1.len == tbs2.len && memcmp(tbs1.data, tbs2.data, tbs1.len) == 0);
        else
            CHECK(t1 == SC_ERR_ARG);
        irp_resp_clear(&back);
    }
    sc_buf_dispose(&w);
    sc_buf_dispose(&again);
    sc_buf_dispose(&tbs1);
    sc_buf_dispose(&tbs2);
}

static void event_round_trip(const irp_event *e)
{
    irp_event back;
    sc_buf w, again;
    if (e->type == IRP_EVENT_NONE) return; /* a later version's event: ignored */
    sc_buf_init(&w, 0);
    sc_buf_init(&again, 0);
    CHECK(e->user != NULL && irp_valid_user(e->user) && e->n_bindings <= IRP_MAX_BINDINGS);
    for (size_t i = 0; i < e->n_bindings; i++)
        check_binding(&e->bindings[i]);
    int rc = irp_event_write(&w, e);
    CHECK(rc == SC_OK || rc == SC_ERR_TOO_LARGE);
    if (rc == SC_OK) {
        CHECK(irp_event_parse(&back, w.data, w.len) == 0);
        CHECK(irp_event_equal(e, &back));
        CHECK(irp_event_write(&again, &back) == SC_OK);
        CHECK(again.len == w.len && memcmp(again.data, w.data, w.len) == 0);
        irp_event_clear(&back);
    }
    sc_buf_dispose(&w);
    sc_buf_dispose(&again);
}

static void server_doc_mode(sc_xml_parser *xp, const uint8_t *data, size_t size)
{
    irp_resp r, r2;
    irp_event e, e2;
    int is_event = -1;
    int st = irp_server_doc_parse(xp, data, size, &r, &e, &is_event);
    int st_resp = irp_resp_parse(&r2, data, size);
    int st_event = irp_event_parse(&e2, data, size);
    if (st == 0 && is_event) {
        CHECK(st_event == 0 && irp_event_equal(&e, &e2));
        event_round_trip(&e);
    } else if (st == 0) {
        CHECK(st_resp == 0 && irp_resp_equal(&r, &r2));
        check_resp_limits(&r);
        resp_round_trip(&r);
    } else {
        check_refusal(st, r.err);
        CHECK(st_resp != 0 && st_event != 0);
    }
    if (st_resp != 0) check_refusal(st_resp, r2.err);
    if (st_event != 0) check_refusal(st_event, e2.err);
    irp_resp_clear(&r);
    irp_resp_clear(&r2);
    irp_event_clear(&e);
    irp_event_clear(&e2);
}

static void one_doc(sc_xml_parser *xp, const uint8_t *data, size_t size)
{
    req_mode(xp, data, size);
    server_doc_mode(xp, data, size);
}

/* Feeds in[0..len) in pieces of at most step bytes; records each document's length. */
static int feed_all(const uint8_t *in, size_t len, size_t step, size_t *doc_lens, size_t *ndocs,
                    size_t max_docs, sc_xml_parser *xp, size_t *pending)
{
    irp_framer f;
    size_t off = 0;
    int rc = IRP_FEED_NEED;
    irp_framer_init(&f);
    *ndocs = 0;
    while (off < len) {
        size_t n = len - off < step ? len - off : step;
        size_t used = 0;
        const uint8_t *doc;
        size_t doc_len;
        rc = irp_framer_feed(&f, in + off, n, &used, &doc, &doc_len);
        CHECK(used <= n);
        off += used;
        if (rc == IRP_FEED_DOC) {
            CHECK(doc_len >= 1 && doc_len <= IRP_MAX_DOC);
            if (*ndocs < max_docs) doc_lens[*ndocs] = doc_len;
            (*ndocs)++;
            if (xp != NULL) one_doc(xp, doc, doc_len);
            rc = IRP_FEED_NEED;
        } else if (rc != IRP_FEED_NEED) {
            CHECK(rc == IRP_BAD_REQUEST || rc == IRP_TOO_LARGE);
            break;
        } else {
            CHECK(used == n);
        }
    }
    *pending = irp_framer_pending(&f);
    CHECK(*pending < IRP_FRAME_HDR + IRP_MAX_DOC);
    irp_framer_free(&f);
    return rc;
}

static void stream_mode(sc_xml_parser *xp, const uint8_t *data, size_t size)
{
    size_t lens_a[64], lens_b[64], na, nb, pa, pb;
    int ra = feed_all(data, size, size, lens_a, &na, 64, xp, &pa);
    int rb = feed_all(data, size, 1, lens_b, &nb, 64, NULL, &pb);
    CHECK(ra == rb && na == nb);
    for (size_t i = 0; i < na && i < 64; i++)
        CHECK(lens_a[i] == lens_b[i]);
    if (ra == IRP_FEED_NEED) CHECK(pa == pb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static sc_xml_parser *xp;
    if (xp == NULL) xp = sc_xml_parser_new();
    CHECK(xp != NULL);
    if (size > 0 && data[0] == IRP_FRAME_DOC)
        stream_mode(xp, data, size);
    else
        one_doc(xp, data, size);
    return 0;
}
