#include "storage/gcs_url.hpp"

#include <array>
#include <cstdint>
#include <vector>

#include "util/utf8.hpp"

namespace assetgen::storage {
namespace {

using util::Code;
using util::Status;

constexpr std::string_view k_scheme = "gs://";
constexpr std::size_t k_max_object_bytes = 1024;

Status bad_bucket(std::string_view bucket, std::string_view why) {
    return Status(Code::invalid_input,
                  "bucket name \"" + std::string(bucket) + "\" " + std::string(why) +
                      " (see https://cloud.google.com/storage/docs/naming-buckets)");
}

bool is_lower_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}
bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

std::vector<std::string_view> split_dots(std::string_view s) {
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    for (;;) {
        std::size_t dot = s.find('.', start);
        parts.push_back(s.substr(start, dot == std::string_view::npos ? dot : dot - start));
        if (dot == std::string_view::npos) {
            return parts;
        }
        start = dot + 1;
    }
}

bool looks_like_ipv4(const std::vector<std::string_view>& parts) {
    if (parts.size() != 4) {
        return false;
    }
    for (auto p : parts) {
        if (p.empty() || p.size() > 3) {
            return false;
        }
        for (char c : p) {
            if (!is_digit(c)) {
                return false;
            }
        }
    }
    return true;
}

// "google" and the close misspellings the naming page means (digit zero for a letter o).
bool contains_google(std::string_view s) {
    static constexpr std::array<std::string_view, 4> k_words = {"google", "g00gle", "go0gle",
                                                                "g0ogle"};
    for (auto w : k_words) {
        if (s.find(w) != std::string_view::npos) {
            return true;
        }
    }
    return false;
}

// The part after "gs://", split at the first '/'; INVALID_INPUT when the scheme is missing.
util::Result<GcsUrl> split_url(std::string_view url) {
    if (url.substr(0, k_scheme.size()) != k_scheme) {
        return Status(Code::invalid_input, "\"" + std::string(url) + "\" is not a gs:// URL");
    }
    std::string_view rest = url.substr(k_scheme.size());
    std::size_t slash = rest.find('/');
    GcsUrl out;
    out.bucket = std::string(rest.substr(0, slash));
    if (slash != std::string_view::npos) {
        out.object = std::string(rest.substr(slash + 1));
    }
    TRY(validate_bucket_name(out.bucket));
    return out;
}

}  // namespace

std::string GcsUrl::to_string() const {
    return gcs_url(bucket, object);
}

Status validate_bucket_name(std::string_view bucket) {
    if (bucket.size() < 3) {
        return bad_bucket(bucket, "is shorter than 3 characters");
    }
    for (char c : bucket) {
        if (!is_lower_alnum(c) && c != '-' && c != '_' && c != '.') {
            return bad_bucket(bucket, "may only contain a-z, 0-9, '-', '_' and '.'");
        }
    }
    if (!is_lower_alnum(bucket.front()) || !is_lower_alnum(bucket.back())) {
        return bad_bucket(bucket, "must start and end with a letter or digit");
    }
    auto parts = split_dots(bucket);
    if (parts.size() == 1 && bucket.size() > 63) {
        return bad_bucket(bucket, "is longer than 63 characters");
    }
    if (bucket.size() > 222) {
        return bad_bucket(bucket, "is longer than 222 characters");
    }
    for (auto p : parts) {
        if (p.empty()) {
            return bad_bucket(bucket, "has an empty part between dots");
        }
        if (p.size() > 63) {
            return bad_bucket(bucket, "has a dot-separated part longer than 63 characters");
        }
    }
    if (looks_like_ipv4(parts)) {
        return bad_bucket(bucket, "is an IP address");
    }
    if (bucket.substr(0, 4) == "goog") {
        return bad_bucket(bucket, "starts with \"goog\"");
    }
    if (contains_google(bucket)) {
        return bad_bucket(bucket, "contains \"google\" or a look-alike");
    }
    return util::ok_status();
}

Status validate_object_name(std::string_view object) {
    auto bad = [&](std::string_view why) {
        return Status(Code::invalid_input,
                      "object name \"" + std::string(object.substr(0, 200)) + "\" " +
                          std::string(why) +
                          " (see https://cloud.google.com/storage/docs/objects#naming)");
    };
    if (object.empty()) {
        return bad("is empty");
    }
    if (object.size() > k_max_object_bytes) {
        return bad("is longer than 1024 bytes");
    }
    if (!util::is_utf8(object)) {
        return bad("is not valid UTF-8");
    }
    if (object.find_first_of("\r\n") != std::string_view::npos) {
        return bad("contains a carriage return or line feed");
    }
    if (object == "." || object == "..") {
        return bad("is \".\" or \"..\"");
    }
    if (object.substr(0, 27) == ".well-known/acme-challenge/") {
        return bad("starts with \".well-known/acme-challenge/\"");
    }
    return util::ok_status();
}

util::Result<GcsUrl> parse_gcs_url(std::string_view url) {
    TRY_ASSIGN(GcsUrl out, split_url(url));
    if (out.object.empty()) {
        return Status(Code::invalid_input,
                      "\"" + std::string(url) + "\" names no object; write gs://bucket/path/name");
    }
    TRY(validate_object_name(out.object));
    return out;
}

util::Result<GcsUrl> parse_gcs_prefix(std::string_view url) {
    TRY_ASSIGN(GcsUrl out, split_url(url));
    if (out.object.size() > k_max_object_bytes || !util::is_utf8(out.object) ||
        out.object.find_first_of("\r\n") != std::string::npos) {
        return Status(Code::invalid_input, "\"" + std::string(url) +
                                               "\": the prefix must be at most 1024 bytes of "
                                               "UTF-8 without line breaks");
    }
    return out;
}

std::string gcs_url(std::string_view bucket, std::string_view object) {
    std::string out(k_scheme);
    out += bucket;
    out += '/';
    out += object;
    return out;
}

std::string percent_encode(std::string_view s) {
    static constexpr char k_hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(s.size() * 3);
    for (char ch : s) {
        auto c = static_cast<unsigned char>(ch);
        bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                          (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
        if (unreserved) {
            out += ch;
        } else {
            out += '%';
            out += k_hex[c >> 4];
            out += k_hex[c & 0x0F];
        }
    }
    return out;
}

}  // namespace assetgen::storage
