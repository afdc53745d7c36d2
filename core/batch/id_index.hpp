#pragma once
// The scene ids a batch has used so far, for the duplicate check of Validator, kept compact so
// that memory stays small at millions of rows: each sanitised id, the original id when it
// differs and the place of its first row are packed into 1 MiB blocks (about 30 bytes a row for
// ids like "BATCH-0000001"), found through an open-addressing table of 8-byte references. Exact:
// a hash only picks the slot, the bytes decide.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace assetgen::batch {

class IdIndex {
public:
    // The first row that used a sanitised id.
    struct First {
        std::string scene_id;  // as written in that row
        std::string where;     // e.g. "batch.csv:12"
    };

    // Records safe_id for the row `where` when it is new and returns std::nullopt; when it was
    // seen before, records nothing and returns that first row.
    std::optional<First> insert(std::string_view safe_id, std::string_view scene_id,
                                std::string_view where);

    std::size_t size() const { return m_count; }
    // Bytes held (blocks and table), for tests of the memory bound.
    std::size_t bytes() const;

private:
    struct Entry {
        std::string_view safe_id;
        std::string_view scene_id;  // empty when equal to safe_id
        std::string_view where;
    };
    Entry decode(std::uint64_t ref) const;
    std::uint64_t append(std::string_view safe_id, std::string_view scene_id,
                         std::string_view where);
    void grow();

    static constexpr std::size_t k_block = 1u << 20;
    std::vector<std::unique_ptr<char[]>> m_blocks;
    std::size_t m_used = k_block;        // bytes used in the last block (full: a new block first)
    std::vector<std::uint64_t> m_slots;  // 0 = empty; else 1 + (block << 20 | offset)
    std::size_t m_count = 0;
};

}  // namespace assetgen::batch
