// Reading what JsonView::parse indexed (json_view.cpp): walking a container's children, finding
// a member, and decoding a string or a number only when asked. The spans were validated by
// parse, so nothing here checks the grammar again.

#include "util/json_view.hpp"

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "util/json_view_hex.hpp"

namespace assetgen::util {
namespace {

using json_detail::read_hex4;

void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

}  // namespace

const JsonNode* JsonView::first(const JsonNode& container) const {
    if ((container.type != JsonType::array && container.type != JsonType::object) ||
        container.child == 0) {
        return nullptr;
    }
    return &m_nodes[container.child];
}

const JsonNode* JsonView::next(const JsonNode& node) const {
    return node.next == 0 ? nullptr : &m_nodes[node.next];
}

bool JsonView::key_is(const JsonNode& node, std::string_view name) const {
    std::string_view k = m_text.substr(node.key_begin, node.key_end - node.key_begin);
    return node.key_escaped ? json_unescape(k) == name : k == name;
}

const JsonNode* JsonView::member(const JsonNode& object, std::string_view name) const {
    if (object.type != JsonType::object) {
        return nullptr;
    }
    const JsonNode* found = nullptr;
    for (const JsonNode* m = first(object); m != nullptr; m = next(*m)) {
        if (key_is(*m, name)) {
            found = m;  // nlohmann keeps the last of duplicate keys
        }
    }
    return found;
}

std::string_view JsonView::raw(const JsonNode& node) const {
    return m_text.substr(node.begin, node.end - node.begin);
}

std::string JsonView::string(const JsonNode& node) const {
    std::string_view r = raw(node);
    return node.flag ? json_unescape(r) : std::string(r);
}

JsonNumber JsonView::number(const JsonNode& node) const {
    std::string text(raw(node));
    JsonNumber n;
    if (text.find_first_of(".eE") == std::string::npos) {
        errno = 0;
        if (text[0] == '-') {
            long long v = std::strtoll(text.c_str(), nullptr, 10);
            if (errno == 0) {
                n.kind = JsonNumber::Kind::integer;
                n.i = v;
                return n;
            }
        } else {
            unsigned long long v = std::strtoull(text.c_str(), nullptr, 10);
            if (errno == 0) {
                n.kind = JsonNumber::Kind::unsigned_integer;
                n.u = v;
                return n;
            }
        }
    }
    n.kind = JsonNumber::Kind::floating;
    n.d = std::strtod(text.c_str(), nullptr);
    return n;
}

std::string json_unescape(std::string_view raw) {
    std::string out;
    out.reserve(raw.size());
    const auto* p = reinterpret_cast<const unsigned char*>(raw.data());
    const auto* end = p + raw.size();
    while (p < end) {
        const unsigned char* stop =
            static_cast<const unsigned char*>(std::memchr(p, '\\', end - p));
        if (stop == nullptr) {
            out.append(reinterpret_cast<const char*>(p), end - p);
            break;
        }
        out.append(reinterpret_cast<const char*>(p), stop - p);
        p = stop + 1;
        if (p >= end) {
            break;  // not from a validated string
        }
        const unsigned char c = *p++;
        switch (c) {
            case 'b':
                out.push_back('\b');
                break;
            case 'f':
                out.push_back('\f');
                break;
            case 'n':
                out.push_back('\n');
                break;
            case 'r':
                out.push_back('\r');
                break;
            case 't':
                out.push_back('\t');
                break;
            case 'u': {
                int cp = read_hex4(p, end);
                if (cp < 0) {
                    return out;  // not from a validated string
                }
                p += 4;
                std::uint32_t code = static_cast<std::uint32_t>(cp);
                if (cp >= 0xD800 && cp <= 0xDBFF && end - p >= 6 && p[0] == '\\' && p[1] == 'u') {
                    int low = read_hex4(p + 2, end);
                    if (low >= 0xDC00 && low <= 0xDFFF) {
                        code = 0x10000 + ((static_cast<std::uint32_t>(cp) - 0xD800) << 10) +
                               (static_cast<std::uint32_t>(low) - 0xDC00);
                        p += 6;
                    }
                }
                append_utf8(out, code);
                break;
            }
            default:  // '"', '\\', '/'
                out.push_back(static_cast<char>(c));
                break;
        }
    }
    return out;
}

}  // namespace assetgen::util
