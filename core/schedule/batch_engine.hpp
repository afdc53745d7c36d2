#pragma once
// Private to core/schedule/batch_*.cpp: the batch tier's engine (batch_run.hpp), split across
// batch_run.cpp (chunks: open, stage, create, watch; the run) and batch_collect.cpp (results
// into images, manifest and ledger lines; settle lines).

#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "budget/usage_check.hpp"
#include "ledger/reservations.hpp"
#include "provider/gemini_batch_wire.hpp"
#include "schedule/batch_run.hpp"

namespace assetgen::schedule::batch_detail {

// The status of the ledger line of a billed batch result whose image was already stored by
// another run: charged, not stored (README "Batch tier").
inline constexpr std::string_view k_already_stored = "ALREADY_STORED";
// ... and of one whose row was taken out of the input while its batch ran: charged, not stored.
inline constexpr std::string_view k_row_removed = "ROW_REMOVED";
// ... and of one whose row was edited while its batch ran (its content key differs from the one
// recorded in the chunk's content file): charged, not stored; the row is sent again as edited.
inline constexpr std::string_view k_row_changed = "ROW_CHANGED";

using provider::BatchInfo;
using provider::BatchState;
using util::Micros;
using util::Status;

struct Request {
    std::size_t row = 0;
    int variant = 1;
};

// One chunk this process works on.
struct Chunk {
    int number = 0;
    ledger::Reservation reservation;
    std::vector<std::string> keys;
    Micros paid_before = 0;                 // paid lines an earlier process wrote
    std::set<std::string> recorded_before;  // the keys of those lines (LedgerChunk::recorded)
    std::set<std::string> removed;          // keys it sent whose rows are no longer in the input
    std::set<std::string> changed;          // keys it sent whose rows were edited since
    Micros paid = 0;                        // paid lines this process wrote
    std::optional<BatchInfo> info;
    std::string staged;  // the input this process staged ("" = none)
};

class Engine {
public:
    Engine(const BatchRunSettings& s, BatchRunDeps& d, const std::vector<BatchRow>& rows,
           const DoneIndex& done)
        : m_s(s), m_d(d), m_rows(rows), m_done(done) {}

    util::Result<BatchRunResult> run(const std::map<int, LedgerChunk>& ledger_chunks);

private:
    void say(const std::string& text) const {
        if (m_d.info) {
            m_d.info(text);
        }
    }
    std::string model_of(const batch::Row& row) const {
        return row.model.empty() ? m_s.model : row.model;
    }
    bool is_done(const Request& r) const {
        return m_done.count(done_key(m_rows[r.row].row.scene_id, r.variant)) > 0 ||
               m_written.count(done_key(m_rows[r.row].row.scene_id, r.variant)) > 0;
    }
    // The request without its reference images (enough for the money: the worst case counts
    // the refs as typed, at least as many as are sent).
    util::Result<provider::ImageRequest> make_request(const Request& r, Micros* worst,
                                                      Micros* estimate) const;
    // The request as it goes in the request file: with the row's refs (and global ones) inline,
    // and the ref_mode sentence after the prompt, as a synchronous request is made. A ref that
    // cannot be used fails with the fetcher's code (REF_FETCH_FAILED), naming the row.
    util::Result<provider::ImageRequest> make_full_request(const Request& r);
    Status open_chunk(std::vector<std::string> keys, int number);
    Status stage_and_create(Chunk& c);
    // Polls c until it ends (or once, or until a stop); true when it ended.
    util::Result<bool> watch(Chunk& c);
    Status collect(Chunk& c);
    Status fail_rest(Chunk& c, const std::string& code, const std::string& message);
    Status settle(Chunk& c, const std::string& reason);
    Status record_image(Chunk& c, const Request& r, provider::ImageResult&& image);
    Status record_failure(Chunk& c, const Request& r, const Status& why);
    // A result for a request already stored (by another run, or by a collect of this chunk
    // killed before its ledger line) that no line of this reservation charges: its ledger line,
    // at the batch price of its usage; the stored image is never overwritten.
    Status record_already_stored(Chunk& c, const Request& r,
                                 const util::Result<provider::ImageResult>& outcome);
    // A result for a key the chunk sent whose row is no longer in the input: charged with a
    // k_row_removed line (or its failure's code), nothing stored.
    // Also for a key in c.changed (k_row_changed).
    Status record_row_removed(Chunk& c, const std::string& key,
                              const util::Result<provider::ImageResult>& outcome);
    // The content key (content_key.hpp) of request r's row as the input reads now.
    std::string content_of(const Request& r) const;
    // Of chunk n's keys, those whose row is in the input but edited since the chunk was made:
    // its content file (written beside the keys file) records each request's content key. A
    // chunk without one (made by an older build) has none.
    util::Result<std::set<std::string>> changed_keys(int n, const std::vector<std::string>& keys);
    // The unbound ledger line of a result that makes no image: its tokens, its cost at the batch
    // price, and a failure's code. `worst`: the request's worst case, charged when its usage
    // cannot be a bill (budget::bill), and for an image whose tokens cannot be priced.
    ledger::Entry billed_line(const std::string& scene_id, int variant, const std::string& prompt,
                              const std::string& model,
                              const util::Result<provider::ImageResult>& outcome, Micros worst);
    // The ledger line's cost and tokens from a result's usage (budget::bill at the batch tier);
    // usage that cannot be a bill is charged `worst`, named on the line, an event and one
    // message.
    budget::Bill set_billed(ledger::Entry& e, const std::string& model, const util::TokenUsage& u,
                            Micros worst);
    // e bound to c's reservation and appended; its cost counted as the chunk's and the run's.
    Status charge(Chunk& c, ledger::Entry& e);
    void note_failure(const Request& r, const std::string& code, const std::string& message);
    BatchChunkView view_of(const Chunk& c) const;

    const BatchRunSettings& m_s;
    BatchRunDeps& m_d;
    const std::vector<BatchRow>& m_rows;
    const DoneIndex& m_done;
    std::unordered_map<std::string, Request> m_by_key;
    std::unordered_set<std::string> m_written;  // done_keys stored by this process
    std::set<std::size_t> m_failed_rows;
    std::map<std::size_t, Status> m_refs_failed;  // rows whose refs could not be used
    std::vector<Chunk> m_chunks;
    Micros m_held = 0;          // in the in-run budget until the chunk's reserve line is written
    bool m_usage_said = false;  // usage that cannot be a bill was said (once per run)
    BatchRunResult m_out;
};

}  // namespace assetgen::schedule::batch_detail
