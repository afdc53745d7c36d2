#include "provider/crc32_fast.hpp"

#include <zlib.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define ASSETGEN_CRC_CLMUL 1
#endif

namespace assetgen::provider {
namespace {

std::uint32_t crc32_zlib(std::uint32_t crc, const unsigned char* p, std::size_t n) {
    uLong c = crc;
    while (n > 0) {  // uInt is 32 bits
        const uInt step = n > (1u << 30) ? (1u << 30) : static_cast<uInt>(n);
        c = ::crc32(c, p, step);
        p += step;
        n -= step;
    }
    return static_cast<std::uint32_t>(c);
}

#ifdef ASSETGEN_CRC_CLMUL
__attribute__((target("pclmul,sse4.1"))) inline __m128i load(const unsigned char* p) {
    return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
}

// acc times the folding constants, plus the next 16 bytes.
__attribute__((target("pclmul,sse4.1"))) inline __m128i fold16(__m128i acc, __m128i k,
                                                               __m128i next) {
    const __m128i lo = _mm_clmulepi64_si128(acc, k, 0x00);
    const __m128i hi = _mm_clmulepi64_si128(acc, k, 0x11);
    return _mm_xor_si128(_mm_xor_si128(hi, lo), next);
}

// The folding constants of the bit-reflected CRC-32 polynomial 0x04C11DB7 (x^(4·128+32) mod P
// and so on, from the paper); crc is the raw (not inverted) register; len ≥ 64, a multiple of 16.
__attribute__((target("pclmul,sse4.1"))) std::uint32_t fold(const unsigned char* buf,
                                                            std::size_t len, std::uint32_t crc) {
    alignas(16) static const std::uint64_t k1k2[] = {0x0154442bd4, 0x01c6e41596};
    alignas(16) static const std::uint64_t k3k4[] = {0x01751997d0, 0x00ccaa009e};
    alignas(16) static const std::uint64_t k5k0[] = {0x0163cd6124, 0x0000000000};
    alignas(16) static const std::uint64_t poly[] = {0x01db710641, 0x01f7011641};
    __m128i x1 = _mm_xor_si128(load(buf), _mm_cvtsi32_si128(static_cast<int>(crc)));
    __m128i x2 = load(buf + 16);
    __m128i x3 = load(buf + 32);
    __m128i x4 = load(buf + 48);
    __m128i k = _mm_load_si128(reinterpret_cast<const __m128i*>(k1k2));
    buf += 64;
    len -= 64;
    while (len >= 64) {  // four lanes in parallel
        x1 = fold16(x1, k, load(buf));
        x2 = fold16(x2, k, load(buf + 16));
        x3 = fold16(x3, k, load(buf + 32));
        x4 = fold16(x4, k, load(buf + 48));
        buf += 64;
        len -= 64;
    }
    k = _mm_load_si128(reinterpret_cast<const __m128i*>(k3k4));
    x1 = fold16(x1, k, x2);
    x1 = fold16(x1, k, x3);
    x1 = fold16(x1, k, x4);
    while (len >= 16) {
        x1 = fold16(x1, k, load(buf));
        buf += 16;
        len -= 16;
    }
    // 128 bits to 64, then Barrett reduction to 32.
    __m128i x0;
    x2 = _mm_clmulepi64_si128(x1, k, 0x10);
    x3 = _mm_setr_epi32(~0, 0, ~0, 0);
    x1 = _mm_srli_si128(x1, 8);
    x1 = _mm_xor_si128(x1, x2);
    x0 = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(k5k0));
    x2 = _mm_srli_si128(x1, 4);
    x1 = _mm_and_si128(x1, x3);
    x1 = _mm_clmulepi64_si128(x1, x0, 0x00);
    x1 = _mm_xor_si128(x1, x2);
    x0 = _mm_load_si128(reinterpret_cast<const __m128i*>(poly));
    x2 = _mm_and_si128(x1, x3);
    x2 = _mm_clmulepi64_si128(x2, x0, 0x10);
    x2 = _mm_and_si128(x2, x3);
    x2 = _mm_clmulepi64_si128(x2, x0, 0x00);
    x1 = _mm_xor_si128(x1, x2);
    return static_cast<std::uint32_t>(_mm_extract_epi32(x1, 1));
}

bool has_clmul() {
    static const bool yes = __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
    return yes;
}
#endif

}  // namespace

std::uint32_t crc32_fast(std::uint32_t crc, std::string_view data) {
    const auto* p = reinterpret_cast<const unsigned char*>(data.data());
    std::size_t n = data.size();
#ifdef ASSETGEN_CRC_CLMUL
    if (n >= 64 && has_clmul()) {
        const std::size_t chunk = n & ~static_cast<std::size_t>(15);
        crc = ~fold(p, chunk, ~crc);
        p += chunk;
        n -= chunk;
    }
#endif
    return crc32_zlib(crc, p, n);
}

}  // namespace assetgen::provider
