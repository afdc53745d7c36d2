#include "provider/model_lookup.hpp"

#include <nlohmann/json.hpp>

#include "util/text.hpp"
#include "util/utf8.hpp"

namespace assetgen::provider {
namespace {

using nlohmann::json;

std::string string_at(const json& object, const char* camel, const char* snake) {
    for (const char* key : {camel, snake}) {
        auto it = object.find(key);
        if (it != object.end() && it->is_string()) {
            return it->get<std::string>();
        }
    }
    return {};
}

const json* array_at(const json& object, const char* camel, const char* snake) {
    for (const char* key : {camel, snake}) {
        auto it = object.find(key);
        if (it != object.end() && it->is_array()) {
            return &*it;
        }
    }
    return nullptr;
}

}  // namespace

util::Result<ModelListing> parse_model_listing(std::string_view body) {
    json root = json::parse(body.begin(), body.end(), nullptr, false);
    if (root.is_discarded() || !root.is_object()) {
        return util::error(util::Code::bad_response,
                           "models.list: the answer is not a JSON object");
    }
    ModelListing out;
    out.next_page_token = string_at(root, "nextPageToken", "next_page_token");
    const json* models = array_at(root, "models", "models");
    if (models == nullptr) {
        models = array_at(root, "publisherModels", "publisher_models");  // Vertex's listing
    }
    if (models == nullptr) {
        return out;
    }
    for (const json& m : *models) {
        if (!m.is_object()) {
            continue;
        }
        std::string name = string_at(m, "name", "name");
        if (util::starts_with(name, "models/")) {
            name = name.substr(7);
        } else if (const auto slash = name.rfind('/');
                   util::starts_with(name, "publishers/") && slash != std::string::npos) {
            name = name.substr(slash + 1);  // publishers/google/models/<id>
        }
        if (name.empty() || name.find("image") == std::string::npos) {
            continue;
        }
        if (const json* methods =
                array_at(m, "supportedGenerationMethods", "supported_generation_methods")) {
            bool generates = false;
            for (const json& method : *methods) {
                generates = generates ||
                            (method.is_string() && method.get<std::string>() == "generateContent");
            }
            if (!generates) {
                continue;
            }
        }
        out.image_models.push_back(util::utf8_clean(name, 200));
    }
    return out;
}

util::Status unknown_model(const std::string& api, const std::string& model,
                           const std::string& answered, const std::vector<std::string>& listed,
                           const std::string& list_note) {
    std::string message = api + ": model \"" + model + "\" does not exist (" + answered + ")";
    if (!listed.empty()) {
        message += "; the image models it lists: ";
        for (std::size_t i = 0; i < listed.size(); ++i) {
            message += (i > 0 ? ", " : "") + listed[i];
        }
    } else if (!list_note.empty()) {
        message += "; " + list_note;
    }
    message +=
        ". Nothing was sent to the model and nothing was spent; choose a model with --model "
        "or a row's model column";
    return util::Status(util::Code::config, message);
}

util::Status lookup_error(const std::string& call, const util::Status& from_wire) {
    std::string message = from_wire.message();
    constexpr std::string_view k_prefix = "generateContent";
    if (util::starts_with(message, k_prefix)) {
        message = call + message.substr(k_prefix.size());
    } else {
        message = call + ": " + message;
    }
    util::Status out(from_wire.code(), message);
    out.with_http_status(from_wire.http_status());
    if (from_wire.retry_after()) {
        out.with_retry_after(*from_wire.retry_after());
    }
    return out;
}

}  // namespace assetgen::provider
