// How this works: every call goes through one helper that sends, turns a non-2xx answer into a
// Status (parse_gemini_error: codes, RetryInfo and Retry-After hints) and scrubs the key from
// any message; idempotent calls run in util::retry_loop. The upload is Google's resumable
// protocol (X-Goog-Upload-*; https://ai.google.dev/api/files, media.upload): a start call, then
// chunks read with pread into one reused buffer, each retried after asking the session what it
// kept ("query"). The download streams through HttpRequest::on_body into a line splitter that
// hands whole lines on without copying them when they lie inside one piece; after a broken
// transfer it asks for the rest with Range from the end of the last whole line.

#include "provider/gemini_batch.hpp"
#include "provider/scrub.hpp"
#include "storage/gcs_url.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include <nlohmann/json.hpp>

#include "provider/gemini_wire.hpp"
#include "util/text.hpp"

namespace assetgen::provider {
namespace {

using util::Code;
using util::Status;

// Resource names go into URL paths: "batches/…" or "files/…" with a plain id.
bool is_resource_name(std::string_view name, std::string_view collection) {
    if (!util::starts_with(name, collection) || name.size() == collection.size() ||
        name.size() > 256) {
        return false;
    }
    for (char c : name.substr(collection.size())) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
        if (!ok) {
            return false;
        }
    }
    return true;
}

bool is_plain(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '_' || c == '.';
    });
}

Status bad_name(const std::string& what, const std::string& name) {
    return Status(Code::invalid_input,
                  "batch api: " + what + ": not a resource name \"" + util::redact(name) + "\"");
}

}  // namespace

// ---- GeminiBatchClient ----

GeminiBatchClient::GeminiBatchClient(GeminiBatchOptions options, net::HttpTransport& transport,
                                     util::Clock& clock, util::RetryHooks hooks)
    : m_options(std::move(options)),
      m_transport(transport),
      m_clock(clock),
      m_hooks(std::move(hooks)) {
    while (!m_options.api_base.empty() && m_options.api_base.back() == '/') {
        m_options.api_base.pop_back();
    }
}

std::string GeminiBatchClient::url(const std::string& path) const {
    return m_options.api_base + "/" + m_options.api_version + "/" + path;
}

Status GeminiBatchClient::scrub(const Status& s) const {
    return provider::scrub(s, m_options.api_key);
}

Status GeminiBatchClient::answer_error(const net::HttpResponse& r, const std::string& what) const {
    return batch_call_error(r.status, r.body, r.header("retry-after"), m_clock.unix_ms(), what);
}

util::Result<net::HttpResponse> GeminiBatchClient::call(net::HttpRequest request,
                                                        const std::string& what) {
    if (m_options.api_key.empty()) {
        return Status(Code::unauthenticated,
                      "batch api: no API key (set GEMINI_API_KEY or GOOGLE_API_KEY)");
    }
    request.headers.emplace_back("x-goog-api-key", m_options.api_key);
    auto sent = m_transport.send(request);
    if (!sent.ok()) {
        return scrub(Status(sent.status().code(), what + ": " + sent.status().message()));
    }
    net::HttpResponse& r = sent.value();
    if (r.status >= 200 && r.status < 300) {
        if (request.on_body && !r.body.empty()) {  // a transport that does not stream
            Status s = request.on_body(r, r.body);
            r.body.clear();
            if (!s.ok()) {
                return s;
            }
        }
        return std::move(r);
    }
    return scrub(answer_error(r, what));
}

util::Result<net::HttpResponse> GeminiBatchClient::call_retried(const net::HttpRequest& request,
                                                                const std::string& what) {
    auto outcome = util::retry_loop(
        m_clock, m_options.retry, [&](int) { return call(request, what); },
        util::classify_transient, m_hooks);
    if (!outcome.ok()) {
        return util::with_attempts(outcome.value.status(), outcome.attempts);
    }
    return std::move(outcome.value);
}

util::Result<FileInfo> GeminiBatchClient::upload_file(const std::string& path,
                                                      const std::string& display_name,
                                                      const std::string& mime_type) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return util::io_error(path + ": cannot open the batch request file", errno);
    }
    auto result = upload_file(fd, display_name, mime_type);
    ::close(fd);
    return result;
}

util::Result<FileInfo> GeminiBatchClient::upload_file(int fd, const std::string& display_name,
                                                      const std::string& mime_type) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        return util::io_error("batch request file: cannot stat", errno);
    }
    const auto total = static_cast<std::int64_t>(st.st_size);
    if (total > k_batch_input_file_max_bytes) {
        return Status(Code::invalid_input,
                      "batch upload: the request file has " + std::to_string(total) +
                          " bytes, over the Batch API's 2 GB input limit; split the batch");
    }
    // start
    net::HttpRequest start;
    start.timeout = m_options.timeout;
    start.method = "POST";
    start.url = m_options.api_base + "/upload/" + m_options.api_version + "/files";
    start.headers = {{"X-Goog-Upload-Protocol", "resumable"},
                     {"X-Goog-Upload-Command", "start"},
                     {"X-Goog-Upload-Header-Content-Length", std::to_string(total)},
                     {"X-Goog-Upload-Header-Content-Type", mime_type},
                     {"Content-Type", "application/json"}};
    nlohmann::json meta = {{"file", {{"display_name", display_name}}}};
    start.body = meta.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    auto started = call_retried(start, "files upload (start)");
    if (!started.ok()) {
        return started.status();
    }
    const std::string session = started->header("x-goog-upload-url");
    if (session.empty() ||
        !(util::starts_with(session, "https://") || util::starts_with(session, "http://"))) {
        return Status(Code::bad_response,
                      "files upload (start): no X-Goog-Upload-URL in the answer");
    }
    std::size_t granularity = 0;
    for (char c : started->header("x-goog-upload-chunk-granularity")) {
        if (c < '0' || c > '9' || granularity > (std::size_t{1} << 40)) {
            granularity = 0;
            break;
        }
        granularity = granularity * 10 + static_cast<std::size_t>(c - '0');
    }
    std::size_t chunk = m_options.upload_chunk_bytes;
    if (granularity > 0) {
        chunk = std::max(granularity, chunk / granularity * granularity);
    }

    // The session URL needs no key (it is the credential), so the key is not sent to it.
    auto send_session = [&](net::HttpRequest r, const std::string& what) {
        r.method = "POST";
        r.url = session;
        r.timeout = m_options.transfer_timeout;
        auto sent = m_transport.send(r);
        if (!sent.ok()) {
            return util::Result<net::HttpResponse>(
                scrub(Status(sent.status().code(), what + ": " + sent.status().message())));
        }
        if (sent->status < 200 || sent->status >= 300) {
            return util::Result<net::HttpResponse>(scrub(answer_error(*sent, what)));
        }
        return sent;
    };

    std::string buffer;
    std::int64_t offset = 0;
    for (;;) {
        auto outcome = util::retry_loop(
            m_clock, m_options.retry,
            [&](int attempt) -> util::Result<net::HttpResponse> {
                if (attempt > 1) {  // what did the session keep?
                    net::HttpRequest q;
                    q.headers = {{"X-Goog-Upload-Command", "query"}};
                    auto kept = send_session(q, "files upload (query)");
                    if (!kept.ok()) {
                        return kept.status();
                    }
                    const std::string received = kept->header("x-goog-upload-size-received");
                    std::int64_t n = 0;
                    for (char c : received) {
                        n = (c >= '0' && c <= '9') ? n * 10 + (c - '0') : -1;
                        if (n < 0) {
                            break;
                        }
                    }
                    if (received.empty() || n < 0 || n > total) {
                        return Status(
                            Code::bad_response,
                            "files upload (query): no usable X-Goog-Upload-Size-Received");
                    }
                    offset = n;
                }
                const auto size = static_cast<std::size_t>(
                    std::min<std::int64_t>(static_cast<std::int64_t>(chunk), total - offset));
                buffer.resize(size);
                std::size_t got = 0;
                while (got < size) {
                    const ssize_t n = ::pread(fd, buffer.data() + got, size - got,
                                              static_cast<off_t>(offset) + static_cast<off_t>(got));
                    if (n < 0 && errno == EINTR) {
                        continue;
                    }
                    if (n <= 0) {
                        return util::io_error("batch request file: cannot read",
                                              n < 0 ? errno : EIO);
                    }
                    got += static_cast<std::size_t>(n);
                }
                const bool last = offset + static_cast<std::int64_t>(size) >= total;
                net::HttpRequest r;
                r.timeout = m_options.timeout;
                r.headers = {{"X-Goog-Upload-Command", last ? "upload, finalize" : "upload"},
                             {"X-Goog-Upload-Offset", std::to_string(offset)},
                             {"Content-Type", "application/octet-stream"}};
                r.body = std::move(buffer);
                auto sent = send_session(std::move(r),
                                         "files upload (chunk at " + std::to_string(offset) + ")");
                buffer.clear();
                if (sent.ok()) {
                    offset += static_cast<std::int64_t>(size);
                }
                return sent;
            },
            util::classify_transient, m_hooks);
        if (!outcome.ok()) {
            return util::with_attempts(outcome.value.status(), outcome.attempts);
        }
        if (offset >= total) {
            auto file = parse_file(outcome.value->body);
            if (!file.ok()) {
                return Status(file.status().code(), "files upload: " + file.status().message());
            }
            return file;
        }
    }
}

util::Result<FileInfo> GeminiBatchClient::get_file(const std::string& name) {
    if (!is_resource_name(name, "files/")) {
        return bad_name("files.get", name);
    }
    net::HttpRequest r;
    r.timeout = m_options.timeout;
    r.url = url(name);
    auto got = call_retried(r, "files.get");
    if (!got.ok()) {
        return got.status();
    }
    return parse_file(got->body);
}

Status GeminiBatchClient::delete_file(const std::string& name) {
    if (!is_resource_name(name, "files/")) {
        return bad_name("files.delete", name);
    }
    net::HttpRequest r;
    r.timeout = m_options.timeout;
    r.method = "DELETE";
    r.url = url(name);
    auto done = call_retried(r, "files.delete");
    if (!done.ok() && done.status().code() != Code::not_found) {
        return done.status();
    }
    return util::ok_status();
}

util::Result<BatchInfo> GeminiBatchClient::create(const std::string& model,
                                                  const std::string& display_name,
                                                  const std::string& input_file) {
    std::string bare = util::starts_with(model, "models/") ? model.substr(7) : model;
    if (!is_plain(bare)) {
        return Status(Code::invalid_input, "batchGenerateContent: model \"" + util::redact(model) +
                                               "\" is not a plain model id");
    }
    if (!is_resource_name(input_file, "files/")) {
        return bad_name("batchGenerateContent", input_file);
    }
    if (display_name.empty()) {
        return Status(Code::invalid_input, "batchGenerateContent: an empty display name");
    }
    nlohmann::json body = {
        {"batch", {{"display_name", display_name}, {"input_config", {{"file_name", input_file}}}}}};
    net::HttpRequest r;
    r.timeout = m_options.timeout;
    r.method = "POST";
    r.url = url("models/" + bare + ":batchGenerateContent");
    r.headers.emplace_back("Content-Type", "application/json");
    r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    auto sent = call(std::move(r), "batchGenerateContent");
    if (!sent.ok()) {
        return sent.status();
    }
    return parse_batch(sent->body);
}

util::Result<std::optional<BatchInfo>> GeminiBatchClient::find(const std::string& display_name) {
    std::string token;
    std::optional<BatchInfo> found;
    for (int page = 0; page < m_options.max_list_pages; ++page) {
        net::HttpRequest r;
        r.timeout = m_options.timeout;
        r.url = url("batches?pageSize=" + std::to_string(m_options.list_page_size));
        if (!token.empty()) {
            r.url += "&pageToken=" + storage::percent_encode(token);
        }
        r.max_response_bytes = 64u << 20;
        auto got = call_retried(r, "batches.list");
        if (!got.ok()) {
            return got.status();
        }
        auto parsed = parse_batch_page(got->body);
        if (!parsed.ok()) {
            return parsed.status();
        }
        for (BatchInfo& b : parsed->batches) {
            // The list is newest first: the first match is the one to keep.
            if (b.display_name == display_name && !found) {
                found = std::move(b);
            }
        }
        if (found) {
            return found;
        }
        if (parsed->next_page_token.empty() || parsed->next_page_token == token) {
            return found;
        }
        token = parsed->next_page_token;
    }
    return Status(Code::bad_response,
                  "batches.list: more than " + std::to_string(m_options.max_list_pages) + " pages");
}

util::Result<BatchInfo> GeminiBatchClient::create_or_find(const std::string& model,
                                                          const std::string& display_name,
                                                          const std::string& input_file) {
    return find_or_create_once([&] { return find(display_name); },
                               [&] { return create(model, display_name, input_file); },
                               "batch \"" + display_name + "\"");
}

util::Result<BatchInfo> GeminiBatchClient::get(const std::string& name) {
    if (!is_resource_name(name, "batches/")) {
        return bad_name("batches.get", name);
    }
    net::HttpRequest r;
    r.timeout = m_options.timeout;
    r.url = url(name);
    r.max_response_bytes = 64u << 20;
    auto got = call_retried(r, "batches.get");
    if (!got.ok()) {
        return got.status();
    }
    return parse_batch(got->body);
}

Status GeminiBatchClient::cancel(const std::string& name) {
    if (!is_resource_name(name, "batches/")) {
        return bad_name("batches.cancel", name);
    }
    net::HttpRequest r;
    r.timeout = m_options.timeout;
    r.method = "POST";
    r.url = url(name + ":cancel");
    r.headers.emplace_back("Content-Type", "application/json");
    r.body = "{}";
    auto done = call_retried(r, "batches.cancel");
    return done.ok() ? util::ok_status() : done.status();
}

Status GeminiBatchClient::remove(const std::string& name) {
    if (!is_resource_name(name, "batches/")) {
        return bad_name("batches.delete", name);
    }
    net::HttpRequest r;
    r.timeout = m_options.timeout;
    r.method = "DELETE";
    r.url = url(name);
    auto done = call_retried(r, "batches.delete");
    if (!done.ok() && done.status().code() != Code::not_found) {
        return done.status();
    }
    return util::ok_status();
}

util::Result<DownloadStats> GeminiBatchClient::download_lines(
    const std::string& file_name, const std::function<Status(std::string_view)>& on_line) {
    if (!is_resource_name(file_name, "files/")) {
        return bad_name("results download", file_name);
    }
    DownloadStats stats;
    LineSplitter lines(on_line, m_options.max_result_line_bytes, stats);
    auto outcome = util::retry_loop(
        m_clock, m_options.retry,
        [&](int attempt) -> util::Result<net::HttpResponse> {
            const std::int64_t from = stats.bytes;  // the end of the last whole line
            if (attempt > 1) {
                stats.resumed += 1;
            }
            lines.restart(0);
            bool started = false;  // the first piece of this attempt decides the offset
            net::HttpRequest r;
            r.url = m_options.api_base + "/download/" + m_options.api_version + "/" + file_name +
                    ":download?alt=media";
            r.timeout = m_options.transfer_timeout;
            if (from > 0) {
                r.headers.emplace_back("Range", "bytes=" + std::to_string(from) + "-");
            }
            r.on_body = [&](const net::HttpResponse& head, std::string_view piece) -> Status {
                if (!started) {
                    started = true;
                    if (head.status == 206) {  // the rest, from `from` (check where it starts)
                        const std::string range = head.header("content-range");
                        if (!util::starts_with(range, "bytes " + std::to_string(from) + "-")) {
                            return Status(Code::bad_response,
                                          "results download: asked for bytes from " +
                                              std::to_string(from) + ", got \"" + range + "\"");
                        }
                        lines.restart(0);
                    } else {
                        lines.restart(from);  // the whole file again: skip what was delivered
                    }
                }
                return lines.feed(piece);
            };
            return call(std::move(r), "results download");
        },
        [&](const Status& s) {
            util::RetryClass c = util::classify_transient(s);
            if (lines.sink_failed()) {
                c.retryable = false;
            }
            return c;
        },
        m_hooks);
    if (!outcome.ok()) {
        return util::with_attempts(outcome.value.status(), outcome.attempts);
    }
    Status s = lines.end();
    if (!s.ok()) {
        return s;
    }
    return stats;
}

util::Result<DownloadStats> GeminiBatchClient::download_results(
    const std::string& file_name, const std::function<Status(BatchResult&&)>& on_result) {
    return download_lines(
        file_name, [&](std::string_view line) { return on_result(parse_batch_result_line(line)); });
}

}  // namespace assetgen::provider
