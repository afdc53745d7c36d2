#include "schedule/batch_chunks.hpp"

#include <algorithm>

#include "provider/gemini_batch_wire.hpp"
#include "util/text.hpp"

namespace assetgen::schedule {

namespace {

// "s<I>of<N>" for shard "I/N" ("" for none).
std::string shard_tag(const std::string& shard) {
    if (shard.empty()) {
        return {};
    }
    std::string out = "s";
    for (char c : shard) {
        if (c == '/') {
            out += "of";
        } else if (c >= '0' && c <= '9') {
            out += c;
        }
    }
    return out;
}

}  // namespace

std::string batch_chunk_display_name(const std::string& job_id, int chunk,
                                     const std::string& shard) {
    const std::string tag = shard_tag(shard);
    return "assetgen-" + job_id + "-c" + std::to_string(chunk) + (tag.empty() ? "" : "-" + tag);
}

std::string batch_chunk_reservation_id(const std::string& job_id, int chunk,
                                       const std::string& shard) {
    const std::string tag = shard_tag(shard);
    return job_id + "/batch/c" + std::to_string(chunk) + (tag.empty() ? "" : "/" + tag);
}

std::optional<int> batch_chunk_of(const std::string& job_id, const std::string& reservation_id,
                                  const std::string& shard) {
    const std::string prefix = job_id + "/batch/c";
    const std::string tag = shard_tag(shard);
    const std::string suffix = tag.empty() ? "" : "/" + tag;
    if (reservation_id.size() < prefix.size() + suffix.size() ||
        reservation_id.compare(reservation_id.size() - suffix.size(), suffix.size(), suffix) != 0) {
        return std::nullopt;
    }
    const std::string id = reservation_id.substr(0, reservation_id.size() - suffix.size());
    if (id.size() <= prefix.size() || id.compare(0, prefix.size(), prefix) != 0 ||
        id.size() - prefix.size() > 6) {
        return std::nullopt;
    }
    int n = 0;
    for (std::size_t i = prefix.size(); i < id.size(); ++i) {
        if (id[i] < '0' || id[i] > '9') {
            return std::nullopt;
        }
        n = n * 10 + (id[i] - '0');
    }
    if (n < 1) {
        return std::nullopt;
    }
    return n;
}

std::string batch_chunk_keys_location(const std::string& records, int chunk) {
    return storage::join(storage::join(records, "batch"), "c" + std::to_string(chunk) + ".keys");
}

std::string batch_chunk_content_location(const std::string& records, int chunk) {
    return storage::join(storage::join(records, "batch"), "c" + std::to_string(chunk) + ".content");
}

util::Status write_chunk_keys(storage::Storage& storage, const std::string& location,
                              const std::vector<std::string>& keys) {
    std::string text;
    for (const auto& k : keys) {
        text += k;
        text += '\n';
    }
    auto st = storage.put(location, text, "text/plain");
    if (!st.ok()) {
        return util::Status(util::Code::storage_io,
                            "batch: keys file \"" + location + "\": " + st.message());
    }
    return util::ok_status();
}

util::Result<std::vector<std::string>> read_chunk_keys(storage::Storage& storage,
                                                       const std::string& location) {
    auto text = storage.get(location);
    if (!text.ok()) {
        return util::Status(util::Code::storage_io,
                            "batch: keys file \"" + location + "\": " + text.status().message() +
                                " (the ledger holds an open reservation for this chunk; restore "
                                "the file, or cancel the job's batches with --cancel)");
    }
    std::vector<std::string> keys;
    std::size_t pos = 0;
    while (pos < text->size()) {
        std::size_t end = text->find('\n', pos);
        if (end == std::string::npos) {
            end = text->size();
        }
        if (end > pos) {
            keys.emplace_back(text->substr(pos, end - pos));
        }
        pos = end + 1;
    }
    return keys;
}

std::vector<std::size_t> split_chunks(std::size_t n, std::size_t size) {
    std::vector<std::size_t> out;
    size = std::max<std::size_t>(size, 1);
    while (n > 0) {
        const std::size_t take = std::min(n, size);
        out.push_back(take);
        n -= take;
    }
    return out;
}

std::vector<std::size_t> split_chunks(const std::vector<std::int64_t>& line_bytes, std::size_t size,
                                      std::int64_t max_bytes) {
    std::vector<std::size_t> out;
    size = std::max<std::size_t>(size, 1);
    std::size_t count = 0;
    std::int64_t bytes = 0;
    for (const std::int64_t b : line_bytes) {
        if (count > 0 && (count == size || bytes + b > max_bytes)) {
            out.push_back(count);
            count = 0;
            bytes = 0;
        }
        ++count;
        bytes += b;
    }
    if (count > 0) {
        out.push_back(count);
    }
    return out;
}

int default_batch_size(const std::string& image_size) {
    if (image_size == "4K") {
        return 32;  // ~30 MB of base64 an image: ~1 GB a result file
    }
    if (image_size == "2K") {
        return 128;  // ~7 MB: ~0.9 GB
    }
    return 500;  // 1K (and the model default): ~1.9 MB: ~0.95 GB
}

ledger::Reservation reservation_of(const ledger::Entry& e) {
    ledger::Reservation r;
    r.id = e.id;
    r.user_id = e.user_id;
    r.job_id = e.job_id;
    r.model = e.model;
    r.mode = e.mode;
    r.batch = e.batch;
    r.shard = e.shard;
    r.tier = e.tier;
    r.requests = e.requests;
    r.amount = e.reserved;
    r.ts = e.ts;
    r.lease = e.lease;
    return r;
}

util::Result<std::map<int, LedgerChunk>> read_ledger_chunks(const ledger::LedgerLocation& ledger,
                                                            const std::string& job_id,
                                                            const std::string& shard) {
    ledger::ReservationBook book;
    std::map<std::string, std::set<std::string>> recorded;  // by reservation id
    TRY(ledger::read_ledger(
        ledger, {},
        [&](const ledger::Entry& e) {
            if (e.job_id == job_id) {
                book.add(e);
                if (!e.reservation.empty() && !ledger::is_reservation_line(e)) {
                    recorded[e.reservation].insert(
                        provider::batch_request_key(job_id, e.scene_id, e.variant));
                }
            }
        },
        nullptr));
    std::map<int, LedgerChunk> out;
    for (const auto& [id, state] : book.states()) {
        const auto n = batch_chunk_of(job_id, id, shard);
        if (!n || !state.reserved_seen) {
            continue;
        }
        LedgerChunk c;
        c.chunk = *n;
        c.reservation = reservation_of(state.reserve);
        c.settled = state.settled();
        c.settle_reason = c.settled ? state.settle.error_code : "";
        c.paid = state.paid;
        if (auto r = recorded.find(id); r != recorded.end()) {
            c.recorded = std::move(r->second);
        }
        out[*n] = std::move(c);
    }
    return out;
}

}  // namespace assetgen::schedule
