// libFuzzer target: the config file reader (`--config FILE`, ./assetgen.toml; a TOML subset,
// cli/support.cpp, compiled into this target). The input is the file; a small app with a `run`
// subcommand of string, list and flag options stands in for assetgen's. Checks: no exception, no
// UB, errors are CONFIG_ERROR naming the file (not checked as
// UTF-8: they go to stderr only), every argument added is an `--option[=value]`
// placed right after the subcommand, and the result parses with CLI11 (only CLI::ParseError may
// come out of that, as in cli/main.cpp).
#include <algorithm>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "fuzz_support.hpp"
#include "support.hpp"

using namespace assetgen;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::MemFile file(data, size);

    CLI::App app("fuzz");
    std::string config;
    app.add_option("--config", config);
    auto* run = app.add_subcommand("run");
    std::string out;
    std::string model;
    std::vector<std::string> tags;
    bool dry_run = false;
    run->add_option("--out", out);
    run->add_option("--model", model);
    run->add_option("--tag", tags);
    run->add_flag("--dry-run", dry_run);
    std::string since;
    app.add_subcommand("ledger")->add_option("--since", since);
    cli::name_environment(app);

    const std::vector<std::string> args = {"assetgen", "--config", file.path(), "run"};
    cli::Origins origins;
    auto result = cli::apply_environment_and_config(app, args, origins);
    if (!result.ok()) {
        FUZZ_CHECK(result.status().code() == util::Code::config, result.status().message());
        // Not checked as UTF-8: config errors go to stderr only (the key or value is quoted as
        // the file has it).
        FUZZ_CHECK(result.status().message().rfind(file.path(), 0) == 0, result.status().message());
        return 0;
    }
    const auto& argv = *result;
    FUZZ_CHECK(argv.size() >= args.size(), "");
    for (std::size_t i = 0; i < args.size(); ++i) {
        FUZZ_CHECK(argv[i] == args[i], argv[i]);
    }
    for (std::size_t i = args.size(); i < argv.size(); ++i) {
        FUZZ_CHECK(argv[i].rfind("--", 0) == 0, argv[i]);
    }
    std::vector<std::string> reversed(argv.rbegin(), argv.rend() - 1);
    try {
        app.parse(reversed);
    } catch (const CLI::ParseError&) {
    }
    return 0;
}
