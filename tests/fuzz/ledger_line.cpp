// libFuzzer target: the ledger line reader (core/ledger/entry, json_line), as `ledger show`,
// the budget and audit read day files. Checks: no exception, no UB, an entry that parses writes
// back (to_line) to a line that parses to the same entry, money read as dollars writes back to
// the same micro-dollars.
#include <string>
#include <string_view>

#include "fuzz_support.hpp"
#include "ledger/entry.hpp"
#include "ledger/json_line.hpp"

using namespace assetgen;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view line(reinterpret_cast<const char*>(data), size);

    if (auto entry = ledger::parse_line(line); entry.ok()) {
        const std::string written = ledger::to_line(*entry);
        FUZZ_CHECK(!written.empty() && written.back() == '\n', written);
        auto again = ledger::parse_line(std::string_view(written).substr(0, written.size() - 1));
        FUZZ_CHECK(again.ok(), again.status().message() + "\n" + written);
        // A cost that cannot be trusted (negative, over six decimals, ...) reads as its worst
        // case with cost_problem set; written back, that worst case is a plain amount.
        auto want = *entry;
        want.cost_problem.clear();
        FUZZ_CHECK(*again == want, written);
        fuzz::check_dumps(written);
    } else {
        fuzz::check_dumps(entry.status().message());
    }

    if (auto fields = ledger::JsonLineFields::parse(line); fields.ok()) {
        for (const char* key : {"cost", "estimated", "ts", "images", "id", "v"}) {
            (void)fields->get_string(key);
            (void)fields->get_int(key);
            (void)fields->get_int32(key);
            (void)fields->get_money(key);
        }
    }

    if (auto micros = ledger::parse_dollars(line); micros.ok()) {
        const std::string text = ledger::format_dollars(*micros);
        auto back = ledger::parse_dollars(text);
        FUZZ_CHECK(back.ok() && *back == *micros, text);
    }
    return 0;
}
