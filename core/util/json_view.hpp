#pragma once
// A JSON document validated and indexed where it lies: one small node per value, strings and
// numbers kept as spans of the text (never copied, never unescaped until asked). Made for
// large answers that carry one big string (a Gemini image as ~2 MB of base64): reading it
// costs one pass over the bytes, where nlohmann::json copies every string char by char.
//
// Accepts exactly what nlohmann::json::parse(text, nullptr, false) accepts (RFC 8259, UTF-8
// checked as nlohmann checks it, a leading BOM, numbers that overflow a double refused, a NUL
// byte outside strings ending the text), and member() finds the last of duplicate keys as
// nlohmann's DOM keeps it. tests/core/util/json_view_test.cpp and the fuzz target
// tests/fuzz/gemini_answer.cpp hold it to that.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace assetgen::util {

enum class JsonType : std::uint8_t { null, boolean, number, string, array, object };

struct JsonNode {
    JsonType type = JsonType::null;
    bool flag = false;         // boolean: its value; string: it holds escapes
    bool key_escaped = false;  // a member's key holds escapes
    std::uint32_t next = 0;    // the next element or member of the parent; 0 = none
    std::uint32_t child = 0;   // the first element or member; 0 = none
    std::uint32_t begin = 0;   // string: the bytes between the quotes; number: its text
    std::uint32_t end = 0;
    std::uint32_t key_begin = 0;  // a member's key, between the quotes
    std::uint32_t key_end = 0;
};

// A number as nlohmann reads it: an unsigned integer (no sign), a signed integer (a '-'), or a
// double (a fraction, an exponent, or an integer that does not fit 64 bits).
struct JsonNumber {
    enum class Kind : std::uint8_t {
        unsigned_integer,
        integer,
        floating
    } kind = Kind::unsigned_integer;
    std::uint64_t u = 0;
    std::int64_t i = 0;
    double d = 0;
};

class JsonView {
public:
    // std::nullopt when the text is not one JSON value (as nlohmann would refuse it) or is
    // over 4 GiB. The view refers to `text`, which must outlive it.
    static std::optional<JsonView> parse(std::string_view text);

    const JsonNode& root() const { return m_nodes.front(); }
    const JsonNode& at(std::uint32_t index) const { return m_nodes[index]; }
    // The first element or member (nullptr when none or not a container), and the next one.
    const JsonNode* first(const JsonNode& container) const;
    const JsonNode* next(const JsonNode& node) const;

    // The member `name` of an object (the last one when the key repeats), or nullptr when
    // absent or `object` is not an object.
    const JsonNode* member(const JsonNode& object, std::string_view name) const;
    // The text of a string as written between its quotes (escapes not undone).
    std::string_view raw(const JsonNode& node) const;
    // A string's value, escapes undone (UTF-8).
    std::string string(const JsonNode& node) const;
    // A number's value (the node must be a number).
    JsonNumber number(const JsonNode& node) const;

private:
    explicit JsonView(std::string_view text) : m_text(text) {}
    bool key_is(const JsonNode& node, std::string_view name) const;

    std::string_view m_text;
    std::vector<JsonNode> m_nodes;
};

// The value of a JSON string's content as written between the quotes (already validated by
// JsonView::parse): escapes undone, \uXXXX pairs joined into UTF-8.
std::string json_unescape(std::string_view raw);

}  // namespace assetgen::util
