#pragma once
// What the gs:// ledger tests share: the loopback GCS fake, a store on it, a spool folder, and
// ways to look at the day objects without going through the code under test (the fake's dump).

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/ledger/sample_entries.hpp"
#include "core/storage/gcs_fake_process.hpp"
#include "ledger/gcs_ledger_store.hpp"
#include "ledger/gcs_ledger_writer.hpp"
#include "net/curl_transport.hpp"
#include "storage/gcs_wire.hpp"
#include "support/fake_clock.hpp"
#include "support/temp_dir.hpp"

namespace assetgen::test {

inline const std::string k_ledger_bucket = "assetgen-ledger-it";

struct GcsLedgerFixture {
    explicit GcsLedgerFixture(std::vector<std::string> flags = {}) : fake(std::move(flags)) {
        store = make_store(client_options());
    }

    storage::GcsClientOptions client_options() const {
        storage::GcsClientOptions o;
        o.endpoint = storage::resolve_gcs_endpoint(
            auth::Env::from_map({{"STORAGE_EMULATOR_HOST", fake.host()}}));
        o.timeout = std::chrono::seconds(20);
        return o;
    }
    std::unique_ptr<ledger::GcsLedgerStore> make_store(storage::GcsClientOptions o) {
        return std::make_unique<ledger::GcsLedgerStore>(transport, nullptr, clock, std::move(o),
                                                        storage::GcsUrl{k_ledger_bucket, "ledger"});
    }
    std::string location() const { return "gs://" + k_ledger_bucket + "/ledger"; }

    // Pushes only on flush(), removes committed spools at once, recovers at open.
    ledger::GcsLedgerWriterOptions writer_options(const std::string& spool = "spool") const {
        ledger::GcsLedgerWriterOptions o;
        o.spool_dir = dir.file(spool);
        o.flush_interval = std::chrono::milliseconds(0);
        o.spool_retention = std::chrono::milliseconds(0);
        return o;
    }

    // The fake's objects whose names start with prefix (below the ledger's prefix).
    nlohmann::json objects(const std::string& prefix = "") {
        std::string encoded;
        for (char c : "ledger/" + prefix) {
            encoded += c == '/' ? std::string("%2F") : std::string(1, c);
        }
        return fake.dump(transport, k_ledger_bucket, encoded)["objects"];
    }
    // The text of a day object, "" when there is none.
    std::string day_text(const std::string& day) {
        for (const auto& o : objects(day + ".jsonl")) {
            return o.value("text", "");
        }
        return "";
    }
    // The fake's request log entries of one op ("compose", "rewrite", ...).
    std::vector<nlohmann::json> requests(const std::string& op) {
        std::vector<nlohmann::json> out;
        for (const auto& e : fake.log(transport)) {
            if (e["op"] == op) {
                out.push_back(e);
            }
        }
        return out;
    }
    bool set_faults(const nlohmann::json& rules) { return fake.set_faults(transport, rules); }

    gcs::FakeGcsProcess fake;
    net::CurlTransport transport;
    FakeClock clock{k_noon_ms};
    TempDir dir;
    std::unique_ptr<ledger::GcsLedgerStore> store;
};

// How many times each id occurs in text's lines (lines that are not entries count under "").
inline std::map<std::string, int> id_counts(const std::string& text) {
    std::map<std::string, int> out;
    std::size_t start = 0;
    for (std::size_t nl = text.find('\n'); nl != std::string::npos; nl = text.find('\n', start)) {
        auto e = ledger::parse_line(std::string_view(text).substr(start, nl - start));
        ++out[e.ok() ? e->id : std::string()];
        start = nl + 1;
    }
    return out;
}

}  // namespace assetgen::test
