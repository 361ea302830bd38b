/* vici_msg.h - strongSwan's VICI wire format, encoded and decoded without
 * I/O (the socket shell is vici_client.c).
 *
 * Transport: each packet is a 4-byte big-endian length, then that many
 * bytes.  Packet: one type byte; the named types (CMD_REQUEST,
 * EVENT_REGISTER, EVENT_UNREGISTER, EVENT) follow it with a 1-byte name
 * length and the name; the rest is the message.  Message: a sequence of
 * elements, each a type byte; SECTION_START, KEY_VALUE and LIST_START
 * carry a name (1-byte length + bytes), KEY_VALUE and LIST_ITEM a value
 * (2-byte big-endian length + bytes).  Sections nest and must balance;
 * lists hold only items and do not nest.
 *
 * Limits (hostile input is refused with a precise error, never trusted):
 * a packet is at most VICI_MAX_PACKET bytes (strongSwan's own limit), a
 * section nests at most VICI_MAX_DEPTH deep, a name is 1..255 printable
 * ASCII characters (0x20..0x7e).
 */
#ifndef IDT_VICI_MSG_H
#define IDT_VICI_MSG_H

#include <stddef.h>
#include <stdint.h>

#define VICI_MAX_PACKET (512u * 1024u)  /* bytes after the length prefix */
#define VICI_MAX_DEPTH 16               /* open sections at once */
#define VICI_NAME_MAX 255               /* longest name; buffers need +1 */

enum vici_packet_type {
    VICI_CMD_REQUEST = 0, VICI_CMD_RESPONSE = 1, VICI_CMD_UNKNOWN = 2,
    VICI_EVENT_REGISTER = 3, VICI_EVENT_UNREGISTER = 4, VICI_EVENT_CONFIRM = 5,
    VICI_EVENT_UNKNOWN = 6, VICI_EVENT = 7,
};

enum vici_elem_type {
    VICI_SECTION_START = 1, VICI_SECTION_END = 2, VICI_KEY_VALUE = 3,
    VICI_LIST_START = 4, VICI_LIST_ITEM = 5, VICI_LIST_END = 6,
};

/* Errors: negative return values.  vici_strerror() names each one. */
enum vici_err {
    VICI_OK = 0,
    VICI_E_SHORT = -1,          /* packet or element ends before its fields */
    VICI_E_TOO_BIG = -2,        /* length prefix > VICI_MAX_PACKET */
    VICI_E_EMPTY = -3,          /* length prefix 0: no packet type */
    VICI_E_PACKET_TYPE = -4,    /* packet type byte > 7 */
    VICI_E_ELEM_TYPE = -5,      /* element type byte not 1..6 */
    VICI_E_NAME = -6,           /* empty name or a byte outside 0x20..0x7e */
    VICI_E_DEPTH = -7,          /* more than VICI_MAX_DEPTH open sections */
    VICI_E_UNBALANCED = -8,     /* SECTION_END at the root, or open at the end */
    VICI_E_IN_LIST = -9,        /* a section, key or list inside a list */
    VICI_E_NOT_IN_LIST = -10,   /* LIST_ITEM / LIST_END outside a list */
    VICI_E_LIST_OPEN = -11,     /* the message ends inside a list */
    VICI_E_NO_SPACE = -12,      /* encoder: the output buffer is full */
    VICI_E_USAGE = -13,         /* encoder: call out of order or too long */
};

const char *vici_strerror(int err);

/* ---------------------------------------------------------------- decoding */

/* The length of the packet behind a 4-byte prefix, or VICI_E_TOO_BIG /
 * VICI_E_EMPTY. */
long vici_frame_len(const uint8_t prefix[4]);

/* One packet (the bytes after the length prefix).  name is "" for the
 * unnamed types; msg/msglen is the message, pointing into the input. */
struct vici_packet {
    uint8_t type;                   /* enum vici_packet_type */
    char name[VICI_NAME_MAX + 1];
    const uint8_t *msg;
    size_t msglen;
};
int vici_packet_parse(const uint8_t *p, size_t len, struct vici_packet *out);

/* Walking a message element by element.  vici_next() returns 1 with *e
 * filled, 0 at a well-formed end, or an error (and keeps returning it). */
struct vici_elem {
    uint8_t type;                   /* enum vici_elem_type */
    int depth;                      /* open sections around it (root: 0) */
    char name[VICI_NAME_MAX + 1];   /* SECTION_START, KEY_VALUE, LIST_START; else "" */
    const uint8_t *value;           /* KEY_VALUE, LIST_ITEM; else NULL */
    size_t vlen;
};
struct vici_iter {
    const uint8_t *p;
    size_t len, off;
    int depth;
    int in_list;
    int err;
};
void vici_iter_init(struct vici_iter *it, const uint8_t *msg, size_t len);
int vici_next(struct vici_iter *it, struct vici_elem *e);
/* Walk the whole message: 0 if it is well-formed, else the error. */
int vici_msg_check(const uint8_t *msg, size_t len);
/* Skip the rest of the section just opened (e just returned SECTION_START):
 * returns 0 once its SECTION_END has been read, or the error. */
int vici_skip_section(struct vici_iter *it);

/* ---------------------------------------------------------------- encoding */

/* Build one whole packet (length prefix included) in buf.  Every call
 * after the first error does nothing; vici_enc_finish() reports it. */
struct vici_enc {
    uint8_t *buf;
    size_t cap, len;
    int depth, in_list;
    int err;
};
void vici_enc_init(struct vici_enc *e, uint8_t *buf, size_t cap, uint8_t type, const char *name);
void vici_enc_section_start(struct vici_enc *e, const char *name);
void vici_enc_section_end(struct vici_enc *e);
void vici_enc_kv(struct vici_enc *e, const char *key, const void *value, size_t vlen);
void vici_enc_kv_str(struct vici_enc *e, const char *key, const char *value);
void vici_enc_list_start(struct vici_enc *e, const char *name);
void vici_enc_list_item(struct vici_enc *e, const void *value, size_t vlen);
void vici_enc_list_end(struct vici_enc *e);
/* The packet's total size (prefix included), or the first error. */
long vici_enc_finish(struct vici_enc *e);

/* Whether a packet type carries a name. */
int vici_type_named(uint8_t type);

#endif
