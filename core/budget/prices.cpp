// Prices are micro-dollars per million tokens, so that per-token arithmetic stays in integers:
// cost(µ$) = tokens × price(µ$/Mtok) / 1e6, rounded up to the next micro-dollar (a budget must
// never under-count). The numbers come from the model catalog (core/budget/models.json, with
// the page and date of each).
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
    return util::add_sat(
        text, util::mul_sat(static_cast<std::int64_t>(shape.ref_images), p.tokens_per_ref_image));
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

}  // namespace

PriceTable PriceTable::from_catalog(const Catalog& catalog) {
    PriceTable t;
    for (const auto& m : catalog.models) {
        t.m_models[m.id] = m.prices;
        for (const auto& alias : m.aliases) {
            t.m_models[alias] = m.prices;
        }
    }
    return t;
}

PriceTable PriceTable::builtin() {
    return from_catalog(builtin_catalog());
}

util::Status PriceTable::load_json(const std::string& text, const std::string& where,
                                   bool confirmed) {
    nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("models") || !j["models"].is_object()) {
        return util::error(util::Code::invalid_input,
                           where + ": expected {\"models\": {\"<model>\": {...}}}");
    }
    auto here = [&](const std::vector<std::string>& path) {
        const std::size_t line = json_line_of(text, path);
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
    auto tokens = [&](const nlohmann::json& v,
                      const std::vector<std::string>& path) -> util::Result<std::int64_t> {
        if (!v.is_number_integer() || v.get<double>() < 0 || v.get<double>() > k_max_tokens) {
            return bad(path,
                       "\"" + v.dump() + "\" is not a whole number of tokens from 0 to 1000000");
        }
        return v.get<std::int64_t>();
    };
    for (const auto& [name, m] : j["models"].items()) {
        if (!m.is_object()) {
            return bad({"models", name}, "expected an object");
        }
        std::map<Tier, ModelPrice> tiers;
        for (Tier t : k_all_tiers) {
            tiers[t] =
                m_models.count(name) && m_models[name].count(t) ? m_models[name][t] : ModelPrice{};
        }
        ModelPrice p;  // the keys given, applied to every tier below
        std::vector<std::string> given;
        for (const auto& [key, value] : m.items()) {
            given.push_back(key);
            const std::vector<std::string> path{"models", name, key};
            if (key == "input_per_mtok") {
                TRY_ASSIGN(p.input_per_mtok, amount(value, k_price_per_mtok, path));
            } else if (key == "output_image_per_mtok") {
                TRY_ASSIGN(p.output_image_per_mtok, amount(value, k_price_per_mtok, path));
            } else if (key == "output_text_per_mtok") {
                TRY_ASSIGN(p.output_text_per_mtok, amount(value, k_price_per_mtok, path));
            } else if (key == "thinking_per_mtok" || key == "output_thinking_per_mtok") {
                TRY_ASSIGN(p.thinking_per_mtok, amount(value, k_price_per_mtok, path));
                given.push_back("thinking_per_mtok");  // either spelling
            } else if (key == "tokens_per_ref_image") {
                TRY_ASSIGN(p.tokens_per_ref_image, tokens(value, path));
            } else if (key == "max_thinking_tokens") {
                TRY_ASSIGN(p.max_thinking_tokens, tokens(value, path));
            } else if (key == "text_allowance_tokens") {
                TRY_ASSIGN(p.text_allowance_tokens, tokens(value, path));
            } else if (key == "thinking_level") {
                if (!value.is_string()) {
                    return bad(path,
                               "expected a string such as \"minimal\" (or \"\" to send none)");
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
        auto has = [&](const char* key) {
            return std::find(given.begin(), given.end(), key) != given.end();
        };
        for (auto& [tier, tp] : tiers) {
            (void)tier;
            if (has("input_per_mtok"))
                tp.input_per_mtok = p.input_per_mtok;
            if (has("output_image_per_mtok"))
                tp.output_image_per_mtok = p.output_image_per_mtok;
            if (has("output_text_per_mtok"))
                tp.output_text_per_mtok = p.output_text_per_mtok;
            // Thoughts are billed as output text unless the file says otherwise.
            if (has("thinking_per_mtok")) {
                tp.thinking_per_mtok = p.thinking_per_mtok;
            } else if (has("output_text_per_mtok")) {
                tp.thinking_per_mtok = p.output_text_per_mtok;
            }
            if (has("tokens_per_ref_image"))
                tp.tokens_per_ref_image = p.tokens_per_ref_image;
            if (has("max_thinking_tokens"))
                tp.max_thinking_tokens = p.max_thinking_tokens;
            if (has("text_allowance_tokens"))
                tp.text_allowance_tokens = p.text_allowance_tokens;
            if (has("thinking_level"))
                tp.thinking_level = p.thinking_level;
            for (const auto& [size, v] : p.per_image)
                tp.per_image[size] = v;
            for (const auto& [size, v] : p.image_tokens)
                tp.image_tokens[size] = v;
            if (tp.per_image.empty() && tp.image_tokens.empty()) {
                return bad({"models", name}, "needs per_image or image_tokens to price an image");
            }
        }
        m_models[name] = std::move(tiers);
    }
    return util::ok_status();
}

void PriceTable::set_price_per_image(util::Micros price) {
    m_price_per_image = price;
}

util::Result<const ModelPrice*> PriceTable::find(const std::string& model, Tier tier) const {
    auto it = m_models.find(model);
    if (it == m_models.end()) {
        std::string known;
        for (const auto& [name, p] : m_models) {
            known += (known.empty() ? "" : ", ") + name;
        }
        return util::error(util::Code::config,
                           "model \"" + model + "\" has no price (known: " + known +
                               "); give one with --prices FILE.json or --price-per-image, or a "
                               "catalog with --models FILE.json");
    }
    auto t = it->second.find(tier);
    if (t == it->second.end()) {
        return util::error(util::Code::config, "model \"" + model + "\" has no " +
                                                   std::string(tier_name(tier)) +
                                                   " price; give one with --models FILE.json");
    }
    return &t->second;
}

util::Result<RequestCeiling> PriceTable::ceiling(const RequestShape& shape) const {
    TRY_ASSIGN(const ModelPrice* p, find(shape.model, shape.tier));
    RequestCeiling c;
    c.image_tokens = pick<std::int64_t>(p->image_tokens, shape.image_size, 0);
    c.thinking_tokens = p->max_thinking_tokens;
    c.text_tokens = p->text_allowance_tokens;
    c.max_output_tokens =
        util::add_sat(util::add_sat(c.image_tokens, c.thinking_tokens), c.text_tokens);
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
    const util::Micros allowances =
        util::add_sat(tokens_cost(c.thinking_tokens, p->thinking_per_mtok),
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

util::Result<util::Micros> PriceTable::actual(const std::string& model,
                                              const std::string& image_size,
                                              std::int64_t prompt_tokens,
                                              std::int64_t output_tokens,
                                              std::int64_t thoughts_tokens,
                                              std::int64_t output_image_tokens, Tier tier) const {
    TRY_ASSIGN(const ModelPrice* p, find(model, tier));
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
                         tokens_cost(thoughts_tokens, p->thinking_per_mtok));
}

}  // namespace assetgen::budget
