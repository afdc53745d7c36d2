#pragma once
// The event stream (--events FILE|-): JSON lines "started", "item_complete", "error", "done"
// (the reference platform's four) plus "retry", "circuit", "budget", "progress". Each line is
// {"ts": <ms>, "event": "<type>", ...fields}. Thread-safe; every string passes util::redact.

#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "util/clock.hpp"
#include "util/status.hpp"

namespace assetgen::report {

class EventSink {
public:
    virtual ~EventSink() = default;
    // fields must be a JSON object; "ts" and "event" are added in front.
    virtual void emit(const std::string& event, const nlohmann::json& fields) = 0;
    virtual void flush() {}
    // STORAGE_IO once an event could not be written (the disk is full, the pipe closed): the
    // events after it may be lost too. ok otherwise.
    virtual util::Status status() const { return util::ok_status(); }
};

// Discards everything (no --events).
class NullEventSink final : public EventSink {
public:
    void emit(const std::string&, const nlohmann::json&) override {}
};

// Writes lines to a file ("-" = stdout). STORAGE_IO when the file cannot be opened.
class FileEventSink final : public EventSink {
public:
    static util::Result<std::unique_ptr<FileEventSink>> open(const std::string& path,
                                                             util::Clock& clock);
    ~FileEventSink() override;
    void emit(const std::string& event, const nlohmann::json& fields) override;
    void flush() override;
    util::Status status() const override;

private:
    FileEventSink(std::FILE* f, bool owned, util::Clock& clock);
    void note_failure_locked();
    std::FILE* m_file;
    bool m_owned;
    util::Clock& m_clock;
    mutable std::mutex m_mutex;
    std::string m_path;
    std::string m_error;  // the first write failure, "" while every line was written
    std::uint64_t m_lost = 0;
};

}  // namespace assetgen::report
