// libFuzzer target: the Cloud Storage answer parsers (core/storage/gcs_wire): object resource,
// objects.list page, error answers, the 308's Range header and x-goog-hash. The first byte picks
// an HTTP status; the first line doubles as a header value. Checks: no exception, no UB, every
// listed item has a name, messages that dump as JSON, the error keeps its HTTP status.
#include <string>
#include <string_view>

#include "fuzz_support.hpp"
#include "storage/gcs_wire.hpp"

using namespace assetgen;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view body(reinterpret_cast<const char*>(data), size);
    const std::string_view first_line = body.substr(0, body.find('\n'));

    if (auto meta = storage::parse_object_metadata(body); meta.ok()) {
        FUZZ_CHECK(!meta->name.empty(), "an object without a name");
        fuzz::check_dumps(meta->name);
        fuzz::check_dumps(meta->bucket);
    } else {
        fuzz::check_dumps(meta.status().message());
    }
    if (auto page = storage::parse_list_page(body); page.ok()) {
        for (const auto& item : page->items) {
            fuzz::check_dumps(item.name);
        }
        for (const auto& prefix : page->prefixes) {
            fuzz::check_dumps(prefix);
        }
    } else {
        fuzz::check_dumps(page.status().message());
    }

    net::HttpResponse response;
    response.status = size > 0 ? 300 + data[0] % 300 : 500;
    response.headers = {{"retry-after", std::string(first_line)},
                        {"x-goog-hash", std::string(first_line)}};
    response.body = std::string(body);
    const auto error = storage::gcs_error(response, "fuzz");
    FUZZ_CHECK(!error.ok(), "an error answer mapped to ok");
    FUZZ_CHECK(error.http_status() == response.status, error.message());
    fuzz::check_dumps(error.message());
    if (error.retry_after()) {
        FUZZ_CHECK(error.retry_after()->count() >= 0, error.message());
    }
    (void)storage::is_precondition_failed(error);
    (void)storage::parse_persisted_bytes(first_line);
    (void)storage::goog_hash(response, "crc32c");
    (void)storage::goog_hash(response, "md5");
    return 0;
}
