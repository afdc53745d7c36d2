#include "ledger/json_line.hpp"

// How this works: writing is by hand so that field order is fixed and money goes from integer
// micro-dollars straight to decimal text. Reading uses nlohmann's SAX parser rather than its
// DOM, because the SAX float callback hands over the number's original text: parse_dollars
// then scales that decimal text by 10^6 digit by digit, so no dollar amount ever passes
// through a double.

#include <limits>
#include <nlohmann/json.hpp>

#include "util/money.hpp"
#include "util/utf8.hpp"

namespace assetgen::ledger {
namespace {

using util::Code;
using util::Micros;

using util::k_micros_per_dollar;

util::Status bad_field(const std::string& key, const std::string& what) {
    return util::error(Code::invalid_input, key + ": " + what);
}

const char* type_name(const JsonLineFields::Value& v) {
    switch (v.index()) {
        case 0:
            return "null";
        case 1:
            return "a boolean";
        case 2:
        case 3:
        case 4:
            return "a number";
        case 5:
            return "a string";
        default:
            return "an object or array";
    }
}

}  // namespace

std::string format_dollars(Micros micros) {
    const bool negative = micros < 0;
    const auto magnitude =
        negative ? 0 - static_cast<std::uint64_t>(micros) : static_cast<std::uint64_t>(micros);
    std::string out = negative ? "-" : "";
    out += std::to_string(magnitude / k_micros_per_dollar);
    std::uint64_t frac = magnitude % k_micros_per_dollar;
    if (frac != 0) {
        std::string digits = std::to_string(frac);
        digits.insert(0, 6 - digits.size(), '0');
        while (digits.back() == '0') {
            digits.pop_back();
        }
        out += "." + digits;
    }
    return out;
}

util::Result<Micros> parse_dollars(std::string_view text) {
    const util::MoneyReading r = util::read_money(text, true);
    if (r.not_a_number || r.out_of_range || r.negative) {
        return util::error(Code::invalid_input, "\"" + std::string(text) + "\" " + r.problem());
    }
    return r.micros;
}

JsonLineWriter& JsonLineWriter::add_string(std::string_view key, std::string_view value) {
    add_key(key);
    // Invalid UTF-8 becomes U+FFFD instead of an exception: a ledger line is always written.
    m_out += nlohmann::json(std::string(value))
                 .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return *this;
}

JsonLineWriter& JsonLineWriter::add_int(std::string_view key, std::int64_t value) {
    add_key(key);
    m_out += std::to_string(value);
    return *this;
}

JsonLineWriter& JsonLineWriter::add_money(std::string_view key, Micros value) {
    add_key(key);
    m_out += format_dollars(value);
    return *this;
}

std::string JsonLineWriter::finish() {
    std::string out = std::move(m_out);
    out += "}\n";
    m_out = "{";
    m_first = true;
    return out;
}

void JsonLineWriter::add_key(std::string_view key) {
    if (!m_first) {
        m_out += ',';
    }
    m_first = false;
    m_out += '"';
    m_out += key;  // keys are our own ASCII names
    m_out += "\":";
}

// Collects the top-level scalars of one object; anything deeper is skipped.
class JsonLineSax final : public nlohmann::json_sax<nlohmann::json> {
public:
    explicit JsonLineSax(JsonLineFields& out) : m_out(out) {}

    bool null() override { return put(JsonLineFields::Null{}); }
    bool boolean(bool v) override { return put(v); }
    bool number_integer(number_integer_t v) override { return put(std::int64_t{v}); }
    bool number_unsigned(number_unsigned_t v) override { return put(std::uint64_t{v}); }
    bool number_float(number_float_t, const string_t& s) override {
        return put(JsonLineFields::Float{s});
    }
    bool string(string_t& v) override { return put(std::move(v)); }
    bool binary(binary_t&) override { return put(JsonLineFields::Nested{}); }
    bool start_object(std::size_t) override { return open(); }
    bool start_array(std::size_t) override {
        if (m_depth == 0) {
            return fail("bad JSON: the line is not an object");
        }
        return open();
    }
    bool end_object() override {
        --m_depth;
        return true;
    }
    bool end_array() override {
        --m_depth;
        return true;
    }
    bool key(string_t& k) override {
        if (m_depth == 1) {
            if (m_out.m_fields.count(k) != 0) {
                return fail(k + ": given twice");
            }
            m_key = std::move(k);
        }
        return true;
    }
    bool parse_error(std::size_t, const std::string&,
                     const nlohmann::detail::exception& ex) override {
        std::string what = ex.what();
        // Drop nlohmann's "[json.exception.parse_error.101] " prefix.
        auto close = what.find("] ");
        // Its "last read" token may stop inside a multi-byte character.
        return fail("bad JSON: " +
                    util::utf8_clean(close == std::string::npos ? what : what.substr(close + 2)));
    }

    const std::string& error_message() const { return m_error; }

private:
    bool open() {
        if (m_depth == 1) {
            m_out.m_fields[m_key] = JsonLineFields::Nested{};
        }
        ++m_depth;
        return true;
    }
    bool put(JsonLineFields::Value v) {
        if (m_depth == 0) {
            return fail("bad JSON: the line is not an object");
        }
        if (m_depth == 1) {
            m_out.m_fields[m_key] = std::move(v);
        }
        return true;
    }
    bool fail(std::string message) {
        if (m_error.empty()) {
            m_error = std::move(message);
        }
        return false;
    }

    JsonLineFields& m_out;
    int m_depth = 0;
    std::string m_key;
    std::string m_error;
};

util::Result<JsonLineFields> JsonLineFields::parse(std::string_view line) {
    JsonLineFields fields;
    JsonLineSax sax(fields);
    const bool ok = nlohmann::json::sax_parse(line.begin(), line.end(), &sax);
    if (!ok) {
        std::string message = sax.error_message();
        return util::error(Code::invalid_input, message.empty() ? "bad JSON" : message);
    }
    return fields;
}

util::Result<std::string> JsonLineFields::get_string(const std::string& key) const {
    auto it = m_fields.find(key);
    if (it == m_fields.end()) {
        return bad_field(key, "missing");
    }
    if (const auto* s = std::get_if<std::string>(&it->second)) {
        return *s;
    }
    return bad_field(key, std::string("expected a string, got ") + type_name(it->second));
}

util::Result<std::int64_t> JsonLineFields::get_int(const std::string& key) const {
    auto it = m_fields.find(key);
    if (it == m_fields.end()) {
        return bad_field(key, "missing");
    }
    if (const auto* i = std::get_if<std::int64_t>(&it->second)) {
        return *i;
    }
    if (const auto* u = std::get_if<std::uint64_t>(&it->second)) {
        if (*u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
            return static_cast<std::int64_t>(*u);
        }
        return bad_field(key, "\"" + std::to_string(*u) + "\" is out of range");
    }
    if (const auto* f = std::get_if<Float>(&it->second)) {
        return bad_field(key, "\"" + f->text + "\" is not an integer");
    }
    return bad_field(key, std::string("expected an integer, got ") + type_name(it->second));
}

util::Result<int> JsonLineFields::get_int32(const std::string& key) const {
    TRY_ASSIGN(std::int64_t v, get_int(key));
    if (v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max()) {
        return bad_field(key, "\"" + std::to_string(v) + "\" is out of range");
    }
    return static_cast<int>(v);
}

util::Result<Micros> JsonLineFields::get_money(const std::string& key) const {
    TRY_ASSIGN(const auto raw, get_money_text(key));
    auto micros = parse_dollars(raw);
    if (!micros.ok()) {
        return bad_field(key, micros.status().message());
    }
    return *micros;
}

util::Result<std::string> JsonLineFields::get_money_text(const std::string& key) const {
    auto it = m_fields.find(key);
    if (it == m_fields.end()) {
        return bad_field(key, "missing");
    }
    if (const auto* i = std::get_if<std::int64_t>(&it->second)) {
        return std::to_string(*i);
    }
    if (const auto* u = std::get_if<std::uint64_t>(&it->second)) {
        return std::to_string(*u);
    }
    if (const auto* f = std::get_if<Float>(&it->second)) {
        return f->text;
    }
    return bad_field(key, std::string("expected a number, got ") + type_name(it->second));
}

util::Result<util::MoneyReading> JsonLineFields::get_money_reading(const std::string& key) const {
    if (!has(key)) {
        return bad_field(key, "missing");
    }
    auto text = get_money_text(key);
    if (!text.ok()) {
        util::MoneyReading r;
        r.not_a_number = true;
        r.micros = util::k_max_micros;
        return r;
    }
    return util::read_money(*text, true);
}

}  // namespace assetgen::ledger
