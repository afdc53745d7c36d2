// Prices are micro-dollars per million tokens, so that per-token arithmetic stays in integers:
// cost(µ$) = tokens × price(µ$/Mtok) / 1e6, rounded up to the next micro-dollar (a budget must
// never under-count). Sources and dates of the built-in numbers: README.md, "Prices".
#include "budget/prices.hpp"

#include <algorithm>
#include <vector>

#include <nlohmann/json.hpp>

#include "budget/amounts.hpp"
#include "util/money.hpp"

namespace assetgen::budget {
namespace {

constexpr std::int64_t k_max_tokens = 1'000'000;  // any one token count in a pricing file

util::Micros tokens_cost(std::int64_t tokens, util::Micros per_mtok) {
    return util::cost_of_tokens(tokens, per_mtok);
}

std::int64_t prompt_tokens_estimate(const RequestShape& shape, const ModelPrice& p) {
    // About four bytes of English a token, plus the ref_mode instruction (under 60 tokens).
    auto text = static_cast<std::int64_t>((shape.prompt_bytes + 3) / 4) + 60;
    return util::add_sat(text, util::mul_sat(static_cast<std::int64_t>(shape.ref_images), p.tokens_per_ref_image));
}

template <typename T>
T pick(const std::map<std::string, T>& by_size, const std::string& size, T fallback) {
    auto it = by_size.find(size);
    if (it != by_size.end()) {
        return it->second;
    }
    it = by_size.find("");
    return it != by_size.end() ? it->second : fallback;
}

// The 1-based line of a nested key in a JSON text: each name searched as "name" after the
// previous one (good enough for the files people write; 0 when not found).
std::size_t line_of(const std::string& text, const std::vector<std::string>& path) {
    std::size_t pos = 0;
    for (const auto& name : path) {
        const auto at = text.find("\"" + name + "\"", pos);
        if (at == std::string::npos) {
            return 0;
        }
        pos = at + name.size() + 2;
    }
    return static_cast<std::size_t>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(pos), '\n')) + 1;
}

}  // namespace

PriceTable PriceTable::builtin() {
    PriceTable t;
    ModelPrice flash;
    flash.input_per_mtok = 300'000;          // $0.30 / 1M
    flash.output_image_per_mtok = 30'000'000;  // $30 / 1M
    flash.output_text_per_mtok = 2'500'000;  // $2.50 / 1M
    flash.per_image = {{"", 39'000}};
    flash.image_tokens = {{"", 1290}};
    flash.tokens_per_ref_image = 258;
    t.m_models["gemini-2.5-flash-image"] = flash;
    t.m_models["gemini-2.5-flash-image-preview"] = flash;

    ModelPrice pro;
    pro.input_per_mtok = 2'000'000;
    pro.output_image_per_mtok = 120'000'000;
    pro.output_text_per_mtok = 12'000'000;
    pro.per_image = {{"", 134'000}, {"1K", 134'000}, {"2K", 134'000}, {"4K", 240'000}};
    pro.image_tokens = {{"", 1120}, {"1K", 1120}, {"2K", 1120}, {"4K", 2000}};
    pro.tokens_per_ref_image = 560;
    pro.max_thinking_tokens = 2000;  // thinking is always on and has no documented level
    t.m_models["gemini-3-pro-image"] = pro;
    t.m_models["gemini-3-pro-image-preview"] = pro;

    ModelPrice flash31;
    flash31.input_per_mtok = 500'000;
    flash31.output_image_per_mtok = 60'000'000;
    flash31.output_text_per_mtok = 3'000'000;
    flash31.per_image = {{"", 67'000}, {"512", 45'000}, {"1K", 67'000}, {"2K", 101'000}, {"4K", 151'000}};
    flash31.image_tokens = {{"", 1120}, {"512", 747}, {"1K", 1120}, {"2K", 1680}, {"4K", 2520}};
    flash31.tokens_per_ref_image = 258;
    flash31.max_thinking_tokens = 2000;
    flash31.thinking_level = "minimal";  // the documented default, sent so it stays so
    t.m_models["gemini-3.1-flash-image"] = flash31;
    t.m_models["gemini-3.1-flash-image-preview"] = flash31;
    return t;
}

util::Status PriceTable::load_json(const std::string& text, const std::string& where, bool confirmed) {
    nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("models") || !j["models"].is_object()) {
        return util::error(util::Code::invalid_input,
                           where + ": expected {\"models\": {\"<model>\": {...}}}");
    }
    auto here = [&](const std::vector<std::string>& path) {
        const std::size_t line = line_of(text, path);
        std::string key = path[0];
        for (std::size_t i = 1; i < path.size(); ++i) {
            key += "." + path[i];
        }
        return where + (line > 0 ? ":" + std::to_string(line) : "") + ": " + key;
    };
    auto bad = [&](const std::vector<std::string>& path, const std::string& what) {
        return util::error(util::Code::invalid_input, here(path) + ": " + what);
    };
    // A money amount: a JSON number, checked from the shortest text that reads back as it.
    auto amount = [&](const nlohmann::json& v, const AmountKind& kind,
                      const std::vector<std::string>& path) -> util::Result<util::Micros> {
        if (!v.is_number()) {
            return bad(path, "expected a number of dollars, got " + v.dump());
        }
        return check_json_amount(v.dump(), kind, confirmed, here(path));
    };
    auto tokens = [&](const nlohmann::json& v, const std::vector<std::string>& path) -> util::Result<std::int64_t> {
        if (!v.is_number_integer() || v.get<double>() < 0 || v.get<double>() > k_max_tokens) {
            return bad(path, "\"" + v.dump() + "\" is not a whole number of tokens from 0 to 1000000");
        }
        return v.get<std::int64_t>();
    };
    for (const auto& [name, m] : j["models"].items()) {
        if (!m.is_object()) {
            return bad({"models", name}, "expected an object");
        }
        ModelPrice p = m_models.count(name) ? m_models[name] : ModelPrice{};
        for (const auto& [key, value] : m.items()) {
            const std::vector<std::string> path{"models", name, key};
            if (key == "input_per_mtok") {
                TRY_ASSIGN(p.input_per_mtok, amount(value, k_price_per_mtok, path));
            } else if (key == "output_image_per_mtok") {
                TRY_ASSIGN(p.output_image_per_mtok, amount(value, k_price_per_mtok, path));
            } else if (key == "output_text_per_mtok") {
                TRY_ASSIGN(p.output_text_per_mtok, amount(value, k_price_per_mtok, path));
            } else if (key == "output_thinking_per_mtok") {
                TRY_ASSIGN(p.output_thinking_per_mtok, amount(value, k_price_per_mtok, path));
            } else if (key == "tokens_per_ref_image") {
                TRY_ASSIGN(p.tokens_per_ref_image, tokens(value, path));
            } else if (key == "max_thinking_tokens") {
                TRY_ASSIGN(p.max_thinking_tokens, tokens(value, path));
            } else if (key == "text_allowance_tokens") {
                TRY_ASSIGN(p.text_allowance_tokens, tokens(value, path));
            } else if (key == "thinking_level") {
                if (!value.is_string()) {
                    return bad(path, "expected a string such as \"minimal\" (or \"\" to send none)");
                }
                p.thinking_level = value.get<std::string>();
            } else if (key == "per_image" || key == "image_tokens") {
                if (!value.is_object()) {
                    return bad(path, "expected {\"<size>\": number}");
                }
                for (const auto& [size, v] : value.items()) {
                    const std::vector<std::string> at{"models", name, key, size};
                    if (key == "per_image") {
                        TRY_ASSIGN(p.per_image[size], amount(v, k_price_per_image, at));
                    } else {
                        TRY_ASSIGN(p.image_tokens[size], tokens(v, at));
                    }
                }
            } else {
                return bad(path, "unknown key");
            }
        }
        if (p.per_image.empty() && p.image_tokens.empty()) {
            return bad({"models", name}, "needs per_image or image_tokens to price an image");
        }
        m_models[name] = p;
    }
    return util::ok_status();
}

void PriceTable::set_price_per_image(util::Micros price) { m_price_per_image = price; }

util::Result<const ModelPrice*> PriceTable::find(const std::string& model) const {
    auto it = m_models.find(model);
    if (it == m_models.end()) {
        std::string known;
        for (const auto& [name, p] : m_models) {
            known += (known.empty() ? "" : ", ") + name;
        }
        return util::error(util::Code::config,
                           "model \"" + model + "\" has no price (known: " + known +
                               "); give one with --prices FILE.json or --price-per-image");
    }
    return &it->second;
}

util::Result<RequestCeiling> PriceTable::ceiling(const RequestShape& shape) const {
    TRY_ASSIGN(const ModelPrice* p, find(shape.model));
    RequestCeiling c;
    c.image_tokens = pick<std::int64_t>(p->image_tokens, shape.image_size, 0);
    c.thinking_tokens = p->max_thinking_tokens;
    c.text_tokens = p->text_allowance_tokens;
    c.max_output_tokens = util::add_sat(util::add_sat(c.image_tokens, c.thinking_tokens), c.text_tokens);
    c.thinking_level = p->thinking_level;

    const util::Micros input = tokens_cost(prompt_tokens_estimate(shape, *p), p->input_per_mtok);
    const util::Micros image_by_tokens = tokens_cost(c.image_tokens, p->output_image_per_mtok);
    util::Micros image = 0;  // as the estimate prices it
    if (m_price_per_image) {
        image = *m_price_per_image;
    } else if (!p->per_image.empty()) {
        image = pick<util::Micros>(p->per_image, shape.image_size, 0);
    } else {
        image = image_by_tokens;
    }
    c.estimate = util::add_sat(image, input);
    // The worst case covers whichever way the image is billed (an override is exactly what is
    // charged), the input twice over (token counts are estimates), and the thinking and text
    // allowances at the thinking and text rates: everything maxOutputTokens lets through.
    const util::Micros image_worst = m_price_per_image ? image : std::max(image, image_by_tokens);
    const util::Micros allowances = util::add_sat(tokens_cost(c.thinking_tokens, p->thinking_rate()),
                                                  tokens_cost(c.text_tokens, p->output_text_per_mtok));
    c.worst_case = util::add_sat(util::add_sat(image_worst, util::mul_sat(input, 2)), allowances);
    return c;
}

util::Result<util::Micros> PriceTable::estimate(const RequestShape& shape) const {
    TRY_ASSIGN(const RequestCeiling c, ceiling(shape));
    return c.estimate;
}

util::Result<util::Micros> PriceTable::worst_case(const RequestShape& shape) const {
    TRY_ASSIGN(const RequestCeiling c, ceiling(shape));
    return c.worst_case;
}

util::Result<util::Micros> PriceTable::actual(const std::string& model, const std::string& image_size,
                                              std::int64_t prompt_tokens, std::int64_t output_tokens,
                                              std::int64_t thoughts_tokens,
                                              std::int64_t output_image_tokens) const {
    TRY_ASSIGN(const ModelPrice* p, find(model));
    (void)image_size;
    output_tokens = std::max<std::int64_t>(output_tokens, 0);
    // Without a breakdown every output token is priced as image (the dearer rate).
    const std::int64_t image_tokens =
        output_image_tokens < 0 ? output_tokens : std::min(output_image_tokens, output_tokens);
    const std::int64_t text_tokens = output_tokens - image_tokens;
    util::Micros out = tokens_cost(text_tokens, p->output_text_per_mtok);
    if (m_price_per_image) {
        // The override prices an image, not tokens: an answer that made none pays none of it.
        out = util::add_sat(out, image_tokens > 0 ? *m_price_per_image : 0);
    } else {
        out = util::add_sat(out, tokens_cost(image_tokens, p->output_image_per_mtok));
    }
    return util::add_sat(util::add_sat(out, tokens_cost(prompt_tokens, p->input_per_mtok)),
                         tokens_cost(thoughts_tokens, p->thinking_rate()));
}

}  // namespace assetgen::budget
