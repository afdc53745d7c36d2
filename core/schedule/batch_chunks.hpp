#pragma once
// The chunks of a batch-tier job (`run --tier batch`, issue 17): how a job's requests are cut
// into batches, what each chunk is called, and what is recorded about it before its batch is
// created, so that a run killed at any moment and started again never makes a second batch for
// the same requests.
//
// A chunk N of job J is
//   - the batch display name "assetgen-J-cN" (N from 1), deterministic;
//   - the reservation "J/batch/cN" in the ledger (ledger/reservations.hpp): its reserve line,
//     flushed, before the batch is created; its settle line once its results are in;
//   - the keys file <records>/batch/cN.keys (one "<job>/<scene_id>/<variant>" a line), written
//     durably through Storage before the reserve line, so a re-run knows which requests the
//     chunk holds without asking the service.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "ledger/ledger_folder.hpp"
#include "ledger/reservations.hpp"
#include "storage/storage.hpp"
#include "util/status.hpp"

namespace assetgen::schedule {

// A shard's chunks (shard "I/N", --shard) are its own: their names and ids end in "-sIofN" and
// "/sIofN", so N shards of one job never find, create or settle each other's batches (the
// shard's keys files are in its own records folder already). A display name stays of
// [A-Za-z0-9._-] (Vertex AI's rule), and cannot be another job's: an unsharded name ends in
// "-c<digits>", a shard's in "of<digits>". shard "" (unsharded): the names below.
//
// "assetgen-<job>-c<N>", or "assetgen-<job>-c<N>-s<I>of<N>" for shard "I/N".
std::string batch_chunk_display_name(const std::string& job_id, int chunk,
                                     const std::string& shard = {});
// "<job>/batch/c<N>", or "<job>/batch/c<N>/s<I>of<N>" for shard "I/N".
std::string batch_chunk_reservation_id(const std::string& job_id, int chunk,
                                       const std::string& shard = {});
// The chunk number of a reservation id of this job and shard; std::nullopt for another id
// (another job's, another shard's, the unsharded run's when shard is given, and back).
std::optional<int> batch_chunk_of(const std::string& job_id, const std::string& reservation_id,
                                  const std::string& shard = {});
// "<records>/batch/c<N>.keys".
std::string batch_chunk_keys_location(const std::string& records, int chunk);
// "<records>/batch/c<N>.content": the content key (content_key.hpp) of each request, in the keys
// file's order (written with write_chunk_keys after it, before the reserve line).
std::string batch_chunk_content_location(const std::string& records, int chunk);

// Writes the keys file (durable when it returns).
util::Status write_chunk_keys(storage::Storage& storage, const std::string& location,
                              const std::vector<std::string>& keys);
// Reads it back; STORAGE_IO naming the file when it is missing or unreadable.
util::Result<std::vector<std::string>> read_chunk_keys(storage::Storage& storage,
                                                       const std::string& location);

// Splits n requests into chunks of at most size (size ≥ 1): the counts, in order.
std::vector<std::size_t> split_chunks(std::size_t n, std::size_t size);
// The same by bytes as well: line_bytes[i] is request i's line in the request file; a chunk
// holds at most size requests and at most max_bytes of lines (a line larger than max_bytes
// alone goes in a chunk of its own, which the request file's writer then refuses, naming it).
std::vector<std::size_t> split_chunks(const std::vector<std::int64_t>& line_bytes, std::size_t size,
                                      std::int64_t max_bytes);

// What a chunk's request file may hold: the Batch API's input file limit (2 GB,
// provider::k_batch_input_file_max_bytes) less 5%, for what a service adds to a line.
inline constexpr std::int64_t k_batch_chunk_max_bytes = (std::int64_t{2} << 30) / 20 * 19;

// The default --batch-size for an image size: requests per chunk such that a result file stays
// near 1 GB (an image's base64 is ~1.9 MB at 1K, ~7 MB at 2K, ~30 MB at 4K).
int default_batch_size(const std::string& image_size);

// One chunk of the job as the ledger tells it.
struct LedgerChunk {
    int chunk = 0;
    ledger::Reservation reservation;  // rebuilt from its reserve line
    bool settled = false;
    std::string settle_reason;  // "" (ran to its end) or BATCH_CANCELLED, BATCH_EXPIRED, ...
    util::Micros paid = 0;      // the cost of its paid lines read
    // The request keys ("<job>/<scene_id>/<variant>") its paid lines were written for, images
    // and failures alike: a collect taken up again must not record (and charge) them twice.
    std::set<std::string> recorded;
};
// The reservation of a reserve line.
ledger::Reservation reservation_of(const ledger::Entry& reserve);
// The job's chunks in the ledger, by chunk number: its reservations (of shard, "" = the
// unsharded run's) whose reserve line was read. Reads every day file (a batch may be collected
// days after it was reserved).
util::Result<std::map<int, LedgerChunk>> read_ledger_chunks(const ledger::LedgerLocation& ledger,
                                                            const std::string& job_id,
                                                            const std::string& shard = {});

}  // namespace assetgen::schedule
