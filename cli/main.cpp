// assetgen: sheet rows in, images, manifests and a cost ledger out. This file holds the
// subcommand table and the one try/catch; each subcommand lives in its own file.
#include <malloc.h>

#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "context.hpp"
#include "support.hpp"

namespace {

struct Subcommand {
    const char* name;
    void (*add)(CLI::App&, assetgen::cli::Action&);
};

constexpr Subcommand k_subcommands[] = {
    {"seed", assetgen::cli::register_seed},       {"run", assetgen::cli::register_run},
    {"canary", assetgen::cli::register_canary},   {"ledger", assetgen::cli::register_ledger},
    {"refresh", assetgen::cli::register_refresh}, {"models", assetgen::cli::register_models},
};

// Buffers of 1 MiB and more (a live answer's ~2 MB body, which then holds its image:
// parse_gemini_response_in_place) are mmapped and go back to the system when freed. glibc's
// default raises its mmap threshold to the size of the first such buffer freed; later ones then
// come from the arenas of up to 64 worker threads, which keep freed memory resident, each
// arena to its own high-water mark. Peak RSS at concurrency 64 with 1.5 MB images, 1,000
// images: 163-167 MiB with glibc's default, 116-124 MiB with this (README, Benchmarks, "Peak
// memory (session 10)"), CPU per image unchanged. Setting it also turns the adjustment off.
void tune_malloc() {
    mallopt(M_MMAP_THRESHOLD, 1 << 20);
}

}  // namespace

int main(int argc, char** argv) {
    using namespace assetgen::cli;
    tune_malloc();
    Console console;
    try {
        CLI::App app{
            "assetgen turns rows of a Google Sheet (CSV or JSON export) into images with Gemini "
            "image models, within a daily budget, with a manifest and an append-only cost ledger.\n"
            "Every option can also be set as ASSETGEN_<OPTION> in the environment or in "
            "assetgen.toml (--config FILE); a flag beats the environment, which beats the file.",
            "assetgen"};
        app.set_version_flag("--version", std::string("assetgen ") + ASSETGEN_VERSION);
        app.require_subcommand(1, 1);
        app.add_option("--config",
                       "read options from this TOML file (default: ./assetgen.toml when present)")
            ->check(CLI::ExistingFile);
        app.footer(
            "Examples:\n"
            "  assetgen seed > batch.csv\n"
            "  assetgen run batch.csv                      # dry run: synthetic images, no money\n"
            "  assetgen run batch.csv --mode live --out gs://bucket/assets\n"
            "Exit codes: 0 ok, 1 some rows failed, 2 usage, 3 budget, 65 invalid input, 66 input "
            "not\n"
            "found, 69 upstream unavailable, 74 storage I/O, 77 auth, 78 configuration, 130/143 "
            "interrupted.");
        Action action;
        for (const auto& s : k_subcommands) {
            s.add(app, action);
        }
        name_environment(app);
        check_text_everywhere(app);

        if (auto env = check_environment_text(); !env.ok()) {
            return static_cast<int>(console.fail(env));
        }
        std::vector<std::string> args(argv, argv + argc);
        Origins origins;
        auto rewritten = apply_environment_and_config(app, args, origins);
        if (!rewritten.ok()) {
            return static_cast<int>(console.fail(rewritten.status()));
        }
        console.set_origins(origins);
        if (auto text = check_args_text(*rewritten); !text.ok()) {
            return static_cast<int>(console.fail(text));
        }
        std::vector<std::string> reversed(rewritten->rbegin(), rewritten->rend());
        reversed.pop_back();  // the program name
        try {
            app.parse(reversed);
        } catch (const CLI::ParseError& e) {
            if (e.get_exit_code() != 0) {
                // In our words (not CLI11's "Could not convert", "Run with --help"), and a
                // value from the environment or the config file is named by its origin.
                auto placed = place_usage_message(usage_message(e, app), origins);
                console.error(placed.message);
                return placed.exit_code;
            }
            int rc = app.exit(e);
            return rc == 0 ? 0 : static_cast<int>(ExitCode::usage);
        }
        if (!action) {
            return static_cast<int>(ExitCode::usage);
        }
        const ProcessContext context;
        return static_cast<int>(action(console, context.get()));
    } catch (const std::exception& e) {
        console.error(std::string("internal error: ") + e.what() +
                      " (this is a bug in assetgen; please report it with the command you ran)");
        return static_cast<int>(ExitCode::internal);
    }
}
