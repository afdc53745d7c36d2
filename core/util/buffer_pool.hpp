#pragma once
// A small pool of big byte buffers reused from one answer to the next.
//
// Why: buffers of 1 MiB and more are mmapped fresh and unmapped when freed (cli/main.cpp sets
// M_MMAP_THRESHOLD to keep RSS flat), so each live answer's ~2 MB body (which then holds its
// decoded image: parse_gemini_response_in_place) cost ~500 page faults, each a zeroed page,
// about a sixth of assetgen's CPU per 1.5 MB image (issue 18). The transport takes the body's
// buffer from here when Content-Length announces a big answer; the runner gives it back once the
// image is stored.
//
// Bounds: at most max_buffers idle buffers are kept, and a take that finds no idle buffer big
// enough frees one before allocating, so the buffers in existence (idle + in use) never outnumber
// the most answers held at once (the concurrency): peak RSS is what it was without the pool, and
// stays flat over a long run.

#include <cstddef>
#include <mutex>
#include <string>
#include <vector>

namespace assetgen::util {

class BufferPool {
public:
    // Buffers smaller than this are not kept: malloc reuses them well enough.
    static constexpr std::size_t k_min_bytes = 1u << 20;

    explicit BufferPool(std::size_t max_buffers) : m_max(max_buffers) {}

    // The process's pool for answer bodies (64 idle buffers at most).
    static BufferPool& shared();

    // An empty string whose capacity is at least `bytes`: an idle buffer when one is big
    // enough, else a new one.
    std::string take(std::size_t bytes);
    // Keeps `buffer` for a later take when it is big and the pool has room; frees it otherwise.
    void give(std::string&& buffer);
    // How many idle buffers the pool holds (tests).
    std::size_t idle() const;

private:
    mutable std::mutex m_mutex;
    std::vector<std::string> m_idle;
    std::size_t m_max;
};

}  // namespace assetgen::util
