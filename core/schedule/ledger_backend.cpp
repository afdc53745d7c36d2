// How this works: LedgerBackend::open looks at the location once and makes a LocalBackend or a
// GcsBackend. The base class does what both share (the reconciliation after the writer opens);
// each side fills in its writer, its pre-flight read and its budget. The messages are the ones
// JobSession printed before the backend existed.
#include "schedule/ledger_backend.hpp"

#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "budget/gcs_lease_budget.hpp"
#include "budget/gcs_spend.hpp"
#include "budget/ledger_budget.hpp"
#include "ledger/gcs_ledger_store.hpp"
#include "ledger/gcs_ledger_writer.hpp"
#include "ledger/ledger_spool.hpp"
#include "schedule/job.hpp"
#include "schedule/storage_error.hpp"
#include "storage/gcs_url.hpp"
#include "storage/gcs_wire.hpp"
#include "util/text.hpp"

namespace assetgen::schedule {

namespace {

// The manifest path as an absolute, normal path (as given when that fails): the budget's place.
std::string absolute_place(const std::string& manifest) {
    std::error_code ec;
    const auto place = std::filesystem::absolute(manifest, ec);
    return ec ? manifest : place.lexically_normal().string();
}

// A folder: day files, the folder's shared budget journal.
class LocalBackend final : public LedgerBackend {
public:
    LocalBackend(LedgerBackendOptions options, util::Clock& clock)
        : LedgerBackend(std::move(options), clock) {}

    util::Result<PreflightSpend> spent_today() override {
        const budget::SpendQuery q{m_options.user, m_options.mode, m_options.tz, m_clock.unix_ms()};
        PreflightSpend out;
        TRY_ASSIGN(out.spend, budget::spent_today(m_options.location, q));
        return out;
    }

    util::Status open_budget(const BudgetOpening& opening) override {
        budget::LedgerBudgetOptions bo{m_options.location, m_options.user, m_options.mode,
                                       m_options.tz, opening.limit};
        // The place whose dead runs' holdings this run may release: open_writer() has restored
        // their unrecorded ledger lines (reconcile_ledger) before the budget opens.
        bo.place = absolute_place(opening.manifest);
        for (const auto& more : opening.more_manifests) {
            bo.more_places.push_back(absolute_place(more));
        }
        auto b = budget::LedgerBudget::open(bo, m_clock);
        TRY(as_storage_error(b.status(), "ledger " + m_options.location));
        m_budget = std::move(b).value();
        return util::ok_status();
    }

    ledger::LedgerLocation read_location() override { return m_options.location; }

    util::Status flush_last() override {
        return as_storage_error(m_writer->flush(),
                                "ledger " + m_options.location +
                                    " (the ledger lines wait in the spool; the next run pushes "
                                    "them)");
    }

    bool spools() const override { return false; }

protected:
    util::Result<std::unique_ptr<ledger::LedgerWriter>> make_writer() override {
        return std::unique_ptr<ledger::LedgerWriter>(
            std::make_unique<ledger::LocalLedgerWriter>(m_options.location));
    }
    util::Result<std::unordered_set<std::string>> spooled_ids() override {
        return std::unordered_set<std::string>{};
    }
};

std::string host_name() {
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0) {
        return "?";
    }
    return buf;
}

// gs://bucket[/prefix]: day objects, a spool pushed in the background, leases in the bucket.
class GcsBackend final : public LedgerBackend {
public:
    GcsBackend(LedgerBackendOptions options, util::Clock& clock,
               std::unique_ptr<ledger::GcsLedgerStore> store)
        : LedgerBackend(std::move(options), clock),
          m_store(std::move(store)),
          m_spool(m_store->spool_dir_for(m_options.spool_dir)) {}
    // The budget and the writer use the store: they go first (the base's members would
    // otherwise outlive this class's).
    ~GcsBackend() override {
        m_budget.reset();
        m_writer.reset();
    }

    util::Result<PreflightSpend> spent_today() override {
        const auto& o = m_options;
        const budget::SpendQuery q{o.user, o.mode, o.tz, m_clock.unix_ms()};
        PreflightSpend out;
        auto spent = budget::spent_today_gcs(*m_store, m_spool, q, m_clock);
        TRY(as_storage_error(spent.status(), "ledger " + o.location));
        out.spend = std::move(spent).value();
        auto leased = budget::held_by_leases_now(
            *m_store, m_spool, budget::SpendScope{o.user, o.mode, o.tz, out.spend.day}, m_clock,
            o.lease_ttl);
        TRY(as_storage_error(leased.status(), "ledger " + o.location));
        out.held = *leased;
        return out;
    }

    util::Status open_budget(const BudgetOpening& opening) override {
        const auto& o = m_options;
        budget::LeaseBudgetOptions lo;
        lo.user = o.user;
        lo.mode = o.mode;
        lo.tz = o.tz;
        lo.limit = opening.limit;
        lo.store = m_store.get();
        lo.spool_dir = m_spool;
        lo.ttl = o.lease_ttl;
        lo.lease_images = std::max(1, opening.lease_images);
        lo.holder = opening.holder + ", pid " + std::to_string(::getpid()) + " on " + host_name();
        ledger::LedgerWriter& ledger = *m_writer;
        lo.flush_ledger = [&ledger] { return ledger.flush(); };
        // Dead leases of this place (spool folder + job place) hold their room until a run that
        // can push their spool and has written back their missing lines (open_writer() did both
        // when the writer recovered every dead spool) releases them.
        auto spool_id = ledger::spool_folder_id(m_spool);
        TRY(as_storage_error(spool_id.status(), "ledger " + o.location));
        lo.place = *spool_id + ":" + absolute_place(opening.manifest);
        for (const auto& more : opening.more_manifests) {
            lo.more_places.push_back(*spool_id + ":" + absolute_place(more));
        }
        lo.release_dead = m_gcs_writer != nullptr && m_gcs_writer->recovery().problems.empty();
        lo.log = o.info;
        auto b = budget::GcsLeaseBudget::open(lo, m_clock);
        TRY(as_storage_error(b.status(), "ledger " + o.location));
        say_info("budget: shared through leases in " + (*b)->document().to_string() +
                 " (slices of " + std::to_string(lo.lease_images) +
                 " requests' worst case, renewed every " + util::format_duration(lo.ttl / 4) + ")");
        m_budget = std::move(b).value();
        return util::ok_status();
    }

    ledger::LedgerLocation read_location() override {
        ledger::LedgerLocation where = m_options.location;
        where.gcs = &m_store->client();
        return where;
    }

    util::Status flush_last() override {
        return as_storage_error(m_gcs_writer->flush_skipping_present(),
                                "ledger " + m_options.location +
                                    " (the ledger lines wait in the spool; the next run pushes "
                                    "them)");
    }

    bool spools() const override { return true; }

protected:
    util::Result<std::unique_ptr<ledger::LedgerWriter>> make_writer() override {
        ledger::GcsLedgerWriterOptions wo;
        wo.spool_dir = m_spool;
        wo.log = m_options.warn;
        auto opened = ledger::GcsLedgerWriter::open(*m_store, m_clock, wo);
        TRY(as_storage_error(opened.status(), "ledger " + m_options.location));
        auto writer = std::move(opened).value();
        const auto& recovered = writer->recovery();
        if (recovered.lines_pushed > 0 || recovered.lines_already_there > 0) {
            say_info("ledger: recovered " + std::to_string(recovered.lines_pushed) +
                     " line(s) that an interrupted run had spooled (" +
                     std::to_string(recovered.lines_already_there) + " were already in " +
                     m_options.location + ")");
        }
        m_gcs_writer = writer.get();
        return std::unique_ptr<ledger::LedgerWriter>(std::move(writer));
    }

    util::Result<std::unordered_set<std::string>> spooled_ids() override {
        return spooled_ledger_ids(m_spool);
    }

private:
    std::unique_ptr<ledger::GcsLedgerStore> m_store;
    std::string m_spool;                              // this ledger's spool folder
    ledger::GcsLedgerWriter* m_gcs_writer = nullptr;  // m_writer, once open
};

}  // namespace

LedgerBackend::LedgerBackend(LedgerBackendOptions options, util::Clock& clock)
    : m_options(std::move(options)), m_clock(clock) {}

LedgerBackend::~LedgerBackend() = default;

void LedgerBackend::say_info(const std::string& line) const {
    if (m_options.info) {
        m_options.info(line);
    }
}

util::Result<std::unique_ptr<LedgerBackend>> LedgerBackend::open(LedgerBackendOptions options,
                                                                 storage::AnyStorage& storage,
                                                                 util::Clock& clock) {
    if (!storage::is_gcs(options.location)) {
        return std::unique_ptr<LedgerBackend>(
            std::make_unique<LocalBackend>(std::move(options), clock));
    }
    TRY_ASSIGN(storage::GcsStorage * gcs, storage.gcs());
    (void)gcs;
    storage::StorageContext context;
    context.transport = storage.transport();
    context.tokens = storage.tokens();
    context.clock = &clock;
    context.gcs.endpoint = storage.options().endpoint;
    TRY_ASSIGN(auto store, ledger::GcsLedgerStore::open(options.location, context));
    return std::unique_ptr<LedgerBackend>(
        std::make_unique<GcsBackend>(std::move(options), clock, std::move(store)));
}

util::Result<std::size_t> LedgerBackend::open_writer(
    const std::string& manifest_path, const std::vector<std::string>& more_manifests) {
    if (m_writer) {
        return util::error(util::Code::internal, "LedgerBackend::open_writer called twice");
    }
    TRY_ASSIGN(m_writer, make_writer());
    // Lines this machine spooled but could not push yet are written: never spooled twice.
    TRY_ASSIGN(const auto spooled, spooled_ids());
    std::vector<std::string> manifests{manifest_path};
    manifests.insert(manifests.end(), more_manifests.begin(), more_manifests.end());
    auto reconciled =
        reconcile_ledger(manifests, read_location(), *m_writer, m_clock.unix_ms(), spooled);
    TRY(as_storage_error(reconciled.status(), "ledger " + m_options.location));
    return *reconciled;
}

}  // namespace assetgen::schedule
