/* Growable arrays, and the hash table every index structure is made of.
 *
 * A Table maps a 64-bit key to the ids stored under it, earliest first, at most `cap` of them
 * (cap 1: a map to the first id). Keys are avalanched hashes (uniform bits); ids ascend as they
 * are added. It has two parts, each an open-addressing table of (key, id) slots probed linearly:
 *   - the base, built in one go: slots in key order, each pair at its home slot
 *     (key * size / 2**64) or just after the pair before it, at most ~87% full. A look-up jumps
 *     to the home slot and scans a few slots: one memory miss;
 *   - the delta: the pairs added since, at most half full; equal keys meet in the order they
 *     were added. One miss too.
 * When the delta holds a quarter of the base, both are rebuilt as a new base (the delta sorted,
 * then merged): each pair moves a bounded number of times, so adding stays O(1) amortized and a
 * look-up costs two probes, whatever the size. `table_prefetch` lets a caller start the memory
 * reads of many keys before it looks any of them up (a record's band keys: one wait, not 21).
 * The base costs ~14 bytes a pair; the delta 24-48 bytes a pair, for at most a fifth of them.
 */
#ifndef DEDUP_TABLES_H
#define DEDUP_TABLES_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define DEFINE_VEC(NAME, T)                                                              \
    typedef struct { T *data; size_t n, cap; } NAME;                                     \
    static int NAME##_reserve(NAME *v, size_t need) {                                   \
        if (need <= v->cap) return 0;                                                    \
        size_t cap = v->cap ? v->cap : 16;                                               \
        while (cap < need) cap += cap / 2 + 16;                                          \
        T *d = (T *)realloc(v->data, cap * sizeof(T));                                   \
        if (!d) return -1;                                                               \
        v->data = d;                                                                     \
        v->cap = cap;                                                                    \
        return 0;                                                                        \
    }                                                                                    \
    static inline int NAME##_push(NAME *v, T x) {                                        \
        if (v->n == v->cap && NAME##_reserve(v, v->n + 1)) return -1;                    \
        v->data[v->n++] = x;                                                             \
        return 0;                                                                        \
    }                                                                                    \
    static void NAME##_free(NAME *v) { free(v->data); v->data = NULL; v->n = v->cap = 0; }

DEFINE_VEC(VecU64, uint64_t)
DEFINE_VEC(VecU32, uint32_t)
DEFINE_VEC(VecI64, int64_t)
DEFINE_VEC(VecF64, double)
DEFINE_VEC(VecU8, uint8_t)

#define EMPTY_ID 0xFFFFFFFFu   /* no pair in this slot (ids stay below it) */
#define DELTA_MIN 2048         /* a delta this small is never merged */
#define DELTA_SHARE 4          /* merged once it holds 1/DELTA_SHARE of the base */
#define BASE_FILL 0.87         /* the base's pairs per slot */

typedef struct __attribute__((packed)) { uint64_t key; uint32_t id; } Slot;  /* 12 bytes */

typedef struct {
    uint32_t cap;     /* most ids kept per key */
    Slot *base;       /* bslots + tail: pairs past the last home slot spill into the tail */
    size_t bslots;    /* home slots of the base (0: no base) */
    size_t bend;      /* slots allocated (bslots + tail) */
    size_t bn;        /* pairs in the base */
    Slot *delta;
    size_t dmask;     /* delta slots - 1 (a power of two minus one) */
    size_t dn;        /* pairs in the delta */
} Table;

static void table_init(Table *t, uint32_t cap) {
    memset(t, 0, sizeof *t);
    t->cap = cap ? cap : 1;
}

static void table_free(Table *t) {
    free(t->base);
    free(t->delta);
    table_init(t, t->cap);
}

static inline size_t table_len(const Table *t) { return t->bn + t->dn; }

static inline size_t home_of(uint64_t key, size_t slots) {
    return (size_t)(((unsigned __int128)key * slots) >> 64);  /* monotone in the key */
}

static inline size_t slot_of(uint64_t key, size_t mask) {
    return (size_t)(key ^ (key >> 31)) & mask;  /* the low bits (the base uses the top bits) */
}

static inline void table_prefetch(const Table *t, uint64_t key) {
    if (t->bn) __builtin_prefetch(&t->base[home_of(key, t->bslots)]);
    if (t->dn) __builtin_prefetch(&t->delta[slot_of(key, t->dmask)]);
}

/* The ids stored under `key`, ascending: the first `limit` go to `out` (when not NULL).
 * Returns how many are stored in all. */
static size_t table_find(const Table *t, uint64_t key, uint32_t *out, size_t limit) {
    size_t found = 0;
    if (t->bn) {
        const Slot *s = t->base + home_of(key, t->bslots);
        while (s->id != EMPTY_ID && s->key < key) s++;
        for (; s->id != EMPTY_ID && s->key == key; s++) {
            if (out && found < limit) out[found] = s->id;
            found++;
        }
    }
    if (t->dn) {
        size_t h = slot_of(key, t->dmask);
        for (const Slot *s = t->delta + h; s->id != EMPTY_ID; s = t->delta + (h = (h + 1) & t->dmask)) {
            if (s->key == key) {
                if (out && found < limit) out[found] = s->id;
                found++;
            }
        }
    }
    return found;
}

/* The first id stored under `key`, or -1. */
static inline int64_t table_first(const Table *t, uint64_t key) {
    uint32_t id;
    return table_find(t, key, &id, 1) ? (int64_t)id : -1;
}

static Slot *empty_slots(size_t n) {
    Slot *s = (Slot *)malloc(n * sizeof(Slot));
    if (s) memset(s, 0xFF, n * sizeof(Slot));  /* every id EMPTY_ID */
    return s;
}

/* Stable LSD radix sort of pairs by key (the order of equal keys is kept): 16 bits a pass for
 * large inputs, 8 for small ones (a count array larger than the input costs more than it saves). */
static int sort_slots(Slot *a, size_t n) {
    if (n < 2) return 0;
    int bits = n >= (1 << 18) ? 16 : n >= (1 << 12) ? 11 : 8;
    size_t digits = (size_t)1 << bits, mask = digits - 1;
    Slot *tmp = (Slot *)malloc(n * sizeof(Slot));
    size_t *count = (size_t *)malloc((digits + 1) * sizeof(size_t));
    if (!tmp || !count) { free(tmp); free(count); return -1; }
    Slot *src = a, *dst = tmp;
    for (int shift = 0; shift < 64; shift += bits) {
        memset(count, 0, (digits + 1) * sizeof(size_t));
        for (size_t i = 0; i < n; i++) count[((src[i].key >> shift) & mask) + 1]++;
        if (count[((src[0].key >> shift) & mask) + 1] == n) continue;  /* one digit: nothing moves */
        for (size_t d = 0; d < digits; d++) count[d + 1] += count[d];
        for (size_t i = 0; i < n; i++) dst[count[(src[i].key >> shift) & mask]++] = src[i];
        Slot *x = src; src = dst; dst = x;
    }
    if (src != a) memcpy(a, src, n * sizeof(Slot));
    free(tmp);
    free(count);
    return 0;
}

/* Two runs of pairs sorted by (key, id), merged: `a` may hold empty slots (a base), skipped;
 * on equal keys `a` goes first (the older pairs: smaller ids). */
typedef struct { const Slot *a; size_t an; const Slot *b; size_t bn; size_t i, j; } MergeSrc;

static inline const Slot *merge_next(MergeSrc *m) {
    while (m->i < m->an && m->a[m->i].id == EMPTY_ID) m->i++;
    if (m->i < m->an && (m->j >= m->bn || m->a[m->i].key <= m->b[m->j].key)) return &m->a[m->i++];
    if (m->j < m->bn) return &m->b[m->j++];
    return NULL;
}

/* The pairs of `src` (n of them) placed as a new base: each at its home slot or just after the
 * pair before it. */
static int table_place(Table *t, MergeSrc *src, size_t n) {
    size_t slots = (size_t)((double)n / BASE_FILL) + 1;
    size_t end = slots + 64;
    Slot *base = empty_slots(end);
    if (!base) return -1;
    size_t at = 0;
    const Slot *p;
    while ((p = merge_next(src)) != NULL) {
        size_t home = home_of(p->key, slots);
        if (home > at) at = home;
        if (at + 1 >= end) {  /* the tail ran out: pairs crowd at the end (one empty slot must follow) */
            size_t more = end + end / 8 + 64;
            Slot *grown = (Slot *)realloc(base, more * sizeof(Slot));
            if (!grown) { free(base); return -1; }
            memset(grown + end, 0xFF, (more - end) * sizeof(Slot));
            base = grown;
            end = more;
        }
        base[at++] = *p;
    }
    free(t->base);  /* (the merge has read all of it) */
    t->base = base;
    t->bslots = slots;
    t->bend = end;
    t->bn = n;
    return 0;
}

/* The delta's pairs sorted by (key, id) into `out` (t->dn of them). From an empty slot on,
 * equal keys come in the order they were added (a probe run never crosses an empty slot), so a
 * stable sort by key leaves them by id. */
static int delta_sorted(const Table *t, Slot *out) {
    size_t m = t->dmask + 1, start = 0, k = 0;
    while (t->delta[start].id != EMPTY_ID) start++;
    for (size_t i = 1; i <= m; i++) {
        const Slot *s = &t->delta[(start + i) & t->dmask];
        if (s->id != EMPTY_ID) out[k++] = *s;
    }
    return sort_slots(out, t->dn);
}

/* The delta merged with the base into a new base. */
static int table_rebase(Table *t) {
    size_t d = t->dn;
    if (!d) return 0;
    Slot *delta = (Slot *)malloc(d * sizeof(Slot));
    if (!delta || delta_sorted(t, delta)) { free(delta); return -1; }
    MergeSrc src = {t->base, t->base ? t->bend : 0, delta, d, 0, 0};
    int r = table_place(t, &src, t->bn + d);
    free(delta);
    if (r) return -1;
    memset(t->delta, 0xFF, (t->dmask + 1) * sizeof(Slot));
    t->dn = 0;
    return 0;
}

static int table_regrow_delta(Table *t, size_t slots) {
    Slot *s = empty_slots(slots);
    if (!s) return -1;
    size_t mask = slots - 1;
    if (t->delta) {
        /* re-added in probe order from an empty slot on: equal keys keep their order */
        size_t m = t->dmask + 1, start = 0;
        while (t->delta[start].id != EMPTY_ID) start++;
        for (size_t i = 1; i <= m; i++) {
            const Slot *p = &t->delta[(start + i) & t->dmask];
            if (p->id == EMPTY_ID) continue;
            size_t h = slot_of(p->key, mask);
            while (s[h].id != EMPTY_ID) h = (h + 1) & mask;
            s[h] = *p;
        }
        free(t->delta);
    }
    t->delta = s;
    t->dmask = mask;
    return 0;
}

/* Store `id` under `key` (ids come in ascending order; the caller keeps to the cap). */
static int table_add(Table *t, uint64_t key, uint32_t id) {
    if (!t->delta || 2 * (t->dn + 1) > t->dmask + 1) {
        size_t slots = t->delta ? 2 * (t->dmask + 1) : 64;
        if (table_regrow_delta(t, slots)) return -1;
    }
    size_t h = slot_of(key, t->dmask);
    while (t->delta[h].id != EMPTY_ID) h = (h + 1) & t->dmask;
    t->delta[h].key = key;
    t->delta[h].id = id;
    t->dn++;
    if (t->dn >= DELTA_MIN && t->dn * DELTA_SHARE > t->bn) return table_rebase(t);
    return 0;
}

/* Bytes held (base and delta slots). */
static size_t table_nbytes(const Table *t) {
    return t->bend * sizeof(Slot) + (t->delta ? (t->dmask + 1) * sizeof(Slot) : 0);
}

/* Empty, keeping a small delta's memory (a per-document table reused for every document). */
static void table_clear(Table *t) {
    if (t->base) {
        free(t->base);
        t->base = NULL;
        t->bslots = t->bend = t->bn = 0;
    }
    if (t->dn && t->delta) {
        if (t->dmask + 1 > 65536) {  /* a huge document went by */
            free(t->delta);
            t->delta = NULL;
            t->dmask = 0;
        } else {
            memset(t->delta, 0xFF, (t->dmask + 1) * sizeof(Slot));
        }
    }
    t->dn = 0;
}

/* Every pair, sorted by (key, id), into `out` (table_len(t) slots): for saving a table. */
static int table_pairs(const Table *t, Slot *out) {
    Slot *delta = NULL;
    if (t->dn && (!(delta = (Slot *)malloc(t->dn * sizeof(Slot))) || delta_sorted(t, delta))) {
        free(delta);
        return -1;
    }
    MergeSrc src = {t->base, t->base ? t->bend : 0, delta, t->dn, 0, 0};
    const Slot *p;
    size_t k = 0;
    while ((p = merge_next(&src)) != NULL) out[k++] = *p;
    free(delta);
    return 0;
}

/* A table holding `n` pairs sorted by (key, id) (what table_pairs gave). */
static int table_load(Table *t, const Slot *pairs, size_t n) {
    MergeSrc src = {pairs, n, NULL, 0, 0, 0};
    if (!n) return 0;
    return table_place(t, &src, n);
}

#endif
