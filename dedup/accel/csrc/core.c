/* dedup.accel._core: the compiled engine, from records to decisions in one call.
 *
 * Store: the corpus index (every unit seen: its set key, shingle set, span, document; the
 *   exact-set table and the LSH band table), kept in flat arrays and the two-part hash tables
 *   of tables.h, so a look-up and an append cost O(1) per unit.
 * Engine: the settings, and `run(store, texts, ids, ...)`: for each record in order, its units
 *   (paragraphs, sentences, lines or the whole text), each unit's shingle set (NFKC + case-fold
 *   by table, \w tokens, XXH3-64 words, n-gram windows), then the decision against everything
 *   earlier (exact set, else LSH candidates verified on the exact Jaccard), the run rule, and the
 *   index update. A record nothing was removed from costs no Python object; for the others the
 *   engine returns their Removals, built here.
 *
 * Every value equals the reference path's (dedup.fingerprint, dedup.decide) bit for bit: the
 * same hashes, signatures (datasketch's affine32), band keys, candidates in the same order (the
 * earliest `max_bucket_candidates` of each bucket; by shared bands, then id) and the same
 * float similarity, so decisions are the same on every path. Tests compare them.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#include "hashing.h"
#include "tables.h"

#define FOLD_COMPLEX 0xFFFFFFFFu

/* re's \w and \s on ASCII (the only tables text that is all ASCII needs) */
static uint8_t ascii_word[128];
static uint8_t ascii_space[128];

static void init_ascii(void) {
    for (int c = 0; c < 128; c++) {
        ascii_word[c] = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
        ascii_space[c] = (c >= 9 && c <= 13) || (c >= 28 && c <= 32);
    }
}

typedef struct {
    const uint8_t *table;  /* 1 for a white-space code point (re's \s) */
    size_t n;
    VecU8 joins;
    VecI64 para_starts, para_ends;
} Spaces;

typedef struct {
    const uint32_t *fold;  /* NFKC + case folding per code point, or FOLD_COMPLEX */
    size_t fold_n;
    const uint8_t *word;   /* 1 word character, 2 a token alone, 0 neither */
    size_t word_n;
    int steps;             /* normalization steps done while tokenizing (STEP_*) */
    const uint8_t *digit;  /* 1 for a decimal digit (re's \d), for STEP_DIGITS */
    size_t digit_n;
} Folding;

#define STEP_DIGITS 1
#define STEP_PUNCT 2
#define STEP_PUNCT_FIRST 4
#define STEP_DEHYPHEN 8   /* the first step: a word hyphenated at a line end is joined */

static inline int is_digit(const Folding *fo, uint32_t f) {
    if (f < 128) return f >= '0' && f <= '9';
    return f < fo->digit_n && fo->digit[f];
}

/* dedup.chardata.INNER_PUNCTUATION_RE's marks: dropped between two word characters */
static inline int is_inner_punct(uint32_t f) { return f == '-' || f == '\'' || f == 0x2019 || f == '.' || f == 0xB7; }

#define CT uint8_t
#define SFX u8
#include "text.h"
#undef CT
#undef SFX
#define CT uint16_t
#define SFX u16
#include "text.h"
#undef CT
#undef SFX
#define CT uint32_t
#define SFX u32
#include "text.h"
#undef CT
#undef SFX

static PyObject *bytes_of(const void *p, size_t n) { return PyBytes_FromStringAndSize((const char *)p, (Py_ssize_t)n); }

/* ------------------------------------------------------------------------------------------ */
/* Store                                                                                       */
/* ------------------------------------------------------------------------------------------ */

typedef struct {
    PyObject_HEAD
    int bands;          /* band keys per stored unit */
    uint32_t cap;       /* most ids kept per band key (max_bucket_candidates) */
    int stores_sets;    /* 0: exact-only, lean: no set or span per unit; a repeat is decided on the 64-bit
                         * set key, a document's replay on a digest of its set keys */
    size_t nunits;
    Table exact;        /* set key -> first unit that stores that set */
    Table band;         /* band key -> the earliest `cap` units */
    VecU64 set_key;     /* per unit */
    VecU64 set_start;   /* where its set starts in `pool` (an exact repeat shares its source's) */
    VecU32 set_len;
    VecU32 ustart, uend;  /* span in its document (a document is shorter than 2**32 characters) */
    VecU32 pool;
    VecU64 doc_first;   /* first unit of each document, in order */
    VecU64 doc_digest;  /* exact-only: each document's digest of its set keys */
    PyObject *doc_ids;  /* list: each document's id */
    Table doc_hash;     /* mixed Python hash of an id -> ordinals of the first document of each id */
    /* the noisy rules' layer (nz_bands 0: none): per unit its record (nz_rlen 0: none), a stored
     * unit's noisy band keys in nz_band */
    int nz_bands;
    Table nz_band;
    VecU64 nz_rstart;
    VecU32 nz_rlen;
    VecU8 nz_recs;
} Store;

static PyTypeObject StoreType;

static int Store_init(Store *s, PyObject *args, PyObject *kw) {
    static char *names[] = {"bands", "cap", "stores_sets", "nz_bands", NULL};
    int bands = 0, cap = 64, stores_sets = 1, nz_bands = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|iipi", names, &bands, &cap, &stores_sets, &nz_bands)) return -1;
    if (bands < 0 || cap < 1 || nz_bands < 0 || (nz_bands && !stores_sets)) {
        PyErr_SetString(PyExc_ValueError, "Store needs bands >= 0 and cap >= 1");
        return -1;
    }
    s->bands = bands;
    s->cap = (uint32_t)cap;
    s->stores_sets = stores_sets;
    s->nz_bands = nz_bands;
    table_init(&s->nz_band, (uint32_t)cap);
    table_init(&s->exact, 1);
    table_init(&s->band, (uint32_t)cap);
    table_init(&s->doc_hash, 0xFFFFFFFFu);
    Py_XSETREF(s->doc_ids, PyList_New(0));
    return s->doc_ids ? 0 : -1;
}

static void store_free_arrays(Store *s) {
    table_free(&s->exact);
    table_free(&s->band);
    table_free(&s->doc_hash);
    VecU64_free(&s->set_key);
    VecU64_free(&s->set_start);
    VecU32_free(&s->set_len);
    VecU32_free(&s->ustart);
    VecU32_free(&s->uend);
    VecU32_free(&s->pool);
    VecU64_free(&s->doc_first);
    VecU64_free(&s->doc_digest);
    table_free(&s->nz_band);
    VecU64_free(&s->nz_rstart);
    VecU32_free(&s->nz_rlen);
    VecU8_free(&s->nz_recs);
}

static void Store_dealloc(Store *s) {
    PyObject_GC_UnTrack(s);
    store_free_arrays(s);
    Py_CLEAR(s->doc_ids);
    Py_TYPE(s)->tp_free((PyObject *)s);
}

static int Store_traverse(Store *s, visitproc visit, void *arg) {
    Py_VISIT(s->doc_ids);
    return 0;
}

static int Store_clear_refs(Store *s) {
    Py_CLEAR(s->doc_ids);
    return 0;
}

/* Empty (the per-document store of document scope, reused). */
static void store_reset(Store *s) {
    table_clear(&s->exact);
    table_clear(&s->band);
    table_clear(&s->nz_band);
    s->nz_rstart.n = s->nz_rlen.n = s->nz_recs.n = 0;
    s->set_key.n = s->set_start.n = s->set_len.n = s->ustart.n = s->uend.n = s->pool.n = 0;
    s->nunits = 0;
    s->doc_digest.n = 0;
    s->doc_first.n = 0;
}

static inline size_t store_len(const Store *s) { return s->nunits; }

/* A document's set keys in one value (equal documents, equal digests): what an exact-only store
 * keeps to tell a document fed again unchanged (dedup.index.exact.keys_digest). */
static uint64_t keys_digest(const uint64_t *k, size_t n) {
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++) x ^= k[i] * (((uint64_t)(i + 1) * 0x9E3779B97F4A7C15ULL) | 1);
    return n ? x ^ (uint64_t)n : 0;
}

static int check_room(const Store *s, size_t more) {
    if (store_len(s) + more > 0xFFFFFFFFu) {
        PyErr_SetString(PyExc_OverflowError, "an index holds at most 2**32 - 1 units");
        return -1;
    }
    return 0;
}

static inline uint64_t id_hash_key(Py_hash_t h) { return fmix64((uint64_t)h ^ 0x9E3779B97F4A7C15ULL); }

/* The ordinal of the first document with id `doc_id`, -1 if none, -2 on error. */
static Py_ssize_t store_find_doc(Store *s, PyObject *doc_id) {
    Py_hash_t h = PyObject_Hash(doc_id);
    if (h == -1 && PyErr_Occurred()) return -2;
    uint64_t key = id_hash_key(h);
    size_t n = table_find(&s->doc_hash, key, NULL, 0);
    if (!n) return -1;
    uint32_t small[8];
    uint32_t *ords = n <= 8 ? small : (uint32_t *)malloc(n * sizeof(uint32_t));
    if (!ords) { PyErr_NoMemory(); return -2; }
    table_find(&s->doc_hash, key, ords, n);
    Py_ssize_t found = -1;
    for (size_t k = 0; k < n && found == -1; k++) {
        int eq = PyObject_RichCompareBool(PyList_GET_ITEM(s->doc_ids, ords[k]), doc_id, Py_EQ);
        if (eq < 0) found = -2;
        else if (eq) found = ords[k];
    }
    if (ords != small) free(ords);
    return found;
}

/* A new document: its first unit is the next one; its id is remembered if new. `digest`: of its
 * set keys (kept by an exact-only store). */
static int store_add_doc(Store *s, PyObject *doc_id, int known, uint64_t digest) {
    size_t ord = s->doc_first.n;
    if (ord >= 0xFFFFFFFFu) {
        PyErr_SetString(PyExc_OverflowError, "an index holds at most 2**32 - 1 documents");
        return -1;
    }
    if (VecU64_push(&s->doc_first, store_len(s)) || (!s->stores_sets && VecU64_push(&s->doc_digest, digest))) {
        PyErr_NoMemory();
        return -1;
    }
    if (PyList_Append(s->doc_ids, doc_id)) {
        s->doc_first.n--;
        if (!s->stores_sets) s->doc_digest.n--;
        return -1;
    }
    if (!known) {
        Py_hash_t h = PyObject_Hash(doc_id);
        if (h == -1 && PyErr_Occurred()) return -1;
        if (table_add(&s->doc_hash, id_hash_key(h), (uint32_t)ord)) { PyErr_NoMemory(); return -1; }
    }
    return 0;
}

/* The document holding unit `e` (documents hold consecutive units). */
static size_t store_doc_of(const Store *s, uint64_t e) {
    size_t lo = 0, hi = s->doc_first.n;  /* the last document whose first unit is <= e */
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (s->doc_first.data[mid] <= e) lo = mid; else hi = mid;
    }
    return lo;
}

static int store_add_unit(Store *s, uint64_t key, int64_t start, int64_t end, const uint32_t *set, size_t len,
                          int64_t shares, const uint8_t *rec, size_t rec_len) {
    if (s->nz_bands) {  /* the noisy record (none: length 0) */
        if (rec_len > 0xFFFFFFFFu) { PyErr_SetString(PyExc_OverflowError, "a noisy record over 4 GB"); return -1; }
        if (VecU64_push(&s->nz_rstart, s->nz_recs.n) || VecU32_push(&s->nz_rlen, (uint32_t)rec_len) ||
            VecU8_reserve(&s->nz_recs, s->nz_recs.n + rec_len))
            goto oom;
        if (rec_len) memcpy(s->nz_recs.data + s->nz_recs.n, rec, rec_len);
        s->nz_recs.n += rec_len;
    }
    if (!s->stores_sets) {  /* exact-only: nothing per unit (the exact table holds the first of each set) */
        s->nunits++;
        return 0;
    }
    if (end > (int64_t)0xFFFFFFFFu) {
        PyErr_SetString(PyExc_OverflowError, "an indexed document holds fewer than 2**32 characters");
        return -1;
    }
    if (VecU64_push(&s->set_key, key) || VecU32_push(&s->ustart, (uint32_t)start) || VecU32_push(&s->uend, (uint32_t)end))
        goto oom;
    if (shares >= 0) {
        if (VecU64_push(&s->set_start, s->set_start.data[shares]) ||
            VecU32_push(&s->set_len, s->set_len.data[shares]))
            goto oom;
    } else if (s->stores_sets) {
        if (VecU64_push(&s->set_start, s->pool.n) || VecU32_push(&s->set_len, (uint32_t)len) ||
            VecU32_reserve(&s->pool, s->pool.n + len))
            goto oom;
        memcpy(s->pool.data + s->pool.n, set, len * sizeof(uint32_t));
        s->pool.n += len;
    }
    s->nunits++;
    return 0;
oom:
    PyErr_NoMemory();
    return -1;
}

/* ------------------------------------------------------------------------------------------ */
/* Engine                                                                                      */
/* ------------------------------------------------------------------------------------------ */

/* Records in two phases. Phase one (fingerprints: units, shingle sets, set keys, band keys)
 * depends on nothing but the text, so it runs without the GIL, on a thread of its own while
 * the records before are decided; phase two (decisions against the store, the store updated)
 * runs in input order. A Batch carries records through both: unit g of the batch; document i's
 * units are [dunit[i], dunit[i+1]), their spans relative to its text. */
struct NzWork;  /* the noisy rules' alignment scratch (noisy.h) */
static struct NzWork *nz_work_new(void);
static void nz_work_free(struct NzWork *w);

/* The rule that matched a unit (Batch.rule), whose value is its similarity. */
#define RULE_NEAR 0             /* word-shingle Jaccard (or an exact repeat) */
#define RULE_CONTAINED 1        /* the shortened-copy rule (containment) */
#define RULE_NOISY 2            /* character-shingle Jaccard, confirmed by the alignment */
#define RULE_NOISY_CONTAINED 3  /* character-shingle containment, confirmed by the alignment */

typedef struct {
    VecI64 dunit;       /* per document: its first unit (one more entry: the end) */
    VecI64 dsize;       /* per document: UTF-8 size */
    VecI64 start, end;  /* per unit: span */
    VecI64 ntok;
    VecU64 skey;
    VecI64 off;         /* unit g's set is pool[off[g]:off[g+1]] */
    VecU32 pool;
    VecU64 bkeys;       /* `bands` per unit (none when exact-only) */
    VecU8 inner;        /* per unit: it may hold a repeat inside itself (worth a search in Python) */
    VecI64 iword;       /* per unit: where its word hashes start in iwords (those worth a search) */
    VecU64 iwords;
    VecI64 match;
    VecF64 sim;
    VecU8 exact, removed;
    VecU8 rule;         /* per unit: the rule that matched it (RULE_*; its value in sim) */
    /* the noisy rules, per unit: it has their layer (nz_has); its tokens nz_cps[nz_cpoff[g]:
     * nz_cpoff[g+1]] (one space between), their flags, its character set and noisy band keys */
    VecU8 nz_has;
    VecI64 nz_cpoff, nz_foff, nz_koff;
    VecU32 nz_cps;
    VecU8 nz_flags;
    VecU64 nz_bkeys;
    VecU8 dadded;       /* per document of the last decide: its units were added to the store */
    PyObject *ids;      /* the last decide's document ids (a reference, for added()) */
    PyObject *texts;    /* borrowed while phase two runs: the list of the batch's texts */
} Batch;

/* What phase one writes while it works (one per thread that runs it). */
typedef struct {
    VecU64 words;        /* one unit's word hashes */
    VecU32 mixed;        /* one set, pre-mixed for MinHash; sort scratch */
    uint32_t *sig;       /* one signature */
    VecI64 ustart, uend; /* one text's units */
    VecU8 longbuf;       /* a long word's UTF-8 */
    VecU32 grams;        /* one unit's n-gram hashes in text order (the inner-repeat check) */
    VecU64 last;         /* gram -> last position, open addressing (the inner-repeat check) */
    Spaces sp;
    uint32_t *nz_sig;    /* one noisy signature */
    VecU32 nz_tmp;       /* the noisy character stream; sort scratch */
    VecU32 nz_grams;     /* one unit's character shingle hashes */
    PyThreadState *released;  /* the GIL, when phase one gave it up (taken back to call Python) */
} Scratch;

typedef struct {
    PyObject_HEAD
    int ngram, num_perm, bands, rows, min_tokens, granularity, case_fold, py_tokens;
    int inner, inner_min, exact_only;
    uint32_t cap;
    double threshold;
    double contain;        /* the shortened-copy rule's containment (0: off) */
    int contain_min_tokens;
    double contain_min_size;
    /* the noisy rules (NoisyRules; nz_on 0: off) */
    int nz_on, nz_ngram, nz_perm, nz_bands, nz_rows, nz_min_tokens, nz_keep_names;
    double nz_threshold, nz_contain, nz_max_unexplained, nz_max_added;
    uint32_t *nz_pa, *nz_pb;
    PyObject *nz_python;  /* dedup.text.noisy.noisy_tokens: for characters the tables cannot fold */
    PyObject *nz_nfkc;    /* unicodedata's NFKC, tried first for them */
    struct NzWork *nzw;   /* the alignment's scratch */
    uint32_t *pa, *pb;
    uint64_t *mult;   /* multiplier i (n-gram position i; band row i) */
    uint64_t m_len, m_size, m_salt;
    PyObject *load_tables, *normalize, *tokenize, *removal_type, *result_type, *round_fn;
    PyObject *units_fn;   /* this engine's units method: the splitter an unchanged result keeps */
    PyObject *s_text, *s_doc_id, *s_paragraphs, *s_removed, *s_original_length;  /* slot names */
    PyObject *reason_exact, *reason_near, *reason_run;
    PyObject *reason_rule[4];  /* by RULE_*: near, contained, noisy, noisy-contained */
    PyObject *tables;  /* (fold, word, space, digit) arrays, kept alive */
    Py_buffer fold_buf, word_buf, space_buf, digit_buf;
    int tables_loaded;
    Folding fo;
    const uint8_t *space;
    size_t space_n;
    Scratch sc;        /* for the calls made on the engine itself (run, units, sets) */
    Batch b;           /* run()'s batch */
    /* phase two's scratch */
    uint32_t *bcount;  /* ids found per band key of the unit being decided */
    int known;         /* its set key is in the exact table */
    uint32_t *nz_bcount;  /* ids found per noisy band key of the unit (when nz_counted) */
    int nz_counted;
    VecU32 cand, found, sortbuf;
    VecU64 order;
    Store *local;      /* document scope: the store of the document being decided */
    long long st_docs, st_units, st_chars, st_bytes, st_replayed;
} Engine;

/* Records fingerprinted ahead (Engine.prints), decided later (Engine.decide). */
typedef struct {
    PyObject_HEAD
    PyObject *texts;  /* the list fingerprinted (kept: phase one reads the strings' storage) */
    Batch b;
    Scratch sc;
    int decided;
} Prints;

static PyTypeObject EngineType, PrintsType;

static void batch_free(Batch *b) {
    VecI64_free(&b->dunit); VecI64_free(&b->dsize); VecI64_free(&b->start); VecI64_free(&b->end);
    VecI64_free(&b->ntok); VecU64_free(&b->skey); VecI64_free(&b->off); VecU32_free(&b->pool);
    VecU64_free(&b->bkeys); VecU8_free(&b->inner); VecI64_free(&b->iword); VecU64_free(&b->iwords);
    VecI64_free(&b->match); VecF64_free(&b->sim); VecU8_free(&b->exact);
    VecU8_free(&b->removed);
    VecU8_free(&b->rule);
    VecU8_free(&b->nz_has); VecI64_free(&b->nz_cpoff); VecI64_free(&b->nz_foff);
    VecI64_free(&b->nz_koff); VecU32_free(&b->nz_cps); VecU8_free(&b->nz_flags);
    VecU64_free(&b->nz_bkeys);
    VecU8_free(&b->dadded);
    Py_CLEAR(b->ids);
}

static void batch_reset(Batch *b) {
    b->dunit.n = b->dsize.n = b->start.n = b->end.n = b->ntok.n = b->off.n = b->skey.n = b->bkeys.n = 0;
    b->inner.n = b->iword.n = b->iwords.n = 0;
    b->pool.n = 0;
    b->nz_has.n = b->nz_cpoff.n = b->nz_foff.n = b->nz_koff.n = 0;
    b->nz_cps.n = b->nz_flags.n = b->nz_bkeys.n = 0;
}

/* The first entries of a batch's offset arrays. */
static int batch_start(Batch *b) {
    return VecI64_push(&b->off, 0) || VecI64_push(&b->nz_cpoff, 0) || VecI64_push(&b->nz_foff, 0) ||
           VecI64_push(&b->nz_koff, 0);
}

static int scratch_init(Scratch *sc, int num_perm, int nz_perm) {
    memset(sc, 0, sizeof *sc);
    sc->sig = (uint32_t *)malloc(sizeof(uint32_t) * (size_t)num_perm);
    sc->nz_sig = (uint32_t *)malloc(sizeof(uint32_t) * (size_t)(nz_perm > 0 ? nz_perm : 1));
    return sc->sig && sc->nz_sig ? 0 : -1;
}

static void scratch_free(Scratch *sc) {
    free(sc->sig);
    sc->sig = NULL;
    free(sc->nz_sig);
    sc->nz_sig = NULL;
    VecU32_free(&sc->nz_tmp);
    VecU32_free(&sc->nz_grams);
    VecU64_free(&sc->words); VecU32_free(&sc->mixed); VecI64_free(&sc->ustart); VecI64_free(&sc->uend);
    VecU8_free(&sc->longbuf); VecU32_free(&sc->grams); VecU64_free(&sc->last); VecU8_free(&sc->sp.joins); VecI64_free(&sc->sp.para_starts);
    VecI64_free(&sc->sp.para_ends);
}

static void sort_u32(uint32_t *a, size_t n, VecU32 *tmp) {
    if (n <= 48) {
        for (size_t i = 1; i < n; i++) {
            uint32_t x = a[i];
            size_t j = i;
            while (j > 0 && a[j - 1] > x) { a[j] = a[j - 1]; j--; }
            a[j] = x;
        }
        return;
    }
    if (VecU32_reserve(tmp, n)) {  /* no memory for the radix sort: an insertion sort still sorts */
        for (size_t i = 1; i < n; i++) {
            uint32_t x = a[i];
            size_t j = i;
            while (j > 0 && a[j - 1] > x) { a[j] = a[j - 1]; j--; }
            a[j] = x;
        }
        return;
    }
    uint32_t *src = a, *dst = tmp->data;
    size_t count[257];
    for (int shift = 0; shift < 32; shift += 8) {
        memset(count, 0, sizeof count);
        for (size_t i = 0; i < n; i++) count[((src[i] >> shift) & 0xFF) + 1]++;
        for (int k = 0; k < 256; k++) count[k + 1] += count[k];
        for (size_t i = 0; i < n; i++) dst[count[(src[i] >> shift) & 0xFF]++] = src[i];
        uint32_t *x = src; src = dst; dst = x;
    }
    /* four passes: the result is back in `a` */
}

/* Python may be called from phase one only through these (the GIL taken back, given up again). */
static inline void gil_take(Scratch *sc) { if (sc->released) PyEval_RestoreThread(sc->released); }
static inline void gil_give(Scratch *sc) { if (sc->released) sc->released = PyEval_SaveThread(); }

static int get_u64s(PyObject *obj, size_t want, uint64_t **out, const char *what) {
    Py_buffer b;
    if (PyObject_GetBuffer(obj, &b, PyBUF_C_CONTIGUOUS)) return -1;
    if (b.itemsize != 8 || (size_t)(b.len / 8) < want) {
        PyBuffer_Release(&b);
        PyErr_Format(PyExc_ValueError, "%s: need %zu 64-bit values", what, want);
        return -1;
    }
    *out = (uint64_t *)malloc(want * 8 + 8);
    if (!*out) { PyBuffer_Release(&b); PyErr_NoMemory(); return -1; }
    memcpy(*out, b.buf, want * 8);
    PyBuffer_Release(&b);
    return 0;
}

static int get_u32s(PyObject *obj, size_t want, uint32_t **out, const char *what) {
    Py_buffer b;
    if (PyObject_GetBuffer(obj, &b, PyBUF_C_CONTIGUOUS)) return -1;
    if (b.itemsize != 4 || (size_t)(b.len / 4) != want) {
        PyBuffer_Release(&b);
        PyErr_Format(PyExc_ValueError, "%s: need %zu 32-bit values", what, want);
        return -1;
    }
    *out = (uint32_t *)malloc(want * 4 + 4);
    if (!*out) { PyBuffer_Release(&b); PyErr_NoMemory(); return -1; }
    memcpy(*out, b.buf, want * 4);
    PyBuffer_Release(&b);
    return 0;
}

static int Engine_init(Engine *e, PyObject *args, PyObject *kw) {
    static char *names[] = {"ngram", "num_perm", "perm_a", "perm_b", "bands", "rows", "multipliers", "m_len",
                            "m_size", "m_salt", "threshold", "min_tokens", "cap", "granularity", "case_fold",
                            "python_tokens", "inner", "inner_min_tokens", "exact_only", "load_tables",
                            "normalize", "tokenize", "removal_type", "result_type", "steps", "containment",
                            "containment_min_tokens", "containment_min_size", "noisy", "noisy_tokens", NULL};
    PyObject *noisy = Py_None, *noisy_tokens = Py_None;
    PyObject *pa, *pb, *mults;
    unsigned long long m_len, m_size, m_salt;
    int cap;
    if (e->pa) {
        PyErr_SetString(PyExc_RuntimeError, "Engine is initialized once");
        return -1;
    }
    if (!PyArg_ParseTupleAndKeywords(
            args, kw, "iiOOiiOKKKdiiipppipOOOOO|ididOO", names, &e->ngram, &e->num_perm, &pa, &pb, &e->bands, &e->rows,
            &mults, &m_len, &m_size, &m_salt, &e->threshold, &e->min_tokens, &cap, &e->granularity, &e->case_fold,
            &e->py_tokens, &e->inner, &e->inner_min, &e->exact_only, &e->load_tables, &e->normalize, &e->tokenize,
            &e->removal_type, &e->result_type, &e->fo.steps, &e->contain, &e->contain_min_tokens,
            &e->contain_min_size, &noisy, &noisy_tokens))
        return -1;
    if (noisy != Py_None) {
        PyObject *na, *nb;
        if (!PyArg_ParseTuple(noisy, "iOOiiddiddp;noisy: (ngram, perm_a, perm_b, bands, rows, threshold, containment, "
                              "min_tokens, max_unexplained, max_added, keep_name_changes)",
                              &e->nz_ngram, &na, &nb, &e->nz_bands, &e->nz_rows, &e->nz_threshold, &e->nz_contain,
                              &e->nz_min_tokens, &e->nz_max_unexplained, &e->nz_max_added, &e->nz_keep_names))
            return -1;
        e->nz_perm = (int)(PyObject_Length(na) > 0 ? PyObject_Length(na) : 0);
        if (e->nz_ngram < 1 || e->nz_bands < 1 || e->nz_rows < 1 || (long)e->nz_bands * e->nz_rows > e->nz_perm ||
            !PyCallable_Check(noisy_tokens)) {
            PyErr_SetString(PyExc_ValueError, "Engine: noisy settings out of range (or no noisy_tokens callable)");
            return -1;
        }
        if (get_u32s(na, (size_t)e->nz_perm, &e->nz_pa, "noisy perm_a") ||
            get_u32s(nb, (size_t)e->nz_perm, &e->nz_pb, "noisy perm_b"))
            return -1;
        e->nz_on = 1;
        e->nz_python = Py_NewRef(noisy_tokens);
        PyObject *ud = PyImport_ImportModule("unicodedata");
        if (!ud) return -1;
        PyObject *norm = PyObject_GetAttrString(ud, "normalize");
        Py_DECREF(ud);
        if (!norm) return -1;
        PyObject *functools = PyImport_ImportModule("functools");
        if (!functools) { Py_DECREF(norm); return -1; }
        e->nz_nfkc = PyObject_CallMethod(functools, "partial", "Os", norm, "NFKC");
        Py_DECREF(functools);
        Py_DECREF(norm);
        if (!e->nz_nfkc) return -1;
        e->nzw = nz_work_new();
        e->nz_bcount = (uint32_t *)malloc(sizeof(uint32_t) * (size_t)e->nz_bands);
        if (!e->nzw || !e->nz_bcount) { PyErr_NoMemory(); return -1; }
    }
    if (e->ngram < 1 || e->num_perm < 1 || e->bands < 0 || e->rows < 1 || (long)e->bands * e->rows > e->num_perm ||
        cap < 1 || e->granularity < 0 || e->granularity > 3) {
        PyErr_SetString(PyExc_ValueError, "Engine: settings out of range");
        return -1;
    }
    if (!PyType_Check(e->removal_type) || !PyType_Check(e->result_type)) {
        PyErr_SetString(PyExc_TypeError, "removal_type and result_type must be types");
        return -1;
    }
    e->cap = (uint32_t)cap;
    e->m_len = m_len;
    e->m_size = m_size;
    e->m_salt = m_salt;
    int nm = e->ngram > e->rows ? e->ngram : e->rows;
    if (e->nz_on && e->nz_ngram > nm) nm = e->nz_ngram;
    if (e->nz_on && e->nz_rows > nm) nm = e->nz_rows;
    if (get_u32s(pa, (size_t)e->num_perm, &e->pa, "perm_a") || get_u32s(pb, (size_t)e->num_perm, &e->pb, "perm_b") ||
        get_u64s(mults, (size_t)nm, &e->mult, "multipliers"))
        return -1;
    Py_INCREF(e->load_tables); Py_INCREF(e->normalize); Py_INCREF(e->tokenize); Py_INCREF(e->removal_type);
    Py_INCREF(e->result_type);
    e->s_text = PyUnicode_InternFromString("text");
    e->s_doc_id = PyUnicode_InternFromString("doc_id");
    e->s_paragraphs = PyUnicode_InternFromString("_paragraphs");
    e->s_removed = PyUnicode_InternFromString("removed");
    e->s_original_length = PyUnicode_InternFromString("original_length");
    if (!e->s_text || !e->s_doc_id || !e->s_paragraphs || !e->s_removed || !e->s_original_length) return -1;
    PyObject *builtins = PyEval_GetBuiltins();
    e->round_fn = builtins ? PyDict_GetItemString(builtins, "round") : NULL;
    if (!e->round_fn) { PyErr_SetString(PyExc_RuntimeError, "no builtin round"); return -1; }
    Py_INCREF(e->round_fn);
    e->reason_exact = PyUnicode_InternFromString("exact");
    e->reason_near = PyUnicode_InternFromString("near");
    e->reason_run = PyUnicode_InternFromString("run");
    e->reason_rule[RULE_NEAR] = Py_NewRef(e->reason_near);
    e->reason_rule[RULE_CONTAINED] = PyUnicode_InternFromString("contained");
    e->reason_rule[RULE_NOISY] = PyUnicode_InternFromString("noisy");
    e->reason_rule[RULE_NOISY_CONTAINED] = PyUnicode_InternFromString("noisy-contained");
    if (!e->reason_exact || !e->reason_near || !e->reason_run || !e->reason_rule[1] || !e->reason_rule[2] ||
        !e->reason_rule[3])
        return -1;
    e->bcount = (uint32_t *)malloc(sizeof(uint32_t) * (size_t)(e->bands + 1));
    if (!e->bcount || scratch_init(&e->sc, e->num_perm, e->nz_perm)) { PyErr_NoMemory(); return -1; }
    e->local = (Store *)PyObject_CallFunction((PyObject *)&StoreType, "iiii", e->bands, cap, 1, e->nz_on ? e->nz_bands : 0);
    return e->local ? 0 : -1;
}

static void Engine_dealloc(Engine *e) {
    PyObject_GC_UnTrack(e);
    free(e->pa); free(e->pb); free(e->mult); free(e->bcount);
    scratch_free(&e->sc);
    batch_free(&e->b);
    VecU32_free(&e->cand); VecU32_free(&e->found); VecU32_free(&e->sortbuf); VecU64_free(&e->order);
    if (e->tables_loaded) {
        PyBuffer_Release(&e->fold_buf); PyBuffer_Release(&e->word_buf); PyBuffer_Release(&e->space_buf);
        PyBuffer_Release(&e->digit_buf);
    }
    Py_CLEAR(e->tables); Py_CLEAR(e->load_tables); Py_CLEAR(e->normalize); Py_CLEAR(e->tokenize);
    Py_CLEAR(e->removal_type); Py_CLEAR(e->result_type); Py_CLEAR(e->round_fn); Py_CLEAR(e->units_fn);
    Py_CLEAR(e->s_text); Py_CLEAR(e->s_doc_id); Py_CLEAR(e->s_paragraphs); Py_CLEAR(e->s_removed);
    Py_CLEAR(e->s_original_length);
    Py_CLEAR(e->reason_exact); Py_CLEAR(e->reason_near); Py_CLEAR(e->reason_run);
    for (int r = 0; r < 4; r++) Py_CLEAR(e->reason_rule[r]);
    free(e->nz_pa); free(e->nz_pb); free(e->nz_bcount);
    Py_CLEAR(e->nz_python);
    Py_CLEAR(e->nz_nfkc);
    if (e->nzw) { nz_work_free(e->nzw); e->nzw = NULL; }
    Py_CLEAR(e->local);
    Py_TYPE(e)->tp_free((PyObject *)e);
}

static int Engine_traverse(Engine *e, visitproc visit, void *arg) {
    Py_VISIT(e->tables); Py_VISIT(e->load_tables); Py_VISIT(e->normalize); Py_VISIT(e->tokenize);
    Py_VISIT(e->removal_type); Py_VISIT(e->result_type); Py_VISIT(e->units_fn); Py_VISIT(e->local);
    return 0;
}

static int Engine_clear(Engine *e) {
    Py_CLEAR(e->units_fn);  /* a bound method of the engine itself: the one cycle */
    return 0;
}

/* The fold, word and space tables of non-ASCII text, asked from Python once (with the GIL). */
static int engine_tables(Engine *e) {
    if (e->tables_loaded) return 0;
    PyObject *t = PyObject_CallNoArgs(e->load_tables);
    if (!t) return -1;
    if (!PyTuple_Check(t) || PyTuple_GET_SIZE(t) != 4) {
        Py_DECREF(t);
        PyErr_SetString(PyExc_TypeError, "load_tables must return (fold, word, space, digit)");
        return -1;
    }
    if (PyObject_GetBuffer(PyTuple_GET_ITEM(t, 0), &e->fold_buf, PyBUF_C_CONTIGUOUS)) { Py_DECREF(t); return -1; }
    if (PyObject_GetBuffer(PyTuple_GET_ITEM(t, 1), &e->word_buf, PyBUF_C_CONTIGUOUS)) {
        PyBuffer_Release(&e->fold_buf); Py_DECREF(t); return -1;
    }
    if (PyObject_GetBuffer(PyTuple_GET_ITEM(t, 2), &e->space_buf, PyBUF_C_CONTIGUOUS)) {
        PyBuffer_Release(&e->fold_buf); PyBuffer_Release(&e->word_buf); Py_DECREF(t); return -1;
    }
    if (PyObject_GetBuffer(PyTuple_GET_ITEM(t, 3), &e->digit_buf, PyBUF_C_CONTIGUOUS)) {
        PyBuffer_Release(&e->fold_buf); PyBuffer_Release(&e->word_buf); PyBuffer_Release(&e->space_buf);
        Py_DECREF(t);
        return -1;
    }
    if (e->fold_buf.itemsize != 4 || e->word_buf.itemsize != 1 || e->space_buf.itemsize != 1 ||
        e->digit_buf.itemsize != 1) {
        PyBuffer_Release(&e->fold_buf); PyBuffer_Release(&e->word_buf); PyBuffer_Release(&e->space_buf);
        PyBuffer_Release(&e->digit_buf);
        Py_DECREF(t);
        PyErr_SetString(PyExc_TypeError, "tables: fold uint32, word, space and digit uint8");
        return -1;
    }
    e->tables = t;
    e->fo.fold = (const uint32_t *)e->fold_buf.buf;
    e->fo.fold_n = (size_t)(e->fold_buf.len / 4);
    e->fo.word = (const uint8_t *)e->word_buf.buf;
    e->fo.word_n = (size_t)e->word_buf.len;
    e->space = (const uint8_t *)e->space_buf.buf;
    e->space_n = (size_t)e->space_buf.len;
    e->fo.digit = (const uint8_t *)e->digit_buf.buf;
    e->fo.digit_n = (size_t)e->digit_buf.len;
    e->tables_loaded = 1;
    return 0;
}

/* Tables for every text of a list, before phase one gives up the GIL. */
static int tables_for(Engine *e, PyObject *texts) {
    if (e->tables_loaded) return 0;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(texts); i++)
        if (!PyUnicode_IS_ASCII(PyList_GET_ITEM(texts, i))) return engine_tables(e);
    return 0;
}

static int tokenize_str_with(const Folding *fo, int fold, PyObject *s, Py_ssize_t a, Py_ssize_t b, VecU64 *words,
                             VecU8 *longbuf) {
    const void *data = PyUnicode_DATA(s);
    switch (PyUnicode_KIND(s)) {
    case PyUnicode_1BYTE_KIND: return tokenize_u8(fo, fold, (const uint8_t *)data, a, b, words, longbuf);
    case PyUnicode_2BYTE_KIND: return tokenize_u16(fo, fold, (const uint16_t *)data, a, b, words, longbuf);
    default: return tokenize_u32(fo, fold, (const uint32_t *)data, a, b, words, longbuf);
    }
}

static int tokenize_str(const Engine *e, Scratch *sc, int fold, PyObject *s, Py_ssize_t a, Py_ssize_t b) {
    return tokenize_str_with(&e->fo, fold, s, a, b, &sc->words, &sc->longbuf);
}

/* Word hashes of tokens Python made (normalization steps, a tokenizer of one's own). GIL held. */
static int hash_tokens(Scratch *sc, PyObject *tokens) {
    PyObject *seq = PySequence_Fast(tokens, "tokenize must return a sequence of str");
    if (!seq) return -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *utf8 = PyUnicode_AsEncodedString(PySequence_Fast_GET_ITEM(seq, i), "utf-8", "surrogatepass");
        if (!utf8) { Py_DECREF(seq); return -1; }
        Py_ssize_t len = PyBytes_GET_SIZE(utf8);
        uint64_t h = len ? xxh3_64((const uint8_t *)PyBytes_AS_STRING(utf8), (size_t)len) : 0x2D06800538D394C2ULL;
        Py_DECREF(utf8);
        if (VecU64_push(&sc->words, h ? h : 1)) { Py_DECREF(seq); PyErr_NoMemory(); return -1; }
    }
    Py_DECREF(seq);
    return 0;
}

/* Python's part of a unit's words (GIL taken back if phase one gave it up): tokens of a tokenizer
 * or normalization steps, or the unit normalized by Python (a character the table cannot fold
 * alone) and then tokenized here. -1: a Python error is set. */
static int python_words(const Engine *e, Scratch *sc, PyObject *text, Py_ssize_t a, Py_ssize_t b) {
    gil_take(sc);
    int r = -1;
    sc->words.n = 0;
    PyObject *unit = PyUnicode_Substring(text, a, b);
    if (unit) {
        if (e->py_tokens) {
            PyObject *tokens = PyObject_CallOneArg(e->tokenize, unit);
            r = tokens ? hash_tokens(sc, tokens) : -1;
            Py_XDECREF(tokens);
        } else {
            PyObject *norm = PyObject_CallOneArg(e->normalize, unit);
            if (norm && !PyUnicode_Check(norm)) PyErr_SetString(PyExc_TypeError, "normalize must return str");
            else if (norm && (r = tokenize_str(e, sc, 0, norm, 0, PyUnicode_GET_LENGTH(norm))) < 0) PyErr_NoMemory();
            Py_XDECREF(norm);
        }
        Py_DECREF(unit);
    }
    gil_give(sc);
    return r < 0 ? -1 : 0;
}

/* Whether a unit's n-grams (in text order) can hold a copied region the inner-repeat search would
 * cut: a run of >= ngram consecutive positions whose n-grams recur at one distance, in a group of
 * recurring positions (gaps of at most 3 n-grams: the search joins runs across 2 and extends them
 * only over recurring n-grams) spanning >= min_tokens tokens. A necessary condition only (the
 * search decides): most long paragraphs fail it and never reach Python. */
static int may_repeat_inside(const Engine *e, Scratch *sc, size_t n) {
    size_t slots = 64;
    while (slots < 2 * n) slots *= 2;
    if (VecU64_reserve(&sc->last, slots)) return 1;  /* no memory for the check: let Python look */
    uint64_t *last = sc->last.data;  /* (gram << 32) | (position + 1); 0: empty */
    memset(last, 0, slots * sizeof(uint64_t));
    const uint32_t *grams = sc->grams.data;
    size_t ng = (size_t)e->ngram, gap = 3 * ng, need = (size_t)e->inner_min;
    size_t run_len = 0, prev_pos = 0, prev_dist = 0, group_first = 0;
    int any = 0, group_long = 0;
    for (size_t p = 0; p < n; p++) {
        uint32_t g = grams[p];
        size_t h = (size_t)fmix32(g) & (slots - 1), dist = 0;
        while (last[h] && (uint32_t)(last[h] >> 32) != g) h = (h + 1) & (slots - 1);
        if (last[h]) dist = p - ((size_t)(last[h] & 0xFFFFFFFFu) - 1);
        last[h] = ((uint64_t)g << 32) | (uint64_t)(p + 1);
        if (!dist) continue;
        if (!any || p - prev_pos > gap) {  /* a new group */
            group_first = p;
            group_long = 0;
            run_len = 0;
        }
        run_len = (any && p == prev_pos + 1 && dist == prev_dist) ? run_len + 1 : 1;
        if (run_len >= ng) group_long = 1;
        if (group_long && p + ng - group_first >= need) return 1;
        any = 1;
        prev_pos = p;
        prev_dist = dist;
    }
    return 0;
}

/* The shingle set of the unit whose words are in sc->words: word n-gram hashes (fewer tokens:
 * one shingle of all of them), sorted and unique, appended to the pool; its key and token count. */
static int unit_set(const Engine *e, Scratch *sc, Batch *b) {
    size_t nt = sc->words.n, ng = (size_t)e->ngram;
    size_t count = nt >= ng ? nt - ng + 1 : 1;
    if (VecU32_reserve(&b->pool, b->pool.n + count)) return -1;
    uint32_t *out = b->pool.data + b->pool.n;
    const uint64_t *w = sc->words.data, *m = e->mult;
    if (nt >= ng) {
        uint64_t base = (uint64_t)ng * e->m_len;
        for (size_t j = 0; j < count; j++) {
            uint64_t acc = base;
            for (size_t k = 0; k < ng; k++) acc += w[j + k] * m[k];
            out[j] = (uint32_t)(fmix64(acc) >> 32);
        }
    } else {
        uint64_t acc = (uint64_t)nt * e->m_len;
        for (size_t k = 0; k < nt; k++) acc += w[k] * m[k];
        out[0] = (uint32_t)(fmix64(acc) >> 32);
    }
    int check = e->inner && e->granularity == 0 && nt > (size_t)e->inner_min && nt > ng;
    if (check) {
        if (VecU32_reserve(&sc->grams, count)) return -1;
        memcpy(sc->grams.data, out, count * sizeof(uint32_t));
    }
    sort_u32(out, count, &sc->mixed);
    size_t u = 0;
    uint64_t sum = 0;
    for (size_t j = 0; j < count; j++) {
        if (j == 0 || out[j] != out[u - 1]) {
            out[u++] = out[j];
            sum += fmix64((uint64_t)out[j] + 0x9E3779B97F4A7C15ULL);
        }
    }
    b->pool.n += u;
    /* rules.worth_searching, then the check on the n-grams themselves */
    int inner = check && (double)((int64_t)count - (int64_t)u) >= e->threshold * (double)(e->inner_min - e->ngram + 1) &&
                may_repeat_inside(e, sc, count);
    if (VecI64_push(&b->off, (int64_t)b->pool.n) || VecI64_push(&b->ntok, (int64_t)nt) ||
        VecU64_push(&b->skey, fmix64(sum + (uint64_t)u * e->m_size)) || VecU8_push(&b->inner, (uint8_t)inner) ||
        VecI64_push(&b->iword, (int64_t)b->iwords.n))
        return -1;
    if (inner) {  /* its words go to Python with it: the search need not tokenize it again */
        if (VecU64_reserve(&b->iwords, b->iwords.n + nt)) return -1;
        memcpy(b->iwords.data + b->iwords.n, sc->words.data, nt * sizeof(uint64_t));
        b->iwords.n += nt;
    }
    return 0;
}

/* MinHash signature (datasketch's affine32: fmix32, then a*h + b mod 2**32). */
#if defined(__GNUC__) && !defined(__clang__) && (defined(__x86_64__) || defined(__i386__))
__attribute__((target_clones("avx2", "default")))
#endif
static void minhash(const uint32_t *restrict mixed, size_t n, const uint32_t *restrict a, const uint32_t *restrict b,
                    uint32_t *restrict sig, int k) {
    for (int p = 0; p < k; p++) sig[p] = 0xFFFFFFFFu;
    for (size_t j = 0; j < n; j++) {
        uint32_t h = mixed[j];
        for (int p = 0; p < k; p++) {
            uint32_t v = h * a[p] + b[p];
            sig[p] = v < sig[p] ? v : sig[p];
        }
    }
}

/* The band keys of a set, appended to `out`. */
static int band_keys(const Engine *e, Scratch *sc, const uint32_t *set, size_t len, VecU64 *out) {
    if (VecU32_reserve(&sc->mixed, len) || VecU64_reserve(out, out->n + (size_t)e->bands)) return -1;
    for (size_t j = 0; j < len; j++) sc->mixed.data[j] = fmix32(set[j]);
    minhash(sc->mixed.data, len, e->pa, e->pb, sc->sig, e->num_perm);
    uint64_t *keys = out->data + out->n;
    for (int band = 0; band < e->bands; band++) {
        uint64_t acc = (uint64_t)(band + 1) * e->m_salt;
        const uint32_t *s = sc->sig + (size_t)band * e->rows;
        for (int r = 0; r < e->rows; r++) acc += (uint64_t)s[r] * e->mult[r];
        keys[band] = fmix64(acc);
    }
    out->n += (size_t)e->bands;
    return 0;
}

/* One unit [a, b) of `text`: its words, set and (when `banded`) band keys, appended to the batch.
 * -1: out of memory (no Python error set) or -2: a Python error is set. */
static int unit_prints(const Engine *e, Scratch *sc, Batch *bt, PyObject *text, Py_ssize_t a, Py_ssize_t b,
                       int banded) {
    sc->words.n = 0;
    int r = e->py_tokens ? 1 : tokenize_str(e, sc, e->case_fold, text, a, b);
    if (r < 0) return -1;
    if (r == 1 && python_words(e, sc, text, a, b)) return -2;
    if (unit_set(e, sc, bt)) return -1;
    if (banded) {
        size_t u = bt->ntok.n - 1;
        if (band_keys(e, sc, bt->pool.data + bt->off.data[u], (size_t)(bt->off.data[u + 1] - bt->off.data[u]),
                      &bt->bkeys))
            return -1;
    }
    return 0;
}

/* A text's units (into the scratch spans); its UTF-8 size. */
static int text_units(const Engine *e, Scratch *sc, PyObject *text, Py_ssize_t *utf8) {
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    const void *data = PyUnicode_DATA(text);
    sc->sp.table = e->space;
    sc->sp.n = e->space_n;
    int r;
    switch (PyUnicode_KIND(text)) {
    case PyUnicode_1BYTE_KIND:
        r = units_u8(&sc->sp, (const uint8_t *)data, n, e->granularity, &sc->ustart, &sc->uend);
        if (utf8) *utf8 = PyUnicode_IS_ASCII(text) ? n : utf8_size_u8((const uint8_t *)data, n);
        break;
    case PyUnicode_2BYTE_KIND:
        r = units_u16(&sc->sp, (const uint16_t *)data, n, e->granularity, &sc->ustart, &sc->uend);
        if (utf8) *utf8 = utf8_size_u16((const uint16_t *)data, n);
        break;
    default:
        r = units_u32(&sc->sp, (const uint32_t *)data, n, e->granularity, &sc->ustart, &sc->uend);
        if (utf8) *utf8 = utf8_size_u32((const uint32_t *)data, n);
    }
    return r ? -1 : 0;
}

#include "noisy.h"

/* Phase one for a text: its units, each unit's set and band keys, appended to the batch.
 * -1: out of memory, -2: a Python error is set. */
static int doc_prints(const Engine *e, Scratch *sc, Batch *b, PyObject *text) {
    Py_ssize_t utf8 = 0;
    if (text_units(e, sc, text, &utf8)) return -1;
    size_t n = sc->ustart.n;
    if (VecI64_reserve(&b->start, b->start.n + n) || VecI64_reserve(&b->end, b->end.n + n)) return -1;
    memcpy(b->start.data + b->start.n, sc->ustart.data, n * sizeof(int64_t));
    memcpy(b->end.data + b->end.n, sc->uend.data, n * sizeof(int64_t));
    b->start.n += n;
    b->end.n += n;
    for (size_t u = 0; u < n; u++) {
        int r = unit_prints(e, sc, b, text, (Py_ssize_t)sc->ustart.data[u], (Py_ssize_t)sc->uend.data[u],
                            !e->exact_only);
        if (!r) r = nz_unit_prints(e, sc, b, text, (Py_ssize_t)sc->ustart.data[u], (Py_ssize_t)sc->uend.data[u]);
        if (r) return r;
    }
    if (VecI64_push(&b->dunit, (int64_t)b->start.n) || VecI64_push(&b->dsize, utf8)) return -1;
    return 0;
}

/* Phase one for a list of texts (all str): the batch filled in. With `release`, the GIL is given
 * up meanwhile (taken back only to call Python, which few texts need). -1 with an error set. */
static int batch_prints(Engine *e, Scratch *sc, Batch *b, PyObject *texts, int release) {
    if (tables_for(e, texts)) return -1;
    batch_reset(b);
    if (batch_start(b) || VecI64_push(&b->dunit, 0)) { PyErr_NoMemory(); return -1; }
    Py_ssize_t n = PyList_GET_SIZE(texts);
    int r = 0;
    sc->released = release ? PyEval_SaveThread() : NULL;
    for (Py_ssize_t i = 0; i < n && !r; i++) r = doc_prints(e, sc, b, PyList_GET_ITEM(texts, i));
    if (sc->released) PyEval_RestoreThread(sc->released);
    sc->released = NULL;
    if (r == -1) PyErr_NoMemory();
    return r ? -1 : 0;
}

/* |a & b| of two sorted sets, or -1 as soon as it cannot reach `need` (the intersection can
 * grow by at most what is left of the shorter remainder). */
static int64_t overlap_if_reaches(const uint32_t *a, size_t la, const uint32_t *b, size_t lb, double need) {
    need -= 1e-6;
    if ((double)(la < lb ? la : lb) < need) return -1;
    size_t i = 0, j = 0, inter = 0;
    while (i < la && j < lb) {
        uint32_t x = a[i], y = b[j];
        if (x == y) {
            inter++; i++; j++;
        } else {
            if (x < y) i++; else j++;
            size_t left_a = la - i, left_b = lb - j;
            if ((double)(inter + (left_a < left_b ? left_a : left_b)) < need) return -1;
        }
    }
    return (int64_t)inter;
}

/* Jaccard of two sorted sets when it can reach t; -1 as soon as it provably cannot. */
static double jaccard_if_reaches(const uint32_t *a, size_t la, const uint32_t *b, size_t lb, double t) {
    if (la == 0 || lb == 0) return la == lb ? 1.0 : 0.0;
    int64_t inter = overlap_if_reaches(a, la, b, lb, t * (double)(la + lb) / (1.0 + t));
    return inter < 0 ? -1.0 : (double)inter / (double)(la + lb - (size_t)inter);
}

static inline const uint32_t *store_set(const Store *s, uint64_t e, size_t *len) {
    *len = s->set_len.data[e];
    return s->pool.data + s->set_start.data[e];
}

static int cmp_u64(const void *x, const void *y) {
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return a < b ? -1 : a > b;
}

/* Start the memory reads of unit g's look-ups (a few units ahead of deciding it). */
PREFETCHER void prefetch_unit(const Engine *e, const Store *s, const Batch *b, size_t g) {
    table_prefetch(&s->exact, b->skey.data[g]);
    if (!e->exact_only)
        for (int k = 0; k < e->bands; k++) table_prefetch(&s->band, b->bkeys.data[g * (size_t)e->bands + k]);
    if (s->nz_bands && b->nz_has.data[g])
        for (int k = 0; k < s->nz_bands; k++) table_prefetch(&s->nz_band, b->nz_bkeys.data[b->nz_koff.data[g] + k]);
}

/* The candidates of one unit's band keys in `table` (the earliest `cap` ids per key, those before
 * `before`) into e->order: distinct, by shared bands (desc) then id (asc), each as
 * (~shared << 32 | id). `counts` gets the ids stored per key (for the insert). */
static int gather_candidates(Engine *e, const Table *table, const uint64_t *keys, int bands, uint32_t *counts,
                             uint64_t before) {
    VecU32 *cand = &e->cand;
    VecU64 *order = &e->order;
    cand->n = order->n = 0;
    if (VecU32_reserve(&e->found, e->cap)) return -1;
    for (int k = 0; k < bands; k++) {
        size_t n = table_find(table, keys[k], e->found.data, e->cap);
        counts[k] = (uint32_t)(n < 0xFFFFFFFFu ? n : 0xFFFFFFFFu);
        size_t take = n < e->cap ? n : e->cap;
        for (size_t j = 0; j < take; j++)
            if (e->found.data[j] < before && VecU32_push(cand, e->found.data[j])) return -1;
    }
    if (!cand->n) return 0;
    sort_u32(cand->data, cand->n, &e->sortbuf);
    for (size_t k = 0; k < cand->n;) {
        size_t j = k + 1;
        while (j < cand->n && cand->data[j] == cand->data[k]) j++;
        if (VecU64_push(order, ((0xFFFFFFFFull - (uint64_t)(j - k)) << 32) | cand->data[k])) return -1;
        k = j;
    }
    if (order->n > 1) qsort(order->data, order->n, sizeof(uint64_t), cmp_u64);
    return 0;
}

/* Unit g against the store: the earliest unit with the same set, else the first LSH candidate
 * (most shared bands first, then earliest) whose exact Jaccard reaches the threshold. Only units
 * before `before` count. Leaves e->bcount (ids per band key) and e->known (the set key is in the
 * exact table) for insert_unit. */
static int decide_words(Engine *e, Store *s, Batch *b, size_t g, uint64_t before) {
    const uint32_t *set = b->pool.data + b->off.data[g];
    size_t len = (size_t)(b->off.data[g + 1] - b->off.data[g]);
    b->match.data[g] = -1;
    b->sim.data[g] = 0.0;
    b->exact.data[g] = 0;
    b->rule.data[g] = RULE_NEAR;
    int64_t first = table_first(&s->exact, b->skey.data[g]);
    e->known = first >= 0;
    if (first >= 0 && (uint64_t)first < before) {
        int same = 1;
        if (s->stores_sets) {
            size_t olen;
            const uint32_t *other = store_set(s, (uint64_t)first, &olen);
            same = olen == len && memcmp(other, set, len * sizeof(uint32_t)) == 0;
        }
        if (same) {
            b->match.data[g] = first;
            b->sim.data[g] = 1.0;
            b->exact.data[g] = 1;
            return 0;
        }
    }
    if (e->exact_only) return 0;
    const uint64_t *keys = b->bkeys.data + g * (size_t)e->bands;
    if (gather_candidates(e, &s->band, keys, e->bands, e->bcount, before)) return -1;
    VecU64 *order = &e->order;
    if (!order->n) return 0;
    /* The shortened-copy rule: the first candidate (same order) holding >= contain of the set,
     * when no candidate reaches the Jaccard threshold. */
    int may_contain = e->contain > 0 && b->ntok.data[g] >= e->contain_min_tokens;
    int64_t contained = -1;
    double containment = 0.0;
    for (size_t k = 0; k < order->n; k++) {
        uint64_t c = order->data[k] & 0xFFFFFFFFull;
        size_t olen;
        const uint32_t *other = store_set(s, c, &olen);
        if (!may_contain || contained >= 0 || len == 0 || (double)len < e->contain_min_size * (double)olen) {
            double sim = jaccard_if_reaches(set, len, other, olen, e->threshold);
            if (sim >= e->threshold) {
                b->match.data[g] = (int64_t)c;
                b->sim.data[g] = sim;
                return 0;
            }
            continue;
        }
        double need_j = e->threshold * (double)(len + olen) / (1.0 + e->threshold);
        double need_c = e->contain * (double)len;
        int64_t inter = overlap_if_reaches(set, len, other, olen, need_j < need_c ? need_j : need_c);
        if (inter < 0) continue;
        double sim = (double)inter / (double)(len + olen - (size_t)inter);
        if (sim >= e->threshold) {
            b->match.data[g] = (int64_t)c;
            b->sim.data[g] = sim;
            return 0;
        }
        double share = (double)inter / (double)len;
        if (share >= e->contain) {
            contained = (int64_t)c;
            containment = share;
        }
    }
    if (contained >= 0) {
        b->match.data[g] = contained;
        b->sim.data[g] = containment;
        b->rule.data[g] = RULE_CONTAINED;
    }
    return 0;
}

/* The noisy rules for unit g, no word rule having matched it: candidates share a noisy band key
 * (the earliest `cap` per key), taken by shared bands (desc) then id; the first whose character
 * Jaccard reaches nz_threshold and whose alignment leaves at most nz_max_unexplained of both
 * units' tokens unexplained (RULE_NOISY), else the first whose character containment reaches
 * nz_contain, at least contain_min_size of its size, and whose alignment leaves at most
 * nz_max_added of the unit's own tokens unexplained (RULE_NOISY_CONTAINED); with nz_keep_names, no
 * name replaced by a name in either. */
static int nz_decide(Engine *e, Store *s, Batch *b, size_t g, uint64_t before) {
    NzWork *w = e->nzw;
    const uint64_t *keys = b->nz_bkeys.data + b->nz_koff.data[g];
    e->nz_counted = 1;
    if (gather_candidates(e, &s->nz_band, keys, e->nz_bands, e->nz_bcount, before)) return -1;
    VecU64 *order = &e->order;
    if (!order->n) return 0;
    const uint32_t *mine = b->nz_cps.data + b->nz_cpoff.data[g];
    size_t ncp = (size_t)(b->nz_cpoff.data[g + 1] - b->nz_cpoff.data[g]), len;
    w->my_set.n = 0;
    if (nz_char_set(e, mine, ncp, &w->tmp, &w->my_set, &len)) return -1;
    const uint32_t *set = w->my_set.data;
    if (!len || nz_seq(&w->x, mine, ncp, b->nz_flags.data + b->nz_foff.data[g],
                       (size_t)(b->nz_foff.data[g + 1] - b->nz_foff.data[g])))
        return len ? -1 : 0;
    if (VecI64_reserve(&w->inter, order->n) || VecI64_reserve(&w->olen, order->n)) return -1;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t k = 0; k < order->n; k++) {
            uint64_t c = order->data[k] & 0xFFFFFFFFull;
            size_t olen = 0, ntok;
            int64_t inter = 0;
            if (pass == 1) {
                inter = w->inter.data[k];
                olen = (size_t)w->olen.data[k];
                if (inter < 0 || (double)len < e->contain_min_size * (double)olen ||
                    (double)inter / (double)len < e->nz_contain)
                    continue;
            }
            if (s->nz_rlen.data[c] == 0) { w->inter.data[k] = -1; continue; }
            if (nz_decode(s->nz_recs.data + s->nz_rstart.data[c], s->nz_rlen.data[c], &w->cand_cps, &w->cand_flags, &ntok))
                return -1;
            if (pass == 0) {
                w->cand_set.n = 0;
                if (nz_char_set(e, w->cand_cps.data, w->cand_cps.n, &w->tmp, &w->cand_set, &olen)) return -1;
                inter = overlap_if_reaches(set, len, w->cand_set.data, olen, 0.0);
                w->inter.data[k] = inter;
                w->olen.data[k] = (int64_t)olen;
                double sim = (double)inter / (double)(len + olen - (size_t)inter);
                if (sim < e->nz_threshold) continue;
            }
            if (nz_seq(&w->y, w->cand_cps.data, w->cand_cps.n, w->cand_flags.data, ntok)) return -1;
            NzVerdict v;
            if (nz_align(e, w, &v)) return -1;
            if (v.failed || (e->nz_keep_names && v.names)) continue;
            int ok = pass == 0 ? (double)(v.later + v.earlier) <= e->nz_max_unexplained * (double)(w->x.n + w->y.n)
                               : (double)v.later <= e->nz_max_added * (double)w->x.n;
            if (!ok) continue;
            b->match.data[g] = (int64_t)c;
            b->sim.data[g] = pass == 0 ? (double)inter / (double)(len + olen - (size_t)inter) : (double)inter / (double)len;
            b->rule.data[g] = pass == 0 ? RULE_NOISY : RULE_NOISY_CONTAINED;
            return 0;
        }
    }
    return 0;
}

/* Unit g against the store: the word rules, then (none matched) the noisy rules. */
static int decide_unit(Engine *e, Store *s, Batch *b, size_t g, uint64_t before) {
    e->nz_counted = 0;
    int r = decide_words(e, s, b, g, before);
    if (r || b->match.data[g] >= 0 || !e->nz_on || !s->nz_bands || !b->nz_has.data[g]) return r;
    return nz_decide(e, s, b, g, before);
}

/* Unit g joins the store as its next unit (its set, key and bands, unless an exact repeat). */
static int insert_unit(Engine *e, Store *s, Batch *b, size_t g) {
    uint64_t id = store_len(s);
    if (check_room(s, 1)) return -2;
    const uint32_t *set = b->pool.data + b->off.data[g];
    size_t len = (size_t)(b->off.data[g + 1] - b->off.data[g]);
    int repeat = b->exact.data[g];
    int noisy = s->nz_bands && !repeat && b->nz_has.data[g];
    if (noisy && nz_record(b, g, &e->nzw->rec)) return -1;
    if (store_add_unit(s, b->skey.data[g], b->start.data[g], b->end.data[g], set, len,
                       repeat ? b->match.data[g] : -1, noisy ? e->nzw->rec.data : NULL, noisy ? e->nzw->rec.n : 0))
        return -2;
    if (repeat) return 0;
    if (!e->known && table_add(&s->exact, b->skey.data[g], (uint32_t)id)) return -1;
    if (noisy) {
        const uint64_t *nk = b->nz_bkeys.data + b->nz_koff.data[g];
        for (int k = 0; k < s->nz_bands; k++) {
            uint32_t held = e->nz_counted ? e->nz_bcount[k] : (uint32_t)table_find(&s->nz_band, nk[k], NULL, 0);
            if (held < s->cap && table_add(&s->nz_band, nk[k], (uint32_t)id)) return -1;
        }
    }
    if (e->exact_only) return 0;
    const uint64_t *keys = b->bkeys.data + g * (size_t)e->bands;
    for (int k = 0; k < e->bands; k++)
        if (e->bcount[k] < e->cap && table_add(&s->band, keys[k], (uint32_t)id)) return -1;
    return 0;
}

/* Short repeats go only inside a run of consecutive repeats that holds a removed long one. */
static void run_rule(const Engine *e, Batch *b, size_t lo, size_t hi) {
    size_t u = lo;
    while (u < hi) {
        if (b->match.data[u] < 0) { b->removed.data[u] = 0; u++; continue; }
        size_t v = u;
        int has_long = 0;
        while (v < hi && b->match.data[v] >= 0) { has_long |= b->ntok.data[v] >= e->min_tokens; v++; }
        for (size_t k = u; k < v; k++) b->removed.data[k] = b->ntok.data[k] >= e->min_tokens || has_long;
        u = v;
    }
}

static PyObject *make_removal(Engine *e, const Batch *b, size_t g, size_t u, PyObject *mdoc, int64_t midx,
                              int64_t ms, int64_t me) {
    PyObject *reason = b->ntok.data[g] < e->min_tokens ? e->reason_run
                       : b->exact.data[g] ? e->reason_exact : e->reason_rule[b->rule.data[g]];
    PyObject *sim;
    if (b->exact.data[g]) {
        sim = PyFloat_FromDouble(1.0);
    } else {
        PyObject *f = PyFloat_FromDouble(b->sim.data[g]);
        sim = f ? PyObject_CallFunction(e->round_fn, "Oi", f, 6) : NULL;
        Py_XDECREF(f);
    }
    if (!sim) return NULL;
    PyTypeObject *type = (PyTypeObject *)e->removal_type;
    PyObject *r = type->tp_alloc(type, 9);
    if (!r) { Py_DECREF(sim); return NULL; }
    PyObject *items[9] = {PyLong_FromSize_t(u), PyLong_FromLongLong(b->start.data[g]),
                          PyLong_FromLongLong(b->end.data[g]), Py_NewRef(mdoc), PyLong_FromLongLong(midx),
                          PyLong_FromLongLong(ms), PyLong_FromLongLong(me), sim, Py_NewRef(reason)};
    int ok = 1;
    for (int k = 0; k < 9; k++) {
        if (!items[k]) ok = 0;
        PyTuple_SET_ITEM(r, k, items[k] ? items[k] : Py_NewRef(Py_None));
    }
    if (!ok) { Py_DECREF(r); return NULL; }
    return r;
}

/* The result of a record nothing was removed from: its own text, its units split when read. */
static PyObject *unchanged_result(Engine *e, PyObject *text, PyObject *doc_id) {
    if (!e->units_fn && !(e->units_fn = PyObject_GetAttrString((PyObject *)e, "units"))) return NULL;
    PyTypeObject *type = (PyTypeObject *)e->result_type;
    PyObject *r = type->tp_alloc(type, 0);
    if (!r) return NULL;
    PyObject *removed = PyList_New(0), *length = PyLong_FromSsize_t(PyUnicode_GET_LENGTH(text));
    int bad = !removed || !length || PyObject_GenericSetAttr(r, e->s_text, text) ||
              PyObject_GenericSetAttr(r, e->s_doc_id, doc_id) || PyObject_GenericSetAttr(r, e->s_paragraphs, e->units_fn) ||
              PyObject_GenericSetAttr(r, e->s_removed, removed) || PyObject_GenericSetAttr(r, e->s_original_length, length);
    Py_XDECREF(removed);
    Py_XDECREF(length);
    if (bad) { Py_DECREF(r); return NULL; }
    return r;
}

/* Document i's result when nothing was removed from it (built here); else what Python needs to
 * finish it (its removals, and the units worth an inner-repeat search), a tuple. */
static PyObject *outcome(Engine *e, Store *s, const Batch *b, size_t i, PyObject *doc_id, int corpus) {
    size_t lo = (size_t)b->dunit.data[i], hi = (size_t)b->dunit.data[i + 1], n = hi - lo;
    size_t removed = 0;
    for (size_t g = lo; g < hi; g++) removed += b->removed.data[g];
    PyObject *inner = NULL;  /* [(unit, its word hashes as uint64 bytes)] of the kept units worth a search */
    if (e->inner && e->granularity == 0) {
        for (size_t g = lo; g < hi; g++) {
            if (b->removed.data[g] || !b->inner.data[g]) continue;
            if (!inner && !(inner = PyList_New(0))) return NULL;
            PyObject *x = Py_BuildValue("(nN)", (Py_ssize_t)(g - lo),
                                        bytes_of(b->iwords.data + b->iword.data[g], (size_t)b->ntok.data[g] * 8));
            if (!x || PyList_Append(inner, x)) { Py_XDECREF(x); Py_DECREF(inner); return NULL; }
            Py_DECREF(x);
        }
    }
    if (!removed && !inner) return unchanged_result(e, PyList_GET_ITEM(b->texts, i), doc_id);
    PyObject *removals = PyList_New((Py_ssize_t)removed);
    if (!removals) { Py_XDECREF(inner); return NULL; }
    size_t k = 0;
    for (size_t g = lo; g < hi; g++) {
        if (!b->removed.data[g]) continue;
        int64_t m = b->match.data[g];
        PyObject *r;
        if (corpus) {
            size_t ord = store_doc_of(s, (uint64_t)m);
            r = make_removal(e, b, g, g - lo, PyList_GET_ITEM(s->doc_ids, ord), m - (int64_t)s->doc_first.data[ord],
                             s->stores_sets ? s->ustart.data[m] : 0, s->stores_sets ? s->uend.data[m] : 0);
        } else {
            r = make_removal(e, b, g, g - lo, doc_id, m, b->start.data[lo + m], b->end.data[lo + m]);
        }
        if (!r) { Py_DECREF(removals); Py_XDECREF(inner); return NULL; }
        PyList_SET_ITEM(removals, (Py_ssize_t)k++, r);
    }
    return Py_BuildValue("(NNNNNL)", bytes_of(b->start.data + lo, n * 8), bytes_of(b->end.data + lo, n * 8),
                         bytes_of(b->removed.data + lo, n), removals, inner ? inner : Py_NewRef(Py_None),
                         (long long)b->dsize.data[i]);
}

#define PREFETCH_UNITS 2  /* units ahead whose look-ups are started early */

/* Phase two for document i: decisions against the store, the store updated, the run rule. */
static PyObject *decide_doc(Engine *e, Store *store, Batch *b, size_t i, PyObject *text, PyObject *doc_id,
                            int auto_id, int corpus, int read_only) {
    size_t lo = (size_t)b->dunit.data[i], hi = (size_t)b->dunit.data[i + 1], n = hi - lo;
    Store *s = corpus ? store : e->local;
    if (!corpus) store_reset(s);
    int64_t replay = -1;
    Py_ssize_t ord = -1;
    if (corpus && !read_only && !auto_id) {
        ord = store_find_doc(s, doc_id);
        if (ord == -2) return NULL;
        if (ord >= 0 && n) {
            uint64_t first = s->doc_first.data[ord];
            uint64_t next = (size_t)ord + 1 < s->doc_first.n ? s->doc_first.data[ord + 1] : store_len(s);
            if (next - first == n) {
                replay = (int64_t)first;
                if (!s->stores_sets) {
                    if (s->doc_digest.data[ord] != keys_digest(b->skey.data + lo, n)) replay = -1;
                } else {
                    for (size_t u = 0; u < n && replay >= 0; u++)
                        if (s->set_key.data[first + u] != b->skey.data[lo + u]) replay = -1;
                }
            }
        }
    }
    int adds = replay < 0 && !read_only;
    b->dadded.data[i] = (uint8_t)(adds && corpus);
    if (adds && corpus && store_add_doc(s, doc_id, ord >= 0, s->stores_sets ? 0 : keys_digest(b->skey.data + lo, n)))
        return NULL;
    uint64_t base = store_len(s);
    size_t total = b->skey.n;
    if (corpus)
        for (size_t g = lo; g < hi && g < lo + PREFETCH_UNITS; g++) prefetch_unit(e, s, b, g);
    for (size_t g = lo; g < hi; g++) {
        if (corpus && g + PREFETCH_UNITS < total) prefetch_unit(e, s, b, g + PREFETCH_UNITS);
        uint64_t row = replay >= 0 ? (uint64_t)replay + (g - lo) : read_only ? base : store_len(s);
        int r = decide_unit(e, s, b, g, row);
        if (!r && adds) r = insert_unit(e, s, b, g);
        if (r) return r == -1 ? PyErr_NoMemory() : NULL;
    }
    run_rule(e, b, lo, hi);
    e->st_docs++;
    e->st_units += (long long)n;
    e->st_chars += PyUnicode_GET_LENGTH(text);
    e->st_bytes += b->dsize.data[i];
    e->st_replayed += replay >= 0;
    return outcome(e, s, b, i, doc_id, corpus);
}

/* Phase two for a fingerprinted batch: one outcome per text (None: unchanged). */
static PyObject *batch_decide(Engine *e, PyObject *store, Batch *b, PyObject *texts, PyObject *ids, PyObject *autos,
                              int corpus, int read_only) {
    Py_ssize_t n = PyList_GET_SIZE(texts);
    if (!PyList_Check(ids) || PyList_GET_SIZE(ids) != n) {
        PyErr_SetString(PyExc_ValueError, "ids must be a list as long as the texts");
        return NULL;
    }
    if (corpus && !PyObject_TypeCheck(store, &StoreType)) {
        PyErr_SetString(PyExc_TypeError, "corpus scope needs a Store");
        return NULL;
    }
    Py_buffer ab = {0};
    if (autos != Py_None) {
        if (PyObject_GetBuffer(autos, &ab, PyBUF_SIMPLE)) return NULL;
        if (ab.len != n) {
            PyBuffer_Release(&ab);
            PyErr_SetString(PyExc_ValueError, "autos must hold one byte a text");
            return NULL;
        }
    }
    PyObject *out = NULL;
    size_t units = b->skey.n;
    if (VecI64_reserve(&b->match, units) || VecF64_reserve(&b->sim, units) || VecU8_reserve(&b->exact, units) ||
        VecU8_reserve(&b->removed, units) || VecU8_reserve(&b->rule, units) ||
        VecU8_reserve(&b->dadded, (size_t)n + 1)) {
        PyErr_NoMemory();
        goto done;
    }
    out = PyList_New(n);
    if (!out) goto done;
    memset(b->dadded.data, 0, (size_t)n);
    b->dadded.n = (size_t)n;
    Py_XSETREF(b->ids, Py_NewRef(ids));
    b->texts = texts;
    for (Py_ssize_t i = 0; i < n; i++) {
        int auto_id = ab.buf ? ((const uint8_t *)ab.buf)[i] != 0 : 0;
        PyObject *r = decide_doc(e, corpus ? (Store *)store : NULL, b, (size_t)i, PyList_GET_ITEM(texts, i),
                                 PyList_GET_ITEM(ids, i), auto_id, corpus, read_only);
        if (!r) { Py_CLEAR(out); goto done; }
        PyList_SET_ITEM(out, i, r);
    }
done:
    b->texts = NULL;
    if (ab.buf) PyBuffer_Release(&ab);
    return out;
}

static int check_texts(PyObject *texts) {
    if (!PyList_Check(texts)) {
        PyErr_SetString(PyExc_TypeError, "texts must be a list of str");
        return -1;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(texts); i++)
        if (!PyUnicode_Check(PyList_GET_ITEM(texts, i))) {
            PyErr_Format(PyExc_TypeError, "text %zd is not str", i);
            return -1;
        }
    return 0;
}

static PyObject *Engine_run(Engine *e, PyObject *args, PyObject *kw) {
    static char *names[] = {"store", "texts", "ids", "autos", "corpus", "read_only", NULL};
    PyObject *store, *texts, *ids, *autos;
    int corpus, read_only;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OOOOpp", names, &store, &texts, &ids, &autos, &corpus, &read_only))
        return NULL;
    if (check_texts(texts) || batch_prints(e, &e->sc, &e->b, texts, 0)) return NULL;
    return batch_decide(e, store, &e->b, texts, ids, autos, corpus, read_only);
}

/* prints(texts) -> Prints: phase one, the GIL given up while it works (call it on another thread). */
static PyObject *Engine_prints(Engine *e, PyObject *texts) {
    if (check_texts(texts)) return NULL;
    Prints *p = (Prints *)PyObject_GC_New(Prints, &PrintsType);
    if (!p) return NULL;
    memset(&p->b, 0, sizeof p->b);
    p->texts = Py_NewRef(texts);
    p->decided = 0;
    if (scratch_init(&p->sc, e->num_perm, e->nz_perm)) {
        p->sc.sig = NULL;
        PyObject_GC_Track(p);
        Py_DECREF(p);
        return PyErr_NoMemory();
    }
    PyObject_GC_Track(p);
    if (batch_prints(e, &p->sc, &p->b, texts, 1)) { Py_DECREF(p); return NULL; }
    return (PyObject *)p;
}

/* decide(store, prints, ids, autos, corpus, read_only): phase two of what prints() fingerprinted. */
static PyObject *Engine_decide(Engine *e, PyObject *args, PyObject *kw) {
    static char *names[] = {"store", "prints", "ids", "autos", "corpus", "read_only", NULL};
    PyObject *store, *ids, *autos;
    Prints *p;
    int corpus, read_only;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OO!OOpp", names, &store, &PrintsType, &p, &ids, &autos, &corpus,
                                     &read_only))
        return NULL;
    if (p->decided) {
        PyErr_SetString(PyExc_ValueError, "these prints were decided already");
        return NULL;
    }
    p->decided = 1;
    return batch_decide(e, store, &p->b, p->texts, ids, autos, corpus, read_only);
}

/* collect(texts, ids, autos, check, position, max_docs, max_chars) -> (texts, ids, auto flags or
 * None, error or None, more): the next records of iterators `texts` and `ids` (None: no ids), up to
 * max_docs records or max_chars characters. A record that is not str is passed to `check(record,
 * position)`, whose exception (as one the iterator raises) ends the chunk as its error. A missing
 * id is None, or the next of `autos` (an iterator: corpus scope numbers its documents). */
static PyObject *Engine_collect(Engine *e, PyObject *args) {
    PyObject *texts_it, *ids_it, *autos_it, *check;
    Py_ssize_t position, max_docs, max_chars;
    if (!PyArg_ParseTuple(args, "OOOOnnn", &texts_it, &ids_it, &autos_it, &check, &position, &max_docs, &max_chars))
        return NULL;
    PyObject *texts = PyList_New(0), *ids = PyList_New(0), *error = NULL;
    PyObject *flags = NULL;  /* bytearray, made at the first automatic id */
    int more = 1;
    Py_ssize_t chars = 0;
    if (!texts || !ids) goto fail;
    while (PyList_GET_SIZE(texts) < max_docs && chars < max_chars) {
        PyObject *text = PyIter_Next(texts_it);
        if (!text) {
            if (PyErr_Occurred()) goto caught;
            more = 0;
            break;
        }
        if (!PyUnicode_Check(text)) {
            PyObject *r = PyObject_CallFunction(check, "On", text, position + PyList_GET_SIZE(texts));
            Py_DECREF(text);
            if (!r) goto caught;
            Py_DECREF(r);
            PyErr_SetString(PyExc_TypeError, "check accepted a record that is not str");
            goto fail;
        }
        PyObject *id = NULL;
        if (ids_it != Py_None) {
            id = PyIter_Next(ids_it);
            if (!id && PyErr_Occurred()) { Py_DECREF(text); goto fail; }
        }
        if (!id || id == Py_None) {
            Py_XDECREF(id);
            id = NULL;
            if (autos_it != Py_None) {
                if (!(id = PyIter_Next(autos_it))) { Py_DECREF(text); if (!PyErr_Occurred()) PyErr_SetString(PyExc_RuntimeError, "autos ran out"); goto fail; }
                if (!flags && !(flags = PyByteArray_FromStringAndSize(NULL, 0))) { Py_DECREF(text); Py_DECREF(id); goto fail; }
                Py_ssize_t have = PyByteArray_GET_SIZE(flags), want = PyList_GET_SIZE(texts) + 1;
                if (PyByteArray_Resize(flags, want)) { Py_DECREF(text); Py_DECREF(id); goto fail; }
                memset(PyByteArray_AS_STRING(flags) + have, 0, (size_t)(want - have));
                PyByteArray_AS_STRING(flags)[want - 1] = 1;
            } else {
                id = Py_NewRef(Py_None);
            }
        }
        int bad = PyList_Append(texts, text) || PyList_Append(ids, id);
        chars += PyUnicode_GET_LENGTH(text);
        Py_DECREF(text);
        Py_DECREF(id);
        if (bad) goto fail;
    }
    goto built;
caught: {
        PyObject *type, *value, *tb;
        PyErr_Fetch(&type, &value, &tb);
        PyErr_NormalizeException(&type, &value, &tb);
        if (tb && value) PyException_SetTraceback(value, tb);
        Py_XDECREF(type);
        Py_XDECREF(tb);
        error = value ? value : Py_NewRef(Py_None);
        more = 0;
    }
built:
    if (flags && PyByteArray_GET_SIZE(flags) < PyList_GET_SIZE(texts)) {
        Py_ssize_t have = PyByteArray_GET_SIZE(flags);
        if (PyByteArray_Resize(flags, PyList_GET_SIZE(texts))) goto fail;
        memset(PyByteArray_AS_STRING(flags) + have, 0, (size_t)(PyList_GET_SIZE(texts) - have));
    }
    return Py_BuildValue("(NNNNN)", texts, ids, flags ? flags : Py_NewRef(Py_None), error ? error : Py_NewRef(Py_None),
                         PyBool_FromLong(more));
fail:
    Py_XDECREF(texts);
    Py_XDECREF(ids);
    Py_XDECREF(flags);
    Py_XDECREF(error);
    return NULL;
}

/* What the last decide added to the store, as dedup.index.base.IndexBatch's arrays (so a
 * persistent index can store it): (set_keys, band_keys, hashes, offsets, shingle_ref, doc_ids,
 * doc_sizes, para_index, starts, ends), arrays as bytes. */
static PyObject *batch_added(Engine *e, const Batch *b) {
    VecU64 keys = {0}, bkeys = {0}, nkeys = {0};
    VecU32 hashes = {0};
    VecI64 offs = {0}, refs = {0}, sizes = {0}, para = {0}, starts = {0}, ends = {0}, roffs = {0};
    VecU8 recs = {0};
    PyObject *ids = PyList_New(0), *out = NULL;
    int bad = !ids || VecI64_push(&offs, 0) || VecI64_push(&roffs, 0);
    size_t ndocs = b->dadded.n;
    for (size_t i = 0; i < ndocs && !bad; i++) {
        if (!b->dadded.data[i]) continue;
        size_t lo = (size_t)b->dunit.data[i], hi = (size_t)b->dunit.data[i + 1];
        bad = PyList_Append(ids, PyList_GET_ITEM(b->ids, i)) || VecI64_push(&sizes, (int64_t)(hi - lo));
        for (size_t g = lo; g < hi && !bad; g++) {
            int repeat = b->exact.data[g];
            size_t len = repeat ? 0 : (size_t)(b->off.data[g + 1] - b->off.data[g]);
            bad = VecU64_push(&keys, b->skey.data[g]) || VecI64_push(&refs, repeat ? b->match.data[g] : -1) ||
                  VecI64_push(&para, (int64_t)(g - lo)) || VecI64_push(&starts, b->start.data[g]) ||
                  VecI64_push(&ends, b->end.data[g]) || VecU32_reserve(&hashes, hashes.n + len + 1) ||
                  VecU64_reserve(&bkeys, bkeys.n + (size_t)e->bands);
            if (bad) break;
            memcpy(hashes.data + hashes.n, b->pool.data + b->off.data[g], len * sizeof(uint32_t));
            hashes.n += len;
            bad = VecI64_push(&offs, (int64_t)hashes.n);
            if (!e->exact_only) {  /* an exact repeat's band keys are never stored: zeros keep the shape */
                if (repeat) memset(bkeys.data + bkeys.n, 0, (size_t)e->bands * sizeof(uint64_t));
                else memcpy(bkeys.data + bkeys.n, b->bkeys.data + g * (size_t)e->bands, (size_t)e->bands * sizeof(uint64_t));
                bkeys.n += (size_t)e->bands;
            }
            if (e->nz_on && !bad) {  /* the noisy layer: record and band keys (none: empty, zeros) */
                int has = !repeat && b->nz_has.data[g];
                bad = VecU64_reserve(&nkeys, nkeys.n + (size_t)e->nz_bands) || (has && nz_record(b, g, &e->nzw->rec)) ||
                      VecU8_reserve(&recs, recs.n + (has ? e->nzw->rec.n : 0) + 1);
                if (bad) break;
                if (has) {
                    memcpy(nkeys.data + nkeys.n, b->nz_bkeys.data + b->nz_koff.data[g], (size_t)e->nz_bands * 8);
                    memcpy(recs.data + recs.n, e->nzw->rec.data, e->nzw->rec.n);
                    recs.n += e->nzw->rec.n;
                } else {
                    memset(nkeys.data + nkeys.n, 0, (size_t)e->nz_bands * 8);
                }
                nkeys.n += (size_t)e->nz_bands;
                bad = VecI64_push(&roffs, (int64_t)recs.n);
            }
        }
    }
    if (bad) {
        if (!PyErr_Occurred()) PyErr_NoMemory();
    } else {
        out = Py_BuildValue("(NNNNNONNNNNNN)", bytes_of(keys.data, keys.n * 8), bytes_of(bkeys.data, bkeys.n * 8),
                            bytes_of(hashes.data, hashes.n * 4), bytes_of(offs.data, offs.n * 8),
                            bytes_of(refs.data, refs.n * 8), ids, bytes_of(sizes.data, sizes.n * 8),
                            bytes_of(para.data, para.n * 8), bytes_of(starts.data, starts.n * 8),
                            bytes_of(ends.data, ends.n * 8), bytes_of(nkeys.data, nkeys.n * 8),
                            bytes_of(recs.data, recs.n), bytes_of(roffs.data, roffs.n * 8));
    }
    Py_XDECREF(ids);
    VecU64_free(&keys); VecU64_free(&bkeys); VecU32_free(&hashes); VecI64_free(&offs); VecI64_free(&refs);
    VecI64_free(&sizes); VecI64_free(&para); VecI64_free(&starts); VecI64_free(&ends);
    VecU64_free(&nkeys); VecU8_free(&recs); VecI64_free(&roffs);
    return out;
}

static PyObject *Engine_added(Engine *e, PyObject *args) {
    PyObject *prints = Py_None;
    if (!PyArg_ParseTuple(args, "|O", &prints)) return NULL;
    if (prints != Py_None && !PyObject_TypeCheck(prints, &PrintsType)) {
        PyErr_SetString(PyExc_TypeError, "added(prints=None): a Prints or None (run()'s last batch)");
        return NULL;
    }
    return batch_added(e, prints == Py_None ? &e->b : &((Prints *)prints)->b);
}

static PyObject *Engine_take_stats(Engine *e, PyObject *unused) {
    PyObject *r = Py_BuildValue("(LLLLL)", e->st_docs, e->st_units, e->st_chars, e->st_bytes, e->st_replayed);
    e->st_docs = e->st_units = e->st_chars = e->st_bytes = e->st_replayed = 0;
    return r;
}

/* The units of one text: (starts, ends) as bytes of int64. */
static PyObject *Engine_units(Engine *e, PyObject *text) {
    if (!PyUnicode_Check(text)) { PyErr_SetString(PyExc_TypeError, "text must be str"); return NULL; }
    if (!PyUnicode_IS_ASCII(text) && engine_tables(e)) return NULL;
    if (text_units(e, &e->sc, text, NULL)) return PyErr_NoMemory();
    return Py_BuildValue("(NN)", bytes_of(e->sc.ustart.data, e->sc.ustart.n * 8),
                         bytes_of(e->sc.uend.data, e->sc.uend.n * 8));
}

/* Shingle sets of unit texts (the fingerprint stage alone): (hashes u32, offsets i64, n_tokens
 * i64, set keys u64) as bytes; the same as dedup.fingerprint.shingles.shingle_sets. */
static PyObject *Engine_sets(Engine *e, PyObject *units) {
    PyObject *seq = PySequence_Fast(units, "units must be a sequence of str");
    if (!seq) return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    Batch *b = &e->b;
    batch_reset(b);
    if (batch_start(b)) { Py_DECREF(seq); return PyErr_NoMemory(); }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *t = PySequence_Fast_GET_ITEM(seq, i);
        if (!PyUnicode_Check(t)) { Py_DECREF(seq); PyErr_SetString(PyExc_TypeError, "units must be str"); return NULL; }
        if (!PyUnicode_IS_ASCII(t) && engine_tables(e)) { Py_DECREF(seq); return NULL; }
        int r = unit_prints(e, &e->sc, b, t, 0, PyUnicode_GET_LENGTH(t), 0);
        if (r) {
            Py_DECREF(seq);
            return r == -1 ? PyErr_NoMemory() : NULL;
        }
    }
    Py_DECREF(seq);
    return Py_BuildValue("(NNNN)", bytes_of(b->pool.data, b->pool.n * 4), bytes_of(b->off.data, b->off.n * 8),
                         bytes_of(b->ntok.data, b->ntok.n * 8), bytes_of(b->skey.data, b->skey.n * 8));
}

/* band_keys(pool u32, offsets i64, rows i64): the band keys (u64 bytes, `bands` a row) of the
 * sets of the given rows of a ShingleSets, as the engine computes its own: the batch path's
 * backends use it instead of the numpy signatures. */
static PyObject *Engine_band_keys(Engine *e, PyObject *args) {
    Py_buffer pool, off, rows;
    if (!PyArg_ParseTuple(args, "y*y*y*", &pool, &off, &rows)) return NULL;
    const uint32_t *set = (const uint32_t *)pool.buf;
    const int64_t *o = (const int64_t *)off.buf, *r = (const int64_t *)rows.buf;
    size_t n = (size_t)rows.len / 8, n_off = (size_t)off.len / 8, n_pool = (size_t)pool.len / 4;
    VecU64 out = {0};
    PyObject *res = NULL;
    if (e->bands <= 0) {
        PyErr_SetString(PyExc_ValueError, "band_keys(): this engine has no bands");
        goto done;
    }
    if (VecU64_reserve(&out, n * (size_t)e->bands + 1)) { PyErr_NoMemory(); goto done; }
    for (size_t i = 0; i < n; i++) {
        int64_t u = r[i];
        if (u < 0 || (size_t)u + 1 >= n_off || o[u] > o[u + 1] || (size_t)o[u + 1] > n_pool) {
            PyErr_SetString(PyExc_IndexError, "band_keys(): a row outside the sets");
            goto done;
        }
        if (band_keys(e, &e->sc, set + o[u], (size_t)(o[u + 1] - o[u]), &out)) { PyErr_NoMemory(); goto done; }
    }
    res = bytes_of(out.data, out.n * 8);
done:
    VecU64_free(&out);
    PyBuffer_Release(&pool);
    PyBuffer_Release(&off);
    PyBuffer_Release(&rows);
    return res;
}

/* One text's noisy tokens and character set, into the given vectors (the GIL held). */
static int nz_text(Engine *e, PyObject *t, VecU32 *cps, VecU8 *flags, VecU32 *set, size_t *size) {
    if (!PyUnicode_Check(t)) { PyErr_SetString(PyExc_TypeError, "noisy(): texts must be str"); return -1; }
    if (engine_tables(e)) return -1;
    cps->n = flags->n = set->n = 0;
    int r = nz_tokens(e, t, 0, PyUnicode_GET_LENGTH(t), cps, flags);
    if (r < 0) { PyErr_NoMemory(); return -1; }
    if (r == 1 && nz_fallback(e, t, 0, PyUnicode_GET_LENGTH(t), cps, flags)) return -1;
    if (nz_char_set(e, cps->data, cps->n, &e->sc.nz_tmp, set, size)) { PyErr_NoMemory(); return -1; }
    return 0;
}

/* noisy(later, earlier): what the noisy rules see of two unit texts, (tokens of each as one str
 * with spaces, character Jaccard, containment of later in earlier, unexplained tokens of later,
 * of earlier, tokens of each, names replaced by names, failed, name flags of each): to recompute
 * a decision. */
static PyObject *Engine_noisy(Engine *e, PyObject *args) {
    PyObject *later, *earlier;
    if (!PyArg_ParseTuple(args, "UU", &later, &earlier)) return NULL;
    if (!e->nz_on) { PyErr_SetString(PyExc_ValueError, "noisy(): this engine has no noisy rules"); return NULL; }
    VecU32 ca = {0}, cb = {0}, sa = {0}, sb = {0};
    VecU8 fa = {0}, fb = {0};
    size_t la = 0, lb = 0;
    PyObject *out = NULL;
    if (nz_text(e, later, &ca, &fa, &sa, &la) || nz_text(e, earlier, &cb, &fb, &sb, &lb)) goto done;
    int64_t inter = overlap_if_reaches(sa.data, la, sb.data, lb, 0.0);
    double jac = la + lb ? (double)inter / (double)(la + lb - (size_t)inter) : 1.0, cont = la ? (double)inter / (double)la : 0.0;
    NzWork *w = e->nzw;
    NzVerdict v;
    if (nz_seq(&w->x, ca.data, ca.n, fa.data, fa.n) || nz_seq(&w->y, cb.data, cb.n, fb.data, fb.n) || nz_align(e, w, &v)) {
        PyErr_NoMemory();
        goto done;
    }
    out = Py_BuildValue("(NNddLLnnLiNN)", PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, ca.data, (Py_ssize_t)ca.n),
                        PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, cb.data, (Py_ssize_t)cb.n), jac, cont,
                        (long long)v.later, (long long)v.earlier, (Py_ssize_t)fa.n, (Py_ssize_t)fb.n,
                        (long long)v.names, v.failed, bytes_of(fa.data, fa.n), bytes_of(fb.data, fb.n));
done:
    VecU32_free(&ca); VecU32_free(&cb); VecU32_free(&sa); VecU32_free(&sb); VecU8_free(&fa); VecU8_free(&fb);
    return out;
}

static PyMethodDef Engine_methods[] = {
    {"noisy", (PyCFunction)Engine_noisy, METH_VARARGS,
     "noisy(later, earlier) -> (tokens, tokens, char jaccard, containment, unexplained later, earlier, "
     "tokens later, earlier, names replaced, failed, name flags later, earlier)"},
    {"run", (PyCFunction)(void (*)(void))Engine_run, METH_VARARGS | METH_KEYWORDS,
     "run(store, texts, ids, autos, corpus, read_only) -> one outcome per text (None: unchanged)"},
    {"prints", (PyCFunction)Engine_prints, METH_O,
     "prints(texts) -> Prints: the fingerprints alone, the GIL released meanwhile"},
    {"decide", (PyCFunction)(void (*)(void))Engine_decide, METH_VARARGS | METH_KEYWORDS,
     "decide(store, prints, ids, autos, corpus, read_only) -> run()'s outcomes for prints()'s texts"},
    {"collect", (PyCFunction)Engine_collect, METH_VARARGS,
     "collect(texts, ids, autos, check, position, max_docs, max_chars) -> (texts, ids, auto flags, error, more)"},
    {"added", (PyCFunction)Engine_added, METH_VARARGS,
     "added(prints=None) -> IndexBatch arrays of what the last run (or the decide of these prints) added"},
    {"take_stats", (PyCFunction)Engine_take_stats, METH_NOARGS,
     "(documents, units, chars, UTF-8 bytes, replayed) since the last call"},
    {"units", (PyCFunction)Engine_units, METH_O, "units(text) -> (starts, ends) as int64 bytes"},
    {"band_keys", (PyCFunction)Engine_band_keys, METH_VARARGS,
     "band_keys(pool u32, offsets i64, rows i64) -> u64 bytes: the band keys of those sets"},
    {"sets", (PyCFunction)Engine_sets, METH_O, "sets(unit texts) -> (hashes, offsets, n_tokens, set_keys) bytes"},
    {NULL}};

static PyTypeObject EngineType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "dedup.accel._core.Engine",
    .tp_basicsize = sizeof(Engine),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "The compiled engine: settings and scratch; run() decides records against a Store.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Engine_init,
    .tp_dealloc = (destructor)Engine_dealloc,
    .tp_traverse = (traverseproc)Engine_traverse,
    .tp_clear = (inquiry)Engine_clear,
    .tp_methods = Engine_methods,
};

static void Prints_dealloc(Prints *p) {
    PyObject_GC_UnTrack(p);
    batch_free(&p->b);
    scratch_free(&p->sc);
    Py_CLEAR(p->texts);
    PyObject_GC_Del(p);
}

static int Prints_traverse(Prints *p, visitproc visit, void *arg) {
    Py_VISIT(p->texts);
    return 0;
}

static Py_ssize_t Prints_len(Prints *p) { return p->b.dunit.n ? (Py_ssize_t)p->b.dunit.n - 1 : 0; }

static PySequenceMethods Prints_as_sequence = {.sq_length = (lenfunc)Prints_len};

static PyTypeObject PrintsType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "dedup.accel._core.Prints",
    .tp_basicsize = sizeof(Prints),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "Texts fingerprinted by Engine.prints, waiting for Engine.decide.",
    .tp_dealloc = (destructor)Prints_dealloc,
    .tp_traverse = (traverseproc)Prints_traverse,
    .tp_as_sequence = &Prints_as_sequence,
};

/* ------------------------------------------------------------------------------------------ */
/* Store methods for dedup.index (the Index interface, a batch of arrays at a time)           */
/* ------------------------------------------------------------------------------------------ */

typedef struct { Py_buffer b; size_t n; } Arr;

static int arr_get(PyObject *obj, Arr *a, int itemsize, const char *what) {
    if (PyObject_GetBuffer(obj, &a->b, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT)) return -1;
    if (a->b.itemsize != itemsize) {
        PyBuffer_Release(&a->b);
        PyErr_Format(PyExc_TypeError, "%s: need %d-byte items", what, itemsize);
        return -1;
    }
    a->n = (size_t)(a->b.len / itemsize);
    return 0;
}

static Py_ssize_t Store_len(Store *s) { return (Py_ssize_t)store_len(s); }

static PyObject *Store_first_exact(Store *s, PyObject *keys) {
    Arr k;
    if (arr_get(keys, &k, 8, "keys")) return NULL;
    PyObject *out = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(k.n * 8));
    if (out) {
        int64_t *o = (int64_t *)PyBytes_AS_STRING(out);
        for (size_t i = 0; i < k.n; i++) o[i] = table_first(&s->exact, ((const uint64_t *)k.b.buf)[i]);
    }
    PyBuffer_Release(&k.b);
    return out;
}

static PyObject *Store_band_candidates(Store *s, PyObject *args) {
    PyObject *keys;
    Py_ssize_t limit;
    if (!PyArg_ParseTuple(args, "On", &keys, &limit)) return NULL;
    Arr k;
    if (arr_get(keys, &k, 8, "keys")) return NULL;
    size_t lim = limit < 0 ? 0 : (size_t)limit;
    VecI64 pos = {0}, ids = {0};
    uint32_t *buf = (uint32_t *)malloc((lim + 1) * sizeof(uint32_t));
    int bad = !buf;
    for (size_t i = 0; i < k.n && !bad; i++) {
        size_t n = table_find(&s->band, ((const uint64_t *)k.b.buf)[i], buf, lim);
        if (n > lim) n = lim;
        for (size_t j = 0; j < n && !bad; j++)
            bad = VecI64_push(&pos, (int64_t)i) || VecI64_push(&ids, buf[j]);
    }
    free(buf);
    PyBuffer_Release(&k.b);
    PyObject *r = bad ? PyErr_NoMemory() : Py_BuildValue("(NN)", bytes_of(pos.data, pos.n * 8), bytes_of(ids.data, ids.n * 8));
    VecI64_free(&pos);
    VecI64_free(&ids);
    return r;
}

static int check_ids(Store *s, const Arr *a) {
    for (size_t i = 0; i < a->n; i++) {
        int64_t e = ((const int64_t *)a->b.buf)[i];
        if (e < 0 || (uint64_t)e >= store_len(s)) {
            PyErr_Format(PyExc_IndexError, "no unit %lld in the index", (long long)e);
            return -1;
        }
    }
    return 0;
}

static int need_sets(const Store *s, const char *what) {
    if (s->stores_sets) return 0;
    PyErr_Format(PyExc_ValueError, "an exact-only index keeps no %s", what);
    return -1;
}

static PyObject *Store_entry_set_keys(Store *s, PyObject *ids) {
    if (need_sets(s, "set keys per paragraph")) return NULL;
    Arr a;
    if (arr_get(ids, &a, 8, "ids")) return NULL;
    if (check_ids(s, &a)) { PyBuffer_Release(&a.b); return NULL; }
    PyObject *out = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(a.n * 8));
    if (out) {
        uint64_t *o = (uint64_t *)PyBytes_AS_STRING(out);
        for (size_t i = 0; i < a.n; i++) o[i] = s->set_key.data[((const int64_t *)a.b.buf)[i]];
    }
    PyBuffer_Release(&a.b);
    return out;
}

static PyObject *Store_set_spans(Store *s, PyObject *ids) {
    if (need_sets(s, "shingle sets")) return NULL;
    Arr a;
    if (arr_get(ids, &a, 8, "ids")) return NULL;
    if (check_ids(s, &a)) { PyBuffer_Release(&a.b); return NULL; }
    PyObject *st = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(a.n * 8));
    PyObject *ln = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(a.n * 8));
    if (st && ln) {
        int64_t *o1 = (int64_t *)PyBytes_AS_STRING(st), *o2 = (int64_t *)PyBytes_AS_STRING(ln);
        for (size_t i = 0; i < a.n; i++) {
            int64_t e = ((const int64_t *)a.b.buf)[i];
            o1[i] = (int64_t)s->set_start.data[e];
            o2[i] = s->set_len.data[e];
        }
    }
    PyBuffer_Release(&a.b);
    if (!st || !ln) { Py_XDECREF(st); Py_XDECREF(ln); return NULL; }
    return Py_BuildValue("(NN)", st, ln);
}

/* The shingle pool itself, read-only: valid until the store next changes. */
static PyObject *Store_pool_view(Store *s, PyObject *unused) {
    static uint32_t none;
    return PyMemoryView_FromMemory(s->pool.data ? (char *)s->pool.data : (char *)&none,
                                   (Py_ssize_t)(s->pool.n * 4), PyBUF_READ);
}

static PyObject *Store_locations(Store *s, PyObject *ids) {
    Arr a;
    if (arr_get(ids, &a, 8, "ids")) return NULL;
    if (check_ids(s, &a)) { PyBuffer_Release(&a.b); return NULL; }
    PyObject *docs = PyList_New((Py_ssize_t)a.n), *idx = PyList_New((Py_ssize_t)a.n);
    PyObject *st = PyList_New((Py_ssize_t)a.n), *en = PyList_New((Py_ssize_t)a.n);
    if (!docs || !idx || !st || !en) goto fail;
    for (size_t i = 0; i < a.n; i++) {
        int64_t e = ((const int64_t *)a.b.buf)[i];
        size_t ord = store_doc_of(s, (uint64_t)e);
        PyObject *x = PyLong_FromLongLong(e - (int64_t)s->doc_first.data[ord]);
        PyObject *y = PyLong_FromLongLong(s->stores_sets ? s->ustart.data[e] : 0);
        PyObject *z = PyLong_FromLongLong(s->stores_sets ? s->uend.data[e] : 0);
        if (!x || !y || !z) { Py_XDECREF(x); Py_XDECREF(y); Py_XDECREF(z); goto fail; }
        PyList_SET_ITEM(docs, (Py_ssize_t)i, Py_NewRef(PyList_GET_ITEM(s->doc_ids, ord)));
        PyList_SET_ITEM(idx, (Py_ssize_t)i, x);
        PyList_SET_ITEM(st, (Py_ssize_t)i, y);
        PyList_SET_ITEM(en, (Py_ssize_t)i, z);
    }
    PyBuffer_Release(&a.b);
    return Py_BuildValue("(NNNN)", docs, idx, st, en);
fail:
    PyBuffer_Release(&a.b);
    Py_XDECREF(docs); Py_XDECREF(idx); Py_XDECREF(st); Py_XDECREF(en);
    return NULL;
}

/* replay(doc_id, set_keys u64) -> the document's first unit when it is stored with these very set
 * keys (fed again unchanged: it gets its first decisions), else None. */
static PyObject *Store_replay(Store *s, PyObject *args) {
    PyObject *doc_id, *keys;
    if (!PyArg_ParseTuple(args, "OO", &doc_id, &keys)) return NULL;
    Arr k;
    if (arr_get(keys, &k, 8, "set_keys")) return NULL;
    Py_ssize_t ord = store_find_doc(s, doc_id);
    PyObject *r = NULL;
    if (ord == -2) goto done;
    if (ord >= 0 && k.n) {
        uint64_t first = s->doc_first.data[ord];
        uint64_t next = (size_t)ord + 1 < s->doc_first.n ? s->doc_first.data[ord + 1] : store_len(s);
        const uint64_t *K = (const uint64_t *)k.b.buf;
        int same = next - first == k.n;
        if (same && !s->stores_sets) same = s->doc_digest.data[ord] == keys_digest(K, k.n);
        for (size_t u = 0; same && s->stores_sets && u < k.n; u++) same = s->set_key.data[first + u] == K[u];
        if (same) { r = PyLong_FromUnsignedLongLong(first); goto done; }
    }
    r = Py_NewRef(Py_None);
done:
    PyBuffer_Release(&k.b);
    return r;
}

static PyObject *Store_document(Store *s, PyObject *doc_id) {
    Py_ssize_t ord = store_find_doc(s, doc_id);
    if (ord == -2) return NULL;
    if (ord < 0) Py_RETURN_NONE;
    uint64_t first = s->doc_first.data[ord];
    uint64_t next = (size_t)ord + 1 < s->doc_first.n ? s->doc_first.data[ord + 1] : store_len(s);
    return Py_BuildValue("(KK)", (unsigned long long)first, (unsigned long long)(next - first));
}

/* add(set_keys, band_keys, bands, hashes, offsets, shingle_ref, doc_ids, doc_sizes, starts, ends): a
 * batch of units in order (dedup.index.base.IndexBatch; `bands` keys a unit in band_keys). */
static PyObject *Store_add(Store *s, PyObject *args) {
    PyObject *o[9], *o_nk = Py_None, *o_nr = Py_None, *o_no = Py_None;
    int bands;
    if (!PyArg_ParseTuple(args, "OOiOOOOOOO|OOO", &o[0], &o[1], &bands, &o[2], &o[3], &o[4], &o[5], &o[6], &o[7], &o[8],
                          &o_nk, &o_nr, &o_no))
        return NULL;
    Arr keys, bkeys, hashes, offs, refs, sizes, starts, ends, nk, nr, no;
    int noisy = s->nz_bands && o_nk != Py_None, got_noisy = 0;
    int got = 0;
    PyObject *result = NULL;
    if (arr_get(o[0], &keys, 8, "set_keys")) goto done;
    got = 1;
    if (arr_get(o[1], &bkeys, 8, "band_keys")) goto done;
    got = 2;
    if (arr_get(o[2], &hashes, 4, "hashes")) goto done;
    got = 3;
    if (arr_get(o[3], &offs, 8, "offsets")) goto done;
    got = 4;
    if (arr_get(o[4], &refs, 8, "shingle_ref")) goto done;
    got = 5;
    if (arr_get(o[6], &sizes, 8, "doc_sizes")) goto done;
    got = 6;
    if (arr_get(o[7], &starts, 8, "starts")) goto done;
    got = 7;
    if (arr_get(o[8], &ends, 8, "ends")) goto done;
    got = 8;
    if (noisy) {
        if (arr_get(o_nk, &nk, 8, "noisy_keys")) goto done;
        if (arr_get(o_nr, &nr, 1, "noisy_records")) { PyBuffer_Release(&nk.b); goto done; }
        if (arr_get(o_no, &no, 8, "noisy_offsets")) { PyBuffer_Release(&nk.b); PyBuffer_Release(&nr.b); goto done; }
        got_noisy = 1;
    }
    size_t n = keys.n;
    if (noisy && (nk.n != n * (size_t)s->nz_bands || no.n != n + 1)) {
        PyErr_SetString(PyExc_ValueError, "Store.add: noisy arrays of other lengths");
        goto done;
    }
    PyObject *doc_ids = PySequence_Fast(o[5], "doc_ids must be a sequence");
    if (!doc_ids) goto done;
    if (offs.n != n + 1 || refs.n != n || starts.n != n || ends.n != n || (size_t)PySequence_Fast_GET_SIZE(doc_ids) != sizes.n ||
        bands < 0 || bkeys.n < n * (size_t)bands) {
        PyErr_SetString(PyExc_ValueError, "Store.add: arrays of different lengths");
        Py_DECREF(doc_ids);
        goto done;
    }
    if (check_room(s, n)) { Py_DECREF(doc_ids); goto done; }
    const uint64_t *K = (const uint64_t *)keys.b.buf, *B = (const uint64_t *)bkeys.b.buf;
    const uint32_t *H = (const uint32_t *)hashes.b.buf;
    const int64_t *O = (const int64_t *)offs.b.buf, *R = (const int64_t *)refs.b.buf;
    const int64_t *Z = (const int64_t *)sizes.b.buf, *S = (const int64_t *)starts.b.buf, *E = (const int64_t *)ends.b.buf;
    uint64_t base = store_len(s), unit = base;
    size_t total = 0;
    for (size_t doc = 0; doc < sizes.n; doc++) total += Z[doc] < 0 ? n + 1 : (size_t)Z[doc];
    if (total != n) {  /* before anything is added */
        PyErr_SetString(PyExc_ValueError, "Store.add: doc_sizes do not add up to the units");
        Py_DECREF(doc_ids);
        goto done;
    }
    for (size_t doc = 0; doc < sizes.n; doc++) {
        PyObject *id = PySequence_Fast_GET_ITEM(doc_ids, (Py_ssize_t)doc);
        Py_ssize_t known = store_find_doc(s, id);
        if (known == -2 || store_add_doc(s, id, known >= 0, s->stores_sets ? 0 : keys_digest(K + (unit - base), (size_t)Z[doc]))) {
            Py_DECREF(doc_ids);
            goto done;
        }
        for (int64_t k = 0; k < Z[doc]; k++, unit++) {
            size_t i = (size_t)(unit - base);
            int64_t ref = R[i];
            const uint8_t *rec = NULL;
            size_t rec_len = 0;
            if (noisy) {
                const int64_t *RO = (const int64_t *)no.b.buf;
                rec = (const uint8_t *)nr.b.buf + RO[i];
                rec_len = (size_t)(RO[i + 1] - RO[i]);
            }
            if (store_add_unit(s, K[i], S[i], E[i], H + O[i], (size_t)(O[i + 1] - O[i]), ref, rec, rec_len)) {
                Py_DECREF(doc_ids);
                goto done;
            }
            if (ref >= 0) continue;
            if (table_first(&s->exact, K[i]) < 0 && table_add(&s->exact, K[i], (uint32_t)unit)) {
                PyErr_NoMemory(); Py_DECREF(doc_ids); goto done;
            }
            if (rec_len) {
                const uint64_t *NK = (const uint64_t *)nk.b.buf + i * (size_t)s->nz_bands;
                for (int b = 0; b < s->nz_bands; b++)
                    if (table_find(&s->nz_band, NK[b], NULL, 0) < s->cap && table_add(&s->nz_band, NK[b], (uint32_t)unit)) {
                        PyErr_NoMemory(); Py_DECREF(doc_ids); goto done;
                    }
            }
            for (int b = 0; b < bands; b++) {
                uint64_t key = B[i * (size_t)bands + (size_t)b];
                if (table_find(&s->band, key, NULL, 0) < s->cap && table_add(&s->band, key, (uint32_t)unit)) {
                    PyErr_NoMemory(); Py_DECREF(doc_ids); goto done;
                }
            }
        }
    }
    Py_DECREF(doc_ids);
    result = Py_NewRef(Py_None);
done:
    if (got > 0) PyBuffer_Release(&keys.b);
    if (got > 1) PyBuffer_Release(&bkeys.b);
    if (got > 2) PyBuffer_Release(&hashes.b);
    if (got > 3) PyBuffer_Release(&offs.b);
    if (got > 4) PyBuffer_Release(&refs.b);
    if (got > 5) PyBuffer_Release(&sizes.b);
    if (got > 6) PyBuffer_Release(&starts.b);
    if (got > 7) PyBuffer_Release(&ends.b);
    if (got_noisy) { PyBuffer_Release(&nk.b); PyBuffer_Release(&nr.b); PyBuffer_Release(&no.b); }
    return result;
}

/* add_keys(ids, set_keys, band_keys, bands): the table keys of stored units `ids` (ascending, after
 * every id held), nothing else: the look-up tables of an index whose units live elsewhere (SQLite). */
static PyObject *Store_add_keys(Store *s, PyObject *args) {
    PyObject *o_ids, *o_keys, *o_bkeys;
    int bands;
    if (!PyArg_ParseTuple(args, "OOOi", &o_ids, &o_keys, &o_bkeys, &bands)) return NULL;
    Arr ids, keys, bkeys;
    if (arr_get(o_ids, &ids, 8, "ids")) return NULL;
    if (arr_get(o_keys, &keys, 8, "set_keys")) { PyBuffer_Release(&ids.b); return NULL; }
    if (arr_get(o_bkeys, &bkeys, 8, "band_keys")) { PyBuffer_Release(&ids.b); PyBuffer_Release(&keys.b); return NULL; }
    PyObject *r = NULL;
    if (keys.n != ids.n || bands < 0 || bkeys.n != ids.n * (size_t)bands) {
        PyErr_SetString(PyExc_ValueError, "Store.add_keys: arrays of different lengths");
        goto done;
    }
    const int64_t *I = (const int64_t *)ids.b.buf;
    const uint64_t *K = (const uint64_t *)keys.b.buf, *B = (const uint64_t *)bkeys.b.buf;
    for (size_t i = 0; i < ids.n; i++) {
        if (I[i] < 0 || I[i] >= (int64_t)0xFFFFFFFFu) {
            PyErr_SetString(PyExc_OverflowError, "an index holds at most 2**32 - 1 units");
            goto done;
        }
        uint32_t id = (uint32_t)I[i];
        if (table_first(&s->exact, K[i]) < 0 && table_add(&s->exact, K[i], id)) { PyErr_NoMemory(); goto done; }
        for (int b = 0; b < bands; b++) {
            uint64_t key = B[i * (size_t)bands + (size_t)b];
            if (table_find(&s->band, key, NULL, 0) < s->cap && table_add(&s->band, key, id)) {
                PyErr_NoMemory();
                goto done;
            }
        }
    }
    r = Py_NewRef(Py_None);
done:
    PyBuffer_Release(&ids.b);
    PyBuffer_Release(&keys.b);
    PyBuffer_Release(&bkeys.b);
    return r;
}

static PyObject *Store_nbytes(Store *s, void *unused) {
    size_t n = table_nbytes(&s->exact) + table_nbytes(&s->band) + table_nbytes(&s->doc_hash);
    /* what is in use (a vector's spare capacity is address space the kernel has not given yet) */
    n += s->set_key.n * 8 + s->set_start.n * 8 + s->set_len.n * 4 + s->ustart.n * 4 + s->uend.n * 4;
    n += s->pool.n * 4 + s->doc_first.n * 8 + s->doc_digest.n * 8 + (size_t)PyList_GET_SIZE(s->doc_ids) * sizeof(PyObject *);
    n += table_nbytes(&s->nz_band) + s->nz_rstart.n * 8 + s->nz_rlen.n * 4 + s->nz_recs.n;
    return PyLong_FromSize_t(n);
}

static PyObject *Store_documents(Store *s, void *unused) { return PyLong_FromSize_t(s->doc_first.n); }
static PyObject *Store_doc_ids(Store *s, void *unused) { return Py_NewRef(s->doc_ids); }
static PyObject *Store_get_bands(Store *s, void *unused) { return PyLong_FromLong(s->bands); }
static PyObject *Store_get_cap(Store *s, void *unused) { return PyLong_FromUnsignedLong(s->cap); }
static PyObject *Store_get_stores_sets(Store *s, void *unused) { return PyBool_FromLong(s->stores_sets); }

/* Everything but the documents' ids, as bytes (pickling; the ids travel as a list). */
static int put_vec(PyObject *parts, const void *p, size_t nbytes) {
    PyObject *b = bytes_of(p, nbytes);
    if (!b) return -1;
    int r = PyList_Append(parts, b);
    Py_DECREF(b);
    return r;
}

static int put_table(PyObject *parts, const Table *t) {
    /* its pairs sorted by (key, id), 12 bytes each */
    size_t n = table_len(t);
    PyObject *b = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(n * sizeof(Slot)));
    if (!b) return -1;
    table_pairs(t, (Slot *)PyBytes_AS_STRING(b));
    int r = PyList_Append(parts, b);
    Py_DECREF(b);
    return r;
}

static PyObject *Store_dump(Store *s, PyObject *unused) {
    PyObject *parts = PyList_New(0);
    if (!parts) return NULL;
    if (put_vec(parts, s->set_key.data, s->set_key.n * 8) || put_vec(parts, s->set_start.data, s->set_start.n * 8) ||
        put_vec(parts, s->set_len.data, s->set_len.n * 4) || put_vec(parts, s->ustart.data, s->ustart.n * 4) ||
        put_vec(parts, s->uend.data, s->uend.n * 4) || put_vec(parts, s->pool.data, s->pool.n * 4) ||
        put_vec(parts, s->doc_first.data, s->doc_first.n * 8) || put_table(parts, &s->exact) ||
        put_table(parts, &s->band) || put_table(parts, &s->doc_hash) ||
        put_vec(parts, s->doc_digest.data, s->doc_digest.n * 8) || put_vec(parts, &s->nunits, sizeof s->nunits) ||
        (s->nz_bands && (put_vec(parts, s->nz_rstart.data, s->nz_rstart.n * 8) ||
                         put_vec(parts, s->nz_rlen.data, s->nz_rlen.n * 4) || put_vec(parts, s->nz_recs.data, s->nz_recs.n) ||
                         put_table(parts, &s->nz_band)))) {
        Py_DECREF(parts);
        return NULL;
    }
    return parts;
}

#define LOAD_VEC(KIND, VEC, T, OBJ)                                                                    \
    do {                                                                                               \
        Py_ssize_t len_ = PyBytes_GET_SIZE(OBJ);                                                       \
        size_t n_ = (size_t)len_ / sizeof(T);                                                          \
        if (KIND##_reserve(&(VEC), n_ ? n_ : 1)) goto oom;                                             \
        memcpy((VEC).data, PyBytes_AS_STRING(OBJ), n_ * sizeof(T));                                    \
        (VEC).n = n_;                                                                                  \
    } while (0)

static int load_table(Table *t, PyObject *pairs) {
    return table_load(t, (const Slot *)PyBytes_AS_STRING(pairs), (size_t)PyBytes_GET_SIZE(pairs) / sizeof(Slot));
}

/* load(parts, doc_ids): the state dump() gave, into this empty store. */
static PyObject *Store_load(Store *s, PyObject *args) {
    PyObject *parts, *ids;
    if (!PyArg_ParseTuple(args, "O!O!", &PyList_Type, &parts, &PyList_Type, &ids)) return NULL;
    Py_ssize_t nparts = s->nz_bands ? 16 : 12;
    if (PyList_GET_SIZE(parts) != nparts || PyBytes_GET_SIZE(PyList_GET_ITEM(parts, 11)) != sizeof(size_t)) {
        PyErr_SetString(PyExc_ValueError, "Store.load: not a dump (of a store with these settings)");
        return NULL;
    }
    for (Py_ssize_t i = 0; i < nparts; i++)
        if (!PyBytes_Check(PyList_GET_ITEM(parts, i))) { PyErr_SetString(PyExc_ValueError, "Store.load: not a dump"); return NULL; }
    if (store_len(s) || s->doc_first.n) { PyErr_SetString(PyExc_ValueError, "Store.load: the store is not empty"); return NULL; }
    PyObject *const *p = &PyList_GET_ITEM(parts, 0);
    LOAD_VEC(VecU64, s->set_key, uint64_t, p[0]);
    LOAD_VEC(VecU64, s->set_start, uint64_t, p[1]);
    LOAD_VEC(VecU32, s->set_len, uint32_t, p[2]);
    LOAD_VEC(VecU32, s->ustart, uint32_t, p[3]);
    LOAD_VEC(VecU32, s->uend, uint32_t, p[4]);
    LOAD_VEC(VecU32, s->pool, uint32_t, p[5]);
    LOAD_VEC(VecU64, s->doc_first, uint64_t, p[6]);
    if (load_table(&s->exact, p[7]) || load_table(&s->band, p[8]) || load_table(&s->doc_hash, p[9])) goto oom;
    LOAD_VEC(VecU64, s->doc_digest, uint64_t, p[10]);
    memcpy(&s->nunits, PyBytes_AS_STRING(p[11]), sizeof s->nunits);
    if (s->nz_bands) {
        LOAD_VEC(VecU64, s->nz_rstart, uint64_t, p[12]);
        LOAD_VEC(VecU32, s->nz_rlen, uint32_t, p[13]);
        LOAD_VEC(VecU8, s->nz_recs, uint8_t, p[14]);
        if (load_table(&s->nz_band, p[15])) goto oom;
    }
    Py_XSETREF(s->doc_ids, PyList_GetSlice(ids, 0, PyList_GET_SIZE(ids)));
    if (!s->doc_ids) return NULL;
    Py_RETURN_NONE;
oom:
    return PyErr_NoMemory();
}

static PyMethodDef Store_methods[] = {
    {"first_exact", (PyCFunction)Store_first_exact, METH_O, "first_exact(keys u64) -> int64 bytes (-1: none)"},
    {"band_candidates", (PyCFunction)Store_band_candidates, METH_VARARGS,
     "band_candidates(keys u64, limit) -> (positions, ids) int64 bytes; per key its earliest ids, ascending"},
    {"entry_set_keys", (PyCFunction)Store_entry_set_keys, METH_O, "entry_set_keys(ids i64) -> u64 bytes"},
    {"set_spans", (PyCFunction)Store_set_spans, METH_O, "set_spans(ids i64) -> (starts, lengths) int64 bytes in pool"},
    {"pool_view", (PyCFunction)Store_pool_view, METH_NOARGS, "the shingle pool (uint32), valid until the next change"},
    {"locations", (PyCFunction)Store_locations, METH_O, "locations(ids) -> (doc ids, indexes, starts, ends) lists"},
    {"document", (PyCFunction)Store_document, METH_O, "document(doc_id) -> (first unit, units) or None"},
    {"replay", (PyCFunction)Store_replay, METH_VARARGS, "replay(doc_id, set_keys) -> first unit or None"},
    {"add", (PyCFunction)Store_add, METH_VARARGS, "add a batch of units (IndexBatch's arrays)"},
    {"add_keys", (PyCFunction)Store_add_keys, METH_VARARGS,
     "add_keys(ids, set_keys, band_keys, bands): the look-up keys of stored units, nothing else"},
    {"dump", (PyCFunction)Store_dump, METH_NOARGS, "the state as a list of bytes (without doc ids)"},
    {"load", (PyCFunction)Store_load, METH_VARARGS, "load(dump, doc_ids) into an empty store"},
    {NULL}};

static PyGetSetDef Store_getset[] = {
    {"nbytes", (getter)Store_nbytes, NULL, "bytes held in arrays", NULL},
    {"documents", (getter)Store_documents, NULL, "documents added", NULL},
    {"doc_ids", (getter)Store_doc_ids, NULL, "the list of document ids (do not change it)", NULL},
    {"bands", (getter)Store_get_bands, NULL, "band keys per unit", NULL},
    {"cap", (getter)Store_get_cap, NULL, "ids kept per band key", NULL},
    {"stores_sets", (getter)Store_get_stores_sets, NULL, "False for an exact-only store", NULL},
    {NULL}};

static PySequenceMethods Store_as_sequence = {.sq_length = (lenfunc)Store_len};

static PyTypeObject StoreType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "dedup.accel._core.Store",
    .tp_basicsize = sizeof(Store),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "Store(bands=0, cap=64, stores_sets=True): a corpus index in flat arrays and hash tables.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Store_init,
    .tp_dealloc = (destructor)Store_dealloc,
    .tp_traverse = (traverseproc)Store_traverse,
    .tp_clear = (inquiry)Store_clear_refs,
    .tp_methods = Store_methods,
    .tp_getset = Store_getset,
    .tp_as_sequence = &Store_as_sequence,
};

/* ------------------------------------------------------------------------------------------ */

static PyObject *xxh3_bytes(PyObject *mod, PyObject *arg) {
    Py_buffer b;
    if (PyObject_GetBuffer(arg, &b, PyBUF_SIMPLE)) return NULL;
    if (b.len < 1) {
        PyBuffer_Release(&b);
        PyErr_SetString(PyExc_ValueError, "xxh3_64 hashes 1 byte or more");
        return NULL;
    }
    uint64_t h = xxh3_64((const uint8_t *)b.buf, (size_t)b.len);
    PyBuffer_Release(&b);
    return PyLong_FromUnsignedLongLong(h);
}

/* Tables handed in from Python for the module-level functions below. */
static int tables_from(PyObject *fold, PyObject *word, PyObject *space, Py_buffer *fb, Py_buffer *wb, Py_buffer *sb,
                       Folding *fo, Spaces *sp) {
    memset(fb, 0, sizeof *fb); memset(wb, 0, sizeof *wb); memset(sb, 0, sizeof *sb);
    if ((fold != Py_None && PyObject_GetBuffer(fold, fb, PyBUF_C_CONTIGUOUS)) ||
        (word != Py_None && PyObject_GetBuffer(word, wb, PyBUF_C_CONTIGUOUS)) ||
        (space != Py_None && PyObject_GetBuffer(space, sb, PyBUF_C_CONTIGUOUS))) {
        if (fb->obj) PyBuffer_Release(fb);
        if (wb->obj) PyBuffer_Release(wb);
        return -1;
    }
    memset(fo, 0, sizeof *fo);  /* no normalization steps in the module-level functions */
    fo->fold = (const uint32_t *)fb->buf; fo->fold_n = fb->obj ? (size_t)(fb->len / 4) : 0;
    fo->word = (const uint8_t *)wb->buf; fo->word_n = wb->obj ? (size_t)wb->len : 0;
    sp->table = (const uint8_t *)sb->buf; sp->n = sb->obj ? (size_t)sb->len : 0;
    return 0;
}

static void tables_release(Py_buffer *fb, Py_buffer *wb, Py_buffer *sb) {
    if (fb->obj) PyBuffer_Release(fb);
    if (wb->obj) PyBuffer_Release(wb);
    if (sb->obj) PyBuffer_Release(sb);
}

/* sentence_spans(text, space) -> (starts, ends) int64 bytes: dedup.text.split.sentence_spans. */
static PyObject *mod_sentence_spans(PyObject *mod, PyObject *args) {
    PyObject *text, *space;
    if (!PyArg_ParseTuple(args, "UO", &text, &space)) return NULL;
    Py_buffer fb, wb, sb;
    Folding fo;
    Spaces sp;
    memset(&sp, 0, sizeof sp);
    if (tables_from(Py_None, Py_None, space, &fb, &wb, &sb, &fo, &sp)) return NULL;
    VecI64 st = {0}, en = {0};
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    const void *data = PyUnicode_DATA(text);
    int r;
    switch (PyUnicode_KIND(text)) {
    case PyUnicode_1BYTE_KIND: r = sentences_u8(&sp, (const uint8_t *)data, 0, n, &st, &en); break;
    case PyUnicode_2BYTE_KIND: r = sentences_u16(&sp, (const uint16_t *)data, 0, n, &st, &en); break;
    default: r = sentences_u32(&sp, (const uint32_t *)data, 0, n, &st, &en);
    }
    tables_release(&fb, &wb, &sb);
    PyObject *out = r ? PyErr_NoMemory() : Py_BuildValue("(NN)", bytes_of(st.data, st.n * 8), bytes_of(en.data, en.n * 8));
    VecI64_free(&st);
    VecI64_free(&en);
    return out;
}

/* count_tokens(text, starts, ends, fold, word, case_fold) -> int64 bytes: tokens in each span as the
 * engine counts them; None when a span holds a character the table cannot fold alone. */
static PyObject *mod_count_tokens(PyObject *mod, PyObject *args) {
    PyObject *text, *starts, *ends, *fold, *word;
    int case_fold;
    if (!PyArg_ParseTuple(args, "UOOOOp", &text, &starts, &ends, &fold, &word, &case_fold)) return NULL;
    Arr a, b;
    if (arr_get(starts, &a, 8, "starts")) return NULL;
    if (arr_get(ends, &b, 8, "ends")) { PyBuffer_Release(&a.b); return NULL; }
    Py_buffer fb, wb, sb;
    Folding fo;
    Spaces sp;
    PyObject *out = NULL;
    if (a.n != b.n || tables_from(fold, word, Py_None, &fb, &wb, &sb, &fo, &sp)) {
        if (a.n != b.n) PyErr_SetString(PyExc_ValueError, "starts and ends differ in length");
        goto done;
    }
    VecU64 words = {0};
    VecU8 longbuf = {0};
    out = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(a.n * 8));
    Py_ssize_t len = PyUnicode_GET_LENGTH(text);
    for (size_t k = 0; out && k < a.n; k++) {
        int64_t lo = ((const int64_t *)a.b.buf)[k], hi = ((const int64_t *)b.b.buf)[k];
        if (lo < 0 || hi > len || lo > hi) { Py_CLEAR(out); PyErr_SetString(PyExc_ValueError, "span out of the text"); break; }
        words.n = 0;
        int r = tokenize_str_with(&fo, case_fold, text, lo, hi, &words, &longbuf);
        if (r < 0) { Py_CLEAR(out); PyErr_NoMemory(); break; }
        if (r == 1) { Py_CLEAR(out); out = Py_NewRef(Py_None); break; }
        ((int64_t *)PyBytes_AS_STRING(out))[k] = (int64_t)words.n;
    }
    VecU64_free(&words);
    VecU8_free(&longbuf);
    tables_release(&fb, &wb, &sb);
done:
    PyBuffer_Release(&a.b);
    PyBuffer_Release(&b.b);
    return out;
}

/* tokens(text, fold, word, case_fold) -> (hashes u64, starts i64, ends i64) as bytes: the word
 * hashes the engine gives the text (as one unit) and each token's character span; None when a
 * character needs Python's normalization (no character span maps through it). */
static PyObject *mod_tokens(PyObject *mod, PyObject *args) {
    PyObject *text, *fold, *word;
    int case_fold;
    if (!PyArg_ParseTuple(args, "UOOp", &text, &fold, &word, &case_fold)) return NULL;
    Py_buffer fb, wb, sb;
    Folding fo;
    Spaces sp;
    if (tables_from(fold, word, Py_None, &fb, &wb, &sb, &fo, &sp)) return NULL;
    VecU64 words = {0};
    VecI64 st = {0}, en = {0};
    VecU8 longbuf = {0};
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    const void *data = PyUnicode_DATA(text);
    int r;
    switch (PyUnicode_KIND(text)) {
    case PyUnicode_1BYTE_KIND: r = token_spans_u8(&fo, case_fold, (const uint8_t *)data, 0, n, &words, &st, &en, &longbuf); break;
    case PyUnicode_2BYTE_KIND: r = token_spans_u16(&fo, case_fold, (const uint16_t *)data, 0, n, &words, &st, &en, &longbuf); break;
    default: r = token_spans_u32(&fo, case_fold, (const uint32_t *)data, 0, n, &words, &st, &en, &longbuf);
    }
    tables_release(&fb, &wb, &sb);
    PyObject *out = r < 0 ? PyErr_NoMemory() : r == 1 ? Py_NewRef(Py_None)
                  : Py_BuildValue("(NNN)", bytes_of(words.data, words.n * 8), bytes_of(st.data, st.n * 8),
                                  bytes_of(en.data, en.n * 8));
    VecU64_free(&words);
    VecI64_free(&st);
    VecI64_free(&en);
    VecU8_free(&longbuf);
    return out;
}

static PyMethodDef module_methods[] = {
    {"tokens", mod_tokens, METH_VARARGS,
     "tokens(text, fold, word, case_fold) -> (word hashes, token starts, token ends) bytes, or None"},
    {"sentence_spans", mod_sentence_spans, METH_VARARGS, "sentence_spans(text, space) -> (starts, ends) int64 bytes"},
    {"count_tokens", mod_count_tokens, METH_VARARGS,
     "count_tokens(text, starts, ends, fold, word, case_fold) -> tokens per span (int64 bytes) or None"},
    {"xxh3_64", xxh3_bytes, METH_O, "XXH3-64 of some bytes (tests compare it with xxhash)"},
    {NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "dedup.accel._core",
                                    "The compiled engine of dedup (see dedup.accel.native).", -1, module_methods};

PyMODINIT_FUNC PyInit__core(void) {
    init_ascii();
    if (PyType_Ready(&StoreType) < 0 || PyType_Ready(&EngineType) < 0 || PyType_Ready(&PrintsType) < 0) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (!m) return NULL;
    if (PyModule_AddObjectRef(m, "Store", (PyObject *)&StoreType) < 0 ||
        PyModule_AddObjectRef(m, "Engine", (PyObject *)&EngineType) < 0 ||
        PyModule_AddObjectRef(m, "Prints", (PyObject *)&PrintsType) < 0 ||
        PyModule_AddIntConstant(m, "MAX_SHORT", XXH_MAX_SHORT) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
