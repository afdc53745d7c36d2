// libFuzzer target: the Gemini answer parser (core/provider/gemini_wire). The input is an
// answer body; its first byte also picks an HTTP status for the error mapping, and its first
// line doubles as a Retry-After header and a protobuf Duration. Checks: no exception, no UB,
// messages that dump as JSON (they reach the events file), delays that are not negative.
#include <chrono>
#include <string_view>

#include "fuzz_support.hpp"
#include "provider/gemini_wire.hpp"

using namespace assetgen;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view body(reinterpret_cast<const char*>(data), size);
    const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1764979200));

    auto image = provider::parse_gemini_response(body);
    if (image.ok()) {
        FUZZ_CHECK(!image->data.empty(), "an image with no bytes");
        fuzz::check_dumps(image->mime_type);
        fuzz::check_dumps(image->model_version);
    } else {
        FUZZ_CHECK(image.status().code() != util::Code::ok, "");
        fuzz::check_dumps(image.status().message());
    }

    const int http_status = size > 0 ? 400 + data[0] % 200 : 500;
    const std::string_view first_line = body.substr(0, body.find('\n'));
    const auto error = provider::parse_gemini_error(http_status, body, first_line, now);
    FUZZ_CHECK(!error.ok(), "an error answer mapped to ok");
    fuzz::check_dumps(error.message());
    if (error.retry_after()) {
        FUZZ_CHECK(error.retry_after()->count() >= 0, error.message());
    }
    if (auto d = provider::parse_proto_duration(first_line)) {
        FUZZ_CHECK(d->count() >= 0, first_line);
    }
    if (auto d = provider::parse_retry_after(first_line, now)) {
        FUZZ_CHECK(d->count() >= 0, first_line);
    }
    return 0;
}
