// How this works: an entry is three length-prefixed strings (safe id, original id or "", where)
// written one after another into the current 1 MiB block; it never straddles two blocks (ids are
// at most 100 bytes and places short, so an entry is far below a block). A slot holds the block
// number and offset of an entry, plus one so that 0 means empty; linear probing on the FNV-1a
// hash of the safe id, grown (rehashed from the entries themselves) past half full.
#include "batch/id_index.hpp"

#include <cstring>

namespace assetgen::batch {
namespace {

std::uint64_t hash_of(std::string_view s) {
    std::uint64_t h = 1469598103934665603ull;
    for (unsigned char c : s) {
        h = (h ^ c) * 1099511628211ull;
    }
    return h ^ (h >> 29);
}

// Lengths as 1 byte below 255, else 255 and 4 bytes.
std::size_t put_length(char* p, std::size_t n) {
    if (n < 255) {
        p[0] = static_cast<char>(n);
        return 1;
    }
    p[0] = static_cast<char>(255);
    const auto v = static_cast<std::uint32_t>(n);
    std::memcpy(p + 1, &v, 4);
    return 5;
}

std::string_view get_string(const char*& p) {
    std::size_t n = static_cast<unsigned char>(p[0]);
    ++p;
    if (n == 255) {
        std::uint32_t v = 0;
        std::memcpy(&v, p, 4);
        n = v;
        p += 4;
    }
    std::string_view s(p, n);
    p += n;
    return s;
}

}  // namespace

std::size_t IdIndex::bytes() const {
    return m_blocks.size() * k_block + m_slots.size() * sizeof(std::uint64_t);
}

IdIndex::Entry IdIndex::decode(std::uint64_t ref) const {
    const std::uint64_t at = ref - 1;
    const char* p = m_blocks[at >> 20].get() + (at & (k_block - 1));
    Entry e;
    e.safe_id = get_string(p);
    e.scene_id = get_string(p);
    e.where = get_string(p);
    return e;
}

std::uint64_t IdIndex::append(std::string_view safe_id, std::string_view scene_id,
                              std::string_view where) {
    if (scene_id == safe_id) {
        scene_id = {};
    }
    const std::size_t need = 15 + safe_id.size() + scene_id.size() + where.size();
    if (need > k_block) {  // cannot happen with ids capped at 100 bytes; keep the place short
        where = where.substr(0, 1000);
    }
    if (m_used + need > k_block) {
        m_blocks.push_back(std::make_unique<char[]>(k_block));
        m_used = 0;
    }
    char* base = m_blocks.back().get();
    const std::uint64_t ref =
        1 + ((static_cast<std::uint64_t>(m_blocks.size() - 1) << 20) | m_used);
    for (std::string_view s : {safe_id, scene_id, where}) {
        m_used += put_length(base + m_used, s.size());
        if (!s.empty()) {  // an empty view's data() may be null, which memcpy may not take
            std::memcpy(base + m_used, s.data(), s.size());
        }
        m_used += s.size();
    }
    return ref;
}

void IdIndex::grow() {
    std::vector<std::uint64_t> old;
    old.swap(m_slots);
    m_slots.assign(old.empty() ? 1024 : old.size() * 2, 0);
    const std::size_t mask = m_slots.size() - 1;
    for (std::uint64_t ref : old) {
        if (ref == 0) {
            continue;
        }
        std::size_t i = hash_of(decode(ref).safe_id) & mask;
        while (m_slots[i] != 0) {
            i = (i + 1) & mask;
        }
        m_slots[i] = ref;
    }
}

std::optional<IdIndex::First> IdIndex::insert(std::string_view safe_id, std::string_view scene_id,
                                              std::string_view where) {
    if ((m_count + 1) * 2 > m_slots.size()) {
        grow();
    }
    const std::size_t mask = m_slots.size() - 1;
    std::size_t i = hash_of(safe_id) & mask;
    while (m_slots[i] != 0) {
        const Entry e = decode(m_slots[i]);
        if (e.safe_id == safe_id) {
            return First{std::string(e.scene_id.empty() ? e.safe_id : e.scene_id),
                         std::string(e.where)};
        }
        i = (i + 1) & mask;
    }
    m_slots[i] = append(safe_id, scene_id, where);
    ++m_count;
    return std::nullopt;
}

}  // namespace assetgen::batch
