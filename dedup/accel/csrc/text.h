/* Units of a text's code points: paragraphs, lines, sentences, the whole text.
 *
 * The same spans as dedup.text.split (its regexes): a line ends at \n, \r\n or a lone \r; a
 * line is blank when it holds only white space (`re`'s \s); with a blank line anywhere, a
 * paragraph is a maximal run of non-blank lines, else every non-blank line is one. Spans are
 * character offsets, line breaks around a unit excluded. Written once per character width
 * (Python keeps 1, 2 or 4 bytes per character) by including this file with CT and SFX set.
 */

#ifndef CT
#error "define CT (the character type) and SFX (a suffix) before including text.h"
#endif

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)

static inline int CAT(is_space_, SFX)(const Spaces *sp, uint32_t c) {
    if (c < 128) return ascii_space[c];
    return c < sp->n && sp->table[c];
}

/* Append the paragraphs (or, with `lines`, every non-blank line) of cp[lo:hi] as offsets from 0. */
static int CAT(paragraphs_, SFX)(Spaces *sp, const CT *cp, Py_ssize_t lo, Py_ssize_t hi, int lines,
                                 VecI64 *starts, VecI64 *ends) {
    size_t first = starts->n;
    int has_blank = 0, nonspace = 0, prev_nonblank = 0;
    Py_ssize_t start = lo;
    VecU8 *joins = &sp->joins;
    joins->n = 0;
    for (Py_ssize_t i = lo; i < hi; i++) {
        uint32_t c = cp[i];
        if (c != 10 && c != 13) {
            if (!nonspace && !CAT(is_space_, SFX)(sp, c)) nonspace = 1;
            continue;
        }
        int crlf = c == 13 && i + 1 < hi && cp[i + 1] == 10;
        if (nonspace) {
            if (VecI64_push(starts, start) || VecI64_push(ends, i) || VecU8_push(joins, (uint8_t)prev_nonblank))
                return -1;
            prev_nonblank = 1;
        } else {
            has_blank = 1;
            prev_nonblank = 0;
        }
        if (crlf) i++;
        start = i + 1;
        nonspace = 0;
    }
    if (nonspace) {
        if (VecI64_push(starts, start) || VecI64_push(ends, hi) || VecU8_push(joins, (uint8_t)prev_nonblank))
            return -1;
    } else if (hi > start) {
        has_blank = 1;
    }
    if (has_blank && !lines) {  /* runs of non-blank lines become one paragraph */
        size_t w = first;
        for (size_t j = first; j < starts->n; j++) {
            if (joins->data[j - first]) {
                ends->data[w - 1] = ends->data[j];
            } else {
                starts->data[w] = starts->data[j];
                ends->data[w] = ends->data[j];
                w++;
            }
        }
        starts->n = ends->n = w;
    }
    return 0;
}

static inline int CAT(sentence_punct_, SFX)(uint32_t c) { return c == 46 || c == 33 || c == 63; }
static inline int CAT(closer_, SFX)(uint32_t c) {
    return c == 34 || c == 39 || c == 41 || c == 93 || c == 0x201D || c == 0x2019;
}
static inline int CAT(cjk_stop_, SFX)(uint32_t c) { return c == 0x3002 || c == 0xFF01 || c == 0xFF1F; }

static int CAT(emit_stripped_, SFX)(const Spaces *sp, const CT *cp, Py_ssize_t a, Py_ssize_t b,
                                    VecI64 *starts, VecI64 *ends) {
    while (a < b && CAT(is_space_, SFX)(sp, cp[a])) a++;
    while (b > a && CAT(is_space_, SFX)(sp, cp[b - 1])) b--;
    if (a < b && (VecI64_push(starts, a) || VecI64_push(ends, b))) return -1;
    return 0;
}

/* Append the sentences of cp[lo:hi]: a sentence ends after a run of .!? and closing quotes or
 * brackets that white space or the end follows, or after a run of CJK full stops; pieces are
 * stripped of white space (dedup.text.split.sentence_spans). */
static int CAT(sentences_, SFX)(const Spaces *sp, const CT *cp, Py_ssize_t lo, Py_ssize_t hi,
                                VecI64 *starts, VecI64 *ends) {
    Py_ssize_t piece = lo, i = lo;
    while (i < hi) {
        uint32_t c = cp[i];
        if (CAT(sentence_punct_, SFX)(c)) {
            Py_ssize_t j = i + 1;
            while (j < hi && CAT(sentence_punct_, SFX)(cp[j])) j++;
            while (j < hi && CAT(closer_, SFX)(cp[j])) j++;
            if (j == hi || CAT(is_space_, SFX)(sp, cp[j])) {
                if (CAT(emit_stripped_, SFX)(sp, cp, piece, j, starts, ends)) return -1;
                piece = j;
            }
            i = j;
        } else if (CAT(cjk_stop_, SFX)(c)) {
            Py_ssize_t j = i + 1;
            while (j < hi && CAT(cjk_stop_, SFX)(cp[j])) j++;
            if (CAT(emit_stripped_, SFX)(sp, cp, piece, j, starts, ends)) return -1;
            piece = j;
            i = j;
        } else {
            i++;
        }
    }
    return CAT(emit_stripped_, SFX)(sp, cp, piece, hi, starts, ends);
}

/* The units of cp[0:n] at a granularity (0 paragraph, 1 sentence, 2 line, 3 document). */
static int CAT(units_, SFX)(Spaces *sp, const CT *cp, Py_ssize_t n, int granularity,
                            VecI64 *starts, VecI64 *ends) {
    starts->n = ends->n = 0;
    if (granularity == 3) {
        Py_ssize_t a = 0, b = n;
        while (a < b && CAT(is_space_, SFX)(sp, cp[a])) a++;
        while (b > a && CAT(is_space_, SFX)(sp, cp[b - 1])) b--;
        if (a < b && (VecI64_push(starts, a) || VecI64_push(ends, b))) return -1;
        return 0;
    }
    if (CAT(paragraphs_, SFX)(sp, cp, 0, n, granularity == 2, starts, ends)) return -1;
    if (granularity != 1 || !starts->n) return 0;
    /* sentences inside each paragraph */
    VecI64 *ps = &sp->para_starts, *pe = &sp->para_ends;
    size_t m = starts->n;
    if (VecI64_reserve(ps, m) || VecI64_reserve(pe, m)) return -1;
    memcpy(ps->data, starts->data, m * sizeof(int64_t));
    memcpy(pe->data, ends->data, m * sizeof(int64_t));
    starts->n = ends->n = 0;
    for (size_t k = 0; k < m; k++)
        if (CAT(sentences_, SFX)(sp, cp, ps->data[k], pe->data[k], starts, ends)) return -1;
    return 0;
}

/* Word hashes of cp[a:b] (the tokens of its hashed copy), appended to `words`.
 *
 * Each character folds through the fold table (NFKC + case folding, per character; ASCII
 * only needs A-Z -> a-z), is classed by the word table (1 word character, 2 a token on its
 * own, 0 neither), and a word's folded UTF-8 is hashed with XXH3-64 when it ends (0 becomes 1).
 * The normalization steps of fo->steps apply on the way, as dedup.text.split.normalize applies
 * them to the folded text: STEP_DIGITS makes each run of digits one "0"; STEP_PUNCT drops a
 * - ' \u2019 . \u00b7 standing between two word characters (STEP_PUNCT_FIRST: punctuation came
 * before digits in the steps, so digit runs join across a dropped mark).
 * Returns 1 when a character has no image in the table (Python normalizes the unit), 0 when
 * done, -1 when out of memory. `fold` 0: characters as written. A word longer than the short
 * buffer is folded again into `longbuf` and hashed from there. */
static inline uint32_t CAT(fold_one_, SFX)(const Folding *fo, int fold, uint32_t c) {
    if (c < 128) return (fold && c >= 'A' && c <= 'Z') ? c + 32 : c;
    return fold ? fo->fold[c] : c;
}

/* The folded character at i and its class; 0 when the fold table has no image for it. */
static inline int CAT(classify_, SFX)(const Folding *fo, int fold, uint32_t c, uint32_t *f, int *kind) {
    if (c < 128) {
        *f = (fold && c >= 'A' && c <= 'Z') ? c + 32 : c;
        *kind = ascii_word[*f];
        return 1;
    }
    if (fold) {
        if (c >= fo->fold_n || fo->fold[c] == FOLD_COMPLEX) return 0;
        *f = fo->fold[c];
    } else {
        *f = c;
    }
    *kind = *f < fo->word_n ? fo->word[*f] : 0;
    return 1;
}

/* STEP_DEHYPHEN at cp[i] == '-' (a < i < b): where the word goes on when the hyphen ends a line
 * after a word character ([ \t]* then \r\n, \r or \n, then [ \t]*, then a word character: the
 * index of that character), 0 when it does not, -1 when a character has no image in the table. */
static Py_ssize_t CAT(dehyphen_end_, SFX)(const Folding *fo, int fold, const CT *cp, Py_ssize_t i, Py_ssize_t b) {
    uint32_t f = 0;
    int kind = 0;
    if (!CAT(classify_, SFX)(fo, fold, cp[i - 1], &f, &kind)) return -1;
    if (!kind) return 0;
    Py_ssize_t j = i + 1;
    int breaks = 0;
    for (; j < b; j++) {
        if (!CAT(classify_, SFX)(fo, fold, cp[j], &f, &kind)) return -1;
        if (f == ' ' || f == '\t') continue;
        if (breaks || (f != '\n' && f != '\r')) break;
        breaks = 1;
        if (f == '\r' && j + 1 < b && cp[j + 1] == '\n') j++;
    }
    return breaks && j < b && kind ? j : 0;
}

static int CAT(tokenize_, SFX)(const Folding *fo, int fold, const CT *cp, Py_ssize_t a, Py_ssize_t b,
                               VecU64 *words, VecU8 *longbuf) {
    uint8_t w[XXH_MAX_SHORT + 8];
    int wlen = 0, in_digits = 0, steps = fo->steps;
    Py_ssize_t wstart = -1;
    for (Py_ssize_t i = a; i <= b; i++) {
        int kind = 0;
        uint32_t f = 0;
        if (i < b && !CAT(classify_, SFX)(fo, fold, cp[i], &f, &kind)) return 1;
        if (f == '-' && (steps & STEP_DEHYPHEN) && i > a && i + 1 < b) {
            Py_ssize_t next = CAT(dehyphen_end_, SFX)(fo, fold, cp, i, b);
            if (next < 0) return 1;
            if (next) { i = next - 1; continue; }  /* the hyphen and the line break go: the word goes on */
        }
        if (steps && wstart >= 0 && kind == 0 && i + 1 < b && (steps & STEP_PUNCT) && is_inner_punct(f)) {
            uint32_t f2;
            int kind2;
            if (!CAT(classify_, SFX)(fo, fold, cp[i + 1], &f2, &kind2)) return 1;
            if (kind2) {  /* between two word characters: dropped, the word goes on */
                if (!(steps & STEP_PUNCT_FIRST)) in_digits = 0;
                continue;
            }
        }
        if (kind == 1) {
            if (wstart < 0) { wstart = i; wlen = 0; in_digits = 0; }
            if ((steps & STEP_DIGITS) && is_digit(fo, f)) {
                if (in_digits) continue;  /* the run is one "0" already */
                in_digits = 1;
                f = '0';
            } else {
                in_digits = 0;
            }
            if (wlen <= XXH_MAX_SHORT) wlen = put_utf8(w, wlen, f);
        } else {
            if (wstart >= 0) {
                uint64_t h;
                if (wlen <= XXH_MAX_SHORT) {
                    h = xxh3_short(w, (size_t)wlen);
                } else if (steps) {
                    /* a long word under steps: fold it again with them (rare) */
                    if (VecU8_reserve(longbuf, (size_t)(i - wstart) * 4 + 4)) return -1;
                    int o = 0, run = 0;
                    for (Py_ssize_t k = wstart; k < i; k++) {
                        uint32_t g = 0;
                        int kg = 0;
                        CAT(classify_, SFX)(fo, fold, cp[k], &g, &kg);
                        if (g == '-' && (steps & STEP_DEHYPHEN) && k > a && k + 1 < b) {
                            Py_ssize_t next = CAT(dehyphen_end_, SFX)(fo, fold, cp, k, b);
                            if (next > 0) { k = next - 1; continue; }  /* joined across the line end */
                        }
                        if (kg == 0) { if (!(steps & STEP_PUNCT_FIRST)) run = 0; continue; }  /* a dropped mark */
                        if ((steps & STEP_DIGITS) && is_digit(fo, g)) {
                            if (run) continue;
                            run = 1;
                            g = '0';
                        } else {
                            run = 0;
                        }
                        o = put_utf8(longbuf->data, o, g);
                    }
                    h = xxh3_64(longbuf->data, (size_t)o);
                } else {
                    if (VecU8_reserve(longbuf, (size_t)(i - wstart) * 4 + 4)) return -1;
                    int o = 0;
                    for (Py_ssize_t k = wstart; k < i; k++)
                        o = put_utf8(longbuf->data, o, CAT(fold_one_, SFX)(fo, fold, cp[k]));
                    h = xxh3_64(longbuf->data, (size_t)o);
                }
                if (VecU64_push(words, h ? h : 1)) return -1;
                wstart = -1;
            }
            if (kind == 2) {
                uint64_t h = xxh3_short(w, (size_t)put_utf8(w, 0, f));
                if (VecU64_push(words, h ? h : 1)) return -1;
            }
        }
    }
    return 0;
}

/* The tokens of cp[a:b] with where they are: hashes as CAT(tokenize_, SFX) gives them, and each
 * token's character span [start, end) in the text. Returns 1 when a character has no image in the
 * fold table (the caller normalizes in Python), 0 when done, -1 when out of memory. */
static int CAT(token_spans_, SFX)(const Folding *fo, int fold, const CT *cp, Py_ssize_t a, Py_ssize_t b,
                                  VecU64 *words, VecI64 *starts, VecI64 *ends, VecU8 *longbuf) {
    uint8_t w[XXH_MAX_SHORT + 8];
    int wlen = 0;
    Py_ssize_t wstart = -1;
    for (Py_ssize_t i = a; i <= b; i++) {
        int kind = 0;
        uint32_t f = 0;
        if (i < b) {
            uint32_t c = cp[i];
            if (c < 128) {
                f = (fold && c >= 'A' && c <= 'Z') ? c + 32 : c;
                kind = ascii_word[f];
            } else {
                if (fold) {
                    if (c >= fo->fold_n || fo->fold[c] == FOLD_COMPLEX) return 1;
                    f = fo->fold[c];
                } else {
                    f = c;
                }
                kind = f < fo->word_n ? fo->word[f] : 0;
            }
        }
        if (kind == 1) {
            if (wstart < 0) { wstart = i; wlen = 0; }
            if (wlen <= XXH_MAX_SHORT) wlen = put_utf8(w, wlen, f);
        } else {
            if (wstart >= 0) {
                uint64_t h;
                if (wlen <= XXH_MAX_SHORT) {
                    h = xxh3_short(w, (size_t)wlen);
                } else {
                    if (VecU8_reserve(longbuf, (size_t)(i - wstart) * 4 + 4)) return -1;
                    int o = 0;
                    for (Py_ssize_t k = wstart; k < i; k++)
                        o = put_utf8(longbuf->data, o, CAT(fold_one_, SFX)(fo, fold, cp[k]));
                    h = xxh3_64(longbuf->data, (size_t)o);
                }
                if (VecU64_push(words, h ? h : 1) || VecI64_push(starts, wstart) || VecI64_push(ends, i)) return -1;
                wstart = -1;
            }
            if (kind == 2) {
                uint64_t h = xxh3_short(w, (size_t)put_utf8(w, 0, f));
                if (VecU64_push(words, h ? h : 1) || VecI64_push(starts, i) || VecI64_push(ends, i + 1)) return -1;
            }
        }
    }
    return 0;
}

/* UTF-8 size of cp[0:n] (a surrogate counts 3 bytes, as with "surrogatepass"). */
static Py_ssize_t CAT(utf8_size_, SFX)(const CT *cp, Py_ssize_t n) {
    Py_ssize_t size = n;
    for (Py_ssize_t i = 0; i < n; i++) {
        uint32_t c = cp[i];
        size += (c >= 0x80) + (c >= 0x800) + (c >= 0x10000);
    }
    return size;
}

#undef CAT
#undef CAT_
