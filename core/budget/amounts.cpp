#include "budget/amounts.hpp"

namespace assetgen::budget {
namespace {

util::Result<util::Micros> check(std::string_view text, const AmountKind& kind, bool confirmed,
                                 const std::string& where, bool json, util::Code code) {
    const util::MoneyReading r = util::read_money(text, json);
    const std::string head = where + ": \"" + std::string(text) + "\" ";
    if (r.not_a_number) {
        return util::error(
            code, head + "is not a dollar amount; write it as a decimal number such as 0.039");
    }
    if (r.negative) {
        return util::error(code, head + "is negative; give 0 or more");
    }
    if (r.too_precise) {
        return util::error(
            code, head +
                      "has more than 6 decimals (money is counted in micro-dollars); round it "
                      "to 6 decimals");
    }
    if (r.out_of_range || r.micros > k_hard_ceiling) {
        return util::error(code, head + "is above " + util::format_usd(k_hard_ceiling) +
                                     ", the most assetgen accepts for " + kind.what);
    }
    if (r.micros > kind.ceiling && !confirmed) {
        return util::error(code, head + "is above " + util::format_usd(kind.ceiling) +
                                     ", the sane ceiling for " + kind.what +
                                     "; check the number, or add --i-mean-it (or "
                                     "ASSETGEN_I_MEAN_IT=1) if it is right");
    }
    return r.micros;
}

}  // namespace

util::Result<util::Micros> parse_amount(std::string_view text, const AmountKind& kind,
                                        bool confirmed, const std::string& where) {
    return check(text, kind, confirmed, where, false, util::Code::config);
}

util::Result<util::Micros> check_json_amount(std::string_view text, const AmountKind& kind,
                                             bool confirmed, const std::string& where) {
    return check(text, kind, confirmed, where, true, util::Code::invalid_input);
}

}  // namespace assetgen::budget
