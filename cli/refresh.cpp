// `assetgen refresh`: re-signs the V4 signed URLs of a manifest, results file or any JSON/CSV text
// that expire within a threshold (local file or gs:// object), or with --sign prints one new
// signed URL. Signing uses a service-account key (GOOGLE_APPLICATION_CREDENTIALS) or, on Google
// Cloud, the IAM signBlob API with the metadata server's account (auth::make_url_signer).
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "auth/chain.hpp"
#include "auth/env.hpp"
#include "auth/iam_signer.hpp"
#include "commands.hpp"
#include "context/context.hpp"
#include "signing/url_refresh.hpp"
#include "storage/gcs_storage.hpp"
#include "storage/gcs_url.hpp"
#include "storage/gcs_wire.hpp"
#include "util/clock.hpp"
#include "util/text.hpp"
#include "util/text_file.hpp"

namespace assetgen::cli {
namespace {

using util::Code;

// Beyond this, URLs signed through IAM signBlob may die early: gcloud caps them at 12 h because
// the Google-managed key behind signBlob is only guaranteed for that long (research/gcs.md §3.4).
constexpr std::int64_t k_managed_key_seconds = 12 * 3600;
// How often a file that changes under us (a run appending to its manifest) is read again.
constexpr int k_max_rounds = 3;

struct RefreshFlags {
    std::string file;
    std::string sign;
    std::string threshold = "5m";
    std::string ttl;  // "" = 7d for a file, 1h for --sign
    std::string method = "GET";
    std::vector<std::string> headers;
    std::string at;
    bool dry_run = false;
    bool json = false;
    bool quiet = false;
};

// The flags, checked and converted.
struct Settings {
    std::int64_t threshold_seconds = 300;
    std::int64_t ttl_seconds = 0;
    std::int64_t now = 0;  // Unix seconds: --at, else the clock
    bool at_given = false;
    signing::Pairs headers;
    std::optional<storage::GcsUrl> sign;
};

// A usage error (exit 2) from a Status: the flags are wrong, not the input.
ExitCode usage(Console& console, const util::Status& status) {
    console.error(status.message());
    return ExitCode::usage;
}

util::Result<Settings> check_flags(const RefreshFlags& f, util::Clock& clock) {
    Settings s;
    if (f.file.empty() == f.sign.empty()) {
        return util::error(
            Code::invalid_input,
            "refresh: give a FILE to refresh, or --sign gs://bucket/object (not both)");
    }
    auto threshold = util::parse_duration(f.threshold);
    if (!threshold.ok() || threshold->count() < 0) {
        return util::error(Code::invalid_input,
                           "--threshold: \"" + f.threshold + "\" is not a duration like 5m");
    }
    s.threshold_seconds = (threshold->count() + 999) / 1000;
    std::string ttl_text = !f.ttl.empty() ? f.ttl : f.sign.empty() ? "7d" : "1h";
    auto ttl = util::parse_duration(ttl_text);
    if (!ttl.ok()) {
        return util::error(Code::invalid_input,
                           "--ttl: \"" + ttl_text + "\" is not a duration like 7d");
    }
    TRY_ASSIGN(s.ttl_seconds, signing::check_ttl(ttl->count(), "--ttl"));
    if (f.sign.empty() && s.ttl_seconds <= s.threshold_seconds) {
        return util::error(
            Code::invalid_input,
            "--ttl " + ttl_text + " must be longer than --threshold " + f.threshold +
                ", or every refreshed URL would expire within the threshold at once");
    }
    s.now = clock.unix_ms() / 1000;
    if (!f.at.empty()) {
        auto at = signing::parse_utc_time(f.at);
        if (!at.ok()) {
            return util::error(Code::invalid_input, "--at: " + at.status().message());
        }
        s.now = *at;
        s.at_given = true;
    }
    for (const auto& h : f.headers) {
        auto header = signing::parse_header(h);
        if (!header.ok()) {
            return util::error(Code::invalid_input, "--header: " + header.status().message());
        }
        s.headers.push_back(std::move(header).value());
    }
    if (!f.sign.empty()) {
        auto url = storage::parse_gcs_url(f.sign);
        if (!url.ok()) {
            return util::error(Code::invalid_input, "--sign: " + url.status().message());
        }
        s.sign = std::move(url).value();
    }
    return s;
}

std::string upper(std::string s) {
    for (auto& c : s) {
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    return s;
}

std::string content_type_for(const std::string& location) {
    auto ends = [&](const char* ext) {
        std::string e(ext);
        return location.size() >= e.size() &&
               util::to_lower(location.substr(location.size() - e.size())) == e;
    };
    if (ends(".csv")) {
        return "text/csv";
    }
    if (ends(".jsonl") || ends(".ndjson")) {
        return "application/x-ndjson";
    }
    if (ends(".json")) {
        return "application/json";
    }
    if (ends(".html") || ends(".htm")) {
        return "text/html; charset=utf-8";
    }
    return "text/plain; charset=utf-8";
}

// Stands in for a real signer under --dry-run: counts what would be signed, signs nothing.
class DrySigner final : public signing::Signer {
public:
    util::Result<std::string> sign(std::string_view) override { return std::string(); }
    std::string client_email() const override { return "dry-run"; }
};

// Everything that talks to Google: the command's transport, the storage of the file, the signer
// (made only when something needs signing, so a file with nothing expiring needs no
// credentials).
class Cloud {
public:
    explicit Cloud(const context::Context& ctx)
        : m_ctx(ctx), m_env(ctx.env), m_clock(ctx.clock), m_transport(ctx.transport) {}

    util::Result<storage::Storage*> storage_for(const std::string& location) {
        storage::StorageContext context;
        if (storage::is_gcs(location)) {
            TRY_ASSIGN(m_tokens,
                       auth::default_token_source(m_env, m_transport, m_clock,
                                                  std::string(auth::k_storage_read_write_scope)));
            context.transport = &m_transport;
            context.tokens = m_tokens.get();
            context.clock = &m_clock;
            context.gcs.endpoint = m_ctx.places.gcs;
        }
        TRY_ASSIGN(m_storage, storage::make_storage_for(location, context));
        return m_storage.get();
    }

    util::Result<auth::UrlSigner*> signer() {
        if (!m_signer) {
            TRY_ASSIGN(auto s, m_ctx.make_signer());
            m_signer = std::make_unique<auth::UrlSigner>(std::move(s));
        }
        return m_signer.get();
    }

    // "[scheme://]host[:port]" of a storage emulator, "" for Cloud Storage.
    std::string emulator_host() const { return m_ctx.places.emulator_host; }

private:
    const context::Context& m_ctx;
    const auth::Env& m_env;
    util::Clock& m_clock;
    net::HttpTransport& m_transport;
    std::unique_ptr<auth::TokenSource> m_tokens;
    std::unique_ptr<storage::Storage> m_storage;
    std::unique_ptr<auth::UrlSigner> m_signer;
};

// The file being refreshed: read with its generation, written back only if it is still that
// generation (Storage's ifGenerationMatch: a 412 when another writer came first, on Cloud
// Storage and on a local file alike), so lines a run appends meanwhile are never lost. A local
// file appended in place between the check and the rename leaves a small window (README).
// The largest manifest, results file or page refresh reads (it holds the text whole).
constexpr std::uint64_t k_max_document_bytes = 256ull << 20;

class Document {
public:
    Document(storage::Storage& store, std::string location)
        : m_store(store), m_location(std::move(location)) {}

    // The text now. NOT_FOUND (saying so) when there is none.
    util::Result<std::string> read() {
        util::Result<std::string> text = util::error(Code::internal, "unread");
        if (storage::is_gcs(m_location)) {
            auto object = m_store.read(m_location, storage::ReadOptions{});
            if (object.ok()) {
                m_generation = object->generation;
                text = std::move(object->data);
            } else {
                text = object.status();
            }
        } else {
            // The generation first: a change before the text is read makes the write below
            // fail its precondition, and the round starts again (never the reverse). The whole
            // document is held to rewrite it: a limit, and a NUL byte (no manifest, results
            // file or page has one) stops /dev/zero and endless pipes at once.
            auto info = m_store.stat(m_location);
            if (info.ok()) {
                m_generation = info->generation;
                text = util::read_text_file(m_location, k_max_document_bytes);
            } else {
                // Not a regular file, or unreadable: the reader's message names it best.
                auto probe = util::read_text_file(m_location, k_max_document_bytes);
                text = probe.ok() ? util::Result<std::string>(info.status()) : probe;
            }
        }
        if (!text.ok() && text.status().code() == Code::not_found) {
            return util::error(Code::not_found, m_location + ": no such file or object");
        }
        return text;
    }

    // Writes text if the document still holds the generation read(); false when it changed.
    util::Result<bool> write_if_unchanged(std::string_view text) {
        storage::WriteOptions options;
        options.content_type = content_type_for(m_location);
        options.if_generation_match = m_generation;
        auto written = m_store.write(m_location, text, options);
        if (!written.ok()) {
            if (storage::is_precondition_failed(written.status())) {
                return false;
            }
            return written.status();
        }
        return true;
    }

private:
    storage::Storage& m_store;
    std::string m_location;
    std::int64_t m_generation = 0;
};

void warn_if_managed_key_too_short(const auth::UrlSigner& signer, std::int64_t ttl_seconds,
                                   Console& console) {
    if (signer.remote && ttl_seconds > k_managed_key_seconds) {
        console.warn(
            "URLs signed through IAM signBlob rely on a Google-managed key that is only "
            "guaranteed for 12h; a longer --ttl may end early (gcloud caps it at 12h)");
    }
}

// Reads the file, re-signs what expires within the threshold and writes it back (only when
// something changed) if it still holds what was read.
ExitCode refresh_file(const RefreshFlags& f, const Settings& s, Cloud& cloud, Console& console) {
    auto store = cloud.storage_for(f.file);
    if (!store.ok()) {
        return console.fail(store.status());
    }
    signing::RefreshOptions ro;
    ro.now = s.now;
    ro.threshold_seconds = s.threshold_seconds;
    ro.ttl_seconds = s.ttl_seconds;

    Document doc(**store, f.file);
    signing::RefreshResult result;
    std::string signer_text;
    bool written = false;
    for (int round = 1;; ++round) {
        auto text = doc.read();
        if (!text.ok()) {
            return console.fail(text.status());
        }
        // A first pass with a signer that signs nothing tells whether credentials are needed.
        DrySigner dry;
        auto planned = signing::refresh_signed_urls(*text, ro, dry);
        if (!planned.ok()) {
            return usage(console, planned.status());
        }
        if (planned->refreshed == 0 || f.dry_run) {
            result = std::move(planned).value();
            break;
        }
        auto signer = cloud.signer();
        if (!signer.ok()) {
            return console.fail(signer.status());
        }
        if (round == 1) {
            warn_if_managed_key_too_short(**signer, s.ttl_seconds, console);
        }
        signer_text = (*signer)->description;
        auto done = signing::refresh_signed_urls(*text, ro, *(*signer)->signer);
        if (!done.ok()) {
            return console.fail(util::error(done.status().code(),
                                            f.file + ": re-signing: " + done.status().message()));
        }
        // A writer may have appended while we signed (a run adding manifest lines): then start
        // over with the new text.
        auto put = doc.write_if_unchanged(done->text);
        if (!put.ok()) {
            return console.fail(put.status());
        }
        if (!*put) {
            if (round >= k_max_rounds) {
                return console.fail(util::error(
                    Code::storage_io, f.file + ": it kept changing while being refreshed (" +
                                          std::to_string(k_max_rounds) +
                                          " tries); run refresh again"));
            }
            console.info("refresh: " + f.file + " changed while refreshing; reading it again");
            continue;
        }
        written = true;
        result = std::move(done).value();
        break;
    }

    for (const auto& d : result.decisions) {
        if (d.action == signing::UrlDecision::Action::skipped) {
            console.warn("refresh: " + d.location + ": not re-signed: " + d.reason);
        }
    }
    const std::string threshold = util::format_duration(std::chrono::seconds(s.threshold_seconds));
    const std::string ttl = util::format_duration(std::chrono::seconds(s.ttl_seconds));
    std::string line = "refresh: " + f.file + ": " + std::to_string(result.found) +
                       " signed URL(s), " + std::to_string(result.refreshed) + " expiring within " +
                       threshold;
    if (f.dry_run) {
        line += " (dry run: nothing signed or written)";
    } else if (written) {
        line += " re-signed for " + ttl + " with " + signer_text + "; file written";
    } else {
        line += "; file unchanged";
    }
    console.info(line);
    if (f.json) {
        nlohmann::json j = {{"file", f.file},
                            {"urlsFound", result.found},
                            {"urlRefreshes", result.refreshed},
                            {"urlsSkipped", result.skipped},
                            {"threshold", threshold},
                            {"ttl", ttl},
                            {"written", written},
                            {"dryRun", f.dry_run}};
        std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    } else {
        std::cout << "urlRefreshes: " << result.refreshed << "\n";
    }
    return result.skipped > 0 ? ExitCode::rows_failed : ExitCode::ok;
}

// Signs one gs:// object and prints the URL (on stdout only: the console redacts signatures).
ExitCode sign_one(const RefreshFlags& f, const Settings& s, Cloud& cloud, Console& console) {
    auto signer = cloud.signer();
    if (!signer.ok()) {
        return console.fail(signer.status());
    }
    warn_if_managed_key_too_short(**signer, s.ttl_seconds, console);
    signing::SignRequest r;
    r.method = f.method;
    r.bucket = s.sign->bucket;
    r.object = s.sign->object;
    r.ttl_seconds = s.ttl_seconds;
    r.at = s.now;
    r.headers = s.headers;
    r.emulator_host = cloud.emulator_host();
    auto url = signing::sign_url(r, *(*signer)->signer);
    if (!url.ok()) {
        if (url.status().code() == Code::invalid_input) {
            return usage(console, url.status());
        }
        return console.fail(url.status());
    }
    console.info("refresh: signed " + s.sign->to_string() + " for " +
                 util::format_duration(std::chrono::seconds(s.ttl_seconds)) + " with " +
                 (*signer)->description);
    if (f.json) {
        nlohmann::json j = {{"url", *url},
                            {"method", upper(f.method)},
                            {"location", s.sign->to_string()},
                            {"signedAt", util::utc_timestamp(s.now * 1000)},
                            {"expires", util::utc_timestamp((s.now + s.ttl_seconds) * 1000)}};
        std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    } else {
        std::cout << *url << "\n";
    }
    return ExitCode::ok;
}

ExitCode run_refresh(const RefreshFlags& f, Console& console, const context::Context& ctx) {
    console.set_quiet(f.quiet);
    auto settings = check_flags(f, ctx.clock);
    if (!settings.ok()) {
        return usage(console, settings.status());
    }
    if (f.sign.empty() && (f.method != "GET" || !f.headers.empty())) {
        console.warn(
            "refresh: --method and --header apply only to --sign; refreshed URLs are GET URLs");
    }
    Cloud cloud(ctx);
    return f.sign.empty() ? refresh_file(f, *settings, cloud, console)
                          : sign_one(f, *settings, cloud, console);
}

}  // namespace

void register_refresh(CLI::App& app, Action& action) {
    auto f = std::make_shared<RefreshFlags>();
    auto* sub = app.add_subcommand(
        "refresh",
        "re-sign the V4 signed URLs in a manifest or results file that expire soon, or sign one");
    sub->add_option("file", f->file,
                    "manifest (JSONL), results (CSV) or any JSON/CSV/HTML file, local or gs://");
    sub->add_option("--sign", f->sign, "print a signed URL for this gs://bucket/object instead");
    sub->add_option("--threshold", f->threshold, "re-sign URLs that expire within this")
        ->capture_default_str();
    sub->add_option("--ttl", f->ttl,
                    "lifetime of new URLs, at most 7d (default: 7d for a file, 1h for --sign)");
    sub->add_option("--method", f->method, "--sign: GET, HEAD, PUT, POST or DELETE")
        ->capture_default_str()
        ->check(CLI::IsMember({"GET", "HEAD", "PUT", "POST", "DELETE"}, CLI::ignore_case));
    sub->add_option("--header", f->headers,
                    "--sign: a header the request must carry, Name:value (repeatable; signed)");
    sub->add_option("--at", f->at,
                    "signing time (X-Goog-Date) as 2024-03-05T06:07:08Z instead of now; for a file "
                    "also the time expiries are measured from");
    sub->add_flag("--dry-run", f->dry_run,
                  "report what would be re-signed; sign and write nothing");
    sub->add_flag("--json", f->json, "print a JSON object on stdout");
    sub->add_flag("--quiet", f->quiet, "no progress lines on stderr");
    sub->footer(
        "Examples:\n"
        "  assetgen refresh out/JOB/manifest.jsonl                  # re-sign what expires within "
        "5m, for 7d\n"
        "  assetgen refresh gs://b/results.csv --threshold 1h --ttl 3d --json\n"
        "  assetgen refresh --sign gs://b/assets/a.png --ttl 1h\n"
        "  assetgen refresh --sign gs://b/up.png --method PUT --header Content-Type:image/png\n"
        "  assetgen refresh --sign gs://b/a.png --ttl 10m --at 2024-03-05T06:07:08Z   # "
        "reproducible\n"
        "Credentials: GOOGLE_APPLICATION_CREDENTIALS (a service-account key: signs offline), else "
        "the\n"
        "metadata server's account through IAM signBlob (needs "
        "roles/iam.serviceAccountTokenCreator\n"
        "on itself; ASSETGEN_IAM_ENDPOINT overrides the endpoint).\n"
        "Prints urlRefreshes: N (or a JSON object with --json). Exit 0 ok, 1 some expiring URLs "
        "could\n"
        "not be re-signed, 2 wrong flags, 66 file not found, 74 storage, 77 auth, 78 no "
        "credentials.");
    sub->callback([f, &action] {
        action = [f](Console& c, const context::Context& ctx) { return run_refresh(*f, c, ctx); };
    });
}

}  // namespace assetgen::cli
