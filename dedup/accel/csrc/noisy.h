/* The noisy-copy rules (dedup.config.NoisyRules): character shingles and the alignment that
 * confirms a match. Included by core.c after the Engine, Store and Batch types.
 *
 * A unit's noisy tokens: its characters folded (NFKC + case folding per character), a word
 * hyphenated at a line end joined, - ' \u2019 . \u00b7 between two word characters dropped,
 * tokens the runs of word characters (a character of an unspaced script alone), digits as
 * written. Each token has a flag: a name (a capital not starting a sentence, or a capital
 * after a lower-case letter or digit: Joram, setUp; not a month or weekday).
 * Its character shingles: the tokens joined by one space, every digit run one "0", cut into
 * n-character pieces (the whole text when shorter), hashed as word n-grams are.
 * dedup.text.noisy and dedup.fingerprint.chars are the same in Python (tests compare them).
 */

#define NZ_NAME 1

/* Whether a raw character is an upper-case letter as the rules see it: a word character, not a
 * digit or '_', that case folding changes (to one character); a lower-case one: a word
 * character, not a digit or '_', that case folding leaves alone. */
static inline int nz_upper(const Folding *fo, uint32_t c) {
    if (c < 128) return c >= 'A' && c <= 'Z';
    if (c >= fo->fold_n || fo->fold[c] == FOLD_COMPLEX || fo->fold[c] == c) return 0;
    uint32_t f = fo->fold[c];
    return f < fo->word_n && fo->word[f] == 1 && !is_digit(fo, f) && f != '_';
}

static const char *const nz_date_words[] = {
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
    "november", "december", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"};

static int nz_is_date_word(const uint32_t *t, size_t n) {
    for (size_t w = 0; w < sizeof nz_date_words / sizeof *nz_date_words; w++) {
        const char *s = nz_date_words[w];
        size_t k = 0;
        while (k < n && s[k] && (uint32_t)(uint8_t)s[k] == t[k]) k++;
        if (k == n && !s[k]) return 1;
    }
    return 0;
}

static inline int nz_space(const Engine *e, uint32_t c) {
    if (c < 128) return ascii_space[c];
    return c < e->space_n && e->space[c];
}

/* A token starting at raw index ts of the unit [a, b) starts a sentence: nothing but white space
 * before it in the unit, a line break in the white space before it, or . ! ? : ; then white space. */
static int nz_sentence_start(const Engine *e, int kind, const void *data, Py_ssize_t a, Py_ssize_t ts) {
    Py_ssize_t i = ts;
    int spaces = 0;
    while (i > a) {
        uint32_t c = PyUnicode_READ(kind, data, i - 1);
        if (!nz_space(e, c)) break;
        if (c == '\n' || c == '\r') return 1;
        spaces = 1;
        i--;
    }
    if (i == a) return 1;
    uint32_t c = PyUnicode_READ(kind, data, i - 1);
    return spaces && (c == '.' || c == '!' || c == '?' || c == ':' || c == ';');
}

/* The noisy tokens of text[a:b], appended: code points to `cps` (tokens joined by one space) and
 * a flag per token to `flags`. 1: a character has no image in the fold table (Python makes
 * them), 0: done, -1: out of memory. */
static int nz_tokens(const Engine *e, PyObject *text, Py_ssize_t a, Py_ssize_t b, VecU32 *cps, VecU8 *flags) {
    const Folding *fo = &e->fo;
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    size_t first_cp = cps->n, first_flag = flags->n;
    Py_ssize_t ts = -1;  /* raw start of the token being read */
    size_t tcp = 0;      /* where its code points start */
    int upper_first = 0, has_lower = 0, camel = 0;
    uint32_t prev_raw = 0;
    for (Py_ssize_t i = a; i <= b; i++) {
        uint32_t c = 0, f = 0;
        int k = 0;
        if (i < b) {
            c = PyUnicode_READ(kind, data, i);
            if (c < 128) {
                f = (c >= 'A' && c <= 'Z') ? c + 32 : c;
                k = ascii_word[f];
            } else {
                if (c >= fo->fold_n || fo->fold[c] == FOLD_COMPLEX) goto python;
                f = fo->fold[c];
                k = f < fo->word_n ? fo->word[f] : 0;
            }
            if (f == '-' && i > a && i + 1 < b) {  /* a line-end hyphen: the word goes on */
                Py_ssize_t next;
                switch (kind) {
                case PyUnicode_1BYTE_KIND: next = dehyphen_end_u8(fo, 1, (const uint8_t *)data, i, b); break;
                case PyUnicode_2BYTE_KIND: next = dehyphen_end_u16(fo, 1, (const uint16_t *)data, i, b); break;
                default: next = dehyphen_end_u32(fo, 1, (const uint32_t *)data, i, b);
                }
                if (next < 0) goto python;
                if (next) { i = next - 1; continue; }
            }
            if (k == 0 && ts >= 0 && i + 1 < b && is_inner_punct(f)) {  /* don't, e-mail: dropped */
                uint32_t c2 = PyUnicode_READ(kind, data, i + 1), f2;
                int k2;
                if (c2 < 128) {
                    f2 = (c2 >= 'A' && c2 <= 'Z') ? c2 + 32 : c2;
                    k2 = ascii_word[f2];
                } else {
                    if (c2 >= fo->fold_n || fo->fold[c2] == FOLD_COMPLEX) goto python;
                    f2 = fo->fold[c2];
                    k2 = f2 < fo->word_n ? fo->word[f2] : 0;
                }
                if (k2) continue;
            }
        }
        if (k == 1) {
            if (ts < 0) {
                if (cps->n > first_cp && VecU32_push(cps, ' ')) return -1;
                ts = i;
                tcp = cps->n;
                upper_first = nz_upper(fo, c);
                has_lower = camel = 0;
            } else if (c < 128 && c >= 'A' && c <= 'Z' &&
                       ((prev_raw >= 'a' && prev_raw <= 'z') || (prev_raw >= '0' && prev_raw <= '9'))) {
                camel = 1;
            }
            if (f == c && f != '_' && !is_digit(fo, f)) has_lower = 1;  /* a letter case folding leaves alone */
            if (VecU32_push(cps, f)) return -1;
            prev_raw = c;
            continue;
        }
        if (ts >= 0) {  /* a token ends */
            int name = camel || (upper_first && has_lower && !nz_is_date_word(cps->data + tcp, cps->n - tcp) &&
                                 !nz_sentence_start(e, kind, data, a, ts));
            if (VecU8_push(flags, name ? NZ_NAME : 0)) return -1;
            ts = -1;
        }
        if (k == 2) {  /* a character of an unspaced script: a token alone */
            if ((cps->n > first_cp && VecU32_push(cps, ' ')) || VecU32_push(cps, f) || VecU8_push(flags, 0)) return -1;
        }
        prev_raw = c;
    }
    return 0;
python:
    cps->n = first_cp;
    flags->n = first_flag;
    return 1;
}

/* Noisy tokens made by Python (dedup.text.noisy.noisy_tokens): (token list, name flags). GIL held. */
static int nz_python_tokens(const Engine *e, PyObject *text, Py_ssize_t a, Py_ssize_t b, VecU32 *cps, VecU8 *flags) {
    PyObject *unit = PyUnicode_Substring(text, a, b);
    if (!unit) return -1;
    PyObject *r = PyObject_CallFunctionObjArgs(e->nz_python, unit, NULL);
    Py_DECREF(unit);
    if (!r) return -1;
    PyObject *toks, *names;
    int bad = !PyArg_ParseTuple(r, "OO", &toks, &names) || !PyList_Check(toks) || !PyList_Check(names) ||
              PyList_GET_SIZE(toks) != PyList_GET_SIZE(names);
    for (Py_ssize_t t = 0; !bad && t < PyList_GET_SIZE(toks); t++) {
        PyObject *tok = PyList_GET_ITEM(toks, t);
        if (!PyUnicode_Check(tok)) { bad = 1; break; }
        if (t && VecU32_push(cps, ' ')) { Py_DECREF(r); PyErr_NoMemory(); return -1; }
        for (Py_ssize_t j = 0; j < PyUnicode_GET_LENGTH(tok); j++)
            if (VecU32_push(cps, PyUnicode_READ_CHAR(tok, j))) { Py_DECREF(r); PyErr_NoMemory(); return -1; }
        if (VecU8_push(flags, PyObject_IsTrue(PyList_GET_ITEM(names, t)) ? NZ_NAME : 0)) {
            Py_DECREF(r); PyErr_NoMemory(); return -1;
        }
    }
    Py_DECREF(r);
    if (bad) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "noisy_tokens must return (list of str, list of bool)");
        return -1;
    }
    return 0;
}

/* text[a:b] holds a character the tables cannot fold alone: its NFKC form (Python) read here when
 * that one can be (a "\u2026" that becomes "..."), else dedup.text.noisy.noisy_tokens. GIL held. */
static int nz_fallback(const Engine *e, PyObject *text, Py_ssize_t a, Py_ssize_t b, VecU32 *cps, VecU8 *flags) {
    PyObject *unit = PyUnicode_Substring(text, a, b);
    if (!unit) return -1;
    PyObject *norm = PyObject_CallFunctionObjArgs(e->nz_nfkc, unit, NULL);
    Py_DECREF(unit);
    if (!norm) return -1;
    if (!PyUnicode_Check(norm)) { Py_DECREF(norm); PyErr_SetString(PyExc_TypeError, "NFKC gave no str"); return -1; }
    int r = nz_tokens(e, norm, 0, PyUnicode_GET_LENGTH(norm), cps, flags);
    if (r == 1) r = nz_python_tokens(e, norm, 0, PyUnicode_GET_LENGTH(norm), cps, flags);
    else if (r < 0) PyErr_NoMemory();
    Py_DECREF(norm);
    return r ? -1 : 0;
}

/* The character shingle hashes of noisy tokens cps[0:n] (digit runs folded), in text order with
 * repeats, appended to `out`; `tmp`: scratch. */
static int nz_char_grams(const Engine *e, const uint32_t *cps, size_t n, VecU32 *tmp, VecU32 *out) {
    if (VecU32_reserve(tmp, n + 1)) return -1;
    size_t L = 0;
    int run = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t c = cps[i];
        if (is_digit(&e->fo, c)) {
            if (run) continue;
            run = 1;
            c = '0';
        } else {
            run = 0;
        }
        tmp->data[L++] = c;
    }
    size_t ng = (size_t)e->nz_ngram, count = L >= ng ? L - ng + 1 : (L ? 1 : 0);
    if (VecU32_reserve(out, out->n + count + 1)) return -1;
    uint32_t *o = out->data + out->n;
    const uint64_t *m = e->mult;
    if (L >= ng) {
        uint64_t base = (uint64_t)ng * e->m_len;
        for (size_t j = 0; j < count; j++) {
            uint64_t acc = base;
            for (size_t k = 0; k < ng; k++) acc += (uint64_t)tmp->data[j + k] * m[k];
            o[j] = (uint32_t)(fmix64(acc) >> 32);
        }
    } else if (L) {
        uint64_t acc = (uint64_t)L * e->m_len;
        for (size_t k = 0; k < L; k++) acc += (uint64_t)tmp->data[k] * m[k];
        o[0] = (uint32_t)(fmix64(acc) >> 32);
    }
    out->n += count;
    return 0;
}

/* The character shingle set (sorted, unique) of noisy tokens cps[0:n], appended to `out`; its size. */
static int nz_char_set(const Engine *e, const uint32_t *cps, size_t n, VecU32 *tmp, VecU32 *out, size_t *size) {
    size_t at = out->n;
    if (nz_char_grams(e, cps, n, tmp, out)) return -1;
    uint32_t *o = out->data + at;
    size_t count = out->n - at;
    sort_u32(o, count, tmp);
    size_t u = 0;
    for (size_t j = 0; j < count; j++)
        if (j == 0 || o[j] != o[u - 1]) o[u++] = o[j];
    out->n = at + u;
    *size = u;
    return 0;
}

/* The noisy band keys of a unit's character shingles (any order, repeats allowed), appended to
 * `out`: a one-permutation MinHash (each shingle mixed once, its top bits pick one of nz_perm
 * bins, the bin keeps the least; an empty bin takes the value of the first filled bin of a probe
 * sequence of its own: "optimal densification", Shrivastava 2017), bins cut into nz_bands bands
 * of nz_rows bins that are not neighbours. Linear in the shingles, where nz_perm separate
 * permutations would cost nz_perm times that; two sets share a bin's value with about their
 * Jaccard similarity as probability, as with permutations. */
static int nz_band_keys(const Engine *e, Scratch *sc, const uint32_t *grams, size_t len, VecU64 *out) {
    if (VecU64_reserve(out, out->n + (size_t)e->nz_bands) || VecU32_reserve(&sc->mixed, (size_t)e->nz_perm)) return -1;
    uint32_t k = (uint32_t)e->nz_perm, *sig = sc->nz_sig;
    uint8_t *filled = (uint8_t *)sc->mixed.data;  /* k bytes of scratch */
    memset(filled, 0, k);
    for (uint32_t i = 0; i < k; i++) sig[i] = 0xFFFFFFFFu;
    for (size_t j = 0; j < len; j++) {
        uint64_t x = fmix64((uint64_t)grams[j] * 0x9E3779B97F4A7C15ULL + 0x6E6F697379ULL);
        uint32_t bin = (uint32_t)(((x >> 32) * (uint64_t)k) >> 32), v = (uint32_t)x;
        if (v < sig[bin]) sig[bin] = v;
        filled[bin] = 1;
    }
    if (len) {  /* an empty bin takes a filled bin's value, found by a probe sequence of its own */
        for (uint32_t i = 0; i < k; i++) {
            if (filled[i]) continue;
            uint32_t j;
            uint64_t attempt = 0;
            do {
                attempt++;
                uint64_t h = (uint64_t)(i + 1) * 0x9E3779B97F4A7C15ULL + attempt * 0xD1B54A32D192ED03ULL;
                j = (uint32_t)(((h >> 32) * (uint64_t)k) >> 32);
            } while (!filled[j]);
            sig[i] = sig[j];
        }
    }
    uint64_t *keys = out->data + out->n;
    for (int band = 0; band < e->nz_bands; band++) {  /* band b: bins b, b + bands, ... (not neighbours) */
        uint64_t acc = (uint64_t)(band + 1) * e->m_salt ^ 0x6E6F6973795F6C79ULL;  /* apart from the word bands */
        for (int r = 0; r < e->nz_rows; r++)
            acc += (uint64_t)sig[(size_t)r * (size_t)e->nz_bands + (size_t)band] * e->mult[r];
        keys[band] = fmix64(acc);
    }
    out->n += (size_t)e->nz_bands;
    return 0;
}

/* Phase one's noisy part for the unit just printed (the last of the batch): its tokens and band
 * keys when it has at least min_tokens tokens; none otherwise (its character set is made again
 * in phase two, only when a candidate needs it). -1: out of memory, -2: a Python error is set. */
static int nz_unit_prints(const Engine *e, Scratch *sc, Batch *bt, PyObject *text, Py_ssize_t a, Py_ssize_t b) {
    size_t u = bt->ntok.n - 1;
    int on = e->nz_on && bt->ntok.data[u] >= e->nz_min_tokens;
    if (on) {
        int r = nz_tokens(e, text, a, b, &bt->nz_cps, &bt->nz_flags);
        if (r < 0) return -1;
        if (r == 1) {
            int held = sc->released != NULL;
            if (held) { PyEval_RestoreThread(sc->released); sc->released = NULL; }
            r = nz_fallback(e, text, a, b, &bt->nz_cps, &bt->nz_flags);
            if (held) sc->released = PyEval_SaveThread();
            if (r) return -2;
        }
        size_t lo = (size_t)bt->nz_cpoff.data[u];
        sc->nz_grams.n = 0;
        if (nz_char_grams(e, bt->nz_cps.data + lo, bt->nz_cps.n - lo, &sc->nz_tmp, &sc->nz_grams) ||
            nz_band_keys(e, sc, sc->nz_grams.data, sc->nz_grams.n, &bt->nz_bkeys))
            return -1;
    }
    if (VecU8_push(&bt->nz_has, (uint8_t)on) || VecI64_push(&bt->nz_cpoff, (int64_t)bt->nz_cps.n) ||
        VecI64_push(&bt->nz_foff, (int64_t)bt->nz_flags.n) || VecI64_push(&bt->nz_koff, (int64_t)bt->nz_bkeys.n))
        return -1;
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* The alignment                                                                               */
/* ------------------------------------------------------------------------------------------ */

/* A unit's tokens for the alignment: code points, where each token starts (one more: the end +
 * 1, as if a space followed), a hash each, the name flags. */
typedef struct {
    const uint32_t *cp;
    const uint8_t *flag;
    size_t n;             /* tokens */
    VecI64 at;            /* n + 1 starts */
    VecU64 hash;
} NzSeq;

static int nz_seq(NzSeq *q, const uint32_t *cp, size_t ncp, const uint8_t *flag, size_t ntok) {
    q->cp = cp;
    q->flag = flag;
    q->n = ntok;
    q->at.n = q->hash.n = 0;
    if (VecI64_reserve(&q->at, ntok + 1) || VecU64_reserve(&q->hash, ntok + 1)) return -1;
    size_t s = 0;
    for (size_t i = 0; i <= ncp; i++) {
        if (i == ncp || cp[i] == ' ') {
            if (q->at.n < ntok) {
                q->at.data[q->at.n++] = (int64_t)s;
                q->hash.data[q->hash.n++] = xxh3_64((const uint8_t *)(cp + s), (i - s) * sizeof(uint32_t)) ^ (i - s);
            }
            s = i + 1;
        }
    }
    while (q->at.n < ntok) {  /* (a record shorter than its flags: never written so) */
        q->at.data[q->at.n++] = (int64_t)ncp + 1;
        q->hash.data[q->hash.n++] = 0;
    }
    q->at.data[ntok] = (int64_t)ncp + 1;
    return 0;
}

/* Code points of tokens [t0, t1) of q, concatenated (no spaces), into out. */
static int nz_join(const NzSeq *q, size_t t0, size_t t1, VecU32 *out) {
    out->n = 0;
    for (size_t t = t0; t < t1; t++) {
        size_t s = (size_t)q->at.data[t], e = (size_t)q->at.data[t + 1] - 1;
        if (VecU32_reserve(out, out->n + (e - s))) return -1;
        memcpy(out->data + out->n, q->cp + s, (e - s) * sizeof(uint32_t));
        out->n += e - s;
    }
    return 0;
}

/* Levenshtein distance of a and b when it is <= limit (else limit + 1), in a diagonal band. */
static size_t nz_levenshtein(const uint32_t *a, size_t la, const uint32_t *b, size_t lb, size_t limit, VecI64 *rows) {
    if (la < lb) { const uint32_t *t = a; a = b; b = t; size_t x = la; la = lb; lb = x; }
    if (la - lb > limit) return limit + 1;
    if (VecI64_reserve(rows, 2 * (lb + 1))) return limit + 1;
    int64_t *prev = rows->data, *cur = rows->data + lb + 1, big = (int64_t)limit + 1;
    for (size_t j = 0; j <= lb; j++) prev[j] = j <= limit ? (int64_t)j : big;
    for (size_t i = 1; i <= la; i++) {
        size_t lo = i > limit ? i - limit : 0, hi = i + limit < lb ? i + limit : lb;
        int64_t best = big;
        for (size_t j = 0; j <= lb; j++) {
            int64_t v;
            if (j < lo || j > hi) v = big;
            else if (j == 0) v = (int64_t)i;
            else {
                int64_t del = prev[j] + 1, ins = cur[j - 1] + 1, sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
                v = del < ins ? del : ins;
                v = sub < v ? sub : v;
            }
            cur[j] = v < big ? v : big;
            if (cur[j] < best) best = cur[j];
        }
        if (best > (int64_t)limit) return limit + 1;
        int64_t *t = prev; prev = cur; cur = t;
    }
    return (size_t)(prev[lb] < big ? prev[lb] : big);
}

/* Whether a and b differ only by noise: equal, or (both at least 4 characters) at most
 * min(0.34 n, 1 + n / 8) edits apart, n the longer length, and the same digit runs when both
 * have digits (a changed number is a change; "kerne1" for "kernel" is OCR noise). */
static int nz_near_miss(const Engine *e, const uint32_t *a, size_t la, const uint32_t *b, size_t lb, VecI64 *rows) {
    if (la == lb && memcmp(a, b, la * sizeof(uint32_t)) == 0) return 1;
    size_t n = la > lb ? la : lb;
    if (!la || !lb || n < 4) return 0;
    /* digit runs, compared in order */
    size_t i = 0, j = 0;
    int da = 0, db = 0, differ = 0;
    for (;;) {
        while (i < la && !is_digit(&e->fo, a[i])) i++;
        while (j < lb && !is_digit(&e->fo, b[j])) j++;
        if (i >= la || j >= lb) { differ |= (i < la) != (j < lb); da |= i < la; db |= j < lb; break; }
        da = db = 1;
        while (i < la && j < lb && is_digit(&e->fo, a[i]) && is_digit(&e->fo, b[j]) && a[i] == b[j]) { i++; j++; }
        int ea = i >= la || !is_digit(&e->fo, a[i]), eb = j >= lb || !is_digit(&e->fo, b[j]);
        if (!(ea && eb)) { differ = 1; break; }
    }
    if (da && db && differ) return 0;
    size_t limit = (size_t)(0.34 * (double)n), cap = 1 + n / 8;
    if (cap < limit) limit = cap;
    return nz_levenshtein(a, la, b, lb, limit, rows) <= limit;
}

/* Whether needle occurs in hay (code points). */
static int nz_inside(const uint32_t *hay, size_t lh, const uint32_t *needle, size_t ln) {
    if (ln == 0) return 1;
    if (ln > lh || (double)lh * (double)ln > 4e6) return 0;
    for (size_t i = 0; i + ln <= lh; i++)
        if (hay[i] == needle[0] && memcmp(hay + i, needle, ln * sizeof(uint32_t)) == 0) return 1;
    return 0;
}

typedef struct { int64_t a0, a1, b0, b1; } NzRegion;

/* Scratch of the alignment (the engine's, phase two). */
typedef struct NzWork {
    NzSeq x, y;
    VecI64 trace, rows, blocks, blocks2, inter, olen;
    VecU8 rec;
    VecU32 s1, s2, cand_cps, cand_set, my_set, tmp;
    VecU8 cand_flags;
    NzRegion *reg;
    size_t nreg, capreg;
    VecU8 moved;
} NzWork;

#define NZ_MAX_D 2048  /* an alignment needing more edits than this is no copy */

/* Matching blocks of x and y (Myers' greedy diff on the token hashes): (x0, y0, length) triples
 * into w->blocks, in order. -1: out of memory, 1: more than NZ_MAX_D edits. */
static int nz_diff(NzWork *w) {
    const uint64_t *A = w->x.hash.data, *B = w->y.hash.data;
    int64_t n = (int64_t)w->x.n, m = (int64_t)w->y.n;
    w->blocks.n = 0;
    int64_t p = 0;
    while (p < n && p < m && A[p] == B[p]) p++;
    int64_t q = 0;
    while (q < n - p && q < m - p && A[n - 1 - q] == B[m - 1 - q]) q++;
    const uint64_t *a = A + p, *b = B + p;
    int64_t N = n - p - q, M = m - p - q;
    if (p && (VecI64_push(&w->blocks, 0) || VecI64_push(&w->blocks, 0) || VecI64_push(&w->blocks, p))) return -1;
    size_t mid_at = w->blocks.n;
    if (N > 0 && M > 0) {
        int64_t maxd = N + M < NZ_MAX_D ? N + M : NZ_MAX_D;
        int64_t off = maxd + 1;
        VecI64 *tr = &w->trace;
        tr->n = 0;
        /* v for round d is stored at trace[base_d .. base_d + 2d + 2]: k in [-d-1, d+1] */
        int64_t *v = NULL;
        VecI64 cur = {0};
        if (VecI64_reserve(&cur, (size_t)(2 * off + 1))) return -1;
        memset(cur.data, 0, sizeof(int64_t) * (size_t)(2 * off + 1));
        v = cur.data + off;
        int64_t D = -1;
        for (int64_t d = 0; d <= maxd && D < 0; d++) {
            size_t base = tr->n;
            if (VecI64_reserve(tr, tr->n + (size_t)(2 * d + 3))) { VecI64_free(&cur); return -1; }
            for (int64_t k = -d - 1; k <= d + 1; k++) tr->data[tr->n++] = v[k];
            (void)base;
            for (int64_t k = -d; k <= d; k += 2) {
                int64_t x = (k == -d || (k != d && v[k - 1] < v[k + 1])) ? v[k + 1] : v[k - 1] + 1;
                int64_t y = x - k;
                while (x < N && y < M && a[x] == b[y]) { x++; y++; }
                v[k] = x;
                if (x >= N && y >= M) { D = d; break; }
            }
        }
        VecI64_free(&cur);
        if (D < 0) return 1;
        /* back from (N, M): snakes, last first */
        int64_t x = N, y = M;
        for (int64_t d = D; d >= 0; d--) {
            const int64_t *vd = tr->data + (size_t)(d * d) + (size_t)d + 1;  /* trace of round d: k = 0 there */
            /* round d's row starts at sum_{e<d} (2e + 3) = d*d + 2d; k = -d-1 is its first entry */
            vd = tr->data + (size_t)(d * d + 2 * d) + (size_t)(d + 1);
            int64_t k = x - y, pk;
            if (d == 0) pk = 1;
            else pk = (k == -d || (k != d && vd[k - 1] < vd[k + 1])) ? k + 1 : k - 1;
            int64_t px = d == 0 ? 0 : vd[pk], py = px - pk;
            int64_t sx = d == 0 ? 0 : (pk == k + 1 ? px : px + 1);  /* the snake starts after the edit */
            int64_t sy = sx - k;
            if (d == 0) { sx = 0; sy = 0; }
            if (x > sx) {
                if (VecI64_push(&w->blocks, p + sx) || VecI64_push(&w->blocks, p + sy) || VecI64_push(&w->blocks, x - sx))
                    return -1;
            }
            x = px;
            y = py;
        }
        /* the middle's blocks were pushed last first: reverse them (triples) */
        size_t nb = (w->blocks.n - mid_at) / 3;
        for (size_t i = 0; i < nb / 2; i++)
            for (int c = 0; c < 3; c++) {
                int64_t t = w->blocks.data[mid_at + 3 * i + (size_t)c];
                w->blocks.data[mid_at + 3 * i + (size_t)c] = w->blocks.data[mid_at + 3 * (nb - 1 - i) + (size_t)c];
                w->blocks.data[mid_at + 3 * (nb - 1 - i) + (size_t)c] = t;
            }
    }
    if (q && (VecI64_push(&w->blocks, n - q) || VecI64_push(&w->blocks, m - q) || VecI64_push(&w->blocks, q)))
        return -1;
    return 0;
}

static int nz_push_region(NzWork *w, int64_t a0, int64_t a1, int64_t b0, int64_t b1) {
    if (w->nreg == w->capreg) {
        size_t cap = w->capreg ? 2 * w->capreg : 16;
        NzRegion *r = (NzRegion *)realloc(w->reg, cap * sizeof(NzRegion));
        if (!r) return -1;
        w->reg = r;
        w->capreg = cap;
    }
    w->reg[w->nreg++] = (NzRegion){a0, a1, b0, b1};
    return 0;
}

/* What an alignment of x (the later unit) and y (the earlier one) leaves unexplained. */
typedef struct { int64_t later, earlier, names; int failed; } NzVerdict;

/* Drop matching blocks of one or two tokens with an edit on both sides (a "the" or "and" the diff
 * paired across a moved sentence): the edits around them become one region. */
static void nz_dissolve_short_blocks(NzWork *w) {
    int64_t *bl = w->blocks.data;
    size_t nb = w->blocks.n / 3, kept = 0;
    int64_t n = (int64_t)w->x.n, m = (int64_t)w->y.n;
    int64_t px = 0, py = 0;  /* end of the last block kept */
    for (size_t i = 0; i < nb; i++) {
        int64_t x0 = bl[3 * i], y0 = bl[3 * i + 1], len = bl[3 * i + 2];
        int64_t nx = i + 1 < nb ? bl[3 * (i + 1)] : n, ny = i + 1 < nb ? bl[3 * (i + 1) + 1] : m;
        int gap_before = x0 > px || y0 > py, gap_after = nx > x0 + len || ny > y0 + len;
        if (len < 3 && gap_before && gap_after) continue;
        bl[3 * kept] = x0;
        bl[3 * kept + 1] = y0;
        bl[3 * kept + 2] = len;
        kept++;
        px = x0 + len;
        py = y0 + len;
    }
    w->blocks.n = 3 * kept;
}

/* Whether a changed region is typos only: as many tokens on each side (at most 4), each of 3+
 * characters and one edit or less from its counterpart, or two substituted characters in 6+
 * (as OCR or re-typing changes a name: `Gog` for `God`, `Soiomoy` for `Solomon`; `Joram` and
 * `Jehoram` stay two names). 1: yes, 0: no, -1: out of memory. */
static int nz_typos_only(NzWork *w, const NzSeq *x, const NzSeq *y, NzRegion rk) {
    int64_t n = rk.a1 - rk.a0;
    if (n != rk.b1 - rk.b0 || n > 4) return 0;
    for (int64_t t = 0; t < n; t++) {
        if (nz_join(x, (size_t)(rk.a0 + t), (size_t)(rk.a0 + t + 1), &w->s1) ||
            nz_join(y, (size_t)(rk.b0 + t), (size_t)(rk.b0 + t + 1), &w->s2))
            return -1;
        if (w->s1.n < 3 || w->s2.n < 3) return 0;
        if (w->s1.n >= 6 && w->s1.n == w->s2.n) {  /* 6+ characters: two substituted ones too */
            size_t diff = 0;
            for (size_t c = 0; c < w->s1.n; c++) diff += w->s1.data[c] != w->s2.data[c];
            if (diff <= 2) continue;
        }
        if (nz_levenshtein(w->s1.data, w->s1.n, w->s2.data, w->s2.n, 1, &w->rows) > 1) return 0;
    }
    return 1;
}

/* What the matching blocks in w->blocks leave unexplained. */
static int nz_explain(const Engine *e, NzWork *w, NzVerdict *out) {
    memset(out, 0, sizeof *out);
    const NzSeq *x = &w->x, *y = &w->y;
    w->nreg = 0;
    int64_t ax = 0, by = 0;
    size_t nb = w->blocks.n / 3;
    for (size_t i = 0; i <= nb; i++) {
        int64_t bx = i < nb ? w->blocks.data[3 * i] : (int64_t)x->n, bY = i < nb ? w->blocks.data[3 * i + 1] : (int64_t)y->n;
        int64_t a0 = ax, a1 = bx, b0 = by, b1 = bY;
        if (a1 > a0 || b1 > b0) {
            int keep = 1;
            if (a1 > a0 && b1 > b0) {
                if (nz_join(x, (size_t)a0, (size_t)a1, &w->s1) || nz_join(y, (size_t)b0, (size_t)b1, &w->s2)) return -1;
                if (nz_near_miss(e, w->s1.data, w->s1.n, w->s2.data, w->s2.n, &w->rows)) keep = 0;
                else {  /* near-miss tokens paired from both ends: typos beside a changed word */
                    while (a0 < a1 && b0 < b1) {
                        if (nz_join(x, (size_t)a0, (size_t)a0 + 1, &w->s1) || nz_join(y, (size_t)b0, (size_t)b0 + 1, &w->s2)) return -1;
                        if (!nz_near_miss(e, w->s1.data, w->s1.n, w->s2.data, w->s2.n, &w->rows)) break;
                        a0++; b0++;
                    }
                    while (a0 < a1 && b0 < b1) {
                        if (nz_join(x, (size_t)a1 - 1, (size_t)a1, &w->s1) || nz_join(y, (size_t)b1 - 1, (size_t)b1, &w->s2)) return -1;
                        if (!nz_near_miss(e, w->s1.data, w->s1.n, w->s2.data, w->s2.n, &w->rows)) break;
                        a1--; b1--;
                    }
                    keep = a1 > a0 || b1 > b0;
                }
            }
            if (keep && nz_push_region(w, a0, a1, b0, b1)) return -1;
        }
        if (i < nb) {
            ax = w->blocks.data[3 * i] + w->blocks.data[3 * i + 2];
            by = w->blocks.data[3 * i + 1] + w->blocks.data[3 * i + 2];
        }
    }
    /* moved text: a run of >= 3 tokens of one region that reappears (nearly, or inside) in
     * another region's run on the other side; both regions count as moved */
    if (VecU8_reserve(&w->moved, w->nreg + 1)) return -1;
    memset(w->moved.data, 0, w->nreg + 1);
    for (size_t k = 0; k < w->nreg; k++) {
        NzRegion rk = w->reg[k];
        if (w->moved.data[k] || rk.a1 - rk.a0 < 3) continue;
        if (nz_join(x, (size_t)rk.a0, (size_t)rk.a1, &w->s1)) return -1;
        for (size_t mm = 0; mm < w->nreg; mm++) {
            NzRegion rm = w->reg[mm];
            if (mm == k || w->moved.data[mm] || rm.b1 - rm.b0 < 3) continue;
            if (nz_join(y, (size_t)rm.b0, (size_t)rm.b1, &w->s2)) return -1;
            if (nz_near_miss(e, w->s1.data, w->s1.n, w->s2.data, w->s2.n, &w->rows) ||
                nz_inside(w->s2.data, w->s2.n, w->s1.data, w->s1.n) || nz_inside(w->s1.data, w->s1.n, w->s2.data, w->s2.n)) {
                w->moved.data[k] = w->moved.data[mm] = 1;
                break;
            }
        }
    }
    for (size_t k = 0; k < w->nreg; k++) {
        if (w->moved.data[k]) continue;
        NzRegion rk = w->reg[k];
        out->later += rk.a1 - rk.a0;
        out->earlier += rk.b1 - rk.b0;
        if (rk.a1 > rk.a0 && rk.b1 > rk.b0) {
            int na = 0, nb2 = 0;
            for (int64_t t = rk.a0; t < rk.a1 && !na; t++) na = x->flag[t] & NZ_NAME;
            for (int64_t t = rk.b0; t < rk.b1 && !nb2; t++) nb2 = y->flag[t] & NZ_NAME;
            if (na && nb2) {
                int typos = nz_typos_only(w, x, y, rk);
                if (typos < 0) return -1;
                na = !typos;  /* a name with a typo in it is not another name; its tokens stay unexplained */
            }
            out->names += na && nb2;
        }
    }
    return 0;
}

/* The alignment of w->x (later) and w->y (earlier): the diff's matching blocks explained, and
 * again with its one- and two-token matches between edits dissolved (a "the" paired across a
 * moved sentence); the explanation that leaves fewer tokens unexplained counts. */
static int nz_align(const Engine *e, NzWork *w, NzVerdict *out) {
    memset(out, 0, sizeof *out);
    int r = nz_diff(w);
    if (r < 0) return -1;
    if (r == 1) { out->failed = 1; return 0; }
    if (VecI64_reserve(&w->blocks2, w->blocks.n + 1)) return -1;
    memcpy(w->blocks2.data, w->blocks.data, w->blocks.n * sizeof(int64_t));
    w->blocks2.n = w->blocks.n;
    if (nz_explain(e, w, out)) return -1;
    if (!out->later && !out->earlier) return 0;
    nz_dissolve_short_blocks(w);
    if (w->blocks.n == w->blocks2.n) return 0;  /* nothing dissolved: the same explanation */
    NzVerdict other;
    if (nz_explain(e, w, &other)) return -1;
    int64_t mine = out->later + out->earlier, theirs = other.later + other.earlier;
    if (theirs < mine || (theirs == mine && other.names < out->names)) *out = other;
    return 0;
}

static struct NzWork *nz_work_new(void) { return (struct NzWork *)calloc(1, sizeof(NzWork)); }

static void nz_work_free(struct NzWork *w) {
    VecI64_free(&w->x.at); VecU64_free(&w->x.hash); VecI64_free(&w->y.at); VecU64_free(&w->y.hash);
    VecI64_free(&w->trace); VecI64_free(&w->rows); VecI64_free(&w->blocks);
    VecU32_free(&w->s1); VecU32_free(&w->s2); VecU32_free(&w->cand_cps); VecU32_free(&w->cand_set);
    VecU32_free(&w->tmp); VecU32_free(&w->my_set); VecU8_free(&w->cand_flags); VecU8_free(&w->moved); VecU8_free(&w->rec);
    VecI64_free(&w->inter); VecI64_free(&w->olen); VecI64_free(&w->blocks2);
    free(w->reg);
    free(w);
}

/* ------------------------------------------------------------------------------------------ */
/* Records: what the store keeps of a unit for the noisy rules                                  */
/* ------------------------------------------------------------------------------------------ */

/* Unit g's record: u32 tokens, u32 code points, a flag byte per token, then the tokens (one space
 * between) as UTF-8. */
static int nz_record(const Batch *b, size_t g, VecU8 *out) {
    size_t ntok = (size_t)(b->nz_foff.data[g + 1] - b->nz_foff.data[g]);
    size_t ncp = (size_t)(b->nz_cpoff.data[g + 1] - b->nz_cpoff.data[g]);
    out->n = 0;
    if (VecU8_reserve(out, 8 + ntok + 4 * ncp)) return -1;
    uint32_t head[2] = {(uint32_t)ntok, (uint32_t)ncp};
    memcpy(out->data, head, 8);
    memcpy(out->data + 8, b->nz_flags.data + b->nz_foff.data[g], ntok);
    int o = 0;
    uint8_t *text = out->data + 8 + ntok;
    const uint32_t *cp = b->nz_cps.data + b->nz_cpoff.data[g];
    for (size_t i = 0; i < ncp; i++) o = put_utf8(text, o, cp[i]);
    out->n = 8 + ntok + (size_t)o;
    return 0;
}

/* A record read back: its code points and flags; the token count. */
static int nz_decode(const uint8_t *rec, size_t len, VecU32 *cps, VecU8 *flags, size_t *ntok) {
    uint32_t head[2];
    memcpy(head, rec, 8);
    *ntok = head[0];
    cps->n = flags->n = 0;
    if (VecU32_reserve(cps, head[1] + 1) || VecU8_reserve(flags, head[0] + 1)) return -1;
    memcpy(flags->data, rec + 8, head[0]);
    flags->n = head[0];
    const uint8_t *p = rec + 8 + head[0], *end = rec + len;
    while (p < end) {
        uint32_t c = *p;
        if (c < 0x80) p += 1;
        else if (c < 0xE0) { c = ((c & 0x1F) << 6) | (p[1] & 0x3F); p += 2; }
        else if (c < 0xF0) { c = ((c & 0x0F) << 12) | ((uint32_t)(p[1] & 0x3F) << 6) | (p[2] & 0x3F); p += 3; }
        else { c = ((c & 0x07) << 18) | ((uint32_t)(p[1] & 0x3F) << 12) | ((uint32_t)(p[2] & 0x3F) << 6) | (p[3] & 0x3F); p += 4; }
        cps->data[cps->n++] = c;
    }
    return 0;
}
