// libFuzzer target: the V4 signed-URL reader behind `assetgen refresh` (core/signing/
// url_refresh): find_signed_urls over any text, parse_signed_url on each URL and on the whole
// input, then refresh_signed_urls with a stand-in signer. Checks: no exception, no UB (expiry
// arithmetic included), every URL found lies inside the text and parses to what was found,
// a refresh that re-signs nothing returns the text unchanged.
#include <string>
#include <string_view>

#include "fuzz_support.hpp"
#include "signing/url_refresh.hpp"

using namespace assetgen;

namespace {

class FixedSigner final : public signing::Signer {
public:
    util::Result<std::string> sign(std::string_view) override { return std::string(256, '\x5a'); }
    std::string client_email() const override { return "fuzz@example.iam.gserviceaccount.com"; }
};

constexpr std::int64_t k_now = 1764979200;  // 2025-12-06T00:00:00Z

void check_info(const signing::SignedUrlInfo& info) {
    (void)info.expires_at();
    (void)signing::expires_within(info, k_now, 300);
    fuzz::check_dumps(info.gs_url());
    fuzz::check_dumps(info.client_email);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);

    if (auto info = signing::parse_signed_url(text); info.ok()) {
        check_info(*info);
    } else {
        fuzz::check_dumps(info.status().message());
    }

    const auto found = signing::find_signed_urls(text);
    std::size_t end = 0;
    for (const auto& f : found) {
        FUZZ_CHECK(f.offset >= end && f.length > 0 && f.offset + f.length <= size, f.url);
        end = f.offset + f.length;
        auto again = signing::parse_signed_url(f.url);
        FUZZ_CHECK(again.ok(), f.url);
        FUZZ_CHECK(again->expires_at() == f.info.expires_at() && again->object == f.info.object &&
                       again->bucket == f.info.bucket,
                   f.url);
        check_info(f.info);
    }

    FixedSigner signer;
    signing::RefreshOptions options;
    options.now = k_now;
    auto refreshed = signing::refresh_signed_urls(text, options, signer);
    FUZZ_CHECK(refreshed.ok(), refreshed.status().message());
    FUZZ_CHECK(refreshed->found == found.size(), text);
    FUZZ_CHECK(refreshed->decisions.size() == found.size(), text);
    if (refreshed->refreshed == 0) {
        FUZZ_CHECK(refreshed->text == text, text);
    }
    for (const auto& d : refreshed->decisions) {
        fuzz::check_dumps(d.location);
        fuzz::check_dumps(d.reason);
    }
    return 0;
}
