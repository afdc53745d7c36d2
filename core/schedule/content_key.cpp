#include "schedule/content_key.hpp"

#include "signing/url_refresh.hpp"
#include "util/hash.hpp"

namespace assetgen::schedule {

namespace {

void add(std::string& canon, const char* name, const std::string& value) {
    canon += name;
    canon += '=';
    canon += std::to_string(value.size());  // length-prefixed: no value can fake a separator
    canon += ':';
    canon += value;
    canon += '\n';
}

// A reference as it matters for the image: a signed URL by the object it names.
std::string ref_identity(const std::string& ref) {
    if (ref.find("X-Goog-Signature") != std::string::npos ||
        ref.find("x-goog-signature") != std::string::npos) {
        auto info = signing::parse_signed_url(ref);
        if (info.ok()) {
            return info->gs_url();
        }
    }
    return ref;
}

}  // namespace

std::string row_content_part(const batch::Row& row, const ContentSettings& settings) {
    std::string canon;
    add(canon, "prompt", row.prompt);
    for (const auto& r : row.refs) {
        add(canon, "ref", ref_identity(r));
    }
    add(canon, "ref_mode",
        row.ref_mode == batch::RefMode::style_and_composition ? "style_and_composition"
                                                              : "style_only");
    add(canon, "aspect_ratio", row.aspect_ratio);
    add(canon, "model", row.model.empty() ? settings.model : row.model);
    add(canon, "image_size", settings.image_size);
    add(canon, "mode", std::string(ledger::run_mode_name(settings.mode)));
    return util::sha256_hex(canon);
}

std::string content_key(const std::string& row_part, const std::vector<std::string>& global_refs) {
    std::string canon;
    add(canon, "row", row_part);
    for (const auto& g : global_refs) {
        add(canon, "global_ref", ref_identity(g));
    }
    return util::sha256_hex(canon).substr(0, 16);
}

}  // namespace assetgen::schedule
