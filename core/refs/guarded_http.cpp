#include "refs/guarded_http.hpp"

#include <algorithm>

#include "net/http_status.hpp"
#include "util/text.hpp"

namespace assetgen::refs {
namespace {

using util::Code;

std::string refused_hint() {
    return " (--allow-private-refs allows it)";
}

// "" on the first hop, else " (redirected to \"<url>\")" to name the hop in messages.
std::string hop_text(int hop, const Url& url) {
    return hop == 0 ? "" : " (redirected to \"" + url.display() + "\")";
}

// The addresses the transfer may connect to, or why there are none.
util::Result<std::vector<std::string>> checked_addresses(Resolver& resolver, const Url& url,
                                                         bool allow_private, int hop) {
    if (!allow_private && is_refused_host_name(url.host)) {
        return util::error(Code::permission_denied, "is refused" + hop_text(hop, url) + ": \"" +
                                                        url.host + "\" is the metadata server" +
                                                        refused_hint());
    }
    std::vector<std::string> addresses;
    if (url.ip_literal) {
        addresses.push_back(url.host);
    } else {
        auto resolved = resolver.resolve(url.host);
        if (!resolved.ok()) {
            Code code =
                resolved.status().code() == Code::not_found ? Code::not_found : Code::unavailable;
            return util::error(code, "cannot be fetched" + hop_text(hop, url) + ": " +
                                         resolved.status().message());
        }
        addresses = std::move(*resolved);
    }
    if (allow_private) {
        return addresses;
    }
    std::vector<std::string> allowed;
    std::string first_refused;
    AddressClass first_class = AddressClass::invalid;
    for (const auto& a : addresses) {
        AddressClass c = classify_address(a);
        if (!is_refused(c)) {
            allowed.push_back(a);
        } else if (first_refused.empty()) {
            first_refused = a;
            first_class = c;
        }
    }
    if (allowed.empty()) {
        std::string how = url.ip_literal ? "" : "\"" + url.host + "\" resolves to ";
        std::string kind(address_class_name(first_class));
        std::string article = kind.find_first_of("aeiou") == 0 ? ", an " : ", a ";
        return util::error(Code::permission_denied, "is refused" + hop_text(hop, url) + ": " + how +
                                                        first_refused + article + kind +
                                                        " address" + refused_hint());
    }
    return allowed;
}

// "host:port:a,b" for CURLOPT_RESOLVE, IPv6 addresses in brackets.
std::string resolve_entry(const Url& url, const std::vector<std::string>& addresses) {
    std::string entry = url.host + ":" + std::to_string(url.port) + ":";
    for (std::size_t i = 0; i < addresses.size(); ++i) {
        const auto& a = addresses[i];
        entry += (i == 0 ? "" : ",") + (a.find(':') != std::string::npos ? "[" + a + "]" : a);
    }
    return entry;
}

// Turns a transport failure into a message without the URL (the caller quotes it).
util::Status transport_failure(const util::Status& s, const net::HttpRequest& request,
                               const GuardedGetOptions& options, int hop, const Url& url) {
    std::string detail = s.message();
    std::string prefix = request.describe() + ": ";
    if (util::starts_with(detail, prefix)) {
        detail = detail.substr(prefix.size());
    }
    detail = util::redact(detail);
    std::string where = hop_text(hop, url);
    switch (s.code()) {
        case Code::deadline_exceeded:
            return util::error(s.code(),
                               "timed out after " + util::format_duration(options.timeout) + where);
        case Code::bad_response:
            // The transport reports a body over max_response_bytes this way (Content-Length
            // too large, or the body grew past it): final, unlike a truncated body.
            if (detail.find("response body over") != std::string::npos) {
                return util::error(Code::invalid_input, "is larger than the " +
                                                            format_bytes(options.max_bytes) +
                                                            " limit for one reference" + where);
            }
            return util::error(s.code(), "sent a broken answer" + where + ": " + detail);
        case Code::unavailable:
            return util::error(s.code(), "could not be reached" + where + ": " + detail);
        case Code::config:
            return util::error(s.code(), "failed TLS verification" + where + ": " + detail);
        default:
            return util::error(s.code(), "could not be fetched" + where + ": " + detail);
    }
}

util::Status http_failure(int status, int hop, const Url& url) {
    std::string what = "answered HTTP " + std::to_string(status) + hop_text(hop, url);
    const Code code = net::code_for_http_status(status, Code::invalid_input);
    return util::error(code, what).with_http_status(status);
}

bool is_redirect(int status) {
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

}  // namespace

std::string format_bytes(std::size_t bytes) {
    constexpr std::size_t k_mib = 1u << 20;
    constexpr std::size_t k_kib = 1u << 10;
    if (bytes >= k_mib && bytes % k_mib == 0) {
        return std::to_string(bytes / k_mib) + " MiB";
    }
    if (bytes >= k_kib && bytes % k_kib == 0) {
        return std::to_string(bytes / k_kib) + " KiB";
    }
    return std::to_string(bytes) + " bytes";
}

util::Result<net::HttpResponse> guarded_get(net::HttpTransport& transport, Resolver& resolver,
                                            const Url& start, const GuardedGetOptions& options) {
    Url url = start;
    for (int hop = 0;; ++hop) {
        TRY_ASSIGN(auto addresses, checked_addresses(resolver, url, options.allow_private, hop));
        net::HttpRequest request;
        request.url = url.normalised();
        request.headers = options.headers;
        request.timeout = options.timeout;
        request.connect_timeout = options.timeout;
        request.max_response_bytes = options.max_bytes;
        if (!url.ip_literal) {
            request.resolve = {resolve_entry(url, addresses)};
        }
        auto response = transport.send(request);
        if (!response.ok()) {
            return transport_failure(response.status(), request, options, hop, url);
        }
        int status = response->status;
        if (status == 200 || status == 304) {
            return std::move(*response);
        }
        if (!is_redirect(status)) {
            return http_failure(status, hop, url);
        }
        if (hop >= options.max_redirects) {
            return util::error(
                Code::invalid_input,
                "redirects more than " + std::to_string(options.max_redirects) + " times");
        }
        std::string location = response->header("location");
        if (location.empty()) {
            return util::error(Code::invalid_input, "answered HTTP " + std::to_string(status) +
                                                        " without a Location" + hop_text(hop, url));
        }
        auto next = resolve_location(url, location);
        if (!next.ok()) {
            return util::error(Code::invalid_input, "redirects to a location that is refused: it " +
                                                        next.status().message());
        }
        url = std::move(*next);
    }
}

}  // namespace assetgen::refs
