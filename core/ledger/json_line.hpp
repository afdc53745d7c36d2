#pragma once
// Flat one-line JSON objects as the ledger and the manifest write them: fields in a fixed
// order, money as a dollar number written from integer micro-dollars (0.039, never
// 0.039000000000000007), and a reader that keeps each number's text so money comes back to
// exact micro-dollars without a trip through double.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <variant>

#include "util/money.hpp"
#include "util/status.hpp"
#include "util/text.hpp"

namespace assetgen::ledger {

// Dollars with up to six decimals and no trailing zeros: 39000 → "0.039", 1000000 → "1".
std::string format_dollars(util::Micros micros);
// Parses a JSON number's text as dollars; digits past the sixth decimal round up (so a float's
// noise such as "0.039000000000000007" reads as 39001: never less than written). INVALID_INPUT
// when it is not a number, is negative or is out of range (more than a trillion dollars).
util::Result<util::Micros> parse_dollars(std::string_view text);

// Builds one JSON object line; each add_* appends one field in call order.
class JsonLineWriter {
public:
    JsonLineWriter& add_string(std::string_view key, std::string_view value);
    JsonLineWriter& add_int(std::string_view key, std::int64_t value);
    JsonLineWriter& add_money(std::string_view key, util::Micros value);
    // The object followed by '\n'.
    std::string finish();

private:
    void add_key(std::string_view key);
    std::string m_out = "{";
    bool m_first = true;
};

// The top-level fields of one JSON object line, each a scalar (nested values are kept as a
// marker, so a reader can say "expected a string").
class JsonLineFields {
public:
    // Parses a line that must be one JSON object. INVALID_INPUT "bad JSON: ..." on syntax
    // errors, a value that is not an object, or a field given twice.
    static util::Result<JsonLineFields> parse(std::string_view line);

    // True when the object has the field (whatever its value).
    bool has(const std::string& key) const { return m_fields.count(key) != 0; }
    // Each getter: INVALID_INPUT "<key>: missing" or "<key>: expected ..." naming the field.
    util::Result<std::string> get_string(const std::string& key) const;
    // get_int/get_int32 take integers only (1.0 is refused); get_money reads dollars exactly.
    util::Result<std::int64_t> get_int(const std::string& key) const;
    util::Result<int> get_int32(const std::string& key) const;
    util::Result<util::Micros> get_money(const std::string& key) const;
    // The field's number as written ("0.039"); INVALID_INPUT when missing or not a number.
    util::Result<std::string> get_money_text(const std::string& key) const;
    // The field read as money without refusing anything (util::read_money: a negative, too
    // precise, absurd or non-numeric value is flagged and read as its worst case).
    // INVALID_INPUT only when the field is missing.
    util::Result<util::MoneyReading> get_money_reading(const std::string& key) const;

    // A field's value; Float keeps the number's text as written.
    struct Null {};
    struct Nested {};
    struct Float {
        std::string text;
    };
    using Value = std::variant<Null, bool, std::int64_t, std::uint64_t, Float, std::string, Nested>;

private:
    friend class JsonLineSax;
    std::map<std::string, Value> m_fields;
};

}  // namespace assetgen::ledger
