#include "auth/metadata.hpp"

#include "auth/service_account.hpp"
#include "util/text.hpp"

namespace assetgen::auth {
namespace {

constexpr std::string_view k_token_path =
    "/computeMetadata/v1/instance/service-accounts/default/token";
constexpr std::string_view k_email_path =
    "/computeMetadata/v1/instance/service-accounts/default/email";
constexpr std::string_view k_project_path = "/computeMetadata/v1/project/project-id";

// GETs one metadata path; the body of a 200 answer, else the mapped Status.
util::Result<std::string> metadata_get(net::HttpTransport& transport, const std::string& host,
                                       std::string_view path) {
    std::string where = "metadata server " + host;
    net::HttpRequest request;
    request.url = "http://" + host + std::string(path);
    request.headers = {{"Metadata-Flavor", "Google"}};
    // The server is local to the machine: a slow connect means there is none.
    request.connect_timeout = std::chrono::seconds(3);
    request.timeout = std::chrono::seconds(30);
    request.max_response_bytes = 1u << 20;
    auto response = transport.send(request);
    if (!response.ok()) {
        return util::error(response.status().code(),
                           where +
                               " unreachable (outside Google Cloud, set "
                               "GOOGLE_APPLICATION_CREDENTIALS to a service-account key "
                               "file): " +
                               response.status().message());
    }
    if (response->status != 200) {
        return token_error(*response, where + " " + std::string(path));
    }
    return std::move(response->body);
}

}  // namespace

std::string metadata_host(std::string_view override_host) {
    std::string_view host = util::trim(override_host);
    return host.empty() ? std::string(k_default_metadata_host) : std::string(host);
}

MetadataTokenSource::MetadataTokenSource(net::HttpTransport& transport, util::Clock& clock,
                                         std::string host)
    : m_transport(transport), m_host(std::move(host)), m_cache(clock) {}

util::Result<std::string> MetadataTokenSource::token() {
    return m_cache.get([this] { return fetch(); });
}

std::string MetadataTokenSource::describe() const {
    return "metadata server " + m_host + " (default service account)";
}

util::Result<AccessToken> MetadataTokenSource::fetch() {
    TRY_ASSIGN(std::string body, metadata_get(m_transport, m_host, k_token_path));
    return parse_token_response(body, "metadata server " + m_host);
}

util::Result<std::string> metadata_service_account_email(net::HttpTransport& transport,
                                                         const std::string& host) {
    TRY_ASSIGN(std::string body, metadata_get(transport, host, k_email_path));
    return std::string(util::trim(body));
}

util::Result<std::string> metadata_project_id(net::HttpTransport& transport,
                                              const std::string& host) {
    TRY_ASSIGN(std::string body, metadata_get(transport, host, k_project_path));
    return std::string(util::trim(body));
}

}  // namespace assetgen::auth
