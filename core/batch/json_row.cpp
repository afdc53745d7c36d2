#include "batch/json_row.hpp"

#include <algorithm>
#include <cmath>

#include "batch/reader.hpp"
#include "batch/reader_internal.hpp"
#include "util/utf8.hpp"

namespace assetgen::batch::detail {
namespace {

// nlohmann's "[json.exception.parse_error.101] parse error at line 1, column 7: syntax error
// while parsing value - invalid literal; last read: 'x'" → the part after the position, which
// the readers replace with the place in the file.
std::string parse_error_text(const std::string& what) {
    std::string s = what;
    if (auto at = s.find("parse error"); at != std::string::npos) {
        if (auto colon = s.find(": ", at); colon != std::string::npos) {
            s = s.substr(colon + 2);
        }
    }
    // The "last read" token may stop inside a multi-byte character: cut and clean as UTF-8.
    return util::utf8_clean(s, s.size() > 160 ? 157 : 160);
}

}  // namespace

const char* RowSax::kind_name() const {
    switch (kind) {
        case Kind::object:
            return "an object";
        case Kind::array:
            return "an array";
        case Kind::scalar:
            return scalar_name.c_str();
        case Kind::none:
            break;
    }
    return "nothing";
}

bool RowSax::number_float(number_float_t v, const string_t& s) {
    // 2.0 is "2", as a sheet shows it; other floats keep the text they were written with.
    if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 1e15) {
        return value(std::to_string(static_cast<long long>(v)), "a number");
    }
    return value(s, "a number");
}

bool RowSax::key(string_t& k) {
    if (m_depth == 1) {
        m_key = normalise_column(k);
        if (m_key.empty()) {
            m_key = unnamed_column(cells.size());
        }
    }
    return true;
}

bool RowSax::parse_error(std::size_t position, const std::string& /*last_token*/,
                         const nlohmann::detail::exception& ex) {
    failed = true;
    error_byte = position;
    error_text = parse_error_text(ex.what());
    return false;
}

bool RowSax::value(std::string text, const char* name) {
    if (m_depth == 0) {
        kind = Kind::scalar;
        scalar_name = name;
    } else if (m_depth == 1) {
        add_cell(std::move(text));
    } else if (m_depth == 2 && m_in_list) {
        if (!m_list.empty() && !text.empty()) {
            m_list += '\n';
        }
        m_list += text;
    }
    return true;
}

bool RowSax::open(Kind k) {
    if (m_depth == 0) {
        kind = k;
    } else if (m_depth == 1 && k == Kind::array) {
        m_in_list = true;
        m_list.clear();
    } else if (m_depth == 1 || m_depth == 2) {
        note_nested();
    }
    ++m_depth;
    return true;
}

bool RowSax::close() {
    if (--m_depth == 1) {  // the end of a cell that was a list or an object
        add_cell(m_in_list && !m_nested ? std::move(m_list) : std::string());
        m_in_list = false;
        m_nested = false;
    }
    return true;
}

void RowSax::note_nested() {
    m_nested = true;
    if (problem.empty()) {
        const std::string label =
            kind == Kind::object ? m_key : "cell " + std::to_string(cells.size() + 1);
        problem = label + ": a nested object or list; use text, a number or a list of texts";
    }
}

void RowSax::add_cell(std::string text) {
    if (kind != Kind::object) {
        cells.emplace_back(std::string(), std::move(text));
        return;
    }
    for (const auto& c : cells) {
        if (c.first == m_key) {
            if (problem.empty()) {
                problem = m_key + ": the column appears twice in this row";
            }
            return;
        }
    }
    cells.emplace_back(m_key, std::move(text));
}

void ColumnOrder::arrange(Cells& cells) {
    for (const auto& c : cells) {
        if (m_index.emplace(c.first, m_names.size()).second) {
            m_names.push_back(c.first);
        }
    }
    std::stable_sort(cells.begin(), cells.end(), [this](const auto& a, const auto& b) {
        return m_index.at(a.first) < m_index.at(b.first);
    });
}

}  // namespace assetgen::batch::detail
