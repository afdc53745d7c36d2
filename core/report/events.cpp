// The --events JSON-lines stream.
//
// How this works: each emit() builds an ordered JSON object ("ts" and "event" first, then the
// caller's fields), passing every string through util::redact on the way and blanking the
// values of keys that name a secret (api_key, access_token, ...), since a bare token under such
// a key has nothing in it for a text pattern to recognise. The line is serialised outside the
// lock (invalid UTF-8 is replaced, never thrown), then written and flushed under the mutex, so
// lines from several threads never interleave and `tail -f` or a pipe sees each event as it
// happens. The file is opened in append mode so that a resumed job keeps its earlier history.

#include "report/events.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string_view>

#include <nlohmann/json.hpp>

#include "util/atomic_file.hpp"
#include "util/text.hpp"

namespace assetgen::report {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

// Keys whose string values are secrets whatever they look like.
bool is_secret_key(std::string_view key) {
    static constexpr std::array<std::string_view, 12> k_secret_keys = {
        "api_key",     "apikey",   "key",    "access_token",  "refresh_token", "id_token",
        "private_key", "password", "secret", "client_secret", "authorization", "assertion"};
    std::string lower = util::to_lower(key);
    return std::find(k_secret_keys.begin(), k_secret_keys.end(), lower) != k_secret_keys.end();
}

// Copies j into an ordered_json, redacting every string (keys included) on the way.
ordered_json redacted(const json& j) {
    switch (j.type()) {
        case json::value_t::string:
            return util::redact(j.get_ref<const std::string&>());
        case json::value_t::array: {
            ordered_json out = ordered_json::array();
            for (const auto& item : j) {
                out.push_back(redacted(item));
            }
            return out;
        }
        case json::value_t::object: {
            ordered_json out = ordered_json::object();
            for (const auto& [key, value] : j.items()) {
                if (value.is_string() && is_secret_key(key)) {
                    out[util::redact(key)] = "[REDACTED]";
                } else {
                    out[util::redact(key)] = redacted(value);
                }
            }
            return out;
        }
        case json::value_t::boolean:
            return j.get<bool>();
        case json::value_t::number_integer:
            return j.get<std::int64_t>();
        case json::value_t::number_unsigned:
            return j.get<std::uint64_t>();
        case json::value_t::number_float:
            return j.get<double>();
        case json::value_t::binary:  // never meant for a log line
            return "[binary]";
        default:
            return nullptr;
    }
}

}  // namespace

util::Result<std::unique_ptr<FileEventSink>> FileEventSink::open(const std::string& path,
                                                                 util::Clock& clock) {
    if (path == "-") {
        auto sink = std::unique_ptr<FileEventSink>(new FileEventSink(stdout, false, clock));
        sink->m_path = "stdout";
        return sink;
    }
    auto parent = std::filesystem::path(path).parent_path();
    if (!parent.empty()) {
        TRY(util::make_dirs(parent.string()));
    }
    std::FILE* f = std::fopen(path.c_str(), "a");
    if (f == nullptr) {
        return util::io_error("events: cannot open \"" + path + "\" for appending", errno);
    }
    auto sink = std::unique_ptr<FileEventSink>(new FileEventSink(f, true, clock));
    sink->m_path = path;
    return sink;
}

FileEventSink::FileEventSink(std::FILE* f, bool owned, util::Clock& clock)
    : m_file(f), m_owned(owned), m_clock(clock) {}

FileEventSink::~FileEventSink() {
    std::lock_guard<std::mutex> lock(m_mutex);
    if (m_owned) {
        std::fclose(m_file);
    } else {
        std::fflush(m_file);
    }
}

void FileEventSink::emit(const std::string& event, const nlohmann::json& fields) {
    ordered_json line = ordered_json::object();
    line["ts"] = m_clock.unix_ms();
    line["event"] = util::redact(event);
    if (fields.is_object()) {
        ordered_json clean = redacted(fields);
        for (auto& [key, value] : clean.items()) {
            if (key != "ts" && key != "event") {  // ours; a field cannot overwrite them
                line[key] = std::move(value);
            }
        }
    } else if (!fields.is_null()) {
        line["fields"] = redacted(fields);  // a caller's mistake, kept rather than lost
    }
    std::string text = line.dump(-1, ' ', false, ordered_json::error_handler_t::replace);
    text.push_back('\n');

    std::lock_guard<std::mutex> lock(m_mutex);
    errno = 0;
    const bool written = std::fwrite(text.data(), 1, text.size(), m_file) == text.size();
    if (!(written && std::fflush(m_file) == 0)) {
        note_failure_locked();
    }
}

void FileEventSink::note_failure_locked() {
    ++m_lost;
    if (m_error.empty()) {
        m_error = errno != 0 ? std::strerror(errno) : "write failed";
    }
    std::clearerr(m_file);
}

void FileEventSink::flush() {
    std::lock_guard<std::mutex> lock(m_mutex);
    errno = 0;
    if (std::fflush(m_file) != 0) {
        note_failure_locked();
    }
}

util::Status FileEventSink::status() const {
    std::lock_guard<std::mutex> lock(m_mutex);
    if (m_error.empty()) {
        return util::ok_status();
    }
    return util::error(util::Code::storage_io, "events: " + std::to_string(m_lost) +
                                                   " event(s) could not be written to \"" + m_path +
                                                   "\": " + m_error);
}

}  // namespace assetgen::report
