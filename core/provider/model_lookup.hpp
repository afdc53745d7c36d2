#pragma once
// Asking the API whether a model exists before anything is spent: the Gemini API's models.get
// (GET /v1beta/models/{model}, https://ai.google.dev/api/models#method:-models.get) and
// models.list (GET /v1beta/models, pageSize/pageToken → {"models": [...], "nextPageToken"}),
// and Vertex AI's publisher model (GET /v1/publishers/google/models/{model}, the
// PublisherModel resource "publishers/{publisher}/models/{model}"). Pure functions over the
// answers; the providers send the requests.

#include <string>
#include <string_view>
#include <vector>

#include "util/status.hpp"

namespace assetgen::provider {

// One page of a models.list answer.
struct ModelListing {
    // Bare ids ("gemini-2.5-flash-image") of the models that can make images: a name with
    // "image" in it and, when the listing says, "generateContent" among its
    // supportedGenerationMethods. In the listing's order.
    std::vector<std::string> image_models;
    std::string next_page_token;  // "" on the last page
};

// Reads a models.list answer, or Vertex AI's publishers.models.list (GET
// /v1beta1/publishers/google/models → {"publisherModels": [{"name":
// "publishers/google/models/<id>"}], "nextPageToken"}; it has no generation methods, so the
// name decides). BAD_RESPONSE when it is not a JSON object.
util::Result<ModelListing> parse_model_listing(std::string_view body);

// The refusal of a model the API does not know: CONFIG_ERROR `<api>: model "<model>" does not
// exist (<what answered 404>); the image models it lists: a, b (choose one with --model or a
// row's model column)`, or without a list when `listed` is empty and `list_note` says why.
util::Status unknown_model(const std::string& api, const std::string& model,
                           const std::string& answered, const std::vector<std::string>& listed,
                           const std::string& list_note);

// The Status of a failed lookup that is not a 404 (auth, quota, 5xx, ...): parse_gemini_error's
// code, hint and HTTP status, the message naming `call` ("models.get") instead of
// generateContent.
util::Status lookup_error(const std::string& call, const util::Status& from_wire);

}  // namespace assetgen::provider
