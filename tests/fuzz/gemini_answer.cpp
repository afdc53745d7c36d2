// libFuzzer target: the fast Gemini answer reader (parse_gemini_response over a JsonView)
// cross-checked against the nlohmann DOM reference (parse_gemini_response_dom) on any input:
// JsonView accepts exactly what nlohmann accepts, and both readers give the same outcome, the
// same image bytes, mime type, usage and model version, or the same error code, message, HTTP
// status and billed usage; the in-place form (parse_gemini_response_in_place, the image decoded
// over the body) says what the fast reader says. Any difference aborts (a finding).
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "fuzz_support.hpp"
#include "provider/gemini_wire.hpp"
#include "util/json_view.hpp"

using namespace assetgen;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view body(reinterpret_cast<const char*>(data), size);

    const bool view_ok = util::JsonView::parse(body).has_value();
    const bool dom_ok =
        !nlohmann::json::parse(body.begin(), body.end(), nullptr, false).is_discarded();
    FUZZ_CHECK(view_ok == dom_ok, "JsonView and nlohmann disagree on validity");

    auto fast = provider::parse_gemini_response(body);
    auto ref = provider::parse_gemini_response_dom(body);
    FUZZ_CHECK(fast.ok() == ref.ok(), "one reader found an image, the other did not");
    auto in_place = provider::parse_gemini_response_in_place(std::string(body));
    FUZZ_CHECK(in_place.ok() == fast.ok(), "the in-place reader disagrees");
    FUZZ_CHECK(in_place.ok()
                   ? in_place->data == fast->data && in_place->model_version == fast->model_version
                   : in_place.status().message() == fast.status().message(),
               "the in-place reader's image or message differs");
    if (fast.ok()) {
        FUZZ_CHECK(fast->data == ref->data, "image bytes differ");
        FUZZ_CHECK(fast->mime_type == ref->mime_type, fast->mime_type);
        FUZZ_CHECK(fast->model_version == ref->model_version, fast->model_version);
        FUZZ_CHECK(fast->usage.prompt_tokens == ref->usage.prompt_tokens, "prompt tokens");
        FUZZ_CHECK(fast->usage.output_tokens == ref->usage.output_tokens, "output tokens");
        FUZZ_CHECK(fast->usage.thoughts_tokens == ref->usage.thoughts_tokens, "thoughts tokens");
        FUZZ_CHECK(fast->usage.output_image_tokens == ref->usage.output_image_tokens,
                   "image tokens");
        fuzz::check_dumps(fast->mime_type);
        fuzz::check_dumps(fast->model_version);
        return 0;
    }
    const util::Status& f = fast.status();
    const util::Status& r = ref.status();
    FUZZ_CHECK(f.code() == r.code(), f.message() + " | " + r.message());
    FUZZ_CHECK(f.message() == r.message(), f.message() + " | " + r.message());
    FUZZ_CHECK(f.http_status() == r.http_status(), f.message());
    FUZZ_CHECK(f.usage().has_value() == r.usage().has_value(), f.message());
    if (f.usage()) {
        FUZZ_CHECK(f.usage()->prompt_tokens == r.usage()->prompt_tokens, "billed prompt tokens");
        FUZZ_CHECK(f.usage()->output_tokens == r.usage()->output_tokens, "billed output tokens");
        FUZZ_CHECK(f.usage()->thoughts_tokens == r.usage()->thoughts_tokens, "billed thoughts");
        FUZZ_CHECK(f.usage()->output_image_tokens == r.usage()->output_image_tokens,
                   "billed image tokens");
    }
    fuzz::check_dumps(f.message());
    return 0;
}
