#include "batch/validate.hpp"

#include <array>
#include <cctype>
#include <string_view>

#include "util/text.hpp"

namespace assetgen::batch {
namespace {

constexpr std::size_t k_max_id_length = 100;
// Every ratio Google documents for an image model (the model catalog says which model offers
// which; the plan refuses a row whose model does not offer its ratio).
constexpr std::array<std::string_view, 14> k_aspect_ratios = {"1:1", "2:3", "3:2",  "3:4",  "4:3",
                                                              "4:5", "5:4", "9:16", "16:9", "21:9",
                                                              "1:4", "4:1", "1:8",  "8:1"};

// Called as batch::quoted on a std::string: unqualified, argument-dependent lookup would pick
// std::quoted (<iomanip>, which the precompiled header brings in).
std::string quoted(std::string_view value) {
    // Long values are cut so that a message stays one readable line.
    constexpr std::size_t k_shown = 80;
    std::string v(value.substr(0, k_shown));
    if (value.size() > k_shown) {
        v += "...";
    }
    return "\"" + v + "\"";
}

bool is_safe_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_' || c == '-';
}

bool has_alnum(std::string_view s) {
    for (char c : s) {
        if (std::isalnum(static_cast<unsigned char>(c)) != 0) {
            return true;
        }
    }
    return false;
}

// A whole number written as a sheet might: "3", "+3", "3.0". Too many digits saturate, so that
// "99999999999" is reported as above the maximum rather than as not a number.
std::optional<long long> parse_whole(std::string_view s) {
    bool negative = false;
    if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
        negative = s[0] == '-';
        s.remove_prefix(1);
    }
    if (auto dot = s.find('.'); dot != std::string_view::npos) {
        if (s.find_first_not_of('0', dot + 1) != std::string_view::npos) {
            return std::nullopt;
        }
        s = s.substr(0, dot);
    }
    if (s.empty()) {
        return std::nullopt;
    }
    long long n = 0;
    for (char c : s) {
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        n = n > 1'000'000'000 ? n : n * 10 + (c - '0');
    }
    return negative ? -n : n;
}

}  // namespace

std::string ref_scheme(const std::string& ref) {
    const auto colon = ref.find(':');
    std::string scheme;
    if (colon != std::string::npos && colon >= 2 &&
        std::isalpha(static_cast<unsigned char>(ref[0]))) {
        scheme = ref.substr(0, colon);
        for (char c : scheme) {
            if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '+' && c != '-' &&
                c != '.') {
                return {};  // a ':' later in a local path, e.g. refs/a:b.png
            }
        }
    }
    return scheme;
}

namespace {

// "" when ref is an accepted reference (https://, http://, gs:// or a local path), else the
// message for it.
std::string check_ref(const std::string& ref) {
    const std::string q = batch::quoted(ref);
    const auto colon = ref.find(':');
    const std::string scheme = ref_scheme(ref);
    if (scheme.empty()) {
        return {};  // a local path (a one-letter "scheme" is a Windows drive, C:\...)
    }
    const std::string lower = util::to_lower(scheme);
    if (lower == "https" || lower == "http" || lower == "gs") {
        const std::string_view rest = std::string_view(ref).substr(colon + 1);
        if (rest.substr(0, 2) != "//" || rest.size() == 2 || rest[2] == '/') {
            return q + " is not a valid URL; write " + lower + "://" +
                   (lower == "gs" ? "bucket/path/to/image.png" : "host/path/to/image.png");
        }
        if (lower == "gs") {
            const auto slash = rest.find('/', 2);
            if (slash == std::string_view::npos || slash + 1 == rest.size()) {
                return q + " names no object; write gs://bucket/path/to/image.png";
            }
        }
        return {};
    }
    std::string msg = q + " uses \"" + lower +
                      ":\", which is not supported; use https://, http://, gs:// or a local path";
    if (lower == "file") {
        msg += " (for a local file write its path, e.g. /images/a.png)";
    }
    return msg;
}

// "style_only", "Style-Only", "style and composition" → the mode.
std::optional<RefMode> parse_ref_mode(std::string_view text) {
    std::string s = util::to_lower(util::trim(text));
    for (auto& c : s) {
        if (c == '-' || c == ' ') {
            c = '_';
        }
    }
    if (s == "style_only") {
        return RefMode::style_only;
    }
    if (s == "style_and_composition") {
        return RefMode::style_and_composition;
    }
    return std::nullopt;
}

// Google Sheets turns a typed 16:9 into the time 16:09:00 unless the column is plain text;
// returns "16:9" for "16:09:00", "" when text does not look like such a time.
std::string ratio_from_time(std::string_view text) {
    const auto first = text.find(':');
    const auto second = text.find(':', first + 1);
    if (first == std::string_view::npos || second == std::string_view::npos ||
        second != first + 3 || text.size() != second + 3) {
        return {};
    }
    auto h = parse_whole(text.substr(0, first));
    auto m = parse_whole(text.substr(first + 1, 2));
    if (!h || !m || text.substr(second + 1) != "00") {
        return {};
    }
    return std::to_string(*h) + ":" + std::to_string(*m);
}

std::string ratio_list() {
    std::string out;
    for (auto r : k_aspect_ratios) {
        out += (out.empty() ? "" : ", ") + std::string(r);
    }
    return out;
}

}  // namespace

std::string Problem::text() const {
    std::string out;
    const bool placed = column.empty() && !where.empty() && util::starts_with(message, where + ":");
    for (const std::string* part : {&where, &column, &message}) {
        if (part->empty() || (placed && part == &where)) {
            continue;
        }
        out += (out.empty() ? "" : ": ") + *part;
    }
    return out;
}

std::string sanitise_id(const std::string& scene_id) {
    std::string out;
    out.reserve(scene_id.size());
    for (std::size_t i = 0; i < scene_id.size(); ++i) {
        const auto c = static_cast<unsigned char>(scene_id[i]);
        if (is_safe_char(static_cast<char>(c))) {
            out += static_cast<char>(c);
            continue;
        }
        out += '_';
        if (c >= 0xC0) {  // one '_' for a whole multi-byte character
            while (i + 1 < scene_id.size() &&
                   (static_cast<unsigned char>(scene_id[i + 1]) & 0xC0) == 0x80) {
                ++i;
            }
        }
    }
    if (out.empty()) {
        return "_";
    }
    if (out[0] == '.') {  // no hidden files, no "." or ".."
        out[0] = '_';
    }
    return out;
}

bool is_job_record_name(const std::string& safe_id) {
    const std::string name = util::to_lower(safe_id);  // case-insensitive file systems too
    if (name == "manifest.jsonl" || name == "state.json" || name == "summary.json" ||
        name == "shards" || name == "lock.json" || name == ".lock") {
        return true;
    }
    return name.size() > 11 && name.rfind("state-", 0) == 0 &&
           name.compare(name.size() - 5, 5, ".json") == 0;
}

Validator::Validator(ValidationOptions options) : m_options(options) {}

void Validator::add(Problem p) {
    m_problems.push_back(std::move(p));
}

void Validator::check_columns(const std::vector<std::string>& columns, const std::string& where) {
    std::string listed;
    for (std::size_t i = 0; i < columns.size() && i < 12; ++i) {
        listed += (listed.empty() ? "" : ", ") + columns[i];
    }
    if (columns.size() > 12) {
        listed += ", ...";
    }
    for (const char* required : {"scene_id", "prompt"}) {
        bool found = false;
        for (const auto& c : columns) {
            found = found || c == required;
        }
        if (!found) {
            m_missing_columns.insert(required);
            add({where, required,
                 columns.empty() ? "required column is missing (the header is empty)"
                                 : "required column is missing (the header has: " + listed + ")"});
        }
    }
    std::set<std::string> seen;
    std::set<std::string> reported;
    for (const auto& c : columns) {
        if (!seen.insert(c).second && reported.insert(c).second) {
            add({where, c, "the column appears twice in the header; keep one"});
        }
    }
}

std::optional<Row> Validator::check(const RawRow& raw) {
    ++m_rows;
    if (!raw.problem.empty()) {
        add({raw.where, "", raw.problem});
        return std::nullopt;
    }
    const std::size_t before = m_problems.size();
    auto problem = [&](const char* column, std::string message) {
        add({raw.where, column, std::move(message)});
    };

    Row row;
    row.number = raw.number;
    row.where = raw.where;
    row.ref_mode = m_options.default_ref_mode;
    bool has_id = false;
    bool has_prompt = false;
    for (const auto& [name, value] : raw.cells) {
        const std::string_view v = util::trim(value);
        if (name == "scene_id") {
            has_id = true;
            row.scene_id = std::string(v);
        } else if (name == "prompt") {
            has_prompt = true;
            row.prompt = std::string(v);
        } else if (name == "variants") {
            if (v.empty()) {
                continue;
            }
            const auto n = parse_whole(v);
            if (!n) {
                problem("variants", quoted(v) + " is not a whole number");
            } else if (*n < 1) {
                problem("variants", quoted(v) + " is below the minimum 1");
            } else if (*n > m_options.max_variants) {
                problem("variants", quoted(v) + " is above the maximum " +
                                        std::to_string(m_options.max_variants));
            } else {
                row.variants = static_cast<int>(*n);
            }
        } else if (name == "refs") {
            for (auto& ref : util::split_any(v, " \t\r\n,;")) {
                if (auto msg = check_ref(ref); !msg.empty()) {
                    problem("refs", msg);
                } else if (auto out = local_ref_problem(ref, m_options); !out.empty()) {
                    problem("refs", out);
                } else {
                    row.refs.push_back(std::move(ref));
                }
            }
        } else if (name == "ref_mode") {
            if (v.empty()) {
                continue;
            }
            if (auto mode = parse_ref_mode(v)) {
                row.ref_mode = *mode;
            } else {
                problem("ref_mode", quoted(v) + " is not style_only or style_and_composition");
            }
        } else if (name == "aspect_ratio") {
            std::string ratio;
            for (char c : v) {
                if (c != ' ') {
                    ratio += c;
                }
            }
            bool known = ratio.empty();
            for (auto r : k_aspect_ratios) {
                known = known || ratio == r;
            }
            if (known) {
                row.aspect_ratio = ratio;
            } else if (auto typed = ratio_from_time(ratio); !typed.empty()) {
                problem("aspect_ratio", quoted(v) + " is a time the sheet made of " + typed +
                                            "; format the column as plain text "
                                            "(Format > Number > Plain text) and type it again");
            } else {
                problem("aspect_ratio", quoted(v) + " is not one of " + ratio_list());
            }
        } else if (name == "model") {
            bool ok = true;
            for (char c : v) {
                ok = ok && is_safe_char(c);
            }
            if (ok) {
                row.model = std::string(v);
            } else {
                problem("model", quoted(v) +
                                     " may only hold letters, digits, '.', '_' and '-' "
                                     "(e.g. gemini-2.5-flash-image)");
            }
        } else {
            row.extra.emplace_back(name, value);
        }
    }

    if (row.prompt.empty() && (has_prompt || !m_missing_columns.count("prompt"))) {
        problem("prompt", has_prompt ? "is empty (every row needs a prompt)"
                                     : "is missing (every row needs a prompt)");
    }
    check_id(raw, row, has_id);
    if (m_problems.size() != before) {
        return std::nullopt;
    }
    return row;
}

void Validator::check_id(const RawRow& raw, Row& row, bool has_id) {
    const std::string& id = row.scene_id;
    auto problem = [&](std::string message) { add({raw.where, "scene_id", std::move(message)}); };
    if (id.empty()) {
        if (has_id || !m_missing_columns.count("scene_id")) {
            problem(has_id ? "is empty (every row needs a unique scene_id)"
                           : "is missing (every row needs a unique scene_id)");
        }
        return;
    }
    const std::string q = batch::quoted(id);
    const std::string allowed = "use letters, digits, '.', '_' and '-'";
    if (id == "." || id == "..") {
        problem(q + " names a folder, not a scene; " + allowed);
        return;
    }
    for (const auto& part : util::split_any(id, "/\\")) {
        if (util::trim(part) == "..") {
            problem(q + " contains \"..\", a path out of the output folder; " + allowed);
            return;
        }
    }
    if (!has_alnum(id)) {
        problem(q + " has no letter or digit to name its files by; " + allowed);
        return;
    }
    if (id.size() > k_max_id_length) {
        problem(q + " is " + std::to_string(id.size()) + " bytes long; the most is " +
                std::to_string(k_max_id_length));
        return;
    }
    row.safe_id = sanitise_id(id);
    if (is_job_record_name(row.safe_id)) {
        problem(q + " is the name of one of the job folder's own records (" + row.safe_id +
                "), where its images would go; rename the row");
        return;
    }
    if (!m_options.check_duplicate_ids) {
        return;
    }
    auto seen = m_ids.insert(row.safe_id, id, raw.where);
    if (!seen) {
        return;
    }
    if (seen->scene_id == id) {
        problem(q + " repeats row at " + seen->where);
    } else {
        problem(q + " and " + batch::quoted(seen->scene_id) + " at " + seen->where +
                " both become the file name \"" + row.safe_id + "\"; rename one");
    }
}

std::size_t validate_all(RowSource& source, Validator& validator, const std::string& display_name,
                         const std::function<void(Row&&)>& on_row) {
    std::size_t records = 0;
    bool header_checked = false;
    for (;;) {
        auto r = source.next();
        if (!r.ok()) {
            validator.add({display_name, "", r.status().message()});
            return records;
        }
        if (!header_checked) {
            header_checked = true;
            if (!source.header_where().empty()) {
                validator.check_columns(source.columns(), source.header_where());
            }
        }
        if (!r->has_value()) {
            break;
        }
        ++records;
        auto row = validator.check(**r);
        if (row && on_row) {
            on_row(std::move(*row));
        }
    }
    if (records == 0) {
        validator.add({display_name, "",
                       source.header_where().empty()
                           ? "no rows"
                           : "no rows (the file has a header but no data rows)"});
    }
    return records;
}

}  // namespace assetgen::batch
