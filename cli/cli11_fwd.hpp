#pragma once
// CLI11's two classes that the cli headers name, declared without CLI11 itself: <CLI/CLI.hpp> is
// header-only and costs seconds per file that includes it (its validators are built in each),
// so only the files that define options (register_*, flag_checks.cpp, support.cpp, main.cpp)
// include it.

namespace CLI {
class App;
class Validator;
}  // namespace CLI
