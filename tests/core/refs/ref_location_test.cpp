#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

#include "refs/ref_location.hpp"

using namespace assetgen;
using refs::parse_ref;
using refs::parse_url;
using refs::RefKind;
using util::Code;

TEST_CASE("refs: URLs are normalised: scheme and host lower-case, default port and fragment gone",
          "[refs]") {
    auto a = parse_url("HTTPS://Img.Example.COM:443/Path/A.png?X=1#frag");
    REQUIRE(a.ok());
    CHECK(a->normalised() == "https://img.example.com/Path/A.png?X=1");
    CHECK(a->display() == "https://img.example.com/Path/A.png");
    CHECK(a->port == 443);

    auto b = parse_url("http://example.com.:8080");
    REQUIRE(b.ok());
    CHECK(b->normalised() == "http://example.com:8080/");
    CHECK(b->host == "example.com");

    auto c = parse_url("http://[::1]:80/a");
    REQUIRE(c.ok());
    CHECK(c->ip_literal);
    CHECK(c->host == "::1");
    CHECK(c->normalised() == "http://[::1]/a");

    auto d = parse_url("http://10.0.0.1/x");
    REQUIRE(d.ok());
    CHECK(d->ip_literal);
    CHECK_FALSE(parse_url("http://img.test/x")->ip_literal);
}

TEST_CASE("refs: URLs that different parsers could read differently are refused", "[refs]") {
    for (const char* text :
         {"http://user:pw@example.com/a", "http://example.com@127.0.0.1/a", "http://2130706433/",
          "http://0x7f.0.0.1/", "http://127.1/", "http://010.0.0.1/", "http://exa mple.com/",
          "http://example.com\\@x/", "http://[::1/", "http://[fe80::1%25eth0]/", "http://:80/",
          "http:///a", "http://example.com:0/", "http://example.com:99999/",
          "http://example.com:8x/", "http://ex..ample/", "http://exämple.com/",
          "ftp://example.com/a", "http:example.com/a"}) {
        INFO(text);
        auto r = parse_url(text);
        CHECK_FALSE(r.ok());
        CHECK(r.status().code() == Code::invalid_input);
    }
}

TEST_CASE("refs: redirect locations resolve against the URL that answered", "[refs]") {
    auto base = parse_url("https://a.test/dir/page.png?q=1");
    REQUIRE(base.ok());
    CHECK(refs::resolve_location(*base, "https://b.test/x")->normalised() == "https://b.test/x");
    CHECK(refs::resolve_location(*base, "//c.test/y")->normalised() == "https://c.test/y");
    CHECK(refs::resolve_location(*base, "/abs?z=2")->normalised() == "https://a.test/abs?z=2");
    CHECK(refs::resolve_location(*base, "rel.png")->normalised() == "https://a.test/dir/rel.png");
    CHECK(refs::resolve_location(*base, "../up.png#f")->normalised() == "https://a.test/up.png");
    CHECK(refs::resolve_location(*base, "./a/./b/../c.png")->normalised() ==
          "https://a.test/dir/a/c.png");
    CHECK(refs::resolve_location(*base, "?other")->normalised() ==
          "https://a.test/dir/page.png?other");
    CHECK_FALSE(refs::resolve_location(*base, "file:///etc/passwd").ok());
    CHECK_FALSE(refs::resolve_location(*base, "gs://bucket/o").ok());
    CHECK_FALSE(refs::resolve_location(*base, "").ok());
}

TEST_CASE("refs: refs are http(s) URLs, gs:// objects or local paths, nothing else", "[refs]") {
    auto http = parse_ref("  https://Example.com/a.png?sig=secret ", "");
    REQUIRE(http.ok());
    CHECK(http->kind == RefKind::http);
    CHECK(http->fetch == "https://example.com/a.png?sig=secret");
    CHECK(http->display == "https://example.com/a.png");

    auto gcs = parse_ref("gs://bucket/refs/a.png", "");
    REQUIRE(gcs.ok());
    CHECK(gcs->kind == RefKind::gcs);
    CHECK(gcs->fetch == "gs://bucket/refs/a.png");

    auto rel = parse_ref("refs/../refs/a.png", "/data/batches");
    REQUIRE(rel.ok());
    CHECK(rel->kind == RefKind::local);
    CHECK(rel->fetch == "/data/batches/refs/a.png");
    CHECK(rel->key == "file:/data/batches/refs/a.png");
    CHECK(rel->display == "refs/../refs/a.png");
    CHECK(parse_ref("./refs/a.png", "/data/batches")->key == rel->key);

    auto abs = parse_ref("/srv/refs/b.png", "/data/batches");
    REQUIRE(abs.ok());
    CHECK(abs->fetch == "/srv/refs/b.png");

    auto up = parse_ref("../common/c.png", "/data/batches");
    REQUIRE(up.ok());
    CHECK(up->fetch == "/data/common/c.png");

    auto in_bucket = parse_ref("refs/d.png", "gs://bucket/batches");
    REQUIRE(in_bucket.ok());
    CHECK(in_bucket->kind == RefKind::gcs);
    CHECK(in_bucket->fetch == "gs://bucket/batches/refs/d.png");
}

TEST_CASE("refs: file:// and other schemes are refused with a message that names the scheme",
          "[refs]") {
    for (const char* text :
         {"file:///etc/passwd", "FILE:/etc/passwd", "data:image/png;base64,AAAA",
          "ftp://example.com/a.png", "javascript:alert(1)", "s3://bucket/a.png"}) {
        INFO(text);
        auto r = parse_ref(text, "");
        REQUIRE_FALSE(r.ok());
        CHECK(r.status().code() == Code::invalid_input);
        CHECK(r.status().message().find("unsupported scheme") != std::string::npos);
        CHECK_FALSE(refs::check_ref(text).ok());
    }
    CHECK_FALSE(parse_ref("gs://bucket", "").ok());
    CHECK_FALSE(parse_ref("gs://bucket/", "").ok());
    CHECK_FALSE(parse_ref("gs:bucket/a", "").ok());
    CHECK_FALSE(parse_ref("   ", "").ok());
    CHECK(refs::check_ref("https://example.com/a.png").ok());
    CHECK(refs::check_ref("refs/a.png").ok());
}

TEST_CASE("refs: without_query drops the query and the fragment", "[refs]") {
    CHECK(refs::without_query("https://x/a.png?X-Goog-Signature=abc") == "https://x/a.png");
    CHECK(refs::without_query("https://x/a.png#top") == "https://x/a.png");
    CHECK(refs::without_query("local/a.png") == "local/a.png");
}
