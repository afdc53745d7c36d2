#include <catch2/catch.hpp>

#include <string>

#include <nlohmann/json.hpp>

#include "util/utf8.hpp"

using namespace assetgen;

TEST_CASE("util: utf8_clean keeps UTF-8 and replaces every broken byte with U+FFFD", "[util]") {
    CHECK(util::utf8_clean("caf\xC3\xA9 \xF0\x9F\x98\x80") == "caf\xC3\xA9 \xF0\x9F\x98\x80");
    CHECK(util::utf8_clean("a\xFF"
                           "b") ==
          "a\xEF\xBF\xBD"
          "b");
    CHECK(util::utf8_clean("x\xC3") == "x\xEF\xBF\xBD");                // cut sequence
    CHECK(util::utf8_clean("\xC0\xAF") == "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong '/'
    CHECK(util::utf8_clean("\xED\xA0\x80") == "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
    CHECK(util::utf8_clean("\xF4\x90\x80\x80").find("\xF4") == std::string::npos);  // > U+10FFFF
    const std::string broken =
        "\xEF\xBB"
        "\x27 \xA6\xA6 \xF0\x9F";
    CHECK_NOTHROW(nlohmann::json(util::utf8_clean(broken)).dump());
}

TEST_CASE("util: utf8_clean cuts at a character boundary, never inside one", "[util]") {
    // "é" is two bytes: a cut at 4 bytes would split the third one.
    CHECK(util::utf8_clean("\xC3\xA9\xC3\xA9\xC3\xA9", 5) == "\xC3\xA9\xC3\xA9...");
    CHECK(util::utf8_clean("abcdef", 3) == "abc...");
    CHECK(util::utf8_clean("abc", 3) == "abc");
    CHECK_NOTHROW(
        nlohmann::json(util::utf8_clean(std::string(299, 'a') + "\xE2\x82\xAC", 300)).dump());
}

TEST_CASE("util: is_utf8", "[util]") {
    CHECK(util::is_utf8(""));
    CHECK(util::is_utf8("gs://b/caf\xC3\xA9.png"));
    CHECK_FALSE(util::is_utf8("\xFF"));
    CHECK_FALSE(util::is_utf8("a\xE2\x82"));
    CHECK_FALSE(util::is_utf8("\xC1\xBF"));
    // What storage::is_valid_utf8 (folded into this) checked for object names: four-byte
    // sequences, overlong three- and four-byte forms, surrogates, code points past U+10FFFF,
    // a sequence cut at the end, a stray continuation byte.
    CHECK(util::is_utf8("\xF0\x9F\x8E\xA8 \xE2\x82\xAC \xF4\x8F\xBF\xBF"));
    CHECK_FALSE(util::is_utf8("\xE0\x80\xAF"));
    CHECK_FALSE(util::is_utf8("\xF0\x80\x80\xAF"));
    CHECK_FALSE(util::is_utf8("\xED\xA0\x80"));
    CHECK_FALSE(util::is_utf8("\xF4\x90\x80\x80"));
    CHECK_FALSE(util::is_utf8("\xF5\x80\x80\x80"));
    CHECK_FALSE(util::is_utf8("ok\xF0\x9F\x8E"));
    CHECK_FALSE(util::is_utf8("\x80"));
}
