// Filter evaluation (RFC 4511 §4.5.1.7): each filter item is True, False or
// Undefined for an entry, under the matching rules of the attribute's type
// (ldap_schema.hpp). An item is Undefined when the server cannot tell: the
// type is unknown, it has no rule for the item, or the assertion value is
// not valid for the rule ("uidNumber=abc"). An entry without the attribute
// makes an assertion False, not Undefined, as X.511 §7.8.2 and OpenLDAP have
// it: `(!(memberOf=cn=x,...))` must find the users who are in no group.
#include "frontends/ldap/ldap_tree.hpp"

#include <algorithm>
#include <array>
#include <compare>
#include <cstdint>
#include <string>

#include "core/names.hpp"
#include "directories/ldap/ldap_dn.hpp"
#include "frontends/ldap/ldap_schema.hpp"

namespace dirproxy::ldap {
namespace {

using Result3 = FilterResult;

// A value in the form its rule compares: text (folded strings, canonical
// integers and DNs, UUIDs) or a point in time.
struct Comparable {
  std::string text;
  std::int64_t seconds = 0;
  std::int64_t nanoseconds = 0;
};

// RFC 4518's insignificant space handling, simplified: leading and trailing
// spaces dropped, inner runs of spaces made one.
std::string squeeze_spaces(std::string_view text, bool trim) {
  std::string squeezed;
  for (char c : text) {
    if (c == ' ' && (squeezed.empty() ? trim : squeezed.back() == ' ')) continue;
    squeezed += c;
  }
  if (trim && !squeezed.empty() && squeezed.back() == ' ') squeezed.pop_back();
  return squeezed;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex(char c) { return is_digit(c) || (ascii_lower(c) >= 'a' && ascii_lower(c) <= 'f'); }

// RFC 4517 INTEGER ("-"? digits) in a canonical form: no leading zeros, no
// "-0". Leading zeros are accepted, as OpenLDAP does.
std::optional<std::string> canonical_integer(std::string_view text) {
  const bool negative = !text.empty() && text.front() == '-';
  if (negative) text.remove_prefix(1);
  if (text.empty() || !std::all_of(text.begin(), text.end(), is_digit)) return std::nullopt;
  while (text.size() > 1 && text.front() == '0') text.remove_prefix(1);
  if (text == "0") return std::string(text);
  return (negative ? "-" : "") + std::string(text);
}

std::strong_ordering compare_integers(std::string_view a, std::string_view b) {
  const bool a_negative = a.front() == '-';
  const bool b_negative = b.front() == '-';
  if (a_negative != b_negative) return a_negative ? std::strong_ordering::less : std::strong_ordering::greater;
  auto magnitude = a.size() <=> b.size();
  if (magnitude == 0) magnitude = a <=> b;
  return a_negative ? 0 <=> magnitude : magnitude;
}

std::optional<std::string> canonical_uuid(std::string_view text) {
  if (text.size() != 36) return std::nullopt;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const bool hyphen = i == 8 || i == 13 || i == 18 || i == 23;
    if (hyphen ? text[i] != '-' : !is_hex(text[i])) return std::nullopt;
  }
  return ascii_lower(text);
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
// days_from_civil).
std::int64_t days_from_civil(std::int64_t year, unsigned month, unsigned day) {
  year -= month <= 2 ? 1 : 0;
  const std::int64_t era = (year >= 0 ? year : year - 399) / 400;
  const auto year_of_era = static_cast<unsigned>(year - era * 400);
  const unsigned day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  const unsigned day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + static_cast<std::int64_t>(day_of_era) - 719468;
}

// RFC 4517 §3.3.13 GeneralizedTime: YYYYMMDDHH[MM[SS]][(.|,)fraction](Z|(+|-)HH[MM]),
// the fraction belonging to the last unit given. As a point in UTC.
std::optional<Comparable> parse_generalized_time(std::string_view text) {
  std::size_t at = 0;
  auto number = [&](std::size_t digits) -> std::optional<int> {
    if (text.size() < at + digits) return std::nullopt;
    int value = 0;
    for (std::size_t i = 0; i < digits; ++i) {
      if (!is_digit(text[at + i])) return std::nullopt;
      value = value * 10 + (text[at + i] - '0');
    }
    at += digits;
    return value;
  };
  const auto year = number(4), month = number(2), day = number(2), hour = number(2);
  if (!year || !month || !day || !hour) return std::nullopt;
  std::optional<int> minute, second;
  std::int64_t unit = 3600;  // what a fraction is a fraction of
  if (at < text.size() && is_digit(text[at])) {
    if (!(minute = number(2))) return std::nullopt;
    unit = 60;
    if (at < text.size() && is_digit(text[at])) {
      if (!(second = number(2))) return std::nullopt;
      unit = 1;
    }
  }
  static constexpr std::array<int, 12> kDaysInMonth = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (*month < 1 || *month > 12 || *day < 1 || *day > kDaysInMonth[*month - 1] || *hour > 23 ||
      minute.value_or(0) > 59 || second.value_or(0) > 60) {
    return std::nullopt;
  }
  std::int64_t fraction_ns = 0;
  if (at < text.size() && (text[at] == '.' || text[at] == ',')) {
    ++at;
    std::int64_t numerator = 0, scale = 1'000'000'000;
    const std::size_t first = at;
    for (; at < text.size() && is_digit(text[at]); ++at) {
      // Digits beyond nanoseconds are read and dropped.
      if (scale > 1) numerator = numerator * 10 + (text[at] - '0'), scale /= 10;
    }
    if (at == first) return std::nullopt;
    // numerator / 10^k of `unit` seconds, k <= 9: exact in nanoseconds.
    fraction_ns = numerator * scale * unit;
  }
  std::int64_t offset = 0;
  if (at < text.size() && text[at] == 'Z') {
    ++at;
  } else if (at < text.size() && (text[at] == '+' || text[at] == '-')) {
    const int sign = text[at] == '+' ? 1 : -1;
    ++at;
    const auto offset_hours = number(2);
    if (!offset_hours || *offset_hours > 23) return std::nullopt;
    int offset_minutes = 0;
    if (at < text.size()) {
      const auto minutes = number(2);
      if (!minutes || *minutes > 59) return std::nullopt;
      offset_minutes = *minutes;
    }
    offset = sign * (*offset_hours * 3600 + offset_minutes * 60);
  } else {
    return std::nullopt;  // a local time (no zone) is not a point we can compare
  }
  if (at != text.size()) return std::nullopt;
  const std::int64_t seconds =
      days_from_civil(*year, static_cast<unsigned>(*month), static_cast<unsigned>(*day)) * 86400 + *hour * 3600 +
      minute.value_or(0) * 60 + second.value_or(0) - offset + fraction_ns / 1'000'000'000;
  return Comparable{{}, seconds, fraction_ns % 1'000'000'000};
}

// `text` in the form `rule` compares; nullopt when it is not a valid value.
std::optional<Comparable> prepare(Matching rule, std::string_view text) {
  switch (rule) {
    case Matching::none: return std::nullopt;
    case Matching::case_ignore: return Comparable{ascii_lower(squeeze_spaces(text, true))};
    case Matching::case_exact: return Comparable{squeeze_spaces(text, true)};
    case Matching::object_identifier:
      if (text.empty()) return std::nullopt;
      return Comparable{ascii_lower(object_class_name(text))};
    case Matching::integer: {
      auto canonical = canonical_integer(text);
      if (!canonical) return std::nullopt;
      return Comparable{std::move(*canonical)};
    }
    case Matching::distinguished_name: {
      auto normalized = normalize_dn(text);
      if (!normalized) return std::nullopt;
      return Comparable{std::move(*normalized)};
    }
    case Matching::uuid: {
      auto canonical = canonical_uuid(text);
      if (!canonical) return std::nullopt;
      return Comparable{std::move(*canonical)};
    }
    case Matching::generalized_time: return parse_generalized_time(text);
  }
  return std::nullopt;
}

std::strong_ordering order(Matching rule, const Comparable& a, const Comparable& b) {
  if (rule == Matching::integer) return compare_integers(a.text, b.text);
  if (rule == Matching::generalized_time) {
    const auto by_seconds = a.seconds <=> b.seconds;
    return by_seconds != 0 ? by_seconds : a.nanoseconds <=> b.nanoseconds;
  }
  return a.text <=> b.text;
}

// The attribute of `entry` that `type` names. The type is resolved once, not
// per attribute: this runs for every filter item on every candidate entry.
const Attribute* find_attribute(const Entry& entry, std::string_view type) {
  const AttributeType* known = find_attribute_type(type);
  for (const auto& attribute : entry.attributes) {
    if (known != nullptr ? names_type(attribute.type, *known) : same_name(attribute.type, type)) return &attribute;
  }
  return nullptr;
}

Result3 from_bool(bool value) { return value ? Result3::true_ : Result3::false_; }

// True when a value of `attribute` stands in `relation` to `assertion` under
// `rule`; False when none does or the entry lacks the attribute; Undefined
// when there is no rule or the assertion is not valid for it.
template <typename Relation>
Result3 assert_values(const Entry& entry, std::string_view attribute, Matching rule, std::string_view assertion,
                      Relation relation) {
  if (rule == Matching::none) return Result3::undefined;
  const auto asserted = prepare(rule, assertion);
  if (!asserted) return Result3::undefined;
  const Attribute* values = find_attribute(entry, attribute);
  if (values == nullptr) return Result3::false_;
  return from_bool(std::any_of(values->values.begin(), values->values.end(), [&](const std::string& value) {
    const auto prepared = prepare(rule, value);
    return prepared && relation(order(rule, *prepared, *asserted));
  }));
}

// caseIgnoreSubstringsMatch / caseExactSubstringsMatch of one value.
bool substrings_match(std::string_view value, const Filter& filter, bool ignore_case) {
  const auto prepare_part = [&](std::string_view part) {
    std::string squeezed = squeeze_spaces(part, false);
    return ignore_case ? ascii_lower(squeezed) : squeezed;
  };
  std::string text = prepare_part(squeeze_spaces(value, true));
  std::string_view rest = text;
  if (filter.initial) {
    const std::string initial = prepare_part(*filter.initial);
    if (!rest.starts_with(initial)) return false;
    rest.remove_prefix(initial.size());
  }
  std::string final;
  if (filter.final) {
    final = prepare_part(*filter.final);
    if (rest.size() < final.size() || !rest.ends_with(final)) return false;
    rest.remove_suffix(final.size());
  }
  for (const auto& any : filter.any) {
    const std::string part = prepare_part(any);
    const auto at = rest.find(part);
    if (at == std::string_view::npos) return false;
    rest.remove_prefix(at + part.size());
  }
  return true;
}

Result3 evaluate_substrings(const Filter& filter, const Entry& entry) {
  const AttributeType* type = find_attribute_type(filter.attribute);
  if (type == nullptr || type->substrings == Matching::none) return Result3::undefined;
  const Attribute* values = find_attribute(entry, filter.attribute);
  if (values == nullptr) return Result3::false_;
  const bool ignore_case = type->substrings == Matching::case_ignore;
  return from_bool(std::any_of(values->values.begin(), values->values.end(),
                               [&](const std::string& value) { return substrings_match(value, filter, ignore_case); }));
}

// The equality rules an extensible match may name (RFC 4517, RFC 4530).
struct NamedRule {
  std::string_view name;
  std::string_view oid;
  Matching matching;
};
constexpr std::array kExtensibleRules = {
    NamedRule{"caseIgnoreMatch", "2.5.13.2", Matching::case_ignore},
    NamedRule{"caseIgnoreIA5Match", "1.3.6.1.4.1.1466.109.114.2", Matching::case_ignore},
    NamedRule{"caseExactMatch", "2.5.13.5", Matching::case_exact},
    NamedRule{"caseExactIA5Match", "1.3.6.1.4.1.1466.109.114.1", Matching::case_exact},
    NamedRule{"integerMatch", "2.5.13.14", Matching::integer},
    NamedRule{"distinguishedNameMatch", "2.5.13.1", Matching::distinguished_name},
    NamedRule{"uuidMatch", "1.3.6.1.1.16.2", Matching::uuid},
    NamedRule{"generalizedTimeMatch", "2.5.13.27", Matching::generalized_time},
    NamedRule{"objectIdentifierMatch", "2.5.13.0", Matching::object_identifier},
};

// Whether an equality rule `rule` can compare values of an attribute whose
// own equality rule is `own`: the string rules compare any string.
bool rule_applies(Matching rule, Matching own) {
  const auto is_string = [](Matching m) { return m == Matching::case_ignore || m == Matching::case_exact; };
  return rule == own || (is_string(rule) && is_string(own));
}

// RFC 4511 §4.5.1.7.7.
Result3 evaluate_extensible(const Filter& filter, const Entry& entry) {
  const AttributeType* type = nullptr;
  if (!filter.attribute.empty()) {
    type = find_attribute_type(filter.attribute);
    if (type == nullptr) return Result3::undefined;
  }
  Matching rule = Matching::none;
  if (!filter.matching_rule.empty()) {
    for (const auto& named : kExtensibleRules) {
      if (same_name(named.name, filter.matching_rule) || named.oid == filter.matching_rule) rule = named.matching;
    }
    if (rule == Matching::none) return Result3::undefined;  // a rule we do not implement
    if (type != nullptr && !rule_applies(rule, type->equality)) return Result3::undefined;
  } else if (type != nullptr) {
    rule = type->equality;
  }
  if (rule == Matching::none) return Result3::undefined;
  const auto asserted = prepare(rule, filter.value);
  if (!asserted) return Result3::undefined;
  const auto matches = [&](std::string_view value) {
    const auto prepared = prepare(rule, value);
    return prepared && order(rule, *prepared, *asserted) == 0;
  };
  // Which attributes take part: the one named, or every one the rule applies to.
  const auto takes_part = [&](std::string_view attribute) {
    if (type != nullptr) return names_type(attribute, *type);
    const AttributeType* own = find_attribute_type(attribute);
    return own != nullptr && rule_applies(rule, own->equality);
  };
  for (const auto& attribute : entry.attributes) {
    if (!takes_part(attribute.type)) continue;
    if (std::any_of(attribute.values.begin(), attribute.values.end(), matches)) return Result3::true_;
  }
  if (filter.dn_attributes) {
    for (const auto& rdn : split_dn(entry.dn).value_or(std::vector<DnRdn>{})) {
      for (const auto& ava : rdn) {
        if (!ava.ber && takes_part(ava.type) && matches(ava.value)) return Result3::true_;
      }
    }
  }
  return Result3::false_;
}

}  // namespace

FilterResult evaluate(const Filter& filter, const Entry& entry) {
  switch (filter.kind) {
    case Filter::Kind::and_:
    case Filter::Kind::or_: {
      // AND: False wins, then Undefined; OR: True wins, then Undefined.
      const Result3 decisive = filter.kind == Filter::Kind::and_ ? Result3::false_ : Result3::true_;
      bool undefined = false;
      for (const auto& child : filter.children) {
        const Result3 result = evaluate(child, entry);
        if (result == decisive) return decisive;
        undefined = undefined || result == Result3::undefined;
      }
      if (undefined) return Result3::undefined;
      return decisive == Result3::false_ ? Result3::true_ : Result3::false_;
    }
    case Filter::Kind::not_: {
      if (filter.children.size() != 1) return Result3::undefined;
      switch (evaluate(filter.children.front(), entry)) {
        case Result3::true_: return Result3::false_;
        case Result3::false_: return Result3::true_;
        case Result3::undefined: return Result3::undefined;
      }
      return Result3::undefined;
    }
    case Filter::Kind::present:
      // Every entry has object classes, whether or not a test built it with them.
      if (same_attribute_type(filter.attribute, "objectClass")) return Result3::true_;
      return from_bool(find_attribute(entry, filter.attribute) != nullptr);
    case Filter::Kind::equality:
    case Filter::Kind::approx: {
      // approxMatch is equality: no rule of ours has a looser "sounds like".
      const AttributeType* type = find_attribute_type(filter.attribute);
      if (type == nullptr) return Result3::undefined;
      return assert_values(entry, filter.attribute, type->equality, filter.value,
                           [](std::strong_ordering o) { return o == 0; });
    }
    case Filter::Kind::greater_or_equal:
    case Filter::Kind::less_or_equal: {
      const AttributeType* type = find_attribute_type(filter.attribute);
      if (type == nullptr) return Result3::undefined;
      const bool greater = filter.kind == Filter::Kind::greater_or_equal;
      return assert_values(entry, filter.attribute, type->ordering, filter.value,
                           [greater](std::strong_ordering o) { return greater ? o >= 0 : o <= 0; });
    }
    case Filter::Kind::substrings: return evaluate_substrings(filter, entry);
    case Filter::Kind::extensible: return evaluate_extensible(filter, entry);
  }
  return Result3::undefined;
}

}  // namespace dirproxy::ldap
