/* Integer mixing and XXH3-64 for short inputs: the same values as dedup.fingerprint.hashing
 * and xxhash.xxh3_64_intdigest (tests compare them on every path). */
#ifndef DEDUP_HASHING_H
#define DEDUP_HASHING_H

#include <stdint.h>
#include <string.h>

static inline uint64_t fmix64(uint64_t h) {
    h ^= h >> 33;
    h *= 0xFF51AFD7ED558CCDULL;
    h ^= h >> 33;
    h *= 0xC4CEB9FE1A85EC53ULL;
    h ^= h >> 33;
    return h;
}

static inline uint32_t fmix32(uint32_t h) {
    h ^= h >> 16;
    h *= 0x85EBCA6Bu;
    h ^= h >> 13;
    h *= 0xC2B2AE35u;
    h ^= h >> 16;
    return h;
}

/* XXH3-64, seed 0, default secret (the algorithm's published constants). */
#define XXH_MAX_SHORT 128
#define XXH_SECRET_SIZE 192

static const uint8_t xxh_secret[XXH_SECRET_SIZE] = {
    0xb8, 0xfe, 0x6c, 0x39, 0x23, 0xa4, 0x4b, 0xbe, 0x7c, 0x01, 0x81, 0x2c, 0xf7, 0x21, 0xad, 0x1c,
    0xde, 0xd4, 0x6d, 0xe9, 0x83, 0x90, 0x97, 0xdb, 0x72, 0x40, 0xa4, 0xa4, 0xb7, 0xb3, 0x67, 0x1f,
    0xcb, 0x79, 0xe6, 0x4e, 0xcc, 0xc0, 0xe5, 0x78, 0x82, 0x5a, 0xd0, 0x7d, 0xcc, 0xff, 0x72, 0x21,
    0xb8, 0x08, 0x46, 0x74, 0xf7, 0x43, 0x24, 0x8e, 0xe0, 0x35, 0x90, 0xe6, 0x81, 0x3a, 0x26, 0x4c,
    0x3c, 0x28, 0x52, 0xbb, 0x91, 0xc3, 0x00, 0xcb, 0x88, 0xd0, 0x65, 0x8b, 0x1b, 0x53, 0x2e, 0xa3,
    0x71, 0x64, 0x48, 0x97, 0xa2, 0x0d, 0xf9, 0x4e, 0x38, 0x19, 0xef, 0x46, 0xa9, 0xde, 0xac, 0xd8,
    0xa8, 0xfa, 0x76, 0x3f, 0xe3, 0x9c, 0x34, 0x3f, 0xf9, 0xdc, 0xbb, 0xc7, 0xc7, 0x0b, 0x4f, 0x1d,
    0x8a, 0x51, 0xe0, 0x4b, 0xcd, 0xb4, 0x59, 0x31, 0xc8, 0x9f, 0x7e, 0xc9, 0xd9, 0x78, 0x73, 0x64,
    0xea, 0xc5, 0xac, 0x83, 0x34, 0xd3, 0xeb, 0xc3, 0xc5, 0x81, 0xa0, 0xff, 0xfa, 0x13, 0x63, 0xeb,
    0x17, 0x0d, 0xdd, 0x51, 0xb7, 0xf0, 0xda, 0x49, 0xd3, 0x16, 0x55, 0x26, 0x29, 0xd4, 0x68, 0x9e,
    0x2b, 0x16, 0xbe, 0x58, 0x7d, 0x47, 0xa1, 0xfc, 0x8f, 0xf8, 0xb8, 0xd1, 0x7a, 0xd0, 0x31, 0xce,
    0x45, 0xcb, 0x3a, 0x8f, 0x95, 0x16, 0x04, 0x28, 0xaf, 0xd7, 0xfb, 0xca, 0xbb, 0x4b, 0x40, 0x7e,
};

#define XXH_P32_1 0x9E3779B1u
#define XXH_P32_2 0x85EBCA77u
#define XXH_P32_3 0xC2B2AE3Du
#define XXH_P64_4 0x85EBCA77C2B2AE63ULL
#define XXH_P64_5 0x27D4EB2F165667C5ULL
#define XXH_P64_1 0x9E3779B185EBCA87ULL
#define XXH_P64_2 0xC2B2AE3D27D4EB4FULL
#define XXH_P64_3 0x165667B19E3779F9ULL
#define XXH_PMX1 0x165667919E3779F9ULL
#define XXH_PMX2 0x9FB21C651E98DF25ULL

static inline uint64_t read64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

static inline uint32_t read32(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap32(v);
#endif
    return v;
}

static inline uint64_t mul128_fold64(uint64_t a, uint64_t b) {
#if defined(__SIZEOF_INT128__)
    __uint128_t p = (__uint128_t)a * b;
    return (uint64_t)p ^ (uint64_t)(p >> 64);
#else
    uint64_t a_lo = a & 0xFFFFFFFFu, a_hi = a >> 32, b_lo = b & 0xFFFFFFFFu, b_hi = b >> 32;
    uint64_t lo_lo = a_lo * b_lo, hi_lo = a_hi * b_lo, lo_hi = a_lo * b_hi, hi_hi = a_hi * b_hi;
    uint64_t cross = (lo_lo >> 32) + (hi_lo & 0xFFFFFFFFu) + lo_hi;
    uint64_t upper = (hi_lo >> 32) + (cross >> 32) + hi_hi;
    uint64_t lower = (cross << 32) | (lo_lo & 0xFFFFFFFFu);
    return lower ^ upper;
#endif
}

static inline uint64_t rotl64(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

static inline uint64_t xxh64_avalanche(uint64_t h) {
    h ^= h >> 33;
    h *= XXH_P64_2;
    h ^= h >> 29;
    h *= XXH_P64_3;
    return h ^ (h >> 32);
}

static inline uint64_t xxh3_avalanche(uint64_t h) {
    h ^= h >> 37;
    h *= XXH_PMX1;
    return h ^ (h >> 32);
}

static inline uint64_t xxh_mix16(const uint8_t *p, const uint8_t *s) {
    return mul128_fold64(read64(p) ^ read64(s), read64(p + 8) ^ read64(s + 8));
}

/* XXH3-64 of p[0:len] for 1 <= len <= XXH_MAX_SHORT. */
static uint64_t xxh3_short(const uint8_t *p, size_t len) {
    const uint8_t *s = xxh_secret;
    uint64_t n = len;
    if (len <= 3) {
        uint32_t c1 = p[0], c2 = p[len >> 1], c3 = p[len - 1];
        uint32_t combined = (c1 << 16) | (c2 << 24) | c3 | ((uint32_t)len << 8);
        uint64_t flip = (uint64_t)(read32(s) ^ read32(s + 4));
        return xxh64_avalanche((uint64_t)combined ^ flip);
    }
    if (len <= 8) {
        uint64_t in1 = read32(p), in2 = read32(p + len - 4);
        uint64_t flip = read64(s + 8) ^ read64(s + 16);
        uint64_t keyed = (in2 + (in1 << 32)) ^ flip;
        uint64_t h = keyed ^ rotl64(keyed, 49) ^ rotl64(keyed, 24);
        h *= XXH_PMX2;
        h ^= (h >> 35) + n;
        h *= XXH_PMX2;
        return h ^ (h >> 28);
    }
    if (len <= 16) {
        uint64_t lo = read64(p) ^ (read64(s + 24) ^ read64(s + 32));
        uint64_t hi = read64(p + len - 8) ^ (read64(s + 40) ^ read64(s + 48));
        uint64_t acc = n + __builtin_bswap64(lo) + hi + mul128_fold64(lo, hi);
        return xxh3_avalanche(acc);
    }
    uint64_t acc = n * XXH_P64_1;
    if (len > 32) {
        if (len > 64) {
            if (len > 96) {
                acc += xxh_mix16(p + 48, s + 96);
                acc += xxh_mix16(p + len - 64, s + 112);
            }
            acc += xxh_mix16(p + 32, s + 64);
            acc += xxh_mix16(p + len - 48, s + 80);
        }
        acc += xxh_mix16(p + 16, s + 32);
        acc += xxh_mix16(p + len - 32, s + 48);
    }
    acc += xxh_mix16(p, s);
    acc += xxh_mix16(p + len - 16, s + 16);
    return xxh3_avalanche(acc);
}

/* 129..240 bytes */
static uint64_t xxh3_mid(const uint8_t *p, size_t len) {
    const uint8_t *s = xxh_secret;
    uint64_t acc = (uint64_t)len * XXH_P64_1;
    size_t rounds = len / 16;
    for (size_t i = 0; i < 8; i++) acc += xxh_mix16(p + 16 * i, s + 16 * i);
    acc = xxh3_avalanche(acc);
    for (size_t i = 8; i < rounds; i++) acc += xxh_mix16(p + 16 * i, s + 16 * (i - 8) + 3);
    acc += xxh_mix16(p + len - 16, s + 136 - 17);
    return xxh3_avalanche(acc);
}

static inline void xxh_accumulate(uint64_t *acc, const uint8_t *p, const uint8_t *s) {
    for (int i = 0; i < 8; i++) {
        uint64_t v = read64(p + 8 * i), k = v ^ read64(s + 8 * i);
        acc[i ^ 1] += v;
        acc[i] += (k & 0xFFFFFFFFu) * (k >> 32);
    }
}

/* over 240 bytes: stripes of 64 bytes, blocks of 16 stripes, the accumulators scrambled per block */
static uint64_t xxh3_long(const uint8_t *p, size_t len) {
    const uint8_t *s = xxh_secret;
    uint64_t acc[8] = {XXH_P32_3, XXH_P64_1, XXH_P64_2, XXH_P64_3, XXH_P64_4, XXH_P32_2, XXH_P64_5, XXH_P32_1};
    const size_t stripes_per_block = (XXH_SECRET_SIZE - 64) / 8, block = 64 * stripes_per_block;
    size_t blocks = (len - 1) / block;
    for (size_t n = 0; n < blocks; n++) {
        for (size_t k = 0; k < stripes_per_block; k++) xxh_accumulate(acc, p + n * block + k * 64, s + k * 8);
        for (int i = 0; i < 8; i++) {
            acc[i] ^= acc[i] >> 47;
            acc[i] ^= read64(s + XXH_SECRET_SIZE - 64 + 8 * i);
            acc[i] *= XXH_P32_1;
        }
    }
    size_t stripes = ((len - 1) - block * blocks) / 64;
    for (size_t k = 0; k < stripes; k++) xxh_accumulate(acc, p + blocks * block + k * 64, s + k * 8);
    xxh_accumulate(acc, p + len - 64, s + XXH_SECRET_SIZE - 64 - 7);
    uint64_t r = (uint64_t)len * XXH_P64_1;
    for (int i = 0; i < 4; i++) r += mul128_fold64(acc[2 * i] ^ read64(s + 11 + 16 * i), acc[2 * i + 1] ^ read64(s + 11 + 16 * i + 8));
    return xxh3_avalanche(r);
}

/* XXH3-64 of any length (0 bytes: not needed here, never called with it). */
static inline uint64_t xxh3_64(const uint8_t *p, size_t len) {
    return len <= XXH_MAX_SHORT ? xxh3_short(p, len) : len <= 240 ? xxh3_mid(p, len) : xxh3_long(p, len);
}

static inline int put_utf8(uint8_t *buf, int o, uint32_t c) {
    if (c < 0x80) { buf[o] = (uint8_t)c; return o + 1; }
    if (c < 0x800) { buf[o] = 0xC0 | (c >> 6); buf[o + 1] = 0x80 | (c & 0x3F); return o + 2; }
    if (c < 0x10000) {
        buf[o] = 0xE0 | (c >> 12); buf[o + 1] = 0x80 | ((c >> 6) & 0x3F); buf[o + 2] = 0x80 | (c & 0x3F);
        return o + 3;
    }
    buf[o] = 0xF0 | (c >> 18); buf[o + 1] = 0x80 | ((c >> 12) & 0x3F);
    buf[o + 2] = 0x80 | ((c >> 6) & 0x3F); buf[o + 3] = 0x80 | (c & 0x3F);
    return o + 4;
}

#endif
