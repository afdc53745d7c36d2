#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "report/metrics.hpp"
#include "support/temp_dir.hpp"
#include "util/atomic_file.hpp"

using namespace assetgen;
using namespace assetgen::report;

namespace {

Summary sample_summary() {
    Summary s;
    s.job_id = "job-0123abcd";
    s.mode = "dry_run";
    s.model = "gemini-2.5-flash-image";
    s.status = report::RunStatus::failed;
    s.started_ms = 1'764'000'000'000;
    s.finished_ms = 1'764'000'012'500;
    s.wall_seconds = 12.5;
    s.rows = 100;
    s.rows_ok = 97;
    s.rows_failed = 3;
    s.images_planned = 199;
    s.images_generated = 190;
    s.images_skipped = 5;
    s.errors = 4;
    s.errors_by_code = {{"BLOCKED", 1}, {"MODEL_RATE_LIMIT", 3}};
    s.requests = 210;
    s.retries = 16;
    for (int i = 0; i < 190; ++i) {
        s.latency_ms.record(40 + i * 50);  // 40 ms .. 9.49 s
    }
    s.actual_cost = 7'410'000;
    s.estimated_cost = 7'605'000;
    s.budget_limit = 10'000'000;
    s.budget_spent_before = 1'000'001;
    s.refs_named = 20;
    s.refs_fetched = 4;
    s.refs_deduplicated = 16;
    s.refs_bytes_fetched = 123456;
    return s;
}

// One parsed sample line: name, labels, value.
struct Sample {
    std::string name;
    std::map<std::string, std::string> labels;
    std::string value;
};

// A strict reader of the subset of the format we write; fails the test on anything else. Also
// checks the format's rules: HELP and TYPE once per family and before its samples, one
// uninterrupted group per family, the last line ends in "\n".
std::vector<Sample> parse_exposition(const std::string& text,
                                     std::map<std::string, std::string>* types = nullptr) {
    REQUIRE(!text.empty());
    REQUIRE(text.back() == '\n');
    static const std::regex k_help(R"(# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*))");
    static const std::regex k_type(
        R"(# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped))");
    static const std::regex k_sample(R"(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+))");
    static const std::regex k_label(R"re(([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?)re");
    std::vector<Sample> out;
    std::map<std::string, std::string> type_of;
    std::set<std::string> helped, finished;
    std::string current;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        std::smatch m;
        if (std::regex_match(line, m, k_help)) {
            INFO(line);
            CHECK(helped.insert(m[1]).second);
            if (m[1] != current) {
                if (!current.empty()) {
                    finished.insert(current);
                }
                CHECK(finished.count(m[1]) == 0);
                current = m[1];
            }
        } else if (std::regex_match(line, m, k_type)) {
            INFO(line);
            CHECK(type_of.emplace(m[1], m[2]).second);
            CHECK(m[1] == current);
        } else if (std::regex_match(line, m, k_sample)) {
            INFO(line);
            Sample s{m[1], {}, m[4]};
            std::string family = s.name;
            for (const char* suffix : {"_bucket", "_sum", "_count"}) {
                std::string sfx = suffix;
                if (!type_of.count(family) && family.size() > sfx.size() &&
                    family.compare(family.size() - sfx.size(), sfx.size(), sfx) == 0) {
                    family.resize(family.size() - sfx.size());
                }
            }
            CHECK(family == current);
            CHECK(type_of.count(family) == 1);
            std::string labels = m[3];
            auto it = labels.cbegin();
            std::smatch lm;
            while (it != labels.cend()) {
                REQUIRE(std::regex_search(it, labels.cend(), lm, k_label,
                                          std::regex_constants::match_continuous));
                s.labels[lm[1]] = lm[2];
                it = lm.suffix().first;
            }
            out.push_back(std::move(s));
        } else {
            FAIL("not an exposition line: " << line);
        }
    }
    if (types) {
        *types = type_of;
    }
    return out;
}

const Sample& find_sample(const std::vector<Sample>& samples, const std::string& name,
                          const std::map<std::string, std::string>& extra = {}) {
    for (const auto& s : samples) {
        if (s.name != name) {
            continue;
        }
        bool match = true;
        for (const auto& [k, v] : extra) {
            auto it = s.labels.find(k);
            match = match && it != s.labels.end() && it->second == v;
        }
        if (match) {
            return s;
        }
    }
    FAIL("no sample " << name);
    static Sample none;
    return none;
}

}  // namespace

TEST_CASE("report: label values escape backslash, double quote and line feed; HELP escapes two",
          "[report]") {
    CHECK(escape_label_value("plain") == "plain");
    CHECK(escape_label_value(R"(C:\DIR\FILE.TXT)") == R"(C:\\DIR\\FILE.TXT)");
    CHECK(escape_label_value("Cannot find file:\n\"FILE.TXT\"") ==
          R"(Cannot find file:\n\"FILE.TXT\")");
    CHECK(escape_label_value("ünï 日本") == "ünï 日本");
    CHECK(escape_help("a\\b\nc \"q\"") == R"(a\\b\nc "q")");
}

TEST_CASE("report: sample values read back as Go's ParseFloat reads them", "[report]") {
    CHECK(format_sample_value(0) == "0");
    CHECK(format_sample_value(1) == "1");
    CHECK(format_sample_value(0.05) == "0.05");
    CHECK(format_sample_value(2.5) == "2.5");
    CHECK(format_sample_value(1764000012.5) == "1764000012.5");
    CHECK(format_sample_value(1764000000) == "1764000000");
    CHECK(format_sample_value(-3) == "-3");
    CHECK(format_sample_value(1e20) == "1e+20");
    CHECK(format_sample_value(0.1 + 0.2) == "0.30000000000000004");
    CHECK(format_sample_value(std::numeric_limits<double>::infinity()) == "+Inf");
    CHECK(format_sample_value(-std::numeric_limits<double>::infinity()) == "-Inf");
    CHECK(format_sample_value(std::nan("")) == "NaN");
    CHECK(format_micros_value(0) == "0");
    CHECK(format_micros_value(39'000) == "0.039");
    CHECK(format_micros_value(7'761'000) == "7.761");
    CHECK(format_micros_value(1'000'000) == "1");
    CHECK(format_micros_value(123'456'789) == "123.456789");
    CHECK(format_micros_value(1) == "0.000001");
    CHECK(format_micros_value(-1'500'000) == "-1.5");
    CHECK(format_micros_value(std::numeric_limits<util::Micros>::min()) == "-9223372036854.775808");
}

TEST_CASE(
    "report: metrics follow the exposition format, one family at a time, counters end in _total",
    "[report]") {
    const Summary s = sample_summary();
    std::map<std::string, std::string> types;
    const auto samples = parse_exposition(render_metrics(s, metrics_labels(s, "2/4")), &types);

    for (const auto& [name, type] : types) {
        INFO(name);
        const bool total = name.size() > 6 && name.compare(name.size() - 6, 6, "_total") == 0;
        CHECK(total == (type == "counter"));
        CHECK(name.rfind("assetgen_", 0) == 0);
    }
    // No timestamps (node_exporter's textfile collector refuses them), every series labelled.
    for (const auto& x : samples) {
        INFO(x.name);
        CHECK(x.labels.at("job_id") == "job-0123abcd");
        CHECK(x.labels.at("mode") == "dry_run");
        CHECK(x.labels.at("model") == "gemini-2.5-flash-image");
        CHECK(x.labels.at("shard") == "2/4");
    }

    CHECK(types.at("assetgen_request_duration_seconds") == "histogram");
    CHECK(find_sample(samples, "assetgen_run_info", {{"status", "failed"}}).value == "1");
    CHECK(find_sample(samples, "assetgen_run_success").value == "0");
    CHECK(find_sample(samples, "assetgen_run_end_timestamp_seconds").value == "1764000012.5");
    CHECK(find_sample(samples, "assetgen_run_duration_seconds").value == "12.5");
    CHECK(find_sample(samples, "assetgen_rows_total").value == "100");
    CHECK(find_sample(samples, "assetgen_rows_failed_total").value == "3");
    CHECK(find_sample(samples, "assetgen_images_planned").value == "199");
    CHECK(find_sample(samples, "assetgen_images_total", {{"outcome", "generated"}}).value == "190");
    CHECK(find_sample(samples, "assetgen_images_total", {{"outcome", "skipped"}}).value == "5");
    CHECK(find_sample(samples, "assetgen_images_total", {{"outcome", "failed"}}).value == "4");
    CHECK(find_sample(samples, "assetgen_requests_total").value == "210");
    CHECK(find_sample(samples, "assetgen_retries_total").value == "16");
    CHECK(find_sample(samples, "assetgen_errors_total", {{"code", "BLOCKED"}}).value == "1");
    CHECK(find_sample(samples, "assetgen_errors_total", {{"code", "MODEL_RATE_LIMIT"}}).value ==
          "3");
    CHECK(find_sample(samples, "assetgen_error_ratio").value == format_sample_value(4.0 / 194.0));
    CHECK(find_sample(samples, "assetgen_cost_usd_total").value == "7.41");
    CHECK(find_sample(samples, "assetgen_estimated_cost_usd_total").value == "7.605");
    CHECK(find_sample(samples, "assetgen_budget_limit_usd").value == "10");
    CHECK(find_sample(samples, "assetgen_budget_spent_before_usd").value == "1.000001");
    CHECK(find_sample(samples, "assetgen_budget_overshoot_usd").value == "0");
    CHECK(find_sample(samples, "assetgen_refs_fetched_bytes_total").value == "123456");
    CHECK(find_sample(samples, "assetgen_refs_deduplicated_total").value == "16");
}

TEST_CASE("report: the latency histogram is cumulative on fixed bounds, +Inf equals _count",
          "[report]") {
    Summary s = sample_summary();
    s.latency_ms = Histogram();
    // Values on and just past the bounds: le is "less than or equal".
    for (std::int64_t v : {0, 50, 51, 100, 999, 1000, 1001, 300'000, 300'001, 900'000}) {
        s.latency_ms.record(v);
    }
    const auto samples = parse_exposition(render_metrics(s, metrics_labels(s)));
    std::vector<std::pair<std::string, std::string>> buckets;
    for (const auto& x : samples) {
        if (x.name == "assetgen_request_duration_seconds_bucket") {
            buckets.emplace_back(x.labels.at("le"), x.value);
        }
    }
    REQUIRE(buckets.size() == k_latency_buckets_seconds.size() + 1);
    for (std::size_t i = 0; i < k_latency_buckets_seconds.size(); ++i) {
        CHECK(buckets[i].first == format_sample_value(k_latency_buckets_seconds[i]));
        if (i > 0) {
            CHECK(k_latency_buckets_seconds[i] > k_latency_buckets_seconds[i - 1]);
        }
    }
    CHECK(buckets.back().first == "+Inf");
    std::map<std::string, std::string> by_le(buckets.begin(), buckets.end());
    CHECK(by_le["0.05"] == "2");
    CHECK(by_le["0.1"] == "4");
    CHECK(by_le["0.5"] == "4");
    CHECK(by_le["1"] == "6");
    CHECK(by_le["2.5"] == "7");
    CHECK(by_le["180"] == "7");
    CHECK(by_le["300"] == "8");
    CHECK(by_le["+Inf"] == "10");
    CHECK(find_sample(samples, "assetgen_request_duration_seconds_count").value == "10");
    CHECK(find_sample(samples, "assetgen_request_duration_seconds_sum").value ==
          format_sample_value(
              (0 + 50 + 51 + 100 + 999 + 1000 + 1001 + 300'000 + 300'001 + 900'000) / 1000.0));
    // The shard label is left out when empty.
    for (const auto& x : samples) {
        CHECK(x.labels.count("shard") == 0);
    }
}

TEST_CASE("report: a spilled latency histogram gives buckets within its 1% resolution",
          "[report]") {
    Summary s = sample_summary();
    s.latency_ms = Histogram();
    // 10,000 requests spread evenly over 0..9,999 ms: exactly (bound + 1) values are <= a bound.
    for (std::int64_t v = 0; v < 10'000; ++v) {
        s.latency_ms.record(v);
    }
    REQUIRE(s.latency_ms.count() > Histogram::k_exact_limit);
    const auto samples = parse_exposition(render_metrics(s, metrics_labels(s)));
    std::uint64_t previous = 0;
    for (double bound : k_latency_buckets_seconds) {
        const auto& b = find_sample(samples, "assetgen_request_duration_seconds_bucket",
                                    {{"le", format_sample_value(bound)}});
        const auto got = std::stoull(b.value);
        const double want = std::min(bound * 1000.0 + 1, 10'000.0);
        INFO("le=" << bound);
        CHECK(got >= previous);
        CHECK(static_cast<double>(got) >= want);
        CHECK(static_cast<double>(got) <= want * 1.01);
        previous = got;
    }
    CHECK(
        find_sample(samples, "assetgen_request_duration_seconds_bucket", {{"le", "+Inf"}}).value ==
        "10000");
}

TEST_CASE("report: odd label values are escaped and an empty run still renders every family",
          "[report]") {
    Summary s;
    s.status = report::RunStatus::ok;
    MetricsLabels l{"job \"1\"", "dry_run", "model\\with\nnewline", ""};
    const std::string text = render_metrics(s, l);
    CHECK(text.find(R"(job_id="job \"1\"")") != std::string::npos);
    CHECK(text.find(R"(model="model\\with\nnewline")") != std::string::npos);
    const auto samples = parse_exposition(text);
    CHECK(find_sample(samples, "assetgen_run_success").value == "1");
    CHECK(
        find_sample(samples, "assetgen_request_duration_seconds_bucket", {{"le", "+Inf"}}).value ==
        "0");
    CHECK(find_sample(samples, "assetgen_request_duration_seconds_sum").value == "0");
    CHECK(find_sample(samples, "assetgen_error_ratio").value == "0");
    CHECK(text.find("assetgen_errors_total") == std::string::npos);  // no codes, no family
}

TEST_CASE("report: the metrics file is replaced whole, readable by others, with no temp file left",
          "[report]") {
    test::TempDir dir;
    const std::string path = dir.file("textfile/assetgen.prom");
    Summary s = sample_summary();
    REQUIRE(write_metrics_file(path, s, metrics_labels(s)).ok());
    CHECK(dir.read("textfile/assetgen.prom") == render_metrics(s, metrics_labels(s)));
    s.status = report::RunStatus::ok;
    REQUIRE(write_metrics_file(path, s, metrics_labels(s)).ok());
    CHECK(dir.read("textfile/assetgen.prom") == render_metrics(s, metrics_labels(s)));
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(dir.file("textfile"))) {
        names.push_back(e.path().filename().string());
    }
    CHECK(names == std::vector<std::string>{"assetgen.prom"});
    const auto perms = std::filesystem::status(path).permissions();
    CHECK((perms & std::filesystem::perms::others_read) != std::filesystem::perms::none);

    // A folder that cannot be created: STORAGE_IO, not a throw.
    dir.write("file", "x");
    auto st = write_metrics_file(dir.file("file/sub/assetgen.prom"), s, metrics_labels(s));
    CHECK(st.code() == util::Code::storage_io);
}

TEST_CASE(
    "report: readers never see a half metrics file, and a writer killed mid-write leaves a whole "
    "one",
    "[report]") {
    test::TempDir dir;
    const std::string path = dir.file("textfile/assetgen.prom");
    Summary s = sample_summary();
    for (int i = 0; i < 200; ++i) {  // a larger file, so a torn write would be easy to catch
        s.errors_by_code["CODE_" + std::to_string(i)] = static_cast<std::uint64_t>(i + 1);
    }
    const auto labels = metrics_labels(s);
    const std::string expected = render_metrics(s, labels);
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {  // writes the same file over and over until it is killed
        for (;;) {
            (void)write_metrics_file(path, s, labels);
        }
    }
    while (!std::filesystem::exists(path)) {
        std::this_thread::yield();
    }
    int torn = 0;
    for (int i = 0; i < 300; ++i) {
        if (dir.read("textfile/assetgen.prom") != expected) {
            ++torn;
        }
    }
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    CHECK(torn == 0);
    CHECK(dir.read("textfile/assetgen.prom") == expected);
}

// Not a test: tests/e2e/metrics-promtool.sh runs it (hidden tag) to get a metrics file with every
// family and awkward label values, then checks it with `promtool check metrics`.
TEST_CASE("report fixture: write a metrics file to $ASSETGEN_METRICS_FIXTURE",
          "[.][metrics-fixture]") {
    const char* path = std::getenv("ASSETGEN_METRICS_FIXTURE");
    if (path == nullptr || *path == '\0') {
        WARN("ASSETGEN_METRICS_FIXTURE is not set; nothing written");
        return;
    }
    Summary s = sample_summary();
    for (std::int64_t v = 0; v < 6000; ++v) {
        s.latency_ms.record(v * 37 % 200'000);  // spilled: more samples than the exact limit
    }
    MetricsLabels l = metrics_labels(s, "1/3");
    l.model = "odd \"model\"\\name\nsecond line";
    REQUIRE(write_metrics_file(path, s, l).ok());
}
