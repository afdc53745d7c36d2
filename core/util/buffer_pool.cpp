#include "util/buffer_pool.hpp"

#include <algorithm>

namespace assetgen::util {

BufferPool& BufferPool::shared() {
    static BufferPool pool(64);
    return pool;
}

std::string BufferPool::take(std::size_t bytes) {
    std::string out;
    std::string dropped;  // freed outside the lock
    {
        std::lock_guard lock(m_mutex);
        auto fits = std::find_if(m_idle.begin(), m_idle.end(),
                                 [&](const std::string& b) { return b.capacity() >= bytes; });
        if (fits != m_idle.end()) {
            out = std::move(*fits);
            *fits = std::move(m_idle.back());
            m_idle.pop_back();
            out.clear();
            return out;
        }
        if (!m_idle.empty()) {
            // None is big enough: one goes, so the buffers in existence stay bounded by the
            // answers held at once, whatever their sizes.
            dropped = std::move(m_idle.back());
            m_idle.pop_back();
        }
    }
    out.reserve(bytes);
    return out;
}

void BufferPool::give(std::string&& buffer) {
    std::string taken = std::move(buffer);
    buffer.clear();
    if (taken.capacity() < k_min_bytes) {
        return;
    }
    std::lock_guard lock(m_mutex);
    if (m_idle.size() < m_max) {
        m_idle.push_back(std::move(taken));
    }
}

std::size_t BufferPool::idle() const {
    std::lock_guard lock(m_mutex);
    return m_idle.size();
}

}  // namespace assetgen::util
