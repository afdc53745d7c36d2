#include "flag_checks.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <regex>

#include <CLI/CLI.hpp>

#include "storage/gcs_url.hpp"
#include "storage/storage.hpp"
#include "util/text.hpp"
#include "util/utf8.hpp"

namespace assetgen::cli {

util::Status flag_error(std::string_view flag, const util::Status& status) {
    std::string message = status.message();
    const std::string lead = std::string(flag);
    if (!util::starts_with(message, lead)) {
        message = lead + ": " + message;
    }
    return util::error(util::Code::usage, message);
}

util::Status check_location_flag(std::string_view flag, const std::string& value) {
    if (!util::starts_with(value, "gs:")) {
        return util::ok_status();
    }
    if (!util::starts_with(value, "gs://")) {
        return util::error(util::Code::usage,
                           std::string(flag) + ": \"" + printable(value) +
                               "\" is not a gs://bucket/prefix location (nor a local path)");
    }
    auto url = storage::parse_gcs_prefix(value);
    if (!url.ok()) {
        return util::error(util::Code::usage, std::string(flag) + ": \"" + printable(value) +
                                                  "\": " + url.status().message() +
                                                  " (give gs://bucket/prefix)");
    }
    return util::ok_status();
}

util::Status check_folder_flag(std::string_view flag, const std::string& value) {
    struct stat st {};
    if (value.empty() || storage::is_gcs(value) || ::stat(value.c_str(), &st) != 0 ||
        S_ISDIR(st.st_mode)) {
        return util::ok_status();
    }
    return util::error(util::Code::usage, std::string(flag) + ": \"" + printable(value) + "\" is " +
                                              (S_ISREG(st.st_mode) ? "a file" : "not a folder") +
                                              "; give a folder (it is made when missing)");
}

std::string printable(std::string_view text) {
    std::string out;
    std::size_t i = 0;
    while (i < text.size()) {
        const auto c = static_cast<unsigned char>(text[i]);
        std::size_t len = c < 0x80           ? 1
                          : (c >> 5) == 0x6  ? 2
                          : (c >> 4) == 0xE  ? 3
                          : (c >> 3) == 0x1E ? 4
                                             : 0;
        if (len > 1 && i + len <= text.size() && util::is_utf8(text.substr(i, len))) {
            out.append(text.substr(i, len));
            i += len;
            continue;
        }
        if (len == 1 && c >= 0x20 && c != 0x7F) {
            out.push_back(static_cast<char>(c));
        } else {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02X", c);
            out += buf;
        }
        ++i;
    }
    return out;
}

const CLI::Validator& utf8_text() {
    static const CLI::Validator k_check(
        [](std::string& text) -> std::string {
            if (util::is_utf8(text)) {
                return "";
            }
            return "\"" + printable(text) + "\" is not valid UTF-8";
        },
        "", "utf8");  // no description: --help would print ":UTF-8" after every option
    return k_check;
}

const CLI::Validator& money() {
    static const CLI::Validator k_check(
        [](std::string& text) -> std::string {
            const std::string t(util::trim(text));
            char* end = nullptr;
            const double v = t.empty() ? 0 : std::strtod(t.c_str(), &end);
            if (t.empty() || end == nullptr || *end != '\0' || !std::isfinite(v) || v < 0 ||
                v > 1e9) {
                return "\"" + printable(text) +
                       "\" is not an amount of dollars from 0 to 1000000000";
            }
            return "";
        },
        "USD", "money");
    return k_check;
}

CLI::Validator whole_number(long long lo, long long hi) {
    const std::string range = std::to_string(lo) + " to " + std::to_string(hi);
    return CLI::Validator(
        [lo, hi, range](std::string& text) -> std::string {
            const std::string t(util::trim(text));
            char* end = nullptr;
            errno = 0;
            const long long v = t.empty() ? 0 : std::strtoll(t.c_str(), &end, 10);
            if (t.empty() || end == nullptr || *end != '\0' || errno == ERANGE || v < lo ||
                v > hi) {
                return "\"" + printable(text) + "\" must be a whole number from " + range;
            }
            return "";
        },
        "INT in [" + std::to_string(lo) + " - " + std::to_string(hi) + "]", "whole_number");
}

CLI::Validator decimal(bool (*fits)(double), const std::string& wanted) {
    return CLI::Validator(
        [fits, wanted](std::string& text) -> std::string {
            const std::string t(util::trim(text));
            char* end = nullptr;
            const double v = t.empty() ? 0 : std::strtod(t.c_str(), &end);
            if (t.empty() || end == nullptr || *end != '\0' || !std::isfinite(v) || !fits(v)) {
                return "\"" + printable(text) + "\" must be " + wanted;
            }
            return "";
        },
        "FLOAT", "decimal");
}

util::Status check_environment_text() {
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
        const std::string_view entry(*e);
        const auto eq = entry.find('=');
        if (eq == std::string_view::npos) {
            continue;
        }
        const std::string_view name = entry.substr(0, eq);
        if (!util::starts_with(name, "ASSETGEN_")) {
            continue;
        }
        const std::string_view value = entry.substr(eq + 1);
        if (!util::is_utf8(value)) {
            return util::error(util::Code::usage, std::string(name) + ": \"" + printable(value) +
                                                      "\" is not valid UTF-8");
        }
    }
    return util::ok_status();
}

util::Status check_args_text(const std::vector<std::string>& args) {
    for (std::size_t i = 1; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (util::is_utf8(a)) {
            continue;
        }
        std::string name = "argument";
        std::string value = a;
        if (util::starts_with(a, "--") && a.find('=') != std::string::npos) {
            name = a.substr(0, a.find('='));
            value = a.substr(a.find('=') + 1);
        } else if (util::starts_with(args[i - 1], "-") && args[i - 1] != "-" &&
                   args[i - 1] != "--") {
            name = args[i - 1];
        }
        return util::error(util::Code::usage,
                           name + ": \"" + printable(value) + "\" is not valid UTF-8");
    }
    return util::ok_status();
}

void check_text_everywhere(CLI::App& app) {
    for (auto* sub : app.get_subcommands({})) {
        check_text_everywhere(*sub);
    }
    for (auto* opt : app.get_options()) {
        if (opt->get_type_size() != 0) {
            opt->check(utf8_text());
        }
    }
}

namespace {

// The option called `name` ("--json") in app or any subcommand below it.
const CLI::Option* find_option(CLI::App& app, const std::string& name) {
    for (auto* opt : app.get_options()) {
        for (const auto& ln : opt->get_lnames()) {
            if ("--" + ln == name) {
                return opt;
            }
        }
    }
    for (auto* sub : app.get_subcommands({})) {
        if (const auto* opt = find_option(*sub, name)) {
            return opt;
        }
    }
    return nullptr;
}

// "{a,b->0,c}" → "a, b, c".
std::string choices(const std::string& set) {
    std::string out;
    std::size_t start = 0;
    while (start <= set.size()) {
        std::size_t end = set.find(',', start);
        if (end == std::string::npos) {
            end = set.size();
        }
        std::string item = set.substr(start, end - start);
        item = item.substr(0, item.find("->"));
        if (!item.empty()) {
            out += (out.empty() ? "" : ", ") + item;
        }
        start = end + 1;
    }
    return out;
}

}  // namespace

std::string usage_message(const std::exception& error, CLI::App& app) {
    const std::string what = error.what();
    std::smatch m;
    static const std::regex k_convert(R"(^Could not convert: (--[\w-]+) = (.*)$)");
    static const std::regex k_member(R"(^(--[\w-]+): (.*) not in \{(.*)\}$)");
    static const std::regex k_checked(
        R"(^(--[\w-]+): Check (.*) value in \{(.*?)\} OR .* FAILED$)");
    static const std::regex k_file(R"(^(--[\w-]+): File does not exist: (.*)$)");
    static const std::regex k_unit(R"(^(--[\w-]+): (.*) unit not recognized.*$)");
    if (std::regex_match(what, m, k_convert)) {
        const auto* opt = find_option(app, m[1]);
        if (opt != nullptr && opt->get_expected_max() == 0) {  // a flag (expected(0))
            return m[1].str() + ": \"" + printable(m[2].str()) + "\" is not true or false (give " +
                   m[1].str() + " alone to turn it on)";
        }
        return m[1].str() + ": \"" + printable(m[2].str()) +
               "\" is not a value it takes (--help says what it takes)";
    }
    if (std::regex_match(what, m, k_member) || std::regex_match(what, m, k_checked)) {
        return m[1].str() + ": \"" + printable(m[2].str()) + "\" is not one of " +
               choices(m[3].str());
    }
    if (std::regex_match(what, m, k_file)) {
        return m[1].str() + ": \"" + printable(m[2].str()) + "\": no such file";
    }
    if (std::regex_match(what, m, k_unit)) {
        return m[1].str() + ": \"" + printable(m[2].str()) +
               "\" is not a size (give bytes or e.g. 200MB, 1GiB)";
    }
    if (dynamic_cast<const CLI::ValidationError*>(&error) != nullptr) {
        return what;  // our validators' own words, after "--flag: "
    }
    return what + " (--help lists the options)";
}

Placed place_usage_message(const std::string& message, const Origins& origins) {
    Placed out{message, 2};
    if (!util::starts_with(message, "--")) {
        return out;
    }
    std::size_t end = 2;
    while (end < message.size() &&
           (std::isalnum(static_cast<unsigned char>(message[end])) || message[end] == '-')) {
        ++end;
    }
    auto it = origins.find(message.substr(2, end - 2));
    if (it == origins.end()) {
        return out;
    }
    out.message = it->second.where + ": " + message;
    out.exit_code = it->second.from_file ? 78 : 2;
    return out;
}

}  // namespace assetgen::cli
