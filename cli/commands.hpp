#pragma once
// The subcommand table: each subcommand registers its options on the app and, when chosen,
// leaves in `action` the function that runs it.

#include <functional>

#include "cli11_fwd.hpp"
#include "support.hpp"

namespace assetgen::context {
struct Context;
}

namespace assetgen::cli {

// Runs the chosen subcommand in the process's Context (cli/context.hpp), built once by main.
using Action = std::function<ExitCode(Console&, const context::Context&)>;

void register_seed(CLI::App& app, Action& action);
void register_run(CLI::App& app, Action& action);
void register_canary(CLI::App& app, Action& action);
void register_ledger(CLI::App& app, Action& action);
void register_refresh(CLI::App& app, Action& action);
void register_models(CLI::App& app, Action& action);

}  // namespace assetgen::cli
