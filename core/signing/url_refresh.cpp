// How this works: find_signed_urls walks the text once. At each "http" it reads forward over
// the characters a percent-encoded URL may hold, decoding the escapes JSON and HTML writers put
// into URLs ("\/", "\u0026", "&amp;") and remembering how each escaped character was spelled.
// What it read is kept only if parse_signed_url accepts it as a V4 signed URL. To refresh, each
// URL that expires within the threshold is rebuilt from what it says about itself (scheme, host,
// bucket, object, extra parameters) through the same v4_prepare the conformance vectors check,
// signed at the new time, and written back with the old URL's spellings, so a JSON text stays
// valid JSON and a CSV cell stays one cell. Edits are collected first and applied in one pass;
// bytes outside the edits are copied unchanged.

#include "signing/url_refresh.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>

#include "util/text.hpp"
#include "util/utf8.hpp"

namespace assetgen::signing {
namespace {

using util::Code;

constexpr std::string_view k_rsa_algorithm = "GOOG4-RSA-SHA256";

bool is_url_char(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~' || c == '%' || c == '/' || c == '?' || c == '&' ||
           c == '=' || c == ':' || c == '+' || c == '@' || c == '[' || c == ']';
}

// Percent-decodes text ('+' as a space when plus_is_space, as query values from gcloud's
// quote_plus need). INVALID_INPUT for a '%' not followed by two hex digits.
util::Result<std::string> percent_decode(std::string_view text, bool plus_is_space) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c == '%') {
            int hi = i + 1 < text.size() ? util::hex_digit_value(text[i + 1]) : -1;
            int lo = i + 2 < text.size() ? util::hex_digit_value(text[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                return util::error(Code::invalid_input,
                                   "signed url: a '%' is not followed by two hex digits");
            }
            out.push_back(static_cast<char>(hi * 16 + lo));
            i += 2;
        } else if (c == '+' && plus_is_space) {
            out.push_back(' ');
        } else {
            out.push_back(c);
        }
    }
    return out;
}

bool all_digits(std::string_view s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Reads exactly n digits at s[pos..] into out; false when they are not all digits.
bool read_digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
    if (pos + n > s.size()) {
        return false;
    }
    out = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
        out = out * 10 + (s[i] - '0');
    }
    return true;
}

// One stretch of URL characters read from a text.
struct Scan {
    std::size_t end = 0;  // one past the last byte read
    std::string decoded;
    std::map<char, std::string> spellings;  // how escaped characters were written
};

// Reads URL characters from text[start..], decoding "\/", "\uXXXX" (for URL characters) and
// "&amp;".
Scan scan_url(std::string_view text, std::size_t start) {
    Scan s;
    std::size_t i = start;
    while (i < text.size()) {
        char c = text[i];
        if (c == '\\' && i + 1 < text.size() && text[i + 1] == '/') {
            s.decoded.push_back('/');
            s.spellings.emplace('/', "\\/");
            i += 2;
        } else if (c == '\\' && i + 5 < text.size() && text[i + 1] == 'u' &&
                   util::hex_digit_value(text[i + 2]) == 0 &&
                   util::hex_digit_value(text[i + 3]) >= 0 &&
                   util::hex_digit_value(text[i + 4]) >= 0 &&
                   util::hex_digit_value(text[i + 5]) >= 0) {
            int code = util::hex_digit_value(text[i + 3]) * 256 +
                       util::hex_digit_value(text[i + 4]) * 16 + util::hex_digit_value(text[i + 5]);
            if (code >= 0x80 || !is_url_char(static_cast<unsigned char>(code))) {
                break;
            }
            s.decoded.push_back(static_cast<char>(code));
            s.spellings.emplace(static_cast<char>(code), std::string(text.substr(i, 6)));
            i += 6;
        } else if (c == '&' && text.substr(i, 5) == "&amp;") {
            s.decoded.push_back('&');
            s.spellings.emplace('&', "&amp;");
            i += 5;
        } else if (is_url_char(static_cast<unsigned char>(c))) {
            s.decoded.push_back(c);
            ++i;
        } else {
            break;
        }
    }
    s.end = i;
    return s;
}

// Writes url with the spellings its predecessor used for escaped characters.
std::string respell(std::string_view url, const std::map<char, std::string>& spellings) {
    if (spellings.empty()) {
        return std::string(url);
    }
    std::string out;
    out.reserve(url.size() + url.size() / 4);
    for (char c : url) {
        auto it = spellings.find(c);
        if (it != spellings.end()) {
            out += it->second;
        } else {
            out.push_back(c);
        }
    }
    return out;
}

std::string host_without_port(std::string_view host) {
    if (!host.empty() && host.front() == '[') {
        auto close = host.find(']');
        return std::string(
            host.substr(0, close == std::string_view::npos ? host.size() : close + 1));
    }
    auto colon = host.rfind(':');
    return std::string(colon == std::string_view::npos ? host : host.substr(0, colon));
}

// The options that sign this URL again at `at` for ttl seconds: same scheme, host and path,
// same extra parameters, GET, only the host signed.
V4Options resign_options(const SignedUrlInfo& info, std::int64_t at, std::int64_t ttl) {
    V4Options o;
    o.method = "GET";
    o.bucket = info.bucket;
    o.object = info.object;
    o.expiration_seconds = ttl;
    o.timestamp = at;
    o.query_parameters = info.extra_query;
    o.scheme = info.scheme;
    if (info.virtual_hosted) {
        o.url_style = UrlStyle::bucket_bound_hostname;
        o.bucket_bound_hostname = info.scheme + "://" + info.host;
    } else {
        o.url_style = UrlStyle::path_style;
        o.hostname = info.host;
    }
    return o;
}

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

struct Edit {
    std::size_t offset = 0;
    std::size_t length = 0;
    std::string replacement;
};

// When text[end..] is `"` ws `,` ws `"<field>"` ws `:` ws DIGITS and DIGITS is old_expires_at in
// ms or s, the edit that writes new_expires_at in the same unit.
std::optional<Edit> expiry_field_edit(std::string_view text, std::size_t end,
                                      std::string_view field, std::int64_t old_expires_at,
                                      std::int64_t new_expires_at) {
    if (field.empty() || end >= text.size() || text[end] != '"') {
        return std::nullopt;
    }
    std::size_t i = end + 1;
    auto skip_space = [&] {
        while (i < text.size() && is_space(text[i])) {
            ++i;
        }
    };
    skip_space();
    if (i >= text.size() || text[i] != ',') {
        return std::nullopt;
    }
    ++i;
    skip_space();
    std::string quoted = "\"" + std::string(field) + "\"";
    if (text.substr(i, quoted.size()) != quoted) {
        return std::nullopt;
    }
    i += quoted.size();
    skip_space();
    if (i >= text.size() || text[i] != ':') {
        return std::nullopt;
    }
    ++i;
    skip_space();
    std::size_t digits_start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9' && i - digits_start < 18) {
        ++i;
    }
    std::string_view digits = text.substr(digits_start, i - digits_start);
    if (digits.empty() || (i < text.size() && (text[i] >= '0' && text[i] <= '9'))) {
        return std::nullopt;
    }
    std::int64_t value = std::stoll(std::string(digits));
    if (value == old_expires_at * 1000) {
        return Edit{digits_start, digits.size(), std::to_string(new_expires_at * 1000)};
    }
    if (value == old_expires_at) {
        return Edit{digits_start, digits.size(), std::to_string(new_expires_at)};
    }
    return std::nullopt;
}

// Why a URL cannot be signed again from what it carries; "" when it can.
std::string why_not_resignable(const SignedUrlInfo& info) {
    if (info.algorithm != k_rsa_algorithm) {
        // Both are percent-decoded query values: cleaned, as they end up in messages.
        return "signed with " + util::utf8_clean(info.algorithm, 40) + ", not " +
               std::string(k_rsa_algorithm);
    }
    if (util::to_lower(info.signed_headers) != "host") {
        return "it signs headers besides host (" + util::utf8_clean(info.signed_headers, 80) +
               "), whose values are not in the URL";
    }
    return std::string();
}

const std::string_view k_methods[] = {"GET", "HEAD", "PUT", "POST", "DELETE"};

}  // namespace

std::string SignedUrlInfo::gs_url() const {
    return "gs://" + bucket + "/" + object;
}

util::Result<std::int64_t> parse_utc_time(std::string_view text) {
    text = util::trim(text);
    auto bad = [&] {
        return util::error(Code::invalid_input,
                           "time \"" + util::utf8_clean(text, 40) +
                               "\" is not a UTC time like 2024-03-05T06:07:08Z");
    };
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
    std::size_t rest = 0;
    if (text.size() == 16 && text[8] == 'T' && text[15] == 'Z') {  // X-Goog-Date
        if (!read_digits(text, 0, 4, y) || !read_digits(text, 4, 2, mo) ||
            !read_digits(text, 6, 2, d) || !read_digits(text, 9, 2, h) ||
            !read_digits(text, 11, 2, mi) || !read_digits(text, 13, 2, s)) {
            return bad();
        }
    } else {
        if (text.size() < 20 || text[4] != '-' || text[7] != '-' ||
            (text[10] != 'T' && text[10] != 't') || text[13] != ':' || text[16] != ':' ||
            !read_digits(text, 0, 4, y) || !read_digits(text, 5, 2, mo) ||
            !read_digits(text, 8, 2, d) || !read_digits(text, 11, 2, h) ||
            !read_digits(text, 14, 2, mi) || !read_digits(text, 17, 2, s)) {
            return bad();
        }
        rest = 19;
        if (rest < text.size() && text[rest] == '.') {  // a fraction of a second, dropped
            ++rest;
            std::size_t digits = rest;
            while (rest < text.size() && text[rest] >= '0' && text[rest] <= '9') {
                ++rest;
            }
            if (rest == digits) {
                return bad();
            }
        }
        std::string_view zone = text.substr(rest);
        if (zone != "Z" && zone != "z" && zone != "+00:00" && zone != "-00:00") {
            return bad();
        }
    }
    using namespace std::chrono;
    year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
    if (!ymd.ok() || h > 23 || mi > 59 || s > 59) {
        return bad();
    }
    return (sys_days{ymd}.time_since_epoch() + hours{h} + minutes{mi} + seconds{s}) / seconds{1};
}

util::Result<SignedUrlInfo> parse_signed_url(std::string_view url) {
    auto bad = [](const std::string& what) {
        return util::error(Code::invalid_input, "signed url: " + util::utf8_clean(what));
    };
    SignedUrlInfo info;
    auto sep = url.find("://");
    if (sep == std::string_view::npos) {
        return bad("no scheme");
    }
    info.scheme = util::to_lower(url.substr(0, sep));
    if (info.scheme != "https" && info.scheme != "http") {
        return bad("scheme is not http or https");
    }
    std::string_view rest = url.substr(sep + 3);
    auto fragment = rest.find('#');
    if (fragment != std::string_view::npos) {
        rest = rest.substr(0, fragment);
    }
    auto path_start = rest.find_first_of("/?");
    info.host = std::string(rest.substr(0, path_start));
    if (info.host.empty()) {
        return bad("no host");
    }
    std::string_view path;
    std::string_view query;
    if (path_start != std::string_view::npos) {
        rest = rest.substr(path_start);
        auto q = rest.find('?');
        path = rest.substr(0, q);
        query = q == std::string_view::npos ? std::string_view() : rest.substr(q + 1);
    }
    if (query.empty()) {
        return bad("no query");
    }

    std::string signature;
    std::string credential;
    std::string date;
    std::string expires;
    bool has_signed_headers = false;
    for (const auto& piece : util::split_any(query, "&")) {
        auto eq = piece.find('=');
        TRY_ASSIGN(std::string name, percent_decode(std::string_view(piece).substr(0, eq), true));
        TRY_ASSIGN(std::string value,
                   percent_decode(eq == std::string::npos ? std::string_view()
                                                          : std::string_view(piece).substr(eq + 1),
                                  true));
        std::string lower = util::to_lower(name);
        if (lower == "x-goog-algorithm") {
            info.algorithm = value;
        } else if (lower == "x-goog-credential") {
            credential = value;
        } else if (lower == "x-goog-date") {
            date = value;
        } else if (lower == "x-goog-expires") {
            expires = value;
        } else if (lower == "x-goog-signedheaders") {
            info.signed_headers = value;
            has_signed_headers = true;
        } else if (lower == "x-goog-signature") {
            signature = value;
        } else {
            info.extra_query.emplace_back(std::move(name), std::move(value));
        }
    }
    if (!util::starts_with(util::to_lower(info.algorithm), "goog4-")) {
        return bad("no X-Goog-Algorithm=GOOG4-...");
    }
    if (signature.empty()) {
        return bad("no X-Goog-Signature");
    }
    auto slash = credential.find('/');
    if (credential.empty() || slash == 0) {
        return bad("no X-Goog-Credential");
    }
    info.client_email = credential.substr(0, slash);
    auto signed_at = parse_utc_time(date);
    if (date.size() != 16 || !signed_at.ok()) {
        return bad("X-Goog-Date \"" + date.substr(0, 20) + "\" is not YYYYMMDDTHHMMSSZ");
    }
    info.signed_at = *signed_at;
    if (!all_digits(expires) || expires.size() > 12) {
        return bad("X-Goog-Expires \"" + expires.substr(0, 20) + "\" is not a number of seconds");
    }
    info.expires_seconds = std::stoll(expires);
    if (!has_signed_headers) {
        info.signed_headers = "host";
    }

    TRY_ASSIGN(std::string decoded_path, percent_decode(path, false));
    std::string bare_host = util::to_lower(host_without_port(info.host));
    auto storage_label = bare_host.rfind(".storage.");
    if (storage_label != std::string::npos && storage_label > 0) {
        info.virtual_hosted = true;
        info.bucket = bare_host.substr(0, storage_label);
        info.object = decoded_path.empty() ? std::string() : decoded_path.substr(1);
    } else {
        std::string_view p = decoded_path;
        if (!p.empty() && p.front() == '/') {
            p.remove_prefix(1);
        }
        auto cut = p.find('/');
        info.bucket = std::string(p.substr(0, cut));
        info.object =
            cut == std::string_view::npos ? std::string() : std::string(p.substr(cut + 1));
    }
    if (info.bucket.empty()) {
        return bad("no bucket in host or path");
    }
    // Cloud Storage names are UTF-8; other bytes (%FF) cannot name an object, and the names go
    // into messages and JSON.
    if (!util::is_utf8(info.bucket) || !util::is_utf8(info.object) ||
        !util::is_utf8(info.client_email)) {
        return bad("the bucket, object or X-Goog-Credential is not UTF-8 once percent-decoded");
    }
    return info;
}

std::vector<FoundUrl> find_signed_urls(std::string_view text) {
    std::vector<FoundUrl> found;
    std::size_t pos = 0;
    while ((pos = text.find("http", pos)) != std::string_view::npos) {
        Scan s = scan_url(text, pos);
        if (!util::starts_with(s.decoded, "https://") && !util::starts_with(s.decoded, "http://")) {
            pos += 4;
            continue;
        }
        auto info = parse_signed_url(s.decoded);
        if (info.ok()) {
            found.push_back(
                FoundUrl{pos, s.end - pos, std::move(s.decoded), std::move(info).value()});
        }
        pos = s.end;
    }
    return found;
}

bool expires_within(const SignedUrlInfo& info, std::int64_t now, std::int64_t threshold_seconds) {
    return info.expires_at() <= now + threshold_seconds;
}

util::Result<std::int64_t> check_ttl(std::int64_t ttl_ms, std::string_view what) {
    std::string shown = "\"" + util::format_duration(std::chrono::milliseconds(ttl_ms)) + "\"";
    std::string prefix = std::string(what) + ": " + shown;
    if (ttl_ms < 1000) {
        return util::error(Code::invalid_input,
                           prefix + " is too short: a V4 signed URL lives 1s to 7d");
    }
    if (ttl_ms % 1000 != 0) {
        return util::error(Code::invalid_input, prefix + " is not a whole number of seconds");
    }
    if (ttl_ms / 1000 > k_max_expiration_seconds) {
        return util::error(Code::invalid_input,
                           prefix + " is longer than 7d, the longest a V4 signed URL can live");
    }
    return ttl_ms / 1000;
}

util::Result<std::pair<std::string, std::string>> parse_header(std::string_view text) {
    auto colon = text.find(':');
    if (colon == std::string_view::npos) {
        return util::error(Code::invalid_input,
                           "header \"" + std::string(text.substr(0, 80)) + "\" is not Name:value");
    }
    std::string name(util::trim(text.substr(0, colon)));
    std::string value(util::trim(text.substr(colon + 1)));
    static constexpr std::string_view k_token_extra = "!#$%&'*+-.^_`|~";
    bool token = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               k_token_extra.find(c) != std::string_view::npos;
    });
    if (!token) {
        return util::error(Code::invalid_input,
                           "header \"" + std::string(text.substr(0, 80)) + "\" has no valid name");
    }
    if (value.find_first_of("\r\n") != std::string::npos) {
        return util::error(Code::invalid_input, "header " + name + ": the value has a line break");
    }
    return std::make_pair(name, value);
}

util::Result<std::string> sign_url(const SignRequest& request, Signer& signer) {
    std::string method = request.method;
    for (auto& c : method) {
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    if (std::find(std::begin(k_methods), std::end(k_methods), method) == std::end(k_methods)) {
        return util::error(Code::invalid_input, "method \"" + request.method.substr(0, 20) +
                                                    "\" is not GET, HEAD, PUT, POST or DELETE");
    }
    if (request.bucket.empty()) {
        return util::error(Code::invalid_input, "signed url: empty bucket name");
    }
    TRY(check_ttl(request.ttl_seconds * 1000, "signed url lifetime"));
    V4Options o;
    o.method = method;
    o.bucket = request.bucket;
    o.object = request.object;
    o.expiration_seconds = request.ttl_seconds;
    o.timestamp = request.at;
    o.headers = request.headers;
    o.query_parameters = request.query_parameters;
    o.emulator_host = request.emulator_host;
    return v4_signed_url(o, signer);
}

util::Result<std::string> resign_url(const SignedUrlInfo& info, std::int64_t at,
                                     std::int64_t ttl_seconds, Signer& signer) {
    TRY(check_ttl(ttl_seconds * 1000, "signed url lifetime"));
    std::string why = why_not_resignable(info);
    if (!why.empty()) {
        return util::error(Code::invalid_input, "signed url for " + info.gs_url() + ": " + why);
    }
    return v4_signed_url(resign_options(info, at, ttl_seconds), signer);
}

util::Result<RefreshResult> refresh_signed_urls(std::string_view text,
                                                const RefreshOptions& options, Signer& signer) {
    TRY(check_ttl(options.ttl_seconds * 1000, "url refresh: ttl"));
    if (options.threshold_seconds < 0) {
        return util::error(Code::invalid_input, "url refresh: the threshold is below 0");
    }
    RefreshResult result;
    std::vector<Edit> edits;
    std::map<std::string, std::string> resigned;  // old URL → new URL, so each is signed once
    const std::int64_t new_expires_at = options.now + options.ttl_seconds;
    for (FoundUrl& f : find_signed_urls(text)) {
        ++result.found;
        UrlDecision d;
        d.location = f.info.gs_url();
        d.old_expires_at = f.info.expires_at();
        if (!expires_within(f.info, options.now, options.threshold_seconds)) {
            result.decisions.push_back(std::move(d));
            continue;
        }
        d.reason = why_not_resignable(f.info);
        if (!d.reason.empty()) {
            d.action = UrlDecision::Action::skipped;
            ++result.skipped;
            result.decisions.push_back(std::move(d));
            continue;
        }
        auto known = resigned.find(f.url);
        if (known == resigned.end()) {
            TRY_ASSIGN(
                std::string url,
                v4_signed_url(resign_options(f.info, options.now, options.ttl_seconds), signer));
            known = resigned.emplace(f.url, std::move(url)).first;
        }
        Scan s = scan_url(text, f.offset);
        edits.push_back(Edit{f.offset, f.length, respell(known->second, s.spellings)});
        if (auto e = expiry_field_edit(text, f.offset + f.length, options.expiry_field,
                                       f.info.expires_at(), new_expires_at)) {
            edits.push_back(std::move(*e));
        }
        d.action = UrlDecision::Action::refreshed;
        d.new_expires_at = new_expires_at;
        ++result.refreshed;
        result.decisions.push_back(std::move(d));
    }
    if (edits.empty()) {
        result.text = std::string(text);
        return result;
    }
    std::sort(edits.begin(), edits.end(),
              [](const Edit& a, const Edit& b) { return a.offset < b.offset; });
    std::string out;
    out.reserve(text.size() + edits.size() * 16);
    std::size_t copied = 0;
    for (const Edit& e : edits) {
        out.append(text.substr(copied, e.offset - copied));
        out += e.replacement;
        copied = e.offset + e.length;
    }
    out.append(text.substr(copied));
    result.text = std::move(out);
    return result;
}

}  // namespace assetgen::signing
