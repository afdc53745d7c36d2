#include "support.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <CLI/CLI.hpp>

#include "util/text.hpp"
#include "util/text_file.hpp"

namespace assetgen::cli {

ExitCode exit_code_for(const util::Status& status) {
    using util::Code;
    switch (status.code()) {
        case Code::ok:
            return ExitCode::ok;
        case Code::invalid_input:
            return ExitCode::invalid_input;
        case Code::not_found:
            return ExitCode::input_not_found;
        case Code::permission_denied:
        case Code::unauthenticated:
            return ExitCode::auth;
        case Code::config:
            return ExitCode::config;
        case Code::usage:
            return ExitCode::usage;
        case Code::budget_exceeded:
            return ExitCode::budget;
        case Code::storage_io:
            return ExitCode::storage_io;
        case Code::upstream_unavailable:
        case Code::quota_daily:
        case Code::spend_cap:
        case Code::billing_cap:
        case Code::unavailable:
        case Code::rate_limited:
        case Code::deadline_exceeded:
        case Code::bad_response:
            return ExitCode::upstream_unavailable;
        case Code::cancelled:
            return ExitCode::interrupted_int;
        default:
            return ExitCode::internal;
    }
}

Console::Console() {
    m_tty = ::isatty(STDERR_FILENO) == 1;
    const char* no_colour = std::getenv("NO_COLOR");
    const char* term = std::getenv("TERM");
    m_colour = m_tty && !(no_colour && *no_colour) && !(term && std::string(term) == "dumb");
}

std::string Console::paint(const char* colour, const std::string& text) const {
    if (!m_colour) {
        return text;
    }
    return std::string("\033[") + colour + "m" + text + "\033[0m";
}

void Console::info(const std::string& text) {
    if (m_quiet) {
        return;
    }
    std::lock_guard lock(m_mutex);
    if (m_progress_shown) {
        std::fputs("\r\033[K", stderr);
    }
    std::fprintf(stderr, "assetgen: %s\n", util::redact(text).c_str());
    m_progress_shown = false;
}

void Console::warn(const std::string& text) {
    std::lock_guard lock(m_mutex);
    if (m_progress_shown) {
        std::fputs("\r\033[K", stderr);
        m_progress_shown = false;
    }
    std::fprintf(stderr, "assetgen: %s %s\n", paint("33", "warning:").c_str(),
                 util::redact(text).c_str());
}

void Console::error(const std::string& text) {
    std::lock_guard lock(m_mutex);
    if (m_progress_shown) {
        std::fputs("\r\033[K", stderr);
        m_progress_shown = false;
    }
    std::fprintf(stderr, "assetgen: %s %s\n", paint("31", "error:").c_str(),
                 util::redact(text).c_str());
}

ExitCode Console::fail(const util::Status& status) {
    if (status.code() == util::Code::usage) {
        // A wrong value from the environment or the config file is named by where it came from.
        auto placed = place_usage_message(status.message(), m_origins);
        error(placed.message);
        return static_cast<ExitCode>(placed.exit_code);
    }
    error(status.message());
    return exit_code_for(status);
}

void Console::progress(const std::string& line, bool force) {
    if (m_quiet || !m_tty) {
        return;
    }
    std::lock_guard lock(m_mutex);
    auto now = std::chrono::steady_clock::now();
    if (!force && now - m_last_draw < std::chrono::milliseconds(100)) {
        return;
    }
    m_last_draw = now;
    std::fprintf(stderr, "\r\033[K%s", line.c_str());
    std::fflush(stderr);
    m_progress_shown = true;
}

void Console::end_progress() {
    std::lock_guard lock(m_mutex);
    if (m_progress_shown) {
        std::fputs("\n", stderr);
        m_progress_shown = false;
    }
}

namespace {

std::string env_name_for(const std::string& long_name) {
    std::string out = "ASSETGEN_";
    for (char c : long_name) {
        out += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    return out;
}

// Options that must never come from the environment or a file.
bool is_exempt(const std::string& name) {
    static const std::set<std::string> k_exempt = {"help", "version", "config", "help-all"};
    return k_exempt.count(name) > 0;
}

struct ConfigValue {
    std::vector<std::string> values;
    std::string where;
};

// Parses one TOML scalar or array of scalars into strings.
util::Result<std::vector<std::string>> parse_toml_value(std::string_view v,
                                                        const std::string& where) {
    v = util::trim(v);
    auto scalar = [&](std::string_view s) -> util::Result<std::string> {
        s = util::trim(s);
        if (!s.empty() && (s.front() == '"' || s.front() == '\'')) {
            const char quote = s.front();
            std::string out;
            size_t i = 1;
            for (; i < s.size() && s[i] != quote; ++i) {
                if (quote == '"' && s[i] == '\\' && i + 1 < s.size()) {
                    char n = s[++i];
                    out += n == 'n' ? '\n' : n == 't' ? '\t' : n;
                } else {
                    out += s[i];
                }
            }
            if (i >= s.size()) {
                return util::error(
                    util::Code::config,
                    where + ": unterminated string (it needs a closing " + quote + ")");
            }
            auto rest = util::trim(s.substr(i + 1));
            if (!rest.empty() && rest.front() != '#') {
                return util::error(util::Code::config,
                                   where + ": unexpected text after the string");
            }
            return out;
        }
        if (auto hash = s.find('#'); hash != std::string_view::npos) {
            s = util::trim(s.substr(0, hash));  // a comment after a bare value
        }
        if (s.empty()) {
            return util::error(util::Code::config, where + ": missing value");
        }
        return std::string(s);
    };
    std::vector<std::string> out;
    if (!v.empty() && v.front() == '[') {
        if (v.back() != ']') {
            return util::error(util::Code::config, where + ": unterminated array");
        }
        for (auto& piece : util::split_any(v.substr(1, v.size() - 2), ",")) {
            if (util::trim(piece).empty()) {
                continue;
            }
            TRY_ASSIGN(auto s, scalar(piece));
            out.push_back(s);
        }
        return out;
    }
    TRY_ASSIGN(auto s, scalar(v));
    out.push_back(s);
    return out;
}

util::Result<std::map<std::string, std::map<std::string, ConfigValue>>> read_config(
    const std::string& path) {
    // A config file is a few lines of options: 1 MiB is far beyond any, and stops /dev/zero.
    constexpr std::uint64_t k_max_config_bytes = 1 << 20;
    auto text = util::read_text_file(path, k_max_config_bytes);
    if (!text.ok()) {
        std::string why = text.status().message();
        if (text.status().code() == util::Code::permission_denied) {
            return util::error(util::Code::permission_denied,
                               path + ": cannot read the config file: permission denied");
        }
        if (text.status().code() == util::Code::invalid_input &&
            why.find("more than") != std::string::npos) {
            why = path +
                  ": more than 1 MiB; a config file is a few lines of options (is this the right "
                  "file?)";
        } else if (text.status().code() != util::Code::invalid_input) {
            why = path + ": cannot read the config file: " + why;
        }
        return util::error(util::Code::config, why);
    }
    std::map<std::string, std::map<std::string, ConfigValue>> sections;
    std::string section;
    std::string line;
    std::istringstream in(*text);
    for (int n = 1; std::getline(in, line); ++n) {
        const std::string where = path + ":" + std::to_string(n);
        std::string_view l = util::trim(line);
        if (l.empty() || l.front() == '#') {
            continue;
        }
        if (l.front() == '[') {
            if (l.back() != ']') {
                return util::error(util::Code::config, where + ": a section is written [name]");
            }
            section = std::string(util::trim(l.substr(1, l.size() - 2)));
            continue;
        }
        auto eq = l.find('=');
        if (eq == std::string_view::npos) {
            return util::error(util::Code::config, where + ": expected key = value");
        }
        std::string key(util::trim(l.substr(0, eq)));
        for (auto& c : key) {
            if (c == '_') {
                c = '-';
            }
        }
        TRY_ASSIGN(auto values, parse_toml_value(l.substr(eq + 1), where));
        sections[section][key] = ConfigValue{values, where};
    }
    return sections;
}

bool given_on_command_line(const std::vector<std::string>& args, const CLI::Option* opt) {
    for (const auto& a : args) {
        if (a == "--") {
            break;
        }
        for (const auto& ln : opt->get_lnames()) {
            const std::string flag = "--" + ln;
            if (a == flag || util::starts_with(a, flag + "=")) {
                return true;
            }
        }
        for (const auto& sn : opt->get_snames()) {
            if (a == "-" + sn ||
                (a.size() > 2 && a[0] == '-' && a[1] != '-' && a.substr(1, sn.size()) == sn)) {
                return true;
            }
        }
    }
    return false;
}

bool truthy(const std::string& v) {
    auto l = util::to_lower(v);
    return l == "1" || l == "true" || l == "yes" || l == "on";
}

}  // namespace

void name_environment(CLI::App& app) {
    for (auto* sub : app.get_subcommands({})) {
        name_environment(*sub);
    }
    for (auto* opt : app.get_options()) {
        if (opt->get_lnames().empty() || is_exempt(opt->get_lnames().front())) {
            continue;
        }
        opt->envname(env_name_for(opt->get_lnames().front()));
    }
}

util::Result<std::vector<std::string>> apply_environment_and_config(
    CLI::App& app, const std::vector<std::string>& args, Origins& origins) {
    // args[0] is the program; the subcommand is the first word that names one.
    CLI::App* sub = nullptr;
    std::string config_path;
    bool explicit_config = false;
    for (size_t i = 1; i < args.size() && args[i] != "--"; ++i) {  // after --: arguments
        if (!sub) {
            for (auto* s : app.get_subcommands({})) {
                if (s->get_name() == args[i]) {
                    sub = s;
                }
            }
        }
        if (args[i] == "--config" && i + 1 < args.size()) {
            config_path = args[i + 1];
            explicit_config = true;
        } else if (util::starts_with(args[i], "--config=")) {
            config_path = args[i].substr(9);
            explicit_config = true;
        }
    }
    if (!sub) {
        return args;
    }
    if (!explicit_config) {
        if (const char* e = std::getenv("ASSETGEN_CONFIG"); e && *e) {
            config_path = e;
            explicit_config = true;
        } else if (std::ifstream("assetgen.toml").good()) {
            config_path = "assetgen.toml";
        }
    }
    std::map<std::string, std::map<std::string, ConfigValue>> config;
    if (explicit_config && !config_path.empty() && !std::filesystem::exists(config_path)) {
        const bool from_env = std::getenv("ASSETGEN_CONFIG") != nullptr &&
                              config_path == std::getenv("ASSETGEN_CONFIG");
        return util::error(util::Code::usage,
                           std::string(from_env ? "ASSETGEN_CONFIG" : "--config") + ": \"" +
                               printable(config_path) + "\": no such file");
    }
    if (!config_path.empty()) {
        TRY_ASSIGN(config, read_config(config_path));
    }
    // Every key in the file must be an option of some subcommand (or the file is wrong).
    std::set<std::string> known;
    for (auto* s : app.get_subcommands({})) {
        for (auto* opt : s->get_options()) {
            for (const auto& ln : opt->get_lnames()) {
                known.insert(ln);
            }
        }
    }
    for (const auto& [section, keys] : config) {
        for (const auto& [key, value] : keys) {
            if (!known.count(key)) {
                return util::error(util::Code::config,
                                   value.where + ": unknown option \"" + key + "\"");
            }
        }
    }

    std::vector<std::string> extra;
    for (auto* opt : sub->get_options()) {
        if (opt->get_lnames().empty() || is_exempt(opt->get_lnames().front()) ||
            given_on_command_line(args, opt)) {
            continue;
        }
        const std::string name = opt->get_lnames().front();
        std::vector<std::string> values;
        if (const char* e = std::getenv(env_name_for(name).c_str()); e && *e) {
            values.emplace_back(e);
            origins[name] = Origin{env_name_for(name), false};
        } else if (auto s = config.find(sub->get_name());
                   s != config.end() && s->second.count(name)) {
            values = s->second.at(name).values;
            origins[name] = Origin{s->second.at(name).where, true};
        } else if (auto top = config.find(""); top != config.end() && top->second.count(name)) {
            values = top->second.at(name).values;
            origins[name] = Origin{top->second.at(name).where, true};
        }
        for (const auto& v : values) {
            if (opt->get_type_size() == 0) {  // a flag
                if (truthy(v)) {
                    extra.push_back("--" + name);
                }
            } else {
                extra.push_back("--" + name + "=" + v);
            }
        }
    }
    std::vector<std::string> out;
    out.reserve(args.size() + extra.size());
    bool inserted = false;
    // --config is an option of the program, not of a subcommand; it may be written anywhere
    // (`assetgen run --config f.toml b.csv`), so every --config goes before the subcommand.
    std::vector<bool> moved(args.size(), false);
    out.push_back(args.empty() ? std::string() : args[0]);
    for (size_t i = 1; i < args.size() && args[i] != "--"; ++i) {
        if (args[i] == "--config" && i + 1 < args.size()) {
            out.push_back(args[i]);
            out.push_back(args[i + 1]);
            moved[i] = moved[i + 1] = true;
            ++i;
        } else if (util::starts_with(args[i], "--config=")) {
            out.push_back(args[i]);
            moved[i] = true;
        }
    }
    for (size_t i = 1; i < args.size(); ++i) {
        if (moved[i]) {
            continue;
        }
        out.push_back(args[i]);
        if (!inserted && args[i] == sub->get_name()) {
            out.insert(out.end(), extra.begin(), extra.end());
            inserted = true;
        }
    }
    return out;
}

std::string format_rate(double per_second) {
    char buf[32];
    if (per_second >= 1000) {
        std::snprintf(buf, sizeof buf, "%.1fk/s", per_second / 1000);
    } else {
        std::snprintf(buf, sizeof buf, "%.1f/s", per_second);
    }
    return buf;
}

}  // namespace assetgen::cli
