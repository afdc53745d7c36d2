// `assetgen seed`: writes the synthetic load batch (by default the reference 100-row plan).
#include <fstream>
#include <iostream>
#include <sstream>

#include <CLI/CLI.hpp>

#include "batch/reader.hpp"
#include "batch/seed.hpp"
#include "commands.hpp"
#include "flag_checks.hpp"
#include "util/atomic_file.hpp"

namespace assetgen::cli {
namespace {

struct SeedOptions {
    std::size_t rows = 100;
    std::size_t refs_every = 5;
    std::vector<std::string> refs;
    std::string format = "csv";
    std::uint64_t seed = 1;
    std::string output;
    bool json = false;
    bool quiet = false;
};

ExitCode run_seed(const SeedOptions& o, Console& console) {
    console.set_quiet(o.quiet);
    batch::SeedOptions so;
    so.rows = o.rows;
    so.refs_every = o.refs_every;
    so.ref_urls = o.refs;
    so.seed = o.seed;
    auto format = batch::parse_format(o.format);
    if (!format.ok()) {
        return console.fail(format.status());
    }
    so.format = *format;

    std::ostringstream buffer;
    std::ostream& out = o.output.empty() || o.output == "-" ? std::cout : buffer;
    auto stats = batch::write_seed(so, out);
    if (!stats.ok()) {
        return console.fail(stats.status());
    }
    if (&out == &buffer) {
        auto st = util::write_file_atomic(o.output, buffer.str());
        if (!st.ok()) {
            return console.fail(st);
        }
    }
    out.flush();
    std::ostringstream dist;
    dist << "seed: " << stats->rows << " rows, " << stats->images << " images; rows by variants:";
    for (size_t k = 1; k < stats->rows_by_variants.size(); ++k) {
        dist << " " << k << "→" << stats->rows_by_variants[k];
    }
    dist << "; " << stats->rows_with_refs << " rows with refs";
    // The distribution goes to stderr so that stdout stays a clean batch file.
    if (!o.quiet) {
        std::cerr << dist.str() << "\n";
    }
    return ExitCode::ok;
}

}  // namespace

void register_seed(CLI::App& app, Action& action) {
    auto o = std::make_shared<SeedOptions>();
    auto* sub = app.add_subcommand(
        "seed", "write a synthetic batch (default: the reference 100-row load plan)");
    sub->add_option("--rows", o->rows, "number of rows")
        ->capture_default_str()
        ->check(whole_number(1, 10'000'000));
    sub->add_option("--refs-every", o->refs_every, "every Nth row gets reference URLs (0: none)")
        ->capture_default_str()
        ->check(whole_number(0, 10'000'000));
    sub->add_option("--ref", o->refs, "a reference URL to use (repeatable; default: example URLs)");
    sub->add_option("--format", o->format, "csv, json or jsonl")
        ->capture_default_str()
        ->check(CLI::IsMember({"csv", "json", "jsonl"}));
    sub->add_option("--seed", o->seed, "varies the choice of reference URLs")
        ->capture_default_str()
        ->check(whole_number(0, 1'000'000'000'000));
    sub->add_option("-o,--output", o->output, "write to this file instead of stdout");
    sub->add_flag("--quiet", o->quiet, "do not print the distribution on stderr");
    sub->footer(
        "Examples:\n"
        "  assetgen seed > batch.csv                 # BATCH-001..BATCH-100, 199 images\n"
        "  assetgen seed --rows 100000 -o big.csv    # load test\n"
        "  assetgen seed --format json --ref https://example.com/a.png\n"
        "  assetgen seed | assetgen run - --json");
    sub->callback([o, &action] {
        action = [o](Console& c, const context::Context&) { return run_seed(*o, c); };
    });
}

}  // namespace assetgen::cli
