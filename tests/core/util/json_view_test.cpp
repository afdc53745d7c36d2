// JsonView accepts what nlohmann accepts and reads the same values, and the base64 decoder's
// table-driven loop decodes what the bit-by-bit definition decodes.
#include <catch2/catch.hpp>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/base64.hpp"
#include "util/json_view.hpp"

using assetgen::util::JsonNode;
using assetgen::util::JsonNumber;
using assetgen::util::JsonType;
using assetgen::util::JsonView;
using nlohmann::json;

namespace {

// A scalar of the view as an nlohmann value.
json to_json(const JsonView& v, const JsonNode& n) {
    switch (n.type) {
        case JsonType::null:
            return nullptr;
        case JsonType::boolean:
            return n.flag;
        case JsonType::string:
            return v.string(n);
        case JsonType::number: {
            JsonNumber x = v.number(n);
            if (x.kind == JsonNumber::Kind::unsigned_integer) {
                return x.u;
            }
            if (x.kind == JsonNumber::Kind::integer) {
                return x.i;
            }
            return x.d;
        }
        case JsonType::array:
        case JsonType::object:
            break;  // compare() walks containers itself
    }
    return nullptr;
}

// Same acceptance; when accepted, the same values (objects checked through member()).
void compare(const std::string& text) {
    INFO("text: " << json(text).dump(-1, ' ', true, json::error_handler_t::replace));
    json ref = json::parse(text.begin(), text.end(), nullptr, false);
    auto view = JsonView::parse(text);
    REQUIRE(view.has_value() == !ref.is_discarded());
    if (!view) {
        return;
    }
    // Walk both: arrays by position, objects by nlohmann's keys looked up with member().
    std::vector<std::pair<const json*, const JsonNode*>> todo{{&ref, &view->root()}};
    while (!todo.empty()) {
        auto [r, n] = todo.back();
        todo.pop_back();
        if (r->is_object()) {
            REQUIRE(n->type == JsonType::object);
            std::size_t members = 0;
            for (const JsonNode* c = view->first(*n); c != nullptr; c = view->next(*c)) {
                ++members;
            }
            REQUIRE(members >= r->size());
            for (auto it = r->begin(); it != r->end(); ++it) {
                const JsonNode* m = view->member(*n, it.key());
                REQUIRE(m != nullptr);
                todo.emplace_back(&it.value(), m);
            }
        } else if (r->is_array()) {
            REQUIRE(n->type == JsonType::array);
            const JsonNode* c = view->first(*n);
            for (const json& e : *r) {
                REQUIRE(c != nullptr);
                todo.emplace_back(&e, c);
                c = view->next(*c);
            }
            CHECK(c == nullptr);
        } else {
            CHECK(to_json(*view, *n) == *r);
            if (r->is_number()) {
                const JsonNumber x = view->number(*n);
                CHECK(r->is_number_unsigned() == (x.kind == JsonNumber::Kind::unsigned_integer));
                CHECK(r->is_number_float() == (x.kind == JsonNumber::Kind::floating));
            }
        }
    }
}

// RFC 4648 decoding one bit at a time, the definition the table-driven decoder must meet.
bool reference_decode(std::string_view text, std::string& out) {
    static const std::string alphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::size_t len = text.size();
    while (len > 0 && text[len - 1] == '=') {
        --len;
    }
    if (text.size() - len > 2 || (len != text.size() && text.size() % 4 != 0) || len % 4 == 1) {
        return false;
    }
    std::vector<int> bits;
    for (std::size_t i = 0; i < len; ++i) {
        auto p = alphabet.find(text[i]);
        if (p == std::string::npos) {
            return false;
        }
        for (int b = 5; b >= 0; --b) {
            bits.push_back((static_cast<int>(p) >> b) & 1);
        }
    }
    out.clear();
    std::size_t i = 0;
    for (; i + 8 <= bits.size(); i += 8) {
        int v = 0;
        for (int b = 0; b < 8; ++b) {
            v = (v << 1) | bits[i + b];
        }
        out.push_back(static_cast<char>(v));
    }
    for (; i < bits.size(); ++i) {
        if (bits[i] != 0) {
            return false;
        }
    }
    return true;
}

}  // namespace

TEST_CASE("JsonView accepts and reads what nlohmann does", "[util]") {
    const std::vector<std::string> texts = {
        R"({"a":1,"b":[true,false,null],"c":{"d":"e"}})",
        R"({"a":1,"a":2})",
        R"({"a":{"x":1},"a":[2]})",
        R"({"k\u0065y":"v","key":"w"})",
        R"(["\u00e9\ud83c\udfa8\"\\\/\b\f\n\r\t"])",
        R"(["\ud800"])",
        R"(["\udc00"])",
        R"(["\ud800\u0041"])",
        R"(["\u12"])",
        R"(["\x"])",
        R"([0,-0,1.5,-1.5e10,1E+2,1e-2,18446744073709551615,18446744073709551616,-9223372036854775808,-9223372036854775809])",
        R"([1e308,1e309,-1e999,123456789012345678901234567890])",
        R"([01])",
        R"([1.])",
        R"([.5])",
        R"([-])",
        R"([1e])",
        R"([+1])",
        R"([tru])",
        R"([nul])",
        R"([true,])",
        R"([,])",
        R"({,})",
        R"({"a"})",
        R"({"a":})",
        R"({"a" : 1 , "b" : 2 })",
        R"({1:2})",
        "",
        " ",
        "\xEF\xBB\xBF{}",
        "\xEF\xBB{}",
        " \xEF\xBB\xBF{}",
        "{}\xEF\xBB\xBF",
        std::string("{}\0trailing", 11),
        std::string("[\0]", 3),
        std::string("[\"a\0b\"]", 7),
        "[\"\xC2\xA9\"]",
        "[\"\xC0\xAF\"]",
        "[\"\xE0\x80\x80\"]",
        "[\"\xED\xA0\x80\"]",
        "[\"\xF4\x90\x80\x80\"]",
        "[\"\xF0\x9F\x8E\xA8\"]",
        "[\"\xF5\x80\x80\x80\"]",
        "[\"\x80\"]",
        "[\"\xE2\x82\"]",
        "[\"tab\there\"]",
        "[\"\x7F\"]",
        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
        "[[[[",
        "\"just a string\"",
        "42",
        "nullx",
        "{}{}",
        "[] ",
        "[]\n\r\t",
        "/* comment */ {}",
    };
    for (const std::string& t : texts) {
        compare(t);
    }
}

TEST_CASE("JsonView agrees with nlohmann on mutated answers", "[util]") {
    const std::string seed =
        R"({"candidates":[{"content":{"parts":[{"text":"caf\u00e9 \"x\""},{"inlineData":)"
        R"({"mimeType":"image/png","data":"iVBORw0KGgo\/AAAA"}}]},"finishReason":"STOP"}],)"
        R"("usageMetadata":{"promptTokenCount":12,"candidatesTokenCount":1.5e3},"x":[null,true]})";
    std::mt19937 rng(20261206);
    static const char k_specials[] =
        "{}[]:,\"\\/ \t\n0123456789-+.eEtrufalsn\x00\x1f\x7f\x80\xbf\xc2\xe0\xed\xf0\xf4\xff";
    const std::string specials(k_specials, sizeof k_specials - 1);
    int accepted = 0;
    for (int i = 0; i < 4000; ++i) {
        std::string t = seed;
        const int edits = 1 + static_cast<int>(rng() % 3);
        for (int e = 0; e < edits; ++e) {
            const std::size_t at = rng() % (t.size() + 1);
            const char c = specials[rng() % specials.size()];
            switch (rng() % 3) {
                case 0:
                    if (at < t.size()) {
                        t[at] = c;
                    }
                    break;
                case 1:
                    t.insert(t.begin() + static_cast<std::ptrdiff_t>(at), c);
                    break;
                default:
                    if (at < t.size()) {
                        t.erase(at, 1);
                    }
                    break;
            }
        }
        compare(t);
        accepted += JsonView::parse(t).has_value() ? 1 : 0;
    }
    CHECK(accepted > 100);  // the mutations left some documents valid, so values were compared
}

TEST_CASE("base64 decoding matches the bit-by-bit definition", "[util]") {
    std::mt19937 rng(42);
    const std::string chars =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_ \n*";
    for (int i = 0; i < 5000; ++i) {
        std::string text;
        const std::size_t n = rng() % 24;
        for (std::size_t k = 0; k < n; ++k) {
            // Mostly the alphabet, sometimes padding or a stray character.
            text += chars[rng() % (rng() % 8 == 0 ? chars.size() : 64)];
        }
        std::string expected;
        const bool ok = reference_decode(text, expected);
        auto got = assetgen::util::base64_decode(text);
        INFO("text: " << text);
        REQUIRE(got.ok() == ok);
        if (ok) {
            CHECK(*got == expected);
        }
    }
    for (std::size_t n = 0; n < 100; ++n) {
        std::string bytes(n, '\0');
        for (char& c : bytes) {
            c = static_cast<char>(rng() & 0xff);
        }
        auto back = assetgen::util::base64_decode(assetgen::util::base64_encode(bytes));
        REQUIRE(back.ok());
        CHECK(*back == bytes);
        auto url = assetgen::util::base64url_decode(assetgen::util::base64url_encode(bytes));
        REQUIRE(url.ok());
        CHECK(*url == bytes);
    }
}

TEST_CASE("base64_decode_into decodes either alphabet in place, as base64_decode then base64url",
          "[util]") {
    std::mt19937 rng(7);
    const std::string chars =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_=\n*";
    int decoded = 0;
    for (int i = 0; i < 20000; ++i) {
        std::string text;
        const std::size_t n = rng() % 40;
        for (std::size_t k = 0; k < n; ++k) {
            // The common 62 characters, one alphabet's two, sometimes the other's or a stray.
            const std::size_t pick = rng() % 16;
            text += pick == 0 ? chars[rng() % chars.size()] : chars[rng() % 64];
        }
        if (rng() % 2 == 0) {
            std::replace(text.begin(), text.end(), '+', '-');
            std::replace(text.begin(), text.end(), '/', '_');
        }
        auto expected = assetgen::util::base64_decode(text);
        if (!expected.ok()) {
            expected = assetgen::util::base64url_decode(text);
        }
        INFO("text: " << text);
        // In place: over the text itself, and from before it in the same buffer (as an answer's
        // image is decoded over its body from the body's start).
        for (std::size_t lead : {std::size_t{0}, std::size_t{1}, std::size_t{57}}) {
            std::string buffer = std::string(lead, '{') + text;
            auto got = assetgen::util::base64_decode_into(std::string_view(buffer).substr(lead),
                                                          buffer.data());
            REQUIRE(got.ok() == expected.ok());
            if (got.ok()) {
                CHECK(*got <= assetgen::util::base64_decoded_size(text));
                CHECK(buffer.substr(0, *got) == *expected);
                decoded += lead == 0 ? 1 : 0;
            }
        }
    }
    CHECK(decoded > 2000);  // both outcomes were exercised
    CHECK(!assetgen::util::base64_decode_into("QU+/QU-_", std::string(8, ' ').data()).ok());
}
