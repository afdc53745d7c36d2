#pragma once
// The CLI's text tables (`ledger show|sum`) are core's report::Table, which the canary report
// also renders: one implementation, named here for the CLI's files.

#include "report/table.hpp"

namespace assetgen::cli {

using report::Align;
using report::Column;
using report::Table;

}  // namespace assetgen::cli
