// CRC32C (Castagnoli, reflected polynomial 0x82F63B78): SSE4.2 instruction when present, table otherwise.
//
// The crc32 instruction has a latency of 3 cycles and a throughput of 1 per cycle, so one dependency chain
// uses a third of what the CPU can do. The hardware path therefore checksums three adjacent blocks at once,
// each with its own register, and joins the three results. CRC without the pre/post inversion (the "raw"
// register) is linear over GF(2): crc(r, A || B) = shift_|B|(crc(r, A)) ^ crc(0, B), where shift_N(r) is
// the register after feeding N zero bytes starting from r. shift_N is itself linear in r, so it is a 32x32
// bit matrix, stored as four 256-entry tables (one per byte of r) for each block size used.
#include "CSluiceShim.h"

#include <pthread.h>
#include <string.h>

enum {
    LONG_BLOCK = 8192, /* three chains over 3 * 8 KiB: the join costs ~8 lookups per 24 KiB */
    SHORT_BLOCK = 256, /* for what remains of a large input, and for medium inputs */
};

static uint32_t table[8][256];
static uint32_t shift_long[4][256];  /* shift_LONG_BLOCK */
static uint32_t shift_short[4][256]; /* shift_SHORT_BLOCK */
static int hardware;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void build_table(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++) {
        for (int t = 1; t < 8; t++) table[t][i] = (table[t - 1][i] >> 8) ^ table[0][table[t - 1][i] & 0xff];
    }
}

/* Fills `shift` so that apply_shift(shift, r) is the raw register after `zeros` zero bytes starting from r.
   Needs table[0]. */
static void build_shift(uint32_t shift[4][256], size_t zeros) {
    uint32_t image[32]; /* image[k]: the register after `zeros` zero bytes, starting from bit k alone */
    for (int k = 0; k < 32; k++) {
        uint32_t r = (uint32_t)1 << k;
        for (size_t i = 0; i < zeros; i++) r = table[0][r & 0xff] ^ (r >> 8);
        image[k] = r;
    }
    for (int lane = 0; lane < 4; lane++) {
        for (uint32_t value = 0; value < 256; value++) {
            uint32_t sum = 0;
            for (int bit = 0; bit < 8; bit++) {
                if (value & (1u << bit)) sum ^= image[8 * lane + bit];
            }
            shift[lane][value] = sum;
        }
    }
}

static inline uint32_t apply_shift(const uint32_t shift[4][256], uint32_t r) {
    return shift[0][r & 0xff] ^ shift[1][(r >> 8) & 0xff] ^ shift[2][(r >> 16) & 0xff] ^ shift[3][r >> 24];
}

static uint32_t software(uint32_t crc, const unsigned char *p, size_t n) {
    while (n >= 8) {
        uint64_t word;
        memcpy(&word, p, 8);
        word ^= crc; /* little-endian hosts only: x86_64 and aarch64 */
        crc = table[7][word & 0xff] ^ table[6][(word >> 8) & 0xff] ^ table[5][(word >> 16) & 0xff] ^
              table[4][(word >> 24) & 0xff] ^ table[3][(word >> 32) & 0xff] ^ table[2][(word >> 40) & 0xff] ^
              table[1][(word >> 48) & 0xff] ^ table[0][word >> 56];
        p += 8;
        n -= 8;
    }
    while (n--) crc = table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return crc;
}

#if defined(__x86_64__)
static inline uint64_t load64(const unsigned char *p) {
    uint64_t word;
    memcpy(&word, p, 8);
    return word;
}

/* While at least 3 * block bytes remain: three crc32 chains over three adjacent blocks, then the join.
   `block` is a multiple of 8 and a constant at every call site. */
__attribute__((target("sse4.2"), always_inline)) static inline uint32_t
three_way(uint32_t crc, const unsigned char **pp, size_t *np, size_t block, const uint32_t shift[4][256]) {
    const unsigned char *p = *pp;
    size_t n = *np;
    while (n >= 3 * block) {
        uint64_t c0 = crc, c1 = 0, c2 = 0;
        const unsigned char *end = p + block;
        do {
            c0 = __builtin_ia32_crc32di(c0, load64(p));
            c1 = __builtin_ia32_crc32di(c1, load64(p + block));
            c2 = __builtin_ia32_crc32di(c2, load64(p + 2 * block));
            p += 8;
        } while (p < end);
        crc = apply_shift(shift, (uint32_t)c0) ^ (uint32_t)c1;
        crc = apply_shift(shift, crc) ^ (uint32_t)c2;
        p += 2 * block;
        n -= 3 * block;
    }
    *pp = p;
    *np = n;
    return crc;
}

__attribute__((target("sse4.2"))) static uint32_t sse42(uint32_t crc, const unsigned char *p, size_t n) {
    crc = three_way(crc, &p, &n, LONG_BLOCK, shift_long);
    crc = three_way(crc, &p, &n, SHORT_BLOCK, shift_short);
    uint64_t c = crc;
    while (n >= 8) {
        c = __builtin_ia32_crc32di(c, load64(p));
        p += 8;
        n -= 8;
    }
    uint32_t c32 = (uint32_t)c;
    while (n--) c32 = __builtin_ia32_crc32qi(c32, *p++);
    return c32;
}
#endif

static void init(void) {
    build_table();
#if defined(__x86_64__)
    __builtin_cpu_init();
    hardware = __builtin_cpu_supports("sse4.2") ? 1 : 0;
    if (hardware) {
        build_shift(shift_long, LONG_BLOCK);
        build_shift(shift_short, SHORT_BLOCK);
    }
#else
    hardware = 0;
#endif
}

int sluice_crc32c_is_hardware(void) {
    pthread_once(&once, init);
    return hardware;
}

uint32_t sluice_crc32c(uint32_t crc, const void *data, size_t length) {
    const unsigned char *p = (const unsigned char *)data;
    uint32_t c = ~crc;
#if defined(__x86_64__)
    if (sluice_crc32c_is_hardware()) return ~sse42(c, p, length);
#else
    (void)sluice_crc32c_is_hardware();
#endif
    return ~software(c, p, length);
}

uint32_t sluice_crc32c_software(uint32_t crc, const void *data, size_t length) {
    pthread_once(&once, init);
    return ~software(~crc, (const unsigned char *)data, length);
}
