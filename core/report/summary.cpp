#include "report/summary.hpp"

#include "util/money.hpp"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <utility>

#include <nlohmann/json.hpp>

namespace assetgen::report {
namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
    y -= m <= 2 ? 1 : 0;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

// "YYYY-MM-DDTHH:MM:SS.mmmZ" (util::utc_timestamp) back to Unix milliseconds.
std::optional<std::int64_t> parse_utc_timestamp(const std::string& text) {
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, ms = 0;
    char z = 0;
    if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3d%c", &y, &mo, &d, &h, &mi, &sec, &ms,
                    &z) != 8 ||
        z != 'Z' || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 ||
        sec < 0 || sec > 60 || ms < 0) {
        return std::nullopt;
    }
    const std::int64_t days =
        days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
    return ((days * 24 + h) * 60 + mi) * 60'000 + sec * 1000 + ms;
}

// Reads j[name] into out when present; a present field of the wrong type is a problem.
class FieldReader {
public:
    FieldReader(const nlohmann::json& j, std::string where) : m_j(j), m_where(std::move(where)) {}

    void count(const char* name, std::uint64_t& out, bool required = false) {
        const nlohmann::json* f = find(name, required);
        if (f == nullptr) {
            return;
        }
        if (!f->is_number_unsigned() && !(f->is_number_integer() && f->get<std::int64_t>() >= 0)) {
            problem(name, "not a whole number");
            return;
        }
        out = f->get<std::uint64_t>();
    }
    void text(const char* name, std::string& out) {
        if (const nlohmann::json* f = find(name, false)) {
            if (f->is_string()) {
                out = f->get<std::string>();
            } else {
                problem(name, "not a string");
            }
        }
    }
    void number(const char* name, double& out) {
        if (const nlohmann::json* f = find(name, false)) {
            if (f->is_number()) {
                out = f->get<double>();
            } else {
                problem(name, "not a number");
            }
        }
    }
    void dollars(const char* name, util::Micros& out) {
        double d = 0;
        if (find(name, false) != nullptr) {
            number(name, d);
            out = util::to_micros(d);
        }
    }
    void timestamp(const char* name, std::int64_t& out) {
        std::string t;
        text(name, t);
        if (!t.empty()) {
            if (auto ms = parse_utc_timestamp(t)) {
                out = *ms;
            } else {
                problem(name, "\"" + t + "\" is not a UTC timestamp");
            }
        }
    }
    const nlohmann::json* find(const char* name, bool required) {
        if (!m_j.contains(name) || m_j[name].is_null()) {
            if (required) {
                problem(name, "missing");
            }
            return nullptr;
        }
        return &m_j[name];
    }
    void problem(const std::string& name, const std::string& what) {
        if (m_first.empty()) {
            m_first = m_where + ": " + name + ": " + what;
        }
    }
    // Takes over the first problem of a reader of a nested object.
    void adopt(const FieldReader& nested) {
        if (m_first.empty()) {
            m_first = nested.m_first;
        }
    }
    const std::string& first_problem() const { return m_first; }

private:
    const nlohmann::json& m_j;
    std::string m_where;
    std::string m_first;
};

}  // namespace

nlohmann::json to_json(const Summary& s) {
    nlohmann::json j;
    j["v"] = 1;
    j["jobId"] = s.job_id;
    j["mode"] = s.mode;
    j["model"] = s.model;
    j["userId"] = s.user;
    j["status"] = std::string(run_status_text(s.status));
    j["started"] = util::utc_timestamp(s.started_ms);
    j["finished"] = util::utc_timestamp(s.finished_ms);
    j["rows"] = s.rows;
    j["rowsOk"] = s.rows_ok;
    j["rowsFailed"] = s.rows_failed;
    j["imagesPlanned"] = s.images_planned;
    j["imagesGenerated"] = s.images_generated;
    j["imagesSkipped"] = s.images_skipped;
    j["requests"] = s.requests;
    j["retries"] = s.retries;
    j["errors"] = s.errors;
    j["errorsByCode"] = s.errors_by_code;
    const auto attempted = s.images_generated + s.errors;
    j["errorRate"] =
        attempted ? static_cast<double>(s.errors) / static_cast<double>(attempted) : 0.0;
    j["latencyMs"] = {{"count", s.latency_ms.count()},      {"p50", s.latency_ms.percentile(50)},
                      {"p90", s.latency_ms.percentile(90)}, {"p95", s.latency_ms.percentile(95)},
                      {"p99", s.latency_ms.percentile(99)}, {"max", s.latency_ms.max()}};
    j["wallSeconds"] = s.wall_seconds;
    j["imagesPerSecond"] =
        s.wall_seconds > 0 ? static_cast<double>(s.images_generated) / s.wall_seconds : 0.0;
    j["sizeMismatch"] = s.size_mismatch;
    j["estimatedCostUsd"] = util::to_dollars(s.estimated_cost);
    j["actualCostUsd"] = util::to_dollars(s.actual_cost);
    j["budget"] = {{"limitUsd", util::to_dollars(s.budget_limit)},
                   {"spentBeforeUsd", util::to_dollars(s.budget_spent_before)},
                   {"overshootUsd", util::to_dollars(s.budget_overshoot)},
                   {"overrunRequests", s.overrun_requests},
                   {"reservationOverrunUsd", util::to_dollars(s.reservation_overrun)}};
    j["refs"] = {{"named", s.refs_named},
                 {"fetched", s.refs_fetched},
                 {"cacheHits", s.refs_cache_hits},
                 {"deduplicated", s.refs_deduplicated},
                 {"bytesFetched", s.refs_bytes_fetched},
                 {"droppedByCap", s.refs_dropped_by_cap},
                 {"failed", s.refs_failed},
                 {"planned", s.refs_planned},
                 {"dedupRate", s.refs_named ? static_cast<double>(s.refs_deduplicated) /
                                                  static_cast<double>(s.refs_named)
                                            : 0.0}};
    j["urlRefreshes"] = s.url_refreshes;
    j["circuitOpens"] = s.circuit_opens;
    if (!s.first_error.empty()) {
        j["stoppedBy"] = s.first_error;
    }
    j["latencyHistogram"] = s.latency_ms.to_json();
    if (s.batch) {
        nlohmann::json pending = nlohmann::json::array();
        for (const auto& c : s.batch->pending) {
            pending.push_back({{"name", c.name},
                               {"state", c.state},
                               {"requests", c.requests},
                               {"done", c.done},
                               {"reservedUsd", util::to_dollars(c.reserved)}});
        }
        j["batch"] = {{"pending", std::move(pending)},
                      {"reservedPendingUsd", util::to_dollars(s.batch->reserved_pending)},
                      {"rowsPending", s.batch->rows_pending},
                      {"chunksCreated", s.batch->chunks_created},
                      {"chunksCollected", s.batch->chunks_collected},
                      {"retryTier", s.batch->retry_tier},
                      {"retried", s.batch->retried}};
    }
    return j;
}

void merge_into(Summary& total, const Summary& part) {
    // A total that has not started yet is empty: it takes the first part's spend-before.
    const bool first = total.started_ms == 0 && total.finished_ms == 0;
    auto take_text = [](std::string& into, const std::string& from) {
        if (!from.empty()) {
            into = from;
        }
    };
    take_text(total.job_id, part.job_id);
    take_text(total.mode, part.mode);
    take_text(total.model, part.model);
    take_text(total.user, part.user);
    if (part.status) {
        total.status = part.status;
    }
    if (part.started_ms != 0 && (total.started_ms == 0 || part.started_ms < total.started_ms)) {
        total.started_ms = part.started_ms;
    }
    total.finished_ms = std::max(total.finished_ms, part.finished_ms);
    total.rows += part.rows;
    total.rows_ok += part.rows_ok;
    total.rows_failed += part.rows_failed;
    total.images_planned += part.images_planned;
    total.images_generated += part.images_generated;
    total.images_skipped += part.images_skipped;
    total.requests += part.requests;
    total.retries += part.retries;
    total.errors += part.errors;
    for (const auto& [code, n] : part.errors_by_code) {
        total.errors_by_code[code] += n;
    }
    total.latency_ms.merge(part.latency_ms);
    total.wall_seconds += part.wall_seconds;
    total.estimated_cost += part.estimated_cost;
    total.actual_cost += part.actual_cost;
    if (part.budget_limit != 0) {
        total.budget_limit = part.budget_limit;
    }
    if (first) {
        total.budget_spent_before = part.budget_spent_before;
    }
    total.budget_overshoot = std::max(total.budget_overshoot, part.budget_overshoot);
    total.overrun_requests += part.overrun_requests;
    total.size_mismatch += part.size_mismatch;
    total.reservation_overrun = util::add_sat(total.reservation_overrun, part.reservation_overrun);
    total.refs_named += part.refs_named;
    total.refs_fetched += part.refs_fetched;
    total.refs_cache_hits += part.refs_cache_hits;
    total.refs_deduplicated += part.refs_deduplicated;
    total.refs_bytes_fetched += part.refs_bytes_fetched;
    total.refs_dropped_by_cap += part.refs_dropped_by_cap;
    total.refs_failed += part.refs_failed;
    total.refs_planned += part.refs_planned;
    total.url_refreshes += part.url_refreshes;
    total.circuit_opens += part.circuit_opens;
    take_text(total.first_error, part.first_error);
}

util::Result<Summary> summary_from_json(const nlohmann::json& j, const std::string& where) {
    if (!j.is_object()) {
        return util::error(util::Code::invalid_input,
                           where + ": not a JSON object (a summary.json)");
    }
    if (!j.contains("v") || j["v"] != 1) {
        return util::error(
            util::Code::invalid_input,
            where + ": v: \"" +
                (j.contains("v")
                     ? j["v"].dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
                     : std::string()) +
                "\" is not a summary version this assetgen reads (1)");
    }
    Summary s;
    FieldReader r(j, where);
    r.text("jobId", s.job_id);
    r.text("mode", s.mode);
    r.text("model", s.model);
    r.text("userId", s.user);
    std::string status;
    r.text("status", status);
    s.status = parse_run_status(status);  // a status this build does not know stays unset
    r.timestamp("started", s.started_ms);
    r.timestamp("finished", s.finished_ms);
    r.count("rows", s.rows);
    r.count("rowsOk", s.rows_ok);
    r.count("rowsFailed", s.rows_failed);
    r.count("imagesPlanned", s.images_planned);
    r.count("imagesGenerated", s.images_generated, true);
    r.count("imagesSkipped", s.images_skipped);
    r.count("requests", s.requests);
    r.count("retries", s.retries);
    r.count("errors", s.errors, true);
    if (const nlohmann::json* codes = r.find("errorsByCode", false)) {
        if (!codes->is_object()) {
            r.problem("errorsByCode", "not an object");
        } else {
            FieldReader cr(*codes, where + ": errorsByCode");
            for (const auto& [code, n] : codes->items()) {
                cr.count(code.c_str(), s.errors_by_code[code]);
            }
            r.adopt(cr);
        }
    }
    if (const nlohmann::json* h = r.find("latencyHistogram", true)) {
        if (!h->is_object() || !h->contains("buckets") || !(*h)["buckets"].is_array()) {
            r.problem("latencyHistogram", "not a histogram ({\"count\":..,\"buckets\":[..]})");
        } else {
            s.latency_ms = Histogram::from_json(*h);
            if (h->contains("count") && (*h)["count"] != s.latency_ms.count()) {
                r.problem("latencyHistogram",
                          "count " +
                              (*h)["count"].dump(-1, ' ', false,
                                                 nlohmann::json::error_handler_t::replace) +
                              " does not match its buckets (" +
                              std::to_string(s.latency_ms.count()) + ")");
            }
        }
    }
    r.number("wallSeconds", s.wall_seconds);
    r.count("sizeMismatch", s.size_mismatch);
    r.dollars("estimatedCostUsd", s.estimated_cost);
    r.dollars("actualCostUsd", s.actual_cost);
    if (const nlohmann::json* b = r.find("budget", false); b != nullptr && b->is_object()) {
        FieldReader br(*b, where + ": budget");
        br.dollars("limitUsd", s.budget_limit);
        br.dollars("spentBeforeUsd", s.budget_spent_before);
        br.dollars("overshootUsd", s.budget_overshoot);
        br.count("overrunRequests", s.overrun_requests);
        br.dollars("reservationOverrunUsd", s.reservation_overrun);
        r.adopt(br);
    }
    if (const nlohmann::json* refs = r.find("refs", false); refs != nullptr && refs->is_object()) {
        FieldReader rr(*refs, where + ": refs");
        rr.count("named", s.refs_named);
        rr.count("fetched", s.refs_fetched);
        rr.count("cacheHits", s.refs_cache_hits);
        rr.count("deduplicated", s.refs_deduplicated);
        rr.count("bytesFetched", s.refs_bytes_fetched);
        rr.count("droppedByCap", s.refs_dropped_by_cap);
        rr.count("failed", s.refs_failed);
        rr.count("planned", s.refs_planned);
        r.adopt(rr);
    }
    r.count("urlRefreshes", s.url_refreshes);
    r.count("circuitOpens", s.circuit_opens);
    r.text("stoppedBy", s.first_error);
    if (!r.first_problem().empty()) {
        return util::error(util::Code::invalid_input, r.first_problem());
    }
    return s;
}

}  // namespace assetgen::report
