/* vici_msg.c - VICI packets and messages: see vici_msg.h. */
#include "vici_msg.h"

#include <string.h>

const char *vici_strerror(int err)
{
    switch (err) {
    case VICI_OK: return "no error";
    case VICI_E_SHORT: return "truncated (an element or name runs past the end of the packet)";
    case VICI_E_TOO_BIG: return "packet length exceeds the 524288-byte limit";
    case VICI_E_EMPTY: return "empty packet (length 0, no packet type)";
    case VICI_E_PACKET_TYPE: return "unknown packet type";
    case VICI_E_ELEM_TYPE: return "unknown message element type";
    case VICI_E_NAME: return "empty name or a name with a non-printable byte";
    case VICI_E_DEPTH: return "sections nested deeper than 16";
    case VICI_E_UNBALANCED: return "unbalanced sections";
    case VICI_E_IN_LIST: return "a section, key or list inside a list";
    case VICI_E_NOT_IN_LIST: return "a list item or list end outside a list";
    case VICI_E_LIST_OPEN: return "the message ends inside a list";
    case VICI_E_NO_SPACE: return "the message does not fit the buffer";
    case VICI_E_USAGE: return "encoder misuse (element out of order or name too long)";
    default: return "unknown error";
    }
}

int vici_type_named(uint8_t type)
{
    return type == VICI_CMD_REQUEST || type == VICI_EVENT_REGISTER ||
           type == VICI_EVENT_UNREGISTER || type == VICI_EVENT;
}

/* ---------------------------------------------------------------- decoding */

long vici_frame_len(const uint8_t prefix[4])
{
    uint32_t n = (uint32_t)prefix[0] << 24 | (uint32_t)prefix[1] << 16 |
                 (uint32_t)prefix[2] << 8 | prefix[3];
    if (n == 0)
        return VICI_E_EMPTY;
    if (n > VICI_MAX_PACKET)
        return VICI_E_TOO_BIG;
    return (long)n;
}

static int name_ok(const uint8_t *s, size_t n)
{
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x20 || s[i] > 0x7e)
            return 0;
    return 1;
}

/* A 1-byte-length name at p[*off]: copied into out (VICI_NAME_MAX + 1). */
static int read_name(const uint8_t *p, size_t len, size_t *off, char *out)
{
    if (*off >= len)
        return VICI_E_SHORT;
    size_t n = p[*off];
    if (len - *off - 1 < n)
        return VICI_E_SHORT;
    if (!name_ok(p + *off + 1, n))
        return VICI_E_NAME;
    memcpy(out, p + *off + 1, n);
    out[n] = '\0';
    *off += 1 + n;
    return 0;
}

int vici_packet_parse(const uint8_t *p, size_t len, struct vici_packet *out)
{
    memset(out, 0, sizeof *out);
    if (len == 0)
        return VICI_E_EMPTY;
    if (len > VICI_MAX_PACKET)
        return VICI_E_TOO_BIG;
    if (p[0] > VICI_EVENT)
        return VICI_E_PACKET_TYPE;
    out->type = p[0];
    size_t off = 1;
    if (vici_type_named(p[0])) {
        int r = read_name(p, len, &off, out->name);
        if (r < 0)
            return r;
    }
    out->msg = p + off;
    out->msglen = len - off;
    return 0;
}

void vici_iter_init(struct vici_iter *it, const uint8_t *msg, size_t len)
{
    memset(it, 0, sizeof *it);
    it->p = msg;
    it->len = len;
}

static int fail(struct vici_iter *it, int err)
{
    it->err = err;
    return err;
}

int vici_next(struct vici_iter *it, struct vici_elem *e)
{
    if (it->err)
        return it->err;
    memset(e, 0, sizeof *e);
    if (it->off >= it->len) {
        if (it->in_list)
            return fail(it, VICI_E_LIST_OPEN);
        if (it->depth)
            return fail(it, VICI_E_UNBALANCED);
        return 0;
    }
    uint8_t t = it->p[it->off++];
    e->type = t;
    int r;
    switch (t) {
    case VICI_SECTION_START:
    case VICI_KEY_VALUE:
    case VICI_LIST_START:
        if (it->in_list)
            return fail(it, VICI_E_IN_LIST);
        if ((r = read_name(it->p, it->len, &it->off, e->name)) < 0)
            return fail(it, r);
        break;
    case VICI_SECTION_END:
        if (it->in_list)
            return fail(it, VICI_E_IN_LIST);
        if (it->depth == 0)
            return fail(it, VICI_E_UNBALANCED);
        break;
    case VICI_LIST_ITEM:
    case VICI_LIST_END:
        if (!it->in_list)
            return fail(it, VICI_E_NOT_IN_LIST);
        break;
    default:
        return fail(it, VICI_E_ELEM_TYPE);
    }
    if (t == VICI_KEY_VALUE || t == VICI_LIST_ITEM) {
        if (it->len - it->off < 2)
            return fail(it, VICI_E_SHORT);
        size_t n = (size_t)it->p[it->off] << 8 | it->p[it->off + 1];
        it->off += 2;
        if (it->len - it->off < n)
            return fail(it, VICI_E_SHORT);
        e->value = it->p + it->off;
        e->vlen = n;
        it->off += n;
    }
    switch (t) {
    case VICI_SECTION_START:
        if (it->depth >= VICI_MAX_DEPTH)
            return fail(it, VICI_E_DEPTH);
        e->depth = it->depth++;
        break;
    case VICI_SECTION_END:
        e->depth = --it->depth;
        break;
    case VICI_LIST_START:
        it->in_list = 1;
        e->depth = it->depth;
        break;
    case VICI_LIST_END:
        it->in_list = 0;
        e->depth = it->depth;
        break;
    default:
        e->depth = it->depth;
        break;
    }
    return 1;
}

int vici_msg_check(const uint8_t *msg, size_t len)
{
    struct vici_iter it;
    struct vici_elem e;
    int r;
    vici_iter_init(&it, msg, len);
    while ((r = vici_next(&it, &e)) > 0)
        ;
    return r;
}

int vici_skip_section(struct vici_iter *it)
{
    int target = it->depth - 1;
    struct vici_elem e;
    int r;
    while ((r = vici_next(it, &e)) > 0)
        if (e.type == VICI_SECTION_END && e.depth == target)
            return 0;
    return r < 0 ? r : fail(it, VICI_E_UNBALANCED);
}

/* ---------------------------------------------------------------- encoding */

static void put(struct vici_enc *e, const void *p, size_t n)
{
    if (e->err)
        return;
    if (e->cap - e->len < n) {
        e->err = VICI_E_NO_SPACE;
        return;
    }
    memcpy(e->buf + e->len, p, n);
    e->len += n;
}

static void put_byte(struct vici_enc *e, uint8_t b)
{
    put(e, &b, 1);
}

static void put_name(struct vici_enc *e, const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (!e->err && (n > VICI_NAME_MAX || !name_ok((const uint8_t *)name, n)))
        e->err = VICI_E_USAGE;
    put_byte(e, (uint8_t)n);
    put(e, name, n);
}

static void put_value(struct vici_enc *e, const void *v, size_t n)
{
    if (!e->err && n > 0xffff)
        e->err = VICI_E_USAGE;
    put_byte(e, (uint8_t)(n >> 8));
    put_byte(e, (uint8_t)n);
    put(e, v, n);
}

void vici_enc_init(struct vici_enc *e, uint8_t *buf, size_t cap, uint8_t type, const char *name)
{
    memset(e, 0, sizeof *e);
    e->buf = buf;
    e->cap = cap;
    put(e, "\0\0\0\0", 4);
    if (type > VICI_EVENT)
        e->err = VICI_E_USAGE;
    put_byte(e, type);
    if (vici_type_named(type))
        put_name(e, name);
}

void vici_enc_section_start(struct vici_enc *e, const char *name)
{
    if (!e->err && (e->in_list || e->depth >= VICI_MAX_DEPTH))
        e->err = VICI_E_USAGE;
    put_byte(e, VICI_SECTION_START);
    put_name(e, name);
    e->depth++;
}

void vici_enc_section_end(struct vici_enc *e)
{
    if (!e->err && (e->in_list || e->depth == 0))
        e->err = VICI_E_USAGE;
    put_byte(e, VICI_SECTION_END);
    e->depth--;
}

void vici_enc_kv(struct vici_enc *e, const char *key, const void *value, size_t vlen)
{
    if (!e->err && e->in_list)
        e->err = VICI_E_USAGE;
    put_byte(e, VICI_KEY_VALUE);
    put_name(e, key);
    put_value(e, value, vlen);
}

void vici_enc_kv_str(struct vici_enc *e, const char *key, const char *value)
{
    vici_enc_kv(e, key, value, strlen(value));
}

void vici_enc_list_start(struct vici_enc *e, const char *name)
{
    if (!e->err && e->in_list)
        e->err = VICI_E_USAGE;
    put_byte(e, VICI_LIST_START);
    put_name(e, name);
    e->in_list = 1;
}

void vici_enc_list_item(struct vici_enc *e, const void *value, size_t vlen)
{
    if (!e->err && !e->in_list)
        e->err = VICI_E_USAGE;
    put_byte(e, VICI_LIST_ITEM);
    put_value(e, value, vlen);
}

void vici_enc_list_end(struct vici_enc *e)
{
    if (!e->err && !e->in_list)
        e->err = VICI_E_USAGE;
    put_byte(e, VICI_LIST_END);
    e->in_list = 0;
}

long vici_enc_finish(struct vici_enc *e)
{
    if (!e->err && (e->depth != 0 || e->in_list))
        e->err = VICI_E_USAGE;
    if (!e->err && e->len - 4 > VICI_MAX_PACKET)
        e->err = VICI_E_TOO_BIG;
    if (e->err)
        return e->err;
    size_t n = e->len - 4;
    e->buf[0] = (uint8_t)(n >> 24);
    e->buf[1] = (uint8_t)(n >> 16);
    e->buf[2] = (uint8_t)(n >> 8);
    e->buf[3] = (uint8_t)n;
    return (long)e->len;
}
