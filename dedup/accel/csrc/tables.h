/* Growable arrays, and the hash table every index structure is made of.
 *
 * A Table maps a 64-bit key to the ids stored under it, earliest first, at most `cap` of them
 * (cap 1: a map to the first id). Keys are avalanched hashes (uniform bits); ids ascend as they
 * are added. It has two parts, each an *ordered* open-addressing table of (key, id) slots: a
 * pair sits at its home slot (key * slots / 2**64, monotone in the key) or just after the pairs
 * before it, so the slots hold the pairs in (key, id) order with gaps. A look-up jumps to the
 * home slot and scans the few slots to the key: one memory miss.
 *   - the base: built in one go, about 93% full;
 *   - the delta: the pairs added since, at most 75% full; a pair goes in after the equal and
 *     smaller keys of its run, which shifts the rest of the run (a few slots) along.
 * When the delta holds a quarter of the base, the two (both in key order) are merged into a new
 * base in one pass, no sort: each pair moves a bounded number of times, so adding stays O(1)
 * amortized, and a look-up is two probes whatever the size. `table_prefetch` starts the memory
 * reads of many keys before any is looked up (a record's band keys: one wait, not 21).
 * Memory: the base ~13 bytes a pair; the delta 16-32 bytes a pair, for at most a fifth of them.
 */
#ifndef DEDUP_TABLES_H
#define DEDUP_TABLES_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

/* Large arrays on transparent huge pages where the kernel allows it (madvise mode): a look-up
 * table of tens of megabytes touched at random misses the TLB on almost every 4 KB page, and a
 * prefetch that misses the TLB may be dropped. */
#define HUGE_FROM (4u << 20)

static inline void advise_huge(void *p, size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (bytes < HUGE_FROM) return;
    uintptr_t lo = ((uintptr_t)p + (2u << 20) - 1) & ~(uintptr_t)((2u << 20) - 1);
    uintptr_t hi = ((uintptr_t)p + bytes) & ~(uintptr_t)((2u << 20) - 1);
    if (hi > lo) madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
#else
    (void)p; (void)bytes;
#endif
}

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
        advise_huge(d, cap * sizeof(T));                                                 \
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

#define EMPTY_ID 0xFFFFFFFFu  /* no pair in this slot (ids stay below it) */
#define DELTA_MIN 4096        /* a delta this small is never merged */
#define DELTA_SHARE 4         /* merged once it holds 1/DELTA_SHARE of the base */
#define BASE_FILL 0.93        /* the base's pairs per home slot */
#define DELTA_FILL 0.75       /* the delta's most pairs per home slot */
#define TAIL 64               /* slots after the last home slot (pairs spill there) */

typedef struct __attribute__((packed)) { uint64_t key; uint32_t id; } Slot;  /* 12 bytes */

/* An ordered open-addressing table: `slots` home slots, `end` allocated, `n` pairs. */
typedef struct {
    Slot *s;
    size_t slots, end, n;
} Part;

typedef struct {
    uint32_t cap;  /* most ids kept per key */
    Part base, delta;
} Table;

static void table_init(Table *t, uint32_t cap) {
    memset(t, 0, sizeof *t);
    t->cap = cap ? cap : 1;
}

static void table_free(Table *t) {
    free(t->base.s);
    free(t->delta.s);
    table_init(t, t->cap);
}

static inline size_t table_len(const Table *t) { return t->base.n + t->delta.n; }

static inline size_t home_of(uint64_t key, size_t slots) {
    return (size_t)(((unsigned __int128)key * slots) >> 64);  /* monotone in the key */
}

/* always_inline: a function whose only work is a prefetch is "const" to GCC's interprocedural
 * analysis, and its calls are dropped as dead code; inlined early, the prefetch stays. */
#define PREFETCHER static inline __attribute__((always_inline))

PREFETCHER void part_prefetch(const Part *p, uint64_t key) {
    if (p->n) __builtin_prefetch(&p->s[home_of(key, p->slots)]);
}

PREFETCHER void table_prefetch(const Table *t, uint64_t key) {
    part_prefetch(&t->base, key);
    part_prefetch(&t->delta, key);
}

/* Ids under `key` in one part: the first `limit` - found go to out[found...]; the new count. */
static inline size_t part_find(const Part *p, uint64_t key, uint32_t *out, size_t limit, size_t found) {
    if (!p->n) return found;
    const Slot *s = p->s + home_of(key, p->slots);
    while (s->id != EMPTY_ID && s->key < key) s++;
    for (; s->id != EMPTY_ID && s->key == key; s++) {
        if (out && found < limit) out[found] = s->id;
        found++;
    }
    return found;
}

/* The ids stored under `key`, ascending: the first `limit` go to `out` (when not NULL).
 * Returns how many are stored in all. */
static inline size_t table_find(const Table *t, uint64_t key, uint32_t *out, size_t limit) {
    return part_find(&t->delta, key, out, limit, part_find(&t->base, key, out, limit, 0));
}

/* The first id stored under `key`, or -1. */
static inline int64_t table_first(const Table *t, uint64_t key) {
    uint32_t id;
    return table_find(t, key, &id, 1) ? (int64_t)id : -1;
}

/* Pairs in (key, id) order from up to two parts, merged (the first part's go first on equal
 * keys: its ids are smaller). */
typedef struct { const Slot *a, *a_end, *b, *b_end; } Merge;

static inline const Slot *merge_next(Merge *m) {
    while (m->a < m->a_end && m->a->id == EMPTY_ID) m->a++;
    while (m->b < m->b_end && m->b->id == EMPTY_ID) m->b++;
    if (m->a < m->a_end && (m->b >= m->b_end || m->a->key <= m->b->key)) return m->a++;
    if (m->b < m->b_end) return m->b++;
    return NULL;
}

static inline Merge merge_of(const Part *a, const Part *b) {
    Merge m = {a->s, a->s ? a->s + a->end : NULL, b ? b->s : NULL, b && b->s ? b->s + b->end : NULL};
    return m;
}

/* The pairs `m` gives (n of them) placed as a new part of `slots` home slots, each at its home
 * slot or just after the pair before it; every other slot written empty (one pass). */
static int part_place(Part *out, Merge *m, size_t n, size_t slots) {
    size_t end = slots + TAIL;
    Slot *s = (Slot *)malloc(end * sizeof(Slot));
    if (!s) return -1;
    advise_huge(s, end * sizeof(Slot));
    size_t at = 0;
    const Slot *p;
    while ((p = merge_next(m)) != NULL) {
        size_t home = home_of(p->key, slots);
        if (home > at) {
            memset(s + at, 0xFF, (home - at) * sizeof(Slot));
            at = home;
        }
        if (at + 1 >= end) {  /* pairs crowd at the end: more tail (an empty slot must follow) */
            size_t more = end + end / 8 + TAIL;
            Slot *grown = (Slot *)realloc(s, more * sizeof(Slot));
            if (!grown) { free(s); return -1; }
            s = grown;
            end = more;
        }
        s[at++] = *p;
    }
    memset(s + at, 0xFF, (end - at) * sizeof(Slot));
    out->s = s;
    out->slots = slots;
    out->end = end;
    out->n = n;
    return 0;
}

/* Base and delta merged into a new base; the delta emptied. */
static int table_rebase(Table *t) {
    Merge m = merge_of(&t->base, &t->delta);
    Part base;
    size_t n = table_len(t);
    if (part_place(&base, &m, n, (size_t)((double)n / BASE_FILL) + 1)) return -1;
    free(t->base.s);
    t->base = base;
    memset(t->delta.s, 0xFF, t->delta.end * sizeof(Slot));
    t->delta.n = 0;
    return 0;
}

/* The delta with twice the slots (its pairs placed again, in order). */
static int delta_grow(Table *t) {
    size_t slots = t->delta.slots ? 2 * t->delta.slots : 64;
    Merge m = merge_of(&t->delta, NULL);
    Part d;
    if (part_place(&d, &m, t->delta.n, slots)) return -1;
    free(t->delta.s);
    t->delta = d;
    return 0;
}

/* Store `id` under `key` (ids come in ascending order; the caller keeps to the cap). */
static int table_add(Table *t, uint64_t key, uint32_t id) {
    Part *d = &t->delta;
    if ((double)(d->n + 1) > DELTA_FILL * (double)d->slots && delta_grow(t)) return -1;
    size_t p = home_of(key, d->slots);
    while (d->s[p].id != EMPTY_ID && d->s[p].key <= key) p++;  /* after the equal keys: ids ascend */
    size_t e = p;
    while (d->s[e].id != EMPTY_ID) e++;
    if (e + 1 >= d->end) {  /* the run reaches the tail's end: more tail */
        size_t more = d->end + d->end / 8 + TAIL;
        Slot *grown = (Slot *)realloc(d->s, more * sizeof(Slot));
        if (!grown) return -1;
        memset(grown + d->end, 0xFF, (more - d->end) * sizeof(Slot));
        d->s = grown;
        d->end = more;
    }
    memmove(d->s + p + 1, d->s + p, (e - p) * sizeof(Slot));
    d->s[p].key = key;
    d->s[p].id = id;
    d->n++;
    if (d->n >= DELTA_MIN && d->n * DELTA_SHARE > t->base.n) return table_rebase(t);
    return 0;
}

/* Bytes held (base and delta slots). */
static size_t table_nbytes(const Table *t) { return (t->base.end + t->delta.end) * sizeof(Slot); }

/* Empty, keeping a small delta's memory (a per-document table reused for every document). */
static void table_clear(Table *t) {
    if (t->base.s) {
        free(t->base.s);
        memset(&t->base, 0, sizeof t->base);
    }
    if (t->delta.n) {
        if (t->delta.end > 65536) {  /* a huge document went by */
            free(t->delta.s);
            memset(&t->delta, 0, sizeof t->delta);
        } else {
            memset(t->delta.s, 0xFF, t->delta.end * sizeof(Slot));
            t->delta.n = 0;
        }
    }
}

/* Every pair, in (key, id) order, into `out` (table_len(t) slots): for saving a table. */
static void table_pairs(const Table *t, Slot *out) {
    Merge m = merge_of(&t->base, &t->delta);
    const Slot *p;
    size_t k = 0;
    while ((p = merge_next(&m)) != NULL) out[k++] = *p;
}

/* A table holding `n` pairs in (key, id) order (what table_pairs gave). */
static int table_load(Table *t, const Slot *pairs, size_t n) {
    if (!n) return 0;
    Part src = {(Slot *)pairs, n, n, n};
    Merge m = merge_of(&src, NULL);
    return part_place(&t->base, &m, n, (size_t)((double)n / BASE_FILL) + 1);
}

#endif
