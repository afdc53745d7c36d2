#include "net/http.hpp"

#include "util/text.hpp"

namespace assetgen::net {

std::string HttpRequest::describe() const {
    return util::redact(method + " " + url);
}

bool is_body_too_large(const util::Status& status) {
    return status.code() == util::Code::bad_response &&
           status.message().find(k_body_too_large) != std::string::npos;
}

std::string HttpResponse::header(std::string_view name) const {
    std::string wanted = util::to_lower(name);
    for (const auto& [key, value] : headers) {
        if (key.size() == wanted.size() && util::to_lower(key) == wanted) {
            return value;
        }
    }
    return "";
}

util::Result<HttpResponse> AbortableTransport::send(const HttpRequest& request) {
    if (m_abort == nullptr || request.abort != nullptr) {
        return m_inner.send(request);
    }
    HttpRequest with_abort = request;
    with_abort.abort = m_abort;
    return m_inner.send(with_abort);
}

}  // namespace assetgen::net
