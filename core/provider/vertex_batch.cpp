// How this works: every Vertex call goes through one helper that takes a token, sends, turns a
// non-2xx answer into a Status (parse_gemini_error: Vertex answers google.rpc.Status as the
// Gemini API does) and scrubs the token from any message; idempotent calls run in
// util::retry_loop. The files live in Cloud Storage behind the Storage seam: the input goes up
// with put_from_fd (a resumable session, one chunk at a time), the predictions come back with
// read_to (ranged reads pinned to one generation, each retried at its own offset by the store's
// one retry loop, run here under this client's policy) into the LineSplitter the Gemini client
// uses. Endpoints: https://cloud.google.com/vertex-ai/docs/reference/rest/v1/
// projects.locations.batchPredictionJobs (create, get, list, cancel).

#include "provider/vertex_batch.hpp"
#include "provider/scrub.hpp"
#include "storage/gcs_url.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <utility>

#include "provider/gemini_provider.hpp"
#include "provider/gemini_wire.hpp"
#include "provider/vertex_batch_wire.hpp"
#include "storage/gcs_storage.hpp"
#include "storage/gcs_url.hpp"
#include "util/text.hpp"

namespace assetgen::provider {
namespace {

using util::Code;
using util::Status;

bool is_path_safe(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '_' || c == '.';
    });
}

// "projects/{p}/locations/{l}/batchPredictionJobs/{id}" with plain segments.
bool is_job_name(std::string_view name) {
    const std::string_view shape[] = {"projects", "", "locations", "", "batchPredictionJobs", ""};
    std::size_t at = 0;
    for (std::size_t i = 0; i < std::size(shape); ++i) {
        const auto slash = name.find('/', at);
        const std::string_view part =
            name.substr(at, slash == std::string_view::npos ? std::string_view::npos : slash - at);
        if ((shape[i].empty() && !is_path_safe(part)) || (!shape[i].empty() && part != shape[i])) {
            return false;
        }
        if ((slash == std::string_view::npos) != (i + 1 == std::size(shape))) {
            return false;
        }
        at = slash + 1;
    }
    return true;
}

Status bad_name(const std::string& what, const std::string& name) {
    return Status(Code::invalid_input,
                  "vertex batch: " + what + ": not a job name \"" + util::redact(name) + "\"");
}

// The folder of a location ("gs://b/p/D/input.jsonl" → "gs://b/p/D").
std::string folder_of(const std::string& location) {
    const auto slash = location.rfind('/');
    return slash == std::string::npos ? std::string() : location.substr(0, slash);
}

}  // namespace

VertexBatchClient::VertexBatchClient(VertexBatchOptions options, net::HttpTransport& transport,
                                     util::Clock& clock, auth::TokenSource& tokens,
                                     storage::Storage& staging, util::RetryHooks hooks)
    : m_options(std::move(options)),
      m_transport(transport),
      m_clock(clock),
      m_tokens(tokens),
      m_staging(staging),
      m_hooks(std::move(hooks)) {
    if (m_options.api_base.empty()) {
        m_options.api_base = vertex_default_base(m_options.location);
    }
    while (!m_options.api_base.empty() && m_options.api_base.back() == '/') {
        m_options.api_base.pop_back();
    }
    while (!m_options.staging.empty() && m_options.staging.back() == '/') {
        m_options.staging.pop_back();
    }
}

std::string VertexBatchClient::jobs_url() const {
    return m_options.api_base + "/" + m_options.api_version + "/projects/" + m_options.project +
           "/locations/" + m_options.location + "/batchPredictionJobs";
}

Status VertexBatchClient::check_config() const {
    if (!is_path_safe(m_options.project)) {
        return Status(Code::config, "vertex batch: project \"" + m_options.project +
                                        "\" is not a valid project id; give --project");
    }
    if (!is_path_safe(m_options.location)) {
        return Status(Code::config, "vertex batch: location \"" + m_options.location +
                                        "\" is not a valid location");
    }
    return util::ok_status();
}

util::Result<net::HttpResponse> VertexBatchClient::call(net::HttpRequest request,
                                                        const std::string& what) {
    auto token = m_tokens.token();
    if (!token.ok()) {
        return scrub(Status(token.status().code(), what + ": " + token.status().message()), "");
    }
    request.headers.emplace_back("Authorization", "Bearer " + token.value());
    auto sent = m_transport.send(request);
    if (!sent.ok()) {
        return scrub(Status(sent.status().code(), what + ": " + sent.status().message()),
                     token.value());
    }
    net::HttpResponse& r = sent.value();
    if (r.status >= 200 && r.status < 300) {
        return std::move(r);
    }
    return scrub(
        batch_call_error(r.status, r.body, r.header("retry-after"), m_clock.unix_ms(), what),
        token.value());
}

util::Result<net::HttpResponse> VertexBatchClient::call_retried(const net::HttpRequest& request,
                                                                const std::string& what) {
    auto outcome = util::retry_loop(
        m_clock, m_options.retry, [&](int) { return call(request, what); },
        util::classify_transient, m_hooks);
    if (!outcome.ok()) {
        return util::with_attempts(outcome.value.status(), outcome.attempts);
    }
    return std::move(outcome.value);
}

std::string VertexBatchClient::request_line(std::string_view key,
                                            const ImageRequest& request) const {
    return build_vertex_batch_line(key, request);
}

util::Result<std::string> VertexBatchClient::stage_input(const std::string& path,
                                                         const std::string& display_name) {
    if (m_options.staging.empty()) {
        return Status(Code::config,
                      "vertex batch: no staging prefix; set --batch-staging gs://bucket/prefix");
    }
    if (!is_path_safe(display_name)) {
        return Status(Code::invalid_input,
                      "vertex batch: display name \"" + display_name + "\" is not plain");
    }
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return util::io_error(path + ": cannot open the batch request file", errno);
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        const int e = errno;
        ::close(fd);
        return util::io_error(path + ": cannot stat the batch request file", e);
    }
    const std::string location = m_options.staging + "/" + display_name + "/input.jsonl";
    Status put = m_staging.put_from_fd(location, fd, static_cast<std::uint64_t>(st.st_size),
                                       "application/jsonl");
    ::close(fd);
    if (!put.ok()) {
        return Status(put.code(), "vertex batch: staging the input: " + put.message());
    }
    return location;
}

util::Result<BatchInfo> VertexBatchClient::create(const std::string& model,
                                                  const std::string& display_name,
                                                  const std::string& input) {
    TRY(check_config());
    auto publisher = vertex_publisher_model(model);
    if (!publisher.ok()) {
        return publisher.status();
    }
    if (display_name.empty()) {
        return Status(Code::invalid_input, "batchPredictionJobs.create: an empty display name");
    }
    const std::string folder = folder_of(input);
    if (folder.empty() || input.find('\n') != std::string::npos) {
        return Status(Code::invalid_input,
                      "batchPredictionJobs.create: input \"" + input + "\" is not a staged file");
    }
    net::HttpRequest r;
    r.timeout = m_options.timeout;
    r.method = "POST";
    r.url = jobs_url();
    r.headers.emplace_back("Content-Type", "application/json");
    r.body = build_vertex_job_body(display_name, *publisher, input, folder + "/output/");
    auto sent = call(std::move(r), "batchPredictionJobs.create");
    if (!sent.ok()) {
        return sent.status();
    }
    return parse_vertex_job(sent->body);
}

util::Result<std::optional<BatchInfo>> VertexBatchClient::find(const std::string& display_name) {
    TRY(check_config());
    std::string token;
    std::optional<BatchInfo> found;
    std::string found_time;
    const std::string filter = "display_name=\"" + display_name + "\"";
    for (int page = 0; page < m_options.max_list_pages; ++page) {
        net::HttpRequest r;
        r.timeout = m_options.timeout;
        r.url = jobs_url() + "?pageSize=" + std::to_string(m_options.list_page_size) +
                "&filter=" + storage::percent_encode(filter);
        if (!token.empty()) {
            r.url += "&pageToken=" + storage::percent_encode(token);
        }
        r.max_response_bytes = 64u << 20;
        auto got = call_retried(r, "batchPredictionJobs.list");
        if (!got.ok()) {
            return got.status();
        }
        auto parsed = parse_vertex_job_page(got->body);
        if (!parsed.ok()) {
            return parsed.status();
        }
        for (std::size_t i = 0; i < parsed->jobs.size(); ++i) {
            BatchInfo& job = parsed->jobs[i];
            // The filter is the server's; the name is checked here too. Newest by createTime.
            if (job.display_name == display_name &&
                (!found || parsed->create_times[i] > found_time)) {
                found_time = parsed->create_times[i];
                found = std::move(job);
            }
        }
        if (parsed->next_page_token.empty() || parsed->next_page_token == token) {
            return found;
        }
        token = parsed->next_page_token;
    }
    return Status(Code::bad_response, "batchPredictionJobs.list: more than " +
                                          std::to_string(m_options.max_list_pages) + " pages");
}

util::Result<BatchInfo> VertexBatchClient::create_or_find(const std::string& model,
                                                          const std::string& display_name,
                                                          const std::string& input) {
    return find_or_create_once([&] { return find(display_name); },
                               [&] { return create(model, display_name, input); },
                               "job \"" + display_name + "\"");
}

util::Result<BatchInfo> VertexBatchClient::get(const std::string& name) {
    if (!is_job_name(name)) {
        return bad_name("batchPredictionJobs.get", name);
    }
    net::HttpRequest r;
    r.timeout = m_options.timeout;
    r.url = m_options.api_base + "/" + m_options.api_version + "/" + name;
    r.max_response_bytes = 16u << 20;
    auto got = call_retried(r, "batchPredictionJobs.get");
    if (!got.ok()) {
        return got.status();
    }
    return parse_vertex_job(got->body);
}

Status VertexBatchClient::cancel(const std::string& name) {
    if (!is_job_name(name)) {
        return bad_name("batchPredictionJobs.cancel", name);
    }
    net::HttpRequest r;
    r.timeout = m_options.timeout;
    r.method = "POST";
    r.url = m_options.api_base + "/" + m_options.api_version + "/" + name + ":cancel";
    r.headers.emplace_back("Content-Type", "application/json");
    r.body = "{}";
    auto done = call_retried(r, "batchPredictionJobs.cancel");
    return done.ok() ? util::ok_status() : done.status();
}

util::Result<DownloadStats> VertexBatchClient::download_results(
    const BatchInfo& info, const std::function<Status(BatchResult&&)>& on_result) {
    if (info.responses_file.empty()) {
        return Status(Code::bad_response, "vertex batch: job \"" + info.name +
                                              "\" names no output directory (state " +
                                              std::string(batch_state_name(info.state)) + ")");
    }
    std::string folder = info.responses_file;
    while (!folder.empty() && folder.back() == '/') {
        folder.pop_back();
    }
    auto listed = m_staging.list(folder + "/");
    if (!listed.ok()) {
        return Status(listed.status().code(),
                      "vertex batch: listing the output: " + listed.status().message());
    }
    std::vector<std::string> files;
    for (const std::string& location : *listed) {
        if (is_vertex_predictions_file(location)) {
            files.push_back(location);
        }
    }
    std::sort(files.begin(), files.end());
    if (files.empty()) {
        return Status(Code::bad_response,
                      "vertex batch: no predictions*.jsonl in \"" + folder + "\"");
    }
    DownloadStats total;
    const std::function<Status(std::string_view)> on_line = [&](std::string_view line) {
        return on_result(parse_vertex_prediction_line(line));
    };
    for (const std::string& file : files) {
        DownloadStats stats;
        LineSplitter lines(on_line, m_options.max_result_line_bytes, stats);
        storage::ReadOptions read;
        read.retry.policy = m_options.retry;
        read.retry.on_retry = [&](const util::RetryNotice& notice) {
            stats.resumed += 1;  // a ranged read taken up again at its own offset
            if (m_hooks.on_retry) {
                m_hooks.on_retry(notice);
            }
        };
        auto got = m_staging.read_to(
            file, [&](std::string_view piece) { return lines.feed(piece); }, read);
        if (!got.ok()) {
            return Status(got.status().code(),
                          "vertex batch: reading " + file + ": " + got.status().message());
        }
        TRY(lines.end());
        total.bytes += stats.bytes;
        total.lines += stats.lines;
        total.resumed += stats.resumed;
        total.longest_line = std::max(total.longest_line, stats.longest_line);
    }
    return total;
}

Status VertexBatchClient::discard_input(const std::string& input) {
    if (!storage::is_gcs(input)) {
        std::error_code ec;
        std::filesystem::remove(input, ec);
        return ec ? util::io_error(input + ": cannot remove the staged input", ec.value())
                  : util::ok_status();
    }
    auto* gcs = dynamic_cast<storage::GcsStorage*>(&m_staging);
    if (gcs == nullptr) {
        return util::ok_status();  // a store without deletes: the object stays (best effort)
    }
    auto url = storage::parse_gcs_url(input);
    if (!url.ok()) {
        return url.status();
    }
    Status s = gcs->client().remove(*url);
    return (s.ok() || s.code() == Code::not_found) ? util::ok_status() : s;
}

}  // namespace assetgen::provider
