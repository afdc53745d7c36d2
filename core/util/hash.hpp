#pragma once
// Content hashes (SHA-256 through OpenSSL's EVP digest API) and a fast stable 64-bit hash for
// sharding and stage selection.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace assetgen::util {

using Sha256 = std::array<unsigned char, 32>;

// SHA-256 of data.
Sha256 sha256(std::string_view data);
// Lower-case hex of SHA-256 of data.
std::string sha256_hex(std::string_view data);
// Lower-case hex of bytes.
std::string to_hex(std::string_view bytes);
std::string to_hex(const Sha256& digest);

// Incremental SHA-256 for streams (input files, spooled stdin).
class Sha256Stream {
public:
    Sha256Stream();
    ~Sha256Stream();
    Sha256Stream(const Sha256Stream&) = delete;
    Sha256Stream& operator=(const Sha256Stream&) = delete;
    void update(std::string_view data);
    // Finishes the digest; the object must not be updated afterwards.
    std::string hex();

private:
    void* m_ctx;
};

// FNV-1a 64-bit: stable across runs and machines (never std::hash).
std::uint64_t fnv1a64(std::string_view data);

}  // namespace assetgen::util
