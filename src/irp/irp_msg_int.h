/*
 * irp_msg_int.h - what the codec's files share (irp_msg.c, irp_req.c,
 * irp_resp.c): the parse context, field codecs and name tables. Internal:
 * the irp__ prefix.
 */
#ifndef IRP_MSG_INT_H
#define IRP_MSG_INT_H

#include <stdarg.h>

#include "sixchat/error.h"
#include "irp_msg.h"

/* A name on the wire and its enum value. Tables end with {NULL, 0}. */
typedef struct irp__name {
    const char *name;
    int value;
} irp__name;

extern const irp__name irp__access_names[];
extern const irp__name irp__cert_state_names[];
extern const irp__name irp__reason_names[];
extern const irp__name irp__change_names[];
extern const irp__name irp__login_names[];
const char *irp__name_of(const irp__name *t, int value);
int irp__value_of(const irp__name *t, const char *s, size_t n); /* 0 if unknown */

/*
 * One parse: the first failure (status and reason) and the block that
 * decoded base64 goes to. The block is allocated once, at its first use,
 * with room for everything the document's base64 can decode to (3/4 of
 * the document), and then belongs to the struct being filled.
 */
typedef struct irp__p {
    int st;
    char *err; /* the struct's err[128] */
    size_t doc_len;
    uint8_t *blob;
    size_t blob_len, blob_cap;
} irp__p;

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
int irp__fail(irp__p *p, int st, const char *fmt, ...);

/*
 * Parses doc under the XML profile and checks the root's name (unless
 * root is NULL): 413 for a
 * document over IRP_MAX_DOC, 400 for malformed XML or another root, 500
 * for out of memory.
 */
SC_MUST_CHECK int irp__doc(irp__p *p, sc_xml_parser *xp, const uint8_t *doc, size_t len,
                           const char *root, sc_xml_doc **out);

/* Attribute readers: 0, or the failure (recorded in p). Absent optional fields are left as set. */
SC_MUST_CHECK int irp__attr_str(irp__p *p, const sc_xml_node *n, const char *name, int required,
                                const char **out, size_t *len);
SC_MUST_CHECK int irp__attr_id(irp__p *p, const sc_xml_node *n, const char *name, int required,
                               const char **out);
SC_MUST_CHECK int irp__attr_user(irp__p *p, const sc_xml_node *n, const char *name, int required,
                                 const char **out);
SC_MUST_CHECK int irp__attr_u64(irp__p *p, const sc_xml_node *n, const char *name, int required,
                                uint64_t *out, int *present);
SC_MUST_CHECK int irp__attr_u32(irp__p *p, const sc_xml_node *n, const char *name, int required,
                                uint32_t *out);
SC_MUST_CHECK int irp__attr_port(irp__p *p, const sc_xml_node *n, const char *name, uint16_t *out);
SC_MUST_CHECK int irp__attr_flag(irp__p *p, const sc_xml_node *n, const char *name, int *out);
SC_MUST_CHECK int irp__attr_enum(irp__p *p, const sc_xml_node *n, const char *name,
                                 const irp__name *t, int required, int *out);
SC_MUST_CHECK int irp__attr_fp(irp__p *p, const sc_xml_node *n, const char *name, uint8_t out[32],
                               int *present);
SC_MUST_CHECK int irp__attr_serial(irp__p *p, const sc_xml_node *n, const char *name,
                                   const char **out);
SC_MUST_CHECK int irp__attr_addr(irp__p *p, const sc_xml_node *n, const char *name, irp_addr *out,
                                 int *present);
/* Decodes canonical base64 s[0..n) of at most max decoded bytes (1..max): 400, 413, 500. */
SC_MUST_CHECK int irp__b64(irp__p *p, const char *s, size_t n, size_t max, const char *what,
                           const uint8_t **out, size_t *out_len);
/* Strict decimal of PROTOCOL.md 3.4: 1..20 digits, no leading zero, <= 2^64-1. */
SC_MUST_CHECK int irp__parse_u64(const char *s, size_t n, uint64_t *out);
/* Text a writer may put in XML and a parser gives back unchanged: UTF-8, no C0 but TAB LF CR. */
int irp__valid_text(const char *s, size_t n);
int irp__valid_info_name(const char *s, size_t n);
/* <info> items: parse one child into *it (400, 413 for a long value). */
SC_MUST_CHECK int irp__parse_info(irp__p *p, const sc_xml_node *c, irp_info *it);
SC_MUST_CHECK int irp__check_info(const irp_info *it);
int irp__info_equal(const irp_info *a, const irp_info *b);
/* A binding (response and event): parse, check for writing, write, compare. */
SC_MUST_CHECK int irp__parse_binding(irp__p *p, const sc_xml_node *c, irp_binding *b);
SC_MUST_CHECK int irp__check_binding(const irp_binding *b);
void irp__write_binding(sc_buf *out, const irp_binding *b);
int irp__binding_equal(const irp_binding *a, const irp_binding *b);

/* Writers of fields. */
void irp__w_fp(sc_buf *b, const char *name, const uint8_t fp[32]);
void irp__w_addr(sc_buf *b, const char *name, const irp_addr *a);
void irp__w_b64_text(sc_buf *b, const uint8_t *p, size_t n);

/* Equality helpers: two optional strings (NULL equals NULL only). */
int irp__str_equal(const char *a, const char *b);

/*
 * Ends a write that began at start: SC_ERR_NOMEM if the buffer failed,
 * SC_ERR_TOO_LARGE (and the document removed) if it exceeds IRP_MAX_DOC.
 */
SC_MUST_CHECK int irp__w_finish(sc_buf *out, size_t start);

#endif
