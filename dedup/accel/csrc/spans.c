/* dedup.accel._spans: the hot loops of exact substrings and of per-item contamination.
 *
 * Optional, like _core: dedup.accel.spans has a numpy/Python path giving the same results (tests
 * compare them). Every hash here is the one dedup.accel.spans computes in numpy:
 *   gram hash of words[i:i+n] = fmix64(n * m_len + sum_t words[i+t] * mult[t])   (mod 2**64)
 * and a k-gram's fingerprint is its gram hash's high 32 bits.
 *
 * winnow(words, k, w, mult, m_len): the fingerprints of every k-gram of a token sequence and the
 *   k-grams winnowing selects (Schleimer et al. 2003): in every run of w consecutive k-grams the
 *   smallest fingerprint, the rightmost of equal ones. Any run of w + k - 1 equal tokens in two
 *   sequences selects the same k-gram in both.
 * FpTable(cap): fingerprint -> the first `cap` token positions where it was selected (open
 *   addressing, 9 bytes a slot: the fingerprint and a 40-bit position). match() looks up a
 *   document's selected k-grams, extends every candidate to the longest equal run of tokens
 *   (reading earlier documents' tokens from a file with pread: they need no memory) and returns
 *   the runs of at least min_len tokens.
 * GramSet(keys, lengths, mult, m_len): a set of 64-bit gram hashes (a benchmark's n-grams, each of
 *   a length); scan() finds which of them occur in a batch of token sequences (a corpus streamed
 *   past it).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hashing.h"

/* ---- small growable int64 vector ------------------------------------------------------------ */

typedef struct { int64_t *data; size_t n, cap; } Vec;

static int vec_push(Vec *v, int64_t x) {
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 64;
        int64_t *d = (int64_t *)realloc(v->data, cap * sizeof(int64_t));
        if (!d) return -1;
        v->data = d;
        v->cap = cap;
    }
    v->data[v->n++] = x;
    return 0;
}

typedef struct { Py_buffer b; size_t n; } Arr;

static int arr_get(PyObject *obj, Arr *a, int itemsize, const char *what) {
    if (PyObject_GetBuffer(obj, &a->b, PyBUF_C_CONTIGUOUS)) return -1;
    if (a->b.len % itemsize) {
        PyBuffer_Release(&a->b);
        PyErr_Format(PyExc_TypeError, "%s: need %d-byte items", what, itemsize);
        return -1;
    }
    a->n = (size_t)(a->b.len / itemsize);
    return 0;
}

static inline int ascii_word_char(uint8_t c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static PyObject *bytes_of(const void *p, size_t n) { return PyBytes_FromStringAndSize((const char *)p, (Py_ssize_t)n); }

/* gram hash of words[0:n] */
static inline uint64_t gram_hash(const uint64_t *words, Py_ssize_t n, const uint64_t *mult, uint64_t m_len) {
    uint64_t acc = (uint64_t)n * m_len;
    for (Py_ssize_t t = 0; t < n; t++) acc += words[t] * mult[t];
    return fmix64(acc);
}

/* ---- winnow ----------------------------------------------------------------------------------- */

/* The fingerprints of the k-grams of w[0:m] into fp (m - k + 1 of them, none when m < k) and the
 * k-grams winnowing selects, appended to sel; dq: scratch of at least m - k + 2 entries. */
static int winnow_into(const uint64_t *w, Py_ssize_t m, Py_ssize_t k, Py_ssize_t wn, const uint64_t *mu,
                       uint64_t m_len, uint32_t *fp, Vec *sel, Py_ssize_t *dq) {
    Py_ssize_t grams = m >= k ? m - k + 1 : 0;
    for (Py_ssize_t i = 0; i < grams; i++) fp[i] = (uint32_t)(gram_hash(w + i, k, mu, m_len) >> 32);
    if (grams < wn) return 0;
    /* a monotone deque of k-gram indexes, fingerprints strictly increasing from front to back */
    Py_ssize_t head = 0, tail = 0;
    int64_t last = -1;
    for (Py_ssize_t i = 0; i < grams; i++) {
        while (tail > head && fp[dq[tail - 1]] >= fp[i]) tail--;  /* equal ones go: the rightmost wins */
        dq[tail++] = i;
        if (dq[head] <= i - wn) head++;
        if (i >= wn - 1 && dq[head] != last) {
            last = dq[head];
            if (vec_push(sel, last)) return -1;
        }
    }
    return 0;
}

static PyObject *mod_winnow(PyObject *mod, PyObject *args) {
    PyObject *words_o, *mult_o;
    Py_ssize_t k, w;
    unsigned long long m_len;
    if (!PyArg_ParseTuple(args, "OnnOK", &words_o, &k, &w, &mult_o, &m_len)) return NULL;
    if (k < 1 || w < 1) { PyErr_SetString(PyExc_ValueError, "k and w must be >= 1"); return NULL; }
    Arr words, mult;
    if (arr_get(words_o, &words, 8, "words")) return NULL;
    if (arr_get(mult_o, &mult, 8, "mult")) { PyBuffer_Release(&words.b); return NULL; }
    PyObject *out = NULL;
    if ((Py_ssize_t)mult.n < k) { PyErr_SetString(PyExc_ValueError, "need k multipliers"); goto done; }
    Py_ssize_t m = (Py_ssize_t)words.n;
    Py_ssize_t grams = m >= k ? m - k + 1 : 0;
    PyObject *fps_b = PyBytes_FromStringAndSize(NULL, grams * 4);
    Py_ssize_t *dq = (Py_ssize_t *)malloc(sizeof(Py_ssize_t) * (size_t)(grams + 2));
    Vec sel = {0};
    if (!fps_b || !dq) { Py_XDECREF(fps_b); free(dq); PyErr_NoMemory(); goto done; }
    if (winnow_into((const uint64_t *)words.b.buf, m, k, w, (const uint64_t *)mult.b.buf, (uint64_t)m_len,
                    (uint32_t *)PyBytes_AS_STRING(fps_b), &sel, dq)) {
        Py_DECREF(fps_b); free(dq); free(sel.data); PyErr_NoMemory(); goto done;
    }
    free(dq);
    out = Py_BuildValue("(NN)", fps_b, bytes_of(sel.data, sel.n * 8));
    free(sel.data);
done:
    PyBuffer_Release(&words.b);
    PyBuffer_Release(&mult.b);
    return out;
}

/* ---- FpTable ---------------------------------------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    uint32_t *keys;
    uint32_t *lo;    /* position + 1, in 40 bits: its low 32 bits ... */
    uint8_t *hi;     /* ... and its high 8 (9 bytes a slot); 0: an empty slot */
    size_t slots;    /* a power of two */
    size_t count;
    int cap;
} FpTable;

#define POSITION_LIMIT (((uint64_t)1 << 40) - 1)

static inline size_t fp_home(uint32_t key, size_t mask) { return (size_t)fmix32(key) & mask; }
static inline uint64_t slot_pos(const FpTable *t, size_t i) { return ((uint64_t)t->hi[i] << 32) | t->lo[i]; }
static inline int slot_used(const FpTable *t, size_t i) { return t->lo[i] || t->hi[i]; }

static int fp_alloc(FpTable *t, size_t slots) {
    uint32_t *keys = (uint32_t *)calloc(slots, sizeof(uint32_t));
    uint32_t *lo = (uint32_t *)calloc(slots, sizeof(uint32_t));
    uint8_t *hi = (uint8_t *)calloc(slots, 1);
    if (!keys || !lo || !hi) { free(keys); free(lo); free(hi); return -1; }
    t->keys = keys;
    t->lo = lo;
    t->hi = hi;
    t->slots = slots;
    return 0;
}

static void fp_place(FpTable *t, uint32_t key, uint64_t pos1) {
    size_t mask = t->slots - 1, i = fp_home(key, mask);
    while (slot_used(t, i)) i = (i + 1) & mask;
    t->keys[i] = key;
    t->lo[i] = (uint32_t)pos1;
    t->hi[i] = (uint8_t)(pos1 >> 32);
}

static int fp_grow(FpTable *t) {
    FpTable old = *t;
    if (fp_alloc(t, old.slots * 2)) { t->keys = old.keys; t->lo = old.lo; t->hi = old.hi; return -1; }
    /* the order of one key's positions in its run does not matter: fp_find sorts them */
    for (size_t i = 0; i < old.slots; i++)
        if (slot_used(&old, i)) fp_place(t, old.keys[i], slot_pos(&old, i));
    free(old.keys);
    free(old.lo);
    free(old.hi);
    return 0;
}

/* The positions stored under `key`, ascending, at most t->cap of them. */
static size_t fp_find(const FpTable *t, uint32_t key, uint64_t *out) {
    size_t mask = t->slots - 1, i = fp_home(key, mask), n = 0;
    while (slot_used(t, i)) {
        if (t->keys[i] == key && n < (size_t)t->cap) out[n++] = slot_pos(t, i) - 1;
        i = (i + 1) & mask;
    }
    for (size_t a = 1; a < n; a++) {  /* insertion sort: a handful */
        uint64_t v = out[a];
        size_t b = a;
        while (b > 0 && out[b - 1] > v) { out[b] = out[b - 1]; b--; }
        out[b] = v;
    }
    return n;
}

/* Store (key, position) unless `cap` positions are stored under key already. Returns -1 out of
 * memory, -2 past the positions 40 bits hold (a trillion tokens). */
static int fp_add(FpTable *t, uint32_t key, uint64_t position) {
    if (position >= POSITION_LIMIT) return -2;
    size_t mask = t->slots - 1, i = fp_home(key, mask);
    int have = 0;
    while (slot_used(t, i)) {
        if (t->keys[i] == key && ++have >= t->cap) return 0;
        i = (i + 1) & mask;
    }
    t->keys[i] = key;
    t->lo[i] = (uint32_t)(position + 1);
    t->hi[i] = (uint8_t)((position + 1) >> 32);
    t->count++;
    if (t->count * 10 > t->slots * 7) return fp_grow(t);
    return 0;
}

static int fp_add_error(int rc) {
    if (rc == -2) PyErr_SetString(PyExc_OverflowError, "the span store holds 2**40 tokens: no more positions");
    else PyErr_NoMemory();
    return -1;
}

static PyObject *FpTable_new(PyTypeObject *type, PyObject *args, PyObject *kw) {
    static char *names[] = {"cap", NULL};
    int cap = 16;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|i", names, &cap)) return NULL;
    if (cap < 1) { PyErr_SetString(PyExc_ValueError, "cap must be >= 1"); return NULL; }
    FpTable *t = (FpTable *)type->tp_alloc(type, 0);
    if (!t) return NULL;
    t->cap = cap;
    if (fp_alloc(t, 1024)) { Py_DECREF(t); return PyErr_NoMemory(); }
    return (PyObject *)t;
}

static void FpTable_dealloc(FpTable *t) {
    free(t->keys);
    free(t->lo);
    free(t->hi);
    Py_TYPE(t)->tp_free((PyObject *)t);
}

static PyObject *FpTable_add(FpTable *t, PyObject *args) {
    PyObject *fps_o, *pos_o;
    if (!PyArg_ParseTuple(args, "OO", &fps_o, &pos_o)) return NULL;
    Arr fps, pos;
    if (arr_get(fps_o, &fps, 4, "fingerprints")) return NULL;
    if (arr_get(pos_o, &pos, 8, "positions")) { PyBuffer_Release(&fps.b); return NULL; }
    PyObject *out = Py_None;
    if (fps.n != pos.n) { PyErr_SetString(PyExc_ValueError, "fingerprints and positions differ in length"); out = NULL; }
    for (size_t i = 0; out && i < fps.n; i++) {
        int rc = fp_add(t, ((const uint32_t *)fps.b.buf)[i], ((const uint64_t *)pos.b.buf)[i]);
        if (rc) { fp_add_error(rc); out = NULL; }
    }
    PyBuffer_Release(&fps.b);
    PyBuffer_Release(&pos.b);
    return Py_XNewRef(out);
}

static PyObject *FpTable_find(FpTable *t, PyObject *arg) {
    unsigned long key = PyLong_AsUnsignedLong(arg);
    if (key == (unsigned long)-1 && PyErr_Occurred()) return NULL;
    uint64_t *found = (uint64_t *)malloc(sizeof(uint64_t) * (size_t)t->cap);
    if (!found) return PyErr_NoMemory();
    size_t n = fp_find(t, (uint32_t)key, found);
    PyObject *out = PyList_New((Py_ssize_t)n);
    for (size_t i = 0; out && i < n; i++) {
        PyObject *v = PyLong_FromUnsignedLongLong(found[i]);
        if (!v) { Py_CLEAR(out); break; }
        PyList_SET_ITEM(out, (Py_ssize_t)i, v);
    }
    free(found);
    return out;
}

/* Tokens of earlier documents: those before `flushed` read from a file of uint64 word hashes a
 * block at a time, the others from `pending` (written to the file later). */
#define BLOCK 512
typedef struct {
    int fd;
    int64_t flushed;
    const uint64_t *pending;
    int64_t pending_n;
    int64_t lo, n;  /* the block holds positions [lo, lo + n) */
    uint64_t buf[BLOCK];
} Reader;

static int reader_load(Reader *r, int64_t p, int64_t lo_bound, int64_t hi_bound, int forward) {
    if (hi_bound > r->flushed) hi_bound = r->flushed;
    int64_t lo = forward ? p : p - BLOCK + 1;
    if (lo < lo_bound) lo = lo_bound;
    int64_t hi = lo + BLOCK;
    if (hi > hi_bound) hi = hi_bound;
    size_t want = (size_t)(hi - lo) * 8, got = 0;
    while (got < want) {
        ssize_t k = pread(r->fd, (char *)r->buf + got, want - got, (off_t)(lo * 8 + (int64_t)got));
        if (k < 0) { if (errno == EINTR) continue; PyErr_SetFromErrno(PyExc_OSError); return -1; }
        if (k == 0) { PyErr_SetString(PyExc_OSError, "the span store's token file is shorter than its documents"); return -1; }
        got += (size_t)k;
    }
    r->lo = lo;
    r->n = hi - lo;
    return 0;
}

static inline int reader_get(Reader *r, int64_t p, int64_t lo_bound, int64_t hi_bound, int forward, uint64_t *out) {
    if (p >= r->flushed) {
        if (p - r->flushed >= r->pending_n) {
            PyErr_SetString(PyExc_ValueError, "a stored position past the tokens given");
            return -1;
        }
        *out = r->pending[p - r->flushed];
        return 0;
    }
    if (p < r->lo || p >= r->lo + r->n) {
        if (reader_load(r, p, lo_bound, hi_bound, forward)) return -1;
    }
    *out = r->buf[p - r->lo];
    return 0;
}

/* diagonal -> end of the last run found on it (open addressing; key 0 unused: diagonals are > 0) */
typedef struct { int64_t *key, *end; size_t slots, n; } DiagMap;

static int diag_init(DiagMap *d, size_t slots) {
    d->key = (int64_t *)calloc(slots, sizeof(int64_t));
    d->end = (int64_t *)calloc(slots, sizeof(int64_t));
    d->slots = slots;
    d->n = 0;
    if (!d->key || !d->end) { free(d->key); free(d->end); d->key = d->end = NULL; return -1; }
    return 0;
}

static void diag_free(DiagMap *d) { free(d->key); free(d->end); }

static int64_t *diag_slot(DiagMap *d, int64_t diag) {
    size_t mask = d->slots - 1, i = (size_t)fmix64((uint64_t)diag) & mask;
    while (d->key[i] && d->key[i] != diag) i = (i + 1) & mask;
    return &d->key[i];
}

static int diag_set(DiagMap *d, int64_t diag, int64_t end) {
    int64_t *k = diag_slot(d, diag);
    size_t i = (size_t)(k - d->key);
    if (!*k) {
        if ((d->n + 1) * 2 > d->slots) {
            DiagMap g;
            if (diag_init(&g, d->slots * 2)) return -1;
            for (size_t j = 0; j < d->slots; j++)
                if (d->key[j]) { int64_t *s = diag_slot(&g, d->key[j]); size_t at = (size_t)(s - g.key); *s = d->key[j]; g.end[at] = d->end[j]; g.n++; }
            diag_free(d);
            *d = g;
            k = diag_slot(d, diag);
            i = (size_t)(k - d->key);
        }
        *k = diag;
        d->n++;
    }
    d->end[i] = end;
    return 0;
}

static int64_t diag_end(DiagMap *d, int64_t diag) {
    int64_t *k = diag_slot(d, diag);
    return *k ? d->end[k - d->key] : -1;
}

/* The maximal runs of at least min_len equal tokens through a selected k-gram of w[0:m] (a document
 * starting at position `base`) and a stored place of its fingerprint: an earlier stored document
 * (ds[0:ndocs + 1]: their first positions, then base; tokens through rd) or an earlier place in
 * this one. Each run is appended to `found` as (tag, start, length, source position), or without
 * the tag when tag < 0. With insert, the selected k-grams are stored after they are looked up. */
static int match_doc(FpTable *t, const uint64_t *w, int64_t m, const uint32_t *fp, size_t nfp, const int64_t *sq,
                     size_t nsel, int64_t base, const int64_t *ds, int64_t ndocs, Reader *rd, int64_t min_len,
                     int insert, int64_t tag, uint64_t *cands, Vec *found) {
    DiagMap diags;
    if (diag_init(&diags, 64)) { PyErr_NoMemory(); return -1; }
    int rc = -1;
    for (size_t s2 = 0; s2 < nsel; s2++) {
        int64_t q = sq[s2];
        if (q < 0 || q >= (int64_t)nfp) { PyErr_SetString(PyExc_ValueError, "selected k-gram out of range"); goto fail; }
        size_t nc = fp_find(t, fp[q], cands);
        for (size_t c = 0; c < nc; c++) {
            int64_t p = (int64_t)cands[c];
            int64_t diag = base + q - p;
            if (diag <= 0) continue;
            if (q < diag_end(&diags, diag)) continue;  /* inside a run found already on this diagonal */
            int64_t i = q, e = q, j, f;
            if (p >= base) {  /* an earlier place in this document */
                j = p - base;
                f = j;
                while (i > 0 && j > 0 && w[i - 1] == w[j - 1]) { i--; j--; }
                while (e < m && w[e] == w[f]) { e++; f++; }
                j += base;
            } else {
                if (ndocs < 1) { PyErr_SetString(PyExc_ValueError, "a stored position outside the documents"); goto fail; }
                int64_t lo = 0, hi = ndocs;  /* the stored document holding p: ds[d] <= p < ds[d + 1] */
                while (hi - lo > 1) { int64_t mid = (lo + hi) / 2; if (ds[mid] <= p) lo = mid; else hi = mid; }
                int64_t dlo = ds[lo], dhi = ds[lo + 1];
                uint64_t v;
                j = p;
                f = p;
                while (i > 0 && j > dlo) {
                    if (reader_get(rd, j - 1, dlo, dhi, 0, &v)) goto fail;
                    if (v != w[i - 1]) break;
                    i--; j--;
                }
                while (e < m && f < dhi) {
                    if (reader_get(rd, f, dlo, dhi, 1, &v)) goto fail;
                    if (v != w[e]) break;
                    e++; f++;
                }
            }
            if (diag_set(&diags, diag, e)) { PyErr_NoMemory(); goto fail; }
            if (e - i >= min_len) {
                if ((tag >= 0 && vec_push(found, tag)) || vec_push(found, i) || vec_push(found, e - i) ||
                    vec_push(found, j)) { PyErr_NoMemory(); goto fail; }
            }
        }
        if (insert) {
            int added = fp_add(t, fp[q], (uint64_t)(base + q));
            if (added) { fp_add_error(added); goto fail; }
        }
    }
    rc = 0;
fail:
    diag_free(&diags);
    return rc;
}

/* match(words, fps, selected, base, doc_starts, fd, flushed, pending, min_len, insert) -> int64 bytes
 * of (start, length, source position) triples: match_doc of one document. doc_starts: the first
 * position of every stored document, then `base`. Stored tokens before `flushed` are read from fd,
 * the rest from `pending`. */
static PyObject *FpTable_match(FpTable *t, PyObject *args) {
    PyObject *words_o, *fps_o, *sel_o, *starts_o, *pend_o;
    long long base, min_len, flushed;
    int fd, insert;
    if (!PyArg_ParseTuple(args, "OOOLOiLOLp", &words_o, &fps_o, &sel_o, &base, &starts_o, &fd, &flushed, &pend_o,
                          &min_len, &insert))
        return NULL;
    Arr words, fps, sel, starts, pend;
    if (arr_get(words_o, &words, 8, "words")) return NULL;
    if (arr_get(fps_o, &fps, 4, "fingerprints")) { PyBuffer_Release(&words.b); return NULL; }
    if (arr_get(sel_o, &sel, 8, "selected")) { PyBuffer_Release(&words.b); PyBuffer_Release(&fps.b); return NULL; }
    if (arr_get(starts_o, &starts, 8, "doc_starts")) {
        PyBuffer_Release(&words.b); PyBuffer_Release(&fps.b); PyBuffer_Release(&sel.b); return NULL;
    }
    if (arr_get(pend_o, &pend, 8, "pending")) {
        PyBuffer_Release(&words.b); PyBuffer_Release(&fps.b); PyBuffer_Release(&sel.b); PyBuffer_Release(&starts.b);
        return NULL;
    }
    PyObject *out = NULL;
    Vec found = {0};
    uint64_t *cands = (uint64_t *)malloc(sizeof(uint64_t) * (size_t)t->cap);
    Reader *rd = (Reader *)malloc(sizeof(Reader));
    if (!cands || !rd) { PyErr_NoMemory(); goto done; }
    rd->fd = fd;
    rd->flushed = fd < 0 ? 0 : flushed;
    rd->pending = (const uint64_t *)pend.b.buf;
    rd->pending_n = (int64_t)pend.n;
    rd->lo = rd->n = 0;
    if (!match_doc(t, (const uint64_t *)words.b.buf, (int64_t)words.n, (const uint32_t *)fps.b.buf, fps.n,
                   (const int64_t *)sel.b.buf, sel.n, base, (const int64_t *)starts.b.buf, (int64_t)starts.n - 1, rd,
                   min_len, insert, -1, cands, &found))
        out = bytes_of(found.data, found.n * 8);
done:
    free(cands);
    free(rd);
    free(found.data);
    PyBuffer_Release(&words.b);
    PyBuffer_Release(&fps.b);
    PyBuffer_Release(&sel.b);
    PyBuffer_Release(&starts.b);
    PyBuffer_Release(&pend.b);
    return out;
}

/* match_batch(words, offsets, docnos, inserts, doc_starts, fd, flushed, pending, k, w, mult, m_len,
 * min_len) -> (found, log fingerprints u32, log positions u64): for each document b of a batch
 * (words[offsets[b]:offsets[b + 1]], in order), its k-grams winnowed and match_doc'ed as stored
 * document docnos[b] (doc_starts[docnos[b]]: its first position; its tokens are in `pending`
 * already), its selected k-grams stored when inserts[b]. found: (b, start, length, source)
 * int64 rows; the log: every stored document's selected k-grams and their positions. */
static PyObject *FpTable_match_batch(FpTable *t, PyObject *args) {
    PyObject *words_o, *off_o, *docno_o, *ins_o, *starts_o, *pend_o, *mult_o;
    long long flushed, min_len;
    Py_ssize_t k, wn;
    unsigned long long m_len;
    int fd;
    if (!PyArg_ParseTuple(args, "OOOOOiLOnnOKL", &words_o, &off_o, &docno_o, &ins_o, &starts_o, &fd, &flushed, &pend_o,
                          &k, &wn, &mult_o, &m_len, &min_len))
        return NULL;
    Arr words, off, docno, ins, starts, pend, mult;
    int got = 0;
    if (arr_get(words_o, &words, 8, "words")) return NULL;
    got++;
    if (arr_get(off_o, &off, 8, "offsets")) goto release;
    got++;
    if (arr_get(docno_o, &docno, 8, "docnos")) goto release;
    got++;
    if (arr_get(ins_o, &ins, 1, "inserts")) goto release;
    got++;
    if (arr_get(starts_o, &starts, 8, "doc_starts")) goto release;
    got++;
    if (arr_get(pend_o, &pend, 8, "pending")) goto release;
    got++;
    if (arr_get(mult_o, &mult, 8, "mult")) goto release;
    got++;
    PyObject *out = NULL;
    Vec found = {0}, sel = {0}, log_fp = {0}, log_pos = {0};
    const uint64_t *w = (const uint64_t *)words.b.buf;
    const int64_t *o = (const int64_t *)off.b.buf, *dn = (const int64_t *)docno.b.buf, *ds = (const int64_t *)starts.b.buf;
    const uint8_t *insert = (const uint8_t *)ins.b.buf;
    size_t ndocs = off.n ? off.n - 1 : 0, longest = 0;
    for (size_t b = 0; b < ndocs; b++) if ((size_t)(o[b + 1] - o[b]) > longest) longest = (size_t)(o[b + 1] - o[b]);
    uint64_t *cands = (uint64_t *)malloc(sizeof(uint64_t) * (size_t)t->cap);
    Reader *rd = (Reader *)malloc(sizeof(Reader));
    uint32_t *fp = (uint32_t *)malloc(sizeof(uint32_t) * (longest + 1));
    Py_ssize_t *dq = (Py_ssize_t *)malloc(sizeof(Py_ssize_t) * (longest + 2));
    if (!cands || !rd || !fp || !dq) { PyErr_NoMemory(); goto done; }
    if ((Py_ssize_t)mult.n < k || k < 1 || wn < 1 || docno.n != ndocs || ins.n != ndocs) {
        PyErr_SetString(PyExc_ValueError, "match_batch: bad arguments");
        goto done;
    }
    rd->fd = fd;
    rd->flushed = fd < 0 ? 0 : flushed;
    rd->pending = (const uint64_t *)pend.b.buf;
    rd->pending_n = (int64_t)pend.n;
    rd->lo = rd->n = 0;
    for (size_t b = 0; b < ndocs; b++) {
        int64_t a = o[b], e = o[b + 1], d = dn[b];
        if (a < 0 || e > (int64_t)words.n || a > e || d < 0 || (size_t)d >= starts.n) {
            PyErr_SetString(PyExc_ValueError, "match_batch: offsets or document numbers out of range");
            goto done;
        }
        int64_t m = e - a;
        if (m < (int64_t)(k + wn - 1)) continue;  /* shorter than a run: nothing selected */
        sel.n = 0;
        if (winnow_into(w + a, m, k, wn, (const uint64_t *)mult.b.buf, (uint64_t)m_len, fp, &sel, dq)) {
            PyErr_NoMemory(); goto done;
        }
        int64_t base = ds[d];
        if (match_doc(t, w + a, m, fp, (size_t)(m - k + 1), sel.data, sel.n, base, ds, d, rd, min_len, insert[b],
                      (int64_t)b, cands, &found))
            goto done;
        if (insert[b]) {
            for (size_t j = 0; j < sel.n; j++)
                if (vec_push(&log_fp, (int64_t)fp[sel.data[j]]) || vec_push(&log_pos, base + sel.data[j])) {
                    PyErr_NoMemory(); goto done;
                }
        }
    }
    {
        PyObject *fps_b = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(log_fp.n * 4));
        if (fps_b) {
            uint32_t *dst = (uint32_t *)PyBytes_AS_STRING(fps_b);
            for (size_t j = 0; j < log_fp.n; j++) dst[j] = (uint32_t)log_fp.data[j];
            out = Py_BuildValue("(NNN)", bytes_of(found.data, found.n * 8), fps_b, bytes_of(log_pos.data, log_pos.n * 8));
        }
    }
done:
    free(cands);
    free(rd);
    free(fp);
    free(dq);
    free(found.data);
    free(sel.data);
    free(log_fp.data);
    free(log_pos.data);
release:
    if (got > 0) PyBuffer_Release(&words.b);
    if (got > 1) PyBuffer_Release(&off.b);
    if (got > 2) PyBuffer_Release(&docno.b);
    if (got > 3) PyBuffer_Release(&ins.b);
    if (got > 4) PyBuffer_Release(&starts.b);
    if (got > 5) PyBuffer_Release(&pend.b);
    if (got > 6) PyBuffer_Release(&mult.b);
    return got == 7 ? out : NULL;
}

static Py_ssize_t FpTable_len(FpTable *t) { return (Py_ssize_t)t->count; }

static PyObject *FpTable_nbytes(FpTable *t, void *closure) {
    return PyLong_FromSize_t(t->slots * (2 * sizeof(uint32_t) + 1));
}

static PyMethodDef FpTable_methods[] = {
    {"add", (PyCFunction)FpTable_add, METH_VARARGS, "add(fingerprints u32, positions u64): store each (capped)"},
    {"find", (PyCFunction)FpTable_find, METH_O, "find(fingerprint) -> stored positions, ascending"},
    {"match_batch", (PyCFunction)FpTable_match_batch, METH_VARARGS,
     "match_batch(words, offsets, docnos, inserts, doc_starts, fd, flushed, pending, k, w, mult, m_len, min_len) -> "
     "(found (doc, start, length, source) int64 bytes, log fingerprints u32, log positions u64)"},
    {"match", (PyCFunction)FpTable_match, METH_VARARGS,
     "match(words, fps, selected, base, doc_starts, fd, flushed, pending, min_len, insert) -> (start, length, source) "
     "int64 bytes"},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef FpTable_getset[] = {
    {"nbytes", (getter)FpTable_nbytes, NULL, "bytes held", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PySequenceMethods FpTable_seq = {.sq_length = (lenfunc)FpTable_len};

static PyTypeObject FpTableType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "dedup.accel._spans.FpTable",
    .tp_basicsize = sizeof(FpTable),
    .tp_dealloc = (destructor)FpTable_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "FpTable(cap=16): k-gram fingerprint -> its first `cap` positions",
    .tp_new = FpTable_new,
    .tp_methods = FpTable_methods,
    .tp_getset = FpTable_getset,
    .tp_as_sequence = &FpTable_seq,
};

/* ---- GramSet ---------------------------------------------------------------------------------- */

#define MAX_LENGTHS 64

/* fmix64 undone (its steps are invertible): the filters are indexed by the sum before the mix,
 * so a window costs the mix only when its filter bit is set. */
static inline uint64_t unfmix64(uint64_t h) {
    h ^= h >> 33;
    h *= 0x9CB4B2F8129337DBULL;
    h ^= h >> 33;
    h *= 0x4F74430C22A54005ULL;
    h ^= h >> 33;
    return h;
}

typedef struct {
    PyObject_HEAD
    uint64_t *keys;  /* 0: empty (a key of 0 is kept aside) */
    int64_t *ids;
    size_t slots;
    int64_t zero_id;  /* the id of the key 0, or -1 */
    int nlen;         /* distinct gram lengths, ascending */
    int64_t len[MAX_LENGTHS];
    uint8_t *bits[MAX_LENGTHS];  /* per length a filter: one bit per (unfmix64(key) >> shift) */
    int shift[MAX_LENGTHS];
    uint64_t *mult;
    uint64_t m_len;
} GramSet;

static int len_index(const GramSet *g, int64_t n) {
    for (int i = 0; i < g->nlen; i++) if (g->len[i] == n) return i;
    return -1;
}

static void GramSet_dealloc(GramSet *g) {
    free(g->keys);
    free(g->ids);
    for (int i = 0; i < g->nlen; i++) free(g->bits[i]);
    free(g->mult);
    Py_TYPE(g)->tp_free((PyObject *)g);
}

/* GramSet(keys u64, lengths i64, mult u64, m_len): the gram hashes of a benchmark, each with the
 * length of its gram (keys distinct). */
static PyObject *GramSet_new(PyTypeObject *type, PyObject *args, PyObject *kw) {
    PyObject *keys_o, *lens_o, *mult_o;
    unsigned long long m_len;
    if (!PyArg_ParseTuple(args, "OOOK", &keys_o, &lens_o, &mult_o, &m_len)) return NULL;
    Arr keys, lens, mult;
    if (arr_get(keys_o, &keys, 8, "keys")) return NULL;
    if (arr_get(lens_o, &lens, 8, "lengths")) { PyBuffer_Release(&keys.b); return NULL; }
    if (arr_get(mult_o, &mult, 8, "mult")) { PyBuffer_Release(&keys.b); PyBuffer_Release(&lens.b); return NULL; }
    GramSet *g = NULL;
    const uint64_t *k = (const uint64_t *)keys.b.buf;
    const int64_t *kl = (const int64_t *)lens.b.buf;
    if (keys.n != lens.n) { PyErr_SetString(PyExc_ValueError, "keys and lengths differ in length"); goto done; }
    g = (GramSet *)type->tp_alloc(type, 0);
    if (!g) goto done;
    g->zero_id = -1;
    g->m_len = (uint64_t)m_len;
    /* the distinct lengths, ascending, and how many keys each has */
    size_t count[MAX_LENGTHS] = {0};
    for (size_t i = 0; i < keys.n; i++) {
        int at = len_index(g, kl[i]);
        if (at < 0) {
            if (g->nlen == MAX_LENGTHS) { PyErr_SetString(PyExc_ValueError, "too many gram lengths"); Py_CLEAR(g); goto done; }
            if (kl[i] < 1 || (size_t)kl[i] > mult.n) { PyErr_SetString(PyExc_ValueError, "a length without multipliers"); Py_CLEAR(g); goto done; }
            int j = g->nlen++;
            while (j > 0 && g->len[j - 1] > kl[i]) { g->len[j] = g->len[j - 1]; count[j] = count[j - 1]; j--; }
            g->len[j] = kl[i];
            count[j] = 0;
            at = j;
        }
        count[at]++;
    }
    for (int L = 0; L < g->nlen; L++) {
        int bits = 9;  /* about 64 bits a key, at least 64 bytes */
        while (((size_t)1 << bits) < count[L] * 64) bits++;
        g->shift[L] = 64 - bits;
        g->bits[L] = (uint8_t *)calloc(((size_t)1 << bits) / 8, 1);
        if (!g->bits[L]) { Py_CLEAR(g); PyErr_NoMemory(); goto done; }
    }
    g->mult = (uint64_t *)malloc(sizeof(uint64_t) * (mult.n ? mult.n : 1));
    size_t slots = 64;
    while (slots < keys.n * 2) slots *= 2;
    g->slots = slots;
    g->keys = (uint64_t *)calloc(slots, 8);
    g->ids = (int64_t *)calloc(slots, 8);
    if (!g->keys || !g->ids || !g->mult) { Py_CLEAR(g); PyErr_NoMemory(); goto done; }
    memcpy(g->mult, mult.b.buf, mult.n * 8);
    size_t mask = slots - 1;
    for (size_t i = 0; i < keys.n; i++) {
        uint64_t key = k[i];
        int L = len_index(g, kl[i]);
        uint64_t b = unfmix64(key) >> g->shift[L];
        g->bits[L][b >> 3] |= (uint8_t)(1u << (b & 7));
        if (key == 0) { if (g->zero_id < 0) g->zero_id = (int64_t)i; continue; }
        size_t s2 = (size_t)key & mask;
        while (g->keys[s2] && g->keys[s2] != key) s2 = (s2 + 1) & mask;
        if (!g->keys[s2]) { g->keys[s2] = key; g->ids[s2] = (int64_t)i; }
    }
done:
    PyBuffer_Release(&keys.b);
    PyBuffer_Release(&lens.b);
    PyBuffer_Release(&mult.b);
    return (PyObject *)g;
}

/* The id of the window whose sum (before fmix64) is `sum`, of length index L; -1: not a key. */
static inline int64_t gram_id(const GramSet *g, int L, uint64_t sum) {
    uint64_t b = sum >> g->shift[L];
    if (!(g->bits[L][b >> 3] & (1u << (b & 7)))) return -1;
    uint64_t key = fmix64(sum);
    if (key == 0) return g->zero_id;
    size_t mask = g->slots - 1, s = (size_t)key & mask;
    while (g->keys[s]) {
        if (g->keys[s] == key) return g->ids[s];
        s = (s + 1) & mask;
    }
    return -1;
}

/* scan(words u64, offsets i64 (documents + 1), skip u8 (per key)) -> (documents i64, ids i64) bytes:
 * for every window inside one document whose gram hash is a key of its length (and not skipped),
 * the document and the key's id (its index in the keys given). Windows starting at one token share their sums: the cost is the
 * longest length per token, not the sum of the lengths. */
/* The hits of the documents words[o[d]:o[d + 1]] (0 <= d < ndocs), appended to docs and ids. */
static int scan_words(const GramSet *g, const uint64_t *w, size_t nwords, const int64_t *o, size_t ndocs,
                      const uint8_t *skipped, size_t nskip, Vec *docs, Vec *ids) {
    const uint64_t *mu = g->mult;
    int nlen = g->nlen, top = nlen - 1;
    int64_t longest = nlen ? g->len[top] : 0;
    uint64_t *sums = NULL;  /* the longest length's sums of one document, checked in a second pass */
    size_t sums_cap = 0;
    int rc = 0;
    for (size_t d = 0; nlen && d < ndocs; d++) {
        int64_t a = o[d], b = o[d + 1];
        if (a < 0 || b > (int64_t)nwords || a > b) { PyErr_SetString(PyExc_ValueError, "offsets out of the words"); rc = -1; break; }
        size_t n_long = b - a >= longest ? (size_t)(b - a - longest + 1) : 0;
        if (n_long > sums_cap) {
            free(sums);
            sums_cap = n_long * 2;
            sums = (uint64_t *)malloc(sums_cap * sizeof(uint64_t));
            if (!sums) { PyErr_NoMemory(); rc = -1; break; }
        }
        /* pass 1: every window's sum, built token by token; the shorter lengths' filters are small */
        for (int64_t i = a; i < b && !rc; i++) {
            int64_t reach = b - i < longest ? b - i : longest;
            uint64_t acc = 0;
            int L = 0;
            for (int64_t t = 0; t < reach; t++) {
                acc += w[i + t] * mu[t];
                if (t + 1 == g->len[L]) {
                    uint64_t sum = acc + (uint64_t)(t + 1) * g->m_len;
                    if (L == top) {
                        sums[i - a] = sum;
                        break;
                    }
                    int64_t id = gram_id(g, L, sum);
                    if (id >= 0 && (size_t)id < nskip && !skipped[id] &&
                        (vec_push(docs, (int64_t)d) || vec_push(ids, id))) { PyErr_NoMemory(); rc = -1; break; }
                    L++;
                }
            }
        }
        if (rc) break;
        /* pass 2: the longest length, its filter's bits fetched ahead */
        const uint8_t *bits = g->bits[top];
        int shift = g->shift[top];
        for (size_t j = 0; j < n_long; j++) {
            if (j + 16 < n_long) {
                uint64_t ahead = sums[j + 16] >> shift;
                __builtin_prefetch(bits + (ahead >> 3));
            }
            if (j + 8 < n_long) {  /* a window likely to pass the filter: its table slot too */
                uint64_t near = sums[j + 8] >> shift;
                if (bits[near >> 3] & (1u << (near & 7)))
                    __builtin_prefetch(g->keys + ((size_t)fmix64(sums[j + 8]) & (g->slots - 1)));
            }
            int64_t id = gram_id(g, top, sums[j]);
            if (id >= 0 && (size_t)id < nskip && !skipped[id] &&
                (vec_push(docs, (int64_t)d) || vec_push(ids, id))) { PyErr_NoMemory(); rc = -1; break; }
        }
        if (rc) break;
    }
    free(sums);
    return rc;
}

/* scan(words u64, offsets i64 (documents + 1), skip u8 (per key)) -> (documents i64, ids i64) bytes:
 * for every window inside one document whose gram hash is a key of its length (and not skipped),
 * the document and the key's id (its index in the keys given). Windows starting at one token
 * share their sums: the cost is the longest length per token, not the sum of the lengths. */
static PyObject *GramSet_scan(GramSet *g, PyObject *args) {
    PyObject *words_o, *off_o, *skip_o;
    if (!PyArg_ParseTuple(args, "OOO", &words_o, &off_o, &skip_o)) return NULL;
    Arr words, off, skip;
    if (arr_get(words_o, &words, 8, "words")) return NULL;
    if (arr_get(off_o, &off, 8, "offsets")) { PyBuffer_Release(&words.b); return NULL; }
    if (arr_get(skip_o, &skip, 1, "skip")) { PyBuffer_Release(&words.b); PyBuffer_Release(&off.b); return NULL; }
    PyObject *out = NULL;
    Vec docs = {0}, ids = {0};
    if (!scan_words(g, (const uint64_t *)words.b.buf, words.n, (const int64_t *)off.b.buf, off.n ? off.n - 1 : 0,
                    (const uint8_t *)skip.b.buf, skip.n, &docs, &ids))
        out = Py_BuildValue("(NN)", bytes_of(docs.data, docs.n * 8), bytes_of(ids.data, ids.n * 8));
    free(docs.data);
    free(ids.data);
    PyBuffer_Release(&words.b);
    PyBuffer_Release(&off.b);
    PyBuffer_Release(&skip.b);
    return out;
}

/* ASCII text's tokens as dedup gives them: runs of [0-9A-Za-z_], lower-cased when folding, each
 * hashed with XXH3-64 (0 becomes 1): what the engine's tokenizer gives ASCII text (tests compare). */
static int ascii_tokens(const uint8_t *p, Py_ssize_t n, int fold, Vec *out, uint8_t **buf, size_t *cap) {
    Py_ssize_t i = 0;
    while (i < n) {
        while (i < n && !ascii_word_char(p[i])) i++;
        Py_ssize_t a = i;
        while (i < n && ascii_word_char(p[i])) i++;
        if (i == a) break;
        size_t len = (size_t)(i - a);
        const uint8_t *tok = p + a;
        if (fold) {
            if (len > *cap) {
                uint8_t *grown = (uint8_t *)realloc(*buf, len * 2);
                if (!grown) return -1;
                *buf = grown;
                *cap = len * 2;
            }
            for (size_t k = 0; k < len; k++) {
                uint8_t c = tok[k];
                (*buf)[k] = (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
            }
            tok = *buf;
        }
        uint64_t h = xxh3_64(tok, len);
        if (vec_push(out, (int64_t)(h ? h : 1))) return -1;
    }
    return 0;
}

/* scan_texts(texts, fold, skip) -> (documents i64, ids i64, others): scan() of a list of texts,
 * tokenized here when they are ASCII; `others` lists the texts that are not (their hits are not
 * in the result: the caller tokenizes them its way). */
static PyObject *GramSet_scan_texts(GramSet *g, PyObject *args) {
    PyObject *texts, *skip_o;
    int fold;
    if (!PyArg_ParseTuple(args, "O!pO", &PyList_Type, &texts, &fold, &skip_o)) return NULL;
    Arr skip;
    if (arr_get(skip_o, &skip, 1, "skip")) return NULL;
    Py_ssize_t n = PyList_GET_SIZE(texts);
    PyObject *out = NULL, *others = PyList_New(0);
    Vec words = {0}, offsets = {0}, docs = {0}, ids = {0};
    uint8_t *buf = NULL;
    size_t cap = 0;
    if (!others || vec_push(&offsets, 0)) goto done;
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *s = PyList_GET_ITEM(texts, k);
        if (!PyUnicode_Check(s)) { PyErr_Format(PyExc_TypeError, "text %zd is not a str", k); goto done; }
        if (PyUnicode_IS_ASCII(s)) {
            if (ascii_tokens((const uint8_t *)PyUnicode_DATA(s), PyUnicode_GET_LENGTH(s), fold, &words, &buf, &cap)) {
                PyErr_NoMemory(); goto done;
            }
        } else {
            PyObject *index = PyLong_FromSsize_t(k);
            if (!index || PyList_Append(others, index)) { Py_XDECREF(index); goto done; }
            Py_DECREF(index);
        }
        if (vec_push(&offsets, (int64_t)words.n)) { PyErr_NoMemory(); goto done; }
    }
    if (scan_words(g, (const uint64_t *)words.data, words.n, offsets.data, (size_t)n, (const uint8_t *)skip.b.buf,
                   skip.n, &docs, &ids))
        goto done;
    out = Py_BuildValue("(NNO)", bytes_of(docs.data, docs.n * 8), bytes_of(ids.data, ids.n * 8), others);
done:
    Py_XDECREF(others);
    free(words.data);
    free(offsets.data);
    free(docs.data);
    free(ids.data);
    free(buf);
    PyBuffer_Release(&skip.b);
    return out;
}

static PyMethodDef GramSet_methods[] = {
    {"scan", (PyCFunction)GramSet_scan, METH_VARARGS,
     "scan(words, offsets, skip) -> (document, key id) int64 bytes of every hit"},
    {"scan_texts", (PyCFunction)GramSet_scan_texts, METH_VARARGS,
     "scan_texts(texts, fold, skip) -> (document, key id) int64 bytes of the ASCII texts' hits, [other texts]"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject GramSetType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "dedup.accel._spans.GramSet",
    .tp_basicsize = sizeof(GramSet),
    .tp_dealloc = (destructor)GramSet_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "GramSet(keys u64, lengths i64, mult u64, m_len): which of these gram hashes occur in token sequences",
    .tp_new = GramSet_new,
    .tp_methods = GramSet_methods,
};

/* tokens_batch(texts, fold) -> (word hashes u64, starts i64, ends i64, tokens per text i64, others): the
 * tokens of the ASCII texts of a list with their character spans (ascii_tokens' rule), text after
 * text; `others` lists the texts that are not ASCII (no tokens given for them). */
static PyObject *mod_tokens_batch(PyObject *mod, PyObject *args) {
    PyObject *texts;
    int fold;
    if (!PyArg_ParseTuple(args, "O!p", &PyList_Type, &texts, &fold)) return NULL;
    Py_ssize_t n = PyList_GET_SIZE(texts);
    PyObject *out = NULL, *others = PyList_New(0);
    Vec words = {0}, starts = {0}, ends = {0}, counts = {0};
    uint8_t *buf = NULL;
    size_t cap = 0;
    if (!others) goto done;
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *s = PyList_GET_ITEM(texts, k);
        if (!PyUnicode_Check(s)) { PyErr_Format(PyExc_TypeError, "text %zd is not a str", k); goto done; }
        size_t before = words.n;
        if (PyUnicode_IS_ASCII(s)) {
            const uint8_t *p = (const uint8_t *)PyUnicode_DATA(s);
            Py_ssize_t len = PyUnicode_GET_LENGTH(s), i = 0;
            while (i < len) {
                while (i < len && !ascii_word_char(p[i])) i++;
                Py_ssize_t a = i;
                while (i < len && ascii_word_char(p[i])) i++;
                if (i == a) break;
                if (ascii_tokens(p + a, i - a, fold, &words, &buf, &cap) || vec_push(&starts, a) || vec_push(&ends, i)) {
                    PyErr_NoMemory(); goto done;
                }
            }
        } else {
            PyObject *index = PyLong_FromSsize_t(k);
            if (!index || PyList_Append(others, index)) { Py_XDECREF(index); goto done; }
            Py_DECREF(index);
        }
        if (vec_push(&counts, (int64_t)(words.n - before))) { PyErr_NoMemory(); goto done; }
    }
    out = Py_BuildValue("(NNNNO)", bytes_of(words.data, words.n * 8), bytes_of(starts.data, starts.n * 8),
                        bytes_of(ends.data, ends.n * 8), bytes_of(counts.data, counts.n * 8), others);
done:
    Py_XDECREF(others);
    free(words.data);
    free(starts.data);
    free(ends.data);
    free(counts.data);
    free(buf);
    return out;
}

/* ascii_tokens(text, fold) -> word hashes u64 bytes of an ASCII text (tests compare them with the engine's). */
static PyObject *mod_ascii_tokens(PyObject *mod, PyObject *args) {
    PyObject *text;
    int fold;
    if (!PyArg_ParseTuple(args, "Up", &text, &fold)) return NULL;
    if (!PyUnicode_IS_ASCII(text)) { PyErr_SetString(PyExc_ValueError, "not an ASCII text"); return NULL; }
    Vec words = {0};
    uint8_t *buf = NULL;
    size_t cap = 0;
    PyObject *out = ascii_tokens((const uint8_t *)PyUnicode_DATA(text), PyUnicode_GET_LENGTH(text), fold, &words, &buf, &cap)
                    ? PyErr_NoMemory() : bytes_of(words.data, words.n * 8);
    free(words.data);
    free(buf);
    return out;
}

static PyMethodDef module_methods[] = {
    {"ascii_tokens", mod_ascii_tokens, METH_VARARGS, "ascii_tokens(text, fold) -> word hashes u64 bytes"},
    {"tokens_batch", mod_tokens_batch, METH_VARARGS,
     "tokens_batch(texts, fold) -> (word hashes, starts, ends, tokens per text, [indexes of non-ASCII texts])"},
    {"winnow", mod_winnow, METH_VARARGS,
     "winnow(words, k, w, mult, m_len) -> (k-gram fingerprints u32, selected k-grams i64) bytes"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef spans_module = {
    PyModuleDef_HEAD_INIT, "_spans", "Hot loops of exact substrings and per-item contamination.", -1, module_methods,
};

PyMODINIT_FUNC PyInit__spans(void) {
    if (PyType_Ready(&FpTableType) < 0 || PyType_Ready(&GramSetType) < 0) return NULL;
    PyObject *m = PyModule_Create(&spans_module);
    if (!m) return NULL;
    Py_INCREF(&FpTableType);
    Py_INCREF(&GramSetType);
    if (PyModule_AddObject(m, "FpTable", (PyObject *)&FpTableType) < 0 ||
        PyModule_AddObject(m, "GramSet", (PyObject *)&GramSetType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
