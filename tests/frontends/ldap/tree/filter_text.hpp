// Filters for the tree's tests written as clients log them (RFC 4515 text),
// so that a test reads like the client it imitates:
// filter_text("(&(objectClass=posixAccount)(uid=alice))"). A test helper,
// strict enough for well-formed input; a malformed filter fails the test.
#pragma once

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <string_view>

#include "frontends/ldap/ldap_message.hpp"

namespace dirproxy::ldap::testing {

class FilterText {
 public:
  explicit FilterText(std::string_view text) : text_(text) {}

  Filter parse() {
    Filter filter = parse_filter();
    if (at_ != text_.size()) throw std::invalid_argument("trailing text in filter");
    return filter;
  }

 private:
  char next() {
    if (at_ >= text_.size()) throw std::invalid_argument("filter ends early");
    return text_[at_++];
  }
  void expect(char c) {
    if (next() != c) throw std::invalid_argument(std::string("expected ") + c);
  }

  Filter parse_filter() {
    expect('(');
    Filter filter;
    const char first = text_.at(at_);
    if (first == '&' || first == '|' || first == '!') {
      ++at_;
      filter.kind = first == '&' ? Filter::Kind::and_ : first == '|' ? Filter::Kind::or_ : Filter::Kind::not_;
      while (text_.at(at_) == '(') filter.children.push_back(parse_filter());
    } else {
      parse_item(filter);
    }
    expect(')');
    return filter;
  }

  // The raw text of an item up to its closing parenthesis.
  void parse_item(Filter& filter) {
    const std::size_t end = text_.find(')', at_);
    const std::string_view item = text_.substr(at_, end - at_);
    at_ = end;
    const std::size_t equals = item.find('=');
    std::string_view left = item.substr(0, equals);
    const std::string_view right = item.substr(equals + 1);
    if (left.ends_with(':')) {
      filter.kind = Filter::Kind::extensible;
      left.remove_suffix(1);
      std::vector<std::string_view> parts;
      for (std::size_t colon; (colon = left.find(':')) != std::string_view::npos; left.remove_prefix(colon + 1)) {
        parts.push_back(left.substr(0, colon));
      }
      parts.push_back(left);
      filter.attribute = std::string(parts.front());
      for (std::size_t i = 1; i < parts.size(); ++i) {
        if (parts[i] == "dn") {
          filter.dn_attributes = true;
        } else {
          filter.matching_rule = std::string(parts[i]);
        }
      }
      filter.value = unescape(right);
      return;
    }
    if (left.ends_with('>') || left.ends_with('<') || left.ends_with('~')) {
      const char relation = left.back();
      left.remove_suffix(1);
      filter.kind = relation == '>'   ? Filter::Kind::greater_or_equal
                    : relation == '<' ? Filter::Kind::less_or_equal
                                      : Filter::Kind::approx;
      filter.attribute = std::string(left);
      filter.value = unescape(right);
      return;
    }
    filter.attribute = std::string(left);
    if (right == "*") {
      filter.kind = Filter::Kind::present;
      return;
    }
    if (right.find('*') == std::string_view::npos) {
      filter.kind = Filter::Kind::equality;
      filter.value = unescape(right);
      return;
    }
    filter.kind = Filter::Kind::substrings;
    std::vector<std::string_view> parts;
    std::string_view rest = right;
    for (std::size_t star; (star = rest.find('*')) != std::string_view::npos; rest.remove_prefix(star + 1)) {
      parts.push_back(rest.substr(0, star));
    }
    parts.push_back(rest);
    if (!parts.front().empty()) filter.initial = unescape(parts.front());
    if (!parts.back().empty()) filter.final = unescape(parts.back());
    for (std::size_t i = 1; i + 1 < parts.size(); ++i) {
      if (!parts[i].empty()) filter.any.push_back(unescape(parts[i]));
    }
  }

  static std::string unescape(std::string_view value) {
    std::string octets;
    for (std::size_t i = 0; i < value.size(); ++i) {
      if (value[i] == '\\') {
        octets += static_cast<char>(std::stoi(std::string(value.substr(i + 1, 2)), nullptr, 16));
        i += 2;
      } else {
        octets += value[i];
      }
    }
    return octets;
  }

  std::string_view text_;
  std::size_t at_ = 0;
};

inline Filter filter_text(std::string_view text) { return FilterText(text).parse(); }

}  // namespace dirproxy::ldap::testing
