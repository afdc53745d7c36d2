// How this works: one loop over the text with an explicit stack (no recursion, so any depth
// nlohmann takes is taken here too). Each value appends a JsonNode; containers link their
// children through `child` and `next`. Strings are checked byte by byte as nlohmann's lexer
// checks them (control characters, escapes, surrogate pairs, the UTF-8 ranges of RFC 3629)
// but only their span is kept; plain ASCII runs are skipped 16 bytes at a time (SSE2). Numbers
// follow RFC 8259's grammar and are converted only to see whether a double overflows (which
// nlohmann refuses), and only when they could.

#include "util/json_view.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "util/json_view_hex.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace assetgen::util {
namespace {

using json_detail::read_hex4;

bool is_ws(unsigned char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

bool in(unsigned char c, unsigned char lo, unsigned char hi) {
    return c >= lo && c <= hi;
}

class Scanner {
public:
    explicit Scanner(std::string_view text)
        : m_begin(reinterpret_cast<const unsigned char*>(text.data())),
          m_p(m_begin),
          m_end(m_begin + text.size()) {}

    std::uint32_t pos() const { return static_cast<std::uint32_t>(m_p - m_begin); }
    bool at_end() const { return m_p == m_end; }
    unsigned char peek() const { return *m_p; }
    void advance() { ++m_p; }

    void skip_ws() {
        while (m_p != m_end && is_ws(*m_p)) {
            ++m_p;
        }
    }

    bool skip_bom() {
        if (m_p != m_end && *m_p == 0xEF) {
            if (m_end - m_p < 3 || m_p[1] != 0xBB || m_p[2] != 0xBF) {
                return false;
            }
            m_p += 3;
        }
        return true;
    }

    // After the opening quote: moves past the closing quote. escaped: the string held escapes.
    bool string(bool& escaped) {
        escaped = false;
        for (;;) {
            // Plain printable ASCII, sixteen or eight bytes at a time (the base64 of an image is
            // all that).
#if defined(__SSE2__)
            const __m128i quote16 = _mm_set1_epi8('"');
            const __m128i slash16 = _mm_set1_epi8('\\');
            const __m128i space16 = _mm_set1_epi8(0x20);
            while (m_end - m_p >= 16) {
                const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(m_p));
                // Signed compare: bytes >= 0x80 are negative, so "< 0x20" catches them too.
                const __m128i special = _mm_or_si128(
                    _mm_or_si128(_mm_cmpeq_epi8(x, quote16), _mm_cmpeq_epi8(x, slash16)),
                    _mm_cmplt_epi8(x, space16));
                const int mask = _mm_movemask_epi8(special);
                if (mask != 0) {
                    m_p += __builtin_ctz(static_cast<unsigned>(mask));
                    break;
                }
                m_p += 16;
            }
#endif
            while (m_end - m_p >= 8) {
                std::uint64_t w;
                std::memcpy(&w, m_p, 8);
                constexpr std::uint64_t ones = 0x0101010101010101ull;
                constexpr std::uint64_t highs = 0x8080808080808080ull;
                // A byte is special when < 0x20, == '"', == '\\' or >= 0x80.
                std::uint64_t ctrl = (w - ones * 0x20) & ~w;
                std::uint64_t quote = w ^ (ones * '"');
                quote = (quote - ones) & ~quote;
                std::uint64_t slash = w ^ (ones * '\\');
                slash = (slash - ones) & ~slash;
                if (((ctrl | quote | slash) & highs) != 0 || (w & highs) != 0) {
                    break;
                }
                m_p += 8;
            }
            if (m_p == m_end) {
                return false;
            }
            unsigned char c = *m_p;
            if (c == '"') {
                ++m_p;
                return true;
            }
            if (c < 0x20) {
                return false;
            }
            if (c == '\\') {
                escaped = true;
                if (!escape()) {
                    return false;
                }
                continue;
            }
            if (c < 0x80) {
                ++m_p;
                continue;
            }
            if (!utf8()) {
                return false;
            }
        }
    }

    bool number() {
        if (*m_p == '-') {
            ++m_p;
        }
        if (m_p == m_end) {
            return false;
        }
        if (*m_p == '0') {
            ++m_p;
        } else if (in(*m_p, '1', '9')) {
            digits();
        } else {
            return false;
        }
        if (m_p != m_end && *m_p == '.') {
            ++m_p;
            if (m_p == m_end || !in(*m_p, '0', '9')) {
                return false;
            }
            digits();
        }
        if (m_p != m_end && (*m_p == 'e' || *m_p == 'E')) {
            ++m_p;
            if (m_p != m_end && (*m_p == '+' || *m_p == '-')) {
                ++m_p;
            }
            if (m_p == m_end || !in(*m_p, '0', '9')) {
                return false;
            }
            digits();
        }
        return true;
    }

    bool literal(std::string_view word) {
        if (static_cast<std::size_t>(m_end - m_p) < word.size() ||
            std::memcmp(m_p, word.data(), word.size()) != 0) {
            return false;
        }
        m_p += word.size();
        return true;
    }

private:
    void digits() {
        while (m_p != m_end && in(*m_p, '0', '9')) {
            ++m_p;
        }
    }

    bool escape() {
        ++m_p;  // the backslash
        if (m_p == m_end) {
            return false;
        }
        switch (*m_p++) {
            case '"':
            case '\\':
            case '/':
            case 'b':
            case 'f':
            case 'n':
            case 'r':
            case 't':
                return true;
            case 'u': {
                int cp = read_hex4(m_p, m_end);
                if (cp < 0) {
                    return false;
                }
                m_p += 4;
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    if (m_end - m_p < 2 || m_p[0] != '\\' || m_p[1] != 'u') {
                        return false;
                    }
                    int low = read_hex4(m_p + 2, m_end);
                    if (low < 0xDC00 || low > 0xDFFF) {
                        return false;
                    }
                    m_p += 6;
                } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                    return false;
                }
                return true;
            }
            default:
                return false;
        }
    }

    // A multi-byte UTF-8 character at m_p (first byte >= 0x80), ranges as RFC 3629 table 3.
    bool utf8() {
        unsigned char c = *m_p;
        auto next_in = [&](std::ptrdiff_t k, unsigned char lo, unsigned char hi) {
            return m_end - m_p > k && in(m_p[k], lo, hi);
        };
        std::ptrdiff_t len = 0;
        if (in(c, 0xC2, 0xDF)) {
            len = next_in(1, 0x80, 0xBF) ? 2 : 0;
        } else if (c == 0xE0) {
            len = next_in(1, 0xA0, 0xBF) && next_in(2, 0x80, 0xBF) ? 3 : 0;
        } else if (in(c, 0xE1, 0xEC) || c == 0xEE || c == 0xEF) {
            len = next_in(1, 0x80, 0xBF) && next_in(2, 0x80, 0xBF) ? 3 : 0;
        } else if (c == 0xED) {
            len = next_in(1, 0x80, 0x9F) && next_in(2, 0x80, 0xBF) ? 3 : 0;
        } else if (c == 0xF0) {
            len =
                next_in(1, 0x90, 0xBF) && next_in(2, 0x80, 0xBF) && next_in(3, 0x80, 0xBF) ? 4 : 0;
        } else if (in(c, 0xF1, 0xF3)) {
            len =
                next_in(1, 0x80, 0xBF) && next_in(2, 0x80, 0xBF) && next_in(3, 0x80, 0xBF) ? 4 : 0;
        } else if (c == 0xF4) {
            len =
                next_in(1, 0x80, 0x8F) && next_in(2, 0x80, 0xBF) && next_in(3, 0x80, 0xBF) ? 4 : 0;
        }
        m_p += len;
        return len != 0;
    }

    const unsigned char* m_begin;
    const unsigned char* m_p;
    const unsigned char* m_end;
};

// Whether nlohmann keeps the number `text` (grammar already checked): integers always (one
// that overflows 64 bits is read as a double), a double only when finite.
bool number_fits(std::string_view text) {
    bool integral = text.find_first_of(".eE") == std::string_view::npos;
    if (integral && text.size() <= 18) {
        return true;
    }
    std::string copy(text);
    if (integral) {
        errno = 0;
        if (copy[0] == '-') {
            (void)std::strtoll(copy.c_str(), nullptr, 10);
        } else {
            (void)std::strtoull(copy.c_str(), nullptr, 10);
        }
        if (errno == 0) {
            return true;
        }
    }
    return std::isfinite(std::strtod(copy.c_str(), nullptr));
}

}  // namespace

std::optional<JsonView> JsonView::parse(std::string_view text) {
    if (text.size() >= std::numeric_limits<std::uint32_t>::max()) {
        return std::nullopt;
    }
    JsonView view(text);
    Scanner s(text);
    if (!s.skip_bom()) {
        return std::nullopt;
    }
    struct Frame {
        std::uint32_t node;
        std::uint32_t last = 0;  // the last child so far
        bool object;
    };
    std::vector<Frame> stack;
    std::vector<JsonNode>& nodes = view.m_nodes;
    nodes.reserve(64);

    JsonNode key;  // the key of the member whose value comes next
    // Reads `"key" :` of an object member into `key`.
    auto read_key = [&]() {
        s.skip_ws();
        if (s.at_end() || s.peek() != '"') {
            return false;
        }
        s.advance();
        key.key_begin = s.pos();
        bool escaped = false;
        if (!s.string(escaped)) {
            return false;
        }
        key.key_end = s.pos() - 1;
        key.key_escaped = escaped;
        s.skip_ws();
        if (s.at_end() || s.peek() != ':') {
            return false;
        }
        s.advance();
        return true;
    };

    bool expect_value = true;
    for (;;) {
        if (expect_value) {
            s.skip_ws();
            if (s.at_end()) {
                return std::nullopt;
            }
            const auto index = static_cast<std::uint32_t>(nodes.size());
            JsonNode node;
            if (!stack.empty()) {
                Frame& parent = stack.back();
                if (parent.object) {
                    node.key_begin = key.key_begin;
                    node.key_end = key.key_end;
                    node.key_escaped = key.key_escaped;
                }
                if (parent.last == 0) {
                    nodes[parent.node].child = index;
                } else {
                    nodes[parent.last].next = index;
                }
                parent.last = index;
            }
            const unsigned char c = s.peek();
            bool opened = false;
            switch (c) {
                case '{':
                case '[': {
                    node.type = c == '{' ? JsonType::object : JsonType::array;
                    s.advance();
                    s.skip_ws();
                    if (!s.at_end() && s.peek() == (c == '{' ? '}' : ']')) {
                        s.advance();
                    } else {
                        opened = true;
                    }
                    break;
                }
                case '"': {
                    node.type = JsonType::string;
                    s.advance();
                    node.begin = s.pos();
                    bool escaped = false;
                    if (!s.string(escaped)) {
                        return std::nullopt;
                    }
                    node.end = s.pos() - 1;
                    node.flag = escaped;
                    break;
                }
                case 't':
                case 'f':
                    node.type = JsonType::boolean;
                    node.flag = c == 't';
                    if (!s.literal(c == 't' ? "true" : "false")) {
                        return std::nullopt;
                    }
                    break;
                case 'n':
                    if (!s.literal("null")) {
                        return std::nullopt;
                    }
                    break;
                default: {
                    if (c != '-' && !in(c, '0', '9')) {
                        return std::nullopt;  // includes a NUL: the end of the text
                    }
                    node.type = JsonType::number;
                    node.begin = s.pos();
                    if (!s.number()) {
                        return std::nullopt;
                    }
                    node.end = s.pos();
                    if (!number_fits(text.substr(node.begin, node.end - node.begin))) {
                        return std::nullopt;
                    }
                    break;
                }
            }
            nodes.push_back(node);
            if (opened) {
                stack.push_back(Frame{index, 0, c == '{'});
                if (c == '{' && !read_key()) {
                    return std::nullopt;
                }
                continue;  // expect_value stays true
            }
            expect_value = false;
            continue;
        }
        s.skip_ws();
        if (stack.empty()) {
            // After the value only whitespace, or a NUL (nlohmann's end of input).
            if (s.at_end() || s.peek() == '\0') {
                return view;
            }
            return std::nullopt;
        }
        if (s.at_end()) {
            return std::nullopt;
        }
        const Frame& frame = stack.back();
        const unsigned char c = s.peek();
        if (c == ',') {
            s.advance();
            if (frame.object && !read_key()) {
                return std::nullopt;
            }
            expect_value = true;
        } else if (c == (frame.object ? '}' : ']')) {
            s.advance();
            stack.pop_back();
        } else {
            return std::nullopt;
        }
    }
}

}  // namespace assetgen::util
