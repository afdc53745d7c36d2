#pragma once
// Internal to the JSON and JSONL readers: turns the SAX events of one JSON value (one row)
// into cells, without building a json value, and keeps row-object columns in the order they
// first appear.

#include <cstddef>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace assetgen::batch::detail {

using Cells = std::vector<std::pair<std::string, std::string>>;

// Builds the cells of one row from the SAX events of one JSON value: a row object (key →
// cell) or an array of cells. A cell may be text, a number, a bool, null (empty) or a list of
// those (joined with newlines, so "refs": ["a", "b"] works); deeper nesting, or a key twice,
// is the row's problem. Numbers read as a sheet shows them: 2 and 2.0 are "2".
class RowSax final : public nlohmann::json::json_sax_t {
public:
    enum class Kind { none, object, array, scalar };

    Kind kind = Kind::none;      // of the value as a whole
    std::string scalar_name;     // "a number", ... when kind == scalar
    Cells cells;                 // object: (normalised key, text); array: ("", text)
    std::string problem;         // "" or "<column>: <what is wrong>"
    bool failed = false;         // a syntax error; see error_byte and error_text
    std::size_t error_byte = 0;  // 1-based, in the parsed text
    std::string error_text;

    // "an object", "an array", "a number", ... for messages.
    const char* kind_name() const;

    bool null() override { return value("", "null"); }
    bool boolean(bool b) override { return value(b ? "true" : "false", "a boolean"); }
    bool number_integer(number_integer_t v) override {
        return value(std::to_string(v), "a number");
    }
    bool number_unsigned(number_unsigned_t v) override {
        return value(std::to_string(v), "a number");
    }
    bool number_float(number_float_t v, const string_t& s) override;
    bool string(string_t& s) override { return value(std::move(s), "a string"); }
    bool binary(binary_t& /*unused*/) override { return value("", "binary data"); }
    bool start_object(std::size_t /*unused*/) override { return open(Kind::object); }
    bool end_object() override { return close(); }
    bool start_array(std::size_t /*unused*/) override { return open(Kind::array); }
    bool end_array() override { return close(); }
    bool key(string_t& k) override;
    bool parse_error(std::size_t position, const std::string& last_token,
                     const nlohmann::detail::exception& ex) override;

private:
    bool value(std::string text, const char* name);
    bool open(Kind k);
    bool close();
    void note_nested();
    void add_cell(std::string text);

    int m_depth = 0;
    std::string m_key;
    bool m_in_list = false;
    bool m_nested = false;
    std::string m_list;
};

// Columns of row objects in order of first appearance.
class ColumnOrder {
public:
    const std::vector<std::string>& names() const { return m_names; }
    // Adds the row's new columns and puts its cells in column order.
    void arrange(Cells& cells);

private:
    std::vector<std::string> m_names;
    std::unordered_map<std::string, std::size_t> m_index;
};

}  // namespace assetgen::batch::detail
