#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

#include "refs/address_guard.hpp"

using namespace assetgen;
using refs::AddressClass;
using refs::classify_address;

TEST_CASE("refs: the address classifier knows every refused IPv4 range", "[refs]") {
    const std::vector<std::pair<std::string, AddressClass>> cases = {
        {"127.0.0.1", AddressClass::loopback},
        {"127.255.255.254", AddressClass::loopback},
        {"10.0.0.1", AddressClass::private_network},
        {"10.255.255.255", AddressClass::private_network},
        {"172.16.0.1", AddressClass::private_network},
        {"172.31.255.255", AddressClass::private_network},
        {"192.168.1.1", AddressClass::private_network},
        {"169.254.169.254", AddressClass::link_local},
        {"169.254.0.1", AddressClass::link_local},
        {"0.0.0.0", AddressClass::unspecified},
        {"0.1.2.3", AddressClass::unspecified},
        {"100.64.0.1", AddressClass::shared_cgnat},
        {"100.127.255.255", AddressClass::shared_cgnat},
        {"224.0.0.1", AddressClass::multicast},
        {"239.255.255.250", AddressClass::multicast},
        {"255.255.255.255", AddressClass::reserved},
        {"240.0.0.1", AddressClass::reserved},
    };
    for (const auto& [address, expected] : cases) {
        INFO(address);
        CHECK(classify_address(address) == expected);
        CHECK(refs::is_refused(classify_address(address)));
    }
}

TEST_CASE("refs: public IPv4 addresses next to the refused ranges are allowed", "[refs]") {
    for (const char* address :
         {"8.8.8.8", "1.1.1.1", "93.184.216.34", "172.15.255.255", "172.32.0.1", "100.63.255.255",
          "100.128.0.1", "169.253.255.255", "192.167.1.1", "11.0.0.1", "126.255.255.255",
          "128.0.0.1", "223.255.255.255"}) {
        INFO(address);
        CHECK(classify_address(address) == AddressClass::public_address);
        CHECK_FALSE(refs::is_refused(classify_address(address)));
    }
}

TEST_CASE("refs: the address classifier knows every refused IPv6 range", "[refs]") {
    const std::vector<std::pair<std::string, AddressClass>> cases = {
        {"::1", AddressClass::loopback},
        {"[::1]", AddressClass::loopback},
        {"0:0:0:0:0:0:0:1", AddressClass::loopback},
        {"::", AddressClass::unspecified},
        {"fc00::1", AddressClass::private_network},
        {"fd12:3456:789a::1", AddressClass::private_network},
        {"fec0::1", AddressClass::private_network},
        {"fe80::1", AddressClass::link_local},
        {"fe80::1%eth0", AddressClass::link_local},
        {"febf::1", AddressClass::link_local},
        {"ff02::1", AddressClass::multicast},
        {"64:ff9b:1::1", AddressClass::private_network},
    };
    for (const auto& [address, expected] : cases) {
        INFO(address);
        CHECK(classify_address(address) == expected);
    }
    for (const char* address : {"2001:4860:4860::8888", "2606:4700::1111", "2a00:1450:4001::1"}) {
        INFO(address);
        CHECK(classify_address(address) == AddressClass::public_address);
    }
}

TEST_CASE("refs: IPv6 forms that carry an IPv4 address are judged by that address", "[refs]") {
    const std::vector<std::pair<std::string, AddressClass>> cases = {
        {"::ffff:127.0.0.1", AddressClass::loopback},
        {"::ffff:7f00:1", AddressClass::loopback},
        {"[::ffff:169.254.169.254]", AddressClass::link_local},
        {"::ffff:10.1.2.3", AddressClass::private_network},
        {"::ffff:192.168.0.1", AddressClass::private_network},
        {"::ffff:100.64.1.1", AddressClass::shared_cgnat},
        {"::ffff:0.0.0.0", AddressClass::unspecified},
        {"::ffff:0:127.0.0.1", AddressClass::loopback},
        {"::127.0.0.1", AddressClass::loopback},
        {"64:ff9b::7f00:1", AddressClass::loopback},
        {"64:ff9b::a9fe:a9fe", AddressClass::link_local},
        {"2002:7f00:1::", AddressClass::loopback},
        {"2002:c0a8:101::1", AddressClass::private_network},
        {"::ffff:8.8.8.8", AddressClass::public_address},
        {"64:ff9b::808:808", AddressClass::public_address},
    };
    for (const auto& [address, expected] : cases) {
        INFO(address);
        CHECK(classify_address(address) == expected);
    }
}

TEST_CASE("refs: anything that is not a numeric address is invalid, and refused", "[refs]") {
    for (const char* text : {"", "localhost", "example.com", "127.1", "2130706433", "0x7f000001",
                             "127.0.0.1.", "1.2.3.4.5", "::g", "[::1", "010.0.0.1"}) {
        INFO(text);
        CHECK(classify_address(text) == AddressClass::invalid);
        CHECK(refs::is_refused(classify_address(text)));
    }
}

TEST_CASE("refs: the metadata server is refused by name in any spelling", "[refs]") {
    CHECK(refs::is_refused_host_name("metadata.google.internal"));
    CHECK(refs::is_refused_host_name("METADATA.Google.Internal."));
    CHECK(refs::is_refused_host_name("metadata"));
    CHECK_FALSE(refs::is_refused_host_name("metadata.example.com"));
    CHECK_FALSE(refs::is_refused_host_name("storage.googleapis.com"));
}

TEST_CASE("refs: the fixed resolver answers its table and nothing else", "[refs]") {
    refs::FixedResolver resolver({{"img.test", {"127.0.0.1"}}});
    resolver.set("Other.Test", {"10.0.0.1", "::1"});
    auto a = resolver.resolve("IMG.test");
    REQUIRE(a.ok());
    CHECK(*a == std::vector<std::string>{"127.0.0.1"});
    auto b = resolver.resolve("other.test");
    REQUIRE(b.ok());
    CHECK(b->size() == 2);
    CHECK(resolver.resolve("nope.test").status().code() == util::Code::not_found);
}

TEST_CASE("refs: the system resolver resolves numeric hosts without DNS", "[refs]") {
    refs::SystemResolver resolver;
    auto v4 = resolver.resolve("127.0.0.1");
    REQUIRE(v4.ok());
    CHECK(v4->front() == "127.0.0.1");
    auto v6 = resolver.resolve("::1");
    REQUIRE(v6.ok());
    CHECK(v6->front() == "::1");
}
